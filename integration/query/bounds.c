/*
 * bounds.c: what an index planner may take from a filter: the one
 * interval of keys on a field outside which no document matches. The
 * intervals follow MongoDB's type bracketing ($gt: 5 stops at the last
 * number, $lt: "b" starts at the first string), so an index on a field of
 * mixed types is not scanned past the operand's type.
 */
#include "filter_int.h"

#include <math.h>
#include <string.h>

static char empty_str[1];
static const uint8_t empty_doc[5] = { 5, 0, 0, 0, 0 };

static bson_value_t v_double(double d)
{
	bson_value_t v = { .value_type = BSON_TYPE_DOUBLE };
	v.value.v_double = d;
	return v;
}

static bson_value_t v_type(bson_type_t t)
{
	bson_value_t v = { .value_type = t };
	if (t == BSON_TYPE_UTF8) {
		v.value.v_utf8.str = empty_str;
		v.value.v_utf8.len = 0;
	} else if (t == BSON_TYPE_DOCUMENT) {
		v.value.v_doc.data = (uint8_t *)empty_doc;
		v.value.v_doc.data_len = sizeof(empty_doc);
	}
	return v;
}

static void point(struct mdq_bounds *b, const bson_value_t *v)
{
	b->lo = b->hi = *v;
	b->lo_incl = b->hi_incl = true;
}

/* The far end of the operand's type class: (v, end] or [start, v). */
static void bracket(struct mdq_bounds *b, const bson_value_t *v, bool upward)
{
	int r = mdq_type_rank(v->value_type);
	bson_value_t end;
	bool incl = true;
	if (r == 3)
		end = v_double(upward ? INFINITY : -INFINITY);
	else if (r == 4 && upward) {
		end = v_type(BSON_TYPE_DOCUMENT); /* {} : the first object */
		incl = false;
	} else if (r == 4)
		end = v_type(BSON_TYPE_UTF8);
	else
		end = v_type(upward ? BSON_TYPE_MAXKEY : BSON_TYPE_MINKEY);
	if (upward) {
		b->hi = end;
		b->hi_incl = incl;
	} else {
		b->lo = end;
		b->lo_incl = incl;
	}
}

static bool is_nan(const bson_value_t *v)
{
	return mdq_is_number(v) && isnan(mdq_to_double(v));
}

/* $in: the hull of its values (conservative), none an array. */
static bool in_hull(const bson_value_t *arr, struct mdq_bounds *b)
{
	bson_t a;
	bson_iter_t it;
	bool any = false;
	if (!mdq_value_doc(arr, &a) || !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);
		if (v->value_type == BSON_TYPE_ARRAY ||
		    v->value_type == BSON_TYPE_REGEX)
			return false;
		if (!any)
			point(b, v);
		if (mdq_compare(v, &b->lo) < 0)
			b->lo = *v;
		if (mdq_compare(v, &b->hi) > 0)
			b->hi = *v;
		any = true;
	}
	return any;
}

static bool leaf_bounds(const struct mdq_node *n, struct mdq_bounds *b)
{
	const bson_value_t *v = &n->val;
	int r = mdq_type_rank(v->value_type);
	bool up = n->op == OP_GT || n->op == OP_GTE;
	switch (n->op) {
	case OP_EQ:
		if (v->value_type == BSON_TYPE_ARRAY ||
		    v->value_type == BSON_TYPE_REGEX)
			return false;
		point(b, v);
		return true;
	case OP_IN:
		return in_hull(v, b);
	case OP_GT: case OP_GTE: case OP_LT: case OP_LTE:
		/* an array operand compares with whole arrays, which an index
		 * keys by element: no interval of keys holds them */
		if (r == 1 || r == 16 || r == 6 || is_nan(v))
			return false;
		if (r == 2) { /* only $gte/$lte: null match (null or missing) */
			if (n->op == OP_GT || n->op == OP_LT)
				return false;
			point(b, v);
			return true;
		}
		if (up) {
			b->lo = *v;
			b->lo_incl = n->op == OP_GTE;
		} else {
			b->hi = *v;
			b->hi_incl = n->op == OP_LTE;
		}
		bracket(b, v, up);
		return true;
	default:
		return false;
	}
}

static void intersect(struct mdq_bounds *b, const struct mdq_bounds *o)
{
	int c = mdq_compare(&o->lo, &b->lo);
	if (c > 0 || (c == 0 && !o->lo_incl)) {
		b->lo = o->lo;
		b->lo_incl = o->lo_incl;
	}
	c = mdq_compare(&o->hi, &b->hi);
	if (c < 0 || (c == 0 && !o->hi_incl)) {
		b->hi = o->hi;
		b->hi_incl = o->hi_incl;
	}
}

static bool node_bounds(const struct mdq_node *n, const char *path,
                        bool multikey, struct mdq_bounds *b)
{
	if (n->op != OP_AND)
		return n->path && !strcmp(n->path, path) && n->op != OP_EXISTS &&
		       leaf_bounds(n, b);
	bool any = false;
	for (size_t i = 0; i < n->nkids; i++) {
		struct mdq_bounds k;
		if (!node_bounds(n->kids[i], path, multikey, &k))
			continue;
		if (!any)
			*b = k;
		else if (!multikey)
			intersect(b, &k);
		any = true;
		if (multikey)
			break; /* an element may meet each condition: one only */
	}
	return any;
}

bool mdq_filter_bounds(const mdq_filter_t *f, const char *path, bool multikey,
                       struct mdq_bounds *b)
{
	return node_bounds(f->root, path, multikey, b);
}
