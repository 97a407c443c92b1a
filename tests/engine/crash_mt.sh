# Crash: the primary, a 4-thread WiredTiger workload through the extension
# (fsync per commit, checkpoints every second, log archiving), is SIGKILLed
# at a random moment, MOJIM_CRASHES times (default 12) in sync and in
# syncflush and MOJIM_CRASHES_ASYNC times (default 3) in async. Each time
# the mirror is stopped (it applies every complete batch), its replica is
# copied aside and opened by stock WiredTiger with recovery, every table
# verifies, and every commit the workload reported as returned before the
# kill is there with its value (async: the copy is consistent, may lag).
# Every crash starts from a fresh primary and mirror.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
CRASHES=$(soak "${MOJIM_CRASHES:-12}")
CRASHES_ASYNC=$(soak "${MOJIM_CRASHES_ASYNC:-3}")

for mode in sync syncflush async; do
	n=$CRASHES
	[ "$mode" = async ] && n=$CRASHES_ASYNC
	TOTAL=0
	INFLIGHT=0
	for i in $(seq 1 "$n"); do
		crash_once "$mode" "$T/$mode-$i" "$mode #$i"
	done
	note "$mode: $n crashes, $TOTAL reported commits checked" \
		"($INFLIGHT times an unreported in-flight commit was there too)"
done
echo "crash: passed"
