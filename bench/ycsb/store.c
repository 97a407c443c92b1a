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

int store_create(struct store *st)
{
	WT_SESSION *s;
	int rc = st->conn->open_session(st->conn, NULL, NULL, &s);
	if (rc)
		return rc;
	/* MongoDB: collection key_format=q,value_format=u; the _id index's
	 * key is a KeyString, here the key itself, its value the RecordId. */
	rc = s->create(s, COLL_URI, "key_format=q,value_format=u");
	if (!rc)
		rc = s->create(s, INDEX_URI, "key_format=S,value_format=q");
	s->close(s, NULL);
	atomic_store(&st->next_rid, 1);
	return rc;
}

int sess_open(struct store *st, struct sess *x)
{
	memset(x, 0, sizeof(*x));
	x->st = st;
	WT_CONNECTION *c = st->conn;
	int rc = c->open_session(c, NULL, "isolation=snapshot", &x->s);
	if (!rc)
		rc = x->s->open_cursor(x->s, COLL_URI, NULL, NULL, &x->coll);
	/* overwrite=false: a second insert of a key is WT_DUPLICATE_KEY,
	 * as the unique _id index refuses it */
	if (!rc)
		rc = x->s->open_cursor(x->s, INDEX_URI, NULL, "overwrite=false",
		                       &x->idx);
	if (rc)
		sess_close(x);
	return rc;
}

void sess_close(struct sess *x)
{
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

/* The _id index lookup, then the record; item valid until the cursor
 * moves. */
static int find(struct sess *x, const char *key, int64_t *rid, WT_ITEM *doc)
{
	int rc;
	x->idx->set_key(x->idx, key);
	if ((rc = x->idx->search(x->idx)) != 0 ||
	    (rc = x->idx->get_value(x->idx, rid)) != 0) {
		if (rc == WT_NOTFOUND)
			snprintf(x->err, sizeof(x->err), "%s: not in the index", key);
		return rc;
	}
	x->coll->set_key(x->coll, *rid);
	if ((rc = x->coll->search(x->coll)) == 0)
		rc = x->coll->get_value(x->coll, doc);
	if (rc == WT_NOTFOUND)
		snprintf(x->err, sizeof(x->err), "%s: RecordId %lld missing", key,
		         (long long)*rid);
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
	int64_t rid = atomic_fetch_add(&x->st->next_rid, 1);
	int rc = doc_build(&b, key, &x->st->spec, r) ? ENOMEM : 0;
	WT_ITEM v = {.data = bson_get_data(&b), .size = b.len};
	x->coll->set_key(x->coll, rid);
	x->coll->set_value(x->coll, &v);
	if (!rc)
		rc = x->coll->insert(x->coll);
	bson_destroy(&b);
	x->idx->set_key(x->idx, key);
	x->idx->set_value(x->idx, rid);
	if (!rc && (rc = x->idx->insert(x->idx)) == WT_DUPLICATE_KEY)
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
	struct ins_arg a = {keys, n, r};
	return in_txn(x, fn_insert, &a);
}

struct key_arg {
	const char *key;
	int field, len;
	struct rng *r;
};

static int read_one(struct sess *x, const char *key, int64_t *rid,
                    WT_ITEM *doc)
{
	int rc = find(x, key, rid, doc);
	if (!rc && doc_read(doc->data, doc->size, key) < 0) {
		snprintf(x->err, sizeof(x->err), "%s: bad document", key);
		rc = EIO;
	}
	return rc;
}

static int fn_read(struct sess *x, void *arg)
{
	struct key_arg *a = arg;
	int64_t rid;
	WT_ITEM doc;
	return read_one(x, a->key, &rid, &doc);
}

int st_read(struct sess *x, const char *key)
{
	struct key_arg a = {.key = key};
	return in_txn(x, fn_read, &a);
}

/* Rewrites one field of the record found (MongoDB's $set). */
static int rewrite(struct sess *x, struct key_arg *a, int64_t rid,
                   const WT_ITEM *doc)
{
	bson_t b = BSON_INITIALIZER;
	int rc = doc_update(doc->data, doc->size, a->key, a->field,
	                    x->st->spec.fieldlength, a->r, &b) ? EIO : 0;
	if (rc) {
		snprintf(x->err, sizeof(x->err), "%s: cannot update field%d",
		         a->key, a->field);
	} else {
		WT_ITEM v = {.data = bson_get_data(&b), .size = b.len};
		x->coll->set_key(x->coll, rid);
		x->coll->set_value(x->coll, &v);
		rc = x->coll->update(x->coll);
	}
	bson_destroy(&b);
	return rc;
}

static int fn_update(struct sess *x, void *arg)
{
	int64_t rid;
	WT_ITEM doc;
	int rc = find(x, ((struct key_arg *)arg)->key, &rid, &doc);
	return rc ? rc : rewrite(x, arg, rid, &doc);
}

int st_update(struct sess *x, const char *key, int field, struct rng *r)
{
	struct key_arg a = {.key = key, .field = field, .r = r};
	return in_txn(x, fn_update, &a);
}

static int fn_rmw(struct sess *x, void *arg)
{
	int64_t rid;
	WT_ITEM doc;
	int rc = read_one(x, ((struct key_arg *)arg)->key, &rid, &doc);
	return rc ? rc : rewrite(x, arg, rid, &doc);
}

int st_rmw(struct sess *x, const char *key, int field, struct rng *r)
{
	struct key_arg a = {.key = key, .field = field, .r = r};
	return in_txn(x, fn_rmw, &a);
}

/* find({_id: {$gte: key}}).sort({_id: 1}).limit(len), on the index. */
static int fn_scan(struct sess *x, void *arg)
{
	struct key_arg *a = arg;
	WT_CURSOR *ix = x->idx;
	int exact, rc;
	ix->set_key(ix, a->key);
	if ((rc = ix->search_near(ix, &exact)) == 0 && exact < 0)
		rc = ix->next(ix);
	for (int i = 0; i < a->len && !rc; i++) {
		const char *k;
		int64_t rid;
		WT_ITEM doc;
		if ((rc = ix->get_key(ix, &k)) || (rc = ix->get_value(ix, &rid)))
			break;
		x->coll->set_key(x->coll, rid);
		if ((rc = x->coll->search(x->coll)) == WT_NOTFOUND)
			rc = EIO; /* indexed, but no such record */
		if (!rc && (rc = x->coll->get_value(x->coll, &doc)) == 0 &&
		    doc_read(doc.data, doc.size, k) < 0)
			rc = EIO;
		if (!rc)
			rc = ix->next(ix);
	}
	return rc == WT_NOTFOUND ? 0 : rc; /* the end of the index */
}

int st_scan(struct sess *x, const char *key, int len)
{
	struct key_arg a = {.key = key, .len = len};
	return in_txn(x, fn_scan, &a);
}
