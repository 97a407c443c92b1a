/*
 * server.c: the TCP listener and one receiver thread per connection.
 *
 * A receiver reads each frame's 64-byte header into a local struct, checks
 * it, reserves the frame's room in its ring and reads the rest of the
 * frame straight into the ring's pmem: the bytes are checked there and
 * later applied from there, never copied. Only after the frame and then
 * its commit mark are persisted is a LAST fragment acked.
 *
 * Errors travel back up as an END_* code with c->why set; the connection
 * loop logs the reason once, sends a REFUSE when there is one to send,
 * and closes. A frame that was not fully read and checked is never
 * committed, and a batch cut short is rewound out of the ring.
 */
#include "mirror.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum end {
	END_OK = 0,
	END_CLOSED,  /* peer closed, I/O error or shutdown */
	END_TIMEOUT, /* silent longer than the heartbeat timeout */
	END_BAD,     /* invalid frame: REFUSE(BAD_FRAME) */
	END_REFUSE,  /* refused (fenced, busy, version): REFUSE(c->code) */
	END_FAILED,  /* the mirror could not make something durable: closed,
	                never acked, logged as an error */
};

struct conn {
	struct mirror *m;
	int fd;          /* the socket: the listener cuts it (shutdown) */
	struct mjl_conn *lc; /* the transport's connection over fd */
	int slot;
	int index;       /* connection index from HELLO, -1 before */
	struct ring *ring;
	char peer[80];
	uint64_t epoch;
	uint64_t incarnation; /* from HELLO; 0 until admitted */
	int in_batch;    /* fragments of cur_seq received, LAST not yet */
	uint64_t cur_seq;
	uint32_t next_frag;
	int skip;        /* the batch is a resend of a durable one */
	uint64_t batch_bytes; /* frame bytes of cur_seq so far */
	const char *why;
	char whybuf[512];
	uint64_t code;   /* MJW_REFUSE_* for END_REFUSE */
	unsigned char *copybuf; /* a COPY frame, slot_size bytes (copy.c) */
	int admitted;    /* (L) its HELLO was answered with HELLO_ACK */
	struct mjl_session sess; /* the handshake's nonces, for MACs */
	int authenticated; /* the peer proved the key (or none is used) */
	uint64_t accepted_ns; /* when it was accepted */
	const char *evicted; /* (L) why the listener cut it before its HELLO */
};

static int bad(struct conn *c, const char *why)
{
	c->why = why;
	c->code = MJW_REFUSE_BAD_FRAME;
	return END_BAD;
}

static int refuse(struct conn *c, uint64_t code, const char *why)
{
	c->why = why;
	c->code = code;
	return END_REFUSE;
}

/* A failed read or write as the end of the connection. */
static int conn_read_err(struct conn *c, int rc)
{
	if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
		c->why = "heartbeat timeout";
		return END_TIMEOUT;
	}
	if (rc == -ECONNRESET)
		c->why = "peer closed the connection";
	else
		c->why = strerror_r(-rc, c->whybuf, sizeof(c->whybuf));
	return END_CLOSED;
}

static int conn_read(struct conn *c, void *buf, size_t len)
{
	int rc = mjl_conn_recv(c->lc, buf, len);
	return rc ? conn_read_err(c, rc) : END_OK;
}

static int conn_send(struct conn *c, enum mjw_type type, uint64_t seq,
                     const void *body, uint32_t len)
{
	int rc = mjl_conn_send_ctrl(c->lc, type, c->epoch, seq, NULL, body, len);
	if (rc == 0)
		return END_OK;
	c->why = strerror_r(-rc, c->whybuf, sizeof(c->whybuf));
	return END_CLOSED;
}

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

/* Reads the body of a control frame whose header is *h into buf. */
static int read_ctrl(struct conn *c, const struct mjw_hdr *h,
                     unsigned char *buf)
{
	const char *why;
	memcpy(buf, h, sizeof(*h));
	int rc = conn_read(c, buf + MJW_HDR_SIZE, (size_t)(h->len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	if (mjw_check_frame(buf, h->len, &why))
		return bad(c, why);
	return END_OK;
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

/* (L) Admitted connections of another incarnation than inc. */
static int others_alive(struct mirror *m, uint64_t inc, int cut)
{
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *o = m->conns[i];
		if (o && o->incarnation && o->incarnation != inc) {
			if (cut)
				shutdown(o->fd, SHUT_RDWR);
			n++;
		}
	}
	return n;
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
	others_alive(m, c->incarnation, 1);
	uint64_t deadline = now_ns() + SWITCH_WAIT_NS;
	int rc = END_OK;
	while (others_alive(m, c->incarnation, 0))
		if (wait_conns(m, deadline)) {
			rc = refuse(c, MJW_REFUSE_BUSY, "connections of an older "
			            "incarnation of this primary are still closing");
			break;
		}
	/* The lock was let go while waiting: a promotion or a newer epoch
	 * may have come meanwhile. */
	if (!rc && m->promoted)
		rc = refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted");
	else if (!rc && m->epoch != c->epoch)
		rc = refuse(c, MJW_REFUSE_FENCED, "a newer epoch has been seen");
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
		return refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted: "
		              "its directory belongs to a primary now");
	if (health_refusal(m, c->whybuf, sizeof(c->whybuf)))
		return refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	if (hello->cluster_id == 0)
		return bad(c, "HELLO without a cluster id");
	if (hello->incarnation == 0)
		return bad(c, "HELLO without an incarnation");
	if (m->cluster_id && hello->cluster_id != m->cluster_id)
		return refuse(c, MJW_REFUSE_CLUSTER, "this mirror serves another "
		              "cluster");
	if (epoch < m->epoch)
		return refuse(c, MJW_REFUSE_FENCED, "epoch older than the mirror's");
	int rc = 0;
	int newer_epoch = epoch > m->epoch;
	if (!newer_epoch && hello->incarnation < m->incarnation)
		return refuse(c, MJW_REFUSE_REPLACED, "an older incarnation of "
		              "this primary: a newer one has spoken since");
	if (m->inc_switching) { /* another HELLO is taking over: its outcome */
		if (wait_conns(m, deadline))
			return refuse(c, MJW_REFUSE_BUSY, "another connection of "
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
		server_cut(m, epoch);
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
		return refuse(c, MJW_REFUSE_AUTH, why);
	if (rc == -MJL_EPROTO)
		return bad(c, why);
	if (rc == -EIO && why)
		return c->why = why, END_FAILED;
	if (rc)
		return conn_read_err(c, rc);
	c->authenticated = 1;
	return END_OK;
}

/* The HELLO exchange: fencing, ring ownership, HELLO_ACK. */
static int conn_hello(struct conn *c)
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
		return refuse(c, MJW_REFUSE_VERSION, "unsupported protocol version");
	if (mjw_check_hdr(&h, sizeof(buf), &why))
		return bad(c, why);
	if (h.type != MJW_HELLO)
		return bad(c, "first frame is not HELLO");
	if ((rc = read_ctrl(c, &h, buf)))
		return rc;
	if (h.len - MJW_OVERHEAD < sizeof(hello))
		return bad(c, "HELLO body too short");
	memcpy(&hello, buf + MJW_HDR_SIZE, sizeof(hello));
	if (hello.nconns < 1 || hello.nconns > RING_MAX ||
	    hello.conn_index >= hello.nconns)
		return bad(c, "HELLO connection index out of range");
	if ((rc = conn_auth(c, &h, &hello)))
		return rc;
	/* Admitted before anything is made for it: a refused peer creates no
	 * ring file. The decision is taken again with the ring in hand. The
	 * connection is in the list others read under the lock (server_cut). */
	pthread_mutex_lock(&m->lock);
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
		return refuse(c, MJW_REFUSE_BUSY, "connection index in use");
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
	pthread_mutex_unlock(&m->lock);
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
			return refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
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

/* (L) Still the newest primary, in epoch and incarnation? Everything a
 * connection sends is refused once a newer one has spoken, a PING too, so
 * an idle old primary learns it at its next heartbeat. */
static int check_current(struct conn *c)
{
	if (c->m->epoch != c->epoch)
		return refuse(c, MJW_REFUSE_FENCED, "a newer epoch has been seen");
	if (c->m->promoted)
		return refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted");
	if (c->m->incarnation != c->incarnation || c->m->inc_switching)
		return refuse(c, MJW_REFUSE_REPLACED, "a newer incarnation of this "
		              "primary has spoken");
	return END_OK;
}

/* Checks that h follows on the fragments received so far. */
static int check_order(struct conn *c, const struct mjw_hdr *h)
{
	if (h->epoch != c->epoch)
		return bad(c, "batch epoch differs from the connection's");
	if (h->seq == 0)
		return bad(c, "batch seq 0");
	if (c->in_batch) {
		if (h->seq != c->cur_seq)
			return bad(c, "new batch before the LAST fragment of the previous one");
		if (h->frag != c->next_frag)
			return bad(c, "fragment out of order");
	} else if (h->frag != 0) {
		return bad(c, "batch does not start with fragment 0");
	}
	return END_OK;
}

/*
 * Every SETSIZE and WRITE extent of a checked frame within the operator's
 * bound (--max-file-size): a batch asking for more is refused as a bad
 * frame before it is logged or acked, never left to fail at apply time.
 */
static int check_extents(struct conn *c, const void *frame)
{
	uint64_t max = c->m->max_file_size, pos = 0;
	struct mjw_rec_view v;
	while (mjw_rec_next(frame, &pos, &v)) {
		uint64_t end = v.type == MJW_REC_SETSIZE ? v.len :
		               v.type == MJW_REC_WRITE ? v.off + v.len : 0;
		if (end > max) {
			snprintf(c->whybuf, sizeof(c->whybuf), "%s %.*s to %llu bytes: "
			         "over --max-file-size %llu", mjw_rec_type_name(v.type),
			         (int)(v.name_len > 64 ? 64 : v.name_len), v.name,
			         (unsigned long long)end, (unsigned long long)max);
			return bad(c, c->whybuf);
		}
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

/* One BATCH frame: into the ring, checked, persisted, committed, acked. */
static int conn_batch(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why;
	int rc = check_order(c, h);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->lock);
	if ((rc = check_current(c))) {
		pthread_mutex_unlock(&m->lock);
		return rc;
	}
	if (copy_state(m) != COPY_NONE) {
		pthread_mutex_unlock(&m->lock);
		return bad(c, "batch while the replica waits for a full copy");
	}
	if (h->cluster != m->cluster_id) {
		pthread_mutex_unlock(&m->lock);
		return bad(c, "batch of another cluster");
	}
	if (h->frag == 0 && health_refusal(m, c->whybuf, sizeof(c->whybuf))) {
		pthread_mutex_unlock(&m->lock);
		return refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	}
	if (h->frag == 0) {
		c->skip = h->seq <= m->durable_seq;
		c->batch_bytes = 0;
		if (h->seq > m->durable_seq + SEQ_WINDOW) {
			pthread_mutex_unlock(&m->lock);
			return bad(c, "batch sequence number too far ahead");
		}
	}
	c->batch_bytes += h->len;
	if (c->batch_bytes > max_batch(c->ring) ||
	    h->total > max_batch(c->ring)) {
		pthread_mutex_unlock(&m->lock);
		return bad(c, "batch larger than the log can hold");
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
	if (mjw_check_frame(dst, h->len, &why))
		return bad(c, why);
	if ((rc = check_extents(c, dst)))
		return rc;
	__atomic_fetch_add(&m->bytes_received, h->len, __ATOMIC_RELAXED);
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
		if ((rc = check_current(c))) {
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
	}
	if (!last)
		return END_OK;
	rc = conn_send(c, MJW_ACK, h->seq, NULL, 0);
	pthread_mutex_lock(&m->lock);
	if (m->since_ckpt >= m->cfg.ckpt_thresh && !ckpt_try_run(m))
		pthread_cond_signal(&m->ckpt_cond); /* busy: the thread will */
	pthread_mutex_unlock(&m->lock);
	return rc;
}


/* COPY_BEGIN: this connection sends a full copy into the staging dir. */
static int conn_copy_begin(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why = NULL;
	pthread_mutex_lock(&m->lock);
	int rc = check_current(c);
	if (!rc && m->copy_conn && m->copy_conn != c)
		rc = refuse(c, MJW_REFUSE_BUSY, "another full copy is running");
	if (!rc)
		m->copy_conn = c;
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	if (!c->copybuf && !(c->copybuf = malloc(m->cfg.slot_size))) {
		c->why = "out of memory";
		return END_CLOSED;
	}
	if (copy_begin(m, h->seq, &why)) {
		c->why = why;
		return END_CLOSED;
	}
	return conn_send(c, MJW_ACK, 0, NULL, 0);
}

/* A BATCH frame flagged COPY: checked, applied to the staging dir. */
static int conn_copy_frame(struct conn *c, const struct mjw_hdr *h)
{
	const char *why;
	char err[120];
	if (c->m->copy_conn != c || !c->copybuf)
		return bad(c, "COPY frame without COPY_BEGIN");
	if (h->epoch != c->epoch || h->cluster != c->m->cluster_id)
		return bad(c, "COPY frame of another epoch or cluster");
	pthread_mutex_lock(&c->m->lock);
	int rc = check_current(c);
	pthread_mutex_unlock(&c->m->lock);
	if (rc)
		return rc;
	memcpy(c->copybuf, h, sizeof(*h));
	rc = conn_read(c, c->copybuf + MJW_HDR_SIZE,
	                   (size_t)(h->len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	if (mjw_check_frame(c->copybuf, h->len, &why))
		return bad(c, why);
	if ((rc = check_extents(c, c->copybuf)))
		return rc;
	if (copy_apply(c->m, c->copybuf, err, sizeof(err))) {
		snprintf(c->whybuf, sizeof(c->whybuf), "copy: %s", err);
		c->why = c->whybuf;
		return END_CLOSED;
	}
	return END_OK;
}

/* COPY_DONE: the staged copy becomes the replica, at seq. */
static int conn_copy_done(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why = NULL;
	if (m->copy_conn != c)
		return bad(c, "COPY_DONE without COPY_BEGIN");
	pthread_mutex_lock(&m->lock);
	int rc = check_current(c);
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	if (h->seq == 0 || copy_done(m, h->seq, &why)) {
		c->why = why ? why : "COPY_DONE without a seq";
		return END_CLOSED;
	}
	pthread_mutex_lock(&m->lock);
	m->copy_conn = NULL;
	pthread_mutex_unlock(&m->lock);
	return conn_send(c, MJW_ACK, h->seq, NULL, 0);
}

static int conn_ping(struct conn *c, const struct mjw_hdr *h,
                     unsigned char *buf)
{
	int rc = read_ctrl(c, h, buf);
	if (rc)
		return rc;
	pthread_mutex_lock(&c->m->lock);
	rc = check_current(c);
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
		rc = read_ctrl(c, h, buf);
		return rc ? rc : conn_copy_begin(c, h);
	case MJW_COPY_DONE:
		rc = read_ctrl(c, h, buf);
		return rc ? rc : conn_copy_done(c, h);
	default:
		snprintf(c->whybuf, sizeof(c->whybuf),
		         "unexpected %s frame from the primary",
		         mjw_type_name(h->type));
		return bad(c, c->whybuf);
	}
}

static int conn_loop(struct conn *c)
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
			return bad(c, why);
		__atomic_store_n(&c->m->last_primary_ns, now_ns(),
		                 __ATOMIC_RELAXED);
		if (h.type == MJW_BATCH && (h.flags & MJW_F_COPY))
			rc = conn_copy_frame(c, &h);
		else if (h.type == MJW_BATCH)
			rc = conn_batch(c, &h);
		else
			rc = conn_ctrl(c, &h, buf);
		if (rc)
			return rc;
	}
}

/* Logs why the connection ends, refuses if there is a reason to. */
static void conn_report(struct conn *c, int end)
{
	char idx[16];
	if (c->index >= 0)
		snprintf(idx, sizeof(idx), "%d", c->index);
	else
		snprintf(idx, sizeof(idx), "-");
	if (end == END_BAD) {
		__atomic_fetch_add(&c->m->frames_rejected, 1, __ATOMIC_RELAXED);
		mlog("conn %s from %s: rejected frame: %s", idx, c->peer, c->why);
	} else if (end == END_REFUSE) {
		mlog("conn %s from %s: refused: %s", idx, c->peer, c->why);
	} else if (end == END_TIMEOUT || end == END_FAILED) {
		mlog("conn %s from %s: closed: %s", idx, c->peer, c->why);
	} else {
		minfo("conn %s from %s: closed: %s", idx, c->peer,
		      c->why ? c->why : "done");
	}
	if (c->lc && (end == END_BAD || end == END_REFUSE))
		mjl_send_refuse(c->lc, &c->sess, c->authenticated, c->code, c->why);
}

static void conn_free(struct conn *c)
{
	struct mirror *m = c->m;
	pthread_mutex_lock(&m->lock);
	if (m->copy_conn == c) {
		copy_abort(m);
		m->copy_conn = NULL;
	}
	if (c->ring) {
		ring_rewind(c->ring); /* a batch without its LAST fragment */
		c->ring->owned = 0;
	}
	m->conns[c->slot] = NULL;
	m->nconns--;
	pthread_cond_broadcast(&m->conns_cond);
	pthread_mutex_unlock(&m->lock);
	if (c->lc)
		mjl_conn_close(c->lc);
	else
		close(c->fd);
	free(c->copybuf);
	free(c);
}

/*
 * (L) A connection that ends because the mirror cut it says why: the
 * listener evicted it before its HELLO, or the replica became unhealthy
 * (then the primary gets a REFUSE naming the batch and the error).
 */
static int conn_cut_reason(struct conn *c, int end)
{
	if (end != END_CLOSED && end != END_TIMEOUT)
		return end;
	if (c->evicted) {
		c->why = c->evicted;
		return END_CLOSED;
	}
	if (c->admitted && health_refusal(c->m, c->whybuf, sizeof(c->whybuf)))
		return refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	return end;
}

/*
 * The transport takes the socket: its options, and with TLS the whole TLS
 * handshake (so a plaintext peer of a TLS mirror ends here, refused and
 * counted, before a byte of it is read as a frame).
 */
static int conn_open(struct conn *c)
{
	struct mirror *m = c->m;
	const char *why = "the transport refused the connection";
	int rc = m->transport->accept(m->transport_ctx, c->fd,
	                              (int)m->cfg.hb_timeout_ms, &c->lc, &why);
	if (!rc)
		return END_OK;
	if (rc == -MJL_EAUTH || rc == -MJL_EPROTO)
		__atomic_fetch_add(&m->tls_refused, 1, __ATOMIC_RELAXED);
	snprintf(c->whybuf, sizeof(c->whybuf), "%s", why);
	c->why = c->whybuf;
	return rc == -MJL_EAUTH || rc == -MJL_EPROTO ? END_REFUSE : END_CLOSED;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	int end = conn_open(c);
	if (end == END_OK)
		end = conn_hello(c);
	if (end == END_OK)
		end = conn_loop(c);
	pthread_mutex_lock(&c->m->lock);
	end = conn_cut_reason(c, end);
	pthread_mutex_unlock(&c->m->lock);
	conn_report(c, end);
	conn_free(c);
	return NULL;
}

static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

int server_listen(struct mirror *m, const char **why)
{
	struct sockaddr_storage ss;
	unsigned len;
	int one = 1;
	if (mjl_parse_addr(m->cfg.listen, &ss, &len, why))
		return -EINVAL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return *why = "socket", -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		int e = errno;
		close(fd);
		return *why = "cannot listen on that address", -e;
	}
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	peer_name(&ss, m->listen_addr, sizeof(m->listen_addr));
	m->listen_fd = fd;
	return 0;
}

/* (L) Cuts c, which has not said HELLO, for the reason why. */
static void evict(struct conn *c, const char *why)
{
	c->evicted = why;
	shutdown(c->fd, SHUT_RDWR);
}

/*
 * (L) Bounds the peers that have not said HELLO: each gets
 * HELLO_DEADLINE_MS in all (not per read, so trickling a byte at a time
 * does not keep a slot), and at most MIRROR_MAX_UNADMITTED are kept; with
 * room_for_one, the oldest goes to make room for a newcomer, so idle
 * connections can never lock a primary out.
 */
static void bound_unadmitted(struct mirror *m, int room_for_one)
{
	uint64_t now = now_ns(), limit = HELLO_DEADLINE_MS * 1000000ull;
	struct conn *oldest = NULL;
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *c = m->conns[i];
		if (!c || c->admitted || c->evicted)
			continue;
		if (now - c->accepted_ns > limit) {
			evict(c, "no HELLO within the deadline");
			continue;
		}
		n++;
		if (!oldest || c->accepted_ns < oldest->accepted_ns)
			oldest = c;
	}
	if (room_for_one && n >= MIRROR_MAX_UNADMITTED)
		evict(oldest, "evicted: too many connections without a HELLO");
}

/* Takes a new connection: a slot, a thread, or a refusal. */
static void server_accept(struct mirror *m)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(m->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->m = m;
	c->fd = fd;
	c->index = -1;
	c->accepted_ns = now_ns();
	peer_name(&ss, c->peer, sizeof(c->peer));
	pthread_mutex_lock(&m->lock);
	bound_unadmitted(m, 1);
	int slot = -1;
	for (int i = 0; i < MIRROR_MAX_CONNS && slot < 0; i++)
		if (!m->conns[i])
			slot = i;
	if (slot < 0 || m->stopping) {
		pthread_mutex_unlock(&m->lock);
		mlog("conn - from %s: refused: too many connections", c->peer);
		close(fd);
		free(c);
		return;
	}
	c->slot = slot;
	m->conns[slot] = c;
	m->nconns++;
	pthread_mutex_unlock(&m->lock);

	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c)) {
		mlog("conn - from %s: cannot start a thread", c->peer);
		conn_free(c);
	}
	pthread_attr_destroy(&attr);
}

void server_cut(struct mirror *m, uint64_t epoch)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->epoch < epoch)
			shutdown(m->conns[i]->fd, SHUT_RDWR);
}

void server_refuse_all(struct mirror *m)
{
	/* Reads end; the write side stays for the thread's REFUSE. */
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->admitted)
			shutdown(m->conns[i]->fd, SHUT_RD);
}


/* Closes every connection and waits for their threads to finish. */
static void server_drain(struct mirror *m)
{
	pthread_mutex_lock(&m->lock);
	m->stopping = 1;
	pthread_cond_broadcast(&m->space_cond);
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i])
			shutdown(m->conns[i]->fd, SHUT_RDWR);
	while (m->nconns > 0)
		pthread_cond_wait(&m->conns_cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
}

void server_run(struct mirror *m, volatile int *stop)
{
	struct pollfd p = {.fd = m->listen_fd, .events = POLLIN};
	while (!*stop) {
		int n = poll(&p, 1, 100);
		if (n > 0)
			server_accept(m);
		pthread_mutex_lock(&m->lock);
		bound_unadmitted(m, 0);
		pthread_mutex_unlock(&m->lock);
	}
	close(m->listen_fd);
	m->listen_fd = -1;
	server_drain(m);
}
