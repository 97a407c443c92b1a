/*
 * copy.c: a full copy of the region to the mirror (resync.c says when).
 *
 * On one connection, while sync points are tracked instead of shipped:
 *   1. under the region lock, a snapshot of the namespace: every directory
 *      and an open descriptor on every file, so that renames and removes
 *      during the copy cannot change what a name means;
 *   2. COPY_BEGIN (its seq is the byte count, for progress), then every
 *      directory and file as COPY batches: records like any batch's, which
 *      the mirror applies to a staging directory, never to its replica;
 *   3. at one sync point (the lock held): what changed since the snapshot,
 *      namespace records in order and the tracked ranges' bytes now, as a
 *      last COPY batch, then COPY_DONE with the seq that point is given.
 * The mirror swaps the staged copy in whole at COPY_DONE, so its replica
 * is its old one or the new one, never a mix. File data read in step 2
 * may be newer than the snapshot; every range synced since is rewritten
 * in step 3, so the result is the state at that sync point.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BATCH (8ull << 20)  /* bytes per COPY batch */
#define COPY_MAX_ENTRIES 100000  /* files and directories in a region */
#define COPY_MAX_DEPTH 32

struct copy_ent {
	char name[MJW_NAME_MAX + 1];
	int fd;        /* -1 for a directory */
	uint64_t size; /* at the snapshot, for progress */
};

struct copy {
	mj_region *r;
	struct mj_link *link;
	struct copy_ent *e;
	size_t n, cap;
	struct mj_batch *b;   /* being filled */
	uint64_t done, total; /* bytes of file data */
};

static int add_ent(struct copy *c, const char *name, int fd, uint64_t size)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		if (cap > COPY_MAX_ENTRIES)
			return -EMFILE;
		void *p = realloc(c->e, cap * sizeof(*c->e));
		if (!p)
			return -ENOMEM;
		c->e = p;
		c->cap = cap;
	}
	struct copy_ent *e = &c->e[c->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->fd = fd;
	e->size = size;
	c->total += size;
	return 0;
}

static bool skipped(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..") ||
	       !strncmp(name, MJW_NODE_FILE, sizeof(MJW_NODE_FILE) - 1);
}

/* Adds dir (relative, "" for the top) and everything below it. */
static int snap_dir(struct copy *c, int dirfd, const char *rel, int depth)
{
	if (depth > COPY_MAX_DEPTH)
		return -ELOOP;
	int fd = openat(dirfd, rel[0] ? rel : ".",
	                O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d)) != NULL) {
		char name[MJW_NAME_MAX + 2];
		struct stat st;
		if ((!rel[0] && skipped(de->d_name)) || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "",
		             de->d_name) > (int)MJW_NAME_MAX)
			return closedir(d), -ENAMETOOLONG;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
			continue; /* gone meanwhile (not ours: no lock) */
		if (S_ISDIR(st.st_mode)) {
			rc = add_ent(c, name, -1, 0);
			if (!rc)
				rc = snap_dir(c, dirfd, name, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			int f = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (f < 0)
				rc = -errno;
			else if ((rc = add_ent(c, name, f, (uint64_t)st.st_size)))
				close(f);
		}
	}
	closedir(d);
	return rc;
}

static void copy_free(struct copy *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].fd >= 0)
			close(c->e[i].fd);
	free(c->e);
	mj_batch_free(c->b);
}

/* Seals and sends the batch being filled, if it holds anything; its
 * buffer is kept for the next one (fresh pages cost a fault each). */
static int send_filled(struct copy *c)
{
	mj_region *r = c->r;
	if (!c->b || !c->b->buf.len)
		return 0;
	int rc = mj_batch_seal(c->b, r->cfg.epoch, r->cluster, MJW_F_COPY);
	if (!rc)
		rc = r->tx->send_batch(r, c->link, c->b);
	mj_batch_reset(c->b);
	pthread_mutex_lock(&r->mu);
	r->st.copy_bytes_done = c->done;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* The batch to add to, sent first when it is full. */
static int room(struct copy *c)
{
	if (c->b && c->b->buf.len >= COPY_BATCH) {
		int rc = send_filled(c);
		if (rc)
			return rc;
	}
	if (!c->b && !(c->b = mj_batch_new(0, c->r->slot)))
		return -ENOMEM;
	return 0;
}

static int add_record(struct copy *c, enum mjw_rec_type type,
                      const char *name, uint64_t len)
{
	struct mj_buf one = {0};
	int rc = room(c);
	if (!rc)
		rc = mj_buf_add_rec(&one, type, name, NULL, 0, len);
	if (!rc)
		rc = mj_batch_add_records(c->b, &one);
	mj_buf_free(&one);
	return rc;
}

/* One file: created, sized, then its bytes in pieces. */
static int copy_file(struct copy *c, const struct copy_ent *e)
{
	struct stat st;
	if (fstat(e->fd, &st))
		return -errno;
	uint64_t size = (uint64_t)st.st_size;
	int rc = add_record(c, MJW_REC_CREATE, e->name, 0);
	if (!rc)
		rc = add_record(c, MJW_REC_SETSIZE, e->name, size);
	if (rc || size == 0)
		return rc;
	for (uint64_t off = 0; off < size && !rc; off += COPY_BATCH / 2) {
		uint64_t len = size - off < COPY_BATCH / 2 ? size - off
		                                            : COPY_BATCH / 2;
		rc = room(c);
		if (!rc)
			rc = mj_batch_add_write_fd(c->b, e->name, off, e->fd, len);
		c->done += len;
	}
	return rc;
}

static int copy_all(struct copy *c)
{
	int rc = 0;
	for (size_t i = 0; i < c->n && !rc; i++)
		rc = c->e[i].fd < 0 ? add_record(c, MJW_REC_MKDIR, c->e[i].name, 0)
		                    : copy_file(c, &c->e[i]);
	return rc ? rc : send_filled(c);
}

/* Step 3, the lock held: the final batch; tracking ends. */
static int take_changes(struct copy *c, uint64_t *seq)
{
	mj_region *r = c->r;
	mj_batch_free(c->b);
	c->b = mj_track_batch(r, mj_queue_next(r->q), UINT64_MAX);
	if (!c->b)
		return -ENOMEM;
	*seq = mj_queue_reserve(r->q);
	mj_track_clear(r);
	return 0;
}

/* The copy landed: the mirror holds everything up to seq. */
static void copy_landed(mj_region *r, uint64_t seq, uint64_t t0)
{
	r->need_copy = false;
	r->writes_lost = false; /* the copy carried what they left behind */
	r->st.seq_durable = mj_queue_landed(r->q, seq);
	r->track.end_seq = seq;
	/* Sync points made after take_changes joined a batch after the copy's,
	 * and while degraded they were acknowledged on the local flush alone:
	 * the batch goes now (the supervisor resends it), not at the next sync
	 * point, and the node file says the mirror lacks it until it is
	 * acknowledged (mj_settle). */
	mj_queue_close(r->q);
	if (mj_queue_newest_held(r->q) > seq)
		r->track.end_seq = mj_queue_newest_held(r->q);
	r->track.gen++;
	r->degraded = false;
	r->settle_pending = true;
	r->st.degraded = 0;
	r->st.full_copies++;
	r->st.copy_us = (mj_now_ns() - t0) / 1000;
	mj_settle(r);
	mj_log(r, MJ_LOG_INFO, "full copy to %s done: %llu bytes in %.2f s, "
	       "the mirror holds everything up to batch %llu", r->cfg.mirror,
	       (unsigned long long)r->st.copy_bytes_done,
	       (double)r->st.copy_us / 1e6, (unsigned long long)seq);
}

/* Steps 2 and 3 and the handshakes around them; no lock held. */
static int copy_send(struct copy *c, uint64_t t0)
{
	mj_region *r = c->r;
	int rc = r->tx->send_ctrl(r, c->link, MJW_COPY_BEGIN, c->total);
	if (!rc)
		rc = r->tx->wait_ack(r, c->link, 0);
	if (!rc)
		rc = copy_all(c);
	uint64_t seq = 0;
	pthread_mutex_lock(&r->mu);
	if (!rc)
		rc = take_changes(c, &seq);
	pthread_mutex_unlock(&r->mu);
	if (!rc)
		rc = send_filled(c);
	if (!rc)
		rc = r->tx->send_ctrl(r, c->link, MJW_COPY_DONE, seq);
	if (!rc)
		rc = r->tx->wait_ack(r, c->link, seq);
	pthread_mutex_lock(&r->mu);
	if (!rc)
		copy_landed(r, seq, t0);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int mj_copy_run(mj_region *r, struct mj_conn *conn)
{
	struct copy c = {.r = r, .link = conn->link};
	uint64_t t0 = mj_now_ns();
	/* From the snapshot on, sync points are tracked; what they changed
	 * before it is in the files the copy reads. */
	mj_track_clear(r);
	mj_track_start(r, true);
	int rc = snap_dir(&c, r->dirfd, "", 0);
	r->copying = true;
	conn->state = CONN_BUSY;
	r->st.copying = 1;
	r->st.copy_bytes_done = 0;
	r->st.copy_bytes_total = c.total;
	mj_log(r, MJ_LOG_INFO, "full copy to %s: %zu files and directories, "
	       "%llu bytes", r->cfg.mirror, c.n, (unsigned long long)c.total);
	pthread_mutex_unlock(&r->mu);
	if (!rc)
		rc = copy_send(&c, t0);
	copy_free(&c);
	pthread_mutex_lock(&r->mu);
	r->copying = false;
	r->st.copying = 0;
	conn->last_io_ns = mj_now_ns();
	if (conn->state == CONN_BUSY)
		conn->state = CONN_UP;
	if (rc) {
		mj_log(r, MJ_LOG_ERROR, "full copy to %s failed: %s; it will be "
		       "tried again", r->cfg.mirror, mj_strerror(rc));
		mj_track_start(r, true);
	}
	mj_wake(r, true);
	return rc;
}
