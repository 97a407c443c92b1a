/*
 * mdb_layout.h: MongoDB's record layout in WiredTiger (library
 * mdblayout, prefix mdl_).
 *
 * On disk, as MongoDB keeps it:
 *   table:_mdb_catalog  "db.coll" -> BSON {ns, ident, indexes: [{name,
 *                       key, unique, ident}]}; key "$counter" -> {n: int64},
 *                       the next ident number ("collection-N", "index-N").
 *   table:collection-N  key_format=q (RecordId) value_format=u (BSON).
 *   table:index-N       key_format=u (the key in mdl_key order) value_format=q
 *                       (the RecordId). Unique: key -> RecordId; non-unique:
 *                       key + 0x04 + RecordId -> RecordId, so duplicates
 *                       are allowed and entries stay unique.
 *
 * Transactions belong to the caller. No function here begins, commits or
 * rolls back a transaction: pass a session inside one, and every write a
 * call makes is part of it. The one exception is WiredTiger's schema:
 * WT_SESSION::create and ::drop are not transactional in WiredTiger 3.2,
 * so mdl_create_collection and mdl_create_index create their tables at
 * once on a private session, then record them in the catalog in the
 * caller's transaction; drops only remove catalog entries, and the tables
 * nothing names any more are dropped by mdl_reap (called by mdl_open, and
 * by the caller after committing a drop). A rolled-back create leaves an
 * empty table nothing names: harmless, and reaped the same way.
 *
 * Concurrency: a store is shared by threads; a WT_SESSION and the
 * handles opened on it belong to one thread. Schema changes (create,
 * drop, rename, create/drop index, reap) assume the caller excludes
 * other writers of the same collection while they run (the daemon's
 * collection lock): an mdl_coll holds a snapshot of the catalog entry
 * taken when it was opened, and writes through it maintain the indexes
 * that snapshot names.
 *
 * Errors: every function returns 0 or a MongoDB error code (MDL_E*), also
 * put in err->code with a message; err may be NULL. WiredTiger's
 * WT_ROLLBACK becomes MDL_EWRITE_CONFLICT: roll back and retry, as
 * MongoDB's writeConflictRetry does.
 */
#ifndef MDB_LAYOUT_H
#define MDB_LAYOUT_H

#include <bson/bson.h>
#include <stddef.h>
#include <stdint.h>
#include <wiredtiger.h>

/* MongoDB's error codes, so the daemon can pass them on as they are. */
enum {
	MDL_OK = 0,
	MDL_EINTERNAL = 1,            /* WiredTiger failed: err->wt says how */
	MDL_EBAD_VALUE = 2,           /* a bad document, value or spec */
	MDL_ENO_MEMORY = 146,         /* ExceededMemoryLimit */
	MDL_EILLEGAL = 20,            /* IllegalOperation: drop _id_ */
	MDL_ENS_NOT_FOUND = 26,       /* NamespaceNotFound */
	MDL_EINDEX_NOT_FOUND = 27,    /* IndexNotFound */
	MDL_ENS_EXISTS = 48,          /* NamespaceExists */
	MDL_EINVALID_NS = 73,         /* InvalidNamespace */
	MDL_EINDEX_EXISTS = 68,       /* IndexAlreadyExists: same name, same
	                                 spec; MongoDB answers ok */
	MDL_EINDEX_OPTS = 85,         /* IndexOptionsConflict */
	MDL_EINDEX_KEYS = 86,         /* IndexKeySpecsConflict */
	MDL_EIMMUTABLE = 66,          /* ImmutableField: _id changed */
	MDL_ECANNOT_INDEX = 67,       /* CannotCreateIndex: an array where
	                                 an index cannot take one */
	MDL_EWRITE_CONFLICT = 112,    /* WriteConflict: WT_ROLLBACK */
	MDL_EKEY_TOO_LONG = 17280,    /* KeyTooLong: over MDL_KEY_MAX */
	MDL_EDUP_KEY = 11000,         /* DuplicateKey: err->index, err->dupkey */
};

#define MDL_KEY_MAX 8192      /* bytes of one encoded index key */
#define MDL_NS_MAX 255        /* bytes of "db.coll", MongoDB's limit */
#define MDL_DB_MAX 63
#define MDL_NAME_MAX 127      /* bytes of an index name */
#define MDL_INDEXES_MAX 64    /* per collection, MongoDB's limit */
#define MDL_FIELDS_MAX 32     /* per index key pattern, MongoDB's limit */
#define MDL_DEPTH_MAX 100     /* nesting levels of an indexed value */
#define MDL_BSON_DEPTH_MAX 180 /* of a stored document, MongoDB's limit */

typedef struct mdl_err {
	int code;                 /* MDL_E*, 0 if none */
	int wt;                   /* the WiredTiger return behind it, or 0 */
	char msg[256];
	/* MDL_EDUP_KEY: the index and the key as {field: value, ...}, read
	 * it with bson_init_static(&b, e->dupkey, e->dupkey_len); a key too
	 * large for the buffer is given as {"": "<key too large>"}. */
	char index[MDL_NAME_MAX + 1];
	uint8_t dupkey[1024];
	uint32_t dupkey_len;
} mdl_err;

typedef struct mdl_store mdl_store;   /* one per WT_CONNECTION */
typedef struct mdl_coll mdl_coll;     /* one collection on one session */
typedef struct mdl_cursor mdl_cursor; /* a scan, on that session too */

/* ---- the store and its catalog (catalog.c) ---- */

/* Creates the catalog if new, reaps tables nothing names; *out to close. */
int mdl_open(WT_CONNECTION *conn, mdl_store **out, mdl_err *err);
void mdl_close(mdl_store *st);    /* before the connection closes */
/* Drops the tables no committed catalog entry names, on the store's own
 * session; *dropped counts them (may be NULL). A table still in use
 * (EBUSY) is left for the next reap. Not while another thread's create
 * is uncommitted: its new tables are not named yet (the daemon's schema
 * lock orders the two). */
int mdl_reap(mdl_store *st, int *dropped, mdl_err *err);

/* An empty collection with its _id_ index. MDL_ENS_EXISTS if it exists. */
int mdl_create_collection(mdl_store *st, WT_SESSION *s, const char *ns,
                          mdl_err *err);
/* The catalog entry goes; its tables at the next mdl_reap. */
int mdl_drop_collection(mdl_store *st, WT_SESSION *s, const char *ns,
                        mdl_err *err);
/* Within or across databases; the tables keep their idents. Refuses an
 * existing target (MDL_ENS_EXISTS): drop it first (dropTarget). */
int mdl_rename_collection(mdl_store *st, WT_SESSION *s, const char *from,
                          const char *to, mdl_err *err);

/* Calls fn for each collection, in ns order, db NULL for all of them;
 * entry is the catalog document (see above), valid during the call. A
 * non-zero return from fn stops the walk and is returned. */
typedef int (*mdl_list_fn)(const char *ns, const bson_t *entry, void *arg);
int mdl_list_collections(mdl_store *st, WT_SESSION *s, const char *db,
                         mdl_list_fn fn, void *arg, mdl_err *err);
/* Each database name once, in order (entry is the first collection's). */
int mdl_list_databases(mdl_store *st, WT_SESSION *s, mdl_list_fn fn,
                       void *arg, mdl_err *err);
/* A copy of ns's catalog entry into out (initialised here; destroy it). */
int mdl_catalog_entry(mdl_store *st, WT_SESSION *s, const char *ns,
                      bson_t *out, mdl_err *err);

/* key: {path: 1 or -1, ...}, dotted paths, at most MDL_FIELDS_MAX. The
 * index is built from the collection's documents in the caller's
 * transaction (large collections need the cache for it); a duplicate on
 * a unique index returns MDL_EDUP_KEY, a document it cannot index
 * MDL_ECANNOT_INDEX: roll back, and nothing stays but an unnamed table
 * for mdl_reap. Multikey: an array as the value of a single-field
 * index's path gives an entry per distinct element (an empty array one
 * undefined entry, ordered as null; a nested array is one element); an
 * array in a compound index's field, or inside a dotted path (a.b with
 * a an array), is refused, on every write (MDL_ECANNOT_INDEX). */
int mdl_create_index(mdl_store *st, WT_SESSION *s, const char *ns,
                     const char *name, const bson_t *key, int unique,
                     mdl_err *err);
int mdl_drop_index(mdl_store *st, WT_SESSION *s, const char *ns,
                   const char *name, mdl_err *err);

/* ---- a collection (coll.c) ---- */

/* Reads ns's catalog entry and opens cursors on s; the first open of a
 * collection in the process sets its RecordId counter from the largest. */
int mdl_coll_open(mdl_store *st, WT_SESSION *s, const char *ns,
                  mdl_coll **out, mdl_err *err);
void mdl_coll_close(mdl_coll *c);

/* doc needs an _id (not an array, regex or undefined); *rid may be NULL.
 * Its structure is checked (every length, nesting up to
 * MDL_BSON_DEPTH_MAX), not its UTF-8, as MongoDB does not. */
int mdl_insert(mdl_coll *c, const bson_t *doc, int64_t *rid, mdl_err *err);
/* Replaces record rid. old: its current document if the caller has it
 * (the one mdl_get gave, unchanged), else NULL and it is read. Only
 * index keys that changed are rewritten. _id may not change
 * (MDL_EIMMUTABLE); no record rid is MDL_EINTERNAL. On any error some
 * indexes may be rewritten already: roll back. */
int mdl_update(mdl_coll *c, int64_t rid, const bson_t *old,
               const bson_t *doc, mdl_err *err);
int mdl_remove(mdl_coll *c, int64_t rid, mdl_err *err);
/* Record rid into doc, read-only, valid until the next call on c;
 * MDL_OK with doc empty and *found 0 if there is none. */
int mdl_get(mdl_coll *c, int64_t rid, bson_t *doc, int *found,
            mdl_err *err);
/* The point lookup on _id_: *rid 0 if no document has this _id; doc
 * (may be NULL) as for mdl_get. */
int mdl_find_id(mdl_coll *c, const bson_value_t *id, int64_t *rid,
                bson_t *doc, mdl_err *err);

/* count: documents; size: bytes of their BSON (MongoDB's dataSize). A
 * scan of the record store in the caller's snapshot, exact, no index
 * read: O(documents), no cost on the write path. */
int mdl_coll_stats(mdl_coll *c, int64_t *count, int64_t *size,
                   mdl_err *err);
/* MongoDB's validate: every document has its key in every index,
 * pointing to it, and no index has other entries. */
int mdl_validate(mdl_coll *c, mdl_err *err);

/* ---- scans (cursor.c) ---- */

/* Every record in RecordId order. */
int mdl_scan_open(mdl_coll *c, mdl_cursor **out, mdl_err *err);

/* An index between two bounds on its leading field's values (lo <= hi
 * in BSON order, whatever the field's direction; NULL: open; b NULL: the
 * whole index); *_incl non-zero to include the bound. reverse 0 walks
 * the index in its own order (as hint + sort {key pattern}), 1 in the
 * other. Entries with equal keys come in RecordId order (reversed with
 * reverse). A document with several elements in range (multikey) comes
 * once, at its first. */
struct mdl_bounds {
	const bson_value_t *lo, *hi;
	int lo_incl, hi_incl;
	int reverse;
};
int mdl_index_scan_open(mdl_coll *c, const char *index,
                        const struct mdl_bounds *b, mdl_cursor **out,
                        mdl_err *err);

/* The next record: *rid 0 at the end; doc (may be NULL) as for mdl_get,
 * valid until the next call on this cursor. A cursor may be stepped
 * while c writes, each on the same session. */
int mdl_cursor_next(mdl_cursor *k, int64_t *rid, bson_t *doc, mdl_err *err);
void mdl_cursor_close(mdl_cursor *k);

/* ---- the key order (keyenc.c) ---- */

/* One value in the index key order of the shared BSON order: for any
 * a, b, sign(memcmp) of the encodings is sign(compare(a, b)), and no
 * encoding is a prefix of another. desc inverts the bytes. Writes at
 * most cap bytes to out and sets *len; MDL_EKEY_TOO_LONG if cap is too
 * small, MDL_EBAD_VALUE if nested deeper than MDL_DEPTH_MAX. Decimal128
 * is ordered by its nearest double (see keyenc.c). */
int mdl_key_encode(const bson_value_t *v, int desc, uint8_t *out,
                   size_t cap, size_t *len, mdl_err *err);

#endif /* MDB_LAYOUT_H */
