/*
 * tcp.c: the TCP transport. TCP_NODELAY, and blocking reads and writes
 * with a timeout, so a peer that stops mid-frame cannot hang a thread.
 * Every socket option is checked: a link without its timeouts is refused
 * rather than left to hang.
 */
#include "mojim_link.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct mjl_conn {
	int fd;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/* The connected socket's options: no Nagle delay, I/O timeouts, blocking. */
static int set_options(int fd, int io_timeout_ms)
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

static int tcp_dial(const char *addr, int timeout_ms, int io_timeout_ms,
                    struct mjl_conn **out, const char **why)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	int rc = mjl_parse_addr(addr, &ss, &sslen, why);
	if (rc)
		return rc;
	struct mjl_conn *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sslen) && errno != EINPROGRESS)
		rc = -errno;
	else
		rc = connect_wait(c->fd, timeout_ms);
	if (!rc)
		rc = set_options(c->fd, io_timeout_ms);
	if (rc) {
		close(c->fd);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int tcp_send(struct mjl_conn *c, const void *buf, size_t len)
{
	return mjl_write_full(c->fd, buf, len);
}

static int tcp_recv(struct mjl_conn *c, void *buf, size_t len)
{
	return mjl_read_full(c->fd, buf, len);
}

/*
 * Spins spin_us with non-blocking peeks (the paper's polling; a sleeping
 * thread costs ~70 us to wake here), then sleeps in poll() for the rest.
 */
static int tcp_wait(struct mjl_conn *c, int spin_us, int timeout_ms)
{
	if (spin_us > 0) {
		uint64_t until = now_ns() + (uint64_t)spin_us * 1000;
		char ch;
		do {
			ssize_t n = recv(c->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				return 0; /* data, EOF or error: let recv tell */
		} while (now_ns() < until);
	}
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
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

static void tcp_shutdown(struct mjl_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
}

static void tcp_close(struct mjl_conn *c)
{
	close(c->fd);
	free(c);
}

const struct mjl_transport mjl_tcp = {
	.name = "tcp",
	.dial = tcp_dial,
	.send = tcp_send,
	.recv = tcp_recv,
	.wait = tcp_wait,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
};

const struct mjl_transport *mjl_transport_find(const char *name)
{
	if (!name || strcmp(name, "tcp") == 0)
		return &mjl_tcp;
	return NULL;
}
