# Debian's wt utility through the extension: create, load, dump, list,
# verify with a mirror on loopback (mode sync); then the mirror's replica
# directory opens with stock WiredTiger (no extension) and dumps the same.
. "$(dirname "$0")/lib.sh"

start_mirror "$T/m" 0
DB=$T/db
mkdir "$DB"
EXT=$(ext_config sync "$MIRROR_ADDR")
wtx() { wt_run -h "$DB" -C "$EXT" "$@"; }

wtx create -c key_format=S,value_format=S table:x 2>"$T/create.log" ||
	fail "wt create through the extension failed: $(cat "$T/create.log")"
# wt load reads dump format: 400 rows written with wt write, dumped, and
# loaded back into a second table, which then gives 500 rows to table:x.
args=()
for i in $(seq 1 400); do
	args+=("$(printf 'key%04d' "$i")" "value $i $(head -c $((i % 40)) /dev/zero | tr '\0' x)")
done
wtx write table:x "${args[@]}" 2>"$T/write.log" || fail "wt write failed"
wtx create -c key_format=S,value_format=S table:z 2>/dev/null || fail "create z"
args=()
for i in $(seq 401 500); do
	args+=("$(printf 'key%04d' "$i")" "value $i")
done
wtx write table:z "${args[@]}" 2>"$T/write.log" || fail "wt write z failed"
wtx dump table:z >"$T/z.dump" 2>/dev/null || fail "dump z"
wtx load -f "$T/z.dump" -r x 2>"$T/load.log" || fail "wt load failed: $(cat "$T/load.log")"
wtx dump table:x >"$T/dump.primary" 2>"$T/dump.log" || fail "wt dump failed"
[ "$(grep -c '^key' "$T/dump.primary")" -eq 500 ] ||
	fail "dump through the extension does not hold the 500 rows"
wtx list >"$T/list.out" 2>"$T/list.log" || fail "wt list failed"
grep -qx 'table:x' "$T/list.out" || fail "wt list does not show table:x"
wtx verify table:x 2>"$T/verify.log" || fail "wt verify failed"
# a second, different table, then a removal, so names change too
wtx create -c key_format=S,value_format=S table:y 2>/dev/null || fail "create y"
wtx drop table:y 2>/dev/null || fail "wt drop failed"
[ -e "$DB/y.wt" ] && fail "y.wt still on the primary after drop"
[ -s "$DB/x.wt" ] || fail "the table is not a file in the home directory"

seq_durable=$("$MOJIM_BIN/mojimctl" --dir "$T/m" status | sed -n 's/^seq_durable: *//p')
[ "${seq_durable:-0}" -gt 5 ] || fail "the mirror received only ${seq_durable:-0} batches"
wait_applied "$T/m" "$seq_durable"
stop_mirror

# stock WiredTiger, no extension, on the mirror's copy
timeout 120 wt -h "$T/m/data" dump table:x >"$T/dump.replica" 2>"$T/replica.log" ||
	fail "stock wt cannot dump the replica: $(cat "$T/replica.log")"
cmp -s "$T/dump.primary" "$T/dump.replica" ||
	fail "replica dump differs: $(diff "$T/dump.primary" "$T/dump.replica" | head -5)"
timeout 120 wt -h "$T/m/data" verify table:x 2>"$T/rverify.log" || fail "replica verify"
[ -e "$T/m/data/y.wt" ] && fail "the drop of y did not reach the replica"
note "wt utility: create/load/dump/list/verify through the extension; replica dump identical"
echo "wt_utility: passed"
