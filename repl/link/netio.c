/*
 * netio.c: the socket routines every transport over a socket shares
 * (connect, options, waits, control frames), and the ones tools use raw.
 */
#include "mojim_link.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int mjl_parse_addr(const char *host_port, struct sockaddr_storage *out,
                   unsigned *out_len, const char **why)
{
	char host[256];
	const char *colon = strrchr(host_port, ':');
	if (!colon || colon == host_port || !colon[1]) {
		*why = "address must be HOST:PORT";
		return -EINVAL;
	}
	size_t hlen = (size_t)(colon - host_port);
	if (hlen >= sizeof(host)) {
		*why = "host name too long";
		return -EINVAL;
	}
	memcpy(host, host_port, hlen);
	host[hlen] = '\0';
	/* Accept "[::1]:7070" as well as "127.0.0.1:7070". */
	char *h = host;
	if (h[0] == '[' && hlen > 2 && h[hlen - 1] == ']') {
		h[hlen - 1] = '\0';
		h++;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(h, colon + 1, &hints, &res);
	if (rc != 0 || !res) {
		*why = rc == EAI_SERVICE ? "bad port" : "cannot resolve host";
		return -EINVAL;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = (unsigned)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

uint64_t mjl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int mjl_read_full(int fd, void *buf, size_t len)
{
	return mjl_read_until(fd, buf, len, 0);
}

int mjl_read_until(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	unsigned char *p = buf;
	while (len > 0) {
		if (deadline_ns && mjl_now_ns() > deadline_ns)
			return -ETIMEDOUT;
		ssize_t n = read(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0) {
			return -ECONNRESET;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

int mjl_write_full(int fd, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	return mjl_writev_full(fd, &iov, 1);
}

int mjl_writev_full(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Skip what was sent; partial writes resume mid-iovec. */
		size_t sent = (size_t)n;
		while (iovcnt > 0 && sent >= iov->iov_len) {
			sent -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + sent;
			iov->iov_len -= sent;
		}
	}
	return 0;
}

int mjl_ctrl_frame(unsigned char *frame, enum mjw_type type, uint64_t epoch,
                   uint64_t seq, const unsigned char *mac, const void *body,
                   uint32_t body_len)
{
	uint32_t mac_len = mac ? MJW_MAC_SIZE : 0;
	if (body_len > MJW_CTRL_BODY_MAX - mac_len)
		return -EMSGSIZE;
	uint64_t len = MJW_OVERHEAD + mjw_pad8(mac_len + body_len);
	memset(frame, 0, (size_t)len);
	mjw_put_hdr(frame, type, mac ? MJW_F_MAC : 0, 0, 0, epoch, seq, len, 0);
	if (mac)
		memcpy(frame + MJW_HDR_SIZE, mac, mac_len);
	if (body_len)
		memcpy(frame + MJW_HDR_SIZE + mac_len, body, body_len);
	mjw_seal(frame);
	return (int)len;
}

int mjl_send_ctrl_mac(int fd, enum mjw_type type, uint64_t epoch,
                      uint64_t seq, const unsigned char *mac,
                      const void *body, uint32_t body_len)
{
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	int len = mjl_ctrl_frame(frame, type, epoch, seq, mac, body, body_len);
	return len < 0 ? len : mjl_write_full(fd, frame, (size_t)len);
}

int mjl_send_ctrl(int fd, enum mjw_type type, uint64_t epoch, uint64_t seq,
                  const void *body, uint32_t body_len)
{
	return mjl_send_ctrl_mac(fd, type, epoch, seq, NULL, body, body_len);
}

int mjl_conn_send_ctrl(struct mjl_conn *c, enum mjw_type type,
                       uint64_t epoch, uint64_t seq, const unsigned char *mac,
                       const void *body, uint32_t body_len)
{
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	int len = mjl_ctrl_frame(frame, type, epoch, seq, mac, body, body_len);
	return len < 0 ? len : mjl_conn_send(c, frame, (size_t)len);
}

/* Waits for the non-blocking connect on fd; 0 or a negative errno. */
static int connect_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int rc;
	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return -errno;
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l))
		return -errno;
	return soerr ? -soerr : 0;
}

int mjl_tcp_options(int fd, int io_timeout_ms)
{
	int one = 1;
	struct timeval tv = {.tv_sec = io_timeout_ms / 1000,
	                     .tv_usec = (io_timeout_ms % 1000) * 1000};
	int fl = fcntl(fd, F_GETFL);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) || fl < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK))
		return -errno;
	return 0;
}

int mjl_tcp_connect(const char *addr, int timeout_ms, int io_timeout_ms,
                    int *out, const char **why)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	int rc = mjl_parse_addr(addr, &ss, &sslen, why);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sslen) && errno != EINPROGRESS)
		rc = -errno;
	else
		rc = connect_wait(fd, timeout_ms);
	if (!rc)
		rc = mjl_tcp_options(fd, io_timeout_ms);
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}


/*
 * Spins spin_us with non-blocking peeks (the paper's polling; a sleeping
 * thread costs ~70 us to wake here), then sleeps in poll() for the rest.
 */
int mjl_fd_wait(int fd, int spin_us, int timeout_ms)
{
	if (spin_us > 0) {
		uint64_t until = mjl_now_ns() + (uint64_t)spin_us * 1000;
		char ch;
		do {
			ssize_t n = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				return 0; /* data, EOF or error: let recv tell */
		} while (mjl_now_ns() < until);
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

void mjl_fd_linger(int fd, int ms)
{
	char sink[4096];
	uint64_t end = mjl_now_ns() + (uint64_t)ms * 1000000;
	if (shutdown(fd, SHUT_WR))
		return;
	for (uint64_t now = mjl_now_ns(); now < end; now = mjl_now_ns()) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((end - now) / 1000000) + 1;
		if (poll(&p, 1, left) <= 0)
			return;
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			return; /* the peer closed (or went): nothing to reset */
	}
}

int mjl_fd_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void mjl_conn_shutdown(struct mjl_conn *c)
{
	if (c->t->shutdown)
		c->t->shutdown(c, SHUT_RDWR);
	else
		shutdown(c->fd, SHUT_RDWR);
}

void mjl_conn_shutdown_read(struct mjl_conn *c)
{
	if (c->t->shutdown)
		c->t->shutdown(c, SHUT_RD);
	else
		shutdown(c->fd, SHUT_RD);
}

int mjl_conn_gone(struct mjl_conn *c)
{
	return c->t->gone ? c->t->gone(c) : mjl_fd_gone(c->fd);
}
