/*
 * mdb_wire.h: the MongoDB wire protocol, parsed and built (libmdbwire).
 *
 * A connection reads MDW_HEADER_SIZE bytes, calls mdw_header_parse, reads
 * exactly hdr.length bytes in all (header included), and calls mdw_parse
 * on them. OP_MSG and OP_QUERY commands on "<db>.$cmd" are parsed; every
 * other opcode is refused with MDW_E_UNSUPPORTED (known to MongoDB) or
 * MDW_E_OPCODE (unknown), after which the connection may go on: the
 * framing is intact. Replies are built into a struct mdw_buf.
 *
 * Parsed messages are views: their pointers point into the caller's
 * buffer, which must outlive them. Nothing is copied or allocated, except
 * by mdw_msg_merge. Every int function returns MDW_OK (0) or an mdw_err,
 * and then sets *why (if why is not NULL) to a static sentence that names
 * the field at fault; nothing is printed, nothing aborts.
 *
 * Documents are checked before any view of them is given: int32 length vs
 * what remains, at most MDW_MAX_DEPTH levels of nesting, then libbson's
 * bson_validate with BSON_VALIDATE_NONE: structure, and UTF-8 of field
 * names only (libbson checks those whatever the flags); string values are
 * not checked for UTF-8, as mongod does not check them either. Sequence
 * identifiers, which become field names, are held to UTF-8 too.
 */
#ifndef MDB_WIRE_H
#define MDB_WIRE_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDW_HEADER_SIZE 16
#define MDW_MAX_MESSAGE 48000000                 /* maxMessageSizeBytes */
#define MDW_MAX_BSON (16 * 1024 * 1024)          /* maxBsonObjectSize */
#define MDW_MAX_BSON_CMD (MDW_MAX_BSON + 16 * 1024) /* a command body */
#define MDW_MAX_DEPTH 200       /* nesting below the top level (maxBSONDepth) */
#define MDW_MAX_SEQUENCES 16    /* kind-1 sections in one OP_MSG */
#define MDW_MAX_NS 255          /* OP_QUERY fullCollectionName, NUL excluded */

enum mdw_opcode {
	MDW_OP_REPLY = 1,
	MDW_OP_UPDATE = 2001,
	MDW_OP_INSERT = 2002,
	MDW_OP_QUERY = 2004,
	MDW_OP_GET_MORE = 2005,
	MDW_OP_DELETE = 2006,
	MDW_OP_KILL_CURSORS = 2007,
	MDW_OP_COMPRESSED = 2012,
	MDW_OP_MSG = 2013,
};

/* OP_MSG flagBits. Bits 0-15 other than these are "required": an unknown
 * one set makes the message an error; bits 17-31 are ignored. */
#define MDW_MSG_CHECKSUM 0x1u       /* a CRC-32C ends the message */
#define MDW_MSG_MORE_TO_COME 0x2u   /* no reply to this one */
#define MDW_MSG_EXHAUST 0x10000u    /* exhaustAllowed */

enum mdw_err {
	MDW_OK = 0,
	MDW_E_SHORT,       /* fewer bytes than a header */
	MDW_E_LENGTH,      /* messageLength out of range or not what was read */
	MDW_E_OPCODE,      /* an opcode MongoDB does not define */
	MDW_E_UNSUPPORTED, /* a MongoDB opcode (or OP_QUERY use) not served */
	MDW_E_FLAGS,       /* an unknown required OP_MSG flag bit */
	MDW_E_FORMAT,      /* sections, cstrings, trailing bytes */
	MDW_E_BSON,        /* a document: length, size, depth or structure */
	MDW_E_CHECKSUM,    /* the OP_MSG CRC-32C does not match */
	MDW_E_DUPLICATE,   /* a sequence named like a body field or another one */
	MDW_E_TOOBIG,      /* an output past its maximum size */
	MDW_E_NOMEM,       /* malloc failed */
	MDW_E_ARG,         /* the caller's mistake (flags, NULL) */
};

/* "MDW_E_BSON" etc., for logs; never NULL. */
const char *mdw_err_name(int err);
/* "OP_MSG" etc., or NULL for an opcode MongoDB does not define. */
const char *mdw_opcode_name(int32_t opcode);

struct mdw_header {
	int32_t length;      /* the whole message, header included */
	int32_t request_id;
	int32_t response_to;
	int32_t opcode;
};

/*
 * The first MDW_HEADER_SIZE of avail bytes at buf (MDW_E_SHORT if fewer).
 * Refuses (MDW_E_LENGTH) a length above MDW_MAX_MESSAGE or below the
 * smallest message of its opcode: 26 for OP_MSG (flags, kind, empty
 * document), 34 for OP_QUERY, 16 for any other opcode, so that those can
 * be read whole and answered with an error.
 */
int mdw_header_parse(const void *buf, size_t avail, struct mdw_header *hdr,
                     const char **why);

/* A BSON document inside the caller's buffer, validated. */
struct mdw_doc {
	const uint8_t *data;
	uint32_t len;        /* 0: absent */
};

/* A view as a bson_t (read only, no allocation, no bson_destroy needed).
 * false if the document is absent. */
bool mdw_doc_bson(const struct mdw_doc *d, bson_t *out);

/* A kind-1 section: identifier, then ndocs documents filling docs_len. */
struct mdw_seq {
	const char *id;      /* NUL-terminated, inside the message */
	size_t id_len;
	const uint8_t *docs;
	size_t docs_len;
	uint32_t ndocs;
};

/* Iteration over a sequence's documents: *off starts at 0. */
bool mdw_seq_next(const struct mdw_seq *s, size_t *off, struct mdw_doc *d);

struct mdw_msg {
	uint32_t flags;      /* flagBits as sent */
	struct mdw_doc body; /* the one kind-0 section */
	uint32_t nseq;       /* kind-1 sections, in message order */
	struct mdw_seq seq[MDW_MAX_SEQUENCES];
	bool checksum;       /* present and verified */
	uint32_t crc;
};

/*
 * OP_QUERY: only commands on "<db>.$cmd" are accepted, for the drivers'
 * first handshake (hello / isMaster). cmd is query, or query's first
 * field when that is "$query" (or "query") holding a document, as
 * drivers wrap a command with read preferences.
 */
struct mdw_query {
	int32_t flags;
	const char *ns;      /* fullCollectionName, NUL-terminated */
	size_t ns_len;
	const char *db;      /* ns up to its first '.', not NUL-terminated */
	size_t db_len;
	int32_t skip, nreturn;
	struct mdw_doc query;
	struct mdw_doc fields; /* returnFieldsSelector; len 0 if absent */
	struct mdw_doc cmd;    /* the command, unwrapped */
};

struct mdw_request {
	struct mdw_header hdr;
	union {
		struct mdw_msg msg;     /* hdr.opcode == MDW_OP_MSG */
		struct mdw_query query; /* hdr.opcode == MDW_OP_QUERY */
	};
};

/*
 * One whole message of len bytes (its header's length must be len).
 * OP_MSG: flags, checksum (verified before anything else), exactly one
 * kind-0 body (at most MDW_MAX_BSON_CMD), kind-1 sections (identifier
 * UTF-8, not empty nor repeated, documents at most MDW_MAX_BSON each, filling the
 * section exactly), nothing after the last section.
 */
int mdw_parse(const void *msg, size_t len, struct mdw_request *req,
              const char **why);

/*
 * The command document the dispatcher sees: the body, then each sequence
 * appended as an array field named by its identifier. MDW_E_DUPLICATE if
 * the body already has that field (as mongod refuses it); MDW_E_TOOBIG if
 * the result would pass MDW_MAX_MESSAGE (it may pass MDW_MAX_BSON: a
 * full insert batch does). Sequence documents end up two levels deeper
 * than they were checked at. On success *out is initialized (the caller
 * bson_destroys it); on failure there is nothing to free.
 */
int mdw_msg_merge(const struct mdw_msg *m, bson_t *out, const char **why);

/*
 * MongoDB's rules for a database name (mongod's NamespaceString): 1 to 63
 * bytes, none of  / \ . " $ space NUL. For OP_QUERY's db and OP_MSG's $db.
 */
int mdw_db_name_check(const char *db, size_t len, const char **why);

/*
 * A growable output buffer that never grows past max bytes. Builders
 * append one whole message at len; on failure len is as it was.
 */
struct mdw_buf {
	uint8_t *data;
	size_t len, cap, max;
};

/* max 0 means MDW_MAX_MESSAGE. */
void mdw_buf_init(struct mdw_buf *b, size_t max);
void mdw_buf_reset(struct mdw_buf *b);   /* len = 0, memory kept */
void mdw_buf_free(struct mdw_buf *b);

/* For mdw_build_msg: one kind-1 section. */
struct mdw_seq_out {
	const char *id;
	const bson_t *const *docs;
	size_t ndocs;
};

/*
 * An OP_MSG: flags (only MDW_MSG_CHECKSUM, MORE_TO_COME, EXHAUST), a
 * kind-0 body, then nseq kind-1 sections; with MDW_MSG_CHECKSUM the
 * CRC-32C is appended. A reply is mdw_build_msg(out, my_id,
 * req.hdr.request_id, flags, body, NULL, 0): the daemon should pass
 * MDW_MSG_CHECKSUM only when the request had one: a client that asked
 * for checksums can verify the reply, and the others pay nothing.
 */
int mdw_build_msg(struct mdw_buf *out, int32_t request_id,
                  int32_t response_to, uint32_t flags, const bson_t *body,
                  const struct mdw_seq_out *seqs, size_t nseq,
                  const char **why);

/* An OP_REPLY to an OP_QUERY: cursorID 0, startingFrom 0, one document. */
int mdw_build_reply(struct mdw_buf *out, int32_t request_id,
                    int32_t response_to, int32_t response_flags,
                    const bson_t *doc, const char **why);

/* An OP_QUERY (a legacy client's handshake; for tests). fields may be
 * NULL. */
int mdw_build_query(struct mdw_buf *out, int32_t request_id, int32_t flags,
                    const char *ns, int32_t skip, int32_t nreturn,
                    const bson_t *query, const bson_t *fields,
                    const char **why);

#endif
