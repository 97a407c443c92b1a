# lib.sh: shared by the process-level tests (sourced, not run).
#
# Everything a test starts is recorded and killed by the exit trap, and the
# test's files live in one temporary directory under /dev/shm (emulated
# pmem, PMEM_IS_PMEM_FORCE=1) that the trap removes. Only 127.0.0.1 is used
# (in the RDMA guest, MOJIM_HOST: the soft-RoCE interface's address).
set -euo pipefail
: "${MOJIM_BIN:?MOJIM_BIN must point at the build's mirror/ directory}"
: "${MOJIM_TOOLS:?MOJIM_TOOLS must point at the build's tests/ directory}"
export PMEM_IS_PMEM_FORCE=1
HOST=${MOJIM_HOST:-127.0.0.1}
# MOJIM_TRANSPORT (tests/rdma): the transport of the mirrors started here
# and, through the tools' defaults (region_opts.h), of their primaries.

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
	"$MOJIM_BIN/mojim-mirror" --listen "$HOST:$port" --dir "$dir" \
		${MOJIM_TRANSPORT:+--transport "$MOJIM_TRANSPORT"} "$@" \
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
	MIRROR_ADDR=$HOST:$MIRROR_PORT
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

# mk_pki DIR: a cluster CA and certificates it signs, for TLS tests:
# DIR/ca.pem; DIR/mirror.{pem,key} naming IP 127.0.0.1 (and nothing else);
# DIR/primary.{pem,key}; and DIR/rogue-ca.pem with DIR/rogue.{pem,key},
# a certificate of another CA that names 127.0.0.1 too. Keys are 0600.
mk_pki() {
	local d=$1 n
	command -v openssl >/dev/null || fail "openssl is missing: apt-get install openssl"
	mkdir -p "$d"
	for n in ca rogue-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$d/$n.key" -out "$d/$n.pem" -days 2 -subj "/CN=mojim test $n" \
			2>/dev/null || fail "openssl: cannot make $n"
	done
	mk_cert "$d" ca mirror "subjectAltName=IP:127.0.0.1"
	mk_cert "$d" ca primary "subjectAltName=DNS:primary.mojim.test"
	mk_cert "$d" rogue-ca rogue "subjectAltName=IP:127.0.0.1"
	chmod 600 "$d"/*.key
}
mk_cert() { # DIR CA NAME EXT
	local d=$1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/$3.key" -out "$d/$3.csr" -subj "/CN=mojim test $3" \
		2>/dev/null || fail "openssl: cannot make $3's request"
	openssl x509 -req -in "$d/$3.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" \
		-CAcreateserial -days 2 -extfile <(echo "$4") -out "$d/$3.pem" \
		2>/dev/null || fail "openssl: cannot sign $3"
}

# mirror_snapshot DIR: what a refused peer must leave as it was: the state
# file, log/ (names and sizes), the replica's names, epoch, cluster, copy
# state, durable seq and connections.
mirror_snapshot() {
	local m=$1 k
	echo "state $(md5sum <"$m/state")"
	(cd "$m/log" && find . -printf '%p %s\n' | sort)
	echo "log bytes $(du -sb "$m/log" | cut -f1)"
	(cd "$m/data" && find . | sort)
	for k in epoch cluster_id copy seq_durable connections; do
		echo "$k $(mirror_status "$m" $k)"
	done
}
# mirror_fds PID: how many descriptors the mirror holds.
mirror_fds() { ls "/proc/$1/fd" | wc -l; }
# mirror_fds_back PID N: the mirror's descriptors are N again within 5 s
# (refused connections are closed by their threads, a moment after the
# REFUSE).
mirror_fds_back() {
	local i
	for i in $(seq 1 50); do
		[ "$(mirror_fds "$1")" -eq "$2" ] && return 0
		sleep 0.1
	done
	fail "the mirror holds $(mirror_fds "$1") descriptors, not $2, after refusals: $(ls -l "/proc/$1/fd")"
}
# mirror_refusals_left_nothing M PID FDS BEFORE COUNTER MIN PATTERN: after
# a run of refused peers, mirror M (pid PID) holds FDS descriptors again,
# its snapshot equals the file BEFORE (mirror_snapshot), its status field
# COUNTER is at least MIN, and its log names a refused peer by address
# with PATTERN.
mirror_refusals_left_nothing() {
	local m=$1 pid=$2 fds=$3 before=$4 counter=$5 min=$6 pattern=$7 n
	mirror_fds_back "$pid" "$fds"
	mirror_snapshot "$m" >"$before.after"
	diff "$before" "$before.after" >"$before.diff" ||
		fail "refused peers changed the mirror: $(cat "$before.diff")"
	n=$(mirror_status "$m" "$counter")
	[ "$n" -ge "$min" ] || fail "$counter is $n, not >= $min"
	grep -q "from 127.0.0.1:[0-9]*: refused: $pattern" "$m.log" ||
		fail "the mirror's log does not name the refused peer ($pattern)"
}

# start_cutproxy OUT LOG ARGS...: mj_cutproxy on 127.0.0.1 with ARGS (its
# lines in OUT, errors in LOG); PROXY_ADDR is where it listens, PROXY_PID
# its pid (killed by the exit trap).
start_cutproxy() {
	local out=$1 log=$2 i
	shift 2
	"$MOJIM_TOOLS/mj_cutproxy" --listen 127.0.0.1:0 "$@" >"$out" 2>"$log" &
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	PROXY_ADDR=""
	for i in $(seq 1 200); do
		PROXY_ADDR=$(sed -n 's/^listening on //p' "$out")
		[ -n "$PROXY_ADDR" ] && return 0
		kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy exited at start: $(cat "$log")"
		sleep 0.05
	done
	fail "the proxy did not start"
}
