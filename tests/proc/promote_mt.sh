# Promotion and fencing (paper 4.3, DESIGN.md invariant 4), on libmojim:
#   - `mojimctl promote` is refused while the primary is alive (heard
#     within the mirror's heartbeat timeout); --force promotes anyway;
#   - the live primary is then fenced: its sync points fail with the
#     fenced error, and the mirror applies none of its later batches;
#   - mojim-mirror refuses to start on the promoted DIR;
#   - the promoted data directory is a primary's home: with a new, empty
#     mirror it sends a full copy and the new replica equals it;
#   - offline: with the mirror SIGKILLed, promote works on its directory
#     and the copy holds every sync point the workload saw acknowledged.
. "$(dirname "$0")/lib.sh"
CTL=$MOJIM_BIN/mojimctl

# 1-3: a live primary (block), promote refused, forced, fenced.
start_mirror "$T/m" 0
"$MOJIM_TOOLS/mj_workload" --dir "$T/p" --mirror "$MIRROR_ADDR" --mode sync \
	--policy block --threads 2 --seconds 20 >"$T/w.out" 2>"$T/w.log" &
wl=$!
STARTED_PIDS+=("$wl")
# The primary has been heard once a batch of it is applied (not after a
# fixed sleep: over an emulated RDMA device, connecting takes seconds).
wait_applied "$T/m" 1
rc=0
"$CTL" --dir "$T/m" promote >"$T/p1.out" 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "promote with a live primary: exit $rc, not refused"
grep -q "a primary was heard" "$T/p1.out" || fail "refusal says: $(cat "$T/p1.out")"
"$CTL" --dir "$T/m" promote --force >"$T/p2.out" 2>&1 ||
	fail "promote --force: $(cat "$T/p2.out")"
applied=$(mirror_status "$T/m" seq_applied)
note "$(cat "$T/p2.out")"
rc=0
wait_gone "$wl" 10 || fail "the old primary still runs 10 s after the promotion"
wait "$wl" || rc=$?
[ "$rc" -ne 0 ] || fail "the old primary went on after the promotion"
grep -q "fenced" "$T/w.log" || fail "the old primary was not told it is fenced"
sleep 0.5
[ "$(mirror_status "$T/m" seq_applied)" = "$applied" ] ||
	fail "batches applied after the promotion"
stop_mirror
rc=0
"$MOJIM_BIN/mojim-mirror" --listen 127.0.0.1:0 --dir "$T/m" 2>"$T/r.log" || rc=$?
[ "$rc" -ne 0 ] && grep -q "was promoted" "$T/r.log" ||
	fail "a mirror started on the promoted DIR (exit $rc)"

# 4: the promoted copy is the new primary; a new mirror gets a full copy.
start_mirror "$T/m2" 0
"$MOJIM_TOOLS/mj_workload" --dir "$T/m/data" --mirror "$MIRROR_ADDR" \
	--mode sync --threads 2 --seconds 2 >"$T/n.out" 2>"$T/n.log" ||
	fail "new primary on the promoted copy: $(tail -3 "$T/n.log")"
grep -q "full_copies 1" "$T/n.out" || fail "no full copy to the new mirror"
wait_applied "$T/m2" "$(sed -n 's/^seq_sent //p' "$T/n.out")"
same_tree "$T/m/data" "$T/m2/data"
grep -q "^epoch 2$" "$T/m/data/.mojim-node" || fail "the new primary's epoch is not 2"
stop_mirror

# 5: offline promotion after the mirror was killed.
start_mirror "$T/m3" 0
"$MOJIM_TOOLS/mj_workload" --dir "$T/p3" --mirror "$MIRROR_ADDR" --mode sync \
	--stamp --seconds 20 >"$T/s.out" 2>"$T/s.log" &
wl=$!
STARTED_PIDS+=("$wl")
sleep 1
# At least one sync point acknowledged before the kill (10 s at most).
for _ in $(seq 1 450); do
	[ -n "$(sed -n 's/^acked //p' "$T/s.out")" ] && break
	sleep 0.02
done
kill_mirror
acked=$(sed -n 's/^acked //p' "$T/s.out" | tail -1)
kill -9 "$wl" 2>/dev/null || true
wait "$wl" 2>/dev/null || true
[ -n "$acked" ] || fail "the stamp workload acknowledged nothing"
"$CTL" --dir "$T/m3" promote >"$T/p3.out" 2>&1 ||
	fail "offline promote: $(cat "$T/p3.out")"
"$MOJIM_TOOLS/mj_workload" --check-stamps "$T/m3/data" >"$T/c.out" 2>&1 ||
	fail "promoted copy holds a partial batch: $(tail -2 "$T/c.out")"
got=$(sed -n 's/^stamp //p' "$T/c.out")
[ -n "$got" ] && [ "$got" -ge "$acked" ] ||
	fail "promoted copy at stamp '$got', the primary had $acked acknowledged"
note "offline: $(cat "$T/p3.out"); stamp $got >= acked $acked"
echo "promote: passed"
