/*
 * cmd_read.c: find, count, distinct and aggregate. Each reads in one
 * WiredTiger snapshot (a transaction rolled back at the end) through the
 * planner (plan.c), and answers from owned copies (cursors.c), so nothing
 * of WiredTiger is held between requests.
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>

struct read_spec {
	const mdq_filter_t *filter;
	const mdq_projection_t *proj; /* applied while reading, or NULL */
	int64_t skip, limit;          /* limit 0: no limit */
	int by_id;                    /* read in _id order (1, -1) or any */
};

/* Per matching document: 0 to go on, 1 to stop, -1 with e set. */
typedef int (*each_fn)(void *arg, const bson_t *doc, mdl_err *e);

/*
 * Calls fn for each document of c (namespace ns) that f matches, in one
 * snapshot: 0, or -1 with the error in out.
 */
static int read_each(struct docd_req *r, const char *ns, mdl_coll *c,
                     const mdq_filter_t *f, int by_id, each_fn fn,
                     void *arg, bson_t *out)
{
	WT_SESSION *s = r->session;
	struct plan p;
	mdl_err e = {0};
	int64_t rid;
	bson_t doc;
	int rc = s->begin_transaction(s, "isolation=snapshot");
	if (rc) {
		reply_error(out, 1, "begin_transaction: %s", wiredtiger_strerror(rc));
		return -1;
	}
	int failed = plan_open(r, ns, c, f, by_id, &p, &e) != 0;
	if (!failed) {
		while ((rc = plan_next(&p, &rid, &doc, &e)) == 1) {
			int k = fn(arg, &doc, &e);
			if (k)
				failed = k < 0;
			if (k)
				break;
		}
		failed |= rc < 0;
		plan_close(&p);
	}
	s->rollback_transaction(s, NULL);
	if (failed) {
		reply_mdl(out, &e);
		return -1;
	}
	return 0;
}

struct collector {
	const struct read_spec *spec;
	struct docd_results *rs;
	int64_t seen;
};

static int collect_one(void *arg, const bson_t *doc, mdl_err *e)
{
	struct collector *k = arg;
	if (k->seen++ < k->spec->skip)
		return 0;
	bson_t projected = BSON_INITIALIZER;
	if (k->spec->proj)
		mdq_projection_apply(k->spec->proj, doc, &projected);
	int full = results_add(k->rs, k->spec->proj ? &projected : doc);
	bson_destroy(&projected);
	if (full) {
		e->code = MDQ_MEMORY_LIMIT;
		snprintf(e->msg, sizeof(e->msg), "the results pass the server's "
		         "memory limit for one cursor");
		return -1;
	}
	return k->spec->limit &&
	       (int64_t)results_count(k->rs) >= k->spec->limit;
}

/* The documents of c that match, as spec says, into rs: 0 or -1 (out). */
static int collect(struct docd_req *r, const char *ns, mdl_coll *c,
                   const struct read_spec *spec, struct docd_results *rs,
                   bson_t *out)
{
	struct collector k = {.spec = spec, .rs = rs};
	return read_each(r, ns, c, spec->filter, spec->by_id, collect_one, &k,
	                 out);
}

/* Parses the optional document field name with parse_fn-like checks. */
static int parse_filter(struct docd_req *r, const char *field,
                        mdq_filter_t **f, bson_t *out)
{
	bson_t doc;
	int present;
	struct mdq_error qe = {0};
	*f = NULL;
	if (opt_doc(r->cmd, field, &doc, &present, out))
		return -1;
	if (!present)
		bson_init(&doc);
	*f = mdq_filter_parse(&doc, &qe);
	if (!*f)
		reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
	return *f ? 0 : -1;
}

/* The window [skip, skip+limit) of sorted rs, projected, as a new set. */
static struct docd_results *window(struct docd_results *rs, int64_t skip,
                                   int64_t limit,
                                   const mdq_projection_t *proj)
{
	struct docd_results *w = results_new();
	size_t n = results_count(rs);
	for (size_t i = (size_t)skip; w && i < n; i++) {
		if (limit && (int64_t)results_count(w) >= limit)
			break;
		bson_t projected = BSON_INITIALIZER;
		if (proj)
			mdq_projection_apply(proj, results_at(rs, i), &projected);
		int full = results_add(w, proj ? &projected : results_at(rs, i));
		bson_destroy(&projected);
		if (full) {
			results_free(w);
			w = NULL;
		}
	}
	results_free(rs);
	return w;
}

struct find_args {
	mdq_filter_t *filter;
	mdq_sort_t *sort;
	mdq_projection_t *proj;
	int64_t skip, limit, batch;
	int single;
	int by_id; /* the sort is {_id: 1} or {_id: -1}: the _id_ index's order */
};

static void find_args_free(struct find_args *a)
{
	mdq_filter_free(a->filter);
	mdq_sort_free(a->sort);
	mdq_projection_free(a->proj);
}

static int parse_find(struct docd_req *r, struct find_args *a, bson_t *out)
{
	bson_t doc;
	int present;
	struct mdq_error qe = {0};
	*a = (struct find_args){0};
	if (parse_filter(r, "filter", &a->filter, out) ||
	    opt_int64(r->cmd, "skip", 0, &a->skip, out) ||
	    opt_int64(r->cmd, "limit", 0, &a->limit, out) ||
	    opt_int64(r->cmd, "batchSize", 0, &a->batch, out))
		return -1;
	if (a->skip < 0 || a->batch < 0) {
		reply_error(out, 2, "skip and batchSize must not be negative");
		return -1;
	}
	a->single = opt_bool(r->cmd, "singleBatch", 0) || a->limit < 0;
	if (a->limit < 0)
		a->limit = -a->limit;
	if (opt_doc(r->cmd, "sort", &doc, &present, out))
		return -1;
	if (present && !bson_empty(&doc) && !(a->sort = mdq_sort_parse(&doc, &qe))) {
		reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
		return -1;
	}
	bson_iter_t it;
	if (a->sort && bson_count_keys(&doc) == 1 &&
	    bson_iter_init_find(&it, &doc, "_id") && BSON_ITER_HOLDS_NUMBER(&it))
		a->by_id = bson_iter_as_int64(&it) < 0 ? -1 : 1;
	if (opt_doc(r->cmd, "projection", &doc, &present, out))
		return -1;
	if (present && !bson_empty(&doc) &&
	    !(a->proj = mdq_projection_parse(&doc, &qe))) {
		reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
		return -1;
	}
	return 0;
}

void cmd_find(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	struct find_args a = {0};
	mdl_coll *c;
	if (ns_of(r, "find", ns, out) || parse_find(r, &a, out)) {
		find_args_free(&a);
		return;
	}
	struct docd_results *rs = results_new();
	int rc = rs ? coll_begin(r, ns, &c, out) : -1;
	if (rc == 0) {
		struct read_spec spec = {.filter = a.filter, .by_id = a.by_id};
		if (!a.sort || a.by_id) { /* read in the order asked for */
			spec.proj = a.proj;
			spec.skip = a.skip;
			spec.limit = a.limit;
		}
		rc = collect(r, ns, c, &spec, rs, out);
		coll_done(r, c);
	}
	if (rc < 0 || !rs) {
		if (!rs)
			reply_error(out, 146, "no memory");
		results_free(rs);
		find_args_free(&a);
		return;
	}
	if (a.sort && !a.by_id) {
		results_sort(rs, a.sort);
		if (!(rs = window(rs, a.skip, a.limit, a.proj))) {
			reply_error(out, MDQ_MEMORY_LIMIT, "the sorted results pass "
			            "the server's memory limit");
			find_args_free(&a);
			return;
		}
	}
	cursor_reply(r, ns, rs, a.batch, a.single, out);
	find_args_free(&a);
}

struct counter {
	int64_t skip, limit, seen, n;
};

static int count_one(void *arg, const bson_t *doc, mdl_err *e)
{
	struct counter *k = arg;
	if (k->seen++ >= k->skip)
		k->n++;
	return k->limit && k->n >= k->limit;
}

/* {count: coll, query, skip, limit}: {n}. */
void cmd_count(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdq_filter_t *f = NULL;
	struct counter k = {0};
	mdl_coll *c;
	if (ns_of(r, "count", ns, out) || parse_filter(r, "query", &f, out) ||
	    opt_int64(r->cmd, "skip", 0, &k.skip, out) ||
	    opt_int64(r->cmd, "limit", 0, &k.limit, out)) {
		mdq_filter_free(f);
		return;
	}
	if (k.limit < 0)
		k.limit = -k.limit;
	int rc = coll_begin(r, ns, &c, out);
	if (rc == 0) {
		rc = read_each(r, ns, c, f, 0, count_one, &k, out);
		coll_done(r, c);
	}
	mdq_filter_free(f);
	if (rc < 0)
		return;
	BSON_APPEND_INT32(out, "n", (int32_t)k.n);
	reply_ok(out);
}

#define DISTINCT_MAX_BYTES (16u << 20)

struct distinct {
	const char *key;
	bson_value_t *vals;
	size_t n, cap, bytes;
};

/* Bytes a value takes in the reply, about. */
static size_t value_size(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_UTF8: return 16 + v->value.v_utf8.len;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: return 16 + v->value.v_doc.data_len;
	case BSON_TYPE_BINARY: return 16 + v->value.v_binary.data_len;
	default: return 24;
	}
}

/* Keeps every value (duplicates too, sorted out at the end: n log n). */
static int distinct_add(struct distinct *k, const bson_value_t *v, mdl_err *e)
{
	k->bytes += value_size(v) + sizeof(*v);
	if (k->bytes > 4 * DISTINCT_MAX_BYTES) {
		e->code = 17217;
		snprintf(e->msg, sizeof(e->msg), "distinct too big, 16mb cap");
		return -1;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 32;
		k->vals = bson_realloc(k->vals, cap * sizeof(*k->vals));
		k->cap = cap;
	}
	bson_value_copy(v, &k->vals[k->n++]);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	return mdq_compare(a, b);
}

/* Sorts and drops duplicates; -1 if the distinct values pass 16 MiB. */
static int distinct_finish(struct distinct *k)
{
	qsort(k->vals, k->n, sizeof(*k->vals), by_value);
	size_t w = 0, bytes = 0;
	for (size_t i = 0; i < k->n; i++) {
		if (w && mdq_compare(&k->vals[w - 1], &k->vals[i]) == 0) {
			bson_value_destroy(&k->vals[i]);
			continue;
		}
		bytes += value_size(&k->vals[i]);
		k->vals[w++] = k->vals[i];
	}
	k->n = w;
	return bytes > DISTINCT_MAX_BYTES ? -1 : 0;
}

static int distinct_one(void *arg, const bson_t *doc, mdl_err *e)
{
	struct distinct *k = arg;
	bson_iter_t it, child, el;
	if (!bson_iter_init(&it, doc) ||
	    !bson_iter_find_descendant(&it, k->key, &child))
		return 0;
	if (!BSON_ITER_HOLDS_ARRAY(&child))
		return distinct_add(k, bson_iter_value(&child), e);
	if (!bson_iter_recurse(&child, &el))
		return 0;
	while (bson_iter_next(&el))
		if (distinct_add(k, bson_iter_value(&el), e))
			return -1;
	return 0;
}

/* {distinct: coll, key: "a.b", query}: {values: [...]}. */
void cmd_distinct(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	mdq_filter_t *f = NULL;
	bson_iter_t it;
	mdl_coll *c;
	struct distinct k = {0};
	if (ns_of(r, "distinct", ns, out))
		return;
	if (!bson_iter_init_find(&it, r->cmd, "key") || !BSON_ITER_HOLDS_UTF8(&it)) {
		reply_error(out, 14, "distinct: 'key' must be a string");
		return;
	}
	k.key = bson_iter_utf8(&it, NULL);
	if (parse_filter(r, "query", &f, out))
		return;
	int rc = coll_begin(r, ns, &c, out);
	if (rc == 0) {
		rc = read_each(r, ns, c, f, 0, distinct_one, &k, out);
		coll_done(r, c);
	}
	mdq_filter_free(f);
	if (rc >= 0 && distinct_finish(&k)) {
		reply_error(out, 17217, "distinct too big, 16mb cap");
		rc = -1;
	}
	if (rc >= 0) {
		bson_t arr;
		char key[24];
		BSON_APPEND_ARRAY_BEGIN(out, "values", &arr);
		for (size_t i = 0; i < k.n; i++) {
			snprintf(key, sizeof(key), "%zu", i);
			bson_append_value(&arr, key, -1, &k.vals[i]);
		}
		bson_append_array_end(out, &arr);
		reply_ok(out);
	}
	for (size_t i = 0; i < k.n; i++)
		bson_value_destroy(&k.vals[i]);
	bson_free(k.vals);
}

struct agg_src {
	struct plan p;
	bson_t doc;
	mdl_err e;
};

static int agg_next(void *ctx, const bson_t **doc, struct mdq_error *err)
{
	struct agg_src *a = ctx;
	int64_t rid;
	int rc = plan_next(&a->p, &rid, &a->doc, &a->e);
	if (rc == 1)
		*doc = &a->doc;
	if (rc >= 0)
		return rc;
	err->code = a->e.code;
	snprintf(err->msg, sizeof(err->msg), "%s", a->e.msg);
	return -1;
}

static int agg_sink(void *ctx, const bson_t *doc, struct mdq_error *err)
{
	if (!results_add(ctx, doc))
		return 0;
	err->code = MDQ_MEMORY_LIMIT;
	snprintf(err->msg, sizeof(err->msg), "the results pass the server's "
	         "memory limit for one cursor");
	return -1;
}

/* Runs pipeline p over c's documents into rs: 0 or -1 (out). */
static int agg_run(struct docd_req *r, const char *ns, mdl_coll *c,
                   const mdq_pipeline_t *p, struct docd_results *rs,
                   bson_t *out)
{
	WT_SESSION *s = r->session;
	struct agg_src a = {0};
	struct mdq_error qe = {0};
	int rc = s->begin_transaction(s, "isolation=snapshot");
	if (rc) {
		reply_error(out, 1, "begin_transaction: %s", wiredtiger_strerror(rc));
		return -1;
	}
	if ((rc = plan_open(r, ns, c, NULL, 0, &a.p, &a.e)) != 0) {
		s->rollback_transaction(s, NULL);
		reply_mdl(out, &a.e);
		return -1;
	}
	rc = mdq_pipeline_run(p, agg_next, &a, agg_sink, rs, &qe);
	plan_close(&a.p);
	s->rollback_transaction(s, NULL);
	if (rc)
		reply_error(out, qe.code ? qe.code : 1, "%s", qe.msg);
	return rc ? -1 : 0;
}

/* {aggregate: coll, pipeline: [...], cursor: {batchSize}}. */
void cmd_aggregate(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	bson_iter_t it;
	bson_t pipe, cur;
	int present;
	int64_t batch = 0;
	mdl_coll *c;
	struct mdq_error qe = {0};
	if (ns_of(r, "aggregate", ns, out))
		return;
	if (!bson_iter_init_find(&it, r->cmd, "pipeline") ||
	    !BSON_ITER_HOLDS_ARRAY(&it)) {
		reply_error(out, 14, "'pipeline' option must be specified as an "
		            "array");
		return;
	}
	const uint8_t *data;
	uint32_t len;
	bson_iter_array(&it, &len, &data);
	if (!bson_init_static(&pipe, data, len) ||
	    opt_doc(r->cmd, "cursor", &cur, &present, out))
		return;
	if (!present) {
		reply_error(out, 9, "The 'cursor' option is required");
		return;
	}
	if (opt_int64(&cur, "batchSize", 0, &batch, out))
		return;
	mdq_pipeline_t *p = mdq_pipeline_parse(&pipe, 0, &qe);
	if (!p) {
		reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
		return;
	}
	struct docd_results *rs = results_new();
	int rc = rs ? coll_begin(r, ns, &c, out) : -1;
	if (rc == 0) {
		rc = agg_run(r, ns, c, p, rs, out);
		coll_done(r, c);
	} else if (rc == 1) { /* no collection: the pipeline over nothing */
		struct agg_src none = {.p = {.empty = 1}};
		rc = mdq_pipeline_run(p, agg_next, &none, agg_sink, rs, &qe);
		if (rc)
			reply_error(out, qe.code ? qe.code : 1, "%s", qe.msg);
		rc = rc ? -1 : 0;
	}
	mdq_pipeline_free(p);
	if (rc < 0 || !rs) {
		if (!rs)
			reply_error(out, 146, "no memory");
		results_free(rs);
		return;
	}
	cursor_reply(r, ns, rs, batch, 0, out);
}
