/*
 * cmd_write.c: insert and delete, and what every write command shares:
 * a transaction per statement (write conflicts retried), MongoDB's
 * writeErrors for the statements that failed (E11000 for a duplicate key),
 * ordered batches stopping at the first error, and the write concern
 * waited for once, after the last statement (ns.c).
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>

void write_errors_add(struct write_errors *we, int64_t index, const mdl_err *e)
{
	bson_t one;
	char key[24], msg[600];
	snprintf(key, sizeof(key), "%d", we->n++);
	BSON_APPEND_DOCUMENT_BEGIN(&we->arr, key, &one);
	BSON_APPEND_INT64(&one, "index", index);
	BSON_APPEND_INT32(&one, "code", e->code ? e->code : 1);
	if (e->code == MDL_EDUP_KEY) {
		bson_t dup;
		char *json = NULL;
		if (bson_init_static(&dup, e->dupkey, e->dupkey_len)) {
			json = bson_as_relaxed_extended_json(&dup, NULL);
			BSON_APPEND_DOCUMENT(&one, "keyValue", &dup);
		}
		snprintf(msg, sizeof(msg), "E11000 duplicate key error collection: "
		         "%s index: %s dup key: %s", we->ns, e->index,
		         json ? json : "{ }");
		bson_free(json);
	} else {
		snprintf(msg, sizeof(msg), "%s", e->msg[0] ? e->msg : "write failed");
	}
	BSON_APPEND_UTF8(&one, "errmsg", msg);
	bson_append_document_end(&we->arr, &one);
}

void write_errors_finish(struct docd_req *r, struct write_errors *we,
                         bson_t *out)
{
	if (we->n)
		BSON_APPEND_ARRAY(out, "writeErrors", &we->arr);
	bson_destroy(&we->arr);
	wc_finish(r, out);
	reply_ok(out);
}

int coll_ensure(struct docd_req *r, const char *ns, mdl_err *err)
{
	pthread_rwlock_wrlock(&r->d->schema_lock);
	mdl_err e = {0};
	int rc = 0;
	WT_SESSION *s = r->session;
	if ((rc = s->begin_transaction(s, NULL)) != 0) {
		snprintf(err->msg, sizeof(err->msg), "begin_transaction: %s",
		         wiredtiger_strerror(rc));
		rc = err->code = MDL_EINTERNAL;
	} else if ((rc = mdl_create_collection(r->d->store, s, ns, &e)) != 0) {
		s->rollback_transaction(s, NULL);
		if (rc == MDL_ENS_EXISTS)
			rc = 0; /* another writer made it first */
		else
			*err = e;
	} else if ((rc = s->commit_transaction(s, NULL)) != 0) {
		snprintf(err->msg, sizeof(err->msg), "commit: %s",
		         wiredtiger_strerror(rc));
		rc = err->code = MDL_EINTERNAL;
	}
	pthread_rwlock_unlock(&r->d->schema_lock);
	return rc;
}

int coll_begin_create(struct docd_req *r, const char *ns, mdl_coll **c,
                      bson_t *out)
{
	int rc = coll_begin(r, ns, c, out);
	if (rc != 1)
		return rc;
	mdl_err e = {0};
	if (coll_ensure(r, ns, &e)) {
		reply_mdl(out, &e);
		return -1;
	}
	rc = coll_begin(r, ns, c, out);
	if (rc == 1)
		reply_error(out, 26, "%s was dropped while it was written", ns);
	return rc ? -1 : 0;
}

int stmt_doc(const bson_iter_t *it, bson_t *st, mdl_err *e)
{
	const uint8_t *data;
	uint32_t len;
	if (!BSON_ITER_HOLDS_DOCUMENT(it)) {
		e->code = 14;
		snprintf(e->msg, sizeof(e->msg), "a statement must be an object");
		return -1;
	}
	bson_iter_document(it, &len, &data);
	return bson_init_static(st, data, len) ? 0 : -1;
}

int stmt_filter(const bson_t *st, const char *field, const mdq_filter_t **f,
                mdl_err *e)
{
	bson_iter_t it;
	bson_t q;
	struct mdq_error qe = {0};
	const uint8_t *data;
	uint32_t len;
	*f = NULL;
	if (!bson_iter_init_find(&it, st, field) ||
	    !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		e->code = 9;
		snprintf(e->msg, sizeof(e->msg), "'%s' must be an object", field);
		return -1;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(&q, data, len) ||
	    !(*f = mdq_filter_parse(&q, &qe))) {
		e->code = qe.code ? qe.code : 2;
		snprintf(e->msg, sizeof(e->msg), "%s", qe.msg);
		return -1;
	}
	return 0;
}

int stmt_int(const bson_t *st, const char *field, int64_t lo, int64_t hi,
             int64_t *v, mdl_err *e)
{
	bson_iter_t it;
	*v = lo;
	if (!bson_iter_init_find(&it, st, field))
		return 0;
	if (BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) >= lo &&
	    bson_iter_as_int64(&it) <= hi) {
		*v = bson_iter_as_int64(&it);
		return 0;
	}
	e->code = 9;
	snprintf(e->msg, sizeof(e->msg), "'%s' must be a number from %lld to "
	         "%lld", field, (long long)lo, (long long)hi);
	return -1;
}

/* The array field name of the command, iterated; -1 with out set. */
int array_field(const bson_t *cmd, const char *name, bson_iter_t *arr,
                bson_t *out)
{
	bson_iter_t it;
	if (!bson_iter_init_find(&it, cmd, name) || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, arr)) {
		reply_error(out, 9, "'%s' must be an array", name);
		return -1;
	}
	return 0;
}

struct insert_one {
	mdl_coll *c;
	const bson_t *doc;
};

static int insert_txn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct insert_one *a = arg;
	if (a->doc->len > MDW_MAX_BSON) {
		snprintf(e->msg, sizeof(e->msg), "object to insert too large: "
		         "%u bytes, the limit is %d", a->doc->len, MDW_MAX_BSON);
		return e->code = 10334;
	}
	return mdl_insert(a->c, a->doc, NULL, e);
}

/* {insert: coll, documents: [...], ordered}: {n, writeErrors?}. */
void cmd_insert(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	bson_iter_t docs;
	mdl_coll *c;
	if (ns_of(r, "insert", ns, out) ||
	    array_field(r->cmd, "documents", &docs, out) ||
	    coll_begin_create(r, ns, &c, out))
		return;
	int ordered = opt_bool(r->cmd, "ordered", 1);
	struct write_errors we = {.ns = ns};
	bson_init(&we.arr);
	int64_t n = 0, i = 0;
	for (; bson_iter_next(&docs); i++) {
		mdl_err e = {0};
		bson_t in, doc;
		const uint8_t *data;
		uint32_t len;
		if (!BSON_ITER_HOLDS_DOCUMENT(&docs)) {
			e.code = 14;
			snprintf(e.msg, sizeof(e.msg), "a document to insert must "
			         "be an object");
		} else {
			bson_iter_document(&docs, &len, &data);
			bson_init_static(&in, data, len);
			doc_with_id(&in, &doc);
			struct insert_one a = {.c = c, .doc = &doc};
			if (txn_run(r, insert_txn, &a, &e) == 0)
				n++;
			bson_destroy(&doc);
		}
		if (e.code) {
			write_errors_add(&we, i, &e);
			if (ordered)
				break;
		}
	}
	coll_done(r, c);
	BSON_APPEND_INT32(out, "n", (int32_t)n);
	write_errors_finish(r, &we, out);
}

struct delete_stmt {
	mdl_coll *c;
	const char *ns;
	const mdq_filter_t *f;
	int64_t limit, n;
};

/* Removes what the statement's filter matches, at most limit (0: all).
 * Removing while the read goes on is allowed (mdb_layout.h). */
static int delete_txn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct delete_stmt *a = arg;
	struct plan p;
	int64_t rid;
	bson_t doc;
	int rc = plan_open(r, a->ns, a->c, a->f, 0, &p, e), k = 0;
	a->n = 0;
	while (!rc && (k = plan_next(&p, &rid, &doc, e)) == 1) {
		if ((rc = mdl_remove(a->c, rid, e)) != 0)
			break;
		if (++a->n == a->limit)
			break;
	}
	if (!rc && k < 0)
		rc = -k;
	plan_close(&p);
	return rc;
}

/* {delete: coll, deletes: [{q, limit}], ordered}: {n, writeErrors?}. */
void cmd_delete(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	bson_iter_t stmts;
	mdl_coll *c;
	if (ns_of(r, "delete", ns, out) ||
	    array_field(r->cmd, "deletes", &stmts, out))
		return;
	int rc = coll_begin(r, ns, &c, out);
	if (rc < 0)
		return;
	int ordered = opt_bool(r->cmd, "ordered", 1);
	struct write_errors we = {.ns = ns};
	bson_init(&we.arr);
	int64_t n = 0;
	for (int64_t i = 0; rc == 0 && bson_iter_next(&stmts); i++) {
		mdl_err e = {0};
		struct delete_stmt a = {.c = c, .ns = ns};
		bson_t st;
		if (stmt_doc(&stmts, &st, &e) == 0 &&
		    stmt_filter(&st, "q", &a.f, &e) == 0 &&
		    stmt_int(&st, "limit", 0, 1, &a.limit, &e) == 0 &&
		    txn_run(r, delete_txn, &a, &e) == 0)
			n += a.n;
		mdq_filter_free((mdq_filter_t *)a.f);
		if (e.code) {
			write_errors_add(&we, i, &e);
			if (ordered)
				break;
		}
	}
	if (rc == 0)
		coll_done(r, c);
	BSON_APPEND_INT32(out, "n", (int32_t)n);
	write_errors_finish(r, &we, out);
}
