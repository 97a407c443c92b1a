# A mirror that falls behind is brought back up to date while the primary
# keeps serving (paper 4.3), by the cheapest way that is still exact:
#   degrade: the mirror is killed and restarted mid-run; sync points go on
#            locally, then one catch-up batch (what changed meanwhile) and
#            the replica equals the primary;
#   block:   the same with the mirror back within the block timeout: sync
#            points stall, resume, nothing lost;
#   a new, empty mirror on the same address mid-run gets a full copy while
#            the workload goes on, then the stream; it ends byte-identical.
# Each workload has a namespace thread (create, resize, rename, remove),
# so the catch-up replays renames of files written meanwhile.
. "$(dirname "$0")/lib.sh"

# run_workload NAME POLICY SECONDS: in the background, output in $T/NAME.*
run_workload() {
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p-$1" --mirror "$MIRROR_ADDR" \
		--mode sync --policy "$2" --block-timeout-ms 20000 --threads 2 \
		--seconds "$3" >"$T/$1.out" 2>"$T/$1.log" &
	WL=$!
	STARTED_PIDS+=("$WL")
}

# finish NAME MIRRORDIR: the workload ends cleanly, the mirror applies all
# it sent, and the replica equals the primary.
finish() {
	wait "$WL" || fail "$1: workload failed: $(tail -3 "$T/$1.log")"
	local seq
	seq=$(sed -n 's/^seq_sent //p' "$T/$1.out")
	[ -n "$seq" ] || fail "$1: no seq_sent"
	wait_applied "$2" "$seq"
	same_tree "$T/p-$1" "$2/data"
}

# 1. degrade: kill the mirror, keep going, restart it, catch up.
start_mirror "$T/m1" 0
port=$MIRROR_PORT
run_workload degrade degrade 5
sleep 1
kill_mirror
sleep 1.5
start_mirror "$T/m1" "$port"
finish degrade "$T/m1"
grep -q DEGRADED "$T/degrade.log" || fail "degrade: never degraded"
grep -q "catchups 1 full_copies 0" "$T/degrade.out" ||
	fail "degrade: not one catch-up: $(grep catchups "$T/degrade.out")"
note "degrade: $(grep -m1 -o 'one catch-up batch.*' "$T/degrade.log")"
stop_mirror

# 2. block: the mirror is away for 1.5 s, sync points wait, nothing lost.
start_mirror "$T/m2" 0
port=$MIRROR_PORT
run_workload block block 4
sleep 1
kill_mirror
sleep 1.5
start_mirror "$T/m2" "$port"
finish block "$T/m2"
grep -q "full_copies 0" "$T/block.out" || fail "block: needed a full copy"
note "block: $(grep -m1 'sync_points' "$T/block.out")"
stop_mirror

# 3. a new, empty mirror on the old address: a full copy while serving.
start_mirror "$T/m3" 0
port=$MIRROR_PORT
run_workload copy degrade 5
sleep 1.5
kill_mirror
start_mirror "$T/m4" "$port"
finish copy "$T/m4"
grep -q "full_copies 1" "$T/copy.out" ||
	fail "copy: no full copy: $(grep catchups "$T/copy.out")"
note "copy: $(grep -m1 -o 'full copy to .* done.*' "$T/copy.log")"
echo "resync: passed"
