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
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* A boot id as the kernel prints it: hex digits and dashes only, so that
 * it is one word in the node file. */
static int boot_id_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF-");
	return n > 0 && n <= MJW_BOOT_ID_MAX && s[n] == '\0';
}

void mjw_boot_id(char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!boot_id_ok(buf))
		buf[0] = '\0';
}

/* The lines after "mojim-node 2" and the three of version 1. */
static int parse_v2(const char *p, struct mjw_node *n)
{
	unsigned clean, flushed;
	char boot[MJW_BOOT_ID_MAX + 1];
	if (sscanf(p, "clean %u\nflushed %u\nincarnation %" SCNu64
	           "\nboot_id %63s\n", &clean, &flushed, &n->incarnation,
	           boot) != 4 || clean > 1 || flushed > 1)
		return -EINVAL;
	if (strcmp(boot, "-") == 0)
		boot[0] = '\0';
	else if (!boot_id_ok(boot))
		return -EINVAL;
	n->clean = (int)clean;
	n->flushed = (int)flushed;
	snprintf(n->boot_id, sizeof(n->boot_id), "%s", boot);
	return 0;
}

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
	unsigned version = 0, stale = 0;
	int used = 0;
	memset(n, 0, sizeof(*n));
	if (sscanf(buf, "mojim-node %u\ncluster_id %" SCNx64 "\nepoch %" SCNu64
	           "\nmirror_stale %u\n%n", &version, &n->cluster_id, &n->epoch,
	           &stale, &used) != 4 || used == 0 || n->cluster_id == 0 ||
	    n->epoch == 0 || stale > 1 || version < 1 || version > 2)
		return -EINVAL;
	n->mirror_stale = (int)stale;
	if (version == 1) { /* before the restart rule: read as clean */
		n->clean = 1;
		n->flushed = 1;
		return 0;
	}
	return parse_v2(buf + used, n);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int mjw_node_store(int dirfd, const struct mjw_node *n)
{
	char buf[256];
	if (n->boot_id[0] && !boot_id_ok(n->boot_id))
		return -EINVAL;
	int len = snprintf(buf, sizeof(buf), "mojim-node 2\ncluster_id %016"
	                   PRIx64 "\nepoch %" PRIu64 "\nmirror_stale %d\n"
	                   "clean %d\nflushed %d\nincarnation %" PRIu64
	                   "\nboot_id %s\n",
	                   n->cluster_id, n->epoch, n->mirror_stale ? 1 : 0,
	                   n->clean ? 1 : 0, n->flushed ? 1 : 0, n->incarnation,
	                   n->boot_id[0] ? n->boot_id : "-");
	int fd = openat(dirfd, NODE_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	                O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, buf, (size_t)len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, NODE_TMP, dirfd, MJW_NODE_FILE))
		rc = -errno;
	if (!rc && fsync(dirfd))
		rc = -errno;
	if (rc)
		unlinkat(dirfd, NODE_TMP, 0);
	return rc;
}
