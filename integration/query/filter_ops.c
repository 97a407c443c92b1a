/*
 * filter_ops.c: the array and type operators of filters: $size and
 * $elemMatch look at the arrays a path reaches (not at their elements),
 * $type at every value it reaches, $all is an $eq per value.
 */
#include "filter_int.h"

#include <string.h>

bool mdq_is_array_op(const char *name)
{
	return !strcmp(name, "$size") || !strcmp(name, "$type") ||
	       !strcmp(name, "$elemMatch") || !strcmp(name, "$all");
}

static struct mdq_node *fail_free(struct mdq_node *n, struct mdq_error *err,
                                  const char *msg, const char *arg)
{
	mdq_node_free(n);
	mdq_fail(err, MDQ_BAD_VALUE, msg, arg);
	return NULL;
}

static void type_add(struct mdq_node *n, unsigned t)
{
	n->tset[(t & 0xff) / 64] |= 1ull << (t % 64);
}

/* One $type argument: a code (1 double .. 19 decimal, -1, 127) or alias. */
static int type_arg(struct mdq_node *n, const bson_value_t *v)
{
	static const struct { const char *alias; int code; } names[] = {
		{ "double", 1 }, { "string", 2 }, { "object", 3 }, { "array", 4 },
		{ "binData", 5 }, { "undefined", 6 }, { "objectId", 7 },
		{ "bool", 8 }, { "date", 9 }, { "null", 10 }, { "regex", 11 },
		{ "dbPointer", 12 }, { "javascript", 13 }, { "symbol", 14 },
		{ "javascriptWithScope", 15 }, { "int", 16 }, { "timestamp", 17 },
		{ "long", 18 }, { "decimal", 19 }, { "minKey", -1 },
		{ "maxKey", 127 },
	};
	int64_t code;
	if (v->value_type == BSON_TYPE_UTF8) {
		if (!strcmp(v->value.v_utf8.str, "number")) {
			type_add(n, BSON_TYPE_INT32);
			type_add(n, BSON_TYPE_INT64);
			type_add(n, BSON_TYPE_DOUBLE);
			type_add(n, BSON_TYPE_DECIMAL128);
			return 0;
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(v->value.v_utf8.str, names[i].alias)) {
				type_add(n, (unsigned)(names[i].code & 0xff));
				return 0;
			}
		return -1;
	}
	if (!mdq_to_int64(v, &code) ||
	    !((code >= 1 && code <= 19) || code == -1 || code == 127))
		return -1;
	type_add(n, (unsigned)(code & 0xff));
	return 0;
}

static struct mdq_node *parse_type(const char *path, const bson_value_t *v,
                                   struct mdq_error *err)
{
	struct mdq_node *n = mdq_node_new(OP_TYPE, path);
	bson_t arr;
	bson_iter_t it;
	if (!n)
		return fail_free(n, err, "%s", "out of memory");
	if (v->value_type != BSON_TYPE_ARRAY) {
		if (type_arg(n, v))
			return fail_free(n, err, "%s", "$type needs a type code or "
			                 "name (or an array of them)");
		return n;
	}
	if (!mdq_value_doc(v, &arr) || !bson_iter_init(&it, &arr))
		return fail_free(n, err, "%s", "$type: a bad array");
	while (bson_iter_next(&it))
		if (type_arg(n, bson_iter_value(&it)))
			return fail_free(n, err, "%s", "$type needs a type code or "
			                 "name (or an array of them)");
	return n;
}

/* {$elemMatch: {$gt: 1}} on the element as a value; {b: 1} on element
 * documents. */
static struct mdq_node *parse_elem(const char *path, bson_iter_t *it,
                                   struct mdq_error *err)
{
	struct mdq_node *n = mdq_node_new(OP_ELEMMATCH, path);
	bson_t d, w = BSON_INITIALIZER;
	bson_iter_t sub;
	const bson_value_t *v = bson_iter_value(it);
	if (!n || v->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(v, &d))
		return fail_free(n, err, "%s", "$elemMatch needs an Object");
	const char *k = bson_iter_init(&sub, &d) && bson_iter_next(&sub) ?
	                bson_iter_key(&sub) : "";
	n->wrapped = k[0] == '$' && strcmp(k, "$and") && strcmp(k, "$or") &&
	             strcmp(k, "$nor");
	if (n->wrapped)
		bson_append_document(&w, "v", 1, &d);
	n->sub = mdq_filter_parse(n->wrapped ? &w : &d, err);
	bson_destroy(&w);
	if (!n->sub) {
		mdq_node_free(n);
		return NULL;
	}
	return n;
}

static struct mdq_node *parse_all(const char *path, const bson_value_t *v,
                                  struct mdq_error *err)
{
	bson_t arr;
	bson_iter_t it;
	if (v->value_type != BSON_TYPE_ARRAY || !mdq_value_doc(v, &arr))
		return fail_free(NULL, err, "%s", "$all needs an array");
	/* {$all: []} matches nothing: an $or of nothing */
	struct mdq_node *n = mdq_node_new(bson_empty(&arr) ? OP_OR : OP_AND, NULL);
	if (!n)
		return fail_free(n, err, "%s", "out of memory");
	bson_iter_init(&it, &arr);
	while (bson_iter_next(&it)) {
		struct mdq_node *eq = mdq_node_new(OP_EQ, path);
		if (eq)
			eq->val = *bson_iter_value(&it);
		if (mdq_node_add(n, eq, err)) {
			mdq_node_free(n);
			return NULL;
		}
	}
	return n;
}

struct mdq_node *mdq_parse_array_op(const char *path, bson_iter_t *it,
                                    struct mdq_error *err)
{
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	if (!strcmp(k, "$type"))
		return parse_type(path, v, err);
	if (!strcmp(k, "$elemMatch"))
		return parse_elem(path, it, err);
	if (!strcmp(k, "$all"))
		return parse_all(path, v, err);
	struct mdq_node *n = mdq_node_new(OP_SIZE, path);
	int64_t size;
	if (!n || !mdq_to_int64(v, &size) || size < 0)
		return fail_free(n, err, "%s", "$size needs a non-negative whole "
		                 "number");
	n->val.value_type = BSON_TYPE_INT64;
	n->val.value.v_int64 = size;
	return n;
}

static bool elem_match(const struct mdq_node *n, const bson_value_t *v)
{
	bson_t arr, d;
	bson_iter_t it;
	if (v->value_type != BSON_TYPE_ARRAY || !mdq_value_doc(v, &arr) ||
	    !bson_iter_init(&it, &arr))
		return false;
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);
		if (n->wrapped) {
			bson_t w = BSON_INITIALIZER;
			bson_append_value(&w, "v", 1, e);
			bool m = mdq_filter_match(n->sub, &w);
			bson_destroy(&w);
			if (m)
				return true;
		} else if (e->value_type == BSON_TYPE_DOCUMENT &&
		           mdq_value_doc(e, &d) && mdq_filter_match(n->sub, &d)) {
			return true;
		}
	}
	return false;
}

bool mdq_match_array_op(const struct mdq_node *n, const bson_value_t *v)
{
	if (!v)
		return false;
	if (n->op == OP_TYPE) {
		unsigned t = (unsigned)v->value_type & 0xff;
		return (n->tset[t / 64] >> (t % 64)) & 1;
	}
	if (n->op == OP_SIZE) {
		bson_t arr;
		return v->value_type == BSON_TYPE_ARRAY && mdq_value_doc(v, &arr) &&
		       (int64_t)bson_count_keys(&arr) == n->val.value.v_int64;
	}
	return elem_match(n, v);
}
