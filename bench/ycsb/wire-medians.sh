#!/usr/bin/env bash
# wire-medians.sh CSV: run-wire.sh's rows reduced to one per size, mode,
# step, op and thread count: the median of every figure over the runs
# (the "run" column), with "runs" saying how many there were. report-wire.sh
# and plot-wire.sh read this, so a figure is a median wherever it shows.
# Keys keep the order of their first row.
set -euo pipefail
awk -F, '
function median(k, c,    n, i, j, t, a) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = val[k, c, i] + 0
	for (i = 2; i <= n; i++) # insertion sort: a handful of runs
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
NR == 1 {
	for (i = 1; i <= NF; i++) if ($i != "run") { h[$i] = i; name[++nf] = $i }
	nkey = split("size mode step op threads", keycol, " ")
	for (i = 1; i <= nkey; i++) iskey[keycol[i]] = 1
	for (i = 1; i <= nf; i++) printf "%s,", name[i]
	print "runs"
	next
}
{
	k = ""
	for (i = 1; i <= nkey; i++) k = k $h[keycol[i]] SUBSEP
	if (!(k in cnt)) { keys[++nk] = k; for (i = 1; i <= nf; i++) first[k, i] = $h[name[i]] }
	n = ++cnt[k]
	for (i = 1; i <= nf; i++) val[k, i, n] = $h[name[i]]
}
END {
	for (x = 1; x <= nk; x++) {
		k = keys[x]
		for (i = 1; i <= nf; i++) {
			if (iskey[name[i]] || name[i] == "records")
				printf "%s,", first[k, i]
			else
				printf "%.10g,", median(k, i)
		}
		print cnt[k]
	}
}' "$1"
