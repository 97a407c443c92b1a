/*
 * status.c: one snapshot of the mirror's figures (status.h). The mirror
 * lock is held only while numbers are copied, never while anything is
 * formatted or written to a caller, so a slow reader cannot stall
 * replication.
 */
#include "status.h"
#include "util.h"

#include <string.h>

const char *status_copy_state_name(int st)
{
	static const char *const names[] = {"none", "staging", "switching",
	                                    "needed"};
	return st >= 0 && st < (int)(sizeof(names) / sizeof(names[0])) ?
	       names[st] : NULL;
}

/* (L) The full copy's progress: its time so far (or the last copy's). */
static void take_copy(struct mirror *m, struct status *s)
{
	s->copy_state = (int)copy_state(m);
	s->copy_total = m->copy_total;
	s->copy_bytes = m->copy_bytes;
	uint64_t end = m->copy_end_ns ? m->copy_end_ns : now_ns();
	s->copy_ms = m->copy_start_ns ? (end - m->copy_start_ns) / 1000000 : 0;
	s->copies = m->copies_done;
}

/* The rate and the time left follow from the numbers taken. */
static void copy_rate(struct status *s)
{
	double secs = (double)s->copy_ms / 1000.0;
	s->copy_rate = secs > 0 ? (double)s->copy_bytes / secs : 0;
	s->copy_left = s->copy_rate > 0 && s->copy_total > s->copy_bytes ?
	               (double)(s->copy_total - s->copy_bytes) / s->copy_rate :
	               0;
}

/* Counters kept outside the lock (atomics), and what start up fixed. */
static void take_unlocked(struct mirror *m, struct status *s)
{
	s->ctl_refused = __atomic_load_n(&m->ctl_refused, __ATOMIC_RELAXED);
	s->keyed = m->key.len > 0;
	s->bytes = __atomic_load_n(&m->bytes_received, __ATOMIC_RELAXED);
	s->placed = __atomic_load_n(&m->bytes_placed, __ATOMIC_RELAXED);
	s->rejected = __atomic_load_n(&m->frames_rejected, __ATOMIC_RELAXED);
	s->auth_refused = __atomic_load_n(&m->auth_refused, __ATOMIC_RELAXED);
	s->tls = m->cfg.tls;
	s->tls_refused = __atomic_load_n(&m->tls_refused, __ATOMIC_RELAXED);
}

void status_take(struct mirror *m, struct status *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&m->lock);
	s->epoch = m->epoch;
	s->received = m->received_seq;
	s->durable = m->durable_seq;
	s->applied = m->applied_seq;
	mirror_log_fill(m, &s->used, &s->total);
	s->rate = m->bytes_per_sec;
	s->batches = m->batches_applied;
	s->apply_errors = m->apply_errors;
	s->conns = m->nconns;
	s->cluster = m->cluster_id;
	s->promoted = m->promoted;
	take_copy(m, s);
	s->evicted = m->evicted_peers;
	s->stalls = m->stalls;
	s->stalled_ns = m->stalled_ns;
	s->stalling = forward_stalling(m);
	s->health = m->health;
	s->nbackups = forward_backups(m, s->backups, MIRROR_MAX_BACKUPS);
	pthread_mutex_unlock(&m->lock);
	take_unlocked(m, s);
	copy_rate(s);
}
