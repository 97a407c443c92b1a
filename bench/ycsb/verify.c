/*
 * verify.c: the correctness pass after every phase. The layout's own
 * validate (mdb_layout.h) checks the _id index against the records: each
 * record's _id is in the index naming it, and the index has no other
 * entry. Then every record's fields check (doc.c), and the count must be
 * what the phases inserted.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_docs(struct sess *x, int64_t *count, char *err, size_t len)
{
	mdl_cursor *k;
	mdl_err e;
	int64_t rid;
	bson_t doc;
	int rc = mdl_scan_open(x->coll, &k, &e);
	while (!rc && (rc = mdl_cursor_next(k, &rid, &doc, &e)) == 0 && rid) {
		bson_iter_t it;
		if (!bson_iter_init_find(&it, &doc, "_id") ||
		    !BSON_ITER_HOLDS_UTF8(&it)) {
			snprintf(err, len, "RecordId %lld: no string _id",
			         (long long)rid);
			rc = -1;
		} else if (doc_check(bson_get_data(&doc), doc.len,
		                     bson_iter_utf8(&it, NULL), &x->st->spec, err,
		                     len)) {
			rc = -1;
		}
		(*count)++;
	}
	mdl_cursor_close(k);
	if (rc > 0)
		snprintf(err, len, "collection walk: %s", e.msg);
	return rc ? -1 : 0;
}

int store_verify(struct store *st, int64_t expect, char *err, size_t len)
{
	struct sess x;
	mdl_err e;
	int64_t n = 0;
	if (st->pool)
		return wire_verify(st, expect, err, len);
	int rc = sess_open(st, &x);
	if (rc) {
		snprintf(err, len, "verify: cannot start: %s",
		         wiredtiger_strerror(rc));
		return -1;
	}
	if (mdl_validate(x.coll, &e)) {
		snprintf(err, len, "%s", e.msg);
		rc = -1;
	}
	if (!rc)
		rc = check_docs(&x, &n, err, len);
	if (!rc && expect >= 0 && n != expect) {
		snprintf(err, len, "%lld records, %lld inserted", (long long)n,
		         (long long)expect);
		rc = -1;
	}
	sess_close(&x);
	return rc;
}
