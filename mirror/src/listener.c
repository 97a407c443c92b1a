/*
 * listener.c: the transport's listener (mjl_listen), and one thread per
 * connection from accept to close: the transport takes the peer (with TLS,
 * the handshake; with RDMA, the queue pair), then
 * ingest.c serves its frames; when they end, the reason is logged once, a
 * REFUSE sent when there is one, the connection's unfinished batch rewound
 * out of its ring and its slot freed.
 */
#include "conn.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Logs why the connection ends, refuses if there is a reason to. */
static void conn_report(struct conn *c, int end)
{
	char idx[16];
	if (c->index >= 0)
		snprintf(idx, sizeof(idx), "%d", c->index);
	else
		snprintf(idx, sizeof(idx), "-");
	if (end == END_BAD) {
		__atomic_fetch_add(&c->m->frames_rejected, 1, __ATOMIC_RELAXED);
		mlog("conn %s from %s: rejected frame: %s", idx, c->peer, c->why);
	} else if (end == END_REFUSE) {
		mlog("conn %s from %s: refused: %s", idx, c->peer, c->why);
	} else if (end == END_TIMEOUT || end == END_FAILED) {
		mlog("conn %s from %s: closed: %s", idx, c->peer, c->why);
	} else {
		minfo("conn %s from %s: closed: %s", idx, c->peer,
		      c->why ? c->why : "done");
	}
	if (c->lc && (end == END_BAD || end == END_REFUSE))
		mjl_send_refuse(c->lc, &c->sess, c->authenticated, c->code, c->why);
}

static void conn_free(struct conn *c)
{
	struct mirror *m = c->m;
	/* No write of this peer lands in the ring once another owns it. */
	if (c->lc && c->ring)
		(void)mjl_conn_expose(c->lc, NULL);
	pthread_mutex_lock(&m->lock);
	if (m->copy_conn == c) {
		copy_abort(m);
		m->copy_conn = NULL;
	}
	if (c->ring) {
		ring_rewind(c->ring); /* a batch without its LAST fragment */
		c->ring->owned = 0;
	}
	conns_remove(m, c);
	pthread_mutex_unlock(&m->lock);
	if (c->lc)
		mjl_conn_close(c->lc);
	else
		mjl_peer_drop(&c->in);
	free(c->copybuf);
	log_copy_free(&c->placed_copy);
	free(c);
}

/*
 * (L) A connection that ends because the mirror cut it says why: the
 * listener evicted it before its HELLO, or the replica became unhealthy
 * (then the primary gets a REFUSE naming the batch and the error).
 */
static int conn_cut_reason(struct conn *c, int end)
{
	if (end != END_CLOSED && end != END_TIMEOUT)
		return end;
	if (c->evicted) { /* logged as a warning, like a timeout */
		c->why = c->evicted;
		return END_TIMEOUT;
	}
	if (c->admitted && health_refusal(c->m, c->whybuf, sizeof(c->whybuf)))
		return conn_refuse(c, MJW_REFUSE_UNHEALTHY, c->whybuf);
	return end;
}

/*
 * The transport takes the peer: a socket's options, and with TLS the whole
 * TLS handshake (so a plaintext peer of a TLS mirror ends here, refused and
 * counted, before a byte of it is read as a frame); with RDMA the queue
 * pair and the accept.
 */
static int conn_open(struct conn *c)
{
	struct mirror *m = c->m;
	const char *why = "the transport refused the connection";
	int rc = m->transport->accept(m->transport_ctx, &c->in,
	                              (int)m->cfg.hb_timeout_ms, &c->lc, &why);
	if (!rc)
		return END_OK;
	if (rc == -MJL_EAUTH || rc == -MJL_EPROTO)
		__atomic_fetch_add(&m->tls_refused, 1, __ATOMIC_RELAXED);
	snprintf(c->whybuf, sizeof(c->whybuf), "%s", why);
	c->why = c->whybuf;
	return rc == -MJL_EAUTH || rc == -MJL_EPROTO ? END_REFUSE : END_CLOSED;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	int end = conn_open(c);
	if (end == END_OK)
		end = ingest_hello(c);
	if (end == END_OK)
		end = ingest_loop(c);
	pthread_mutex_lock(&c->m->lock);
	end = conn_cut_reason(c, end);
	pthread_mutex_unlock(&c->m->lock);
	conn_report(c, end);
	conn_free(c);
	return NULL;
}

int listener_open(struct mirror *m, const char **why)
{
	int rc = mjl_listen(m->transport, m->cfg.listen, &m->listener, why);
	if (!rc)
		snprintf(m->listen_addr, sizeof(m->listen_addr), "%s",
		         m->listener.name);
	return rc;
}

/* Takes a new connection: a slot, a thread, or a refusal. */
static void listener_accept(struct mirror *m)
{
	struct mjl_peer in;
	if (mjl_listener_take(&m->listener, &in))
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		mjl_peer_drop(&in);
		return;
	}
	c->m = m;
	c->in = in;
	c->index = -1;
	c->accepted_ns = now_ns();
	snprintf(c->peer, sizeof(c->peer), "%s", in.name);
	pthread_mutex_lock(&m->lock);
	conns_bound_unadmitted(m, 1);
	if (m->stopping || conns_add(m, c)) {
		pthread_mutex_unlock(&m->lock);
		mlog("conn - from %s: refused: too many connections", c->peer);
		mjl_peer_drop(&c->in);
		free(c);
		return;
	}
	pthread_mutex_unlock(&m->lock);

	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c)) {
		mlog("conn - from %s: cannot start a thread", c->peer);
		conn_free(c);
	}
	pthread_attr_destroy(&attr);
}

/* Closes every connection and waits for their threads to finish. */
static void listener_drain(struct mirror *m)
{
	pthread_mutex_lock(&m->lock);
	m->stopping = 1;
	pthread_cond_broadcast(&m->space_cond);
	pthread_cond_broadcast(&m->forward_cond);
	conns_cut_all(m);
	while (m->nconns > 0)
		pthread_cond_wait(&m->conns_cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
}

void listener_run(struct mirror *m, volatile int *stop)
{
	struct pollfd p = {.fd = m->listener.fd, .events = POLLIN};
	while (!*stop) {
		int n = poll(&p, 1, 100);
		if (n > 0)
			listener_accept(m);
		pthread_mutex_lock(&m->lock);
		conns_bound_unadmitted(m, 0);
		pthread_mutex_unlock(&m->lock);
	}
	/* Connections first: an RDMA request not yet accepted still uses the
	 * listener's event channel. */
	listener_drain(m);
	mjl_listener_close(&m->listener);
}
