/*
 * ship.c: getting batches to the mirror, and what happens when it is lost.
 *
 * Any thread may ship: a caller waiting in sync modes (the paper's
 * application thread posting its own send), a shipper thread per
 * connection in async mode, or the supervisor resending after a
 * reconnect. Whoever ships takes an idle connection (CONN_UP -> CONN_BUSY)
 * and the oldest batch that needs sending, drops the lock for the I/O, and
 * settles the outcome under the lock again.
 *
 * The batches themselves are the queue's (queue.c).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void recompute_durable(mj_region *r)
{
	r->st.seq_durable = mj_queue_recompute(r->q, r->degraded);
	mj_settle(r);
}

static bool any_conn_alive(mj_region *r)
{
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].state == CONN_UP || r->conns[i].state == CONN_BUSY)
			return true;
	return false;
}

static void close_conn(mj_region *r, struct mj_conn *c)
{
	if (c->link)
		r->tx->close(c->link);
	c->link = NULL;
	c->state = CONN_DOWN;
	r->st.connections_up--;
}

/* With no live connection left, the mirror is lost: apply the policy. */
static void check_mirror_lost(mj_region *r)
{
	if (!any_conn_alive(r) && !r->mirror_lost) {
		r->mirror_lost = true;
		r->lost_since_ns = mj_now_ns();
		r->st.mirror_lost = 1;
		if (!r->fenced && r->cfg.policy == MJ_POLICY_DEGRADE)
			mj_enter_degraded(r, "mirror lost");
		else if (!r->fenced)
			mj_log(r, MJ_LOG_WARN, "mirror %s lost: sync points wait (policy "
			       "block, timeout %d ms)", r->cfg.mirror,
			       r->cfg.block_timeout_ms);
	}
}

/* Called with mu held after I/O on connection c failed with err. */
static void conn_failed_locked(mj_region *r, struct mj_conn *c, int err)
{
	if (c->state == CONN_UP || c->state == CONN_BUSY) {
		mj_log(r, MJ_LOG_WARN, "connection %d to mirror %s lost: %s",
		       c->index, r->cfg.mirror, mj_strerror(err));
		close_conn(r, c);
	}
	c->state = CONN_DOWN;
	if ((err == -MJ_EFENCED || err == -MJ_ECLUSTER) && !r->fenced) {
		r->fenced = true;
		r->fence_err = -err;
		if (err == -MJ_EFENCED)
			mj_log(r, MJ_LOG_ERROR, "fenced by the mirror: this primary's "
			       "epoch %llu is stale; every sync point now fails",
			       (unsigned long long)r->cfg.epoch);
		else
			mj_log(r, MJ_LOG_ERROR, "mirror %s serves another cluster "
			       "(this database is cluster %016llx): every sync "
			       "point now fails; give this database its own mirror",
			       r->cfg.mirror, (unsigned long long)r->cluster);
	}
	check_mirror_lost(r);
	pthread_cond_signal(&r->sup_cv);
	mj_wake(r, true);
}

/*
 * A held batch was built for the mirror as it was; one that came back with
 * a smaller slot takes no larger frame (the batch is re-framed), and one
 * with a smaller log no larger batch: that batch cannot go atomically, so
 * a full copy carries it instead. Only a batch nobody is sending is
 * touched (one in flight is checked when it is taken again). 0, or -1 if
 * a copy is wanted now. mu held.
 */
static int fit_batch(void *region, struct mj_batch *b)
{
	mj_region *r = region;
	if (b->buf.len > r->max_batch)
		mj_want_copy(r, "a batch it has not acknowledged is larger than "
		             "its log now takes whole");
	else if (mj_batch_reframe(b, r->slot))
		mj_want_copy(r, "out of memory re-framing a held batch for its "
		             "smaller slot");
	return r->need_copy ? -1 : 0;
}

/* Ships one batch on connection c (CONN_UP); mu held, dropped for I/O. */
static int ship_on(mj_region *r, struct mj_conn *c, bool retries_only)
{
	struct mj_batch *b = mj_queue_to_send(r->q, retries_only);
	if (!b || fit_batch(r, b))
		return 0;
	mj_queue_sending(r->q, b);
	c->state = CONN_BUSY;
	struct mj_link *link = c->link;
	pthread_mutex_unlock(&r->mu);

	int rc = mj_batch_seal(b, r->cfg.epoch, r->cluster, 0);
	if (!rc)
		rc = r->tx->send_batch(r, link, b);
	if (!rc)
		rc = r->tx->wait_ack(r, link, b->seq);

	pthread_mutex_lock(&r->mu);
	c->last_io_ns = mj_now_ns();
	if (rc == 0) {
		c->state = CONN_UP;
		r->st.batches++;
		r->st.bytes_sent += b->buf.len;
	}
	if (rc == 0)
		mj_queue_acked(r->q, b);
	else
		mj_queue_unsent(r->q, b); /* held for the mirror's return */
	if (rc)
		conn_failed_locked(r, c, rc);
	if (c->state == CONN_BUSY) /* degraded meanwhile: we close it */
		close_conn(r, c);
	recompute_durable(r);
	mj_wake(r, false);
	return 1;
}

/* Nothing goes while degraded or fenced, nor while a full copy is wanted
 * or runs: the copy carries it. */
static bool may_ship(const mj_region *r)
{
	return !r->degraded && !r->fenced && !r->copying && !r->need_copy;
}

/*
 * Ships one batch on any idle connection. Called with mu held. Returns 1
 * if it shipped (successfully or not), 0 if there was nothing to do or no
 * idle connection.
 */
int mj_ship_one(mj_region *r, bool retries_only)
{
	if (!may_ship(r))
		return 0;
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].state == CONN_UP)
			return ship_on(r, &r->conns[i], retries_only);
	return 0;
}

/*
 * The mirror degrades us to local durability (policy degrade). First make
 * everything local durable: every open file is flushed whole (the paper's
 * window of vulnerability lasts as long as this takes). Batches not yet
 * acknowledged are held, and later sync points tracked, so that the
 * mirror can catch up when it returns (resync.c). Called with mu held.
 */
void mj_enter_degraded(mj_region *r, const char *why)
{
	if (r->degraded)
		return;
	uint64_t t0 = mj_now_ns(), stale_from = mj_queue_durable(r->q) + 1;
	for (mj_file *f = r->files; f; f = f->next)
		mj_file_flush_all(f);
	mj_region_sync_local_meta(r);
	r->st.degrade_flush_us = (mj_now_ns() - t0) / 1000;
	/* Tracking can repair the mirror only if it was in sync so far. */
	mj_track_start(r, !r->node.mirror_stale);
	mj_node_set_flushed(r, true);
	mj_node_set_stale(r, true);
	r->degraded = true;
	r->st.degraded = 1;
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].state == CONN_UP)
			close_conn(r, &r->conns[i]);
	recompute_durable(r);
	mj_log(r, MJ_LOG_WARN, "DEGRADED: %s; replication to %s stopped, sync "
	       "points now flush locally only (local flush took %llu us); the "
	       "mirror's copy is stale from batch %llu on until it returns and "
	       "catches up", why, r->cfg.mirror,
	       (unsigned long long)r->st.degrade_flush_us,
	       (unsigned long long)stale_from);
	mj_wake(r, true);
}

/*
 * A handshake succeeded on connection index: adopt the mirror's numbering
 * on the first one, drop batches the mirror already holds, and refuse a
 * mirror that lacks batches we no longer keep. Called with mu held.
 */
static void fit_held_batches(mj_region *r)
{
	mj_queue_fit_slot(r->q, r->slot);
	if (!r->need_copy)
		mj_queue_each_unsent(r->q, fit_batch, r);
}

void mj_handshake_done(mj_region *r, int index, struct mj_link *link,
                       const struct mjw_hello_ack *ack)
{
	struct mj_conn *c = &r->conns[index];
	bool first = !any_conn_alive(r);
	/* The limits of the mirror as it is now, before anything is built
	 * for it (the catch-up batch of mj_resync_plan among them). */
	if (first || ack->slot_size < r->slot)
		r->slot = ack->slot_size;
	if (ack->max_batch_kb)
		r->max_batch = (uint64_t)ack->max_batch_kb << 10;
	if (first)
		mj_resync_plan(r, ack);
	/* Batches the mirror has although we missed their acks. */
	if (!r->need_copy)
		mj_queue_mirror_has(r->q, ack->durable_seq);
	fit_held_batches(r);
	c->link = link;
	c->state = CONN_UP;
	c->last_io_ns = mj_now_ns();
	r->st.connections_up++;
	r->st.mirror_applied_seq = ack->applied_seq;
	if (r->mirror_lost) {
		r->mirror_lost = false;
		r->st.mirror_lost = 0;
		r->st.reconnects++;
		mj_log(r, MJ_LOG_INFO, "mirror %s is back (it holds batches up to "
		       "%llu)", r->cfg.mirror, (unsigned long long)ack->durable_seq);
	}
	recompute_durable(r);
	mj_wake(r, true);
}

/* Reconnects lost connections and pings idle ones. mu held. */
static void supervise_once(mj_region *r)
{
	uint64_t now = mj_now_ns(), hb = (uint64_t)r->cfg.heartbeat_ms * 1000000;
	for (int i = 0; i < r->nconns && !r->stopping; i++) {
		struct mj_conn *c = &r->conns[i];
		if (r->fenced)
			return;
		if (c->state == CONN_DOWN) {
			struct mj_link *link;
			struct mjw_hello_ack ack;
			c->state = CONN_DIALING;
			pthread_mutex_unlock(&r->mu);
			int rc = r->tx->open(r, i, &link, &ack);
			pthread_mutex_lock(&r->mu);
			c->state = CONN_DOWN;
			if (rc == 0)
				mj_handshake_done(r, i, link, &ack);
			else
				conn_failed_locked(r, c, rc);
		} else if (c->state == CONN_UP && now - c->last_io_ns > hb) {
			c->state = CONN_BUSY;
			struct mj_link *link = c->link;
			pthread_mutex_unlock(&r->mu);
			int rc = r->tx->ping(r, link, now);
			pthread_mutex_lock(&r->mu);
			c->last_io_ns = mj_now_ns();
			if (rc)
				conn_failed_locked(r, c, rc);
			else
				c->state = CONN_UP;
		}
	}
	if (r->need_copy && !r->copying && !r->stopping && !r->fenced) {
		for (int i = 0; i < r->nconns; i++) {
			if (r->conns[i].state == CONN_UP) {
				int rc = mj_copy_run(r, &r->conns[i]);
				if (rc)
					conn_failed_locked(r, &r->conns[i], rc);
				break;
			}
		}
	}
	/* Resend what a lost connection left behind, even with no waiter. */
	while (!r->stopping && mj_ship_one(r, true))
		;
	/* Caught up: the mirror no longer needs more than the stream. */
	if (r->node.mirror_stale && !r->track.active && !r->need_copy &&
	    !r->degraded && !r->writes_lost && any_conn_alive(r) &&
	    mj_queue_durable(r->q) >= r->track.end_seq && r->track.end_seq)
		mj_node_set_stale(r, false);
}

static void *supervisor_main(void *arg)
{
	mj_region *r = arg;
	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		supervise_once(r);
		if (r->stopping) /* asked while it dialed without the lock */
			break;
		int ms = r->cfg.heartbeat_ms / 2;
		if (r->mirror_lost && ms > 100)
			ms = 100; /* redial quickly while the mirror is away */
		mj_wait_ms(r, &r->sup_cv, ms > 0 ? ms : 1);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct shipper_arg {
	mj_region *r;
	int index;
};

/* Async mode: one thread per connection sends batches behind callers. */
static void *shipper_main(void *arg)
{
	mj_region *r = ((struct shipper_arg *)arg)->r;
	struct mj_conn *c = &r->conns[((struct shipper_arg *)arg)->index];
	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		if (!may_ship(r) || c->state != CONN_UP || !ship_on(r, c, false))
			mj_wait_ms(r, &r->cv, 100);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int mj_supervisor_start(mj_region *r)
{
	int rc = pthread_create(&r->supervisor, NULL, supervisor_main, r);
	if (rc)
		return -rc;
	r->have_supervisor = true;
	return 0;
}

int mj_shippers_start(mj_region *r)
{
	for (int i = 0; i < r->nconns; i++) {
		struct shipper_arg *a = malloc(sizeof(*a));
		if (!a)
			return -ENOMEM;
		*a = (struct shipper_arg){.r = r, .index = i};
		int rc = pthread_create(&r->shippers[i], NULL, shipper_main, a);
		if (rc) {
			free(a);
			return -rc;
		}
		r->shipper_arg[i] = a;
		r->nshippers++;
	}
	return 0;
}

void mj_threads_stop(mj_region *r)
{
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_broadcast(&r->sup_cv);
	mj_wake(r, true);
	pthread_mutex_unlock(&r->mu);
	if (r->have_supervisor)
		pthread_join(r->supervisor, NULL);
	r->have_supervisor = false;
	for (int i = 0; i < r->nshippers; i++) {
		pthread_join(r->shippers[i], NULL);
		free(r->shipper_arg[i]);
	}
	r->nshippers = 0;
}
