/*
 * keyenc.c: BSON values as bytes whose memcmp order is MongoDB's order
 * (mdb_layout.h gives the shared spec), so WiredTiger's default
 * collation orders index entries as MongoDB orders their values.
 *
 * A value is a type byte, one per canonical rank (0x10..0x40, so that
 * 0x00 can end a document or array and 0xFF follows every key: see
 * cursor.c), then a body:
 *   numbers   0x00 for NaN (below every number), else 0x01, the value
 *             rounded to a double in sign-flipped big-endian bits, then
 *             the exact int64 remainder (value - double) as a biased
 *             int16: rounding is monotone, so equal doubles are ordered
 *             by the remainder and int64 beyond 2^53 orders exactly
 *             against doubles. |remainder| <= 1024 for any int64.
 *             Decimal128 goes through its nearest double: decimals that
 *             round to the same double compare equal here.
 *   strings   the bytes with 0x00 written 0x00 0xFF, ended by 0x00 0x00,
 *             so a shorter string orders first and none is a prefix.
 *   objects   per field: its value's type byte, its escaped name, the
 *             value's body; then 0x00. Arrays: the values, then 0x00.
 *   bindata   length (4 bytes), subtype, bytes; ObjectId its 12 bytes;
 *             bool 0/1; date sign-flipped int64; timestamp time, inc.
 * Every encoding is prefix-free; inverting the bytes (descending) keeps
 * it so and reverses the order.
 */
#include "layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	T_MINKEY = 0x10, T_NULL = 0x14, T_NUM = 0x18, T_STR = 0x1C,
	T_OBJ = 0x20, T_ARR = 0x24, T_BIN = 0x28, T_OID = 0x2C,
	T_BOOL = 0x30, T_DATE = 0x34, T_TS = 0x38, T_REGEX = 0x3C,
	T_DBPTR = 0x3D, T_CODE = 0x3E, T_CODEWS = 0x3F, T_MAXKEY = 0x40,
};

void kb_put(struct kbuf *b, const void *d, size_t n)
{
	if (b->over || n > b->cap - b->n) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put8(struct kbuf *b, uint8_t c)
{
	kb_put(b, &c, 1);
}

static void put_be(struct kbuf *b, uint64_t v, int bytes)
{
	uint8_t x[8];
	for (int i = 0; i < bytes; i++)
		x[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	kb_put(b, x, (size_t)bytes);
}

void kb_invert(struct kbuf *b, size_t from)
{
	for (size_t i = from; i < b->n; i++)
		b->p[i] = (uint8_t)~b->p[i];
}

static void put_str(struct kbuf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i])
			continue;
		kb_put(b, s + run, i - run);
		put8(b, 0x00);
		put8(b, 0xFF);
		run = i + 1;
	}
	kb_put(b, s + run, n - run);
	put8(b, 0x00);
	put8(b, 0x00);
}

static void put_double_bits(struct kbuf *b, double d)
{
	uint64_t u;
	if (d == 0)
		d = 0; /* -0.0 == 0.0 */
	memcpy(&u, &d, 8);
	u = (u >> 63) ? ~u : u | (1ull << 63);
	put_be(b, u, 8);
}

static void put_num(struct kbuf *b, double d, int64_t rem)
{
	if (isnan(d)) {
		put8(b, 0x00);
		return;
	}
	put8(b, 0x01);
	put_double_bits(b, d);
	put_be(b, (uint64_t)(rem + 0x8000), 2);
}

/* i rounded to a double, and what rounding lost, exactly. */
static void put_int64(struct kbuf *b, int64_t i)
{
	double d = (double)i;
	int64_t rem;
	if (d >= 9223372036854775808.0) /* rounded up to 2^63 */
		rem = (i - INT64_MAX) - 1;
	else
		rem = i - (int64_t)d;
	put_num(b, d, rem);
}

static double dec_to_double(const bson_decimal128_t *dec)
{
	char s[BSON_DECIMAL128_STRING];
	bson_decimal128_to_string(dec, s);
	return strtod(s, NULL); /* "NaN", "Infinity", "-Infinity" too */
}

static int kb_value_named(struct kbuf *b, const bson_value_t *v,
                          const char *name, size_t nlen, int depth);

/* A document's or an array's fields; names only for documents. */
static int put_fields(struct kbuf *b, const uint8_t *data, uint32_t len,
                      int named, int depth)
{
	bson_iter_t it;
	if (depth > MDL_DEPTH_MAX) {
		b->deep = 1;
		return -1;
	}
	if (bson_iter_init_from_data(&it, data, len)) {
		while (bson_iter_next(&it)) {
			const bson_value_t *v = bson_iter_value(&it);
			if (kb_value_named(b, v, named ? bson_iter_key(&it) : NULL,
			                   bson_iter_key_len(&it), depth + 1))
				return -1;
		}
	}
	put8(b, 0x00);
	return 0;
}

static uint8_t type_byte(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY: return T_MINKEY;
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED: return T_NULL;
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return T_NUM;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL: return T_STR;
	case BSON_TYPE_DOCUMENT: return T_OBJ;
	case BSON_TYPE_ARRAY: return T_ARR;
	case BSON_TYPE_BINARY: return T_BIN;
	case BSON_TYPE_OID: return T_OID;
	case BSON_TYPE_BOOL: return T_BOOL;
	case BSON_TYPE_DATE_TIME: return T_DATE;
	case BSON_TYPE_TIMESTAMP: return T_TS;
	case BSON_TYPE_REGEX: return T_REGEX;
	case BSON_TYPE_DBPOINTER: return T_DBPTR;
	case BSON_TYPE_CODE: return T_CODE;
	case BSON_TYPE_CODEWSCOPE: return T_CODEWS;
	case BSON_TYPE_MAXKEY: return T_MAXKEY;
	default: return 0;
	}
}

static int put_body(struct kbuf *b, const bson_value_t *v, int depth)
{
	const bson_value_t *x = v;
	switch (v->value_type) {
	case BSON_TYPE_INT32: put_int64(b, x->value.v_int32); break;
	case BSON_TYPE_INT64: put_int64(b, x->value.v_int64); break;
	case BSON_TYPE_DOUBLE: put_num(b, x->value.v_double, 0); break;
	case BSON_TYPE_DECIMAL128:
		put_num(b, dec_to_double(&x->value.v_decimal128), 0);
		break;
	case BSON_TYPE_UTF8:
		put_str(b, x->value.v_utf8.str, x->value.v_utf8.len);
		break;
	case BSON_TYPE_SYMBOL:
		put_str(b, x->value.v_symbol.symbol, x->value.v_symbol.len);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		return put_fields(b, x->value.v_doc.data, x->value.v_doc.data_len,
		                  v->value_type == BSON_TYPE_DOCUMENT, depth);
	case BSON_TYPE_BINARY:
		put_be(b, x->value.v_binary.data_len, 4);
		put8(b, (uint8_t)x->value.v_binary.subtype);
		kb_put(b, x->value.v_binary.data, x->value.v_binary.data_len);
		break;
	case BSON_TYPE_OID: kb_put(b, x->value.v_oid.bytes, 12); break;
	case BSON_TYPE_BOOL: put8(b, x->value.v_bool ? 1 : 0); break;
	case BSON_TYPE_DATE_TIME:
		put_be(b, (uint64_t)x->value.v_datetime ^ (1ull << 63), 8);
		break;
	case BSON_TYPE_TIMESTAMP:
		put_be(b, x->value.v_timestamp.timestamp, 4);
		put_be(b, x->value.v_timestamp.increment, 4);
		break;
	case BSON_TYPE_REGEX:
		put_str(b, x->value.v_regex.regex, strlen(x->value.v_regex.regex));
		put_str(b, x->value.v_regex.options,
		        strlen(x->value.v_regex.options));
		break;
	case BSON_TYPE_DBPOINTER:
		put_str(b, x->value.v_dbpointer.collection,
		        x->value.v_dbpointer.collection_len);
		kb_put(b, x->value.v_dbpointer.oid.bytes, 12);
		break;
	case BSON_TYPE_CODE:
		put_str(b, x->value.v_code.code, x->value.v_code.code_len);
		break;
	case BSON_TYPE_CODEWSCOPE:
		put_str(b, x->value.v_codewscope.code,
		        x->value.v_codewscope.code_len);
		return put_fields(b, x->value.v_codewscope.scope_data,
		                  x->value.v_codewscope.scope_len, 1, depth);
	default: /* MinKey, MaxKey, null, undefined: the type says it all */
		break;
	}
	return 0;
}

static int kb_value_named(struct kbuf *b, const bson_value_t *v,
                          const char *name, size_t nlen, int depth)
{
	uint8_t t = type_byte(v->value_type);
	if (!t) {
		b->deep = 1; /* an unknown type: refused like a too deep one */
		return -1;
	}
	put8(b, t);
	if (name)
		put_str(b, name, nlen);
	return put_body(b, v, depth);
}

int kb_value(struct kbuf *b, const bson_value_t *v, int depth)
{
	return kb_value_named(b, v, NULL, 0, depth);
}

int mdl_key_encode(const bson_value_t *v, int desc, uint8_t *out,
                   size_t cap, size_t *len, mdl_err *err)
{
	struct kbuf b = {.p = out, .cap = cap};
	kb_value(&b, v, 0);
	if (b.deep)
		return mdl_fail(err, MDL_EBAD_VALUE, "value nested deeper than %d "
		                "levels or of an unknown type", MDL_DEPTH_MAX);
	if (b.over)
		return mdl_fail(err, MDL_EKEY_TOO_LONG, "key over %zu bytes", cap);
	if (desc)
		kb_invert(&b, 0);
	*len = b.n;
	return 0;
}
