/*
 * fs.c: the WT_FILE_SYSTEM methods.
 *
 * Names change through libmojim (so the mirror sees the same changes, in
 * order); questions about the namespace (list, exist, size) go to the real
 * directory, which always holds every file, open or closed.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FS(p) ((struct mwt_fs *)(p))

/* Whether dir (region-relative) was announced already; fs->mu held. */
static bool dir_known(struct mwt_fs *fs, const char *dir)
{
	for (int i = 0; i < fs->ndirs; i++)
		if (strcmp(fs->dirs[i], dir) == 0)
			return true;
	return false;
}

/* MKDIR for dir if it exists here and is new to us; fs->mu held. */
static int dir_announce_locked(struct mwt_fs *fs, const char *dir)
{
	if (dir_known(fs, dir))
		return 0;
	char *path;
	if (asprintf(&path, "%s/%s", fs->realhome, dir) < 0)
		return ENOMEM;
	struct stat st;
	bool is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	free(path);
	if (!is_dir) /* not ours to create: the open fails as it would */
		return 0;
	if (fs->ndirs == fs->capdirs) {
		int cap = fs->capdirs ? fs->capdirs * 2 : 4;
		char **p = realloc(fs->dirs, (size_t)cap * sizeof(*p));
		if (!p)
			return ENOMEM;
		fs->dirs = p;
		fs->capdirs = cap;
	}
	char *copy = strdup(dir);
	if (!copy)
		return ENOMEM;
	int rc = -mj_mkdir(fs->region, dir);
	if (rc) {
		free(copy);
		return mwt_err(fs, rc, "mojim: %s: mkdir for the mirror: %s",
		               dir, mj_strerror(rc));
	}
	mwt_ns_changed(fs);
	fs->dirs[fs->ndirs++] = copy;
	return 0;
}

/*
 * A directory under the home (log=(path=journal), made by the user or
 * MongoDB before wiredtiger_open) exists only here until an MKDIR record
 * reaches the mirror, which cannot create a file in a directory it lacks.
 * So the first time a name below a directory is used, each directory on
 * the way (and name itself if self) is announced, top down, ahead of the
 * change that needs it in the same queue of namespace changes.
 */
int mwt_dirs_announce(struct mwt_fs *fs, const char *name, bool self)
{
	if (!self && !strchr(name, '/'))
		return 0; /* in the home itself: nothing to announce */
	char *dir = strdup(name);
	if (!dir)
		return ENOMEM;
	int rc = 0;
	pthread_mutex_lock(&fs->mu);
	for (char *p = dir; !rc && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		rc = dir_announce_locked(fs, dir);
		*p = '/';
	}
	if (!rc && self && dir[0] != '\0')
		rc = dir_announce_locked(fs, dir);
	pthread_mutex_unlock(&fs->mu);
	free(dir);
	return rc;
}

/*
 * The methods. Each one that calls libmojim or may report brackets its
 * work with mwt_enter/mwt_leave (wtcall.c); exist and size need neither.
 */
static void list_discard(char **list, uint32_t count)
{
	if (list) {
		for (uint32_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
	}
}

static int list_add(char ***list, uint32_t *count, size_t *cap,
                    const char *name)
{
	if (*count == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		char **p = realloc(*list, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		*list = p;
		*cap = n;
	}
	if (!((*list)[*count] = strdup(name)))
		return ENOMEM;
	(*count)++;
	return 0;
}

static int list_dir(struct mwt_fs *fs, const char *dir, const char *prefix,
                    char ***out, uint32_t *countp, bool single)
{
	char *name;
	*out = NULL;
	*countp = 0;
	int rc = mwt_relname(fs, dir, &name); /* refuse outside home */
	if (rc)
		return rc;
	free(name);
	DIR *d = opendir(dir);
	if (!d)
		return mwt_err(fs, errno, "mojim: %s: opendir: %s", dir,
		               strerror(errno));
	char **list = NULL;
	uint32_t count = 0;
	size_t cap = 0, plen = prefix ? strlen(prefix) : 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (prefix && strncmp(e->d_name, prefix, plen) != 0)
			continue;
		if ((rc = list_add(&list, &count, &cap, e->d_name)) != 0)
			break;
		if (single)
			break;
	}
	closedir(d);
	if (rc) {
		list_discard(list, count);
		return rc;
	}
	*out = list;
	*countp = count;
	return 0;
}

static int fs_directory_list(WT_FILE_SYSTEM *wfs, WT_SESSION *s,
                             const char *dir, const char *prefix,
                             char ***out, uint32_t *countp)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call,
	                 list_dir(FS(wfs), dir, prefix, out, countp, false));
}

static int fs_directory_list_single(WT_FILE_SYSTEM *wfs, WT_SESSION *s,
                                    const char *dir, const char *prefix,
                                    char ***out, uint32_t *countp)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call,
	                 list_dir(FS(wfs), dir, prefix, out, countp, true));
}

static int fs_directory_list_free(WT_FILE_SYSTEM *wfs, WT_SESSION *s,
                                  char **list, uint32_t count)
{
	list_discard(list, count);
	return 0;
}

static int fs_exist(WT_FILE_SYSTEM *wfs, WT_SESSION *s, const char *path,
                    bool *existp)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		*existp = true;
		return 0;
	}
	*existp = false;
	return errno == ENOENT ? 0 : errno;
}

static int fs_size(WT_FILE_SYSTEM *wfs, WT_SESSION *s, const char *path,
                   wt_off_t *sizep)
{
	struct stat st;
	if (stat(path, &st))
		return errno;
	*sizep = (wt_off_t)st.st_size;
	return 0;
}

static int remove_file(struct mwt_fs *fs, const char *path, uint32_t flags)
{
	char *name;
	int rc = mwt_relname(fs, path, &name);
	if (rc)
		return rc;
	rc = -mj_remove(fs->region, name);
	free(name);
	if (rc)
		return rc; /* WiredTiger names the file; ENOENT is often fine */
	mwt_ns_changed(fs);
	return (flags & WT_FS_DURABLE) ? mwt_sync_ns(fs) : 0;
}

static int fs_remove(WT_FILE_SYSTEM *wfs, WT_SESSION *s, const char *path,
                     uint32_t flags)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call, remove_file(FS(wfs), path, flags));
}

static int rename_file(struct mwt_fs *fs, const char *from, const char *to,
                       uint32_t flags)
{
	char *a, *b = NULL;
	int rc = mwt_relname(fs, from, &a);
	if (rc)
		return rc;
	if ((rc = mwt_relname(fs, to, &b)) == 0)
		rc = mwt_dirs_announce(fs, b, false);
	if (!rc)
		rc = -mj_rename(fs->region, a, b);
	free(a);
	free(b);
	if (rc)
		return rc;
	mwt_ns_changed(fs);
	return (flags & WT_FS_DURABLE) ? mwt_sync_ns(fs) : 0;
}

static int fs_rename(WT_FILE_SYSTEM *wfs, WT_SESSION *s, const char *from,
                     const char *to, uint32_t flags)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call, rename_file(FS(wfs), from, to, flags));
}

static int open_file(struct mwt_fs *fs, const char *path,
                     WT_FS_OPEN_FILE_TYPE type, uint32_t flags,
                     WT_FILE_HANDLE **out, WT_SESSION *s)
{
	char *name;
	int rc = mwt_relname(fs, path, &name);
	if (rc)
		return rc;
	bool is_dir = type == WT_FS_OPEN_FILE_TYPE_DIRECTORY;
	int mjflags = 0;
	if (flags & WT_FS_OPEN_CREATE)
		mjflags |= MJ_O_CREATE;
	if (flags & WT_FS_OPEN_EXCLUSIVE)
		mjflags |= MJ_O_CREATE | MJ_O_EXCL;
	if (!is_dir && name[0] == '\0')
		rc = mwt_err(fs, EISDIR, "mojim: %s: the home directory "
		                         "is not a file", path);
	else if ((rc = mwt_dirs_announce(fs, name, is_dir)) == 0)
		rc = mwt_fh_open(fs, path, name, is_dir, mjflags, out);
	free(name);
	if (!rc && (mjflags & MJ_O_CREATE))
		mwt_ns_changed(fs); /* maybe created: at worst a spare sync */
	/* A durable open commits the create (and what came before it). */
	if (!rc && (flags & WT_FS_OPEN_DURABLE) && (mjflags & MJ_O_CREATE) &&
	    (rc = mwt_sync_ns(fs)) != 0) {
		(*out)->close(*out, s);
		*out = NULL;
	}
	return rc;
}

static int fs_open_file(WT_FILE_SYSTEM *wfs, WT_SESSION *s, const char *path,
                        WT_FS_OPEN_FILE_TYPE type, uint32_t flags,
                        WT_FILE_HANDLE **out)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call, open_file(FS(wfs), path, type, flags, out, s));
}

static int fs_terminate(WT_FILE_SYSTEM *wfs, WT_SESSION *s)
{
	struct mwt_call call;
	mwt_enter(&call, FS(wfs), s);
	return mwt_leave(&call, mwt_fs_destroy(FS(wfs)));
}

void mwt_fs_setup(struct mwt_fs *fs)
{
	WT_FILE_SYSTEM *f = &fs->iface;
	f->fs_directory_list = fs_directory_list;
	f->fs_directory_list_single = fs_directory_list_single;
	f->fs_directory_list_free = fs_directory_list_free;
	f->fs_exist = fs_exist;
	f->fs_open_file = fs_open_file;
	f->fs_remove = fs_remove;
	f->fs_rename = fs_rename;
	f->fs_size = fs_size;
	f->terminate = fs_terminate;
}
