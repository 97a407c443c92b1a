/*
 * queue.c: the batch queue, and the only code that touches it.
 *
 * Sync points join the filling batch; closing it moves it to the tail of
 * the held list (sent or to be sent, not acknowledged), which stays sorted
 * by seq because numbers are given out in order. A batch needs sending
 * when it is built and again when the connection carrying it failed; it is
 * freed when acknowledged, or when the mirror turns out to have it
 * (a handshake, a full copy). durable is the highest seq such that every
 * batch up to it is acknowledged, so a sync point that waits for its own
 * seq also waits for every sync point begun before it.
 *
 * Every call is made with the region's mu held.
 */
#include "internal.h"

#include <stdlib.h>

struct mj_queue {
	uint64_t next;            /* seq the next batch gets */
	uint64_t durable;         /* every batch <= this is acknowledged */
	struct mj_batch *filling; /* open to new sync points, or NULL */
	struct mj_batch *held;    /* closed, not acknowledged, by seq */
	uint64_t held_bytes;      /* what the held batches count for room */
	/* The lowest seq given to a batch sent outside the queue (a full
	 * copy's last) that has not landed yet, or 0: nothing at or after it
	 * is durable before it lands, whatever the queue holds. */
	uint64_t unlanded;
};

struct mj_queue *mj_queue_new(void)
{
	struct mj_queue *q = calloc(1, sizeof(*q));
	if (q)
		q->next = 1;
	return q;
}

void mj_queue_free(struct mj_queue *q)
{
	if (!q)
		return;
	while (q->held) {
		struct mj_batch *b = q->held;
		q->held = b->next;
		mj_batch_free(b);
	}
	mj_batch_free(q->filling);
	free(q);
}

uint64_t mj_queue_durable(const struct mj_queue *q)
{
	return q->durable;
}

uint64_t mj_queue_next(const struct mj_queue *q)
{
	return q->next;
}

bool mj_queue_untouched(const struct mj_queue *q)
{
	return q->next == 1 && !q->filling && !q->held;
}

void mj_queue_number_from(struct mj_queue *q, uint64_t durable)
{
	q->next = durable + 1;
	q->durable = durable;
}

uint64_t mj_queue_oldest(const struct mj_queue *q)
{
	return q->held ? q->held->seq : q->filling ? q->filling->seq : q->next;
}

uint64_t mj_queue_bytes(const struct mj_queue *q)
{
	return q->held_bytes + (q->filling ? q->filling->buf.len : 0);
}

bool mj_queue_held(const struct mj_queue *q)
{
	return q->held || (q->filling && q->filling->buf.len);
}

uint64_t mj_queue_newest_held(const struct mj_queue *q)
{
	uint64_t seq = 0;
	for (struct mj_batch *b = q->held; b; b = b->next)
		seq = b->seq;
	return seq;
}

int mj_queue_count_held(const struct mj_queue *q)
{
	int n = 0;
	for (struct mj_batch *b = q->held; b; b = b->next)
		n++;
	return n;
}

bool mj_queue_filling(const struct mj_queue *q)
{
	return q->filling && q->filling->buf.len;
}

bool mj_queue_has_work(const struct mj_queue *q)
{
	if (q->filling && q->filling->buf.len)
		return true;
	for (struct mj_batch *b = q->held; b; b = b->next)
		if (b->needs_send)
			return true;
	return false;
}

/* Moves the filling batch, whatever it holds, to the tail of the held
 * list. Sealing adds the trailer later: count what we add, subtract it. */
static void close_filling(struct mj_queue *q)
{
	struct mj_batch *b = q->filling, **p = &q->held;
	q->filling = NULL;
	while (*p)
		p = &(*p)->next;
	*p = b;
	b->next = NULL;
	b->queued = b->buf.len;
	q->held_bytes += b->queued;
}

void mj_queue_close(struct mj_queue *q)
{
	if (q->filling && q->filling->buf.len)
		close_filling(q);
}

struct mj_batch *mj_queue_open(struct mj_queue *q, uint64_t need,
                               uint64_t max_batch, uint64_t slot)
{
	if (q->filling && q->filling->buf.len + need > max_batch)
		close_filling(q);
	if (!q->filling) {
		q->filling = mj_batch_new(q->next, slot);
		if (!q->filling)
			return NULL;
		q->next++;
	}
	return q->filling;
}

void mj_queue_unopen(struct mj_queue *q, struct mj_batch *b)
{
	if (b != q->filling || b->buf.len || b->sync_points)
		return;
	mj_batch_free(b);
	q->filling = NULL;
	q->next--;
}

void mj_queue_append(struct mj_queue *q, struct mj_batch *b)
{
	/* Sync points in the filling batch are older than b's contents. */
	if (q->filling)
		close_filling(q);
	b->seq = q->next++;
	b->needs_send = true;
	q->filling = b;
	close_filling(q);
}

uint64_t mj_queue_reserve(struct mj_queue *q)
{
	if (!q->unlanded)
		q->unlanded = q->next;
	return q->next++;
}

void mj_queue_fit_slot(struct mj_queue *q, uint64_t slot)
{
	struct mj_batch *f = q->filling;
	if (f && f->slot > slot && f->buf.len)
		close_filling(q);
	else if (f && f->slot > slot)
		f->slot = slot;
}

int mj_queue_each_unsent(struct mj_queue *q,
                         int (*fn)(void *arg, struct mj_batch *b), void *arg)
{
	for (struct mj_batch *b = q->held; b; b = b->next) {
		int rc = b->needs_send ? fn(arg, b) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

struct mj_batch *mj_queue_to_send(struct mj_queue *q, bool retries_only)
{
	for (struct mj_batch *b = q->held; b; b = b->next)
		if (b->needs_send)
			return b;
	if (retries_only || !q->filling || q->filling->buf.len == 0)
		return NULL;
	close_filling(q);
	return mj_queue_to_send(q, true);
}

void mj_queue_sending(struct mj_queue *q, struct mj_batch *b)
{
	(void)q;
	b->needs_send = false;
}

void mj_queue_unsent(struct mj_queue *q, struct mj_batch *b)
{
	(void)q;
	b->needs_send = true;
}

static void drop(struct mj_queue *q, struct mj_batch *b)
{
	for (struct mj_batch **p = &q->held; *p; p = &(*p)->next) {
		if (*p == b) {
			*p = b->next;
			q->held_bytes -= b->queued;
			mj_batch_free(b);
			return;
		}
	}
}

void mj_queue_acked(struct mj_queue *q, struct mj_batch *b)
{
	drop(q, b);
}

void mj_queue_mirror_has(struct mj_queue *q, uint64_t seq)
{
	/* One in flight is settled by its sender. */
	for (struct mj_batch *b = q->held, *next; b; b = next) {
		next = b->next;
		if (b->seq <= seq && b->needs_send)
			drop(q, b);
	}
}

uint64_t mj_queue_recompute(struct mj_queue *q, bool all_durable)
{
	uint64_t lowest = mj_queue_oldest(q);
	if (q->unlanded && q->unlanded < lowest)
		lowest = q->unlanded;
	if (all_durable)
		lowest = q->next;
	if (lowest - 1 > q->durable)
		q->durable = lowest - 1;
	return q->durable;
}

uint64_t mj_queue_landed(struct mj_queue *q, uint64_t seq)
{
	mj_queue_mirror_has(q, seq);
	if (q->unlanded && q->unlanded <= seq)
		q->unlanded = 0;
	if (q->durable < seq)
		q->durable = seq;
	return mj_queue_recompute(q, false);
}
