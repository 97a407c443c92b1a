/*
 * phase.c: a phase on N threads. Load inserts recordcount records; run
 * draws operationcount operations from the workload's mix and key
 * distribution (CoreWorkload.doTransaction); insert is the paper's
 * MongoDB insert micro benchmark, batches of documents per transaction.
 * Each thread does its share of the operations, times each one into its
 * own histograms, and stops at the first error (a failed run).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64
#define START_WAIT_MS 30000
#define BATCH_MAX 1000

volatile sig_atomic_t ycsb_stop;

struct shared {
	struct env *e;
	const struct workload *w;
	enum phase_kind kind;
	_Atomic int ready, go;     /* go: 0 wait, 1 run, -1 give up */
};

struct worker {
	struct shared *sh;
	struct rng r;
	struct keychooser kc;
	struct opmix mix;
	struct sess x;
	int64_t quota, ops;
	uint64_t end_ns;
	int rc;
	struct hist h[OP_NTYPES];
};

/* Takes n keys from the insert sequence, inserts them in one
 * transaction, then acknowledges them (reads may pick them now). */
static int do_insert(struct worker *t, int n)
{
	char keys[BATCH_MAX][KEY_MAX];
	int64_t k[BATCH_MAX];
	struct ackctr *seq = &t->sh->e->seq;
	for (int i = 0; i < n; i++) {
		k[i] = ackctr_take(seq);
		ycsb_key(k[i], keys[i], KEY_MAX);
	}
	int rc = st_insert(&t->x, keys, n, &t->r);
	for (int i = 0; i < n && !rc; i++)
		if (ackctr_ack(seq, k[i])) {
			snprintf(t->x.err, sizeof(t->x.err), "insert sequence "
			         "window overflow");
			rc = -1;
		}
	return rc;
}

static int do_op(struct worker *t, enum op op)
{
	const struct workload *w = t->sh->w;
	char key[KEY_MAX];
	if (op == OP_INSERT)
		return do_insert(t, t->sh->kind == PH_INSERT ? w->batch : 1);
	int64_t k = keychooser_next(&t->kc, &t->r, &t->sh->e->seq);
	if (k < 0) {
		snprintf(t->x.err, sizeof(t->x.err), "no key drawn below the "
		         "insert limit");
		return -1;
	}
	ycsb_key(k, key, sizeof(key));
	int field = (int)rng_range(&t->r, 0, t->sh->e->st.spec.fieldcount - 1);
	switch (op) {
	case OP_READ:
		return st_read(&t->x, key);
	case OP_UPDATE:
		return st_update(&t->x, key, field, &t->r);
	case OP_SCAN:
		return st_scan(&t->x, key,
		               (int)rng_range(&t->r, w->minscan, w->maxscan));
	default:
		return st_rmw(&t->x, key, field, &t->r);
	}
}

static void op_loop(struct worker *t)
{
	for (int64_t i = 0; i < t->quota && !ycsb_stop; i++) {
		enum op op = t->sh->kind == PH_RUN ? opmix_next(&t->mix, &t->r)
		                                   : OP_INSERT;
		uint64_t t0 = now_ns();
		if ((t->rc = do_op(t, op)) != 0)
			break;
		hist_add(&t->h[op], now_ns() - t0);
		t->ops++;
	}
	t->end_ns = now_ns();
}

static void *worker_main(void *arg)
{
	struct worker *t = arg;
	t->rc = sess_open(&t->sh->e->st, &t->x);
	atomic_fetch_add(&t->sh->ready, 1);
	if (bench_wait_go(&t->sh->go, START_WAIT_MS) && !t->rc)
		op_loop(t);
	sess_close(&t->x);
	if (!t->rc && t->x.close_rc) /* --target, w0: the ping failed */
		t->rc = t->x.close_rc;
	return NULL;
}

static void init_worker(struct worker *t, struct shared *sh, int id,
                        int64_t quota, uint64_t seed,
                        const struct keychooser *kc)
{
	memset(t, 0, sizeof(*t));
	t->sh = sh;
	t->quota = quota;
	t->kc = *kc; /* each thread extends its own zeta, no lock */
	rng_seed(&t->r, seed * 1000003u + (uint64_t)id);
	opmix_init(&t->mix, sh->w->prop);
	for (int i = 0; i < OP_NTYPES; i++)
		hist_init(&t->h[i]);
}

static int wait_ready(struct shared *sh, int n)
{
	for (int i = 0; i < START_WAIT_MS && !ycsb_stop; i++) {
		if (atomic_load(&sh->ready) >= n)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Adds the threads' counts into r; the first error's text wins. */
static void collect(struct worker *t, int n, uint64_t start,
                    struct phase_result *r)
{
	uint64_t end = start;
	for (int i = 0; i < n; i++) {
		r->ops += t[i].ops;
		r->retries += t[i].x.retries;
		if (t[i].end_ns > end)
			end = t[i].end_ns;
		for (int o = 0; o < OP_NTYPES; o++) {
			hist_merge(&r->h[o], &t[i].h[o]);
			hist_merge(&r->all, &t[i].h[o]);
		}
		if (t[i].rc && !r->errors++)
			snprintf(r->err, sizeof(r->err), "%s (%s)",
			         t[i].x.err[0] ? t[i].x.err : "operation failed",
			         t[i].rc > 0 || t[i].rc < -1 ?
			         wiredtiger_strerror(t[i].rc) : "");
	}
	r->secs = (double)(end - start) / 1e9;
}

static int64_t phase_ops(const struct workload *w, enum phase_kind k)
{
	return k == PH_LOAD ? w->recordcount : w->operationcount;
}

static void spawn_threads(struct shared *sh, struct worker *t, int n,
                        uint64_t seed, const struct keychooser *kc,
                        struct phase_result *r)
{
	pthread_t th[MAX_THREADS];
	int64_t total = phase_ops(sh->w, sh->kind), started = 0;
	for (int i = 0; i < n; i++) {
		/* YCSB's split: opcount / threads, the first ones one more */
		int64_t q = total / n + (i < total % n);
		init_worker(&t[i], sh, i, q, seed, kc);
		if (pthread_create(&th[i], NULL, worker_main, &t[i]))
			break;
		started++;
	}
	uint64_t start = now_ns();
	int ok = started == n && wait_ready(sh, n) == 0;
	start = now_ns();
	atomic_store(&sh->go, ok ? 1 : -1);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (!ok)
		snprintf(r->err, sizeof(r->err), "threads did not start");
	collect(t, (int)started, start, r);
	r->errors += !ok;
}

int phase_run(struct env *e, const struct workload *w, enum phase_kind k,
              uint64_t seed, struct phase_result *r)
{
	struct shared sh = {.e = e, .w = w, .kind = k};
	struct keychooser kc;
	int n = w->threads;
	memset(r, 0, sizeof(*r));
	hist_init(&r->all);
	for (int i = 0; i < OP_NTYPES; i++)
		hist_init(&r->h[i]);
	if (n < 1 || n > MAX_THREADS || w->batch > BATCH_MAX) {
		snprintf(r->err, sizeof(r->err), "bad thread count or batch");
		return -1;
	}
	int64_t expect = (int64_t)((double)w->operationcount *
	                           w->prop[OP_INSERT] * 2.0);
	keychooser_init(&kc, w->dist, env_records(e), expect);
	struct worker *t = calloc((size_t)n, sizeof(*t));
	if (!t) {
		snprintf(r->err, sizeof(r->err), "no memory for the threads");
		return -1;
	}
	spawn_threads(&sh, t, n, seed, &kc, r);
	free(t);
	if (ycsb_stop && !r->errors) {
		snprintf(r->err, sizeof(r->err), "interrupted");
		r->errors++;
	}
	return r->errors ? -1 : 0;
}
