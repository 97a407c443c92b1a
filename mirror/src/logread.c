/*
 * logread.c: readers' cursors over the log rings, and the pick of the
 * next batch (logread.h).
 */
#include "logread.h"

#include <errno.h>

void log_readers_init(struct log_readers *rs, uint64_t applied)
{
	*rs = (struct log_readers){.live = 1u << LOG_READER_CKPT};
	rs->done[LOG_READER_CKPT] = applied;
}

int log_reader_add(struct log_readers *rs, uint64_t done)
{
	for (int id = 0; id < LOG_READERS_MAX; id++) {
		if (rs->live & (1u << id))
			continue;
		rs->live |= 1u << id;
		rs->done[id] = done;
		return id;
	}
	return -ENOSPC;
}

void log_reader_remove(struct log_readers *rs, int id)
{
	if (id > LOG_READER_CKPT && id < LOG_READERS_MAX)
		rs->live &= ~(1u << id);
}

void log_reader_advance(struct log_readers *rs, int id, uint64_t seq)
{
	if (id >= 0 && id < LOG_READERS_MAX && seq > rs->done[id])
		rs->done[id] = seq;
}

void log_reader_reset(struct log_readers *rs, int id, uint64_t seq)
{
	if (id >= 0 && id < LOG_READERS_MAX)
		rs->done[id] = seq;
}

uint64_t log_reader_done(const struct log_readers *rs, int id)
{
	return rs->done[id];
}

uint64_t log_readers_min(const struct log_readers *rs)
{
	uint64_t min = UINT64_MAX;
	for (int id = 0; id < LOG_READERS_MAX; id++)
		if ((rs->live & (1u << id)) && rs->done[id] < min)
			min = rs->done[id];
	return min;
}

int log_release(struct ring *const rings[], int n,
                const struct log_readers *rs)
{
	uint64_t min = log_readers_min(rs);
	int moved = 0, err = 0;
	for (int k = 0; k < n; k++) {
		int rc = rings[k] ? ring_release(rings[k], min) : 0;
		if (rc < 0)
			err = rc; /* the other rings are still released */
		else
			moved |= rc;
	}
	return err ? err : moved;
}

void log_fill(struct ring *const rings[], int n, uint64_t *used,
              uint64_t *total)
{
	*used = *total = 0;
	for (int k = 0; k < n; k++) {
		if (!rings[k])
			continue;
		*used += ring_used(rings[k]);
		*total += rings[k]->dsize;
	}
}

uint64_t log_bytes_after(struct ring *const rings[], int n, uint64_t seq)
{
	uint64_t bytes = 0;
	for (int k = 0; k < n; k++) {
		for (size_t i = 0; rings[k] && i < rings[k]->q_len; i++) {
			const struct ring_batch *b = ring_batch_at(rings[k], i);
			if (b->seq > seq)
				bytes += b->end - b->start;
		}
	}
	return bytes;
}

/* The first batch with seq >= next in ring order; 1 if it is next. */
static int front_is(const struct ring *r, uint64_t next, struct ring_batch *b)
{
	for (size_t i = 0; i < r->q_len; i++) {
		const struct ring_batch *x = ring_batch_at(r, i);
		if (x->seq < next)
			continue; /* passed by this reader, or a resend */
		if (x->seq != next)
			return 0;
		*b = *x;
		return 1;
	}
	return 0;
}

struct ring *log_pick(struct ring *const rings[], int n, uint64_t next,
                      struct ring_batch *b)
{
	for (int k = 0; k < n; k++)
		if (rings[k] && front_is(rings[k], next, b))
			return rings[k];
	/* A resend can queue a batch behind a later one in the same ring;
	 * only those rings need a full look. */
	for (int k = 0; k < n; k++) {
		struct ring *r = rings[k];
		if (!r || !r->disorder)
			continue;
		for (size_t i = 0; i < r->q_len; i++) {
			if (ring_batch_at(r, i)->seq == next) {
				*b = *ring_batch_at(r, i);
				return r;
			}
		}
	}
	return NULL;
}
