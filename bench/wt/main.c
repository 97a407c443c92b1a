/*
 * mojim-wtbench: WiredTiger commits of 1 KB documents, one insert per
 * transaction, journaled on disk vs no log vs through libmojim_wt.so in
 * each mode, 1 and 8 threads, side by side in one process (README.md).
 */
#include "wtbench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef MOJIM_MIRROR_BIN
#define MOJIM_MIRROR_BIN "mojim-mirror"
#endif
#ifndef MOJIM_WT_EXT
#define MOJIM_WT_EXT "libmojim_wt.so"
#endif

volatile sig_atomic_t wtb_stop;

static const struct wtb_config configs[] = {
	{"journaled", WTB_JOURNALED, NULL, 0, -1, NULL},
	{"nolog", WTB_NOLOG, NULL, 0, -1, NULL},
	{"shmlog", WTB_SHMLOG, NULL, 0, -1, NULL},
	{"unreplicated", WTB_MOJIM, "unreplicated", 0, -1, NULL},
	{"sync", WTB_MOJIM, "sync", 1, -1, NULL},
	/* The waits for an ack busy-poll 50 us, on both sides, before they
	 * sleep: one thread's round trip without the wake-ups. */
	{"sync_spin", WTB_MOJIM, "sync", 1, 50, NULL},
	{"syncflush", WTB_MOJIM, "syncflush", 1, -1, NULL},
	{"async", WTB_MOJIM, "async", 1, -1, NULL},
	/* The secondary tier, in mode sync: one and two backups on loopback,
	 * one behind a 10 Mbit/s proxy with --secondary-thresh 4M, one with
	 * --chain (bench/micro/tier_procs.c). */
	{"syncsec1", WTB_MOJIM, "sync", 1, -1, "syncsec1"},
	{"syncsec2", WTB_MOJIM, "sync", 1, -1, "syncsec2"},
	{"syncseceth", WTB_MOJIM, "sync", 1, -1, "syncseceth"},
	{"chain", WTB_MOJIM, "sync", 1, -1, "chain"},
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))
#define MAX_ROUNDS 9
#define MAX_RESULTS (NCONFIGS * 8 * MAX_ROUNDS)

static struct wtb_result results[MAX_RESULTS];
static int nresults;

static void usage(void)
{
	fprintf(stderr,
	        "usage: mojim-wtbench [--seconds S] [--threads 1,8] "
	        "[--only LIST] [--rounds N] [--quick] [--csv FILE] "
	        "[--spin-us US]\n"
	        "  configurations: journaled nolog shmlog unreplicated sync "
	        "sync_spin syncflush async syncsec1 syncsec2 syncseceth chain\n");
}

static int parse_threads(const char *s, struct wtb_opts *o)
{
	char *end;
	o->nthreads = 0;
	while (*s && o->nthreads < 8) {
		long n = strtol(s, &end, 10);
		if (end == s || n < 1 || n > WTB_MAX_THREADS ||
		    (*end && *end != ','))
			return -1;
		o->threads[o->nthreads++] = (int)n;
		s = *end ? end + 1 : end;
	}
	return *s || !o->nthreads ? -1 : 0;
}

/* 1 if name is in the comma-separated list (NULL: everything). */
static int in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == len && !strncmp(p, name, n))
			return 1;
		p = e ? e + 1 : p + n;
	}
	return !list;
}

static int check_only(const char *list)
{
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int known = 0;
		for (size_t i = 0; i < NCONFIGS; i++)
			known |= strlen(configs[i].name) == n &&
			         !strncmp(p, configs[i].name, n);
		if (!known) {
			fprintf(stderr, "mojim-wtbench: --only: unknown "
			        "configuration \"%.*s\"\n", (int)n, p);
			return -1;
		}
		p = e ? e + 1 : p + n;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct wtb_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quick")) {
			o->seconds = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h") || !v) {
			usage();
			return -1;
		}
		i++;
		if (!strcmp(a, "--seconds")) {
			o->seconds = atof(v);
			if (!(o->seconds > 0 && o->seconds <= 3600)) {
				fprintf(stderr, "mojim-wtbench: --seconds "
				        "wants 0 < S <= 3600\n");
				return -1;
			}
		} else if (!strcmp(a, "--threads")) {
			if (parse_threads(v, o)) {
				fprintf(stderr, "mojim-wtbench: --threads wants "
				        "up to 8 counts of 1..%d\n",
				        WTB_MAX_THREADS);
				return -1;
			}
		} else if (!strcmp(a, "--rounds")) {
			o->rounds = atoi(v);
			if (o->rounds < 1 || o->rounds > MAX_ROUNDS) {
				fprintf(stderr, "mojim-wtbench: --rounds wants "
				        "1..%d\n", MAX_ROUNDS);
				return -1;
			}
		} else if (!strcmp(a, "--only")) {
			if (check_only(v))
				return -1;
			o->only = v;
		} else if (!strcmp(a, "--csv")) {
			o->csv = v;
		} else if (!strcmp(a, "--spin-us")) {
			o->shm.spin_us = atoi(v);
			if (o->shm.spin_us < 0 || o->shm.spin_us > 1000000) {
				fprintf(stderr, "mojim-wtbench: --spin-us wants "
				        "0..1000000\n");
				return -1;
			}
		} else {
			usage();
			return -1;
		}
	}
	return 0;
}

static const char *fs_name(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf))
		return "?";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53: return "ext4";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x01021994: return "tmpfs";
	case 0x794c7630: return "overlayfs";
	default: return "other";
	}
}

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && p) {
			snprintf(buf, len, "%s", p + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

static void print_machine(const struct wtb_opts *o)
{
	char cpu[256];
	struct utsname u;
	cpu_model(cpu, sizeof(cpu));
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	printf("machine: nproc %ld, CPU %s, Linux %s; journaled home in %s "
	       "(%s), the others in /dev/shm (%s)\n",
	       sysconf(_SC_NPROCESSORS_ONLN), cpu, u.release, o->disk_tmp,
	       fs_name(o->disk_tmp), fs_name("/dev/shm"));
}

static void print_header(const struct wtb_opts *o)
{
	printf("mojim-wtbench: 1 KB documents (10 x 100-byte fields), one "
	       "insert per transaction, %.1f s per row, no automatic "
	       "checkpoints, cache 256MB, log file_max 16MB\n", o->seconds);
	print_machine(o);
	printf("\n%-13s %7s %10s %12s %10s %10s  %s\n", "config", "threads",
	       "commits", "commits/s", "p50 us", "p99 us", "note");
	fflush(stdout);
}

static void print_row(const struct wtb_result *r)
{
	if (!r->ok) {
		printf("%-13s %7d %10s %12s %10s %10s  %s\n", r->cfg->name,
		       r->threads, "-", "-", "-", "-",
		       wtb_stop ? "interrupted" : "FAILED (see stderr)");
	} else {
		printf("%-13s %7d %10ld %12.0f %10.1f %10.1f  %s\n",
		       r->cfg->name, r->threads, r->commits, r->commits_s,
		       r->lat.p50_us, r->lat.p99_us,
		       r->lat_dropped ? "latencies of the first commits" : "");
	}
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One configuration and thread count: the median of its good rounds. */
static void print_median(const struct wtb_config *c, int threads)
{
	double rate[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS];
	int n = 0;
	for (int i = 0; i < nresults && n < MAX_ROUNDS; i++) {
		const struct wtb_result *r = &results[i];
		if (r->cfg != c || r->threads != threads || !r->ok)
			continue;
		rate[n] = r->commits_s;
		p50[n] = r->lat.p50_us;
		p99[n++] = r->lat.p99_us;
	}
	if (!n)
		return;
	printf("%-13s %7d %6d %12.0f %10.1f %10.1f\n", c->name, threads, n,
	       median(rate, n), median(p50, n), median(p99, n));
}

/* With several rounds (alternated): each row's median over them. */
static void print_medians(const struct wtb_opts *o)
{
	if (o->rounds < 2)
		return;
	printf("\nmedians over the rounds (alternated)\n%-13s %7s %6s %12s "
	       "%10s %10s\n", "config", "threads", "rounds", "commits/s",
	       "p50 us", "p99 us");
	for (size_t c = 0; c < NCONFIGS; c++)
		for (int t = 0; t < o->nthreads; t++)
			if (in_list(o->only, configs[c].name))
				print_median(&configs[c], o->threads[t]);
}

static int wtb_write_csv(FILE *f)
{
	fprintf(f, "config,threads,round,ok,commits,seconds,commits_s,p50_us,"
	        "p99_us,mean_us,max_us\n");
	for (int i = 0; i < nresults; i++) {
		const struct wtb_result *r = &results[i];
		fprintf(f, "%s,%d,%d,%d,%ld,%.3f,%.1f,%.1f,%.1f,%.1f,%.1f\n",
		        r->cfg->name, r->threads, r->round, r->ok, r->commits,
		        r->secs,
		        r->commits_s, r->lat.p50_us, r->lat.p99_us,
		        r->lat.mean_us, r->lat.max_us);
	}
	return ferror(f) ? -1 : 0;
}

static int wtb_report_csv(const char *path)
{
	if (!path) {
		printf("\n");
		return wtb_write_csv(stdout);
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "mojim-wtbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = wtb_write_csv(f);
	if (fclose(f) || rc) {
		fprintf(stderr, "mojim-wtbench: writing %s failed\n", path);
		return -1;
	}
	printf("\nCSV written to %s\n", path);
	return 0;
}

static const struct wtb_result *find(const char *name, int threads)
{
	for (int i = 0; i < nresults; i++)
		if (!strcmp(results[i].cfg->name, name) &&
		    results[i].threads == threads && results[i].ok)
			return &results[i];
	return NULL;
}

/* "target NAME: VALUE (target >= GOAL) OK|SHORT", or why not measured. */
static void target(const char *name, const char *num, int nt,
                   const char *den, int dt, double goal, const char *unit)
{
	const struct wtb_result *a = find(num, nt), *b = find(den, dt);
	if (!a || !b || b->commits_s <= 0) {
		printf("target %s: not measured (needs %s %dt and %s %dt)\n",
		       name, num, nt, den, dt);
		return;
	}
	double x = a->commits_s / b->commits_s;
	printf("target %s: %.2f%s (target >= %g%s) %s\n", name, x, unit,
	       goal, unit, x >= goal ? "OK" : "SHORT");
}

static void wtb_report_targets(const struct wtb_opts *o)
{
	printf("\n");
	target("sync_1t_vs_journaled", "sync", 1, "journaled", 1, 25, "x");
	target("sync_spin_1t_vs_journaled", "sync_spin", 1, "journaled", 1,
	       25, "x");
	target("sync_8t_vs_nolog", "sync", 8, "nolog", 8, 0.33, "");
	target("sync_spin_8t_vs_nolog", "sync_spin", 8, "nolog", 8, 0.33, "");
	/* What stock WiredTiger's own log reaches on memory: the ceiling of
	 * any file system under it, mojim's included. */
	target("shmlog_8t_vs_nolog", "shmlog", 8, "nolog", 8, 0.33, "");
	print_machine(o);
}

static void init_opts(struct wtb_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seconds = 5;
	o->threads[0] = 1;
	o->threads[1] = 8;
	o->rounds = 1;
	o->nthreads = 2;
	o->ext = MOJIM_WT_EXT;
	o->disk_tmp = bench_disk_tmp();
	o->shm.mirror_bin = MOJIM_MIRROR_BIN;
	o->shm.scratch = "/dev/shm";
	o->shm.spin_us = -1;
	o->shm.ckpt_thresh = -1;
	o->disk = o->shm;
	o->disk.scratch = o->disk_tmp;
}

static int run_all(const struct wtb_opts *o)
{
	int failed = 0;
	for (int k = 1; k <= o->rounds && !wtb_stop; k++) {
		for (size_t c = 0; c < NCONFIGS && !wtb_stop; c++) {
			if (!in_list(o->only, configs[c].name))
				continue;
			for (int t = 0; t < o->nthreads && !wtb_stop; t++) {
				struct wtb_result *r = &results[nresults++];
				wtb_run(o, &configs[c], o->threads[t], r);
				r->round = k;
				print_row(r);
				failed |= !r->ok;
			}
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct wtb_opts o;
	init_opts(&o);
	if (parse_args(argc, argv, &o))
		return 2;
	/* libpmem reads it when the extension first maps a file: /dev/shm
	 * is not pmem, and without it every flush would be an msync. */
	setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	bench_stop_on_signals(&wtb_stop);
	print_header(&o);
	int failed = run_all(&o);
	print_medians(&o);
	int csv_failed = wtb_report_csv(o.csv);
	wtb_report_targets(&o);
	if (wtb_stop)
		fprintf(stderr, "mojim-wtbench: interrupted\n");
	return failed || csv_failed || wtb_stop ? 1 : 0;
}
