/*
 * conn.h: a connection from a primary, as the files that serve it share it.
 *
 *   listener.c   takes peers in, runs one thread per connection, ends it
 *   conns.c      the table of connections, and cutting them (an older
 *                epoch or incarnation, an unhealthy replica, peers that
 *                said no HELLO); the only place a peer is cut
 *   ingest.c     the frames: HELLO and admission, batches into the log,
 *                persisted and acknowledged, heartbeats
 *   copy_recv.c  the frames of a full copy, handed to copy.c
 *   conn.c       what they share: frame I/O through the transport, the
 *                end codes, the check that the peer is still the primary
 *
 * ingest.c and copy_recv.c see frames and the transport's connection (c->lc),
 * never a descriptor: a transport changes nothing there.
 *
 * Errors travel back up as an END_* code with c->why set; the listener logs
 * the reason once, sends a REFUSE when there is one to send, and closes.
 */
#ifndef MIRROR_CONN_H
#define MIRROR_CONN_H

#include "mirror.h"

enum end {
	END_OK = 0,
	END_CLOSED,  /* peer closed, I/O error or shutdown */
	END_TIMEOUT, /* silent longer than the heartbeat timeout */
	END_BAD,     /* invalid frame: REFUSE(BAD_FRAME) */
	END_REFUSE,  /* refused (fenced, busy, version): REFUSE(c->code) */
	END_FAILED,  /* the mirror could not make something durable: closed,
	                never acked, logged as an error */
};

/* Who sets each field: (A) the listener, at accept and at the end;
 * (T) conns.c; (I) ingest.c; (C) copy_recv.c; (E) whoever ends the
 * connection (the why and the code); (L) read or written under the lock. */
struct conn {
	struct mirror *m;    /* (A) */
	struct mjl_peer in;  /* (A) what the listener took: only conns.c cuts
	                        it (mjl_peer_cut), from any thread */
	struct mjl_conn *lc; /* (A) the transport's connection, from in */
	int slot;            /* (T) its place in m->conns */
	char peer[80];       /* (A) address:port, for the log */
	uint64_t accepted_ns;/* (A) when it was accepted */
	const char *evicted; /* (T, L) why it was cut before its HELLO */
	int index;           /* (I) connection index from HELLO, -1 before */
	struct ring *ring;   /* (I) the ring of that index, once admitted */
	uint64_t epoch;      /* (I) from HELLO */
	uint64_t incarnation;/* (I, L) from HELLO; 0 until admitted */
	int admitted;        /* (I, L) its HELLO was answered with HELLO_ACK */
	struct mjl_session sess; /* (I) the handshake's nonces, for MACs */
	int authenticated;   /* (I) the peer proved the key (or none is used) */
	int proved;          /* (I, L) the same, for the listener: past the
	                        proof, in admission, never evicted */
	int in_batch;        /* (I) fragments of cur_seq received, LAST not yet */
	uint64_t cur_seq;    /* (I) */
	uint32_t next_frag;  /* (I) */
	int skip;            /* (I) the batch is a resend of a durable one */
	uint64_t batch_bytes;/* (I) frame bytes of cur_seq so far */
	unsigned char *copybuf; /* (C) a COPY frame, slot_size bytes */
	const char *why;     /* (E) why it ends */
	char whybuf[512];    /* (E) */
	struct log_copy placed_copy; /* (E) a placed frame, checked there */
	uint64_t code;       /* (E) MJW_REFUSE_* for END_REFUSE */
};

/* conn.c */
int conn_bad(struct conn *c, const char *why);  /* END_BAD, REFUSE(BAD_FRAME) */
int conn_refuse(struct conn *c, uint64_t code, const char *why); /* END_REFUSE */
/* A failed read or write as the end of the connection. */
int conn_read_err(struct conn *c, int rc);
int conn_read(struct conn *c, void *buf, size_t len);
int conn_send(struct conn *c, enum mjw_type type, uint64_t seq,
              const void *body, uint32_t len);
/* Reads the body of a control frame whose header is *h into buf. */
int conn_read_ctrl(struct conn *c, const struct mjw_hdr *h,
                   unsigned char *buf);
/* (L) END_OK while the peer is still the newest primary. */
int conn_check_current(struct conn *c);
/* Every extent of a checked frame within --max-file-size. */
int conn_check_extents(struct conn *c, const void *frame);

/* ingest.c */
/* The HELLO exchange: authentication, admission, ring, HELLO_ACK. */
int ingest_hello(struct conn *c);
/* Every frame after it, until the connection ends (the END_* code). */
int ingest_loop(struct conn *c);

/* copy_recv.c: COPY_BEGIN and COPY_DONE (bodies read), COPY frames. */
int copy_recv_begin(struct conn *c, const struct mjw_hdr *h);
int copy_recv_frame(struct conn *c, const struct mjw_hdr *h);
int copy_recv_done(struct conn *c, const struct mjw_hdr *h);

/* conns.c (L) */
/* Takes a slot for c: 0, or -1 when the table is full. */
int conns_add(struct mirror *m, struct conn *c);
void conns_remove(struct mirror *m, struct conn *c);
/* Admitted connections of another incarnation than inc (cut them). */
int conns_of_other_incarnation(struct mirror *m, uint64_t inc, int cut);
/* Peers without a HELLO: the deadline, and room for one more. */
void conns_bound_unadmitted(struct mirror *m, int room_for_one);
/* Shutdown: every connection cut. */
void conns_cut_all(struct mirror *m);

#endif
