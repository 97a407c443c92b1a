# The extension over a TLS link, configured without a single quote:
# mirror=(host=,port=), tls=on, tls_cert=, tls_key=, tls_ca= (and a
# cluster key as well). A WiredTiger workload through a mirror started
# with --tls; the replica, opened by stock WiredTiger, dumps equal to the
# primary. A primary whose certificate another CA signed is refused at
# wiredtiger_open with a message that names TLS, and the mirror takes
# nothing from it.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
K=$T/pki
mk_pki "$K"
head -c 32 /dev/urandom | base64 >"$T/key" && chmod 600 "$T/key"

start_mirror "$T/m" 0 --keyfile "$T/key" --tls --tls-cert "$K/mirror.pem" \
	--tls-key "$K/mirror.key" --tls-ca "$K/ca.pem"
cfg() { # CERT-NAME
	echo "extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=sync,mirror=(host=127.0.0.1,port=$MIRROR_PORT),keyfile=$T/key,tls=on,tls_cert=$K/$1.pem,tls_key=$K/$1.key,tls_ca=$K/ca.pem,block_timeout_ms=20000})]"
}
EXT=$(cfg primary)
case $EXT in *\"*) fail "the load string has quotes: $EXT" ;; esac

mkdir "$T/bad"
rc=0
timeout 120 "$W" open "$T/bad" "create,$(cfg rogue)" >/dev/null 2>"$T/bad.out" || rc=$?
[ "$rc" -ne 0 ] || fail "a primary with another CA's certificate opened"
grep -q "TLS" "$T/bad.out" || fail "the refusal does not say why: $(cat "$T/bad.out")"
[ "$(mirror_status "$T/m" cluster_id)" = 0000000000000000 ] ||
	fail "the mirror adopted the refused primary's cluster"
[ "$(mirror_status "$T/m" tls_refused)" -ge 1 ] || fail "tls_refused did not count it"

P=$T/db
mkdir "$P"
run_and_compare "$P" "$EXT" "$T/m" 10 tls
note "TLS link: $SEQ batches, the replica equals the primary"
echo "tls: passed"
