# lib.sh for the nemesis tests (sourced): a seeded schedule of faults
# against a primary, mj_cutproxy and a mirror whose directory lives on a
# small tmpfs the test mounts (so that it can be filled up), and the
# bookkeeping around them. The test script supplies the workload: the
# functions wl_start, wl_kill, wl_check and wl_rebase (see nemesis_*.sh).
#
# MOJIM_SEED=N replays the schedule of seed N ("random": a new one); the
# seed is printed at the start and with every failure. MOJIM_SOAK=N runs
# N times as many steps; MOJIM_NEMESIS_FAULTS limits the kinds of fault.
# Everything runs on 127.0.0.1.
. "$(dirname "$0")/../engine/lib.sh"

SEED=${MOJIM_SEED:-1}
[ "$SEED" = random ] && SEED=$((($(date +%s%N) / 1000) % 1000000000))
[[ $SEED =~ ^[0-9]+$ ]] || fail "MOJIM_SEED must be a number or 'random'"
RANDOM=$SEED
FAIL_NOTE="nemesis seed $SEED: replay this schedule with MOJIM_SEED=$SEED"
note "seed $SEED (MOJIM_SEED=$SEED replays this schedule)"
CTL=$MOJIM_BIN/mojimctl
PROXY=$MOJIM_TOOLS/mj_cutproxy
declare -A FAULTS # how many of each kind were applied
CHECKS=0

# The mirror's file system.
FS=$T/fs
mkdir -p "$FS"
mount -t tmpfs -o "size=${MOJIM_NEMESIS_FS_MB:-384}m" tmpfs "$FS" ||
	fail "cannot mount a tmpfs on $FS (the nemesis test runs as root)"
CLEANUP_HOOKS+=("umount -l $FS")

# nap LO_MS HI_MS: sleeps a random time in [LO, HI] ms (from the seed).
nap() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

# pick WEIGHTED-LIST: PICKED = one of "name:weight ..." at random. (Not
# printed for a $(...): bash reseeds RANDOM in subshells, and the schedule
# must follow from the seed alone.)
pick() {
	local total=0 e w r
	for e in "$@"; do total=$((total + ${e#*:})); done
	r=$((RANDOM % total))
	for e in "$@"; do
		w=${e#*:}
		[ "$r" -lt "$w" ] && { PICKED=${e%%:*}; return; }
		r=$((r - w))
	done
}

# step N TEXT: one line of the schedule.
step() { echo "# step $1: $2" | tee -a "$T/schedule.txt"; }

# stop_all PID: SIGSTOP, and wait until every thread of PID has stopped
# (kill returns before the signal has reached them all: the primary could
# go on committing while the oracle reads its report).
stop_all() {
	kill -STOP "$1" 2>/dev/null || return 0
	local i t st running
	for i in $(seq 1 500); do
		running=0
		for t in /proc/"$1"/task/*/stat; do
			[ -r "$t" ] || continue
			st=$(sed 's/.*) \(.\).*/\1/' "$t" 2>/dev/null)
			case $st in T | t | Z | X | "") ;; *) running=1 ;; esac
		done
		[ "$running" -eq 0 ] && return 0
		sleep 0.01
	done
	fail "process $1 did not stop within 5 s of SIGSTOP"
}

# ---- the mirror ------------------------------------------------------
MGEN=0
MDIR=""
MPORT=0
MIRROR_OPTS=(--log-size 16M --slot-size 1M)

# mirror_up [new]: (re)starts the mirror on its directory and port; "new":
# a new, empty directory on a new port (a promotion replaced the old one).
mirror_up() {
	if [ "${1:-}" = new ]; then
		MGEN=$((MGEN + 1))
		MDIR=$FS/m$MGEN
		MPORT=0
	fi
	MIRROR_LOG=$T/mirror$MGEN.log start_mirror "$MDIR" "$MPORT" "${MIRROR_OPTS[@]}"
	MPORT=$MIRROR_PORT
}

mirror_kill() {
	kill -KILL "$MIRROR_PID" 2>/dev/null || true
	wait "$MIRROR_PID" 2>/dev/null || true
}

# mirror_settle: the mirror has applied every batch it holds and takes no
# more (the primary is stopped or gone): durable is stable and applied.
mirror_settle() {
	local d prev="" i
	for i in $(seq 1 100); do
		kill -0 "$MIRROR_PID" 2>/dev/null ||
			fail "the mirror died: $(tail -3 "$T/mirror$MGEN.log")"
		d=$(mirror_status "$MDIR" seq_durable)
		[ -n "$d" ] || fail "the mirror in $MDIR does not answer"
		wait_applied "$MDIR" "$d"
		[ "$d" = "$prev" ] && return 0
		prev=$d
		sleep 0.2
	done
	fail "the mirror in $MDIR never settled (seq_durable moving)"
}

# snapshot_mirror DEST: the mirror's replica copied to DEST at a moment
# when it holds every acknowledged sync point and nothing moves: the
# primary (if it runs) is stopped, wl_snapshot_begins reads what it has
# acknowledged, the mirror applies all it holds, the copy is taken, the
# primary goes on.
snapshot_mirror() {
	local alive=0
	wl_alive && alive=1
	[ "$alive" -eq 0 ] || stop_all "$(wl_pid)"
	wl_snapshot_begins
	mirror_settle
	rm -rf "$1"
	cp -a "$MDIR/data" "$1"
	[ "$alive" -eq 0 ] || kill -CONT "$(wl_pid)"
}

# ---- the proxy between primary and mirror -----------------------------
PROXY_PORT=0
PROXY_PID=""
PGEN=0

# proxy_up CUTS: a new proxy on the same port towards the mirror, cutting
# CUTS connections mid-frame (0: none), then passing everything.
proxy_up() {
	[ -z "$PROXY_PID" ] || { kill -KILL "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true; }
	PGEN=$((PGEN + 1))
	local out=$T/proxy$PGEN.out i
	"$PROXY" --listen "127.0.0.1:$PROXY_PORT" --to "$MIRROR_ADDR" --cuts "$1" \
		--max-bytes 2097152 --max-back 300 --seed "$RANDOM" >"$out" \
		2>"$T/proxy.log" &
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	for i in $(seq 1 200); do
		grep -q '^listening on' "$out" && break
		kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy exited at start"
		sleep 0.05
	done
	PROXY_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
	[ -n "$PROXY_PORT" ] || fail "the proxy did not start"
	PROXY_ADDR=127.0.0.1:$PROXY_PORT
}

# proxy_cuts_done SECONDS: until the current proxy made all its cuts.
proxy_cuts_done() {
	local i
	for i in $(seq 1 $(($1 * 20))); do
		grep -q '^cuts done' "$T/proxy$PGEN.out" && return 0
		sleep 0.05
	done
	return 1
}

# ---- the filler -------------------------------------------------------
# fill_up / fill_down: the mirror's file system full, then free again.
fill_up() {
	local avail
	avail=$(df --output=avail -B1 "$FS" | tail -1)
	fallocate -l "$avail" "$FS/filler" 2>/dev/null ||
		dd if=/dev/zero of="$FS/filler" bs=1M status=none 2>/dev/null || true
}
fill_down() { rm -f "$FS/filler"; }

# ---- the schedule ------------------------------------------------------
# The kinds of fault and their weights; MOJIM_NEMESIS_FAULTS="kill_mirror
# cut ..." keeps only those (to chase one kind of bug).
KINDS=(kill_primary:3 kill_mirror:3 cut:3 promote:1 fill:2 stop_primary:2
	stop_mirror:2)
if [ -n "${MOJIM_NEMESIS_FAULTS:-}" ]; then
	kept=()
	for k in "${KINDS[@]}"; do
		[[ " $MOJIM_NEMESIS_FAULTS " == *" ${k%%:*} "* ]] && kept+=("$k")
	done
	[ ${#kept[@]} -gt 0 ] || fail "MOJIM_NEMESIS_FAULTS names no known fault"
	KINDS=("${kept[@]}")
fi

# run_schedule STEPS: STEPS faults chosen by the seed, each followed by a
# little load and a check of the oracle (wl_check). The workload's hooks:
#   wl_start          start the primary on $HOME_DIR through $PROXY_ADDR
#   wl_alive          0 if the primary runs
#   wl_stop_primary   SIGKILL it and wait
#   wl_rebase WHAT DIR  DIR (a copy of the primary's or a promoted home) is
#                     where the next primary starts: check it holds every
#                     acknowledged sync point, make it the baseline
#   wl_check WHY      the mirror's copy holds every acknowledged sync point
#                     (snapshot_mirror, with the hook wl_snapshot_begins)
run_schedule() {
	local n=$1 i f
	for i in $(seq 1 "$n"); do
		pick "${KINDS[@]}"
		f=$PICKED
		FAULTS[$f]=$((${FAULTS[$f]:-0} + 1))
		"fault_$f" "$i"
		wl_alive || fail "step $i ($f): the primary died: $(tail -3 "$T/primary.log")"
		nap 300 1500
		wl_check "step $i ($f)"
		CHECKS=$((CHECKS + 1))
	done
}

fault_kill_primary() {
	step "$1" "SIGKILL the primary, restart it on its home"
	wl_stop_primary
	mirror_settle
	rm -rf "$T/home.copy"
	cp -a "$HOME_DIR" "$T/home.copy"
	wl_check "step $1: after the primary died"
	wl_rebase "the dead primary's files" "$T/home.copy"
	wl_start
}

fault_kill_mirror() {
	step "$1" "SIGKILL the mirror, restart it on its directory"
	nap 0 800
	mirror_kill
	nap 0 1500
	mirror_up
}

fault_cut() {
	local k=$((1 + RANDOM % 12))
	step "$1" "cut $k connections mid-frame"
	proxy_up "$k"
	proxy_cuts_done 30 || fail "step $1: the proxy made $(grep -c '^cut ' "$T/proxy$PGEN.out") of $k cuts in 30 s"
}

fault_promote() {
	step "$1" "SIGKILL the primary, promote the mirror, a new empty mirror"
	wl_stop_primary
	local out
	out=$("$CTL" --dir "$MDIR" promote --force 2>&1) || fail "step $1: promote failed: $out"
	stop_mirror
	# The promoted copy is the new home, off the small file system.
	rm -rf "$T/home.old"
	mv "$HOME_DIR" "$T/home.old"
	mv "$MDIR/data" "$HOME_DIR"
	rm -rf "$T/home.old" "$MDIR"
	wl_rebase "the promoted copy" "$HOME_DIR"
	mirror_up new
	proxy_up 0
	wl_start
}

fault_fill() {
	step "$1" "the mirror's file system fills up"
	fill_up
	nap 1000 4000
	fill_down
}

fault_stop_primary() {
	step "$1" "SIGSTOP the primary"
	local pid
	pid=$(wl_pid)
	stop_all "$pid"
	nap 300 3500
	kill -CONT "$pid"
}

fault_stop_mirror() {
	step "$1" "SIGSTOP the mirror"
	stop_all "$MIRROR_PID"
	nap 300 3500
	kill -CONT "$MIRROR_PID"
}

# summary: faults by kind, checks, on one line.
summary() {
	local k s=""
	for k in "${!FAULTS[@]}"; do s="$s $k ${FAULTS[$k]},"; done
	echo "faults:${s%,}; $CHECKS checks"
}
