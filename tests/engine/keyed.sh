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
run_and_compare "$P" "$EXT" "$T/m" 10 keyed
note "keyed link: $SEQ batches, the replica equals the primary"
echo "keyed: passed"
