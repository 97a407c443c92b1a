/*
 * sock.h: the socket listener (listen.c), shared by the transports that
 * run over a TCP socket (tcp.c, tls.c): their listener's side is the same
 * accept(2); only what each does with the socket in accept differs.
 */
#ifndef MOJIM_LINK_SOCK_H
#define MOJIM_LINK_SOCK_H
#include "mojim_link.h"

int mjl_sock_listen(const char *addr, struct mjl_listener *out,
                    const char **why);
int mjl_sock_take(struct mjl_listener *l, struct mjl_peer *p);
void mjl_sock_listener_close(struct mjl_listener *l);
void mjl_sock_peer_cut(struct mjl_peer *p, int how);
void mjl_sock_peer_drop(struct mjl_peer *p);

#define MJL_SOCK_LISTENER                                                  \
	.listen = mjl_sock_listen, .take = mjl_sock_take,                  \
	.listener_close = mjl_sock_listener_close,                         \
	.peer_cut = mjl_sock_peer_cut, .peer_drop = mjl_sock_peer_drop
#endif
