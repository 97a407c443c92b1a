/*
 * engine.c: the WiredTiger home, opened through the mojim extension as
 * mongod opens its own: the log (journal) on, commits not synced one by
 * one (transaction_sync off), a journal flusher that makes the log durable
 * every --journal-commit-interval ms and at once when a writer waits for
 * j:true, and a checkpoint every --syncdelay seconds.
 *
 * Group commit: a writer that needs durability asks for a flush that
 * starts after its commit and waits for it; every writer asking while one
 * flush runs is covered by the next one, so N concurrent j:true writers
 * cost about two log_flush calls, not N. Through mojim, log_flush(sync=on)
 * returns once the mirror acknowledged the log's bytes (modes sync and
 * syncflush), which is what j:true and w:"majority" promise.
 */
#include "docd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t docd_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int build_config(const struct docd_config *c, char *buf, size_t len)
{
	int replicated = strcmp(c->mode, "unreplicated") != 0;
	/* The mirror's address is quoted: ':' would read as '='. */
	int n = snprintf(buf, len,
	                 "create,cache_size=%s,session_max=%d,"
	                 "log=(enabled,file_max=100MB,archive=true),"
	                 "transaction_sync=(enabled=false),"
	                 "extensions=[%s=(early_load=true,config={mode=%s%s%s%s%s%s})]",
	                 c->cache, c->max_conns + 32, c->engine, c->mode,
	                 replicated ? ",mirror=\"" : "",
	                 replicated ? c->mirror : "", replicated ? "\"" : "",
	                 c->mojim_config ? "," : "",
	                 c->mojim_config ? c->mojim_config : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* (F) Absolute time ms from now, for pthread_cond_timedwait. */
static struct timespec after_ms(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Flush generations: flush_asked is the newest generation a writer waits
 * for, flush_done the newest completed. A flush takes generation
 * done + 1 when it starts; a writer asks for started + 1, i.e. a flush
 * that begins after its commit.
 */
static void *flusher_main(void *arg)
{
	struct docd *d = arg;
	WT_SESSION *s = NULL;
	int rc = d->conn->open_session(d->conn, NULL, NULL, &s);
	pthread_mutex_lock(&d->flush_lock);
	while (!d->stopping) {
		if (d->flush_asked <= d->flush_done) {
			struct timespec ts = after_ms(d->cfg.journal_ms);
			pthread_cond_timedwait(&d->flush_cond, &d->flush_lock, &ts);
			if (d->stopping)
				break;
		}
		uint64_t gen = ++d->flush_started;
		pthread_mutex_unlock(&d->flush_lock);
		int frc = rc ? rc : s->log_flush(s, "sync=on");
		atomic_fetch_add(&d->flushes, 1);
		pthread_mutex_lock(&d->flush_lock);
		d->flush_done = gen;
		if (frc) {
			d->flush_error = frc;
			d->flush_err_gen = gen;
		}
		pthread_cond_broadcast(&d->flush_cond);
	}
	pthread_mutex_unlock(&d->flush_lock);
	if (s)
		s->close(s, NULL);
	return NULL;
}

int engine_wait_durable(struct docd *d)
{
	pthread_mutex_lock(&d->flush_lock);
	uint64_t want = d->flush_started + 1;
	if (d->flush_asked < want)
		d->flush_asked = want;
	pthread_cond_broadcast(&d->flush_cond);
	while (d->flush_done < want && !d->stopping)
		pthread_cond_wait(&d->flush_cond, &d->flush_lock);
	/* A failure at or after our generation: not known durable. */
	int rc = d->flush_done < want ? ESHUTDOWN
	         : d->flush_err_gen >= want ? d->flush_error : 0;
	pthread_mutex_unlock(&d->flush_lock);
	return rc;
}

static void *checkpointer_main(void *arg)
{
	struct docd *d = arg;
	WT_SESSION *s = NULL;
	if (d->conn->open_session(d->conn, NULL, NULL, &s))
		return NULL;
	pthread_mutex_lock(&d->flush_lock);
	while (!d->stopping) {
		/* flush_cond is broadcast by every flush: wait out the whole
		 * period, not from the last broadcast. */
		struct timespec ts = after_ms(d->cfg.syncdelay_s * 1000);
		while (!d->stopping && pthread_cond_timedwait(&d->flush_cond,
		                                              &d->flush_lock,
		                                              &ts) != ETIMEDOUT)
			;
		if (d->stopping)
			break;
		pthread_mutex_unlock(&d->flush_lock);
		int rc = s->checkpoint(s, NULL);
		if (rc)
			fprintf(stderr, "mojim-docd: checkpoint: %s\n",
			        wiredtiger_strerror(rc));
		pthread_mutex_lock(&d->flush_lock);
	}
	pthread_mutex_unlock(&d->flush_lock);
	s->close(s, NULL);
	return NULL;
}

int engine_open(struct docd *d, char *err, size_t len)
{
	char cfg[4096];
	if (build_config(&d->cfg, cfg, sizeof(cfg)))
		return snprintf(err, len, "the WiredTiger configuration is too "
		                "long"), -1;
	int rc = wiredtiger_open(d->cfg.dbpath, NULL, cfg, &d->conn);
	if (rc) {
		snprintf(err, len, "opening %s: %s", d->cfg.dbpath,
		         wiredtiger_strerror(rc));
		d->conn = NULL;
		return -1;
	}
	mdl_err me = {0};
	if ((rc = mdl_open(d->conn, &d->store, &me)) != 0) {
		snprintf(err, len, "opening the catalog: %s", me.msg);
		return -1;
	}
	/* Writer-preferring: a schema change is not starved by readers. */
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	        PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&d->schema_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (cursors_init(d))
		return snprintf(err, len, "no memory"), -1;
	pthread_mutex_init(&d->flush_lock, NULL);
	pthread_cond_init(&d->flush_cond, NULL);
	if (pthread_create(&d->flusher, NULL, flusher_main, d)) {
		snprintf(err, len, "cannot start the journal flusher");
		return -1;
	}
	if (pthread_create(&d->checkpointer, NULL, checkpointer_main, d)) {
		snprintf(err, len, "cannot start the checkpointer");
		pthread_mutex_lock(&d->flush_lock);
		d->stopping = 1;
		pthread_cond_broadcast(&d->flush_cond);
		pthread_mutex_unlock(&d->flush_lock);
		pthread_join(d->flusher, NULL);
		return -1;
	}
	d->threads_on = 1;
	return 0;
}

void engine_close(struct docd *d)
{
	if (d->threads_on) {
		pthread_mutex_lock(&d->flush_lock);
		d->stopping = 1;
		pthread_cond_broadcast(&d->flush_cond);
		pthread_mutex_unlock(&d->flush_lock);
		pthread_join(d->flusher, NULL);
		pthread_join(d->checkpointer, NULL);
		d->threads_on = 0;
	}
	cursors_free(d);
	if (d->store) {
		mdl_close(d->store);
		d->store = NULL;
	}
	if (d->conn) {
		/* A clean close checkpoints everything. */
		int rc = d->conn->close(d->conn, NULL);
		if (rc)
			fprintf(stderr, "mojim-docd: closing WiredTiger: %s\n",
			        wiredtiger_strerror(rc));
		d->conn = NULL;
	}
}
