# Atomicity and durability across mirror crashes: a primary streams
# multi-range, multi-fragment batches (batch k stamps k into every byte of
# 9 ranges in 3 files, one of them 1 MiB so that applying a batch takes long
# enough for kills to land inside it) while the mirror is SIGKILLed at
# random moments, KILLS times. (Checked able to fail: a mirror that marks a
# batch applied before applying it is caught within 50 kills.)
# After each kill the mirror's logs are replayed (--replay-only) and the
# replica must hold one stamp in every slot (no partly applied batch), at
# least the last stamp the primary saw acknowledged (nothing acked lost).
. "$(dirname "$0")/lib.sh"
KILLS=${MOJIM_KILLS:-50}
m=$T/m
start_mirror "$m" 0 --slot-size 64K --log-size 4M
port=$MIRROR_PORT

touch "$T/acks.out" # read below before the workload may have opened it
"$MOJIM_TOOLS/mj_workload" --dir "$T/p" --mirror "$MIRROR_ADDR" --mode sync \
	--policy block --block-timeout-ms 120000 --stamp --stamp-big 1048576 --seconds 3600 \
	>"$T/acks.out" 2>"$T/workload.log" &
wl=$!
STARTED_PIDS+=("$wl")

last_acked() { sed -n 's/^acked //p' "$T/acks.out" | tail -1; }

first=""
for i in $(seq 1 "$KILLS"); do
	# Let some batches through first (bounded wait), then a random moment.
	for _ in $(seq 1 100); do
		a=$(last_acked)
		[ -n "$a" ] && [ "$a" != "${prev:-}" ] && break
		kill -0 "$wl" 2>/dev/null || fail "workload died"
		sleep 0.02
	done
	sleep "0.0$((RANDOM % 9 + 1))"
	kill_mirror
	acked=$(last_acked)
	[ -n "$first" ] || first=$acked
	"$MOJIM_BIN/mojim-mirror" --dir "$m" --replay-only 2>>"$m.log" ||
		fail "replay failed after kill $i"
	got=$("$MOJIM_TOOLS/mj_workload" --check-stamps "$m/data" --stamp-big 1048576) ||
		fail "kill $i: partly applied batch: $got"
	stamp=${got#stamp }
	[ "$stamp" -ge "${acked:-0}" ] ||
		fail "kill $i: replica at stamp $stamp but $acked was acknowledged"
	prev=$acked
	start_mirror "$m" "$port" --slot-size 64K --log-size 4M
done
final=$(last_acked)
[ "${final:-0}" -gt "${first:-0}" ] || fail "the primary made no progress across kills"
kill -0 "$wl" 2>/dev/null || fail "workload exited: $(tail -3 "$T/workload.log")"
kill -TERM "$wl"
stop_mirror
echo "mirror_kill: $KILLS kills, stamps $first..$final, never a partial batch"
