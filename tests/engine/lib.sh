# lib.sh for the engine tests (sourced): tests/proc/lib.sh (mirrors, temp
# dir under /dev/shm, the exit trap) plus the extension's load string.
: "${MOJIM_ENGINE:?MOJIM_ENGINE must point at libmojim_wt.so}"
. "$(dirname "$0")/../proc/lib.sh"
command -v wt >/dev/null || fail "the wt utility is missing: apt-get install wiredtiger"
[ -f "$MOJIM_ENGINE" ] || fail "no extension at $MOJIM_ENGINE"
MOJIM_ENGINE=$(readlink -f "$MOJIM_ENGINE")

# ext_config MODE ADDR [KEY=VALUE,...]: the wiredtiger_open fragment that
# loads the extension (the third argument adds keys, e.g. policy=degrade).
# The address is quoted: WiredTiger's parser reads ':' as '='.
ext_config() {
	echo "extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=$1,mirror=\"$2\",block_timeout_ms=20000${3:+,$3}})]"
}

# ext_unreplicated: the extension with no mirror (local flushes only), to
# open a promoted copy or a primary's home in place.
ext_unreplicated() {
	echo "extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=unreplicated})]"
}

# wt_run ARGS...: Debian's wt utility. Under a sanitizer build the
# extension needs the sanitizer runtime loaded first: set MOJIM_WT_PRELOAD
# (e.g. $(gcc -print-file-name=libasan.so)); it is given to wt only.
wt_run() {
	if [ -n "${MOJIM_WT_PRELOAD:-}" ]; then
		# the wt utility's own small leaks (load -r) are not ours
		echo "leak:/usr/bin/wt" >"$T/wt.supp"
		LSAN_OPTIONS=suppressions=$T/wt.supp LD_PRELOAD=$MOJIM_WT_PRELOAD \
			timeout 120 wt "$@"
	else
		timeout 120 wt "$@"
	fi
}

# wait_ready PID REPORT [LINE]: until the workload says its tables are
# durable (LINE, default "ready", is not always the first line: messages
# of the thread inside wiredtiger_open go to WiredTiger's message stream,
# stdout); 1 if PID exits or 30 s pass first.
wait_ready() {
	local i
	for i in $(seq 1 600); do
		grep -qx "${3:-ready}" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
