/*
 * wire_ops.c: the operations of YCSB's MongoDB binding over libmongoc
 * (wire.c holds the pool and the sessions). Each is one request at the
 * collection's write concern; a libmongoc error comes back as -1 with its
 * bson_error_t message in x->err.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct sess *x, const char *what, const char *key,
                const bson_error_t *e)
{
	snprintf(x->err, sizeof(x->err), "%s %s: %.180s (%u.%u)", what, key,
	         e->message, e->domain, e->code);
	return -1;
}

int wire_insert(struct sess *x, char keys[][KEY_MAX], int n, struct rng *r)
{
	bson_t docs[n];
	const bson_t *p[n];
	bson_error_t e;
	int built = 0, rc = 0;
	for (; built < n && !rc; built++) {
		bson_init(&docs[built]);
		p[built] = &docs[built];
		rc = doc_build(&docs[built], keys[built], &x->st->spec, r);
	}
	bool ok = !rc && (n == 1 ?
	    mongoc_collection_insert_one(x->mc, p[0], NULL, NULL, &e) :
	    mongoc_collection_insert_many(x->mc, p, (size_t)n, NULL, NULL, &e));
	for (int i = 0; i < built; i++)
		bson_destroy(&docs[i]);
	if (rc) {
		snprintf(x->err, sizeof(x->err), "%s: cannot build", keys[0]);
		return -1;
	}
	return ok ? 0 : fail(x, n == 1 ? "insertOne" : "insertMany", keys[0], &e);
}

/* find(filter, opts): each document through doc_read; *got counts them. */
static int find_docs(struct sess *x, const bson_t *filter, const bson_t *opts,
                     const char *key, int *got)
{
	mongoc_cursor_t *c =
	    mongoc_collection_find_with_opts(x->mc, filter, opts, NULL);
	const bson_t *d;
	bson_error_t e;
	bson_iter_t it;
	int rc = 0;
	*got = 0;
	while (!rc && mongoc_cursor_next(c, &d)) {
		if (!bson_iter_init_find(&it, d, "_id") ||
		    !BSON_ITER_HOLDS_UTF8(&it) ||
		    doc_read(bson_get_data(d), d->len,
		             bson_iter_utf8(&it, NULL)) < 0) {
			snprintf(x->err, sizeof(x->err), "%s: bad document", key);
			rc = -1;
		}
		(*got)++;
	}
	if (!rc && mongoc_cursor_error(c, &e))
		rc = fail(x, "find", key, &e);
	mongoc_cursor_destroy(c);
	return rc;
}

int wire_read(struct sess *x, const char *key)
{
	bson_t *f = BCON_NEW("_id", BCON_UTF8(key));
	bson_t *o = BCON_NEW("limit", BCON_INT64(1));
	int got, rc = find_docs(x, f, o, key, &got);
	bson_destroy(f);
	bson_destroy(o);
	if (!rc && !got && !mongoc_write_concern_is_acknowledged(x->st->wc)) {
		x->retries++; /* {w: 0}: another connection's insert, unapplied */
		return 0;
	}
	if (!rc && got != 1) {
		snprintf(x->err, sizeof(x->err), "%s: not found", key);
		rc = -1;
	}
	return rc;
}

int wire_update(struct sess *x, const char *key, int field, struct rng *r)
{
	int flen = x->st->spec.fieldlength;
	char name[24], *v = malloc((size_t)flen + 1);
	bson_error_t e;
	bson_t reply;
	if (!v) {
		snprintf(x->err, sizeof(x->err), "no memory");
		return -1;
	}
	snprintf(name, sizeof(name), "field%d", field);
	doc_field(v, flen, key, field, (uint32_t)rng_next(r));
	bson_t *f = BCON_NEW("_id", BCON_UTF8(key));
	bson_t *u = BCON_NEW("$set", "{", name, BCON_UTF8(v), "}");
	bool ok = mongoc_collection_update_one(x->mc, f, u, NULL, &reply, &e);
	int64_t matched = 1; /* {w: 0} answers nothing */
	bson_iter_t it;
	if (ok && bson_iter_init_find(&it, &reply, "matchedCount"))
		matched = bson_iter_as_int64(&it);
	bson_destroy(&reply);
	bson_destroy(f);
	bson_destroy(u);
	free(v);
	if (!ok)
		return fail(x, "update", key, &e);
	if (!matched && mongoc_write_concern_is_acknowledged(x->st->wc)) {
		snprintf(x->err, sizeof(x->err), "update %s: no match", key);
		return -1;
	}
	return 0;
}

int wire_rmw(struct sess *x, const char *key, int field, struct rng *r)
{
	int rc = wire_read(x, key);
	return rc ? rc : wire_update(x, key, field, r);
}

int wire_scan(struct sess *x, const char *key, int len)
{
	bson_t *f = BCON_NEW("_id", "{", "$gte", BCON_UTF8(key), "}");
	bson_t *o = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}",
	                     "limit", BCON_INT64(len));
	int got, rc = find_docs(x, f, o, key, &got);
	bson_destroy(f);
	bson_destroy(o);
	return rc;
}

/* The correctness pass over the wire: every record read back, checked
 * field by field, and counted. */
int wire_verify(struct store *st, int64_t expect, char *err, size_t len)
{
	struct sess x;
	bson_t f = BSON_INITIALIZER;
	const bson_t *d;
	bson_error_t e;
	bson_iter_t it;
	int64_t n = 0;
	int rc = 0;
	if (wire_sess_open(st, &x)) {
		snprintf(err, len, "verify: %s", x.err);
		return -1;
	}
	mongoc_cursor_t *c = mongoc_collection_find_with_opts(x.mc, &f, NULL,
	                                                      NULL);
	while (!rc && mongoc_cursor_next(c, &d)) {
		if (!bson_iter_init_find(&it, d, "_id") ||
		    !BSON_ITER_HOLDS_UTF8(&it)) {
			snprintf(err, len, "record %lld: no string _id", (long long)n);
			rc = -1;
		} else {
			rc = doc_check(bson_get_data(d), d->len,
			               bson_iter_utf8(&it, NULL), &st->spec, err, len);
		}
		n++;
	}
	if (!rc && mongoc_cursor_error(c, &e)) {
		snprintf(err, len, "verify: find: %s (%u.%u)", e.message, e.domain,
		         e.code);
		rc = -1;
	}
	mongoc_cursor_destroy(c);
	wire_sess_close(&x);
	if (!rc && expect >= 0 && n != expect) {
		snprintf(err, len, "%lld records, %lld inserted", (long long)n,
		         (long long)expect);
		rc = -1;
	}
	return rc;
}
