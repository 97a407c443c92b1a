/*
 * netio.c: the few socket routines both ends of a mojim connection share.
 */
#include "mojim_link.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

int mjl_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
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

/* One control frame: flags, an optional MAC, then the body. */
static int send_ctrl(int fd, enum mjw_type type, uint8_t flags,
                     uint64_t epoch, uint64_t seq, const unsigned char *mac,
                     const void *body, uint32_t body_len)
{
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	uint32_t mac_len = mac ? MJW_MAC_SIZE : 0;
	if (body_len > MJW_CTRL_BODY_MAX - mac_len)
		return -EMSGSIZE;
	uint64_t len = MJW_OVERHEAD + mjw_pad8(mac_len + body_len);
	memset(frame, 0, (size_t)len);
	mjw_put_hdr(frame, type, flags, 0, 0, epoch, seq, len, 0);
	if (mac)
		memcpy(frame + MJW_HDR_SIZE, mac, mac_len);
	if (body_len)
		memcpy(frame + MJW_HDR_SIZE + mac_len, body, body_len);
	mjw_seal(frame);
	return mjl_write_full(fd, frame, (size_t)len);
}

int mjl_send_ctrl(int fd, enum mjw_type type, uint64_t epoch, uint64_t seq,
                  const void *body, uint32_t body_len)
{
	return send_ctrl(fd, type, 0, epoch, seq, NULL, body, body_len);
}

int mjl_send_ctrl_mac(int fd, enum mjw_type type, uint64_t epoch,
                      uint64_t seq, const unsigned char *mac,
                      const void *body, uint32_t body_len)
{
	return send_ctrl(fd, type, MJW_F_MAC, epoch, seq, mac, body, body_len);
}
