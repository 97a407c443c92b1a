# The extension over a keyed link, configured without a single quote:
# mirror=(host=,port=), transport=tcp, keyfile=. A WiredTiger workload
# through a mirror holding the same key; the replica, opened by stock
# WiredTiger, dumps equal to the primary. The same primary with another
# key is refused at wiredtiger_open, with a message that says why, and
# the mirror takes nothing from it.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
head -c 32 /dev/urandom | base64 >"$T/key" && chmod 600 "$T/key"
head -c 32 /dev/urandom | base64 >"$T/other" && chmod 600 "$T/other"

start_mirror "$T/m" 0 --keyfile "$T/key"
cfg() { # KEYFILE
	echo "extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=sync,mirror=(host=127.0.0.1,port=$MIRROR_PORT),transport=tcp,keyfile=$1,block_timeout_ms=20000})]"
}
EXT=$(cfg "$T/key")
case $EXT in *\"*) fail "the load string has quotes: $EXT" ;; esac

# another key first: refused, and the mirror adopts nothing
mkdir "$T/bad"
rc=0
timeout 120 "$W" open "$T/bad" "create,$(cfg "$T/other")" >/dev/null 2>"$T/bad.out" || rc=$?
[ "$rc" -ne 0 ] || fail "a primary with another key opened"
grep -q "do not hold the same cluster key" "$T/bad.out" ||
	fail "the refusal does not say why: $(cat "$T/bad.out")"
[ "$(mirror_status "$T/m" cluster_id)" = 0000000000000000 ] ||
	fail "the mirror adopted the refused primary's cluster"

P=$T/db
mkdir "$P"
timeout 300 "$W" run "$P" "$EXT" 3 >"$T/run.out" 2>"$T/run.log" ||
	fail "the keyed workload failed: $(tail -3 "$T/run.log")"
timeout 300 "$W" dump "$P" "$EXT" "$T/p.dump" >/dev/null 2>"$T/pd.log" ||
	fail "the primary's reopening failed: $(tail -3 "$T/pd.log")"
seq=$(mirror_status "$T/m" seq_durable)
[ "${seq:-0}" -gt 10 ] || fail "the keyed mirror got ${seq:-0} batches"
wait_applied "$T/m" "$seq"
stop_mirror
timeout 300 "$W" dump "$T/m/data" "" "$T/r.dump" >/dev/null 2>"$T/rd.log" ||
	fail "stock WiredTiger cannot open the replica"
cmp -s "$T/p.dump" "$T/r.dump" || fail "the keyed replica differs from the primary"
note "keyed link: $seq batches, the replica equals the primary"
echo "keyed: passed"
