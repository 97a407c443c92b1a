# `sync` never returns before the mirror's ack; `async` does. The mirror
# is frozen with SIGSTOP: sync points in sync mode must stall until
# SIGCONT, those in async mode must keep completing.
. "$(dirname "$0")/lib.sh"

acks() { sed -n 's/^acked //p' "$1" | tail -1; }

for mode in sync async; do
	m=$T/m-$mode
	start_mirror "$m" 0
	touch "$T/$mode.out" # read below before the workload may have opened it
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p-$mode" --mirror "$MIRROR_ADDR" \
		--mode "$mode" --stamp --stamp-big 4096 --interval-us 1000 \
		--seconds 4 >"$T/$mode.out" 2>"$T/$mode.log" &
	wl=$!
	STARTED_PIDS+=("$wl")
	for _ in $(seq 1 100); do
		[ -n "$(acks "$T/$mode.out")" ] && break
		sleep 0.02
	done
	kill -STOP "$MIRROR_PID"
	sleep 0.2 # let a sync point that was already acked print
	before=$(acks "$T/$mode.out")
	sleep 1
	during=$(acks "$T/$mode.out")
	kill -CONT "$MIRROR_PID"
	wait "$wl" || fail "$mode workload failed: $(tail -3 "$T/$mode.log")"
	after=$(acks "$T/$mode.out")
	note "$mode: acked before stop $before, after 1 s stopped $during, at end $after"
	if [ "$mode" = sync ]; then
		[ "$during" = "$before" ] || fail "sync returned while the mirror was stopped"
		[ "$after" -gt "$during" ] || fail "sync did not resume after SIGCONT"
	else
		[ "$during" -gt "$((before + 5))" ] || fail "async waited for the stopped mirror"
	fi
	stop_mirror
done
echo "sync_async: passed"
