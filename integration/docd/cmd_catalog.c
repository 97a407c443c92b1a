/*
 * cmd_catalog.c: collections, databases and indexes. Every change holds
 * the schema lock for writing (no collection is being read or written
 * meanwhile), runs in one transaction, and after it commits the tables
 * nothing names any more are dropped (mdl_reap, mdb_layout.h).
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>

int schema_change(struct docd_req *r, schema_fn fn, void *arg,
                         mdl_err *e)
{
	WT_SESSION *s = r->session;
	pthread_rwlock_wrlock(&r->d->schema_lock);
	int rc = s->begin_transaction(s, NULL);
	if (rc) {
		snprintf(e->msg, sizeof(e->msg), "begin_transaction: %s",
		         wiredtiger_strerror(rc));
		rc = e->code = MDL_EINTERNAL;
	} else if ((rc = fn(r, arg, e)) != 0) {
		s->rollback_transaction(s, NULL);
	} else if ((rc = s->commit_transaction(s, NULL)) != 0) {
		snprintf(e->msg, sizeof(e->msg), "commit: %s",
		         wiredtiger_strerror(rc));
		rc = e->code = MDL_EINTERNAL;
	}
	int dropped;
	mdl_err re = {0};
	(void)mdl_reap(r->d->store, &dropped, &re); /* retried at open */
	pthread_rwlock_unlock(&r->d->schema_lock);
	return rc;
}

static int create_fn(struct docd_req *r, void *ns, mdl_err *e)
{
	return mdl_create_collection(r->d->store, r->session, ns, e);
}

void cmd_create(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdl_err e = {0};
	if (ns_of(r, "create", ns, out))
		return;
	if (schema_change(r, create_fn, ns, &e)) {
		reply_mdl(out, &e);
		return;
	}
	wc_finish(r, out);
	reply_ok(out);
}

/* Indexes in a catalog entry. */
static int index_count(const bson_t *entry)
{
	bson_iter_t it, arr;
	int n = 0;
	if (bson_iter_init_find(&it, entry, "indexes") &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr))
		while (bson_iter_next(&arr))
			n++;
	return n;
}

struct drop_arg {
	const char *ns;
	int nindexes;
};

static int drop_fn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct drop_arg *a = arg;
	bson_t entry;
	int rc = mdl_catalog_entry(r->d->store, r->session, a->ns, &entry, e);
	if (rc)
		return rc;
	a->nindexes = index_count(&entry);
	bson_destroy(&entry);
	return mdl_drop_collection(r->d->store, r->session, a->ns, e);
}

void cmd_drop(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdl_err e = {0};
	struct drop_arg a = {.ns = ns};
	if (ns_of(r, "drop", ns, out))
		return;
	if (schema_change(r, drop_fn, &a, &e)) {
		if (e.code == MDL_ENS_NOT_FOUND)
			reply_error(out, 26, "ns not found");
		else
			reply_mdl(out, &e);
		return;
	}
	cursors_kill_ns(r->d, ns);
	BSON_APPEND_INT32(out, "nIndexesWas", a.nindexes);
	BSON_APPEND_UTF8(out, "ns", ns);
	wc_finish(r, out);
	reply_ok(out);
}

/* Collects namespaces of one database (or all) into a document of
 * {"0": ns, ...} for a second pass. */
static int ns_collect(const char *ns, const bson_t *entry, void *arg)
{
	bson_t *list = arg;
	char key[24];
	snprintf(key, sizeof(key), "%u", bson_count_keys(list));
	BSON_APPEND_UTF8(list, key, ns);
	return 0;
}

static int dropdb_fn(struct docd_req *r, void *arg, mdl_err *e)
{
	bson_t list = BSON_INITIALIZER;
	bson_iter_t it;
	int rc = mdl_list_collections(r->d->store, r->session, r->db,
	                              ns_collect, &list, e);
	if (!rc && bson_iter_init(&it, &list))
		while (!rc && bson_iter_next(&it))
			rc = mdl_drop_collection(r->d->store, r->session,
			                         bson_iter_utf8(&it, NULL), e);
	bson_destroy(&list);
	return rc;
}

void cmd_dropdatabase(struct docd_req *r, bson_t *out)
{
	mdl_err e = {0};
	if (schema_change(r, dropdb_fn, NULL, &e)) {
		reply_mdl(out, &e);
		return;
	}
	cursors_kill_db(r->d, r->db);
	BSON_APPEND_UTF8(out, "dropped", r->db);
	wc_finish(r, out);
	reply_ok(out);
}

/* The stats of collection ns (0 if it vanished). */
static int ns_stats(struct docd_req *r, const char *ns, int64_t *count,
                    int64_t *size)
{
	mdl_coll *c;
	mdl_err e = {0};
	*count = *size = 0;
	if (mdl_coll_open(r->d->store, r->session, ns, &c, &e))
		return 0;
	int rc = mdl_coll_stats(c, count, size, &e);
	mdl_coll_close(c);
	return rc;
}

struct dbs {
	struct docd_req *r;
	bson_t arr;
	int n, name_only;
	int64_t total;
};

static int db_one(const char *ns, const bson_t *entry, void *arg)
{
	struct dbs *k = arg;
	char db[MDL_DB_MAX + 1], key[24];
	const char *dot = strchr(ns, '.');
	size_t len = dot ? (size_t)(dot - ns) : strlen(ns);
	if (len > MDL_DB_MAX)
		return 0;
	memcpy(db, ns, len);
	db[len] = '\0';
	int64_t size = 0;
	if (!k->name_only) { /* the sum over the database's collections */
		struct docd_req sub = *k->r;
		bson_t list = BSON_INITIALIZER;
		bson_iter_t it;
		mdl_err e = {0};
		mdl_list_collections(k->r->d->store, k->r->session, db, ns_collect,
		                     &list, &e);
		if (bson_iter_init(&it, &list))
			while (bson_iter_next(&it)) {
				int64_t c, s;
				ns_stats(&sub, bson_iter_utf8(&it, NULL), &c, &s);
				size += s;
			}
		bson_destroy(&list);
	}
	bson_t one;
	snprintf(key, sizeof(key), "%d", k->n++);
	BSON_APPEND_DOCUMENT_BEGIN(&k->arr, key, &one);
	BSON_APPEND_UTF8(&one, "name", db);
	if (!k->name_only) {
		BSON_APPEND_INT64(&one, "sizeOnDisk", size);
		BSON_APPEND_BOOL(&one, "empty", size == 0);
	}
	bson_append_document_end(&k->arr, &one);
	k->total += size;
	return 0;
}

void cmd_listdatabases(struct docd_req *r, bson_t *out)
{
	struct dbs k = {.r = r, .name_only = opt_bool(r->cmd, "nameOnly", 0)};
	mdl_err e = {0};
	bson_init(&k.arr);
	pthread_rwlock_rdlock(&r->d->schema_lock);
	int rc = mdl_list_databases(r->d->store, r->session, db_one, &k, &e);
	pthread_rwlock_unlock(&r->d->schema_lock);
	if (rc) {
		bson_destroy(&k.arr);
		reply_mdl(out, &e);
		return;
	}
	BSON_APPEND_ARRAY(out, "databases", &k.arr);
	bson_destroy(&k.arr);
	if (!k.name_only)
		BSON_APPEND_INT64(out, "totalSize", k.total);
	reply_ok(out);
}

struct colls {
	struct docd_results *rs;
	const mdq_filter_t *f;
	int name_only;
};

static int coll_one(const char *ns, const bson_t *entry, void *arg)
{
	struct colls *k = arg;
	const char *name = strchr(ns, '.');
	bson_t doc = BSON_INITIALIZER, sub;
	BSON_APPEND_UTF8(&doc, "name", name ? name + 1 : ns);
	BSON_APPEND_UTF8(&doc, "type", "collection");
	if (!k->name_only) {
		BSON_APPEND_DOCUMENT_BEGIN(&doc, "options", &sub);
		bson_append_document_end(&doc, &sub);
		BSON_APPEND_DOCUMENT_BEGIN(&doc, "info", &sub);
		BSON_APPEND_BOOL(&sub, "readOnly", false);
		bson_append_document_end(&doc, &sub);
	}
	int rc = 0;
	if (!k->f || mdq_filter_match(k->f, &doc))
		rc = results_add(k->rs, &doc);
	bson_destroy(&doc);
	return rc;
}

void cmd_listcollections(struct docd_req *r, bson_t *out)
{
	bson_t fdoc, cur;
	int present, cpresent;
	int64_t batch = 0;
	mdl_err e = {0};
	struct mdq_error qe = {0};
	struct colls k = {.name_only = opt_bool(r->cmd, "nameOnly", 0)};
	if (opt_doc(r->cmd, "filter", &fdoc, &present, out) ||
	    opt_doc(r->cmd, "cursor", &cur, &cpresent, out) ||
	    (cpresent && opt_int64(&cur, "batchSize", 0, &batch, out)))
		return;
	if (present && !(k.f = mdq_filter_parse(&fdoc, &qe))) {
		reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
		return;
	}
	char ns[MDL_DB_MAX + 32];
	snprintf(ns, sizeof(ns), "%s.$cmd.listCollections", r->db);
	if (!(k.rs = results_new())) {
		mdq_filter_free((mdq_filter_t *)k.f);
		reply_error(out, 146, "no memory");
		return;
	}
	pthread_rwlock_rdlock(&r->d->schema_lock);
	int rc = mdl_list_collections(r->d->store, r->session, r->db, coll_one,
	                              &k, &e);
	pthread_rwlock_unlock(&r->d->schema_lock);
	mdq_filter_free((mdq_filter_t *)k.f);
	if (rc) {
		results_free(k.rs);
		reply_mdl(out, &e);
		return;
	}
	cursor_reply(r, ns, k.rs, batch, 0, out);
}
