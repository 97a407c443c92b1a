# Failover, chained: a primary (the 4-thread WiredTiger crash workload
# through the extension: log on, fsync per commit, checkpoints every
# second, sync mode, policy block) is SIGKILLed at a random moment; its
# mirror, still running, is promoted online (`mojimctl promote`: refused
# without --force, the dead primary was heard a moment ago; then --force);
# the promoted copy is opened in place through the extension (unreplicated)
# with recovery, every table verifies, and every commit the workload
# reported as returned before the kill is there (crash_check.awk, strict).
# That copy is the next primary: it opens through the extension pointed at
# a new, empty mirror (a full copy inside wiredtiger_open, then the
# stream), runs the workload, is killed, its mirror promoted, and so on,
# MOJIM_FAILOVERS times (default 30, times MOJIM_SOAK). Each generation's
# expected rows are the previous verified copy plus the new commits. At the
# end the last promoted copy serves once more, cleanly, to a new mirror,
# which is stopped and whose copy stock WiredTiger opens with every row.
# Printed: the time from `promote --force` to wiredtiger_open returning on
# the promoted copy, and the new primary's open time (with the full copy).
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
CHECK=$(dirname "$0")/crash_check.awk
CTL=$MOJIM_BIN/mojimctl
FAILOVERS=$(soak "${MOJIM_FAILOVERS:-30}")
UNREP=$(ext_unreplicated)

# A random pause of 0.15 to 0.9 s: kills land in commits, checkpoints, log
# switches and archiving alike.
random_sleep() {
	local ms=$((150 + RANDOM % 751))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

# open_ms LOG: the "returned in MS ms" of wt_workload's last open.
open_ms() { sed -n 's/.*wiredtiger_open returned in \([0-9.]*\) ms.*/\1/p' "$1" | tail -1; }
# open_at LOG: the wall-clock moment it returned.
open_at() { sed -n 's/.*wiredtiger_open returned in .* at \([0-9.]*\)$/\1/p' "$1" | tail -1; }

# as_report DUMP: a verified dump as one committed transaction of a thread
# "b", so crash_check.awk expects those rows unless a later commit changed
# them (the workload's keys are per thread, the same in every generation).
as_report() {
	awk -F'\t' '{ print "P b 1 " $1 " " $2 " " $3 } END { print "C b 1" }' "$1"
}

PROMOTE_MS=()   # promote --force started -> wiredtiger_open returned
NEWPRIM_MS=()   # the new primary's wiredtiger_open (full copy included)
TOTAL=0
INFLIGHT=0
home=$T/p0
mkdir "$home"
: >"$T/base.report" # generation 0 starts empty

# one_failover I: the primary in $home dies, its mirror is promoted and
# checked; $home becomes the promoted copy.
one_failover() {
	local i=$1 b=$T/g$1
	start_mirror "$b-m" 0 --log-size 16M
	local ext
	ext=$(ext_config sync "$MIRROR_ADDR" policy=block)
	# Started directly, not under timeout(1): the SIGKILL must hit the
	# workload itself (it stops on its own after 60 s at the latest).
	"$W" crash "$home" "$ext" 60 >"$b.report" 2>"$b-primary.log" &
	local pid=$!
	STARTED_PIDS+=("$pid")
	wait_ready "$pid" "$b.report" || fail "#$i: the workload did not start"
	[ "$i" -eq 1 ] || NEWPRIM_MS+=("$(open_ms "$b-primary.log")")
	random_sleep
	kill -0 "$pid" 2>/dev/null || fail "#$i: the workload died before the kill"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	# The primary was heard within the mirror's heartbeat window: an
	# operator's plain promote must be refused (exit 4), not split-brain.
	local rc=0
	"$CTL" --dir "$b-m" promote >"$b-refused.out" 2>&1 || rc=$?
	[ "$rc" -eq 4 ] || fail "#$i: promote without --force gave $rc: $(cat "$b-refused.out")"
	local t0 out
	t0=$(now_s)
	out=$("$CTL" --dir "$b-m" promote --force 2>&1) ||
		fail "#$i: promote --force failed: $out"
	[[ $out == "promoted: epoch $((i + 1)),"* ]] ||
		fail "#$i: promoted to an unexpected epoch: $out"
	# The promoted mirror keeps running (it refuses every primary); the
	# new primary opens the copy in place meanwhile, as in a real failover.
	timeout 120 "$W" dump "$b-m/data" "$UNREP" "$b.dump" >/dev/null \
		2>"$b-replica.log" ||
		fail "#$i: the promoted copy does not recover/verify through the extension"
	PROMOTE_MS+=("$(ms_between "$t0" "$(open_at "$b-replica.log")")")
	kill -0 "$MIRROR_PID" 2>/dev/null || fail "#$i: the promoted mirror exited"
	stop_mirror
	grep -q '^epoch '"$((i + 1))"'$' "$b-m/data/.mojim-node" ||
		fail "#$i: the promoted copy's node file: $(tr '\n' ' ' <"$b-m/data/.mojim-node")"
	# a line the kill cut short was not reported
	[ -z "$(tail -c1 "$b.report")" ] || sed -i '$d' "$b.report"
	cat "$T/base.report" "$b.report" >"$b.expect"
	out=$(awk -v strict=1 -f "$CHECK" "$b.expect" "$b.dump" 2>&1) ||
		fail "#$i: the promoted copy lost reported commits: $(head -5 <<<"$out")"
	local commits=${out#commits }
	commits=$((${commits%% *} - 1)) # without the baseline's
	[ "$commits" -gt 0 ] || fail "#$i: no commit before the kill"
	TOTAL=$((TOTAL + commits))
	[[ $out == *"in-flight-present 0" ]] || INFLIGHT=$((INFLIGHT + 1))
	as_report "$b.dump" >"$T/base.report"
	# the old home (a promoted mirror's directory from #2 on) is done with
	rm -rf "${home%/data}" "$b.report" "$b.expect" "$b.dump" "$b"-*.log \
		"$b"-*.out "$b-m.log"
	home=$b-m/data
}

for i in $(seq 1 "$FAILOVERS"); do
	one_failover "$i"
done
note "$FAILOVERS failovers, $TOTAL reported commits checked" \
	"($INFLIGHT times an unreported in-flight commit was there too)"
note "promote --force -> wiredtiger_open returned on the promoted copy (ms):" \
	"$(median_max "${PROMOTE_MS[@]}")"
note "the promoted copy's wiredtiger_open as a new primary, full copy to an" \
	"empty mirror included (ms): $(median_max "${NEWPRIM_MS[@]}")"

# The last promoted copy serves a new, empty mirror once more and closes
# cleanly; stock WiredTiger opens that mirror's copy with every row.
b=$T/last
start_mirror "$b-m" 0
ext=$(ext_config sync "$MIRROR_ADDR" policy=block)
timeout 120 "$W" crash "$home" "$ext" 1 >"$b.report" 2>"$b-primary.log" ||
	fail "last: the promoted copy did not serve as a primary"
grep -q "full copy to $MIRROR_ADDR done" "$b.report" "$b-primary.log" ||
	fail "last: no full copy to the new mirror"
stop_mirror
timeout 120 "$W" dump "$b-m/data" "log=(enabled)" "$b.dump" >/dev/null \
	2>"$b-replica.log" || fail "last: stock WiredTiger cannot open/verify the new mirror's copy"
cat "$T/base.report" "$b.report" >"$b.expect"
out=$(awk -v strict=1 -f "$CHECK" "$b.expect" "$b.dump" 2>&1) ||
	fail "last: the new mirror's copy lacks rows: $(head -5 <<<"$out")"
[[ $out == *"in-flight-present 0" ]] || fail "last: a transaction in flight after a clean close: $out"
timeout 120 "$W" dump "$home" "$UNREP" "$b-primary.dump" >/dev/null 2>"$b-pd.log" ||
	fail "last: the primary does not reopen"
cmp -s "$b-primary.dump" "$b.dump" ||
	fail "last: the new mirror's copy differs: $(diff "$b-primary.dump" "$b.dump" | head -4)"
n=${out#commits }
note "last: $((${n%% *} - 1)) more commits through a full copy;" \
	"$(wc -l <"$b.dump") rows in stock WiredTiger"
echo "failover: passed"
