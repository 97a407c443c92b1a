/*
 * refcmp.h (tests only): the shared BSON order written the plain way,
 * by recursion over values, as the oracle the key encoding must agree
 * with; and random values to feed both, numbers picked where the order
 * is hard (around 2^53 and 2^63, NaN, -0.0, infinities).
 */
#ifndef MDL_REFCMP_H
#define MDL_REFCMP_H

#include <bson/bson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs_state;

static uint64_t rnd(void)
{
	uint64_t z = (rs_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int rnd_n(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static int ref_rank(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY: return 1;
	case BSON_TYPE_NULL: case BSON_TYPE_UNDEFINED: return 2;
	case BSON_TYPE_INT32: case BSON_TYPE_INT64: case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return 3;
	case BSON_TYPE_UTF8: case BSON_TYPE_SYMBOL: return 4;
	case BSON_TYPE_DOCUMENT: return 5;
	case BSON_TYPE_ARRAY: return 6;
	case BSON_TYPE_BINARY: return 7;
	case BSON_TYPE_OID: return 8;
	case BSON_TYPE_BOOL: return 9;
	case BSON_TYPE_DATE_TIME: return 10;
	case BSON_TYPE_TIMESTAMP: return 11;
	case BSON_TYPE_REGEX: return 12;
	case BSON_TYPE_DBPOINTER: return 13;
	case BSON_TYPE_CODE: return 14;
	case BSON_TYPE_CODEWSCOPE: return 15;
	case BSON_TYPE_MAXKEY: return 16;
	default: return 0;
	}
}

#define SGN(x) (((x) > 0) - ((x) < 0))

static int ref_bytes(const void *a, size_t na, const void *b, size_t nb)
{
	int r = memcmp(a, b, na < nb ? na : nb);
	return r ? SGN(r) : SGN((long long)na - (long long)nb);
}

/* Numbers exactly: long double holds any int64 and any double. */
static long double ref_num(const bson_value_t *v, int *nan)
{
	long double x;
	char s[BSON_DECIMAL128_STRING];
	switch (v->value_type) {
	case BSON_TYPE_INT32: x = v->value.v_int32; break;
	case BSON_TYPE_INT64: x = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE: x = v->value.v_double; break;
	default:
		bson_decimal128_to_string(&v->value.v_decimal128, s);
		x = strtod(s, NULL); /* the documented double ordering */
	}
	*nan = isnan(x);
	return x;
}

static int ref_cmp(const bson_value_t *a, const bson_value_t *b);

static int ref_docs(const uint8_t *da, uint32_t la, const uint8_t *db,
                    uint32_t lb, int named)
{
	bson_iter_t ia, ib;
	bson_iter_init_from_data(&ia, da, la);
	bson_iter_init_from_data(&ib, db, lb);
	for (;;) {
		int ha = bson_iter_next(&ia), hb = bson_iter_next(&ib);
		if (!ha || !hb)
			return ha - hb; /* the longer one is greater */
		const bson_value_t *va = bson_iter_value(&ia);
		const bson_value_t *vb = bson_iter_value(&ib);
		int r = SGN(ref_rank(va->value_type) - ref_rank(vb->value_type));
		if (!r && named)
			r = SGN(strcmp(bson_iter_key(&ia), bson_iter_key(&ib)));
		if (!r)
			r = ref_cmp(va, vb);
		if (r)
			return r;
	}
}

static void ref_str(const bson_value_t *v, const char **s, size_t *n)
{
	if (v->value_type == BSON_TYPE_UTF8) {
		*s = v->value.v_utf8.str;
		*n = v->value.v_utf8.len;
	} else {
		*s = v->value.v_symbol.symbol;
		*n = v->value.v_symbol.len;
	}
}

static int ref_cmp(const bson_value_t *a, const bson_value_t *b)
{
	int r = SGN(ref_rank(a->value_type) - ref_rank(b->value_type));
	if (r)
		return r;
	const char *sa, *sb;
	size_t na, nb;
	switch (ref_rank(a->value_type)) {
	case 3: {
		int nan_a, nan_b;
		long double x = ref_num(a, &nan_a), y = ref_num(b, &nan_b);
		if (nan_a || nan_b)
			return nan_b - nan_a;
		return (x > y) - (x < y);
	}
	case 4:
		ref_str(a, &sa, &na);
		ref_str(b, &sb, &nb);
		return ref_bytes(sa, na, sb, nb);
	case 5: case 6:
		return ref_docs(a->value.v_doc.data, a->value.v_doc.data_len,
		                b->value.v_doc.data, b->value.v_doc.data_len,
		                a->value_type == BSON_TYPE_DOCUMENT);
	case 7:
		if (a->value.v_binary.data_len != b->value.v_binary.data_len)
			return a->value.v_binary.data_len < b->value.v_binary.data_len
			       ? -1 : 1;
		if (a->value.v_binary.subtype != b->value.v_binary.subtype)
			return a->value.v_binary.subtype < b->value.v_binary.subtype
			       ? -1 : 1;
		return ref_bytes(a->value.v_binary.data, a->value.v_binary.data_len,
		                 b->value.v_binary.data, b->value.v_binary.data_len);
	case 8: return ref_bytes(a->value.v_oid.bytes, 12, b->value.v_oid.bytes,
	                         12);
	case 9: return a->value.v_bool - b->value.v_bool;
	case 10: return SGN((a->value.v_datetime > b->value.v_datetime) -
	                    (a->value.v_datetime < b->value.v_datetime));
	case 11:
		if (a->value.v_timestamp.timestamp != b->value.v_timestamp.timestamp)
			return a->value.v_timestamp.timestamp <
			       b->value.v_timestamp.timestamp ? -1 : 1;
		return SGN((long long)a->value.v_timestamp.increment -
		           (long long)b->value.v_timestamp.increment);
	case 12:
		r = SGN(strcmp(a->value.v_regex.regex, b->value.v_regex.regex));
		return r ? r : SGN(strcmp(a->value.v_regex.options,
		                          b->value.v_regex.options));
	case 14:
		return ref_bytes(a->value.v_code.code, a->value.v_code.code_len,
		                 b->value.v_code.code, b->value.v_code.code_len);
	default: return 0; /* MinKey, null, MaxKey */
	}
}

static const int64_t hard_ints[] = {
	0, 1, -1, 2, 42, INT32_MAX, INT32_MIN, (1ll << 53) - 1, 1ll << 53,
	(1ll << 53) + 1, (1ll << 53) + 2, -(1ll << 53) - 1, INT64_MAX,
	INT64_MAX - 1, INT64_MAX - 512, INT64_MAX - 1023, INT64_MIN,
	INT64_MIN + 1, (1ll << 62) + 1, -(1ll << 62) - 3,
};

static int64_t gen_int(void)
{
	int64_t v = hard_ints[rnd_n(sizeof(hard_ints) / sizeof(*hard_ints))];
	switch (rnd_n(4)) {
	case 0: return v;
	case 1: return (int64_t)((uint64_t)v + (uint64_t)(rnd_n(5) - 2));
	case 2: return (int64_t)rnd() >> rnd_n(64);
	default: return rnd_n(7) - 3;
	}
}

static double gen_double(void)
{
	static const double odd[] = {0.0, -0.0, 0.5, -0.5, 1.0, INFINITY,
	                             -INFINITY, 9007199254740992.0,
	                             9223372036854775808.0,
	                             -9223372036854775808.0, 1e300, -1e-300};
	switch (rnd_n(4)) {
	case 0: return odd[rnd_n(sizeof(odd) / sizeof(*odd))];
	case 1: return NAN;
	case 2: return (double)gen_int();
	default: return (double)gen_int() + 0.5 * (rnd_n(3) - 1);
	}
}

static void gen_str(char *s, size_t *n)
{
	static const char abc[] = {'\0', 'a', 'b', '\xff', '\x01'};
	*n = (size_t)rnd_n(5);
	for (size_t i = 0; i < *n; i++)
		s[i] = abc[rnd_n(5)];
}

static void gen_value(bson_t *p, const char *k, int depth);

static void gen_doc(bson_t *p, const char *k, int depth, int array)
{
	static const char *names[] = {"", "a", "b", "ab"};
	bson_t c;
	char key[16];
	int n = rnd_n(4);
	if (array)
		bson_append_array_begin(p, k, -1, &c);
	else
		bson_append_document_begin(p, k, -1, &c);
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%d", i);
		gen_value(&c, array ? key : names[rnd_n(4)], depth + 1);
	}
	if (array)
		bson_append_array_end(p, &c);
	else
		bson_append_document_end(p, &c);
}

static void gen_value(bson_t *p, const char *k, int depth)
{
	char s[16];
	size_t n;
	uint8_t bin[3] = {(uint8_t)rnd_n(3), 0xFF, 0};
	bson_oid_t oid;
	memset(&oid, 0, sizeof(oid));
	oid.bytes[rnd_n(12)] = (uint8_t)rnd_n(3);
	bson_decimal128_t dec;
	switch (rnd_n(depth > 2 ? 19 : 21)) {
	case 0: bson_append_minkey(p, k, -1); break;
	case 1: bson_append_maxkey(p, k, -1); break;
	case 2: bson_append_null(p, k, -1); break;
	case 3: bson_append_undefined(p, k, -1); break;
	case 4: case 5: bson_append_int32(p, k, -1, (int32_t)gen_int()); break;
	case 6: case 7: bson_append_int64(p, k, -1, gen_int()); break;
	case 8: case 9: bson_append_double(p, k, -1, gen_double()); break;
	case 10:
		snprintf(s, sizeof(s), "%d.5", rnd_n(5) - 2);
		bson_decimal128_from_string(rnd_n(3) ? s : "NaN", &dec);
		bson_append_decimal128(p, k, -1, &dec);
		break;
	case 11: gen_str(s, &n); bson_append_utf8(p, k, -1, s, (int)n); break;
	case 12: gen_str(s, &n); bson_append_symbol(p, k, -1, s, (int)n); break;
	case 13:
		bson_append_binary(p, k, -1, (bson_subtype_t)rnd_n(2), bin,
		                   (uint32_t)rnd_n(3));
		break;
	case 14: bson_append_oid(p, k, -1, &oid); break;
	case 15: bson_append_bool(p, k, -1, rnd_n(2)); break;
	case 16: bson_append_date_time(p, k, -1, gen_int()); break;
	case 17:
		bson_append_timestamp(p, k, -1, (uint32_t)rnd_n(3) * 0x7FFFFFFFu,
		                      (uint32_t)rnd_n(3) * 0x80000001u);
		break;
	case 18:
		bson_append_regex(p, k, -1, rnd_n(2) ? "a" : "ab",
		                  rnd_n(2) ? "i" : "");
		break;
	default: gen_doc(p, k, depth, rnd_n(2)); break;
	}
}

#endif
