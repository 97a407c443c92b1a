# The nemesis, gmsync side: mj_workload --stamp --stamp-log [--stamp-ns]
# (sync point k stamps k into 9 ranges of 3 files, one of them several
# frames long, and into a write-once log; in every other primary run it
# also renames a file and grows another) on 2 connections, policy block, through
# mj_cutproxy to a mirror on a small tmpfs, while a schedule chosen by the
# seed kills and restarts the primary on its own directory, kills and
# restarts the mirror, cuts connections mid-frame, promotes the mirror and
# starts a new empty one, fills the mirror's file system up, and stops
# either side for a while (tests/nemesis/lib.sh). After every fault the
# oracle checks the mirror's copy, taken while the primary is stopped and
# the mirror has applied all it holds: every slot holds one stamp, the
# log's blocks hold their last stamps, the renamed file is named for its
# count and agrees with the grown file (a batch is never partly applied,
# a write or a rename never lost or replayed), and the stamp is at
# least the last one acknowledged (nothing acknowledged is lost). At the
# end the primary closes cleanly and the copy equals its directory.
# MOJIM_NEMESIS_STEPS (default 14) times MOJIM_SOAK steps.
. "$(dirname "$0")/lib.sh"
WORKLOAD=$MOJIM_TOOLS/mj_workload
STEPS=$(soak "${MOJIM_NEMESIS_STEPS:-14}")
HOME_DIR=$T/home
WGEN=0
MAX_ACKED=0 # the highest stamp ever acknowledged

last_acked() { sed -n 's/^acked //p' "$T/acks$WGEN.out" | tail -1; }

# Keeps MAX_ACKED up to date with the running (or dead) primary's acks.
note_acked() {
	local a
	a=$(last_acked)
	[ -n "$a" ] && [ "$a" -gt "$MAX_ACKED" ] && MAX_ACKED=$a
	return 0
}

# Every other primary run (by the seed) makes namespace sync points, so
# the mirror's namespace barriers (partial_seq) are left behind by one
# run and met again, or not, by the next.
wl_start() {
	WGEN=$((WGEN + 1))
	local ns=()
	[ $((RANDOM % 2)) -eq 0 ] && ns=(--stamp-ns)
	note "primary run $WGEN: ${ns[*]:-no namespace sync points}"
	: >"$T/acks$WGEN.out"
	"$WORKLOAD" --dir "$HOME_DIR" --mirror "$PROXY_ADDR" --mode sync \
		--policy block --block-timeout-ms 20000 --connections 2 --stamp \
		--stamp-log "${ns[@]}" --seconds 3600 >"$T/acks$WGEN.out" \
		2>>"$T/primary.log" &
	WL_PID=$!
	STARTED_PIDS+=("$WL_PID")
	local i
	for i in $(seq 1 600); do
		[ -n "$(last_acked)" ] && return 0
		kill -0 "$WL_PID" 2>/dev/null || fail "the primary did not start: $(tail -3 "$T/primary.log")"
		sleep 0.05
	done
	fail "the primary acknowledged nothing within 30 s of its start"
}

wl_pid() { echo "$WL_PID"; }
wl_alive() { kill -0 "$WL_PID" 2>/dev/null; }

wl_stop_primary() {
	kill -KILL "$WL_PID" 2>/dev/null || true
	wait "$WL_PID" 2>/dev/null || true
	note_acked
}

# check_copy DIR WHY: a consistent stamp, at least MAX_ACKED.
check_copy() {
	local got s
	got=$("$WORKLOAD" --check-stamps "$1" --stamp-ns --stamp-log 2>&1) ||
		fail "$2: the copy holds a partly applied batch: $got"
	s=${got#stamp }
	[ "$s" -ge "$MAX_ACKED" ] ||
		fail "$2: the copy is at stamp $s but $MAX_ACKED was acknowledged"
}

wl_snapshot_begins() { note_acked; }

wl_check() {
	snapshot_mirror "$T/check"
	check_copy "$T/check" "$1"
}

# A dead primary's files may hold a sync point half written (that is what
# a crash leaves); its stamp is at least every acknowledged one. A
# promoted copy is whole.
wl_rebase() {
	if [ "$1" = "the promoted copy" ]; then
		check_copy "$2" "$1"
		return
	fi
	local s
	s=$(od -An -t u8 -j 1048576 -N 8 "$2/stamp-0" | tr -d ' ')
	[ "${s:-0}" -ge "$MAX_ACKED" ] ||
		fail "$1: at stamp ${s:-none} but $MAX_ACKED was acknowledged"
}

mirror_up new
proxy_up 0
wl_start
run_schedule "$STEPS"
# The end: a clean close; the mirror's copy equals the primary's files.
kill -TERM "$WL_PID"
wait "$WL_PID" || fail "the primary did not close cleanly: $(tail -3 "$T/primary.log")"
note_acked
mirror_settle
same_tree "$HOME_DIR" "$MDIR/data"
check_copy "$MDIR/data" "the end"
note "$(summary); last stamp acknowledged $MAX_ACKED"
echo "nemesis gmsync: passed"
