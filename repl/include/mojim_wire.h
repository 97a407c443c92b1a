/*
 * mojim_wire.h: the one batch format of mojim, shared by the primary
 * (libmojim) and the mirror (mojim-mirror). The same bytes travel on the
 * wire and sit in the mirror's log, so a frame is checked once, on arrival,
 * and replayed later without being rebuilt. repl/FORMAT.md describes the
 * layout for people; this header is the layout for the compiler.
 *
 * Every multi-byte field is little-endian (the only byte order we build for,
 * checked below). Every frame is:
 *
 *     struct mjw_hdr (64 bytes) | body | struct mjw_trailer (16 bytes)
 *
 * and a BATCH body is a sequence of records, each 8-byte aligned.
 */
#ifndef MOJIM_WIRE_H
#define MOJIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mojim's wire format is little-endian; this host is not"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MJW_MAGIC 0x314a4d4du            /* "MMJ1" */
#define MJW_VERSION 1
#define MJW_END_MARK 0x444e454d494a4f4dull /* "MOJIMEND" */

/* Frame types. Only BATCH frames are logged by the mirror. */
enum mjw_type {
	MJW_BATCH = 1,     /* one fragment of one atomic batch */
	MJW_HELLO = 2,     /* primary -> mirror, first frame of a connection */
	MJW_HELLO_ACK = 3, /* mirror -> primary, answer to HELLO */
	MJW_ACK = 4,       /* mirror -> primary: batch hdr.seq is durable */
	MJW_PING = 5,      /* heartbeat, either way; hdr.seq is a nonce */
	MJW_PONG = 6,      /* answer to PING with the same nonce */
	MJW_REFUSE = 7,    /* mirror -> primary: connection refused; body is a
	                      reason string, hdr.seq an MJW_REFUSE_* code */
	MJW_COPY_BEGIN = 8, /* primary -> mirror: a full copy starts; the mirror
	                       empties its staging directory, answers ACK 0 */
	MJW_COPY_DONE = 9,  /* primary -> mirror: the copy is complete and is the
	                       state after batch hdr.seq; the mirror makes it its
	                       replica, answers ACK seq */
	MJW_CHALLENGE = 10, /* mirror -> primary, keyed links: body is the
	                       mirror's nonce (MJW_NONCE_SIZE bytes) */
	MJW_AUTH = 11,      /* primary -> mirror, keyed links: body is the
	                       primary's MAC (mojim_link.h tells what it covers) */
	MJW_HOLD = 12,      /* mirror -> primary: batch hdr.seq is in the log,
	                       its ACK is held for the backups (the stall of
	                       --secondary-thresh, or --chain); sent every
	                       MJW_HOLD_MS while held, so that a long stall is
	                       not taken for a lost mirror */
};
#define MJW_TYPE_MAX MJW_HOLD
#define MJW_HOLD_MS 250

/* hdr.flags */
#define MJW_F_LAST 0x01u /* last fragment of its batch */
#define MJW_F_COPY 0x02u /* BATCH: part of a full copy, applied to the
                            mirror's staging directory, never logged */
#define MJW_F_MAC 0x04u  /* REFUSE: the body starts with a MAC of the
                            refusal (an authenticated mirror's) */

/* Codes carried by MJW_REFUSE in hdr.seq. */
enum mjw_refuse_code {
	MJW_REFUSE_BAD_FRAME = 1, /* the connection sent something invalid */
	MJW_REFUSE_FENCED = 2,    /* the primary's epoch is older than ours */
	MJW_REFUSE_BUSY = 3,      /* that connection index is in use */
	MJW_REFUSE_VERSION = 4,   /* protocol version not supported */
	MJW_REFUSE_CLUSTER = 5,   /* the primary belongs to another cluster */
	MJW_REFUSE_PROMOTED = 6,  /* this mirror was promoted: it is a primary */
	MJW_REFUSE_REPLACED = 8,  /* a newer incarnation of this primary (a
	                             later opening of its region) has spoken */
	MJW_REFUSE_UNHEALTHY = 7, /* the mirror cannot apply a logged batch (a
	                             full disk, an I/O error): nothing more is
	                             taken until it can; the reason names the
	                             batch and the error */
	MJW_REFUSE_AUTH = 9,      /* keys differ, or one side has none */
};

struct mjw_hdr {
	uint32_t magic;   /* MJW_MAGIC */
	uint16_t version; /* MJW_VERSION */
	uint8_t type;     /* enum mjw_type */
	uint8_t flags;    /* MJW_F_* */
	uint32_t nrec;    /* records in this fragment (BATCH), else 0 */
	uint32_t frag;    /* fragment index within the batch, from 0 */
	uint64_t epoch;   /* sender's epoch */
	uint64_t seq;     /* batch sequence number (BATCH, ACK), nonce, code */
	uint64_t len;     /* whole frame: header + body + trailer, multiple of 8 */
	uint64_t total;   /* BATCH: bytes of records in the whole batch */
	uint64_t cluster; /* BATCH: the primary's cluster id (the one its HELLO
	                     gave); other frames: zero */
	uint64_t reserved; /* zero */
};

struct mjw_trailer {
	uint32_t crc;  /* CRC32C of header and body, all bytes before the trailer */
	uint32_t zero; /* zero */
	uint64_t end;  /* MJW_END_MARK */
};

/* Record types inside a BATCH body. */
enum mjw_rec_type {
	MJW_REC_WRITE = 1,   /* name, off, len, then len bytes of data */
	MJW_REC_CREATE = 2,  /* name: create an empty file if missing */
	MJW_REC_SETSIZE = 3, /* name, len = new size (extend with zeros or cut) */
	MJW_REC_RENAME = 4,  /* name -> name2, replacing name2 */
	MJW_REC_REMOVE = 5,  /* name: remove a file (missing is not an error) */
	MJW_REC_MKDIR = 6,   /* name: create a directory if missing */
};

struct mjw_rec {
	uint16_t type;      /* enum mjw_rec_type */
	uint16_t name_len;  /* bytes of name, no NUL */
	uint16_t name2_len; /* bytes of name2 (RENAME only), no NUL */
	uint16_t zero;
	uint64_t off; /* WRITE: file offset */
	uint64_t len; /* WRITE: data bytes; SETSIZE: new size */
	/* name, name2, data follow; the record is padded to 8 bytes */
};

#define MJW_NONCE_SIZE 32u /* handshake nonces */
#define MJW_MAC_SIZE 32u   /* HMAC-SHA256 */

/* HELLO body: who is calling and on which connection index. */
struct mjw_hello {
	uint64_t cluster_id; /* the primary's cluster (never 0) */
	uint32_t conn_index; /* which of the primary's connections this is */
	uint32_t nconns;     /* how many the primary opens */
	uint64_t incarnation; /* >= 1, one more each time the primary's region
	                         is opened (within an epoch): batches an older
	                         incarnation logged but never made durable
	                         are never applied once a newer one speaks */
	uint32_t flags;       /* MJW_HELLO_F_* */
	uint32_t reserved;    /* zero */
	uint8_t nonce[MJW_NONCE_SIZE]; /* fresh random bytes per handshake */
};
#define MJW_HELLO_F_KEYED 0x1u /* the primary holds a cluster key */
#define MJW_HELLO_F_FORWARDER 0x2u /* a mirror feeding its backup, not a
                                      primary (only a backup takes it) */
#define MJW_HELLO_F_PLACE 0x4u /* the dialer's transport can place frames
                                  in the acceptor's log (RDMA): offer it */

/* HELLO_ACK body: where the mirror stands. */
struct mjw_hello_ack {
	uint64_t applied_seq; /* last batch applied to the replica directory */
	uint64_t durable_seq; /* last batch such that all up to it are logged */
	uint64_t epoch;       /* newest epoch the mirror has seen */
	uint32_t slot_size;   /* largest frame the mirror accepts */
	uint32_t max_batch_kb; /* largest whole batch its log can hold, KiB
	                          (0: unknown, the primary assumes 16 MiB) */
	uint64_t cluster_id;  /* the mirror's cluster (0: none yet) */
	uint32_t flags;       /* MJW_MIRROR_* */
	uint32_t reserved;
	uint8_t mac[MJW_MAC_SIZE]; /* keyed links: the mirror's MAC, computed
	                              with this field zero; else zero */
};

/* HELLO_ACK flags: the mirror's replica cannot simply be continued. */
#define MJW_MIRROR_EMPTY 0x1u      /* it never held a copy */
#define MJW_MIRROR_NEEDS_COPY 0x2u /* a copy was cut short, or its epoch
                                      changed: only a full copy repairs it */

#define MJW_HDR_SIZE ((uint64_t)sizeof(struct mjw_hdr))
#define MJW_TRAILER_SIZE ((uint64_t)sizeof(struct mjw_trailer))
#define MJW_OVERHEAD (MJW_HDR_SIZE + MJW_TRAILER_SIZE)
#define MJW_REC_SIZE ((uint64_t)sizeof(struct mjw_rec))

/* Hard limits, whatever the configuration. */
#define MJW_NAME_MAX 512u                    /* bytes of one file name */
#define MJW_FRAME_MAX (64ull << 20)          /* largest frame of any kind */
#define MJW_FRAME_MIN_SLOT (64ull << 10)     /* smallest slot a mirror offers */
#define MJW_FILE_MAX (1ull << 44)            /* largest file offset/size */
#define MJW_CTRL_BODY_MAX 4096u              /* body of a non-BATCH frame */

static inline uint64_t mjw_pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* CRC32C (Castagnoli) of buf, continuing from crc (start with 0). */
uint32_t mjw_crc32c(uint32_t crc, const void *buf, size_t len);

/* Bytes one record takes in a frame, padding included. */
uint64_t mjw_rec_size(uint64_t name_len, uint64_t name2_len, uint64_t data_len);

/*
 * Writes one record at dst (which must have mjw_rec_size() bytes) and
 * returns the bytes written. data NULL leaves the data_len data bytes for
 * the caller to fill (they follow the names); padding is zeroed.
 */
uint64_t mjw_put_rec(void *dst, enum mjw_rec_type type, const char *name,
                     const char *name2, uint64_t off, uint64_t len,
                     const void *data, uint64_t data_len);

/* Fills in a header. len is the whole frame length. */
void mjw_put_hdr(void *dst, enum mjw_type type, uint8_t flags, uint32_t nrec,
                 uint32_t frag, uint64_t epoch, uint64_t seq, uint64_t len,
                 uint64_t total);

/* Writes the trailer (CRC and end mark) of a frame whose header is set. */
void mjw_seal(void *frame);

/*
 * Checks a header just read off the wire, before its body is read:
 * magic, version, type, flags, len within [MJW_OVERHEAD, max_len] and a
 * multiple of 8, reserved fields zero. Returns 0 or -1 with *why set.
 */
int mjw_check_hdr(const struct mjw_hdr *h, uint64_t max_len, const char **why);

/*
 * Checks a whole frame of len bytes: the header again, the trailer (CRC,
 * end mark), and for BATCH every record: known type, names valid, lengths
 * and offsets inside the frame and under MJW_FILE_MAX, nrec exact, padding
 * zero. Returns 0 or -1 with *why set. Nothing is trusted before this.
 */
int mjw_check_frame(const void *frame, uint64_t len, const char **why);

/*
 * A relative file name: 1..MJW_NAME_MAX bytes, no NUL, not absolute, no
 * empty, "." or ".." component, no trailing '/'. Returns 0 or -1.
 */
int mjw_check_name(const char *name, uint64_t len, const char **why);

/* One record of a checked frame, pointing into the frame. */
struct mjw_rec_view {
	enum mjw_rec_type type;
	const char *name;
	uint16_t name_len;
	const char *name2;
	uint16_t name2_len;
	uint64_t off;
	uint64_t len;
	const void *data; /* WRITE: len bytes */
};

/*
 * Iterates over the records of a frame that passed mjw_check_frame. *pos
 * starts at 0. Returns 1 with *out filled, 0 at the end.
 */
int mjw_rec_next(const void *frame, uint64_t *pos, struct mjw_rec_view *out);

const char *mjw_type_name(unsigned type);

const char *mjw_rec_type_name(unsigned type);

/*
 * Where frames go in a mirror's log (mirror/src/ring.h has the layout):
 * the one rule that the mirror's ring and a remote writer placing frames
 * in it with RDMA (repl/link/rdma.c) both follow, so that they agree on
 * every position without asking. Positions are logical byte offsets in a
 * data area of dsize bytes (a multiple of MJW_LOG_ALIGN), used circularly.
 * An entry is a 16-byte header (the mirror's alone to write), the frame,
 * and padding to MJW_LOG_ALIGN. An entry that does not fit before the end
 * of the area goes to the start of the next lap. One MJW_LOG_ALIGN guard
 * is kept between the writer and head, the oldest entry still needed.
 */
#define MJW_LOG_ALIGN 64u
#define MJW_LOG_EHDR 16u

static inline uint64_t mjw_log_entry_size(uint64_t frame_len)
{
	return (MJW_LOG_EHDR + frame_len + MJW_LOG_ALIGN - 1) &
	       ~(uint64_t)(MJW_LOG_ALIGN - 1);
}

/* The position of the entry for a frame of frame_len bytes when the writer
 * is at wpos: wpos, or the next lap's start if it does not fit before the
 * end. */
static inline uint64_t mjw_log_place(uint64_t wpos, uint64_t dsize,
                                     uint64_t frame_len)
{
	uint64_t p = wpos % dsize;
	return p + mjw_log_entry_size(frame_len) > dsize ? wpos + (dsize - p)
	                                                 : wpos;
}

/* Whether that entry fits now: it, the skip to the next lap and the guard
 * all lie within dsize of head. */
static inline int mjw_log_fits(uint64_t wpos, uint64_t head, uint64_t dsize,
                               uint64_t frame_len)
{
	uint64_t s = mjw_log_entry_size(frame_len);
	if (s + MJW_LOG_ALIGN > dsize || wpos < head)
		return 0;
	uint64_t end = mjw_log_place(wpos, dsize, frame_len) + s + MJW_LOG_ALIGN;
	return end - head <= dsize;
}

/*
 * A primary's identity, in the file DIR/.mojim-node of its region (never
 * replicated; promotion writes one into the promoted copy), and what the
 * next opening of the region must know about how the last one ended:
 *   mirror_stale: the mirror may lack sync points this primary made (it
 *     degraded, a promotion just happened, or the process crashed), so
 *     the mirror must get a full copy of the local files;
 *   clean: the last opening closed cleanly (every sync point acknowledged,
 *     the local files flushed); 0 while a process has the region open;
 *   boot_id: the machine boot (/proc/sys/kernel/random/boot_id) of the
 *     opening that set clean = 0: a crash on the same boot left the local
 *     pmem intact, one across a reboot may not have;
 *   flushed: that opening flushed every sync point locally (any mode but
 *     sync), so its files survive a machine restart;
 *   incarnation: counts the openings of the region within its epoch; the
 *     opening's HELLOs carry it, and a mirror takes no batch from an
 *     incarnation older than the newest it has seen.
 */
#define MJW_NODE_FILE ".mojim-node"
#define MJW_BOOT_ID_MAX 63
struct mjw_node {
	uint64_t cluster_id; /* random, never 0 */
	uint64_t epoch;      /* >= 1 */
	int mirror_stale;
	int clean;
	int flushed;
	uint64_t incarnation;
	char boot_id[MJW_BOOT_ID_MAX + 1]; /* "" if unknown */
};
/* 0, -ENOENT if there is none, -EINVAL if it is not a node file. dirfd
 * must be open for reading; store needs it for fsync too. A version 1
 * file (no clean, boot_id, flushed) reads as clean. */
int mjw_node_load(int dirfd, struct mjw_node *n);
int mjw_node_store(int dirfd, const struct mjw_node *n);
/* This boot's id into buf (len >= MJW_BOOT_ID_MAX + 1); "" if unknown. */
void mjw_boot_id(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MOJIM_WIRE_H */
