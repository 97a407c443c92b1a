/*
 * env.c: one database home per durability mode, opened as MongoDB's
 * write concerns would run WiredTiger (README.md), with a fresh mirror
 * on 127.0.0.1:0 for the replicated modes; closed, stopped and removed
 * afterwards, on success or failure.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct mode_def modes[] = {
	{"journaled", K_JOURNALED, NULL, 0, -1,
	 "stock, log fsync per commit, on disk (j:true)"},
	{"buffered", K_BUFFERED, NULL, 0, -1,
	 "stock, log flushed every 100 ms, on disk (w:1)"},
	{"none", K_NONE, NULL, 0, -1, "stock, no log, /dev/shm"},
	{"unreplicated", K_MOJIM, "unreplicated", 0, -1,
	 "mojim, local pmem flush only"},
	{"sync", K_MOJIM, "sync", 1, -1, "mojim, mirror ack per commit"},
	/* both sides busy-poll 50 us for the ack before sleeping */
	{"sync_spin", K_MOJIM, "sync", 1, 50, "mojim sync, spin_us=50"},
	{"syncflush", K_MOJIM, "syncflush", 1, -1,
	 "mojim, local flush + mirror ack"},
	{"async", K_MOJIM, "async", 1, -1, "mojim, local flush, ships behind"},
};
const int nmodes = (int)(sizeof(modes) / sizeof(modes[0]));

#define FLUSH_MS 100 /* MongoDB's journal commit interval */

const struct mode_def *mode_find(const char *name)
{
	for (int i = 0; i < nmodes; i++)
		if (!strcmp(modes[i].name, name))
			return &modes[i];
	return NULL;
}

static int build_config(const struct env *e, const struct env_opts *o,
                        char *buf, size_t len)
{
	/* MongoDB checkpoints every 60 s; archive keeps the log bounded */
	const char *log = "log=(enabled,file_max=16MB,archive=true)";
	const struct mode_def *m = e->m;
	int n = snprintf(buf, len, "create,cache_size=%s,session_max=200,"
	                 "checkpoint=(wait=60),", o->cache);
	if (m->kind == K_NONE)
		n += snprintf(buf + n, len - (size_t)n, "log=(enabled=false)");
	else if (m->kind == K_BUFFERED)
		n += snprintf(buf + n, len - (size_t)n,
		              "%s,transaction_sync=(enabled=false)", log);
	else
		n += snprintf(buf + n, len - (size_t)n,
		              "%s,transaction_sync=(enabled,method=fsync)", log);
	if (m->kind == K_MOJIM) { /* the address quoted: ':' reads as '=' */
		char spin[32] = "";
		if (m->spin_us >= 0)
			snprintf(spin, sizeof(spin), ",spin_us=%d", m->spin_us);
		n += snprintf(buf + n, len - (size_t)n,
		              ",extensions=[%s=(early_load=true,config={mode=%s%s%s%s%s})]",
		              o->ext, m->ext_mode, m->replicated ? ",mirror=\"" : "",
		              m->replicated ? e->mirror.addr : "",
		              m->replicated ? "\"" : "", spin);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* MongoDB's journal flusher: the log made durable every 100 ms. */
static void *flusher_main(void *arg)
{
	struct env *e = arg;
	WT_SESSION *s;
	int rc = e->st.conn->open_session(e->st.conn, NULL, NULL, &s);
	for (long i = 0; !rc && !atomic_load(&e->flusher_stop); i++) {
		usleep(FLUSH_MS * 1000);
		rc = s->log_flush(s, "sync=on");
	}
	if (!rc)
		s->close(s, NULL);
	atomic_store(&e->flusher_rc, rc);
	return NULL;
}

static int open_wt(struct env *e, const struct env_opts *o, char *err,
                   size_t len)
{
	char cfg[2048];
	if (build_config(e, o, cfg, sizeof(cfg))) {
		snprintf(err, len, "configuration too long");
		return -1;
	}
	int rc = wiredtiger_open(e->home, NULL, cfg, &e->st.conn);
	if (rc) {
		snprintf(err, len, "wiredtiger_open: %s", wiredtiger_strerror(rc));
		e->st.conn = NULL;
		return -1;
	}
	if ((rc = store_create(&e->st)) != 0) {
		snprintf(err, len, "create tables: %s", wiredtiger_strerror(rc));
		return -1;
	}
	if (e->m->kind == K_BUFFERED) {
		if (pthread_create(&e->flusher, NULL, flusher_main, e)) {
			snprintf(err, len, "cannot start the flusher");
			return -1;
		}
		e->flusher_on = 1;
	}
	return 0;
}

/* --target: the user's server, its ycsb.usertable dropped for a load;
 * no home, no WiredTiger, no mirror here. */
static int open_wire(struct env *e, const struct env_opts *o, char *err,
                     size_t len)
{
	if (ackctr_init(&e->seq, 0)) {
		snprintf(err, len, "no memory for the key sequence");
		return -1;
	}
	if (wire_open(&e->st, o->target, e->m->ext_mode, err, len))
		return -1;
	return wire_fresh(&e->st, err, len);
}

int env_open(struct env *e, const struct mode_def *m,
             const struct env_opts *o, const struct docspec *spec,
             char *err, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->m = m;
	e->st.spec = *spec;
	if (m->kind == K_WIRE)
		return open_wire(e, o, err, len);
	struct bench_opts b = {.mirror_bin = o->mirror_bin, .spin_us = m->spin_us,
	                       .ckpt_thresh = -1};
	int on_disk = m->kind == K_JOURNALED || m->kind == K_BUFFERED;
	b.scratch = on_disk ? o->disk_tmp : "/dev/shm";
	if (ackctr_init(&e->seq, 0) || scratch_make(&b, e->scratch,
	                                            sizeof(e->scratch))) {
		snprintf(err, len, "cannot make a scratch directory in %s",
		         b.scratch);
		e->scratch[0] = '\0';
		return -1;
	}
	snprintf(e->home, sizeof(e->home), "%s/home", e->scratch);
	if (mkdir(e->home, 0755)) {
		snprintf(err, len, "mkdir %s: %s", e->home, strerror(errno));
		return -1;
	}
	if (m->replicated && mirror_start(&b, e->scratch, &e->mirror)) {
		snprintf(err, len, "the mirror did not start");
		return -1;
	}
	return open_wt(e, o, err, len);
}

int env_close(struct env *e, char *err, size_t len)
{
	int rc = 0;
	if (e->flusher_on) {
		atomic_store(&e->flusher_stop, 1);
		pthread_join(e->flusher, NULL);
		if ((rc = atomic_load(&e->flusher_rc)) != 0)
			snprintf(err, len, "log flush: %s", wiredtiger_strerror(rc));
		e->flusher_on = 0;
	}
	if (e->st.conn) {
		store_close(&e->st);
		int r = e->st.conn->close(e->st.conn, NULL);
		if (r && !rc)
			snprintf(err, len, "close: %s", wiredtiger_strerror(r));
		rc = rc ? rc : r;
		e->st.conn = NULL;
	}
	if (e->st.pool)
		wire_close(&e->st);
	mirror_stop(&e->mirror);
	scratch_remove(e->scratch);
	e->scratch[0] = '\0';
	ackctr_free(&e->seq);
	return rc ? -1 : 0;
}

int64_t env_records(const struct env *e)
{
	return atomic_load(&e->seq.limit) + 1;
}
