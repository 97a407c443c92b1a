/*
 * logcopy.h: a log reader's private, checked copy of each batch it uses.
 *
 * A frame is checked when it arrives, but the ring it lies in stays
 * writable by the primary for as long as its RDMA connection lives: an
 * authenticated but hostile (or broken) primary can rewrite an entry after
 * the mirror committed and acknowledged it, while the checkpointer or a
 * forwarder is reading it. So a reader never parses ring bytes in place:
 * it copies the whole batch into a buffer of its own and checks the copy
 * again, every frame before any is used: its entry's commit mark (the
 * batch's seq at that place), length, end mark, CRC32C, every record's
 * bounds and extents (--max-file-size), type, seq, fragment numbering
 * (0, 1, ... with LAST on the last one only), the same epoch and cluster
 * throughout, and the walk ending exactly at the batch's end. A batch
 * that no longer checks is refused whole: nothing of it is applied or
 * forwarded. The cost is one copy and one CRC per frame, off the
 * acknowledgement path, and a buffer as large as the largest batch.
 *
 * One log_copy per reader (the checkpointer's belongs to whoever holds
 * m->applying; each forwarder has its own); no locking.
 */
#ifndef MIRROR_LOGCOPY_H
#define MIRROR_LOGCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

struct log_copy {
	unsigned char *buf;
	size_t cap;
	size_t len; /* bytes of the batch copied last: its frames end to end */
};

void log_copy_free(struct log_copy *c);

/*
 * Copies and checks every frame of batch b (extents up to max_extent):
 * 0, -EBADMSG with *why set when anything no longer checks (nothing of
 * the batch may then be used), -ENOMEM.
 */
int log_copy_batch(struct log_copy *c, const struct ring *r,
                   const struct ring_batch *b, uint64_t max_extent,
                   const char **why);

/* One frame (len bytes, as received) copied into c alone, for checks
 * that must not read a remote writer's bytes twice: 0 or -ENOMEM. */
int log_copy_one(struct log_copy *c, const void *frame, uint64_t len);

/* The frames of the batch copied last, in order: *off starts at 0;
 * 1 with the frame, 0 after the last. */
int log_copy_frame(const struct log_copy *c, size_t *off, const void **frame,
                   uint64_t *len);

/*
 * Every SETSIZE and WRITE extent of a checked frame at most max bytes
 * (overflow-safe): 0, or -1 with the record's type, name and end in why.
 */
int log_frame_extents(const void *frame, uint64_t max, char *why,
                      size_t why_len);

#endif
