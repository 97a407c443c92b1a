#!/usr/bin/env bash
# demo.sh: the main job. A mirror on loopback; WiredTiger, through the
# libmojim_wt.so extension in sync mode, runs a 4-thread workload (inserts,
# updates, deletes, fsync per commit, checkpoints, log archiving) whose
# every commit is made durable by the mirror instead of a local journal
# flush. Then the mirror is stopped, and stock WiredTiger (no extension)
# opens the mirror's copy, recovers and verifies it, and holds exactly the
# primary's rows.
set -euo pipefail
cd "$(dirname "$0")/.."
export PMEM_IS_PMEM_FORCE=1
B=${BUILD:-build}
W=$B/tests/engine/wt_workload
EXT_SO=$(readlink -f "$B/engine/libmojim_wt.so")
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
echo "demo: mirror listening on $addr, its copy in $T/mirror/data"

ext="extensions=[$EXT_SO=(early_load=true,config={mode=sync,mirror=\"$addr\"})]"
mkdir "$T/primary"
echo "demo: WiredTiger through the extension: 4 threads, 5 s, fsync per commit"
"$W" run "$T/primary" "$ext" 5 | sed 's/^/  /'
"$W" dump "$T/primary" "$ext" "$T/primary.dump" | sed 's/^/  primary after reopen and verify: /'
seq=$("$B/mirror/mojimctl" --dir "$T/mirror" status | sed -n 's/^seq_durable: //p')
"$B/mirror/mojimctl" --dir "$T/mirror" wait-applied "$seq" --timeout-ms 60000 >/dev/null
echo "demo: mirror status:"
"$B/mirror/mojimctl" --dir "$T/mirror" status | sed 's/^/  /'
kill "$mirror_pid"
wait "$mirror_pid" 2>/dev/null || true
mirror_pid=
echo "demo: mirror stopped; stock WiredTiger (no extension) opens its copy:"
"$W" dump "$T/mirror/data" "" "$T/replica.dump" | sed 's/^/  replica after recovery and verify: /'
echo "demo: first rows of the copy:"
head -3 "$T/replica.dump" | cut -c1-100 | sed 's/^/  /'
if cmp -s "$T/primary.dump" "$T/replica.dump"; then
	echo "demo: OK: the mirror's copy holds exactly the primary's $(wc -l <"$T/replica.dump") rows"
else
	echo "demo: FAILED: the mirror's copy differs from the primary"
	exit 1
fi
