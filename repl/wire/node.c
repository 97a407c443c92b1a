/*
 * node.c: DIR/.mojim-node, a primary's identity (mojim_wire.h).
 *
 * A few text lines, so that an operator can read them with cat. Written
 * whole to a temporary name, synced, renamed over the old one and the
 * directory synced: a crash leaves the old file or the new, never a mix.
 */
#include "mojim_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NODE_TMP MJW_NODE_FILE ".tmp"

int mjw_node_load(int dirfd, struct mjw_node *n)
{
	char buf[512];
	int fd = openat(dirfd, MJW_NODE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -EIO;
	buf[len] = '\0';
	unsigned stale = 0;
	memset(n, 0, sizeof(*n));
	if (sscanf(buf, "mojim-node 1\ncluster_id %" SCNx64 "\nepoch %" SCNu64
	           "\nmirror_stale %u\n", &n->cluster_id, &n->epoch,
	           &stale) != 3 || n->cluster_id == 0 || n->epoch == 0 ||
	    stale > 1)
		return -EINVAL;
	n->mirror_stale = (int)stale;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int mjw_node_store(int dirfd, const struct mjw_node *n)
{
	char buf[256];
	int len = snprintf(buf, sizeof(buf), "mojim-node 1\ncluster_id %016"
	                   PRIx64 "\nepoch %" PRIu64 "\nmirror_stale %d\n",
	                   n->cluster_id, n->epoch, n->mirror_stale ? 1 : 0);
	int fd = openat(dirfd, NODE_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	                O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, buf, (size_t)len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && renameat(dirfd, NODE_TMP, dirfd, MJW_NODE_FILE))
		rc = -errno;
	if (!rc && fsync(dirfd))
		rc = -errno;
	if (rc)
		unlinkat(dirfd, NODE_TMP, 0);
	return rc;
}
