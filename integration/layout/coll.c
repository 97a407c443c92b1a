/*
 * coll.c: one collection on one session: its record store and the
 * indexes its catalog entry names, kept consistent on every write.
 * Writes are made in the caller's transaction; when one fails part way
 * (a duplicate key on the third index), the caller rolls back.
 */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_cursor(WT_SESSION *s, const char *ident, const char *cfg,
                       WT_CURSOR **c, mdl_err *err)
{
	char uri[IDENT_MAX + 8];
	snprintf(uri, sizeof(uri), "table:%s", ident);
	int rc = s->open_cursor(s, uri, NULL, cfg, c);
	return rc ? mdl_wt(err, rc, uri) : 0;
}

static int parse_index(mdl_coll *c, bson_iter_t *ix, mdl_err *err)
{
	bson_iter_t f;
	const uint8_t *data;
	uint32_t len;
	if (c->nix >= MDL_INDEXES_MAX || !bson_iter_recurse(ix, &f))
		return mdl_fail(err, MDL_EINTERNAL, "%s: bad catalog entry", c->ns);
	struct ixdef *x = &c->ix[c->nix];
	memset(x, 0, sizeof(*x));
	while (bson_iter_next(&f)) {
		const char *k = bson_iter_key(&f);
		if (!strcmp(k, "name") && BSON_ITER_HOLDS_UTF8(&f))
			x->name = bson_iter_utf8(&f, NULL);
		else if (!strcmp(k, "ident") && BSON_ITER_HOLDS_UTF8(&f))
			x->ident = bson_iter_utf8(&f, NULL);
		else if (!strcmp(k, "unique"))
			x->unique = bson_iter_as_bool(&f);
		else if (!strcmp(k, "key") && BSON_ITER_HOLDS_DOCUMENT(&f)) {
			bson_iter_document(&f, &len, &data);
			bson_init_static(&x->key, data, len);
		}
	}
	if (!x->name || !x->ident || !x->key.len)
		return mdl_fail(err, MDL_EINTERNAL, "%s: bad index entry", c->ns);
	c->nix++;
	return open_cursor(c->s, x->ident, "overwrite=false", &x->c, err);
}

int coll_parse(mdl_coll *c, mdl_err *err)
{
	bson_iter_t it, ix;
	int rc = 0;
	if (!bson_iter_init_find(&it, &c->entry, "ident") ||
	    !BSON_ITER_HOLDS_UTF8(&it))
		return mdl_fail(err, MDL_EINTERNAL, "%s: no ident", c->ns);
	const char *ident = bson_iter_utf8(&it, NULL);
	char uri[IDENT_MAX + 8];
	snprintf(uri, sizeof(uri), "table:%s", ident);
	if ((rc = open_cursor(c->s, ident, NULL, &c->rs, err)) ||
	    (rc = rs_counter(c->st, c->s, uri, &c->ctr, err)))
		return rc;
	if (!bson_iter_init_find(&it, &c->entry, "indexes") ||
	    !bson_iter_recurse(&it, &ix))
		return mdl_fail(err, MDL_EINTERNAL, "%s: no indexes", c->ns);
	while (!rc && bson_iter_next(&ix))
		rc = parse_index(c, &ix, err);
	if (!rc && (c->nix == 0 || strcmp(c->ix[0].name, "_id_")))
		rc = mdl_fail(err, MDL_EINTERNAL, "%s: _id_ not first", c->ns);
	return rc;
}

int mdl_coll_open(mdl_store *st, WT_SESSION *s, const char *ns,
                  mdl_coll **out, mdl_err *err)
{
	int rc = mdl_check_ns(ns, err);
	if (rc)
		return rc;
	mdl_coll *c = calloc(1, sizeof(*c));
	if (!c)
		return mdl_fail(err, MDL_ENO_MEMORY, "no memory");
	c->st = st;
	c->s = s;
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	if ((rc = cat_get(s, ns, &c->entry, err)) != 0) {
		free(c);
		return rc;
	}
	if ((rc = coll_parse(c, err)) != 0) {
		mdl_coll_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void mdl_coll_close(mdl_coll *c)
{
	if (!c)
		return;
	if (c->rs)
		c->rs->close(c->rs);
	for (int i = 0; i < c->nix; i++)
		if (c->ix[i].c)
			c->ix[i].c->close(c->ix[i].c);
	bson_destroy(&c->entry);
	free(c->ks_old.buf);
	free(c->ks_old.k);
	free(c->ks_new.buf);
	free(c->ks_new.k);
	free(c);
}

/* The entry's key into c->ka: the key, then the RecordId if not unique. */
static size_t entry_key(mdl_coll *c, const struct ixdef *ix,
                        const struct keyset *ks, size_t i, int64_t rid)
{
	size_t n = ks->k[i].n;
	memcpy(c->ka, ks->buf + ks->k[i].off, n);
	return ix->unique ? n : n + ix_rid_suffix(c->ka + n, rid);
}

static int put_key(mdl_coll *c, struct ixdef *ix, const struct keyset *ks,
                   size_t i, const bson_t *doc, int64_t rid, mdl_err *err)
{
	WT_ITEM k = {.data = c->ka, .size = entry_key(c, ix, ks, i, rid)};
	ix->c->set_key(ix->c, &k);
	ix->c->set_value(ix->c, rid);
	int rc = ix->c->insert(ix->c);
	if (rc == WT_DUPLICATE_KEY) {
		if (err)
			ix_dupkey(ix, doc, ks->multi ? &ks->k[i].v : NULL, err);
		return mdl_fail(err, MDL_EDUP_KEY, "E11000 duplicate key error "
		                "collection: %s index: %s", c->ns, ix->name);
	}
	return rc ? mdl_wt(err, rc, ix->name) : 0;
}

static int del_key(mdl_coll *c, struct ixdef *ix, const struct keyset *ks,
                   size_t i, int64_t rid, mdl_err *err)
{
	WT_ITEM k = {.data = c->ka, .size = entry_key(c, ix, ks, i, rid)};
	ix->c->set_key(ix->c, &k);
	int rc = ix->c->remove(ix->c);
	if (rc == WT_NOTFOUND)
		return mdl_fail(err, MDL_EINTERNAL, "%s: index %s lacks an entry",
		                c->ns, ix->name);
	return rc ? mdl_wt(err, rc, ix->name) : 0;
}

int ix_insert(mdl_coll *c, struct ixdef *ix, const bson_t *doc, int64_t rid,
              mdl_err *err)
{
	int rc = ix_keys(ix, doc, &c->ks_new, err);
	for (size_t i = 0; !rc && i < c->ks_new.nk; i++)
		rc = put_key(c, ix, &c->ks_new, i, doc, rid, err);
	return rc;
}

/* Every element's length within its document, at every level (what
 * bson_iter checks as it goes), nesting bounded. UTF-8 is not checked,
 * as MongoDB does not on insert: that halves the cost on the write path
 * against bson_validate, which checks it. */
static int well_formed(bson_iter_t *it, int depth)
{
	bson_iter_t child;
	if (depth > MDL_BSON_DEPTH_MAX)
		return 0;
	while (bson_iter_next(it))
		if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) &&
		    (!bson_iter_recurse(it, &child) || !well_formed(&child, depth + 1)))
			return 0;
	return it->err_off == 0;
}

/* A document fit to store: well formed, with a usable _id. */
static int check_doc(const bson_t *doc, mdl_err *err)
{
	bson_iter_t it;
	if (!bson_iter_init(&it, doc) || !well_formed(&it, 0))
		return mdl_fail(err, MDL_EBAD_VALUE, "invalid BSON document");
	if (!bson_iter_init_find(&it, doc, "_id"))
		return mdl_fail(err, MDL_EBAD_VALUE, "document has no _id");
	bson_type_t t = bson_iter_type(&it);
	if (t == BSON_TYPE_ARRAY || t == BSON_TYPE_REGEX ||
	    t == BSON_TYPE_UNDEFINED)
		return mdl_fail(err, MDL_EBAD_VALUE, "the _id cannot be an array, "
		                "a regex or undefined");
	return 0;
}

int mdl_insert(mdl_coll *c, const bson_t *doc, int64_t *rid, mdl_err *err)
{
	int rc = check_doc(doc, err);
	if (rc)
		return rc;
	int64_t id = atomic_fetch_add(&c->ctr->next, 1);
	WT_ITEM v = {.data = bson_get_data(doc), .size = doc->len};
	c->rs->set_key(c->rs, id);
	c->rs->set_value(c->rs, &v);
	if ((rc = c->rs->insert(c->rs)) != 0)
		return mdl_wt(err, rc, c->ns);
	for (int i = 0; i < c->nix && !rc; i++)
		rc = ix_insert(c, &c->ix[i], doc, id, err);
	if (!rc && rid)
		*rid = id;
	return rc;
}

int read_doc(WT_CURSOR *rs, int64_t rid, bson_t *doc, int *found,
             mdl_err *err)
{
	WT_ITEM v;
	rs->set_key(rs, rid);
	int rc = rs->search(rs);
	*found = rc == 0;
	if (rc == WT_NOTFOUND) {
		bson_init(doc);
		return 0;
	}
	if (rc || (rc = rs->get_value(rs, &v)))
		return mdl_wt(err, rc, "read a record");
	if (!bson_init_static(doc, v.data, v.size))
		return mdl_fail(err, MDL_EINTERNAL, "RecordId %lld: bad BSON",
		                (long long)rid);
	return 0;
}

int mdl_get(mdl_coll *c, int64_t rid, bson_t *doc, int *found, mdl_err *err)
{
	return read_doc(c->rs, rid, doc, found, err);
}

static int kcmp(const struct keyset *a, size_t i, const struct keyset *b,
                size_t j)
{
	const struct kref *x = &a->k[i], *y = &b->k[j];
	int r = memcmp(a->buf + x->off, b->buf + y->off, x->n < y->n ? x->n : y->n);
	return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* Index ix from old's keys to doc's: both sorted, so one merge finds
 * the keys to remove and to add; nothing if none changed. */
static int ix_move(mdl_coll *c, struct ixdef *ix, int64_t rid,
                   const bson_t *old, const bson_t *doc, mdl_err *err)
{
	struct keyset *o = &c->ks_old, *n = &c->ks_new;
	int rc = ix_keys(ix, old, o, err);
	if (rc || (rc = ix_keys(ix, doc, n, err)))
		return rc;
	size_t i = 0, j = 0;
	while (!rc && (i < o->nk || j < n->nk)) {
		int r = i == o->nk ? 1 : j == n->nk ? -1 : kcmp(o, i, n, j);
		if (r && ix == &c->ix[0])
			return mdl_fail(err, MDL_EIMMUTABLE, "the (immutable) field "
			                "'_id' was found to have been altered");
		if (r < 0)
			rc = del_key(c, ix, o, i++, rid, err);
		else if (r > 0)
			rc = put_key(c, ix, n, j++, doc, rid, err);
		else
			i++, j++;
	}
	return rc;
}

int mdl_update(mdl_coll *c, int64_t rid, const bson_t *old, const bson_t *doc,
               mdl_err *err)
{
	bson_t cur, *mine = NULL;
	int found, rc = check_doc(doc, err);
	if (rc)
		return rc;
	if (!old) {
		if ((rc = read_doc(c->rs, rid, &cur, &found, err)) != 0)
			return rc;
		if (!found)
			return mdl_fail(err, MDL_EINTERNAL, "no RecordId %lld",
			                (long long)rid);
		old = mine = bson_copy(&cur); /* the cursor moves below */
	}
	for (int i = 0; i < c->nix && !rc; i++)
		rc = ix_move(c, &c->ix[i], rid, old, doc, err);
	if (mine)
		bson_destroy(mine);
	if (rc)
		return rc;
	WT_ITEM v = {.data = bson_get_data(doc), .size = doc->len};
	c->rs->set_key(c->rs, rid);
	c->rs->set_value(c->rs, &v);
	rc = c->rs->update(c->rs);
	return rc ? mdl_wt(err, rc, c->ns) : 0;
}

int mdl_remove(mdl_coll *c, int64_t rid, mdl_err *err)
{
	bson_t doc;
	int found, rc = read_doc(c->rs, rid, &doc, &found, err);
	if (rc)
		return rc;
	if (!found)
		return mdl_fail(err, MDL_EINTERNAL, "no RecordId %lld",
		                (long long)rid);
	for (int i = 0; i < c->nix && !rc; i++) {
		struct keyset *ks = &c->ks_old;
		rc = ix_keys(&c->ix[i], &doc, ks, err);
		for (size_t j = 0; !rc && j < ks->nk; j++)
			rc = del_key(c, &c->ix[i], ks, j, rid, err);
	}
	if (rc)
		return rc;
	c->rs->set_key(c->rs, rid);
	rc = c->rs->remove(c->rs);
	return rc ? mdl_wt(err, rc, c->ns) : 0;
}

int mdl_find_id(mdl_coll *c, const bson_value_t *id, int64_t *rid,
                bson_t *doc, mdl_err *err)
{
	size_t n;
	int found, rc = mdl_key_encode(id, 0, c->ka, MDL_KEY_MAX, &n, err);
	if (rc)
		return rc;
	WT_CURSOR *x = c->ix[0].c;
	WT_ITEM k = {.data = c->ka, .size = n};
	x->set_key(x, &k);
	*rid = 0;
	if ((rc = x->search(x)) == WT_NOTFOUND) {
		if (doc)
			bson_init(doc);
		return 0;
	}
	if (rc || (rc = x->get_value(x, rid)))
		return mdl_wt(err, rc, "_id_");
	if (!doc)
		return 0;
	if ((rc = read_doc(c->rs, *rid, doc, &found, err)) == 0 && !found)
		rc = mdl_fail(err, MDL_EINTERNAL, "_id_ names RecordId %lld, which "
		              "does not exist", (long long)*rid);
	return rc;
}
