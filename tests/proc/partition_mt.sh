# Split brain is fenced: a primary (mj_workload --stamp) and its mirror
# run in two network namespaces joined by a veth pair; the link is cut (the
# mirror's end set down); the mirror is promoted (mojimctl through its
# control socket, a unix socket on the shared file system); the link comes
# back. The old primary must then be fenced: its sync points fail with
# "fenced: the mirror has seen a newer epoch" (not a timeout, and, under
# degrade, no silent local-only mode), and nothing it sends after the
# promotion is acknowledged or applied: the promoted mirror's counters and
# a checksum of its replica do not change from the promotion to the end.
# Every stamp acknowledged before the cut is in the promoted replica.
#   round 1, policy block:   promote --force at once (the primary was
#                            heard within the heartbeat window);
#   round 2, policy degrade: the primary degrades during the cut; the
#                            operator waits out the window, plain promote.
# Three rounds of the two by default; MOJIM_SOAK=N runs 3N. Skips (exit 0, "SKIP") only
# where network namespaces cannot be created.
. "$(dirname "$0")/lib.sh"
ROUNDS=$(soak 3)
NS_A=mjpa$$ # the primary's namespace
NS_B=mjpb$$ # the mirror's
VETH_A=mjva$$
VETH_B=mjvb$$
ADDR_A=10.77.0.1
ADDR_B=10.77.0.2
PORT=7070 # namespaces of our own: no other listener there

del_netns() {
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
}

if ! ip netns add "$NS_A" 2>"$T/netns.err"; then
	echo "SKIP: network namespaces are not permitted here: $(cat "$T/netns.err")"
	exit 0
fi
CLEANUP_HOOKS+=(del_netns) # after the processes inside are killed
ip netns add "$NS_B" || fail "ip netns add $NS_B"
# The veth pair is created in A and its B end moved; deleting the
# namespaces deletes both ends.
ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS_B" ||
	fail "cannot create a veth pair"
ip -n "$NS_A" addr add "$ADDR_A/30" dev "$VETH_A"
ip -n "$NS_B" addr add "$ADDR_B/30" dev "$VETH_B"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "$VETH_A" up
ip -n "$NS_B" link set "$VETH_B" up

link() { ip -n "$NS_B" link set "$VETH_B" "$1" || fail "link $1"; }

# start_mirror_b DIR: mojim-mirror inside B (`ip netns exec` execs it, so
# its pid is the mirror's).
start_mirror_b() {
	local log=$1.log
	: >"$log"
	ip netns exec "$NS_B" "$MOJIM_BIN/mojim-mirror" --listen "$ADDR_B:$PORT" \
		--dir "$1" --heartbeat-timeout-ms 1000 2>>"$log" &
	MIRROR_PID=$!
	STARTED_PIDS+=("$MIRROR_PID")
	local i
	for i in $(seq 1 200); do
		grep -q 'listening on' "$log" && return 0
		kill -0 "$MIRROR_PID" 2>/dev/null || fail "mirror exited at start"
		sleep 0.05
	done
	fail "mirror did not start listening within 10 s"
}

acked() { sed -n 's/^acked //p' "$1" | tail -1; }

# tree_sum DIR: one checksum of every file's name and bytes.
tree_sum() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}

# counters DIR: the promoted mirror's sequence counters, one line.
counters() {
	"$MOJIM_BIN/mojimctl" --dir "$1" status | grep -E '^seq_(received|durable|applied):' |
		tr '\n' ' '
}

PROMOTE_MS=()
FENCE_MS=()

round() { # N POLICY
	local n=$1 pol=$2 m=$T/m$1 p=$T/p$1 w=$T/w$1
	start_mirror_b "$m"
	link up
	touch "$w.out"
	ip netns exec "$NS_A" "$MOJIM_TOOLS/mj_workload" --dir "$p" \
		--mirror "$ADDR_B:$PORT" --mode sync --policy "$pol" \
		--block-timeout-ms 60000 --stamp --seconds 120 >"$w.out" 2>"$w.log" &
	local wl=$!
	STARTED_PIDS+=("$wl")
	local i
	for i in $(seq 1 250); do
		[ "$(acked "$w.out")" -gt 50 ] 2>/dev/null && break
		kill -0 "$wl" 2>/dev/null || fail "$pol: the workload died: $(tail -2 "$w.log")"
		sleep 0.02
	done
	[ "$(acked "$w.out")" -gt 50 ] 2>/dev/null || fail "$pol: no progress over the link"

	link down
	sleep 0.2 # acks on their way before the cut are printed
	local at_cut
	at_cut=$(acked "$w.out")
	local out rc t0
	if [ "$pol" = degrade ]; then
		# the primary notices (ack timeout) and degrades; the mirror
		# stops hearing it; then a plain promote is allowed
		for i in $(seq 1 300); do
			grep -q DEGRADED "$w.log" && break
			sleep 0.05
		done
		grep -q DEGRADED "$w.log" || fail "degrade: the primary never degraded during the cut"
		t0=$(now_s)
		for i in $(seq 1 100); do
			rc=0
			out=$("$MOJIM_BIN/mojimctl" --dir "$m" promote 2>&1) || rc=$?
			[ "$rc" -eq 4 ] || break
			sleep 0.1
		done
		[ "$rc" -eq 0 ] || fail "degrade: promote after the window: rc $rc: $out"
	else
		t0=$(now_s)
		out=$("$MOJIM_BIN/mojimctl" --dir "$m" promote --force 2>&1) ||
			fail "block: promote --force across the partition failed: $out"
	fi
	PROMOTE_MS+=("$(ms_between "$t0" "$(now_s)")")
	[[ $out == promoted:* ]] || fail "$pol: promote said: $out"
	local sum0 cnt0 stamp
	sum0=$(tree_sum "$m/data")
	cnt0=$(counters "$m")
	stamp=$("$MOJIM_TOOLS/mj_workload" --check-stamps "$m/data") ||
		fail "$pol: the promoted replica holds a partial batch: $stamp"
	stamp=${stamp#stamp }
	[ "$stamp" -ge "$at_cut" ] ||
		fail "$pol: promoted replica at stamp $stamp, but $at_cut was acknowledged"

	# The link returns: the old primary reaches the promoted mirror.
	link up
	t0=$(now_s)
	wait_gone "$wl" 20 || fail "$pol: the old primary still runs 20 s after the link returned"
	rc=0
	wait "$wl" || rc=$?
	FENCE_MS+=("$(ms_between "$t0" "$(now_s)")")
	[ "$rc" -ne 0 ] || fail "$pol: the fenced primary's workload succeeded"
	# the sync point that stopped it failed as fenced (not timed out)
	grep -qx "mj_workload: stamp: fenced: the mirror has seen a newer epoch" "$w.log" ||
		fail "$pol: the old primary's sync point did not fail as fenced:" \
			"$(grep -m1 'stamp:' "$w.log" || tail -1 "$w.log")"
	if [ "$pol" = block ]; then
		# no ack after the promotion: every stamp it saw acked is there
		local last
		last=$(acked "$w.out")
		[ "$last" -le "$stamp" ] ||
			fail "block: the old primary saw stamp $last acked, the promoted copy has $stamp"
	fi
	# Nothing it sent after the promotion was taken: same counters, same
	# bytes, and the mirror refused it (it keeps running, promoted).
	kill -0 "$MIRROR_PID" 2>/dev/null || fail "$pol: the promoted mirror exited"
	[ "$(counters "$m")" = "$cnt0" ] ||
		fail "$pol: the promoted mirror's counters moved: $cnt0 -> $(counters "$m")"
	[ "$(tree_sum "$m/data")" = "$sum0" ] ||
		fail "$pol: the promoted replica changed after the promotion"
	grep -qE "this mirror was promoted|newer epoch|epoch older" "$m.log" ||
		fail "$pol: the mirror did not log refusing the old primary"
	stop_mirror
	note "$pol: cut at stamp $at_cut, promoted at stamp $stamp ($cnt0)," \
		"old primary's last ack $(acked "$w.out"), fenced"
	rm -rf "$m" "$p"
}

for r in $(seq 1 "$ROUNDS"); do
	round "$r-1" block
	round "$r-2" degrade
done
note "promote (ms; under degrade after waiting out the window):" \
	"$(median_max "${PROMOTE_MS[@]}");" \
	"link back -> old primary failed as fenced (ms): $(median_max "${FENCE_MS[@]}")"
echo "partition: passed"
