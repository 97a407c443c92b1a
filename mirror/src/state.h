/*
 * state.h: DIR/state, the mirror's few persistent numbers.
 *
 * A small pmem file. Each field is one aligned 8-byte word, so an update
 * is a single store followed by a persist: a crash leaves either the old
 * or the new value, never a mix.
 */
#ifndef MIRROR_STATE_H
#define MIRROR_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC 0x45544154534a4d4dull /* "MMJSTATE" */
#define STATE_VERSION 1
#define STATE_FILE_SIZE 4096

struct state_disk {
	uint64_t magic;
	uint32_t version;
	uint32_t size;
	uint64_t epoch;       /* newest epoch seen from any primary */
	uint64_t applied_seq; /* last batch whose effects are durable */
	/* Progress inside batch partial_seq: its records before partial_recs
	 * are durable and must not run again (a rename replayed after the
	 * source name was reused would be wrong). Only meaningful when
	 * partial_seq == applied_seq + 1. */
	uint64_t partial_seq;
	uint64_t partial_recs;
	uint64_t cluster_id;  /* the cluster this mirror serves; 0: none yet */
	uint64_t copy_state;  /* enum copy_state */
	uint64_t copy_seq;    /* COPY_SWITCH: the seq the staged copy is at */
	uint64_t has_data;    /* 1 once a batch was logged or a copy landed */
	uint64_t promoted;    /* 1: promoted; the directory is a primary now */
	uint64_t incarnation; /* newest incarnation of the primary of this
	                         epoch that was admitted (ingest.c) */
	/* The replica's health (health.c): a logged batch that could not be
	 * applied. Fields a version-1 file written before them reads as 0. */
	uint64_t unhealthy;   /* 1: batch bad_seq failed, not yet applied */
	uint64_t bad_seq;     /* the first batch that could not be applied */
	uint64_t bad_errno;   /* why (a positive errno) */
	uint64_t old_epoch_data; /* 1: the replica holds an older epoch's
	                            primary's data (a newer one took over), so
	                            only its full copy may replace it */
};

/* Where a full copy (mirror/src/copy.c) stands. */
enum copy_state {
	COPY_NONE = 0,    /* the replica continues from applied_seq */
	COPY_STAGING = 1, /* a copy is being received into the staging dir;
	                     the replica is stale until it completes */
	COPY_SWITCH = 2,  /* the staged copy is complete: make it the replica
	                     (a crash here finishes the switch at start) */
	COPY_NEEDED = 3,  /* the replica cannot be continued (epoch changed, a
	                     copy was cut short): only a full copy repairs it */
};

struct state {
	struct state_disk *d;
	size_t mapped_len;
	int is_pmem;
};

/*
 * Opens or creates path. Returns 0 or a negative errno with *why set.
 * Every setter below returns 0 or the negative errno of the persist: a
 * value that did not reach media must not be acted on.
 */
int state_open(struct state *st, const char *path, const char **why);
void state_close(struct state *st);
int state_set_epoch(struct state *st, uint64_t epoch);
/* Stores one 8-byte field of the state and persists it. */
int state_set(struct state *st, uint64_t *field, uint64_t value);
int state_set_applied(struct state *st, uint64_t seq);
/* Records of batch seq before recs are durable. */
int state_set_partial(struct state *st, uint64_t seq, uint64_t recs);

#endif
