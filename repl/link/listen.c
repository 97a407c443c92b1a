/*
 * listen.c: listeners of every transport (mjl_listen and the rest, which
 * call the transport's own), and the one over a TCP socket that TCP and
 * TLS share: a listening socket, accept4, and the peer's address as a
 * name for the log.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int mjl_listen(const struct mjl_transport *t, const char *addr,
               struct mjl_listener *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	out->t = t;
	out->fd = -1;
	return t->listen(addr, out, why);
}

int mjl_listener_take(struct mjl_listener *l, struct mjl_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->t = l->t;
	p->fd = -1;
	return l->t->take(l, p);
}

void mjl_listener_close(struct mjl_listener *l)
{
	if (l->t)
		l->t->listener_close(l);
	l->t = NULL;
}

void mjl_peer_cut(struct mjl_peer *p, int how)
{
	p->t->peer_cut(p, how);
}

void mjl_peer_drop(struct mjl_peer *p)
{
	p->t->peer_drop(p);
}

void mjl_addr_name(const void *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	sa_family_t family = ((const struct sockaddr *)sa)->sa_family;
	if (family == AF_INET) {
		const struct sockaddr_in *a = sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (family == AF_INET6) {
		const struct sockaddr_in6 *a = sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

int mjl_sock_listen(const char *addr, struct mjl_listener *out,
                    const char **why)
{
	struct sockaddr_storage ss;
	unsigned len;
	int one = 1;
	if (mjl_parse_addr(addr, &ss, &len, why))
		return -EINVAL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return *why = "socket", -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		int e = errno;
		close(fd);
		return *why = "cannot listen on that address", -e;
	}
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		int e = errno;
		close(fd);
		return *why = "getsockname", -e;
	}
	mjl_addr_name(&ss, out->name, sizeof(out->name));
	out->fd = fd;
	return 0;
}

int mjl_sock_take(struct mjl_listener *l, struct mjl_peer *p)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	/* The accepted socket blocks: the transport sets its timeouts. */
	int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	p->fd = fd;
	mjl_addr_name(&ss, p->name, sizeof(p->name));
	return 0;
}

void mjl_sock_listener_close(struct mjl_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void mjl_sock_peer_cut(struct mjl_peer *p, int how)
{
	shutdown(p->fd, how);
}

void mjl_sock_peer_drop(struct mjl_peer *p)
{
	close(p->fd);
	p->fd = -1;
}
