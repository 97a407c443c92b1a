/*
 * promote.c: turning the mirror's replica into a primary (paper 4.3).
 *
 * Order matters: first no primary can be heard (new HELLOs are refused,
 * connections are cut), then every complete batch is applied in sequence,
 * then the replica's health is checked (an unhealthy one is promoted only
 * when the operator names the first lost batch), then the epoch is bumped
 * and persisted, the node file that the new primary reads written, and
 * last the rest of the logs dropped (a torn tail, or batches behind a gap,
 * were never acknowledged as a whole sequence). A crash or a refusal
 * before the epoch is persisted leaves a mirror that can be promoted again
 * and changed nothing (the in-memory "promoted" is undone); after it, the
 * old primary is fenced for good.
 */
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* How long a promotion waits for the connections it cut to be gone. */
#define DROP_WAIT_MS 5000

/* (L) Cuts every connection and waits (bounded) for them to go. */
static int drop_connections(struct mirror *m)
{
	conns_cut_older(m, UINT64_MAX);
	for (int i = 0; i < DROP_WAIT_MS / 50 && m->nconns > 0; i++) {
		pthread_mutex_unlock(&m->lock);
		usleep(50000);
		pthread_mutex_lock(&m->lock);
	}
	return m->nconns > 0 ? -EBUSY : 0;
}

/* (L) Waits for a run of the checkpointer, then applies every batch that
 * follows on, whatever the health backoff says: one more try. */
static void apply_ready(struct mirror *m)
{
	ckpt_take_applying(m);
	ckpt_run(m);
	m->applying = 0;
}

/* (L) Drops the rest of the logs: the directory is the new primary's
 * (what is left cannot follow on: behind a gap, or named lost). */
static void drop_logs(struct mirror *m)
{
	for (int k = 0; k < RING_MAX; k++)
		if (m->rings[k])
			(void)ring_release(m->rings[k], UINT64_MAX); /* see ring.h */
	m->logged.n = 0;
	m->durable_seq = m->received_seq = m->applied_seq;
	/* Hold nothing in it (the process lives on only to refuse the old
	 * primary). */
	(void)replica_close(&m->replica); /* ckpt_run synced what it applied */
}

/* (L) The new epoch, and the node file of the primary-to-be. The epoch
 * persisted is the point of no return. */
static int finish(struct mirror *m, char *msg, size_t len)
{
	struct state *st = &m->state;
	/* clean and flushed: the replica is durable (persisted, synced). */
	struct mjw_node node = {.cluster_id = m->cluster_id,
	                        .epoch = m->epoch + 1, .mirror_stale = 1,
	                        .clean = 1, .flushed = 1};
	if (!node.cluster_id && getrandom(&node.cluster_id, 8, 0) != 8)
		return -errno;
	int fd = open(m->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = state_set_epoch(st, node.epoch);
	if (!rc) {
		m->epoch = node.epoch;
		rc = state_set(st, &st->d->promoted, 1);
	}
	if (!rc)
		rc = mjw_node_store(fd, &node);
	close(fd);
	if (rc) {
		snprintf(msg, len, "error: epoch %llu: the promotion could not be "
		         "persisted (state, or %s/%s): %s\n",
		         (unsigned long long)node.epoch, m->data_dir, MJW_NODE_FILE,
		         strerror(-rc));
		return rc;
	}
	snprintf(msg, len, "promoted: epoch %llu, applied_seq %llu, data %s\n",
	         (unsigned long long)node.epoch,
	         (unsigned long long)m->applied_seq, m->data_dir);
	mlog("%s", msg);
	return 0;
}

/* (L) Why this mirror cannot be promoted now, or NULL. */
static const char *cannot(struct mirror *m, int force, char *buf, size_t len)
{
	if (m->promoted)
		return "already promoted";
	const char *nocopy = NULL;
	if (copy_promotable(m, &nocopy))
		return nocopy;
	uint64_t last = __atomic_load_n(&m->last_primary_ns, __ATOMIC_RELAXED);
	uint64_t ago_ms = last ? (now_ns() - last) / 1000000 : UINT64_MAX;
	if (!force && ago_ms < m->cfg.hb_timeout_ms) {
		snprintf(buf, len, "a primary was heard %llu ms ago (failure "
		         "detection window %llu ms); promote --force if it is "
		         "really gone", (unsigned long long)ago_ms,
		         (unsigned long long)m->cfg.hb_timeout_ms);
		return buf;
	}
	return NULL;
}

/*
 * (L, promoted set.) Applies what it can, checks the health, and makes
 * the directory a primary's. On a refusal nothing was persisted and the
 * caller undoes the in-memory flag.
 */
static int promote_now(struct mirror *m, uint64_t lose_from, char *msg,
                       size_t len)
{
	char why[768];
	m->copy_ignored = 1;
	apply_ready(m);
	m->copy_ignored = 0;
	const char *no = health_promote_refusal(m, lose_from, why, sizeof(why));
	if (no) {
		snprintf(msg, len, "error: cannot promote: %s\n", no);
		return -EIO;
	}
	if (m->health.unhealthy)
		mlog("promoting an unhealthy replica as the operator said: batches "
		     "%llu..%llu are lost", (unsigned long long)lose_from,
		     (unsigned long long)m->durable_seq);
	int rc = finish(m, msg, len);
	if (!rc) {
		forward_quiesce(m, "the mirror was promoted");
		drop_logs(m); /* after the point of no return, never before */
	}
	if (!rc)
		copy_drop_stage(m);
	return rc;
}

int mirror_promote(struct mirror *m, int force, uint64_t lose_from, char *msg,
                   size_t len)
{
	char why[200];
	pthread_mutex_lock(&m->lock);
	const char *no = cannot(m, force, why, sizeof(why));
	if (no) {
		pthread_mutex_unlock(&m->lock);
		snprintf(msg, len, "error: cannot promote: %s\n", no);
		return -EBUSY;
	}
	m->promoted = 1; /* from here on every HELLO is refused */
	int rc = drop_connections(m);
	if (rc)
		snprintf(msg, len, "error: cannot promote: the connections did not "
		         "close within %d ms; nothing was changed\n",
		         DROP_WAIT_MS);
	else
		rc = promote_now(m, lose_from, msg, len);
	if (rc && !m->state.d->promoted)
		m->promoted = 0; /* not promoted after all: primaries welcome */
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mirror_promote_offline(struct mirror *m, uint64_t lose_from, char *msg,
                           size_t len)
{
	char why[200];
	pthread_mutex_lock(&m->lock);
	const char *no = cannot(m, 1, why, sizeof(why));
	int rc = -EBUSY;
	if (no) {
		snprintf(msg, len, "error: cannot promote: %s\n", no);
	} else {
		m->promoted = 1;
		rc = promote_now(m, lose_from, msg, len);
		if (rc && !m->state.d->promoted)
			m->promoted = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
