/*
 * path.c: from the paths WiredTiger gives to names inside the region.
 *
 * WiredTiger builds every path as home + "/" + name (__wt_nfilename), with
 * home spelled as the application gave it, or leaves a name that is
 * already absolute alone. A path is therefore recognized by the literal
 * home prefix, or, if absolute, by the canonical home; anything else lies
 * outside the region and is refused.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int mwt_path_init(struct mwt_fs *fs, const char *home)
{
	fs->home = strdup(home);
	if (!fs->home)
		return ENOMEM;
	size_t n = strlen(fs->home);
	while (n > 1 && fs->home[n - 1] == '/')
		fs->home[--n] = '\0';
	fs->realhome = realpath(home, NULL);
	return fs->realhome ? 0 : errno;
}

/* The rest of path after prefix, if path is prefix or lies below it. */
static const char *below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] == '\0' || path[n] == '/')
		return path + n;
	if (n > 0 && prefix[n - 1] == '/') /* prefix "/" */
		return path + n;
	return NULL;
}

/* Joins the components of rest, dropping empty ones and ".". */
static int normalize(const char *rest, char **out)
{
	size_t len = strlen(rest);
	char *name = malloc(len + 1);
	if (!name)
		return ENOMEM;
	size_t o = 0;
	const char *p = rest;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t clen = (size_t)(e - p);
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			free(name);
			return EINVAL;
		}
		if (clen > 0 && !(clen == 1 && p[0] == '.')) {
			if (o > 0)
				name[o++] = '/';
			memcpy(name + o, p, clen);
			o += clen;
		}
		p = e;
	}
	name[o] = '\0';
	*out = name;
	return 0;
}

int mwt_relname(struct mwt_fs *fs, const char *path, char **out)
{
	const char *rest = below(path, fs->home);
	if (!rest && path[0] == '/')
		rest = below(path, fs->realhome);
	int rc = rest ? normalize(rest, out) : EINVAL;
	if (rc == EINVAL)
		return mwt_err(fs, EINVAL,
		               "mojim: %s: outside the home directory %s (the "
		               "region); only files below it can be kept",
		               path, fs->home);
	return rc;
}
