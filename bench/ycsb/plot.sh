#!/usr/bin/env bash
# plot.sh OUT SIZE: PNGs from OUT/ycsb-SIZE.csv and OUT/insert-SIZE.csv
# with gnuplot: throughput, mean and p99 latency per workload and mode
# (the paper's Figure 14 plots mean latency), and the insert micro
# benchmark's mean latency and throughput per mode (Figures 12-13).
set -euo pipefail
out=$1 sz=$2
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# table CSV COLUMN: rows = steps, columns = modes (first row of each).
table() {
	awk -F, -v col="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$4 != "ALL" { next }
	{
		k = $3 SUBSEP $2
		if (k in v) next
		v[k] = $h[col]
		seen[$2] = 1
		if (!($3 in sseen)) { sseen[$3] = 1; steps[++ns] = $3 }
	}
	END {
		# a fixed order, so a mode has the same colour in every plot
		n = split("journaled buffered none unreplicated sync sync_spin syncflush async", all, " ")
		for (i = 1; i <= n; i++) if (all[i] in seen) modes[++nm] = all[i]
		printf "step"; for (j = 1; j <= nm; j++) printf " %s", modes[j]; print ""
		for (i = 1; i <= ns; i++) {
			printf "%s", toupper(steps[i])
			for (j = 1; j <= nm; j++) {
				k = steps[i] SUBSEP modes[j]
				printf " %s", (k in v) ? v[k] : "NaN"
			}
			print ""
		}
	}' "$1"
}

# bars DATA PNG TITLE YLABEL
bars() {
	local n
	n=$(head -1 "$1" | wc -w)
	gnuplot <<GP
set terminal pngcairo size 900,420 font "sans,9" noenhanced
set output "$2"
set title "$3"
set ylabel "$4"
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key outside right top
set grid ytics
plot for [i=2:$n] "$1" using i:xtic(1) title columnheader(i)
GP
}

if [ -s "$out/ycsb-$sz.csv" ]; then
	c=$out/ycsb-$sz.csv
	table "$c" ops_s >"$tmp/tput"
	table "$c" mean_us >"$tmp/mean"
	table "$c" p99_us >"$tmp/p99"
	bars "$tmp/tput" "$out/ycsb-$sz-throughput.png" \
		"YCSB ($sz): throughput per workload and mode" "operations/s"
	bars "$tmp/mean" "$out/ycsb-$sz-latency.png" \
		"YCSB ($sz): mean latency per operation (Figure 14)" "us"
	bars "$tmp/p99" "$out/ycsb-$sz-p99.png" \
		"YCSB ($sz): p99 latency per operation" "us"
fi
if [ -s "$out/insert-$sz.csv" ]; then
	c=$out/insert-$sz.csv
	table "$c" mean_us >"$tmp/imean"
	table "$c" ops_s >"$tmp/itput"
	bars "$tmp/imean" "$out/insert-$sz-latency.png" \
		"Inserts of 10 x 100-byte documents ($sz): mean latency (Figure 12)" "us"
	bars "$tmp/itput" "$out/insert-$sz-throughput.png" \
		"Inserts of 10 x 100-byte documents ($sz): inserts/s (Figure 13)" "inserts/s"
fi
