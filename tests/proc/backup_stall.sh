# The paper's stall (--secondary-thresh): a backup behind a slow link
# (mj_cutproxy --rate-kbps 8000, 1 MB/s) and a primary writing as fast as
# it can. The mirror holds acks back while the backup lags more than the
# threshold (2 MiB here, in a 16 MiB log): sampled every 50 ms, the log
# must never hold much more than the threshold (one batch in flight per
# connection beyond it), the mirror must say it stalled (stalls,
# stalled_ms), and once the primary stops the backlog drains to nothing,
# the stall ends, and the backup's replica equals the primary's. With the
# bound at 0 (no stall) and a slower link, a fixed workload must fill the
# log far past it, so the sampling can see the difference. 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

THRESH=$((2 << 20))
# sample_fill: the mirror in MDIR's log fill now, kept in MAXUSED if it
# is the largest seen; SEEN_STALLING counts samples naming the backup.
sample_fill() {
	local st used
	st=$("$MOJIM_BIN/mojimctl" --dir "$MDIR" status)
	used=$(sed -n 's/^log_fill: \([0-9]*\)\/.*/\1/p' <<<"$st")
	[ "${used:-0}" -gt "$MAXUSED" ] && MAXUSED=$used
	grep -q "^backup .*, stalling 1," <<<"$st" && SEEN_STALLING=$((SEEN_STALLING + 1))
	return 0
}
# run NAME THRESH KBPS DRAIN WORKLOAD-ARGS...: the workload against a
# fresh backup (behind a KBPS link) and mirror; the largest log fill seen
# in MAXUSED, the mirror's dir in MDIR. DRAIN 1: then the backlog must
# drain and the backup equal the primary.
run() {
	local name=$1 thresh=$2 kbps=$3 drain=$4
	shift 4
	start_mirror "$T/b-$name" 0 --role backup --log-size 16M
	local bpid=$MIRROR_PID
	start_cutproxy "$T/px-$name.out" "$T/px-$name.log" --to "$MIRROR_ADDR" \
		--cuts 0 --rate-kbps "$kbps"
	start_mirror "$T/m-$name" 0 --log-size 16M --backup "$PROXY_ADDR" \
		--backup-timeout-ms 10000 --secondary-thresh "$thresh"
	local mpid=$MIRROR_PID
	MDIR=$T/m-$name
	"$MOJIM_TOOLS/mj_workload" --dir "$T/p-$name" --mirror "$MIRROR_ADDR" \
		--mode sync --threads 2 --connections 2 --seed 3 \
		--block-timeout-ms 60000 "$@" >"$T/w-$name.out" 2>"$T/w-$name.log" &
	local wl=$! used
	MAXUSED=0
	SEEN_STALLING=0
	while kill -0 "$wl" 2>/dev/null; do
		sample_fill
		sleep 0.05
	done
	wait "$wl" || fail "$name: the workload failed: $(tail -3 "$T/w-$name.log")"
	# Once more after the last write: a fast machine may finish the
	# workload between two samples, and undrained the fill is then at
	# its peak (CI saw 3.7 MB sampled of a 9 MB backlog).
	sample_fill
	SEQ=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	STALLS=$(mirror_status "$MDIR" stalls)
	STALLED_MS=$(mirror_status "$MDIR" stalled_ms)
	if [ "$drain" = 0 ]; then
		kill -TERM "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
		wait "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
		return
	fi
	wait_applied "$T/b-$name" "$SEQ"
	same_tree "$T/p-$name" "$T/b-$name/data"
	local i
	for i in $(seq 1 100); do
		used=$("$MOJIM_BIN/mojimctl" --dir "$MDIR" status | sed -n 's/^log_fill: \([0-9]*\)\/.*/\1/p')
		[ "$used" -eq 0 ] && [ "$(mirror_status "$MDIR" stalling)" = 0 ] && break
		sleep 0.05
	done
	[ "$used" -eq 0 ] || fail "$name: the backlog did not drain ($used bytes)"
	[ "$(mirror_status "$MDIR" stalling)" = 0 ] || fail "$name: still stalling after the drain"
	kill -TERM "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
	wait "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
}

run bounded "$THRESH" 8000 1 --seconds 3
BOUND_USED=$MAXUSED
note "bounded: $SEQ batches, log fill at most $MAXUSED bytes (threshold $THRESH), $STALLS stalls, $STALLED_MS ms stalled, the backup named as stalling in $SEEN_STALLING samples; drained, the backup equals the primary"
[ "$STALLS" -gt 0 ] || fail "the mirror never stalled behind a 1 MB/s backup"
[ "$SEEN_STALLING" -gt 0 ] || fail "status never named the backup that stalls the tier"
# Beyond the threshold: at most a batch per connection in flight, each
# well under 1 MiB here (the workload's sync points are small).
[ "$BOUND_USED" -le $((THRESH + (2 << 20))) ] ||
	fail "the log held $BOUND_USED bytes, past the threshold $THRESH"

# Without the bound, a slower link (0.25 MB/s) and a fixed 9 MB or so, so
# that however slowly a loaded machine writes them the backlog passes the
# bound by far (it is not drained: only its peak counts).
run unbounded 0 2000 0 --ops 500
note "unbounded: $SEQ batches, log fill at most $MAXUSED bytes, $STALLS stalls"
[ "$STALLS" -eq 0 ] || fail "stalls without a threshold"
[ "$MAXUSED" -gt $((THRESH + (2 << 20))) ] ||
	fail "without the bound the log never passed it ($MAXUSED): the check cannot fail"
# A stall longer than the primary's ack timeout is not a lost mirror: the
# mirror sends HOLD frames while an ack waits for the backups. 1 MiB
# stamp batches over a 1 MB/s link, a 256 KiB threshold: each ack waits
# for about 0.75 s of draining, the primary's ack timeout is 400 ms, and
# the primary must neither fail nor reconnect.
start_mirror "$T/b-held" 0 --role backup --log-size 16M
bpid=$MIRROR_PID
start_cutproxy "$T/px-held.out" "$T/px-held.log" --to "$MIRROR_ADDR" \
	--cuts 0 --rate-kbps 8000
start_mirror "$T/m-held" 0 --log-size 16M --backup "$PROXY_ADDR" \
	--backup-timeout-ms 10000 --secondary-thresh 256K
mpid=$MIRROR_PID
"$MOJIM_TOOLS/mj_workload" --dir "$T/p-held" --mirror "$MIRROR_ADDR" \
	--mode sync --connections 1 --stamp --stamp-big 1048576 --ops 3 \
	--ack-timeout-ms 400 --block-timeout-ms 60000 \
	>"$T/w-held.out" 2>"$T/w-held.log" ||
	fail "held: the workload failed: $(tail -3 "$T/w-held.log")"
STALLS=$(mirror_status "$T/m-held" stalls)
STALLED_MS=$(mirror_status "$T/m-held" stalled_ms)
HELLOS=$(grep -c ": hello epoch" "$T/m-held.log" || true)
kill -TERM "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
wait "$mpid" "$bpid" "$PROXY_PID" 2>/dev/null || true
note "held: $STALLS stalls, $STALLED_MS ms stalled, $HELLOS connection(s) from the primary (ack timeout 400 ms)"
[ "$STALLS" -gt 0 ] && [ "$STALLED_MS" -gt $((STALLS * 400)) ] ||
	fail "held: no stall longer than the ack timeout ($STALLS, $STALLED_MS ms): the check cannot fail"
[ "$HELLOS" -eq 1 ] || fail "held: the primary reconnected ($HELLOS hellos) during a stall"
! grep -q "lost" "$T/w-held.log" ||
	fail "held: the primary took the stalled mirror for lost: $(grep lost "$T/w-held.log" | head -2)"
echo "backup_stall: passed"
