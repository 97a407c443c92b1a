/*
 * test_mdq_fuzz.c: every parser fed random corruptions of valid specs
 * (bytes flipped, lengths changed, the buffer cut): each either refuses
 * with an error code or yields an object that then applies to documents
 * without a fault (run under ASan to see it).
 */
#include "test_mdq.h"
#include "check_run.h"

static const char *specs[] = {
	"{'a': {'$gt': 1, '$in': [1, 'x', {'b': 2}]}, '$or': [{'c': null}]}",
	"{'a.b': {'$elemMatch': {'$gte': 1}}, 'd': {'$not': {'$size': 2}}}",
	"{'$set': {'a.b': 1, 'c.0': [1]}, '$inc': {'n': 2}, '$unset': {'z': 1}}",
	"{'$push': {'l': {'$each': [1, 2]}}, '$pull': {'m': {'$gt': 1}}}",
	"{'a': 1, 'b.c': 1, '_id': 0}",
	"{'p': [{'$match': {'a': 1}}, {'$group': {'_id': '$k', 'n': {'$sum': 1}}}, "
	"{'$sort': {'n': -1}}, {'$limit': 5}, {'$count': 'c'}]}",
};

static const char *targets[] = {
	"{'_id': 1, 'a': [1, {'b': 2}], 'c': null, 'l': [], 'm': [1, 2], 'n': 1}",
	"{'_id': 2, 'a': {'b': [1, 2]}, 'k': 'x', 'd': [1, 2]}",
	"{'_id': 3}",
};

static int one_doc(void *ctx, const bson_t **doc, struct mdq_error *err)
{
	int *left = ctx;
	(void)err;
	if (*left <= 0)
		return 0;
	*doc = J(targets[--*left % 3]);
	return 1;
}

static int drop(void *ctx, const bson_t *doc, struct mdq_error *err)
{
	(void)ctx; (void)doc; (void)err;
	return 0;
}

/* Each parser on b; what parses is applied to the targets. */
static void try_all(const bson_t *b)
{
	struct mdq_error err = { 0 };
	bson_t out;
	bool ch;
	mdq_filter_t *f = mdq_filter_parse(b, &err);
	mdq_projection_t *p = mdq_projection_parse(b, &err);
	mdq_update_t *u = mdq_update_parse(b, &err);
	mdq_sort_t *s = mdq_sort_parse(b, &err);
	mdq_pipeline_t *pl = mdq_pipeline_parse(b, 0, &err);
	for (int i = 0; i < 3; i++) {
		bson_t *d = J(targets[i]);
		if (f)
			mdq_filter_match(f, d);
		if (f) {
			struct mdq_bounds bd;
			mdq_filter_bounds(f, "a", i == 0, &bd);
		}
		if (p) {
			bson_init(&out);
			mdq_projection_apply(p, d, &out);
			bson_destroy(&out);
		}
		if (u) {
			bson_init(&out);
			mdq_update_apply(u, d, &out, &ch, &err);
			bson_destroy(&out);
			bson_init(&out);
			mdq_update_upsert(u, d, &out, &err);
			bson_destroy(&out);
		}
		if (s)
			mdq_sort_compare(s, d, J(targets[(i + 1) % 3]));
	}
	if (pl) {
		int left = 6;
		mdq_pipeline_run(pl, one_doc, &left, drop, NULL, &err);
	}
	mdq_filter_free(f);
	mdq_projection_free(p);
	mdq_update_free(u);
	mdq_sort_free(s);
	mdq_pipeline_free(pl);
}

/* The bytes of spec k (a pipeline: its array), in a buffer of our own. */
static uint8_t *spec_bytes(size_t k, uint32_t *len)
{
	bson_t *orig = J(specs[k]);
	bson_iter_t it;
	const uint8_t *data = bson_get_data(orig);
	*len = orig->len;
	if (bson_iter_init_find(&it, orig, "p"))
		bson_iter_array(&it, len, &data);
	uint8_t *b = malloc(*len);
	memcpy(b, data, *len);
	return b;
}

START_TEST(corrupted_specs)
{
	seed(101 + (uint64_t)_i);
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		uint32_t len;
		uint8_t *base = spec_bytes(k, &len);
		bson_t b;
		ck_assert(bson_init_static(&b, base, len));
		try_all(&b);
		for (int t = 0; t < 1500; t++) {
			uint8_t *buf = malloc(len);
			memcpy(buf, base, len);
			int flips = 1 + (int)(rnd() % 4);
			for (int i = 0; i < flips; i++) {
				uint32_t at = 4 + (uint32_t)(rnd() % (len - 5));
				buf[at] = rnd() % 2 ? (uint8_t)rnd() : buf[at] ^ 0x01;
			}
			uint32_t cut = len;
			if (rnd() % 4 == 0) { /* a shorter buffer that says so */
				cut = 5 + (uint32_t)(rnd() % (len - 4));
				memcpy(buf, &cut, 4);
				buf[cut - 1] = 0;
			}
			if (bson_init_static(&b, buf, cut))
				try_all(&b);
			free(buf);
			pool_free();
		}
		free(base);
		pool_free();
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_fuzz");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, corrupted_specs, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
