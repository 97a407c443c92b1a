/*
 * test_mdq_agg.c: the pipeline: countDocuments' exact shape, $group's
 * accumulators, $sort/$skip/$limit/$project/$count, the errors, the
 * memory limits, an early stop at $limit, and random countDocuments
 * against a count by hand.
 */
#include "test_mdq.h"
#include "check_run.h"

struct src {
	bson_t **docs;
	int n, next;
};

static int pull(void *ctx, const bson_t **doc, struct mdq_error *err)
{
	struct src *s = ctx;
	(void)err;
	if (s->next >= s->n)
		return 0;
	*doc = s->docs[s->next++];
	return 1;
}

struct sink {
	bson_t *out[256];
	int n;
};

static int collect(void *ctx, const bson_t *doc, struct mdq_error *err)
{
	struct sink *k = ctx;
	(void)err;
	ck_assert_int_lt(k->n, 256);
	k->out[k->n++] = keep(bson_copy(doc));
	return 0;
}

/* The pipeline (JSON array as {'p': [...]}) over docs; its results. */
static int run(const char *pipeline, bson_t **docs, int n, struct sink *k,
               size_t limit, struct mdq_error *err, int *pulled)
{
	bson_t *w = J(pipeline), arr;
	bson_iter_t it;
	ck_assert(bson_iter_init_find(&it, w, "p"));
	const uint8_t *data;
	uint32_t len;
	bson_iter_array(&it, &len, &data);
	ck_assert(bson_init_static(&arr, data, len));
	memset(k, 0, sizeof(*k));
	mdq_pipeline_t *p = mdq_pipeline_parse(&arr, limit, err);
	if (!p)
		return -2;
	struct src s = { docs, n, 0 };
	int rc = mdq_pipeline_run(p, pull, &s, collect, k, err);
	if (pulled)
		*pulled = s.next;
	mdq_pipeline_free(p);
	return rc;
}

static bson_t *docs[64];

static int make_docs(void)
{
	const char *d[] = {
		"{'_id': 1, 'k': 'a', 'n': 1, 'x': 1.5}",
		"{'_id': 2, 'k': 'b', 'n': 2}",
		"{'_id': 3, 'k': 'a', 'n': {'$numberLong': '3'}, 'x': 'no'}",
		"{'_id': 4, 'n': 4, 'x': -1}",
		"{'_id': 5, 'k': 'b', 'n': 5, 'x': null}",
	};
	for (int i = 0; i < 5; i++)
		docs[i] = J(d[i]);
	return 5;
}

static void want(const struct sink *k, int i, const char *json)
{
	bson_t *w = J(json);
	ck_assert_int_gt(k->n, i);
	ck_assert_msg(k->out[i]->len == w->len && !memcmp(bson_get_data(k->out[i]),
	              bson_get_data(w), w->len), "result %d: %s, want %s", i,
	              S(k->out[i]), S(w));
}

START_TEST(count_documents)
{
	struct sink k;
	struct mdq_error err = { 0 };
	int n = make_docs(), pulled;
	ck_assert_int_eq(run("{'p': [{'$match': {'n': {'$gte': 2}}}, "
	                     "{'$group': {'_id': 1, 'n': {'$sum': 1}}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 1);
	want(&k, 0, "{'_id': 1, 'n': 4}");
	ck_assert_int_eq(run("{'p': [{'$match': {}}, {'$skip': 1}, {'$limit': 2}, "
	                     "{'$group': {'_id': 1, 'n': {'$sum': 1}}}]}",
	                     docs, n, &k, 0, &err, &pulled), 0);
	want(&k, 0, "{'_id': 1, 'n': 2}");
	ck_assert_int_eq(pulled, 3); /* the limit stopped the source */
	ck_assert_int_eq(run("{'p': [{'$match': {'zz': 1}}, "
	                     "{'$group': {'_id': 1, 'n': {'$sum': 1}}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 0); /* nothing matched: no document */
	ck_assert_int_eq(run("{'p': [{'$match': {'k': 'a'}}, {'$count': 'c'}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	want(&k, 0, "{'c': 2}");
	pool_free();
}
END_TEST

START_TEST(group)
{
	struct sink k;
	struct mdq_error err = { 0 };
	int n = make_docs();
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': '$k', 't': {'$sum': '$n'}, "
	                     "'c': {'$count': {}}, 'a': {'$avg': '$n'}, "
	                     "'lo': {'$min': '$x'}, 'hi': {'$max': '$x'}}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 3); /* null (no k), 'a', 'b': in key order */
	want(&k, 0, "{'_id': null, 't': 4, 'c': 1, 'a': 4.0, 'lo': -1, 'hi': -1}");
	want(&k, 1, "{'_id': 'a', 't': {'$numberLong': '4'}, 'c': 2, 'a': 2.0, "
	            "'lo': 1.5, 'hi': 'no'}");
	want(&k, 2, "{'_id': 'b', 't': 7, 'c': 2, 'a': 3.5, 'lo': null, "
	            "'hi': null}");
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': null, 's': {'$sum': '$x'}}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	want(&k, 0, "{'_id': null, 's': 0.5}"); /* non-numbers skipped */
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': {'k': '$k', 'c': 1}, "
	                     "'n': {'$sum': 1}}}, {'$sort': {'n': -1, '_id.k': 1}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 3);
	want(&k, 0, "{'_id': {'k': 'a', 'c': 1}, 'n': 2}");
	want(&k, 1, "{'_id': {'k': 'b', 'c': 1}, 'n': 2}");
	want(&k, 2, "{'_id': {'c': 1}, 'n': 1}");
	/* int32 sums past 2^31 widen to int64 */
	bson_t *big[3] = { J("{'v': 2147483647}"), J("{'v': 1}"), J("{'v': 1}") };
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': 0, 's': {'$sum': '$v'}}}]}",
	                     big, 3, &k, 0, &err, NULL), 0);
	want(&k, 0, "{'_id': 0, 's': {'$numberLong': '2147483649'}}");
	pool_free();
}
END_TEST

START_TEST(stages)
{
	struct sink k;
	struct mdq_error err = { 0 };
	int n = make_docs();
	ck_assert_int_eq(run("{'p': [{'$sort': {'n': -1}}, {'$skip': 1}, "
	                     "{'$limit': 2}, {'$project': {'n': 1, '_id': 0}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 2);
	want(&k, 0, "{'n': 4}");
	want(&k, 1, "{'n': {'$numberLong': '3'}}");
	ck_assert_int_eq(run("{'p': [{'$sort': {'k': 1, '_id': -1}}, "
	                     "{'$project': {'_id': 1}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 5);
	const char *order[] = { "{'_id': 4}", "{'_id': 3}", "{'_id': 1}",
	                        "{'_id': 5}", "{'_id': 2}" };
	for (int i = 0; i < 5; i++)
		want(&k, i, order[i]);
	/* ties keep the input order */
	ck_assert_int_eq(run("{'p': [{'$sort': {'k': -1}}, {'$project': {'_id': 1}}]}",
	                     docs, n, &k, 0, &err, NULL), 0);
	const char *ties[] = { "{'_id': 2}", "{'_id': 5}", "{'_id': 1}",
	                       "{'_id': 3}", "{'_id': 4}" };
	for (int i = 0; i < 5; i++)
		want(&k, i, ties[i]);
	ck_assert_int_eq(run("{'p': []}", docs, n, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 5);
	pool_free();
}
END_TEST

static void refused(const char *pipeline, int code)
{
	struct sink k;
	struct mdq_error err = { 0 };
	ck_assert_msg(run(pipeline, docs, 0, &k, 0, &err, NULL) == -2, "%s",
	              pipeline);
	ck_assert_msg(err.code == code, "%s: %d %s", pipeline, err.code, err.msg);
}

START_TEST(malformed)
{
	refused("{'p': [{'$foo': {}}]}", MDQ_UNKNOWN_STAGE);
	refused("{'p': [{'$match': {}, '$limit': 1}]}", MDQ_STAGE_NOT_ONE_FIELD);
	refused("{'p': [{}]}", MDQ_STAGE_NOT_ONE_FIELD);
	refused("{'p': [5]}", MDQ_TYPE_MISMATCH);
	refused("{'p': [{'$match': {'a': {'$bad': 1}}}]}", MDQ_BAD_VALUE);
	refused("{'p': [{'$match': 5}]}", MDQ_FAILED_TO_PARSE);
	refused("{'p': [{'$limit': 0}]}", 15958);
	refused("{'p': [{'$limit': 'x'}]}", 15957);
	refused("{'p': [{'$skip': -1}]}", 15956);
	refused("{'p': [{'$skip': 1.5}]}", 15972);
	refused("{'p': [{'$sort': {}}]}", 15976);
	refused("{'p': [{'$sort': {'a': 2}}]}", MDQ_BAD_VALUE);
	refused("{'p': [{'$project': {'a': 1, 'b': 0}}]}",
	        MDQ_PROJ_EXCLUSION_IN_INCLUSION);
	refused("{'p': [{'$count': ''}]}", 40156);
	refused("{'p': [{'$count': 5}]}", 40156);
	refused("{'p': [{'$count': '$x'}]}", 40158);
	refused("{'p': [{'$group': {'n': {'$sum': 1}}}]}", 15955);
	refused("{'p': [{'$group': {'_id': 1, 'n': {'$foo': 1}}}]}", 15952);
	refused("{'p': [{'$group': {'_id': 1, 'n': 5}}]}", 40234);
	refused("{'p': [{'$group': {'_id': 1, 'n': {'$sum': 1, '$avg': 1}}}]}",
	        40234);
	refused("{'p': [{'$group': {'_id': '$$ROOT'}}]}", MDQ_BAD_VALUE);
	refused("{'p': [{'$group': {'_id': 1, 'n': {'$count': 1}}}]}",
	        MDQ_BAD_VALUE);
	refused("{'p': [{'$group': 5}]}", 15947);
	pool_free();
}
END_TEST

/* $group and $sort past their byte limit fail with code 292. */
START_TEST(memory_limit)
{
	static bson_t *many[64];
	struct sink k;
	struct mdq_error err = { 0 };
	char buf[128];
	for (int i = 0; i < 64; i++) {
		snprintf(buf, sizeof(buf), "{'_id': %d, 's': 'xxxxxxxxxxxxxxxx%d'}", i, i);
		many[i] = J(buf);
	}
	ck_assert_int_eq(run("{'p': [{'$sort': {'s': 1}}]}", many, 64, &k, 1000,
	                     &err, NULL), -1);
	ck_assert_int_eq(err.code, MDQ_MEMORY_LIMIT);
	err.code = 0;
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': '$s'}}]}", many, 64, &k,
	                     1000, &err, NULL), -1);
	ck_assert_int_eq(err.code, MDQ_MEMORY_LIMIT);
	err.code = 0;
	ck_assert_int_eq(run("{'p': [{'$group': {'_id': '$s', 'm': {'$max': '$s'}}}]}",
	                     many, 64, &k, 0, &err, NULL), 0);
	ck_assert_int_eq(k.n, 64);
	ck_assert_int_eq(run("{'p': [{'$sort': {'s': 1}}]}", many, 64, &k, 100000,
	                     &err, NULL), 0);
	ck_assert_int_eq(k.n, 64);
	pool_free();
}
END_TEST

/* countDocuments with random filters, skips and limits: a count by hand. */
START_TEST(count_random)
{
	static bson_t *rd[200];
	seed(91 + (uint64_t)_i);
	for (int i = 0; i < 200; i++) {
		rd[i] = keep(bson_new());
		bson_append_int32(rd[i], "_id", 3, i);
		if (rnd() % 4)
			bson_append_int32(rd[i], "a", 1, (int32_t)(rnd() % 10));
	}
	for (int t = 0; t < 200; t++) {
		int x = (int)(rnd() % 10), skip = (int)(rnd() % 50);
		int limit = (int)(rnd() % 200);
		char p[512];
		snprintf(p, sizeof(p), "{'p': [{'$match': {'a': {'$lt': %d}}}, "
		         "{'$skip': %d}, {'$limit': %d}, "
		         "{'$group': {'_id': 1, 'n': {'$sum': 1}}}]}",
		         x, skip, limit ? limit : 1);
		int matched = 0;
		for (int i = 0; i < 200; i++) {
			bson_iter_t it;
			if (bson_iter_init_find(&it, rd[i], "a") &&
			    bson_iter_int32(&it) < x)
				matched++;
		}
		int expect = matched - skip;
		if (expect < 0)
			expect = 0;
		if (expect > (limit ? limit : 1))
			expect = limit ? limit : 1;
		struct sink k;
		struct mdq_error err;
		ck_assert_int_eq(run(p, rd, 200, &k, 0, &err, NULL), 0);
		if (expect == 0) {
			ck_assert_int_eq(k.n, 0);
		} else {
			ck_assert_int_eq(k.n, 1);
			ck_assert_int_eq(V(k.out[0], "n").value.v_int32, expect);
		}
	}
	pool_free();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_agg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, count_documents);
	tcase_add_test(tc, group);
	tcase_add_test(tc, stages);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, memory_limit);
	tcase_add_loop_test(tc, count_random, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
