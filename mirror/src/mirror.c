/*
 * mirror.c: opening the mirror's directory, replay at start, ring lookup
 * and the bookkeeping of which batches are durable.
 */
#include "dirlock.h"
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int seqset_add(struct seqset *s, uint64_t seq)
{
	size_t i = s->n;
	while (i > 0 && s->v[i - 1] > seq)
		i--;
	if (i > 0 && s->v[i - 1] == seq)
		return 0; /* a resend logged twice */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = seq;
	s->n++;
	return 0;
}

/* (L) durable_seq moves over every logged seq that follows on. */
static void advance_durable(struct mirror *m)
{
	struct seqset *s = &m->logged;
	size_t i = 0;
	while (i < s->n && s->v[i] <= m->durable_seq + 1) {
		if (s->v[i] == m->durable_seq + 1)
			m->durable_seq++;
		i++;
	}
	if (i == 0)
		return;
	memmove(s->v, s->v + i, (s->n - i) * sizeof(*s->v));
	s->n -= i;
}

void mirror_batch_logged(struct mirror *m, uint64_t seq)
{
	if (seq > m->received_seq)
		m->received_seq = seq;
	if (seq == m->durable_seq + 1)
		m->durable_seq++;
	else if (seq > m->durable_seq && seqset_add(&m->logged, seq))
		mlog("out of memory tracking batch %llu", (unsigned long long)seq);
	advance_durable(m);
	pthread_cond_broadcast(&m->forward_cond);
	m->since_ckpt++;
	m->last_batch_ns = now_ns();
	/* The receiver applies inline after its ack (ckpt_try_run); the
	 * checkpointer thread covers idle time, full logs and a busy run. */
}

static int path_join(char *dst, size_t len, const char *a, const char *b)
{
	int n = snprintf(dst, len, "%s/%s", a, b);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int open_ring(struct mirror *m, int k, uint64_t size, const char **why)
{
	char path[PATH_MAX], name[32];
	snprintf(name, sizeof(name), "ring-%d", k);
	if (path_join(path, sizeof(path), m->log_dir, name))
		return *why = "ring path too long", -ENAMETOOLONG;
	struct ring *r = calloc(1, sizeof(*r));
	if (!r)
		return *why = "out of memory", -ENOMEM;
	int rc = ring_open(r, path, k, size, why);
	if (rc) {
		free(r);
		return rc;
	}
	pthread_mutex_lock(&m->lock);
	m->rings[k] = r;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

struct ring *mirror_ring(struct mirror *m, int k, const char **why)
{
	struct ring *r;
	pthread_mutex_lock(&m->create_lock);
	pthread_mutex_lock(&m->lock);
	r = m->rings[k];
	pthread_mutex_unlock(&m->lock);
	if (!r && open_ring(m, k, m->cfg.log_size, why) == 0) {
		pthread_mutex_lock(&m->lock);
		r = m->rings[k];
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&m->create_lock);
	return r;
}

static int init_locks(struct mirror *m)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->create_lock, NULL);
	pthread_cond_init(&m->ckpt_cond, &ca);
	pthread_cond_init(&m->space_cond, &ca);
	pthread_cond_init(&m->conns_cond, &ca);
	pthread_cond_init(&m->forward_cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static int make_paths(struct mirror *m, const char **why)
{
	const struct mirror_cfg *c = &m->cfg;
	int rc = dir_make_private(c->dir);
	if (rc)
		return *why = "cannot create DIR or make it 0700", rc;
	/* Before anything in DIR is read or made: one process at a time. */
	int fd = dirlock_take(c->dir, why);
	if (fd < 0)
		return fd;
	m->lock_fd = fd;
	if (path_join(m->log_dir, sizeof(m->log_dir), c->dir, "log") ||
	    path_join(m->state_path, sizeof(m->state_path), c->dir, "state") ||
	    path_join(m->sock_path, sizeof(m->sock_path), c->dir, "control.sock"))
		return *why = "DIR path too long (control.sock must fit a unix socket address)",
		       -ENAMETOOLONG;
	if (c->data_dir)
		snprintf(m->data_dir, sizeof(m->data_dir), "%s", c->data_dir);
	else if (path_join(m->data_dir, sizeof(m->data_dir), c->dir, "data"))
		return *why = "DIR path too long", -ENAMETOOLONG;
	rc = dir_make_private(m->log_dir);
	if (rc)
		return *why = "cannot create DIR/log or make it 0700", rc;
	/* Beside the replica, on its file system: renames swap them. */
	size_t n = strlen(m->data_dir);
	while (n > 1 && m->data_dir[n - 1] == '/')
		m->data_dir[--n] = '\0';
	if (snprintf(m->stage_dir, sizeof(m->stage_dir), "%s.stage",
	             m->data_dir) >= (int)sizeof(m->stage_dir) ||
	    snprintf(m->old_dir, sizeof(m->old_dir), "%s.old", m->data_dir) >=
	    (int)sizeof(m->old_dir))
		return *why = "data directory path too long", -ENAMETOOLONG;
	return 0;
}

/*
 * The largest file a batch may ask for: --max-file-size, or by default the
 * size of the replica's file system (no bigger file can be applied there,
 * and a batch asking for one would only fail, or map a huge range, at
 * apply time), never above MJW_FILE_MAX.
 */
static int file_size_bound(struct mirror *m, const char **why)
{
	uint64_t max = m->cfg.max_file_size;
	if (!max) {
		struct statvfs sv;
		if (statvfs(m->data_dir, &sv))
			return *why = "cannot statvfs the replica directory", -errno;
		max = (uint64_t)sv.f_blocks * sv.f_frsize;
	}
	m->max_file_size = max < MJW_FILE_MAX ? max : MJW_FILE_MAX;
	return 0;
}

int mirror_open(struct mirror *m, const struct mirror_cfg *cfg,
                const char **why)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	if (cfg->quiet)
		mirror_quiet = 1;
	m->ctl_fd = m->lock_fd = -1;
	m->listener.fd = -1;
	m->replica.dirfd = m->stage.dirfd = -1;
	init_locks(m);
	int rc = make_paths(m, why);
	if (rc)
		return rc;
	rc = state_open(&m->state, m->state_path, why);
	if (rc)
		return rc;
	m->epoch = m->state.d->epoch;
	m->cluster_id = m->state.d->cluster_id;
	m->incarnation = m->state.d->incarnation;
	m->promoted = (int)m->state.d->promoted;
	health_load(m);
	if ((rc = copy_recover(m, why)))
		return rc;
	m->applied_seq = m->durable_seq = m->state.d->applied_seq;
	log_readers_init(&m->readers, m->applied_seq);
	rc = replica_open(&m->replica, m->data_dir, cfg->data_on_disk, why);
	if (rc)
		return rc;
	if ((rc = file_size_bound(m, why)))
		return rc;
	for (int k = 0; k < RING_MAX; k++) {
		char path[PATH_MAX], name[32];
		snprintf(name, sizeof(name), "ring-%d", k);
		if (path_join(path, sizeof(path), m->log_dir, name) ||
		    access(path, F_OK))
			continue;
		rc = open_ring(m, k, 0, why);
		if (rc) {
			mlog("%s: %s", path, *why);
			*why = "cannot open an existing log ring";
			return rc;
		}
	}
	m->rate_ns = now_ns();
	return 0;
}

void mirror_close(struct mirror *m)
{
	for (int k = 0; k < RING_MAX; k++) {
		if (m->rings[k]) {
			ring_close(m->rings[k]);
			free(m->rings[k]);
			m->rings[k] = NULL;
		}
	}
	replica_close(&m->replica);
	replica_close(&m->stage);
	state_close(&m->state);
	if (m->lock_fd >= 0)
		close(m->lock_fd); /* last: nothing of DIR is held any more */
	m->lock_fd = -1;
	free(m->logged.v);
	m->logged.v = NULL;
	log_copy_free(&m->apply_copy);
	mjl_tls_free(m->transport_ctx);
	m->transport_ctx = NULL;
	mjl_tls_free(m->forward_tls);
	m->forward_tls = NULL;
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->create_lock);
	pthread_cond_destroy(&m->ckpt_cond);
	pthread_cond_destroy(&m->space_cond);
	pthread_cond_destroy(&m->conns_cond);
	pthread_cond_destroy(&m->forward_cond);
}

int mirror_replay(struct mirror *m, const char **why)
{
	pthread_mutex_lock(&m->lock);
	for (int k = 0; k < RING_MAX; k++) {
		struct ring *r = m->rings[k];
		struct ring_scan_info info;
		if (!r)
			continue;
		int rc = ring_scan(r, &info);
		if (rc) {
			pthread_mutex_unlock(&m->lock);
			return *why = "cannot scan a log ring", rc;
		}
		if (info.entries || info.discarded)
			minfo("ring %d: %llu entries, %llu complete batches, "
			      "%llu entries of an unfinished batch dropped; "
			      "scan stopped: %s", k,
			      (unsigned long long)info.entries,
			      (unsigned long long)info.batches,
			      (unsigned long long)info.discarded, info.stop);
		for (size_t i = 0; i < r->q_len; i++) {
			const struct ring_batch *b = ring_batch_at(r, i);
			if (b->seq > m->received_seq)
				m->received_seq = b->seq;
			if (b->seq > m->durable_seq)
				seqset_add(&m->logged, b->seq);
		}
	}
	advance_durable(m);
	ckpt_run(m);
	/* Heads move over duplicates even when nothing was applied. */
	(void)log_release(m->rings, RING_MAX, &m->readers);
	pthread_mutex_unlock(&m->lock);
	return 0;
}
