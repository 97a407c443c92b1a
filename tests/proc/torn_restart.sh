# Found by the nemesis soak (gmsync, seed 642826765, step 450): a primary
# SIGKILLed inside a namespace sync point leaves it half made in its local
# files; by the restart rule a full copy gives exactly those to the mirror.
# The next life of mj_workload must complete it with its first sync point
# (as an application's recovery would), even a life without --stamp-ns,
# or the oracle reports a lost batch that was never acknowledged. The
# half-made sync point is made by hand here: stamp-grow resized one block
# further than its namespace file says.
. "$(dirname "$0")/lib.sh"

W=$MOJIM_TOOLS/mj_workload
start_mirror "$T/m" 0
"$W" --dir "$T/h" --mirror "$MIRROR_ADDR" --mode sync --stamp --stamp-ns \
	--stamp-log --seconds 60 >"$T/acks1" 2>"$T/w1.log" &
pid=$!
STARTED_PIDS+=("$pid")
for _ in $(seq 1 200); do
	[ "$(grep -c acked "$T/acks1" || true)" -ge 20 ] && break
	sleep 0.05
done
[ "$(grep -c acked "$T/acks1" || true)" -ge 20 ] || fail "the first life acknowledged too little"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
size=$(stat -c %s "$T/h/stamp-grow")
truncate -s $((size + 4096)) "$T/h/stamp-grow" # the resize of a cut sync point
"$W" --dir "$T/h" --mirror "$MIRROR_ADDR" --mode sync --stamp --stamp-log \
	--ops 5 >"$T/acks2" 2>"$T/w2.log" || fail "the second life: $(tail -2 "$T/w2.log")"
grep -q "full_copies 1" "$T/acks2" || fail "the restart made no full copy: $(tail -1 "$T/acks2")"
last=$(grep acked "$T/acks2" | tail -1 | cut -d' ' -f2)
wait_applied "$T/m" 1
got=$("$W" --check-stamps "$T/h" --stamp-ns --stamp-log 2>&1) ||
	fail "the primary's files: $got"
for _ in $(seq 1 100); do
	got=$("$W" --check-stamps "$T/m/data" --stamp-ns --stamp-log 2>&1) && [ "$got" = "stamp $last" ] && break
	sleep 0.05
done
[ "$got" = "stamp $last" ] || fail "the mirror's copy: $got (last acked $last)"
echo "torn_restart: passed"
