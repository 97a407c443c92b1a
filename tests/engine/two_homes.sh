# Two WiredTiger connections in one process with the same extension
# string and mirror (as test/format's backup check does): the second home
# is a second region, another cluster to the mirror, which refuses it. Its
# wiredtiger_open must fail with a real errno (ECONNREFUSED, not a
# libmojim code such as 10004) and a message naming the cause; the first
# connection keeps committing, and stock WiredTiger opens the mirror's
# copy of the first home with all its rows.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload

start_mirror "$T/m" 0
mkdir "$T/h1" "$T/h2"
EXT=$(ext_config sync "$MIRROR_ADDR" policy=block)
rc=0
timeout 120 "$W" twohomes "$T/h1" "$T/h2" "$EXT" >"$T/two.out" 2>"$T/two.log" || rc=$?
[ "$rc" -eq 0 ] || fail "twohomes exited $rc: $(cat "$T/two.out" "$T/two.log")"
grep -qx 'second open: errno 111 (Connection refused)' "$T/two.out" ||
	fail "the second home's open did not fail with ECONNREFUSED: $(cat "$T/two.out")"
grep -q 'another cluster' "$T/two.log" ||
	fail "no message names the cause: $(cat "$T/two.log")"
grep -qx 'first home: 200 rows committed' "$T/two.out" ||
	fail "the first home stopped working: $(cat "$T/two.out")"
seq=$(mirror_status "$T/m" seq_durable)
wait_applied "$T/m" "$seq"
stop_mirror
timeout 120 wt -h "$T/m/data" dump table:t0 >"$T/t0.dump" 2>"$T/rd.log" ||
	fail "stock wt cannot dump the mirror's copy: $(cat "$T/rd.log")"
rows=$(grep -c '^k' "$T/t0.dump" || true)
[ "$rows" -eq 200 ] || fail "the mirror's copy holds $rows rows, want 200"
echo "two_homes: passed"
