/*
 * internal.h: libmojim's private structures.
 *
 * One mutex (region->mu) guards the namespace (file table, names, pending
 * namespace records), the batch being filled, the list of batches sent but
 * not acknowledged, and the connections' states. Sending and waiting for an
 * ack happen outside it, by whichever thread owns the connection (state
 * CONN_BUSY): a caller in sync modes, a shipper thread in async mode, or
 * the supervisor while it pings.
 */
#ifndef MOJIM_INTERNAL_H
#define MOJIM_INTERNAL_H

#include "mojim.h"
#include "mojim_link.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MJ_MAX_CONNS 64

/*
 * A mapping of a file, cap bytes long: usually longer than the file, so
 * that the file grows inside it without a new mapping (pages past the end
 * of the file are never touched). A new, larger one replaces it only when
 * the file outgrows it; older ones are kept until the file closes, since a
 * reader may still hold their address. Capacities double, so a file never
 * has more than a few.
 */
struct mj_mapping {
	void *addr;
	size_t cap;
	struct mj_mapping *older;
};

struct mj_file {
	mj_region *region;
	char name[MJW_NAME_MAX + 1]; /* current name; rename updates it */
	int fd;
	int refs;          /* handles returned by mj_file_open */
	int is_pmem;       /* flush with pmem_flush, else pmem_msync */
	bool meta_dirty;   /* created or resized since the last local sync */
	/* The file's size and the mapping that covers it. A grow publishes a
	 * new mapping before the size that needs it, and readers load the
	 * size first, so a size read is always covered by the mapping read
	 * after it. NULL until the file first has bytes. */
	_Atomic uint64_t size;
	_Atomic(struct mj_mapping *) cur;
	struct mj_mapping *maps;
	/* Ranges synced while the mirror could not take batches (resync.c). */
	struct mj_rangeset track;
	bool lingering;    /* closed, kept open while track still needs it */
	struct mj_file *next;
};

/* A growable byte buffer of encoded records. */
struct mj_buf {
	unsigned char *p;
	uint64_t len, cap;
	uint32_t nrec;
};

/*
 * One batch: frames laid out back to back in buf, each at most slot bytes.
 * frame_off is where the open frame starts; frames are sealed when the
 * batch is shipped.
 */
struct mj_batch {
	uint64_t seq;
	struct mj_buf buf;
	uint64_t frame_off;   /* start of the frame being filled */
	uint32_t frame_nrec;  /* records in that frame */
	uint32_t nframes;
	uint64_t slot;        /* frame size limit it was built with */
	uint64_t payload;     /* record bytes (the "total" header field) */
	uint64_t queued;      /* bytes it counts for in the queue */
	bool sealed;
	bool needs_send;      /* built or failed; someone must (re)send it */
	int sync_points;
	struct mj_batch *next; /* in the queue's held list (queue.c) */
};

/* DIALING is DOWN while the supervisor tries it: nobody else may use it,
 * and it does not count as a live connection. */
enum conn_state { CONN_DOWN = 0, CONN_UP, CONN_BUSY, CONN_DIALING };

struct mj_link; /* a transport's state for one connection */

struct mj_conn {
	int index;
	struct mj_link *link; /* NULL while down */
	enum conn_state state;
	uint64_t last_io_ns;
};

/* A thread in wait_durable: woken alone when its batch is durable, or when
 * it should ship (rather than every waiter on every ack). */
struct mj_waiter {
	uint64_t seq;
	pthread_cond_t cv;
	struct mj_waiter *next;
};

struct mj_region {
	char *dir;
	int dirfd;
	struct mj_config cfg;
	const struct mj_transport *tx;
	const struct mjl_transport *transport; /* cfg.transport's */
	struct mjl_key key;       /* cfg.keyfile's; len 0: unkeyed */
	struct mjl_tls *tls;      /* tls=on: the certificates, loaded once */
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* drain, async shippers, queue room */
	pthread_cond_t sup_cv;    /* the supervisor: a connection failed */
	struct mj_waiter *waiters; /* sync points waiting to be durable */

	/* namespace */
	struct mj_file *files;
	struct mj_buf pending_ns; /* records not yet in a batch */
	char (*dirty_dirs)[MJW_NAME_MAX + 1]; /* parents to fsync locally */
	int ndirty_dirs, cap_dirty_dirs;

	/* batches */
	struct mj_queue *q;       /* every batch not acknowledged (queue.c) */
	uint64_t slot;            /* largest frame the mirror accepts */
	uint64_t max_batch;       /* largest batch the mirror's log holds */

	/* connections and failure state */
	struct mj_conn conns[MJ_MAX_CONNS];
	int nconns;
	bool mirror_lost;
	uint64_t lost_since_ns;
	bool degraded;
	bool fenced;
	int fence_err;            /* MJ_EFENCED or MJ_ECLUSTER, once fenced */
	bool stopping;
	pthread_t supervisor;
	bool have_supervisor;
	pthread_t shippers[MJ_MAX_CONNS];
	void *shipper_arg[MJ_MAX_CONNS];
	int nshippers;

	/* Identity and resync (resync.c, copy.c). While track.active, sync
	 * points build no batches: their ranges are added to each file's track
	 * set and their namespace records stay in pending_ns, in order, until
	 * a catch-up batch or a full copy settles them. */
	uint64_t cluster;
	uint64_t incarnation;     /* this opening of the region (node.c) */
	struct mjw_node node;     /* as stored in DIR/.mojim-node */
	bool had_files;           /* the directory held files at open */
	struct {
		bool active;
		bool overflow;        /* tracking cannot repair the mirror: copy */
		uint64_t gen;         /* bumped when a tracking period settles */
		uint64_t end_seq;     /* the batch that settled the last one */
	} track;
	bool need_copy;           /* the mirror needs a full copy */
	bool writes_lost;         /* mj_region_writes_lost: stale until a copy */
	/* A catch-up or a copy ended the degraded state; the node file keeps
	 * saying "stale" and "flushed" (and sync points keep flushing
	 * locally) until the mirror acknowledged track.end_seq, the last
	 * batch holding sync points acknowledged on the local flush alone. */
	bool settle_pending;
	/* Every sync point flushes locally: the mode says so, or the node
	 * file does (node.flushed, node.c). Set under mu, read without it. */
	atomic_bool flush_local;
	bool copying;             /* a copy runs: no batch is shipped */

	struct mj_status st; /* counters, read under mu */
};

/* config.c */
int mj_config_check(const struct mj_config *c, const char **why);

/* log.c */
void mj_log(mj_region *r, enum mj_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t mj_now_ns(void);

/* buf.c */
/* realloc for growing lists, with fault injection: while mj_fault_alloc
 * is > 0 each call counts it down, and the call that brings it to 0
 * fails (tests only; 0, the default, never fails). */
extern atomic_int mj_fault_alloc;
void *mj_grow(void *p, size_t size);
int mj_buf_reserve(struct mj_buf *b, uint64_t more);
void mj_buf_free(struct mj_buf *b);
int mj_buf_add_rec(struct mj_buf *b, enum mjw_rec_type type, const char *name,
                   const char *name2, uint64_t off, uint64_t len);

/* batch.c */
struct mj_batch *mj_batch_new(uint64_t seq, uint64_t slot);
void mj_batch_free(struct mj_batch *b);
/* Empties b for reuse, keeping its buffer (and its seq and slot). */
void mj_batch_reset(struct mj_batch *b);
int mj_batch_add_records(struct mj_batch *b, const struct mj_buf *recs);
int mj_batch_add_write(struct mj_batch *b, const char *name, uint64_t off,
                       const void *data, uint64_t len);
/* The same with the bytes read from fd at off: for data the application
 * may be writing meanwhile (a catch-up, a full copy), which is then read
 * by the kernel rather than raced with in memory. */
int mj_batch_add_write_fd(struct mj_batch *b, const char *name, uint64_t off,
                          int fd, uint64_t len);
int mj_batch_seal(struct mj_batch *b, uint64_t epoch, uint64_t cluster,
                  uint8_t flags);
/* Builds b anew with frames of at most slot bytes (a mirror that came
 * back with a smaller slot takes nothing larger); the same records, the
 * same seq, unsealed. 0 or -ENOMEM (b is unchanged then). */
int mj_batch_reframe(struct mj_batch *b, uint64_t slot);

/*
 * queue.c: the batch queue, its one owner (mu held for every call). Seqs
 * are given out in order; durable is the highest seq such that every
 * batch up to it is acknowledged.
 */
struct mj_queue;
struct mj_queue *mj_queue_new(void);
void mj_queue_free(struct mj_queue *q); /* and every batch in it */
uint64_t mj_queue_durable(const struct mj_queue *q);
uint64_t mj_queue_next(const struct mj_queue *q); /* the next batch's seq */
/* No seq given out yet: nothing was ever shipped by this process. */
bool mj_queue_untouched(const struct mj_queue *q);
/* A restart: numbers on after the mirror's durable seq. */
void mj_queue_number_from(struct mj_queue *q, uint64_t durable);
/* The seq of the oldest batch not acknowledged (next if none). */
uint64_t mj_queue_oldest(const struct mj_queue *q);
/* Bytes not acknowledged, for backpressure. */
uint64_t mj_queue_bytes(const struct mj_queue *q);
/* Whether a batch the mirror has not acknowledged is held. */
bool mj_queue_held(const struct mj_queue *q);
int mj_queue_count_held(const struct mj_queue *q);
/* The seq of the newest closed batch not acknowledged, 0 if none. */
uint64_t mj_queue_newest_held(const struct mj_queue *q);
/* Whether the filling batch holds anything. */
bool mj_queue_filling(const struct mj_queue *q);
/* Whether something waits to be sent (a filling batch, or a resend). */
bool mj_queue_has_work(const struct mj_queue *q);
/* The filling batch, with room for need more bytes within max_batch: a
 * fuller one is closed first, a new one opened (and numbered). NULL if
 * out of memory. */
struct mj_batch *mj_queue_open(struct mj_queue *q, uint64_t need,
                               uint64_t max_batch, uint64_t slot);
/* A sync point failed to join b: if it is the filling batch and empty,
 * it goes and its seq is given back. */
void mj_queue_unopen(struct mj_queue *q, struct mj_batch *b);
/* Closes the filling batch if it holds anything: later sync points join
 * a later batch. */
void mj_queue_close(struct mj_queue *q);
/* b (built elsewhere: a catch-up) is numbered next and queued to send,
 * behind the filling batch, which is closed whatever it holds. */
void mj_queue_append(struct mj_queue *q, struct mj_batch *b);
/* A seq for a batch sent outside the queue (a full copy's last): nothing
 * from it on is durable before mj_queue_landed says so (unless degraded:
 * then the local flush makes every sync point durable, mj_queue_recompute
 * with all_durable). */
uint64_t mj_queue_reserve(struct mj_queue *q);
/* The mirror takes no frame above slot: the filling batch is closed if it
 * was built larger, or takes the smaller slot if empty. */
void mj_queue_fit_slot(struct mj_queue *q, uint64_t slot);
/* Calls fn on every held batch that needs sending, oldest first, until
 * one returns nonzero (returned). */
int mj_queue_each_unsent(struct mj_queue *q,
                         int (*fn)(void *arg, struct mj_batch *b), void *arg);
/* The oldest batch that needs sending; unless retries_only, the filling
 * batch is closed for it when there is none. NULL: nothing to send. */
struct mj_batch *mj_queue_to_send(struct mj_queue *q, bool retries_only);
void mj_queue_sending(struct mj_queue *q, struct mj_batch *b); /* in flight */
void mj_queue_unsent(struct mj_queue *q, struct mj_batch *b);  /* resend it */
void mj_queue_acked(struct mj_queue *q, struct mj_batch *b);   /* freed */
/* The mirror holds every batch up to seq: held ones not in flight go. */
void mj_queue_mirror_has(struct mj_queue *q, uint64_t seq);
/* Moves durable up to the batch before the oldest held one (every batch
 * given out, when all_durable: degraded, the local flush covered them);
 * returns it. */
uint64_t mj_queue_recompute(struct mj_queue *q, bool all_durable);
/* A full copy up to seq landed: the mirror has everything up to it. */
uint64_t mj_queue_landed(struct mj_queue *q, uint64_t seq);

/* file.c */
int mj_file_flush_range(mj_file *f, uint64_t off, uint64_t len);
void mj_file_flush_all(mj_file *f);
void mj_file_destroy(mj_file *f);
int mj_region_note_dir(mj_region *r, const char *name);
int mj_region_sync_local_meta(mj_region *r);
/* Every open file's bytes and the namespace made durable locally (a clean
 * close). mu held or no other thread left. */
int mj_region_flush_local(mj_region *r);

/*
 * A transport carries frames over one connection to the mirror. TCP is the
 * first; RDMA (one-sided writes into the mirror's log slots, DESIGN.md)
 * plugs in here. Called without region->mu held, by the connection's owner.
 */
struct mj_transport {
	const char *name;
	/* Connects connection `index` and does the handshake. */
	int (*open)(mj_region *r, int index, struct mj_link **out,
	            struct mjw_hello_ack *ack_out);
	int (*send_batch)(mj_region *r, struct mj_link *l, struct mj_batch *b);
	/* Waits for the ack of batch seq (ack_timeout_ms at most). */
	int (*wait_ack)(mj_region *r, struct mj_link *l, uint64_t seq);
	int (*ping)(mj_region *r, struct mj_link *l, uint64_t nonce);
	/* A control frame without a body (the full copy's BEGIN and DONE). */
	int (*send_ctrl)(mj_region *r, struct mj_link *l, enum mjw_type type,
	                 uint64_t seq);
	void (*close)(struct mj_link *l);
};

/* link.c: over libmojim_link, whatever its transport */
extern const struct mj_transport mj_link_transport;

/* wake.c */
void mj_wait_ms(mj_region *r, pthread_cond_t *cv, int ms);
void mj_wake(mj_region *r, bool all);

/* ship.c */
int mj_ship_one(mj_region *r, bool retries_only);
void mj_handshake_done(mj_region *r, int index, struct mj_link *link,
                       const struct mjw_hello_ack *ack);
int mj_supervisor_start(mj_region *r);
int mj_shippers_start(mj_region *r);
void mj_threads_stop(mj_region *r);
void mj_enter_degraded(mj_region *r, const char *why);

/* node.c (mu held unless said otherwise) */
/* Nothing the mirror lacks: no tracking, copy or degrade, and every
 * batch up to track.end_seq acknowledged. */
bool mj_caught_up(const mj_region *r);
/* Reads or creates DIR/.mojim-node, applies the restart rule (node.c),
 * marks the region open (clean 0); sets cluster, epoch, incarnation. No
 * mu; the directory is locked. 0, -EUCLEAN, or another error. */
int mj_node_init(mj_region *r);
/* Persists node.mirror_stale; the flag is kept whatever happens. */
int mj_node_set_stale(mj_region *r, bool stale);
/* A clean close: every sync point acknowledged, local files flushed. */
int mj_node_mark_clean(mj_region *r);
/* Whether from now on every sync point is flushed locally (degraded in
 * sync mode) or not (replicating again), as the node file says. */
void mj_node_set_flushed(mj_region *r, bool flushed);

/* resync.c (mu held unless said otherwise) */
/* Starts tracking (no-op if active): the filling batch is closed first. */
void mj_track_start(mj_region *r, bool complete);
/* Ends tracking: forgets the tracked ranges and pending_ns, frees files
 * kept only for it. */
void mj_track_clear(mj_region *r);
/* Adds a sync point's ranges to the tracking; overflows on failure. */
void mj_track_ranges(mj_region *r, const struct mj_range *ranges, int n);
/* Everything tracked as one batch: pending_ns, then the tracked ranges'
 * current bytes. Returns NULL on failure (or if larger than limit). */
struct mj_batch *mj_track_batch(mj_region *r, uint64_t seq, uint64_t limit);
/* A first connection is up: continue, catch up or plan a full copy. */
void mj_resync_plan(mj_region *r, const struct mjw_hello_ack *ack);
/* Marks a full copy needed (and starts tracking for it). */
void mj_want_copy(mj_region *r, const char *why);
/* If settle_pending and caught up: the node file says the mirror is in
 * sync and, in sync mode, that sync points stop flushing locally. */
void mj_settle(mj_region *r);

/* copy.c: runs a full copy on connection c (CONN_UP); mu held, dropped
 * for the I/O. 0, or the error that failed the connection: the caller
 * fails it, and the copy is tried again. */
int mj_copy_run(mj_region *r, struct mj_conn *c);

#endif /* MOJIM_INTERNAL_H */
