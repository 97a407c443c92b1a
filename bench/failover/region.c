/*
 * region.c: a region of N MB through libmojim: streaming it, losing the
 * mirror (degrade flush), catching up after an outage under load, and a
 * full copy to a new mirror.
 */
#include "failbench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILES 16
#define WRITERS 2
#define WRITER_PAUSE_US 5000 /* 200 sync points/s per writer: a steady load */
#define WAIT_S 120 /* any wait for the library, bounded */

struct region {
	mj_region *r;
	mj_file *f[FILES];
	uint64_t file_size;
	char dir[300];
};

static int fail(const char *what, int rc)
{
	fprintf(stderr, "mojim-failbench: %s: %s\n", what, mj_strerror(rc));
	return 1;
}

static int open_region(struct region *g, const char *addr)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mode = MJ_MODE_SYNC;
	cfg.policy = MJ_POLICY_DEGRADE;
	cfg.mirror = addr;
	cfg.ack_timeout_ms = 1000;
	cfg.heartbeat_ms = 200;
	int rc = mj_region_open(g->dir, &cfg, &g->r);
	for (int i = 0; i < FILES && !rc; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%02d", i);
		rc = mj_file_open(g->r, name, MJ_O_CREATE, &g->f[i]);
	}
	return rc;
}

static void close_region(struct region *g)
{
	for (int i = 0; i < FILES; i++)
		if (g->f[i])
			mj_file_close(g->f[i]);
	if (g->r)
		mj_region_close(g->r);
	memset(g->f, 0, sizeof(g->f));
	g->r = NULL;
}

/* Every byte written and shipped once, in sync points of up to 8 MB. */
static int stream(struct region *g, struct fb_result *res)
{
	uint64_t t0 = now_ns();
	for (int i = 0; i < FILES; i++) {
		int rc = mj_file_resize(g->f[i], g->file_size);
		if (rc)
			return fail("resize", rc);
		memset(mj_file_base(g->f[i]), 'a' + i, g->file_size);
		rc = mj_msync(g->r, g->f[i], 0, g->file_size, MJ_SYNC_MAY_SPLIT);
		if (rc)
			return fail("stream", rc);
	}
	res->stream_mb_s = (double)(g->file_size * FILES) / 1e6 /
	                   ((double)(now_ns() - t0) / 1e9);
	return 0;
}

static struct mj_status status(const struct region *g)
{
	struct mj_status st;
	mj_region_status(g->r, &st);
	return st;
}

/* The mirror dies; the next sync point degrades after a local flush. */
static int lose_mirror(struct region *g, struct mirror_proc *m,
                       struct fb_result *res)
{
	mirror_kill(m);
	for (int i = 0; i < 1000 && !status(g).degraded; i++) {
		int rc = mj_msync(g->r, g->f[0], 0, 4096, 0);
		if (rc)
			return fail("sync point after the kill", rc);
	}
	struct mj_status st = status(g);
	if (!st.degraded)
		return fail("the region never degraded", -EIO);
	res->degrade_flush_ms = (double)st.degrade_flush_us / 1000.0;
	return 0;
}

struct writers {
	struct region *g;
	atomic_int stop;
	atomic_int failed;
};

static void *writer_main(void *arg)
{
	struct writers *w = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	char buf[4096];
	memset(buf, 'w', sizeof(buf));
	while (!atomic_load(&w->stop)) {
		mj_file *f = w->g->f[rand_r(&seed) % FILES];
		uint64_t off = (uint64_t)rand_r(&seed) % (w->g->file_size / 4096)
		               * 4096;
		memcpy((char *)mj_file_base(f) + off, buf, sizeof(buf));
		if (mj_msync(w->g->r, f, off, sizeof(buf), 0)) {
			atomic_store(&w->failed, 1);
			break;
		}
		usleep(WRITER_PAUSE_US);
	}
	return NULL;
}

/* (Writers running.) Restart the mirror; time until caught up. */
static int time_catchup(struct region *g, const struct fb_opts *o,
                        struct mirror_proc *m, struct fb_result *res)
{
	if (mirror_restart(&o->bo, m))
		return 1;
	uint64_t t0 = now_ns(), target = 0;
	while (now_ns() - t0 < WAIT_S * 1000000000ull) {
		struct mj_status st = status(g);
		if (!target && (st.catchups || st.full_copies))
			target = st.seq_sent;
		if (target && st.seq_durable >= target) {
			res->catchup_ms = (double)(now_ns() - t0) / 1e6;
			res->catchup_mb = (double)st.catchup_bytes / 1e6;
			res->catchup_was_copy = st.full_copies > 0;
			return 0;
		}
		usleep(1000);
	}
	return fail("no catch-up", -ETIMEDOUT);
}

static int outage(struct region *g, const struct fb_opts *o,
                  struct mirror_proc *m, struct fb_result *res)
{
	struct writers w = {.g = g};
	pthread_t th[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer_main, &w);
	usleep((useconds_t)(o->outage_s * 1e6));
	int rc = time_catchup(g, o, m, res);
	atomic_store(&w.stop, 1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&w.failed))
		rc = fail("a writer's sync point failed", -EIO);
	return rc;
}

/* Reopens the region against a new, empty mirror: a full copy. */
static int full_copy(struct region *g, const struct fb_opts *o,
                     const char *scratch, struct fb_result *res)
{
	struct mirror_proc m2;
	if (mirror_start_in(&o->bo, scratch, "m2", &m2))
		return 1;
	int rc = open_region(g, m2.addr);
	uint64_t t0 = now_ns();
	while (!rc && !status(g).full_copies &&
	       now_ns() - t0 < WAIT_S * 1000000000ull)
		usleep(1000);
	struct mj_status st = g->r ? status(g) : (struct mj_status){0};
	if (!rc && !st.full_copies)
		rc = -ETIMEDOUT;
	if (!rc) {
		res->copy_ms = (double)st.copy_us / 1000.0;
		res->copy_mb_s = (double)st.copy_bytes_done / (double)st.copy_us;
	}
	close_region(g);
	mirror_stop(&m2);
	return rc ? fail("full copy", rc) : 0;
}

int fb_region(const struct fb_opts *o, struct fb_result *res)
{
	char scratch[256];
	struct region g = {.file_size = (uint64_t)o->size_mb << 20 >> 4};
	struct mirror_proc m;
	if (scratch_make(&o->bo, scratch, sizeof(scratch)))
		return 1;
	snprintf(g.dir, sizeof(g.dir), "%s/p", scratch);
	int failed = mirror_start_in(&o->bo, scratch, "m1", &m);
	if (!failed) {
		int rc = open_region(&g, m.addr);
		failed = rc ? fail("open", rc) : stream(&g, res);
	}
	if (!failed)
		failed = lose_mirror(&g, &m, res);
	if (!failed)
		failed = outage(&g, o, &m, res);
	close_region(&g);
	mirror_stop(&m);
	if (!failed)
		failed = full_copy(&g, o, scratch, res);
	scratch_remove(scratch);
	return failed;
}
