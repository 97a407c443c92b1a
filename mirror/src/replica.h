/*
 * replica.h: applying batch records to the replica directory.
 *
 * Every path is resolved beneath the replica directory's fd (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it, O_NOFOLLOW
 * otherwise), so no name from the network can reach outside it. Two
 * backends: pmem (default; files mapped with libpmem, memcpy + flush, one
 * drain per sync) and disk (pwrite, fdatasync of touched files on sync).
 * Every record is idempotent when a batch is replayed after a crash.
 *
 * Space is reserved (posix_fallocate, checked) for every grow and every
 * hole of a file before a byte goes through its mapping, so a full file
 * system is an ENOSPC from a record, never a SIGBUS.
 */
#ifndef MIRROR_REPLICA_H
#define MIRROR_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "mojim_wire.h"

#define REPLICA_CACHE 32 /* open files kept between batches */

struct rp_file {
	char name[MJW_NAME_MAX + 1];
	int fd;
	unsigned char *map; /* pmem backend, NULL when size is 0 */
	size_t map_len;     /* mapped bytes, >= size (room to grow) */
	int is_pmem;
	uint64_t size;  /* file size as we last set or saw it */
	int dirty;      /* data written since the last sync */
	int meta;       /* size changed since the last sync */
	uint64_t used;  /* for eviction */
};

struct replica {
	int dirfd;
	int on_disk;
	int no_openat2;
	int drain;      /* pmem flushes wait for a drain */
	uint64_t tick;
	int nfiles;
	struct rp_file files[REPLICA_CACHE];
};

/* Opens (creating it if missing) the replica directory. */
int replica_open(struct replica *rp, const char *dir, int on_disk,
                 const char **why);
/* Syncs, unmaps and closes everything; the first sync error, or 0. */
int replica_close(struct replica *rp);

/*
 * Applies every record of a frame that passed mjw_check_frame. A record
 * that fails does not stop the others; returns how many failed, with the
 * first failure described in err.
 */
int replica_apply(struct replica *rp, const void *frame, char *err,
                  size_t errlen);

/* Applies one record; 0 or a negative errno with err filled in. */
int replica_apply_rec(struct replica *rp, const struct mjw_rec_view *v,
                      char *err, size_t errlen);

/* Makes everything applied so far durable. Returns 0 or a negative errno. */
int replica_sync(struct replica *rp);

#endif
