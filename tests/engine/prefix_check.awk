# prefix_check.awk: is a replica a prefix of what a killed `wt_workload
# crash` committed, and how many committed transactions does it lack?
#   awk -f prefix_check.awk REPORT DUMP
# REPORT and DUMP as for crash_check.awk. Keys are per thread, so each
# thread's rows in the replica must be exactly the state after its first n
# transactions, for some n (a batch is applied whole and in order, and a
# thread's transactions commit in order); the loss is the number of its
# committed transactions after the largest such n. The transaction under
# way at the kill (announced, not reported committed) counts as a step
# that may be there; one whose commit failed earlier is never applied.
# Prints "commits N lost L worst-thread W"; exit 1 if some thread's rows
# are no prefix (or a row holds a key nobody wrote).
BEGIN { FS = "[ \t]"; bad = 0 }
FNR == NR && $1 == "P" {
	t = $2; n = $3
	if (!((t, n) in np)) {
		ord[t, ++nt[t]] = n
		threads[t] = 1
	}
	i = ++np[t, n]
	wk[t, n, i] = $4 SUBSEP $5
	wv[t, n, i] = $6
	owner[$4 SUBSEP $5] = t
	last[t] = n
	next
}
FNR == NR && $1 == "C" { done[$2, $3] = 1; commits++; next }
FNR == NR { next }
{ got[$1 SUBSEP $2] = $3 }
function g(k) { return (k in got) ? got[k] : "-" }
END {
	for (k in got) {
		if (!(k in owner)) {
			split(k, kk, SUBSEP)
			printf "%s %s: a row no transaction wrote\n", kk[1], kk[2]
			bad = 1
		} else
			mism[owner[k]]++ # the state before any transaction: empty
	}
	lost = 0; worst = 0
	for (t in threads) {
		best = mism[t] ? -1 : 0
		for (j = 1; j <= nt[t]; j++) {
			n = ord[t, j]
			if (!((t, n) in done) && n != last[t])
				continue # its commit failed: never applied
			for (i = 1; i <= np[t, n]; i++) {
				k = wk[t, n, i]
				cur = (k in st) ? st[k] : "-"
				before = (cur != g(k))
				st[k] = wv[t, n, i]
				mism[t] += (st[k] != g(k)) - before
			}
			if (mism[t] == 0)
				best = j
		}
		if (best < 0) {
			printf "thread %s: its rows are no prefix of its transactions\n", t
			bad = 1
			continue
		}
		l = 0
		for (j = best + 1; j <= nt[t]; j++)
			if ((t, ord[t, j]) in done)
				l++
		lost += l
		if (l > worst)
			worst = l
	}
	if (bad)
		exit 1
	printf "commits %d lost %d worst-thread %d\n", commits, lost, worst
}
