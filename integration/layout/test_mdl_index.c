/*
 * test_mdl_index.c: indexes against an in-memory model. Random inserts,
 * updates and removes of random documents (seeded; MDL_SEED=N to
 * replay), each in its own transaction, on a collection with _id_, a
 * non-unique, a compound mixed-direction and a unique dotted index; the
 * model predicts each outcome (duplicate, array refused, ok), and every
 * so often every index is scanned, whole and between random bounds, both
 * ways, and compared with the model sorted by refcmp.h's order. Then
 * createIndex over existing documents, and the duplicate key report.
 */
#include <check.h>
#include "check_run.h"
#include <pthread.h>
#include <string.h>

#include "refcmp.h"
#include "wtfix.h"

#define NS "t.c"
#define OPS 3000
#define SLOTS 4096

struct mix {
	const char *name;
	const char *f[2];
	int desc[2], nf, unique;
};

static const struct mix ixs[] = {
	{"_id_", {"_id"}, {0}, 1, 1},
	{"a_1", {"a"}, {0}, 1, 0},
	{"b_-1_a_1", {"b", "a"}, {1, 0}, 2, 0},
	{"cd_1", {"c.d"}, {0}, 1, 1},
	{"m_1", {"m"}, {0}, 1, 0},     /* multikey */
	{"u_-1", {"u"}, {1}, 1, 1},    /* multikey, unique, descending */
};
#define NIX 6
#define KEYS_MAX 8

struct mdoc {
	int64_t rid;
	bson_t *doc;
};

static struct mdoc model[SLOTS];
static int nmodel;
static const struct mix *sort_ix;

/* The model's own path lookup (libbson's), null if missing. */
static bson_value_t mval(const bson_t *doc, const char *path)
{
	bson_iter_t it, d;
	bson_value_t v = {.value_type = BSON_TYPE_NULL};
	if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &d))
		v = *bson_iter_value(&d);
	return v;
}

static int key_cmp(const struct mix *x, const bson_t *a, const bson_t *b,
                   int fields)
{
	for (int i = 0; i < fields; i++) {
		bson_value_t va = mval(a, x->f[i]), vb = mval(b, x->f[i]);
		int r = ref_cmp(&va, &vb);
		if (r)
			return x->desc[i] ? -r : r;
	}
	return 0;
}

static void add_field(bson_t *d, const char *k)
{
	int p = rnd_n(100);
	if (p < 8)
		return; /* missing: indexed as null */
	if (p < 10) {
		bson_t arr;
		bson_append_array_begin(d, k, -1, &arr);
		bson_append_int32(&arr, "0", 1, 1);
		bson_append_array_end(d, &arr);
		return;
	}
	gen_value(d, k, 3); /* any scalar type */
}

static bson_t *random_doc(int id)
{
	bson_t *d = bson_new(), c;
	BSON_APPEND_INT32(d, "_id", id);
	add_field(d, "a");
	add_field(d, "b");
	if (rnd_n(50)) {
		bson_append_document_begin(d, "c", 1, &c);
		BSON_APPEND_INT32(&c, "d", rnd_n(400));
		bson_append_document_end(d, &c);
	}
	bson_t arr;
	char k[16];
	if (rnd_n(3)) { /* m: any values, nested arrays and documents too */
		BSON_APPEND_ARRAY_BEGIN(d, "m", &arr);
		for (int i = 0, n = rnd_n(4); i < n; i++) {
			snprintf(k, sizeof(k), "%d", i);
			gen_value(&arr, k, rnd_n(4) ? 3 : 1);
		}
		bson_append_array_end(d, &arr);
	} else {
		gen_value(d, "m", 3);
	}
	if (rnd_n(2)) { /* u: unique among all documents' elements */
		BSON_APPEND_ARRAY_BEGIN(d, "u", &arr);
		for (int i = 0, n = 1 + rnd_n(3); i < n; i++) {
			snprintf(k, sizeof(k), "%d", i);
			bson_append_int32(&arr, k, -1, rnd_n(1500));
		}
		bson_append_array_end(d, &arr);
	} else {
		BSON_APPEND_INT32(d, "u", 1500 + rnd_n(1000000));
	}
	return d;
}

/* Only a compound index refuses arrays (the model's dotted paths never
 * cross one). */
static int has_array(const struct mix *x, const bson_t *d)
{
	for (int i = 0; x->nf > 1 && i < x->nf; i++)
		if (mval(d, x->f[i]).value_type == BSON_TYPE_ARRAY)
			return 1;
	return 0;
}

/* A single-field index's key values for d: the distinct elements of an
 * array (undefined for an empty one), else the value. */
static int mkeys(const struct mix *x, const bson_t *d, bson_value_t *out)
{
	bson_value_t v = mval(d, x->f[0]);
	bson_iter_t it;
	int n = 0;
	if (v.value_type != BSON_TYPE_ARRAY) {
		out[0] = v;
		return 1;
	}
	bson_iter_init_from_data(&it, v.value.v_doc.data, v.value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);
		int dup = 0;
		for (int i = 0; i < n; i++)
			dup |= ref_cmp(&out[i], e) == 0;
		if (!dup && n < KEYS_MAX)
			out[n++] = *e;
	}
	if (!n)
		out[n++].value_type = BSON_TYPE_UNDEFINED;
	return n;
}

static int in_set(const bson_value_t *set, int n, const bson_value_t *v)
{
	for (int i = 0; i < n; i++)
		if (!ref_cmp(&set[i], v))
			return 1;
	return 0;
}

/* Index x: the keys of d are those of e (as sets). */
static int same_keys(const struct mix *x, const bson_t *d, const bson_t *e)
{
	if (x->nf > 1)
		return key_cmp(x, d, e, x->nf) == 0;
	bson_value_t a[KEYS_MAX], b[KEYS_MAX];
	int na = mkeys(x, d, a), nb = mkeys(x, e, b);
	for (int i = 0; i < na; i++)
		if (!in_set(b, nb, &a[i]))
			return 0;
	for (int i = 0; i < nb; i++)
		if (!in_set(a, na, &b[i]))
			return 0;
	return 1;
}

/* A key doc adds to unique index x (not one self had) that another
 * document has. */
static int clashes(const struct mix *x, const bson_t *doc, int self)
{
	bson_value_t nk[KEYS_MAX], ok[KEYS_MAX], other[KEYS_MAX];
	if (x->nf > 1) {
		for (int j = 0; j < nmodel; j++)
			if (j != self && !key_cmp(x, model[j].doc, doc, x->nf))
				return 1;
		return 0;
	}
	int nn = mkeys(x, doc, nk), no = self >= 0 ? mkeys(x, model[self].doc, ok)
	                                           : 0;
	for (int i = 0; i < nn; i++) {
		if (in_set(ok, no, &nk[i]))
			continue;
		for (int j = 0; j < nmodel; j++)
			if (j != self && in_set(other, mkeys(x, model[j].doc, other),
			                        &nk[i]))
				return 1;
	}
	return 0;
}

/* What the library must answer for doc replacing slot self (-1: a new
 * one), and in *which the index that refuses it. */
static int predict(const bson_t *doc, int self, int *which)
{
	for (int i = 0; i < NIX; i++) {
		*which = i;
		if (self >= 0 && same_keys(&ixs[i], model[self].doc, doc))
			continue; /* unchanged keys: not touched */
		if (i == 0 && self >= 0)
			return MDL_EIMMUTABLE;
		if (has_array(&ixs[i], doc))
			return MDL_ECANNOT_INDEX;
		if (ixs[i].unique && clashes(&ixs[i], doc, self))
			return MDL_EDUP_KEY;
	}
	return 0;
}

static int n_dup, n_array, n_immutable, n_ok, n_multi;

static void check_outcome(int rc, int want, int which)
{
	n_dup += rc == MDL_EDUP_KEY;
	n_array += rc == MDL_ECANNOT_INDEX;
	n_immutable += rc == MDL_EIMMUTABLE;
	n_ok += rc == 0;
	ck_assert_msg(rc == want, "got %d (%s), model says %d on %s", rc,
	              err.msg, want, ixs[which].name);
	if (rc == MDL_EDUP_KEY)
		ck_assert_str_eq(err.index, ixs[which].name);
}

static void op_insert(mdl_coll *c)
{
	bson_t *d = random_doc(rnd_n(120));
	int which, want = predict(d, -1, &which);
	int64_t rid;
	int rc = TXN(mdl_insert(c, d, &rid, &err));
	check_outcome(rc, want, which);
	n_multi += rc == 0 && mval(d, "u").value_type == BSON_TYPE_ARRAY;
	if (rc == 0 && nmodel < SLOTS) {
		model[nmodel].rid = rid;
		model[nmodel++].doc = d;
	} else {
		bson_destroy(d);
	}
}

static void op_update(mdl_coll *c)
{
	int s = rnd_n(nmodel);
	bson_iter_t it;
	bson_iter_init_find(&it, model[s].doc, "_id");
	int id = bson_iter_int32(&it);
	bson_t *d = random_doc(rnd_n(20) ? id : id + 1);
	int which, want = predict(d, s, &which), found;
	bson_t old;
	begin();
	int rc = 0;
	if (rnd_n(2)) {
		OK(mdl_get(c, model[s].rid, &old, &found, &err));
		ck_assert(found && bson_equal(&old, model[s].doc));
		rc = mdl_update(c, model[s].rid, &old, d, &err);
	} else {
		rc = mdl_update(c, model[s].rid, NULL, d, &err);
	}
	if (rc)
		rollback();
	else
		commit();
	check_outcome(rc, want, which);
	if (rc == 0) {
		bson_destroy(model[s].doc);
		model[s].doc = d;
	} else {
		bson_destroy(d);
	}
}

static void op_remove(mdl_coll *c)
{
	int s = rnd_n(nmodel);
	OK(TXN(mdl_remove(c, model[s].rid, &err)));
	bson_destroy(model[s].doc);
	model[s] = model[--nmodel];
}

static int in_bounds(const bson_value_t *v, const struct mdl_bounds *b)
{
	int lo = b->lo ? ref_cmp(v, b->lo) : 1;
	int hi = b->hi ? ref_cmp(v, b->hi) : -1;
	return (lo > 0 || (lo == 0 && b->lo_incl)) &&
	       (hi < 0 || (hi == 0 && b->hi_incl));
}

/* One index entry of the model: a document and, for a single-field
 * index, the key value (an element, for an array). */
struct ent {
	bson_value_t v;
	int64_t rid;
	const bson_t *doc;
};

static int by_entry(const void *pa, const void *pb)
{
	const struct ent *a = pa, *b = pb;
	int r = sort_ix->nf > 1 ? key_cmp(sort_ix, a->doc, b->doc, sort_ix->nf)
	                        : ref_cmp(&a->v, &b->v) * (sort_ix->desc[0] ? -1 : 1);
	return r ? r : SGN(a->rid - b->rid);
}

static void compare_scan(mdl_coll *c, int i, const struct mdl_bounds *b)
{
	static struct ent want[SLOTS * KEYS_MAX];
	const struct mix *x = &ixs[i];
	int n = 0, rev = b && b->reverse;
	for (int j = 0; j < nmodel; j++) {
		bson_value_t ks[KEYS_MAX];
		int nk = x->nf > 1 ? 1 : mkeys(x, model[j].doc, ks);
		if (x->nf > 1)
			ks[0] = mval(model[j].doc, x->f[0]);
		for (int k = 0; k < nk; k++)
			if (!b || in_bounds(&ks[k], b))
				want[n++] = (struct ent){ks[k], model[j].rid, model[j].doc};
	}
	sort_ix = x;
	qsort(want, (size_t)n, sizeof(*want), by_entry);
	if (rev)
		for (int j = 0; j < n / 2; j++) {
			struct ent t = want[j];
			want[j] = want[n - 1 - j];
			want[n - 1 - j] = t;
		}
	int m = 0; /* each document once, at its first entry */
	for (int j = 0; j < n; j++) {
		int dup = 0;
		for (int k = 0; k < m && !dup; k++)
			dup = want[k].rid == want[j].rid;
		if (!dup)
			want[m++] = want[j];
	}
	mdl_cursor *k;
	int64_t rid;
	bson_t doc;
	OK(mdl_index_scan_open(c, x->name, b, &k, &err));
	for (int j = 0;; j++) {
		OK(mdl_cursor_next(k, &rid, &doc, &err));
		if (!rid) {
			ck_assert_int_eq(j, m);
			break;
		}
		ck_assert_msg(j < m, "%s: more entries than the model's %d",
		              x->name, m);
		ck_assert_msg(rid == want[j].rid, "%s: entry %d is RecordId %lld, "
		              "the model says %lld", x->name, j, (long long)rid,
		              (long long)want[j].rid);
		ck_assert(bson_equal(&doc, want[j].doc));
	}
	mdl_cursor_close(k);
}

static void check_all(mdl_coll *c)
{
	OK(mdl_validate(c, &err));
	for (int i = 0; i < NIX; i++)
		compare_scan(c, i, NULL);
	for (int r = 0; r < 40; r++) {
		bson_t lo = BSON_INITIALIZER, hi = BSON_INITIALIZER;
		int i = rnd_n(NIX);
		/* bounds: a value of some document, or a random one */
		const bson_t *src = nmodel && rnd_n(2) ? model[rnd_n(nmodel)].doc
		                                       : NULL;
		bson_value_t vlo, vhi;
		gen_value(&lo, "v", 3);
		gen_value(&hi, "v", 3);
		vlo = src ? mval(src, ixs[i].f[0]) : mval(&lo, "v");
		vhi = mval(&hi, "v");
		if (ref_cmp(&vlo, &vhi) > 0) {
			bson_value_t t = vlo;
			vlo = vhi;
			vhi = t;
		}
		struct mdl_bounds b = {rnd_n(4) ? &vlo : NULL, rnd_n(4) ? &vhi : NULL,
		                       rnd_n(2), rnd_n(2), rnd_n(2)};
		if (rnd_n(4) == 0)
			b.hi = b.lo, b.hi_incl = b.lo_incl = 1; /* a point */
		compare_scan(c, i, &b);
		bson_destroy(&lo);
		bson_destroy(&hi);
	}
}

static uint64_t seed(void)
{
	const char *s = getenv("MDL_SEED");
	uint64_t v = s ? strtoull(s, NULL, 10) : 7;
	fprintf(stderr, "test_mdl_index: seed %llu\n", (unsigned long long)v);
	return v;
}

static void make_indexes(void)
{
	OK(TXN(mdl_create_collection(st, ses, NS, &err)));
	for (int i = 1; i < NIX; i++) {
		bson_t k = BSON_INITIALIZER;
		for (int f = 0; f < ixs[i].nf; f++)
			bson_append_int32(&k, ixs[i].f[f], -1, ixs[i].desc[f] ? -1 : 1);
		OK(TXN(mdl_create_index(st, ses, NS, ixs[i].name, &k, ixs[i].unique,
		                        &err)));
		bson_destroy(&k);
	}
}

START_TEST(random_ops_vs_model)
{
	rs_state = seed();
	make_indexes();
	mdl_coll *c;
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	int counts[4] = {0};
	for (int i = 0; i < OPS; i++) {
		int op = nmodel ? rnd_n(10) : 0;
		if (op < 5)
			op_insert(c);
		else if (op < 8)
			op_update(c);
		else
			op_remove(c);
		counts[op < 5 ? 0 : op < 8 ? 1 : 2]++;
		if (i % 250 == 249)
			check_all(c);
	}
	fprintf(stderr, "test_mdl_index: %d inserts, %d updates, %d removes, "
	        "%d documents left\n", counts[0], counts[1], counts[2], nmodel);
	fprintf(stderr, "test_mdl_index: %d ok, %d duplicates, %d arrays "
	        "refused, %d _id changes refused\n", n_ok, n_dup, n_array,
	        n_immutable);
	ck_assert_int_gt(nmodel, 20);
	ck_assert(n_dup > 50 && n_array > 20 && n_immutable > 5);
	ck_assert(n_multi > 100);
	check_all(c);
	mdl_coll_close(c);
}
END_TEST

static void put(mdl_coll *c, int id, int x)
{
	bson_t d = BSON_INITIALIZER;
	BSON_APPEND_INT32(&d, "_id", id);
	BSON_APPEND_INT32(&d, "x", x);
	OK(TXN(mdl_insert(c, &d, NULL, &err)));
	bson_destroy(&d);
}

START_TEST(create_index_over_documents)
{
	mdl_coll *c;
	bson_t k = BSON_INITIALIZER, e;
	BSON_APPEND_INT32(&k, "x", 1);
	OK(TXN(mdl_create_collection(st, ses, NS, &err)));
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	for (int i = 0; i < 100; i++)
		put(c, i, i % 50); /* every x twice */
	mdl_coll_close(c);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, NS, "x_1", &k, 1, &err)),
	                 MDL_EDUP_KEY);
	ck_assert_str_eq(err.index, "x_1");
	OK(mdl_catalog_entry(st, ses, NS, &e, &err));
	char *j = bson_as_relaxed_extended_json(&e, NULL);
	ck_assert_ptr_null(strstr(j, "x_1")); /* nothing stayed */
	bson_free(j);
	bson_destroy(&e);
	int dropped;
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 1);
	OK(TXN(mdl_create_index(st, ses, NS, "x_1", &k, 0, &err)));
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	OK(mdl_validate(c, &err));
	bson_value_t v = {.value_type = BSON_TYPE_DOUBLE, .value.v_double = 7.0};
	struct mdl_bounds b = {&v, &v, 1, 1, 0};
	mdl_cursor *cur;
	int64_t rid, n = 0;
	bson_t doc;
	OK(mdl_index_scan_open(c, "x_1", &b, &cur, &err));
	while (mdl_cursor_next(cur, &rid, &doc, &err) == 0 && rid)
		n++;
	mdl_cursor_close(cur);
	ck_assert_int_eq(n, 2); /* _id 7 and 57 */
	mdl_coll_close(c);
	bson_destroy(&k);
}
END_TEST

START_TEST(duplicate_report)
{
	mdl_coll *c;
	bson_t k = BSON_INITIALIZER, d, got;
	BSON_APPEND_INT32(&k, "u", 1);
	BSON_APPEND_INT32(&k, "v.w", -1);
	OK(TXN(mdl_create_collection(st, ses, NS, &err)));
	OK(TXN(mdl_create_index(st, ses, NS, "u_v", &k, 1, &err)));
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	ck_assert(bson_init_from_json(&d, "{\"_id\": 1, \"u\": \"x\", "
	                              "\"v\": {\"w\": 2}}", -1, NULL));
	OK(TXN(mdl_insert(c, &d, NULL, &err)));
	ck_assert_int_eq(TXN(mdl_insert(c, &d, NULL, &err)), MDL_EDUP_KEY);
	ck_assert_str_eq(err.index, "_id_");
	bson_destroy(&d);
	ck_assert(bson_init_from_json(&d, "{\"_id\": 2, \"u\": \"x\", "
	                              "\"v\": {\"w\": 2.0}}", -1, NULL));
	ck_assert_int_eq(TXN(mdl_insert(c, &d, NULL, &err)), MDL_EDUP_KEY);
	ck_assert_str_eq(err.index, "u_v");
	ck_assert(bson_init_static(&got, err.dupkey, err.dupkey_len));
	char *j = bson_as_relaxed_extended_json(&got, NULL);
	ck_assert_str_eq(j, "{ \"u\" : \"x\", \"v.w\" : 2.0 }");
	bson_free(j);
	bson_destroy(&d);
	/* a multikey unique index reports the element */
	bson_t kt = BSON_INITIALIZER;
	BSON_APPEND_INT32(&kt, "t", 1);
	mdl_coll_close(c);
	OK(TXN(mdl_create_index(st, ses, NS, "t_1", &kt, 1, &err)));
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	ck_assert(bson_init_from_json(&d, "{\"_id\": 10, \"u\": 10, "
	                              "\"t\": [1, 2, 2]}", -1, NULL));
	OK(TXN(mdl_insert(c, &d, NULL, &err))); /* 2 twice in one: one entry */
	bson_destroy(&d);
	ck_assert(bson_init_from_json(&d, "{\"_id\": 11, \"u\": 11, "
	                              "\"t\": [3, 2]}", -1, NULL));
	ck_assert_int_eq(TXN(mdl_insert(c, &d, NULL, &err)), MDL_EDUP_KEY);
	ck_assert_str_eq(err.index, "t_1");
	ck_assert(bson_init_static(&got, err.dupkey, err.dupkey_len));
	j = bson_as_relaxed_extended_json(&got, NULL);
	ck_assert_str_eq(j, "{ \"t\" : 2 }");
	bson_free(j);
	bson_destroy(&d);
	bson_destroy(&kt);
	/* no _id, bad BSON, _id array: refused */
	ck_assert(bson_init_from_json(&d, "{\"u\": 1}", -1, NULL));
	ck_assert_int_eq(TXN(mdl_insert(c, &d, NULL, &err)), MDL_EBAD_VALUE);
	bson_destroy(&d);
	ck_assert(bson_init_from_json(&d, "{\"_id\": [1]}", -1, NULL));
	ck_assert_int_eq(TXN(mdl_insert(c, &d, NULL, &err)), MDL_EBAD_VALUE);
	bson_destroy(&d);
	/* a string's length beyond its document: the header alone is fine */
	ck_assert(bson_init_from_json(&d, "{\"_id\": 3, \"s\": {\"t\": \"abc\"}}",
	                              -1, NULL));
	uint8_t bytes[64];
	memcpy(bytes, bson_get_data(&d), d.len);
	bytes[d.len - 10] = 0x7F; /* t's length: "abc" is 4 bytes, 9 before */
	bson_t bad;
	ck_assert(bson_init_static(&bad, bytes, d.len));
	ck_assert_int_eq(TXN(mdl_insert(c, &bad, NULL, &err)), MDL_EBAD_VALUE);
	bson_destroy(&d);
	OK(mdl_validate(c, &err));
	mdl_coll_close(c);
	bson_destroy(&k);
}
END_TEST

/* Two threads, each its own session and handle, insert overlapping _ids
 * and update each other's: every call ends ok, duplicate or write
 * conflict (then retried), and afterwards the indexes still match. */
struct writer {
	int id, oks, dups, conflicts, fails;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	WT_SESSION *s;
	mdl_coll *c;
	mdl_err e;
	if (conn->open_session(conn, NULL, "isolation=snapshot", &s) ||
	    mdl_coll_open(st, s, NS, &c, &e)) {
		w->fails++;
		return NULL;
	}
	uint64_t r = 77 + (uint64_t)w->id;
	for (int i = 0; i < 1000; i++) {
		bson_t d = BSON_INITIALIZER;
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		BSON_APPEND_INT32(&d, "_id", (int)((r >> 33) % 200));
		BSON_APPEND_INT32(&d, "x", w->id);
		for (;;) {
			s->begin_transaction(s, NULL);
			int rc = mdl_insert(c, &d, NULL, &e);
			usleep(20); /* a longer transaction, more overlap */
			if (!rc && s->commit_transaction(s, NULL) == 0) {
				w->oks++;
				break;
			}
			if (rc)
				s->rollback_transaction(s, NULL);
			if (rc == MDL_EDUP_KEY) {
				w->dups++;
				break;
			}
			if (rc != MDL_EWRITE_CONFLICT && rc) {
				w->fails++;
				break;
			}
			w->conflicts++;
		}
		bson_destroy(&d);
	}
	mdl_coll_close(c);
	s->close(s, NULL);
	return NULL;
}

START_TEST(concurrent_writers)
{
	bson_t k = BSON_INITIALIZER;
	BSON_APPEND_INT32(&k, "x", 1);
	OK(TXN(mdl_create_collection(st, ses, NS, &err)));
	OK(TXN(mdl_create_index(st, ses, NS, "x_1", &k, 0, &err)));
	struct writer w[2] = {{.id = 0}, {.id = 1}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	fprintf(stderr, "test_mdl_index: concurrent: %d+%d duplicates, %d+%d "
	        "conflicts\n", w[0].dups, w[1].dups, w[0].conflicts,
	        w[1].conflicts);
	ck_assert_int_eq(w[0].fails + w[1].fails, 0);
	ck_assert_int_eq(w[0].oks + w[1].oks + w[0].dups + w[1].dups, 2000);
	mdl_coll *c;
	int64_t n, size;
	OK(mdl_coll_open(st, ses, NS, &c, &err));
	OK(mdl_validate(c, &err));
	OK(mdl_coll_stats(c, &n, &size, &err));
	ck_assert_int_eq(n, w[0].oks + w[1].oks);
	ck_assert_int_le(n, 200);
	mdl_coll_close(c);
	bson_destroy(&k);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdl_index");
	TCase *t = tcase_create("index");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 240);
	tcase_add_test(t, random_ops_vs_model);
	tcase_add_test(t, create_index_over_documents);
	tcase_add_test(t, duplicate_report);
	tcase_add_test(t, concurrent_writers);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return wt_main(suite());
}
