# lib.sh: shared by the process-level tests (sourced, not run).
#
# Everything a test starts is recorded and killed by the exit trap, and the
# test's files live in one temporary directory under /dev/shm (emulated
# pmem, PMEM_IS_PMEM_FORCE=1) that the trap removes. Only 127.0.0.1 is used.
set -euo pipefail
: "${MOJIM_BIN:?MOJIM_BIN must point at the build's mirror/ directory}"
: "${MOJIM_TOOLS:?MOJIM_TOOLS must point at the build's tests/ directory}"
export PMEM_IS_PMEM_FORCE=1

T=$(mktemp -d /dev/shm/mojim-test.XXXXXX)
STARTED_PIDS=()
CLEANUP_HOOKS=() # commands the exit trap runs after killing the processes

cleanup() {
	local p
	for p in "${STARTED_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for p in "${CLEANUP_HOOKS[@]:-}"; do
		[ -n "$p" ] && { $p || true; }
	done
	rm -rf "$T"
	[ -n "${DISK_DIR:-}" ] && rm -rf "$DISK_DIR"
	return 0
}
trap cleanup EXIT

# FAIL_NOTE, if a test sets it, is printed with every failure (the seed
# of a randomized test, say).
fail() {
	echo "FAIL: $*" >&2
	[ -z "${FAIL_NOTE:-}" ] || echo "FAIL: $FAIL_NOTE" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }
	done
	if [ -n "${MOJIM_KEEP_ON_FAIL:-}" ]; then # to look at it afterwards
		mkdir -p "$MOJIM_KEEP_ON_FAIL" && cp -a "$T" "$MOJIM_KEEP_ON_FAIL/" &&
			echo "FAIL: the test's files are kept in $MOJIM_KEEP_ON_FAIL/${T##*/}" >&2
	fi
	exit 1
}

note() { echo "# $*"; }

# start_mirror DIR [PORT] [mojim-mirror options...]
# Sets MIRROR_PID, MIRROR_PORT, MIRROR_ADDR; the log is DIR.log, or
# MIRROR_LOG if set (a DIR on a file system that may fill up).
start_mirror() {
	local dir=$1 port=${2:-0}
	shift 2 || shift $#
	local log=${MIRROR_LOG:-$dir.log}
	touch "$log"
	local before
	before=$(wc -l <"$log")
	"$MOJIM_BIN/mojim-mirror" --listen "127.0.0.1:$port" --dir "$dir" "$@" \
		2>>"$log" &
	MIRROR_PID=$!
	STARTED_PIDS+=("$MIRROR_PID")
	local i line=""
	for i in $(seq 1 200); do
		line=$(tail -n +"$((before + 1))" "$log" | grep -m1 'listening on' || true)
		[ -n "$line" ] && break
		kill -0 "$MIRROR_PID" 2>/dev/null || fail "mirror exited at start"
		sleep 0.05
	done
	[ -n "$line" ] || fail "mirror did not start listening within 10 s"
	MIRROR_PORT=$(sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$line")
	MIRROR_ADDR=127.0.0.1:$MIRROR_PORT
}

# stop_mirror: SIGTERM and wait (clean shutdown).
stop_mirror() {
	kill -TERM "$MIRROR_PID" 2>/dev/null || true
	wait "$MIRROR_PID" 2>/dev/null || true
}

# kill_mirror: SIGKILL and wait (a crash).
kill_mirror() {
	kill -KILL "$MIRROR_PID" 2>/dev/null || true
	wait "$MIRROR_PID" 2>/dev/null || true
}

# wait_applied DIR SEQ: until the mirror in DIR applied batch SEQ.
wait_applied() {
	"$MOJIM_BIN/mojimctl" --dir "$1" wait-applied "$2" --timeout-ms 60000 \
		>/dev/null || fail "mirror in $1 did not apply batch $2 within 60 s;" \
		"its status: $("$MOJIM_BIN/mojimctl" --dir "$1" status 2>&1 | tr '\n' ' ')"
}

# same_tree A B: identical names, types and bytes (the primary's own
# identity file, .mojim-node, is never replicated).
same_tree() {
	diff -r -x .mojim-node -x '.mojim-node.tmp' "$1" "$2" >"$T/diff.out" 2>&1 ||
		fail "replica differs from primary: $(head -5 "$T/diff.out")"
}

# mirror_status DIR KEY: one value of `mojimctl status`.
mirror_status() {
	"$MOJIM_BIN/mojimctl" --dir "$1" status | sed -n "s/^$2: *//p" | head -1
}

# soak N: N times MOJIM_SOAK (default 1): MOJIM_SOAK=10 turns the bounded
# kill, cut and failover counts of the tests into a long soak.
soak() { echo $(($1 * ${MOJIM_SOAK:-1})); }

# now_s: seconds since the epoch with nanoseconds (measured figures).
now_s() { date +%s.%N; }

# ms_between T0 T1: milliseconds from T0 to T1 (now_s values), rounded.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 + 0.5 }'; }

# median_max N...: "median X max Y" of the numbers (no numbers: "none").
median_max() {
	[ $# -gt 0 ] || { echo none; return; }
	printf '%s\n' "$@" | sort -n |
		awk '{ v[NR] = $1 } END { printf "median %s max %s", v[int((NR + 1) / 2)], v[NR] }'
}

# wait_gone PID SECONDS: 0 once PID has exited, 1 if it still runs after
# SECONDS (it is not waited for: the caller wants its status).
wait_gone() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}
