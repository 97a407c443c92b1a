# TLS links (tls.c): a mirror started with --tls serves a primary whose
# certificate its CA signed, and the bytes on the path (a tap in
# mj_cutproxy) hold none of the payload that a plaintext link shows in
# clear. It refuses, and counts in tls_refused, leaving its state, log/,
# replica and descriptors as they were: a plaintext primary (told in its
# own frames that TLS is required), 200 plaintext HELLOs, a primary with a
# certificate of another CA. The primary refuses a mirror it cannot
# trust: one whose CA it does not know, one whose certificate names
# another address, one without TLS. Bad TLS arguments stop the mirror
# before it touches DIR. Keys and TLS together also work. Real libmojim
# primaries (mj_primary), real mirrors, certificates made by openssl,
# 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
PRIM=$MOJIM_TOOLS/mj_primary
K=$T/pki
M=$T/m
mk_pki "$K"
TLSM=(--tls --tls-cert "$K/mirror.pem" --tls-key "$K/mirror.key" --tls-ca "$K/ca.pem")
TLSP=(--tls-cert "$K/primary.pem" --tls-key "$K/primary.key" --tls-ca "$K/ca.pem")

# Arguments the mirror refuses before it touches DIR.
bad_tls() { # WORDS-THE-MESSAGE-MUST-HOLD ARGS...
	local want=$1 rc=0
	shift
	"$MOJIM_BIN/mojim-mirror" --listen 127.0.0.1:0 --dir "$T/never" "$@" \
		2>"$T/badtls.out" || rc=$?
	[ "$rc" -eq 2 ] || fail "mirror $*: exit $rc, not 2"
	grep -q -- "$want" "$T/badtls.out" || fail "mirror $*: $(cat "$T/badtls.out")"
	[ ! -e "$T/never" ] || fail "refused TLS arguments left $T/never"
}
bad_tls "needs --tls-cert" --tls
bad_tls "given without --tls" --tls-cert "$K/mirror.pem"
cp "$K/mirror.key" "$T/open.key" && chmod 644 "$T/open.key"
bad_tls "readable by group or others" --tls --tls-cert "$K/mirror.pem" \
	--tls-key "$T/open.key" --tls-ca "$K/ca.pem"
bad_tls "does not match the certificate" --tls --tls-cert "$K/mirror.pem" \
	--tls-key "$K/primary.key" --tls-ca "$K/ca.pem"
bad_tls "No such file" --tls --tls-cert "$K/none.pem" \
	--tls-key "$K/mirror.key" --tls-ca "$K/ca.pem"

# primary LOG DIR ARGS...: a primary life that must fail to open.
primary() {
	local log=$1 dir=$2 rc=0
	shift 2
	timeout 60 "$PRIM" --dir "$dir" --mirror "$MADDR" --policy block \
		--connections 1 --write a:refused --sync "$@" >/dev/null 2>"$log" || rc=$?
	[ "$rc" -ne 0 ] || fail "a primary ($*) was served: $(cat "$log")"
}

start_mirror "$M" 0 "${TLSM[@]}"
MPID=$MIRROR_PID
MADDR=$MIRROR_ADDR
[ "$(mirror_status "$M" tls)" = 1 ] || fail "status does not say tls"
mirror_snapshot "$M" >"$T/before.snap"
fds0=$(mirror_fds "$MPID")

primary "$T/plain.out" "$T/p-plain"
grep -q "this mirror requires TLS" "$T/plain.out" ||
	fail "a plaintext primary was not told why: $(cat "$T/plain.out")"
"$FUZZ" --addr "$MADDR" --flood hello --count 200 --seconds 60 >"$T/flood.out"
grep -q "acked=0 refused=200" "$T/flood.out" ||
	fail "plaintext flood: $(cat "$T/flood.out")"
primary "$T/rogue.out" "$T/p-rogue" --tls-cert "$K/rogue.pem" \
	--tls-key "$K/rogue.key" --tls-ca "$K/ca.pem"
grep -q "TLS session failed: .*unknown ca" "$T/rogue.out" ||
	fail "another CA's primary: $(cat "$T/rogue.out")"
primary "$T/distrust.out" "$T/p-distrust" --tls-cert "$K/primary.pem" \
	--tls-key "$K/primary.key" --tls-ca "$K/rogue-ca.pem"
grep -q "the mirror's certificate is not trusted" "$T/distrust.out" ||
	fail "a mirror of an unknown CA: $(cat "$T/distrust.out")"

mirror_refusals_left_nothing "$M" "$MPID" "$fds0" "$T/before.snap" \
	tls_refused 203 "a plaintext peer"
note "203 refused: state, log/ ($(du -sb "$M/log" | cut -f1) bytes) and $fds0 descriptors unchanged"

# tap_run NAME TEXT ARGS...: a primary through a tapping proxy to MADDR
# writes TEXT and syncs; the tap is $T/NAME.tap.
tap_run() {
	local name=$1 text=$2
	shift 2
	start_cutproxy "$T/$name.px" "$T/$name.pxerr" --to "$MADDR" --cuts 0 \
		--tap "$T/$name.tap"
	local px=$PROXY_PID
	timeout 60 "$PRIM" --dir "$T/p-$name" --mirror "$PROXY_ADDR" --connections 2 \
		--write "a:$text" --sync "$@" >/dev/null 2>"$T/$name.log" ||
		fail "the $name primary failed: $(cat "$T/$name.log")"
	kill "$px" && wait "$px" 2>/dev/null || true
}
# wait_data DIR TEXT: the replica's file a starts with TEXT within 10 s.
wait_data() {
	local i
	for i in $(seq 1 100); do
		[ "$(head -c ${#2} "$1/data/a" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	fail "the batch $2 is not in the replica $1"
}

SECRET=TLS-SECRET-$RANDOM$RANDOM
tap_run tls "$SECRET" "${TLSP[@]}"
wait_data "$M" "$SECRET"
[ -s "$T/tls.tap" ] || fail "the tap saw nothing"
! grep -qa "$SECRET" "$T/tls.tap" || fail "the TLS link carried the payload in clear"
note "TLS: the batch reached the replica; $(stat -c %s "$T/tls.tap") bytes on the path, no payload in clear"
kill -TERM "$MPID" && wait "$MPID" 2>/dev/null || true

# A plaintext mirror: the same tap shows the payload (the tap can see),
# and a TLS primary refuses it.
start_mirror "$T/m2" 0
MADDR=$MIRROR_ADDR
tap_run plain "PLAIN-$SECRET"
wait_data "$T/m2" "PLAIN-$SECRET"
grep -qa "PLAIN-$SECRET" "$T/plain.tap" || fail "the tap does not see a plaintext payload"
primary "$T/notls.out" "$T/p-notls" "${TLSP[@]}"
grep -q "TLS handshake with the mirror failed" "$T/notls.out" ||
	fail "a TLS primary against a plaintext mirror: $(cat "$T/notls.out")"
stop_mirror

# A mirror whose certificate names another address is refused by name.
mk_cert "$K" ca elsewhere "subjectAltName=IP:10.9.8.7"
chmod 600 "$K/elsewhere.key"
start_mirror "$T/m3" 0 --tls --tls-cert "$K/elsewhere.pem" \
	--tls-key "$K/elsewhere.key" --tls-ca "$K/ca.pem"
MADDR=$MIRROR_ADDR
primary "$T/name.out" "$T/p-name" "${TLSP[@]}"
grep -q "IP address mismatch" "$T/name.out" ||
	fail "a mirror named 10.9.8.7 at 127.0.0.1: $(cat "$T/name.out")"
stop_mirror

# Keys and TLS together.
head -c 32 /dev/urandom | base64 >"$T/key" && chmod 600 "$T/key"
start_mirror "$T/m4" 0 "${TLSM[@]}" --keyfile "$T/key"
MADDR=$MIRROR_ADDR
timeout 60 "$PRIM" --dir "$T/p-both" --mirror "$MADDR" --connections 2 \
	--write a:BOTH-OK --sync --keyfile "$T/key" "${TLSP[@]}" >/dev/null \
	2>"$T/both.log" || fail "a keyed TLS primary failed: $(cat "$T/both.log")"
wait_data "$T/m4" BOTH-OK
stop_mirror
echo "tls: passed"
