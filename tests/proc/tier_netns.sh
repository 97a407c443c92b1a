# The secondary tier on a network of its own: four hosts in network
# namespaces that the test creates and removes (primary P, mirror M,
# backups B1 and B2), joined by veth pairs, M's link to B2 rate-limited to
# 10 Mbit/s with a tbf qdisc (the paper's M-syncseceth; this kernel has no
# netem). A primary in P writes as fast as it can for 3 s: the mirror
# must stall at --secondary-thresh (2 MiB here, in a 16 MiB log) and name
# B2, not B1, as the backup stalling the tier; sampled every 50 ms its log
# never holds more than the threshold plus 2 MiB; once the primary stops
# the backlog drains to nothing, and both backups' replicas equal the
# primary's. Skips (exit 0, "SKIP") only where namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
THRESH=$((2 << 20))
PORT=7070 # namespaces of our own: no other listener there
NS_P=mjtp$$ NS_M=mjtm$$ NS_B1=mjt1$$ NS_B2=mjt2$$
ADDR_P=10.78.1.1 ADDR_M=10.78.1.2 ADDR_B1=10.78.2.2 ADDR_B2=10.78.3.2

del_netns() {
	local ns
	for ns in "$NS_P" "$NS_M" "$NS_B1" "$NS_B2"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

if ! ip netns add "$NS_P" 2>"$T/netns.err"; then
	echo "SKIP: network namespaces are not permitted here: $(cat "$T/netns.err")"
	exit 0
fi
CLEANUP_HOOKS+=(del_netns) # after the processes inside are killed
for ns in "$NS_M" "$NS_B1" "$NS_B2"; do
	ip netns add "$ns" || fail "ip netns add $ns"
done
for ns in "$NS_P" "$NS_M" "$NS_B1" "$NS_B2"; do
	ip -n "$ns" link set lo up || fail "lo up in $ns"
done
# pair NS ADDR-IN-NS ADDR-IN-M NAME: a veth pair from M to NS, a /30 each.
pair() {
	local ns=$1 addr=$2 maddr=$3 name=$4
	ip -n "$NS_M" link add "m$name$$" type veth peer name "x$name$$" netns "$ns" ||
		fail "cannot create a veth pair to $ns"
	ip -n "$NS_M" addr add "$maddr/30" dev "m$name$$"
	ip -n "$ns" addr add "$addr/30" dev "x$name$$"
	ip -n "$NS_M" link set "m$name$$" up
	ip -n "$ns" link set "x$name$$" up
}
pair "$NS_P" "$ADDR_P" "$ADDR_M" p
pair "$NS_B1" "$ADDR_B1" 10.78.2.1 a
pair "$NS_B2" "$ADDR_B2" 10.78.3.1 b
# M's side of the B2 link sends at 10 Mbit/s (what M forwards to B2).
tc -n "$NS_M" qdisc add dev "mb$$" root tbf rate 10mbit burst 32kbit \
	latency 400ms || fail "tc tbf on the backup link"

# start_in NS ADDR DIR ARGS...: mojim-mirror inside NS on ADDR:PORT.
start_in() {
	local ns=$1 addr=$2 dir=$3 i
	shift 3
	: >"$dir.log"
	ip netns exec "$ns" "$MOJIM_BIN/mojim-mirror" --listen "$addr:$PORT" \
		--dir "$dir" --log-size 16M "$@" 2>>"$dir.log" &
	MIRROR_PID=$!
	STARTED_PIDS+=("$MIRROR_PID")
	for i in $(seq 1 200); do
		grep -q 'listening on' "$dir.log" && return 0
		kill -0 "$MIRROR_PID" 2>/dev/null || fail "$dir: exited at start: $(tail -2 "$dir.log")"
		sleep 0.05
	done
	fail "$dir: did not start listening within 10 s"
}

start_in "$NS_B1" "$ADDR_B1" "$T/b1" --role backup
start_in "$NS_B2" "$ADDR_B2" "$T/b2" --role backup
start_in "$NS_M" "$ADDR_M" "$T/m" --backup "$ADDR_B1:$PORT" \
	--backup "$ADDR_B2:$PORT" --backup-timeout-ms 10000 \
	--secondary-thresh "$THRESH"
ip netns exec "$NS_P" "$MOJIM_TOOLS/mj_workload" --dir "$T/p" \
	--mirror "$ADDR_M:$PORT" --mode sync --threads 2 --connections 2 \
	--seed 11 --seconds 3 --block-timeout-ms 60000 >"$T/w.out" 2>"$T/w.log" &
WL=$!
MAXUSED=0 STALLING_B2=0 STALLING_B1=0
while kill -0 "$WL" 2>/dev/null; do
	st=$("$MOJIM_BIN/mojimctl" --dir "$T/m" status)
	used=$(sed -n 's/^log_fill: \([0-9]*\)\/.*/\1/p' <<<"$st")
	[ "${used:-0}" -gt "$MAXUSED" ] && MAXUSED=$used
	grep -q "^backup $ADDR_B2:$PORT.*, stalling 1," <<<"$st" && STALLING_B2=$((STALLING_B2 + 1))
	grep -q "^backup $ADDR_B1:$PORT.*, stalling 1," <<<"$st" && STALLING_B1=$((STALLING_B1 + 1))
	sleep 0.05
done
wait "$WL" || fail "the workload failed: $(tail -3 "$T/w.log")"
SEQ=$(sed -n 's/^seq_sent //p' "$T/w.out")
STALLS=$(mirror_status "$T/m" stalls)
STALLED_MS=$(mirror_status "$T/m" stalled_ms)
note "$SEQ batches, log fill at most $MAXUSED bytes (threshold $THRESH), $STALLS stalls, $STALLED_MS ms stalled; B2 (10 Mbit/s) named as stalling in $STALLING_B2 samples, B1 in $STALLING_B1"
[ "$STALLS" -gt 0 ] || fail "the mirror never stalled behind a 10 Mbit/s backup"
[ "$STALLING_B2" -gt 0 ] || fail "status never named the rate-limited backup as stalling"
[ "$STALLING_B1" -eq 0 ] || fail "status named the fast backup as stalling"
[ "$MAXUSED" -le $((THRESH + (2 << 20))) ] ||
	fail "the log held $MAXUSED bytes, past the threshold $THRESH"
wait_applied "$T/b1" "$SEQ"
wait_applied "$T/b2" "$SEQ"
same_tree "$T/p" "$T/b1/data"
same_tree "$T/p" "$T/b2/data"
for i in $(seq 1 100); do
	used=$("$MOJIM_BIN/mojimctl" --dir "$T/m" status | sed -n 's/^log_fill: \([0-9]*\)\/.*/\1/p')
	[ "$used" -eq 0 ] && [ "$(mirror_status "$T/m" stalling)" = 0 ] && break
	sleep 0.05
done
[ "$used" -eq 0 ] || fail "the backlog did not drain ($used bytes)"
[ "$(mirror_status "$T/m" stalling)" = 0 ] || fail "still stalling after the drain"
note "drained; both backups equal the primary"
echo "tier_netns: passed"
