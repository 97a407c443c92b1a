# The secondary tier's first step (forward.c): a mirror started with
# --backup forwards every batch, in sequence order, to a backup (a
# mojim-mirror with --role backup), which logs and applies it as a mirror
# does. After a randomized multi-thread workload (writes, creates, resizes,
# renames, removes) the backup's replica must equal the primary's byte for
# byte; a backup SIGKILLed and restarted on its directory catches up from
# the mirror's log and ends equal; a backup gone longer than
# --backup-timeout-ms is reported lost and holds no log space, so the
# primary is not stalled by it; a primary that dials a backup, and a
# mirror's forwarder that dials a mirror, are refused and say why.
# Real processes, real signals, 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

W=$MOJIM_TOOLS/mj_workload
# workload NAME ARGS...: a random workload on $T/p through the mirror; the
# seq it ended at in SEQ.
workload() {
	local name=$1
	shift
	"$W" --dir "$T/p" --mirror "$MADDR" --mode sync --threads 3 \
		--connections 2 --seed "$RANDOM" "$@" >"$T/w-$name.out" \
		2>"$T/w-$name.log" || fail "$name: workload failed: $(tail -3 "$T/w-$name.log")"
	SEQ=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	[ "${SEQ:-0}" -gt 0 ] || fail "$name: no batch was sent"
}
# backup_state: the first backup's state in the mirror's status.
backup_state() {
	"$MOJIM_BIN/mojimctl" --dir "$T/m" status | sed -n 's/^backup [^ ]*: \([a-z-]*\),.*/\1/p' | head -1
}

start_mirror "$T/b" 0 --role backup --heartbeat-timeout-ms 1000
BPID=$MIRROR_PID
BPORT=$MIRROR_PORT
BADDR=$MIRROR_ADDR
[ "$(mirror_status "$T/b" role)" = backup ] || fail "the backup's status does not say backup"

# A primary is refused by a backup, and says why.
rc=0
timeout 30 "$MOJIM_TOOLS/mj_primary" --dir "$T/stray" --mirror "$BADDR" \
	--policy block --connections 1 --write a:x --sync >/dev/null \
	2>"$T/stray.out" || rc=$?
[ "$rc" -ne 0 ] || fail "a primary was served by a backup"
grep -q "this is a backup" "$T/stray.out" || fail "the primary was not told: $(cat "$T/stray.out")"

start_mirror "$T/m" 0 --backup "$BADDR" --backup-timeout-ms 3000
MPID=$MIRROR_PID
MADDR=$MIRROR_ADDR
workload first --ops 3000
wait_applied "$T/m" "$SEQ"
wait_applied "$T/b" "$SEQ"
same_tree "$T/p" "$T/b/data"
[ "$(backup_state)" = live ] || fail "the backup is not live: $("$MOJIM_BIN/mojimctl" --dir "$T/m" status | grep backup)"
note "first: $SEQ batches forwarded, the backup's replica equals the primary's"
# Idle longer than the backup's heartbeat timeout and the mirror's backup
# timeout: heartbeats keep it live (without them the next batch found the
# link closed and the backup lost).
sleep 3.5
[ "$(backup_state)" = live ] || fail "an idle backup is not live: $("$MOJIM_BIN/mojimctl" --dir "$T/m" status | grep backup)"

# SIGKILL the backup mid-stream, restart it on its directory: it catches
# up from the mirror's log (its timeout is not reached).
workload kill --seconds 3 &
wl=$!
sleep 0.7
kill -KILL "$BPID"
wait "$BPID" 2>/dev/null || true
sleep 0.3
start_mirror "$T/b" "$BPORT" --role backup --heartbeat-timeout-ms 1000
BPID=$MIRROR_PID
wait "$wl" || fail "the workload failed while the backup restarted"
before=$SEQ
SEQ=$(sed -n 's/^seq_sent //p' "$T/w-kill.out") # it ran in a subshell
[ "${SEQ:-0}" -gt "$before" ] || fail "kill: no batch while the backup restarted"
wait_applied "$T/m" "$SEQ"
wait_applied "$T/b" "$SEQ"
same_tree "$T/p" "$T/b/data"
note "kill: the restarted backup caught up to $SEQ and equals the primary"

# Gone longer than its timeout: lost, loudly, and the primary goes on.
kill -KILL "$BPID"
wait "$BPID" 2>/dev/null || true
t0=$(now_s)
workload lost --seconds 5 --block-timeout-ms 60000
t1=$(now_s)
wait_applied "$T/m" "$SEQ"
[ "$(backup_state)" = lost ] || fail "the backup is not reported lost: $("$MOJIM_BIN/mojimctl" --dir "$T/m" status | grep backup)"
grep -q "backup $BADDR LOST" "$T/m.log" || fail "the mirror did not log the loss"
used=$("$MOJIM_BIN/mojimctl" --dir "$T/m" status | sed -n 's/^log_fill: \([0-9]*\)\/.*/\1/p')
[ "$used" -eq 0 ] || fail "the lost backup still holds $used log bytes"
note "lost: the primary went on ($SEQ batches in $(ms_between "$t0" "$t1") ms), the mirror says lost, its log is empty"

# Back after being lost: what it missed is gone from the log, so it gets a
# full copy of the mirror's replica, then batches again.
start_mirror "$T/b" "$BPORT" --role backup --heartbeat-timeout-ms 1000
BPID=$MIRROR_PID
workload after-copy --ops 500
wait_applied "$T/m" "$SEQ"
wait_applied "$T/b" "$SEQ"
same_tree "$T/p" "$T/b/data"
[ "$(backup_state)" = live ] || fail "the copied backup is not live"
copies=$("$MOJIM_BIN/mojimctl" --dir "$T/m" status | sed -n 's/^backup .* copies \([0-9]*\).*/\1/p')
[ "${copies:-0}" -ge 1 ] || fail "the returning backup got no full copy"
grep -q "backup $BADDR: full copy at batch [0-9]* done" "$T/m.log" ||
	fail "the mirror did not log the copy"
# The copy's COPY_BEGIN told the backup how much was coming (its progress).
announced=$(sed -n 's/.*full copy starting: \([0-9]*\) bytes.*/\1/p' "$T/b.log" | tail -1)
[ "${announced:-0}" -gt 0 ] || fail "the backup was told a copy of ${announced:-no} bytes"
note "back: a full copy, then batches up to $SEQ; the backup equals the primary"

# A backup that answers but refuses every batch (its --max-file-size is
# below the workload's files) makes no progress: it is lost after the
# timeout like a silent one, and stalls nothing.
start_mirror "$T/b5" 0 --role backup --max-file-size 4K
B5ADDR=$MIRROR_ADDR
start_mirror "$T/m5" 0 --backup "$B5ADDR" --backup-timeout-ms 1000 --chain
M5PID=$MIRROR_PID
MADDR=$MIRROR_ADDR
rm -rf "$T/p"
workload refusing --seconds 3 --block-timeout-ms 60000
for i in $(seq 1 100); do
	grep -q "backup $B5ADDR LOST" "$T/m5.log" && break
	sleep 0.05
done
grep -q "backup $B5ADDR LOST" "$T/m5.log" ||
	fail "a backup refusing every batch was never declared lost: $(grep backup "$T/m5.log" | tail -3)"
note "refusing: the backup was lost after its timeout, the chained primary went on ($SEQ batches)"

# A promoted mirror feeds nobody: its replica is a primary's home now
# (the lost backup above was being offered copies it refuses until then).
"$MOJIM_BIN/mojimctl" --dir "$T/m5" promote --force >"$T/promote5.out" 2>&1 ||
	fail "promote: $(cat "$T/promote5.out")"
copies0=$(grep -c "full copy of the replica" "$T/m5.log" || true)
sleep 2.5 # longer than the longest backoff between two tries (2 s)
copies1=$(grep -c "full copy of the replica" "$T/m5.log" || true)
[ "$copies1" -eq "$copies0" ] ||
	fail "a promoted mirror went on copying its replica to a backup ($copies0 -> $copies1)"

# A forwarder that reaches a mirror, not a backup, is refused.
start_mirror "$T/m2" 0
M2ADDR=$MIRROR_ADDR
start_mirror "$T/m3" 0 --backup "$M2ADDR"
MADDR=$MIRROR_ADDR
rm -rf "$T/p"
workload wrong --ops 50
for i in $(seq 1 100); do
	grep -q "this is a mirror, not a backup" "$T/m3.log" && break
	sleep 0.05
done
grep -q "this is a mirror, not a backup" "$T/m3.log" ||
	fail "a forwarder that reached a mirror was not told why: $(tail -3 "$T/m3.log")"
echo "backup: passed"
