/*
 * mojim.h: libmojim, replicated persistent memory regions.
 *
 * A region is a directory of files kept in (emulated) persistent memory and
 * mapped with libpmem. The application writes into the mappings directly
 * and calls mj_gmsync() at a sync point: the ranges given reach the mirror
 * as one atomic batch, together with every namespace change (create,
 * resize, rename, remove, mkdir) made since the previous sync point, in the
 * order they happened. See ../../../shared/DESIGN.md for the modes.
 *
 * Thread safety: every function may be called from any thread at once,
 * except that a file handle must not be used after mj_file_close() and the
 * region not after mj_region_close().
 *
 * Errors: functions return 0 or a negative errno value; MJ_E* codes below
 * extend errno. mj_strerror() names both.
 */
#ifndef MOJIM_H
#define MOJIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mj_mode {
	MJ_MODE_UNREPLICATED = 0, /* local pmem flush only, no mirror */
	MJ_MODE_SYNC = 1,         /* wait for the mirror's ack, no local flush */
	MJ_MODE_SYNCFLUSH = 2,    /* local flush and the mirror's ack */
	MJ_MODE_ASYNC = 3,        /* local flush; the batch is sent behind */
};

/* What a sync point does when the mirror is lost (DESIGN.md invariant 6). */
enum mj_policy {
	MJ_POLICY_BLOCK = 0,   /* wait for the mirror, fail after a timeout */
	MJ_POLICY_DEGRADE = 1, /* flush locally and carry on, loudly */
};

enum mj_log_level { MJ_LOG_ERROR = 0, MJ_LOG_WARN = 1, MJ_LOG_INFO = 2 };

/* Error codes beyond errno (negative when returned). */
#define MJ_EFENCED 10001   /* the mirror has seen a newer epoch */
#define MJ_EDEGRADED 10002 /* (status only) replication stopped, local only */
#define MJ_EPROTO 10003    /* the mirror answered something invalid */
#define MJ_ECLUSTER 10004  /* the mirror serves another cluster (another
                              primary): it will never take this one */
#define MJ_EAUTH 10005     /* the cluster keys differ, or one side has none */

struct mj_config {
	enum mj_mode mode;   /* default MJ_MODE_SYNC */
	const char *mirror;  /* "HOST:PORT" of the mirror; NULL if unreplicated */
	int connections;     /* TCP connections to the mirror, 1..64 (default 2) */
	enum mj_policy policy;  /* default MJ_POLICY_BLOCK */
	int block_timeout_ms;   /* how long a sync point waits for a lost mirror
	                           before failing with -ETIMEDOUT (default 10000) */
	int ack_timeout_ms;     /* an ack later than this means the mirror is
	                           lost (default 3000) */
	int heartbeat_ms;       /* ping idle connections this often (default 500) */
	int connect_timeout_ms; /* one connection attempt (default 2000) */
	int spin_us;            /* busy-poll this long for an ack before sleeping
	                           in poll() (default 0: measured best on 2
	                           vCPUs, where a spinner starves the mirror) */
	uint64_t async_max_bytes; /* unacknowledged bytes queued before new
	                             sync points wait (async, or a lost mirror
	                             under block) (default 64 MiB) */
	uint64_t epoch;         /* this primary's epoch (default 1) */
	const char *transport;  /* "tcp" (NULL) or "rdma" (a build with
	                           rdma-core; tls needs tcp) */
	const char *keyfile;    /* the cluster key (base64, mode 0600): every
	                           link proves it, and the mirror must prove
	                           it back (NULL: unkeyed) */
	int tls;                /* 1: the link runs inside TLS (1.2 or later)
	                           over the transport, both sides showing a
	                           certificate of tls_ca; the mirror's must
	                           name the host dialed (default 0) */
	const char *tls_cert;   /* this primary's PEM certificate (chain) */
	const char *tls_key;    /* its PEM private key, mode 0600 or tighter */
	const char *tls_ca;     /* the PEM CA that signs the mirror's */
	/* Where messages go (the degrade warning among them). NULL: stderr. */
	void (*log)(void *arg, enum mj_log_level level, const char *msg);
	void *log_arg;
};

typedef struct mj_region mj_region;
typedef struct mj_file mj_file;

/* A byte range of a file: any offset and length, not rounded to pages. */
struct mj_range {
	mj_file *file;
	uint64_t off;
	uint64_t len;
};

/*
 * A set of byte ranges [off, end) of one file, sorted, overlapping and
 * touching ranges merged. Zero-initialised is empty. Used for dirty data
 * (the WiredTiger extension, the primary's catch-up tracking).
 */
struct mj_span {
	uint64_t off, end;
};
struct mj_rangeset {
	struct mj_span *r;
	int n, cap;
};
/* Adds [off, end); 0 or -ENOMEM (the set is unchanged then). */
int mj_rangeset_add(struct mj_rangeset *s, uint64_t off, uint64_t end);
/* Forgets what lies at or beyond size (the file was cut). */
void mj_rangeset_clip(struct mj_rangeset *s, uint64_t size);
void mj_rangeset_free(struct mj_rangeset *s);

/* Counters and state, for status displays and tests. */
struct mj_status {
	enum mj_mode mode;
	enum mj_policy policy;
	int connections_up;     /* connections with a completed handshake */
	int connections;        /* configured */
	int degraded;           /* 1: mirror lost under degrade, local only */
	int mirror_lost;        /* 1: no usable connection right now */
	int fenced;             /* 1: the mirror refused us for good (a newer
	                           epoch, a promotion, another cluster) */
	int fence_err;          /* then why: MJ_EFENCED or MJ_ECLUSTER */
	uint64_t epoch;
	uint64_t seq_sent;      /* last batch sequence number handed out */
	uint64_t seq_durable;   /* all batches up to this one are acknowledged */
	uint64_t mirror_applied_seq; /* from the last handshake */
	uint64_t batches;       /* batches sent */
	uint64_t sync_points;   /* mj_gmsync calls that succeeded */
	uint64_t bytes_sent;    /* frame bytes written to the mirror */
	uint64_t reconnects;
	uint64_t degrade_flush_us; /* time the local flush on degrade took */
	uint64_t cluster_id;    /* from DIR/.mojim-node */
	uint64_t catchups;      /* returns of the mirror settled by a catch-up
	                           batch (changes since it was lost) */
	uint64_t catchup_bytes; /* the last catch-up batch's size */
	uint64_t full_copies;   /* full copies completed */
	int copying;            /* 1: a full copy is running */
	uint64_t copy_bytes_done, copy_bytes_total; /* the running or last copy */
	uint64_t copy_us;       /* the last copy's duration */
};

/* Fills cfg with the defaults above. */
void mj_config_defaults(struct mj_config *cfg);

/* Mode and policy names as used in configuration strings. */
const char *mj_mode_name(enum mj_mode mode);
int mj_mode_parse(const char *name, enum mj_mode *out);
const char *mj_policy_name(enum mj_policy policy);
int mj_policy_parse(const char *name, enum mj_policy *out);
/* The transport called name, as a static string; NULL if unknown. */
const char *mj_transport_name(const char *name);
/* Why name is not a transport of this build. */
const char *mj_transport_unknown(const char *name);

/* A message for a return code of this library (negative errno or MJ_E*). */
const char *mj_strerror(int err);

/*
 * Opens (creating if needed) the region in directory dir and, unless the
 * mode is unreplicated, connects to the mirror. If the mirror cannot be
 * reached: under block, fails with the connection error; under degrade,
 * opens degraded and says so through cfg->log. The config is copied.
 */
int mj_region_open(const char *dir, const struct mj_config *cfg,
                   mj_region **out);

/*
 * Waits for every batch sent to be acknowledged (async), up to
 * block_timeout_ms, then disconnects and frees the region. Files still open
 * are closed. Returns the first error met, the region is freed regardless.
 */
int mj_region_close(mj_region *region);

/* Waits until every batch handed out so far is acknowledged. */
int mj_region_drain(mj_region *region, int timeout_ms);

void mj_region_status(mj_region *region, struct mj_status *out);

/*
 * Says that bytes written in the region's files will never reach the
 * mirror through a sync point (a file system's writeback of unsynced
 * writes failed, say): the mirror's copy is then no longer a state the
 * files passed through, and the next opening of the region gives the
 * mirror a full copy, however this one ends.
 */
void mj_region_writes_lost(mj_region *region);

/* mj_file_open flags */
#define MJ_O_CREATE 0x1 /* create the file if missing (a CREATE record) */
#define MJ_O_EXCL 0x2   /* with MJ_O_CREATE: fail with -EEXIST if present */

/*
 * Opens a file of the region by relative name ("a/b" allowed, no "..").
 * Opening a name already open returns another handle on the same mapping.
 */
int mj_file_open(mj_region *region, const char *name, int flags,
                 mj_file **out);

/*
 * Current mapping and size. A file is mapped with room to grow (at least
 * 64 MiB, doubling), so most resizes keep the address; one that outgrows
 * the mapping maps the file anew, and the previous mapping stays valid
 * (same pages) until the file's last handle closes, so a reader holding
 * an old pointer is never cut off by a grow.
 */
void *mj_file_base(mj_file *file);
uint64_t mj_file_size(mj_file *file);
/* The current mapping and a size it covers, read together (two separate
 * calls racing with a grow could pair a new size with an old mapping). */
void mj_file_view(mj_file *file, void **base, uint64_t *size);
const char *mj_file_name(mj_file *file);

/* Grows (zero-filled, allocated, not shipped as data) or cuts the file. */
int mj_file_resize(mj_file *file, uint64_t size);

int mj_file_close(mj_file *file);

/* Another handle on the same file (closed with mj_file_close): for a
 * thread that must keep a file alive while it works on it. */
void mj_file_ref(mj_file *file);

/* Namespace changes, applied locally at once and queued for the mirror. */
int mj_rename(mj_region *region, const char *from, const char *to);
int mj_remove(mj_region *region, const char *name);
int mj_mkdir(mj_region *region, const char *name);

/*
 * A sync point. The n ranges (n may be 0: namespace changes only) and all
 * pending namespace changes become one atomic batch; what "durable" means
 * depends on the mode. Returns 0, or -ETIMEDOUT (block policy, mirror
 * lost), -MJ_EFENCED, -EINVAL (range outside its file) and the like.
 * A sync point never returns before every sync point begun before it.
 */
int mj_gmsync(mj_region *region, const struct mj_range *ranges, int n,
              int flags);

/* mj_gmsync flags */
/*
 * The ranges need not reach the mirror atomically as a whole: a sync point
 * larger than the mirror's largest batch (half a log ring) becomes several
 * batches, each atomic, in order, instead of failing with -EMSGSIZE. For a
 * file system's fsync of a large file, whose atomicity nobody relies on.
 */
#define MJ_SYNC_MAY_SPLIT 0x1

/* mj_gmsync of one range. */
int mj_msync(mj_region *region, mj_file *file, uint64_t off, uint64_t len,
             int flags);

#ifdef __cplusplus
}
#endif
#endif /* MOJIM_H */
