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
		pm_persist(st->d, sizeof(*st->d), st->is_pmem);
		st->d->magic = STATE_MAGIC;
		pm_persist(&st->d->magic, 8, st->is_pmem);
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

void state_set_epoch(struct state *st, uint64_t epoch)
{
	st->d->epoch = epoch;
	pm_persist(&st->d->epoch, 8, st->is_pmem);
}

void state_set(struct state *st, uint64_t *field, uint64_t value)
{
	*field = value;
	pm_persist(field, 8, st->is_pmem);
}

void state_set_applied(struct state *st, uint64_t seq)
{
	st->d->applied_seq = seq;
	pm_persist(&st->d->applied_seq, 8, st->is_pmem);
}

void state_set_partial(struct state *st, uint64_t seq, uint64_t recs)
{
	/* recs first: a crash between the two stores leaves the old seq with
	 * the new count, which is ignored as it is not applied_seq + 1. */
	st->d->partial_recs = recs;
	pm_persist(&st->d->partial_recs, 8, st->is_pmem);
	if (st->d->partial_seq != seq) {
		st->d->partial_seq = seq;
		pm_persist(&st->d->partial_seq, 8, st->is_pmem);
	}
}
