/*
 * update_apply.c: an operator tree applied to a document. Existing fields
 * keep their place; fields the tree creates follow, in the tree's order.
 * A path through a scalar cannot be created (PathNotViable); operators
 * that only remove ($unset, $pull) are no-ops where the path is missing.
 */
#include "update_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PAD 100000 /* array positions $set may create past the end */

struct ctx {
	const bson_t *doc; /* for messages */
	struct mdq_error *err;
};

static int apply_doc(const struct unode *n, const bson_t *src, bson_t *out,
                     struct ctx *c);

/* $inc: int32 + int32 overflows into int64, int64 into double. */
static int inc(const struct unode *k, const bson_value_t *v, const char *key,
               bson_t *out, struct ctx *c)
{
	const bson_value_t *a = &k->arg;
	int64_t x, y, s;
	if (!mdq_is_number(v))
		return mdq_fail(c->err, MDQ_TYPE_MISMATCH, "Cannot apply $inc to "
		                "a value of non-numeric type. The field '%.100s' "
		                "has non-numeric type %s", key,
		                mdq_type_name(v->value_type));
	if (v->value_type == BSON_TYPE_DECIMAL128)
		return mdq_fail(c->err, MDQ_BAD_VALUE,
		                "$inc on decimal128 is not supported");
	if (v->value_type == BSON_TYPE_DOUBLE ||
	    a->value_type == BSON_TYPE_DOUBLE) {
		bson_append_double(out, key, -1,
		                   mdq_to_double(v) + mdq_to_double(a));
		return 0;
	}
	mdq_to_int64(v, &x);
	mdq_to_int64(a, &y);
	if (__builtin_add_overflow(x, y, &s))
		bson_append_double(out, key, -1, (double)x + (double)y);
	else if (v->value_type == BSON_TYPE_INT32 &&
	         a->value_type == BSON_TYPE_INT32 && s >= INT32_MIN &&
	         s <= INT32_MAX)
		bson_append_int32(out, key, -1, (int32_t)s);
	else
		bson_append_int64(out, key, -1, s);
	return 0;
}

static void push_values(const struct unode *k, bson_t *arr, uint32_t i)
{
	char buf[16];
	const char *key;
	bson_t each;
	bson_iter_t it;
	if (!k->each) {
		bson_uint32_to_string(i, &key, buf, sizeof(buf));
		bson_append_value(arr, key, -1, &k->arg);
		return;
	}
	if (!mdq_value_doc(&k->arg, &each) || !bson_iter_init(&it, &each))
		return;
	while (bson_iter_next(&it)) {
		bson_uint32_to_string(i++, &key, buf, sizeof(buf));
		bson_append_value(arr, key, -1, bson_iter_value(&it));
	}
}

static bool pulled(const struct unode *k, const bson_value_t *e)
{
	bson_t d;
	if (!k->cond)
		return mdq_compare(e, &k->arg) == 0;
	if (k->cond_wrapped) {
		bson_t w = BSON_INITIALIZER;
		bson_append_value(&w, "v", 1, e);
		bool m = mdq_filter_match(k->cond, &w);
		bson_destroy(&w);
		return m;
	}
	return e->value_type == BSON_TYPE_DOCUMENT && mdq_value_doc(e, &d) &&
	       mdq_filter_match(k->cond, &d);
}

/* $push and $pull on an existing value, which must be an array. */
static int array_op(const struct unode *k, const bson_value_t *v,
                    const char *key, bson_t *out, struct ctx *c)
{
	bson_t arr, res;
	bson_iter_t it;
	uint32_t i = 0;
	char buf[16];
	const char *ik;
	if (v->value_type != BSON_TYPE_ARRAY || !mdq_value_doc(v, &arr))
		return mdq_fail(c->err, MDQ_BAD_VALUE, "The field '%.100s' must "
		                "be an array but is of type %s", key,
		                mdq_type_name(v->value_type));
	bson_append_array_begin(out, key, -1, &res);
	bson_iter_init(&it, &arr);
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);
		if (k->op == U_PULL && pulled(k, e))
			continue;
		bson_uint32_to_string(i++, &ik, buf, sizeof(buf));
		bson_append_value(&res, ik, -1, e);
	}
	if (k->op == U_PUSH)
		push_values(k, &res, i);
	bson_append_array_end(out, &res);
	return 0;
}

/* A leaf operator where the field is missing. */
static int create(const struct unode *k, const char *key, bson_t *out,
                  struct ctx *c)
{
	bson_t sub;
	if (k->op == U_NONE) {
		if (!k->creates)
			return 0;
		bson_append_document_begin(out, key, -1, &sub);
		int rc = apply_doc(k, NULL, &sub, c);
		bson_append_document_end(out, &sub);
		return rc;
	}
	switch (k->op) {
	case U_SET:
	case U_INC:
		bson_append_value(out, key, -1, &k->arg);
		return 0;
	case U_PUSH:
		bson_append_array_begin(out, key, -1, &sub);
		push_values(k, &sub, 0);
		bson_append_array_end(out, &sub);
		return 0;
	default:
		return 0;
	}
}

static int apply_array(const struct unode *n, const bson_t *arr, bson_t *out,
                       struct ctx *c);

/* The tree node k on an existing value v named key. */
static int modify(const struct unode *k, const bson_value_t *v,
                  const char *key, bool in_array, bson_t *out, struct ctx *c)
{
	bson_t sub, res;
	int rc;
	switch (k->op) {
	case U_SET: bson_append_value(out, key, -1, &k->arg); return 0;
	case U_UNSET:
		if (in_array) /* MongoDB keeps the positions: null */
			bson_append_null(out, key, -1);
		return 0;
	case U_INC: return inc(k, v, key, out, c);
	case U_PUSH:
	case U_PULL: return array_op(k, v, key, out, c);
	default: break;
	}
	if (!mdq_value_doc(v, &sub)) {
		if (k->creates)
			return mdq_fail(c->err, MDQ_PATH_NOT_VIABLE, "Cannot create "
			                "field '%.*s' in element {%.100s: %s}",
			                (int)k->kids[0].len, k->kids[0].name, key,
			                mdq_type_name(v->value_type));
		bson_append_value(out, key, -1, v);
		return 0;
	}
	if (v->value_type == BSON_TYPE_DOCUMENT) {
		bson_append_document_begin(out, key, -1, &res);
		rc = apply_doc(k, &sub, &res, c);
		bson_append_document_end(out, &res);
	} else {
		bson_append_array_begin(out, key, -1, &res);
		rc = apply_array(k, &sub, &res, c);
		bson_append_array_end(out, &res);
	}
	return rc;
}

static const struct unode *find(const struct unode *n, const char *name,
                                size_t len)
{
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i].len == len && !memcmp(n->kids[i].name, name, len))
			return &n->kids[i];
	return NULL;
}

static int apply_doc(const struct unode *n, const bson_t *src, bson_t *out,
                     struct ctx *c)
{
	bool *seen = calloc(n->nkids ? n->nkids : 1, sizeof(*seen));
	bson_iter_t it;
	int rc = 0;
	char key[32];
	if (!seen)
		return mdq_fail(c->err, MDQ_BAD_VALUE, "out of memory");
	if (src && bson_iter_init(&it, src)) {
		while (!rc && bson_iter_next(&it)) {
			const char *name = bson_iter_key(&it);
			const struct unode *k = find(n, name, bson_iter_key_len(&it));
			if (!k) {
				bson_append_value(out, name, -1, bson_iter_value(&it));
				continue;
			}
			seen[k - n->kids] = true;
			rc = modify(k, bson_iter_value(&it), name, false, out, c);
		}
	}
	for (size_t i = 0; !rc && i < n->nkids; i++) {
		const struct unode *k = &n->kids[i];
		if (seen[i])
			continue;
		char *name = k->len < sizeof(key) ? key : malloc(k->len + 1);
		if (!name) {
			rc = mdq_fail(c->err, MDQ_BAD_VALUE, "out of memory");
			break;
		}
		memcpy(name, k->name, k->len);
		name[k->len] = '\0';
		rc = create(k, name, out, c);
		if (name != key)
			free(name);
	}
	free(seen);
	return rc;
}

/* Past the end: nulls up to each created position (numeric kids only). */
static int extend(const struct unode *n, uint32_t len, bson_t *out,
                  struct ctx *c)
{
	char buf[16];
	const char *key;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct unode *k = &n->kids[i];
		uint32_t idx;
		mdq_name_is_index(k->name, k->len, &idx);
		if (idx < len || !k->creates)
			continue;
		if (idx > MAX_PAD)
			return mdq_fail(c->err, MDQ_BAD_VALUE, "array position %u is "
			                "past the limit of %u", idx, MAX_PAD);
		for (; len < idx; len++) {
			bson_uint32_to_string(len, &key, buf, sizeof(buf));
			bson_append_null(out, key, -1);
		}
		bson_uint32_to_string(len++, &key, buf, sizeof(buf));
		int rc = create(k, key, out, c);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_array(const struct unode *n, const bson_t *arr, bson_t *out,
                       struct ctx *c)
{
	bson_iter_t it;
	uint32_t len = 0;
	for (size_t i = 0; i < n->nkids; i++)
		if (!mdq_name_is_index(n->kids[i].name, n->kids[i].len, NULL)) {
			if (!n->kids[i].creates)
				continue;
			return mdq_fail(c->err, MDQ_PATH_NOT_VIABLE, "Cannot create "
			                "field '%.*s' in an array",
			                (int)n->kids[i].len, n->kids[i].name);
		}
	bson_iter_init(&it, arr);
	while (bson_iter_next(&it)) {
		const char *name = bson_iter_key(&it);
		const struct unode *k = find(n, name, bson_iter_key_len(&it));
		len++;
		if (!k) {
			bson_append_value(out, name, -1, bson_iter_value(&it));
			continue;
		}
		int rc = modify(k, bson_iter_value(&it), name, true, out, c);
		if (rc)
			return rc;
	}
	return extend(n, len, out, c);
}

int mdq_apply_tree(const struct unode *root, const bson_t *doc, bson_t *out,
                   struct mdq_error *err)
{
	struct ctx c = { doc, err };
	return apply_doc(root, doc, out, &c);
}
