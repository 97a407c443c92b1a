/*
 * run.c: one measurement. A fresh home (and, replicated, a fresh mirror),
 * one table, N threads that each commit one 1 KB insert per transaction
 * until the deadline, then close, stop the mirror and remove everything.
 */
#include "wtbench.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wiredtiger.h>

#define URI "table:bench"
#define NFIELDS 10
#define FIELD_LEN 100
/* 10 fixed-length 100-byte strings: a 1000-byte document of 10 fields. */
#define VALUE_FORMAT "100s100s100s100s100s100s100s100s100s100s"
#define MAX_OPS 1000000000L     /* per thread: the loop is bounded anyway */
#define LAT_CAP_MAX (1u << 22)  /* latencies kept per thread (16 MB) */
#define START_WAIT_MS 30000     /* threads opening their sessions */

/* What the threads share. go: 0 wait, 1 run, -1 give up. */
struct shared {
	WT_CONNECTION *conn;
	_Atomic int ready, go;
	_Atomic uint64_t deadline;
};

struct worker {
	struct shared *sh;
	int id;
	int rc;
	long ops;
	uint64_t end_ns;
	struct lat lat;
};

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

static int build_config(const struct wtb_opts *o, const struct wtb_config *c,
                        const char *addr, int spin_us, char *buf, size_t len)
{
	/* No automatic checkpoints (wait=0): a checkpoint in a 5 s window
	 * would land in some runs and not others. One runs at close. */
	const char *common = "create,cache_size=256MB,checkpoint=(wait=0)";
	const char *logged = "log=(enabled,file_max=16MB,archive=true),"
	                     "transaction_sync=(enabled,method=fsync)";
	int n;
	if (c->kind == WTB_NOLOG)
		n = snprintf(buf, len, "%s,log=(enabled=false)", common);
	else if (c->kind == WTB_JOURNALED || c->kind == WTB_SHMLOG)
		n = snprintf(buf, len, "%s,%s", common, logged);
	else { /* the address is quoted: WiredTiger reads ':' as '=' */
		char spin[32] = "";
		if (spin_us >= 0)
			snprintf(spin, sizeof(spin), ",spin_us=%d", spin_us);
		n = snprintf(buf, len, "%s,%s,extensions=[%s=(early_load=true,"
		             "config={mode=%s%s%s%s%s})]", common, logged, o->ext,
		             c->mode, addr[0] ? ",mirror=\"" : "", addr,
		             addr[0] ? "\"" : "", spin);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The table exists, checkpointed, before the clock starts. */
static int create_table(WT_CONNECTION *conn)
{
	WT_SESSION *s;
	int rc = conn->open_session(conn, NULL, NULL, &s);
	if (rc)
		return rc;
	rc = s->create(s, URI, "key_format=Q,value_format=" VALUE_FORMAT);
	if (!rc)
		rc = s->checkpoint(s, NULL);
	s->close(s, NULL);
	return rc;
}

static int one_commit(WT_SESSION *s, WT_CURSOR *c, uint64_t key,
                      char f[NFIELDS][FIELD_LEN + 1])
{
	int rc = s->begin_transaction(s, NULL);
	if (rc)
		return rc;
	c->set_key(c, key);
	c->set_value(c, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8],
	             f[9]);
	if ((rc = c->insert(c)) != 0) {
		s->rollback_transaction(s, NULL);
		return rc;
	}
	return s->commit_transaction(s, NULL);
}

static void fill_fields(char f[NFIELDS][FIELD_LEN + 1], int id)
{
	for (int i = 0; i < NFIELDS; i++) {
		memset(f[i], 'a' + (id + i) % 26, FIELD_LEN);
		f[i][FIELD_LEN] = '\0';
	}
}

static void commit_loop(struct worker *w, WT_SESSION *s, WT_CURSOR *c)
{
	char f[NFIELDS][FIELD_LEN + 1];
	uint64_t deadline = atomic_load(&w->sh->deadline);
	fill_fields(f, w->id);
	/* Unique keys per thread: inserts never conflict. */
	uint64_t base = (uint64_t)(w->id + 1) << 40;
	for (long i = 0; i < MAX_OPS && !wtb_stop; i++) {
		uint64_t t0 = now_ns();
		if (t0 >= deadline)
			break;
		if ((w->rc = one_commit(s, c, base + (uint64_t)i, f)) != 0)
			break;
		lat_add(&w->lat, now_ns() - t0);
		w->ops++;
	}
	w->end_ns = now_ns();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	WT_CONNECTION *conn = w->sh->conn;
	WT_SESSION *s = NULL;
	WT_CURSOR *c = NULL;
	w->rc = conn->open_session(conn, NULL, NULL, &s);
	if (!w->rc)
		w->rc = s->open_cursor(s, URI, NULL, NULL, &c);
	atomic_fetch_add(&w->sh->ready, 1);
	if (bench_wait_go(&w->sh->go, START_WAIT_MS) && !w->rc)
		commit_loop(w, s, c);
	if (w->rc)
		fprintf(stderr, "mojim-wtbench: thread %d: %s\n", w->id,
		        wiredtiger_strerror(w->rc));
	if (s)
		s->close(s, NULL);
	return NULL;
}

/* Waits (bounded) until n threads have their sessions. */
static int wait_ready(struct shared *sh, int n)
{
	for (int i = 0; i < START_WAIT_MS; i++) {
		if (atomic_load(&sh->ready) >= n)
			return 0;
		sleep_ms(1);
	}
	fprintf(stderr, "mojim-wtbench: threads not ready in %d ms\n",
	        START_WAIT_MS);
	return -1;
}

static void summarise(struct worker *w, int n, uint64_t start,
                      struct wtb_result *r)
{
	struct lat all;
	uint64_t end = start;
	int failed = 0;
	lat_init(&all, 0);
	for (int i = 0; i < n; i++) {
		r->commits += w[i].ops;
		if (w[i].end_ns > end)
			end = w[i].end_ns;
		if (lat_merge(&all, &w[i].lat) || w[i].rc)
			failed = 1;
		if ((size_t)w[i].ops > w[i].lat.n)
			r->lat_dropped = 1;
	}
	r->secs = (double)(end - start) / 1e9;
	r->commits_s = r->secs > 0 ? (double)r->commits / r->secs : 0;
	r->lat = lat_summarise(&all);
	r->ok = !failed && r->commits > 0 && !wtb_stop;
	lat_free(&all);
}

static void measure(WT_CONNECTION *conn, int n, double seconds,
                    struct wtb_result *r)
{
	struct shared sh = {.conn = conn};
	struct worker w[WTB_MAX_THREADS];
	pthread_t th[WTB_MAX_THREADS];
	size_t cap = (size_t)(seconds * 400000.0);
	int started = 0;
	if (cap > LAT_CAP_MAX)
		cap = LAT_CAP_MAX;
	memset(w, 0, sizeof(w));
	for (int i = 0; i < n; i++) {
		w[i].sh = &sh;
		w[i].id = i;
		if (lat_init(&w[i].lat, cap))
			break;
		if (pthread_create(&th[i], NULL, worker_main, &w[i]))
			break;
		started++;
	}
	uint64_t start = now_ns();
	if (started == n && wait_ready(&sh, n) == 0) {
		start = now_ns();
		atomic_store(&sh.deadline,
		             start + (uint64_t)(seconds * 1e9));
		atomic_store(&sh.go, 1);
	} else {
		atomic_store(&sh.go, -1);
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started == n && atomic_load(&sh.go) > 0)
		summarise(w, n, start, r);
	for (int i = 0; i < n; i++)
		lat_free(&w[i].lat);
}

/* Opens WiredTiger on home, runs, closes; returns 0 if it ran cleanly. */
static void run_in_home(const struct wtb_opts *o, const struct wtb_config *c,
                        const char *home, const char *addr, int spin_us,
                        int threads, struct wtb_result *r)
{
	char cfg[2048];
	WT_CONNECTION *conn;
	if (build_config(o, c, addr, spin_us, cfg, sizeof(cfg))) {
		fprintf(stderr, "mojim-wtbench: configuration too long\n");
		return;
	}
	int rc = wiredtiger_open(home, NULL, cfg, &conn);
	if (rc) {
		fprintf(stderr, "mojim-wtbench: %s: wiredtiger_open: %s\n",
		        c->name, wiredtiger_strerror(rc));
		return;
	}
	if ((rc = create_table(conn)) != 0)
		fprintf(stderr, "mojim-wtbench: %s: create: %s\n", c->name,
		        wiredtiger_strerror(rc));
	else
		measure(conn, threads, o->seconds, r);
	if ((rc = conn->close(conn, NULL)) != 0) {
		fprintf(stderr, "mojim-wtbench: %s: close: %s\n", c->name,
		        wiredtiger_strerror(rc));
		r->ok = 0;
	}
}

static const struct tier_spec *tier_named(const char *name)
{
	for (size_t i = 0; name && i < ntier_specs; i++)
		if (!strcmp(tier_specs[i].name, name))
			return &tier_specs[i];
	return NULL;
}

/* The mirror, with the backups of c's tier (if any) started first. */
static int replicas_start(const struct bench_opts *bo,
                          const struct wtb_config *c, const char *scratch,
                          struct mirror_proc *m, struct tier_procs *tp)
{
	const struct tier_spec *t = tier_named(c->tier);
	if (!t)
		return mirror_start(bo, scratch, m);
	if (tier_procs_start(bo, scratch, t, tp))
		return -1;
	const struct bench_link link = {.args = tp->args};
	return mirror_start_keyed(bo, scratch, "m", &link, m);
}

void wtb_run(const struct wtb_opts *o, const struct wtb_config *c,
             int threads, struct wtb_result *r)
{
	struct bench_opts b = c->kind == WTB_JOURNALED ? o->disk : o->shm;
	const struct bench_opts *bo = &b;
	if (c->spin_us >= 0)
		b.spin_us = c->spin_us;
	char scratch[256], home[300];
	struct mirror_proc m = {0};
	struct tier_procs tp = {.proxy = -1};
	memset(r, 0, sizeof(*r));
	r->cfg = c;
	r->threads = threads;
	if (scratch_make(bo, scratch, sizeof(scratch)))
		return;
	snprintf(home, sizeof(home), "%s/home", scratch);
	if (mkdir(home, 0755)) {
		fprintf(stderr, "mojim-wtbench: mkdir %s: %s\n", home,
		        strerror(errno));
	} else if (!c->replicated || replicas_start(bo, c, scratch, &m, &tp) == 0) {
		run_in_home(o, c, home, c->replicated ? m.addr : "", b.spin_us,
		            threads, r);
	}
	mirror_stop(&m);
	tier_procs_stop(&tp);
	scratch_remove(scratch);
}
