/*
 * state.c: the persisted epoch and applied_seq (see state.h).
 */
#include "state.h"
#include "util.h"

#include <errno.h>
#include <libpmem.h>
#include <string.h>

int state_open(struct state *st, const char *path, const char **why)
{
	memset(st, 0, sizeof(*st));
	void *p = pmem_map_file(path, STATE_FILE_SIZE, PMEM_FILE_CREATE, 0600,
	                        &st->mapped_len, &st->is_pmem);
	if (!p) {
		*why = "cannot map the state file";
		return -errno;
	}
	if (st->mapped_len < sizeof(struct state_disk)) {
		pmem_unmap(p, st->mapped_len);
		*why = "state file too small";
		return -EINVAL;
	}
	st->d = p;
	if (st->d->magic == 0) {
		/* New file (all zeros). The magic goes last so that a crash
		 * here leaves a file that is simply initialised again. */
		st->d->version = STATE_VERSION;
		st->d->size = STATE_FILE_SIZE;
		int rc = pm_persist(st->d, sizeof(*st->d), st->is_pmem);
		if (!rc)
			rc = state_set(st, &st->d->magic, STATE_MAGIC);
		if (rc) {
			state_close(st);
			*why = "cannot persist a new state file";
			return rc;
		}
	} else if (st->d->magic != STATE_MAGIC) {
		state_close(st);
		*why = "state file has a bad magic (not a mojim-mirror state)";
		return -EINVAL;
	} else if (st->d->version != STATE_VERSION) {
		state_close(st);
		*why = "state file has an unsupported version";
		return -EINVAL;
	}
	return 0;
}

void state_close(struct state *st)
{
	if (st->d)
		pmem_unmap(st->d, st->mapped_len);
	st->d = NULL;
}

int state_set_epoch(struct state *st, uint64_t epoch)
{
	return state_set(st, &st->d->epoch, epoch);
}

/* A value that could not be persisted is taken back, so that nobody acts
 * on what the media may not hold (the caller reports the failure). */
int state_set(struct state *st, uint64_t *field, uint64_t value)
{
	uint64_t old = *field;
	*field = value;
	int rc = pm_persist(field, 8, st->is_pmem);
	if (rc) {
		*field = old;
		(void)pm_persist(field, 8, st->is_pmem); /* best effort */
	}
	return rc;
}

int state_set_applied(struct state *st, uint64_t seq)
{
	return state_set(st, &st->d->applied_seq, seq);
}

int state_set_partial(struct state *st, uint64_t seq, uint64_t recs)
{
	/* recs first: a crash between the two stores leaves the old seq with
	 * the new count, which is ignored as it is not applied_seq + 1. */
	int rc = state_set(st, &st->d->partial_recs, recs);
	if (!rc && st->d->partial_seq != seq)
		rc = state_set(st, &st->d->partial_seq, seq);
	return rc;
}
