# Two backups behind a WiredTiger workload: a 4-thread workload through
# the extension (mode sync; inserts, updates, deletes, fsync per commit,
# checkpoints every 2 s, log archiving) into a mirror that forwards to two
# backups, one of which is SIGKILLed a second in and restarted a second
# later on its directory (it must catch up from the mirror's log). Once
# the primary has closed and every node has applied the mirror's last
# batch, each backup's data directory must equal the mirror's, byte for
# byte, and, opened by stock WiredTiger (recovery, verify of every table),
# hold exactly the primary's rows.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
SECS=${ENGINE_WORKLOAD_SECONDS:-4}

start_mirror "$T/b1" 0 --role backup
B1_PID=$MIRROR_PID B1_ADDR=$MIRROR_ADDR
start_mirror "$T/b2" 0 --role backup
B2_PID=$MIRROR_PID B2_ADDR=$MIRROR_ADDR B2_PORT=$MIRROR_PORT
start_mirror "$T/m" 0 --backup "$B1_ADDR" --backup "$B2_ADDR" \
	--backup-timeout-ms 5000
M_PID=$MIRROR_PID
mkdir "$T/p"
EXT=$(ext_config sync "$MIRROR_ADDR")
timeout 300 "$W" run "$T/p" "$EXT" "$SECS" >"$T/run.out" 2>"$T/run.log" &
WL=$!
STARTED_PIDS+=("$WL")
sleep 1
kill -KILL "$B2_PID"
wait "$B2_PID" 2>/dev/null || true
sleep 1
start_mirror "$T/b2" "$B2_PORT" --role backup
B2_PID=$MIRROR_PID
wait "$WL" || fail "the workload failed: $(tail -3 "$T/run.log")"
COMMITS=$(sed -n 's/^commits //p' "$T/run.out")
[ "${COMMITS:-0}" -gt 100 ] || fail "only ${COMMITS:-0} commits"
timeout 300 "$W" dump "$T/p" "$EXT" "$T/primary.dump" >"$T/pd.out" \
	2>"$T/pd.log" || fail "the primary does not reopen and verify"
ROWS=$(sed -n 's/^rows //p' "$T/pd.out")
SEQ=$(mirror_status "$T/m" seq_durable)
[ "${SEQ:-0}" -gt 10 ] || fail "the mirror got only ${SEQ:-0} batches"
for n in m b1 b2; do wait_applied "$T/$n" "$SEQ"; done
grep -q "backup $B2_ADDR: live" "$T/m.log" ||
	fail "the mirror never saw the restarted backup live"
kill -TERM "$M_PID" "$B1_PID" "$B2_PID" 2>/dev/null || true
wait "$M_PID" "$B1_PID" "$B2_PID" 2>/dev/null || true
for n in b1 b2; do
	diff -r "$T/m/data" "$T/$n/data" >"$T/diff-$n.out" 2>&1 ||
		fail "$n's copy differs from the mirror's: $(head -5 "$T/diff-$n.out")"
	timeout 300 "$W" dump "$T/$n/data" "" "$T/$n.dump" >/dev/null \
		2>"$T/$n-dump.log" ||
		fail "stock WiredTiger cannot open/verify $n's copy: $(tail -3 "$T/$n-dump.log")"
	cmp -s "$T/primary.dump" "$T/$n.dump" ||
		fail "$n's rows differ: $(diff "$T/primary.dump" "$T/$n.dump" | head -4)"
done
note "$COMMITS commits, $ROWS rows, $SEQ batches; b2 SIGKILLed and restarted mid-run; both backups equal the mirror's copy and hold the primary's rows"
echo "engine backup: passed"
