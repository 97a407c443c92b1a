/*
 * compare.c: MongoDB's BSON comparison order. Numbers of every type are
 * compared by value (int64 against double exactly, so the order stays
 * transitive past 2^53); everything else by canonical type rank first.
 */
#include "mdq_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mdq_type_rank(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY: return 1;
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED: return 2;
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return 3;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL: return 4;
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
	default: return 17; /* EOD and unknown: after everything, all equal */
	}
}

bool mdq_is_number(const bson_value_t *v)
{
	return mdq_type_rank(v->value_type) == 3;
}

double mdq_to_double(const bson_value_t *v)
{
	char s[BSON_DECIMAL128_STRING];
	switch (v->value_type) {
	case BSON_TYPE_INT32: return v->value.v_int32;
	case BSON_TYPE_INT64: return (double)v->value.v_int64;
	case BSON_TYPE_DOUBLE: return v->value.v_double;
	case BSON_TYPE_DECIMAL128:
		/* Ordering only: exact decimal arithmetic is not in libbson. */
		bson_decimal128_to_string(&v->value.v_decimal128, s);
		return strtod(s, NULL);
	default: return 0;
	}
}

bool mdq_to_int64(const bson_value_t *v, int64_t *out)
{
	if (v->value_type == BSON_TYPE_INT32) {
		*out = v->value.v_int32;
		return true;
	}
	if (v->value_type == BSON_TYPE_INT64) {
		*out = v->value.v_int64;
		return true;
	}
	if (!mdq_is_number(v))
		return false;
	double d = mdq_to_double(v);
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
	    d != floor(d))
		return false;
	*out = (int64_t)d;
	return true;
}

static int cmp_int(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

/* An int64 against a double, exactly: NaN below all, then by value. */
static int cmp_int_double(int64_t i, double d)
{
	if (isnan(d))
		return 1;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	double t = trunc(d);
	int c = cmp_int(i, (int64_t)t);
	if (c)
		return c;
	return (d > t) ? -1 : (d < t) ? 1 : 0;
}

static int cmp_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(b) - isnan(a);
	return (a > b) - (a < b);
}

static int cmp_number(const bson_value_t *a, const bson_value_t *b)
{
	int64_t ia, ib;
	bool a_int = a->value_type == BSON_TYPE_INT32 ||
	             a->value_type == BSON_TYPE_INT64;
	bool b_int = b->value_type == BSON_TYPE_INT32 ||
	             b->value_type == BSON_TYPE_INT64;
	if (a_int)
		mdq_to_int64(a, &ia);
	if (b_int)
		mdq_to_int64(b, &ib);
	if (a_int && b_int)
		return cmp_int(ia, ib);
	if (a_int)
		return cmp_int_double(ia, mdq_to_double(b));
	if (b_int)
		return -cmp_int_double(ib, mdq_to_double(a));
	return cmp_double(mdq_to_double(a), mdq_to_double(b));
}

/* Bytewise, then the shorter first: embedded NULs count. */
static int cmp_bytes(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c < 0 ? -1 : 1;
	return cmp_int((int64_t)al, (int64_t)bl);
}

static int cmp_str(const char *a, const char *b)
{
	return cmp_bytes(a, strlen(a), b, strlen(b));
}

static int cmp_raw_docs(const uint8_t *a, uint32_t al, const uint8_t *b,
                        uint32_t bl, bool names, int depth);

static int cmp_depth(const bson_value_t *a, const bson_value_t *b, int depth);

static int cmp_string(const bson_value_t *a, const bson_value_t *b)
{
	bool au = a->value_type == BSON_TYPE_UTF8;
	bool bu = b->value_type == BSON_TYPE_UTF8;
	return cmp_bytes(au ? a->value.v_utf8.str : a->value.v_symbol.symbol,
	                 au ? a->value.v_utf8.len : a->value.v_symbol.len,
	                 bu ? b->value.v_utf8.str : b->value.v_symbol.symbol,
	                 bu ? b->value.v_utf8.len : b->value.v_symbol.len);
}

/* BinData: the length, then the subtype, then the bytes. */
static int cmp_binary(const bson_value_t *a, const bson_value_t *b)
{
	int c = cmp_int(a->value.v_binary.data_len, b->value.v_binary.data_len);
	if (!c)
		c = cmp_int(a->value.v_binary.subtype, b->value.v_binary.subtype);
	if (!c)
		c = cmp_bytes(a->value.v_binary.data, a->value.v_binary.data_len,
		              b->value.v_binary.data, b->value.v_binary.data_len);
	return c;
}

/* Regex, DBPointer, code with scope: two parts each. */
static int cmp_pairs(const bson_value_t *a, const bson_value_t *b, int rank,
                     int depth)
{
	int c;
	if (rank == 12) {
		c = cmp_str(a->value.v_regex.regex, b->value.v_regex.regex);
		return c ? c : cmp_str(a->value.v_regex.options,
		                       b->value.v_regex.options);
	}
	if (rank == 13) {
		c = cmp_bytes(a->value.v_dbpointer.collection,
		              a->value.v_dbpointer.collection_len,
		              b->value.v_dbpointer.collection,
		              b->value.v_dbpointer.collection_len);
		return c ? c : cmp_bytes(&a->value.v_dbpointer.oid, 12,
		                         &b->value.v_dbpointer.oid, 12);
	}
	c = cmp_bytes(a->value.v_codewscope.code, a->value.v_codewscope.code_len,
	              b->value.v_codewscope.code, b->value.v_codewscope.code_len);
	return c ? c : cmp_raw_docs(a->value.v_codewscope.scope_data,
	                            a->value.v_codewscope.scope_len,
	                            b->value.v_codewscope.scope_data,
	                            b->value.v_codewscope.scope_len, true,
	                            depth + 1);
}

static int cmp_same_rank(const bson_value_t *a, const bson_value_t *b,
                         int rank, int depth)
{
	int c;
	switch (rank) {
	case 3: return cmp_number(a, b);
	case 4: return cmp_string(a, b);
	case 5:
	case 6:
		return cmp_raw_docs(a->value.v_doc.data, a->value.v_doc.data_len,
		                    b->value.v_doc.data, b->value.v_doc.data_len,
		                    rank == 5, depth + 1);
	case 7: return cmp_binary(a, b);
	case 8: return cmp_bytes(&a->value.v_oid, 12, &b->value.v_oid, 12);
	case 9: return cmp_int(a->value.v_bool, b->value.v_bool);
	case 10: return cmp_int(a->value.v_datetime, b->value.v_datetime);
	case 11:
		c = cmp_int(a->value.v_timestamp.timestamp,
		            b->value.v_timestamp.timestamp);
		return c ? c : cmp_int(a->value.v_timestamp.increment,
		                       b->value.v_timestamp.increment);
	case 12:
	case 13:
	case 15: return cmp_pairs(a, b, rank, depth);
	case 14:
		return cmp_bytes(a->value.v_code.code, a->value.v_code.code_len,
		                 b->value.v_code.code, b->value.v_code.code_len);
	default: return 0; /* MinKey, Null, MaxKey: one value each */
	}
}

static int cmp_depth(const bson_value_t *a, const bson_value_t *b, int depth)
{
	int ra = mdq_type_rank(a->value_type);
	int rb = mdq_type_rank(b->value_type);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return cmp_same_rank(a, b, ra, depth);
}

/*
 * Field by field: rank of the values, then the names (objects only), then
 * the values; a prefix is smaller. Past MDQ_MAX_DEPTH the raw bytes are
 * compared instead, so a hostile nesting cannot exhaust the stack.
 */
static int cmp_raw_docs(const uint8_t *a, uint32_t al, const uint8_t *b,
                        uint32_t bl, bool names, int depth)
{
	bson_iter_t ia, ib;
	if (depth > MDQ_MAX_DEPTH || !bson_iter_init_from_data(&ia, a, al) ||
	    !bson_iter_init_from_data(&ib, b, bl))
		return cmp_bytes(a, al, b, bl);
	for (;;) {
		bool na = bson_iter_next(&ia), nb = bson_iter_next(&ib);
		if (!na || !nb)
			return (int)na - (int)nb;
		const bson_value_t *va = bson_iter_value(&ia);
		const bson_value_t *vb = bson_iter_value(&ib);
		int ra = mdq_type_rank(va->value_type);
		int rb = mdq_type_rank(vb->value_type);
		if (ra != rb)
			return ra < rb ? -1 : 1;
		if (names) {
			int c = cmp_bytes(bson_iter_key(&ia), bson_iter_key_len(&ia),
			                  bson_iter_key(&ib), bson_iter_key_len(&ib));
			if (c)
				return c;
		}
		int c = cmp_same_rank(va, vb, ra, depth);
		if (c)
			return c;
	}
}

int mdq_compare(const bson_value_t *a, const bson_value_t *b)
{
	return cmp_depth(a, b, 0);
}

int mdq_compare_docs(const bson_t *a, const bson_t *b)
{
	return cmp_raw_docs(bson_get_data(a), a->len, bson_get_data(b), b->len,
	                    true, 0);
}

bool mdq_value_doc(const bson_value_t *v, bson_t *out)
{
	if (v->value_type != BSON_TYPE_DOCUMENT &&
	    v->value_type != BSON_TYPE_ARRAY)
		return false;
	return bson_init_static(out, v->value.v_doc.data,
	                        v->value.v_doc.data_len);
}

size_t mdq_value_size(const bson_value_t *v)
{
	size_t n = sizeof(*v);
	switch (v->value_type) {
	case BSON_TYPE_UTF8: return n + v->value.v_utf8.len + 1;
	case BSON_TYPE_SYMBOL: return n + v->value.v_symbol.len + 1;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: return n + v->value.v_doc.data_len;
	case BSON_TYPE_BINARY: return n + v->value.v_binary.data_len;
	case BSON_TYPE_REGEX:
		return n + strlen(v->value.v_regex.regex) +
		       strlen(v->value.v_regex.options) + 2;
	case BSON_TYPE_CODE: return n + v->value.v_code.code_len + 1;
	case BSON_TYPE_CODEWSCOPE:
		return n + v->value.v_codewscope.code_len + 1 +
		       v->value.v_codewscope.scope_len;
	case BSON_TYPE_DBPOINTER:
		return n + v->value.v_dbpointer.collection_len + 1;
	default: return n;
	}
}
