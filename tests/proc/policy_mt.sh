# Losing the mirror in sync mode follows the policy: `block` fails sync
# points with a timeout error once block_timeout_ms has passed; `degrade`
# keeps going, says DEGRADED in the log and reports it in its status.
. "$(dirname "$0")/lib.sh"

acks() { sed -n 's/^acked //p' "$1" | tail -1; }

start_run() { # POLICY
	m=$T/m-$1
	start_mirror "$m" 0
	touch "$T/$1.out" # read below before the workload may have opened it
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p-$1" --mirror "$MIRROR_ADDR" \
		--mode sync --policy "$1" --block-timeout-ms 1000 --stamp \
		--seconds "$2" >"$T/$1.out" 2>"$T/$1.log" &
	wl=$!
	STARTED_PIDS+=("$wl")
	# 10 s at most: a mirror on an emulated RDMA device (tests/rdma) takes
	# seconds to connect to.
	for _ in $(seq 1 500); do
		[ -n "$(acks "$T/$1.out")" ] && break
		sleep 0.02
	done
	[ -n "$(acks "$T/$1.out")" ] || fail "$1: no sync point completed"
}

# block: the workload must fail with a timeout, within a bounded time.
start_run block 60
kill_mirror
t0=$(date +%s)
rc=0
for _ in $(seq 1 150); do
	kill -0 "$wl" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$wl" 2>/dev/null && fail "block: sync point still waiting 15 s after the mirror died"
wait "$wl" || rc=$?
[ "$rc" -ne 0 ] || fail "block: the workload succeeded without its mirror"
grep -q "timed out" "$T/block.log" || fail "block: no timeout error reported"
note "block: failed after $(( $(date +%s) - t0 )) s with: $(grep -m1 'timed out' "$T/block.log")"

# degrade: the workload keeps acknowledging and reports degraded.
# (MOJIM_DEGRADE_SECONDS: longer where the first sync point takes seconds,
# as over an emulated RDMA device.)
start_run degrade "${MOJIM_DEGRADE_SECONDS:-3}"
before=$(acks "$T/degrade.out")
kill_mirror
wait "$wl" || fail "degrade: the workload failed: $(tail -3 "$T/degrade.log")"
after=$(acks "$T/degrade.out")
[ "$after" -gt "$((before + 10))" ] || fail "degrade: stopped at $after (was $before)"
grep -q DEGRADED "$T/degrade.log" || fail "degrade: nothing said in the log"
grep -q "degraded 1" "$T/degrade.out" || fail "degrade: status does not say degraded"
note "degrade: acked $before before the kill, $after at the end"
echo "policy: passed"
