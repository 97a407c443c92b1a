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
# MOJIM_TRANSPORT and MOJIM_CONNECT_TIMEOUT_MS (tests/rdma) add their keys.
ext_config() {
	local more=${MOJIM_TRANSPORT:+,transport=$MOJIM_TRANSPORT}
	more+=${MOJIM_CONNECT_TIMEOUT_MS:+,connect_timeout_ms=$MOJIM_CONNECT_TIMEOUT_MS}
	echo "extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=$1,mirror=\"$2\",block_timeout_ms=20000$more${3:+,$3}})]"
}

# run_and_compare HOME EXT MDIR MIN NAME: wt_workload runs 3 s on HOME
# with EXT (its own environment passed on), then reopens and dumps it; the
# mirror in MDIR (started by start_mirror) must have more than MIN batches,
# applies them, is stopped, and its replica, opened by stock WiredTiger,
# must dump equal. NAME says which run failed. Sets SEQ.
run_and_compare() {
	local home=$1 ext=$2 mdir=$3 min=$4 name=$5
	local W=$MOJIM_ENGINE_TOOLS/wt_workload
	timeout 300 "$W" run "$home" "$ext" 3 >"$T/$name-run.out" 2>"$T/$name-run.log" ||
		fail "$name: the workload failed: $(tail -3 "$T/$name-run.log")"
	timeout 300 "$W" dump "$home" "$ext" "$T/$name-p.dump" >/dev/null 2>"$T/$name-pd.log" ||
		fail "$name: the primary's reopening failed: $(tail -3 "$T/$name-pd.log")"
	SEQ=$(mirror_status "$mdir" seq_durable)
	[ "${SEQ:-0}" -gt "$min" ] || fail "$name: the mirror got ${SEQ:-0} batches"
	wait_applied "$mdir" "$SEQ"
	stop_mirror
	timeout 300 env -u WIREDTIGER_CONFIG "$W" dump "$mdir/data" "" "$T/$name-r.dump" \
		>/dev/null 2>"$T/$name-rd.log" || fail "$name: stock WiredTiger cannot open the replica"
	cmp -s "$T/$name-p.dump" "$T/$name-r.dump" || fail "$name: the replica differs"
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

# crash_once MODE BASE NAME: a mirror, the WiredTiger crash workload
# (wt_workload crash) through the extension in MODE, SIGKILLed at a random
# moment 0.3 to 1.5 s after it is ready; the mirror is stopped (it applies
# what it holds), its replica copied aside and opened by stock WiredTiger
# with recovery, every table verified, and every commit the workload
# reported as returned before the kill must be there (async: the copy may
# lag, but holds only values that were written). Adds the commits checked
# to TOTAL and counts in INFLIGHT the times an unreported commit was there.
crash_once() {
	local mode=$1 b=$2 name=$3 ms
	: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
	start_mirror "$b-m" 0
	mkdir "$b-p"
	# Started directly, not under timeout(1): the SIGKILL below must hit
	# the workload itself (it stops on its own after 60 s at the latest).
	"$MOJIM_ENGINE_TOOLS/wt_workload" crash "$b-p" "$(ext_config "$mode" "$MIRROR_ADDR")" 60 \
		>"$b.report" 2>"$b-primary.log" &
	local pid=$!
	STARTED_PIDS+=("$pid")
	wait_ready "$pid" "$b.report" || fail "$name: the workload did not start"
	ms=$((300 + RANDOM % 1201))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -0 "$pid" 2>/dev/null || fail "$name: the workload died before the kill"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	kill -0 "$pid" 2>/dev/null && fail "$name: the primary survived SIGKILL"
	stop_mirror
	cp -a "$b-m/data" "$b-copy"
	# a line the kill cut short was not reported
	[ -z "$(tail -c1 "$b.report")" ] || sed -i '$d' "$b.report"
	timeout 120 "$MOJIM_ENGINE_TOOLS/wt_workload" dump "$b-copy" "log=(enabled)" \
		"$b.dump" >/dev/null 2>"$b-replica.log" ||
		fail "$name: stock WiredTiger cannot recover/verify the replica"
	local strict=1 out
	[ "$mode" = async ] && strict=0
	out=$(awk -v strict=$strict -f "$(dirname "$0")/crash_check.awk" "$b.report" \
		"$b.dump" 2>&1) ||
		fail "$name: the replica lost reported commits: $(head -5 <<<"$out")"
	local commits=${out#commits }
	commits=${commits%% *}
	[ "$commits" -gt 0 ] || fail "$name: no commit before the kill"
	TOTAL=$((TOTAL + commits))
	[[ $out == *"in-flight-present 0" ]] || INFLIGHT=$((INFLIGHT + 1))
	rm -rf "$b"-* "$b".*
}
