/*
 * wtbench.h: the WiredTiger commit benchmark's shared pieces (README.md).
 *
 *   main.c  flags, the machine, the order of measurements, the report
 *   run.c   one measurement: a fresh home (and mirror), N threads each
 *           committing one 1 KB insert per transaction for S seconds
 *
 * Scratch directories, the mirror process and the latency percentiles come
 * from the micro benchmark (bench/micro/mirror_proc.c, stats.c), compiled
 * into this program too.
 */
#ifndef MOJIM_WTBENCH_H
#define MOJIM_WTBENCH_H

#include <signal.h>

#include "bench.h" /* bench/micro: struct bench_opts, lat, mirror_proc */

#define WTB_MAX_THREADS 64

/* How a configuration's home is made and WiredTiger is opened. */
enum wtb_kind {
	WTB_JOURNALED,  /* stock, log + fsync per commit, home on disk */
	WTB_NOLOG,      /* stock, no log (no durability), /dev/shm */
	WTB_SHMLOG,     /* stock, log + fsync per commit, home in /dev/shm */
	WTB_MOJIM,      /* through libmojim_wt.so, /dev/shm */
};

struct wtb_config {
	const char *name;     /* journaled, nolog, unreplicated, sync, ... */
	enum wtb_kind kind;
	const char *mode;     /* the extension's mode=, WTB_MOJIM only */
	int replicated;       /* needs a mirror */
	int spin_us;          /* both sides' spin_us; -1: --spin-us's */
	const char *tier;     /* backups behind the mirror: a tier_specs name
	                         (bench/micro/tier_procs.c), or NULL */
};

struct wtb_opts {
	double seconds;
	int threads[8];
	int nthreads;
	int rounds;           /* the configurations alternate, this often */
	const char *only;     /* NULL: every configuration */
	const char *csv;      /* NULL: CSV to stdout */
	const char *ext;      /* libmojim_wt.so */
	const char *disk_tmp; /* parent of the journaled home */
	struct bench_opts shm; /* mirror_proc.c's view: scratch in /dev/shm */
	struct bench_opts disk; /* the same with scratch on disk */
};

struct wtb_result {
	const struct wtb_config *cfg;
	int threads;
	int round;            /* 1..rounds */
	int ok;               /* 0: failed, see stderr */
	long commits;
	double secs;
	double commits_s;
	struct lat_summary lat;
	int lat_dropped;      /* some threads kept only their first latencies */
};

/* Set by SIGINT/SIGTERM: the threads stop, everything is cleaned up. */
extern volatile sig_atomic_t wtb_stop;

/* ---- run.c ---- */

/* Runs one configuration with n threads; fills r (r->ok says if it ran). */
void wtb_run(const struct wtb_opts *o, const struct wtb_config *c,
             int threads, struct wtb_result *r);

#endif /* MOJIM_WTBENCH_H */
