/*
 * test_mdq.h: what the mdbquery tests share: documents written as JSON
 * with single quotes (freed with the test), and a seeded generator of
 * random BSON values of every type.
 */
#ifndef TEST_MDQ_H
#define TEST_MDQ_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdb_query.h"

static bson_t *pool[8192];
static int npool;

static inline bson_t *keep(bson_t *b)
{
	ck_assert_int_lt(npool, 8192);
	return pool[npool++] = b;
}

/* {'a': 1} as a document: single quotes stand for double ones. */
static inline bson_t *J(const char *json)
{
	char buf[4096];
	bson_error_t e;
	ck_assert_uint_lt(strlen(json), sizeof(buf));
	strcpy(buf, json);
	for (char *c = buf; *c; c++)
		if (*c == '\'')
			*c = '"';
	bson_t *b = bson_new_from_json((const uint8_t *)buf, -1, &e);
	ck_assert_msg(b != NULL, "bad JSON %s: %s", json, e.message);
	return keep(b);
}

static inline void pool_free(void)
{
	while (npool > 0)
		bson_destroy(pool[--npool]);
}

/* The document's text, for messages (static, overwritten). */
static inline const char *S(const bson_t *b)
{
	static char out[4][1024];
	static int n;
	char *s = bson_as_relaxed_extended_json(b, NULL);
	char *o = out[n++ % 4];
	snprintf(o, 1024, "%s", s ? s : "?");
	bson_free(s);
	return o;
}

/* The value of field k of doc (which must have it). */
static inline bson_value_t V(const bson_t *doc, const char *k)
{
	bson_iter_t it;
	ck_assert_msg(bson_iter_init_find(&it, doc, k), "no %s in %s", k, S(doc));
	return *bson_iter_value(&it);
}

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static inline void seed(uint64_t s)
{
	rng_state = s * 2654435761u + 88172645463325252ull;
}

/* A random number of a random numeric type, biased to collide. */
static inline void rand_number(bson_t *out, const char *k)
{
	static const double edge[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 2.5,
	                               9007199254740992.0, 9223372036854775808.0,
	                               -9223372036854775808.0, 1e300 };
	int64_t small = (int64_t)(rnd() % 7) - 3;
	char dec[32];
	bson_decimal128_t d;
	switch (rnd() % 9) {
	case 0: bson_append_int32(out, k, -1, (int32_t)small); break;
	case 1: bson_append_int64(out, k, -1, small); break;
	case 2: bson_append_double(out, k, -1, (double)small); break;
	case 3: bson_append_double(out, k, -1, edge[rnd() % 10]); break;
	case 4: bson_append_double(out, k, -1, rnd() % 2 ? NAN : INFINITY); break;
	case 5: /* around 2^53, where doubles lose integers */
		bson_append_int64(out, k, -1, 9007199254740992ll +
		                  (int64_t)(rnd() % 5) - 2);
		break;
	case 6: bson_append_int64(out, k, -1, rnd() % 2 ? INT64_MAX : INT64_MIN);
		break;
	case 7:
		snprintf(dec, sizeof(dec), "%d.5", (int)small);
		bson_decimal128_from_string(dec, &d);
		bson_append_decimal128(out, k, -1, &d);
		break;
	default: bson_append_double(out, k, -1, -INFINITY); break;
	}
}

static inline void rand_value(bson_t *out, const char *k, int depth);

static inline void rand_container(bson_t *out, const char *k, int depth, bool arr)
{
	bson_t sub;
	int n = (int)(rnd() % 3);
	char key[16];
	if (arr)
		bson_append_array_begin(out, k, -1, &sub);
	else
		bson_append_document_begin(out, k, -1, &sub);
	for (int i = 0; i < n; i++) {
		if (arr)
			snprintf(key, sizeof(key), "%d", i);
		else
			snprintf(key, sizeof(key), "%c", (char)('a' + rnd() % 2));
		rand_value(&sub, key, depth + 1);
	}
	if (arr)
		bson_append_array_end(out, &sub);
	else
		bson_append_document_end(out, &sub);
}

/* A random value of any type, with few distinct values per type. */
static inline void rand_value(bson_t *out, const char *k, int depth)
{
	static const char *strs[] = { "", "a", "ab", "b", "a\0b" };
	uint8_t bin[3] = { 1, 2, (uint8_t)(rnd() % 2) };
	bson_oid_t oid;
	int t = (int)(rnd() % (depth < 2 ? 22 : 20));
	uint32_t sl;
	switch (t) {
	case 0: bson_append_minkey(out, k, -1); break;
	case 1: bson_append_maxkey(out, k, -1); break;
	case 2: bson_append_null(out, k, -1); break;
	case 3: bson_append_undefined(out, k, -1); break;
	case 4: case 5: case 6: rand_number(out, k); break;
	case 7: case 8:
		sl = (uint32_t)(rnd() % 5);
		bson_append_utf8(out, k, -1, strs[sl], sl == 4 ? 3 : (int)strlen(strs[sl]));
		break;
	case 9: bson_append_symbol(out, k, -1, strs[rnd() % 4], -1); break;
	case 10:
		bson_append_binary(out, k, -1, (bson_subtype_t)(rnd() % 2), bin,
		                   (uint32_t)(1 + rnd() % 3));
		break;
	case 11:
		memset(&oid, 0, sizeof(oid));
		oid.bytes[11] = (uint8_t)(rnd() % 3);
		bson_append_oid(out, k, -1, &oid);
		break;
	case 12: bson_append_bool(out, k, -1, rnd() % 2); break;
	case 13: bson_append_date_time(out, k, -1, (int64_t)(rnd() % 3) - 1); break;
	case 14:
		bson_append_timestamp(out, k, -1, (uint32_t)(rnd() % 2) * 0xfffffff0u,
		                      (uint32_t)(rnd() % 2));
		break;
	case 15: bson_append_regex(out, k, -1, rnd() % 2 ? "a" : "b",
		                       rnd() % 2 ? "i" : ""); break;
	case 16: bson_append_code(out, k, -1, rnd() % 2 ? "x" : "y"); break;
	case 17: {
		bson_t scope = BSON_INITIALIZER;
		bson_append_int32(&scope, "s", 1, (int32_t)(rnd() % 2));
		bson_append_code_with_scope(out, k, -1, "f", &scope);
		bson_destroy(&scope);
		break;
	}
	case 18:
		memset(&oid, 0, sizeof(oid));
		bson_append_dbpointer(out, k, -1, rnd() % 2 ? "c" : "d", &oid);
		break;
	case 19: rand_number(out, k); break;
	case 20: rand_container(out, k, depth, false); break;
	default: rand_container(out, k, depth, true); break;
	}
}

#endif
