/*
 * dirlock.c: the exclusive lock on a mirror's DIR (dirlock.h).
 */
#include "dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The holder's "PID NAME" as its lock file says, for the refusal. */
static const char *holder(int fd, const char *dir)
{
	static char why[PATH_MAX + 128];
	char who[96] = "";
	ssize_t n = pread(fd, who, sizeof(who) - 1, 0);
	who[n > 0 ? n : 0] = '\0';
	who[strcspn(who, "\n")] = '\0';
	unsigned long pid = 0;
	char name[64] = "another process";
	if (sscanf(who, "%lu %63s", &pid, name) >= 1 && pid)
		snprintf(why, sizeof(why), "%s is in use by %s pid %lu", dir, name,
		         pid);
	else
		snprintf(why, sizeof(why), "%s is in use by another process", dir);
	return why;
}

int dirlock_take(const char *dir, const char **why)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/lock", dir) >= (int)sizeof(path))
		return *why = "DIR path too long", -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return *why = "cannot open DIR/lock", -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		*why = e == EWOULDBLOCK ? holder(fd, dir) : "cannot lock DIR/lock";
		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	char who[96];
	int n = snprintf(who, sizeof(who), "%ld %s\n", (long)getpid(),
	                 program_invocation_short_name);
	if (ftruncate(fd, 0) || pwrite(fd, who, (size_t)n, 0) != n) {
		int e = errno;
		close(fd);
		return *why = "cannot write DIR/lock", -e;
	}
	return fd;
}
