/*
 * agg.c: the pipeline. Documents are pushed from the source through the
 * stages one at a time; $sort, $group and $count hold theirs until the
 * source ends and then push their results on. A $limit that is met tells
 * everything upstream to stop, so countDocuments with a limit reads no
 * more than it needs.
 */
#include "agg_int.h"

#include <stdlib.h>
#include <string.h>

enum skind { S_MATCH, S_SKIP, S_LIMIT, S_PROJECT, S_SORT, S_GROUP, S_COUNT };

struct stage {
	enum skind kind;
	mdq_filter_t *filter;
	mdq_projection_t *proj;
	mdq_sort_t *sort;
	struct group_spec *group;
	int64_t n;        /* $skip, $limit */
	const char *name; /* $count */
};

struct mdq_pipeline {
	bson_t *copy;
	struct stage *st;
	size_t n;
	size_t mem_limit;
};

void mdq_pipeline_free(mdq_pipeline_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		mdq_filter_free(p->st[i].filter);
		mdq_projection_free(p->st[i].proj);
		mdq_sort_free(p->st[i].sort);
		mdq_group_spec_free(p->st[i].group);
	}
	free(p->st);
	bson_destroy(p->copy);
	free(p);
}

static int parse_count(struct stage *s, const bson_value_t *v,
                       struct mdq_error *err)
{
	if (v->value_type != BSON_TYPE_UTF8 || v->value.v_utf8.len == 0 ||
	    strlen(v->value.v_utf8.str) != v->value.v_utf8.len)
		return mdq_fail(err, 40156, "the count field must be a non-empty "
		                "string");
	if (v->value.v_utf8.str[0] == '$' || strchr(v->value.v_utf8.str, '.'))
		return mdq_fail(err, 40158, "the count field cannot start with '$' "
		                "or contain '.'");
	s->name = v->value.v_utf8.str;
	return 0;
}

static int parse_n(struct stage *s, const char *k, const bson_value_t *v,
                   struct mdq_error *err)
{
	bool limit = s->kind == S_LIMIT;
	if (!mdq_to_int64(v, &s->n))
		return mdq_fail(err, limit ? 15957 : 15972, "the %s must be "
		                "specified as an integral number", k + 1);
	if (limit ? s->n <= 0 : s->n < 0)
		return mdq_fail(err, limit ? 15958 : 15956, "the %s must be %s",
		                k + 1, limit ? "positive" : "non-negative");
	return 0;
}

/* A stage's argument when it must be an object: its view in d. */
static int object_arg(const char *k, const bson_value_t *v, bson_t *d,
                      struct mdq_error *err)
{
	if (v->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(v, d))
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "the %s stage's argument "
		                "must be an object", k);
	return 0;
}

static int parse_stage(struct stage *s, bson_iter_t *it, struct mdq_error *err)
{
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	bson_t d;
	if (!strcmp(k, "$match")) {
		s->kind = S_MATCH;
		return object_arg(k, v, &d, err) ||
		       !(s->filter = mdq_filter_parse(&d, err)) ? -1 : 0;
	}
	if (!strcmp(k, "$project")) {
		s->kind = S_PROJECT;
		if (object_arg(k, v, &d, err))
			return -1;
		if (bson_empty(&d))
			return mdq_fail(err, 51272, "$project requires at least "
			                "one output field");
		return !(s->proj = mdq_projection_parse(&d, err)) ? -1 : 0;
	}
	if (!strcmp(k, "$sort")) {
		s->kind = S_SORT;
		if (object_arg(k, v, &d, err))
			return -1;
		if (bson_empty(&d))
			return mdq_fail(err, 15976, "$sort stage must have at least "
			                "one sort key");
		return !(s->sort = mdq_sort_parse(&d, err)) ? -1 : 0;
	}
	if (!strcmp(k, "$group")) {
		s->kind = S_GROUP;
		return !(s->group = mdq_group_parse(v, err)) ? -1 : 0;
	}
	if (!strcmp(k, "$skip") || !strcmp(k, "$limit")) {
		s->kind = k[1] == 's' ? S_SKIP : S_LIMIT;
		return parse_n(s, k, v, err);
	}
	if (!strcmp(k, "$count")) {
		s->kind = S_COUNT;
		return parse_count(s, v, err);
	}
	return mdq_fail(err, MDQ_UNKNOWN_STAGE, "Unrecognized pipeline stage "
	                "name: '%.100s'", k);
}

mdq_pipeline_t *mdq_pipeline_parse(const bson_t *pipeline, size_t mem_limit,
                                   struct mdq_error *err)
{
	bson_iter_t it, st;
	if (mdq_check_bson(pipeline, "pipeline", err))
		return NULL;
	mdq_pipeline_t *p = calloc(1, sizeof(*p));
	uint32_t n = bson_count_keys(pipeline);
	if (!p || !(p->copy = bson_copy(pipeline)) ||
	    !(p->st = calloc(n ? n : 1, sizeof(*p->st)))) {
		mdq_pipeline_free(p);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	p->mem_limit = mem_limit ? mem_limit : MDQ_DEFAULT_MEM_LIMIT;
	bson_iter_init(&it, p->copy);
	while (bson_iter_next(&it)) {
		int rc;
		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &st))
			rc = mdq_fail(err, MDQ_TYPE_MISMATCH, "Each element of the "
			              "'pipeline' array must be an object");
		else if (!bson_iter_next(&st) || bson_iter_next(&st) ||
		         !bson_iter_recurse(&it, &st) || !bson_iter_next(&st))
			rc = mdq_fail(err, MDQ_STAGE_NOT_ONE_FIELD, "A pipeline stage "
			              "specification object must contain exactly one "
			              "field.");
		else
			rc = parse_stage(&p->st[p->n++], &st, err);
		if (rc) {
			mdq_pipeline_free(p);
			return NULL;
		}
	}
	return p;
}

/* ---- running ---- */

/* A document $sort holds, with its place in the input for ties. */
struct held {
	bson_t *doc;
	size_t seq;
};

struct sstate {
	int64_t seen;
	struct held *docs; /* $sort */
	size_t ndocs, cap;
	size_t mem;
	struct group_state *g;
};

struct run {
	const mdq_pipeline_t *p;
	struct sstate *ss;
	mdq_sink_fn sink;
	void *kctx;
	struct mdq_error *err;
};

enum { GO = 0, STOP = 1 };

static int push(struct run *r, size_t i, const bson_t *doc);

static int sort_hold(struct run *r, struct sstate *ss, const bson_t *doc)
{
	ss->mem += doc->len + sizeof(bson_t) + sizeof(struct held);
	if (ss->mem > r->p->mem_limit)
		return mdq_fail(r->err, MDQ_MEMORY_LIMIT, "Sort exceeded memory "
		                "limit of %zu bytes, but did not opt in to "
		                "external sorting.", r->p->mem_limit);
	if (ss->ndocs == ss->cap) {
		size_t cap = ss->cap ? 2 * ss->cap : 64;
		struct held *nd = realloc(ss->docs, cap * sizeof(*nd));
		if (!nd)
			return mdq_fail(r->err, MDQ_BAD_VALUE, "out of memory");
		ss->docs = nd;
		ss->cap = cap;
	}
	if (!(ss->docs[ss->ndocs].doc = bson_copy(doc)))
		return mdq_fail(r->err, MDQ_BAD_VALUE, "out of memory");
	ss->docs[ss->ndocs].seq = ss->ndocs;
	ss->ndocs++;
	return GO;
}

static int push(struct run *r, size_t i, const bson_t *doc)
{
	if (i == r->p->n)
		return r->sink(r->kctx, doc, r->err) ? -1 : GO;
	const struct stage *s = &r->p->st[i];
	struct sstate *ss = &r->ss[i];
	switch (s->kind) {
	case S_MATCH:
		return mdq_filter_match(s->filter, doc) ? push(r, i + 1, doc) : GO;
	case S_SKIP:
		return ss->seen++ < s->n ? GO : push(r, i + 1, doc);
	case S_LIMIT: {
		if (ss->seen >= s->n)
			return STOP;
		ss->seen++;
		int rc = push(r, i + 1, doc);
		return rc < 0 ? rc : ss->seen >= s->n ? STOP : rc;
	}
	case S_PROJECT: {
		bson_t out = BSON_INITIALIZER;
		mdq_projection_apply(s->proj, doc, &out);
		int rc = push(r, i + 1, &out);
		bson_destroy(&out);
		return rc;
	}
	case S_SORT:
		return sort_hold(r, ss, doc);
	case S_GROUP:
		return mdq_group_add(ss->g, doc, r->err) ? -1 : GO;
	case S_COUNT:
		ss->seen++;
		return GO;
	}
	return GO;
}

static int cmp_docs(const void *a, const void *b, void *sort)
{
	const struct held *da = a, *db = b;
	int c = mdq_sort_compare(sort, da->doc, db->doc);
	/* Ties keep the input order, so a result does not depend on qsort. */
	return c ? c : (da->seq > db->seq) - (da->seq < db->seq);
}

/* The source has ended: stage i pushes what it held, then downstream. */
static int finish(struct run *r, size_t i)
{
	int rc = GO;
	if (i == r->p->n)
		return GO;
	const struct stage *s = &r->p->st[i];
	struct sstate *ss = &r->ss[i];
	if (s->kind == S_SORT) {
		if (ss->ndocs > 1)
			qsort_r(ss->docs, ss->ndocs, sizeof(*ss->docs), cmp_docs,
			        s->sort);
		for (size_t j = 0; rc == GO && j < ss->ndocs; j++)
			rc = push(r, i + 1, ss->docs[j].doc);
	} else if (s->kind == S_GROUP) {
		for (size_t j = 0; rc == GO && j < mdq_group_count(ss->g); j++) {
			bson_t out = BSON_INITIALIZER;
			mdq_group_result(ss->g, j, &out);
			rc = push(r, i + 1, &out);
			bson_destroy(&out);
		}
	} else if (s->kind == S_COUNT && ss->seen > 0) {
		bson_t out = BSON_INITIALIZER;
		if (ss->seen <= INT32_MAX)
			bson_append_int32(&out, s->name, -1, (int32_t)ss->seen);
		else
			bson_append_int64(&out, s->name, -1, ss->seen);
		rc = push(r, i + 1, &out);
		bson_destroy(&out);
	}
	return rc < 0 ? rc : finish(r, i + 1);
}

static void run_end(struct run *r)
{
	for (size_t i = 0; i < r->p->n; i++) {
		for (size_t j = 0; j < r->ss[i].ndocs; j++)
			bson_destroy(r->ss[i].docs[j].doc);
		free(r->ss[i].docs);
		mdq_group_end(r->ss[i].g);
	}
	free(r->ss);
}

int mdq_pipeline_run(const mdq_pipeline_t *p, mdq_source_fn src, void *sctx,
                     mdq_sink_fn sink, void *kctx, struct mdq_error *err)
{
	struct run r = { p, calloc(p->n ? p->n : 1, sizeof(*r.ss)), sink, kctx,
	                 err };
	int rc = GO;
	if (!r.ss)
		return mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
	for (size_t i = 0; i < p->n; i++)
		if (p->st[i].kind == S_GROUP &&
		    !(r.ss[i].g = mdq_group_start(p->st[i].group, p->mem_limit)))
			rc = mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
	while (rc == GO) {
		const bson_t *doc;
		int got = src(sctx, &doc, err);
		if (got < 0)
			rc = -1;
		if (got <= 0)
			break;
		rc = push(&r, 0, doc);
	}
	if (rc >= 0)
		rc = finish(&r, 0);
	run_end(&r);
	return rc < 0 ? -1 : 0;
}
