# Primary and mirror lost together: a 4-thread WiredTiger workload through
# the extension (fsync per commit), its mirror forwarding to a backup, and
# at a random moment the primary and the mirror SIGKILLed together,
# MOJIM_BACKUP_ROUNDS times (default 4, times MOJIM_SOAK) per setting. The backup is then
# stopped, promoted offline (mojimctl promote), and its data directory,
# copied aside, opened by stock WiredTiger with recovery; every table
# verifies. With --chain every commit the workload saw returned must be
# there with its value; with the secondary threshold only (1 MiB), the
# copy must be consistent (every row holds a value its key was given: a
# prefix, up to what the backup had). Every round starts fresh.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
ROUNDS=$(soak "${MOJIM_BACKUP_ROUNDS:-4}")
W=$MOJIM_ENGINE_TOOLS/wt_workload

# round NAME STRICT MIRROR-ARGS...
round() {
	local name=$1 b=$T/$1 strict=$2 ms
	shift 2
	MIRROR_LOG=$b-b.log start_mirror "$b-b" 0 --role backup
	local bpid=$MIRROR_PID baddr=$MIRROR_ADDR
	MIRROR_LOG=$b-m.log start_mirror "$b-m" 0 --backup "$baddr" "$@"
	local mpid=$MIRROR_PID
	mkdir "$b-p"
	"$W" crash "$b-p" "$(ext_config sync "$MIRROR_ADDR")" 60 >"$b.report" \
		2>"$b-primary.log" &
	local pid=$!
	STARTED_PIDS+=("$pid")
	wait_ready "$pid" "$b.report" || fail "$name: the workload did not start"
	ms=$((300 + RANDOM % 1201))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -0 "$pid" 2>/dev/null || fail "$name: the workload died before the kill"
	kill -KILL "$pid" "$mpid"
	wait "$pid" "$mpid" 2>/dev/null || true
	sleep 0.3 # what was on its way to the backup gets there
	kill -TERM "$bpid" && wait "$bpid" 2>/dev/null || true
	"$MOJIM_BIN/mojimctl" --dir "$b-b" promote >"$b-promote.out" 2>&1 ||
		fail "$name: promoting the backup failed: $(cat "$b-promote.out")"
	cp -a "$b-b/data" "$b-copy"
	[ -z "$(tail -c1 "$b.report")" ] || sed -i '$d' "$b.report"
	timeout 120 "$W" dump "$b-copy" "log=(enabled)" "$b.dump" >/dev/null \
		2>"$b-replica.log" ||
		fail "$name: stock WiredTiger cannot recover/verify the promoted backup"
	local out
	out=$(awk -v strict="$strict" -f "$(dirname "$0")/crash_check.awk" \
		"$b.report" "$b.dump" 2>&1) ||
		fail "$name: the promoted backup lost reported commits: $(head -5 <<<"$out")"
	local commits=${out#commits }
	commits=${commits%% *}
	[ "$commits" -gt 0 ] || fail "$name: no commit before the kill"
	TOTAL=$((TOTAL + commits))
	rm -rf "$b"-* "$b".*
}

TOTAL=0
for i in $(seq 1 "$ROUNDS"); do
	round "chain-$i" 1 --chain
done
note "chain: $ROUNDS rounds, $TOTAL reported commits, every one on the promoted backup"
TOTAL=0
for i in $(seq 1 "$ROUNDS"); do
	round "thresh-$i" 0 --secondary-thresh 1M
done
note "secondary-thresh 1M: $ROUNDS rounds, the promoted backup opened, verified and was consistent ($TOTAL commits reported)"
echo "backup_loss: passed"
