# A 4-thread WiredTiger workload (inserts, updates, deletes, fsync per
# commit, checkpoints every 2 s, log archiving) through the extension in
# modes sync, syncflush and async. Then the primary reopens (verify of
# every table) and the mirror's replica, opened by stock WiredTiger,
# holds exactly the same rows.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
SECS=${ENGINE_WORKLOAD_SECONDS:-4}

run_mode() { # MODE
	local mode=$1 p=$T/p-$1 m=$T/m-$1
	start_mirror "$m" 0
	mkdir "$p"
	local ext
	ext=$(ext_config "$mode" "$MIRROR_ADDR")
	timeout 300 "$W" run "$p" "$ext" "$SECS" >"$T/run-$mode.out" 2>"$T/run-$mode.log" ||
		fail "$mode: workload failed"
	local commits
	commits=$(sed -n 's/^commits //p' "$T/run-$mode.out")
	[ "${commits:-0}" -gt 100 ] || fail "$mode: only ${commits:-0} commits"
	# reopen through the extension: verify and dump
	timeout 300 "$W" dump "$p" "$ext" "$T/primary-$mode.dump" >"$T/pd-$mode.out" \
		2>"$T/pd-$mode.log" || fail "$mode: primary reopen/verify failed"
	local rows
	rows=$(sed -n 's/^rows //p' "$T/pd-$mode.out")
	[ "${rows:-0}" -gt 100 ] || fail "$mode: only ${rows:-0} rows on the primary"
	local seq
	seq=$(mirror_status "$m" seq_durable)
	[ "${seq:-0}" -gt 10 ] || fail "$mode: the mirror got only ${seq:-0} batches"
	wait_applied "$m" "$seq"
	stop_mirror
	# stock WiredTiger on the replica (recovery runs, no extension)
	timeout 300 "$W" dump "$m/data" "" "$T/replica-$mode.dump" >/dev/null \
		2>"$T/rd-$mode.log" || fail "$mode: stock WiredTiger cannot open/verify the replica"
	cmp -s "$T/primary-$mode.dump" "$T/replica-$mode.dump" ||
		fail "$mode: replica differs: $(diff "$T/primary-$mode.dump" "$T/replica-$mode.dump" | head -4)"
	note "$mode: $commits commits, $rows rows, $seq batches; replica identical"
}

# ENGINE_WORKLOAD_MODES: the replicated modes to run (tests/rdma runs
# fewer); "unreplicated" among them adds the run without a mirror.
MODES=${ENGINE_WORKLOAD_MODES:-sync syncflush async unreplicated}
for mode in $MODES; do
	[ "$mode" = unreplicated ] || run_mode "$mode"
done
case " $MODES " in *" unreplicated "*) ;; *)
	echo "workload: modes $MODES passed"
	exit 0 ;;
esac

# unreplicated: no mirror; the primary must reopen and verify.
p=$T/p-unreplicated
mkdir "$p"
ext="extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=unreplicated})]"
timeout 300 "$W" run "$p" "$ext" 2 >"$T/run-unrep.out" 2>"$T/run-unrep.log" ||
	fail "unreplicated: workload failed"
timeout 300 "$W" dump "$p" "$ext" "$T/primary-unrep.dump" >"$T/pd-unrep.out" \
	2>"$T/pd-unrep.log" || fail "unreplicated: reopen/verify failed"
rows=$(sed -n 's/^rows //p' "$T/pd-unrep.out")
[ "${rows:-0}" -gt 100 ] || fail "unreplicated: only ${rows:-0} rows"
note "unreplicated: $rows rows, reopened and verified"
echo "workload: all modes passed"
