/*
 * sync.c: sync points.
 *
 * Every sync point of the extension goes through mwt_gmsync. fh_sync of a
 * file is one: the file's dirty ranges and the pending namespace changes,
 * as one batch; fh_sync of a directory, the namespace changes alone. A
 * file system also promises that written bytes reach the medium
 * eventually, and at the latest when the file is closed; mojim's medium
 * is the mirror. So what nobody synced is shipped as well:
 * when the file's last WiredTiger handle closes, at the connection's
 * close, and by the writeback thread (writeback.c) once it has been dirty
 * for writeback_ms. Each of those is an ordinary sync point of the file,
 * atomic with nothing else, as a kernel's writeback is.
 *
 * Under policy block a sync point waits up to block_timeout_ms for a lost
 * mirror. Once a close timed out so, later closes do not wait again while
 * the mirror is still lost: a connection's close, which closes every file,
 * takes about one block_timeout_ms, not one per dirty file.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Bounds the ranges of one mj_gmsync (MJ_SYNC_MAY_SPLIT lets libmojim cut
 * further to the mirror's batch limit); a checkpoint can leave more
 * than that dirty in one data file, so its sync is cut into sync points of
 * at most this many bytes. Only data files get that big between syncs, and
 * WiredTiger does not use their new blocks before the metadata sync that
 * follows, so the replica never depends on half of such a sync.
 */
#define MWT_SYNC_BYTES (8u << 20)

/* When a namespace change was made that no sync point carried yet. */
void mwt_ns_changed(struct mwt_fs *fs)
{
	uint64_t none = 0;
	atomic_compare_exchange_strong(&fs->ns_since_ns, &none, mwt_now_ns());
}

/*
 * Every sync point of the extension: libmojim puts the pending namespace
 * changes first in it, so once it succeeds none is pending. A change made
 * meanwhile may or may not be in it; it stays marked either way (at worst
 * one empty sync point later).
 */
int mwt_gmsync(struct mwt_fs *fs, const struct mj_range *ranges, int n,
               int flags)
{
	uint64_t since = atomic_exchange(&fs->ns_since_ns, 0);
	int rc = -mj_gmsync(fs->region, ranges, n, flags);
	uint64_t none = 0;
	if (rc && since)
		atomic_compare_exchange_strong(&fs->ns_since_ns, &none, since);
	return rc;
}

/* A sync point now would only wait for the mirror, up to block_timeout_ms
 * (or fail at once if fenced, which a caller learns by trying). */
bool mwt_mirror_lost_under_block(struct mwt_fs *fs)
{
	if (fs->cfg.policy != MJ_POLICY_BLOCK || !fs->region)
		return false;
	struct mj_status st;
	mj_region_status(fs->region, &st);
	return st.mirror_lost && !st.degraded && !st.fenced;
}

/* A sync point holding only the pending namespace changes. */
int mwt_sync_ns(struct mwt_fs *fs)
{
	int rc = mwt_gmsync(fs, NULL, 0, 0);
	if (rc)
		return mwt_err(fs, rc, "mojim: sync point: %s",
		               mj_strerror(rc));
	return 0;
}

/* Why a file is synced. */
enum sync_kind {
	SYNC_POINT,     /* fh_sync: a sync point even if the file is clean */
	SYNC_WRITEBACK, /* only if dirty */
	SYNC_AT_CLOSE,  /* only if dirty; may give up at once (see above) */
};

/* Puts ranges back after a failed sync point, so a retry ships them. */
static void requeue(struct mwt_file *f, const struct mj_rangeset *d,
                    int from)
{
	pthread_mutex_lock(&f->mu);
	uint64_t size = mj_file_size(f->mf);
	for (int i = from; i < d->n; i++) {
		uint64_t end = d->r[i].end < size ? d->r[i].end : size;
		if (d->r[i].off < end)
			mj_rangeset_add(&f->dirty, d->r[i].off, end);
	}
	/* retried by the writeback thread writeback_ms from now */
	if (f->dirty.n && atomic_load(&f->dirty_since_ns) == 0)
		atomic_store(&f->dirty_since_ns, mwt_now_ns());
	pthread_mutex_unlock(&f->mu);
}

/* Ships d->r[*i..] in sync points of at most MWT_SYNC_BYTES each. */
static int ship(struct mwt_fs *fs, struct mwt_file *f,
                struct mj_rangeset *d,
                int *i)
{
	enum { MAXR = 256 };
	struct mj_range rg[MAXR];
	while (*i < d->n) {
		int n = 0, next = *i;
		uint64_t bytes = 0;
		while (next < d->n && n < MAXR && bytes < MWT_SYNC_BYTES) {
			struct mj_span *r = &d->r[next];
			uint64_t len = r->end - r->off;
			if (len > MWT_SYNC_BYTES - bytes)
				len = MWT_SYNC_BYTES - bytes;
			rg[n++] = (struct mj_range){f->mf, r->off, len};
			bytes += len;
			if (r->off + len < r->end) {
				r->off += len; /* the rest goes next time */
				break;
			}
			next++;
		}
		int rc = mwt_gmsync(fs, rg, n, MJ_SYNC_MAY_SPLIT);
		if (rc) {
			/* give back the part of a split range we took */
			if (next < d->n && n > 0 && rg[n - 1].off + rg[n - 1].len ==
			                                d->r[next].off)
				d->r[next].off = rg[n - 1].off;
			return rc;
		}
		*i = next;
	}
	return 0;
}

/* A close found the mirror lost after an earlier close timed out. */
static bool close_gives_up(struct mwt_fs *fs)
{
	if (!atomic_load(&fs->close_timed_out))
		return false;
	if (mwt_mirror_lost_under_block(fs))
		return true;
	atomic_store(&fs->close_timed_out, false); /* it is back */
	return false;
}

/* Ships what the caller took from the file's dirty set. */
static int ship_taken(struct mwt_fs *fs, struct mwt_file *f,
                      struct mj_rangeset *d, int *i, enum sync_kind kind)
{
	if (d->n == 0)
		return kind == SYNC_POINT ? mwt_gmsync(fs, NULL, 0, 0) : 0;
	if (kind == SYNC_AT_CLOSE && close_gives_up(fs))
		return ETIMEDOUT;
	int rc = ship(fs, f, d, i);
	if (kind == SYNC_AT_CLOSE && rc == ETIMEDOUT)
		atomic_store(&fs->close_timed_out, true);
	return rc;
}

/*
 * Syncs of one file are serialized: a caller that finds the set empty
 * must still not return before an earlier caller's batch, which may hold
 * its writes, is durable, or its ranges are back in the set after a
 * failure.
 */
static int sync_file(struct mwt_fs *fs, struct mwt_file *f,
                     enum sync_kind kind)
{
	pthread_mutex_lock(&f->sync_mu);
	pthread_mutex_lock(&f->mu);
	struct mj_rangeset d = f->dirty;
	f->dirty = (struct mj_rangeset){0};
	atomic_store(&f->dirty_since_ns, 0);
	pthread_mutex_unlock(&f->mu);
	int i = 0;
	int rc = ship_taken(fs, f, &d, &i, kind);
	if (rc)
		requeue(f, &d, i);
	mj_rangeset_free(&d);
	pthread_mutex_unlock(&f->sync_mu);
	return rc;
}

/* A file of WiredTiger's log (WiredTigerLog.N, in the home or below). */
static bool is_log_file(struct mwt_file *f)
{
	const char *name = mj_file_name(f->mf), *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return strncmp(base, "WiredTigerLog.", 14) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(mj_file_name((*(struct mwt_file *const *)a)->mf),
	              mj_file_name((*(struct mwt_file *const *)b)->mf));
}

/*
 * The other log files' unsynced writes, oldest file first. WiredTiger's
 * log switches files under its writers: the records of a group commit
 * may end in file N while it syncs file N + 1, the current one, and lets
 * the commit return; N's tail is synced later by its log-close thread.
 * On a local file system N's bytes are in the page cache, which outlives
 * the process; here they would be on the primary only. So a sync of a
 * log file makes every log file's bytes durable first. fs->log_sync_mu
 * held (the close thread's own sync of N then waits for this one).
 */
static int sync_other_logs(struct mwt_fs *fs, struct mwt_file *self)
{
	enum { MAXLOGS = 16 };
	struct mwt_file *held[MAXLOGS];
	int n = 0, rc = 0;
	pthread_mutex_lock(&fs->mu);
	for (struct mwt_file *f = fs->files; f && n < MAXLOGS; f = f->next)
		if (f != self && atomic_load(&f->dirty_since_ns) &&
		    is_log_file(f)) {
			mwt_file_hold(f);
			held[n++] = f;
		}
	pthread_mutex_unlock(&fs->mu);
	qsort(held, (size_t)n, sizeof(held[0]), by_name);
	for (int i = 0; i < n; i++) {
		if (!rc)
			rc = sync_file(fs, held[i], SYNC_WRITEBACK);
		mwt_file_put(fs, held[i]);
	}
	return rc;
}

/* A log file with a newer one open: what WiredTiger's log-close thread
 * syncs before closing it. */
static bool has_newer_log(struct mwt_fs *fs, struct mwt_file *self)
{
	bool newer = false;
	pthread_mutex_lock(&fs->mu);
	for (struct mwt_file *f = fs->files; f && !newer; f = f->next)
		newer = f != self && is_log_file(f) &&
		        strcmp(mj_file_name(f->mf), mj_file_name(self->mf)) > 0;
	pthread_mutex_unlock(&fs->mu);
	return newer;
}

int mwt_file_sync(struct mwt_fs *fs, struct mwt_file *f)
{
	if (!is_log_file(f))
		return sync_file(fs, f, SYNC_POINT);
	/* MOJIM_TEST_OLD_LOG_SYNC_DELAY_MS (tests only) delays the sync of an
	 * old log file, as a log-close thread that is not scheduled would,
	 * so that a test can kill the primary inside that window. */
	if (fs->test_old_log_sync_delay_ms && has_newer_log(fs, f))
		usleep((useconds_t)fs->test_old_log_sync_delay_ms * 1000);
	pthread_mutex_lock(&fs->log_sync_mu);
	int rc = sync_other_logs(fs, f);
	if (!rc)
		rc = sync_file(fs, f, SYNC_POINT);
	pthread_mutex_unlock(&fs->log_sync_mu);
	return rc;
}

int mwt_file_sync_at_close(struct mwt_fs *fs, struct mwt_file *f)
{
	return sync_file(fs, f, SYNC_AT_CLOSE);
}

/* Holds up to max files dirty since cutoff_ns or earlier; fs->mu held. */
static int hold_dirty_locked(struct mwt_fs *fs, uint64_t cutoff_ns,
                             struct mwt_file **out, int max)
{
	int n = 0;
	for (struct mwt_file *f = fs->files; f && n < max; f = f->next) {
		uint64_t since = atomic_load(&f->dirty_since_ns);
		if (since != 0 && since <= cutoff_ns) {
			mwt_file_hold(f);
			out[n++] = f;
		}
	}
	return n;
}

/*
 * Ships every file dirty since cutoff_ns or earlier, each as its own sync
 * point, holding a reference on it meanwhile: fs->mu is never held while a
 * sync point waits for the mirror (up to block_timeout_ms). Stops at the
 * first failure (a lost mirror would make every file wait that long); the
 * failed file's ranges stay dirty. A file synced is clean or dirty since
 * after cutoff_ns, so this ends.
 */
int mwt_files_sync_dirty(struct mwt_fs *fs, uint64_t cutoff_ns, bool closing,
                         struct mwt_dirty_sync *out)
{
	enum { BATCH = 32 };
	struct mwt_file *held[BATCH];
	enum sync_kind kind = closing ? SYNC_AT_CLOSE : SYNC_WRITEBACK;
	int n, rc = 0;
	*out = (struct mwt_dirty_sync){0};
	do {
		pthread_mutex_lock(&fs->mu);
		n = hold_dirty_locked(fs, cutoff_ns, held, BATCH);
		pthread_mutex_unlock(&fs->mu);
		for (int i = 0; i < n; i++) {
			if (!rc && (rc = sync_file(fs, held[i], kind)) != 0)
				out->failed = strdup(mj_file_name(held[i]->mf));
			else if (!rc)
				out->synced++;
			mwt_file_put(fs, held[i]);
		}
	} while (!rc && n == BATCH);
	return rc;
}

/*
 * The connection closes (every WiredTiger handle is closed by now): what
 * WiredTiger left open and dirty, and namespace changes no sync point
 * carried, are shipped. Reports a failure; returns the first.
 */
int mwt_sync_at_connection_close(struct mwt_fs *fs)
{
	struct mwt_dirty_sync ds;
	int rc = mwt_files_sync_dirty(fs, mwt_now_ns(), true, &ds);
	if (rc) {
		mj_region_writes_lost(fs->region);
		rc = mwt_err(fs, rc, "mojim: closing: %s: writes never synced "
		             "did not reach the mirror: %s",
		             ds.failed ? ds.failed : "a file", mj_strerror(rc));
		free(ds.failed);
		return rc;
	}
	if (!atomic_load(&fs->ns_since_ns))
		return 0;
	if (close_gives_up(fs)) {
		mj_region_writes_lost(fs->region);
		return mwt_err(fs, ETIMEDOUT, "mojim: closing: namespace "
		               "changes never synced did not reach the mirror: "
		               "%s", mj_strerror(ETIMEDOUT));
	}
	return mwt_sync_ns(fs);
}
