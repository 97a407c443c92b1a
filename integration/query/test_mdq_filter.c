/*
 * test_mdq_filter.c: filters, each operator with MongoDB's documented
 * cases (arrays, missing fields, null, mixed numbers, dotted paths), the
 * errors of malformed filters, identities between operators over random
 * documents, and the index bounds against the documents that match.
 */
#include "test_mdq.h"
#include "check_run.h"

static bool match(const char *filter, const char *doc)
{
	struct mdq_error err = { 0 };
	mdq_filter_t *f = mdq_filter_parse(J(filter), &err);
	ck_assert_msg(f != NULL, "%s: %d %s", filter, err.code, err.msg);
	bool m = mdq_filter_match(f, J(doc));
	mdq_filter_free(f);
	return m;
}

struct row {
	const char *filter, *doc;
	bool want;
};

static const struct row rows[] = {
	{ "{}", "{'a': 1}", true },
	{ "{'a': 5}", "{'a': 5}", true },
	{ "{'a': 5}", "{'a': 5.0}", true },
	{ "{'a': 5}", "{'a': {'$numberLong': '5'}}", true },
	{ "{'a': 5}", "{'a': '5'}", false },
	{ "{'a': 5}", "{'a': [1, 5]}", true },
	{ "{'a': 5}", "{'a': [[5]]}", false },
	{ "{'a': [1, 5]}", "{'a': [1, 5]}", true },
	{ "{'a': [1, 5]}", "{'a': [5, 1]}", false },
	{ "{'a': [1, 5]}", "{'a': [[1, 5], 2]}", true },
	{ "{'a': 5, 'b': 1}", "{'a': 5, 'b': 2}", false },
	{ "{'a.b': 1}", "{'a': {'b': 1}}", true },
	{ "{'a.b': 1}", "{'a': [{'b': 1}]}", true },
	{ "{'a.b': 1}", "{'a': [{'b': 2}, {'b': [0, 1]}]}", true },
	{ "{'a.b': 1}", "{'a': [[{'b': 1}]]}", false },
	{ "{'a.1': 5}", "{'a': [1, 5]}", true },
	{ "{'a.0': 5}", "{'a': [1, 5]}", false },
	{ "{'a.0.b': 2}", "{'a': [{'b': 2}]}", true },
	{ "{'a.b.c': 1}", "{'a': [{'b': [{'c': 1}]}]}", true },
	{ "{'a': {'b': 1}}", "{'a': {'b': 1}}", true },
	{ "{'a': {'b': 1}}", "{'a': {'b': 1, 'c': 2}}", false },
	{ "{'a': null}", "{}", true },
	{ "{'a': null}", "{'a': null}", true },
	{ "{'a': null}", "{'a': {'$undefined': true}}", true },
	{ "{'a': null}", "{'a': 0}", false },
	{ "{'a': null}", "{'a': [1, null]}", true },
	{ "{'a.b': null}", "{'a': [{'b': 1}, {'c': 1}]}", true },
	{ "{'a.b': null}", "{'a': [{'b': 1}]}", false },
	{ "{'a.b': null}", "{'a': 5}", true },
	{ "{'a.b': null}", "{'a': [1, 2]}", true }, /* no b anywhere: missing */
	{ "{'a.b': null}", "{'a': []}", true },
	{ "{'a.b': {'$ne': null}}", "{'a': [1]}", false },
	{ "{'a.b': {'$exists': false}}", "{'a': [1, 2]}", true },
	{ "{'a': {'$eq': 5}}", "{'a': [5]}", true },
	{ "{'a': {'$gt': 1}}", "{'a': 2}", true },
	{ "{'a': {'$gt': 1}}", "{'a': 'x'}", false },
	{ "{'a': {'$gt': 1}}", "{'a': [0, 3]}", true },
	{ "{'a': {'$gt': 1}}", "{'a': [0, 1]}", false },
	{ "{'a': {'$gt': 1}}", "{}", false },
	{ "{'a': {'$gt': 1.5}}", "{'a': {'$numberLong': '2'}}", true },
	{ "{'a': {'$gte': 2, '$lt': 3}}", "{'a': [1, 5]}", true }, /* 5, 1 */
	{ "{'a': {'$gte': 2, '$lt': 3}}", "{'a': [1]}", false },
	{ "{'a': {'$gt': 2, '$lt': 3}}", "{'a': [1, 5]}", true },
	{ "{'a': {'$lt': 'b'}}", "{'a': 'a'}", true },
	{ "{'a': {'$lt': 'b'}}", "{'a': 1}", false },
	{ "{'a': {'$lt': 5}}", "{'a': {'$numberDouble': 'NaN'}}", false },
	{ "{'a': {'$gte': {'$numberDouble': 'NaN'}}}",
	  "{'a': {'$numberDouble': 'NaN'}}", true },
	{ "{'a': {'$gt': [1]}}", "{'a': [2]}", true },
	{ "{'a': {'$gte': null}}", "{}", true },
	{ "{'a': {'$gt': null}}", "{'a': null}", false },
	{ "{'a': {'$lte': null}}", "{'a': 1}", false },
	{ "{'a': {'$gt': {'$minKey': 1}}}", "{'a': 'x'}", true },
	{ "{'a': {'$ne': 5}}", "{'a': 4}", true },
	{ "{'a': {'$ne': 5}}", "{'a': [4, 5]}", false },
	{ "{'a': {'$ne': 5}}", "{}", true },
	{ "{'a': {'$ne': null}}", "{}", false },
	{ "{'a': {'$in': [1, 2]}}", "{'a': 2.0}", true },
	{ "{'a': {'$in': [1, 2]}}", "{'a': [3, 1]}", true },
	{ "{'a': {'$in': [1, 2]}}", "{'a': 3}", false },
	{ "{'a': {'$in': [null]}}", "{}", true },
	{ "{'a': {'$in': [[1, 2]]}}", "{'a': [1, 2]}", true },
	{ "{'a': {'$in': []}}", "{'a': 1}", false },
	{ "{'a': {'$nin': [1, 2]}}", "{'a': 3}", true },
	{ "{'a': {'$nin': [1, 2]}}", "{}", true },
	{ "{'a': {'$nin': [1, 2]}}", "{'a': [3, 2]}", false },
	{ "{'a': {'$exists': true}}", "{'a': null}", true },
	{ "{'a': {'$exists': true}}", "{}", false },
	{ "{'a': {'$exists': false}}", "{}", true },
	{ "{'a': {'$exists': 0}}", "{'a': 1}", false },
	{ "{'a.b': {'$exists': true}}", "{'a': [{'c': 1}, {'b': 1}]}", true },
	{ "{'a.b': {'$exists': true}}", "{'a': [1]}", false },
	{ "{'a': {'$exists': true}}", "{'a': []}", true },
	{ "{'a': {'$not': {'$gt': 5}}}", "{'a': 3}", true },
	{ "{'a': {'$not': {'$gt': 5}}}", "{'a': 7}", false },
	{ "{'a': {'$not': {'$gt': 5}}}", "{}", true },
	{ "{'a': {'$not': {'$gt': 5}}}", "{'a': 'x'}", true },
	{ "{'$and': [{'a': 1}, {'b': 2}]}", "{'a': 1, 'b': 2}", true },
	{ "{'$and': [{'a': 1}, {'b': 2}]}", "{'a': 1}", false },
	{ "{'$or': [{'a': 1}, {'b': 2}]}", "{'b': 2}", true },
	{ "{'$or': [{'a': 1}, {'b': 2}]}", "{'b': 3}", false },
	{ "{'$nor': [{'a': 1}, {'b': 2}]}", "{'b': 3}", true },
	{ "{'$nor': [{'a': 1}, {'b': 2}]}", "{'a': 1}", false },
	{ "{'a': 1, '$or': [{'b': 1}, {'c': 1}]}", "{'a': 1, 'c': 1}", true },
	{ "{'a': {'$regularExpression': {'pattern': 'x', 'options': ''}}}",
	  "{'a': {'$regularExpression': {'pattern': 'x', 'options': ''}}}", true },
	{ "{'$comment': 'hi', 'a': 1}", "{'a': 1}", true },
	{ "{'a': {'$size': 2}}", "{'a': [1, [2, 3]]}", true },
	{ "{'a': {'$size': 2}}", "{'a': [[1, 2]]}", false },
	{ "{'a': {'$size': 0}}", "{'a': []}", true },
	{ "{'a': {'$size': 0}}", "{}", false },
	{ "{'a.b': {'$size': 1}}", "{'a': [{'b': [1]}, {'b': 2}]}", true },
	{ "{'a': {'$all': [1, 2]}}", "{'a': [2, 3, 1]}", true },
	{ "{'a': {'$all': [1, 2]}}", "{'a': [2, 3]}", false },
	{ "{'a': {'$all': [1]}}", "{'a': 1}", true },
	{ "{'a': {'$all': []}}", "{'a': []}", false },
	{ "{'a': {'$all': [[1, 2]]}}", "{'a': [1, 2]}", true },
	{ "{'a': {'$exists': true, '$type': 'string'}}", "{'a': 'x'}", true },
	/* libbson's JSON reads {$type: 2} as legacy binary: $exists first */
	{ "{'a': {'$exists': true, '$type': 2}}", "{'a': ['x']}", true },
	{ "{'a': {'$exists': true, '$type': 16}}", "{'a': 1.0}", false },
	{ "{'a': {'$exists': true, '$type': 'number'}}", "{'a': {'$numberLong': '1'}}", true },
	{ "{'a': {'$exists': true, '$type': ['bool', 'null']}}", "{'a': null}", true },
	{ "{'a': {'$exists': true, '$type': 'null'}}", "{}", false },
	{ "{'a': {'$exists': true, '$type': 'array'}}", "{'a': []}", true },
	{ "{'a': {'$exists': true, '$type': 'int'}}", "{'a': 1.0}", false },
	{ "{'a': {'$exists': true, '$type': 'minKey'}}", "{'a': {'$minKey': 1}}", true },
	{ "{'a': {'$elemMatch': {'$gte': 80, '$lt': 85}}}", "{'a': [82, 90]}", true },
	{ "{'a': {'$elemMatch': {'$gte': 80, '$lt': 85}}}", "{'a': [79, 90]}", false },
	{ "{'a': {'$gte': 80, '$lt': 85}}", "{'a': [79, 90]}", true },
	{ "{'a': {'$elemMatch': {'p': 'x', 's': {'$gte': 8}}}}",
	  "{'a': [{'p': 'x', 's': 5}, {'p': 'y', 's': 9}]}", false },
	{ "{'a': {'$elemMatch': {'p': 'x', 's': {'$gte': 8}}}}",
	  "{'a': [{'p': 'x', 's': 5}, {'p': 'x', 's': 9}]}", true },
	{ "{'a': {'$elemMatch': {'p': 'x'}}}", "{'a': {'p': 'x'}}", false },
	{ "{'a': {'$elemMatch': {'$or': [{'p': 1}, {'q': 1}]}}}",
	  "{'a': [{'q': 1}]}", true },
	{ "{'a': {'$not': {'$size': 1}}}", "{'a': 5}", true },
};

START_TEST(documented)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(match(rows[i].filter, rows[i].doc) == rows[i].want,
		              "%s on %s: want %d", rows[i].filter, rows[i].doc,
		              rows[i].want);
	pool_free();
}
END_TEST

static void refused(const char *filter, int code, const char *msg)
{
	struct mdq_error err = { 0 };
	ck_assert_msg(mdq_filter_parse(J(filter), &err) == NULL, "%s", filter);
	ck_assert_msg(err.code == code, "%s: code %d (%s)", filter, err.code,
	              err.msg);
	if (msg)
		ck_assert_msg(strstr(err.msg, msg), "%s: %s", filter, err.msg);
}

START_TEST(malformed)
{
	refused("{'a': {'$foo': 1}}", 2, "unknown operator: $foo");
	refused("{'$foo': 1}", 2, "unknown top level operator: $foo");
	refused("{'a': {'$in': 1}}", 2, "$in needs an array");
	refused("{'a': {'$nin': {'x': 1}}}", 2, "$nin needs an array");
	refused("{'$and': []}", 2, "non-empty");
	refused("{'$or': {'a': 1}}", 2, "must be an array");
	refused("{'$nor': [1]}", 2, "must be objects");
	refused("{'a': {'$not': 5}}", 2, "$not needs a regex or a document");
	refused("{'a': {'$not': {}}}", 2, "$not cannot be empty");
	refused("{'a': {'$gt': 1, 'b': 2}}", 2, "unknown operator: b");
	refused("{'a..b': 1}", 2, "empty field name");
	refused("{'$or': [{'a': {'$bad': 1}}]}", 2, "unknown operator: $bad");
	/* nesting past the limit is refused, not recursed into */
	bson_t *deep = bson_new();
	for (int i = 0; i < 120; i++) {
		bson_t *outer = bson_new(), arr;
		bson_append_array_begin(outer, "$and", 4, &arr);
		bson_append_document(&arr, "0", 1, deep);
		bson_append_array_end(outer, &arr);
		bson_destroy(deep);
		deep = outer;
	}
	struct mdq_error derr = { 0 };
	ck_assert_ptr_null(mdq_filter_parse(deep, &derr));
	ck_assert_int_eq(derr.code, MDQ_FAILED_TO_PARSE);
	ck_assert_ptr_nonnull(strstr(derr.msg, "deeper"));
	bson_destroy(deep);
	refused("{'a': {'$size': -1}}", 2, "$size");
	refused("{'a': {'$size': 1.5}}", 2, "$size");
	refused("{'a': {'$size': 'x'}}", 2, "$size");
	refused("{'a': {'$all': 1}}", 2, "$all needs an array");
	refused("{'a': {'$exists': true, '$type': 'nope'}}", 2, "$type");
	refused("{'a': {'$exists': true, '$type': 20}}", 2, "$type");
	refused("{'a': {'$exists': true, '$type': [2, {}]}}", 2, "$type");
	refused("{'a': {'$elemMatch': 1}}", 2, "$elemMatch needs an Object");
	refused("{'a': {'$elemMatch': {'$bad': 1}}}", 2, "unknown operator");
	refused("{'a': {'$gt': {'$regularExpression': {'pattern': 'a', "
	        "'options': ''}}}}", 2, "regex");
	/* an array keyed "x": bson_validate takes it, libbson's appends do
	 * not, so it is refused */
	bson_t *arrdoc = J("{'a': {'$in': {'x': 1}}}");
	uint8_t *raw = malloc(arrdoc->len);
	memcpy(raw, bson_get_data(arrdoc), arrdoc->len);
	for (uint32_t i = 0; i + 3 < arrdoc->len; i++)
		if (raw[i] == 0x03 && !memcmp(raw + i + 1, "$in", 4))
			raw[i] = 0x04;
	bson_t bad;
	ck_assert(bson_init_static(&bad, raw, arrdoc->len));
	size_t off;
	ck_assert(bson_validate(&bad, BSON_VALIDATE_NONE, &off));
	struct mdq_error aerr = { 0 };
	ck_assert_ptr_null(mdq_filter_parse(&bad, &aerr));
	ck_assert_int_eq(aerr.code, MDQ_FAILED_TO_PARSE);
	free(raw);
	/* not BSON at all */
	uint8_t junk[] = { 12, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0 };
	bson_t b;
	struct mdq_error err = { 0 };
	junk[4] = 0x7f; /* an unknown element type */
	if (bson_init_static(&b, junk, sizeof(junk)))
		ck_assert_ptr_null(mdq_filter_parse(&b, &err));
	pool_free();
}
END_TEST

/* Random documents over a small pool of values for field a. */
static bson_t *rand_doc(void)
{
	bson_t *d = bson_new();
	bson_append_int32(d, "_id", 3, 1);
	switch (rnd() % 4) {
	case 0: break; /* missing */
	case 1: case 2: rand_value(d, "a", 1); break;
	default: {
		bson_t arr;
		bson_append_array_begin(d, "a", 1, &arr);
		int n = (int)(rnd() % 4);
		for (int i = 0; i < n; i++) {
			char k[16];
			snprintf(k, sizeof(k), "%d", i);
			rand_value(&arr, k, 1);
		}
		bson_append_array_end(d, &arr);
	}
	}
	return d;
}

/* {a: {op: x}}, {a: {op: [x, y]}} (y given), or {a: x} (op "="). */
static mdq_filter_t *op_filter(const char *op, const bson_value_t *x,
                               const bson_value_t *y)
{
	bson_t f = BSON_INITIALIZER, a, arr;
	struct mdq_error err;
	if (!strcmp(op, "=")) {
		bson_append_value(&f, "a", 1, x);
	} else {
		bson_append_document_begin(&f, "a", 1, &a);
		if (y) {
			bson_append_array_begin(&a, op, -1, &arr);
			bson_append_value(&arr, "0", 1, x);
			if (y != x)
				bson_append_value(&arr, "1", 1, y);
			bson_append_array_end(&a, &arr);
		} else {
			bson_append_value(&a, op, -1, x);
		}
		bson_append_document_end(&f, &a);
	}
	mdq_filter_t *flt = mdq_filter_parse(&f, &err);
	ck_assert_msg(flt != NULL, "%s: %s", S(&f), err.msg);
	bson_destroy(&f);
	return flt;
}

static bool doc_has_array(const bson_t *d)
{
	bson_iter_t it;
	return bson_iter_init_find(&it, d, "a") && BSON_ITER_HOLDS_ARRAY(&it);
}

static bool m(mdq_filter_t *f, const bson_t *d)
{
	return mdq_filter_match(f, d);
}

START_TEST(identities_random)
{
	seed(11 + (uint64_t)_i);
	for (int t = 0; t < 3000; t++) {
		bson_t *xd = bson_new(), *doc = rand_doc();
		rand_value(xd, "x", 1);
		rand_value(xd, "y", 1);
		bson_value_t x = V(xd, "x"), y = V(xd, "y");
		bool is_op = false;
		if (x.value_type == BSON_TYPE_REGEX) { /* refused by $gt etc. */
			bson_destroy(xd);
			bson_destroy(doc);
			continue;
		}
		bson_iter_t xi;
		if (bson_iter_init_find(&xi, xd, "x") &&
		    BSON_ITER_HOLDS_DOCUMENT(&xi)) {
			bson_iter_t sub;
			bson_iter_recurse(&xi, &sub);
			is_op = bson_iter_next(&sub) && bson_iter_key(&sub)[0] == '$';
		}
		mdq_filter_t *eq = op_filter("$eq", &x, NULL);
		mdq_filter_t *in1 = op_filter("$in", &x, &x);
		mdq_filter_t *in2 = op_filter("$in", &x, &y);
		mdq_filter_t *eqy = op_filter("$eq", &y, NULL);
		mdq_filter_t *nin = op_filter("$nin", &x, &y);
		mdq_filter_t *ne = op_filter("$ne", &x, NULL);
		mdq_filter_t *gt = op_filter("$gt", &x, NULL);
		mdq_filter_t *gte = op_filter("$gte", &x, NULL);
		mdq_filter_t *lt = op_filter("$lt", &x, NULL);
		mdq_filter_t *lte = op_filter("$lte", &x, NULL);
		bson_t nf = BSON_INITIALIZER, a, n;
		bson_append_document_begin(&nf, "a", 1, &a);
		bson_append_document_begin(&a, "$not", 4, &n);
		bson_append_value(&n, "$gt", 3, &x);
		bson_append_document_end(&a, &n);
		bson_append_document_end(&nf, &a);
		mdq_filter_t *notgt = mdq_filter_parse(&nf, NULL);
		ck_assert_ptr_nonnull(notgt);
		const char *ctx = S(doc);
		ck_assert_msg(m(in1, doc) == m(eq, doc), "$in [x] vs $eq x: %s", ctx);
		ck_assert_msg(m(in2, doc) == (m(eq, doc) || m(eqy, doc)), "%s", ctx);
		ck_assert_msg(m(nin, doc) == !m(in2, doc), "%s", ctx);
		ck_assert_msg(m(ne, doc) == !m(eq, doc), "%s", ctx);
		ck_assert_msg(m(notgt, doc) == !m(gt, doc), "%s", ctx);
		ck_assert_msg(m(gte, doc) == (m(gt, doc) || m(eq, doc)), "%s", ctx);
		ck_assert_msg(m(lte, doc) == (m(lt, doc) || m(eq, doc)), "%s", ctx);
		ck_assert_msg(!(m(gt, doc) && m(lt, doc)) || doc_has_array(doc),
		              "%s", ctx);
		if (!is_op) { /* a literal x: the equality form is the same */
			mdq_filter_t *lit = op_filter("=", &x, NULL);
			ck_assert_msg(m(lit, doc) == m(eq, doc), "%s", ctx);
			mdq_filter_free(lit);
		}
		mdq_filter_t *fs[] = { eq, in1, in2, eqy, nin, ne, gt, gte, lt,
		                       lte, notgt };
		for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
			mdq_filter_free(fs[i]);
		bson_destroy(&nf);
		bson_destroy(xd);
		bson_destroy(doc);
	}
}
END_TEST

/* {a: [v1, ..]} matches a comparison iff some {a: vi} does (no nesting). */
START_TEST(any_element_random)
{
	static const char *ops[] = { "$eq", "$gt", "$gte", "$lt", "$lte", "$ne" };
	seed(21 + (uint64_t)_i);
	for (int t = 0; t < 3000; t++) {
		bson_t *xd = bson_new(), *doc = rand_doc();
		bson_iter_t it, el;
		rand_value(xd, "x", 2); /* depth 2: no containers */
		bson_value_t x = V(xd, "x");
		int xr = mdq_type_rank(x.value_type);
		/* MinKey and MaxKey bound every type, the whole array too */
		if (!bson_iter_init_find(&it, doc, "a") || !BSON_ITER_HOLDS_ARRAY(&it) ||
		    x.value_type == BSON_TYPE_REGEX || xr == 1 || xr == 16) {
			bson_destroy(xd);
			bson_destroy(doc);
			continue;
		}
		const char *op = ops[rnd() % 6];
		mdq_filter_t *f = op_filter(op, &x, NULL);
		bool any = false, neg = !strcmp(op, "$ne"), nested = false;
		bson_iter_recurse(&it, &el);
		while (bson_iter_next(&el)) {
			bson_t one = BSON_INITIALIZER;
			nested |= BSON_ITER_HOLDS_ARRAY(&el);
			bson_append_value(&one, "a", 1, bson_iter_value(&el));
			any |= neg ? !m(f, &one) : m(f, &one);
			bson_destroy(&one);
		}
		if (!nested)
			ck_assert_msg(m(f, doc) == (neg ? !any : any), "%s %s on %s",
			              op, S(xd), S(doc));
		mdq_filter_free(f);
		bson_destroy(xd);
		bson_destroy(doc);
	}
}
END_TEST

/* A key of doc on a lies in b (missing: null; an array: each element). */
static bool in_bounds(const bson_value_t *k, const struct mdq_bounds *b)
{
	int lo = mdq_compare(k, &b->lo), hi = mdq_compare(k, &b->hi);
	return (lo > 0 || (lo == 0 && b->lo_incl)) &&
	       (hi < 0 || (hi == 0 && b->hi_incl));
}

static bool some_key_in(const bson_t *doc, const struct mdq_bounds *b)
{
	bson_iter_t it, el;
	bson_value_t null = { .value_type = BSON_TYPE_NULL };
	if (!bson_iter_init_find(&it, doc, "a"))
		return in_bounds(&null, b);
	if (!BSON_ITER_HOLDS_ARRAY(&it))
		return in_bounds(bson_iter_value(&it), b);
	bson_iter_recurse(&it, &el);
	bool any = false, empty = true;
	while (bson_iter_next(&el)) {
		empty = false;
		any |= in_bounds(bson_iter_value(&el), b);
	}
	return any || (empty && in_bounds(&null, b)) ||
	       in_bounds(bson_iter_value(&it), b);
}

/* Random conjunctions on a: a matching document has a key in the bounds. */
START_TEST(bounds_random)
{
	static const char *ops[] = { "$eq", "$gt", "$gte", "$lt", "$lte", "$in",
	                             "$ne", "$exists" };
	seed(31 + (uint64_t)_i);
	int restricted = 0;
	for (int t = 0; t < 2000; t++) {
		bson_t *fd = bson_new(), a, arr;
		bson_append_document_begin(fd, "a", 1, &a);
		int n = 1 + (int)(rnd() % 3);
		for (int i = 0; i < n; i++) {
			const char *op = ops[rnd() % 8];
			if (!strcmp(op, "$in")) {
				bson_append_array_begin(&a, op, -1, &arr);
				rand_value(&arr, "0", 2);
				rand_value(&arr, "1", 2);
				bson_append_array_end(&a, &arr);
			} else {
				rand_value(&a, op, 2);
			}
		}
		bson_append_document_end(fd, &a);
		if (rnd() % 3 == 0)
			bson_append_int32(fd, "b", 1, 1);
		struct mdq_error err;
		mdq_filter_t *f = mdq_filter_parse(fd, &err);
		if (!f) { /* duplicate operator names are fine in BSON, not here */
			bson_destroy(fd);
			continue;
		}
		bool multikey = rnd() % 2;
		struct mdq_bounds b;
		if (mdq_filter_bounds(f, "a", multikey, &b)) {
			restricted++;
			for (int d = 0; d < 50; d++) {
				bson_t *doc = rand_doc();
				if (!multikey && doc_has_array(doc)) {
					bson_destroy(doc);
					continue;
				}
				bson_append_int32(doc, "b", 1, 1);
				if (m(f, doc))
					ck_assert_msg(some_key_in(doc, &b), "%s matches %s",
					              S(fd), S(doc));
				bson_destroy(doc);
			}
		}
		mdq_filter_free(f);
		bson_destroy(fd);
	}
	ck_assert_int_gt(restricted, 200);
}
END_TEST

START_TEST(bounds_documented)
{
	struct mdq_bounds b;
	mdq_filter_t *f = mdq_filter_parse(J("{'a': {'$gt': 5, '$lte': 9}, 'b': 1}"),
	                                   NULL);
	ck_assert(mdq_filter_bounds(f, "a", false, &b));
	ck_assert_int_eq(b.lo.value_type, BSON_TYPE_INT32);
	ck_assert_int_eq(b.lo.value.v_int32, 5);
	ck_assert(!b.lo_incl && b.hi_incl);
	ck_assert_int_eq(b.hi.value.v_int32, 9);
	ck_assert(mdq_filter_bounds(f, "a", true, &b)); /* one condition only */
	ck_assert(b.hi.value_type == BSON_TYPE_DOUBLE && isinf(b.hi.value.v_double));
	ck_assert(mdq_filter_bounds(f, "b", false, &b));
	ck_assert(b.lo_incl && b.hi_incl && b.lo.value.v_int32 == 1);
	ck_assert(!mdq_filter_bounds(f, "c", false, &b));
	mdq_filter_free(f);
	f = mdq_filter_parse(J("{'$or': [{'a': 1}, {'a': 2}]}"), NULL);
	ck_assert(!mdq_filter_bounds(f, "a", false, &b));
	mdq_filter_free(f);
	f = mdq_filter_parse(J("{'a': {'$gt': [1]}}"), NULL);
	ck_assert(!mdq_filter_bounds(f, "a", true, &b)); /* [2] keys as 2 */
	ck_assert(mdq_filter_match(f, J("{'a': [2]}")));
	mdq_filter_free(f);
	f = mdq_filter_parse(J("{'a': {'$lt': 'm'}}"), NULL);
	ck_assert(mdq_filter_bounds(f, "a", false, &b));
	ck_assert_int_eq(b.lo.value_type, BSON_TYPE_UTF8);
	ck_assert_int_eq(b.lo.value.v_utf8.len, 0);
	mdq_filter_free(f);
	pool_free();
}
END_TEST

/* {a: [[[...]]]} nested n deep, written in place (libbson's own
 * appends would recurse as deep to copy). */
static uint8_t *nested(int n, size_t *size)
{
	size_t total = 5 + 8 * (size_t)n;
	uint8_t *b = calloc(1, total);
	for (size_t i = 0; i <= (size_t)n; i++) {
		size_t off = 7 * i;
		uint32_t le = (uint32_t)(total - 8 * i);
		memcpy(b + off, &le, 4); /* little-endian host */
		if (i < (size_t)n) {
			b[off + 4] = 0x04;
			b[off + 5] = i ? '0' : 'a';
		}
	}
	*size = total;
	return b;
}

/* Hostile nesting: refused by the parsers, no recursion without a bound
 * in matching, projecting or comparing (libbson's bson_validate alone
 * overflows the stack on this). */
START_TEST(deep_documents)
{
	size_t sz;
	uint8_t *raw = nested(200000, &sz);
	bson_t d, out = BSON_INITIALIZER;
	struct mdq_error err = { 0 };
	ck_assert(bson_init_static(&d, raw, sz));
	ck_assert_int_eq(mdq_validate(&d, MDQ_MAX_DEPTH, &err), -1);
	ck_assert_ptr_null(mdq_filter_parse(&d, &err));
	ck_assert_int_eq(err.code, MDQ_FAILED_TO_PARSE);
	ck_assert_ptr_null(mdq_projection_parse(&d, &err));
	ck_assert_ptr_null(mdq_update_parse(&d, &err));
	ck_assert_ptr_null(mdq_sort_parse(&d, &err));
	mdq_filter_t *f = mdq_filter_parse(J("{'a.0.0': {'$exists': true}}"), &err);
	ck_assert(mdq_filter_match(f, &d));
	mdq_filter_free(f);
	mdq_projection_t *p = mdq_projection_parse(J("{'a.x': 1}"), &err);
	mdq_projection_apply(p, &d, &out);
	mdq_projection_free(p);
	ck_assert_int_eq(mdq_compare_docs(&d, &d), 0);
	uint8_t *raw2 = nested(199999, &sz);
	bson_t d2;
	ck_assert(bson_init_static(&d2, raw2, sz));
	ck_assert_int_ne(mdq_compare_docs(&d, &d2), 0);
	uint8_t *ok = nested(MDQ_MAX_DEPTH - 1, &sz);
	bson_t d3;
	ck_assert(bson_init_static(&d3, ok, sz));
	ck_assert_int_eq(mdq_validate(&d3, MDQ_MAX_DEPTH, &err), 0);
	bson_destroy(&out);
	free(raw);
	free(raw2);
	free(ok);
	pool_free();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_filter");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, documented);
	tcase_add_test(tc, malformed);
	tcase_add_loop_test(tc, identities_random, 0, 4);
	tcase_add_loop_test(tc, any_element_random, 0, 4);
	tcase_add_loop_test(tc, bounds_random, 0, 4);
	tcase_add_test(tc, bounds_documented);
	tcase_add_test(tc, deep_documents);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
