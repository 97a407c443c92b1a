/*
 * tcp.c: the TCP transport: connect, handshake, send a batch, wait for its
 * ack, ping. These run without the region lock, by the thread that owns
 * the connection. TCP_NODELAY, and a whole batch (all its fragments, back
 * to back) leaves in one write.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

/* Connects with a timeout; returns the fd or a negative errno. */
static int connect_timeout(const char *addr, int timeout_ms, int io_timeout_ms,
                           const char **why)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	int rc = mjw_parse_addr(addr, &ss, &sslen, why);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sslen) && errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	rc = poll(&p, 1, timeout_ms);
	if (rc == 0) {
		rc = -ETIMEDOUT;
		goto fail;
	}
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) || soerr) {
		rc = soerr ? -soerr : -errno;
		goto fail;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A half-sent frame or a mirror that stops mid-frame must not hang a
	 * thread forever: blocking reads and writes give up after a while. */
	struct timeval tv = {.tv_sec = io_timeout_ms / 1000,
	                     .tv_usec = (io_timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
fail:
	close(fd);
	return rc;
}

/*
 * Waits until fd is readable: spins spin_us with non-blocking peeks (the
 * paper's polling; a sleeping thread costs ~70 us to wake here), then
 * sleeps in poll() for the rest of timeout_ms.
 */
static int wait_readable(int fd, int spin_us, int timeout_ms)
{
	if (spin_us > 0) {
		uint64_t until = mj_now_ns() + (uint64_t)spin_us * 1000;
		char c;
		do {
			ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				return 0; /* data, EOF or error: let read tell */
		} while (mj_now_ns() < until);
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	for (;;) {
		int rc = poll(&p, 1, timeout_ms);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Reads one control frame from the mirror into frame (room for a maximal
 * control body), checking it whole. Returns 0, or a negative error.
 */
static int read_ctrl(mj_region *r, int fd, unsigned char *frame, int timeout_ms)
{
	const char *why = NULL;
	int rc = wait_readable(fd, r->cfg.spin_us, timeout_ms);
	if (rc || (rc = mjw_read_full(fd, frame, MJW_HDR_SIZE)))
		return rc;
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	if (mjw_check_hdr(&h, MJW_OVERHEAD + MJW_CTRL_BODY_MAX, &why) ||
	    h.type == MJW_BATCH) {
		mj_log(r, MJ_LOG_ERROR, "bad frame from mirror: %s",
		       why ? why : "batch frame");
		return -MJ_EPROTO;
	}
	rc = mjw_read_full(fd, frame + MJW_HDR_SIZE, (size_t)(h.len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	if (mjw_check_frame(frame, h.len, &why)) {
		mj_log(r, MJ_LOG_ERROR, "bad frame from mirror: %s", why);
		return -MJ_EPROTO;
	}
	return 0;
}

/* A REFUSE frame: log its reason, and tell a fence from other refusals. */
static int refused(mj_region *r, const unsigned char *frame)
{
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	int body = (int)(h.len - MJW_OVERHEAD);
	mj_log(r, MJ_LOG_ERROR, "mirror refused the connection: %.*s", body,
	       (const char *)frame + MJW_HDR_SIZE);
	/* A mirror that was promoted will never take this primary back: as
	 * final as being fenced. One that serves another cluster neither,
	 * but that is not a newer primary, and says so. */
	if (h.seq == MJW_REFUSE_FENCED || h.seq == MJW_REFUSE_PROMOTED ||
	    h.seq == MJW_REFUSE_REPLACED)
		return -MJ_EFENCED;
	if (h.seq == MJW_REFUSE_CLUSTER)
		return -MJ_ECLUSTER;
	return -ECONNREFUSED;
}

struct mj_link {
	int fd;
};

static int tcp_open(mj_region *r, int index, struct mj_link **out,
                    struct mjw_hello_ack *ack_out)
{
	const char *why = NULL;
	int fd = connect_timeout(r->cfg.mirror, r->cfg.connect_timeout_ms,
	                         r->cfg.ack_timeout_ms, &why);
	if (fd < 0) {
		if (why)
			mj_log(r, MJ_LOG_ERROR, "mirror address %s: %s", r->cfg.mirror, why);
		return fd;
	}
	struct mjw_hello hello = {.cluster_id = r->cluster,
	                          .conn_index = (uint32_t)index,
	                          .nconns = (uint32_t)r->cfg.connections,
	                          .incarnation = r->incarnation};
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	int rc = mjw_send_ctrl(fd, MJW_HELLO, r->cfg.epoch, 0, &hello,
	                       sizeof(hello));
	if (!rc)
		rc = read_ctrl(r, fd, frame, r->cfg.connect_timeout_ms);
	if (!rc) {
		struct mjw_hdr h;
		memcpy(&h, frame, sizeof(h));
		if (h.type == MJW_REFUSE)
			rc = refused(r, frame);
		else if (h.type != MJW_HELLO_ACK ||
		         h.len - MJW_OVERHEAD < sizeof(*ack_out))
			rc = -MJ_EPROTO;
		else
			memcpy(ack_out, frame + MJW_HDR_SIZE, sizeof(*ack_out));
	}
	if (!rc && ack_out->slot_size < MJW_FRAME_MIN_SLOT)
		rc = -MJ_EPROTO;
	struct mj_link *l = rc ? NULL : malloc(sizeof(*l));
	if (!rc && !l)
		rc = -ENOMEM;
	if (rc) {
		close(fd);
		return rc;
	}
	l->fd = fd;
	*out = l;
	return 0;
}

static int tcp_send_batch(mj_region *r, struct mj_link *l, struct mj_batch *b)
{
	return mjw_write_full(l->fd, b->buf.p, (size_t)b->buf.len);
}

/* Reads frames until the ack of seq (stale PONGs are skipped). */
static int tcp_wait_ack(mj_region *r, struct mj_link *l, uint64_t seq)
{
	int fd = l->fd;
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	for (int stale = 0; stale < 16; stale++) {
		int rc = read_ctrl(r, fd, frame, r->cfg.ack_timeout_ms);
		if (rc)
			return rc;
		struct mjw_hdr h;
		memcpy(&h, frame, sizeof(h));
		if (h.type == MJW_REFUSE)
			return refused(r, frame);
		if (h.type == MJW_ACK && h.seq == seq)
			return 0;
		if (h.type != MJW_PONG)
			return -MJ_EPROTO;
	}
	return -MJ_EPROTO;
}

static int tcp_ping(mj_region *r, struct mj_link *l, uint64_t nonce)
{
	int fd = l->fd;
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	int rc = mjw_send_ctrl(fd, MJW_PING, r->cfg.epoch, nonce, NULL, 0);
	if (rc)
		return rc;
	rc = read_ctrl(r, fd, frame, r->cfg.ack_timeout_ms);
	if (rc)
		return rc;
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	if (h.type == MJW_REFUSE)
		return refused(r, frame);
	return h.type == MJW_PONG && h.seq == nonce ? 0 : -MJ_EPROTO;
}

/* COPY_BEGIN, COPY_DONE: a control frame without a body. */
static int tcp_send_ctrl(mj_region *r, struct mj_link *l, enum mjw_type type,
                         uint64_t seq)
{
	return mjw_send_ctrl(l->fd, type, r->cfg.epoch, seq, NULL, 0);
}

static void tcp_close(struct mj_link *l)
{
	close(l->fd);
	free(l);
}

const struct mj_transport mj_tcp_transport = {
	.name = "tcp",
	.open = tcp_open,
	.send_batch = tcp_send_batch,
	.wait_ack = tcp_wait_ack,
	.ping = tcp_ping,
	.send_ctrl = tcp_send_ctrl,
	.close = tcp_close,
};
