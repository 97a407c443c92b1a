/*
 * link.c: the dialer's side of a link: the handshake (mojim_link.h), then
 * control frames, acks and heartbeats. One thread owns a link at a time.
 */
#include "mojim_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL_FRAME_MAX (MJW_OVERHEAD + MJW_CTRL_BODY_MAX)

struct mjl_link {
	struct mjl_config cfg;
	struct mjl_conn *conn;
	struct mjl_session s;
	struct mjl_refusal refusal;
};

static int keyed(const struct mjl_link *l)
{
	return l->s.key && l->s.key->len > 0;
}

static int say(char *msg, size_t msglen, int rc, const char *fmt,
               const char *arg, int arglen)
{
	snprintf(msg, msglen, fmt, arglen, arg);
	return rc;
}

/* The peer's text as it goes into a log line: printable ASCII only, so a
 * stranger cannot forge lines (newlines) or send terminal controls. */
static void printable(char *dst, size_t len, const char *src, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[k] = '\0';
}

/* Takes in a REFUSE frame: its code, whether its MAC holds, the message. */
static int refusal(struct mjl_link *l, const unsigned char *frame,
                   char *msg, size_t msglen)
{
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	const char *body = (const char *)frame + MJW_HDR_SIZE;
	size_t body_len = (size_t)(h.len - MJW_OVERHEAD);
	const unsigned char *mac = NULL;
	if (h.flags & MJW_F_MAC) {
		if (body_len < MJW_MAC_SIZE)
			return say(msg, msglen, -MJL_EPROTO, "bad frame from "
			           "mirror: %.*s", "REFUSE too short for its MAC", -1);
		mac = (const unsigned char *)body;
		body += MJW_MAC_SIZE;
		body_len -= MJW_MAC_SIZE;
	}
	size_t reason_len = strnlen(body, body_len);
	l->refusal.code = h.seq;
	l->refusal.authentic = !keyed(l);
	if (keyed(l) && mac) {
		unsigned char want[MJW_MAC_SIZE];
		mjl_mac_refusal(&l->s, h.seq, body, reason_len, want);
		l->refusal.authentic = mjl_mac_equal(mac, want);
	}
	char reason[256];
	printable(reason, sizeof(reason), body, reason_len);
	snprintf(msg, msglen, "mirror refused the connection: %s%s", reason,
	         l->refusal.authentic ? "" : " (the refusal is not "
	                                    "authenticated)");
	return -MJL_EREFUSED;
}

/* A failed send or recv: what the transport knows beyond rc, in msg. */
static int io_failed(struct mjl_link *l, int rc, char *msg, size_t msglen)
{
	const char *why = l->conn->t->error ? l->conn->t->error(l->conn) : NULL;
	return why ? say(msg, msglen, rc, "%.*s", why, -1) : rc;
}

int mjl_recv_ctrl(struct mjl_link *l, unsigned char *frame, int timeout_ms,
                  char *msg, size_t msglen)
{
	const char *why = NULL;
	int rc = mjl_conn_wait(l->conn, l->cfg.spin_us, timeout_ms);
	if (rc || (rc = mjl_conn_recv(l->conn, frame, MJW_HDR_SIZE)))
		return io_failed(l, rc, msg, msglen);
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	if (mjw_check_hdr(&h, CTRL_FRAME_MAX, &why) || h.type == MJW_BATCH)
		return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: %.*s",
		           why ? why : "batch frame", -1);
	rc = mjl_conn_recv(l->conn, frame + MJW_HDR_SIZE,
	                   (size_t)(h.len - MJW_HDR_SIZE));
	if (rc)
		return io_failed(l, rc, msg, msglen);
	if (mjw_check_frame(frame, h.len, &why))
		return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: %.*s",
		           why, -1);
	if (h.type == MJW_REFUSE)
		return refusal(l, frame, msg, msglen);
	return 0;
}

/* The next frame of the handshake, which must be of type want with a body
 * of at least body_min bytes. */
static int expect(struct mjl_link *l, unsigned char *frame, unsigned want,
                  size_t body_min, char *msg, size_t msglen)
{
	int rc = mjl_recv_ctrl(l, frame, l->cfg.connect_timeout_ms, msg, msglen);
	if (rc)
		return rc;
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	if (h.type == MJW_HELLO_ACK && want == MJW_CHALLENGE)
		return say(msg, msglen, -MJL_EAUTH, "mirror %.*s did not ask for "
		           "the cluster key: it has none (start it with --keyfile)",
		           l->cfg.addr, -1);
	if (h.type != want || h.len - MJW_OVERHEAD < body_min)
		return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: "
		           "unexpected %.*s in the handshake",
		           mjw_type_name(h.type), -1);
	return 0;
}

/* Keyed: answers the mirror's CHALLENGE with the primary's AUTH. */
static int prove(struct mjl_link *l, unsigned char *frame, char *msg,
                 size_t msglen)
{
	int rc = expect(l, frame, MJW_CHALLENGE, MJW_NONCE_SIZE, msg, msglen);
	if (rc)
		return rc;
	memcpy(l->s.na, frame + MJW_HDR_SIZE, MJW_NONCE_SIZE);
	unsigned char mac[MJW_MAC_SIZE];
	mjl_mac_dialer(&l->s, mac);
	return mjl_conn_send_ctrl(l->conn, MJW_AUTH, l->cfg.epoch, 0, NULL, mac,
	                          MJW_MAC_SIZE);
}

/* HELLO, [CHALLENGE, AUTH,] HELLO_ACK. */
static int handshake(struct mjl_link *l, struct mjw_hello *hello,
                     struct mjw_hello_ack *ack, char *msg, size_t msglen)
{
	unsigned char frame[CTRL_FRAME_MAX];
	hello->flags = (hello->flags & MJW_HELLO_F_FORWARDER) |
	               (keyed(l) ? MJW_HELLO_F_KEYED : 0) |
	               (l->cfg.transport->placed ? MJW_HELLO_F_PLACE : 0);
	hello->reserved = 0;
	if (mjl_nonce(hello->nonce))
		return say(msg, msglen, -EIO, "%.*s", "no random bytes for a "
		           "nonce", -1);
	l->s.hello = *hello;
	l->s.epoch = l->cfg.epoch;
	memcpy(l->s.nd, hello->nonce, MJW_NONCE_SIZE);
	int rc = mjl_conn_send_ctrl(l->conn, MJW_HELLO, l->cfg.epoch, 0, NULL,
	                            hello, sizeof(*hello));
	if (!rc && keyed(l))
		rc = prove(l, frame, msg, msglen);
	if (!rc)
		rc = expect(l, frame, MJW_HELLO_ACK, sizeof(*ack), msg, msglen);
	if (rc)
		return rc;
	memcpy(ack, frame + MJW_HDR_SIZE, sizeof(*ack));
	if (keyed(l)) {
		unsigned char want[MJW_MAC_SIZE];
		mjl_mac_acceptor(&l->s, ack, want);
		if (!mjl_mac_equal(ack->mac, want))
			return say(msg, msglen, -MJL_EAUTH, "mirror %.*s could not "
			           "prove it holds the cluster key: not trusted",
			           l->cfg.addr, -1);
	}
	if (ack->slot_size < MJW_FRAME_MIN_SLOT)
		return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: "
		           "%.*s", "HELLO_ACK slot too small", -1);
	return 0;
}

int mjl_dial(const struct mjl_config *cfg, struct mjw_hello *hello,
             struct mjl_link **out, struct mjw_hello_ack *ack,
             struct mjl_refusal *refusal, char *msg, size_t msglen)
{
	const char *why = NULL;
	msg[0] = '\0';
	struct mjl_link *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = *cfg;
	l->s.key = cfg->key;
	int rc = cfg->transport->dial(cfg->transport_ctx, cfg->addr,
	                              cfg->connect_timeout_ms, cfg->io_timeout_ms,
	                              &l->conn, &why);
	if (rc) {
		if (why)
			snprintf(msg, msglen, "mirror address %s: %s", cfg->addr, why);
		free(l);
		return rc;
	}
	/* However slowly the peer answers, the handshake ends in time. */
	l->conn->deadline_ns = mjl_now_ns() +
	                       (uint64_t)cfg->connect_timeout_ms * 1000000;
	if ((rc = handshake(l, hello, ack, msg, msglen))) {
		if (rc == -ETIMEDOUT && !msg[0])
			snprintf(msg, msglen, "mirror %s: no complete answer within "
			         "the connect timeout (%d ms)", cfg->addr,
			         cfg->connect_timeout_ms);
		*refusal = l->refusal;
		mjl_close(l);
		return rc;
	}
	l->conn->deadline_ns = 0;
	*out = l;
	return 0;
}

int mjl_send(struct mjl_link *l, const void *buf, size_t len)
{
	return mjl_conn_send(l->conn, buf, len);
}

int mjl_send_ctrl_link(struct mjl_link *l, enum mjw_type type, uint64_t seq)
{
	return mjl_conn_send_ctrl(l->conn, type, l->cfg.epoch, seq, NULL, NULL, 0);
}

void mjl_last_refusal(const struct mjl_link *l, struct mjl_refusal *out)
{
	*out = l->refusal;
}

/* A HOLD of the awaited batch says the mirror is alive and has it: the
 * wait goes on, each frame within io_timeout_ms, for as long as the
 * mirror's backups take (their own timeout ends a stall that makes no
 * progress). Anything else but a stale PONG is a broken mirror. */
int mjl_wait_ack(struct mjl_link *l, uint64_t seq, char *msg, size_t msglen)
{
	unsigned char frame[CTRL_FRAME_MAX];
	for (int stale = 0; stale < 16;) {
		int rc = mjl_recv_ctrl(l, frame, l->cfg.io_timeout_ms, msg, msglen);
		if (rc)
			return rc;
		struct mjw_hdr h;
		memcpy(&h, frame, sizeof(h));
		if (h.type == MJW_ACK && h.seq == seq)
			return 0;
		if (h.type == MJW_HOLD && h.seq == seq)
			continue;
		if (h.type != MJW_PONG)
			break;
		stale++;
	}
	return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: %.*s",
	           "not the awaited ACK", -1);
}

int mjl_ping(struct mjl_link *l, uint64_t nonce, char *msg, size_t msglen)
{
	unsigned char frame[CTRL_FRAME_MAX];
	int rc = mjl_send_ctrl_link(l, MJW_PING, nonce);
	if (!rc)
		rc = mjl_recv_ctrl(l, frame, l->cfg.io_timeout_ms, msg, msglen);
	if (rc)
		return rc;
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	if (h.type == MJW_PONG && h.seq == nonce)
		return 0;
	return say(msg, msglen, -MJL_EPROTO, "bad frame from mirror: %.*s",
	           "not the awaited PONG", -1);
}

void mjl_close(struct mjl_link *l)
{
	if (!l)
		return;
	if (l->conn)
		mjl_conn_close(l->conn);
	free(l);
}
