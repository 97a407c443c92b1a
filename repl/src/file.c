/*
 * file.c: the files of a region, their mappings, and namespace changes.
 *
 * Every change of the namespace is done locally at once and queued as a
 * record in region->pending_ns; the next sync point ships the queue, in
 * order, at the head of its batch.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libpmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_name(const char *name)
{
	const char *why;
	if (!name || mjw_check_name(name, strlen(name), &why))
		return -EINVAL;
	return 0;
}

static mj_file *find_file(mj_region *r, const char *name)
{
	for (mj_file *f = r->files; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Room for n more entries in the list of parents to fsync. */
static int dirs_room(mj_region *r, int n)
{
	if (r->ndirty_dirs + n <= r->cap_dirty_dirs)
		return 0;
	int cap = r->cap_dirty_dirs ? r->cap_dirty_dirs : 8;
	while (cap < r->ndirty_dirs + n)
		cap *= 2;
	void *p = mj_grow(r->dirty_dirs, (size_t)cap * sizeof(*r->dirty_dirs));
	if (!p)
		return -ENOMEM;
	r->dirty_dirs = p;
	r->cap_dirty_dirs = cap;
	return 0;
}

/* Remembers the parent directory of name, to fsync at a local sync. */
int mj_region_note_dir(mj_region *r, const char *name)
{
	char parent[MJW_NAME_MAX + 1] = "";
	const char *slash = strrchr(name, '/');
	if (slash)
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - name), name);
	for (int i = 0; i < r->ndirty_dirs; i++)
		if (strcmp(r->dirty_dirs[i], parent) == 0)
			return 0;
	int rc = dirs_room(r, 1);
	if (rc)
		return rc;
	strcpy(r->dirty_dirs[r->ndirty_dirs++], parent);
	return 0;
}

/*
 * Room for one namespace change, reserved before the change is made
 * locally: its record in pending_ns and two parents to fsync. Once the
 * change is made it is then always queued for the mirror; a change made
 * here but never sent would leave the mirror without it for good. mu held.
 */
static int ns_room(mj_region *r, const char *name, const char *name2)
{
	uint64_t size = mjw_rec_size(strlen(name), name2 ? strlen(name2) : 0, 0);
	int rc = mj_buf_reserve(&r->pending_ns, size);
	return rc ? rc : dirs_room(r, 2);
}

/* Makes namespace and size changes durable locally (modes that flush). */
int mj_region_sync_local_meta(mj_region *r)
{
	int rc = 0;
	for (mj_file *f = r->files; f; f = f->next) {
		if (f->meta_dirty && fsync(f->fd) && !rc)
			rc = -errno;
		f->meta_dirty = false;
	}
	for (int i = 0; i < r->ndirty_dirs; i++) {
		const char *d = r->dirty_dirs[i][0] ? r->dirty_dirs[i] : ".";
		int fd = openat(r->dirfd, d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd)) {
			if (!rc && errno != ENOENT)
				rc = -errno;
		}
		if (fd >= 0)
			close(fd);
	}
	r->ndirty_dirs = 0;
	return rc;
}

/* The smallest mapping, and the alignment of every capacity: files grow
 * to this size inside their first mapping. Address space, not memory. */
#define MAP_CAP_MIN (64ULL << 20)

static uint64_t capacity_for(uint64_t size)
{
	uint64_t cap = MAP_CAP_MIN;
	while (cap < size && cap < MJW_FILE_MAX)
		cap *= 2;
	return cap;
}

/* mmap()s cap bytes of the file: with MAP_SYNC where the file system is
 * DAX (flushing CPU caches is then enough), else as a plain shared
 * mapping, which libpmem calls pmem only when PMEM_IS_PMEM_FORCE says so. */
static void *map_file(int fd, size_t cap, int *is_pmem)
{
	void *a = mmap(NULL, cap, PROT_READ | PROT_WRITE,
	               MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (a != MAP_FAILED) {
		*is_pmem = 1;
		return a;
	}
	a = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		return NULL;
	*is_pmem = pmem_is_pmem(a, cap);
	return a;
}

/* Makes the current mapping cover size bytes, replacing it by one twice
 * as large (or more) when it does not. Region mutex held. */
static int ensure_mapped(mj_file *f, uint64_t size)
{
	struct mj_mapping *cur = atomic_load(&f->cur);
	if (size == 0 || (cur && cur->cap >= size))
		return 0;
	size_t cap = (size_t)capacity_for(size);
	int is_pmem = 0;
	void *addr = map_file(f->fd, cap, &is_pmem);
	if (!addr)
		return -errno;
	struct mj_mapping *m = malloc(sizeof(*m));
	if (!m) {
		munmap(addr, cap);
		return -ENOMEM;
	}
	*m = (struct mj_mapping){.addr = addr, .cap = cap, .older = f->maps};
	f->maps = m;
	f->is_pmem = is_pmem;
	atomic_store_explicit(&f->cur, m, memory_order_release);
	return 0;
}

/* Publishes a new size; a grow must have called ensure_mapped first. */
static void set_size(mj_file *f, uint64_t size)
{
	atomic_store_explicit(&f->size, size, memory_order_release);
}

void mj_file_destroy(mj_file *f)
{
	mj_rangeset_free(&f->track);
	while (f->maps) {
		struct mj_mapping *m = f->maps;
		f->maps = m->older;
		munmap(m->addr, m->cap);
		free(m);
	}
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

/* Opens the file's descriptor; *created tells whether it is new. */
static int open_fd(mj_region *r, const char *name, int flags, bool *created)
{
	int o = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	*created = false;
	if ((flags & MJ_O_CREATE) && (flags & MJ_O_EXCL)) {
		int fd = openat(r->dirfd, name, o | O_CREAT | O_EXCL, 0644);
		*created = fd >= 0;
		return fd >= 0 ? fd : -errno;
	}
	int fd = openat(r->dirfd, name, o);
	if (fd >= 0 || errno != ENOENT || !(flags & MJ_O_CREATE))
		return fd >= 0 ? fd : -errno;
	fd = openat(r->dirfd, name, o | O_CREAT | O_EXCL, 0644);
	*created = fd >= 0;
	return fd >= 0 ? fd : -errno;
}

static int file_open_locked(mj_region *r, const char *name, int flags,
                            mj_file **out)
{
	mj_file *f = find_file(r, name);
	if (f) {
		if ((flags & MJ_O_CREATE) && (flags & MJ_O_EXCL))
			return -EEXIST;
		f->refs++;
		f->lingering = false;
		*out = f;
		return 0;
	}
	bool created;
	int rc = (flags & MJ_O_CREATE) ? ns_room(r, name, NULL) : 0;
	int fd = rc ? rc : open_fd(r, name, flags, &created);
	if (fd < 0)
		return fd;
	struct stat st;
	f = calloc(1, sizeof(*f));
	if (!f || fstat(fd, &st)) {
		rc = f ? -errno : -ENOMEM;
		close(fd);
		free(f);
		if (created) /* undone: the mirror never hears of it */
			unlinkat(r->dirfd, name, 0);
		return rc;
	}
	f->region = r;
	f->fd = fd;
	f->refs = 1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	rc = ensure_mapped(f, (uint64_t)st.st_size);
	if (!rc)
		set_size(f, (uint64_t)st.st_size);
	if (!rc && created) {
		f->meta_dirty = true;
		rc = mj_buf_add_rec(&r->pending_ns, MJW_REC_CREATE, name, NULL, 0, 0);
		if (!rc)
			rc = mj_region_note_dir(r, name);
	}
	if (rc) {
		if (created)
			unlinkat(r->dirfd, name, 0);
		mj_file_destroy(f);
		return rc;
	}
	f->next = r->files;
	r->files = f;
	*out = f;
	return 0;
}

int mj_file_open(mj_region *r, const char *name, int flags, mj_file **out)
{
	int rc = check_name(name);
	if (rc)
		return rc;
	pthread_mutex_lock(&r->mu);
	rc = file_open_locked(r, name, flags, out);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

void mj_file_view(mj_file *f, void **base, uint64_t *size)
{
	/* The size first: the mapping loaded after it covers it. */
	uint64_t s = atomic_load_explicit(&f->size, memory_order_acquire);
	struct mj_mapping *m = atomic_load_explicit(&f->cur,
	                                            memory_order_acquire);
	*base = m ? m->addr : NULL;
	*size = m ? s : 0;
}

void *mj_file_base(mj_file *f)
{
	void *base;
	uint64_t size;
	mj_file_view(f, &base, &size);
	return base;
}

uint64_t mj_file_size(mj_file *f)
{
	return atomic_load_explicit(&f->size, memory_order_acquire);
}
const char *mj_file_name(mj_file *f) { return f->name; }

/* Allocates the new bytes (only those: the rest is allocated already),
 * then maps them. Region mutex held. */
static int grow_locked(mj_file *f, uint64_t cur, uint64_t size)
{
	int rc = -posix_fallocate(f->fd, (off_t)cur, (off_t)(size - cur));
	return rc ? rc : ensure_mapped(f, size);
}

int mj_file_resize(mj_file *f, uint64_t size)
{
	mj_region *r = f->region;
	if (size > MJW_FILE_MAX)
		return -EFBIG;
	pthread_mutex_lock(&r->mu);
	int rc = 0;
	uint64_t cur = mj_file_size(f);
	if (!f->name[0])
		rc = -ENOENT; /* removed while open */
	else if (size != cur && (rc = ns_room(r, f->name, NULL)))
		; /* nothing changed */
	else if (size > cur)
		rc = grow_locked(f, cur, size);
	else if (size < cur && ftruncate(f->fd, (off_t)size))
		rc = -errno;
	if (!rc)
		set_size(f, size);
	if (!rc && size != cur) {
		f->meta_dirty = true;
		rc = mj_buf_add_rec(&r->pending_ns, MJW_REC_SETSIZE, f->name, NULL,
		                    0, size);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

void mj_file_ref(mj_file *f)
{
	pthread_mutex_lock(&f->region->mu);
	f->refs++;
	pthread_mutex_unlock(&f->region->mu);
}

int mj_file_close(mj_file *f)
{
	mj_region *r = f->region;
	pthread_mutex_lock(&r->mu);
	if (--f->refs > 0) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	/* In sync mode the primary never flushed this file: do it now, so
	 * the data does not depend on the mirror once we forget the file
	 * (the degrade flush only sees open files). */
	if (r->cfg.mode == MJ_MODE_SYNC)
		mj_file_flush_all(f);
	/* Tracked ranges of it still have to reach the mirror (resync.c):
	 * keep it, under its name as renames change it, until they have. */
	if (r->track.active && f->track.n && f->name[0]) {
		f->lingering = true;
		int rc = f->meta_dirty && fsync(f->fd) ? -errno : 0;
		f->meta_dirty = false;
		pthread_mutex_unlock(&r->mu);
		return rc;
	}
	for (mj_file **p = &r->files; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	int rc = f->meta_dirty && fsync(f->fd) ? -errno : 0;
	pthread_mutex_unlock(&r->mu);
	mj_file_destroy(f);
	return rc;
}

int mj_file_flush_range(mj_file *f, uint64_t off, uint64_t len)
{
	void *view;
	uint64_t size;
	mj_file_view(f, &view, &size);
	char *base = view;
	if (!base || len == 0 || off > size || len > size - off)
		return 0;
	if (f->is_pmem) {
		pmem_flush(base + off, (size_t)len);
		return 0;
	}
	return pmem_msync(base + off, (size_t)len) ? -errno : 0;
}

void mj_file_flush_all(mj_file *f)
{
	mj_file_flush_range(f, 0, mj_file_size(f));
	pmem_drain();
}

int mj_region_flush_local(mj_region *r)
{
	int rc = 0;
	for (mj_file *f = r->files; f; f = f->next) {
		int e = mj_file_flush_range(f, 0, mj_file_size(f));
		rc = rc ? rc : e;
	}
	pmem_drain();
	int e = mj_region_sync_local_meta(r);
	return rc ? rc : e;
}

int mj_rename(mj_region *r, const char *from, const char *to)
{
	int rc = check_name(from);
	if (rc || (rc = check_name(to)))
		return rc;
	pthread_mutex_lock(&r->mu);
	if ((rc = ns_room(r, from, to))) {
		; /* nothing changed */
	} else if (renameat(r->dirfd, from, r->dirfd, to)) {
		rc = -errno;
	} else {
		mj_file *gone = find_file(r, to);
		if (gone)
			gone->name[0] = '\0'; /* replaced: its name is no more */
		mj_file *f = find_file(r, from);
		if (f)
			snprintf(f->name, sizeof(f->name), "%s", to);
		rc = mj_buf_add_rec(&r->pending_ns, MJW_REC_RENAME, from, to, 0, 0);
		if (!rc && !(rc = mj_region_note_dir(r, from)))
			rc = mj_region_note_dir(r, to);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int mj_remove(mj_region *r, const char *name)
{
	int rc = check_name(name);
	if (rc)
		return rc;
	pthread_mutex_lock(&r->mu);
	if ((rc = ns_room(r, name, NULL))) {
		; /* nothing changed */
	} else if (unlinkat(r->dirfd, name, 0)) {
		rc = -errno;
	} else {
		mj_file *f = find_file(r, name);
		if (f)
			f->name[0] = '\0';
		rc = mj_buf_add_rec(&r->pending_ns, MJW_REC_REMOVE, name, NULL, 0, 0);
		if (!rc)
			rc = mj_region_note_dir(r, name);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int mj_mkdir(mj_region *r, const char *name)
{
	int rc = check_name(name);
	if (rc)
		return rc;
	pthread_mutex_lock(&r->mu);
	if ((rc = ns_room(r, name, NULL)))
		; /* nothing changed */
	else if (mkdirat(r->dirfd, name, 0755) && errno != EEXIST)
		rc = -errno;
	else
		rc = mj_buf_add_rec(&r->pending_ns, MJW_REC_MKDIR, name, NULL, 0, 0);
	if (!rc)
		rc = mj_region_note_dir(r, name);
	pthread_mutex_unlock(&r->mu);
	return rc;
}
