/*
 * replica.c: the replica directory, written record by record (replica.h).
 */
#include "replica.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <unistd.h>

static int rp_openat(struct replica *rp, int dirfd, const char *name,
                     int flags, mode_t mode)
{
	flags |= O_CLOEXEC | O_NOFOLLOW;
#ifdef SYS_openat2
	if (!rp->no_openat2) {
		struct open_how how = {
			.flags = (uint64_t)flags,
			.mode = (flags & O_CREAT) ? mode : 0,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			           RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		rp->no_openat2 = 1;
	}
#endif
	return openat(dirfd, name, flags, mode);
}

/*
 * Opens the directory holding name and points *base at its last component
 * (inside buf). Returns an fd the caller closes, or a negative errno.
 */
static int rp_parent(struct replica *rp, char *buf, const char **base)
{
	char *slash = strrchr(buf, '/');
	if (!slash) {
		*base = buf;
		int fd = dup(rp->dirfd);
		return fd < 0 ? -errno : fd;
	}
	*slash = '\0';
	*base = slash + 1;
	int fd = rp_openat(rp, rp->dirfd, buf, O_RDONLY | O_DIRECTORY, 0);
	*slash = '/';
	return fd < 0 ? -errno : fd;
}

static void copy_name(char *dst, const char *src, uint16_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The smallest mapping: files grow inside it without a new mapping. */
#define MAP_CAP_MIN (64ull << 20)

/*
 * Makes f's mapping cover its size (pmem backend). A mapping is larger
 * than the file (pages past the end are never touched) and doubles when
 * the file outgrows it, so the many small grows of a database file do not
 * each map the file anew. Only the applying thread uses it. The new
 * mapping is made before the old one goes: when it cannot be made (the
 * address space is finite), f keeps the mapping it had.
 */
static int rp_map(struct rp_file *f)
{
	if (f->size == 0 || (f->map && f->size <= f->map_len))
		return 0;
	size_t cap = MAP_CAP_MIN;
	while (cap < f->size)
		cap *= 2;
	int is_pmem = 1; /* DAX: flushing the CPU caches is enough */
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
	               MAP_SHARED_VALIDATE | MAP_SYNC, f->fd, 0);
	if (p == MAP_FAILED) {
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
		is_pmem = pmem_is_pmem(p, cap);
	}
	if (f->map)
		munmap(f->map, f->map_len);
	f->map = p;
	f->map_len = cap;
	f->is_pmem = is_pmem;
	return 0;
}

/*
 * Allocates [from, to) of fd. A store through a mapping into space the
 * file system cannot give is a SIGBUS, not an error, so no byte is written
 * through a mapping before its space is reserved here, where a full file
 * system is ENOSPC.
 */
static int rp_allocate(int fd, uint64_t from, uint64_t to)
{
	if (to <= from)
		return 0;
	int rc = posix_fallocate(fd, (off_t)from, (off_t)(to - from));
	return -rc;
}

/* Allocates every hole of a file opened into the cache (a file written
 * sparse before, or by someone else) before it is mapped. */
static int rp_fill_holes(int fd, uint64_t size)
{
	if (size == 0)
		return 0;
	off_t hole = lseek(fd, 0, SEEK_HOLE);
	if (hole < 0)
		return -errno;
	return rp_allocate(fd, (uint64_t)hole, size);
}

static int rp_fsync_parent(struct replica *rp, const char *name)
{
	char buf[MJW_NAME_MAX + 1];
	const char *base;
	snprintf(buf, sizeof(buf), "%s", name);
	int fd = rp_parent(rp, buf, &base);
	if (fd < 0)
		return fd;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

static int rp_file_sync(struct replica *rp, struct rp_file *f)
{
	int rc = 0;
	if ((rp->on_disk && f->dirty) || f->meta)
		rc = fdatasync(f->fd) ? -errno : 0;
	f->dirty = f->meta = 0;
	return rc;
}

static int rp_drop(struct replica *rp, int i)
{
	struct rp_file *f = &rp->files[i];
	if (rp->drain) {
		pmem_drain();
		rp->drain = 0;
	}
	int rc = rp_file_sync(rp, f);
	if (f->map)
		munmap(f->map, f->map_len);
	close(f->fd);
	rp->files[i] = rp->files[--rp->nfiles];
	return rc;
}

/* Closes cached files that are name or lie beneath it (renamed, removed). */
static int rp_forget(struct replica *rp, const char *name)
{
	size_t n = strlen(name);
	int rc = 0;
	for (int i = rp->nfiles - 1; i >= 0; i--) {
		const char *c = rp->files[i].name;
		if (strncmp(c, name, n) == 0 && (c[n] == '\0' || c[n] == '/')) {
			int r = rp_drop(rp, i);
			rc = rc ? rc : r;
		}
	}
	return rc;
}

/* Closes the least recently used cached file; its sync's result. */
static int rp_evict(struct replica *rp)
{
	int old = 0;
	for (int i = 1; i < rp->nfiles; i++)
		if (rp->files[i].used < rp->files[old].used)
			old = i;
	return rp_drop(rp, old);
}

/* Opens a regular file, creating it if missing, into the cache. */
static int rp_open_file(struct replica *rp, const char *name, int *created)
{
	*created = 0;
	int fd = rp_openat(rp, rp->dirfd, name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		*created = 1;
	else if (errno == EEXIST)
		fd = rp_openat(rp, rp->dirfd, name, O_RDWR, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	int rc = rp->nfiles == REPLICA_CACHE ? rp_evict(rp) : 0;
	struct rp_file *f = &rp->files[rp->nfiles];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	if (!rc && !rp->on_disk && !(rc = rp_fill_holes(fd, f->size)))
		rc = rp_map(f);
	if (rc) {
		close(fd);
		return rc;
	}
	return rp->nfiles++;
}

static int rec_remove(struct replica *rp, char *name);

/* A record that created name failed: the file goes again (its own error,
 * rc, is what the record reports). */
static int rp_undo_create(struct replica *rp, char *name, int created, int rc)
{
	if (created)
		(void)rec_remove(rp, name);
	return rc;
}

/*
 * The cached file for name, opened (and created) if needed; *created says
 * this call made it. A file it made and could not set up is removed again.
 */
static int rp_get(struct replica *rp, char *name, struct rp_file **out,
                  int *created)
{
	int i;
	*created = 0;
	for (i = 0; i < rp->nfiles; i++)
		if (strcmp(rp->files[i].name, name) == 0)
			break;
	if (i == rp->nfiles) {
		i = rp_open_file(rp, name, created);
		int rc = i < 0 ? i : *created ? rp_fsync_parent(rp, name) : 0;
		if (rc)
			return rp_undo_create(rp, name, *created, rc);
	}
	*out = &rp->files[i];
	(*out)->used = ++rp->tick;
	return 0;
}

/*
 * Sets f's size: a grow is allocated (checked) and mapped before it
 * counts. On failure the file keeps its old size and mapping.
 */
static int rp_resize(struct replica *rp, struct rp_file *f, uint64_t size)
{
	uint64_t old = f->size;
	if (size == old)
		return 0;
	int rc = size > old ? rp_allocate(f->fd, old, size)
	                    : ftruncate(f->fd, (off_t)size) ? -errno : 0;
	f->size = size;
	if (!rc && !rp->on_disk)
		rc = rp_map(f);
	if (rc && size > old) {
		/* Partly allocated or unmappable: back to the old size. If even
		 * that fails, the size stays where a write is checked against
		 * the mapping (rec_write), so nothing is touched out of it. */
		if (ftruncate(f->fd, (off_t)old) == 0)
			f->size = old;
	}
	f->meta = 1;
	return rc;
}

static int pwrite_full(int fd, const unsigned char *p, uint64_t len,
                       uint64_t off)
{
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static int rec_write(struct replica *rp, char *name,
                     const struct mjw_rec_view *v)
{
	struct rp_file *f;
	int created;
	int rc = rp_get(rp, name, &f, &created);
	if (rc)
		return rc;
	if (v->off + v->len > f->size) {
		rc = rp_resize(rp, f, v->off + v->len);
		if (rc)
			return rp_undo_create(rp, name, created, rc);
	}
	if (v->len == 0)
		return 0;
	f->dirty = 1;
	if (rp->on_disk)
		return pwrite_full(f->fd, v->data, v->len, v->off);
	if (!f->map || v->off + v->len > f->map_len)
		return -EIO; /* rp_resize could not restore the size */
	if (f->is_pmem) {
		pmem_memcpy_nodrain(f->map + v->off, v->data, (size_t)v->len);
		rp->drain = 1;
	} else {
		memcpy(f->map + v->off, v->data, (size_t)v->len);
		if (pmem_msync(f->map + v->off, (size_t)v->len))
			return -errno;
	}
	return 0;
}

static int rec_setsize(struct replica *rp, char *name, uint64_t size)
{
	struct rp_file *f;
	int created;
	int rc = rp_get(rp, name, &f, &created);
	if (!rc && (rc = rp_resize(rp, f, size)))
		rc = rp_undo_create(rp, name, created, rc);
	return rc;
}

static int rec_rename(struct replica *rp, char *from, char *to)
{
	const char *b1, *b2;
	int rc = rp_forget(rp, from);
	int rc2 = rp_forget(rp, to);
	if (rc || rc2)
		return rc ? rc : rc2;
	int p1 = rp_parent(rp, from, &b1);
	if (p1 < 0)
		return p1;
	int p2 = rp_parent(rp, to, &b2);
	if (p2 < 0) {
		close(p1);
		return p2;
	}
	rc = 0;
	if (renameat(p1, b1, p2, b2)) {
		struct stat st;
		rc = -errno;
		/* Replayed after a crash: the rename already happened. */
		if (rc == -ENOENT && fstatat(p2, b2, &st, AT_SYMLINK_NOFOLLOW) == 0)
			rc = 0;
	}
	if (!rc && (fsync(p1) || fsync(p2)))
		rc = -errno;
	close(p1);
	close(p2);
	return rc;
}

static int rec_remove(struct replica *rp, char *name)
{
	const char *base;
	int rc = rp_forget(rp, name);
	if (rc)
		return rc;
	int p = rp_parent(rp, name, &base);
	if (p < 0)
		return p == -ENOENT ? 0 : p;
	if (unlinkat(p, base, 0)) {
		rc = -errno;
		if (rc == -EISDIR)
			rc = unlinkat(p, base, AT_REMOVEDIR) ? -errno : 0;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (!rc && fsync(p))
		rc = -errno;
	close(p);
	return rc;
}

static int rec_mkdir(struct replica *rp, char *name)
{
	const char *base;
	int p = rp_parent(rp, name, &base);
	if (p < 0)
		return p;
	int rc = 0;
	if (mkdirat(p, base, 0700)) {
		struct stat st;
		rc = -errno;
		if (rc == -EEXIST && fstatat(p, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
			rc = S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	if (!rc && fsync(p))
		rc = -errno;
	close(p);
	return rc;
}

static int apply_rec(struct replica *rp, const struct mjw_rec_view *v,
                     char *name, char *name2)
{
	/* Checked when the frame came in; checked again, as the bytes of a
	 * ring a remote writer can reach (RDMA) may change under the reader. */
	if (v->name_len > MJW_NAME_MAX || v->name2_len > MJW_NAME_MAX)
		return -EINVAL;
	copy_name(name, v->name, v->name_len);
	switch (v->type) {
	case MJW_REC_WRITE:
		return rec_write(rp, name, v);
	case MJW_REC_CREATE: {
		struct rp_file *f;
		int created;
		return rp_get(rp, name, &f, &created);
	}
	case MJW_REC_SETSIZE:
		return rec_setsize(rp, name, v->len);
	case MJW_REC_RENAME:
		copy_name(name2, v->name2, v->name2_len);
		return rec_rename(rp, name, name2);
	case MJW_REC_REMOVE:
		return rec_remove(rp, name);
	case MJW_REC_MKDIR:
		return rec_mkdir(rp, name);
	}
	return -EINVAL;
}

int replica_apply_rec(struct replica *rp, const struct mjw_rec_view *v,
                      char *err, size_t errlen)
{
	char name[MJW_NAME_MAX + 1], name2[MJW_NAME_MAX + 1];
	int rc = apply_rec(rp, v, name, name2);
	if (rc)
		snprintf(err, errlen, "%s %s: %s", mjw_rec_type_name(v->type), name,
		         strerror(-rc));
	return rc;
}

int replica_apply(struct replica *rp, const void *frame, char *err,
                  size_t errlen)
{
	struct mjw_rec_view v;
	uint64_t pos = 0;
	int failed = 0;
	char one[256];
	while (mjw_rec_next(frame, &pos, &v)) {
		if (replica_apply_rec(rp, &v, one, sizeof(one)) && failed++ == 0)
			snprintf(err, errlen, "%s", one);
	}
	return failed;
}

int replica_sync(struct replica *rp)
{
	int rc = 0;
	if (rp->drain) {
		pmem_drain();
		rp->drain = 0;
	}
	for (int i = 0; i < rp->nfiles; i++) {
		int r = rp_file_sync(rp, &rp->files[i]);
		rc = rc ? rc : r;
	}
	return rc;
}

int replica_open(struct replica *rp, const char *dir, int on_disk,
                 const char **why)
{
	memset(rp, 0, sizeof(*rp));
	rp->on_disk = on_disk;
	int rc = dir_make_private(dir);
	if (rc) {
		*why = "cannot create the replica directory or make it 0700";
		return rc;
	}
	rp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rp->dirfd < 0) {
		*why = "cannot open the replica directory";
		return -errno;
	}
	return 0;
}

int replica_close(struct replica *rp)
{
	if (rp->dirfd <= 0 && rp->nfiles == 0)
		return 0;
	int rc = replica_sync(rp);
	while (rp->nfiles > 0) {
		int r = rp_drop(rp, rp->nfiles - 1);
		rc = rc ? rc : r;
	}
	close(rp->dirfd);
	rp->dirfd = -1;
	return rc;
}
