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
. scripts/demo-lib.sh
W=$B/tests/engine/wt_workload
EXT_SO=$(readlink -f "$B/engine/libmojim_wt.so")
demo_start_mirror
addr=$MIRROR_ADDR

ext="extensions=[$EXT_SO=(early_load=true,config={mode=sync,mirror=\"$addr\"})]"
mkdir "$T/primary"
echo "demo: WiredTiger through the extension: 4 threads, 5 s, fsync per commit"
"$W" run "$T/primary" "$ext" 5 | sed 's/^/  /'
"$W" dump "$T/primary" "$ext" "$T/primary.dump" | sed 's/^/  primary after reopen and verify: /'
seq=$("$B/mirror/mojimctl" --dir "$T/mirror" status | sed -n 's/^seq_durable: //p')
"$B/mirror/mojimctl" --dir "$T/mirror" wait-applied "$seq" --timeout-ms 60000 >/dev/null
echo "demo: mirror status:"
"$B/mirror/mojimctl" --dir "$T/mirror" status | sed 's/^/  /'
demo_stop_mirror
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
