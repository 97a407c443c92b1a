# The extension's load string given through the WIREDTIGER_CONFIG
# environment variable instead of the configuration argument: with
# Debian's wt utility and with wiredtiger_open (wt_workload). Each run
# talks to its own mirror, whose replica stock WiredTiger (no variable)
# then dumps equal to the primary; a bad key in the variable is refused
# with a message naming it, so the variable really reaches the extension.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload

# the wt utility
start_mirror "$T/m1" 0
DB=$T/db1
mkdir "$DB"
EXT=$(ext_config sync "$MIRROR_ADDR")
wte() { WIREDTIGER_CONFIG=$EXT wt_run -h "$DB" "$@"; }
wte create -c key_format=S,value_format=S table:x 2>"$T/create.log" ||
	fail "wt create with WIREDTIGER_CONFIG failed"
args=()
for i in $(seq 1 200); do
	args+=("$(printf 'key%04d' "$i")" "value $i")
done
wte write table:x "${args[@]}" 2>"$T/write.log" || fail "wt write failed"
wte dump table:x >"$T/x.primary" 2>"$T/dump.log" || fail "wt dump failed"
[ "$(grep -c '^key' "$T/x.primary")" -eq 200 ] || fail "the dump lacks the 200 rows"
seq=$(mirror_status "$T/m1" seq_durable)
[ "${seq:-0}" -gt 2 ] || fail "wt through WIREDTIGER_CONFIG sent the mirror ${seq:-0} batches"
wait_applied "$T/m1" "$seq"
stop_mirror
timeout 120 wt -h "$T/m1/data" dump table:x >"$T/x.replica" 2>"$T/rx.log" ||
	fail "stock wt cannot dump the replica"
cmp -s "$T/x.primary" "$T/x.replica" || fail "wt: the replica differs"

# wiredtiger_open, the configuration argument carrying no extension
start_mirror "$T/m2" 0
P=$T/db2
mkdir "$P"
EXT=$(ext_config syncflush "$MIRROR_ADDR")
WIREDTIGER_CONFIG=$EXT run_and_compare "$P" "" "$T/m2" 10 wiredtiger_open

# a bad key through the variable
mkdir "$T/db3"
rc=0
WIREDTIGER_CONFIG="extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=unreplicated,bogus=1})]" \
	timeout 60 "$W" open "$T/db3" "create" >/dev/null 2>"$T/bad.out" || rc=$?
[ "$rc" -ne 0 ] || fail "a bad key in WIREDTIGER_CONFIG was accepted"
grep -q 'unknown key "bogus"' "$T/bad.out" || fail "no message naming the bad key: $(cat "$T/bad.out")"
note "WIREDTIGER_CONFIG: wt and wiredtiger_open replicate; a bad key is refused"
echo "wt_config_env: passed"
