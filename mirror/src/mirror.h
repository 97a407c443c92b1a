/*
 * mirror.h: the mirror's shared state and the functions that tie rings,
 * state, replica and threads together. One mutex (lock) guards everything
 * marked (L); the heavy work (reading frames into a ring, persisting,
 * applying records) is done outside it.
 */
#ifndef MIRROR_MIRROR_H
#define MIRROR_MIRROR_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/un.h>

#include "health.h"
#include "logcopy.h"
#include "logread.h"
#include "mojim_link.h"
#include "replica.h"
#include "ring.h"
#include "state.h"

#define MIRROR_MAX_CONNS 128
/* Connections that have not completed a HELLO: at most this many, each
 * for at most HELLO_DEADLINE_MS; the oldest goes when a new one comes. */
#define MIRROR_MAX_UNADMITTED 32
#define HELLO_DEADLINE_MS 2000
#define MIRROR_MAX_BACKUPS 8

struct mirror_cfg {
	const char *listen;    /* HOST:PORT */
	const char *dir;       /* DIR: state, log/, control.sock, data/ */
	const char *data_dir;  /* replica directory; NULL: DIR/data */
	int data_on_disk;      /* replica on an ordinary file system */
	uint64_t log_size;     /* bytes per ring file */
	uint64_t slot_size;    /* largest frame accepted */
	uint64_t ckpt_thresh;  /* batches between checkpoints */
	uint64_t ckpt_idle_ms; /* checkpoint after this long without batches */
	uint64_t hb_timeout_ms;/* close a connection silent this long */
	uint64_t spin_us;      /* busy-poll before sleeping in the kernel */
	uint64_t max_file_size;/* largest file size or WRITE end a batch may
	                          ask for; 0: the replica's file system size */
	const char *keyfile;   /* the cluster key; NULL: unkeyed */
	int role_backup;       /* --role backup: fed by a mirror's forwarder,
	                          never by a primary */
	const char *backups[MIRROR_MAX_BACKUPS]; /* --backup ADDR:PORT */
	int nbackups;
	uint64_t backup_timeout_ms; /* a backup silent this long is lost */
	uint64_t secondary_thresh;  /* acks stop while backups lag more */
	int chain;                  /* --chain: ack once every live backup
	                               has the batch (the paper's E-chain) */
	const char *metrics;        /* --metrics ADDR:PORT; NULL: off */
	const char *transport;      /* --transport: how peers come in */
	const char *backup_transport; /* --backup-transport: how backups are
	                                 dialed */
	int tls;               /* --tls: every peer speaks TLS, with a
	                          certificate the CA signed */
	struct mjl_tls_config tls_files; /* --tls-cert, --tls-key, --tls-ca */
	int replay_only;
	int quiet;
};

/* Sequence numbers of complete logged batches above durable_seq, sorted. */
struct seqset {
	uint64_t *v;
	size_t n, cap;
};

struct conn;
struct backup;

struct mirror {
	struct mirror_cfg cfg;
	struct mjl_key key;    /* cfg.keyfile's, loaded by main; len 0: none */
	const struct mjl_transport *transport; /* how peers are accepted */
	struct mjl_tls *transport_ctx; /* TLS: certificates, loaded by main */
	struct mjl_tls *forward_tls;   /* the same, for dialing backups */
	const struct mjl_transport *forward_transport; /* how backups are dialed */
	struct backup *backups[MIRROR_MAX_BACKUPS]; /* forward.c's */
	int nbackups;
	int copy_yield;        /* atomic: a promotion or a copy swap waits for
	                          applying: a copy to a backup gives up */
	char log_dir[PATH_MAX];
	char data_dir[PATH_MAX];
	char state_path[PATH_MAX];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char listen_addr[80];  /* the address actually bound */

	pthread_mutex_t lock;
	pthread_cond_t ckpt_cond;  /* the checkpointer waits here */
	pthread_cond_t space_cond; /* receivers wait here for ring space */
	pthread_cond_t conns_cond; /* shutdown waits here for receivers */
	pthread_cond_t forward_cond; /* forwarders wait here for batches */
	pthread_mutex_t create_lock; /* one ring file created at a time */
	char stage_dir[PATH_MAX];  /* a full copy is received here (copy.c) */
	char old_dir[PATH_MAX];    /* the replica it replaces, while swapping */

	struct state state;
	struct replica replica;    /* checkpointer only */
	struct ring *rings[RING_MAX]; /* (L) NULL until first used */
	struct log_readers readers;   /* (L) who still needs the log (logread.h) */

	uint64_t epoch;        /* (L) newest epoch seen, persisted */
	uint64_t applied_seq;  /* (L) persisted in state */
	uint64_t durable_seq;  /* (L) all batches 1..durable logged or applied */
	uint64_t received_seq; /* (L) highest seq of a complete logged batch */
	struct seqset logged;  /* (L) */
	uint64_t since_ckpt;   /* (L) batches logged since the last run */
	uint64_t last_batch_ns;/* (L) */
	int space_waiters;     /* (L) receivers waiting for ring space */
	int stopping;          /* (L) shutting down: receivers stop */
	int ckpt_quit;         /* (L) the checkpointer's last run */
	int applying;          /* (L) a thread is in ckpt_run (one at a time) */
	struct log_copy apply_copy; /* the frames it applies: whoever is
	                               applying owns it (logcopy.h) */
	int copy_ignored;      /* (L) promotion applies the log although a
	                          full copy is wanted (copy_promotable) */
	uint64_t cluster_id;   /* (L) persisted; 0 until a primary says hello */
	uint64_t incarnation;  /* (L) persisted: the primary's newest opening */
	int inc_switching;     /* (L) a HELLO is taking over from an older
	                          incarnation: other HELLOs wait (ingest.c) */
	int promoted;          /* (L) persisted: no primary is taken any more */
	struct health health;  /* (L) health.c's */
	uint64_t max_file_size;/* the bound in force (cfg, or the default) */
	int lock_fd;           /* DIR/lock, flocked for the life of the process */
	struct conn *copy_conn;/* (L) the connection sending a full copy */
	struct replica stage;  /* the copy being received; copy_conn only */
	uint64_t copy_total, copy_bytes, copy_start_ns; /* (L) progress */
	uint64_t copy_log_ns;  /* last progress line */
	uint64_t copy_end_ns;  /* (L) when the last copy landed; 0 while one runs */
	uint64_t copies_done;  /* (L) */
	uint64_t last_primary_ns; /* atomic: last frame read from a primary */

	/* statistics */
	uint64_t bytes_received;  /* atomic */
	uint64_t bytes_placed;    /* atomic: of those, placed by RDMA writes */
	uint64_t frames_rejected; /* atomic */
	uint64_t auth_refused;    /* atomic: peers that failed the key check */
	uint64_t tls_refused;     /* atomic: peers that failed the TLS handshake
	                             (plaintext, or no certificate of the CA) */
	uint64_t evicted_peers;   /* (L) cut before their HELLO (conns.c) */
	uint64_t stalls;          /* (L) acks held back for a backup's lag */
	uint64_t stalled_ns;      /* (L) how long, in all */
	uint64_t batches_applied; /* (L) */
	uint64_t apply_errors;    /* (L) records that failed to apply */
	uint64_t rate_bytes, rate_ns; /* (L) last rate sample */
	uint64_t bytes_per_sec;   /* (L) */

	int nconns;                             /* (L) */
	struct conn *conns[MIRROR_MAX_CONNS];   /* (L) */

	pthread_t ckpt_thread;
	int ckpt_started;
	pthread_t ctl_thread;
	int ctl_fd;
	int ctl_started;
	int ctl_stop; /* atomic */
	uint64_t ctl_refused; /* atomic: callers of another user (control.c) */
	struct mjl_listener listener; /* (main) */
};

/*
 * Opens DIR (state, existing rings, replica directory). No threads yet.
 * DIR is locked first (DIR/lock, flock): -EBUSY, with *why naming the
 * holder's pid, when another process has it.
 */
int mirror_open(struct mirror *m, const struct mirror_cfg *cfg,
                const char **why);
void mirror_close(struct mirror *m);

/*
 * Replays the rings at start: scans each from its head and applies every
 * complete batch in sequence order, stopping at a gap. Returns 0 or a
 * negative errno (with *why).
 */
int mirror_replay(struct mirror *m, const char **why);

/* Ring k, created on first use. Returns NULL with *why set on failure. */
struct ring *mirror_ring(struct mirror *m, int k, const char **why);

/* (L) A complete batch was logged: durable/received seqs, wake the
 * checkpointer when its threshold is reached. */
void mirror_batch_logged(struct mirror *m, uint64_t seq);

/* (L) Log bytes used and total over all rings. */
static inline void mirror_log_fill(struct mirror *m, uint64_t *used,
                                   uint64_t *total)
{
	log_fill(m->rings, RING_MAX, used, total);
}

/* checkpoint.c */
/* (L, dropped while waiting) Waits until nobody applies, then is the one
 * applying (m->applying): a copy to a backup holding it is asked to give
 * up (m->copy_yield), so a promotion or a swap waits a moment, not the
 * whole copy. */
void ckpt_take_applying(struct mirror *m);
/*
 * (L held on entry and exit; dropped while applying.) Applies every batch
 * that is ready in sequence order; returns how many.
 */
uint64_t ckpt_run(struct mirror *m);
/*
 * (L held.) Runs ckpt_run unless another thread is in it; returns 0 if it
 * did not run. Receivers call it right after an ack: applying in the thread
 * that is already awake saves waking the checkpointer for every batch.
 */
int ckpt_try_run(struct mirror *m);
int ckpt_start(struct mirror *m);
/* Stops the thread after a last run over what is complete. */
void ckpt_stop(struct mirror *m);

/* copy.c: receiving a full copy (the primary's copy.c) */
/* At open, before the replica is opened: finishes or discards a copy a
 * crash interrupted. */
int copy_recover(struct mirror *m, const char **why);
/* COPY_BEGIN: an empty staging directory. L not held. */
int copy_begin(struct mirror *m, uint64_t total, const char **why);
/* A checked COPY frame, applied to the staging directory. */
int copy_apply(struct mirror *m, const void *frame, char *err, size_t len);
/* COPY_DONE: the staged copy becomes the replica, at seq. L not held. */
int copy_done(struct mirror *m, uint64_t seq, const char **why);
/* (L) Whether a replica waiting for a full copy may be promoted as it is
 * (copy.c); 0, or -EPERM with *why. */
int copy_promotable(const struct mirror *m, const char **why);
/* (L) Removes an unfinished copy's staging directory. */
void copy_drop_stage(struct mirror *m);
/* The copy's connection is gone: the replica stays as it was, stale. */
void copy_abort(struct mirror *m);
/* (L) The copy state, and the HELLO_ACK flags it implies. */
static inline uint64_t copy_state(const struct mirror *m)
{
	return m->state.d->copy_state;
}
uint32_t copy_ack_flags(const struct mirror *m);

/* promote.c */
/*
 * Makes the replica directory a primary's: the old primary is refused,
 * every complete batch applied, the rest dropped, the epoch bumped and
 * persisted, and DATA/.mojim-node written. A running mirror refuses while
 * it heard from a primary within the heartbeat timeout, unless force. An
 * unhealthy replica (health.h) is refused unless lose_from is the first
 * batch that could not be applied (0: none named). Returns 0 or a
 * negative errno; msg says what happened either way. A refusal or failure
 * leaves the mirror as it was.
 */
int mirror_promote(struct mirror *m, int force, uint64_t lose_from, char *msg,
                   size_t len);
/* The same on a directory no mirror runs on (after mirror_replay). */
int mirror_promote_offline(struct mirror *m, uint64_t lose_from, char *msg,
                           size_t len);

/* forward.c: one forwarder thread per --backup (see its top). */
int forward_start(struct mirror *m, const char **why);
/* After the listener stopped (m->stopping set). */
void forward_stop(struct mirror *m);
/* (L) The log is about to be emptied for another history (a full copy
 * swapped in, a promotion): every backup needs a full copy, and none is
 * reading the log when this returns. */
void forward_quiesce(struct mirror *m, const char *why);
/* copy_send.c: the replica under data_dir, standing at batch seq, to a
 * backup as a full copy (see its top). No lock held; 0, or an error with
 * msg set. */
struct copy_to {
	struct mjl_link *link;
	uint64_t slot;          /* the backup's largest frame */
	uint64_t seq, epoch, cluster;
	const int *quit;        /* atomic: the mirror stops, give up */
	const int *yield;       /* atomic: someone waits to apply, give up */
};
int copy_send(const char *data_dir, const struct copy_to *t, char *msg,
              size_t len);

/* (L) Whether the backups lag more than --secondary-thresh: the log's
 * fill while a backup is its slowest reader (the paper's log-bak-begin to
 * log-end). */
int forward_stalling(struct mirror *m);
/* (L) --chain: whether a backup that counts (live, or down but not lost
 * yet) has not acknowledged seq. */
int forward_chain_waits(struct mirror *m, uint64_t seq);
/* (L) Declares lost the backups down for longer than their timeout (a
 * waiting receiver calls it: the timeout bounds its wait). */
void forward_tick(struct mirror *m);
/* What status shows of one backup: plain numbers, copied (status.c). */
struct backup_status {
	char addr[128];
	int state;              /* forward_state_name(state) */
	uint64_t acked;         /* it holds every batch up to this */
	uint64_t lag_batches, lag_bytes;
	double lag_seconds;     /* since its last progress, while it lags */
	int stalling;           /* it is the backup the tier stalls for */
	uint64_t copies;        /* full copies it got */
	char why[256];          /* why it is not live; "" when it is */
};
/* (L) Fills out[] with up to max backups; returns how many. */
int forward_backups(struct mirror *m, struct backup_status *out, int max);
/* "down", "live", "lost", "needs-copy"; NULL past the last state, so a
 * reader can list them all. */
const char *forward_state_name(int state);

/* listener.c: binds cfg.listen (the address bound in listen_addr). */
int listener_open(struct mirror *m, const char **why);
/* Accepts until *stop becomes non-zero, then closes every connection. */
void listener_run(struct mirror *m, volatile int *stop);
/* conns.c */
/* (L) Cuts every connection whose epoch is below epoch (a newer primary
 * said hello, or a promotion): their threads then end on their own. */
void conns_cut_older(struct mirror *m, uint64_t epoch);
/* (L) The replica became unhealthy: every connection ends with a REFUSE
 * (MJW_REFUSE_UNHEALTHY) its own thread sends. */
void conns_refuse_all(struct mirror *m);

/* control.c */
int control_start(struct mirror *m, const char **why);
void control_stop(struct mirror *m);
/* Writes the status report (key: value lines, or JSON) into buf. */
void mirror_status(struct mirror *m, int json, char *buf, size_t len);

#endif
