/*
 * logcopy.h: a log reader's private, checked copy of each frame it uses.
 *
 * A frame is checked when it arrives, but the ring it lies in stays
 * writable by the primary for as long as its RDMA connection lives: an
 * authenticated but hostile (or broken) primary can rewrite an entry after
 * the mirror committed and acknowledged it, while the checkpointer or a
 * forwarder is reading it. So a reader never parses ring bytes in place:
 * it copies the frame into a buffer of its own and checks the copy again
 * (length, end mark, CRC32C, every record's bounds, type and seq), and
 * uses only that copy. A frame that no longer checks is reported, never
 * applied or forwarded. The cost is one copy and one CRC per frame, off
 * the acknowledgement path.
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
};

void log_copy_free(struct log_copy *c);

/*
 * The next frame of batch b, from *pos (start at b->start): returns 1 with
 * the checked copy in *frame (*len bytes), 0 after the last frame,
 * -EBADMSG with *why set when the entry or its frame no longer checks,
 * -ENOMEM.
 */
int log_copy_next(struct log_copy *c, const struct ring *r,
                  const struct ring_batch *b, uint64_t *pos,
                  const void **frame, uint64_t *len, const char **why);

#endif
