/*
 * file.c: the state of one open region file, shared by all the WiredTiger
 * handles on it (a sync on any handle syncs what every handle wrote, as
 * fsync does): its dirty ranges and who holds it. Its sync points are in
 * sync.c.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	f->handles = 1;
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
		f->handles++;
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

/* Another reference on f, for a thread that works on it outside a
 * WiredTiger call, so that a last close meanwhile cannot free it; fs->mu
 * held. */
void mwt_file_hold(struct mwt_file *f)
{
	mj_file_ref(f->mf);
	f->refs++;
}

/* Drops a reference (a handle's or a hold's); the last one frees f. */
int mwt_file_put(struct mwt_fs *fs, struct mwt_file *f)
{
	pthread_mutex_lock(&fs->mu);
	int rc = -mj_file_close(f->mf);
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

/* A WiredTiger handle closes: true if it was the file's last (the caller
 * then ships what was never synced, and drops its reference after). */
bool mwt_file_drop_handle(struct mwt_fs *fs, struct mwt_file *f)
{
	pthread_mutex_lock(&fs->mu);
	bool last = --f->handles == 0;
	pthread_mutex_unlock(&fs->mu);
	return last;
}

/* Sets the size exactly (a SETSIZE record, no data shipped); f->mu held. */
int mwt_file_resize(struct mwt_fs *fs, struct mwt_file *f, uint64_t size)
{
	int rc = -mj_file_resize(f->mf, size);
	if (rc)
		return rc;
	mj_rangeset_clip(&f->dirty, size);
	if (f->dirty.n == 0)
		atomic_store(&f->dirty_since_ns, 0);
	mwt_ns_changed(fs);
	return 0;
}

/* Remembers that [off, end) was written (after the bytes were copied). */
int mwt_file_mark_dirty(struct mwt_file *f, uint64_t off, uint64_t end)
{
	pthread_mutex_lock(&f->mu);
	int rc = -mj_rangeset_add(&f->dirty, off, end);
	if (!rc && atomic_load(&f->dirty_since_ns) == 0)
		atomic_store(&f->dirty_since_ns, mwt_now_ns());
	pthread_mutex_unlock(&f->mu);
	return rc;
}
