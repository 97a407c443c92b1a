# The Prometheus endpoint (--metrics ADDR:PORT, mirror/src/metrics.c): a
# backup and a mirror forwarding to it, each serving /metrics; after a
# workload both expositions pass `promtool check metrics` without a word,
# every sample has its HELP and TYPE, and the figures are mojimctl
# status's (sequence numbers, the backup's acked seq and state, the
# roles). Other paths get 404, other methods 405; an address that cannot
# be parsed or bound fails the start, saying so, before DIR is touched;
# more idle connections than the endpoint's limit neither crash the
# mirror nor stop replication, and are timed out. Real processes,
# 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
	fail "promtool is missing: apt-get install prometheus (scripts/deps.sh)"
command -v curl >/dev/null || fail "curl is missing: apt-get install curl"

W=$MOJIM_TOOLS/mj_workload
CTL=$MOJIM_BIN/mojimctl
# Idle connections held open: more than the endpoint's limit (16), fewer
# than the limit and its listen backlog (16 + 17) together, so every
# connect completes at once (past that, SYNs wait in the kernel).
IDLE=30
IDLE_TIMEOUT_S=5  # the endpoint's per-connection timeout

# workload NAME ARGS...: a random workload on $T/p through the mirror; the
# seq it ended at in SEQ.
workload() {
	local name=$1
	shift
	"$W" --dir "$T/p" --mirror "$MADDR" --mode sync --threads 3 \
		--connections 2 --seed "$RANDOM" "$@" >"$T/w-$name.out" \
		2>"$T/w-$name.log" || fail "$name: workload failed: $(tail -3 "$T/w-$name.log")"
	SEQ=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	[ "${SEQ:-0}" -gt 0 ] || fail "$name: no batch was sent"
}
# metrics_addr LOG: where the last start logged in LOG serves metrics.
metrics_addr() { sed -n 's|.*metrics on http://\(.*\)/metrics$|\1|p' "$1" | tail -1; }
# http ADDR PATH OUT [curl options]: the status code of one request, the
# body in OUT and the headers in OUT.h.
http() {
	local addr=$1 path=$2 out=$3
	shift 3
	curl -sS --max-time 10 -D "$out.h" -o "$out" -w '%{http_code}' "$@" \
		"http://$addr$path" 2>"$out.err" || echo "curl-failed"
}
# scrape ADDR OUT: GET /metrics, a 200 in the 0.0.4 text format.
scrape() {
	local code
	code=$(http "$1" /metrics "$2")
	[ "$code" = 200 ] || fail "GET $1/metrics: $code $(cat "$2.err" "$2" 2>/dev/null)"
	grep -qi '^content-type: text/plain; version=0.0.4' "$2.h" ||
		fail "GET $1/metrics: not the 0.0.4 text format: $(grep -i content-type "$2.h")"
}
# lint OUT: promtool has nothing to say, and every sample's family has its
# HELP and TYPE (promtool takes a sample without TYPE as untyped).
lint() {
	local rc=0
	promtool check metrics <"$1" >"$1.lint" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && [ ! -s "$1.lint" ] ||
		fail "promtool check metrics on $1 (exit $rc): $(cat "$1.lint")"
	awk '/^# HELP / { help[$3] = 1; next }
	     /^# TYPE / { type[$3] = 1; next }
	     /^#/ { next }
	     { name = $1; sub(/\{.*/, "", name)
	       if (!(name in help) || !(name in type)) { print name; bad = 1 }
	       if (name !~ /^mojim_/) { print name " (not mojim_)"; bad = 1 } }
	     END { exit bad }' "$1" >"$1.untyped" ||
		fail "$1: samples without HELP or TYPE, or not mojim_: $(sort -u "$1.untyped" | tr '\n' ' ')"
}
# metric OUT SAMPLE: the value of SAMPLE (its name and labels, exactly).
metric() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }
# same FIGURE A B: a figure of the exposition (A) equals status's (B).
same() { [ "$2" = "$3" ] || fail "$1: metrics say '$2', mojimctl status '$3'"; }
# backup_field FIELD: a field of the first backup's status line ("acked"
# N, "copies" N), or its state with "state".
backup_field() {
	local line
	line=$("$CTL" --dir "$T/m" status | grep -m1 '^backup ')
	if [ "$1" = state ]; then
		sed -n 's/^backup [^ ]*: \([a-z-]*\),.*/\1/p' <<<"$line"
	else
		sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"$line"
	fi
}
# stop PID NAME: SIGTERM, a clean exit (0) within 20 s.
stop() {
	local rc=0
	kill -TERM "$1" 2>/dev/null || true
	wait_gone "$1" 20 || fail "$2 did not stop within 20 s of SIGTERM"
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || fail "$2 exited $rc on SIGTERM"
}

start_mirror "$T/b" 0 --role backup --heartbeat-timeout-ms 1000 \
	--metrics 127.0.0.1:0
BPID=$MIRROR_PID
BADDR=$MIRROR_ADDR
BM=$(metrics_addr "$T/b.log")
[ -n "$BM" ] || fail "the backup did not say where it serves metrics: $(cat "$T/b.log")"
start_mirror "$T/m" 0 --backup "$BADDR" --backup-timeout-ms 3000 \
	--metrics 127.0.0.1:0
MPID=$MIRROR_PID
MADDR=$MIRROR_ADDR
MM=$(metrics_addr "$T/m.log")
[ -n "$MM" ] || fail "the mirror did not say where it serves metrics: $(cat "$T/m.log")"

# A workload, then quiet: the mirror and the backup applied it, and the
# mirror heard the backup's ack of the last batch.
workload first --ops 1000
wait_applied "$T/m" "$SEQ"
wait_applied "$T/b" "$SEQ"
for i in $(seq 1 100); do
	[ "$(backup_field acked)" = "$SEQ" ] && break
	sleep 0.05
done
[ "$(backup_field acked)" = "$SEQ" ] ||
	fail "the backup's ack of $SEQ did not reach the mirror: $("$CTL" --dir "$T/m" status | grep '^backup')"

scrape "$MM" "$T/m.prom"
"$CTL" --dir "$T/m" status >"$T/m.status"
scrape "$BM" "$T/b.prom"
"$CTL" --dir "$T/b" status >"$T/b.status"
lint "$T/m.prom"
lint "$T/b.prom"
st() { sed -n "s/^$2: *//p" "$1" | head -1; }
for k in epoch seq_received seq_durable seq_applied batches_applied \
	bytes_received bytes_placed connections; do
	name=mojim_$k
	case $k in
	bytes_received) name=mojim_received_bytes_total ;;
	bytes_placed) name=mojim_placed_bytes_total ;;
	batches_applied) name=mojim_batches_applied_total ;;
	esac
	same "mirror $name" "$(metric "$T/m.prom" "$name")" "$(st "$T/m.status" "$k")"
done
same "mirror mojim_log_used_bytes" "$(metric "$T/m.prom" mojim_log_used_bytes)" \
	"$(sed -n 's|^log_fill: \([0-9]*\)/.*|\1|p' "$T/m.status")"
same "mirror seq_applied is the workload's" "$(metric "$T/m.prom" mojim_seq_applied)" "$SEQ"
for k in epoch seq_received seq_durable seq_applied batches_applied; do
	name=mojim_$k
	[ "$k" = batches_applied ] && name=mojim_batches_applied_total
	same "backup $name" "$(metric "$T/b.prom" "$name")" "$(st "$T/b.status" "$k")"
done
lb="backup=\"$BADDR\""
same "mojim_backup_seq_acked" "$(metric "$T/m.prom" "mojim_backup_seq_acked{$lb}")" \
	"$(sed -n "s/^backup [^ ]*: [a-z-]*, acked \([0-9]*\),.*/\1/p" "$T/m.status")"
same "mojim_backup_state live" "$(metric "$T/m.prom" "mojim_backup_state{$lb,state=\"live\"}")" 1
for s in down lost needs-copy; do
	same "mojim_backup_state $s" "$(metric "$T/m.prom" "mojim_backup_state{$lb,state=\"$s\"}")" 0
done
same "mojim_backup_lag_batches" "$(metric "$T/m.prom" "mojim_backup_lag_batches{$lb}")" 0
same "the mirror's role" "$(metric "$T/m.prom" 'mojim_role{role="mirror"}')" 1
same "the backup's role" "$(metric "$T/b.prom" 'mojim_role{role="backup"}')" 1
same "the backup's role (mirror)" "$(metric "$T/b.prom" 'mojim_role{role="mirror"}')" 0
same "the backup's status role" "$(st "$T/b.status" role)" backup
same "the backup's health" "$(metric "$T/b.prom" 'mojim_health{state="ok"}')" 1
! grep -q '^mojim_backup_' "$T/b.prom" || fail "a backup shows backups of its own"
note "first: $SEQ batches; both expositions pass promtool ($(wc -l <"$T/m.prom") and $(wc -l <"$T/b.prom") lines) and agree with mojimctl status"

# Only GET /metrics is answered.
code=$(http "$MM" /other "$T/other")
[ "$code" = 404 ] || fail "GET /other: $code, not 404"
code=$(http "$MM" /metrics "$T/post" -X POST --data x=1)
[ "$code" = 405 ] || fail "POST /metrics: $code, not 405"
grep -qi '^allow: GET' "$T/post.h" || fail "the 405 does not say Allow: GET"
code=$(http "$BM" /metrics/x "$T/sub")
[ "$code" = 404 ] || fail "GET /metrics/x on the backup: $code, not 404"
note "paths: /other 404, POST 405 (Allow: GET)"

# start_bad NAME ARGS...: mojim-mirror with ARGS must exit non-zero within
# 10 s, saying why on stderr (in $T/NAME.err), without creating its DIR.
start_bad() {
	local name=$1 rc=0
	shift
	timeout 10 "$@" --listen 127.0.0.1:0 --dir "$T/$name.dir" \
		>/dev/null 2>"$T/$name.err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] ||
		fail "$name: mojim-mirror exited $rc: $(cat "$T/$name.err")"
	[ ! -e "$T/$name.dir" ] || fail "$name: DIR was created before the start failed"
}
start_bad nonsense "$MOJIM_BIN/mojim-mirror" --metrics nonsense
grep -q -- '--metrics: address must be HOST:PORT' "$T/nonsense.err" ||
	fail "--metrics nonsense: unclear: $(cat "$T/nonsense.err")"
start_bad inuse "$MOJIM_BIN/mojim-mirror" --metrics "$MM"
grep -q -- "--metrics $MM: cannot listen on that address (Address already in use)" \
	"$T/inuse.err" || fail "--metrics in use: unclear: $(cat "$T/inuse.err")"
# Port 1 as a user that may not bind it (root may: the check runs as
# nobody, from a copy of the binary nobody can reach).
if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)" -le 1 ]; then
	note "port 1: skipped, this kernel lets every user bind it"
else
	bin=$MOJIM_BIN/mojim-mirror
	as=()
	if [ "$(id -u)" -eq 0 ]; then
		# As root, the start runs as nobody (root may bind port 1).
		# nobody may not reach the build tree (a checkout under a 0700
		# home), so the mirror binary and its DIR's parent go into a
		# directory of their own that nobody can enter; removed at exit.
		NB=$(mktemp -d /dev/shm/mojim-metrics-bin.XXXXXX)
		CLEANUP_HOOKS+=("rm -rf $NB")
		cp "$bin" "$NB/" && chmod 755 "$NB" && bin=$NB/mojim-mirror
		mkdir "$NB/d" && chown 65534:65534 "$NB/d"
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	rc=0
	timeout 10 "${as[@]}" "$bin" --listen 127.0.0.1:0 --dir "${NB:-$T}/d/port1" \
		--metrics 127.0.0.1:1 >/dev/null 2>"$T/port1.err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "--metrics 127.0.0.1:1: exited $rc"
	grep -q -- '--metrics 127.0.0.1:1: cannot listen on that address (Permission denied)' \
		"$T/port1.err" || fail "--metrics 127.0.0.1:1: unclear: $(cat "$T/port1.err")"
	[ ! -e "${NB:-$T}/d/port1" ] || fail "port 1: DIR was created before the start failed"
fi
note "bad starts: nonsense, a port in use and port 1 refused with their reasons"

# More idle connections than the limit: the mirror keeps at most 16 of
# them (the rest wait in the backlog), replication goes on meanwhile, and
# after the timeout they are closed and a scrape is answered again. A
# holder process keeps them open (bash's /dev/tcp), and is killed after.
fds0=$(mirror_fds "$MPID")
mport=${MM##*:}
(
	for i in $(seq 1 "$IDLE"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$mport" || exit 1
	done
	echo held >"$T/idle.ready"
	exec sleep 60
) 2>"$T/idle.err" &
IDLE_PID=$!
STARTED_PIDS+=("$IDLE_PID")
for i in $(seq 1 200); do
	[ -s "$T/idle.ready" ] && break
	kill -0 "$IDLE_PID" 2>/dev/null || fail "the idle connections could not be opened: $(cat "$T/idle.err")"
	sleep 0.05
done
[ -s "$T/idle.ready" ] || fail "$IDLE idle connections were not opened within 10 s"
t_idle=$(now_s)
sleep 0.3
fds1=$(mirror_fds "$MPID")
[ "$fds1" -le $((fds0 + 16)) ] ||
	fail "$IDLE idle connections: the mirror holds $fds1 descriptors, $fds0 before (limit 16)"
workload idle --ops 300
wait_applied "$T/m" "$SEQ"
wait_applied "$T/b" "$SEQ"
kill -0 "$MPID" 2>/dev/null || fail "the mirror died under idle connections"
# A scrape waits in the backlog while the limit is reached (curl gives up
# after 10 s); the idle ones go after IDLE_TIMEOUT_S.
ok=""
deadline=$((SECONDS + IDLE_TIMEOUT_S + 15))
while [ "$SECONDS" -lt "$deadline" ]; do
	if [ "$(http "$MM" /metrics "$T/idle.prom")" = 200 ]; then
		ok=1
		break
	fi
	sleep 0.1
done
t_ok=$(now_s)
[ -n "$ok" ] || fail "no scrape answered within $((IDLE_TIMEOUT_S + 15)) s of $IDLE idle connections"
same "seq_applied under idle connections" "$(metric "$T/idle.prom" mojim_seq_applied)" "$SEQ"
# Those that waited in the backlog were taken when the first ones went,
# and go one timeout later.
deadline=$((SECONDS + 2 * IDLE_TIMEOUT_S + 5))
while [ "$SECONDS" -lt "$deadline" ] && [ "$(mirror_fds "$MPID")" -gt $((fds0 + 1)) ]; do
	sleep 0.1
done
[ "$(mirror_fds "$MPID")" -le $((fds0 + 1)) ] ||
	fail "idle connections were not timed out: $(mirror_fds "$MPID") descriptors, $fds0 before"
t_gone=$(now_s)
kill -KILL "$IDLE_PID" 2>/dev/null || true
wait "$IDLE_PID" 2>/dev/null || true
note "idle: $IDLE idle connections held ($fds1 descriptors, $fds0 before), $SEQ batches replicated meanwhile, a scrape answered $(ms_between "$t_idle" "$t_ok") ms and all closed by the mirror $(ms_between "$t_idle" "$t_gone") ms after they came"

stop "$MPID" "the mirror"
stop "$BPID" "the backup"
grep -q "stopped, applied_seq $SEQ" "$T/m.log" || fail "the mirror did not stop cleanly: $(tail -3 "$T/m.log")"
echo "metrics: passed"
