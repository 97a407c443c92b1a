/*
 * conn.c: what every handler of a connection's frames shares (conn.h):
 * the end codes, frame I/O through the transport, and the checks that do
 * not depend on the kind of frame.
 */
#include "conn.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int conn_bad(struct conn *c, const char *why)
{
	c->why = why;
	c->code = MJW_REFUSE_BAD_FRAME;
	return END_BAD;
}

int conn_refuse(struct conn *c, uint64_t code, const char *why)
{
	c->why = why;
	c->code = code;
	return END_REFUSE;
}

int conn_read_err(struct conn *c, int rc)
{
	if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
		c->why = "heartbeat timeout";
		return END_TIMEOUT;
	}
	if (rc == -ECONNRESET)
		c->why = "peer closed the connection";
	else
		c->why = strerror_r(-rc, c->whybuf, sizeof(c->whybuf));
	return END_CLOSED;
}

int conn_read(struct conn *c, void *buf, size_t len)
{
	int rc = mjl_conn_recv(c->lc, buf, len);
	return rc ? conn_read_err(c, rc) : END_OK;
}

int conn_send(struct conn *c, enum mjw_type type, uint64_t seq,
                     const void *body, uint32_t len)
{
	int rc = mjl_conn_send_ctrl(c->lc, type, c->epoch, seq, NULL, body, len);
	if (rc == 0)
		return END_OK;
	c->why = strerror_r(-rc, c->whybuf, sizeof(c->whybuf));
	return END_CLOSED;
}

int conn_read_ctrl(struct conn *c, const struct mjw_hdr *h,
                     unsigned char *buf)
{
	const char *why;
	memcpy(buf, h, sizeof(*h));
	int rc = conn_read(c, buf + MJW_HDR_SIZE, (size_t)(h->len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	if (mjw_check_frame(buf, h->len, &why))
		return conn_bad(c, why);
	return END_OK;
}

/* (L) Still the newest primary, in epoch and incarnation? Everything a
 * connection sends is refused once a newer one has spoken, a PING too, so
 * an idle old primary learns it at its next heartbeat. */
int conn_check_current(struct conn *c)
{
	if (c->m->epoch != c->epoch)
		return conn_refuse(c, MJW_REFUSE_FENCED, "a newer epoch has been seen");
	if (c->m->promoted)
		return conn_refuse(c, MJW_REFUSE_PROMOTED, "this mirror was promoted");
	if (c->m->incarnation != c->incarnation || c->m->inc_switching)
		return conn_refuse(c, MJW_REFUSE_REPLACED, "a newer incarnation of this "
		              "primary has spoken");
	return END_OK;
}

/*
 * Every SETSIZE and WRITE extent of a checked frame within the operator's
 * bound (--max-file-size): a batch asking for more is refused as a bad
 * frame before it is logged or acked, never left to fail at apply time.
 */
int conn_check_extents(struct conn *c, const void *frame)
{
	if (log_frame_extents(frame, c->m->max_file_size, c->whybuf,
	                      sizeof(c->whybuf)))
		return conn_bad(c, c->whybuf);
	return END_OK;
}
