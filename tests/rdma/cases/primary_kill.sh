# The primary SIGKILLed mid-stream, again and again (called by
# rdma/failures.sh, over whatever MOJIM_TRANSPORT says): one-sided writes
# of its last frames may be half done in the mirror's log when it dies.
# Each new life opens the region again (the restart rule: after a process
# crash the local files are the truth, and the mirror gets them in full
# before the first sync point returns) and stamps on from what its files
# hold. After each kill the mirror is stopped (it applies what is
# complete) and its replica must hold one stamp in every slot (no partly
# applied batch) and at least the last stamp acknowledged to the dead
# life. KILLS lives (MOJIM_PRIMARY_KILLS, default 4).
. "$(dirname "$0")/../../proc/lib.sh"
KILLS=${MOJIM_PRIMARY_KILLS:-4}
m=$T/m
start_mirror "$m" 0 --slot-size 64K --log-size 4M
port=$MIRROR_PORT
first="" acked=""
for i in $(seq 1 "$KILLS"); do
	out=$T/acks.$i
	: >"$out"
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p" --mirror "$MIRROR_ADDR" \
		--mode sync --policy block --block-timeout-ms 60000 --stamp \
		--stamp-big 1048576 --seconds 600 >"$out" 2>>"$T/workload.log" &
	wl=$!
	STARTED_PIDS+=("$wl")
	# Some batches of this life acknowledged (bounded), then a random moment.
	for _ in $(seq 1 400); do
		[ "$(grep -c '^acked ' "$out")" -ge 3 ] && break
		kill -0 "$wl" 2>/dev/null ||
			fail "life $i: the workload died: $(tail -3 "$T/workload.log")"
		sleep 0.05
	done
	[ "$(grep -c '^acked ' "$out")" -ge 3 ] ||
		fail "life $i: fewer than 3 sync points acknowledged in 20 s"
	sleep "0.0$((RANDOM % 9 + 1))"
	kill -KILL "$wl"
	wait "$wl" 2>/dev/null || true
	acked=$(sed -n 's/^acked //p' "$out" | tail -1)
	[ -n "$first" ] || first=$acked
	stop_mirror
	got=$("$MOJIM_TOOLS/mj_workload" --check-stamps "$m/data" \
		--stamp-big 1048576) || fail "kill $i: partly applied batch: $got"
	stamp=${got#stamp }
	[ "$stamp" -ge "$acked" ] ||
		fail "kill $i: replica at stamp $stamp but $acked was acknowledged"
	start_mirror "$m" "$port" --slot-size 64K --log-size 4M
done
[ "$acked" -gt "$first" ] || fail "no progress across the primary's lives"
stop_mirror
echo "primary_kill: $KILLS kills mid-stream, stamps $first..$acked, never a partial batch, every ack kept"
