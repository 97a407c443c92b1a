# A second process opening a home the first one holds gets EBUSY from
# wiredtiger_open (through the extension, and with stock WiredTiger), and
# the database stays intact: the first process finishes, the primary
# reopens and verifies, the replica equals it.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload

start_mirror "$T/m" 0
P=$T/p
mkdir "$P"
EXT=$(ext_config sync "$MIRROR_ADDR")
timeout 300 "$W" run "$P" "$EXT" 6 >"$T/run.out" 2>"$T/run.log" &
RUN_PID=$!
STARTED_PIDS+=("$RUN_PID")
for i in $(seq 1 100); do # until the first process has made its tables
	[ -e "$P/t3.wt" ] && break
	sleep 0.05
done
[ -e "$P/t3.wt" ] || fail "the workload did not start"
seq_before=$(mirror_status "$T/m" seq_received)

rc=0
timeout 60 "$W" open "$P" "$EXT" 2>"$T/second.log" || rc=$?
[ "$rc" -eq 16 ] || fail "second process through the extension: exit $rc, want EBUSY (16): $(cat "$T/second.log")"
grep -q "in use" "$T/second.log" || fail "no 'in use' message: $(cat "$T/second.log")"
rc=0
timeout 60 "$W" open "$P" "" 2>"$T/stock.log" || rc=$?
[ "$rc" -eq 16 ] || fail "second process, stock WiredTiger: exit $rc, want EBUSY (16)"
# The turned-away process never spoke to the mirror: only one primary's
# connections ever said hello.
hellos=$(grep -c 'hello epoch' "$T/m.log")
[ "$hellos" -eq 2 ] || fail "the second process connected to the mirror ($hellos hellos)"

wait "$RUN_PID" || fail "the first process failed after the second tried"
timeout 300 "$W" dump "$P" "$EXT" "$T/primary.dump" >/dev/null 2>"$T/pd.log" ||
	fail "primary reopen/verify failed"
seq=$(mirror_status "$T/m" seq_durable)
[ "$seq" -gt "${seq_before:-0}" ] || fail "no batches after the second open"
wait_applied "$T/m" "$seq"
stop_mirror
timeout 300 "$W" dump "$T/m/data" "" "$T/replica.dump" >/dev/null 2>"$T/rd.log" ||
	fail "stock WiredTiger cannot open the replica"
cmp -s "$T/primary.dump" "$T/replica.dump" || fail "replica differs from primary"
echo "ebusy: passed"
