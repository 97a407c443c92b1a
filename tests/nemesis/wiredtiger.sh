# The nemesis, WiredTiger side: the 4-thread crash workload of
# tests/engine (wt_workload crash: log on, fsync per commit, checkpoints
# every second; every commit reported on a pipe once it returned) through
# the extension in sync mode, policy block, 2 connections, through
# mj_cutproxy to a mirror on a small tmpfs, under the seeded schedule of
# tests/nemesis/lib.sh (primary killed and restarted on its home, mirror
# killed and restarted, connections cut, promotion to a new empty mirror,
# the mirror's file system full, either side stopped). After every fault
# the oracle takes the mirror's copy (the primary stopped, the mirror done
# applying): stock WiredTiger must open it with recovery, verify every
# table, and find every commit reported as returned (crash_check.awk,
# strict). When the primary dies its own files are checked the same way,
# and so is a promoted copy; they are the next generation's baseline. At
# the end the primary closes cleanly and its dump equals the mirror's.
# MOJIM_NEMESIS_STEPS (default 12) times MOJIM_SOAK steps.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
CHECK=$(dirname "$0")/../engine/crash_check.awk
STEPS=$(soak "${MOJIM_NEMESIS_STEPS:-12}")
HOME_DIR=$T/home
mkdir "$HOME_DIR"
: >"$T/base.report" # generation 0 starts empty
WGEN=0
COMMITS=0 # reported commits checked, over all checks
export WT_WORKLOAD_STOP_FILE=$T/stop # the clean end (wt_workload.c)

wl_start() {
	WGEN=$((WGEN + 1))
	local ext
	ext=$(ext_config sync "$PROXY_ADDR" policy=block,connections=2)
	: >"$T/gen$WGEN.report"
	"$W" crash "$HOME_DIR" "$ext" 3600 >"$T/gen$WGEN.report" \
		2>>"$T/primary.log" &
	WL_PID=$!
	STARTED_PIDS+=("$WL_PID")
	wait_ready "$WL_PID" "$T/gen$WGEN.report" ||
		fail "the primary did not start: $(tail -3 "$T/primary.log")"
}

wl_pid() { echo "$WL_PID"; }
wl_alive() { kill -0 "$WL_PID" 2>/dev/null; }

wl_stop_primary() {
	kill -KILL "$WL_PID" 2>/dev/null || true
	wait "$WL_PID" 2>/dev/null || true
}

# expected: the baseline and this generation's reports (a line the kill
# or the stop cut short was not reported).
expected() {
	cat "$T/base.report" "$T/gen$WGEN.report" >"$T/expect"
	[ -z "$(tail -c1 "$T/expect")" ] || sed -i '$d' "$T/expect"
}

# check_home DIR WHY: stock WiredTiger opens DIR (a copy), verifies it,
# and it holds every reported commit. Its dump is left in $T/check.dump.
check_home() {
	timeout 120 "$W" dump "$1" "log=(enabled)" "$T/check.dump" >/dev/null \
		2>"$T/check.log" ||
		fail "$2: stock WiredTiger cannot open or verify the copy: $(tail -2 "$T/check.log")"
	local out
	out=$(awk -v strict=1 -f "$CHECK" "$T/expect" "$T/check.dump" 2>&1) ||
		fail "$2: the copy lost reported commits: $(head -3 <<<"$out")"
	out=${out#commits }
	COMMITS=$((COMMITS + ${out%% *}))
}

wl_snapshot_begins() { expected; }

wl_check() {
	snapshot_mirror "$T/check"
	check_home "$T/check" "$1: the mirror's copy"
}

# The next generation starts from DIR: it must hold every reported commit;
# its rows are the next baseline (the keys are per thread, the same in
# every generation, so later commits simply override them).
wl_rebase() {
	expected
	rm -rf "$T/rebase"
	cp -a "$2" "$T/rebase"
	check_home "$T/rebase" "$1"
	awk -F'\t' '{ print "P b 1 " $1 " " $2 " " $3 } END { print "C b 1" }' \
		"$T/check.dump" >"$T/base.report"
}

mirror_up new
proxy_up 0
wl_start
run_schedule "$STEPS"
# The end: a clean close, then the primary's and the mirror's dumps agree.
wl_alive || fail "the primary died before the end"
touch "$T/stop"
wait_gone "$WL_PID" 60 || fail "the primary did not stop within 60 s"
wait "$WL_PID" || fail "the primary did not close cleanly: $(tail -3 "$T/primary.log")"
snapshot_mirror "$T/check"
check_home "$T/check" "the end: the mirror's copy"
cp "$T/check.dump" "$T/mirror.dump"
timeout 120 "$W" dump "$HOME_DIR" "$(ext_unreplicated)" "$T/primary.dump" \
	>/dev/null 2>"$T/pd.log" || fail "the end: the primary does not reopen"
cmp -s "$T/primary.dump" "$T/mirror.dump" ||
	fail "the end: the mirror's copy differs from the primary: $(diff "$T/primary.dump" "$T/mirror.dump" | head -3)"
note "$(summary); $COMMITS reported commits checked over $WGEN generations"
echo "nemesis wiredtiger: passed"
