# Connections cut in the middle of a frame never leave a partial batch
# applied, and lose nothing acknowledged. mj_workload --stamp (batch k
# stamps k into 9 ranges of 3 files, one range of 192 KiB so a batch spans
# several 64 KiB frames) talks to its mirror through mj_cutproxy, which
# kills each connection (FIN or RST) after a random number of bytes towards
# the mirror (1..600 KiB: inside handshakes, frame headers, fragments,
# commit marks) or, for half of them, back (1..300: inside handshake
# answers and acks), CUTS times per round (default 50), then lets
# connections pass (an idle connection is cut 0.5-2 s after it was
# accepted, so the count is reached). The primary's two first connections are cut only
# after their handshake (under block a failed first handshake fails the
# open, as documented). Policy block: sync points wait
# and resume on a new connection, resending their batch. Each round ends
# with the mirror SIGKILLed (odd rounds: mid-stream after the last cut;
# even ones: right after a random cut) and its logs replayed
# (--replay-only): the replica must hold one stamp in every slot and at
# least the last stamp the primary saw acknowledged. ROUNDS rounds
# (default 8; MOJIM_SOAK multiplies both).
. "$(dirname "$0")/lib.sh"
CUTS=$(soak "${MOJIM_CUTS:-50}")
ROUNDS=$(soak "${MOJIM_CUT_ROUNDS:-8}")
TOTAL=0

last_acked() { sed -n 's/^acked //p' "$1" | tail -1; }
cuts_done() { grep -c '^cut ' "$1" || true; }

# wait_acked OUT N SECONDS PID: until the last ack is above N, bounded.
wait_acked() {
	local a end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		a=$(last_acked "$1")
		[ -n "$a" ] && [ "$a" -gt "$2" ] && return 0
		kill -0 "$4" 2>/dev/null || fail "the workload died: $(tail -3 "$T/workload.log")"
		sleep 0.02
	done
	return 1
}

RST=0
FIN=0
IDLE=0
round() { # N
	local n=$1 m=$T/m$1
	start_mirror "$m" 0 --slot-size 64K --log-size 4M
	start_cutproxy "$T/proxy$n.out" "$T/proxy$n.log" --to "$MIRROR_ADDR" \
		--cuts "$CUTS" --max-bytes 614400 --max-back 300 --gentle 2 \
		--seed "$RANDOM"
	local px=$PROXY_PID paddr=$PROXY_ADDR
	local out=$T/acks$n.out
	touch "$out"
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p$n" --mirror "$paddr" --mode sync \
		--policy block --block-timeout-ms 120000 --stamp --seconds 3600 \
		>"$out" 2>"$T/workload.log" &
	local wl=$!
	STARTED_PIDS+=("$wl")
	# Odd rounds: every cut happens (bounded), the stream goes on, then
	# the mirror dies at a random moment. Even rounds: it dies right
	# after a random cut (the cut frame's bytes are in its log, the
	# primary has not resent it yet, or is resending it).
	local want=$CUTS
	[ $((n % 2)) -eq 0 ] && want=$((CUTS / 2 + RANDOM % (CUTS - CUTS / 2) + 1))
	local t0 end=$((SECONDS + 60))
	t0=$(now_s)
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(cuts_done "$T/proxy$n.out")" -ge "$want" ] && break
		kill -0 "$wl" 2>/dev/null || fail "round $n: the workload died: $(tail -3 "$T/workload.log")"
		kill -0 "$px" 2>/dev/null || fail "round $n: the proxy died: $(tail -3 "$T/proxy$n.log")"
		sleep 0.01
	done
	[ "$(cuts_done "$T/proxy$n.out")" -ge "$want" ] ||
		fail "round $n: only $(cuts_done "$T/proxy$n.out") of $want cuts in 60 s" \
			"(acked $(last_acked "$out"))"
	local cut_ms
	cut_ms=$(ms_between "$t0" "$(now_s)")
	if [ "$want" -eq "$CUTS" ]; then
		local a
		a=$(last_acked "$out")
		wait_acked "$out" "${a:-0}" 30 "$wl" ||
			fail "round $n: no sync point completed after the cuts"
		wait_acked "$out" "$(($(last_acked "$out") + 20))" 30 "$wl" ||
			fail "round $n: the stream did not go on after the cuts"
		sleep "0.0$((RANDOM % 9 + 1))"
	fi
	# the mirror dies; its logs decide what is applied
	kill_mirror
	local acked got stamp
	acked=$(last_acked "$out")
	acked=${acked:-0} # none yet: a round may kill the mirror that early
	"$MOJIM_BIN/mojim-mirror" --dir "$m" --replay-only 2>>"$m.log" ||
		fail "round $n: replay failed"
	got=$("$MOJIM_TOOLS/mj_workload" --check-stamps "$m/data" 2>&1) ||
		fail "round $n: partly applied batch: $got"
	stamp=${got#stamp }
	[ "$stamp" -ge "$acked" ] ||
		fail "round $n: replica at stamp $stamp but $acked was acknowledged"
	kill -KILL "$wl" "$px" 2>/dev/null || true
	wait "$wl" "$px" 2>/dev/null || true
	TOTAL=$((TOTAL + $(cuts_done "$T/proxy$n.out")))
	RST=$((RST + $(grep -c '(rst' "$T/proxy$n.out" || true)))
	FIN=$((FIN + $(grep -c '(fin' "$T/proxy$n.out" || true)))
	IDLE=$((IDLE + $(grep -c 'idle)$' "$T/proxy$n.out" || true)))
	local lost
	lost=$(grep -c 'lost' "$T/workload.log" || true)
	note "round $n: $want cuts in $cut_ms ms, $lost connection losses seen by" \
		"the primary, acked $acked, replica at stamp $stamp"
	rm -rf "$m" "$T/p$n"
}

for r in $(seq 1 "$ROUNDS"); do
	round "$r"
done
note "cuts: $RST with RST, $FIN with FIN; $IDLE of them of an idle connection"
echo "conn_cut: $TOTAL cuts, never a partial batch, nothing acked lost"
