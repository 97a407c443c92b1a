/*
 * control.c: DIR/control.sock, the operator's window (mojimctl).
 *
 * One request line per connection ("status", "status json", or "promote"
 * with "force" and "lose-from SEQ" as options), one answer, then close.
 * The numbers are status.c's snapshot (the metrics endpoint shows the
 * same), taken under the mirror lock only while they are copied, so a
 * slow client cannot stall replication.
 *
 * Who may ask: the socket is 0600 inside DIR (0700), and each caller's
 * uid is checked again with SO_PEERCRED (root or the mirror's own user),
 * so loosened modes alone do not let another user promote the replica.
 */
#include "mirror.h"
#include "status.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* s as the inside of a JSON string (quotes, backslashes, controls). */
static const char *json_str(const char *s, char *out, size_t len)
{
	size_t n = 0;
	for (; *s && n + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, len - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(out + n, len - n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

/* The replica's health: ok, or the batch that cannot be applied and why. */
static int status_health(const struct status *s, int json, char *buf,
                         size_t len)
{
	const struct health *h = &s->health;
	char why[2 * sizeof(h->why)];
	if (!h->unhealthy)
		return snprintf(buf, len, json ? ", \"health\": \"ok\"" :
		                "health: ok\n");
	if (json)
		return snprintf(buf, len, ", \"health\": \"unhealthy\", "
		                "\"health_batch\": %llu, \"health_error\": \"%s\"",
		                (unsigned long long)h->bad_seq,
		                json_str(h->why, why, sizeof(why)));
	return snprintf(buf, len, "health: unhealthy\nhealth_batch: %llu\n"
	                "health_error: %s\n", (unsigned long long)h->bad_seq,
	                h->why);
}

/* Identity, promotion and the full copy's progress (rate, time left). */
static void status_more(const struct status *s, int json, char *buf,
                        size_t len)
{
	const char *fmt = json ?
		", \"cluster_id\": \"%016llx\", \"promoted\": %d, "
		"\"copy\": \"%s\", \"copy_bytes\": %llu, \"copy_total\": %llu, "
		"\"copy_mb_per_sec\": %.1f, \"copy_seconds_left\": %.1f, "
		"\"copies_done\": %llu, \"control_refused\": %llu, "
		"\"keyed\": %d, \"auth_refused\": %llu, \"tls\": %d, "
		"\"tls_refused\": %llu, \"evicted\": %llu, \"stalling\": %d, "
		"\"stalls\": %llu, \"stalled_ms\": %llu, \"bytes_placed\": %llu}\n" :
		"cluster_id: %016llx\npromoted: %d\ncopy: %s\n"
		"copy_bytes: %llu/%llu\ncopy_mb_per_sec: %.1f\n"
		"copy_seconds_left: %.1f\ncopies_done: %llu\n"
		"control_refused: %llu\nkeyed: %d\nauth_refused: %llu\n"
		"tls: %d\ntls_refused: %llu\nevicted: %llu\nstalling: %d\n"
		"stalls: %llu\nstalled_ms: %llu\nbytes_placed: %llu\n";
	const char *copy = status_copy_state_name(s->copy_state);
	snprintf(buf, len, fmt, (unsigned long long)s->cluster, s->promoted,
	         copy ? copy : "?", (unsigned long long)s->copy_bytes,
	         (unsigned long long)s->copy_total, s->copy_rate / 1e6,
	         s->copy_left, (unsigned long long)s->copies,
	         (unsigned long long)s->ctl_refused, s->keyed,
	         (unsigned long long)s->auth_refused, s->tls,
	         (unsigned long long)s->tls_refused,
	         (unsigned long long)s->evicted, s->stalling,
	         (unsigned long long)s->stalls,
	         (unsigned long long)(s->stalled_ns / 1000000),
	         (unsigned long long)s->placed);
}

/* One backup: a line of text, or an element of a JSON array. */
static int status_backup(const struct backup_status *b, int json, int first,
                         char *buf, size_t len)
{
	char addr[2 * sizeof(b->addr)];
	const char *state = forward_state_name(b->state);
	state = state ? state : "?";
	if (json)
		return snprintf(buf, len, "%s{\"addr\": \"%s\", \"state\": \"%s\", "
		        "\"acked\": %llu, \"lag_batches\": %llu, \"lag_bytes\": %llu, "
		        "\"lag_seconds\": %.1f, \"stalling\": %d, \"copies\": %llu}",
		        first ? "" : ", ", json_str(b->addr, addr, sizeof(addr)),
		        state, (unsigned long long)b->acked,
		        (unsigned long long)b->lag_batches,
		        (unsigned long long)b->lag_bytes, b->lag_seconds, b->stalling,
		        (unsigned long long)b->copies);
	return snprintf(buf, len, "backup %s: %s, acked %llu, lag %llu batches "
	                "%llu bytes %.1f s, stalling %d, copies %llu%s%s\n",
	                b->addr, state, (unsigned long long)b->acked,
	                (unsigned long long)b->lag_batches,
	                (unsigned long long)b->lag_bytes, b->lag_seconds,
	                b->stalling, (unsigned long long)b->copies,
	                b->why[0] ? ": " : "", b->why);
}

/* Appends each backup's line (text), or "backups": [...] inside the JSON
 * object that buf ends with; room for the closing "]}\n" is kept. */
static void status_backups(const struct status *s, int json, char *buf,
                           size_t len)
{
	size_t n = strlen(buf);
	if (!s->nbackups || n + 32 >= len)
		return;
	if (json && n >= 2 && !strcmp(buf + n - 2, "}\n"))
		n -= 2;
	if (json)
		n += (size_t)snprintf(buf + n, len - n, ", \"backups\": [");
	for (int i = 0; i < s->nbackups && n < len - 4; i++) {
		int w = status_backup(&s->backups[i], json, i == 0, buf + n,
		                      len - 4 - n);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n > len - 4)
		n = len - 4; /* a truncated line, as snprintf left it */
	if (json)
		snprintf(buf + n, len - n, "]}\n");
}

void mirror_status(struct mirror *m, int json, char *buf, size_t len)
{
	struct status s;
	char dir[PATH_MAX * 2], data[PATH_MAX * 2];
	const char *d = m->cfg.dir, *dd = m->data_dir;
	status_take(m, &s);
	if (json) {
		d = json_str(d, dir, sizeof(dir));
		dd = json_str(dd, data, sizeof(data));
	}
	double pct = s.total ? 100.0 * (double)s.used / (double)s.total : 0.0;
	const char *backend = m->cfg.data_on_disk ? "disk" : "pmem";
	const char *fmt = json ?
		"{\"role\": \"%s\", \"epoch\": %llu, \"listen\": \"%s\", "
		"\"dir\": \"%s\", \"data_dir\": \"%s\", \"backend\": \"%s\", "
		"\"connections\": %d, \"seq_received\": %llu, "
		"\"seq_durable\": %llu, \"seq_applied\": %llu, "
		"\"log_used\": %llu, \"log_total\": %llu, \"log_fill_pct\": %.1f, "
		"\"bytes_received\": %llu, \"bytes_per_sec\": %llu, "
		"\"batches_applied\": %llu, \"frames_rejected\": %llu, "
		"\"apply_errors\": %llu" :
		"role: %s\nepoch: %llu\nlisten: %s\ndir: %s\ndata_dir: %s\n"
		"backend: %s\nconnections: %d\nseq_received: %llu\n"
		"seq_durable: %llu\nseq_applied: %llu\n"
		"log_fill: %llu/%llu (%.1f%%)\nbytes_received: %llu\n"
		"bytes_per_sec: %llu\nbatches_applied: %llu\n"
		"frames_rejected: %llu\napply_errors: %llu\n";
	int n = snprintf(buf, len, fmt, m->cfg.role_backup ? "backup" : "mirror",
	         (unsigned long long)s.epoch,
	         m->listen_addr,
	         d, dd, backend, s.conns,
	         (unsigned long long)s.received, (unsigned long long)s.durable,
	         (unsigned long long)s.applied, (unsigned long long)s.used,
	         (unsigned long long)s.total, pct, (unsigned long long)s.bytes,
	         (unsigned long long)s.rate, (unsigned long long)s.batches,
	         (unsigned long long)s.rejected,
	         (unsigned long long)s.apply_errors);
	if (n > 0 && (size_t)n < len)
		n += status_health(&s, json, buf + n, len - (size_t)n);
	if (n > 0 && (size_t)n < len)
		status_more(&s, json, buf + n, len - (size_t)n);
	status_backups(&s, json, buf, len);
}

/* "promote [force] [lose-from SEQ]": the words after "promote" in args. */
static void promote_request(struct mirror *m, char *args, char *out,
                            size_t len)
{
	int force = 0;
	uint64_t lose_from = 0;
	char *save = NULL;
	for (char *w = strtok_r(args, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "force") == 0) {
			force = 1;
		} else if (strcmp(w, "lose-from") == 0) {
			w = strtok_r(NULL, " ", &save);
			if (parse_uint(w, UINT64_MAX, &lose_from) || !lose_from) {
				snprintf(out, len, "error: lose-from needs a batch seq\n");
				return;
			}
		} else {
			snprintf(out, len, "error: unknown promote option\n");
			return;
		}
	}
	mirror_promote(m, force, lose_from, out, len);
}

/* 1 if the caller on fd is root or the mirror's own user; otherwise
 * (or when the kernel cannot say) it is answered, logged and counted. */
static int caller_allowed(struct mirror *m, int fd)
{
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);
	char out[160];
	int known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	            len == sizeof(cred);
	if (known && (cred.uid == 0 || cred.uid == geteuid()))
		return 1;
	__atomic_fetch_add(&m->ctl_refused, 1, __ATOMIC_RELAXED);
	if (!known) {
		mlog("control: refused a caller whose uid is unknown");
		snprintf(out, sizeof(out), "error: permission denied\n");
	} else {
		mlog("control: refused uid %u (pid %d): neither root nor the "
		     "mirror's user (uid %u)", (unsigned)cred.uid, (int)cred.pid,
		     (unsigned)geteuid());
		snprintf(out, sizeof(out), "error: permission denied: uid %u is "
		         "neither root nor the mirror's user (uid %u)\n",
		         (unsigned)cred.uid, (unsigned)geteuid());
	}
	mjl_write_full(fd, out, strlen(out));
	return 0;
}

/* Reads one request line (bounded, with a timeout) and answers it. A
 * socket without its timeouts could stall this thread, so it is not served. */
static void serve(struct mirror *m, int fd)
{
	char req[256], out[4 * PATH_MAX + 1024];
	size_t n = 0;
	struct timeval tv = {.tv_sec = 1};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		mlog("control: cannot set a caller's timeouts: %s", strerror(errno));
		return;
	}
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(req, '\n', n))
			break;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	/* After the read, so that the refusal reaches a caller still writing. */
	if (!caller_allowed(m, fd))
		return;
	if (strncmp(req, "promote", 7) == 0 && (!req[7] || req[7] == ' '))
		promote_request(m, req + 7, out, sizeof(out));
	else if (strcmp(req, "status") == 0)
		mirror_status(m, 0, out, sizeof(out));
	else if (strcmp(req, "status json") == 0)
		mirror_status(m, 1, out, sizeof(out));
	else
		snprintf(out, sizeof(out), "error: unknown request\n");
	mjl_write_full(fd, out, strlen(out));
}

static void *control_main(void *arg)
{
	struct mirror *m = arg;
	struct pollfd p = {.fd = m->ctl_fd, .events = POLLIN};
	while (!__atomic_load_n(&m->ctl_stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept4(m->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(m, fd);
		close(fd);
	}
	return NULL;
}

/* Is a live mirror answering on path? */
static int socket_alive(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int alive = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0;
	close(fd);
	return alive;
}

int control_start(struct mirror *m, const char **why)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", m->sock_path);
	if (socket_alive(&a))
		return *why = "another mojim-mirror is running on this DIR", -EBUSY;
	unlink(m->sock_path); /* stale, from a mirror that was killed */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return *why = "cannot create the control socket", -errno;
	/* DIR is 0700 already (make_paths), so the moment between bind and
	 * chmod shows the socket to nobody else. */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    chmod(m->sock_path, 0600) || listen(fd, 16)) {
		int e = errno;
		close(fd);
		return *why = "cannot bind DIR/control.sock (mode 0600)", -e;
	}
	m->ctl_fd = fd;
	int rc = pthread_create(&m->ctl_thread, NULL, control_main, m);
	if (rc) {
		close(fd);
		m->ctl_fd = -1;
		return *why = "cannot start the control thread", -rc;
	}
	m->ctl_started = 1;
	return 0;
}

void control_stop(struct mirror *m)
{
	if (!m->ctl_started)
		return;
	__atomic_store_n(&m->ctl_stop, 1, __ATOMIC_RELEASE);
	pthread_join(m->ctl_thread, NULL);
	close(m->ctl_fd);
	m->ctl_fd = -1;
	unlink(m->sock_path);
	m->ctl_started = 0;
}
