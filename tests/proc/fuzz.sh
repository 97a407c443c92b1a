# Invariant 5: nothing from the network makes the mirror write outside its
# directory, allocate without bound or crash. mj_fuzz throws a few thousand
# hostile connections at a mirror; afterwards the mirror must be alive,
# serve a legitimate client correctly, have reported rejected frames, have
# created nothing outside DIR, and stop cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
[ -x "$FUZZ" ] || fail "$FUZZ not built"
M=$T/m
OUT=$T/out
mkdir -p "$OUT" "$T/canary/sub"
echo "canary $$" >"$T/canary/sub/file"

# outside_listing: every path under $T except the mirror's DIR, our own
# output and the workload's primary directory; the fuzz must not change it.
outside_listing() {
	find "$T" -path "$M" -prune -o -path "$OUT" -prune -o -path "$T/p" \
		-prune -o -print | sort
}

# Small rings (64 indexes x 4 MiB) so a fuzzer touching every index costs
# 256 MiB of /dev/shm, not 4 GiB.
start_mirror "$M" 0 --log-size 4M --slot-size 1M
outside_listing >"$OUT/before.list"
canary_sum=$(cd "$T/canary" && find . -exec ls -ld --time-style=+%s {} + | sort | md5sum)

# The tool and the mirror agree before anything hostile happens, so a
# failure afterwards is the fuzz's doing.
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name mj_probe >"$OUT/probe0.out" ||
	fail "probe before the fuzz failed"

note "fuzzing $MIRROR_ADDR"
rc=0
timeout 120 "$FUZZ" --addr "$MIRROR_ADDR" --seed 1 --iterations 3000 \
	--seconds 50 >"$OUT/fuzz.out" 2>"$OUT/fuzz.log" || rc=$?
cat "$OUT/fuzz.out"
[ "$rc" -eq 0 ] || fail "mj_fuzz exit $rc: $(grep -m3 BUG "$OUT/fuzz.log" || tail -3 "$OUT/fuzz.log")"
kill -0 "$MIRROR_PID" 2>/dev/null || fail "the mirror died during the fuzz"

# A legitimate client still works: one batch through the tool ...
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name mj_probe --pattern AFTER-FUZZ- \
	>"$OUT/probe1.out" 2>"$OUT/probe1.log" ||
	fail "probe after the fuzz failed: $(cat "$OUT/probe1.log")"
seq=$(sed -n 's/^probe ok seq=//p' "$OUT/probe1.out")
wait_applied "$M" "$seq"
head -c 11 "$M/data/mj_probe" | grep -qx AFTER-FUZZ- ||
	fail "probe batch $seq acked but not applied"

# ... and a whole libmojim workload, compared file by file. The replica
# also holds what the fuzz's valid batches created (fz* names, and names
# a flipped bit turned into other valid ones): those are listed first and
# left out of the comparison.
if [ -x "$MOJIM_TOOLS/mj_workload" ]; then
	(cd "$M/data" && find . -mindepth 1 | sort) >"$OUT/fuzzed.list"
	# The mirror took the fuzzer's cluster id (mj_fuzz.c, FUZZ_CLUSTER)
	# from its first HELLO; a primary of another cluster would be refused.
	# The fuzzer spoke as incarnation 1: the workload is the next one, so
	# the fuzzer's batches beyond the durable point are never applied.
	mkdir -p "$T/p"
	printf 'mojim-node 2\ncluster_id 00000000005a5546\nepoch 1\nmirror_stale 0\nclean 1\nflushed 1\nincarnation 1\nboot_id -\n' \
		>"$T/p/.mojim-node"
	timeout 120 "$MOJIM_TOOLS/mj_workload" --dir "$T/p" --mirror "$MIRROR_ADDR" \
		--mode sync --threads 2 --ops 200 >"$OUT/w.out" 2>"$OUT/w.log" ||
		fail "workload after the fuzz failed: $(tail -3 "$OUT/w.log")"
	wseq=$(sed -n 's/^seq_sent //p' "$OUT/w.out")
	[ -n "$wseq" ] || fail "workload printed no seq_sent"
	wait_applied "$M" "$wseq"
	(cd "$T/p" && find . -mindepth 1 ! -name .mojim-node | sort) >"$OUT/p.list"
	(cd "$M/data" && find . -mindepth 1 | sort) |
		comm -13 "$OUT/fuzzed.list" - >"$OUT/r.list"
	diff "$OUT/p.list" "$OUT/r.list" >"$OUT/list.diff" ||
		fail "replica names differ from the primary's: $(head -5 "$OUT/list.diff")"
	while IFS= read -r f; do
		[ -f "$T/p/$f" ] || continue
		cmp -s "$T/p/$f" "$M/data/$f" || fail "replica file $f differs"
	done <"$OUT/p.list"
	note "workload: $wseq batches, replica matches the primary"
else
	note "mj_workload not built: only the probe checked the mirror"
fi

# Nothing was created outside DIR, nothing named escape anywhere.
outside_listing >"$OUT/after.list"
diff "$OUT/before.list" "$OUT/after.list" >"$OUT/outside.diff" ||
	fail "created outside the mirror's DIR: $(head -5 "$OUT/outside.diff")"
[ "$(cd "$T/canary" && find . -exec ls -ld --time-style=+%s {} + | sort | md5sum)" = "$canary_sum" ] ||
	fail "the canary directory next to DIR changed"
escapes=$(find "$T" -name escape 2>/dev/null; find /tmp -maxdepth 3 -name escape -newer "$OUT/before.list" 2>/dev/null || true)
[ -z "$escapes" ] || fail "a file named escape appeared: $escapes"
for e in "$M"/*; do
	case ${e##*/} in
	control.sock | data | lock | log | state) ;;
	*) fail "unexpected entry in DIR: $e" ;;
	esac
done
for e in "$M"/log/*; do
	case ${e##*/} in
	ring-[0-9] | ring-[0-6][0-9]) ;;
	*) fail "unexpected entry in DIR/log: $e" ;;
	esac
done

rejected=$(mirror_status "$M" frames_rejected)
[ "${rejected:-0}" -gt 0 ] || fail "frames_rejected is ${rejected:-empty} after the fuzz"
note "frames_rejected $rejected"

# A clean stop within 15 s: no receiver may be stuck on a fuzz connection.
clean_stop() {
	kill -TERM "$MIRROR_PID"
	wait_gone "$MIRROR_PID" 15 || fail "the mirror did not exit within 15 s of SIGTERM"
	st=0
	wait "$MIRROR_PID" || st=$?
	[ "$st" -eq 0 ] || fail "the mirror exited with status $st after SIGTERM"
}
clean_stop

# A mirror with a key: a fuzzer holding another key attacks before
# authentication only, and changes nothing; one holding the key attacks
# before and after it, and the mirror still serves a probe.
K=$T/m-key
head -c 32 /dev/urandom | base64 >"$K.right" && chmod 600 "$K.right"
head -c 32 /dev/urandom | base64 >"$K.wrong" && chmod 600 "$K.wrong"
MK=$T/mk
start_mirror "$MK" 0 --log-size 4M --slot-size 1M --keyfile "$K.right"
keyed_state() {
	md5sum <"$MK/state"
	ls "$MK/log"
	(cd "$MK/data" && find . | sort)
	mojimctl_out=$("$MOJIM_BIN/mojimctl" --dir "$MK" status)
	grep -E '^(epoch|cluster_id|copy|seq_durable):' <<<"$mojimctl_out"
}
keyed_state >"$OUT/keyed.before"
for key in wrong right; do
	rc=0
	timeout 120 "$FUZZ" --addr "$MIRROR_ADDR" --keyfile "$K.$key" --seed 2 \
		--iterations 800 --seconds 25 >"$OUT/fuzz-$key.out" 2>"$OUT/fuzz-$key.log" || rc=$?
	cat "$OUT/fuzz-$key.out"
	[ "$rc" -eq 0 ] || fail "mj_fuzz ($key key) exit $rc: $(grep -m3 BUG "$OUT/fuzz-$key.log" || tail -3 "$OUT/fuzz-$key.log")"
	kill -0 "$MIRROR_PID" 2>/dev/null || fail "the keyed mirror died (fuzz with the $key key)"
	if [ $key = wrong ]; then
		keyed_state >"$OUT/keyed.after"
		diff "$OUT/keyed.before" "$OUT/keyed.after" >"$OUT/keyed.diff" ||
			fail "a fuzzer with the wrong key changed the mirror: $(head -5 "$OUT/keyed.diff")"
	fi
done
"$FUZZ" --addr "$MIRROR_ADDR" --keyfile "$K.right" --probe --name mj_probe \
	--pattern KEYED-FUZZ- >"$OUT/probe2.out" 2>"$OUT/probe2.log" ||
	fail "probe after the keyed fuzz failed: $(cat "$OUT/probe2.log")"
seq=$(sed -n 's/^probe ok seq=//p' "$OUT/probe2.out")
wait_applied "$MK" "$seq"
head -c 11 "$MK/data/mj_probe" | grep -qx KEYED-FUZZ- ||
	fail "keyed probe batch $seq acked but not applied"
note "keyed mirror: auth_refused $(mirror_status "$MK" auth_refused)"
clean_stop
echo "fuzz: passed"
