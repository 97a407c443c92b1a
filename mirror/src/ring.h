/*
 * ring.h: one circular log in pmem per connection index of the primary.
 *
 * File layout: a 4 KiB header (struct ring_disk_hdr), then a data area of
 * D bytes used circularly. Positions are logical byte offsets that only
 * grow; the place in the file is pos % D. An entry is
 *
 *     struct ring_ehdr {commit, len} (16 B) | frame (len B) | pad to 64 B
 *
 * commit is 0 while the entry is being written and becomes
 * ring_mark(seq, pos) once the frame bytes are persisted. The mark mixes in
 * the entry's logical position, so bytes left from an earlier lap never
 * look committed. An entry that does not fit before the end of the area is
 * preceded by a WRAP entry (commit = wrap mark) and goes to the start.
 * A PAD entry (commit = pad mark, len = the frame's) holds the place of a
 * frame that was received but is not logged (a resend of a batch already
 * durable): a remote writer (RDMA) placed it there, and the next frame
 * follows it. Where entries go is mojim_wire.h's rule (mjw_log_place),
 * which such a writer follows too.
 *
 * Invariant: the entry header at the writer's position always reads 0 on
 * media (it is zeroed and persisted before the previous entry's commit
 * mark), so a replay scan stops at the true tail. A 64-byte guard is kept
 * free between the writer and the head so zeroing it never touches a live
 * entry.
 *
 * Locking: the ring has none of its own. Fields marked (L) are read and
 * written under the mirror lock; (W) belong to the one writer (the
 * receiver of the connection that owns the ring); (C) to the checkpointer.
 */
#ifndef MIRROR_RING_H
#define MIRROR_RING_H

#include <stddef.h>
#include <stdint.h>

#include "mojim_wire.h"

#define RING_MAGIC 0x474e49524a4d4d4dull /* "MMMJRING" */
#define RING_VERSION 1
#define RING_HDR_SIZE 4096u
#define RING_ALIGN MJW_LOG_ALIGN /* the placement rule is mojim_wire.h's */
#define RING_EHDR_SIZE MJW_LOG_EHDR
#define RING_MAX 64 /* connection indexes 0..63 */

struct ring_disk_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;  /* RING_HDR_SIZE */
	uint64_t size;      /* whole file */
	uint64_t data_size; /* D = size - hdr_size, a multiple of RING_ALIGN */
	uint64_t head;      /* logical offset of the oldest needed entry */
	uint64_t credit;    /* head as a remote writer may read it: set only
	                       once head is persisted (never on media alone) */
	uint64_t reserved[2];
};

struct ring_ehdr {
	uint64_t commit;
	uint64_t len; /* frame bytes; 0 for a WRAP entry */
};

/* A complete batch: its fragments are the entries in [start, end). */
struct ring_batch {
	uint64_t seq;
	uint64_t start;
	uint64_t end;
};

/*
 * Cursors over the log. They are kept together so that a forwarder to
 * backups can add its own without touching the others.
 */
struct ring_cursors {
	uint64_t head; /* (L,C) oldest entry still needed; persisted */
	uint64_t tail; /* (L) end of the last committed entry */
	uint64_t open; /* (L) start of the batch being received; == tail if
	                  none, so complete batches all lie before it */
	uint64_t wpos; /* (W) where the next entry goes */
};

struct ring {
	int index;
	unsigned char *base;
	size_t mapped_len;
	int is_pmem;
	struct ring_disk_hdr *hdr;
	unsigned char *data;
	uint64_t dsize;
	struct ring_cursors cur;
	uint64_t pending; /* (W) entry reserved by ring_reserve */
	/* (L) complete batches not yet released, oldest first (circular) */
	struct ring_batch *q;
	size_t q_first, q_len, q_cap;
	uint64_t last_seq; /* (L) seq of the newest queued batch */
	int disorder;      /* (L) the queue holds seqs out of order (resends) */
	int owned; /* (L) a live connection writes this ring */
};

/* What a scan found; see ring_scan. */
struct ring_scan_info {
	uint64_t entries;   /* committed entries accepted */
	uint64_t batches;   /* complete batches queued */
	uint64_t discarded; /* entries of a torn/incomplete tail dropped */
	const char *stop;   /* why the scan stopped */
};

/*
 * Opens path, creating it with size bytes if it does not exist (size 0:
 * it must exist). An existing ring keeps its own size. Returns 0 or a
 * negative errno with *why set. Call ring_scan before using it.
 */
int ring_open(struct ring *r, const char *path, int index, uint64_t size,
              const char **why);
void ring_close(struct ring *r);

/*
 * Reads the log from head: queues every complete batch whose entries are
 * committed and valid, and stops at the first entry that is not
 * (uncommitted, torn, failing mjw_check_frame, fragments not following on).
 * An incomplete batch at the end is dropped; the tail is reset to the end
 * of the last complete batch and that position zeroed on media. Returns 0,
 * -ENOMEM, or the error of persisting that zeroing.
 */
int ring_scan(struct ring *r, struct ring_scan_info *info);

/* Bytes an entry holding a frame of frame_len bytes takes. */
static inline uint64_t ring_entry_size(uint64_t frame_len)
{
	return mjw_log_entry_size(frame_len);
}

/* (L) Whether a frame of frame_len bytes fits now. */
int ring_fits(const struct ring *r, uint64_t frame_len);
/* (L) Makes room in the batch queue for one more; -ENOMEM if it cannot. */
int ring_queue_reserve(struct ring *r);

/*
 * (W) Starts an entry for a frame of frame_len bytes at the writer's
 * position (after a WRAP entry if needed) and returns where the frame
 * goes. The caller checked ring_fits. Nothing becomes visible until
 * ring_persist. NULL if the WRAP entry it needed could not be persisted.
 */
void *ring_reserve(struct ring *r, uint64_t frame_len);
/*
 * (W) Persists the reserved entry, then its commit mark. h is its header.
 * Returns 0, or a negative errno when the log could not be made durable:
 * the entry then reads as uncommitted and the writer stays on it.
 */
int ring_persist(struct ring *r, const struct mjw_hdr *h);
/*
 * (L) Publishes the persisted entry: moves the tail and, for a LAST
 * fragment, queues the batch. Returns 1 if a batch became complete. The
 * queue must have room (ring_queue_reserve).
 */
int ring_publish(struct ring *r, const struct mjw_hdr *h);
/*
 * (W) Turns the reserved entry into a PAD entry: its frame is not logged,
 * but the writer's position moves past it as the remote writer's did.
 * 0, or a negative errno (the writer then stays on it).
 */
int ring_pad(struct ring *r, uint64_t frame_len);
/* (L) Publishes that PAD entry: the tail moves over it. Only between
 * batches (a whole resent batch is padded). */
void ring_publish_pad(struct ring *r, uint64_t frame_len);
/* (L) Forgets a batch whose LAST fragment never came (connection lost). */
void ring_rewind(struct ring *r);

/*
 * (L) Drops queued batches with seq <= applied from the front and moves
 * the head over them, persisted. Returns 1 if the head moved, 0 if not,
 * -EIO if the new head could not be persisted (media keeps an older head:
 * a replay then scans batches already applied, which it skips).
 */
int ring_release(struct ring *r, uint64_t applied);

/* (L) Bytes between head and tail. */
static inline uint64_t ring_used(const struct ring *r)
{
	return r->cur.tail - r->cur.head;
}

static inline const struct ring_batch *ring_batch_at(const struct ring *r,
                                                     size_t i)
{
	return &r->q[(r->q_first + i) % r->q_cap];
}

/*
 * Frames of a batch: starts with *pos = batch->start and returns each
 * frame (its length in *len) until end, skipping WRAP entries; NULL after
 * the last.
 */
const void *ring_next_frame(const struct ring *r, uint64_t *pos, uint64_t end,
                            uint64_t *len);
/*
 * The same, telling a bad entry from the end: 1 (the frame in place in
 * *frame, *len), 0 after the last, -EBADMSG for an entry whose length does
 * not fit where it lies. The frame's bytes are not checked: readers that
 * use them go through logcopy.h.
 */
int ring_step(const struct ring *r, uint64_t *pos, uint64_t end,
              const void **frame, uint64_t *len);
/*
 * The same for the frames of batch seq, strictly: each entry must carry
 * seq's commit mark for its place (no PAD, no other batch's entry) and
 * end at or before end; -EBADMSG otherwise.
 */
int ring_step_batch(const struct ring *r, uint64_t *pos, uint64_t end,
                    uint64_t seq, const void **frame, uint64_t *len);

/* Where the frame of the entry at logical position pos lives. */
static inline unsigned char *ring_frame_ptr(const struct ring *r, uint64_t pos)
{
	return r->data + pos % r->dsize + RING_EHDR_SIZE;
}

/*
 * Single-threaded append of an already built frame, for replay tests and
 * tools: reserve + copy + persist + publish. No checks on the frame.
 * Returns 0 (entry position in *pos) or -ENOSPC / -ENOMEM.
 */
int ring_append(struct ring *r, const void *frame, uint64_t len,
                uint64_t *pos);

#endif
