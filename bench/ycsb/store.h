/*
 * store.h: the WiredTiger side of mojim-ycsb (doc.c, store.c, env.c,
 * phase.c, main.c). MongoDB's layout, kept by the document server's
 * library (integration/layout, mdb_layout.h): a collection table keyed
 * by an int64 RecordId holding the BSON document, and an _id index
 * table from the key to the RecordId, so a read by key is two lookups.
 */
#ifndef MOJIM_YCSB_STORE_H
#define MOJIM_YCSB_STORE_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <wiredtiger.h>

#include "mdb_layout.h"

#include "bench.h" /* bench/micro: now_ns, mirror_proc, scratch dirs */
#include "ycsb.h"

#define YCSB_NS "ycsb.usertable" /* YCSB's MongoDB binding's defaults */
#define KEY_MAX 32
#define FIELDS_MAX 100
#define ERR_LEN 256

/* ---- doc.c ---- */

struct docspec {
	int fieldcount, fieldlength;
};

/* A field's value: "KEY:F:VERSION:" then filler drawn from a hash of
 * that header, so any stored value can be checked on its own. */
void doc_field(char *buf, int len, const char *key, int field,
               uint32_t ver);
int doc_build(bson_t *b, const char *key, const struct docspec *s,
              struct rng *r);
/* The document with field f rewritten at a new version. */
int doc_update(const uint8_t *old, size_t len, const char *key, int f,
               int flen, struct rng *r, bson_t *out);
/* Reads every field as a client would; returns the bytes read or -1. */
long doc_read(const uint8_t *data, size_t len, const char *key);
int doc_check(const uint8_t *data, size_t len, const char *key,
              const struct docspec *s, char *err, size_t elen);

/* ---- store.c ---- */

struct store {
	WT_CONNECTION *conn;
	struct docspec spec;
	mdl_store *mdl;              /* the catalog, RecordId counters */
	mongoc_client_pool_t *pool;  /* --target: the wire backend (wire.c) */
	mongoc_write_concern_t *wc;
};

/* One thread's session and cursors. */
struct sess {
	struct store *st;
	WT_SESSION *s;
	mdl_coll *coll;              /* its cursors, on s */
	int64_t retries;             /* write conflicts retried */
	mongoc_client_t *cli;        /* --target: from the pool, and */
	mongoc_collection_t *mc;     /* ycsb.usertable at the write concern */
	int close_rc;                /* -1: the last writes were not answered */
	char err[ERR_LEN];
};

int store_create(struct store *st);
void store_close(struct store *st); /* before the connection closes */
int sess_open(struct store *st, struct sess *x);
void sess_close(struct sess *x);

/* One transaction each; 0 or a WiredTiger error (x->err says more). */
int st_insert(struct sess *x, char keys[][KEY_MAX], int n, struct rng *r);
int st_read(struct sess *x, const char *key);
int st_update(struct sess *x, const char *key, int field, struct rng *r);
int st_scan(struct sess *x, const char *key, int len);
int st_rmw(struct sess *x, const char *key, int field, struct rng *r);

/* The correctness pass: every index entry names a record whose _id is
 * its key, every record is indexed once, every field checks, and there
 * are exactly `expect` of them (-1: any). */
int store_verify(struct store *st, int64_t expect, char *err, size_t len);

/* ---- wire.c, wire_ops.c: --target mongodb://HOST:PORT ---- */

/* The wire "modes": one per write concern (w0 w1 journal majority). */
const struct mode_def *wire_mode(const char *wc);
void wire_init(void);           /* once, before wire_open; then mongoc_cleanup */
int wire_open(struct store *st, const char *target, const char *wc,
              char *err, size_t len);
int wire_fresh(struct store *st, char *err, size_t len); /* drops it */
void wire_close(struct store *st);
int wire_sess_open(struct store *st, struct sess *x);
void wire_sess_close(struct sess *x);
/* 0 or -1, x->err says why (a libmongoc error: its bson_error_t) */
int wire_insert(struct sess *x, char keys[][KEY_MAX], int n, struct rng *r);
int wire_read(struct sess *x, const char *key);
int wire_update(struct sess *x, const char *key, int field, struct rng *r);
int wire_scan(struct sess *x, const char *key, int len);
int wire_rmw(struct sess *x, const char *key, int field, struct rng *r);
int wire_verify(struct store *st, int64_t expect, char *err, size_t len);

/* ---- env.c ---- */

enum kind { K_JOURNALED, K_BUFFERED, K_NONE, K_MOJIM, K_WIRE };

struct mode_def {
	const char *name;
	enum kind kind;
	const char *ext_mode;        /* the extension's mode=, K_MOJIM */
	int replicated;
	int spin_us;                 /* -1: both sides' defaults */
	const char *what;
};

extern const struct mode_def modes[];
extern const int nmodes;
const struct mode_def *mode_find(const char *name);

struct env_opts {
	const char *ext, *mirror_bin, *disk_tmp, *cache;
	const char *target;          /* mongodb://...: the wire backend */
};

struct env {
	const struct mode_def *m;
	char scratch[256], home[300];
	struct mirror_proc mirror;
	struct store st;
	struct ackctr seq;           /* the insert key sequence */
	pthread_t flusher;
	int flusher_on;
	_Atomic int flusher_stop, flusher_rc;
};

int env_open(struct env *e, const struct mode_def *m,
             const struct env_opts *o, const struct docspec *spec,
             char *err, size_t len);
/* Closes WiredTiger, stops the mirror, removes the home; 0 if clean. */
int env_close(struct env *e, char *err, size_t len);
int64_t env_records(const struct env *e);

/* ---- phase.c ---- */

enum phase_kind { PH_LOAD, PH_RUN, PH_INSERT };

struct phase_result {
	int64_t ops, errors, retries;
	double secs;
	struct hist h[OP_NTYPES];
	struct hist all;
	char err[ERR_LEN];
};

extern volatile sig_atomic_t ycsb_stop;

int phase_run(struct env *e, const struct workload *w, enum phase_kind k,
              uint64_t seed, struct phase_result *r);

#endif /* MOJIM_YCSB_STORE_H */
