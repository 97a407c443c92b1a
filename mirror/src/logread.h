/*
 * logread.h: the log rings read as one sequence of batches, by any number
 * of readers, each from its own cursor.
 *
 * A reader (the checkpointer, always reader LOG_READER_CKPT; a forwarder
 * to a backup, of the next tier) takes batches in global seq order and
 * says how far it is: its cursor is the seq up to which it is done with
 * every ring. A batch's space is freed only once every live reader is past
 * it, so a ring's head moves to the minimum of the cursors. Every reader
 * finds its next batch with log_pick, the one place that knows where a seq
 * can be (at the front of a ring, or behind a later one after a resend).
 *
 * Everything here is (L): called under the mirror lock.
 */
#ifndef MIRROR_LOGREAD_H
#define MIRROR_LOGREAD_H

#include <stdint.h>

#include "ring.h"

#define LOG_READERS_MAX 9 /* the checkpointer and 8 others */
#define LOG_READER_CKPT 0

struct log_readers {
	uint64_t done[LOG_READERS_MAX]; /* reader i is done up to done[i] */
	uint32_t live;                  /* bit i: reader i is registered */
};

/* Registers the checkpointer alone, done up to applied. */
void log_readers_init(struct log_readers *rs, uint64_t applied);
/* A new reader, done up to done: its id, or -ENOSPC. It holds every
 * batch above done in the log until it moves on or goes. */
int log_reader_add(struct log_readers *rs, uint64_t done);
/* Reader id goes: it holds nothing any more (the checkpointer stays). */
void log_reader_remove(struct log_readers *rs, int id);
/* Reader id is done up to seq; a cursor never moves back. */
void log_reader_advance(struct log_readers *rs, int id, uint64_t seq);
/* Reader id starts again at seq, lower or not: a full copy replaced what
 * it read (the logs are emptied with it). */
void log_reader_reset(struct log_readers *rs, int id, uint64_t seq);
uint64_t log_reader_done(const struct log_readers *rs, int id);
/* The slowest live reader's cursor. */
uint64_t log_readers_min(const struct log_readers *rs);

/*
 * Frees the space of every ring behind the slowest reader (ring_release).
 * Returns 1 if a head moved, 0 if none did, -EIO if a new head could not
 * be persisted (see ring_release: harmless, a replay skips what it finds
 * applied).
 */
int log_release(struct ring *const rings[], int n,
                const struct log_readers *rs);

/* Log bytes used (head to tail) and in all, over the rings. */
void log_fill(struct ring *const rings[], int n, uint64_t *used,
              uint64_t *total);

/* Log bytes of the complete batches above seq (a reader's lag). */
uint64_t log_bytes_after(struct ring *const rings[], int n, uint64_t seq);

/* The ring holding complete batch seq next (copied to *b), or NULL if it
 * is not logged (yet). */
struct ring *log_pick(struct ring *const rings[], int n, uint64_t next,
                      struct ring_batch *b);

#endif
