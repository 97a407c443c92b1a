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
 * Placed frames (one-sided writes into the mirror's log). Once admitted,
 * the acceptor offers the log of the connection (mjl_conn_expose) if the
 * dialer said it can place (MJW_HELLO_F_PLACE): the log's data area is
 * registered for remote writes and the page of its published head for
 * remote reads, each in one piece, on the connection's own protection
 * domain (only its queue pair can use the keys), and it sends a grant
 * (a SEND with immediate RD_IMM_GRANT: addresses, keys, size, the
 * writer's position and head) before its HELLO_ACK. From then on the dialer
 * places each BATCH frame where the log's own rule puts it
 * (mjw_log_place) with RDMA WRITEs, the last one WITH IMM (the entry's
 * offset / MJW_LOG_ALIGN); everything else still goes as SENDs, in one
 * order on the queue pair. It never writes past the head it last read
 * (credits: an RDMA READ of the head when it has no room). The acceptor
 * learns of a placed frame from its completion queue, in stream order: the
 * frame's header reads from the stream like any frame's, and the reader
 * then asks for the rest exactly where it was placed, or the connection
 * ends. The frame is checked (CRC, end mark) and committed by the mirror
 * as a received one: a write torn by a broken connection never completes,
 * so it is never taken, and its bytes are overwritten or scanned past.
 * Revoking the area (at the connection's end) deregisters it before the
 * ring can go to another connection: the keys are void, no late write of
 * this connection lands. A registration that fails (memlock) is no
 * offer: the frames go as SENDs.
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

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <rdma/rdma_cma.h>
#include <pthread.h>
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
#define RD_IMM_GRANT 0xffffffffu /* a SEND that carries struct rd_grant */
#define RD_WR_READ 0xffffu       /* wr_id of the head's RDMA READ */
#define RD_GRANT_MAGIC 0x544e4152474a4d4dull /* "MMJGRANT" */
#define RD_PAGE 4096u

/* The acceptor's offer of its log, as sent (little-endian, as the wire). */
struct rd_grant {
	uint64_t magic;
	uint64_t addr;      /* the data area, in the acceptor's space */
	uint64_t dsize;
	uint64_t wpos;      /* where the next entry goes */
	uint64_t head;      /* the oldest entry still needed */
	uint64_t head_addr; /* where the published head is read */
	uint32_t rkey, head_rkey;
};

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
	int acceptor;
	/* received items not yet read, in order: a buffer of stream bytes, or
	 * a frame placed in the area (its entry at ready_off) */
	uint32_t ready[RD_RECVS], ready_len[RD_RECVS];
	uint8_t ready_placed[RD_RECVS];
	uint64_t ready_off[RD_RECVS];
	int last_placed; /* the header read last was a placed frame's */
	/* the acceptor's offered area */
	struct mjl_log_area area;
	struct ibv_mr *area_mr, *head_mr;
	/* the dialer's view of the peer's area, once granted */
	struct rd_grant g;
	uint64_t prev_frame; /* where the frame placed last lies (fault hook) */
	int granted;
	int read_done;
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

/* Where the head's RDMA READ lands: after the send buffers. */
static volatile uint64_t *head_buf(struct rd_conn *c)
{
	return (volatile uint64_t *)buf_of(c, RD_RECVS + RD_SENDS);
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
	size_t len = (size_t)n * RD_MSG + RD_PAGE; /* + the head's landing */
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

/* Ends the offer of the log: once the registrations are gone, their keys
 * are void and no write of this peer lands. */
static void unexpose(struct rd_conn *c)
{
	if (c->area_mr)
		ibv_dereg_mr(c->area_mr);
	if (c->head_mr)
		ibv_dereg_mr(c->head_mr);
	if (c->area_mr)
		rd_fail(c, -ECONNRESET, "the log's offer was revoked");
	c->area_mr = c->head_mr = NULL;
	memset(&c->area, 0, sizeof(c->area));
}

static void rd_free(struct rd_conn *c)
{
	if (c->connected)
		rdma_disconnect(c->id);
	if (c->qp_made)
		rdma_destroy_qp(c->id);
	unexpose(c);
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

/* The dialer takes the acceptor's grant (struct rd_grant) from buffer i. */
static void take_grant(struct rd_conn *c, unsigned i, uint32_t len)
{
	struct rd_grant g;
	if (c->acceptor || c->granted || len != sizeof(g)) {
		rd_fail(c, -MJL_EPROTO, "the peer sent a log grant it may not send");
		return;
	}
	memcpy(&g, buf_of(c, i), sizeof(g));
	if (g.magic != RD_GRANT_MAGIC || g.dsize % MJW_LOG_ALIGN ||
	    g.dsize < 4 * MJW_LOG_ALIGN || g.dsize / MJW_LOG_ALIGN >= RD_IMM_GRANT ||
	    g.wpos % MJW_LOG_ALIGN || g.head % MJW_LOG_ALIGN || g.head > g.wpos ||
	    g.wpos - g.head > g.dsize) {
		rd_fail(c, -MJL_EPROTO, "the peer's log grant is invalid");
		return;
	}
	c->g = g;
	c->granted = 1;
	post_recv(c, i);
}

/* The acceptor learns of a frame placed in its area with buffer i: the
 * entry's offset is imm * MJW_LOG_ALIGN, the frame's length its header's. */
static void take_placed(struct rd_conn *c, unsigned i, uint32_t imm)
{
	uint64_t off = (uint64_t)imm * MJW_LOG_ALIGN;
	if (!c->area_mr) {
		rd_fail(c, -MJL_EPROTO, "the peer placed a frame in no offered log");
		return;
	}
	struct mjw_hdr h;
	if (off + MJW_LOG_EHDR + sizeof(h) > c->area.dsize) {
		rd_fail(c, -MJL_EPROTO, "the peer placed a frame outside the log");
		return;
	}
	memcpy(&h, (unsigned char *)c->area.data + off + MJW_LOG_EHDR, sizeof(h));
	if (h.len < MJW_OVERHEAD || h.len > UINT32_MAX ||
	    h.len > c->area.dsize - off - MJW_LOG_EHDR) {
		rd_fail(c, -MJL_EPROTO, "a placed frame's length does not fit where "
		        "it was placed");
		return;
	}
	unsigned k = (c->r_first + c->r_count) % RD_RECVS;
	c->ready[k] = i;
	c->ready_len[k] = (uint32_t)h.len;
	c->ready_placed[k] = 1;
	c->ready_off[k] = off;
	c->r_count++;
}

static void take_recv(struct rd_conn *c, const struct ibv_wc *wc)
{
	unsigned i = (unsigned)wc->wr_id;
	uint32_t imm = ntohl(wc->imm_data);
	if (wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM) {
		take_placed(c, i, imm);
		return;
	}
	if ((wc->wc_flags & IBV_WC_WITH_IMM) && imm == RD_IMM_GRANT) {
		take_grant(c, i, wc->byte_len);
		return;
	}
	unsigned k = (c->r_first + c->r_count) % RD_RECVS;
	c->ready[k] = i;
	c->ready_len[k] = wc->byte_len;
	c->ready_placed[k] = 0;
	c->r_count++;
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
			if (wc[i].opcode & IBV_WC_RECV) {
				take_recv(c, &wc[i]);
				continue;
			}
			if (wc[i].opcode == IBV_WC_RDMA_READ)
				c->read_done = 1;
			if (c->s_out > 0)
				c->s_out--;
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

/* The first ready item is read: its buffer goes back to the receives. */
static int ready_done(struct rd_conn *c)
{
	unsigned i = c->ready[c->r_first];
	c->r_first = (c->r_first + 1) % RD_RECVS;
	c->r_count--;
	c->r_off = 0;
	return !c->failed && post_recv(c, i);
}

/*
 * Reads from a placed frame (the first ready item): its header is copied
 * like stream bytes; the rest must be asked for whole, where it lies, and
 * is then read without a copy.
 */
static int read_placed(struct rd_conn *c, unsigned char **dst, size_t *len)
{
	unsigned k = c->r_first;
	unsigned char *frame = (unsigned char *)c->area.data + c->ready_off[k] +
	                       MJW_LOG_EHDR;
	c->last_placed = 1;
	if (c->r_off < MJW_HDR_SIZE) {
		size_t n = MJW_HDR_SIZE - c->r_off < *len ? MJW_HDR_SIZE - c->r_off
		                                          : *len;
		memcpy(*dst, frame + c->r_off, n);
		*dst += n;
		*len -= n;
		c->r_off += (uint32_t)n;
		return 0;
	}
	if (*dst != frame + MJW_HDR_SIZE ||
	    *len != c->ready_len[k] - MJW_HDR_SIZE)
		return rd_fail(c, -MJL_EPROTO, "a placed frame was not read where "
		               "it was placed (the two sides disagree on the log)");
	*dst += *len;
	*len = 0;
	return ready_done(c) ? c->failed : 0;
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
		if (c->ready_placed[c->r_first]) {
			int rc = read_placed(c, &dst, &len);
			if (rc)
				return rc;
			idle_until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
			continue;
		}
		c->last_placed = 0;
		unsigned i = c->ready[c->r_first];
		uint32_t have = c->ready_len[c->r_first] - c->r_off;
		size_t n = have < len ? have : len;
		memcpy(dst, buf_of(c, i) + c->r_off, n);
		dst += n;
		len -= n;
		c->r_off += (uint32_t)n;
		idle_until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
		if (c->r_off == c->ready_len[c->r_first] && ready_done(c))
			return c->failed;
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

/* Posts one work request from send buffer slot (already filled). */
static int post_send(struct rd_conn *c, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	int rc = ibv_post_send(c->id->qp, wr, &bad);
	if (rc)
		return rd_fail(c, -rc, "cannot post a send: %s", strerror(rc));
	c->s_out++;
	return 0;
}

/* Sends len bytes as SENDs. */
static int stream_send(struct rd_conn *c, const unsigned char *src, size_t len)
{
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
		if ((rc = post_send(c, &wr)))
			return rc;
		c->s_next = (c->s_next + 1) % RD_SENDS;
		src += n;
		len -= n;
	}
	return 0;
}

/* Reads the peer's published head (an RDMA READ): more credit, perhaps. */
static int read_head(struct rd_conn *c)
{
	int rc = sends_below(c, 1);
	if (rc)
		return rc;
	struct ibv_sge sge = {.addr = (uintptr_t)head_buf(c), .length = 8,
	                      .lkey = c->mr->lkey};
	struct ibv_send_wr wr = {.wr_id = RD_WR_READ, .sg_list = &sge,
	                         .num_sge = 1, .opcode = IBV_WR_RDMA_READ,
	                         .send_flags = IBV_SEND_SIGNALED};
	wr.wr.rdma.remote_addr = c->g.head_addr;
	wr.wr.rdma.rkey = c->g.head_rkey;
	c->read_done = 0;
	if ((rc = post_send(c, &wr)) || (rc = sends_below(c, 1)))
		return rc;
	if (!c->read_done)
		return rd_fail(c, -EIO, "the head's read did not complete");
	uint64_t head = *head_buf(c);
	/* The head only moves forward, never past what was written. */
	if (head % MJW_LOG_ALIGN || head > c->g.wpos)
		return rd_fail(c, -MJL_EPROTO, "the peer published an impossible "
		               "log head (%llu, writer at %llu)",
		               (unsigned long long)head, (unsigned long long)c->g.wpos);
	if (head > c->g.head)
		c->g.head = head;
	return 0;
}

/* Waits (io timeout: -EAGAIN) until a frame of len bytes fits before the
 * peer's head: the first read is at once, then every 50 us up to 1 ms. */
static int wait_credit(struct rd_conn *c, uint64_t len)
{
	uint64_t until = mjl_now_ns() + (uint64_t)c->io_timeout_ms * 1000000;
	unsigned pause_us = 50;
	if (mjw_log_entry_size(len) + MJW_LOG_ALIGN > c->g.dsize)
		return rd_fail(c, -EMSGSIZE, "a frame of %llu bytes does not fit in "
		               "the peer's log", (unsigned long long)len);
	while (!mjw_log_fits(c->g.wpos, c->g.head, c->g.dsize, len)) {
		int rc = read_head(c);
		if (rc)
			return rc;
		if (mjw_log_fits(c->g.wpos, c->g.head, c->g.dsize, len))
			break;
		if (cut_flags(c->req) & RD_CUT_WR)
			return -EPIPE;
		if (mjl_now_ns() >= until)
			return -EAGAIN;
		usleep(pause_us);
		pause_us = pause_us < 1000 ? pause_us * 2 : 1000;
	}
	return 0;
}

/*
 * Fault injection for tests/rdma/torn.sh, as SQLite's tests inject theirs,
 * compiled only with -DMOJIM_FAULT_HOOKS=ON and read once, at the first
 * placed frame:
 * - MOJIM_RDMA_TEAR=N makes the N-th frame this process places a torn
 *   write (its last 64 bytes never written, as a link cut mid-write leaves
 *   a frame) that still completes with its immediate, so the receiver's
 *   check of the bytes (end mark, CRC) is all that keeps it out of the log;
 * - MOJIM_RDMA_REWRITE=N makes this process, before it places its N-th
 *   frame, rewrite the frame it placed before on that connection (already
 *   acknowledged, when one sync point waits for the last): the first
 *   record's length becomes 2^40, as a hostile primary might write into
 *   its own committed entries. The mirror must never use those bytes.
 */
enum rd_fault { RD_FAULT_NONE, RD_FAULT_TEAR, RD_FAULT_REWRITE };
#ifdef MOJIM_FAULT_HOOKS
static uint64_t rd_placed_frames;
static uint64_t rd_tear_at = UINT64_MAX, rd_rewrite_at = UINT64_MAX;
static pthread_once_t rd_fault_once = PTHREAD_ONCE_INIT;

static uint64_t fault_at(const char *name)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;
	return v && *v && !*end && n > 0 ? n : UINT64_MAX;
}

static void fault_init(void)
{
	rd_tear_at = fault_at("MOJIM_RDMA_TEAR");
	rd_rewrite_at = fault_at("MOJIM_RDMA_REWRITE");
}

static enum rd_fault fault_this_frame(void)
{
	pthread_once(&rd_fault_once, fault_init);
	uint64_t n = __atomic_add_fetch(&rd_placed_frames, 1, __ATOMIC_RELAXED);
	return n == rd_tear_at ? RD_FAULT_TEAR
	       : n == rd_rewrite_at ? RD_FAULT_REWRITE : RD_FAULT_NONE;
}
#else
static enum rd_fault fault_this_frame(void)
{
	return RD_FAULT_NONE;
}
#endif

/* Posts an RDMA WRITE of n bytes (at most RD_MSG) from src to the peer's
 * remote address; the last of a frame carries imm (WITH IMM). */
static int post_write(struct rd_conn *c, uint64_t remote, const void *src,
                      uint32_t n, uint32_t wire_n, int with_imm, uint32_t imm)
{
	int rc = sends_below(c, RD_SENDS);
	if (rc)
		return rc;
	unsigned i = RD_RECVS + c->s_next;
	memcpy(buf_of(c, i), src, n);
	struct ibv_sge sge = {.addr = (uintptr_t)buf_of(c, i), .length = wire_n,
	                      .lkey = c->mr->lkey};
	struct ibv_send_wr wr = {
		.wr_id = i, .sg_list = &sge, .num_sge = wire_n ? 1 : 0,
		.opcode = with_imm ? IBV_WR_RDMA_WRITE_WITH_IMM
		                   : IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED, .imm_data = htonl(imm)};
	wr.wr.rdma.remote_addr = remote;
	wr.wr.rdma.rkey = c->g.rkey;
	if ((rc = post_send(c, &wr)))
		return rc;
	c->s_next = (c->s_next + 1) % RD_SENDS;
	return 0;
}

/* Writes the frame f (len bytes) into the peer's log where its rule puts
 * it: RDMA WRITEs of up to RD_MSG bytes, the last WITH IMM. */
static int place_frame(struct rd_conn *c, const unsigned char *f, uint64_t len)
{
	int rc = wait_credit(c, len);
	if (rc)
		return rc;
	uint64_t pos = mjw_log_place(c->g.wpos, c->g.dsize, len);
	uint64_t off = pos % c->g.dsize;
	uint64_t remote = c->g.addr + off + MJW_LOG_EHDR;
	enum rd_fault fault = fault_this_frame();
	if (fault == RD_FAULT_REWRITE && c->prev_frame) {
		uint64_t huge = 1ull << 40; /* the first record's len */
		if ((rc = post_write(c, c->prev_frame + MJW_HDR_SIZE +
		                     offsetof(struct mjw_rec, len), &huge,
		                     8, 8, 0, 0)))
			return rc;
	}
	for (uint64_t done = 0; done < len;) {
		uint32_t n = len - done < RD_MSG ? (uint32_t)(len - done) : RD_MSG;
		int last = done + n == len;
		uint32_t wire_n = n;
		if (last && fault == RD_FAULT_TEAR)
			wire_n = n > MJW_LOG_ALIGN ? n - MJW_LOG_ALIGN : 0;
		if ((rc = post_write(c, remote + done, f + done, n, wire_n, last,
		                     (uint32_t)(off / MJW_LOG_ALIGN))))
			return rc;
		done += n;
	}
	c->prev_frame = remote;
	c->g.wpos = pos + mjw_log_entry_size(len);
	return 0;
}

/* The length of the whole frame at the start of src (len bytes) if it is
 * one to place (a BATCH of the log, not of a full copy), else 0. */
static uint64_t placeable(const unsigned char *src, size_t len)
{
	struct mjw_hdr h;
	if (len < sizeof(h))
		return 0;
	memcpy(&h, src, sizeof(h));
	if (h.magic != MJW_MAGIC || h.type != MJW_BATCH || (h.flags & MJW_F_COPY) ||
	    h.len < MJW_OVERHEAD || h.len > len || h.len % 8 || h.len > UINT32_MAX)
		return 0;
	return h.len;
}

/* The bytes at src up to the next frame (a whole frame when its header
 * says so), which go as SENDs. */
static size_t stream_run(const unsigned char *src, size_t len)
{
	struct mjw_hdr h;
	if (len < sizeof(h))
		return len;
	memcpy(&h, src, sizeof(h));
	return h.magic == MJW_MAGIC && h.len >= sizeof(h) && h.len <= len
	       ? (size_t)h.len : len;
}

/* Sends len bytes: frames to place into the peer's log once it granted
 * one, the rest as SENDs; then waits until the peer's device has them all,
 * so that an error is this call's. */
static int rd_send(struct mjl_conn *base, const void *buf, size_t len)
{
	struct rd_conn *c = (struct rd_conn *)base;
	const unsigned char *src = buf;
	while (len > 0) {
		uint64_t n = c->granted ? placeable(src, len) : 0;
		int rc;
		if (n)
			rc = place_frame(c, src, n);
		else
			rc = stream_send(c, src, n = c->granted ? stream_run(src, len)
			                                        : len);
		if (rc)
			return rc;
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

/* The acceptor offers its log (see the top), or revokes it. */
static int rd_expose(struct mjl_conn *base, const struct mjl_log_area *a)
{
	struct rd_conn *c = (struct rd_conn *)base;
	if (!a) {
		unexpose(c);
		return 0;
	}
	if (!c->acceptor || c->area_mr || a->dsize % MJW_LOG_ALIGN ||
	    a->dsize / MJW_LOG_ALIGN >= RD_IMM_GRANT || !a->head)
		return rd_fail(c, -EINVAL, "this log cannot be offered");
	unsigned char *page = (unsigned char *)((uintptr_t)a->head &
	                                        ~(uintptr_t)(RD_PAGE - 1));
	/* On this connection's own protection domain: only its queue pair
	 * can use the keys, and they die with the offer. Remote writes need
	 * local write access too (the verbs' rule). */
	c->area_mr = ibv_reg_mr(c->pd, a->data, a->dsize,
	                        IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (c->area_mr)
		c->head_mr = ibv_reg_mr(c->pd, page, RD_PAGE, IBV_ACCESS_REMOTE_READ);
	if (!c->area_mr || !c->head_mr) {
		/* Not offered: the frames come as SENDs, as before. */
		int rc = errno ? -errno : -EIO;
		snprintf(c->err, sizeof(c->err), "cannot register the log (%llu "
		         "bytes) for remote writes: %s (is ulimit -l too low?)",
		         (unsigned long long)a->dsize, strerror(-rc));
		if (c->area_mr)
			ibv_dereg_mr(c->area_mr);
		c->area_mr = NULL;
		return rc;
	}
	c->area = *a;
	struct rd_grant g = {.magic = RD_GRANT_MAGIC,
	                     .addr = (uintptr_t)a->data,
	                     .dsize = a->dsize,
	                     .wpos = a->wpos,
	                     .head = *a->head,
	                     .head_addr = (uintptr_t)a->head,
	                     .rkey = c->area_mr->rkey,
	                     .head_rkey = c->head_mr->rkey};
	int rc = sends_below(c, RD_SENDS);
	if (rc)
		return rc;
	unsigned i = RD_RECVS + c->s_next;
	memcpy(buf_of(c, i), &g, sizeof(g));
	struct ibv_sge sge = {.addr = (uintptr_t)buf_of(c, i),
	                      .length = sizeof(g), .lkey = c->mr->lkey};
	struct ibv_send_wr wr = {.wr_id = i, .sg_list = &sge, .num_sge = 1,
	                         .opcode = IBV_WR_SEND_WITH_IMM,
	                         .send_flags = IBV_SEND_SIGNALED,
	                         .imm_data = htonl(RD_IMM_GRANT)};
	if ((rc = post_send(c, &wr)))
		return rc;
	c->s_next = (c->s_next + 1) % RD_SENDS;
	return sends_below(c, 1);
}

static int rd_placed(struct mjl_conn *base)
{
	return ((struct rd_conn *)base)->last_placed;
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
	c->acceptor = 1;
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
	.expose = rd_expose,
	.placed = rd_placed,
};
const struct mjl_transport *const mjl_rdma = &rdma_transport;
