/*
 * upsert.c: mdq_update_apply's checks around the tree (the immutable _id,
 * the replacement's shape, nModified) and the document an upsert inserts.
 */
#include "update_int.h"

#include <string.h>

static bool get_id(const bson_t *doc, bson_value_t *id)
{
	bson_iter_t it;
	if (!bson_iter_init_find(&it, doc, "_id"))
		return false;
	*id = *bson_iter_value(&it);
	return true;
}

/* An _id that was there must still be, with the same type and value. */
static int check_id(const bson_t *before, const bson_t *after,
                    struct mdq_error *err)
{
	bson_value_t a, b;
	if (!get_id(before, &a))
		return 0;
	if (!get_id(after, &b) || a.value_type != b.value_type ||
	    mdq_compare(&a, &b))
		return mdq_fail(err, MDQ_IMMUTABLE_FIELD, "Performing an update "
		                "on the path '_id' would modify the immutable "
		                "field '_id'");
	return 0;
}

/* The replacement r with doc's _id first (r's own must equal it). */
static void replace(const bson_t *doc, const bson_t *r, bson_t *out)
{
	bson_value_t id;
	bson_iter_t it;
	if (get_id(doc, &id) || get_id(r, &id))
		bson_append_value(out, "_id", 3, &id);
	bson_iter_init(&it, r);
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "_id"))
			bson_append_value(out, bson_iter_key(&it), -1,
			                  bson_iter_value(&it));
}

int mdq_update_id_first(const bson_t *in, bson_t *out)
{
	bson_value_t id;
	bson_iter_t it;
	if (get_id(in, &id))
		bson_append_value(out, "_id", 3, &id);
	bson_iter_init(&it, in);
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "_id"))
			bson_append_value(out, bson_iter_key(&it), -1,
			                  bson_iter_value(&it));
	return 0;
}

int mdq_update_apply(const mdq_update_t *u, const bson_t *doc, bson_t *out,
                     bool *changed, struct mdq_error *err)
{
	bson_value_t a, b;
	if (u->replacement) {
		if (get_id(doc, &a) && get_id(u->copy, &b) &&
		    (a.value_type != b.value_type || mdq_compare(&a, &b)))
			return mdq_fail(err, MDQ_IMMUTABLE_FIELD, "After applying "
			                "the update, the (immutable) field '_id' was "
			                "found to have been altered");
		replace(doc, u->copy, out);
	} else if (mdq_apply_tree(&u->root, doc, out, err) ||
	           check_id(doc, out, err)) {
		return -1;
	}
	if (changed)
		*changed = out->len != doc->len ||
		           memcmp(bson_get_data(out), bson_get_data(doc), doc->len);
	return 0;
}

/* Equality fields of a filter (and of its $and), appended to set. */
static void equalities(bson_iter_t *it, bson_t *set, int depth)
{
	while (bson_iter_next(it)) {
		const char *k = bson_iter_key(it);
		const bson_value_t *v = bson_iter_value(it);
		bson_iter_t sub, e;
		if (!strcmp(k, "$and") && depth < MDQ_MAX_DEPTH &&
		    BSON_ITER_HOLDS_ARRAY(it) && bson_iter_recurse(it, &sub)) {
			while (bson_iter_next(&sub))
				if (BSON_ITER_HOLDS_DOCUMENT(&sub) &&
				    bson_iter_recurse(&sub, &e))
					equalities(&e, set, depth + 1);
			continue;
		}
		if (k[0] == '$' || v->value_type == BSON_TYPE_REGEX)
			continue;
		if (v->value_type == BSON_TYPE_DOCUMENT &&
		    bson_iter_recurse(it, &sub) && bson_iter_next(&sub) &&
		    bson_iter_key(&sub)[0] == '$') {
			/* {a: {$eq: 5, ...}}: the $eq only */
			do
				if (!strcmp(bson_iter_key(&sub), "$eq"))
					bson_append_value(set, k, -1,
					                  bson_iter_value(&sub));
			while (bson_iter_next(&sub));
			continue;
		}
		bson_append_value(set, k, -1, v);
	}
}

/* The filter's equalities as a document, built by the update engine so
 * that "a.b": 1 becomes {a: {b: 1}}. */
static int base_doc(const bson_t *filter, bson_t *base, struct mdq_error *err)
{
	bson_t upd = BSON_INITIALIZER, set, empty = BSON_INITIALIZER;
	bson_iter_t it;
	bson_append_document_begin(&upd, "$set", 4, &set);
	if (bson_iter_init(&it, filter))
		equalities(&it, &set, 0);
	bson_append_document_end(&upd, &set);
	mdq_update_t *u = mdq_update_parse(&upd, err);
	int rc = u ? mdq_apply_tree(&u->root, &empty, base, err) : -1;
	if (!u && err && err->code == MDQ_CONFLICTING_UPDATE_OPERATORS)
		rc = mdq_fail(err, 54, "cannot infer query fields to set, a "
		              "path is matched twice");
	mdq_update_free(u);
	bson_destroy(&upd);
	return rc;
}

int mdq_update_upsert(const mdq_update_t *u, const bson_t *filter, bson_t *out,
                      struct mdq_error *err)
{
	bson_t base = BSON_INITIALIZER, res = BSON_INITIALIZER;
	int rc;
	if (mdq_check_bson(filter, "filter", err))
		return -1;
	if ((rc = base_doc(filter, &base, err)) == 0) {
		bson_value_t a, b;
		if (u->replacement && get_id(&base, &a) && get_id(u->copy, &b) &&
		    (a.value_type != b.value_type || mdq_compare(&a, &b))) {
			rc = mdq_fail(err, MDQ_IMMUTABLE_FIELD, "The _id of the "
			              "replacement differs from the filter's");
		} else if (u->replacement) {
			replace(&base, u->copy, &res);
		} else {
			rc = mdq_apply_tree(&u->root, &base, &res, err);
			if (!rc)
				rc = check_id(&base, &res, err);
		}
	}
	if (!rc)
		mdq_update_id_first(&res, out);
	bson_destroy(&base);
	bson_destroy(&res);
	return rc;
}
