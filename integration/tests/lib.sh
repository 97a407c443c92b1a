# lib.sh: shared by the mojim-docd tests (sourced). On top of
# tests/proc/lib.sh (a temporary folder in /dev/shm, every process killed
# and every file removed at exit, start_mirror): a daemon on 127.0.0.1 and
# the real MongoDB clients, mongosh and the Node driver, from the npm
# packages the test command installs in integration/tests/js.
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/proc/lib.sh"
: "${MOJIM_DOCD:?MOJIM_DOCD must name the mojim-docd binary}"
JS=$(cd "$(dirname "${BASH_SOURCE[0]}")/js" && pwd)
# The TSan build: races through WiredTiger's frames are not reported (see
# the file); other builds ignore TSAN_OPTIONS.
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(dirname "$JS")/tsan-wiredtiger.supp"
[ -x "$JS/node_modules/.bin/mongosh" ] ||
	fail "the clients are not installed: npm ci --prefix $JS (scripts/deps.sh does it)"

# start_docd DBPATH [mojim-docd options...]: DOCD_PID, DOCD_PORT, DOCD_URI;
# the log is DBPATH.log.
start_docd() {
	local db=$1
	shift
	local log=$db.log before line i
	touch "$log"
	before=$(wc -l <"$log")
	"$MOJIM_DOCD" --dbpath "$db" --port 0 "$@" 2>>"$log" &
	DOCD_PID=$!
	STARTED_PIDS+=("$DOCD_PID")
	for i in $(seq 1 300); do
		line=$(tail -n +"$((before + 1))" "$log" | grep -m1 'listening on' || true)
		[ -n "$line" ] && break
		kill -0 "$DOCD_PID" 2>/dev/null || fail "mojim-docd exited at start: $(tail -3 "$log")"
		sleep 0.05
	done
	[ -n "$line" ] || fail "mojim-docd did not listen within 15 s"
	DOCD_PORT=$(sed -E 's/.*listening on [^ ]*:([0-9]+) .*/\1/' <<<"$line")
	DOCD_URI="mongodb://127.0.0.1:$DOCD_PORT/?directConnection=true"
}

# stop_docd: SIGTERM, and it must exit 0 (a clean close).
stop_docd() {
	kill -TERM "$DOCD_PID" 2>/dev/null || true
	local rc=0
	wait "$DOCD_PID" 2>/dev/null || rc=$?
	[ "$rc" -eq 0 ] || fail "mojim-docd exited $rc on SIGTERM"
}

kill_docd() {
	kill -KILL "$DOCD_PID" 2>/dev/null || true
	wait "$DOCD_PID" 2>/dev/null || true
}

# mongosh_run SCRIPT.js OUT: runs a mongosh script against the daemon.
mongosh_run() {
	timeout 120 "$JS/node_modules/.bin/mongosh" --quiet --norc "$DOCD_URI" \
		"$1" >"$2" 2>&1 || fail "mongosh $1 failed: $(tail -5 "$2")"
}

# node_run SCRIPT.js ARGS...: the Node driver; its output on stdout.
node_run() {
	NODE_PATH="$JS/node_modules" timeout 300 node "$@"
}
