/*
 * forward.c: the mirror's forwarders to its backups (the paper's secondary
 * tier, section 4.2), one thread per --backup.
 *
 * A forwarder is a client of the same link as a primary (mojim_link.h):
 * the cluster's key, TLS if the mirror runs it, a HELLO flagged
 * MJW_HELLO_F_FORWARDER with the cluster, epoch and incarnation of the
 * primary the mirror serves. The backup (a mojim-mirror with --role
 * backup) logs, acknowledges and applies what it gets as a mirror does.
 * The forwarder reads the log from its own cursor (logread.h): batch
 * after batch up to durable_seq (never one an old incarnation left beyond
 * it), every frame as it was logged, and moves its cursor when the backup
 * acknowledges the batch. Log space is freed behind the slowest reader,
 * so a live backup holds what it has not acknowledged.
 *
 *   DOWN -> LIVE      the handshake succeeded; the backup holds every
 *                     batch up to its durable_seq, the log has the next
 *   LIVE -> DOWN      a send, an ack or a heartbeat failed: redialled
 *   DOWN -> LOST      down, or unacknowledging, longer than
 *                     --backup-timeout-ms: its cursor goes, it holds (and
 *                     stalls) nothing any more; logged as an error, in
 *                     status
 *   any -> NEEDS_COPY the log no longer has the batch it needs, its copy
 *                     is of another history (a full copy replaced the
 *                     mirror's, or the mirror was promoted), it was lost,
 *                     or it says it needs a copy
 *   NEEDS_COPY -> LIVE a full copy of the replica (copy_send.c) at the
 *                     batch applying was paused at, then batches from
 *                     there
 */
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum backup_state { BK_DOWN, BK_LIVE, BK_LOST, BK_NEEDS_COPY };

static const char *const state_names[] = {"down", "live", "lost",
                                          "needs-copy"};

struct backup {
	struct mirror *m;
	char addr[128];
	int reader;             /* (L) its cursor; -1 once it holds nothing */
	enum backup_state state;/* (L) */
	uint64_t acked;         /* (L) it holds every batch up to this */
	uint64_t down_since_ns; /* (L) since when it is not acknowledging */
	uint64_t last_ack_ns;   /* (L) its last answer (heartbeats included) */
	uint64_t progress_ns;   /* (L) its last batch acknowledged, or the last
	                           time it had nothing to get: a backup that
	                           answers but never takes a batch gets lost */
	uint64_t link_epoch;    /* (L) the epoch its link was dialled with */
	uint64_t retry_ns;      /* (L) no dial or copy before this (backoff) */
	uint64_t backoff_ms;    /* (L) doubles on each failure, up to 2 s */
	char why[256];          /* (L) why it is not live */
	int sending;            /* (L) reading the log without the lock */
	uint64_t slot;          /* its largest frame (its HELLO_ACK) */
	uint64_t copies;        /* (L) full copies it got */
	int quit;               /* atomic: the mirror stops */
	struct mjl_link *link;  /* the thread's */
	struct log_copy copy;   /* the thread's: the frames it sends */
	pthread_t thread;
	int started;
};

#define IDLE_WAIT_MS 100
#define BACKOFF_MAX_MS 2000 /* between two tries of a failing backup */

/* (L) Waits on forward_cond at most ms. */
static void wait_ms(struct mirror *m, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&m->forward_cond, &m->lock, &ts);
}

/* (L) b no longer holds log space (lost, or needs a copy). */
static void drop_cursor(struct backup *b)
{
	if (b->reader < 0)
		return;
	log_reader_remove(&b->m->readers, b->reader);
	b->reader = -1;
	(void)log_release(b->m->rings, RING_MAX, &b->m->readers);
	pthread_cond_broadcast(&b->m->space_cond);
}

/* (L) The backup is of no use until it gets a full copy. */
static void needs_copy(struct backup *b, const char *why)
{
	if (b->state != BK_NEEDS_COPY)
		mlog("backup %s needs a full copy: %s", b->addr, why);
	if (b->why != why)
		snprintf(b->why, sizeof(b->why), "%s", why);
	b->state = BK_NEEDS_COPY;
	drop_cursor(b);
}

/* (L) Down for longer than the timeout: lost. */
static void check_lost(struct backup *b)
{
	struct mirror *m = b->m;
	if (b->state == BK_DOWN &&
	    now_ns() - b->down_since_ns > m->cfg.backup_timeout_ms * 1000000ull) {
		mlog("backup %s LOST: not acknowledging for %llu ms (%s); it "
		     "stalls nothing any more and is behind from batch %llu on",
		     b->addr, (unsigned long long)m->cfg.backup_timeout_ms, b->why,
		     (unsigned long long)b->acked + 1);
		b->state = BK_LOST;
		drop_cursor(b);
	}
}

/* (L) After a failed dial, batch or copy: no new try for a while (the
 * forward_cond wakes a forwarder at every batch: no spinning on a backup
 * that refuses). */
static void back_off(struct backup *b)
{
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : IDLE_WAIT_MS;
	if (b->backoff_ms > BACKOFF_MAX_MS)
		b->backoff_ms = BACKOFF_MAX_MS;
	b->retry_ns = now_ns() + b->backoff_ms * 1000000ull;
}

/* (L) A failure: down (the timeout runs from the last ack). */
static void went_down(struct backup *b, const char *why)
{
	back_off(b);
	if (b->state == BK_LIVE) {
		mlog("backup %s: link lost: %s", b->addr, why);
		b->state = BK_DOWN;
		b->down_since_ns = b->progress_ns;
	}
	snprintf(b->why, sizeof(b->why), "%s", why);
	check_lost(b);
}

/* Dials the backup (no lock). 0 with b->link and *ack, or -1 with msg. */
static int dial(struct backup *b, const struct mjw_hello *want,
                uint64_t epoch, struct mjw_hello_ack *ack, char *msg,
                size_t len)
{
	struct mirror *m = b->m;
	struct mjl_config cfg = {
		.addr = b->addr,
		.transport = m->forward_transport,
		.transport_ctx = m->forward_tls,
		.connect_timeout_ms = 2000,
		.io_timeout_ms = (int)m->cfg.backup_timeout_ms,
		.epoch = epoch,
		.key = m->key.len ? &m->key : NULL,
	};
	struct mjw_hello hello = *want;
	struct mjl_refusal refusal;
	msg[0] = '\0';
	int rc = mjl_dial(&cfg, &hello, &b->link, ack, &refusal, msg, len);
	if (rc && !msg[0])
		snprintf(msg, len, "%s", strerror(-rc));
	return rc ? -1 : 0;
}

/* (L) Why a backup that just said where it stands (ack) needs a full
 * copy, or NULL if the log can feed it from there. */
static const char *copy_reason(struct backup *b, const struct mjw_hello_ack *ack)
{
	struct mirror *m = b->m;
	uint64_t next = ack->durable_seq + 1;
	struct ring_batch rb;
	if (b->state == BK_NEEDS_COPY)
		return b->why;
	if (ack->flags & MJW_MIRROR_NEEDS_COPY)
		return "it says its copy cannot be continued";
	if (ack->durable_seq > m->durable_seq)
		return "it holds batches beyond the mirror's";
	if (next <= m->durable_seq && !log_pick(m->rings, RING_MAX, next, &rb))
		return "the log no longer reaches back to its next batch";
	if (b->reader < 0)
		return "it was lost: what it missed may be gone from the log";
	return NULL;
}

/* (L, dropped for the dial) Connects: LIVE, or NEEDS_COPY with the link
 * up for the copy, or down. */
static void connect_backup(struct backup *b)
{
	struct mirror *m = b->m;
	struct mjw_hello hello = {
		.cluster_id = m->cluster_id, .conn_index = 0, .nconns = 1,
		.incarnation = m->incarnation, .flags = MJW_HELLO_F_FORWARDER,
	};
	uint64_t epoch = m->epoch;
	struct mjw_hello_ack ack;
	char msg[300];
	pthread_mutex_unlock(&m->lock);
	int rc = dial(b, &hello, epoch, &ack, msg, sizeof(msg));
	pthread_mutex_lock(&m->lock);
	if (rc)
		return went_down(b, msg);
	if (epoch != m->epoch) {
		mjl_close(b->link);
		b->link = NULL;
		return went_down(b, "the mirror's epoch changed while dialing");
	}
	b->slot = ack.slot_size;
	b->link_epoch = epoch;
	const char *why = copy_reason(b, &ack);
	if (why)
		return needs_copy(b, why);
	log_reader_reset(&m->readers, b->reader, ack.durable_seq);
	b->acked = ack.durable_seq;
	b->state = BK_LIVE;
	b->last_ack_ns = now_ns();
	b->why[0] = '\0';
	minfo("backup %s: live, it holds batches up to %llu", b->addr,
	      (unsigned long long)ack.durable_seq);
}

/* (L, dropped for the copy) A full copy of the replica at the batch
 * applying is paused at; then LIVE from there, or down. */
static void copy_to_backup(struct backup *b)
{
	struct mirror *m = b->m;
	/* Nothing whole to copy from (the mirror waits for a copy itself, or
	 * its replica holds part of a batch), or the link speaks an older
	 * epoch than the copy would: dialled again later. */
	if (copy_state(m) != COPY_NONE || m->health.unhealthy ||
	    b->link_epoch != m->epoch) {
		mjl_close(b->link);
		b->link = NULL;
		back_off(b);
		return;
	}
	while (m->applying && !m->stopping) {
		pthread_mutex_unlock(&m->lock);
		usleep(1000);
		pthread_mutex_lock(&m->lock);
	}
	if (m->stopping)
		return;
	m->applying = 1; /* the replica stands still at applied_seq */
	uint64_t seq = m->applied_seq, t0 = now_ns();
	if (b->reader < 0)
		b->reader = log_reader_add(&m->readers, seq);
	else
		log_reader_reset(&m->readers, b->reader, seq);
	struct copy_to t = {.link = b->link, .slot = b->slot, .seq = seq,
	                    .epoch = m->epoch, .cluster = m->cluster_id,
	                    .quit = &b->quit, .yield = &m->copy_yield};
	char msg[300];
	int rc = b->reader < 0 ? -ENOSPC : 0;
	mlog("backup %s: full copy of the replica at batch %llu", b->addr,
	     (unsigned long long)seq);
	pthread_mutex_unlock(&m->lock);
	if (!rc)
		rc = copy_send(m->data_dir, &t, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "too many log readers");
	pthread_mutex_lock(&m->lock);
	m->applying = 0;
	pthread_cond_signal(&m->ckpt_cond);
	if (rc) {
		mjl_close(b->link);
		b->link = NULL;
		mlog("backup %s: full copy failed: %s; tried again", b->addr, msg);
		drop_cursor(b);
		back_off(b);
		return;
	}
	b->copies++;
	b->backoff_ms = 0;
	b->acked = seq;
	b->state = BK_LIVE;
	b->last_ack_ns = b->progress_ns = now_ns();
	b->why[0] = '\0';
	mlog("backup %s: full copy at batch %llu done in %.2f s; live", b->addr,
	     (unsigned long long)seq, (double)(now_ns() - t0) / 1e9);
}

/* Sends batch rb's frames and waits for its ack (no lock). 0 or -1. */
static int send_batch(struct backup *b, const struct ring *r,
                      const struct ring_batch *rb, char *msg, size_t len)
{
	uint64_t flen;
	const void *f;
	const char *why;
	size_t off = 0;
	msg[0] = '\0';
	int rc = log_copy_batch(&b->copy, r, rb, b->m->max_file_size, &why);
	if (rc) {
		snprintf(msg, len, "batch %llu no longer reads as it was "
		         "acknowledged (%s); not forwarded",
		         (unsigned long long)rb->seq, why);
		return -1;
	}
	while (log_copy_frame(&b->copy, &off, &f, &flen)) {
		if ((rc = mjl_send(b->link, f, flen))) {
			snprintf(msg, len, "sending batch %llu: %s",
			         (unsigned long long)rb->seq, strerror(-rc));
			return -1;
		}
	}
	rc = mjl_wait_ack(b->link, rb->seq, msg, len);
	if (rc && !msg[0])
		snprintf(msg, len, "waiting for the ack of batch %llu: %s",
		         (unsigned long long)rb->seq, strerror(-rc));
	return rc ? -1 : 0;
}

/* (L, dropped for the I/O) Forwards the next batch if there is one;
 * 1 if it did something. */
static int forward_one(struct backup *b)
{
	struct mirror *m = b->m;
	uint64_t next = b->acked + 1;
	struct ring_batch rb;
	if (next > m->durable_seq)
		return 0;
	struct ring *r = log_pick(m->rings, RING_MAX, next, &rb);
	if (!r) {
		needs_copy(b, "a batch it needs is no longer in the log");
		return 1;
	}
	char msg[300];
	b->sending = 1; /* the log is not emptied under it (forward_quiesce) */
	pthread_mutex_unlock(&m->lock);
	int rc = send_batch(b, r, &rb, msg, sizeof(msg));
	pthread_mutex_lock(&m->lock);
	b->sending = 0;
	pthread_cond_broadcast(&m->forward_cond);
	if (rc) {
		mjl_close(b->link);
		b->link = NULL;
		went_down(b, msg);
		return 1;
	}
	b->acked = next;
	b->backoff_ms = 0;
	b->last_ack_ns = b->progress_ns = now_ns();
	if (b->reader >= 0) {
		log_reader_advance(&m->readers, b->reader, next);
		(void)log_release(m->rings, RING_MAX, &m->readers);
		pthread_cond_broadcast(&m->space_cond);
	}
	return 1;
}

/* (L, dropped for the I/O) An idle link is pinged (the backup closes a
 * silent one), often enough that a live backup never looks lost. */
static void keep_alive(struct backup *b)
{
	struct mirror *m = b->m;
	/* Well inside the backup's own heartbeat timeout (1 s at the least
	 * it allows is common in tests) and our backup timeout. */
	uint64_t every = m->cfg.backup_timeout_ms / 4 < 250 ?
	                 m->cfg.backup_timeout_ms / 4 : 250;
	uint64_t now = now_ns();
	if (now - b->last_ack_ns < every * 1000000ull)
		return;
	char msg[300] = "";
	pthread_mutex_unlock(&m->lock);
	int rc = mjl_ping(b->link, now, msg, sizeof(msg));
	pthread_mutex_lock(&m->lock);
	if (!rc) {
		b->last_ack_ns = now_ns();
		return;
	}
	mjl_close(b->link);
	b->link = NULL;
	went_down(b, msg[0] ? msg : "no answer to a heartbeat");
}

static void *forward_main(void *arg)
{
	struct backup *b = arg;
	struct mirror *m = b->m;
	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		if (m->promoted) {
			/* The replica is a primary's home now: nothing to feed
			 * from it (forward_quiesce marked the backups). */
			mjl_close(b->link);
			b->link = NULL;
			wait_ms(m, IDLE_WAIT_MS);
		} else if (!m->cluster_id || !m->incarnation) {
			/* Nothing to say before a primary has spoken. */
			b->progress_ns = now_ns();
			wait_ms(m, IDLE_WAIT_MS);
		} else if (now_ns() < b->retry_ns && !b->link) {
			uint64_t left = (b->retry_ns - now_ns()) / 1000000 + 1;
			wait_ms(m, left < IDLE_WAIT_MS ? (int)left : IDLE_WAIT_MS);
			if (!b->link)
				check_lost(b);
			continue;
		} else if (b->state == BK_NEEDS_COPY && b->link) {
			copy_to_backup(b);
			if (!b->link && !m->stopping)
				wait_ms(m, IDLE_WAIT_MS);
		} else if (!b->link) {
			connect_backup(b);
			if (!b->link && !m->stopping)
				wait_ms(m, IDLE_WAIT_MS);
		} else if (b->state == BK_LIVE && !forward_one(b)) {
			b->progress_ns = now_ns(); /* it has everything there is */
			keep_alive(b);
			if (b->link)
				wait_ms(m, IDLE_WAIT_MS);
		} else if (!b->link && !m->stopping) {
			wait_ms(m, IDLE_WAIT_MS); /* failed: not in a tight loop */
		}
		if (!b->link)
			check_lost(b); /* the timeout runs while it is down */
	}
	pthread_mutex_unlock(&m->lock);
	mjl_close(b->link);
	b->link = NULL;
	return NULL;
}

int forward_start(struct mirror *m, const char **why)
{
	for (int i = 0; i < m->cfg.nbackups; i++) {
		struct backup *b = calloc(1, sizeof(*b));
		if (!b)
			return *why = "out of memory", -ENOMEM;
		b->m = m;
		snprintf(b->addr, sizeof(b->addr), "%s", m->cfg.backups[i]);
		b->state = BK_DOWN;
		b->down_since_ns = b->progress_ns = now_ns();
		snprintf(b->why, sizeof(b->why), "no primary has spoken yet");
		pthread_mutex_lock(&m->lock);
		b->reader = log_reader_add(&m->readers, m->applied_seq);
		b->acked = m->applied_seq;
		m->backups[m->nbackups++] = b;
		pthread_mutex_unlock(&m->lock);
		if (b->reader < 0)
			return *why = "too many log readers", -ENOSPC;
		int rc = pthread_create(&b->thread, NULL, forward_main, b);
		if (rc)
			return *why = "cannot start a forwarder thread", -rc;
		b->started = 1;
	}
	return 0;
}

/* Called with m->stopping set and forward_cond broadcast. */
void forward_stop(struct mirror *m)
{
	/* Status (the control thread) stops seeing them first. */
	pthread_mutex_lock(&m->lock);
	int n = m->nbackups;
	m->nbackups = 0;
	for (int i = 0; i < n; i++)
		__atomic_store_n(&m->backups[i]->quit, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&m->forward_cond);
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < n; i++) {
		struct backup *b = m->backups[i];
		if (b->started)
			pthread_join(b->thread, NULL);
		log_copy_free(&b->copy);
		free(b);
		m->backups[i] = NULL;
	}
}

void forward_quiesce(struct mirror *m, const char *why)
{
	for (int i = 0; i < m->nbackups; i++)
		needs_copy(m->backups[i], why);
	for (int i = 0; i < m->nbackups; i++)
		while (m->backups[i]->sending)
			pthread_cond_wait(&m->forward_cond, &m->lock);
}

/* (L) The slowest backup that still counts (live, or down but not lost
 * yet): its acknowledged seq, or UINT64_MAX if none counts. */
static uint64_t slowest_backup(const struct mirror *m)
{
	uint64_t min = UINT64_MAX;
	for (int i = 0; i < m->nbackups; i++) {
		const struct backup *b = m->backups[i];
		if ((b->state == BK_LIVE || b->state == BK_DOWN) && b->reader >= 0 &&
		    b->acked < min)
			min = b->acked;
	}
	return min;
}

int forward_stalling(struct mirror *m)
{
	uint64_t thresh = m->cfg.secondary_thresh, used, total;
	if (!thresh || !m->nbackups)
		return 0;
	uint64_t slowest = slowest_backup(m);
	/* The log's space is held by its slowest reader: a backup's backlog
	 * is the log's fill only while a backup is the slowest. */
	if (slowest == UINT64_MAX ||
	    slowest > log_reader_done(&m->readers, LOG_READER_CKPT))
		return 0;
	mirror_log_fill(m, &used, &total);
	return used > thresh;
}

int forward_chain_waits(struct mirror *m, uint64_t seq)
{
	return slowest_backup(m) < seq;
}

void forward_tick(struct mirror *m)
{
	for (int i = 0; i < m->nbackups; i++)
		check_lost(m->backups[i]); /* only a down one: the timeout */
}

const char *forward_state_name(int state)
{
	int n = (int)(sizeof(state_names) / sizeof(state_names[0]));
	return state >= 0 && state < n ? state_names[state] : NULL;
}

/* (L) What status shows of b; slowest and stalling are the tier's. */
static void backup_figures(const struct backup *b, uint64_t now,
                           uint64_t slowest, int stalling,
                           struct backup_status *out)
{
	const struct mirror *m = b->m;
	int counts = b->state == BK_LIVE || b->state == BK_DOWN;
	snprintf(out->addr, sizeof(out->addr), "%s", b->addr);
	snprintf(out->why, sizeof(out->why), "%s", b->why);
	out->state = (int)b->state;
	out->acked = b->acked;
	out->lag_batches = m->durable_seq > b->acked ? m->durable_seq - b->acked
	                                             : 0;
	out->lag_seconds = out->lag_batches ?
	                   (double)(now - b->progress_ns) / 1e9 : 0;
	out->lag_bytes = counts ? log_bytes_after(m->rings, RING_MAX, b->acked)
	                        : 0;
	out->stalling = counts && stalling && b->acked == slowest;
	out->copies = b->copies;
}

int forward_backups(struct mirror *m, struct backup_status *out, int max)
{
	uint64_t now = now_ns(), slowest = slowest_backup(m);
	int stalling = forward_stalling(m), n;
	for (n = 0; n < m->nbackups && n < max; n++)
		backup_figures(m->backups[n], now, slowest, stalling, &out[n]);
	return n;
}
