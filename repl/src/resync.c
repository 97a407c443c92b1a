/*
 * resync.c: bringing a mirror that fell behind back up to date (paper
 * section 4.3).
 *
 * Three ways back, cheapest first, chosen when the first connection of a
 * session is up (mj_resync_plan):
 *   1. resend: batches still held (unacknowledged, or closed when the
 *      mirror was lost) are sent again; the mirror skips what it has.
 *   2. catch-up: while the mirror could not take batches, sync points
 *      were tracked (each file's ranges, every namespace record in order);
 *      they become one batch with the ranges' current bytes, atomic like
 *      any other, behind the resent ones.
 *   3. full copy (copy.c): every file, while sync points are tracked, then
 *      what they changed; the mirror swaps the copy in at one point.
 * A full copy is needed when the mirror is empty or says it needs one,
 * when this primary was restarted with a stale mirror (tracking is lost
 * with the process) or after a crash (node.c), or when the tracking
 * overflowed.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* More namespace records than this while tracking: copy instead. */
#define TRACK_NS_MAX (64ull << 20)

void mj_track_start(mj_region *r, bool complete)
{
	if (r->track.active)
		return;
	/* Sync points already in the filling batch are shipped in it; later
	 * ones must come after the catch-up, never join a lower seq. */
	mj_queue_close(r->q);
	r->track.active = true;
	r->track.overflow = !complete;
}

void mj_track_clear(mj_region *r)
{
	for (mj_file **p = &r->files; *p;) {
		mj_file *f = *p;
		mj_rangeset_free(&f->track);
		if (f->lingering) {
			*p = f->next;
			mj_file_destroy(f);
		} else {
			p = &f->next;
		}
	}
	r->pending_ns.len = 0;
	r->pending_ns.nrec = 0;
	r->track.active = false;
	r->track.overflow = false;
}

void mj_track_ranges(mj_region *r, const struct mj_range *ranges, int n)
{
	if (r->track.overflow)
		return;
	for (int i = 0; i < n; i++) {
		mj_file *f = ranges[i].file;
		if (!f->name[0] || !ranges[i].len)
			continue;
		if (mj_rangeset_add(&f->track, ranges[i].off,
		                    ranges[i].off + ranges[i].len))
			r->track.overflow = true;
	}
	if (r->pending_ns.len > TRACK_NS_MAX)
		r->track.overflow = true;
}

/* The tracked ranges of f, clipped to its size now, into b. */
static int add_tracked(struct mj_batch *b, mj_file *f)
{
	uint64_t size = mj_file_size(f);
	for (int i = 0; i < f->track.n; i++) {
		uint64_t off = f->track.r[i].off, end = f->track.r[i].end;
		if (end > size)
			end = size;
		if (off >= end)
			continue;
		int rc = mj_batch_add_write_fd(b, f->name, off, f->fd, end - off);
		if (rc)
			return rc;
	}
	return 0;
}

struct mj_batch *mj_track_batch(mj_region *r, uint64_t seq, uint64_t limit)
{
	struct mj_batch *b = mj_batch_new(seq, r->slot);
	if (!b)
		return NULL;
	int rc = r->pending_ns.len ? mj_batch_add_records(b, &r->pending_ns) : 0;
	for (mj_file *f = r->files; f && !rc; f = f->next)
		if (f->name[0] && f->track.n)
			rc = add_tracked(b, f);
	if (rc || b->buf.len > limit) {
		mj_batch_free(b);
		return NULL;
	}
	return b;
}

void mj_want_copy(mj_region *r, const char *why)
{
	if (!r->need_copy)
		mj_log(r, MJ_LOG_WARN, "mirror %s needs a full copy: %s",
		       r->cfg.mirror, why);
	r->need_copy = true;
	mj_track_start(r, true);
	mj_node_set_stale(r, true);
}

void mj_settle(mj_region *r)
{
	if (!r->settle_pending || !mj_caught_up(r))
		return;
	r->settle_pending = false;
	mj_node_set_flushed(r, false);
	mj_node_set_stale(r, false);
}

/* Ends the tracking period at batch end_seq: the degraded state is over,
 * and the node file follows once the mirror acknowledged end_seq. */
static void tracking_settled(mj_region *r, uint64_t end_seq)
{
	r->track.end_seq = end_seq;
	r->track.gen++;
	mj_track_clear(r);
	r->degraded = false;
	/* Its sync points were acknowledged on the local flush alone: they
	 * keep flushing until the mirror acknowledged end_seq. */
	r->settle_pending = true;
	r->st.degraded = 0;
	r->st.catchups++;
}

/* Ships what was tracked as one batch after the resent ones; 0 if done,
 * -1 if it does not fit a batch (a full copy then). Nothing tracked, no
 * batch: an empty one has no frame to send, so it would never be
 * acknowledged (the connection timed out, degraded again and copied). */
static int catch_up(mj_region *r)
{
	uint64_t retained = (uint64_t)mj_queue_count_held(r->q);
	struct mj_batch *b = mj_track_batch(r, mj_queue_next(r->q), r->max_batch);
	if (!b)
		return -1;
	if (b->buf.len == 0) {
		mj_batch_free(b);
		tracking_settled(r, mj_queue_next(r->q) - 1);
		r->st.catchup_bytes = 0;
		mj_log(r, MJ_LOG_WARN, "mirror %s is back: resending %llu held "
		       "batches; nothing changed meanwhile", r->cfg.mirror,
		       (unsigned long long)retained);
		return 0;
	}
	mj_queue_append(r->q, b);
	tracking_settled(r, b->seq);
	r->st.catchup_bytes = b->buf.len;
	mj_log(r, MJ_LOG_WARN, "mirror %s is back: resending %llu held batches, "
	       "then one catch-up batch (%llu, %llu bytes) of what changed "
	       "meanwhile", r->cfg.mirror, (unsigned long long)retained,
	       (unsigned long long)b->seq, (unsigned long long)b->buf.len);
	return 0;
}

void mj_resync_plan(mj_region *r, const struct mjw_hello_ack *ack)
{
	bool nothing_sent = mj_queue_untouched(r->q);
	if (nothing_sent && ack->durable_seq > 0) {
		/* A restart: number on from where the mirror is, copy or not,
		 * so sequence numbers never go back on a mirror. */
		mj_queue_number_from(r->q, ack->durable_seq);
	}
	if (ack->flags & MJW_MIRROR_EMPTY) {
		if (!(nothing_sent && !r->had_files && !r->node.mirror_stale))
			mj_want_copy(r, "it holds no copy yet");
		return;
	}
	if (ack->flags & MJW_MIRROR_NEEDS_COPY)
		return mj_want_copy(r, "it says its copy cannot be continued");
	if (r->node.mirror_stale && !r->track.active)
		return mj_want_copy(r, "the local files are newer than its copy "
		                       "(before this process started, the "
		                       "primary crashed, degraded or ran "
		                       "unreplicated)");
	if (ack->durable_seq + 1 < mj_queue_oldest(r->q))
		return mj_want_copy(r, "it lacks batches this primary no longer "
		                       "holds");
	if (!r->track.active || r->need_copy)
		return;
	if (r->track.overflow)
		return mj_want_copy(r, "too much changed while it was away");
	if (catch_up(r))
		mj_want_copy(r, "the changes since it was lost exceed a batch");
}
