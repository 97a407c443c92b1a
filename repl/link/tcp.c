/*
 * tcp.c: the TCP transport. TCP_NODELAY, and blocking reads and writes
 * with a timeout, so a peer that stops mid-frame cannot hang a thread.
 * Every socket option is checked (netio.c): a link without its timeouts
 * is refused rather than left to hang.
 */
#include "sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tcp_wrap(int fd, struct mjl_conn **out)
{
	struct mjl_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->t = &mjl_tcp;
	c->fd = fd;
	*out = c;
	return 0;
}

static int tcp_dial(void *ctx, const char *addr, int timeout_ms,
                    int io_timeout_ms, struct mjl_conn **out, const char **why)
{
	(void)ctx;
	int fd;
	int rc = mjl_tcp_connect(addr, timeout_ms, io_timeout_ms, &fd, why);
	if (!rc && (rc = tcp_wrap(fd, out)))
		close(fd);
	return rc;
}

static int tcp_accept(void *ctx, struct mjl_peer *p, int io_timeout_ms,
                      struct mjl_conn **out, const char **why)
{
	(void)ctx;
	int rc = mjl_tcp_options(p->fd, io_timeout_ms);
	if (rc)
		*why = "cannot set the connection's socket options";
	return rc ? rc : tcp_wrap(p->fd, out);
}

static int tcp_send(struct mjl_conn *c, const void *buf, size_t len)
{
	return mjl_write_full(c->fd, buf, len);
}

static int tcp_recv(struct mjl_conn *c, void *buf, size_t len)
{
	return mjl_read_until(c->fd, buf, len, c->deadline_ns);
}

static int tcp_wait(struct mjl_conn *c, int spin_us, int timeout_ms)
{
	return mjl_fd_wait(c->fd, spin_us, timeout_ms);
}

static void tcp_close(struct mjl_conn *c)
{
	close(c->fd);
	free(c);
}

const struct mjl_transport mjl_tcp = {
	.name = "tcp",
	.dial = tcp_dial,
	.accept = tcp_accept,
	.send = tcp_send,
	.recv = tcp_recv,
	.wait = tcp_wait,
	.close = tcp_close,
	MJL_SOCK_LISTENER,
};

const struct mjl_transport *mjl_transport_find(const char *name)
{
	if (!name || strcmp(name, "tcp") == 0)
		return &mjl_tcp;
	if (strcmp(name, "rdma") == 0)
		return mjl_rdma;
	return NULL;
}

const char *mjl_transport_unknown(const char *name)
{
	if (name && strcmp(name, "rdma") == 0)
		return "this build has no RDMA transport (built without "
		       "rdma-core: libibverbs-dev and librdmacm-dev were "
		       "missing, or -DMOJIM_RDMA=OFF)";
	return mjl_rdma ? "unknown transport (known: tcp, rdma)"
	                : "unknown transport (known: tcp)";
}
