# The restart rule (README "Failures"): which copy is the truth when a
# primary opens its region again.
#   1. a process crash on the same boot: the local files are the truth; the
#      mirror holds exactly them (unsynced bytes included) before the first
#      new sync point returns;
#   2. a machine restart (simulated: the boot id recorded in .mojim-node is
#      changed) after a crash in sync mode: the local files may be torn, the
#      region refuses to open (EUCLEAN) and says to promote the mirror, and
#      nothing is changed;
#   3. the same after a crash in syncflush mode: every sync point was
#      flushed, the local files are the truth (a full copy);
#   4. a clean close: the next opening needs no copy.
. "$(dirname "$0")/lib.sh"
P=$MOJIM_TOOLS/mj_primary
[ -x "$P" ] || fail "$P not built"

# prim DIR MODE ARGS...: one life of a primary against the mirror.
prim() {
	local dir=$1 mode=$2
	shift 2
	"$P" --dir "$dir" --mirror "$MIRROR_ADDR" --mode "$mode" \
		--block-timeout-ms 20000 "$@" 2>>"$T/primary.log"
}

# crashed DIR MODE: a synced write, then an unsynced one and SIGKILL.
crashed() {
	prim "$1" "$2" --write f:SYNCED-AAAA --sync >/dev/null ||
		fail "$1: the synced write failed"
	local rc=0
	prim "$1" "$2" --write f:UNSYNCED-BB >/dev/null --crash || rc=$?
	[ "$rc" -eq 137 ] || fail "$1: the crashing primary exited with $rc"
	grep -q '^clean 0$' "$1/.mojim-node" || fail "$1: a crash left clean set"
}

start_mirror "$T/m" 0

# 1. Process crash: the mirror gets the unsynced bytes before the ack.
crashed "$T/p1" sync
[ "$(cat "$T/m/data/f")" = SYNCED-AAAA ] || fail "1: the mirror lacks the synced write"
out=$(prim "$T/p1" sync --sync) || fail "1: the restarted primary failed"
[ "$(cat "$T/m/data/f")" = UNSYNCED-BB ] ||
	fail "1: the first sync point returned before the mirror held the local files: $(cat "$T/m/data/f")"
same_tree "$T/p1" "$T/m/data"
[[ $out == *"full_copies 1"* ]] || fail "1: not one full copy: $out"
grep -q "not closed cleanly (the process died on this boot)" "$T/primary.log" ||
	fail "1: the restart rule was not named"
note "1: process crash: full copy, replica equals the local files"
stop_mirror

# 2. Machine restart after a crash in sync mode: refused, nothing touched.
start_mirror "$T/m2" 0
crashed "$T/p2" sync
sed -i 's/^boot_id .*/boot_id 00000000-0000-0000-0000-000000000000/' "$T/p2/.mojim-node"
before=$(cd "$T/p2" && find . -type f -exec md5sum {} + | sort)
seq_before=$(mirror_status "$T/m2" seq_received)
rc=0
prim "$T/p2" sync --sync >/dev/null || rc=$?
[ "$rc" -eq 117 ] || fail "2: opening after a machine restart in sync mode: exit $rc, want EUCLEAN (117)"
grep -q "machine has restarted since.*Promote the mirror" "$T/primary.log" ||
	fail "2: the refusal does not tell the operator to promote: $(tail -2 "$T/primary.log")"
after=$(cd "$T/p2" && find . -type f -exec md5sum {} + | sort)
[ "$before" = "$after" ] || fail "2: the refused open changed the local files"
[ "$(mirror_status "$T/m2" seq_received)" = "$seq_before" ] ||
	fail "2: the refused primary sent the mirror something"
[ "$(cat "$T/m2/data/f")" = SYNCED-AAAA ] || fail "2: the mirror's copy changed"
note "2: machine restart, sync mode: refused with EUCLEAN"
stop_mirror

# 3. Machine restart after a crash in syncflush mode: local is the truth.
start_mirror "$T/m3" 0
crashed "$T/p3" syncflush
sed -i 's/^boot_id .*/boot_id 00000000-0000-0000-0000-000000000000/' "$T/p3/.mojim-node"
out=$(prim "$T/p3" syncflush --sync) || fail "3: the syncflush primary did not reopen"
[[ $out == *"full_copies 1"* ]] || fail "3: not one full copy: $out"
same_tree "$T/p3" "$T/m3/data"
note "3: machine restart, syncflush mode: full copy"
stop_mirror

# 5. A crash on the same boot leaves the mirror stale (a copy is due) but
# the local files no more flushed than before: if the machine restarts
# before the copy lands, they are still not the truth.
start_mirror "$T/m5" 0
crashed "$T/p5" sync
sed -i 's/^mirror_stale .*/mirror_stale 1/; s/^boot_id .*/boot_id 00000000-0000-0000-0000-000000000000/' \
	"$T/p5/.mojim-node"
rc=0
prim "$T/p5" sync --sync >/dev/null || rc=$?
[ "$rc" -eq 117 ] || fail "5: a stale mirror made torn local files the truth (exit $rc, want EUCLEAN)"
note "5: stale mirror, machine restart, sync mode: still refused"
stop_mirror

# 6. Degraded in sync mode, every sync point is flushed (the node file
# says so): after a crash and a machine restart the local files are the
# truth, and the mirror gets them.
start_mirror "$T/m6" 0
port6=$MIRROR_PORT
stop_mirror
"$P" --dir "$T/p6" --mirror "127.0.0.1:$port6" --mode sync --policy degrade \
	--write f:DEGRADED-WRITE --sync --crash >/dev/null 2>>"$T/primary.log" || true
grep -q '^flushed 1$' "$T/p6/.mojim-node" || fail "6: degraded, the node file does not say flushed"
sed -i 's/^boot_id .*/boot_id 00000000-0000-0000-0000-000000000000/' "$T/p6/.mojim-node"
start_mirror "$T/m6" "$port6"
out=$(prim "$T/p6" sync --sync) || fail "6: the degraded primary's files were refused"
[[ $out == *"full_copies 1"* ]] || fail "6: not one full copy: $out"
[ "$(cat "$T/m6/data/f")" = DEGRADED-WRITE ] || fail "6: the mirror lacks the degraded write"
note "6: degraded then machine restart: local files copied"
stop_mirror

# 7. The restarted primary dies during its full copy: the mirror, whose
# replica the copy never touched, must still be promotable with every
# acknowledged sync point (it used to refuse: "not a complete copy").
start_mirror "$T/m7" 0
prim "$T/p7" sync --write f:ACKED-7777 --sync >/dev/null || fail "7: first life failed"
head -c 400M /dev/zero >"$T/p7/big" # a copy long enough to be caught in
sed -i 's/^clean .*/clean 0/' "$T/p7/.mojim-node" # as a crash leaves it
"$P" --dir "$T/p7" --mirror "$MIRROR_ADDR" --mode sync --sync >/dev/null \
	2>>"$T/primary.log" &
pid7=$!
STARTED_PIDS+=("$pid7")
for i in $(seq 1 400); do
	[ "$(mirror_status "$T/m7" copy)" = staging ] && break
	sleep 0.01
done
kill -KILL "$pid7"
wait "$pid7" 2>/dev/null || true
[ "$(mirror_status "$T/m7" copy)" != none ] || fail "7: the copy was not caught in flight"
out=$("$MOJIM_BIN/mojimctl" --dir "$T/m7" promote --force 2>&1) ||
	fail "7: a mirror whose copy was cut short cannot be promoted: $out"
[ "$(cat "$T/m7/data/f")" = ACKED-7777 ] || fail "7: the promoted copy lacks the acknowledged write"
[ ! -e "$T/m7/data.stage" ] || fail "7: the unfinished copy's staging directory is left"
note "7: copy cut short by the primary's death: promoted with every acked sync point"
stop_mirror

# 4. A clean close: no copy on the next opening.
start_mirror "$T/m4" 0
prim "$T/p4" sync --write f:CLEAN-1 --sync >/dev/null || fail "4: first life failed"
grep -q '^clean 1$' "$T/p4/.mojim-node" || fail "4: a clean close did not mark the region clean"
out=$(prim "$T/p4" sync --write f:CLEAN-2 --sync) || fail "4: second life failed"
[[ $out == *"full_copies 0"* ]] || fail "4: a clean restart made a full copy: $out"
[ "$(cat "$T/m4/data/f")" = CLEAN-2 ] || fail "4: the mirror lacks the second life's write"
note "4: clean restart: no copy"
echo "restart: passed"
