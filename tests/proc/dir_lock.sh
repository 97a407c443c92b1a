# One process at a time on a mirror's DIR: while a mirror serves it, a
# --replay-only run, a second mirror and an offline `mojimctl promote`
# (what mojimctl falls back to when DIR/control.sock is not there) are
# refused, naming the mirror's pid, and change nothing; the live mirror
# then still works.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
M=$T/m
# snapshot: checksums of everything the mirror keeps in DIR.
snapshot() { (cd "$M" && find state log data -type f -print0 | sort -z | xargs -0 md5sum); }

start_mirror "$M" 0
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name before --seconds 20 >/dev/null ||
	fail "the first batch was not acked"
wait_applied "$M" 1
before=$(snapshot)
want="in use by mojim-mirror pid $MIRROR_PID"

rc=0
timeout 20 "$MOJIM_BIN/mojim-mirror" --dir "$M" --replay-only 2>"$T/replay.out" || rc=$?
[ "$rc" -ne 0 ] || fail "--replay-only ran on a DIR a live mirror serves"
grep -q "$want" "$T/replay.out" || fail "--replay-only refusal says: $(cat "$T/replay.out")"

rc=0
timeout 20 "$MOJIM_BIN/mojim-mirror" --listen 127.0.0.1:0 --dir "$M" 2>"$T/second.out" || rc=$?
[ "$rc" -ne 0 ] || fail "a second mirror ran on the same DIR"
grep -q "$want" "$T/second.out" || fail "second mirror refusal says: $(cat "$T/second.out")"

rm -f "$M/control.sock" # mojimctl now takes DIR for a dead mirror's
rc=0
timeout 20 "$MOJIM_BIN/mojimctl" --dir "$M" promote --force >"$T/promote.out" 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "offline promote on a live mirror's DIR: exit $rc"
grep -q "$want" "$T/promote.out" || fail "promote refusal says: $(cat "$T/promote.out")"

[ "$(snapshot)" = "$before" ] || fail "a refused process changed DIR"
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name after --seconds 20 >/dev/null ||
	fail "the live mirror no longer acks"
kill -0 "$MIRROR_PID" || fail "the live mirror died"
stop_mirror
# Once it is gone, DIR is free again.
timeout 20 "$MOJIM_BIN/mojim-mirror" --dir "$M" --replay-only 2>>"$T/replay.out" ||
	fail "--replay-only after the mirror stopped: $(tail -2 "$T/replay.out")"
[ -f "$M/data/after" ] || fail "the batch acked after the refusals is not in the replica"
echo "dir_lock: passed"
