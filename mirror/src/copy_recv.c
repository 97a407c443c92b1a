/*
 * copy_recv.c: the frames of a full copy (repl/src/copy.c sends them):
 * COPY_BEGIN takes the copy for this connection, COPY frames are checked
 * and applied to the staging directory, COPY_DONE swaps it in (copy.c).
 * A batch of the copy is never logged: the copy replaces the replica whole.
 */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COPY_BEGIN: this connection sends a full copy into the staging dir. */
int copy_recv_begin(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why = NULL;
	pthread_mutex_lock(&m->lock);
	int rc = conn_check_current(c);
	if (!rc && m->copy_conn && m->copy_conn != c)
		rc = conn_refuse(c, MJW_REFUSE_BUSY, "another full copy is running");
	if (!rc)
		m->copy_conn = c;
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	if (!c->copybuf && !(c->copybuf = malloc(m->cfg.slot_size))) {
		c->why = "out of memory";
		return END_CLOSED;
	}
	if (copy_begin(m, h->seq, &why)) {
		c->why = why;
		return END_CLOSED;
	}
	return conn_send(c, MJW_ACK, 0, NULL, 0);
}

/* A BATCH frame flagged COPY: checked, applied to the staging dir. */
int copy_recv_frame(struct conn *c, const struct mjw_hdr *h)
{
	const char *why;
	char err[120];
	if (c->m->copy_conn != c || !c->copybuf)
		return conn_bad(c, "COPY frame without COPY_BEGIN");
	if (h->epoch != c->epoch || h->cluster != c->m->cluster_id)
		return conn_bad(c, "COPY frame of another epoch or cluster");
	pthread_mutex_lock(&c->m->lock);
	int rc = conn_check_current(c);
	pthread_mutex_unlock(&c->m->lock);
	if (rc)
		return rc;
	memcpy(c->copybuf, h, sizeof(*h));
	rc = conn_read(c, c->copybuf + MJW_HDR_SIZE,
	                   (size_t)(h->len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	if (mjw_check_frame(c->copybuf, h->len, &why))
		return conn_bad(c, why);
	if ((rc = conn_check_extents(c, c->copybuf)))
		return rc;
	if (copy_apply(c->m, c->copybuf, err, sizeof(err))) {
		snprintf(c->whybuf, sizeof(c->whybuf), "copy: %s", err);
		c->why = c->whybuf;
		return END_CLOSED;
	}
	return END_OK;
}

/* COPY_DONE: the staged copy becomes the replica, at seq. */
int copy_recv_done(struct conn *c, const struct mjw_hdr *h)
{
	struct mirror *m = c->m;
	const char *why = NULL;
	if (m->copy_conn != c)
		return conn_bad(c, "COPY_DONE without COPY_BEGIN");
	pthread_mutex_lock(&m->lock);
	int rc = conn_check_current(c);
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	if (h->seq == 0 || copy_done(m, h->seq, &why)) {
		c->why = why ? why : "COPY_DONE without a seq";
		return END_CLOSED;
	}
	pthread_mutex_lock(&m->lock);
	m->copy_conn = NULL;
	pthread_mutex_unlock(&m->lock);
	return conn_send(c, MJW_ACK, h->seq, NULL, 0);
}
