/*
 * metrics.c: the Prometheus endpoint (metrics.h).
 *
 * Every scrape takes one status snapshot (status.c: the figures mojimctl
 * shows, copied under the mirror lock and nothing more) and writes it into
 * a buffer of its own, bounded; an answer that would not fit is a 500,
 * never a truncated exposition. Names are mojim_*, in base units (_bytes,
 * _seconds); counters end in _total and count since this process started;
 * a state is a gauge per possible value (1 for the current one), so that
 * an alert can name the value.
 *
 * What a hostile client can hold: libmicrohttpd's one polling thread
 * serves at most METRICS_CONNS connections (more are closed as they come),
 * each with at most METRICS_POOL bytes for its request and dropped after
 * METRICS_TIMEOUT_S seconds without traffic; each answer is at most
 * METRICS_MAX bytes, freed once sent.
 */
#include "metrics.h"
#include "mirror.h"
#include "status.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define METRICS_CONNS 16
#define METRICS_TIMEOUT_S 5
#define METRICS_POOL (32 * 1024)
#define METRICS_MAX (64 * 1024)
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	int fd;                /* bound and listening since metrics_open */
	int ipv6;
	char addr[300];        /* HOST:PORT bound */
	struct MHD_Daemon *d;  /* NULL until metrics_start */
	struct mirror *m;
};

/* The answer being written: a full one sets full, and is not served. */
struct out {
	char *p;
	size_t len, n;
	int full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(o->p + o->n, o->len - o->n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= o->len - o->n)
		o->full = 1;
	else
		o->n += (size_t)w;
}

static void family(struct out *o, const char *name, const char *type,
                   const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* s as a label value: backslash, double quote and newline escaped. */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t n = 0;
	for (; *s && n + 2 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[n++] = '\\';
		buf[n++] = *s == '\n' ? 'n' : *s;
	}
	buf[n] = '\0';
	return buf;
}

enum kind { K_U64, K_INT, K_DBL, K_MS, K_NS }; /* K_MS, K_NS: as seconds */

/* One figure of a struct (status, or backup_status) at offset off. */
struct figure {
	const char *name, *type, *help;
	size_t off;
	enum kind kind;
};

#define G "gauge"
#define C "counter"
#define S(f) offsetof(struct status, f)
#define B(f) offsetof(struct backup_status, f)

static const struct figure node_figures[] = {
	{"mojim_epoch", G, "Newest epoch this node has seen (persisted).",
	 S(epoch), K_U64},
	{"mojim_connections", G, "Connections open now (primaries, or a "
	 "mirror's forwarder).", S(conns), K_INT},
	{"mojim_seq_received", G, "Highest sequence number of a complete "
	 "logged batch.", S(received), K_U64},
	{"mojim_seq_durable", G, "Every batch up to this one is logged or "
	 "applied.", S(durable), K_U64},
	{"mojim_seq_applied", G, "Every batch up to this one is applied to the "
	 "replica (persisted).", S(applied), K_U64},
	{"mojim_log_used_bytes", G, "Bytes of the log rings in use.", S(used),
	 K_U64},
	{"mojim_log_size_bytes", G, "Bytes of the log rings in all.", S(total),
	 K_U64},
	{"mojim_received_bytes_total", C, "Bytes received from peers.",
	 S(bytes), K_U64},
	{"mojim_placed_bytes_total", C, "Of those, bytes the peer wrote into "
	 "the log itself (RDMA).", S(placed), K_U64},
	{"mojim_receive_rate_bytes_per_second", G, "Bytes received per second, "
	 "over the last second or so.", S(rate), K_U64},
	{"mojim_batches_applied_total", C, "Batches applied to the replica.",
	 S(batches), K_U64},
	{"mojim_frames_rejected_total", C, "Frames rejected as bad (their "
	 "connection was closed).", S(rejected), K_U64},
	{"mojim_apply_errors_total", C, "Records that contradicted the replica "
	 "and were skipped.", S(apply_errors), K_U64},
	{"mojim_auth_refused_total", C, "Peers refused for failing the cluster "
	 "key check.", S(auth_refused), K_U64},
	{"mojim_tls_refused_total", C, "Peers refused for failing the TLS "
	 "handshake.", S(tls_refused), K_U64},
	{"mojim_control_refused_total", C, "Control socket callers refused "
	 "(neither root nor the mirror's user).", S(ctl_refused), K_U64},
	{"mojim_evicted_peers_total", C, "Peers cut before completing their "
	 "HELLO.", S(evicted), K_U64},
	{"mojim_keyed", G, "1 if peers must prove the cluster key.", S(keyed),
	 K_INT},
	{"mojim_tls", G, "1 if peers must speak TLS.", S(tls), K_INT},
	{"mojim_promoted", G, "1 once the replica was promoted to a primary's "
	 "home.", S(promoted), K_INT},
	{"mojim_health_batch", G, "The batch that cannot be applied; 0 while "
	 "healthy.", S(health.bad_seq), K_U64},
	{"mojim_copy_received_bytes", G, "Bytes of the running (or last) full "
	 "copy received.", S(copy_bytes), K_U64},
	{"mojim_copy_size_bytes", G, "Bytes of the running (or last) full copy "
	 "in all.", S(copy_total), K_U64},
	{"mojim_copy_duration_seconds", G, "Time the running (or last) full "
	 "copy took so far.", S(copy_ms), K_MS},
	{"mojim_copy_rate_bytes_per_second", G, "Bytes per second of the "
	 "running (or last) full copy.", S(copy_rate), K_DBL},
	{"mojim_copy_remaining_seconds", G, "Time the running full copy still "
	 "needs at its rate.", S(copy_left), K_DBL},
	{"mojim_copies_done_total", C, "Full copies received and swapped in.",
	 S(copies), K_U64},
	{"mojim_stalls_total", C, "Acks held back because the backups lagged "
	 "more than --secondary-thresh.", S(stalls), K_U64},
	{"mojim_stalled_seconds_total", C, "Time acks were held back for the "
	 "backups, summed over connections.", S(stalled_ns), K_NS},
	{"mojim_stalling", G, "1 while the backups lag more than "
	 "--secondary-thresh.", S(stalling), K_INT},
};

static const struct figure backup_figures[] = {
	{"mojim_backup_seq_acked", G, "The backup holds every batch up to this "
	 "one.", B(acked), K_U64},
	{"mojim_backup_lag_batches", G, "Durable batches the backup has not "
	 "acknowledged.", B(lag_batches), K_U64},
	{"mojim_backup_lag_bytes", G, "Log bytes the backup has not "
	 "acknowledged.", B(lag_bytes), K_U64},
	{"mojim_backup_lag_seconds", G, "Time since the backup last made "
	 "progress, while it lags.", B(lag_seconds), K_DBL},
	{"mojim_backup_stalling", G, "1 if this backup is the one the mirror "
	 "stalls acks for.", B(stalling), K_INT},
	{"mojim_backup_copies_total", C, "Full copies of the replica sent to "
	 "the backup.", B(copies), K_U64},
};

/* The value of f in the struct at base, as the rest of a sample line. */
static void value(struct out *o, const void *base, const struct figure *f)
{
	const char *p = (const char *)base + f->off;
	uint64_t u = 0;
	double d = 0;
	int i = 0;
	if (f->kind == K_INT)
		memcpy(&i, p, sizeof(i));
	else if (f->kind == K_DBL)
		memcpy(&d, p, sizeof(d));
	else
		memcpy(&u, p, sizeof(u));
	if (f->kind == K_INT)
		put(o, " %d\n", i);
	else if (f->kind == K_DBL)
		put(o, " %.3f\n", d);
	else if (f->kind == K_MS)
		put(o, " %.3f\n", (double)u / 1e3);
	else if (f->kind == K_NS)
		put(o, " %.9f\n", (double)u / 1e9);
	else
		put(o, " %llu\n", (unsigned long long)u);
}

static const char *role_name(int i)
{
	return i == 0 ? "mirror" : i == 1 ? "backup" : NULL;
}

static const char *health_name(int i)
{
	return i == 0 ? "ok" : i == 1 ? "unhealthy" : NULL;
}

/* A state as one gauge per possible value (names(i), NULL past the last),
 * 1 for current; a backup's also name the backup (an escaped label). */
static void stateset(struct out *o, const char *name, const char *backup,
                     const char *(*names)(int), int current)
{
	for (int i = 0; names(i); i++) {
		if (backup)
			put(o, "%s{backup=\"%s\",state=\"%s\"} %d\n", name, backup,
			    names(i), i == current);
		else
			put(o, "%s{state=\"%s\"} %d\n", name, names(i), i == current);
	}
}

/* What this node is: its identity, role, health and copy state. */
static void node_states(struct out *o, const struct mirror *m,
                        const struct status *s)
{
	char listen[2 * sizeof(m->listen_addr)];
	family(o, "mojim_info", G, "This node's identity; always 1.");
	put(o, "mojim_info{cluster_id=\"%016llx\",listen=\"%s\",backend=\"%s\"} "
	    "1\n", (unsigned long long)s->cluster,
	    label(m->listen_addr, listen, sizeof(listen)),
	    m->cfg.data_on_disk ? "disk" : "pmem");
	family(o, "mojim_role", G, "1 for this node's role.");
	for (int i = 0; role_name(i); i++)
		put(o, "mojim_role{role=\"%s\"} %d\n", role_name(i),
		    i == m->cfg.role_backup);
	family(o, "mojim_health", G, "1 for the replica's health: unhealthy "
	       "while a logged batch cannot be applied.");
	stateset(o, "mojim_health", NULL, health_name, s->health.unhealthy);
	family(o, "mojim_copy_state", G, "1 for the state of a full copy into "
	       "this node's replica.");
	stateset(o, "mojim_copy_state", NULL, status_copy_state_name,
	         s->copy_state);
}

/* Every backup's figures, labelled backup="ADDR:PORT"; no family at all
 * on a node without backups. */
static void backups(struct out *o, const struct status *s)
{
	char addr[MIRROR_MAX_BACKUPS][2 * sizeof(s->backups[0].addr)];
	size_t nfig = sizeof(backup_figures) / sizeof(backup_figures[0]);
	if (!s->nbackups)
		return;
	for (int i = 0; i < s->nbackups; i++)
		label(s->backups[i].addr, addr[i], sizeof(addr[i]));
	family(o, "mojim_backup_state", G, "1 for the backup's state (down, "
	       "live, lost, needs-copy).");
	for (int i = 0; i < s->nbackups; i++)
		stateset(o, "mojim_backup_state", addr[i], forward_state_name,
		         s->backups[i].state);
	for (size_t f = 0; f < nfig; f++) {
		const struct figure *fig = &backup_figures[f];
		family(o, fig->name, fig->type, fig->help);
		for (int i = 0; i < s->nbackups; i++) {
			put(o, "%s{backup=\"%s\"}", fig->name, addr[i]);
			value(o, &s->backups[i], fig);
		}
	}
}

/* The exposition of m's figures into o. */
static void exposition(struct out *o, struct mirror *m)
{
	struct status s;
	size_t nfig = sizeof(node_figures) / sizeof(node_figures[0]);
	status_take(m, &s);
	node_states(o, m, &s);
	for (size_t f = 0; f < nfig; f++) {
		const struct figure *fig = &node_figures[f];
		family(o, fig->name, fig->type, fig->help);
		put(o, "%s", fig->name);
		value(o, &s, fig);
	}
	backups(o, &s);
}

/* A short constant answer (404, 405, 500); allow: the Allow header. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
                             const char *text, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO; /* the connection is closed */
	enum MHD_Result ok = MHD_add_response_header(
		r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (ok == MHD_YES && allow)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

/* GET /metrics: the exposition in a buffer of this request's own. */
static enum MHD_Result scrape(struct metrics *x, struct MHD_Connection *c)
{
	struct out o = {.p = malloc(METRICS_MAX), .len = METRICS_MAX};
	if (!o.p)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n",
		             NULL);
	exposition(&o, x->m);
	if (o.full) {
		free(o.p);
		mlog("metrics: the figures do not fit %d bytes: answered 500",
		     METRICS_MAX);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the metrics do "
		             "not fit the answer's buffer\n", NULL);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(
		o.n, o.p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(o.p);
		return MHD_NO;
	}
	enum MHD_Result ok = MHD_add_response_header(
		r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* Every request, once its headers are in: answered at once (a body, if
 * any, is never read). */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_len, void **req)
{
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are "
		             "at /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is "
		             "answered\n", MHD_HTTP_METHOD_GET);
	return scrape(cls, c);
}

/* libmicrohttpd's messages, as the mirror's (one line each). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[300];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	mlog("metrics: %s", msg);
}

/* x->addr: the host as given, the port as bound. */
static void bound_name(struct metrics *x, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned port = 0;
	if (getsockname(x->fd, (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ?
		             ((struct sockaddr_in6 *)&ss)->sin6_port :
		             ((struct sockaddr_in *)&ss)->sin_port);
	int host = (int)(strrchr(addr, ':') - addr); /* parsed: it has one */
	snprintf(x->addr, sizeof(x->addr), "%.*s:%u", host, addr, port);
}

int metrics_open(const char *addr, struct metrics **out, const char **why)
{
	struct sockaddr_storage ss;
	unsigned len;
	int one = 1;
	if (mjl_parse_addr(addr, &ss, &len, why))
		return -EINVAL;
	struct metrics *x = calloc(1, sizeof(*x));
	if (!x)
		return *why = "out of memory", -ENOMEM;
	x->ipv6 = ss.ss_family == AF_INET6;
	x->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Listening at once: a port someone else listens on fails here,
	 * even with SO_REUSEADDR (which a restart needs, its scrapes' ends
	 * in TIME_WAIT). */
	if (x->fd < 0 ||
	    setsockopt(x->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(x->fd, (struct sockaddr *)&ss, len) ||
	    listen(x->fd, METRICS_CONNS)) {
		int e = errno;
		if (x->fd >= 0)
			close(x->fd);
		free(x);
		return *why = "cannot listen on that address", -e;
	}
	bound_name(x, addr);
	*out = x;
	return 0;
}

const char *metrics_addr(const struct metrics *x)
{
	return x->addr;
}

int metrics_start(struct metrics *x, struct mirror *m, const char **why)
{
	/* libmicrohttpd closes the socket it is given when it stops, and on
	 * most of its failures: it gets a descriptor of its own, and x->fd
	 * stays ours to close (on a failure its copy may stay open: the
	 * process ends on one). */
	int fd = dup(x->fd);
	if (fd < 0)
		return *why = "cannot duplicate the metrics socket", -errno;
	x->m = m;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	                 (x->ipv6 ? MHD_USE_IPv6 : 0);
	x->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, x,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_POOL,
		MHD_OPTION_END);
	if (!x->d)
		return *why = "libmicrohttpd cannot serve (logged above)", -EIO;
	return 0;
}

void metrics_close(struct metrics *x)
{
	if (!x)
		return;
	if (x->d)
		MHD_stop_daemon(x->d); /* joins its thread, closes its socket */
	close(x->fd);
	free(x);
}
