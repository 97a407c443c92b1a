/*
 * schema.c: create, drop, rename, list, create and drop index: each a
 * few catalog reads and writes in the caller's transaction (catalog.c
 * says why tables are made at once and dropped later).
 */
#include "layout.h"

#include <string.h>

/* old's fields with ns replaced, index `without` left out and `add`
 * appended to its indexes. */
static void entry_with(const bson_t *old, const char *ns, const char *without,
                       const bson_t *add, bson_t *out)
{
	bson_iter_t it, ix, f;
	bson_t arr;
	bson_init(out);
	BSON_APPEND_UTF8(out, "ns", ns);
	bson_iter_init(&it, old);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		if (!strcmp(k, "ns") || !strcmp(k, "indexes"))
			continue;
		bson_append_iter(out, k, -1, &it);
	}
	BSON_APPEND_ARRAY_BEGIN(out, "indexes", &arr);
	int n = 0;
	char key[16];
	if (bson_iter_init_find(&it, old, "indexes") && bson_iter_recurse(&it, &ix))
		while (bson_iter_next(&ix)) {
			if (without && bson_iter_recurse(&ix, &f) &&
			    bson_iter_find(&f, "name") && BSON_ITER_HOLDS_UTF8(&f) &&
			    !strcmp(bson_iter_utf8(&f, NULL), without))
				continue;
			snprintf(key, sizeof(key), "%d", n++);
			bson_append_iter(&arr, key, -1, &ix);
		}
	if (add) {
		snprintf(key, sizeof(key), "%d", n);
		BSON_APPEND_DOCUMENT(&arr, key, add);
	}
	bson_append_array_end(out, &arr);
}

static void index_doc(bson_t *d, const char *name, const bson_t *key,
                      int unique, const char *ident)
{
	bson_init(d);
	BSON_APPEND_UTF8(d, "name", name);
	BSON_APPEND_DOCUMENT(d, "key", key);
	BSON_APPEND_BOOL(d, "unique", unique != 0);
	BSON_APPEND_UTF8(d, "ident", ident);
}

int mdl_create_collection(mdl_store *st, WT_SESSION *s, const char *ns,
                          mdl_err *err)
{
	bson_t e, id, ixd, key = BSON_INITIALIZER;
	char rs[IDENT_MAX], ix[IDENT_MAX];
	int rc = mdl_check_ns(ns, err);
	if (rc)
		return rc;
	if ((rc = cat_get(s, ns, &e, NULL)) == 0) {
		bson_destroy(&e);
		return mdl_fail(err, MDL_ENS_EXISTS, "collection %s already exists",
		                ns);
	}
	if ((rc = new_table(st, s, "collection", RS_CONFIG, rs, err)) ||
	    (rc = new_table(st, s, "index", IX_CONFIG, ix, err)))
		return rc;
	BSON_APPEND_INT32(&key, "_id", 1);
	index_doc(&ixd, "_id_", &key, 1, ix);
	bson_init(&id);
	BSON_APPEND_UTF8(&id, "ident", rs);
	entry_with(&id, ns, NULL, &ixd, &e);
	rc = cat_put(s, ns, &e, 1, err);
	bson_destroy(&e);
	bson_destroy(&id);
	bson_destroy(&ixd);
	bson_destroy(&key);
	return rc;
}

int mdl_drop_collection(mdl_store *st, WT_SESSION *s, const char *ns,
                        mdl_err *err)
{
	(void)st;
	int rc = mdl_check_ns(ns, err);
	return rc ? rc : cat_del(s, ns, err);
}

int mdl_rename_collection(mdl_store *st, WT_SESSION *s, const char *from,
                          const char *to, mdl_err *err)
{
	bson_t e, ne;
	(void)st;
	int rc = mdl_check_ns(from, err);
	if (rc || (rc = mdl_check_ns(to, err)) || (rc = cat_get(s, from, &e, err)))
		return rc;
	entry_with(&e, to, NULL, NULL, &ne);
	if ((rc = cat_put(s, to, &ne, 1, err)) == 0)
		rc = cat_del(s, from, err);
	bson_destroy(&e);
	bson_destroy(&ne);
	return rc;
}

/* db "x" is a prefix "x." of its namespaces, which sort together. */
static int in_db(const char *ns, const char *db)
{
	size_t n = strlen(db);
	return !strncmp(ns, db, n) && ns[n] == '.';
}

static int walk(WT_SESSION *s, const char *db, int dbs, mdl_list_fn fn,
                void *arg, mdl_err *err)
{
	WT_CURSOR *c;
	const char *ns;
	WT_ITEM v;
	bson_t b;
	char last[MDL_DB_MAX + 2] = "";
	int rc = s->open_cursor(s, CATALOG_URI, NULL, NULL, &c), r = 0;
	while (!rc && !r && (rc = c->next(c)) == 0 &&
	       (rc = c->get_key(c, &ns)) == 0 && (rc = c->get_value(c, &v)) == 0) {
		if (!strcmp(ns, COUNTER_KEY) || (db && !in_db(ns, db)) ||
		    !bson_init_static(&b, v.data, v.size))
			continue;
		if (!dbs) {
			r = fn(ns, &b, arg);
			continue;
		}
		const char *dot = strchr(ns, '.');
		size_t n = dot ? (size_t)(dot - ns) : 0;
		if (!n || n > MDL_DB_MAX || (strlen(last) == n &&
		                             !strncmp(last, ns, n)))
			continue; /* not a namespace we wrote, or the same db */
		memcpy(last, ns, n);
		last[n] = '\0';
		r = fn(last, &b, arg);
	}
	if (c)
		c->close(c);
	if (rc && rc != WT_NOTFOUND)
		return mdl_wt(err, rc, "read the catalog");
	return r;
}

int mdl_list_collections(mdl_store *st, WT_SESSION *s, const char *db,
                         mdl_list_fn fn, void *arg, mdl_err *err)
{
	(void)st;
	return walk(s, db, 0, fn, arg, err);
}

int mdl_list_databases(mdl_store *st, WT_SESSION *s, mdl_list_fn fn,
                       void *arg, mdl_err *err)
{
	(void)st;
	return walk(s, NULL, 1, fn, arg, err);
}

int mdl_catalog_entry(mdl_store *st, WT_SESSION *s, const char *ns,
                      bson_t *out, mdl_err *err)
{
	(void)st;
	int rc = mdl_check_ns(ns, err);
	return rc ? rc : cat_get(s, ns, out, err);
}

/* An index already named name or keyed by key: why not to create it. */
static int index_clash(const mdl_coll *c, const char *name, const bson_t *key,
                       int unique, mdl_err *err)
{
	for (int i = 0; i < c->nix; i++) {
		const struct ixdef *x = &c->ix[i];
		int same_key = bson_equal(&x->key, key);
		if (!strcmp(x->name, name))
			return same_key && !x->unique == !unique
			       ? mdl_fail(err, MDL_EINDEX_EXISTS, "index %s exists",
			                  name)
			       : mdl_fail(err, MDL_EINDEX_KEYS, "an index named %s "
			                  "exists with a different key or options",
			                  name);
		if (same_key)
			return mdl_fail(err, MDL_EINDEX_OPTS, "index %s has the same "
			                "key pattern", x->name);
	}
	if (c->nix >= MDL_INDEXES_MAX)
		return mdl_fail(err, MDL_ECANNOT_INDEX, "%d indexes already",
		                MDL_INDEXES_MAX);
	return 0;
}

/* Every document into the new index (the last of the entry). */
static int build(mdl_store *st, WT_SESSION *s, const char *ns, mdl_err *err)
{
	mdl_coll *c;
	mdl_cursor *k;
	int64_t rid;
	bson_t doc;
	int rc = mdl_coll_open(st, s, ns, &c, err);
	if (rc)
		return rc;
	if ((rc = mdl_scan_open(c, &k, err)) == 0) {
		while ((rc = mdl_cursor_next(k, &rid, &doc, err)) == 0 && rid)
			if ((rc = ix_insert(c, &c->ix[c->nix - 1], &doc, rid, err)))
				break;
		mdl_cursor_close(k);
	}
	mdl_coll_close(c);
	return rc;
}

int mdl_create_index(mdl_store *st, WT_SESSION *s, const char *ns,
                     const char *name, const bson_t *key, int unique,
                     mdl_err *err)
{
	mdl_coll *c;
	bson_t ixd, ne;
	char ident[IDENT_MAX];
	size_t n = name ? strnlen(name, MDL_NAME_MAX + 1) : 0;
	if (!n || n > MDL_NAME_MAX)
		return mdl_fail(err, MDL_EBAD_VALUE, "index name empty or over %d "
		                "bytes", MDL_NAME_MAX);
	int rc = ix_check_pattern(key, err);
	if (rc || (rc = mdl_coll_open(st, s, ns, &c, err)))
		return rc;
	if ((rc = index_clash(c, name, key, unique, err)) == 0 &&
	    (rc = new_table(st, s, "index", IX_CONFIG, ident, err)) == 0) {
		index_doc(&ixd, name, key, unique, ident);
		entry_with(&c->entry, ns, NULL, &ixd, &ne);
		rc = cat_put(s, ns, &ne, 0, err);
		bson_destroy(&ixd);
		bson_destroy(&ne);
	}
	mdl_coll_close(c);
	return rc ? rc : build(st, s, ns, err);
}

int mdl_drop_index(mdl_store *st, WT_SESSION *s, const char *ns,
                   const char *name, mdl_err *err)
{
	mdl_coll *c;
	bson_t ne;
	if (name && !strcmp(name, "_id_"))
		return mdl_fail(err, MDL_EILLEGAL, "cannot drop _id index");
	int rc = mdl_coll_open(st, s, ns, &c, err);
	if (rc)
		return rc;
	int found = 0;
	for (int i = 0; i < c->nix; i++)
		found |= name && !strcmp(c->ix[i].name, name);
	if (!found) {
		rc = mdl_fail(err, MDL_EINDEX_NOT_FOUND, "index not found with "
		              "name [%.128s]", name ? name : "");
	} else {
		entry_with(&c->entry, ns, name, NULL, &ne);
		rc = cat_put(s, ns, &ne, 0, err);
		bson_destroy(&ne);
	}
	mdl_coll_close(c);
	return rc;
}
