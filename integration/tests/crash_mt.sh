# Crash: mojim-docd in mode sync with a mirror, a Node driver client
# inserting with w:"majority" from 4 writers and recording each
# acknowledged _id, the daemon SIGKILLed at a random moment, KILLS times
# (MOJIM_DOCD_KILLS, default 10). Each time the mirror is promoted
# (mojimctl promote --force), mojim-docd starts on the promoted copy, and
# every _id acknowledged in every life so far must be there, read back
# through the driver. The next life serves that copy to a new mirror.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KILLS=$(soak "${MOJIM_DOCD_KILLS:-10}")
CTL=$MOJIM_BIN/mojimctl
home=$T/d0
total=0
acked_files=()
for i in $(seq 1 "$KILLS"); do
	start_mirror "$T/m$i" 0 --log-size 16M
	start_docd "$home" --mode sync --mirror "$MIRROR_ADDR" \
		--mojim-config policy=block
	acked=$T/acked.$i
	: >"$acked"
	acked_files+=("$acked")
	NODE_PATH="$JS/node_modules" node "$here/js/crash_writer.js" "$DOCD_URI" \
		"$acked" "$i" >"$T/writer.$i.log" 2>&1 &
	wpid=$!
	STARTED_PIDS+=("$wpid")
	for _ in $(seq 1 400); do # some acknowledged first (bounded: 20 s)
		[ "$(wc -l <"$acked")" -ge 20 ] && break
		kill -0 "$wpid" 2>/dev/null || fail "life $i: the writer died: $(cat "$T/writer.$i.log")"
		sleep 0.05
	done
	[ "$(wc -l <"$acked")" -ge 20 ] || fail "life $i: fewer than 20 acks in 20 s"
	sleep "0.$((RANDOM % 10))"
	kill_docd
	wait "$wpid" 2>/dev/null || true
	# a line the kill cut short was never acknowledged whole
	[ -z "$(tail -c1 "$acked")" ] || sed -i '$d' "$acked"
	out=$("$CTL" --dir "$T/m$i" promote --force 2>&1) ||
		fail "life $i: promote --force failed: $out"
	stop_mirror
	home=$T/m$i/data
	start_docd "$home" --mode unreplicated
	out=$(node_run "$here/js/crash_check.js" "$DOCD_URI" "${acked_files[@]}" 2>&1) ||
		fail "life $i: acknowledged documents lost: $out"
	stop_docd
	total=$(cat "${acked_files[@]}" | wc -l)
	note "life $i: killed after $(wc -l <"$acked") acks; promoted copy: $out"
done
echo "crash: $KILLS SIGKILLs, every one of $total acknowledged w:majority inserts on the promoted copy"
