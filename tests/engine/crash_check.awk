# crash_check.awk: compares the report of a killed `wt_workload crash`
# with a dump of the replica (`wt_workload dump`).
#   awk -v strict=1 -f crash_check.awk REPORT DUMP
# REPORT: "P THREAD TXN TABLE KEY VALUE" before a commit ("-": a delete),
# "C THREAD TXN" after it returned. DUMP: "TABLE<tab>KEY<tab>VALUE" rows.
# strict (sync, syncflush): every reported commit is there with its value.
# The one transaction per thread announced but not reported committed may
# be there or not (the kill came during its commit), but whole. Keys are
# per thread, so the threads' transactions never touch the same key.
# Not strict (async): the replica may lag, so each row only has to hold a
# value its key was given at some point.
# Prints "commits N in-flight-present M" on success; exit 1 on a mismatch.
BEGIN { FS = "[ \t]"; bad = 0 }
FNR == NR && $1 == "P" {
	t = $2; n = $3; k = $4 SUBSEP $5
	pc[t, n]++
	pk[t, n, pc[t, n]] = k
	pv[t, n, pc[t, n]] = $6
	lastp[t] = n
	ever[k, $6] = 1
	next
}
FNR == NR && $1 == "C" {
	t = $2; n = $3
	for (i = 1; i <= pc[t, n]; i++) {
		exp_[pk[t, n, i]] = pv[t, n, i]
		delete pk[t, n, i]
		delete pv[t, n, i]
	}
	lastc[t] = n
	commits++
	next
}
FNR == NR { next }
{ got[$1 SUBSEP $2] = $3 }
END {
	# the in-flight transaction of each thread: its last write per key
	for (t in lastp) {
		if (lastp[t] == lastc[t])
			continue
		n = lastp[t]
		for (i = 1; i <= pc[t, n]; i++) {
			may[pk[t, n, i]] = pv[t, n, i]
			owner[pk[t, n, i]] = t
		}
	}
	for (k in got)
		if (!(k in exp_))
			exp_[k] = "-"
	for (k in exp_) {
		e = exp_[k]
		g = (k in got) ? got[k] : "-"
		split(k, kk, SUBSEP)
		if (!strict) {
			if (g != "-" && !((k, g) in ever)) {
				printf "%s %s: value %s was never written\n", kk[1], kk[2], g
				bad = 1
			}
			continue
		}
		if (k in may && may[k] != e) {
			if (g == may[k])
				saw_new[owner[k]] = 1
			else if (g == e)
				saw_old[owner[k]] = 1
		}
		if (g != e && !(k in may && may[k] == g)) {
			printf "%s %s: want %s, replica has %s\n", kk[1], kk[2], e, g
			bad = 1
		}
	}
	for (t in saw_new) {
		if (t in saw_old) {
			printf "thread %s transaction %s is only partly in the replica\n", t, lastp[t]
			bad = 1
		}
		present++
	}
	if (bad)
		exit 1
	printf "commits %d in-flight-present %d\n", commits, present
}
