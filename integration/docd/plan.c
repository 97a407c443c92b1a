/*
 * plan.c: the query planner, as small as it can be: a filter that bounds
 * the leading field of an index to one interval (mdq_filter_bounds) is
 * read through that index between those bounds, _id_ first, then the
 * other indexes in catalog order; anything else is a collection scan.
 * Either way every document is matched against the whole filter, so the
 * bounds only save reads.
 */
#include "docd.h"

#include <string.h>

/* The first field of an index's key pattern into name (cap bytes). */
static int leading_field(const bson_t *index, char *name, size_t cap)
{
	bson_iter_t it, key;
	if (!bson_iter_init_find(&it, index, "key") ||
	    !BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &key) ||
	    !bson_iter_next(&key) || strlen(bson_iter_key(&key)) >= cap)
		return -1;
	strcpy(name, bson_iter_key(&key));
	return 0;
}

/* Index `name` (from the catalog entry) whose leading field f bounds. */
static int pick(const bson_t *entry, const mdq_filter_t *f, char *name,
                size_t cap, struct mdq_bounds *b)
{
	bson_iter_t it, idx;
	if (!bson_iter_init_find(&it, entry, "indexes") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &idx))
		return 0;
	while (bson_iter_next(&idx)) {
		bson_t one;
		const uint8_t *data;
		uint32_t len;
		bson_iter_t nm;
		char field[256];
		if (!BSON_ITER_HOLDS_DOCUMENT(&idx))
			continue;
		bson_iter_document(&idx, &len, &data);
		if (!bson_init_static(&one, data, len) ||
		    leading_field(&one, field, sizeof(field)) ||
		    !bson_iter_init_find(&nm, &one, "name") ||
		    !BSON_ITER_HOLDS_UTF8(&nm) ||
		    strlen(bson_iter_utf8(&nm, NULL)) >= cap)
			continue;
		/* A single-field index may be multikey: its bounds are not
		 * intersected (only _id_ never holds an array). */
		if (mdq_filter_bounds(f, field, strcmp(field, "_id") != 0, b)) {
			strcpy(name, bson_iter_utf8(&nm, NULL));
			return 1;
		}
	}
	return 0;
}

int plan_open(struct docd_req *r, const char *ns, mdl_coll *c,
              const mdq_filter_t *f, int by_id, struct plan *p, mdl_err *err)
{
	bson_t entry;
	struct mdq_bounds b;
	*p = (struct plan){.coll = c, .filter = f};
	int rc = mdl_catalog_entry(r->d->store, r->session, ns, &entry, err);
	if (rc)
		return rc;
	int use = f && pick(&entry, f, p->index, sizeof(p->index), &b);
	bson_destroy(&entry);
	if (by_id && (!use || strcmp(p->index, "_id_"))) {
		/* In _id order, the whole _id_ index (a bound on another
		 * field's index would give another order). */
		struct mdl_bounds all = {.reverse = by_id < 0};
		strcpy(p->index, "_id_");
		return mdl_index_scan_open(c, p->index, &all, &p->cur, err);
	}
	if (!use)
		return mdl_scan_open(c, &p->cur, err);
	if (b.lo.value_type != BSON_TYPE_MINKEY &&
	    b.hi.value_type != BSON_TYPE_MAXKEY &&
	    mdq_compare(&b.lo, &b.hi) > 0) {
		p->empty = 1; /* no key can be in an empty interval */
		return 0;
	}
	struct mdl_bounds mb = {
		.lo = b.lo.value_type == BSON_TYPE_MINKEY ? NULL : &b.lo,
		.hi = b.hi.value_type == BSON_TYPE_MAXKEY ? NULL : &b.hi,
		.lo_incl = b.lo_incl, .hi_incl = b.hi_incl,
		.reverse = by_id < 0,
	};
	return mdl_index_scan_open(c, p->index, &mb, &p->cur, err);
}

int plan_next(struct plan *p, int64_t *rid, bson_t *doc, mdl_err *err)
{
	while (!p->empty) {
		int rc = mdl_cursor_next(p->cur, rid, doc, err);
		if (rc)
			return -rc;
		if (!*rid)
			return 0;
		if (!p->filter || mdq_filter_match(p->filter, doc))
			return 1;
	}
	return 0;
}

void plan_close(struct plan *p)
{
	if (p->cur)
		mdl_cursor_close(p->cur);
	p->cur = NULL;
}
