/*
 * ingest.c: what a primary's frames do to the mirror, from HELLO on.
 *
 * HELLO: the key check first (a peer that fails it leaves nothing), then
 * admission (cluster, epoch, fencing, incarnation) under the lock, then
 * the ring of its connection index, then HELLO_ACK.
 *
 * A BATCH frame: its 64-byte header is read into a local struct and
 * checked (order, epoch, cluster, window, size), its room reserved in the
 * ring, and the rest of the frame read straight into the ring's pmem: the
 * bytes are checked there and later applied from there, never copied.
 * Only after the frame and then its commit mark are persisted is a LAST
 * fragment acked. A frame that was not fully read and checked is never
 * committed, and a batch cut short is rewound out of the ring (listener.c,
 * when the connection ends).
 *
 * Everything goes through the transport's connection (c->lc): this file
 * knows frames, never descriptors.
 */
#include "conn.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Busy-polls the socket for up to spin_us before the blocking read:
 * waking a sleeping thread costs more here (~70 us, DESIGN.md) than the
 * rest of the path, and the primary's next batch often follows at once.
 */
static void conn_spin(struct conn *c)
{
	uint64_t spin = c->m->cfg.spin_us;
	if (!spin)
		return;
	uint64_t end = now_ns() + spin * 1000;
	do {
		if (mjl_conn_wait(c->lc, 0, 0) != -ETIMEDOUT)
			return;
		/* With 2 vCPUs the checkpointer we just woke may be waiting for
		 * this one: let it run rather than burn its time. */
		sched_yield();
	} while (now_ns() < end);
}

/*
 * How far ahead of durable_seq a batch may be. A primary has at most one
 * batch in flight per connection, so a legitimate seq is within a few of
 * durable_seq; one far ahead can never be applied and would pin its ring.
 */
#define SEQ_WINDOW 4096

/* The largest batch a ring takes whole: half of it, so that a batch can
 * always be logged behind one still being applied. */
static uint64_t max_batch(const struct ring *r)
{
	return r->dsize / 2;
}

/* The state file could not be persisted: nothing may be acted on. */
static int persist_failed(struct conn *c, int rc)
{
	snprintf(c->whybuf, sizeof(c->whybuf), "cannot persist the mirror's "
	         "state: %s", strerror(-rc));
	c->why = c->whybuf;
	return END_FAILED;
}

/* How long a new incarnation waits for an older one's connections: they
 * close within milliseconds once cut (a dead process's, normally); the
 * bound stays below a primary's default connect timeout (2 s), which is
 * how long it waits for the HELLO's answer. */
#define SWITCH_WAIT_NS (1500ull * 1000000)

/* (L) Waits (bounded) on the connection list; 0 if woken, -1 at deadline. */
static int wait_conns(struct mirror *m, uint64_t deadline_ns)
{
	uint64_t now = now_ns();
	if (now >= deadline_ns)
		return -1;
	uint64_t until = now + 100000000ull < deadline_ns ? now + 100000000ull
	                                                  : deadline_ns;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (until - now);
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);
	pthread_cond_timedwait(&m->conns_cond, &m->lock, &ts);
	return 0;
}

/*
 * (L) A newer incarnation of the primary (a new opening of its region:
 * the old process is gone) takes over. Batches the old one logged beyond
 * the durable point were never acknowledged as a sequence and must never
 * be applied (the new one numbers on from durable_seq + 1, and its own
 * batches would otherwise be mixed with them), so:
 *   1. the old connections are cut, and the takeover waits until every
 *      one of them is gone: then none can publish a batch any more, and
 *      each rewound its unfinished one out of its ring;
 *   2. if a complete batch lies beyond the durable point, the replica can
 *      only be continued by a full copy (which drops the logs): COPY_NEEDED;
 *   3. the new incarnation is persisted; a mirror crash before this point
 *      leaves the old state, and the takeover is simply done again.
 */
static int take_over(struct conn *c)
{
	struct mirror *m = c->m;
	struct state *st = &m->state;
	m->inc_switching = 1;
	conns_of_other_incarnation(m, c->incarnation, 1);
	uint64_t deadline = now_ns() + SWITCH_WAIT_NS;
	int rc = END_OK;
	while (conns_of_other_incarnation(m, c->incarnation, 0))
		if (wait_conns(m, deadline)) {
			rc = conn_refuse(c, MJW_REFUSE_BUSY, "connections of an older "
			            "incarnation of this primary are still closing");
			break;
		}
	/* The lock was let go while waiting: a promotion or a newer epoch
	 * may have come meanwhile. */
	if (!rc && m->promoted)
		rc = conn_refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted");
	else if (!rc && m->epoch != c->epoch)
		rc = conn_refuse(c, MJW_REFUSE_FENCED, "a newer epoch has been seen");
	int prc = 0;
	if (!rc && m->logged.n > 0 && copy_state(m) == COPY_NONE) {
		mlog("incarnation %llu of the primary takes over: %zu batches an "
		     "older one logged beyond batch %llu are dropped; the replica "
		     "needs a full copy", (unsigned long long)c->incarnation,
		     m->logged.n, (unsigned long long)m->durable_seq);
		prc = state_set(st, &st->d->copy_state, COPY_NEEDED);
	}
	if (!rc && !prc)
		prc = state_set(st, &st->d->incarnation, c->incarnation);
	if (!rc && prc)
		rc = persist_failed(c, prc);
	if (!rc)
		m->incarnation = c->incarnation;
	m->inc_switching = 0;
	pthread_cond_broadcast(&m->conns_cond);
	return rc;
}


/*
 * (L) Whether this primary may be served: not after a promotion, not from
 * another cluster, not from an older epoch (invariant 4), not from an
 * older incarnation of the current primary. A newer epoch is a new
 * primary: it is adopted, the older primary's connections are cut, and a
 * replica that held the old primary's data can only be continued by a
 * full copy from the new one (its logs may hold batches the new primary
 * never had). A newer incarnation takes over (take_over).
 */
static int hello_admit(struct conn *c, const struct mjw_hello *hello,
                       uint64_t epoch)
{
	struct mirror *m = c->m;
	struct state *st = &m->state;
	uint64_t deadline = now_ns() + SWITCH_WAIT_NS;
again:
	if (m->promoted)
		return conn_refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted: "
		              "its directory belongs to a primary now");
	if (health_refusal(m, c->whybuf, sizeof(c->whybuf)))
		return conn_refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	if (hello->cluster_id == 0)
		return conn_bad(c, "HELLO without a cluster id");
	if (hello->incarnation == 0)
		return conn_bad(c, "HELLO without an incarnation");
	if (m->cfg.role_backup && !(hello->flags & MJW_HELLO_F_FORWARDER))
		return conn_refuse(c, MJW_REFUSE_BUSY, "this is a backup: it is fed "
		                   "by its mirror, not by a primary");
	if (!m->cfg.role_backup && (hello->flags & MJW_HELLO_F_FORWARDER))
		return conn_refuse(c, MJW_REFUSE_BUSY, "this is a mirror, not a "
		                   "backup (start the backup with --role backup)");
	if (m->cluster_id && hello->cluster_id != m->cluster_id)
		return conn_refuse(c, MJW_REFUSE_CLUSTER, "this mirror serves another "
		              "cluster");
	if (epoch < m->epoch)
		return conn_refuse(c, MJW_REFUSE_FENCED, "epoch older than the mirror's");
	int rc = 0;
	int newer_epoch = epoch > m->epoch;
	if (!newer_epoch && hello->incarnation < m->incarnation)
		return conn_refuse(c, MJW_REFUSE_REPLACED, "an older incarnation of "
		              "this primary: a newer one has spoken since");
	if (m->inc_switching) { /* another HELLO is taking over: its outcome */
		if (wait_conns(m, deadline))
			return conn_refuse(c, MJW_REFUSE_BUSY, "another connection of "
			              "this primary is taking over");
		goto again;
	}
	if (newer_epoch) {
		if (st->d->has_data)
			rc = state_set(st, &st->d->old_epoch_data, 1);
		if (!rc && st->d->has_data && copy_state(m) == COPY_NONE)
			rc = state_set(st, &st->d->copy_state, COPY_NEEDED);
		if (rc || (rc = state_set_epoch(st, epoch)))
			return persist_failed(c, rc);
		m->epoch = epoch;
		conns_cut_older(m, epoch);
	}
	if (!m->cluster_id) {
		if ((rc = state_set(st, &st->d->cluster_id, hello->cluster_id)))
			return persist_failed(c, rc);
		m->cluster_id = hello->cluster_id;
	}
	c->incarnation = hello->incarnation;
	if (newer_epoch || hello->incarnation > m->incarnation)
		return take_over(c);
	return END_OK;
}

/*
 * The key check, before anything is decided or made for the peer: a peer
 * that fails it leaves no ring, no epoch, no cluster, no copy state, and
 * its descriptor is closed after the REFUSE.
 */
static int conn_auth(struct conn *c, const struct mjw_hdr *h,
                     const struct mjw_hello *hello)
{
	const char *why = NULL;
	int rc = mjl_accept_auth(c->lc, &c->m->key, h->epoch, hello, &c->sess,
	                         &why);
	if (rc == -MJL_EAUTH || rc == -MJL_EPROTO)
		__atomic_fetch_add(&c->m->auth_refused, 1, __ATOMIC_RELAXED);
	if (rc == -MJL_EAUTH)
		return conn_refuse(c, MJW_REFUSE_AUTH, why);
	if (rc == -MJL_EPROTO)
		return conn_bad(c, why);
	if (rc == -EIO && why)
		return c->why = why, END_FAILED;
	if (rc)
		return conn_read_err(c, rc);
	c->authenticated = 1;
	return END_OK;
}

/*
 * Lets the primary place its batches straight into the ring (RDMA), before
 * the HELLO_ACK, so that the offer reaches the primary first. An offer
 * that cannot be made (registration refused: memlock) is logged, and the
 * frames come as SENDs, copied in as over TCP.
 */
static void offer_log(struct conn *c, const struct mjl_log_area *area)
{
	uint64_t t0 = now_ns();
	int rc = mjl_conn_expose(c->lc, area);
	uint64_t ms = (now_ns() - t0) / 1000000;
	if (rc == 0 && ms >= 100) /* registering a large ring pins its pages */
		minfo("conn %d from %s: ring %d offered in %llu ms", c->index,
		      c->peer, c->index, (unsigned long long)ms);
	if (rc && rc != -ENOTSUP) { /* the frames come as SENDs instead */
		const char *e = c->lc->t->error ? c->lc->t->error(c->lc) : NULL;
		mlog("conn %d from %s: ring %d not offered for placed writes: %s",
		     c->index, c->peer, c->index, e ? e : strerror(-rc));
	}
}

int ingest_hello(struct conn *c)
{
	struct mirror *m = c->m;
	unsigned char buf[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	struct mjw_hdr h;
	struct mjw_hello hello;
	const char *why;
	int rc = conn_read(c, &h, sizeof(h));
	if (rc)
		return rc;
	if (h.magic == MJW_MAGIC && h.version != MJW_VERSION)
		return conn_refuse(c, MJW_REFUSE_VERSION, "unsupported protocol version");
	if (mjw_check_hdr(&h, sizeof(buf), &why))
		return conn_bad(c, why);
	if (h.type != MJW_HELLO)
		return conn_bad(c, "first frame is not HELLO");
	if ((rc = conn_read_ctrl(c, &h, buf)))
		return rc;
	if (h.len - MJW_OVERHEAD < sizeof(hello))
		return conn_bad(c, "HELLO body too short");
	memcpy(&hello, buf + MJW_HDR_SIZE, sizeof(hello));
	if (hello.nconns < 1 || hello.nconns > RING_MAX ||
	    hello.conn_index >= hello.nconns)
		return conn_bad(c, "HELLO connection index out of range");
	if ((rc = conn_auth(c, &h, &hello)))
		return rc;
	/* Admitted before anything is made for it: a refused peer creates no
	 * ring file. The decision is taken again with the ring in hand. The
	 * connection is in the list others read under the lock (conns_cut_older). */
	pthread_mutex_lock(&m->lock);
	c->proved = 1;
	c->index = (int)hello.conn_index;
	c->epoch = h.epoch;
	rc = hello_admit(c, &hello, h.epoch);
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	struct ring *r = mirror_ring(m, c->index, &why);
	if (!r) {
		snprintf(c->whybuf, sizeof(c->whybuf), "cannot open ring %d: %s",
		         c->index, why);
		c->why = c->whybuf;
		return END_CLOSED;
	}
	struct mjw_hello_ack ack = {.slot_size = (uint32_t)m->cfg.slot_size};
	pthread_mutex_lock(&m->lock);
	if ((rc = hello_admit(c, &hello, h.epoch))) {
		pthread_mutex_unlock(&m->lock);
		return rc;
	}
	if (r->owned) {
		pthread_mutex_unlock(&m->lock);
		return conn_refuse(c, MJW_REFUSE_BUSY, "connection index in use");
	}
	r->owned = 1;
	c->ring = r;
	c->admitted = 1;
	ack.applied_seq = m->applied_seq;
	ack.durable_seq = m->durable_seq;
	ack.max_batch_kb = (uint32_t)(max_batch(r) >> 10);
	ack.epoch = m->epoch;
	ack.cluster_id = m->cluster_id;
	ack.flags = copy_ack_flags(m);
	struct mjl_log_area area = {.data = r->data, .dsize = r->dsize,
	                            .head = &r->hdr->credit, .wpos = r->cur.wpos};
	pthread_mutex_unlock(&m->lock);
	/* Only to a dialer that places, and into a ring whose flushes are
	 * cache-line flushes: msync on a file system's page cache would not
	 * see pages the NIC wrote behind the kernel's back. */
	if ((hello.flags & MJW_HELLO_F_PLACE) && r->is_pmem)
		offer_log(c, &area);
	if (m->key.len)
		mjl_mac_acceptor(&c->sess, &ack, ack.mac);
	minfo("conn %d from %s: hello epoch %llu, applied_seq %llu, "
	      "durable_seq %llu", c->index, c->peer, (unsigned long long)h.epoch,
	      (unsigned long long)ack.applied_seq,
	      (unsigned long long)ack.durable_seq);
	return conn_send(c, MJW_HELLO_ACK, 0, &ack, sizeof(ack));
}

/* (L) Waits for room for a frame in the ring; END_CLOSED on shutdown. */
static int wait_room(struct conn *c, uint64_t len)
{
	struct mirror *m = c->m;
	while (!ring_fits(c->ring, len)) {
		if (m->stopping) {
			c->why = "shutting down";
			return END_CLOSED;
		}
		/* The log only empties as batches are applied. */
		if (health_refusal(m, c->whybuf, sizeof(c->whybuf)))
			return conn_refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
		if (mjl_conn_gone(c->lc)) {
			c->why = "peer closed while waiting for log space";
			return END_CLOSED;
		}
		/* "Checkpoint when a log is full": wake the checkpointer. */
		m->space_waiters++;
		pthread_cond_signal(&m->ckpt_cond);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->space_cond, &m->lock, &ts);
		m->space_waiters--;
	}
	if (ring_queue_reserve(c->ring)) {
		c->why = "out of memory";
		return END_CLOSED;
	}
	return END_OK;
}

/* Checks that h follows on the fragments received so far. */
static int check_order(struct conn *c, const struct mjw_hdr *h)
{
	if (h->epoch != c->epoch)
		return conn_bad(c, "batch epoch differs from the connection's");
	if (h->seq == 0)
		return conn_bad(c, "batch seq 0");
	if (c->in_batch) {
		if (h->seq != c->cur_seq)
			return conn_bad(c, "new batch before the LAST fragment of the previous one");
		if (h->frag != c->next_frag)
			return conn_bad(c, "fragment out of order");
	} else if (h->frag != 0) {
		return conn_bad(c, "batch does not start with fragment 0");
	}
	return END_OK;
}

/* A frame of batch h could not be made durable in the log: no ack; the
 * batch is rewound out of the ring when the connection goes. */
static int log_failed(struct conn *c, const struct mjw_hdr *h, int rc)
{
	snprintf(c->whybuf, sizeof(c->whybuf), "cannot persist batch %llu in "
	         "the log: %s; not acknowledged", (unsigned long long)h->seq,
	         strerror(-rc));
	c->why = c->whybuf;
	return END_FAILED;
}

/*
 * (L, waits on space_cond) The secondary tier's say on a batch's ack: held
 * while the backups lag more than --secondary-thresh (the paper's stall),
 * and with --chain until every backup that counts has it. Given up when
 * the connection goes (cut by a newer primary or a promotion: a batch
 * behind a gap can never be forwarded) or the mirror stops; a backup down
 * for longer than its timeout stops counting (forward_tick).
 */
/* Tells the primary, every MJW_HOLD_MS, that batch seq is logged and its
 * ack held, so that its ack timeout measures the mirror, not the backups.
 * Sent without the lock: a primary that does not read must not hold the
 * mirror up. Called and returns with m->lock held. */
static int hold_tick(struct conn *c, uint64_t seq, uint64_t *last_ns)
{
	uint64_t now = now_ns();
	if (now - *last_ns < MJW_HOLD_MS * 1000000ull)
		return 0;
	*last_ns = now;
	pthread_mutex_unlock(&c->m->lock);
	int rc = conn_send(c, MJW_HOLD, seq, NULL, 0);
	pthread_mutex_lock(&c->m->lock);
	return rc;
}

static int wait_for_backups(struct conn *c, uint64_t seq)
{
	struct mirror *m = c->m;
	uint64_t t0 = 0, held_ns = now_ns();
	int rc = END_OK;
	for (;;) {
		int stall = forward_stalling(m);
		if (!stall && !(m->cfg.chain && forward_chain_waits(m, seq)))
			break;
		if (m->stopping) {
			c->why = "shutting down";
			rc = END_CLOSED;
			break;
		}
		if (mjl_conn_gone(c->lc)) {
			c->why = "peer closed while its ack waited for the backups";
			rc = END_CLOSED;
			break;
		}
		if ((rc = conn_check_current(c)))
			break;
		if (stall && !t0) {
			t0 = now_ns();
			m->stalls++;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&m->space_cond, &m->lock, &ts);
		forward_tick(m);
		if ((rc = hold_tick(c, seq, &held_ns)))
			break;
	}
	if (t0)
		m->stalled_ns += now_ns() - t0;
	return rc;
}

/*
 * A resend of a batch already durable is not logged. When the primary
 * placed it in the ring itself (RDMA), the place it took becomes a PAD
 * entry, so that the ring's writer stays where the primary's is.
 */
static int skip_placed(struct conn *c, const struct mjw_hdr *h)
{
	int rc = ring_pad(c->ring, h->len);
	if (rc)
		return log_failed(c, h, rc);
	pthread_mutex_lock(&c->m->lock);
	ring_publish_pad(c->ring, h->len);
	pthread_mutex_unlock(&c->m->lock);
	return END_OK;
}

/*
 * One BATCH frame: into the ring, checked, persisted, committed, acked.
 * A frame the primary placed (RDMA) is in the ring already, where
 * ring_reserve puts it (the transport checks that): it must have fitted
 * in the free space, as the primary's credit said.
 */
static int conn_batch(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why;
	int placed = mjl_conn_placed(c->lc);
	int rc = check_order(c, h);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->lock);
	if ((rc = conn_check_current(c))) {
		pthread_mutex_unlock(&m->lock);
		return rc;
	}
	if (copy_state(m) != COPY_NONE) {
		pthread_mutex_unlock(&m->lock);
		return conn_bad(c, "batch while the replica waits for a full copy");
	}
	if (h->cluster != m->cluster_id) {
		pthread_mutex_unlock(&m->lock);
		return conn_bad(c, "batch of another cluster");
	}
	if (h->frag == 0 && health_refusal(m, c->whybuf, sizeof(c->whybuf))) {
		pthread_mutex_unlock(&m->lock);
		return conn_refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	}
	if (h->frag == 0) {
		c->skip = h->seq <= m->durable_seq;
		c->batch_bytes = 0;
		if (h->seq > m->durable_seq + SEQ_WINDOW) {
			pthread_mutex_unlock(&m->lock);
			return conn_bad(c, "batch sequence number too far ahead");
		}
	}
	c->batch_bytes += h->len;
	if (c->batch_bytes > max_batch(c->ring) ||
	    h->total > max_batch(c->ring)) {
		pthread_mutex_unlock(&m->lock);
		return conn_bad(c, "batch larger than the log can hold");
	}
	if (placed && !ring_fits(c->ring, h->len)) {
		pthread_mutex_unlock(&m->lock);
		return conn_bad(c, "a frame placed in the ring beyond its free "
		                "space (the primary overran its credit)");
	}
	rc = wait_room(c, h->len);
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	unsigned char *dst = ring_reserve(c->ring, h->len);
	if (!dst)
		return log_failed(c, h, -EIO);
	memcpy(dst, h, sizeof(*h));
	rc = conn_read(c, dst + MJW_HDR_SIZE, (size_t)(h->len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	/* A placed frame's bytes stay writable by the primary: they are
	 * checked in a copy of our own, read once (logcopy.h). */
	const unsigned char *chk = dst;
	if (placed) {
		if (log_copy_one(&c->placed_copy, dst, h->len))
			return conn_bad(c, "no memory to check a placed frame");
		chk = c->placed_copy.buf;
	}
	if (mjw_check_frame(chk, h->len, &why))
		return conn_bad(c, why);
	if ((rc = conn_check_extents(c, chk)))
		return rc;
	__atomic_fetch_add(&m->bytes_received, h->len, __ATOMIC_RELAXED);
	if (placed)
		__atomic_fetch_add(&m->bytes_placed, h->len, __ATOMIC_RELAXED);
	int last = h->flags & MJW_F_LAST;
	c->in_batch = !last;
	c->cur_seq = h->seq;
	c->next_frag = h->frag + 1;
	if (!c->skip) {
		if ((rc = ring_persist(c->ring, h)))
			return log_failed(c, h, rc);
		pthread_mutex_lock(&m->lock);
		/* A newer epoch or incarnation may have spoken while we read:
		 * then this batch is never published (conn_free rewinds it). */
		if ((rc = conn_check_current(c))) {
			pthread_mutex_unlock(&m->lock);
			return rc;
		}
		if (ring_publish(c->ring, h)) {
			mirror_batch_logged(m, h->seq);
			if (!m->state.d->has_data)
				rc = state_set(&m->state, &m->state.d->has_data, 1);
		}
		pthread_mutex_unlock(&m->lock);
		if (rc)
			return persist_failed(c, rc);
	} else if (placed && (rc = skip_placed(c, h))) {
		return rc;
	}
	if (!last)
		return END_OK;
	if (!c->skip && m->cfg.nbackups > 0) { /* no backups: nothing to wait for */
		pthread_mutex_lock(&m->lock);
		rc = wait_for_backups(c, h->seq);
		pthread_mutex_unlock(&m->lock);
		if (rc)
			return rc;
	}
	rc = conn_send(c, MJW_ACK, h->seq, NULL, 0);
	pthread_mutex_lock(&m->lock);
	if (m->since_ckpt >= m->cfg.ckpt_thresh && !ckpt_try_run(m))
		pthread_cond_signal(&m->ckpt_cond); /* busy: the thread will */
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int conn_ping(struct conn *c, const struct mjw_hdr *h,
                     unsigned char *buf)
{
	int rc = conn_read_ctrl(c, h, buf);
	if (rc)
		return rc;
	pthread_mutex_lock(&c->m->lock);
	rc = conn_check_current(c);
	pthread_mutex_unlock(&c->m->lock);
	return rc ? rc : conn_send(c, MJW_PONG, h->seq, NULL, 0);
}

/* Reads a control frame's body and dispatches it. */
static int conn_ctrl(struct conn *c, const struct mjw_hdr *h,
                     unsigned char *buf)
{
	int rc;
	switch (h->type) {
	case MJW_PING:
		return conn_ping(c, h, buf);
	case MJW_COPY_BEGIN:
		rc = conn_read_ctrl(c, h, buf);
		return rc ? rc : copy_recv_begin(c, h);
	case MJW_COPY_DONE:
		rc = conn_read_ctrl(c, h, buf);
		return rc ? rc : copy_recv_done(c, h);
	default:
		snprintf(c->whybuf, sizeof(c->whybuf),
		         "unexpected %s frame from the primary",
		         mjw_type_name(h->type));
		return conn_bad(c, c->whybuf);
	}
}

int ingest_loop(struct conn *c)
{
	unsigned char buf[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	const char *why;
	struct mjw_hdr h;
	for (;;) {
		conn_spin(c);
		int rc = conn_read(c, &h, sizeof(h));
		if (rc)
			return rc;
		if (mjw_check_hdr(&h, c->m->cfg.slot_size, &why))
			return conn_bad(c, why);
		__atomic_store_n(&c->m->last_primary_ns, now_ns(),
		                 __ATOMIC_RELAXED);
		if (h.type == MJW_BATCH && (h.flags & MJW_F_COPY))
			rc = copy_recv_frame(c, &h);
		else if (h.type == MJW_BATCH)
			rc = conn_batch(c, &h);
		else
			rc = conn_ctrl(c, &h, buf);
		if (rc)
			return rc;
	}
}
