#!/usr/bin/env bash
# demo.sh: the main job. A mirror on loopback, a primary running a
# randomized multi-thread gmsync workload replicated to it in sync mode,
# then the check that the mirror's copy equals the primary's, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-lib.sh
demo_start_mirror
addr=$MIRROR_ADDR

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
