/*
 * checkpoint.c: the checkpointer, one thread that applies complete batches
 * from the rings to the replica directory in global sequence order.
 *
 * A run looks for batch applied+1 in the rings (normally at the front of
 * one of them), applies its records, and repeats until the next seq is
 * not there (a gap: wait for it). Only after a batch's effects are durable
 * is applied_seq persisted, and only then do ring heads move over it, so a
 * crash at any point replays the interrupted batch from the log. Batches
 * with seq <= applied (resends) are dropped when the head passes them.
 *
 * A run starts when ckpt_thresh batches were logged since the last one,
 * when no batch came for ckpt_idle_ms, or when a receiver waits for space.
 */
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Disk backend: sync the replica (fdatasync) every this many batches. */
#define DISK_SYNC_BATCHES 64

/* (L) First batch with seq >= next in ring order; 1 if it is next. */
static int front_is(const struct ring *r, uint64_t next, struct ring_batch *b)
{
	for (size_t i = 0; i < r->q_len; i++) {
		const struct ring_batch *x = ring_batch_at(r, i);
		if (x->seq < next)
			continue; /* applied, not yet released, or a resend */
		if (x->seq != next)
			return 0;
		*b = *x;
		return 1;
	}
	return 0;
}

/* (L) Finds batch seq next in any ring. */
static struct ring *pick(struct mirror *m, uint64_t next, struct ring_batch *b)
{
	for (int k = 0; k < RING_MAX; k++) {
		struct ring *r = m->rings[k];
		if (r && front_is(r, next, b))
			return r;
	}
	/* A resend can queue a batch behind a later one in the same ring;
	 * only those rings need a full look. */
	for (int k = 0; k < RING_MAX; k++) {
		struct ring *r = m->rings[k];
		if (!r || !r->disorder)
			continue;
		for (size_t i = 0; i < r->q_len; i++) {
			if (ring_batch_at(r, i)->seq == next) {
				*b = *ring_batch_at(r, i);
				return r;
			}
		}
	}
	return NULL;
}

static int is_namespace(enum mjw_rec_type t)
{
	return t != MJW_REC_WRITE;
}

/*
 * A namespace record is a barrier. Writes are idempotent, but a rename or
 * remove replayed over a state where its names were reused is not, so
 * before one runs, everything applied before it is made durable (the
 * earlier batches published, on disk too) and the position is persisted:
 * a replay resumes at that record, never before it.
 */
static void ns_barrier(struct mirror *m, const struct ring_batch *b,
                       uint64_t idx)
{
	int rc = replica_sync(&m->replica);
	if (rc)
		mlog("syncing the replica directory failed: %s", strerror(-rc));
	if (m->state.d->applied_seq + 1 < b->seq)
		state_set_applied(&m->state, b->seq - 1);
	state_set_partial(&m->state, b->seq, idx);
}

/*
 * Applies the records of every fragment of b, skipping those a previous
 * run made durable. Returns records failed.
 */
static uint64_t apply_batch(struct mirror *m, const struct ring *r,
                            const struct ring_batch *b)
{
	char err[256];
	uint64_t pos = b->start, len, failed = 0, idx = 0, skip = 0;
	struct state_disk *sd = m->state.d;
	if (sd->partial_seq == b->seq && sd->applied_seq + 1 == b->seq)
		skip = sd->partial_recs;
	const void *f;
	while ((f = ring_next_frame(r, &pos, b->end, &len))) {
		uint64_t rp = 0;
		struct mjw_rec_view v;
		for (; mjw_rec_next(f, &rp, &v); idx++) {
			if (idx < skip)
				continue;
			int ns = is_namespace(v.type);
			if (ns)
				ns_barrier(m, b, idx);
			if (replica_apply_rec(&m->replica, &v, err, sizeof(err)) &&
			    failed++ == 0)
				mlog("batch %llu (ring %d): %s", (unsigned long long)b->seq,
				     r->index, err);
			if (ns) {
				replica_sync(&m->replica);
				state_set_partial(&m->state, b->seq, idx + 1);
			}
		}
	}
	return failed;
}

/* Makes batches up to seq durable in the replica, then says so. */
static void finish(struct mirror *m, uint64_t seq)
{
	int rc = replica_sync(&m->replica);
	if (rc)
		mlog("syncing the replica directory failed: %s", strerror(-rc));
	state_set_applied(&m->state, seq);
}

/* (L) Publishes applied_seq and frees the ring space behind it. */
static void publish(struct mirror *m, uint64_t seq, uint64_t n)
{
	m->applied_seq = seq;
	if (m->durable_seq < seq)
		m->durable_seq = seq;
	m->batches_applied += n;
	for (int k = 0; k < RING_MAX; k++)
		if (m->rings[k])
			ring_release(m->rings[k], seq);
	pthread_cond_broadcast(&m->space_cond);
}

uint64_t ckpt_run(struct mirror *m)
{
	uint64_t done = m->applied_seq, total = 0, unpublished = 0;
	struct ring_batch b;
	struct ring *r;
	/* A replica waiting for (or being replaced by) a full copy takes no
	 * batch: whatever is logged cannot follow it. */
	if (copy_state(m) != COPY_NONE)
		return 0;
	while ((r = pick(m, done + 1, &b))) {
		pthread_mutex_unlock(&m->lock);
		uint64_t failed = apply_batch(m, r, &b);
		done = b.seq;
		unpublished++;
		int sync_now = !m->cfg.data_on_disk ||
		               unpublished >= DISK_SYNC_BATCHES;
		if (sync_now)
			finish(m, done);
		pthread_mutex_lock(&m->lock);
		m->apply_errors += failed;
		if (sync_now) {
			publish(m, done, unpublished);
			total += unpublished;
			unpublished = 0;
		}
	}
	if (unpublished) {
		pthread_mutex_unlock(&m->lock);
		finish(m, done);
		pthread_mutex_lock(&m->lock);
		publish(m, done, unpublished);
		total += unpublished;
	}
	return total;
}

int ckpt_try_run(struct mirror *m)
{
	if (m->applying)
		return 0;
	m->applying = 1;
	m->since_ckpt = 0;
	ckpt_run(m);
	m->applying = 0;
	return 1;
}

/* (L) bytes_per_sec over the last second or so. */
static void update_rate(struct mirror *m, uint64_t now)
{
	if (now - m->rate_ns < 1000000000ull)
		return;
	uint64_t bytes = __atomic_load_n(&m->bytes_received, __ATOMIC_RELAXED);
	m->bytes_per_sec = (uint64_t)((double)(bytes - m->rate_bytes) * 1e9 /
	                              (double)(now - m->rate_ns));
	m->rate_bytes = bytes;
	m->rate_ns = now;
}

static void wait_until(struct mirror *m, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};
	pthread_cond_timedwait(&m->ckpt_cond, &m->lock, &ts);
}

static void *ckpt_main(void *arg)
{
	struct mirror *m = arg;
	uint64_t idle_ns = m->cfg.ckpt_idle_ms * 1000000ull;
	pthread_mutex_lock(&m->lock);
	while (!m->ckpt_quit) {
		uint64_t now = now_ns();
		update_rate(m, now);
		int due = m->since_ckpt > 0 &&
		          (m->since_ckpt >= m->cfg.ckpt_thresh ||
		           m->space_waiters > 0 ||
		           now - m->last_batch_ns >= idle_ns);
		if (due && ckpt_try_run(m))
			continue;
		/* Wake for the idle deadline, and at least every 250 ms to
		 * keep the rate fresh. */
		uint64_t deadline = now + 250000000ull;
		if (m->since_ckpt > 0 && m->last_batch_ns + idle_ns < deadline)
			deadline = m->last_batch_ns + idle_ns;
		wait_until(m, deadline);
	}
	while (m->applying) { /* a receiver is finishing a run */
		pthread_mutex_unlock(&m->lock);
		usleep(1000);
		pthread_mutex_lock(&m->lock);
	}
	ckpt_try_run(m); /* whatever is complete at shutdown */
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int ckpt_start(struct mirror *m)
{
	int rc = pthread_create(&m->ckpt_thread, NULL, ckpt_main, m);
	if (rc)
		return -rc;
	m->ckpt_started = 1;
	return 0;
}

void ckpt_stop(struct mirror *m)
{
	if (!m->ckpt_started)
		return;
	pthread_mutex_lock(&m->lock);
	m->ckpt_quit = 1;
	pthread_cond_broadcast(&m->ckpt_cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->ckpt_thread, NULL);
	m->ckpt_started = 0;
}
