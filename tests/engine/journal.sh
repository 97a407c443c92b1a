# log=(path=journal), as MongoDB runs WiredTiger: the journal directory is
# made before wiredtiger_open (WiredTiger does not create it), the log
# lives there, and the mirror must get the directory before the files in
# it. After a workload in sync mode the mirror applied every batch without
# an error, and stock WiredTiger opens the replica with the same log path
# and dumps the same rows as the primary.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload

start_mirror "$T/m" 0
P=$T/p
mkdir -p "$P/journal"
EXT=$(ext_config sync "$MIRROR_ADDR")
WT_WORKLOAD_LOG_PATH=journal timeout 300 "$W" run "$P" "$EXT" 3 \
	>"$T/run.out" 2>"$T/run.log" || fail "workload with log=(path=journal) failed"
ls "$P/journal" | grep -q '^WiredTigerLog\.' || fail "no log file in $P/journal"
timeout 300 "$W" dump "$P" "log=(enabled,path=journal),$EXT" "$T/primary.dump" \
	>"$T/pd.out" 2>"$T/pd.log" || fail "primary reopen/verify failed"
rows=$(sed -n 's/^rows //p' "$T/pd.out")
[ "${rows:-0}" -gt 100 ] || fail "only ${rows:-0} rows on the primary"
seq=$(mirror_status "$T/m" seq_durable)
wait_applied "$T/m" "$seq"
stop_mirror
# a record the mirror could not apply (no such directory) is logged
if grep -E '^mojim-mirror: batch [0-9]+ .*: ' "$T/m.log" >"$T/applyerr.out"; then
	fail "the mirror could not apply: $(head -3 "$T/applyerr.out")"
fi
[ -d "$T/m/data/journal" ] || fail "no journal directory on the mirror"
ls "$T/m/data/journal" | grep -q '^WiredTigerLog\.' ||
	fail "no log file in the replica's journal directory"
timeout 300 "$W" dump "$T/m/data" "log=(enabled,path=journal)" "$T/replica.dump" \
	>/dev/null 2>"$T/rd.log" || fail "stock WiredTiger cannot open the replica"
cmp -s "$T/primary.dump" "$T/replica.dump" ||
	fail "replica differs: $(diff "$T/primary.dump" "$T/replica.dump" | head -4)"
note "log=(path=journal): $rows rows, $seq batches; replica identical"
echo "journal: passed"
