/*
 * file.c: the state of one open region file, shared by all the WiredTiger
 * handles on it (a sync on any handle syncs what every handle wrote, as
 * fsync does), and the file's sync point.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bounds the ranges of one mj_gmsync (MJ_SYNC_MAY_SPLIT lets libmojim cut
 * further to the mirror's batch limit); a checkpoint can leave more
 * than that dirty in one data file, so its sync is cut into sync points of
 * at most this many bytes. Only data files get that big between syncs, and
 * WiredTiger does not use their new blocks before the metadata sync that
 * follows, so the replica never depends on half of such a sync.
 */
#define MWT_SYNC_BYTES (8u << 20)

static void file_free(struct mwt_file *f)
{
	mj_rangeset_free(&f->dirty);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->sync_mu);
	free(f);
}

static int file_new(mj_file *mf, struct mwt_file **out)
{
	struct mwt_file *f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->mf = mf;
	f->refs = 1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->sync_mu, NULL);
	*out = f;
	return 0;
}

/*
 * Opens name in the region. libmojim returns the same mj_file for a name
 * already open, which is how a second handle finds the shared state; the
 * list is searched and changed under fs->mu, so a pointer reused after a
 * last close can never be mistaken for a live file.
 */
int mwt_file_get(struct mwt_fs *fs, const char *name, int mjflags,
                 struct mwt_file **out)
{
	mj_file *mf;
	pthread_mutex_lock(&fs->mu);
	int rc = -mj_file_open(fs->region, name, mjflags, &mf);
	if (rc) {
		pthread_mutex_unlock(&fs->mu);
		return rc;
	}
	struct mwt_file *f;
	for (f = fs->files; f; f = f->next)
		if (f->mf == mf)
			break;
	if (f) {
		f->refs++;
	} else if ((rc = file_new(mf, &f)) == 0) {
		f->next = fs->files;
		fs->files = f;
	} else {
		mj_file_close(mf);
	}
	pthread_mutex_unlock(&fs->mu);
	*out = f;
	return rc;
}

int mwt_file_put(struct mwt_fs *fs, struct mwt_file *f)
{
	pthread_mutex_lock(&fs->mu);
	int rc = -mj_file_close(f->mf); /* one libmojim ref per handle */
	if (--f->refs == 0) {
		for (struct mwt_file **p = &fs->files; *p; p = &(*p)->next) {
			if (*p == f) {
				*p = f->next;
				break;
			}
		}
		file_free(f);
	}
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

/* Sets the size exactly (a SETSIZE record, no data shipped); f->mu held. */
int mwt_file_resize(struct mwt_file *f, uint64_t size)
{
	int rc = -mj_file_resize(f->mf, size);
	if (!rc)
		mj_rangeset_clip(&f->dirty, size);
	return rc;
}

/* Puts ranges back after a failed sync point, so a retry ships them. */
static void requeue(struct mwt_file *f, const struct mj_rangeset *d,
                    int from)
{
	pthread_mutex_lock(&f->mu);
	uint64_t size = mj_file_size(f->mf);
	for (int i = from; i < d->n; i++) {
		uint64_t end = d->r[i].end < size ? d->r[i].end : size;
		mj_rangeset_add(&f->dirty, d->r[i].off, end);
	}
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
		int rc = -mj_gmsync(fs->region, rg, n, MJ_SYNC_MAY_SPLIT);
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

/*
 * The sync point of a file: pending namespace changes (libmojim puts them
 * first) and the file's dirty ranges. Syncs of one file are serialized:
 * a second caller that finds the set empty must still not return before
 * the first caller's batch, which may hold its writes, is durable.
 */
int mwt_file_sync(struct mwt_fs *fs, struct mwt_file *f)
{
	pthread_mutex_lock(&f->sync_mu);
	pthread_mutex_lock(&f->mu);
	struct mj_rangeset d = f->dirty;
	f->dirty = (struct mj_rangeset){0};
	pthread_mutex_unlock(&f->mu);
	int i = 0, rc;
	if (d.n == 0)
		rc = -mj_gmsync(fs->region, NULL, 0, 0);
	else
		rc = ship(fs, f, &d, &i);
	if (rc)
		requeue(f, &d, i);
	mj_rangeset_free(&d);
	pthread_mutex_unlock(&f->sync_mu);
	return rc;
}
