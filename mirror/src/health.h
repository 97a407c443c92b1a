/*
 * health.h: the replica's health (DESIGN.md invariant 7), owned here.
 *
 * A batch that is logged but cannot be applied (a full file system, an
 * I/O error) stays in the log, and the replica is "unhealthy": the state
 * file says so (so a restart knows), primaries are refused with
 * MJW_REFUSE_UNHEALTHY (so the primary knows its batches go nowhere),
 * status shows it, and promotion refuses unless the operator names the
 * loss. The checkpointer retries with a backoff; the first success clears
 * it. Every function here is called with the mirror lock held (L).
 */
#ifndef MIRROR_HEALTH_H
#define MIRROR_HEALTH_H

#include <stddef.h>
#include <stdint.h>

/* How long the checkpointer waits before applying a failed batch again. */
#define HEALTH_RETRY_MS 2000

struct mirror;

struct health {
	int unhealthy;     /* (L) batch bad_seq could not be applied */
	uint64_t bad_seq;  /* (L) */
	int bad_errno;     /* (L) positive errno */
	char why[256];     /* (L) the failure as logged */
	uint64_t retry_ns; /* (L) no retry before this */
};

/* At open: what the state file says (a failure before a restart). */
void health_load(struct mirror *m);
/*
 * (L) Applying batch seq failed with err (negative errno), described by
 * what. Persists the failure, logs it once (not per retry), ends every
 * primary's connection. Returns the persist's error or 0.
 */
int health_fail(struct mirror *m, uint64_t seq, int err, const char *what);
/* (L) Everything up to applied is applied: clears a failure at or before
 * it, persisted, and says so. */
int health_ok(struct mirror *m, uint64_t applied);
/* (L) A new replica (a full copy landed): past failures are moot. */
int health_reset(struct mirror *m);
/* (L) Unhealthy and the backoff since the last try has not passed. */
int health_backoff(const struct mirror *m, uint64_t now);
/* (L) When the checkpointer should try again; 0 if healthy. */
uint64_t health_retry_at(const struct mirror *m);
/* (L) Why a primary is refused, into buf; NULL when healthy. */
const char *health_refusal(const struct mirror *m, char *buf, size_t len);
/*
 * (L) NULL when promotion may go on: healthy, or lose_from names the
 * first batch that could not be applied. Otherwise the refusal, naming
 * exactly what would be lost, written into buf.
 */
const char *health_promote_refusal(const struct mirror *m, uint64_t lose_from,
                                   char *buf, size_t len);

#endif
