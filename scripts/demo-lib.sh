# demo-lib.sh: sourced by the demos. A temporary directory under /dev/shm
# (emulated pmem) and a mirror on 127.0.0.1, both removed on exit.
# Sets T, B, MIRROR_ADDR, MIRROR_PID.
set -euo pipefail
export PMEM_IS_PMEM_FORCE=1
B=${BUILD:-build}
T=$(mktemp -d /dev/shm/mojim-demo.XXXXXX)
MIRROR_PID=
demo_cleanup() {
	[ -n "$MIRROR_PID" ] && kill "$MIRROR_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap demo_cleanup EXIT

# demo_start_mirror: mojim-mirror on a free port of 127.0.0.1, dir $T/mirror.
demo_start_mirror() {
	"$B/mirror/mojim-mirror" --listen 127.0.0.1:0 --dir "$T/mirror" 2>"$T/mirror.log" &
	MIRROR_PID=$!
	for _ in $(seq 1 200); do
		grep -q 'listening on' "$T/mirror.log" && break
		sleep 0.05
	done
	MIRROR_ADDR=$(sed -nE 's/.*listening on ([^ ]+).*/\1/p' "$T/mirror.log" | head -1)
	[ -n "$MIRROR_ADDR" ] || { cat "$T/mirror.log"; echo "demo: mirror did not start"; exit 1; }
	echo "demo: mirror listening on $MIRROR_ADDR, its directory $T/mirror"
}

# demo_stop_mirror: SIGTERM (the mirror applies what is complete) and wait.
demo_stop_mirror() {
	kill "$MIRROR_PID"
	wait "$MIRROR_PID" 2>/dev/null || true
	MIRROR_PID=
}
