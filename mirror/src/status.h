/*
 * status.h: the mirror's figures, copied in one place for every reader:
 * mojimctl's status (control.c) and the metrics endpoint (metrics.c)
 * show the same numbers, taken the same way.
 */
#ifndef MIRROR_STATUS_H
#define MIRROR_STATUS_H

#include <stdint.h>

#include "health.h"
#include "mirror.h"

struct status {
	uint64_t epoch, received, durable, applied, used, total;
	uint64_t bytes, rate, batches, rejected, apply_errors;
	uint64_t placed; /* of bytes, those the primary placed in the log */
	uint64_t cluster, copy_total, copy_bytes, copy_ms, copies;
	double copy_rate, copy_left; /* bytes per second, seconds */
	uint64_t ctl_refused;
	uint64_t auth_refused, tls_refused, evicted, stalls, stalled_ns;
	int stalling;
	int keyed, tls;
	int conns, promoted, copy_state;
	struct health health;
	int nbackups;
	struct backup_status backups[MIRROR_MAX_BACKUPS];
};

/* Takes the mirror lock (only to copy the numbers) and fills s. */
void status_take(struct mirror *m, struct status *s);

/* The name of copy state st (state.h's COPY_*), or NULL past the last:
 * a reader can list them all. */
const char *status_copy_state_name(int st);

#endif
