#!/usr/bin/env bash
# report.sh OUT SIZE: a markdown table of OUT/ycsb-SIZE.csv and
# OUT/insert-SIZE.csv (throughput, mean latency per step and mode) and
# the targets for YCSB-A, written to OUT/summary-SIZE.md and shown.
set -euo pipefail
out=$1 sz=$2
files=()
for f in "$out/ycsb-$sz.csv" "$out/insert-$sz.csv"; do [ -s "$f" ] && files+=("$f"); done
[ ${#files[@]} -gt 0 ] || exit 0
awk -F, '
FNR == 1 { next }
$4 != "ALL" { next }
{
	k = $3 SUBSEP $2
	if (k in tput) next   # the first load of a mode (E has its own)
	tput[k] = $9; mean[k] = $10; p99[k] = $13
	if (!($2 in ms)) { ms[$2] = 1; modes[++nm] = $2 }
	if (!($3 in ss)) { ss[$3] = 1; steps[++ns] = $3 }
}
function cell(k) { return (k in tput) ? sprintf("%.0f (%.1f)", tput[k], mean[k]) : "-" }
function ratio(a, b, goal, name,   ka, kb, x) {
	ka = "a" SUBSEP a; kb = "a" SUBSEP b
	if (!(ka in tput) || !(kb in tput) || tput[kb] <= 0) {
		printf "target %s: not measured\n", name; return
	}
	x = tput[ka] / tput[kb]
	printf "target %s: %.2f (target >= %g) %s\n", name, x, goal, ((x >= goal) ? "OK" : "SHORT")
}
END {
	printf "| step |"; for (j = 1; j <= nm; j++) printf " %s |", modes[j]; print ""
	printf "|---|"; for (j = 1; j <= nm; j++) printf "---|"; print ""
	for (i = 1; i <= ns; i++) {
		printf "| %s |", toupper(steps[i])
		for (j = 1; j <= nm; j++) printf " %s |", cell(steps[i] SUBSEP modes[j])
		print ""
	}
	print ""
	ratio("sync", "none", 0.9, "A_sync_vs_none")
	ratio("sync", "journaled", 10, "A_sync_vs_journaled")
	ratio("sync_spin", "none", 0.9, "A_sync_spin_vs_none")
	ratio("sync_spin", "journaled", 10, "A_sync_spin_vs_journaled")
}' "${files[@]}" | tee "$out/summary-$sz.md"
