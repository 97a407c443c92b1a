# Hostile clients against a running mojim-docd (under ASan+UBSan in that
# build): docd_fuzz sends thousands of messages, valid ones, odd commands
# and mutated bytes (flipped, lengths rewritten, cut short, padded,
# random), two clients at once. Afterwards the daemon must be alive,
# answer the real driver correctly, hold what a legitimate client wrote,
# and stop cleanly (exit 0: no sanitizer report).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
: "${MOJIM_DOCD_FUZZ:?MOJIM_DOCD_FUZZ must name the docd_fuzz binary}"
ITER=${MOJIM_DOCD_FUZZ_ITER:-4000}
SEED=${MOJIM_DOCD_FUZZ_SEED:-1} # the clients' seeds are SEED and SEED+1
FAIL_NOTE="replay: MOJIM_DOCD_FUZZ_SEED=$SEED"
start_docd "$T/db" --max-conns 8
"$MOJIM_DOCD_FUZZ" "$DOCD_PORT" "$SEED" "$ITER" 60 >"$T/f1.out" 2>"$T/f1.log" &
f1=$!
"$MOJIM_DOCD_FUZZ" "$DOCD_PORT" "$((SEED + 1))" "$ITER" 60 >"$T/f2.out" 2>"$T/f2.log" || 
	fail "docd_fuzz 2: $(tail -3 "$T/f2.log")"
wait "$f1" || fail "docd_fuzz 1: $(tail -3 "$T/f1.log")"
kill -0 "$DOCD_PID" 2>/dev/null || fail "mojim-docd died under the fuzz"
node_run "$here/js/restart.js" "$DOCD_URI" write 1 >"$T/after.out" 2>&1 &&
	node_run "$here/js/restart.js" "$DOCD_URI" check 1 >>"$T/after.out" 2>&1 ||
	fail "after the fuzz the driver's writes and reads failed: $(tail -5 "$T/after.out")"
stop_docd
echo "wire fuzz: $(cat "$T/f1.out"); $(cat "$T/f2.out"); then served the driver and stopped cleanly"
