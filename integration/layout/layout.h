/*
 * layout.h: what the files of mdblayout share (catalog.c, coll.c,
 * cursor.c, keyenc.c, keys.c, err.c).
 */
#ifndef MDL_LAYOUT_INTERNAL_H
#define MDL_LAYOUT_INTERNAL_H

#include "mdb_layout.h"

#include <pthread.h>
#include <stdatomic.h>

#define CATALOG_URI "table:_mdb_catalog"
#define COUNTER_KEY "$counter"   /* no namespace may contain '$' */
#define RS_CONFIG "key_format=q,value_format=u"
#define IX_CONFIG "key_format=u,value_format=q"
#define RID_MARK 0x04            /* before the RecordId in non-unique keys */
#define IDENT_MAX 32

/* ---- err.c ---- */
int mdl_fail(mdl_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A WiredTiger return as an error: WT_ROLLBACK is a write conflict. */
int mdl_wt(mdl_err *e, int rc, const char *what);

/* ---- keyenc.c ---- */
struct kbuf {
	uint8_t *p;
	size_t n, cap;
	int over, deep;
};
void kb_put(struct kbuf *b, const void *d, size_t n);
int kb_value(struct kbuf *b, const bson_value_t *v, int depth);
void kb_invert(struct kbuf *b, size_t from);

/* ---- keys.c: an index's key of a document ---- */
struct ixdef {
	const char *name, *ident;
	bson_t key;                 /* the key pattern, a view into the entry */
	int unique;
	WT_CURSOR *c;               /* on the handle's session, overwrite=false */
};
/* The encoded key of doc for ix (without the RecordId). */
int ix_key(const struct ixdef *ix, const bson_t *doc, uint8_t *out,
           size_t *len, mdl_err *err);
/* err->dupkey: {field: value} of doc for ix, or {field: elem}. */
void ix_dupkey(const struct ixdef *ix, const bson_t *doc,
               const bson_value_t *elem, mdl_err *err);

/* All of a document's keys in one index: one, or for an array in a
 * single-field index one per distinct element, sorted by their bytes. */
#define KEYSET_MAX (64 << 20)
struct kref {
	size_t off, n;
	bson_value_t v;             /* the element (multikey), into the doc */
};
struct keyset {
	uint8_t *buf;
	size_t len, cap;
	struct kref *k;
	size_t nk, kcap;
	int multi;                  /* the keys are an array's elements */
};
int ix_keys(const struct ixdef *ix, const bson_t *doc, struct keyset *ks,
            mdl_err *err);
/* doc has an array where ix, a single-field index, looks. */
int ix_is_multikey_doc(const struct ixdef *ix, const bson_t *doc);
/* Checks a key pattern: MDL_EBAD_VALUE and why. */
int ix_check_pattern(const bson_t *key, mdl_err *err);
/* Appends the RecordId suffix of a non-unique key. */
size_t ix_rid_suffix(uint8_t *p, int64_t rid);

/* ---- catalog.c ---- */
struct rsctr {                   /* one record store's RecordId counter */
	char ident[IDENT_MAX + 8];   /* its URI */
	_Atomic int64_t next;
	struct rsctr *link;
};

struct mdl_store {
	WT_CONNECTION *conn;
	pthread_mutex_t lock;        /* the schema session and counters */
	WT_SESSION *schema;          /* creates and drops, outside any txn */
	struct rsctr *ctrs;
};

int mdl_check_ns(const char *ns, mdl_err *err);
/* The catalog entry of ns into out (a copy); MDL_ENS_NOT_FOUND. */
int cat_get(WT_SESSION *s, const char *ns, bson_t *out, mdl_err *err);
int cat_put(WT_SESSION *s, const char *ns, const bson_t *entry,
            int must_be_new, mdl_err *err);
int cat_del(WT_SESSION *s, const char *ns, mdl_err *err);
/* Creates table:PREFIX-N on the store's schema session now, N from the
 * catalog's counter (written in s's transaction); ident gets PREFIX-N. */
int new_table(mdl_store *st, WT_SESSION *s, const char *prefix,
              const char *cfg, char ident[IDENT_MAX], mdl_err *err);
/* The counter entry for ident, set from the table's largest key. */
int rs_counter(mdl_store *st, WT_SESSION *s, const char *uri,
               struct rsctr **out, mdl_err *err);

/* ---- coll.c ---- */
struct mdl_coll {
	mdl_store *st;
	WT_SESSION *s;
	bson_t entry;                /* the catalog entry, owned */
	char ns[MDL_NS_MAX + 1];
	struct rsctr *ctr;
	WT_CURSOR *rs;
	int nix;
	struct ixdef ix[MDL_INDEXES_MAX];
	uint8_t ka[MDL_KEY_MAX + 16], kb[MDL_KEY_MAX + 16];
	struct keyset ks_old, ks_new;   /* scratch, grown as needed */
};
/* The handle's definitions from its entry (also for catalog.c). */
int coll_parse(mdl_coll *c, mdl_err *err);
/* Adds doc's entry to one index; MDL_EDUP_KEY on a unique clash. */
int ix_insert(mdl_coll *c, struct ixdef *ix, const bson_t *doc,
              int64_t rid, mdl_err *err);
int read_doc(WT_CURSOR *rs, int64_t rid, bson_t *doc, int *found,
             mdl_err *err);

#endif
