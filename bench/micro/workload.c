/*
 * workload.c: a region (and a fresh mirror for replicated modes) with one
 * file of --file-size bytes, and N threads that each write random ranges
 * of their own stripe of that file and make every write one sync point.
 *
 * Offsets are random bytes, not rounded to pages (libmojim takes any
 * range). Every operation memsets its range before mj_msync, so the bytes
 * shipped or flushed were really written. Only the mj_msync call is timed
 * for the latency; throughput counts the whole loop.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WARM_OPS 100 /* per thread, before the clock starts */
/*
 * Async backpressure done here: libmojim counts a batch into unacked_bytes
 * before mj_batch_seal() adds the trailer and takes it out after, so the
 * count wraps below zero after the first batch and wait_for_room() blocks
 * every later async sync point for good (as long as the mirror is up).
 * Until that is fixed the benchmark turns the library's limit off and
 * keeps at most ASYNC_MAX_BYTES unacknowledged itself, inside the timed
 * call. --lib-backpressure measures the library's own.
 *
 * Not the library's 64 MiB default: the bytes waiting join one batch, and
 * a batch larger than a mirror log ring (64 MiB by default) never fits:
 * the mirror's receivers then wait for ring space forever.
 */
#define PREFAULT_CHUNK (1ull << 20)
#define ASYNC_MAX_BYTES (16ull << 20)
#define THROTTLE_EVERY 16   /* ops between looks at mj_region_status */
#define THROTTLE_WAITS 200000 /* x 50 us: give up waiting after ~10 s */

static void log_stderr(void *arg, enum mj_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info"};
	fprintf(stderr, "mojim-bench: libmojim %s: %s\n", names[level], msg);
}

static int open_region(struct bench_target *t)
{
	char dir[300];
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mode = t->mode;
	cfg.connections = t->conns > 0 ? t->conns : 1;
	cfg.log = log_stderr;
	if (t->o->spin_us >= 0)
		cfg.spin_us = t->o->spin_us;
	if (t->mode == MJ_MODE_ASYNC && !t->o->lib_backpressure)
		cfg.async_max_bytes = UINT64_MAX;
	if (t->mode != MJ_MODE_UNREPLICATED)
		cfg.mirror = t->mirror.addr;
	char cert[300], key[300], ca[300];
	cfg.keyfile = t->link.keyfile;
	if (t->link.transport)
		cfg.transport = t->link.transport;
	if (t->o->connect_timeout_ms)
		cfg.connect_timeout_ms = t->o->connect_timeout_ms;
	if (t->link.pki) {
		snprintf(cert, sizeof(cert), "%s/primary.pem", t->link.pki);
		snprintf(key, sizeof(key), "%s/primary.key", t->link.pki);
		snprintf(ca, sizeof(ca), "%s/ca.pem", t->link.pki);
		cfg.tls = 1;
		cfg.tls_cert = cert;
		cfg.tls_key = key;
		cfg.tls_ca = ca;
	}
	snprintf(dir, sizeof(dir), "%s/p", t->scratch);
	int rc = mj_region_open(dir, &cfg, &t->region);
	if (rc) {
		fprintf(stderr, "mojim-bench: mj_region_open %s (%s): %s\n", dir,
		        mj_mode_name(t->mode), mj_strerror(rc));
		t->region = NULL;
	}
	return rc;
}

/*
 * Every page written once, here and on the mirror, before the clock starts:
 * tmpfs zeroes fallocated pages at their first touch, which would
 * otherwise be measured as part of the first write to each page (on the
 * mirror it showed as clear_page_erms in the checkpointer's profile).
 */
static int prefault(struct bench_target *t)
{
	uint64_t size = t->o->file_size;
	memset(mj_file_base(t->file), 0x5a, size);
	if (t->mode == MJ_MODE_UNREPLICATED)
		return 0;
	int rc = 0;
	for (uint64_t off = 0; off < size && !rc; off += PREFAULT_CHUNK) {
		uint64_t len = size - off < PREFAULT_CHUNK ? size - off : PREFAULT_CHUNK;
		rc = mj_msync(t->region, t->file, off, len, 0);
		/* Async would merge every chunk into one batch larger than a
		 * mirror log ring, which the mirror then waits on forever. */
		if (!rc)
			rc = mj_region_drain(t->region, 30000);
	}
	return rc;
}

/* The data file: created, grown, prefaulted on both sides. */
static int open_file(struct bench_target *t)
{
	int rc = mj_file_open(t->region, "bench.dat", MJ_O_CREATE, &t->file);
	if (!rc)
		rc = mj_file_resize(t->file, t->o->file_size);
	if (!rc)
		rc = mj_gmsync(t->region, NULL, 0, 0);
	if (!rc)
		rc = prefault(t);
	if (rc)
		fprintf(stderr, "mojim-bench: preparing the data file: %s\n",
		        mj_strerror(rc));
	return rc;
}

int target_open(struct bench_target *t, const struct bench_opts *o,
                enum mj_mode mode, int conns)
{
	return target_open_keyed(t, o, mode, conns, NULL);
}

int target_open_keyed(struct bench_target *t, const struct bench_opts *o,
                      enum mj_mode mode, int conns,
                      const struct bench_link *link)
{
	memset(t, 0, sizeof(*t));
	t->o = o;
	if (link)
		t->link = *link;
	t->mode = mode;
	t->conns = mode == MJ_MODE_UNREPLICATED ? 0 : conns;
	if (scratch_make(o, t->scratch, sizeof(t->scratch)))
		return -1;
	if (mode != MJ_MODE_UNREPLICATED &&
	    mirror_start_keyed(o, t->scratch, "m", link, &t->mirror)) {
		target_close(t);
		return -1;
	}
	if (open_region(t) || open_file(t)) {
		target_close(t);
		return -1;
	}
	struct mj_status st;
	mj_region_status(t->region, &st);
	t->sent_base = st.bytes_sent;
	return 0;
}

void target_close(struct bench_target *t)
{
	if (t->file)
		mj_file_close(t->file);
	if (t->region) {
		int rc = mj_region_close(t->region);
		if (rc)
			fprintf(stderr, "mojim-bench: mj_region_close: %s\n",
			        mj_strerror(rc));
	}
	mirror_stop(&t->mirror);
	scratch_remove(t->scratch);
	t->file = NULL;
	t->region = NULL;
	t->scratch[0] = 0;
}

struct worker {
	struct bench_target *t;
	const struct work_spec *w;
	pthread_barrier_t *go;
	int index;
	uint64_t t0_ns, deadline_ns; /* set by the main thread before go */
	uint64_t end_ns;
	long ops;
	int err;
	struct lat lat;
	struct cpu_hist cpus;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Waits while more than ASYNC_MAX_BYTES are unacknowledged (bounded). */
static void async_throttle(struct bench_target *t)
{
	struct mj_status st;
	for (int i = 0; i < THROTTLE_WAITS; i++) {
		mj_region_status(t->region, &st);
		uint64_t acked = st.bytes_sent - t->sent_base;
		if (atomic_load(&t->synced_bytes) < acked + ASYNC_MAX_BYTES)
			return;
		usleep(50);
	}
}

/* One operation: fill a random range of this thread's stripe, sync it. */
static int one_op(struct worker *k, uint64_t *seed, long i, uint64_t *ns)
{
	struct bench_target *t = k->t;
	uint64_t stripe = t->o->file_size / (uint64_t)k->w->threads;
	uint64_t size = k->w->size;
	uint64_t off = stripe * (uint64_t)k->index +
	               xorshift(seed) % (stripe - size + 1);
	int throttle = t->mode == MJ_MODE_ASYNC && !t->o->lib_backpressure;
	memset((char *)mj_file_base(t->file) + off, (int)(i & 0xff), size);
	uint64_t t0 = now_ns();
	if (throttle && i % THROTTLE_EVERY == 0)
		async_throttle(t);
	int rc = mj_msync(t->region, t->file, off, size, 0);
	if (throttle)
		atomic_fetch_add(&t->synced_bytes, size);
	*ns = now_ns() - t0;
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(k->index + 1), ns;
	long warm = k->w->max_ops / 10 < WARM_OPS ? k->w->max_ops / 10 : WARM_OPS;
	for (long i = 0; i < warm && !k->err; i++)
		k->err = one_op(k, &seed, i, &ns);
	pthread_barrier_wait(k->go); /* everyone warm */
	pthread_barrier_wait(k->go); /* the main thread set the clock */
	for (long i = 0; !k->err && i < k->w->max_ops; i++) {
		if (now_ns() >= k->deadline_ns)
			break;
		k->err = one_op(k, &seed, i, &ns);
		if (!k->err) {
			k->ops++;
			lat_add(&k->lat, ns);
			cpu_hist_sample(&k->cpus);
		}
	}
	k->end_ns = now_ns();
	return NULL;
}

/* Sums the workers into r: latencies, CPUs, ops, the measured window. */
static void collect(struct worker *ks, int n, uint64_t t0, struct row *r)
{
	struct lat all = {0};
	struct cpu_hist cpus = {0};
	uint64_t end = t0;
	r->ops = 0;
	for (int i = 0; i < n; i++) {
		lat_merge(&all, &ks[i].lat);
		cpu_hist_merge(&cpus, &ks[i].cpus);
		r->ops += ks[i].ops;
		if (ks[i].end_ns > end)
			end = ks[i].end_ns;
	}
	r->secs = (double)(end - t0) / 1e9;
	r->lat = lat_summarise(&all);
	r->ops_s = r->secs > 0 ? (double)r->ops / r->secs : 0;
	r->mb_s = r->ops_s * (double)r->size / 1e6;
	cpu_hist_format(&cpus, r->cpus, sizeof(r->cpus));
	lat_free(&all);
}

/* Async: how long the mirror needs to catch up, and the group commit. */
static void note_after(struct bench_target *t, const struct mj_status *s0,
                       struct row *r)
{
	struct mj_status s1;
	uint64_t t0 = now_ns();
	int rc = t->mode == MJ_MODE_ASYNC ? mj_region_drain(t->region, 60000) : 0;
	double drain_ms = (double)(now_ns() - t0) / 1e6;
	mj_region_status(t->region, &s1);
	uint64_t b = s1.batches - s0->batches;
	uint64_t sp = s1.sync_points - s0->sync_points;
	size_t used = 0;
	if (t->mode != MJ_MODE_UNREPLICATED && b)
		used += (size_t)snprintf(r->note, sizeof(r->note), "%.1f syncs/batch ",
		                         (double)sp / (double)b);
	if (t->mode == MJ_MODE_ASYNC && used < sizeof(r->note))
		used += (size_t)snprintf(r->note + used, sizeof(r->note) - used,
		                         "drain %.0f ms%s ", drain_ms,
		                         rc ? " FAILED" : "");
	if ((s1.degraded || s1.mirror_lost) && used < sizeof(r->note))
		snprintf(r->note + used, sizeof(r->note) - used, "%s",
		         s1.degraded ? "DEGRADED" : "MIRROR LOST");
}

/* Allocates every latency array first, so a failure starts no thread. */
static int start_workers(struct bench_target *t, const struct work_spec *w,
                         struct worker *ks, pthread_t *th,
                         pthread_barrier_t *go)
{
	for (int i = 0; i < w->threads; i++) {
		ks[i] = (struct worker){.t = t, .w = w, .go = go, .index = i,
		                        .deadline_ns = UINT64_MAX};
		if (lat_init(&ks[i].lat, (size_t)w->max_ops)) {
			while (i >= 0)
				lat_free(&ks[i--].lat);
			return -1;
		}
	}
	for (int i = 0; i < w->threads; i++) {
		if (pthread_create(&th[i], NULL, worker_main, &ks[i])) {
			/* The others already wait on the barrier. */
			fprintf(stderr, "mojim-bench: pthread_create failed\n");
			exit(1);
		}
	}
	return 0;
}

int work_run(struct bench_target *t, const struct work_spec *w, struct row *r)
{
	struct worker ks[BENCH_MAX_THREADS];
	pthread_t th[BENCH_MAX_THREADS];
	pthread_barrier_t go;
	struct proc_snap a = {0}, b = {0};
	struct mj_status s0;
	if (w->threads < 1 || w->threads > BENCH_MAX_THREADS ||
	    w->size * (uint64_t)w->threads > t->o->file_size)
		return -EINVAL;
	pthread_barrier_init(&go, NULL, (unsigned)w->threads + 1);
	if (start_workers(t, w, ks, th, &go)) {
		pthread_barrier_destroy(&go);
		return -ENOMEM;
	}
	pthread_barrier_wait(&go); /* warm */
	mj_region_status(t->region, &s0);
	if (t->mirror.pid > 0)
		proc_snap_take(t->mirror.pid, &a);
	double c0 = self_cpu_seconds();
	uint64_t t0 = now_ns();
	for (int i = 0; i < w->threads; i++)
		ks[i].deadline_ns = t0 + (uint64_t)(w->seconds * 1e9);
	pthread_barrier_wait(&go); /* clock started */
	int err = 0;
	for (int i = 0; i < w->threads; i++) {
		pthread_join(th[i], NULL);
		if (ks[i].err && !err)
			err = ks[i].err;
	}
	r->threads = w->threads;
	r->size = w->size;
	r->conns = t->conns;
	collect(ks, w->threads, t0, r);
	r->cpu_self = r->secs > 0 ? (self_cpu_seconds() - c0) / r->secs : 0;
	if (t->mirror.pid > 0) {
		proc_snap_take(t->mirror.pid, &b);
		r->cpu_peer = proc_snap_diff(&a, &b, r->peer_cpus,
		                             sizeof(r->peer_cpus)) / r->secs;
	} else {
		snprintf(r->peer_cpus, sizeof(r->peer_cpus), "-");
	}
	note_after(t, &s0, r);
	for (int i = 0; i < w->threads; i++)
		lat_free(&ks[i].lat);
	pthread_barrier_destroy(&go);
	if (err)
		fprintf(stderr, "mojim-bench: mj_msync: %s\n", mj_strerror(err));
	return err;
}

void work_row(struct bench_target *t, const struct work_spec *w,
              const char *section, const char *name, int round, int rounds)
{
	struct row r = {0};
	snprintf(r.section, sizeof(r.section), "%s", section);
	snprintf(r.name, sizeof(r.name), "%s", name);
	if (work_run(t, w, &r))
		snprintf(r.note, sizeof(r.note), "FAILED (see stderr)");
	else
		snprintf(r.note, sizeof(r.note), "round %d of %d", round, rounds);
	report_row(&r);
	target_close(t);
}
