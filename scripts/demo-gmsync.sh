#!/usr/bin/env bash
# demo.sh: the main job. A mirror on loopback, a primary running a
# randomized multi-thread gmsync workload replicated to it in sync mode,
# then the check that the mirror's copy equals the primary's, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
export PMEM_IS_PMEM_FORCE=1
B=${BUILD:-build}
T=$(mktemp -d /dev/shm/mojim-demo.XXXXXX)
mirror_pid=
cleanup() {
	[ -n "$mirror_pid" ] && kill "$mirror_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

"$B/mirror/mojim-mirror" --listen 127.0.0.1:0 --dir "$T/mirror" 2>"$T/mirror.log" &
mirror_pid=$!
for _ in $(seq 1 200); do
	grep -q 'listening on' "$T/mirror.log" && break
	sleep 0.05
done
addr=$(sed -nE 's/.*listening on ([^ ]+).*/\1/p' "$T/mirror.log" | head -1)
[ -n "$addr" ] || { cat "$T/mirror.log"; echo "demo: mirror did not start"; exit 1; }
echo "demo: mirror listening on $addr, its directory $T/mirror"

echo "demo: primary: 4 threads, 20000 sync points, mode sync, 2 connections"
"$B/tests/mj_workload" --dir "$T/primary" --mirror "$addr" --mode sync \
	--threads 4 --ops 20000 --connections 2 | tee "$T/workload.out"
seq=$(sed -n 's/^seq_sent //p' "$T/workload.out")
"$B/mirror/mojimctl" --dir "$T/mirror" wait-applied "$seq" --timeout-ms 60000 >/dev/null
echo "demo: mirror status:"
"$B/mirror/mojimctl" --dir "$T/mirror" status | sed 's/^/  /'
if diff -r "$T/primary" "$T/mirror/data" >/dev/null; then
	echo "demo: OK: the mirror's copy equals the primary's, byte for byte" \
		"($(du -sh "$T/primary" | cut -f1), $(find "$T/primary" -type f | wc -l) files)"
else
	echo "demo: FAILED: the mirror's copy differs from the primary's"
	exit 1
fi
