/*
 * writeback.c: bytes WiredTiger wrote and never synced reach the mirror
 * anyway, as a kernel's writeback puts dirty pages on disk. A thread wakes
 * every quarter of writeback_ms (10 ms to 1 s) and ships each file whose
 * oldest unsynced write is older than writeback_ms, each file as one
 * ordinary sync point, atomic with nothing else; namespace changes nobody
 * synced for that long go in an empty sync point.
 *
 * The thread never calls WiredTiger: its messages go to stderr (wtcall.c).
 * It never holds fs->mu while a sync point waits for the mirror, and holds
 * a reference on each file it syncs (file.c), so a concurrent last close
 * cannot free it. While the mirror is lost under policy block it skips
 * its passes (a sync point would only wait, holding up WiredTiger's own
 * syncs of the file). A failed pass leaves the ranges dirty, to be retried
 * writeback_ms later, and is reported once, not at every retry. The
 * thread is stopped before the region is closed.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mwt_writeback {
	struct mwt_fs *fs;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled to stop */
	bool stop;         /* under mu */
	int reported;      /* the failure last reported; 0 once a pass ships */
};

/* Ships what has been dirty for writeback_ms; returns the first error. */
static int writeback_due(struct mwt_writeback *wb, char **what,
                         bool *shipped)
{
	struct mwt_fs *fs = wb->fs;
	uint64_t age = (uint64_t)fs->writeback_ms * 1000000u;
	uint64_t now = mwt_now_ns();
	uint64_t cutoff = now > age ? now - age : 0;
	*shipped = false;
	if (mwt_mirror_lost_under_block(fs))
		return 0; /* it would only wait; retried when the mirror is back */
	struct mwt_dirty_sync ds;
	int rc = mwt_files_sync_dirty(fs, cutoff, false, &ds);
	*shipped = ds.synced > 0;
	if (rc) {
		*what = ds.failed;
		return rc;
	}
	uint64_t ns_since = atomic_load(&fs->ns_since_ns);
	if (ns_since != 0 && ns_since <= cutoff) {
		if ((rc = mwt_gmsync(fs, NULL, 0, 0)) != 0)
			*what = strdup("namespace changes");
		*shipped = !rc;
	}
	return rc;
}

static void writeback_pass(struct mwt_writeback *wb)
{
	char *what = NULL;
	bool shipped;
	int rc = writeback_due(wb, &what, &shipped);
	if (rc && rc != wb->reported) {
		mwt_err(wb->fs, rc, "mojim: writeback of %s to the mirror "
		        "failed: %s; the writes stay dirty and are retried",
		        what ? what : "a file", mj_strerror(rc));
		wb->reported = rc;
	} else if (!rc && shipped && wb->reported) {
		mwt_note(wb->fs, "mojim: writeback reaches the mirror again");
		wb->reported = 0;
	}
	free(what);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *writeback_main(void *arg)
{
	struct mwt_writeback *wb = arg;
	int period_ms = wb->fs->writeback_ms / 4;
	period_ms = period_ms < 10 ? 10 : period_ms > 1000 ? 1000 : period_ms;
	pthread_mutex_lock(&wb->mu);
	while (!wb->stop) {
		struct timespec due;
		deadline_in(&due, period_ms);
		while (!wb->stop &&
		       pthread_cond_timedwait(&wb->cv, &wb->mu, &due) != ETIMEDOUT)
			;
		if (wb->stop)
			break;
		pthread_mutex_unlock(&wb->mu);
		writeback_pass(wb);
		pthread_mutex_lock(&wb->mu);
	}
	pthread_mutex_unlock(&wb->mu);
	return NULL;
}

int mwt_writeback_start(struct mwt_fs *fs)
{
	if (fs->writeback_ms == 0)
		return 0;
	struct mwt_writeback *wb = calloc(1, sizeof(*wb));
	if (!wb)
		return ENOMEM;
	wb->fs = fs;
	pthread_mutex_init(&wb->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wb->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&wb->thread, NULL, writeback_main, wb);
	if (rc) {
		pthread_cond_destroy(&wb->cv);
		pthread_mutex_destroy(&wb->mu);
		free(wb);
		return mwt_err(fs, rc, "mojim: cannot start the writeback "
		               "thread: %s", strerror(rc));
	}
	fs->writeback = wb;
	return 0;
}

/* Waits for a pass in progress: at most one sync point's wait for a lost
 * mirror (block_timeout_ms), as a pass stops at its first failure. */
void mwt_writeback_stop(struct mwt_fs *fs)
{
	struct mwt_writeback *wb = fs->writeback;
	if (!wb)
		return;
	pthread_mutex_lock(&wb->mu);
	wb->stop = true;
	pthread_cond_signal(&wb->cv);
	pthread_mutex_unlock(&wb->mu);
	pthread_join(wb->thread, NULL);
	pthread_cond_destroy(&wb->cv);
	pthread_mutex_destroy(&wb->mu);
	free(wb);
	fs->writeback = NULL;
}
