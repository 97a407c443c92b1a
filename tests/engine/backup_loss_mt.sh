# Primary and mirror lost together: a 4-thread WiredTiger workload through
# the extension (fsync per commit), its mirror forwarding to a backup, and
# at a random moment the primary and the mirror SIGKILLed together. The
# backup is then stopped, promoted offline (mojimctl promote), and its data
# directory, copied aside, opened by stock WiredTiger with recovery; every
# table verifies. Every round starts fresh.
#   chain (--chain, MOJIM_CHAIN_ROUNDS, default 4): every commit the
#     workload saw returned must be there with its value;
#   threshold (--secondary-thresh 256K, the backup behind a 1 MB/s link so
#     that it lags, MOJIM_BACKUP_ROUNDS, default 20): each thread's rows
#     must be a prefix of its transactions (prefix_check.awk), and the
#     committed transactions missing must stay within what the threshold
#     allows: 256 KiB plus two batches in flight (one per connection, each
#     at most the threshold's worth here), of log records of at least 128
#     bytes (WiredTiger's log alignment): 6144. The largest loss seen is
#     reported. Both counts times MOJIM_SOAK.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
CHAIN_ROUNDS=$(soak "${MOJIM_CHAIN_ROUNDS:-4}")
ROUNDS=$(soak "${MOJIM_BACKUP_ROUNDS:-20}")
THRESH=$((256 << 10))
BOUND=$((THRESH * 3 / 128))
W=$MOJIM_ENGINE_TOOLS/wt_workload

# round NAME STRICT KBPS MIRROR-ARGS...: STRICT 1 every reported commit,
# 0 a prefix, the loss in LOST; KBPS 0: no proxy before the backup.
round() {
	local name=$1 b=$T/$1 strict=$2 kbps=$3 ms
	shift 3
	MIRROR_LOG=$b-b.log start_mirror "$b-b" 0 --role backup
	local bpid=$MIRROR_PID baddr=$MIRROR_ADDR ppid=
	if [ "$kbps" -gt 0 ]; then
		start_cutproxy "$b-px.out" "$b-px.log" --to "$baddr" --cuts 0 \
			--rate-kbps "$kbps"
		baddr=$PROXY_ADDR ppid=$PROXY_PID
	fi
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
	[ -z "$ppid" ] || { kill -TERM "$ppid" && wait "$ppid" 2>/dev/null || true; }
	kill -TERM "$bpid" && wait "$bpid" 2>/dev/null || true
	"$MOJIM_BIN/mojimctl" --dir "$b-b" promote >"$b-promote.out" 2>&1 ||
		fail "$name: promoting the backup failed: $(cat "$b-promote.out")"
	cp -a "$b-b/data" "$b-copy"
	[ -z "$(tail -c1 "$b.report")" ] || sed -i '$d' "$b.report"
	timeout 120 "$W" dump "$b-copy" "log=(enabled)" "$b.dump" >/dev/null \
		2>"$b-replica.log" ||
		fail "$name: stock WiredTiger cannot recover/verify the promoted backup"
	local out
	if [ "$strict" = 1 ]; then
		out=$(awk -v strict=1 -f "$(dirname "$0")/crash_check.awk" \
			"$b.report" "$b.dump" 2>&1) ||
			fail "$name: the promoted backup lost reported commits: $(head -5 <<<"$out")"
	else
		out=$(awk -f "$(dirname "$0")/prefix_check.awk" "$b.report" \
			"$b.dump" 2>&1) ||
			fail "$name: the promoted backup is no prefix: $(head -5 <<<"$out")"
		LOST=$(sed -n 's/.* lost \([0-9]*\) .*/\1/p' <<<"$out")
	fi
	local commits=${out#commits }
	commits=${commits%% *}
	[ "$commits" -gt 0 ] || fail "$name: no commit before the kill"
	TOTAL=$((TOTAL + commits))
	rm -rf "$b"-* "$b".*
}

TOTAL=0
for i in $(seq 1 "$CHAIN_ROUNDS"); do
	round "chain-$i" 1 0 --chain
done
note "chain: $CHAIN_ROUNDS rounds, $TOTAL reported commits, every one on the promoted backup"
TOTAL=0 WORST=0 LOSSES=""
for i in $(seq 1 "$ROUNDS"); do
	round "thresh-$i" 0 8000 --secondary-thresh "$THRESH"
	LOSSES="$LOSSES $LOST"
	[ "$LOST" -gt "$WORST" ] && WORST=$LOST
	[ "$LOST" -le "$BOUND" ] ||
		fail "thresh-$i: the promoted backup lacks $LOST committed transactions, past the bound $BOUND"
done
note "secondary-thresh $THRESH behind a 1 MB/s link: $ROUNDS rounds, each promoted backup opened, verified and was a prefix; committed transactions lost per round:$LOSSES; the largest $WORST against the bound $BOUND ($TOTAL commits reported)"
echo "backup_loss: passed"
