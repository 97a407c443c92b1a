# The mirror dies under a running WiredTiger primary and comes back: the
# 4-thread crash workload through the extension (sync mode, fsync per
# commit, checkpoints every second, 1 MB log files with archiving) runs
# while its mirror is SIGKILLed and restarted on the same directory and
# port, MOJIM_RESTARTS times per policy (default 10, times MOJIM_SOAK):
#   block:   commits stall while the mirror is away and resume when it is
#            back (held batches resent); no commit fails;
#   degrade: commits go on with local flushes while it is away; when it is
#            back one catch-up batch (or a full copy) repairs its copy.
# After each restart the primary must reconnect and commit again (bounded
# waits). At the end the workload stops and closes cleanly, the mirror is
# stopped, and stock WiredTiger's dump of every table of the mirror's copy
# equals the primary's (reopened through the extension), which holds every
# commit the workload reported (crash_check.awk, strict).
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
CHECK=$(dirname "$0")/crash_check.awk
RESTARTS=$(soak "${MOJIM_RESTARTS:-10}")

# count PATTERN FILE...: lines matching in all the files (0 if none).
count() { cat "${@:2}" | grep -c -- "$1" || true; }
commits() { count '^C ' "$1"; }

# pause LO HI: a random pause of LO to HI milliseconds.
pause() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

# wait_more PID PATTERN N SECONDS FILE...: until more than N lines match
# (the workload goes on), bounded. Prints how long it took, in ms.
wait_more() {
	local t0 i
	t0=$(now_s)
	for i in $(seq 1 $(($4 * 50))); do
		if [ "$(count "$2" "${@:5}")" -gt "$3" ]; then
			ms_between "$t0" "$(now_s)"
			return 0
		fi
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

run_policy() { # POLICY
	local pol=$1 m=$T/m-$1 p=$T/p-$1 r=$T/$1
	start_mirror "$m" 0 --log-size 16M
	local port=$MIRROR_PORT
	mkdir "$p"
	local ext
	ext=$(ext_config sync "$MIRROR_ADDR" "policy=$pol")
	# Stops by itself after 300 s at the latest; the test ends it earlier
	# through the stop file, cleanly.
	WT_WORKLOAD_STOP_FILE=$r.stop "$W" crash "$p" "$ext" 300 >"$r.report" \
		2>"$r-primary.log" &
	local pid=$!
	STARTED_PIDS+=("$pid")
	# libmojim's messages: on stdout (WiredTiger's message stream) from a
	# thread inside WiredTiger, on stderr from libmojim's own threads
	local msgs=("$r.report" "$r-primary.log")
	wait_ready "$pid" "$r.report" || fail "$pol: the workload did not start"
	local i c0 c1 down_commits=0 ms back=() resume=() back_n
	for i in $(seq 1 "$RESTARTS"); do
		# commits flow before each kill (bounded), then a random moment
		wait_more "$pid" '^C ' "$(commits "$r.report")" 30 "$r.report" >/dev/null ||
			fail "$pol #$i: no commit before the kill"
		pause 100 600
		back_n=$(count 'is back (it holds' "${msgs[@]}")
		kill_mirror
		pause 100 100 # commits acknowledged before the kill get reported
		c0=$(commits "$r.report")
		pause 200 700
		c1=$(commits "$r.report")
		down_commits=$((down_commits + c1 - c0))
		start_mirror "$m" "$port" --log-size 16M
		# the primary redials, is taken back, and commits again
		ms=$(wait_more "$pid" 'is back (it holds' "$back_n" 30 "${msgs[@]}") ||
			fail "$pol #$i: the primary did not reconnect within 30 s"
		back+=("$ms")
		ms=$(wait_more "$pid" '^C ' "$(commits "$r.report")" 30 "$r.report") ||
			fail "$pol #$i: no commit within 30 s after the mirror came back"
		resume+=("$ms")
	done
	# a little more streaming after the last return, then a clean stop
	pause 300 300
	touch "$r.stop"
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$pol: the workload did not stop within 60 s"
	wait "$pid" || fail "$pol: the workload failed (a commit failed?): $(tail -3 "$r-primary.log")"
	local total
	total=$(sed -n 's/^commits //p' "$r.report")
	[ "${total:-0}" -gt 0 ] || fail "$pol: no commits"
	local seq
	seq=$(mirror_status "$m" seq_durable)
	wait_applied "$m" "$seq"
	stop_mirror
	timeout 120 "$W" dump "$m/data" "log=(enabled)" "$r-replica.dump" >/dev/null \
		2>"$r-rd.log" || fail "$pol: stock WiredTiger cannot open/verify the mirror's copy"
	timeout 120 "$W" dump "$p" "$(ext_unreplicated)" "$r-primary.dump" >/dev/null \
		2>"$r-pd.log" || fail "$pol: the primary does not reopen/verify"
	cmp -s "$r-primary.dump" "$r-replica.dump" ||
		fail "$pol: the mirror's copy differs from the primary:" \
			"$(diff "$r-primary.dump" "$r-replica.dump" | head -4)"
	local out
	out=$(awk -v strict=1 -f "$CHECK" "$r.report" "$r-primary.dump" 2>&1) ||
		fail "$pol: the primary lost reported commits: $(head -5 <<<"$out")"
	[[ $out == *"in-flight-present 0" ]] || fail "$pol: in flight after a clean close: $out"
	local lost catchups copies
	lost=$(count 'lost: sync points wait\|DEGRADED' "${msgs[@]}")
	catchups=$(count 'one catch-up batch' "${msgs[@]}")
	copies=$(count 'full copy to .* done' "${msgs[@]}")
	[ "$lost" -ge "$RESTARTS" ] || fail "$pol: the primary noticed only $lost of $RESTARTS losses"
	if [ "$pol" = block ]; then
		# it stalled: only a transaction that wrote nothing (removes of
		# absent keys) may commit without the mirror
		[ "$down_commits" -le "$RESTARTS" ] ||
			fail "block: $down_commits commits while the mirror was away"
	else
		# it went on while the mirror was away, and was repaired each time
		[ "$down_commits" -gt $((RESTARTS * 10)) ] ||
			fail "degrade: only $down_commits commits while the mirror was away"
		[ $((catchups + copies)) -ge "$RESTARTS" ] ||
			fail "degrade: $catchups catch-ups and $copies full copies for $RESTARTS returns"
	fi
	note "$pol: $RESTARTS restarts, $total commits, $(wc -l <"$r-replica.dump") rows" \
		"identical; $down_commits commits while the mirror was away;" \
		"catch-ups $catchups, full copies $copies"
	note "$pol: mirror restarted -> primary back (ms): $(median_max "${back[@]}");" \
		"-> next commit (ms): $(median_max "${resume[@]}")"
}

run_policy block
run_policy degrade
echo "mirror_restart: passed"
