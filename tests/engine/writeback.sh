# Writes WiredTiger never syncs reach the mirror within writeback_ms (here
# 200 ms), as a kernel's writeback puts dirty pages on disk, even if the
# primary then dies: a workload with the log off and checkpoint_sync=false
# writes 4 tables and checkpoints (nothing fsynced but the turtle file),
# then idles; once the writeback's sync points have reached the mirror it
# is SIGKILLed, and stock WiredTiger opens the mirror's copy with every
# row, every table verified.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
ROWS=2000

start_mirror "$T/m" 0
P=$T/p
mkdir "$P"
EXT=$(ext_config sync "$MIRROR_ADDR" writeback_ms=200)
# Started directly: the SIGKILL must hit the workload itself.
"$W" nosync "$P" "$EXT" "$ROWS" >"$T/nosync.out" 2>"$T/nosync.log" &
pid=$!
STARTED_PIDS+=("$pid")
wait_ready "$pid" "$T/nosync.out" written || fail "the workload did not write its tables"
t0=$(now_s)
seq0=$(mirror_status "$T/m" seq_durable)
# The writeback: every dirty file one sync point, back to back, within
# 250 ms (200 ms old, a pass every 50 ms). Wait for the first, then until
# none came for half a second.
seq=$seq0 stable=0
for i in $(seq 1 200); do
	sleep 0.05
	now=$(mirror_status "$T/m" seq_durable)
	if [ "$now" -ne "$seq" ]; then seq=$now stable=0; else stable=$((stable + 1)); fi
	[ "$seq" -gt "$seq0" ] && [ "$stable" -ge 10 ] && break
done
[ "$seq" -gt "$seq0" ] || fail "no writeback reached the mirror within 10 s"
note "writeback: $((seq - seq0)) sync points, settled $(ms_between "$t0" "$(now_s)") ms after the checkpoint"
kill -0 "$pid" 2>/dev/null || fail "the workload exited before the kill"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait_applied "$T/m" "$seq"
stop_mirror
timeout 120 "$W" dump "$T/m/data" "" "$T/replica.dump" >"$T/rd.out" 2>"$T/rd.log" ||
	fail "stock WiredTiger cannot open/verify the mirror's copy: $(tail -3 "$T/rd.log")"
rows=$(sed -n 's/^rows //p' "$T/rd.out")
[ "$rows" -eq $((4 * ROWS)) ] || fail "the mirror's copy holds $rows rows, want $((4 * ROWS))"

rm -rf "$T/m" "$P"
mkdir "$P"
start_mirror "$T/m" 0
EXT=$(ext_config sync "$MIRROR_ADDR" writeback_ms=1000,block_timeout_ms=1000)
WT_WORKLOAD_STOP_FILE=$T/stop "$W" nosync "$P" "$EXT" "$ROWS" >"$T/lost.out" \
	2>"$T/lost.log" &
pid=$!
STARTED_PIDS+=("$pid")
wait_ready "$pid" "$T/lost.out" written || fail "lost: the workload did not write its tables"
kill_mirror
sleep 2 # the writeback is due (1 s) while the mirror is lost
kill -0 "$pid" 2>/dev/null || fail "lost: the workload died"
t0=$(now_s)
touch "$T/stop"
wait_gone "$pid" 20 || fail "lost: the close hangs on the lost mirror"
ms=$(ms_between "$t0" "$(now_s)")
[ "$ms" -lt 6000 ] || fail "lost: the close took $ms ms (one block_timeout_ms per file?)"
grep -q 'close: writes never synced did not reach the mirror' "$T/lost.log" ||
	fail "lost: no close reported its lost writes: $(tail -3 "$T/lost.log")"
grep -q '^close: ' "$T/lost.out" || fail "lost: the workload did not finish its close"
[ "$(grep -c 'writeback of .* failed' "$T/lost.log")" -le 1 ] ||
	fail "lost: a writeback failure was reported more than once"
note "lost mirror: the close returned in $ms ms ($(sed -n 's/^close: //p' "$T/lost.out"))"
echo "writeback: passed"
