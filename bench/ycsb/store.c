/*
 * store.c: a YCSB "usertable" as MongoDB keeps a collection in
 * WiredTiger: collection (RecordId -> BSON) plus the _id index (key ->
 * RecordId). Every operation is one transaction, retried on a write
 * conflict as MongoDB's writeConflictRetry does; its commit is as
 * durable as the connection's transaction_sync (env.c) makes it.
 */
#include "store.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RETRIES 10000 /* write conflicts on one operation */

/* An mdl_ error as the WiredTiger return the phases count on: a write
 * conflict is WT_ROLLBACK (retried), a duplicate WT_DUPLICATE_KEY. */
static int wt_rc(struct sess *x, int code, const mdl_err *e)
{
	if (!code)
		return 0;
	if (x)
		snprintf(x->err, sizeof(x->err), "%s", e->msg);
	if (code == MDL_EWRITE_CONFLICT)
		return WT_ROLLBACK;
	if (code == MDL_EDUP_KEY)
		return WT_DUPLICATE_KEY;
	return e->wt ? e->wt : EIO;
}

int store_create(struct store *st)
{
	WT_SESSION *s;
	mdl_err e;
	int rc = mdl_open(st->conn, &st->mdl, &e);
	if (rc)
		return wt_rc(NULL, rc, &e);
	if ((rc = st->conn->open_session(st->conn, NULL, NULL, &s)) != 0)
		return rc;
	/* The layout's catalog write is ours to commit; its tables are
	 * created at once (mdb_layout.h). */
	if ((rc = s->begin_transaction(s, NULL)) == 0) {
		rc = wt_rc(NULL, mdl_create_collection(st->mdl, s, YCSB_NS, &e), &e);
		rc = rc ? (s->rollback_transaction(s, NULL), rc)
		        : s->commit_transaction(s, NULL);
	}
	s->close(s, NULL);
	return rc;
}

void store_close(struct store *st)
{
	mdl_close(st->mdl);
	st->mdl = NULL;
}

int sess_open(struct store *st, struct sess *x)
{
	mdl_err e;
	if (st->pool)
		return wire_sess_open(st, x);
	memset(x, 0, sizeof(*x));
	x->st = st;
	WT_CONNECTION *c = st->conn;
	int rc = c->open_session(c, NULL, "isolation=snapshot", &x->s);
	if (!rc)
		rc = wt_rc(x, mdl_coll_open(st->mdl, x->s, YCSB_NS, &x->coll, &e),
		           &e);
	if (rc)
		sess_close(x);
	return rc;
}

void sess_close(struct sess *x)
{
	if (x->st && x->st->pool) {
		wire_sess_close(x);
		return;
	}
	mdl_coll_close(x->coll);
	x->coll = NULL;
	if (x->s)
		x->s->close(x->s, NULL);
	x->s = NULL;
}

typedef int (*txn_fn)(struct sess *x, void *arg);

/* Runs fn in a transaction; a conflict rolls back and runs it again. */
static int in_txn(struct sess *x, txn_fn fn, void *arg)
{
	WT_SESSION *s = x->s;
	for (int i = 0; i < MAX_RETRIES; i++) {
		int rc = s->begin_transaction(s, NULL);
		if (rc)
			return rc;
		if ((rc = fn(x, arg)) == 0)
			rc = s->commit_transaction(s, NULL); /* rolls back if it fails */
		else
			s->rollback_transaction(s, NULL);
		if (rc != WT_ROLLBACK)
			return rc;
		x->retries++;
		sched_yield();
	}
	snprintf(x->err, sizeof(x->err), "%d write conflicts in a row",
	         MAX_RETRIES);
	return WT_ROLLBACK;
}

static bson_value_t key_value(const char *key)
{
	bson_value_t v = {.value_type = BSON_TYPE_UTF8};
	v.value.v_utf8.str = (char *)key;
	v.value.v_utf8.len = (uint32_t)strlen(key);
	return v;
}

/* The _id index lookup, then the record; doc valid until the handle's
 * next call. */
static int find(struct sess *x, const char *key, int64_t *rid, bson_t *doc)
{
	mdl_err e;
	bson_value_t v = key_value(key);
	int rc = wt_rc(x, mdl_find_id(x->coll, &v, rid, doc, &e), &e);
	if (!rc && !*rid) {
		snprintf(x->err, sizeof(x->err), "%s: not in the index", key);
		rc = WT_NOTFOUND;
	}
	return rc;
}

struct ins_arg {
	char (*keys)[KEY_MAX];
	int n;
	struct rng *r;
};

static int put_doc(struct sess *x, const char *key, struct rng *r)
{
	bson_t b = BSON_INITIALIZER;
	mdl_err e;
	int rc = doc_build(&b, key, &x->st->spec, r) ? ENOMEM : 0;
	if (!rc)
		rc = wt_rc(x, mdl_insert(x->coll, &b, NULL, &e), &e);
	bson_destroy(&b);
	if (rc == WT_DUPLICATE_KEY)
		snprintf(x->err, sizeof(x->err), "%s: inserted twice", key);
	return rc;
}

static int fn_insert(struct sess *x, void *arg)
{
	struct ins_arg *a = arg;
	int rc = 0;
	for (int i = 0; i < a->n && !rc; i++)
		rc = put_doc(x, a->keys[i], a->r);
	return rc;
}

int st_insert(struct sess *x, char keys[][KEY_MAX], int n, struct rng *r)
{
	if (x->st->pool)
		return wire_insert(x, keys, n, r);
	struct ins_arg a = {keys, n, r};
	return in_txn(x, fn_insert, &a);
}

struct key_arg {
	const char *key;
	int field, len;
	struct rng *r;
};

static int read_one(struct sess *x, const char *key, int64_t *rid,
                    bson_t *doc)
{
	int rc = find(x, key, rid, doc);
	if (!rc && doc_read(bson_get_data(doc), doc->len, key) < 0) {
		snprintf(x->err, sizeof(x->err), "%s: bad document", key);
		rc = EIO;
	}
	return rc;
}

static int fn_read(struct sess *x, void *arg)
{
	struct key_arg *a = arg;
	int64_t rid;
	bson_t doc;
	return read_one(x, a->key, &rid, &doc);
}

int st_read(struct sess *x, const char *key)
{
	if (x->st->pool)
		return wire_read(x, key);
	struct key_arg a = {.key = key};
	return in_txn(x, fn_read, &a);
}

/* Rewrites one field of the record found (MongoDB's $set). */
static int rewrite(struct sess *x, struct key_arg *a, int64_t rid,
                   const bson_t *doc)
{
	bson_t b = BSON_INITIALIZER;
	mdl_err e;
	int rc = doc_update(bson_get_data(doc), doc->len, a->key, a->field,
	                    x->st->spec.fieldlength, a->r, &b) ? EIO : 0;
	if (rc)
		snprintf(x->err, sizeof(x->err), "%s: cannot update field%d",
		         a->key, a->field);
	else /* doc is the record as found: only changed keys are rewritten */
		rc = wt_rc(x, mdl_update(x->coll, rid, doc, &b, &e), &e);
	bson_destroy(&b);
	return rc;
}

static int fn_update(struct sess *x, void *arg)
{
	int64_t rid;
	bson_t doc;
	int rc = find(x, ((struct key_arg *)arg)->key, &rid, &doc);
	return rc ? rc : rewrite(x, arg, rid, &doc);
}

int st_update(struct sess *x, const char *key, int field, struct rng *r)
{
	if (x->st->pool)
		return wire_update(x, key, field, r);
	struct key_arg a = {.key = key, .field = field, .r = r};
	return in_txn(x, fn_update, &a);
}

static int fn_rmw(struct sess *x, void *arg)
{
	int64_t rid;
	bson_t doc;
	int rc = read_one(x, ((struct key_arg *)arg)->key, &rid, &doc);
	return rc ? rc : rewrite(x, arg, rid, &doc);
}

int st_rmw(struct sess *x, const char *key, int field, struct rng *r)
{
	if (x->st->pool)
		return wire_rmw(x, key, field, r);
	struct key_arg a = {.key = key, .field = field, .r = r};
	return in_txn(x, fn_rmw, &a);
}

/* find({_id: {$gte: key}}).sort({_id: 1}).limit(len), on the index. */
static int fn_scan(struct sess *x, void *arg)
{
	struct key_arg *a = arg;
	bson_value_t lo = key_value(a->key);
	struct mdl_bounds b = {.lo = &lo, .lo_incl = 1};
	mdl_cursor *k = NULL;
	mdl_err e;
	int rc = wt_rc(x, mdl_index_scan_open(x->coll, "_id_", &b, &k, &e), &e);
	for (int i = 0; i < a->len && !rc; i++) {
		int64_t rid;
		bson_t doc;
		bson_iter_t it;
		if ((rc = wt_rc(x, mdl_cursor_next(k, &rid, &doc, &e), &e)) || !rid)
			break; /* or the end of the index */
		if (!bson_iter_init_find(&it, &doc, "_id") ||
		    !BSON_ITER_HOLDS_UTF8(&it) ||
		    doc_read(bson_get_data(&doc), doc.len,
		             bson_iter_utf8(&it, NULL)) < 0)
			rc = EIO;
	}
	mdl_cursor_close(k);
	return rc;
}

int st_scan(struct sess *x, const char *key, int len)
{
	if (x->st->pool)
		return wire_scan(x, key, len);
	struct key_arg a = {.key = key, .len = len};
	return in_txn(x, fn_scan, &a);
}
