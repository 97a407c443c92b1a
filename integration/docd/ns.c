/*
 * ns.c: what every data command needs: its namespace, its options, its
 * write concern, and a transaction with MongoDB's write-conflict retry.
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write conflicts are retried as MongoDB's writeConflictRetry does: at
 * once a few times, then backing off (up to 10 ms), for TXN_RETRY_S. */
#define TXN_RETRY_S 10
#define TXN_BACKOFF_MAX_US 10000

int ns_of(struct docd_req *r, const char *field, char *ns, bson_t *out)
{
	bson_iter_t it;
	if (!bson_iter_init_find(&it, r->cmd, field) || !BSON_ITER_HOLDS_UTF8(&it)) {
		reply_error(out, 73, "collection name has invalid type %s",
		            "(a string is needed)");
		return -1;
	}
	uint32_t len;
	const char *c = bson_iter_utf8(&it, &len);
	if (!len || memchr(c, '\0', len) || memchr(c, '$', len) || c[0] == '.' ||
	    strlen(r->db) + 1 + len > MDL_NS_MAX) {
		reply_error(out, 73, "Invalid collection name: %.*s",
		            (int)(len > 200 ? 200 : len), c);
		return -1;
	}
	snprintf(ns, MDL_NS_MAX + 1, "%s.%.*s", r->db, (int)len, c);
	return 0;
}

int wc_durable(const bson_t *cmd)
{
	bson_iter_t it, wc;
	if (!bson_iter_init_find(&it, cmd, "writeConcern") ||
	    !BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &wc))
		return 0;
	int durable = 0;
	while (bson_iter_next(&wc)) {
		const char *k = bson_iter_key(&wc);
		if (!strcmp(k, "j") && bson_iter_as_bool(&wc))
			durable = 1;
		else if (!strcmp(k, "w") && BSON_ITER_HOLDS_UTF8(&wc))
			durable |= !strcmp(bson_iter_utf8(&wc, NULL), "majority");
		else if (!strcmp(k, "w") && BSON_ITER_HOLDS_NUMBER(&wc))
			durable |= bson_iter_as_int64(&wc) >= 2;
	}
	return durable;
}

void wc_finish(struct docd_req *r, bson_t *out)
{
	if (!wc_durable(r->cmd))
		return;
	int rc = engine_wait_durable(r->d, r->session);
	if (!rc)
		return;
	bson_t e;
	char msg[256];
	snprintf(msg, sizeof(msg), "the log could not be made durable: %s",
	         wiredtiger_strerror(rc));
	BSON_APPEND_DOCUMENT_BEGIN(out, "writeConcernError", &e);
	BSON_APPEND_INT32(&e, "code", 100);
	BSON_APPEND_UTF8(&e, "codeName", "UnsatisfiableWriteConcern");
	BSON_APPEND_UTF8(&e, "errmsg", msg);
	bson_append_document_end(out, &e);
}

int txn_run(struct docd_req *r, txn_fn fn, void *arg, mdl_err *err)
{
	WT_SESSION *s = r->session;
	int rc = MDL_EWRITE_CONFLICT;
	uint64_t until = docd_now_ns() + TXN_RETRY_S * 1000000000ull;
	for (int i = 0; rc == MDL_EWRITE_CONFLICT; i++) {
		if (i > 0 && docd_now_ns() > until)
			break;
		if (i > 3) {
			unsigned us = i > 16 ? TXN_BACKOFF_MAX_US : 1u << (i - 3);
			usleep(us < TXN_BACKOFF_MAX_US ? us : TXN_BACKOFF_MAX_US);
		}
		*err = (mdl_err){0};
		int wrc = s->begin_transaction(s, NULL);
		if (wrc) {
			snprintf(err->msg, sizeof(err->msg), "begin_transaction: %s",
			         wiredtiger_strerror(wrc));
			return err->code = MDL_EINTERNAL;
		}
		rc = fn(r, arg, err);
		if (rc) {
			s->rollback_transaction(s, NULL);
			continue;
		}
		if ((wrc = s->commit_transaction(s, NULL))) {
			rc = wrc == WT_ROLLBACK ? MDL_EWRITE_CONFLICT : MDL_EINTERNAL;
			snprintf(err->msg, sizeof(err->msg), "commit: %s",
			         wiredtiger_strerror(wrc));
			err->code = rc;
		}
	}
	return rc;
}

void reply_mdl(bson_t *out, const mdl_err *e)
{
	reply_error(out, e->code ? e->code : 1, "%s",
	            e->msg[0] ? e->msg : "internal error");
}

void doc_with_id(const bson_t *in, bson_t *out)
{
	bson_iter_t it;
	bson_init(out);
	if (bson_iter_init_find(&it, in, "_id")) {
		bson_append_iter(out, "_id", 3, &it);
	} else {
		bson_oid_t oid;
		bson_oid_init(&oid, NULL);
		BSON_APPEND_OID(out, "_id", &oid);
	}
	if (!bson_iter_init(&it, in))
		return;
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "_id"))
			bson_append_iter(out, bson_iter_key(&it), -1, &it);
}

int opt_doc(const bson_t *cmd, const char *name, bson_t *doc, int *present,
            bson_t *out)
{
	bson_iter_t it;
	*present = 0;
	if (!bson_iter_init_find(&it, cmd, name) || BSON_ITER_HOLDS_NULL(&it))
		return 0;
	const uint8_t *data;
	uint32_t len;
	if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
		reply_error(out, 14, "'%s' must be a document", name);
		return -1;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(doc, data, len)) {
		reply_error(out, 22, "'%s' is not valid BSON", name);
		return -1;
	}
	*present = 1;
	return 0;
}

int opt_int64(const bson_t *cmd, const char *name, int64_t def, int64_t *v,
              bson_t *out)
{
	bson_iter_t it;
	*v = def;
	if (!bson_iter_init_find(&it, cmd, name) || BSON_ITER_HOLDS_NULL(&it))
		return 0;
	if (!BSON_ITER_HOLDS_NUMBER(&it)) {
		reply_error(out, 14, "'%s' must be a number", name);
		return -1;
	}
	*v = bson_iter_as_int64(&it);
	return 0;
}

int opt_bool(const bson_t *cmd, const char *name, int def)
{
	bson_iter_t it;
	return bson_iter_init_find(&it, cmd, name) ? bson_iter_as_bool(&it) : def;
}

int coll_begin(struct docd_req *r, const char *ns, mdl_coll **c, bson_t *out)
{
	mdl_err e = {0};
	pthread_rwlock_rdlock(&r->d->schema_lock);
	int rc = mdl_coll_open(r->d->store, r->session, ns, c, &e);
	if (!rc)
		return 0;
	pthread_rwlock_unlock(&r->d->schema_lock);
	*c = NULL;
	if (rc == MDL_ENS_NOT_FOUND)
		return 1;
	reply_mdl(out, &e);
	return -1;
}

void coll_done(struct docd_req *r, mdl_coll *c)
{
	mdl_coll_close(c);
	pthread_rwlock_unlock(&r->d->schema_lock);
}
