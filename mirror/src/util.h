/*
 * util.h: small helpers every part of the mirror uses: time, sizes,
 * persisting a range of a libpmem mapping, logging.
 */
#ifndef MIRROR_UTIL_H
#define MIRROR_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

/*
 * Parses "123", "64K", "4M", "1G" (powers of 1024) into *out. Returns 0,
 * or -1 on anything else, including overflow.
 */
int parse_size(const char *s, uint64_t *out);

/* Parses a plain non-negative integer no larger than max. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * Makes [addr, addr+len) of a libpmem mapping durable: cache flush +
 * fence when the mapping is pmem, msync otherwise. Returns 0 or a negative
 * errno (msync reports a write-back error, e.g. EIO or ENOSPC).
 */
int pm_persist(const void *addr, size_t len, int is_pmem);

/*
 * Makes path a directory only its owner can enter (0700): created so, or
 * an existing one narrowed (it holds the replica, a primary's future
 * home, and the control socket). Returns 0 or a negative errno.
 */
int dir_make_private(const char *path);

/* Set by --quiet: info lines are dropped, errors still go to stderr. */
extern int mirror_quiet;

/* "mojim-mirror: " + message + newline on stderr, in one write. */
void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, unless --quiet. */
void minfo(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
