/*
 * copy.c: receiving a full copy of the primary (repl/src/copy.c).
 *
 * The copy is applied to DATA.stage, never to the replica, so a mirror
 * killed in the middle still has its old replica (stale, and said to be:
 * HELLO_ACK carries NEEDS_COPY). At COPY_DONE the staged directory is
 * persisted, the logs are emptied (nothing in them can follow the copy),
 * the state says COPY_SWITCH with the copy's seq, and the directories are
 * swapped by two renames. A crash anywhere in the swap is finished at the
 * next start by copy_recover: the state word is the commit point.
 */
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* rm -rf path; a missing path is fine. */
static int rm_tree(const char *path)
{
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/* fsync of the directory holding path, so a rename in it is durable. */
static int sync_parent(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* The swap itself; every step can be repeated after a crash. */
static int swap_dirs(struct mirror *m)
{
	if (access(m->stage_dir, F_OK) == 0) {
		if (access(m->data_dir, F_OK) == 0) {
			int rc = rm_tree(m->old_dir);
			if (rc)
				return rc;
			if (rename(m->data_dir, m->old_dir))
				return -errno;
		}
		if (rename(m->stage_dir, m->data_dir))
			return -errno;
		int rc = sync_parent(m->data_dir);
		if (rc)
			return rc;
	}
	return rm_tree(m->old_dir);
}

/*
 * After the swap: the replica is the copy, at seq. Every piece of
 * progress inside a batch belongs to the replica that was replaced: the
 * primary numbers from seq on again, so a partial_seq left from before
 * would skip records of a batch that merely reuses its number. They are
 * reset, persisted, before the state says the copy is in.
 */
static int switched(struct mirror *m, uint64_t seq)
{
	struct state *st = &m->state;
	int rc = state_set_partial(st, 0, 0);
	if (!rc)
		rc = health_reset(m);
	if (!rc)
		rc = state_set(st, &st->d->old_epoch_data, 0);
	if (!rc)
		rc = state_set_applied(st, seq);
	if (!rc)
		rc = state_set(st, &st->d->has_data, 1);
	if (!rc)
		rc = state_set(st, &st->d->copy_state, COPY_NONE);
	if (rc)
		return rc;
	m->applied_seq = m->durable_seq = m->received_seq = seq;
	log_reader_reset(&m->readers, LOG_READER_CKPT, seq);
	m->logged.n = 0;
	return 0;
}

int copy_recover(struct mirror *m, const char **why)
{
	struct state *st = &m->state;
	switch (st->d->copy_state) {
	case COPY_STAGING: {
		mlog("a full copy was cut short: its staging directory is "
		     "dropped, the replica waits for a new copy");
		int rc = state_set(st, &st->d->copy_state, COPY_NEEDED);
		if (rc)
			return *why = "cannot persist the state", rc;
		return rm_tree(m->stage_dir);
	}
	case COPY_SWITCH: {
		int rc = swap_dirs(m);
		if (rc)
			return *why = "cannot finish swapping in a full copy", rc;
		if ((rc = switched(m, st->d->copy_seq)))
			return *why = "cannot persist the swapped-in copy", rc;
		mlog("finished swapping in the full copy at seq %llu",
		     (unsigned long long)st->d->copy_seq);
		return 0;
	}
	default:
		return 0;
	}
}

uint32_t copy_ack_flags(const struct mirror *m)
{
	uint32_t f = m->state.d->has_data ? 0 : MJW_MIRROR_EMPTY;
	if (copy_state(m) != COPY_NONE)
		f |= MJW_MIRROR_NEEDS_COPY;
	return f;
}

int copy_begin(struct mirror *m, uint64_t total, const char **why)
{
	struct state *st = &m->state;
	/* A COPY_BEGIN after another starts over: the staging replica the
	 * first one opened goes (its descriptors with it). */
	replica_close(&m->stage);
	pthread_mutex_lock(&m->lock);
	int rc = state_set(st, &st->d->copy_state, COPY_STAGING);
	m->copy_total = total;
	m->copy_bytes = 0;
	m->copy_start_ns = m->copy_log_ns = now_ns();
	m->copy_end_ns = 0;
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return *why = "cannot persist the state", rc;
	rc = rm_tree(m->stage_dir);
	if (rc)
		return *why = "cannot empty the staging directory", rc;
	/* Written with pwrite and synced once at COPY_DONE (the "disk" way):
	 * the kernel fills fresh pages faster than faulting them in one by
	 * one through a mapping, and nothing reads the copy before then. */
	rc = replica_open(&m->stage, m->stage_dir, 1, why);
	minfo("full copy starting: %llu bytes into %s",
	      (unsigned long long)total, m->stage_dir);
	return rc;
}

/* One progress line a second on the terminal; mojimctl status has it too. */
static void copy_progress(struct mirror *m, uint64_t now)
{
	if (now - m->copy_log_ns < 1000000000ull)
		return;
	m->copy_log_ns = now;
	double secs = (double)(now - m->copy_start_ns) / 1e9;
	double rate = secs > 0 ? (double)m->copy_bytes / secs : 0;
	double left = rate > 0 && m->copy_total > m->copy_bytes ?
	              (double)(m->copy_total - m->copy_bytes) / rate : 0;
	minfo("full copy: %llu of %llu MiB, %.0f MB/s, %.1f s left",
	      (unsigned long long)(m->copy_bytes >> 20),
	      (unsigned long long)(m->copy_total >> 20), rate / 1e6, left);
}

int copy_apply(struct mirror *m, const void *frame, char *err, size_t len)
{
	const struct mjw_hdr *h = frame;
	int failed = replica_apply(&m->stage, frame, err, len);
	pthread_mutex_lock(&m->lock);
	m->copy_bytes += h->len;
	copy_progress(m, now_ns());
	pthread_mutex_unlock(&m->lock);
	return failed ? -EIO : 0;
}

/* (L) Nothing logged so far can follow the copy: empty every ring. The
 * heads must reach media: a replay must never find those batches again
 * (their seqs are reused by the primary after the copy). */
static int drop_logs(struct mirror *m)
{
	int rc = 0;
	for (int k = 0; k < RING_MAX; k++)
		if (m->rings[k] && ring_release(m->rings[k], UINT64_MAX) < 0)
			rc = -EIO;
	m->logged.n = 0;
	m->since_ckpt = 0;
	return rc;
}

int copy_done(struct mirror *m, uint64_t seq, const char **why)
{
	struct state *st = &m->state;
	int rc = replica_sync(&m->stage);
	replica_close(&m->stage);
	if (rc)
		return *why = "cannot persist the staged copy", rc;
	pthread_mutex_lock(&m->lock);
	ckpt_take_applying(m); /* the checkpointer: never on a swapped dir */
	forward_quiesce(m, "a full copy replaces the mirror's copy");
	rc = drop_logs(m);
	if (!rc)
		rc = state_set(st, &st->d->copy_seq, seq);
	if (!rc)
		rc = state_set(st, &st->d->copy_state, COPY_SWITCH);
	pthread_mutex_unlock(&m->lock);
	if (rc) {
		*why = "cannot persist the switch to the copy";
	} else {
		(void)replica_close(&m->replica); /* replaced, whatever it held */
		if ((rc = swap_dirs(m)))
			*why = "cannot swap the copy in";
		else
			rc = replica_open(&m->replica, m->data_dir,
			                  m->cfg.data_on_disk, why);
	}
	pthread_mutex_lock(&m->lock);
	if (!rc && (rc = switched(m, seq)))
		*why = "cannot persist the swapped-in copy";
	if (!rc) {
		m->copies_done++;
		m->copy_end_ns = now_ns();
	}
	m->applying = 0;
	pthread_mutex_unlock(&m->lock);
	if (!rc)
		minfo("full copy done: %llu bytes in %.2f s, replica at seq %llu",
		      (unsigned long long)m->copy_bytes,
		      (double)(now_ns() - m->copy_start_ns) / 1e9,
		      (unsigned long long)seq);
	return rc;
}

/*
 * (L) Promotion while a full copy is wanted or was being received: the
 * replica itself was never touched by it (the copy goes to DATA.stage),
 * and with the log up to durable_seq it holds every batch the mirror
 * acknowledged; the primary that was copying acknowledged nothing through
 * the copy before it landed. So the replica may be promoted as it is,
 * unless it is an older epoch's (a newer primary took over and
 * acknowledged nothing to it: only its copy could do) or empty. The copy
 * state is left as it is (a failed promotion changes nothing); the
 * promotion applies the log regardless (m->copy_ignored).
 */
int copy_promotable(const struct mirror *m, const char **why)
{
	const struct state_disk *d = m->state.d;
	if (copy_state(m) == COPY_NONE)
		return 0;
	if (!d->has_data)
		return *why = "it never held a copy", -EPERM;
	if (d->old_epoch_data)
		return *why = "its replica holds an older epoch's data, waiting "
		              "for the new primary's full copy", -EPERM;
	return 0;
}

/* (L) After a promotion: an unfinished copy's staging directory goes. */
void copy_drop_stage(struct mirror *m)
{
	replica_close(&m->stage);
	if (rm_tree(m->stage_dir))
		mlog("%s could not be removed (an unfinished full copy): remove "
		     "it by hand", m->stage_dir);
}

void copy_abort(struct mirror *m)
{
	replica_close(&m->stage);
	mlog("full copy cut short after %llu bytes; the replica stays stale "
	     "until a new copy", (unsigned long long)m->copy_bytes);
}
