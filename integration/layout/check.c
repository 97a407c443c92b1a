/*
 * check.c: what a collection holds (stats) and whether its indexes say
 * the same as its records (MongoDB's validate): every record's keys in
 * every index, naming it, and no index holding more entries than the
 * records have keys, so entries and keys match one to one.
 */
#include "layout.h"

#include <string.h>

int mdl_coll_stats(mdl_coll *c, int64_t *count, int64_t *size, mdl_err *err)
{
	WT_CURSOR *k;
	WT_ITEM v;
	int64_t n = 0, bytes = 0;
	int rc = c->s->open_cursor(c->s, c->rs->uri, NULL, NULL, &k);
	if (rc)
		return mdl_wt(err, rc, "stats");
	while ((rc = k->next(k)) == 0 && (rc = k->get_value(k, &v)) == 0) {
		n++;
		bytes += (int64_t)v.size;
	}
	k->close(k);
	if (rc != WT_NOTFOUND)
		return mdl_wt(err, rc, "stats");
	*count = n;
	*size = bytes;
	return 0;
}

/* doc's entries in ix are there and name rid; *keys counts them. */
static int has_entries(mdl_coll *c, struct ixdef *ix, const bson_t *doc,
                       int64_t rid, int64_t *keys, mdl_err *err)
{
	struct keyset *ks = &c->ks_old;
	int rc = ix_keys(ix, doc, ks, err);
	for (size_t i = 0; !rc && i < ks->nk; i++) {
		int64_t got;
		size_t n = ks->k[i].n;
		memcpy(c->ka, ks->buf + ks->k[i].off, n);
		if (!ix->unique)
			n += ix_rid_suffix(c->ka + n, rid);
		WT_ITEM k = {.data = c->ka, .size = n};
		ix->c->set_key(ix->c, &k);
		if ((rc = ix->c->search(ix->c)) == 0 &&
		    (rc = ix->c->get_value(ix->c, &got)) == 0 && got != rid)
			return mdl_fail(err, MDL_EINTERNAL, "%s: index %s: the key of "
			                "RecordId %lld names %lld", c->ns, ix->name,
			                (long long)rid, (long long)got);
		if (rc == WT_NOTFOUND)
			return mdl_fail(err, MDL_EINTERNAL, "%s: index %s lacks "
			                "RecordId %lld", c->ns, ix->name, (long long)rid);
		ix->c->reset(ix->c);
		if (rc)
			return mdl_wt(err, rc, ix->name);
		(*keys)++;
	}
	return rc;
}

static int count_entries(struct ixdef *ix, int64_t *n, mdl_err *err)
{
	WT_CURSOR *k;
	int rc = ix->c->session->open_cursor(ix->c->session, ix->c->uri, NULL, NULL,
	                                     &k);
	if (rc)
		return mdl_wt(err, rc, ix->name);
	*n = 0;
	while ((rc = k->next(k)) == 0)
		(*n)++;
	k->close(k);
	return rc == WT_NOTFOUND ? 0 : mdl_wt(err, rc, ix->name);
}

int mdl_validate(mdl_coll *c, mdl_err *err)
{
	mdl_cursor *k;
	int64_t rid, keys[MDL_INDEXES_MAX] = {0}, n = 0;
	bson_t doc;
	int rc = mdl_scan_open(c, &k, err);
	if (rc)
		return rc;
	while (!rc && (rc = mdl_cursor_next(k, &rid, &doc, err)) == 0 && rid)
		for (int i = 0; i < c->nix && !rc; i++)
			rc = has_entries(c, &c->ix[i], &doc, rid, &keys[i], err);
	mdl_cursor_close(k);
	for (int i = 0; i < c->nix && !rc; i++)
		if ((rc = count_entries(&c->ix[i], &n, err)) == 0 && n != keys[i])
			rc = mdl_fail(err, MDL_EINTERNAL, "%s: index %s has %lld "
			              "entries for %lld keys", c->ns, c->ix[i].name,
			              (long long)n, (long long)keys[i]);
	return rc;
}
