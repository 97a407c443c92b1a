/*
 * rdma.c: the RDMA transport, on rdma-core (librdmacm for the connection,
 * libibverbs for the queue pair). The link above it is the one every
 * transport carries (mojim_link.h: HELLO, the key's proof, frames), so an
 * RDMA link is authenticated, fenced and failed exactly as a TCP one.
 *
 * Setup, as rdma-core's rping does it:
 *
 *     dialer                                acceptor (mirror)
 *     resolve address, then route           listening id: CONNECT_REQUEST
 *     queue pair, receives posted           (the listener's thread takes it)
 *     rdma_connect  ------------------->    own event channel (migrate),
 *                                           queue pair, receives posted,
 *                   <-------------------    rdma_accept
 *     ESTABLISHED                           ESTABLISHED
 *
 * Each connection has one reliable connected queue pair, one completion
 * queue for sends and receives, and one registered block of memory: RD_RECVS
 * receive buffers, every one posted except while it is being read, and
 * RD_SENDS send buffers, all RD_MSG bytes. The byte stream of the link goes
 * as SENDs of at most RD_MSG bytes each. A sender whose peer has no receive
 * posted is held by the hardware (RNR retry without limit), as a full TCP
 * window holds a socket, until its io timeout: a peer that stops reading
 * costs its sender a timeout, never memory.
 *
 * Waiting: completions are polled for spin_us first (the paper measured
 * polling faster than interrupts), then the thread sleeps on the completion
 * channel, the connection's event channel (the peer's disconnect) and an
 * eventfd that cuts from other threads write to.
 *
 * Errors: a failed completion, a disconnect or a cut ends the connection:
 * every later call returns the same negative errno, and error() says what
 * the device said. Data that arrived before the end is still read.
 */
#include "mojim_link.h"

#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <rdma/rdma_cma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define RD_MSG (64u << 10) /* bytes one SEND carries at most */
#define RD_RECVS 16        /* receives posted: the peer's window */
#define RD_SENDS 8         /* sends in flight */
#define RD_BACKLOG 64
#define RD_CUT_RD 1
#define RD_CUT_WR 2

/* A connection request, and what cuts it (before and after accept): the
 * peer's priv, then the connection's. */
struct rd_req {
	struct rdma_cm_id *id;
	int efd;   /* written by a cut: wakes the owner */
	int flags; /* RD_CUT_*, set atomically */
};

struct rd_conn {
	struct mjl_conn base;
	struct rd_req *req;
	struct rdma_event_channel *ech; /* this connection's own */
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	int qp_made;
	unsigned char *mem; /* RD_RECVS receive, then RD_SENDS send buffers */
	struct ibv_mr *mr;
	int connected;
	int io_timeout_ms;
	int failed; /* 0, or the negative errno that ended it */
	/* received buffers not yet read, in order */
	uint32_t ready[RD_RECVS], ready_len[RD_RECVS];
	unsigned r_first, r_count;
	uint32_t r_off; /* bytes of the first already read */
	unsigned s_next, s_out;
	char err[200];
};

static int rd_fail(struct rd_conn *c, int rc, const char *fmt, ...)
{
	if (c->failed)
		return c->failed;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->failed = rc;
	return rc;
}

static int cut_flags(const struct rd_req *q)
{
	return __atomic_load_n(&q->flags, __ATOMIC_ACQUIRE);
}

static void req_cut(struct rd_req *q, int how)
{
	int f = how == SHUT_RD ? RD_CUT_RD : RD_CUT_RD | RD_CUT_WR;
	uint64_t one = 1;
	__atomic_fetch_or(&q->flags, f, __ATOMIC_RELEASE);
	if (write(q->efd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the owner is woken already. */
	}
}

static struct rd_req *req_new(struct rdma_cm_id *id)
{
	struct rd_req *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		free(q);
		return NULL;
	}
	q->id = id;
	return q;
}

static void req_free(struct rd_req *q)
{
	close(q->efd);
	free(q);
}

static unsigned char *buf_of(struct rd_conn *c, unsigned i)
{
	return c->mem + (size_t)i * RD_MSG;
}

static int post_recv(struct rd_conn *c, unsigned i)
{
	struct ibv_sge sge = {.addr = (uintptr_t)buf_of(c, i),
	                      .length = RD_MSG,
	                      .lkey = c->mr->lkey};
	struct ibv_recv_wr wr = {.wr_id = i, .sg_list = &sge, .num_sge = 1};
	struct ibv_recv_wr *bad;
	int rc = ibv_post_recv(c->id->qp, &wr, &bad);
	return rc ? rd_fail(c, -rc, "cannot post a receive: %s", strerror(rc)) : 0;
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -errno : 0;
}

/*
 * The verbs resources of c->id, in one place (rd_free unwinds them
 * in reverse): protection domain, completion channel and queue, the queue
 * pair, the registered buffers, and every receive posted.
 */
static int setup(struct rd_conn *c, const char **why)
{
	struct ibv_context *ctx = c->id->verbs;
	int n = RD_RECVS + RD_SENDS;
	if (!(c->pd = ibv_alloc_pd(ctx)))
		return *why = "cannot allocate a protection domain", -errno;
	if (!(c->cc = ibv_create_comp_channel(ctx)) || nonblocking(c->cc->fd))
		return *why = "cannot create a completion channel", -EIO;
	if (!(c->cq = ibv_create_cq(ctx, n + 8, c, c->cc, 0)))
		return *why = "cannot create a completion queue", -errno;
	struct ibv_qp_init_attr qa = {
		.send_cq = c->cq,
		.recv_cq = c->cq,
		.cap = {.max_send_wr = RD_SENDS + 4, .max_recv_wr = RD_RECVS,
		        .max_send_sge = 1, .max_recv_sge = 1},
		.qp_type = IBV_QPT_RC,
	};
	if (rdma_create_qp(c->id, c->pd, &qa))
		return *why = "cannot create a queue pair", -errno;
	c->qp_made = 1;
	size_t len = (size_t)n * RD_MSG;
	if (posix_memalign((void **)&c->mem, 4096, len))
		return *why = "out of memory", -ENOMEM;
	/* Registration pins the pages: RLIMIT_MEMLOCK must allow it. */
	if (!(c->mr = ibv_reg_mr(c->pd, c->mem, len, IBV_ACCESS_LOCAL_WRITE)))
		return *why = "cannot register memory (is ulimit -l too low?)", -errno;
	for (unsigned i = 0; i < RD_RECVS; i++)
		if (post_recv(c, i))
			return *why = "cannot post a receive", c->failed;
	return 0;
}

static void rd_free(struct rd_conn *c)
{
	if (c->connected)
		rdma_disconnect(c->id);
	if (c->qp_made)
		rdma_destroy_qp(c->id);
	if (c->mr)
		ibv_dereg_mr(c->mr);
	free(c->mem);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->ech)
		rdma_destroy_event_channel(c->ech);
	if (c->req)
		req_free(c->req);
	free(c);
}

static struct rd_conn *conn_new(void)
{
	struct rd_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base.t = mjl_rdma;
	c->base.fd = -1;
	if (!(c->ech = rdma_create_event_channel()) || nonblocking(c->ech->fd)) {
		if (c->ech)
			rdma_destroy_event_channel(c->ech);
		free(c);
		return NULL;
	}
	return c;
}

/* A connection manager event that is not the one awaited, as an errno. */
static int cm_error(enum rdma_cm_event_type e)
{
	switch (e) {
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_CONNECT_ERROR:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		return -EHOSTUNREACH;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return -ENODEV;
	default:
		return -ECONNRESET;
	}
}

/* Reads the connection's events that are there; a disconnect ends it. */
static void cm_drain(struct rd_conn *c)
{
	struct rdma_cm_event *ev;
	while (rdma_get_cm_event(c->ech, &ev) == 0) {
		enum rdma_cm_event_type e = ev->event;
		rdma_ack_cm_event(ev);
		if (e == RDMA_CM_EVENT_DISCONNECTED ||
		    e == RDMA_CM_EVENT_DEVICE_REMOVAL ||
		    e == RDMA_CM_EVENT_TIMEWAIT_EXIT)
			rd_fail(c, -ECONNRESET, "the peer disconnected (%s)",
			        rdma_event_str(e));
	}
}

static int ms_until(uint64_t deadline_ns)
{
	uint64_t now = mjl_now_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000;
	return ms > 1000000 ? 1000000 : (int)ms;
}

/* Waits for the next connection manager event, which must be want. */
static int cm_wait(struct rd_conn *c, enum rdma_cm_event_type want,
                   uint64_t deadline_ns, const char **why)
{
	for (;;) {
		struct rdma_cm_event *ev;
		if (rdma_get_cm_event(c->ech, &ev) == 0) {
			enum rdma_cm_event_type e = ev->event;
			int status = ev->status;
			rdma_ack_cm_event(ev);
			if (e == want)
				return 0;
			rd_fail(c, cm_error(e), "%s (status %d) while waiting for %s",
			        rdma_event_str(e), status, rdma_event_str(want));
			*why = c->err;
			return c->failed;
		}
		if (errno != EAGAIN && errno != EINTR)
			return *why = "cannot read the connection's events", -errno;
		if (cut_flags(c->req))
			return *why = "connection cut", -ECONNRESET;
		int left = ms_until(deadline_ns);
		if (left == 0)
			return *why = "timed out setting up the RDMA connection",
			       -ETIMEDOUT;
		struct pollfd p[2] = {{.fd = c->ech->fd, .events = POLLIN},
		                      {.fd = c->req->efd, .events = POLLIN}};
		if (poll(p, 2, left) < 0 && errno != EINTR)
			return *why = "poll", -errno;
	}
}

/* Takes in the completions there are. */
static void cq_drain(struct rd_conn *c)
{
	struct ibv_wc wc[16];
	int n;
	while ((n = ibv_poll_cq(c->cq, 16, wc)) > 0) {
		for (int i = 0; i < n; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				rd_fail(c, -ECONNRESET, "completion error: %s",
				        ibv_wc_status_str(wc[i].status));
				continue;
			}
			if (wc[i].opcode == IBV_WC_RECV) {
				unsigned k = (c->r_first + c->r_count) % RD_RECVS;
				c->ready[k] = (uint32_t)wc[i].wr_id;
				c->ready_len[k] = wc[i].byte_len;
				c->r_count++;
			} else if (c->s_out > 0) {
				c->s_out--;
			}
		}
	}
	if (n < 0)
		rd_fail(c, -EIO, "cannot poll the completion queue");
}

/*
 * Sleeps until a completion, an event of the connection or a cut, or
 * until deadline_ns. The queue is armed, then polled once more, so a
 * completion that came between the caller's poll and the sleep is not
 * slept through.
 */
static void rd_sleep(struct rd_conn *c, uint64_t deadline_ns)
{
	if (ibv_req_notify_cq(c->cq, 0)) {
		rd_fail(c, -EIO, "cannot arm the completion queue");
		return;
	}
	unsigned before = c->r_count, sent = c->s_out;
	cq_drain(c);
	if (c->r_count != before || c->s_out != sent || c->failed)
		return;
	struct pollfd p[3] = {{.fd = c->cc->fd, .events = POLLIN},
	                      {.fd = c->ech->fd, .events = POLLIN},
	                      {.fd = c->req->efd, .events = POLLIN}};
	if (poll(p, 3, ms_until(deadline_ns)) <= 0)
		return;
	struct ibv_cq *cq;
	void *cq_ctx;
	if ((p[0].revents & POLLIN) &&
	    ibv_get_cq_event(c->cc, &cq, &cq_ctx) == 0)
		ibv_ack_cq_events(cq, 1);
	if (p[1].revents & POLLIN)
		cm_drain(c);
	cq_drain(c);
}

static int rd_recv(struct mjl_conn *base, void *buf, size_t len)
{
	struct rd_conn *c = (struct rd_conn *)base;
	unsigned char *dst = buf;
	uint64_t idle_until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
	while (len > 0) {
		if (cut_flags(c->req) & RD_CUT_RD)
			return -ECONNRESET;
		if (c->r_count == 0) {
			cq_drain(c);
			if (c->r_count > 0)
				continue;
			if (c->failed)
				return c->failed;
			uint64_t now = mjl_now_ns();
			if (c->base.deadline_ns && now >= c->base.deadline_ns)
				return -ETIMEDOUT;
			if (now >= idle_until)
				return -EAGAIN;
			uint64_t until = idle_until;
			if (c->base.deadline_ns && c->base.deadline_ns < until)
				until = c->base.deadline_ns;
			rd_sleep(c, until);
			continue;
		}
		unsigned i = c->ready[c->r_first];
		uint32_t have = c->ready_len[c->r_first] - c->r_off;
		size_t n = have < len ? have : len;
		memcpy(dst, buf_of(c, i) + c->r_off, n);
		dst += n;
		len -= n;
		c->r_off += (uint32_t)n;
		idle_until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
		if (c->r_off == c->ready_len[c->r_first]) {
			c->r_first = (c->r_first + 1) % RD_RECVS;
			c->r_count--;
			c->r_off = 0;
			if (!c->failed && post_recv(c, i))
				return c->failed;
		}
	}
	return 0;
}

/* Waits until fewer than max sends are in flight (io timeout: -EAGAIN). */
static int sends_below(struct rd_conn *c, unsigned max)
{
	uint64_t until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
	for (;;) {
		cq_drain(c);
		if (c->failed)
			return c->failed;
		if (cut_flags(c->req) & RD_CUT_WR)
			return -EPIPE;
		if (c->s_out < max)
			return 0;
		if (mjl_now_ns() >= until)
			return -EAGAIN;
		rd_sleep(c, until);
	}
}

/* Sends len bytes as SENDs and waits until the peer's device has them
 * all, so that an error is this call's. */
static int rd_send(struct mjl_conn *base, const void *buf, size_t len)
{
	struct rd_conn *c = (struct rd_conn *)base;
	const unsigned char *src = buf;
	while (len > 0) {
		int rc = sends_below(c, RD_SENDS);
		if (rc)
			return rc;
		uint32_t n = len < RD_MSG ? (uint32_t)len : RD_MSG;
		unsigned i = RD_RECVS + c->s_next;
		memcpy(buf_of(c, i), src, n);
		struct ibv_sge sge = {.addr = (uintptr_t)buf_of(c, i),
		                      .length = n,
		                      .lkey = c->mr->lkey};
		struct ibv_send_wr wr = {.wr_id = i, .sg_list = &sge, .num_sge = 1,
		                         .opcode = IBV_WR_SEND,
		                         .send_flags = IBV_SEND_SIGNALED};
		struct ibv_send_wr *bad;
		if ((rc = ibv_post_send(c->id->qp, &wr, &bad)))
			return rd_fail(c, -rc, "cannot post a send: %s", strerror(rc));
		c->s_next = (c->s_next + 1) % RD_SENDS;
		c->s_out++;
		src += n;
		len -= n;
	}
	return sends_below(c, 1);
}

static int rd_wait(struct mjl_conn *base, int spin_us, int timeout_ms)
{
	struct rd_conn *c = (struct rd_conn *)base;
	uint64_t now = mjl_now_ns();
	uint64_t spin_until = now + (uint64_t)spin_us * 1000;
	uint64_t until = now + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		cq_drain(c);
		/* Data, an end or a cut: the read that follows tells. */
		if (c->r_count > 0 || c->failed || (cut_flags(c->req) & RD_CUT_RD))
			return 0;
		now = mjl_now_ns();
		if (now >= until)
			return -ETIMEDOUT;
		if (now < spin_until)
			continue;
		rd_sleep(c, until);
	}
}

static void rd_close(struct mjl_conn *base)
{
	rd_free((struct rd_conn *)base);
}

static const char *rd_error(struct mjl_conn *base)
{
	struct rd_conn *c = (struct rd_conn *)base;
	return c->err[0] ? c->err : NULL;
}

static void rd_shutdown(struct mjl_conn *base, int how)
{
	req_cut(((struct rd_conn *)base)->req, how);
}

static int rd_gone(struct mjl_conn *base)
{
	struct rd_conn *c = (struct rd_conn *)base;
	cm_drain(c);
	cq_drain(c);
	return c->failed != 0 && c->r_count == 0;
}

/* *why may point into the connection (c->err), about to be freed: a
 * copy of this thread's own outlives it. */
static void keep_why(const char **why)
{
	static __thread char kept[200];
	if (*why != kept)
		snprintf(kept, sizeof(kept), "%s", *why);
	*why = kept;
}

static void conn_params(struct rdma_conn_param *p)
{
	memset(p, 0, sizeof(*p));
	p->responder_resources = 1;
	p->initiator_depth = 1;
	p->retry_count = 7;
	p->rnr_retry_count = 7; /* a peer without a receive posted: wait */
}

static int rd_dial(void *ctx, const char *addr, int timeout_ms,
                   int io_timeout_ms, struct mjl_conn **out, const char **why)
{
	(void)ctx;
	struct sockaddr_storage ss;
	unsigned sslen;
	int rc = mjl_parse_addr(addr, &ss, &sslen, why);
	if (rc)
		return rc;
	uint64_t deadline = mjl_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct rd_conn *c = conn_new();
	if (!c || !(c->req = req_new(NULL))) {
		if (c)
			rd_free(c);
		return *why = "out of memory", -ENOMEM;
	}
	c->io_timeout_ms = io_timeout_ms;
	if (rdma_create_id(c->ech, &c->id, c, RDMA_PS_TCP)) {
		rc = -errno;
		*why = "cannot create an RDMA connection id";
	} else if (rdma_resolve_addr(c->id, NULL, (struct sockaddr *)&ss,
	                             timeout_ms)) {
		rc = -errno;
		*why = "no RDMA device routes to that address";
	} else if (!(rc = cm_wait(c, RDMA_CM_EVENT_ADDR_RESOLVED, deadline, why))) {
		if (rdma_resolve_route(c->id, timeout_ms)) {
			rc = -errno;
			*why = "cannot resolve the route";
		} else if (!(rc = cm_wait(c, RDMA_CM_EVENT_ROUTE_RESOLVED,
		                          deadline, why)) &&
		           !(rc = setup(c, why))) {
			struct rdma_conn_param p;
			conn_params(&p);
			if (rdma_connect(c->id, &p)) {
				rc = -errno;
				*why = "rdma_connect failed";
			} else if (!(rc = cm_wait(c, RDMA_CM_EVENT_ESTABLISHED,
			                          deadline, why))) {
				c->connected = 1;
			}
		}
	}
	if (rc) {
		keep_why(why);
		rd_free(c);
		return rc;
	}
	*out = &c->base;
	return 0;
}

static int rd_accept(void *ctx, struct mjl_peer *p, int io_timeout_ms,
                     struct mjl_conn **out, const char **why)
{
	(void)ctx;
	struct rd_req *q = p->priv;
	uint64_t deadline = mjl_now_ns() + (uint64_t)io_timeout_ms * 1000000;
	struct rd_conn *c = conn_new();
	if (!c)
		return *why = "out of memory", -ENOMEM;
	c->io_timeout_ms = io_timeout_ms;
	c->req = q;
	int rc;
	if (rdma_migrate_id(q->id, c->ech)) {
		rc = -errno;
		*why = "cannot move the connection to its own event channel";
	} else {
		c->id = q->id;
		struct rdma_conn_param prm;
		conn_params(&prm);
		if (!(rc = setup(c, why))) {
			if (rdma_accept(c->id, &prm)) {
				rc = -errno;
				*why = "rdma_accept failed";
			} else if (!(rc = cm_wait(c, RDMA_CM_EVENT_ESTABLISHED,
			                          deadline, why))) {
				c->connected = 1;
			}
		}
	}
	if (rc) {
		keep_why(why);
		/* What is left of the peer stays the caller's, for its drop: the
		 * request's eventfd, and its id unless it moved to our channel
		 * (then it goes with the channel, refused). */
		c->req = NULL;
		if (c->id) {
			q->id = NULL;
			if (!c->connected)
				rdma_reject(c->id, NULL, 0);
		}
		rd_free(c);
		return rc;
	}
	*out = &c->base;
	return 0;
}

/* ---- the listener ---- */
struct rd_listener {
	struct rdma_event_channel *ech;
	struct rdma_cm_id *id;
};

static void rd_listener_close(struct mjl_listener *l)
{
	struct rd_listener *rl = l->priv;
	if (!rl)
		return;
	if (rl->id)
		rdma_destroy_id(rl->id);
	if (rl->ech)
		rdma_destroy_event_channel(rl->ech);
	free(rl);
	l->priv = NULL;
	l->fd = -1;
}

static int rd_listen(const char *addr, struct mjl_listener *l, const char **why)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	int rc = mjl_parse_addr(addr, &ss, &sslen, why);
	if (rc)
		return rc;
	struct rd_listener *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return *why = "out of memory", -ENOMEM;
	l->priv = rl;
	if (!(rl->ech = rdma_create_event_channel()) || nonblocking(rl->ech->fd)) {
		rc = -errno;
		*why = "cannot create an RDMA event channel (is rdma_ucm loaded?)";
	} else if (rdma_create_id(rl->ech, &rl->id, NULL, RDMA_PS_TCP)) {
		rc = -errno;
		*why = "cannot create an RDMA connection id";
	} else if (rdma_bind_addr(rl->id, (struct sockaddr *)&ss)) {
		rc = -errno;
		*why = "cannot bind that address to an RDMA device";
	} else if (rdma_listen(rl->id, RD_BACKLOG)) {
		rc = -errno;
		*why = "cannot listen on that address";
	}
	if (rc) {
		rd_listener_close(l);
		return rc ? rc : -EIO;
	}
	struct sockaddr *sa = rdma_get_local_addr(rl->id);
	char host[80];
	mjl_addr_name(sa, host, sizeof(host));
	snprintf(l->name, sizeof(l->name), "%s", host);
	l->fd = rl->ech->fd;
	return 0;
}

static int rd_take(struct mjl_listener *l, struct mjl_peer *p)
{
	struct rd_listener *rl = l->priv;
	struct rdma_cm_event *ev;
	if (rdma_get_cm_event(rl->ech, &ev))
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	struct rdma_cm_id *id = ev->id;
	int request = ev->event == RDMA_CM_EVENT_CONNECT_REQUEST;
	rdma_ack_cm_event(ev);
	if (!request)
		return -EAGAIN; /* of an id not moved yet: seen by its owner's wait */
	struct rd_req *q = req_new(id);
	if (!q) {
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return -ENOMEM;
	}
	mjl_addr_name(rdma_get_peer_addr(id), p->name, sizeof(p->name));
	p->priv = q;
	p->fd = q->efd;
	return 0;
}

static void rd_peer_cut(struct mjl_peer *p, int how)
{
	req_cut(p->priv, how);
}

static void rd_peer_drop(struct mjl_peer *p)
{
	struct rd_req *q = p->priv;
	if (q->id) {
		rdma_reject(q->id, NULL, 0);
		rdma_destroy_id(q->id);
	}
	req_free(q);
	p->priv = NULL;
	p->fd = -1;
}

static const struct mjl_transport rdma_transport = {
	.name = "rdma",
	.dial = rd_dial,
	.accept = rd_accept,
	.send = rd_send,
	.recv = rd_recv,
	.wait = rd_wait,
	.close = rd_close,
	.error = rd_error,
	.shutdown = rd_shutdown,
	.gone = rd_gone,
	.listen = rd_listen,
	.take = rd_take,
	.listener_close = rd_listener_close,
	.peer_cut = rd_peer_cut,
	.peer_drop = rd_peer_drop,
};
const struct mjl_transport *const mjl_rdma = &rdma_transport;
