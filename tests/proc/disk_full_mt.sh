# Invariant 7 on a full file system: the mirror's DIR (pmem backend), and
# then only its --data-dir (--data-on-disk), on a small tmpfs, and a
# primary writing more than fits. The mirror must not crash, must mark the
# replica unhealthy (status), take and ack nothing more while it is, tell
# the primary why (REFUSE unhealthy: block stalls, degrade degrades), and
# refuse to promote, naming what would be lost. A restart and --replay-only
# retry and say so instead of crashing. Once the file system grows
# (remount) the mirror recovers by itself, the primary's batches go
# through, and the replica ends byte-identical to the primary.
. "$(dirname "$0")/lib.sh"
CTL=$MOJIM_BIN/mojimctl

# small_fs DIR: a 3 MiB tmpfs on DIR, unmounted by the exit trap.
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=3m tmpfs "$1" || fail "cannot mount a tmpfs on $1"
	CLEANUP_HOOKS+=("umount -l $1")
}

# wait_health DIR WANT SECONDS
wait_health() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(mirror_status "$1" health)" = "$2" ] && return 0
		sleep 0.1
	done
	fail "health of $1 is not $2 after $3 s: $(mirror_status "$1" health_error)"
}

# wait_log FILE PATTERN SECONDS
wait_log() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	fail "no '$2' in $1 within $3 s"
}

# workload P POLICY TIMEOUT_MS SECONDS [FILE_BYTES]: a primary with two
# files of FILE_BYTES (default 1 MiB) and its namespace churn beside them.
workload() {
	"$MOJIM_TOOLS/mj_workload" --dir "$T/$1" --mirror "$MIRROR_ADDR" \
		--mode sync --policy "$2" --block-timeout-ms "$3" --seconds "$4" \
		--connections 1 --files 2 --file-size "${5:-1048576}" --threads 2 \
		>"$T/$1.out" 2>"$T/$1.log" &
	WL=$!
	STARTED_PIDS+=("$WL")
}

# while_unhealthy M P: what must hold while the replica cannot be applied.
while_unhealthy() {
	local d1 bad rc=0
	kill -0 "$MIRROR_PID" || fail "the mirror died on a full file system"
	d1=$(mirror_status "$1" seq_durable)
	bad=$(mirror_status "$1" health_batch)
	note "unhealthy at batch $bad: $(mirror_status "$1" health_error)"
	wait_log "$T/$2.log" "mirror refused the connection: the mirror's replica is unhealthy" 10
	sleep 1
	[ "$(mirror_status "$1" seq_durable)" = "$d1" ] ||
		fail "batches were taken and acked while the replica was unhealthy"
	"$CTL" --dir "$1" promote --force >"$T/promote.out" 2>&1 || rc=$?
	[ "$rc" -eq 4 ] || fail "promote of an unhealthy replica: exit $rc"
	grep -q "would lose batches $bad\.\." "$T/promote.out" &&
		grep -q -- "--lose-from $bad" "$T/promote.out" &&
		grep -q "partly applied" "$T/promote.out" ||
		fail "the promote refusal says: $(cat "$T/promote.out")"
	note "promote refused: $(cut -c1-160 "$T/promote.out")"
}

# healed M P FS DATA [block]: grow the file system; the mirror and the
# primary recover. Under block the primary's own close delivered every
# batch: the mirror is compared before the next opening as well.
healed() {
	mount -o remount,size=64m "$3" || fail "remount"
	wait_health "$1" ok 10
	grep -q "the replica is healthy again" "$1.log" || fail "recovery not logged"
	wait_gone "$WL" 60 || fail "the primary still runs 60 s after the remount"
	wait "$WL" || fail "the primary failed: $(tail -3 "$T/$2.log")"
	if [ "${5:-}" = block ]; then
		wait_applied "$1" "$(sed -n 's/^seq_sent //p' "$T/$2.out")"
		same_tree "$T/$2" "$4"
	fi
	reopened "$1" "$2" "$4"
}

# reopened M P DATA: the primary's next opening leaves the mirror level
# with it. The close may have left that to the opening: one that finds
# the region degraded marks the mirror stale, and a copy that lands while
# it stops must not make the node file say otherwise (the copy's last
# batch would be missing, and the opening would not copy:
# test_close_resync_mt). The mirror is compared after the opening, so
# such a node file fails here.
reopened() {
	"$MOJIM_TOOLS/mj_primary" --dir "$T/$2" --mirror "$MIRROR_ADDR" --sync \
		>"$T/$2.reopen.out" 2>"$T/$2.reopen.log" ||
		fail "the reopened primary failed: $(tail -3 "$T/$2.reopen.log")"
	wait_applied "$1" "$(mirror_status "$1" seq_durable)"
	same_tree "$T/$2" "$3"
	note "reopened $2: $(tail -1 "$T/$2.reopen.out")"
}

# 1. pmem backend, DIR on the small file system, policy block.
t0=$(now_s)
small_fs "$T/fs"
M=$T/fs/m
start_mirror "$M" 0 --log-size 1M --slot-size 256K
port=$MIRROR_PORT
workload p1 block 60000 3
wait_health "$M" unhealthy 20
while_unhealthy "$M" p1
# A crash and a restart while unhealthy: replay-only says so, no SIGBUS.
kill_mirror
rc=0
timeout 30 "$MOJIM_BIN/mojim-mirror" --dir "$M" --replay-only 2>"$T/replay.out" || rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot be applied" "$T/replay.out" ||
	fail "--replay-only on an unhealthy replica: exit $rc: $(tail -2 "$T/replay.out")"
start_mirror "$M" "$port" --log-size 1M --slot-size 256K
[ "$(mirror_status "$M" health)" = unhealthy ] || fail "the restart forgot the failure"
healed "$M" p1 "$T/fs" "$M/data" block
note "pmem/block: $(cat "$T/p1.out" | head -1); $(ms_between "$t0" "$(now_s)") ms"
stop_mirror

# 2. disk backend, only --data-dir on the small file system, policy degrade.
t0=$(now_s)
small_fs "$T/dfs"
M=$T/m2
start_mirror "$M" 0 --data-dir "$T/dfs/data" --data-on-disk --log-size 1M --slot-size 256K
workload p2 degrade 1000 4 2097152
wait_health "$M" unhealthy 20
while_unhealthy "$M" p2
wait_log "$T/p2.log" DEGRADED 10
healed "$M" p2 "$T/dfs" "$T/dfs/data"
note "disk/degrade: $(head -1 "$T/p2.out"); $(sed -n 2,3p "$T/p2.out" | tr '\n' ' ')$(ms_between "$t0" "$(now_s)") ms"
stop_mirror

# 3. block with a short timeout: the primary's sync point fails, saying why.
small_fs "$T/fs3"
M=$T/fs3/m
start_mirror "$M" 0 --log-size 1M --slot-size 256K
workload p3 block 1000 30 2097152
wait_gone "$WL" 20 || fail "block: the primary still waits 20 s on an unhealthy mirror"
rc=0
wait "$WL" || rc=$?
[ "$rc" -ne 0 ] && grep -q "timed out" "$T/p3.log" ||
	fail "block: exit $rc without a timeout: $(tail -2 "$T/p3.log")"
grep -q "the mirror's replica is unhealthy" "$T/p3.log" || fail "block: the reason was not logged"
note "block timeout: $(grep -m1 'timed out' "$T/p3.log")"
stop_mirror
echo "disk_full: passed"
