/*
 * server.c: the listener and the connections.
 *
 * One thread per connection, at most --max-conns of them; one more is
 * accepted and closed at once (logged). A connection reads a 16-byte
 * header, checks it (mdw_header_parse: length within 16..48,000,000),
 * reserves that many bytes of the server-wide budget of messages in
 * flight (DOCD_INFLIGHT_MAX; a message past it closes its connection),
 * reads the rest, and answers. A message that does not parse as a whole
 * is answered with an error when it is an OP_MSG or OP_QUERY whose framing
 * held; anything else closes the connection. Nothing a client sends is
 * used before mdb_wire.h has checked it.
 *
 * Every socket call's error ends only its connection; the listener's
 * errors end the server (server_run returns them).
 */
#include "docd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_BUF_MAX (1u << 20) /* a larger read buffer is freed after use */
#define BODY_TIMEOUT_S 30      /* a message's bytes after its header */

struct conn {
	struct docd *d;
	int fd;
	long long id;
	char peer[64];
	uint8_t *buf;
	size_t cap;
	struct mdw_buf out;
	WT_SESSION *session;
	int32_t next_reply_id;
};

/* The open connections' descriptors, so that a stop can cut them. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static int *conn_fds;
static int conn_fds_n;

static void track(int fd, int add)
{
	pthread_mutex_lock(&conns_lock);
	for (int i = 0; i < conn_fds_n; i++) {
		if (conn_fds[i] == (add ? -1 : fd)) {
			conn_fds[i] = add ? fd : -1;
			break;
		}
	}
	pthread_mutex_unlock(&conns_lock);
}

/* Reads n bytes; deadline_ns 0 waits as long as it takes (an idle
 * client), else the bytes must all come by then. */
static int read_full(int fd, void *p, size_t n, uint64_t deadline_ns)
{
	uint8_t *b = p;
	while (n) {
		if (deadline_ns) {
			uint64_t now = docd_now_ns();
			struct pollfd pf = {.fd = fd, .events = POLLIN};
			if (now >= deadline_ns ||
			    poll(&pf, 1, (int)((deadline_ns - now) / 1000000 + 1)) == 0)
				return -1;
		}
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Runs cmd for db into reply (initialized). */
static void run(struct conn *c, const bson_t *cmd, const char *db,
                size_t db_len, bson_t *reply)
{
	const char *why;
	struct docd_req r = {.d = c->d, .conn_id = c->id, .peer = c->peer,
	                     .cmd = cmd, .session = c->session};
	if (mdw_db_name_check(db, db_len, &why) || db_len >= sizeof(r.db)) {
		reply_error(reply, 73, "invalid database name: %s", why);
		return;
	}
	memcpy(r.db, db, db_len);
	r.db[db_len] = '\0';
	atomic_fetch_add(&c->d->requests, 1);
	cmd_run(&r, reply);
}

/* An OP_MSG: the merged command, its $db, the reply unless moreToCome. */
static int on_msg(struct conn *c, const struct mdw_request *req)
{
	const char *why;
	bson_t cmd, reply = BSON_INITIALIZER;
	bson_iter_t it;
	int rc = mdw_msg_merge(&req->msg, &cmd, &why);
	if (rc)
		reply_error(&reply, 9, "%s", why);
	else if (!bson_iter_init_find(&it, &cmd, "$db") ||
	         !BSON_ITER_HOLDS_UTF8(&it))
		reply_error(&reply, 40571, "an OP_MSG command needs a string $db");
	else {
		uint32_t len;
		const char *db = bson_iter_utf8(&it, &len);
		run(c, &cmd, db, len, &reply);
	}
	if (!rc)
		bson_destroy(&cmd);
	if (req->msg.flags & MDW_MSG_MORE_TO_COME) {
		bson_destroy(&reply);
		return 0;
	}
	uint32_t flags = req->msg.checksum ? MDW_MSG_CHECKSUM : 0;
	mdw_buf_reset(&c->out);
	rc = mdw_build_msg(&c->out, ++c->next_reply_id, req->hdr.request_id,
	                   flags, &reply, NULL, 0, &why);
	bson_destroy(&reply);
	if (rc) {
		fprintf(stderr, "mojim-docd: conn %lld: reply not built: %s\n",
		        c->id, why);
		return -1;
	}
	return write_full(c->fd, c->out.data, c->out.len);
}

/* An OP_QUERY on <db>.$cmd: the legacy handshake, answered by OP_REPLY. */
static int on_query(struct conn *c, const struct mdw_request *req)
{
	const char *why;
	bson_t cmd, reply = BSON_INITIALIZER;
	if (!mdw_doc_bson(&req->query.cmd, &cmd))
		reply_error(&reply, 9, "no command in the query");
	else
		run(c, &cmd, req->query.db, req->query.db_len, &reply);
	mdw_buf_reset(&c->out);
	int rc = mdw_build_reply(&c->out, ++c->next_reply_id,
	                         req->hdr.request_id, 0, &reply, &why);
	bson_destroy(&reply);
	if (rc) {
		fprintf(stderr, "mojim-docd: conn %lld: reply not built: %s\n",
		        c->id, why);
		return -1;
	}
	return write_full(c->fd, c->out.data, c->out.len);
}

/* An OP_MSG whose framing held but whose content did not parse gets an
 * error reply; everything else that does not parse closes. */
static int on_bad(struct conn *c, const struct mdw_header *h, int err,
                  const char *why)
{
	if (h->opcode != MDW_OP_MSG || err == MDW_E_LENGTH) {
		fprintf(stderr, "mojim-docd: conn %lld from %s: %s (%s); closed\n",
		        c->id, c->peer, why, mdw_err_name(err));
		return -1;
	}
	bson_t reply = BSON_INITIALIZER;
	reply_error(&reply, err == MDW_E_BSON ? 22 : 9, "%s", why);
	mdw_buf_reset(&c->out);
	int rc = mdw_build_msg(&c->out, ++c->next_reply_id, h->request_id, 0,
	                       &reply, NULL, 0, &why);
	bson_destroy(&reply);
	return rc ? -1 : write_full(c->fd, c->out.data, c->out.len);
}

/* Reads and answers one message: 0, or -1 to close the connection. */
static int one_message(struct conn *c)
{
	uint8_t hb[MDW_HEADER_SIZE];
	struct mdw_header h;
	const char *why;
	if (read_full(c->fd, hb, sizeof(hb), 0))
		return -1; /* closed by the client, or a socket error */
	if (mdw_header_parse(hb, sizeof(hb), &h, &why))
		return on_bad(c, &(struct mdw_header){.opcode = 0}, MDW_E_LENGTH,
		              why);
	size_t len = (size_t)h.length;
	if (atomic_fetch_add(&c->d->inflight, (long long)len) + (long long)len >
	    (long long)DOCD_INFLIGHT_MAX) {
		atomic_fetch_sub(&c->d->inflight, (long long)len);
		fprintf(stderr, "mojim-docd: conn %lld: %zu bytes would pass the "
		        "server's %u in flight; closed\n", c->id, len,
		        DOCD_INFLIGHT_MAX);
		return -1;
	}
	int rc = -1;
	if (len > c->cap) {
		uint8_t *p = realloc(c->buf, len);
		if (!p)
			goto out;
		c->buf = p;
		c->cap = len;
	}
	memcpy(c->buf, hb, sizeof(hb));
	/* The rest of a message must follow its header: a client that
	 * promises bytes and sends none holds the budget BODY_TIMEOUT_S at
	 * most. */
	if (read_full(c->fd, c->buf + sizeof(hb), len - sizeof(hb),
	              docd_now_ns() + BODY_TIMEOUT_S * 1000000000ull)) {
		fprintf(stderr, "mojim-docd: conn %lld from %s: a message of %zu "
		        "bytes did not arrive whole within %d s; closed\n", c->id,
		        c->peer, len, BODY_TIMEOUT_S);
		goto out;
	}
	struct mdw_request req;
	int err = mdw_parse(c->buf, len, &req, &why);
	if (err)
		rc = on_bad(c, &h, err, why);
	else
		rc = h.opcode == MDW_OP_MSG ? on_msg(c, &req) : on_query(c, &req);
out:
	atomic_fetch_sub(&c->d->inflight, (long long)len);
	if (c->cap > IDLE_BUF_MAX) { /* idle connections hold little */
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	return rc;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	/* Snapshot isolation: WiredTiger detects write-write conflicts only
	 * there (its default, read-committed, lets concurrent updates of a
	 * document overwrite each other and _id checks race). */
	int rc = c->d->conn->open_session(c->d->conn, NULL, "isolation=snapshot",
	                                  &c->session);
	if (rc)
		fprintf(stderr, "mojim-docd: conn %lld: no WiredTiger session: "
		        "%s\n", c->id, wiredtiger_strerror(rc));
	mdw_buf_init(&c->out, 0);
	while (!rc && one_message(c) == 0)
		;
	if (c->session)
		c->session->close(c->session, NULL);
	track(c->fd, 0);
	close(c->fd);
	mdw_buf_free(&c->out);
	free(c->buf);
	atomic_fetch_sub(&c->d->conns_open, 1);
	free(c);
	return NULL;
}

static void start_conn(struct docd *d, int fd, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?", serv[16] = "?";
	getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	            : sizeof(struct sockaddr_in), host, sizeof(host), serv,
	            sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	long long id = atomic_fetch_add(&d->conns_total, 1) + 1;
	if (atomic_fetch_add(&d->conns_open, 1) >= d->cfg.max_conns) {
		atomic_fetch_sub(&d->conns_open, 1);
		fprintf(stderr, "mojim-docd: connection from %s:%s refused: "
		        "%d open (--max-conns)\n", host, serv, d->cfg.max_conns);
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;
	pthread_attr_t attr;
	pthread_t t;
	if (!c || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		goto fail;
	c->d = d;
	c->fd = fd;
	c->id = id;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	track(fd, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (!rc)
		return;
	errno = rc;
	track(fd, 0);
fail:
	fprintf(stderr, "mojim-docd: connection from %s:%s: %s; closed\n", host,
	        serv, strerror(errno ? errno : ENOMEM));
	free(c);
	close(fd);
	atomic_fetch_sub(&d->conns_open, 1);
}

static int listen_on(const struct docd_config *c, char *err, size_t len)
{
	char port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *ai;
	snprintf(port, sizeof(port), "%d", c->port);
	int rc = getaddrinfo(c->bind, port, &hints, &ai);
	if (rc)
		return snprintf(err, len, "--bind %s: %s", c->bind,
		                gai_strerror(rc)), -1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		snprintf(err, len, "listening on %s:%d: %s", c->bind, c->port,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ?
	             ((struct sockaddr_in6 *)&ss)->sin6_port :
	             ((struct sockaddr_in *)&ss)->sin_port);
}

/* Cuts every connection and waits (bounded) for their threads. */
static void drain(struct docd *d)
{
	pthread_mutex_lock(&conns_lock);
	for (int i = 0; i < conn_fds_n; i++)
		if (conn_fds[i] >= 0)
			shutdown(conn_fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&conns_lock);
	/* Every connection thread must be gone before WiredTiger closes: a
	 * command still running (a long scan, a write waiting for the mirror
	 * under policy block) is waited for, however long it takes. */
	for (long i = 1; atomic_load(&d->conns_open) > 0; i++) {
		usleep(10000);
		if (i % 1000 == 0)
			fprintf(stderr, "mojim-docd: stopping: waiting for %d "
			        "connections to finish their commands\n",
			        atomic_load(&d->conns_open));
	}
}

int server_run(struct docd *d, volatile int *stop, char *err, size_t len)
{
	conn_fds_n = d->cfg.max_conns;
	conn_fds = malloc(sizeof(int) * (size_t)conn_fds_n);
	if (!conn_fds)
		return snprintf(err, len, "no memory"), -1;
	for (int i = 0; i < conn_fds_n; i++)
		conn_fds[i] = -1;
	int lfd = listen_on(&d->cfg, err, len);
	if (lfd < 0)
		return -1;
	fprintf(stderr, "mojim-docd: listening on %s:%d dbpath %s mode %s\n",
	        d->cfg.bind, bound_port(lfd), d->cfg.dbpath, d->cfg.mode);
	int rc = 0;
	while (!*stop) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int n = poll(&p, 1, 200);
		if (n < 0 && errno != EINTR) {
			snprintf(err, len, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (n <= 0)
			continue;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd >= 0)
			start_conn(d, fd, (struct sockaddr *)&ss);
		else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			usleep(100000); /* out of descriptors: wait, do not spin */
	}
	close(lfd);
	drain(d);
	return rc;
}
