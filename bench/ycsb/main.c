/*
 * mojim-ycsb: YCSB A-F and the paper's MongoDB insert micro benchmark on
 * WiredTiger with MongoDB's record layout, in one durability mode per
 * invocation (README.md). Steps run in order on one database; "load"
 * and "insert" start a fresh one. Every step ends with the correctness
 * pass; a mismatch fails the program.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#ifndef MOJIM_MIRROR_BIN
#define MOJIM_MIRROR_BIN "mojim-mirror"
#endif
#ifndef MOJIM_WT_EXT
#define MOJIM_WT_EXT "libmojim_wt.so"
#endif
#define MAX_P 32
#define DEFAULT_STEPS "load,a,b,c,f,d,load,e"

struct opts {
	const struct mode_def *mode;
	const char *steps, *pfile, *csv, *size;
	const char *wc;                /* --write-concern, with --target */
	const char *p[MAX_P];
	int np;
	const char *flag_p[8];         /* --recordcount N etc. as key=value */
	char flag_buf[8][64];
	int nflag;
	uint64_t seed;
	struct env_opts env;
};

static void usage(FILE *f)
{
	fprintf(f,
	"usage: mojim-ycsb --mode MODE [--steps LIST] [-P FILE] [-p KEY=VALUE]...\n"
	"       mojim-ycsb --target mongodb://HOST:PORT [--write-concern WC] ...\n"
	"         [--recordcount N] [--operationcount N] [--threads N]\n"
	"         [--fieldcount N] [--fieldlength N] [--distribution D]\n"
	"         [--size LABEL] [--csv FILE] [--cache SIZE] [--seed N]\n"
	"  MODE: journaled buffered none unreplicated sync sync_spin syncflush async\n"
	"  LIST: comma-separated steps, default " DEFAULT_STEPS ":\n"
	"        load (fresh database, recordcount inserts), a..f (YCSB's\n"
	"        workloads), run (the -P/-p workload), insert (fresh database,\n"
	"        operationcount inserts of insertbatch=10 documents of one\n"
	"        100-byte field)\n"
	"  --csv appends rows to FILE (header first if it is new)\n"
	"  --target: a MongoDB server over the wire (libmongoc), database ycsb,\n"
	"        collection usertable (dropped at each load); no WiredTiger or\n"
	"        mirror of our own. WC: w0 w1 (default) journal majority\n");
}

/* Flags that are YCSB properties become -p key=value, applied last. */
static int add_flag(struct opts *o, const char *key, const char *v)
{
	if (o->nflag >= 8)
		return -1;
	snprintf(o->flag_buf[o->nflag], 64, "%s=%s", key, v);
	o->flag_p[o->nflag] = o->flag_buf[o->nflag];
	o->nflag++;
	return 0;
}

static const char *const prop_flags[][2] = {
	{"--recordcount", "recordcount"}, {"--operationcount", "operationcount"},
	{"--threads", "threadcount"}, {"--fieldcount", "fieldcount"},
	{"--fieldlength", "fieldlength"},
	{"--distribution", "requestdistribution"},
};

static int parse_one(struct opts *o, const char *a, const char *v)
{
	for (size_t i = 0; i < sizeof(prop_flags) / sizeof(prop_flags[0]); i++)
		if (!strcmp(a, prop_flags[i][0]))
			return add_flag(o, prop_flags[i][1], v);
	if (!strcmp(a, "--mode")) {
		if (!(o->mode = mode_find(v)))
			fprintf(stderr, "mojim-ycsb: unknown mode \"%s\"\n", v);
		return o->mode ? 0 : -1;
	}
	if (!strcmp(a, "-p")) {
		if (o->np >= MAX_P)
			return -1;
		o->p[o->np++] = v;
	} else if (!strcmp(a, "-P")) {
		o->pfile = v;
	} else if (!strcmp(a, "--steps")) {
		o->steps = v;
	} else if (!strcmp(a, "--target")) {
		o->env.target = v;
	} else if (!strcmp(a, "--write-concern")) {
		o->wc = v;
	} else if (!strcmp(a, "--csv")) {
		o->csv = v;
	} else if (!strcmp(a, "--size")) {
		o->size = v;
	} else if (!strcmp(a, "--cache")) {
		/* goes into the WiredTiger configuration: digits and a unit */
		size_t d = strspn(v, "0123456789");
		if (!d || (strcmp(v + d, "") && strcmp(v + d, "MB") &&
		           strcmp(v + d, "GB"))) {
			fprintf(stderr, "mojim-ycsb: --cache wants e.g. 2GB\n");
			return -1;
		}
		o->env.cache = v;
	} else if (!strcmp(a, "--seed")) {
		char *end;
		o->seed = strtoull(v, &end, 10);
		if (end == v || *end) {
			fprintf(stderr, "mojim-ycsb: --seed wants a number\n");
			return -1;
		}
	} else {
		fprintf(stderr, "mojim-ycsb: unknown flag %s\n", a);
		return -1;
	}
	return 0;
}

/* --mode, or --target with its write concern (the CSV's mode column). */
static int pick_mode(struct opts *o)
{
	if (o->env.target && o->mode) {
		fprintf(stderr, "mojim-ycsb: --target runs on the server's "
		        "durability: no --mode\n");
		return -1;
	}
	if (!o->env.target && o->wc) {
		fprintf(stderr, "mojim-ycsb: --write-concern needs --target\n");
		return -1;
	}
	if (o->env.target && !(o->mode = wire_mode(o->wc ? o->wc : "w1"))) {
		fprintf(stderr, "mojim-ycsb: --write-concern wants w0, w1, "
		        "journal or majority\n");
		return -1;
	}
	if (!o->mode) {
		fprintf(stderr, "mojim-ycsb: --mode or --target is required\n");
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "mojim-ycsb: %s needs a value\n", argv[i]);
			return -1;
		}
		if (parse_one(o, argv[i], argv[i + 1]))
			return -1;
		i++;
	}
	return pick_mode(o);
}

/* The step's workload: built-in, then -P, then -p, then the flags. */
static int step_workload(const struct opts *o, const char *step,
                         struct workload *w)
{
	char err[300];
	workload_defaults(w);
	if (!strcmp(step, "insert")) {
		snprintf(w->name, sizeof(w->name), "insert");
		w->batch = 10;
		w->fieldcount = 1;
	} else if (!strcmp(step, "load") || !strcmp(step, "run")) {
		snprintf(w->name, sizeof(w->name), "%s", step);
	} else if (workload_builtin(w, step)) {
		fprintf(stderr, "mojim-ycsb: unknown step \"%s\"\n", step);
		return -1;
	}
	int rc = o->pfile ? workload_file(w, o->pfile, err, sizeof(err)) : 0;
	for (int i = 0; !rc && i < o->np; i++)
		rc = workload_set(w, o->p[i], err, sizeof(err));
	for (int i = 0; !rc && i < o->nflag; i++)
		rc = workload_set(w, o->flag_p[i], err, sizeof(err));
	if (!rc)
		rc = workload_check(w, err, sizeof(err));
	if (rc)
		fprintf(stderr, "mojim-ycsb: %s\n", err);
	return rc;
}

/* ---- report ---- */

static FILE *csv;

static void print_row(const struct opts *o, const char *step,
                      const char *op, const struct hist *h, int threads,
                      int64_t records, const struct phase_result *r)
{
	double ops_s = r->secs > 0 ? (double)h->n / r->secs : 0;
	double mean = h->n ? (double)h->sum / (double)h->n / 1e3 : 0;
	double q[4] = {0.5, 0.95, 0.99, 0.999};
	double v[4];
	for (int i = 0; i < 4; i++)
		v[i] = hist_quantile(h, q[i]) / 1e3;
	printf("%-7s %-12s %-6s %-17s %3d %9lld %9llu %8.2f %10.0f %9.1f "
	       "%8.1f %8.1f %8.1f %9.1f %9.1f %6lld\n", o->size,
	       o->mode->name, step, op, threads, (long long)records,
	       (unsigned long long)h->n, r->secs, ops_s, mean, v[0], v[1],
	       v[2], v[3], (double)h->max / 1e3, (long long)r->retries);
	if (csv)
		fprintf(csv, "%s,%s,%s,%s,%d,%lld,%llu,%.3f,%.1f,%.2f,%.2f,%.2f,"
		        "%.2f,%.2f,%.2f,%lld\n", o->size, o->mode->name, step, op,
		        threads, (long long)records, (unsigned long long)h->n,
		        r->secs, ops_s, mean, v[0], v[1], v[2], v[3],
		        (double)h->max / 1e3, (long long)r->retries);
}

static void report(const struct opts *o, const char *step,
                   const struct workload *w, int64_t records,
                   const struct phase_result *r)
{
	for (int i = 0; i < OP_NTYPES; i++)
		if (r->h[i].n)
			print_row(o, step, op_names[i], &r->h[i], w->threads,
			          records, r);
	print_row(o, step, "ALL", &r->all, w->threads, records, r);
	fflush(stdout);
	if (csv)
		fflush(csv);
}

static int open_csv(const char *path)
{
	struct stat st;
	int fresh = stat(path, &st) != 0 || st.st_size == 0;
	if (!(csv = fopen(path, "a"))) {
		fprintf(stderr, "mojim-ycsb: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fresh)
		fprintf(csv, "size,mode,step,op,threads,records,ops,seconds,ops_s,"
		        "mean_us,p50_us,p95_us,p99_us,p999_us,max_us,retries\n");
	return 0;
}

/* ---- steps ---- */

struct state {
	struct env e;
	int open;
	struct phase_result *r;
};

static int close_env(struct state *s)
{
	char err[ERR_LEN] = "";
	if (!s->open)
		return 0;
	s->open = 0;
	if (env_close(&s->e, err, sizeof(err))) {
		fprintf(stderr, "mojim-ycsb: %s: %s\n", s->e.m->name, err);
		return -1;
	}
	return 0;
}

static int fresh_env(const struct opts *o, struct state *s,
                     const struct workload *w)
{
	char err[ERR_LEN] = "";
	struct docspec spec = {w->fieldcount, w->fieldlength};
	if (close_env(s))
		return -1;
	s->open = 1; /* env_close cleans up a half-open one too */
	if (env_open(&s->e, o->mode, &o->env, &spec, err, sizeof(err))) {
		fprintf(stderr, "mojim-ycsb: %s: %s\n", o->mode->name, err);
		close_env(s);
		return -1;
	}
	return 0;
}

static int verify(struct state *s, const char *step)
{
	char err[ERR_LEN] = "";
	int64_t expect = env_records(&s->e);
	if (store_verify(&s->e.st, expect, err, sizeof(err))) {
		fprintf(stderr, "mojim-ycsb: %s after %s: CORRUPT: %s\n",
		        s->e.m->name, step, err);
		return -1;
	}
	printf("%-7s %-12s %-6s verified: %lld records, every field %s\n", "",
	       s->e.m->name, step, (long long)expect,
	       s->e.st.pool ? "read back over the wire" : "and the index");
	return 0;
}

static int run_step(const struct opts *o, struct state *s, const char *step,
                    int index)
{
	struct workload w;
	if (step_workload(o, step, &w))
		return -1;
	int fresh = !strcmp(step, "load") || !strcmp(step, "insert");
	enum phase_kind k = !strcmp(step, "load") ? PH_LOAD :
	                    !strcmp(step, "insert") ? PH_INSERT : PH_RUN;
	if (fresh && fresh_env(o, s, &w))
		return -1;
	if (!s->open) {
		fprintf(stderr, "mojim-ycsb: step %s needs a load first\n", step);
		return -1;
	}
	if (phase_run(&s->e, &w, k, o->seed + (uint64_t)index, s->r)) {
		fprintf(stderr, "mojim-ycsb: %s: %s: %s\n", o->mode->name, step,
		        s->r->err);
		return -1;
	}
	report(o, step, &w, env_records(&s->e), s->r);
	return verify(s, step);
}

static int run_steps(const struct opts *o, struct state *s)
{
	char list[512], *save = NULL;
	int rc = 0, i = 0;
	snprintf(list, sizeof(list), "%s", o->steps);
	for (char *t = strtok_r(list, ",", &save); t && !rc && !ycsb_stop;
	     t = strtok_r(NULL, ",", &save))
		rc = run_step(o, s, t, i++);
	if (close_env(s))
		rc = -1;
	return rc;
}

/* Every step's workload parses before anything runs. */
static int check_steps(const struct opts *o)
{
	char list[512], *save = NULL;
	struct workload w;
	if (strlen(o->steps) >= sizeof(list)) {
		fprintf(stderr, "mojim-ycsb: --steps too long\n");
		return -1;
	}
	snprintf(list, sizeof(list), "%s", o->steps);
	for (char *t = strtok_r(list, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		if (step_workload(o, t, &w))
			return -1;
	return 0;
}

static void print_header(const struct opts *o)
{
	printf("mojim-ycsb: mode %s (%s%s%s), steps %s, seed %llu\n",
	       o->mode->name, o->mode->what, o->env.target ? ", " : "",
	       o->env.target ? o->env.target : "", o->steps,
	       (unsigned long long)o->seed);
	printf("%-7s %-12s %-6s %-17s %3s %9s %9s %8s %10s %9s %8s %8s %8s "
	       "%9s %9s %6s\n", "size", "mode", "step", "op", "thr", "records",
	       "ops", "secs", "ops/s", "mean_us", "p50_us", "p95_us", "p99_us",
	       "p99.9_us", "max_us", "retry");
}

int main(int argc, char **argv)
{
	struct opts o = {.steps = DEFAULT_STEPS, .size = "custom", .seed = 1,
	                 .env = {MOJIM_WT_EXT, MOJIM_MIRROR_BIN, NULL, "2GB"}};
	o.env.disk_tmp = bench_disk_tmp();
	if (parse_args(argc, argv, &o) || check_steps(&o)) {
		usage(stderr);
		return 2;
	}
	/* before the extension first loads libpmem: /dev/shm is not pmem */
	if (!o.env.target)
		setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	else
		wire_init();
	bench_stop_on_signals(&ycsb_stop);
	struct state s = {.r = malloc(sizeof(struct phase_result))};
	if (!s.r || (o.csv && open_csv(o.csv)))
		return 1;
	print_header(&o);
	int rc = run_steps(&o, &s);
	free(s.r);
	if (o.env.target)
		mongoc_cleanup();
	if (csv && fclose(csv)) {
		fprintf(stderr, "mojim-ycsb: writing %s failed\n", o.csv);
		rc = -1;
	}
	return rc || ycsb_stop ? 1 : 0;
}
