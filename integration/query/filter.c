/*
 * filter.c: MongoDB's query filters, parsed once into a node tree and
 * matched against many documents. A path is matched if any of the values
 * it reaches (mdq_path_visit) satisfies the operator; $ne, $nin and $not
 * are the negation of the whole path's match, so they also match a
 * document where the path is missing.
 */
#include "filter_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mdq_node_free(struct mdq_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		mdq_node_free(n->kids[i]);
	mdq_filter_free(n->sub);
	free(n->kids);
	free(n);
}

struct mdq_node *mdq_node_new(enum mdq_op op, const char *path)
{
	struct mdq_node *n = calloc(1, sizeof(*n));
	if (n) {
		n->op = op;
		n->path = path;
	}
	return n;
}

int mdq_node_add(struct mdq_node *n, struct mdq_node *kid,
                 struct mdq_error *err)
{
	struct mdq_node **k;
	if (!kid)
		return -1;
	k = realloc(n->kids, (n->nkids + 1) * sizeof(*k));
	if (!k) {
		mdq_node_free(kid);
		return mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
	}
	n->kids = k;
	n->kids[n->nkids++] = kid;
	return 0;
}

static struct mdq_node *parse_doc(bson_iter_t *it, int depth,
                                  struct mdq_error *err);

static struct mdq_node *parse_ops(const char *path, bson_iter_t *it,
                                  int depth, struct mdq_error *err);

static bool truthy(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_BOOL: return v->value.v_bool;
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED: return false;
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return mdq_to_double(v) != 0;
	default: return true;
	}
}

/* A document whose first field is an operator: {$gt: 1, ...}. */
static bool is_op_doc(const bson_value_t *v)
{
	bson_t d;
	bson_iter_t it;
	return v->value_type == BSON_TYPE_DOCUMENT && mdq_value_doc(v, &d) &&
	       bson_iter_init(&it, &d) && bson_iter_next(&it) &&
	       bson_iter_key(&it)[0] == '$';
}

static struct mdq_node *negate(struct mdq_node *kid, struct mdq_error *err)
{
	struct mdq_node *n = mdq_node_new(OP_NOT, NULL);
	if (!kid || !n || mdq_node_add(n, kid, err)) {
		if (!n)
			mdq_node_free(kid);
		mdq_node_free(n);
		return NULL;
	}
	return n;
}

static struct mdq_node *parse_not(const char *path, bson_iter_t *it,
                                  int depth, struct mdq_error *err)
{
	const bson_value_t *v = bson_iter_value(it);
	bson_iter_t sub;
	if (v->value_type == BSON_TYPE_REGEX) {
		mdq_fail(err, MDQ_BAD_VALUE, "$not with a regex is not supported");
		return NULL;
	}
	if (v->value_type != BSON_TYPE_DOCUMENT) {
		mdq_fail(err, MDQ_BAD_VALUE, "$not needs a regex or a document");
		return NULL;
	}
	if (!bson_iter_recurse(it, &sub) || !bson_iter_next(&sub)) {
		mdq_fail(err, MDQ_BAD_VALUE, "$not cannot be empty");
		return NULL;
	}
	bson_iter_recurse(it, &sub);
	return negate(parse_ops(path, &sub, depth + 1, err), err);
}

/* One operator of {path: {$op: v}}. */
static struct mdq_node *parse_op(const char *path, bson_iter_t *it, int depth,
                                 struct mdq_error *err)
{
	static const struct { const char *name; enum mdq_op op; } cmp[] = {
		{ "$eq", OP_EQ }, { "$gt", OP_GT }, { "$gte", OP_GTE },
		{ "$lt", OP_LT }, { "$lte", OP_LTE }, { "$ne", OP_EQ },
		{ "$in", OP_IN }, { "$nin", OP_IN }, { "$exists", OP_EXISTS },
	};
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	if (!strcmp(k, "$not"))
		return parse_not(path, it, depth, err);
	if (mdq_is_array_op(k))
		return mdq_parse_array_op(path, it, err);
	for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
		if (strcmp(k, cmp[i].name))
			continue;
		if (cmp[i].op == OP_IN && v->value_type != BSON_TYPE_ARRAY) {
			mdq_fail(err, MDQ_BAD_VALUE, "%s needs an array", k);
			return NULL;
		}
		if (cmp[i].op != OP_EXISTS && cmp[i].op != OP_IN &&
		    v->value_type == BSON_TYPE_REGEX && strcmp(k, "$eq")) {
			mdq_fail(err, MDQ_BAD_VALUE, "Can't have regex as arg to %s", k);
			return NULL;
		}
		struct mdq_node *n = mdq_node_new(cmp[i].op, path);
		if (!n) {
			mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
			return NULL;
		}
		n->val = *v;
		n->want = truthy(v);
		bool neg = !strcmp(k, "$ne") || !strcmp(k, "$nin");
		return neg ? negate(n, err) : n;
	}
	mdq_fail(err, MDQ_BAD_VALUE, "unknown operator: %.200s", k);
	return NULL;
}

static struct mdq_node *parse_ops(const char *path, bson_iter_t *it,
                                  int depth, struct mdq_error *err)
{
	struct mdq_node *and = mdq_node_new(OP_AND, NULL);
	if (!and) {
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	if (depth > MDQ_MAX_DEPTH) {
		mdq_node_free(and);
		mdq_fail(err, MDQ_BAD_VALUE, "exceeded depth limit of %d",
		         MDQ_MAX_DEPTH);
		return NULL;
	}
	while (bson_iter_next(it)) {
		if (mdq_node_add(and, parse_op(path, it, depth, err), err)) {
			mdq_node_free(and);
			return NULL;
		}
	}
	return and;
}

/* $and, $or, $nor: a non-empty array of filter documents. */
static struct mdq_node *parse_list(enum mdq_op op, bson_iter_t *it, int depth,
                                   struct mdq_error *err)
{
	const char *k = bson_iter_key(it);
	bson_iter_t arr, sub;
	struct mdq_node *n;
	if (!BSON_ITER_HOLDS_ARRAY(it) || !bson_iter_recurse(it, &arr)) {
		mdq_fail(err, MDQ_BAD_VALUE, "%s must be an array", k);
		return NULL;
	}
	if (!(n = mdq_node_new(op, NULL))) {
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	while (bson_iter_next(&arr)) {
		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) ||
		    !bson_iter_recurse(&arr, &sub)) {
			mdq_fail(err, MDQ_BAD_VALUE,
			         "%s argument's entries must be objects", k);
			mdq_node_free(n);
			return NULL;
		}
		if (mdq_node_add(n, parse_doc(&sub, depth + 1, err), err)) {
			mdq_node_free(n);
			return NULL;
		}
	}
	if (n->nkids == 0) {
		mdq_fail(err, MDQ_BAD_VALUE,
		         "%s argument must be a non-empty array", k);
		mdq_node_free(n);
		return NULL;
	}
	return n;
}

static struct mdq_node *parse_field(bson_iter_t *it, int depth,
                                    struct mdq_error *err)
{
	static const struct { const char *name; enum mdq_op op; } lists[] = {
		{ "$and", OP_AND }, { "$or", OP_OR }, { "$nor", OP_NOR },
	};
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	if (k[0] == '$') {
		for (size_t i = 0; i < 3; i++)
			if (!strcmp(k, lists[i].name))
				return parse_list(lists[i].op, it, depth, err);
		if (!strcmp(k, "$comment"))
			return mdq_node_new(OP_AND, NULL);
		mdq_fail(err, MDQ_BAD_VALUE, "unknown top level operator: %.200s",
		         k);
		return NULL;
	}
	if (mdq_check_path(k, err))
		return NULL;
	if (is_op_doc(v)) {
		bson_iter_t sub;
		bson_iter_recurse(it, &sub);
		return parse_ops(k, &sub, depth + 1, err);
	}
	struct mdq_node *n = mdq_node_new(OP_EQ, k);
	if (n)
		n->val = *v;
	else
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
	return n;
}

static struct mdq_node *parse_doc(bson_iter_t *it, int depth,
                                  struct mdq_error *err)
{
	struct mdq_node *and = mdq_node_new(OP_AND, NULL);
	if (!and) {
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	if (depth > MDQ_MAX_DEPTH) {
		mdq_node_free(and);
		mdq_fail(err, MDQ_BAD_VALUE, "exceeded depth limit of %d",
		         MDQ_MAX_DEPTH);
		return NULL;
	}
	while (bson_iter_next(it)) {
		if (mdq_node_add(and, parse_field(it, depth, err), err)) {
			mdq_node_free(and);
			return NULL;
		}
	}
	return and;
}

mdq_filter_t *mdq_filter_parse(const bson_t *filter, struct mdq_error *err)
{
	bson_iter_t it;
	if (mdq_check_bson(filter, "filter", err))
		return NULL;
	mdq_filter_t *f = calloc(1, sizeof(*f));
	if (!f || !(f->copy = bson_copy(filter))) {
		free(f);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	if (!bson_iter_init(&it, f->copy) ||
	    !(f->root = parse_doc(&it, 0, err))) {
		mdq_filter_free(f);
		return NULL;
	}
	return f;
}

void mdq_filter_free(mdq_filter_t *f)
{
	if (!f)
		return;
	mdq_node_free(f->root);
	bson_destroy(f->copy);
	free(f);
}

/* ---- matching ---- */

static bool is_nan(const bson_value_t *v)
{
	return mdq_is_number(v) && isnan(mdq_to_double(v));
}

/* One value (NULL: missing) against a comparison with operand rhs. */
static bool cmp_one(enum mdq_op op, const bson_value_t *v,
                    const bson_value_t *rhs)
{
	static const bson_value_t null = { .value_type = BSON_TYPE_NULL };
	int rr = mdq_type_rank(rhs->value_type);
	if (!v)
		v = &null; /* missing is null for $eq/$gte/$lte: null */
	bool cross = rr == 1 || rr == 16; /* MinKey, MaxKey bound all types */
	if (!cross && mdq_type_rank(v->value_type) != rr)
		return false;
	if (is_nan(v) || is_nan(rhs)) {
		bool both = is_nan(v) && is_nan(rhs);
		return both && op != OP_GT && op != OP_LT;
	}
	int c = mdq_compare(v, rhs);
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_GT: return c > 0;
	case OP_GTE: return c >= 0;
	case OP_LT: return c < 0;
	case OP_LTE: return c <= 0;
	default: return false;
	}
}

static bool in_one(const bson_value_t *v, const bson_value_t *arr)
{
	bson_t a;
	bson_iter_t it;
	if (!mdq_value_doc(arr, &a) || !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it))
		if (cmp_one(OP_EQ, v, bson_iter_value(&it)))
			return true;
	return false;
}

static bool visit_leaf(const bson_value_t *v, void *ctx)
{
	const struct mdq_node *n = ctx;
	switch (n->op) {
	case OP_IN: return in_one(v, &n->val);
	case OP_EXISTS: return v != NULL;
	case OP_SIZE: case OP_TYPE: case OP_ELEMMATCH:
		return mdq_match_array_op(n, v);
	default: return cmp_one(n->op, v, &n->val);
	}
}

static bool match_node(const struct mdq_node *n, const bson_t *doc)
{
	size_t i;
	switch (n->op) {
	case OP_AND:
		for (i = 0; i < n->nkids; i++)
			if (!match_node(n->kids[i], doc))
				return false;
		return true;
	case OP_OR:
	case OP_NOR:
		for (i = 0; i < n->nkids; i++)
			if (match_node(n->kids[i], doc))
				return n->op == OP_OR;
		return n->op == OP_NOR;
	case OP_NOT:
		return !match_node(n->kids[0], doc);
	case OP_EXISTS:
		return mdq_path_visit(doc, n->path, MDQ_VISIT_BOTH, visit_leaf,
		                      (void *)n) == n->want;
	case OP_SIZE:
	case OP_ELEMMATCH: /* the arrays themselves, not their elements */
		return mdq_path_visit(doc, n->path, MDQ_VISIT_WHOLE, visit_leaf,
		                      (void *)n);
	default:
		return mdq_path_visit(doc, n->path, MDQ_VISIT_BOTH, visit_leaf,
		                      (void *)n);
	}
}

bool mdq_filter_match(const mdq_filter_t *f, const bson_t *doc)
{
	return match_node(f->root, doc);
}
