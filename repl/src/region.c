/*
 * region.c: opening and closing a region, status, and the sync point.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool replicated(const mj_region *r)
{
	return r->cfg.mode != MJ_MODE_UNREPLICATED;
}

static bool flushes_locally(mj_region *r)
{
	return atomic_load(&r->flush_local);
}

/* Connects every connection once; degraded or failed if none comes up. */
static int connect_all(mj_region *r)
{
	int first_err = 0;
	for (int i = 0; i < r->nconns; i++) {
		struct mj_link *link;
		struct mjw_hello_ack ack;
		int rc = r->tx->open(r, i, &link, &ack);
		pthread_mutex_lock(&r->mu);
		if (rc == 0)
			mj_handshake_done(r, i, link, &ack);
		pthread_mutex_unlock(&r->mu);
		if (rc && !first_err)
			first_err = rc;
		if (rc == -MJ_EFENCED || rc == -MJ_ECLUSTER)
			return rc;
	}
	if (r->st.connections_up > 0)
		return 0;
	if (r->cfg.policy == MJ_POLICY_BLOCK) {
		mj_log(r, MJ_LOG_ERROR, "cannot reach mirror %s: %s (policy block)",
		       r->cfg.mirror, mj_strerror(first_err));
		return first_err ? first_err : -ECONNREFUSED;
	}
	pthread_mutex_lock(&r->mu);
	r->mirror_lost = true;
	r->st.mirror_lost = 1;
	mj_enter_degraded(r, "mirror unreachable at open");
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void region_free(mj_region *r)
{
	while (r->files) {
		mj_file *f = r->files;
		r->files = f->next;
		mj_file_destroy(f);
	}
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].link)
			r->tx->close(r->conns[i].link);
	mj_queue_free(r->q);
	mj_buf_free(&r->pending_ns);
	free(r->dirty_dirs);
	if (r->dirfd >= 0)
		close(r->dirfd);
	pthread_cond_destroy(&r->cv);
	pthread_cond_destroy(&r->sup_cv);
	pthread_mutex_destroy(&r->mu);
	free(r->dir);
	free((char *)r->cfg.mirror);
	explicit_bzero(&r->key, sizeof(r->key));
	mjl_tls_free(r->tls);
	free(r);
}

/*
 * One process, one opening per directory: an flock on it, held until the
 * region is freed (it goes with the descriptor), taken before the node
 * file is read or anything is sent. A second opener, in this process or
 * another, is turned away before it can touch a file or the mirror.
 */
static int lock_dir(mj_region *r)
{
	if (flock(r->dirfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
	mj_log(r, MJ_LOG_ERROR, "%s is already in use by another process or "
	       "connection (%s)", r->dir, strerror(-rc));
	return rc;
}

/* The cluster key, if one is configured; a bad key file stops the open
 * (an unkeyed primary would just be refused, or worse, trusted). */
static int load_key(mj_region *r, const char *keyfile)
{
	char err[600];
	if (!keyfile)
		return 0;
	int rc = mjl_key_load(keyfile, &r->key, err, sizeof(err));
	if (rc)
		mj_log(r, MJ_LOG_ERROR, "%s", err);
	return rc;
}

/* tls=on: the certificates, loaded and checked before anything is sent. */
static int load_tls(mj_region *r, const struct mj_config *cfg)
{
	char err[600];
	struct mjl_tls_config files = {.cert = cfg->tls_cert, .key = cfg->tls_key,
	                               .ca = cfg->tls_ca};
	if (!cfg->tls)
		return 0;
	int rc = mjl_tls_open(&files, 0, &r->tls, err, sizeof(err));
	if (rc)
		mj_log(r, MJ_LOG_ERROR, "tls: %s", err);
	else
		r->transport = &mjl_tls;
	return rc;
}

static int region_init(mj_region *r, const char *dir, const struct mj_config *cfg)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_cond_init(&r->sup_cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Critical sections are short (a memcpy into the batch at most): spin
	 * a little before sleeping, a context switch costs more here. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&r->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	r->cfg = *cfg;
	r->tx = &mj_link_transport;
	r->transport = mjl_transport_find(cfg->transport);
	r->cfg.mirror = cfg->mirror ? strdup(cfg->mirror) : NULL;
	r->cfg.transport = NULL; /* not kept: the caller's strings may go */
	r->cfg.keyfile = NULL;
	r->cfg.tls_cert = r->cfg.tls_key = r->cfg.tls_ca = NULL;
	r->dir = strdup(dir);
	r->dirfd = -1;
	r->q = mj_queue_new();
	r->slot = MJW_FRAME_MIN_SLOT;
	r->max_batch = 16ull << 20;
	r->nconns = replicated(r) ? cfg->connections : 0;
	for (int i = 0; i < MJ_MAX_CONNS; i++)
		r->conns[i] = (struct mj_conn){.index = i};
	r->st.mode = cfg->mode;
	r->st.policy = cfg->policy;
	r->st.connections = r->nconns;
	r->st.epoch = cfg->epoch;
	if (!r->dir || !r->q || (cfg->mirror && !r->cfg.mirror))
		return -ENOMEM;
	int rc = load_key(r, cfg->keyfile);
	if (!rc)
		rc = load_tls(r, cfg);
	if (rc)
		return rc;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0)
		return -errno;
	rc = lock_dir(r);
	return rc ? rc : mj_node_init(r);
}

int mj_region_open(const char *dir, const struct mj_config *cfg,
                   mj_region **out)
{
	const char *why;
	int rc = mj_config_check(cfg, &why);
	if (rc) {
		mj_log(NULL, MJ_LOG_ERROR, "bad configuration: %s", why);
		return rc;
	}
	mj_region *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = region_init(r, dir, cfg);
	if (!rc && replicated(r))
		rc = connect_all(r);
	if (!rc && replicated(r))
		rc = mj_supervisor_start(r);
	if (!rc && r->cfg.mode == MJ_MODE_ASYNC)
		rc = mj_shippers_start(r);
	if (rc) {
		mj_threads_stop(r);
		region_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int deadline_passed(mj_region *r, uint64_t start_ns)
{
	uint64_t limit = (uint64_t)r->cfg.block_timeout_ms * 1000000;
	uint64_t from = r->lost_since_ns > start_ns ? r->lost_since_ns : start_ns;
	return r->mirror_lost && mj_now_ns() - from >= limit;
}

static void wait_a_little(mj_region *r)
{
	mj_wait_ms(r, &r->cv, 20);
}

/*
 * Waits, mu held, until batch seq is acknowledged, shipping batches
 * ourselves whenever a connection is idle. Fails after block_timeout_ms of
 * a lost mirror (policy block), at once when fenced; degrade ends the wait.
 */
static int wait_durable_loop(mj_region *r, struct mj_waiter *w,
                             uint64_t start_ns)
{
	while (mj_queue_durable(r->q) < w->seq) {
		if (r->fenced)
			return -r->fence_err;
		if (r->degraded)
			return 0;
		if (r->cfg.mode != MJ_MODE_ASYNC && mj_ship_one(r, false))
			continue;
		if (deadline_passed(r, start_ns))
			return -ETIMEDOUT;
		mj_wait_ms(r, &w->cv, 20);
	}
	return 0;
}

static int wait_durable(mj_region *r, uint64_t seq, uint64_t start_ns)
{
	struct mj_waiter w = {.seq = seq, .next = r->waiters};
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	r->waiters = &w;
	int rc = wait_durable_loop(r, &w, start_ns);
	for (struct mj_waiter **p = &r->waiters; *p; p = &(*p)->next) {
		if (*p == &w) {
			*p = w.next;
			break;
		}
	}
	pthread_cond_destroy(&w.cv);
	if (rc)
		return rc;
	/* Our batch is durable and we are awake: send the next one for its
	 * sleeping waiters rather than pay for waking one of them first. */
	if (r->cfg.mode != MJ_MODE_ASYNC && mj_queue_filling(r->q))
		mj_ship_one(r, false);
	return 0;
}

int mj_region_drain(mj_region *r, int timeout_ms)
{
	uint64_t start = mj_now_ns();
	int rc = 0;
	pthread_mutex_lock(&r->mu);
	uint64_t want = mj_queue_next(r->q) - 1;
	while (mj_queue_durable(r->q) < want && !rc) {
		if (r->fenced)
			rc = -r->fence_err;
		else if (r->degraded)
			break;
		else if (r->cfg.mode != MJ_MODE_ASYNC && mj_ship_one(r, false))
			continue;
		else if (mj_now_ns() - start >= (uint64_t)timeout_ms * 1000000 ||
		         deadline_passed(r, start))
			rc = -ETIMEDOUT;
		else
			wait_a_little(r);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/*
 * A close is clean (node.c) only if every sync point reached the mirror
 * (or the region degraded, which the node file then says) and the local
 * files are flushed: only then may a restart trust both copies as they
 * are. Anything less leaves the region marked open, and the next opening
 * copies it all to the mirror.
 */
int mj_region_close(mj_region *r)
{
	int rc = 0;
	if (replicated(r))
		rc = mj_region_drain(r, r->cfg.block_timeout_ms);
	mj_threads_stop(r);
	if (!rc)
		rc = mj_region_flush_local(r);
	if (!rc && !r->fenced)
		rc = mj_node_mark_clean(r);
	region_free(r);
	return rc;
}

void mj_region_writes_lost(mj_region *r)
{
	pthread_mutex_lock(&r->mu);
	if (!r->writes_lost)
		mj_log(r, MJ_LOG_WARN, "writes that were never synced did not "
		       "reach mirror %s: it gets a full copy at the next opening "
		       "(a promotion before then loses them)",
		       r->cfg.mirror ? r->cfg.mirror : "-");
	r->writes_lost = true;
	mj_node_set_stale(r, true);
	pthread_mutex_unlock(&r->mu);
}

void mj_region_status(mj_region *r, struct mj_status *out)
{
	pthread_mutex_lock(&r->mu);
	*out = r->st;
	out->fenced = r->fenced;
	out->fence_err = r->fenced ? r->fence_err : 0;
	out->seq_sent = mj_queue_next(r->q) - 1;
	out->seq_durable = mj_queue_durable(r->q);
	pthread_mutex_unlock(&r->mu);
}

/* Flushes the ranges from the CPU caches (modes with a local flush). */
static int flush_ranges(const struct mj_range *ranges, int n)
{
	int rc = 0;
	for (int i = 0; i < n && !rc; i++)
		rc = mj_file_flush_range(ranges[i].file, ranges[i].off,
		                         ranges[i].len);
	pmem_drain();
	return rc;
}

/* Bytes a sync point adds to a batch, frame overhead included (upper
 * bound: every record padded, every slot's frame header and trailer). */
static uint64_t sync_point_bytes(mj_region *r, const struct mj_range *ranges,
                                 int n)
{
	uint64_t bytes = r->pending_ns.len;
	for (int i = 0; i < n; i++)
		bytes += ranges[i].len + MJW_REC_SIZE + MJW_NAME_MAX + 8;
	return bytes + (bytes / (r->slot / 2) + 2) * MJW_OVERHEAD;
}

/*
 * Adds pending namespace records and the ranges to the filling batch. A
 * batch is never larger than the mirror's log can hold whole: a sync point
 * that would make it so closes the batch (it is queued for sending) and
 * starts the next one.
 */
static int join_batch(mj_region *r, const struct mj_range *ranges, int n,
                      uint64_t *seq)
{
	uint64_t need = sync_point_bytes(r, ranges, n);
	if (need > r->max_batch) {
		mj_log(r, MJ_LOG_ERROR, "a sync point of %llu bytes exceeds the "
		       "largest batch the mirror can log (%llu bytes): give the "
		       "mirror a larger --log-size", (unsigned long long)need,
		       (unsigned long long)r->max_batch);
		return -EMSGSIZE;
	}
	struct mj_batch *b = mj_queue_open(r->q, need, r->max_batch, r->slot);
	if (!b)
		return -ENOMEM;
	struct mj_batch before = *b; /* to take our records out on failure */
	int rc = mj_batch_add_records(b, &r->pending_ns);
	for (int i = 0; i < n && !rc; i++) {
		mj_file *f = ranges[i].file;
		if (!f->name[0] || ranges[i].len == 0)
			continue; /* removed while open: nothing left to copy to */
		void *base;
		uint64_t size;
		mj_file_view(f, &base, &size);
		if (ranges[i].off > size || ranges[i].len > size - ranges[i].off) {
			rc = -EINVAL;
			break;
		}
		rc = mj_batch_add_write(b, f->name, ranges[i].off,
		                        (char *)base + ranges[i].off, ranges[i].len);
	}
	if (rc) {
		/* A sync point joins whole or not at all. */
		before.buf.p = b->buf.p;
		before.buf.cap = b->buf.cap;
		*b = before;
		mj_queue_unopen(r->q, b); /* we opened it: its number back */
		return rc;
	}
	r->pending_ns.len = 0;
	r->pending_ns.nrec = 0;
	b->sync_points++;
	*seq = b->seq;
	return 0;
}

static bool has_data(const mj_region *r, const struct mj_range *ranges, int n)
{
	if (r->pending_ns.len)
		return true;
	for (int i = 0; i < n; i++)
		if (ranges[i].len)
			return true;
	return false;
}

/* Backpressure: wait while too much is unacknowledged. mu held. */
static int wait_for_room(mj_region *r, uint64_t start_ns)
{
	for (;;) {
		if (mj_queue_bytes(r->q) < r->cfg.async_max_bytes || r->degraded)
			return 0;
		if (r->fenced)
			return -r->fence_err;
		if (deadline_passed(r, start_ns))
			return -ETIMEDOUT;
		wait_a_little(r);
	}
}

static int check_ranges(const struct mj_range *ranges, int n)
{
	if (n < 0 || (n > 0 && !ranges))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		uint64_t size = ranges[i].file ? mj_file_size(ranges[i].file) : 0;
		if (!ranges[i].file || ranges[i].off > size ||
		    ranges[i].len > size - ranges[i].off)
			return -EINVAL;
	}
	return 0;
}

/* How many bytes one piece of a split sync point may carry. */
static uint64_t split_limit(mj_region *r, const struct mj_range *ranges,
                            int n, bool *needed)
{
	pthread_mutex_lock(&r->mu);
	uint64_t limit = r->max_batch / 2;
	*needed = replicated(r) && sync_point_bytes(r, ranges, n) > limit;
	pthread_mutex_unlock(&r->mu);
	return limit;
}

/*
 * MJ_SYNC_MAY_SPLIT: the caller does not need the ranges atomic as a
 * whole, so a sync point larger than a batch may become several batches,
 * each atomic, in order (a file's dirty data before a later metadata sync
 * point, say). Returns the first error.
 */
static int gmsync_split(mj_region *r, const struct mj_range *ranges, int n,
                        int flags, uint64_t limit)
{
	enum { CHUNK = 32 };
	struct mj_range chunk[CHUNK];
	int k = 0, rc = 0;
	uint64_t bytes = 0;
	flags &= ~MJ_SYNC_MAY_SPLIT;
	for (int i = 0; i < n && !rc; i++) {
		uint64_t off = ranges[i].off, left = ranges[i].len;
		do {
			uint64_t piece = left < limit - bytes ? left : limit - bytes;
			chunk[k++] = (struct mj_range){ranges[i].file, off, piece};
			bytes += piece;
			off += piece;
			left -= piece;
			if (bytes >= limit || k == CHUNK) {
				rc = mj_gmsync(r, chunk, k, flags);
				k = 0;
				bytes = 0;
			}
		} while (left > 0 && !rc);
	}
	if (!rc && k > 0)
		rc = mj_gmsync(r, chunk, k, flags);
	return rc;
}

/*
 * A sync point while the mirror cannot take batches (resync.c): tracked.
 * Degraded (or async), it is durable once flushed locally; under block it
 * waits until the catch-up or copy that carries it is acknowledged.
 */
static int tracked_sync_point(mj_region *r, const struct mj_range *ranges,
                              int n, uint64_t start)
{
	mj_track_ranges(r, ranges, n);
	if (r->degraded || r->cfg.mode == MJ_MODE_ASYNC) {
		int rc = flushes_locally(r) ? 0 : flush_ranges(ranges, n);
		return rc ? rc : mj_region_sync_local_meta(r);
	}
	int rc = flushes_locally(r) ? mj_region_sync_local_meta(r) : 0;
	uint64_t gen = r->track.gen;
	while (!rc && r->track.gen == gen) {
		if (r->fenced)
			return -r->fence_err;
		if (r->degraded) /* the degrade flush covered us */
			return 0;
		if (deadline_passed(r, start))
			return -ETIMEDOUT;
		wait_a_little(r);
	}
	return rc ? rc : wait_durable(r, r->track.end_seq, start);
}

int mj_gmsync(mj_region *r, const struct mj_range *ranges, int n, int flags)
{
	uint64_t start = mj_now_ns(), seq = 0;
	int rc = check_ranges(ranges, n);
	if (rc)
		return rc;
	if (flags & MJ_SYNC_MAY_SPLIT) {
		bool needed;
		uint64_t limit = split_limit(r, ranges, n, &needed);
		if (needed)
			return gmsync_split(r, ranges, n, flags, limit);
	}
	if (flushes_locally(r) && (rc = flush_ranges(ranges, n)))
		return rc;
	pthread_mutex_lock(&r->mu);
	if (r->fenced) {
		rc = -r->fence_err;
	} else if (!replicated(r)) {
		r->pending_ns.len = 0;
		r->pending_ns.nrec = 0;
		rc = mj_region_sync_local_meta(r);
	} else if (r->track.active) {
		rc = tracked_sync_point(r, ranges, n, start);
	} else {
		/* Bounded queue in every mode: while the mirror is lost, failed
		 * sync points' batches wait for it, and must not pile up. */
		rc = wait_for_room(r, start);
		if (!rc && has_data(r, ranges, n))
			rc = join_batch(r, ranges, n, &seq);
		else
			seq = mj_queue_next(r->q) - 1; /* all begun before us */
		if (!rc && flushes_locally(r))
			rc = mj_region_sync_local_meta(r);
		if (!rc && r->cfg.mode == MJ_MODE_ASYNC)
			pthread_cond_broadcast(&r->cv);
		else if (!rc)
			rc = wait_durable(r, seq, start);
		/* Degraded while we waited: the degrade flush covered us. */
	}
	if (!rc)
		r->st.sync_points++;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int mj_msync(mj_region *r, mj_file *file, uint64_t off, uint64_t len,
             int flags)
{
	struct mj_range range = {.file = file, .off = off, .len = len};
	return mj_gmsync(r, &range, 1, flags);
}
