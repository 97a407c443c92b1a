# Restart: collections, documents (written with j:true) and indexes
# survive a clean restart (SIGTERM, exit 0) and a SIGKILL (WiredTiger
# recovery from its log), in every mode: unreplicated, and sync, syncflush
# and async with a mirror. A unique index still refuses duplicates after.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
js() { node_run "$here/js/restart.js" "$DOCD_URI" "$@" >>"$T/$mode.out" 2>&1 ||
	fail "$mode: restart.js $*: $(tail -5 "$T/$mode.out")"; }
for mode in unreplicated sync syncflush async; do
	args=(--mode "$mode")
	if [ "$mode" != unreplicated ]; then
		start_mirror "$T/m-$mode" 0
		args+=(--mirror "$MIRROR_ADDR")
	fi
	db=$T/db-$mode
	start_docd "$db" "${args[@]}"
	js write 1
	stop_docd
	start_docd "$db" "${args[@]}"
	js check 1
	js write 2
	kill_docd
	start_docd "$db" "${args[@]}"
	js check 2
	stop_docd
	[ "$mode" = unreplicated ] || stop_mirror
	note "$mode: clean restart and SIGKILL, 400 documents and 2 indexes kept"
done
echo "restart: every mode kept every j:true document, collection and index"
