#!/usr/bin/env bash
# run-tier.sh [--quick] [--csv-dir DIR]: the secondary tier side by side in
# one run (issue 11; the paper's Figures 6-7): 4 KB gmsync latency and
# throughput (mojim-bench --only tier), then WiredTiger commits per second
# through the extension (mojim-wtbench), each for sync (the mirror alone),
# syncsec1 and syncsec2 (one and two backups on loopback), syncseceth (a
# backup behind a 10 Mbit/s proxy, --secondary-thresh 4M) and chain (one
# backup, --chain), the settings alternated over 3 rounds with fresh
# processes for each measurement; medians of the rounds. Builds build/ if
# needed (bench/run-wt.sh). About 4.5 minutes; --quick about 1.
#   bench/run-tier.sh --csv-dir /tmp/tier   # tier-gmsync.csv, tier-wt.csv
set -euo pipefail
cd "$(dirname "$0")/.."
quick=() seconds=2 csvdir=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=(--quick) seconds=0.5 ;;
	--csv-dir) csvdir=$2; shift ;;
	*) echo "usage: bench/run-tier.sh [--quick] [--csv-dir DIR]" >&2; exit 2 ;;
	esac
	shift
done
gm_csv=() wt_csv=()
if [ -n "$csvdir" ]; then
	mkdir -p "$csvdir"
	gm_csv=(--csv "$csvdir/tier-gmsync.csv")
	wt_csv=(--csv "$csvdir/tier-wt.csv")
fi
bash bench/run-wt.sh --only sync --threads 1 --seconds 0.1 >/dev/null # builds
echo "=== 4 KB gmsync (mojim-bench --only tier)"
build/bench/mojim-bench --only tier "${quick[@]}" "${gm_csv[@]}"
echo
echo "=== WiredTiger commits (mojim-wtbench, 1 KB inserts, 1 and 4 threads)"
build/bench/mojim-wtbench --only sync,syncsec1,syncsec2,syncseceth,chain \
	--threads 1,4 --rounds 3 --seconds "$seconds" "${wt_csv[@]}" |
	grep -v '^target '
