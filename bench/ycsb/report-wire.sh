#!/usr/bin/env bash
# report-wire.sh CSV: run-wire.sh's summary in Markdown: per mode and
# thread count, each step's ops/s, p50 and p99 (us) with j:true
# ("journal") and w:1 side by side, then issue 13's two targets, with the
# same ratios at every thread count. Every figure is the median over the
# CSV's runs (wire-medians.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/wire-medians.sh" "$1" | awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
$h["op"] != "ALL" { next }
{
	k = $h["size"] SUBSEP $h["mode"] SUBSEP $h["threads"] SUBSEP $h["step"]
	if (!runs || $h["runs"] < runs) runs = $h["runs"]
	ops[k] = $h["ops_s"]; p50[k] = $h["p50_us"]; p99[k] = $h["p99_us"]
	if (!($h["size"] in sz)) { sz[$h["size"]] = 1; sizes[++ns] = $h["size"] }
	if (!($h["threads"] in th)) { th[$h["threads"]] = 1; thr[++nt] = $h["threads"] }
}
function cell(k) { return (k in ops) ? sprintf("%d (%.0f / %.0f)", ops[k], p50[k], p99[k]) : "-" }
END {
	n = split("load a b c f d e insert", steps, " ")
	print "# YCSB over the wire against mojim-docd"
	print ""
	print "ops/s (p50 / p99 us), each the median of " runs " runs or more; j:true = every write waits for the journal (through mojim: the mirror in sync modes)."
	for (s = 1; s <= ns; s++) {
		if (sizes[s] == "in-process") continue
		printf "\n## %s\n\n| step |", sizes[s]
		for (t = 1; t <= nt; t++) printf " %s thr j:true | %s thr w:1 |", thr[t], thr[t]
		printf "\n|---|"; for (t = 1; t <= nt; t++) printf "---|---|"; print ""
		for (i = 1; i <= n; i++) {
			printf "| %s |", toupper(steps[i])
			for (t = 1; t <= nt; t++) {
				b = sizes[s] SUBSEP "wire_"
				printf " %s | %s |", cell(b "journal" SUBSEP thr[t] SUBSEP steps[i]),
				       cell(b "w1" SUBSEP thr[t] SUBSEP steps[i])
			}
			print ""
		}
	}
	printf "\n## in-process, mode sync\n\n| step |"
	for (t = 1; t <= nt; t++) printf " %s thr |", thr[t]
	printf "\n|---|"; for (t = 1; t <= nt; t++) printf "---|"; print ""
	for (i = 1; i <= n; i++) {
		printf "| %s |", toupper(steps[i])
		for (t = 1; t <= nt; t++) printf " %s |", cell("in-process" SUBSEP "sync" SUBSEP thr[t] SUBSEP steps[i])
		print ""
	}
	T = thr[nt]
	print "\n## Targets (YCSB-A, mode sync, " T " threads)\n"
	target(T, "- ")
	print "\nThe same ratios at every thread count:\n"
	for (t = 1; t <= nt; t++) target(thr[t], "- " thr[t] " threads: ")
}
function target(T, lead,    j, w, ip) {
	j = ops["docd-sync" SUBSEP "wire_journal" SUBSEP T SUBSEP "a"]
	w = ops["docd-sync" SUBSEP "wire_w1" SUBSEP T SUBSEP "a"]
	ip = ops["in-process" SUBSEP "sync" SUBSEP T SUBSEP "a"]
	if (w > 0)
		printf "%sj:true at least 70%% of w:1: %d / %d = %.2f: **%s**\n", lead, j, w, j / w, (j / w >= 0.7 ? "met" : "short")
	if (ip > 0)
		printf "%sover the wire (j:true) at least half of in-process: %d / %d = %.2f: **%s**\n", lead, j, ip, j / ip, (j / ip >= 0.5 ? "met" : "short")
}'
