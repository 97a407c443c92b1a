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
 *
 * A run stops at the first record that fails for want of room or health
 * (a full file system, an I/O error): nothing after it is applied, applied_seq does not pass it, the
 * log keeps it, and health.c marks the replica unhealthy. Runs then wait
 * HEALTH_RETRY_MS between tries; the first that gets through clears it.
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

static int is_namespace(enum mjw_rec_type t)
{
	return t != MJW_REC_WRITE;
}

/*
 * A namespace record is a barrier. Writes are idempotent, but a rename or
 * remove replayed over a state where its names were reused is not, so
 * before one runs, everything applied before it is made durable (the
 * earlier batches published, on disk too) and the position is persisted:
 * a replay resumes at that record, never before it. Nothing is persisted
 * unless the sync before it succeeded.
 */
static int ns_barrier(struct mirror *m, const struct ring_batch *b,
                      uint64_t idx)
{
	int rc = replica_sync(&m->replica);
	if (!rc && m->state.d->applied_seq + 1 < b->seq)
		rc = state_set_applied(&m->state, b->seq - 1);
	return rc ? rc : state_set_partial(&m->state, b->seq, idx);
}

/*
 * Whether a record's failure is the replica's lack of room or health (a
 * full or failing file system, no memory or descriptors): the record may
 * apply later, so the batch waits in the log and the replica is unhealthy.
 * The other failures say the record contradicts the replica (a name that
 * does not resolve: a missing rename source, a directory where a file
 * should be, a symlink planted in the replica): no retry can change them.
 */
static int may_apply_later(int rc)
{
	switch (-rc) {
	case ENOENT: case ENOTDIR: case EISDIR: case ELOOP: case EEXIST:
	case ENOTEMPTY: case EXDEV: case ENAMETOOLONG: case EPERM: case EACCES:
		return 0;
	default:
		return 1;
	}
}

/* The record v of b, between its barriers when it is a namespace one. */
static int apply_one(struct mirror *m, const struct ring_batch *b,
                     uint64_t idx, const struct mjw_rec_view *v, char *err,
                     size_t len)
{
	int ns = is_namespace(v->type);
	int rc = ns ? ns_barrier(m, b, idx) : 0;
	if (rc) {
		snprintf(err, len, "persisting the replica before record %llu: %s",
		         (unsigned long long)idx, strerror(-rc));
		return rc;
	}
	if ((rc = replica_apply_rec(&m->replica, v, err, len))) {
		if (may_apply_later(rc))
			return rc;
		/* Reported (log, apply_errors in status), not retried. */
		mlog("batch %llu: %s: the record contradicts the replica; "
		     "skipped", (unsigned long long)b->seq, err);
		pthread_mutex_lock(&m->lock);
		m->apply_errors++;
		pthread_mutex_unlock(&m->lock);
		rc = 0;
	}
	if (ns && ((rc = replica_sync(&m->replica)) ||
	           (rc = state_set_partial(&m->state, b->seq, idx + 1))))
		snprintf(err, len, "persisting the replica after record %llu: %s",
		         (unsigned long long)idx, strerror(-rc));
	return rc;
}

/*
 * Applies the records of every fragment of b, skipping those a previous
 * run made durable, and stops at the first that fails: 0 or its negative
 * errno, described in err.
 */
static int apply_batch(struct mirror *m, const struct ring *r,
                       const struct ring_batch *b, char *err, size_t len)
{
	uint64_t flen, idx = 0, skip = 0;
	struct state_disk *sd = m->state.d;
	if (sd->partial_seq == b->seq && sd->applied_seq + 1 == b->seq)
		skip = sd->partial_recs;
	const void *f;
	const char *why;
	size_t off = 0;
	/* Every frame checked before any record is applied (logcopy.h). */
	int rc = log_copy_batch(&m->apply_copy, r, b, m->max_file_size, &why);
	if (rc) {
		snprintf(err, len, "batch %llu no longer reads as it was "
		         "acknowledged (%s); not applied",
		         (unsigned long long)b->seq, why);
		return rc;
	}
	while (log_copy_frame(&m->apply_copy, &off, &f, &flen)) {
		uint64_t rp = 0;
		struct mjw_rec_view v;
		for (; mjw_rec_next(f, &rp, &v); idx++) {
			if (idx < skip)
				continue;
			if ((rc = apply_one(m, b, idx, &v, err, len)))
				return rc;
		}
	}
	return 0;
}

/* (L) Publishes applied_seq and frees the ring space behind every reader. */
static void publish(struct mirror *m, uint64_t seq, uint64_t n)
{
	m->applied_seq = seq;
	if (m->durable_seq < seq)
		m->durable_seq = seq;
	m->batches_applied += n;
	log_reader_advance(&m->readers, LOG_READER_CKPT, seq);
	(void)log_release(m->rings, RING_MAX, &m->readers); /* see ring.h */
	pthread_cond_broadcast(&m->space_cond);
}

/*
 * (L, dropped while syncing.) Makes the n batches up to seq durable in the
 * replica, then says so: applied_seq persisted, then published. On failure
 * nothing moves: every batch since the persisted applied_seq is still in
 * the log, and a retry applies them all again (after a failed fdatasync
 * the page cache cannot be trusted to hold them).
 */
static int commit(struct mirror *m, uint64_t seq, uint64_t n, char *err,
                  size_t len)
{
	pthread_mutex_unlock(&m->lock);
	int rc = replica_sync(&m->replica);
	if (rc)
		snprintf(err, len, "syncing the replica: %s", strerror(-rc));
	else if ((rc = state_set_applied(&m->state, seq)))
		snprintf(err, len, "persisting applied_seq: %s", strerror(-rc));
	pthread_mutex_lock(&m->lock);
	if (!rc)
		publish(m, seq, n);
	return rc;
}

/*
 * (L) A run stopped at a failure: publish what the state file says is
 * durable (a barrier may have persisted more than was published), and
 * mark the replica unhealthy at the first batch that is not.
 */
static void stopped(struct mirror *m, uint64_t seq, int rc, const char *err)
{
	uint64_t durable = m->state.d->applied_seq;
	if (durable > m->applied_seq)
		publish(m, durable, durable - m->applied_seq);
	if (seq <= m->applied_seq)
		seq = m->applied_seq + 1;
	m->apply_errors++;
	(void)health_fail(m, seq, rc, err); /* reported there */
}

uint64_t ckpt_run(struct mirror *m)
{
	uint64_t start = m->applied_seq, done = start, pending = 0, bad = 0;
	struct ring_batch b;
	struct ring *r;
	char err[256];
	int rc = 0;
	/* A replica waiting for (or being replaced by) a full copy takes no
	 * batch: whatever is logged cannot follow it; but a promotion applies
	 * what the mirror acknowledged (copy_promotable). */
	uint64_t cs = copy_state(m);
	if (cs != COPY_NONE && !(m->copy_ignored && cs != COPY_SWITCH))
		return 0;
	while (!rc && (r = log_pick(m->rings, RING_MAX, done + 1, &b))) {
		pthread_mutex_unlock(&m->lock);
		rc = apply_batch(m, r, &b, err, sizeof(err));
		pthread_mutex_lock(&m->lock);
		if (rc) {
			bad = b.seq;
			break;
		}
		done = b.seq;
		pending++;
		if (!m->cfg.data_on_disk || pending >= DISK_SYNC_BATCHES) {
			rc = commit(m, done, pending, err, sizeof(err));
			pending = 0;
		}
	}
	if (pending) {
		/* What applied before a failure is kept if it can be; if not,
		 * the first unpublished batch is the one that failed. */
		char err2[256];
		int rc2 = commit(m, done, pending, err2, sizeof(err2));
		if (rc2) {
			rc = rc2;
			bad = 0;
			memcpy(err, err2, sizeof(err));
		}
	}
	if (rc)
		stopped(m, bad, rc, err);
	else
		(void)health_ok(m, m->applied_seq);
	return m->applied_seq - start;
}

void ckpt_take_applying(struct mirror *m)
{
	while (m->applying) {
		__atomic_store_n(&m->copy_yield, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&m->lock);
		usleep(1000);
		pthread_mutex_lock(&m->lock);
	}
	__atomic_store_n(&m->copy_yield, 0, __ATOMIC_RELAXED);
	m->applying = 1;
}

int ckpt_try_run(struct mirror *m)
{
	if (m->applying || health_backoff(m, now_ns()))
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
		uint64_t retry = health_retry_at(m);
		int due = m->since_ckpt > 0 &&
		          (m->since_ckpt >= m->cfg.ckpt_thresh ||
		           m->space_waiters > 0 ||
		           now - m->last_batch_ns >= idle_ns);
		if ((due || (retry && now >= retry)) && ckpt_try_run(m))
			continue;
		/* Wake for the idle deadline, a retry of a failed batch, and at
		 * least every 250 ms to keep the rate fresh. */
		uint64_t deadline = now + 250000000ull;
		if (m->since_ckpt > 0 && m->last_batch_ns + idle_ns < deadline)
			deadline = m->last_batch_ns + idle_ns;
		if (retry && retry < deadline)
			deadline = retry > now ? retry : now + 1000000ull;
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
