# Crash: the primary, a 4-thread WiredTiger workload through the extension
# (fsync per commit, checkpoints every second, log archiving), is SIGKILLed
# at a random moment, MOJIM_CRASHES times (default 20) in sync and in
# syncflush and MOJIM_CRASHES_ASYNC times (default 5) in async. Each time
# the mirror is stopped (it applies every complete batch), its replica is
# copied aside and opened by stock WiredTiger with recovery, every table
# verifies, and every commit the workload reported as returned before the
# kill is there with its value (async: the copy is consistent, may lag).
# Every crash starts from a fresh primary and mirror.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
CHECK=$(dirname "$0")/crash_check.awk
CRASHES=${MOJIM_CRASHES:-20}
CRASHES_ASYNC=${MOJIM_CRASHES_ASYNC:-5}

# A random pause of 0.3 to 1.5 s.
random_sleep() {
	local ms=$((300 + RANDOM % 1201))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

one_crash() { # MODE I
	local mode=$1 i=$2
	local b=$T/$mode-$i
	start_mirror "$b-m" 0
	mkdir "$b-p"
	local ext
	ext=$(ext_config "$mode" "$MIRROR_ADDR")
	# Started directly, not under timeout(1): the SIGKILL below must hit
	# the workload itself (it stops on its own after 60 s at the latest).
	"$W" crash "$b-p" "$ext" 60 >"$b.report" 2>"$b-primary.log" &
	local pid=$!
	STARTED_PIDS+=("$pid")
	wait_ready "$pid" "$b.report" || fail "$mode #$i: the workload did not start"
	random_sleep
	kill -0 "$pid" 2>/dev/null || fail "$mode #$i: the workload died before the kill"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	kill -0 "$pid" 2>/dev/null && fail "$mode #$i: the primary survived SIGKILL"
	stop_mirror
	cp -a "$b-m/data" "$b-copy"
	# a line the kill cut short was not reported
	[ -z "$(tail -c1 "$b.report")" ] || sed -i '$d' "$b.report"
	timeout 120 "$W" dump "$b-copy" "log=(enabled)" "$b.dump" >/dev/null \
		2>"$b-replica.log" ||
		fail "$mode #$i: stock WiredTiger cannot recover/verify the replica"
	local strict=1
	[ "$mode" = async ] && strict=0
	local out
	out=$(awk -v strict=$strict -f "$CHECK" "$b.report" "$b.dump" 2>&1) ||
		fail "$mode #$i: the replica lost reported commits: $(head -5 <<<"$out")"
	local commits=${out#commits }
	commits=${commits%% *}
	[ "$commits" -gt 0 ] || fail "$mode #$i: no commit before the kill"
	TOTAL=$((TOTAL + commits))
	[[ $out == *"in-flight-present 0" ]] || INFLIGHT=$((INFLIGHT + 1))
	rm -rf "$b"-* "$b".*
}

for mode in sync syncflush async; do
	n=$CRASHES
	[ "$mode" = async ] && n=$CRASHES_ASYNC
	TOTAL=0
	INFLIGHT=0
	for i in $(seq 1 "$n"); do
		one_crash "$mode" "$i"
	done
	note "$mode: $n crashes, $TOTAL reported commits checked" \
		"($INFLIGHT times an unreported in-flight commit was there too)"
done
echo "crash: passed"
