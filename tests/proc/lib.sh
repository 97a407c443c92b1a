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

cleanup() {
	local p
	for p in "${STARTED_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$T"
	[ -n "${DISK_DIR:-}" ] && rm -rf "$DISK_DIR"
	return 0
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

note() { echo "# $*"; }

# start_mirror DIR [PORT] [mojim-mirror options...]
# Sets MIRROR_PID, MIRROR_PORT, MIRROR_ADDR; the log is DIR.log.
start_mirror() {
	local dir=$1 port=${2:-0}
	shift 2 || shift $#
	local log=$dir.log
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
		>/dev/null || fail "mirror in $1 did not apply batch $2 within 60 s"
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
