/*
 * bench.h: the micro benchmark's shared pieces (see README.md).
 *
 * One executable, mojim-bench, runs every measurement in one process so
 * the numbers land side by side on the same noisy machine. Each file of
 * this folder is one measurement or one helper:
 *
 *   main.c        flags, machine description, the order of sections
 *   stats.c       clocks, latency arrays and percentiles, CPU sampling
 *   report.c      the result rows: tables, CSV, target checks
 *   tcp_rtt.c     bare loopback TCP round trip (the floor)
 *   mirror_proc.c starting and stopping a mojim-mirror, scratch dirs
 *   workload.c    N threads doing random writes + gmsync on one region
 *   modes.c       Figures 4-5 (modes), 8 (sizes), 9 (threads)
 *   bandwidth.c   mirror bandwidth with 64 KB batches
 *   link.c        sync 4 KB over a plain link and a keyed one, alternated
 */
#ifndef MOJIM_BENCH_H
#define MOJIM_BENCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mojim.h"

#define BENCH_MAX_THREADS 16
#define BENCH_MAX_CPUS 64

struct bench_opts {
	int quick;
	long iters;            /* latency iterations per measurement */
	double seconds;        /* length of a throughput measurement */
	const char *only;      /* NULL: every section */
	int spin_us;           /* -1: each side's default */
	int connections;       /* libmojim connections to the mirror */
	int ckpt_thresh;       /* -1: the mirror's default */
	uint64_t file_size;    /* bytes of the file written at random */
	const char *csv;       /* NULL: CSV to stdout after the tables */
	const char *mirror_bin;
	const char *scratch;   /* parent of scratch dirs (/dev/shm) */
	int lib_backpressure;  /* async: libmojim's own async_max_bytes */
	const char *host;      /* where mirrors listen (NULL: 127.0.0.1) */
	int connect_timeout_ms; /* 0: libmojim's default */
};

/* ---- stats.c ---- */

uint64_t now_ns(void);

/* Per-operation latencies in ns (saturating at ~4.29 s), bounded. */
struct lat {
	uint32_t *ns;
	size_t n, cap;
};

struct lat_summary {
	size_t n;
	double p50_us, p99_us, mean_us, min_us, max_us;
};

int lat_init(struct lat *l, size_t cap);
void lat_free(struct lat *l);
void lat_add(struct lat *l, uint64_t ns);
int lat_merge(struct lat *dst, const struct lat *src);
/* Sorts l in place and summarises it. */
struct lat_summary lat_summarise(struct lat *l);

/* Which CPUs a thread ran on, sampled with sched_getcpu(). */
struct cpu_hist {
	uint32_t count[BENCH_MAX_CPUS];
};

void cpu_hist_sample(struct cpu_hist *h);
void cpu_hist_merge(struct cpu_hist *dst, const struct cpu_hist *src);
/* "0:62% 1:38%" */
void cpu_hist_format(const struct cpu_hist *h, char *buf, size_t len);

/* Another process's threads: CPU ticks and the CPU each ran on last. */
struct proc_snap {
	int n;
	int tid[64];
	uint64_t ticks[64];
	int cpu[64];
};

int proc_snap_take(pid_t pid, struct proc_snap *s);
/*
 * What the threads of pid busy between a and b used: fills buf with their
 * last CPUs ("1,0") and returns their CPU time in seconds.
 */
double proc_snap_diff(const struct proc_snap *a, const struct proc_snap *b,
                      char *buf, size_t len);
/* CPU seconds this process used so far (all threads). */
double self_cpu_seconds(void);
/* $TMPDIR unless it is memory (tmpfs), else /var/tmp: where a benchmark
 * puts a home that must be on this machine's disk. */
const char *bench_disk_tmp(void);
/* SIGINT and SIGTERM set *flag (the run stops and cleans up); SIGPIPE is
 * ignored (a mirror gone mid-run is an error, not a death). */
void bench_stop_on_signals(volatile sig_atomic_t *flag);
/* Waits, polling every 100 us for at most ms, until *go is set: 1 if it
 * became positive (run), 0 if negative (give up) or on timeout. */
int bench_wait_go(_Atomic int *go, int ms);

/* ---- report.c ---- */

struct row {
	char section[16];   /* tcp | modes | sizes | threads | bandwidth */
	char name[40];      /* a variant (tcp) or a mode name */
	uint64_t size;      /* bytes per operation */
	int threads, conns;
	long ops;
	double secs;
	struct lat_summary lat;  /* n == 0: not measured */
	double ops_s, mb_s;
	char cpus[48];      /* benchmark threads' CPUs */
	char peer_cpus[48]; /* the mirror's or echo server's busy threads */
	double cpu_self, cpu_peer; /* CPU time / wall time, 1.0 = one CPU */
	char note[64];
};

void report_section(const char *title, const char *section);
/* Stores the row and prints it as a line of the current table. */
void report_row(const struct row *r);
const struct row *report_find(const char *section, const char *name,
                              uint64_t size, int threads, int conns);
int report_csv(const char *path);
void report_targets(void);

/* ---- tcp_rtt.c ---- */

void run_tcp(const struct bench_opts *o);

/* ---- mirror_proc.c ---- */

struct mirror_proc {
	pid_t pid;
	char dir[256];      /* the mirror's --dir */
	char errlog[256];   /* its stderr */
	char addr[64];      /* "HOST:PORT" (o->host) */
	char keyfile[256];  /* --keyfile, or "" */
	char pki[256];      /* --tls with this directory's certificates, or "" */
	char args[512];     /* more arguments, space-separated, or "" */
};

/* How a benchmark's link is secured: a cluster key file, TLS with the
 * certificates of a directory made by pki_make (ca.pem, mirror.pem and
 * .key, primary.pem and .key), both, or neither (NULL fields). */
struct bench_link {
	const char *keyfile;
	const char *pki;
	const char *args; /* more mirror arguments, space-separated (the
	                     secondary tier: --backup ADDR --chain ...) */
	const char *transport; /* the primary's (NULL: its default, tcp) */
};
/* A CA and the certificates of a mirror (naming 127.0.0.1) and a primary
 * in dir, made by the openssl command; 0 or -1 (said on stderr). */
int pki_make(const char *dir);

/* A fresh scratch directory under o->scratch; path gets its name. */
int scratch_make(const struct bench_opts *o, char *path, size_t len);
/* Removes a scratch directory and everything under it. */
void scratch_remove(const char *path);
/* Starts a mirror with its dir inside scratch; waits until it listens. */
int mirror_start(const struct bench_opts *o, const char *scratch,
                 struct mirror_proc *m);
/* The same with DIR scratch/name (several mirrors in one scratch). */
int mirror_start_in(const struct bench_opts *o, const char *scratch,
                    const char *name, struct mirror_proc *m);
/* The same over a secured link (link NULL: plain). */
int mirror_start_keyed(const struct bench_opts *o, const char *scratch,
                       const char *name, const struct bench_link *link,
                       struct mirror_proc *m);
/* Starts it again on its dir, and on its address if it had one. */
int mirror_restart(const struct bench_opts *o, struct mirror_proc *m);
/* SIGTERM, wait (bounded), SIGKILL if it would not stop. */
void mirror_stop(struct mirror_proc *m);
/* SIGKILL (a crash) and wait. */
void mirror_kill(struct mirror_proc *m);

/* ---- workload.c ---- */

/* One region (and its mirror, if replicated) for a series of runs. */
struct bench_target {
	const struct bench_opts *o;
	enum mj_mode mode;
	int conns;
	char scratch[256];
	struct mirror_proc mirror;
	struct bench_link link; /* the link's key and certificates, or none */
	mj_region *region;
	mj_file *file;
	/* Async without libmojim's backpressure: bytes handed to mj_msync,
	 * compared with mj_status.bytes_sent (see workload.c). */
	_Atomic uint64_t synced_bytes;
	uint64_t sent_base; /* mj_status.bytes_sent when the file was ready */
};

int target_open(struct bench_target *t, const struct bench_opts *o,
                enum mj_mode mode, int conns);
/* The same over a secured link (link NULL: plain). */
int target_open_keyed(struct bench_target *t, const struct bench_opts *o,
                      enum mj_mode mode, int conns,
                      const struct bench_link *link);
void target_close(struct bench_target *t);

struct work_spec {
	int threads;
	uint64_t size;       /* bytes written and synced per operation */
	long max_ops;        /* per thread */
	double seconds;      /* wall-clock bound */
};

/* Runs the workload and fills r (everything but section and name). */
int work_run(struct bench_target *t, const struct work_spec *w,
             struct row *r);
/* Runs w on t as one reported row of section, named name, noted "round K
 * of N" (or FAILED); closes t. */
void work_row(struct bench_target *t, const struct work_spec *w,
              const char *section, const char *name, int round, int rounds);

/* ---- tier.c: the secondary tier (backups), paper section 6.2 ---- */
void run_tier(const struct bench_opts *o);

/* ---- tier_procs.c: the backups (and proxy) behind a tier setting ---- */
struct tier_spec {
	const char *name;
	int backups;
	int slow;  /* the backup behind a 10 Mbit/s proxy, --secondary-thresh 4M */
	int chain;
};
/* sync, syncsec1, syncsec2, syncseceth, chain */
extern const struct tier_spec tier_specs[];
extern const size_t ntier_specs;
struct tier_procs {
	struct mirror_proc b[2];
	int started;
	pid_t proxy;
	char args[512]; /* the mirror's: --backup ADDR ... [--chain] */
};
/* Fresh backups (and proxy) for t in scratch, and the mirror's args. */
int tier_procs_start(const struct bench_opts *o, const char *scratch,
                     const struct tier_spec *t, struct tier_procs *p);
void tier_procs_stop(struct tier_procs *p);

/* ---- modes.c, bandwidth.c ---- */

void run_modes(const struct bench_opts *o);
void run_sizes(const struct bench_opts *o);
void run_threads(const struct bench_opts *o);
void run_bandwidth(const struct bench_opts *o);
void run_link(const struct bench_opts *o);
/* transport.c: TCP against RDMA; only with --only rdma. */
void run_rdma(const struct bench_opts *o);

#endif /* MOJIM_BENCH_H */
