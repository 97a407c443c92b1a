/*
 * fh.c: the WT_FILE_HANDLE methods.
 *
 * Reads and writes are memcpy to and from the mapping; a write records its
 * range as dirty, fh_sync ships the dirty ranges as a sync point. A
 * directory handle has no mapping: its sync commits pending namespace
 * changes, which is what WiredTiger wants after renaming log files.
 */
#include "internal.h"

#include <stdbool.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FH(p) ((struct mwt_fh *)(p))

/*
 * The last handle of a file ships what was written and never synced; if
 * that fails the close says so, and the ranges are lost with the file's
 * state (unless a writeback still holds it and succeeds).
 */
static int close_file(struct mwt_fh *fh)
{
	struct mwt_file *f = fh->file;
	int rc = 0;
	if (mwt_file_drop_handle(fh->fs, f) &&
	    (rc = mwt_file_sync_at_close(fh->fs, f)) != 0) {
		mwt_err(fh->fs, rc, "mojim: %s: close: writes never synced did "
		        "not reach the mirror: %s", fh->iface.name,
		        mj_strerror(rc));
		mj_region_writes_lost(fh->fs->region);
	}
	int put_rc = mwt_file_put(fh->fs, f);
	if (put_rc)
		mwt_err(fh->fs, put_rc, "mojim: %s: close: %s", fh->iface.name,
		        mj_strerror(put_rc));
	return rc ? rc : put_rc;
}

static int fh_close(WT_FILE_HANDLE *wfh, WT_SESSION *s)
{
	struct mwt_fh *fh = FH(wfh);
	struct mwt_call call;
	mwt_enter(&call, fh->fs, s);
	int rc = 0;
	if (fh->lock_fd >= 0)
		close(fh->lock_fd); /* an OFD lock goes with its descriptor */
	if (fh->file)
		rc = close_file(fh);
	free(fh->iface.name);
	free(fh->path);
	free(fh);
	return mwt_leave(&call, rc);
}

/*
 * An open-file-description lock: unlike a classic fcntl lock it is not
 * dropped when libmojim closes another descriptor of the same file (it
 * opens and closes one at every remap).
 */
static int fh_lock(WT_FILE_HANDLE *wfh, WT_SESSION *s, bool lock)
{
	struct mwt_fh *fh = FH(wfh);
	struct mwt_call call;
	mwt_enter(&call, fh->fs, s);
	if (fh->lock_fd < 0) {
		int o = (fh->file ? O_RDWR : O_RDONLY) | O_CLOEXEC;
		fh->lock_fd = open(fh->path, o);
		if (fh->lock_fd < 0)
			return mwt_leave(&call, mwt_err(fh->fs, errno,
			                 "mojim: %s: open for lock: %s", fh->path,
			                 strerror(errno)));
	}
	struct flock fl = {
		.l_type = lock ? F_WRLCK : F_UNLCK,
		.l_whence = SEEK_SET,
		.l_start = 0,
		.l_len = 1,
	};
	int rc = 0;
	if (fcntl(fh->lock_fd, F_OFD_SETLK, &fl) != 0)
		rc = errno == EAGAIN || errno == EACCES ? EBUSY : errno;
	return mwt_leave(&call, rc);
}

static int read_at(struct mwt_fh *fh, wt_off_t off, size_t len, void *buf)
{
	if (!fh->file)
		return EISDIR;
	/* libmojim's view: a size and a mapping that covers it. */
	char *base;
	uint64_t size;
	mj_file_view(fh->file->mf, (void **)&base, &size);
	if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
		return mwt_err(fh->fs, EIO,
		               "mojim: %s: read of %zu bytes at %lld past the "
		               "end (%llu)",
		               fh->iface.name, len, (long long)off,
		               (unsigned long long)size);
	memcpy(buf, base + off, len);
	return 0;
}

static int fh_read(WT_FILE_HANDLE *wfh, WT_SESSION *s, wt_off_t off,
                   size_t len, void *buf)
{
	struct mwt_call call;
	mwt_enter(&call, FH(wfh)->fs, s);
	return mwt_leave(&call, read_at(FH(wfh), off, len, buf));
}

static int fh_size(WT_FILE_HANDLE *wfh, WT_SESSION *s, wt_off_t *sizep)
{
	struct mwt_fh *fh = FH(wfh);
	*sizep = fh->file ? (wt_off_t)mj_file_size(fh->file->mf) : 0;
	return 0;
}

static int sync_handle(struct mwt_fh *fh)
{
	if (!fh->file)
		return mwt_sync_ns(fh->fs);
	int rc = mwt_file_sync(fh->fs, fh->file);
	if (rc)
		return mwt_err(fh->fs, rc, "mojim: %s: sync point: %s",
		               fh->iface.name, mj_strerror(rc));
	return 0;
}

static int fh_sync(WT_FILE_HANDLE *wfh, WT_SESSION *s)
{
	struct mwt_call call;
	mwt_enter(&call, FH(wfh)->fs, s);
	return mwt_leave(&call, sync_handle(FH(wfh)));
}

/* Grows the file to at least size (never shrinks); f->mu held. */
static int grow_locked(struct mwt_fs *fs, struct mwt_file *f, uint64_t size)
{
	if (size <= mj_file_size(f->mf))
		return 0;
	return mwt_file_resize(fs, f, size);
}

static int write_at(struct mwt_fh *fh, wt_off_t off, size_t len,
                    const void *buf)
{
	struct mwt_file *f = fh->file;
	if (!f)
		return EISDIR;
	if (off < 0)
		return EINVAL;
	uint64_t end = (uint64_t)off + len;
	pthread_mutex_lock(&f->mu);
	int rc = grow_locked(fh->fs, f, end);
	char *base;
	uint64_t size;
	mj_file_view(f->mf, (void **)&base, &size);
	pthread_mutex_unlock(&f->mu);
	if (rc)
		return mwt_err(fh->fs, rc, "mojim: %s: grow to %llu: %s",
		               fh->iface.name, (unsigned long long)end,
		               mj_strerror(rc));
	/* Outside the lock: writers of other ranges copy in parallel. The
	 * range is marked dirty only after the copy, so a sync that takes it
	 * ships the new bytes. */
	memcpy(base + off, buf, len);
	return mwt_file_mark_dirty(f, (uint64_t)off, end);
}

static int fh_write(WT_FILE_HANDLE *wfh, WT_SESSION *s, wt_off_t off,
                    size_t len, const void *buf)
{
	struct mwt_call call;
	mwt_enter(&call, FH(wfh)->fs, s);
	return mwt_leave(&call, write_at(FH(wfh), off, len, buf));
}

/* fh_extend (grow only) and fh_truncate (either way) to size. */
static int set_size(struct mwt_fh *fh, wt_off_t size, bool grow_only)
{
	struct mwt_file *f = fh->file;
	if (!f)
		return EISDIR;
	if (size < 0)
		return EINVAL;
	pthread_mutex_lock(&f->mu);
	int rc = 0;
	if (grow_only)
		rc = grow_locked(fh->fs, f, (uint64_t)size);
	else if ((uint64_t)size != mj_file_size(f->mf))
		rc = mwt_file_resize(fh->fs, f, (uint64_t)size);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int fh_extend(WT_FILE_HANDLE *wfh, WT_SESSION *s, wt_off_t size)
{
	struct mwt_call call;
	mwt_enter(&call, FH(wfh)->fs, s);
	return mwt_leave(&call, set_size(FH(wfh), size, true));
}

static int fh_truncate(WT_FILE_HANDLE *wfh, WT_SESSION *s, wt_off_t size)
{
	struct mwt_call call;
	mwt_enter(&call, FH(wfh)->fs, s);
	return mwt_leave(&call, set_size(FH(wfh), size, false));
}

static int open_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return errno;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int mwt_fh_open(struct mwt_fs *fs, const char *path, const char *name,
                bool is_dir, int mjflags, WT_FILE_HANDLE **out)
{
	struct mwt_fh *fh = calloc(1, sizeof(*fh));
	if (!fh)
		return ENOMEM;
	fh->fs = fs;
	fh->lock_fd = -1;
	fh->path = strdup(path);
	fh->iface.name = strdup(path);
	int rc = fh->path && fh->iface.name ? 0 : ENOMEM;
	if (!rc && is_dir)
		rc = open_dir(path);
	else if (!rc)
		rc = mwt_file_get(fs, name, mjflags, &fh->file);
	if (rc) {
		free(fh->path);
		free(fh->iface.name);
		free(fh);
		return rc;
	}
	WT_FILE_HANDLE *h = &fh->iface;
	h->file_system = &fs->iface;
	h->close = fh_close;
	h->fh_lock = fh_lock;
	h->fh_read = fh_read;
	h->fh_size = fh_size;
	h->fh_sync = fh_sync;
	h->fh_write = fh_write;
	if (!is_dir) {
		h->fh_extend = fh_extend;
		h->fh_extend_nolock = fh_extend;
		h->fh_truncate = fh_truncate;
	}
	*out = h;
	return 0;
}
