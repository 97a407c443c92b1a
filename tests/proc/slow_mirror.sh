# A mirror that answers the handshake just fast enough that no single read
# times out: every byte back to the primary alone, 300 ms after the one
# before (mj_cutproxy --trickle-ms), over plain TCP, with a cluster key and
# over TLS. The primary's dial has one bound for the whole handshake, its
# connect timeout (1 s here): the open must fail well inside 6 s, saying
# it timed out, never hang (one socket timeout per byte made the plaintext
# HELLO_ACK alone take about 50 s, and a TLS server's first flight many
# minutes, while the supervisor dials nothing else and a close waits for
# it). Through the same proxy without the trickle, the same primaries are
# served: the bound is not what refuses them. 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

PRIM=$MOJIM_TOOLS/mj_primary
K=$T/pki
mk_pki "$K"
head -c 32 /dev/urandom | base64 >"$T/key" && chmod 600 "$T/key"
TLSM=(--tls --tls-cert "$K/mirror.pem" --tls-key "$K/mirror.key" --tls-ca "$K/ca.pem")
TLSP=(--tls-cert "$K/primary.pem" --tls-key "$K/primary.key" --tls-ca "$K/ca.pem")

# bounded NAME ARGS...: through a trickling proxy to MADDR, a primary
# (ARGS) fails to open within 6 s and says it timed out; through a plain
# proxy the same primary (its directory, so its cluster) is served.
bounded() {
	local name=$1 rc=0 t0 ms
	shift
	start_cutproxy "$T/$name.px" "$T/$name.pxerr" --to "$MADDR" --cuts 0 \
		--trickle-ms 300
	local px=$PROXY_PID
	t0=$(date +%s%N)
	timeout 120 "$PRIM" --dir "$T/p-$name" --mirror "$PROXY_ADDR" \
		--policy block --connections 1 --connect-timeout-ms 1000 \
		--write a:slow --sync "$@" >/dev/null 2>"$T/$name.out" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$px" 2>/dev/null && wait "$px" 2>/dev/null || true
	[ "$rc" -ne 0 ] || fail "$name: a trickled handshake was served"
	[ "$rc" -ne 124 ] || fail "$name: the open hung (killed after 120 s)"
	[ "$ms" -lt 6000 ] || fail "$name: the open took $ms ms, not < 6000: $(cat "$T/$name.out")"
	grep -qi "timed out\|timeout" "$T/$name.out" ||
		fail "$name: the failure does not say it timed out: $(cat "$T/$name.out")"
	start_cutproxy "$T/$name.ok.px" "$T/$name.ok.pxerr" --to "$MADDR" --cuts 0
	px=$PROXY_PID
	timeout 60 "$PRIM" --dir "$T/p-$name" --mirror "$PROXY_ADDR" \
		--policy block --connections 1 --connect-timeout-ms 1000 \
		--write a:fast --sync "$@" >/dev/null 2>"$T/$name.ok.out" ||
		fail "$name: not served without the trickle: $(cat "$T/$name.ok.out")"
	kill "$px" 2>/dev/null && wait "$px" 2>/dev/null || true
	note "$name: a trickled handshake failed in $ms ms: $(grep -i -m1 'time' "$T/$name.out")"
}

start_mirror "$T/m" 0
MADDR=$MIRROR_ADDR
bounded plain
kill -TERM "$MIRROR_PID" && wait "$MIRROR_PID" 2>/dev/null || true

start_mirror "$T/mk" 0 --keyfile "$T/key"
MADDR=$MIRROR_ADDR
bounded keyed --keyfile "$T/key"
kill -TERM "$MIRROR_PID" && wait "$MIRROR_PID" 2>/dev/null || true

start_mirror "$T/mt" 0 "${TLSM[@]}"
MADDR=$MIRROR_ADDR
bounded tls "${TLSP[@]}"
kill -TERM "$MIRROR_PID" && wait "$MIRROR_PID" 2>/dev/null || true
echo "slow_mirror: passed"
