/*
 * mojim_link.h: one replication link between two mojim nodes, written once
 * for every hop (primary to mirror today, mirror to backup next) and every
 * transport (TCP today, RDMA next): dialing, the handshake with mutual key
 * authentication, control frames, heartbeats and refusals.
 *
 * The handshake, dialer D (a primary) and acceptor A (a mirror):
 *
 *     D -> A  HELLO      who D is, which connection, D's nonce Nd, whether
 *                        D holds a key (MJW_HELLO_F_KEYED)
 *     A -> D  CHALLENGE  A's nonce Na                       (keyed only)
 *     D -> A  AUTH       MAC("dialer", Nd, Na, HELLO)        (keyed only)
 *     A -> D  HELLO_ACK  where A stands, and (keyed) MAC("acceptor", Nd,
 *                        Na, HELLO, HELLO_ACK with its mac zeroed)
 *
 * or A -> D REFUSE at any step. MAC is HMAC-SHA256 under the cluster key
 * over the role, both nonces and the HELLO (which holds the cluster id,
 * the connection, the incarnation; the frame header's epoch is bound too),
 * so a recorded handshake cannot be replayed (Na is new each time) and an
 * acceptor without the key cannot pass for one (D checks A's MAC before it
 * believes anything A says). A refusal sent after D proved itself carries
 * MAC("refuse", Nd, Na, code, reason) (flag MJW_F_MAC): D acts on a final
 * refusal (fenced, promoted) only when it is authenticated. A side with a
 * key refuses a side without one, and the reverse (MJW_REFUSE_AUTH).
 *
 * The key authenticates the peer at the handshake; frames after it are
 * checked by CRC only, so a network that can inject into an established
 * TCP stream needs TLS as well (the tls transport: every byte of the
 * link, handshake included, inside a mutually authenticated TLS session).
 *
 * Functions return 0 or a negative errno (MJL_E* below); a message for
 * the caller to log is put in the caller's buffer, never printed here.
 */
#ifndef MOJIM_LINK_H
#define MOJIM_LINK_H
#include "mojim_wire.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define MJL_EREFUSED 20001 /* the peer sent REFUSE; see mjl_refusal */
#define MJL_EAUTH 20002    /* authentication failed or keys do not match */
#define MJL_EPROTO 20003   /* the peer sent something invalid */

/* ---- the cluster key (auth.c) ---- */
#define MJL_KEY_MAX 768 /* decoded bytes; MongoDB's keyFile: 1024 chars */
#define MJL_KEY_MIN 16
struct mjl_key {
	size_t len; /* 0: no key */
	unsigned char bytes[MJL_KEY_MAX];
};
/*
 * Loads a key file: base64 text (whitespace ignored), as MongoDB's keyFile,
 * at least MJL_KEY_MIN bytes decoded. Refused when group- or world-
 * accessible, or not a regular file. 0, or a negative errno and err set.
 */
int mjl_key_load(const char *path, struct mjl_key *key, char *err,
                 size_t errlen);
/* Fresh random bytes for a nonce; 0 or -EIO. */
int mjl_nonce(unsigned char out[MJW_NONCE_SIZE]);

/* What both sides of a handshake know once it is done. */
struct mjl_session {
	const struct mjl_key *key; /* NULL or len 0: unkeyed */
	unsigned char nd[MJW_NONCE_SIZE], na[MJW_NONCE_SIZE];
	struct mjw_hello hello; /* as sent, nonce included */
	uint64_t epoch;         /* the HELLO frame's epoch */
};
/* MAC of the dialer, the acceptor, or a refusal (see the top). */
void mjl_mac_dialer(const struct mjl_session *s, unsigned char out[MJW_MAC_SIZE]);
void mjl_mac_acceptor(const struct mjl_session *s,
                      const struct mjw_hello_ack *ack,
                      unsigned char out[MJW_MAC_SIZE]);
void mjl_mac_refusal(const struct mjl_session *s, uint64_t code,
                     const char *reason, size_t reason_len,
                     unsigned char out[MJW_MAC_SIZE]);
/* Constant-time comparison of two MACs: 1 if equal. */
int mjl_mac_equal(const unsigned char *a, const unsigned char *b);

/* ---- sockets (netio.c): plain helpers; EINTR retried, a peer gone
 * mid-way gives -ECONNRESET, a receive timeout -EAGAIN ---- */
struct sockaddr_storage;
int mjl_parse_addr(const char *host_port, struct sockaddr_storage *out,
                   unsigned *out_len, const char **why);
/* A struct sockaddr (IPv4 or IPv6) as HOST:PORT ([HOST]:PORT for IPv6). */
void mjl_addr_name(const void *sa, char *buf, size_t len);
int mjl_read_full(int fd, void *buf, size_t len);
/* The same, failing with -ETIMEDOUT once deadline_ns (0: none) passed. */
int mjl_read_until(int fd, void *buf, size_t len, uint64_t deadline_ns);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mjl_now_ns(void);
int mjl_write_full(int fd, const void *buf, size_t len);
struct iovec;
int mjl_writev_full(int fd, struct iovec *iov, int iovcnt);
/* Connects a TCP socket to addr within timeout_ms, then sets its options
 * (mjl_tcp_options). 0 with *fd, or a negative errno (why set for a bad
 * address). */
int mjl_tcp_connect(const char *addr, int timeout_ms, int io_timeout_ms,
                    int *fd, const char **why);
/* No Nagle delay; blocking reads and writes that give up after
 * io_timeout_ms (-EAGAIN). Every option checked: 0 or a negative errno. */
int mjl_tcp_options(int fd, int io_timeout_ms);
/* Waits until fd can be read: spins spin_us with non-blocking peeks, then
 * sleeps up to timeout_ms. 0, -ETIMEDOUT or a negative errno. */
int mjl_fd_wait(int fd, int spin_us, int timeout_ms);
/* 1 if the peer has hung up (without reading anything). */
int mjl_fd_gone(int fd);
/* After a refusal was written: ends the writing side and reads (and
 * drops) what the peer still sends, until it closes or ms pass, so that
 * closing fd does not reset the connection before the peer read the
 * refusal (unread input makes close send a RST, which can discard it). */
void mjl_fd_linger(int fd, int ms);
/* Builds one control frame (no records) in frame (room for MJW_OVERHEAD +
 * MJW_CTRL_BODY_MAX): an optional MAC (flag MJW_F_MAC) before the body.
 * Its length, or -EMSGSIZE. */
int mjl_ctrl_frame(unsigned char *frame, enum mjw_type type, uint64_t epoch,
                   uint64_t seq, const unsigned char *mac, const void *body,
                   uint32_t body_len);
/* Sends one control frame on a socket (tools and tests speak raw). */
int mjl_send_ctrl(int fd, enum mjw_type type, uint64_t epoch, uint64_t seq,
                  const void *body, uint32_t body_len);
int mjl_send_ctrl_mac(int fd, enum mjw_type type, uint64_t epoch,
                      uint64_t seq, const unsigned char *mac,
                      const void *body, uint32_t body_len);

/* ---- transports (tcp.c, tls.c, rdma.c) ----
 * A connection of any transport starts with struct mjl_conn, as a
 * WT_FILE_HANDLE starts a file system's handle: callers hold a
 * struct mjl_conn * and reach the transport through it. */
struct mjl_transport;
/*
 * A listener (listen.c for sockets, rdma.c for RDMA) and the peers it
 * takes in. The listener's thread takes each peer; the thread that serves
 * it hands it to the transport's accept, which owns it from then on. A
 * peer can be cut from any thread, before or after its accept.
 */
struct mjl_listener {
	const struct mjl_transport *t;
	int fd;         /* readable when a peer may be waiting */
	char name[80];  /* the bound HOST:PORT (port 0 resolved) */
	void *priv;     /* the transport's */
};
struct mjl_peer {
	const struct mjl_transport *t;
	int fd;         /* sockets: the accepted socket; RDMA: an eventfd */
	void *priv;     /* RDMA: the connection request; sockets: NULL */
	char name[80];  /* the peer's HOST:PORT, for the log */
};
int mjl_listen(const struct mjl_transport *t, const char *addr,
               struct mjl_listener *out, const char **why);
/* One waiting peer: 0 with *p, -EAGAIN if none is, or a negative errno. */
int mjl_listener_take(struct mjl_listener *l, struct mjl_peer *p);
void mjl_listener_close(struct mjl_listener *l);
/* From any thread: how SHUT_RDWR ends the peer's reads and writes; SHUT_RD
 * only its reads (a REFUSE can still be written). */
void mjl_peer_cut(struct mjl_peer *p, int how);
/* Closes a peer that no accept took over. */
void mjl_peer_drop(struct mjl_peer *p);

/*
 * A log area an acceptor lets its peer place BATCH frames into, where they
 * would go anyway (mojim_wire.h's placement rule, mjw_log_place), so that
 * the bytes reach the mirror's log without a copy: RDMA writes them there
 * with one-sided writes, and the frame's header then reads from the stream
 * as any frame's, while the rest of it is already where the reader asks
 * for it. The peer never writes past head (it reads *head for credits).
 */
struct mjl_log_area {
	void *data;           /* the data area of the log */
	uint64_t dsize;       /* its bytes: a multiple of MJW_LOG_ALIGN */
	const uint64_t *head; /* the oldest entry still needed, as published */
	uint64_t wpos;        /* where the next entry goes */
};

struct mjl_conn {
	const struct mjl_transport *t;
	int fd; /* sockets: the socket under it (peeks); RDMA: -1 */
	/* 0, or a time (mjl_now_ns) after which reads fail with -ETIMEDOUT
	 * however the peer trickles its bytes: a handshake's whole bound
	 * (each read alone only has the socket's timeout). */
	uint64_t deadline_ns;
};
struct mjl_transport {
	const char *name;
	/* Connects to addr within timeout_ms; blocking reads and writes then
	 * give up after io_timeout_ms. ctx: the transport's context (TLS:
	 * from mjl_tls_open; TCP: unused). */
	int (*dial)(void *ctx, const char *addr, int timeout_ms,
	            int io_timeout_ms, struct mjl_conn **out, const char **why);
	/* Takes over a peer from this transport's listener (still the
	 * caller's on failure, for mjl_peer_drop), with io_timeout_ms on reads
	 * and writes; the TLS handshake, or RDMA's connection setup, happens
	 * here. */
	int (*accept)(void *ctx, struct mjl_peer *p, int io_timeout_ms,
	              struct mjl_conn **out, const char **why);
	int (*send)(struct mjl_conn *c, const void *buf, size_t len);
	/* Reads exactly len bytes (io timeout: -EAGAIN). */
	int (*recv)(struct mjl_conn *c, void *buf, size_t len);
	/* Waits until something can be read: spins spin_us, then sleeps up to
	 * timeout_ms (-ETIMEDOUT). */
	int (*wait)(struct mjl_conn *c, int spin_us, int timeout_ms);
	void (*close)(struct mjl_conn *c);
	/* What the last failed send or recv knows beyond its errno (TLS: the
	 * peer's alert), or NULL. */
	const char *(*error)(struct mjl_conn *c);
	/* mjl_conn_shutdown (how: SHUT_RD or SHUT_RDWR) and mjl_conn_gone;
	 * NULL: on the socket (c->fd). */
	void (*shutdown)(struct mjl_conn *c, int how);
	int (*gone)(struct mjl_conn *c);
	/* The listener's side (see struct mjl_listener). */
	int (*listen)(const char *addr, struct mjl_listener *out,
	              const char **why);
	int (*take)(struct mjl_listener *l, struct mjl_peer *p);
	void (*listener_close)(struct mjl_listener *l);
	void (*peer_cut)(struct mjl_peer *p, int how);
	void (*peer_drop)(struct mjl_peer *p);
	/* The acceptor's log area for placed frames (NULL: none): offered to
	 * the peer, or revoked (a NULL area: no write lands after it returns).
	 * NULL op: the transport places nothing. */
	int (*expose)(struct mjl_conn *c, const struct mjl_log_area *a);
	/* 1 if the frame whose header was read last was placed in the area. */
	int (*placed)(struct mjl_conn *c);
};
extern const struct mjl_transport mjl_tcp;
extern const struct mjl_transport mjl_tls;
/* RDMA (rdma.c): reliable connected queue pairs set up with librdmacm on
 * the device that routes to the address; NULL in a build without
 * rdma-core. */
extern const struct mjl_transport *const mjl_rdma;
/* The transport called name ("tcp", "rdma"), or NULL. */
const struct mjl_transport *mjl_transport_find(const char *name);
/* Why name is not a transport of this build, for the error message. */
const char *mjl_transport_unknown(const char *name);

static inline int mjl_conn_send(struct mjl_conn *c, const void *buf,
                                size_t len)
{
	return c->t->send(c, buf, len);
}
static inline int mjl_conn_recv(struct mjl_conn *c, void *buf, size_t len)
{
	return c->t->recv(c, buf, len);
}
static inline int mjl_conn_wait(struct mjl_conn *c, int spin_us,
                                int timeout_ms)
{
	return c->t->wait(c, spin_us, timeout_ms);
}
/* Offers a log area to the peer (see struct mjl_log_area), or revokes it
 * (a NULL). -ENOTSUP where the transport places nothing (TCP, TLS). */
static inline int mjl_conn_expose(struct mjl_conn *c,
                                  const struct mjl_log_area *a)
{
	return c->t->expose ? c->t->expose(c, a) : -ENOTSUP;
}
/* Whether the frame whose header was just read lies in the area already. */
static inline int mjl_conn_placed(struct mjl_conn *c)
{
	return c->t->placed ? c->t->placed(c) : 0;
}
/* Ends reads and writes (safe from another thread: the owner's next call
 * fails). */
void mjl_conn_shutdown(struct mjl_conn *c);
/* Reads no further, but REFUSE can still be written. */
void mjl_conn_shutdown_read(struct mjl_conn *c);
int mjl_conn_gone(struct mjl_conn *c);
static inline void mjl_conn_close(struct mjl_conn *c)
{
	c->t->close(c);
}
/* A control frame (see mjl_ctrl_frame) on a connection. */
int mjl_conn_send_ctrl(struct mjl_conn *c, enum mjw_type type,
                       uint64_t epoch, uint64_t seq, const unsigned char *mac,
                       const void *body, uint32_t body_len);

/* ---- TLS (tls.c): TLS 1.2 or later over TCP, both sides with a
 * certificate signed by the cluster's CA (mutual authentication); the
 * dialer also checks that the acceptor's certificate names the host it
 * dialed (DNS name or IP address). ---- */
struct mjl_tls_config {
	const char *cert; /* PEM certificate chain of this node */
	const char *key;  /* its PEM private key: mode 0600 or tighter */
	const char *ca;   /* PEM CA certificates that sign the peers' */
};
struct mjl_tls;
/*
 * Loads the certificate, key and CA once, for a dialer (acceptor 0) or an
 * acceptor (1): a missing or unreadable file, a key that does not match
 * the certificate, or a key others can read is refused here, with err
 * set. 0 with *out.
 */
int mjl_tls_open(const struct mjl_tls_config *cfg, int acceptor,
                 struct mjl_tls **out, char *err, size_t errlen);
void mjl_tls_free(struct mjl_tls *t);

/* ---- the dialer's side of a link (link.c) ---- */
struct mjl_config {
	const char *addr;          /* HOST:PORT */
	const struct mjl_transport *transport;
	void *transport_ctx;       /* TLS: the mjl_tls; TCP: NULL */
	int connect_timeout_ms;    /* dial and handshake */
	int io_timeout_ms;         /* an ack or pong later than this: lost */
	int spin_us;               /* busy-poll before sleeping for a frame */
	uint64_t epoch;
	const struct mjl_key *key; /* NULL: unkeyed */
};
struct mjl_link;
/* A REFUSE: its MJW_REFUSE_* code, and whether it was authenticated (an
 * unkeyed link's refusals count as authenticated: nothing better is
 * known). */
struct mjl_refusal {
	uint64_t code;
	int authentic;
};
/*
 * Dials cfg->addr and does the handshake with hello (its nonce and key
 * flag are filled here). 0 with *out and *ack set; -MJL_EREFUSED with
 * *refusal set, -MJL_EAUTH, -MJL_EPROTO or a socket error, with msg set
 * to what to log.
 */
int mjl_dial(const struct mjl_config *cfg, struct mjw_hello *hello,
             struct mjl_link **out, struct mjw_hello_ack *ack,
             struct mjl_refusal *refusal, char *msg, size_t msglen);
/* A whole frame, or several back to back. */
int mjl_send(struct mjl_link *l, const void *buf, size_t len);
int mjl_send_ctrl_link(struct mjl_link *l, enum mjw_type type, uint64_t seq);
/*
 * Reads one checked control frame (room for MJW_OVERHEAD +
 * MJW_CTRL_BODY_MAX) within timeout_ms. A REFUSE gives -MJL_EREFUSED with
 * the refusal kept for mjl_last_refusal.
 */
int mjl_recv_ctrl(struct mjl_link *l, unsigned char *frame, int timeout_ms,
                  char *msg, size_t msglen);
/* The refusal that made the last call fail with -MJL_EREFUSED. */
void mjl_last_refusal(const struct mjl_link *l, struct mjl_refusal *out);
/* Sends PING nonce and waits for its PONG (stale PONGs skipped). */
int mjl_ping(struct mjl_link *l, uint64_t nonce, char *msg, size_t msglen);
/* Waits for the ACK of seq (PONGs skipped), io_timeout_ms at most for each
 * frame: a HOLD of seq (the mirror waits for its backups) extends it. */
int mjl_wait_ack(struct mjl_link *l, uint64_t seq, char *msg, size_t msglen);
void mjl_close(struct mjl_link *l);

/* ---- the acceptor's side (accept.c) ---- */
/*
 * After a checked HELLO (header h, body hello) from c: with a key, sends
 * CHALLENGE and checks the AUTH within the socket's timeout; without one,
 * refuses a keyed HELLO. Fills s. 0 if the peer may go on to admission;
 * -MJL_EAUTH with *why (send REFUSE_AUTH); another negative errno if the
 * socket failed.
 */
int mjl_accept_auth(struct mjl_conn *c, const struct mjl_key *key, uint64_t epoch,
                    const struct mjw_hello *hello, struct mjl_session *s,
                    const char **why);
/* Sends REFUSE code, with a MAC when s is keyed and authenticated. */
int mjl_send_refuse(struct mjl_conn *c, const struct mjl_session *s, int authenticated,
                    uint64_t code, const char *reason);

#ifdef __cplusplus
}
#endif
#endif /* MOJIM_LINK_H */
