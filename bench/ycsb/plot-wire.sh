#!/usr/bin/env bash
# plot-wire.sh CSV OUT: run-wire.sh's PNGs, drawn with gnuplot from its
# CSV. Per mode of mojim-docd (OUT/wire-MODE-{throughput,p50,p99}.png):
# each YCSB step with every thread count, j:true and w:1 side by side, so
# what the journal wait costs reads off neighbouring bars. And
# OUT/wire-a-threads.png: YCSB-A's throughput against client threads for
# every mode and write concern, with the in-process sync figure beside.
# Every figure is the median over the CSV's runs (wire-medians.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csv=$1 out=$2
command -v gnuplot >/dev/null || { echo "plot-wire.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/wire-medians.sh" "$csv" >"$tmp/medians.csv"
csv=$tmp/medians.csv

# by_step SIZE COLUMN: rows = steps, columns = THREADS x {j:true, w:1}
# (the second load, before E, left out).
by_step() {
	awk -F, -v size="$1" -v col="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$h["op"] != "ALL" || $h["size"] != size || $h["step"] == "reload" { next }
	{
		k = $h["step"] SUBSEP $h["threads"] SUBSEP $h["mode"]
		v[k] = $h[col]
		if (!($h["step"] in ss)) { ss[$h["step"]] = 1; steps[++ns] = $h["step"] }
		if (!($h["threads"] in ts)) { ts[$h["threads"]] = 1; thr[++nt] = $h["threads"] }
	}
	END {
		split("wire_journal wire_w1", wc, " "); split("j:true w:1", name, " ")
		printf "step"
		for (t = 1; t <= nt; t++) for (w = 1; w <= 2; w++)
			printf "\t%s thr %s", thr[t], name[w]
		print ""
		for (i = 1; i <= ns; i++) {
			printf "%s", toupper(steps[i])
			for (t = 1; t <= nt; t++) for (w = 1; w <= 2; w++) {
				k = steps[i] SUBSEP thr[t] SUBSEP wc[w]
				printf "\t%s", ((k in v) ? v[k] : "NaN")
			}
			print ""
		}
	}' "$csv"
}

# a_by_threads: rows = thread counts, columns = SIZE/WRITE-CONCERN, YCSB-A.
a_by_threads() {
	awk -F, '
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$h["op"] != "ALL" || $h["step"] != "a" { next }
	{
		sub(/^docd-/, "", $h["size"]); sub(/^wire_journal$/, "j:true", $h["mode"])
		sub(/^wire_w1$/, "w:1", $h["mode"])
		c = $h["size"] " " $h["mode"]
		v[$h["threads"] SUBSEP c] = $h["ops_s"]
		if (!(c in cs)) { cs[c] = 1; cols[++nc] = c }
		if (!($h["threads"] in ts)) { ts[$h["threads"]] = 1; thr[++nt] = $h["threads"] }
	}
	END {
		printf "threads"; for (c = 1; c <= nc; c++) printf "\t%s", cols[c]; print ""
		for (t = 1; t <= nt; t++) {
			printf "%s", thr[t]
			for (c = 1; c <= nc; c++) {
				k = thr[t] SUBSEP cols[c]
				printf "\t%s", ((k in v) ? v[k] : "NaN")
			}
			print ""
		}
	}' "$csv"
}

# bars DATA PNG TITLE YLABEL
bars() {
	local n
	n=$(head -1 "$1" | awk -F'\t' '{ print NF }')
	gnuplot <<GP
set terminal pngcairo size 1000,440 font "sans,9" noenhanced
set output "$2"
set datafile separator "\t"
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

# lines DATA PNG TITLE YLABEL
lines() {
	local n
	n=$(head -1 "$1" | awk -F'\t' '{ print NF }')
	gnuplot <<GP
set terminal pngcairo size 900,440 font "sans,9" noenhanced
set output "$2"
set datafile separator "\t"
set title "$3"
set xlabel "client threads"
set ylabel "$4"
set logscale x 2
set key outside right top
set grid
plot for [i=2:$n] "$1" using 1:i with linespoints lw 2 title columnheader(i)
GP
}

sizes=$(awk -F, 'NR > 1 && $1 ~ /^docd-/ && !s[$1]++ { print $1 }' "$csv")
for size in $sizes; do
	mode=${size#docd-}
	by_step "$size" ops_s >"$tmp/tput"
	by_step "$size" p50_us >"$tmp/p50"
	by_step "$size" p99_us >"$tmp/p99"
	bars "$tmp/tput" "$out/wire-$mode-throughput.png" \
		"mojim-docd, mode $mode: throughput per YCSB step" "operations/s"
	bars "$tmp/p50" "$out/wire-$mode-p50.png" \
		"mojim-docd, mode $mode: median latency per operation" "us"
	bars "$tmp/p99" "$out/wire-$mode-p99.png" \
		"mojim-docd, mode $mode: p99 latency per operation" "us"
done
a_by_threads >"$tmp/a"
lines "$tmp/a" "$out/wire-a-threads.png" \
	"YCSB-A: over the wire (mode, write concern) and in-process sync" "operations/s"
