/*
 * cmd_index.c: createIndexes, listIndexes, dropIndexes, renameCollection
 * and the statistics commands (collStats, dbStats).
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>

/* The catalog's indexes array of ns into arr (copied): 0 or MDL code. */
static int indexes_of(struct docd_req *r, const char *ns, bson_t *arr,
                      mdl_err *e)
{
	bson_t entry;
	bson_iter_t it;
	int rc = mdl_catalog_entry(r->d->store, r->session, ns, &entry, e);
	if (rc)
		return rc;
	bson_init(arr);
	if (bson_iter_init_find(&it, &entry, "indexes") &&
	    BSON_ITER_HOLDS_ARRAY(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t a;
		bson_iter_array(&it, &len, &data);
		if (bson_init_static(&a, data, len))
			bson_copy_to_excluding_noinit(&a, arr, "", NULL);
	}
	bson_destroy(&entry);
	return 0;
}

static int count_keys(const bson_t *b)
{
	return (int)bson_count_keys(b);
}

struct create_ix {
	const char *ns;
	bson_iter_t specs;
	int before, after, created_coll, noop;
};

/* One index spec {key, name, unique}: 0 or an MDL code. */
static int create_one(struct docd_req *r, const char *ns, const bson_t *spec,
                      mdl_err *e)
{
	bson_iter_t it;
	bson_t key;
	const uint8_t *data;
	uint32_t len;
	if (!bson_iter_init_find(&it, spec, "key") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		snprintf(e->msg, sizeof(e->msg), "an index spec needs a 'key' "
		         "document");
		return e->code = 9;
	}
	bson_iter_document(&it, &len, &data);
	bson_init_static(&key, data, len);
	if (!bson_iter_init_find(&it, spec, "name") || !BSON_ITER_HOLDS_UTF8(&it)) {
		snprintf(e->msg, sizeof(e->msg), "an index spec needs a 'name' "
		         "string");
		return e->code = 9;
	}
	int rc = mdl_create_index(r->d->store, r->session, ns,
	                          bson_iter_utf8(&it, NULL), &key,
	                          opt_bool(spec, "unique", 0), e);
	return rc == MDL_EINDEX_EXISTS ? 0 : rc;
}

static int createix_fn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct create_ix *a = arg;
	bson_t arr;
	int rc = indexes_of(r, a->ns, &arr, e);
	if (rc == MDL_ENS_NOT_FOUND) {
		if ((rc = mdl_create_collection(r->d->store, r->session, a->ns, e)))
			return rc;
		a->created_coll = 1;
		rc = indexes_of(r, a->ns, &arr, e);
	}
	if (rc)
		return rc;
	a->before = count_keys(&arr);
	bson_destroy(&arr);
	bson_iter_t specs = a->specs;
	while (!rc && bson_iter_next(&specs)) {
		bson_t spec;
		if (stmt_doc(&specs, &spec, e))
			return e->code ? e->code : 9;
		rc = create_one(r, a->ns, &spec, e);
	}
	if (!rc && !(rc = indexes_of(r, a->ns, &arr, e))) {
		a->after = count_keys(&arr);
		bson_destroy(&arr);
	}
	return rc;
}

void cmd_createindexes(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	struct create_ix a = {.ns = ns};
	mdl_err e = {0};
	if (ns_of(r, "createIndexes", ns, out) ||
	    array_field(r->cmd, "indexes", &a.specs, out))
		return;
	if (schema_change(r, createix_fn, &a, &e)) {
		reply_mdl(out, &e);
		return;
	}
	BSON_APPEND_INT32(out, "numIndexesBefore", a.before);
	BSON_APPEND_INT32(out, "numIndexesAfter", a.after);
	BSON_APPEND_BOOL(out, "createdCollectionAutomatically", a.created_coll);
	if (a.before == a.after)
		BSON_APPEND_UTF8(out, "note", "all indexes already exist");
	wc_finish(r, out);
	reply_ok(out);
}

void cmd_listindexes(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	bson_t arr, cur;
	bson_iter_t it;
	mdl_err e = {0};
	int present;
	int64_t batch = 0;
	if (ns_of(r, "listIndexes", ns, out) ||
	    opt_doc(r->cmd, "cursor", &cur, &present, out) ||
	    (present && opt_int64(&cur, "batchSize", 0, &batch, out)))
		return;
	pthread_rwlock_rdlock(&r->d->schema_lock);
	int rc = indexes_of(r, ns, &arr, &e);
	pthread_rwlock_unlock(&r->d->schema_lock);
	if (rc) {
		reply_error(out, rc == MDL_ENS_NOT_FOUND ? 26 : rc, "%s",
		            rc == MDL_ENS_NOT_FOUND ? "ns does not exist" : e.msg);
		return;
	}
	struct docd_results *rs = results_new();
	if (rs && bson_iter_init(&it, &arr)) {
		while (bson_iter_next(&it)) {
			bson_t one, doc = BSON_INITIALIZER;
			bson_iter_t f;
			if (stmt_doc(&it, &one, &e))
				continue;
			BSON_APPEND_INT32(&doc, "v", 2);
			if (bson_iter_init_find(&f, &one, "key"))
				bson_append_iter(&doc, "key", 3, &f);
			if (bson_iter_init_find(&f, &one, "name"))
				bson_append_iter(&doc, "name", 4, &f);
			if (bson_iter_init_find(&f, &one, "unique") &&
			    bson_iter_as_bool(&f) &&
			    strcmp(bson_iter_init_find(&f, &one, "name") &&
			           BSON_ITER_HOLDS_UTF8(&f) ?
			           bson_iter_utf8(&f, NULL) : "", "_id_"))
				BSON_APPEND_BOOL(&doc, "unique", true);
			results_add(rs, &doc);
			bson_destroy(&doc);
		}
	}
	bson_destroy(&arr);
	if (!rs) {
		reply_error(out, 146, "no memory");
		return;
	}
	cursor_reply(r, ns, rs, batch, 0, out);
}

struct drop_ix {
	const char *ns;
	const bson_t *cmd;
	int was;
};

/* The names to drop: "*" (every one but _id_), a name, or a key pattern. */
static int dropix_fn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct drop_ix *a = arg;
	bson_t arr;
	bson_iter_t it, want;
	int rc = indexes_of(r, a->ns, &arr, e);
	if (rc)
		return rc;
	a->was = count_keys(&arr);
	if (!bson_iter_init_find(&want, a->cmd, "index")) {
		bson_destroy(&arr);
		snprintf(e->msg, sizeof(e->msg), "dropIndexes needs 'index'");
		return e->code = 9;
	}
	int all = BSON_ITER_HOLDS_UTF8(&want) &&
	          !strcmp(bson_iter_utf8(&want, NULL), "*"), found = 0;
	bson_iter_init(&it, &arr);
	while (!rc && bson_iter_next(&it)) {
		bson_t one;
		bson_iter_t name, key;
		if (stmt_doc(&it, &one, e) || !bson_iter_init_find(&name, &one, "name"))
			continue;
		const char *n = bson_iter_utf8(&name, NULL);
		int hit = all ? strcmp(n, "_id_") != 0
		          : BSON_ITER_HOLDS_UTF8(&want)
		          ? !strcmp(n, bson_iter_utf8(&want, NULL))
		          : BSON_ITER_HOLDS_DOCUMENT(&want) &&
		            bson_iter_init_find(&key, &one, "key") &&
		            bson_iter_value(&key)->value.v_doc.data_len ==
		            bson_iter_value(&want)->value.v_doc.data_len &&
		            !memcmp(bson_iter_value(&key)->value.v_doc.data,
		                    bson_iter_value(&want)->value.v_doc.data,
		                    bson_iter_value(&want)->value.v_doc.data_len);
		if (hit) {
			found = 1;
			rc = mdl_drop_index(r->d->store, r->session, a->ns, n, e);
		}
	}
	bson_destroy(&arr);
	if (!rc && !found && !all) {
		snprintf(e->msg, sizeof(e->msg), "index not found");
		rc = e->code = MDL_EINDEX_NOT_FOUND;
	}
	return rc;
}

void cmd_dropindexes(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdl_err e = {0};
	struct drop_ix a = {.ns = ns, .cmd = r->cmd};
	if (ns_of(r, "dropIndexes", ns, out))
		return;
	if (schema_change(r, dropix_fn, &a, &e)) {
		reply_mdl(out, &e);
		return;
	}
	BSON_APPEND_INT32(out, "nIndexesWas", a.was);
	reply_ok(out);
}

/* A full "db.coll" from a command field: 0, or -1 with out set. */
static int full_ns(const bson_t *cmd, const char *field, char *ns,
                   bson_t *out)
{
	bson_iter_t it;
	const char *why;
	if (!bson_iter_init_find(&it, cmd, field) || !BSON_ITER_HOLDS_UTF8(&it)) {
		reply_error(out, 14, "'%s' must be a string", field);
		return -1;
	}
	uint32_t len;
	const char *v = bson_iter_utf8(&it, &len);
	const char *dot = memchr(v, '.', len);
	if (!dot || len > MDL_NS_MAX || dot + 1 == v + len ||
	    memchr(v, '\0', len) || memchr(v, '$', len) ||
	    mdw_db_name_check(v, (size_t)(dot - v), &why)) {
		reply_error(out, 73, "invalid namespace: %.*s",
		            (int)(len > 200 ? 200 : len), v);
		return -1;
	}
	memcpy(ns, v, len);
	ns[len] = '\0';
	return 0;
}

struct rename {
	const char *from, *to;
	int drop_target;
};

static int rename_fn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct rename *a = arg;
	if (a->drop_target) {
		int rc = mdl_drop_collection(r->d->store, r->session, a->to, e);
		if (rc && rc != MDL_ENS_NOT_FOUND)
			return rc;
		*e = (mdl_err){0};
	}
	return mdl_rename_collection(r->d->store, r->session, a->from, a->to, e);
}

void cmd_renamecollection(struct docd_req *r, bson_t *out)
{
	char from[MDL_NS_MAX + 1], to[MDL_NS_MAX + 1];
	mdl_err e = {0};
	if (strcmp(r->db, "admin")) {
		reply_error(out, 13, "renameCollection may only be run against "
		            "the admin database.");
		return;
	}
	if (full_ns(r->cmd, "renameCollection", from, out) ||
	    full_ns(r->cmd, "to", to, out))
		return;
	struct rename a = {.from = from, .to = to,
	                   .drop_target = opt_bool(r->cmd, "dropTarget", 0)};
	if (schema_change(r, rename_fn, &a, &e)) {
		reply_mdl(out, &e);
		return;
	}
	cursors_kill_ns(r->d, from);
	cursors_kill_ns(r->d, to);
	wc_finish(r, out);
	reply_ok(out);
}

void cmd_collstats(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdl_coll *c;
	mdl_err e = {0};
	int64_t count = 0, size = 0;
	bson_t arr;
	if (ns_of(r, "collStats", ns, out))
		return;
	int rc = coll_begin(r, ns, &c, out);
	if (rc < 0)
		return;
	if (rc == 1) {
		reply_error(out, 26, "Collection [%s] not found.", ns);
		return;
	}
	rc = mdl_coll_stats(c, &count, &size, &e);
	int nix = 0;
	mdl_err ie = {0};
	if (!indexes_of(r, ns, &arr, &ie)) {
		nix = count_keys(&arr);
		bson_destroy(&arr);
	}
	coll_done(r, c);
	if (rc) {
		reply_mdl(out, &e);
		return;
	}
	BSON_APPEND_UTF8(out, "ns", ns);
	BSON_APPEND_INT64(out, "count", count);
	BSON_APPEND_INT64(out, "size", size);
	BSON_APPEND_INT64(out, "avgObjSize", count ? size / count : 0);
	BSON_APPEND_INT64(out, "storageSize", size);
	BSON_APPEND_INT32(out, "nindexes", nix);
	reply_ok(out);
}

struct dbstat {
	struct docd_req *r;
	int64_t colls, objects, size, indexes;
};

static int dbstat_one(const char *ns, const bson_t *entry, void *arg)
{
	struct dbstat *k = arg;
	mdl_coll *c;
	mdl_err e = {0};
	int64_t count = 0, size = 0;
	bson_iter_t it, arr;
	k->colls++;
	if (bson_iter_init_find(&it, entry, "indexes") &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr))
		while (bson_iter_next(&arr))
			k->indexes++;
	if (mdl_coll_open(k->r->d->store, k->r->session, ns, &c, &e))
		return 0;
	if (!mdl_coll_stats(c, &count, &size, &e)) {
		k->objects += count;
		k->size += size;
	}
	mdl_coll_close(c);
	return 0;
}

void cmd_dbstats(struct docd_req *r, bson_t *out)
{
	struct dbstat k = {.r = r};
	mdl_err e = {0};
	pthread_rwlock_rdlock(&r->d->schema_lock);
	int rc = mdl_list_collections(r->d->store, r->session, r->db,
	                              dbstat_one, &k, &e);
	pthread_rwlock_unlock(&r->d->schema_lock);
	if (rc) {
		reply_mdl(out, &e);
		return;
	}
	BSON_APPEND_UTF8(out, "db", r->db);
	BSON_APPEND_INT64(out, "collections", k.colls);
	BSON_APPEND_INT32(out, "views", 0);
	BSON_APPEND_INT64(out, "objects", k.objects);
	BSON_APPEND_DOUBLE(out, "avgObjSize",
	                   k.objects ? (double)k.size / (double)k.objects : 0.0);
	BSON_APPEND_INT64(out, "dataSize", k.size);
	BSON_APPEND_INT64(out, "storageSize", k.size);
	BSON_APPEND_INT64(out, "indexes", k.indexes);
	reply_ok(out);
}
