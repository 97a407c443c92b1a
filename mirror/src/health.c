/*
 * health.c: the replica's health, its one owner (health.h).
 */
#include "mirror.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void health_load(struct mirror *m)
{
	const struct state_disk *d = m->state.d;
	struct health *h = &m->health;
	memset(h, 0, sizeof(*h));
	if (!d->unhealthy)
		return;
	h->unhealthy = 1;
	h->bad_seq = d->bad_seq;
	h->bad_errno = (int)d->bad_errno;
	snprintf(h->why, sizeof(h->why), "%s (before the last restart)",
	         strerror(h->bad_errno));
}

/* Persists the three fields; the flag last when setting, first when
 * clearing, so a torn update never claims a failure it does not name. */
static int persist(struct mirror *m, int unhealthy, uint64_t seq, int err)
{
	struct state *st = &m->state;
	if (!unhealthy)
		return state_set(st, &st->d->unhealthy, 0);
	int rc = state_set(st, &st->d->bad_seq, seq);
	if (!rc)
		rc = state_set(st, &st->d->bad_errno, (uint64_t)err);
	if (!rc)
		rc = state_set(st, &st->d->unhealthy, 1);
	return rc;
}

int health_fail(struct mirror *m, uint64_t seq, int err, const char *what)
{
	struct health *h = &m->health;
	int e = err < 0 ? -err : err;
	h->retry_ns = now_ns() + HEALTH_RETRY_MS * 1000000ull;
	if (h->unhealthy && h->bad_seq == seq && h->bad_errno == e)
		return 0; /* the same failure on a retry: said already */
	h->unhealthy = 1;
	h->bad_seq = seq;
	h->bad_errno = e;
	snprintf(h->why, sizeof(h->why), "%s", what);
	int rc = persist(m, 1, seq, e);
	mlog("batch %llu cannot be applied: %s; the replica is UNHEALTHY: "
	     "the batch stays in the log, primaries are refused, retrying "
	     "every %d ms%s", (unsigned long long)seq, what, HEALTH_RETRY_MS,
	     rc ? "; and the state file cannot record it" : "");
	conns_refuse_all(m);
	return rc;
}

int health_ok(struct mirror *m, uint64_t applied)
{
	struct health *h = &m->health;
	if (!h->unhealthy || applied < h->bad_seq)
		return 0;
	int rc = persist(m, 0, 0, 0);
	if (rc)
		return rc;
	mlog("batch %llu applied on retry: the replica is healthy again",
	     (unsigned long long)h->bad_seq);
	memset(h, 0, sizeof(*h));
	return 0;
}

int health_reset(struct mirror *m)
{
	struct health *h = &m->health;
	if (!h->unhealthy && !m->state.d->unhealthy)
		return 0;
	memset(h, 0, sizeof(*h));
	return persist(m, 0, 0, 0);
}

int health_backoff(const struct mirror *m, uint64_t now)
{
	return m->health.unhealthy && now < m->health.retry_ns;
}

uint64_t health_retry_at(const struct mirror *m)
{
	return m->health.unhealthy ? m->health.retry_ns : 0;
}

const char *health_refusal(const struct mirror *m, char *buf, size_t len)
{
	const struct health *h = &m->health;
	if (!h->unhealthy)
		return NULL;
	snprintf(buf, len, "the mirror's replica is unhealthy: batch %llu "
	         "cannot be applied: %s", (unsigned long long)h->bad_seq, h->why);
	return buf;
}

const char *health_promote_refusal(const struct mirror *m, uint64_t lose_from,
                                   char *buf, size_t len)
{
	const struct health *h = &m->health;
	if (!h->unhealthy || lose_from == h->bad_seq)
		return NULL;
	uint64_t last = m->durable_seq > h->bad_seq ? m->durable_seq : h->bad_seq;
	snprintf(buf, len, "the replica is unhealthy: batch %llu cannot be "
	         "applied (%s). Promoting it would lose batches %llu..%llu "
	         "(%llu batches), which the primary was told were durable, and "
	         "batch %llu is partly applied in the replica. To promote anyway, "
	         "pass --lose-from %llu%s", (unsigned long long)h->bad_seq, h->why,
	         (unsigned long long)h->bad_seq, (unsigned long long)last,
	         (unsigned long long)(last - h->bad_seq + 1),
	         (unsigned long long)h->bad_seq, (unsigned long long)h->bad_seq,
	         lose_from ? " (the --lose-from given does not name it)" : "");
	return buf;
}
