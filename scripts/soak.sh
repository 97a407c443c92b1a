#!/usr/bin/env bash
# soak.sh: the two nemesis tests side by side, for longer than ctest's
# 900 s limit allows (the TIMEOUT property of a test beats ctest --timeout).
#
#   bash scripts/soak.sh WT_SOAK GMSYNC_SOAK [BUILD_DIR]
#
# WT_SOAK and GMSYNC_SOAK are MOJIM_SOAK for nemesis_wiredtiger (12 steps
# each, ~8 s a step here when both run) and nemesis_gmsync (14 steps each,
# ~3 s a step): 18 and 45 run about 30 minutes. BUILD_DIR is a plain build
# (default build/). MOJIM_SEED (default random) and MOJIM_KEEP_ON_FAIL
# pass through. Each log is in /tmp/mojim-soak.*; the summary lines
# ("faults: ...") and the verdicts are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: soak.sh WT_SOAK GMSYNC_SOAK [BUILD_DIR]" >&2; exit 2; }
B=$(cd "${3:-build}" && pwd)
[ -f "$B/engine/libmojim_wt.so" ] || { echo "soak.sh: no plain build in $B" >&2; exit 2; }
export PMEM_IS_PMEM_FORCE=1 MOJIM_BIN=$B/mirror MOJIM_TOOLS=$B/tests \
	MOJIM_ENGINE=$B/engine/libmojim_wt.so MOJIM_ENGINE_TOOLS=$B/tests/engine \
	MOJIM_WT_PRELOAD= MOJIM_SEED=${MOJIM_SEED:-random}
out=$(mktemp -d /tmp/mojim-soak.XXXXXX)
MOJIM_SOAK=$1 bash tests/nemesis/wiredtiger.sh >"$out/wiredtiger.log" 2>&1 &
wt=$!
MOJIM_SOAK=$2 bash tests/nemesis/gmsync.sh >"$out/gmsync.log" 2>&1 &
gm=$!
status=0
wait "$wt" || status=1
wait "$gm" || status=1
for t in wiredtiger gmsync; do
	echo "== $t ($out/$t.log)"
	grep -E "^# seed|^# faults|passed|FAIL" "$out/$t.log" || true
done
exit $status
