/*
 * util.c: errors, spec checks and the dotted path walk that the filter,
 * sort and update code share.
 */
#include "mdq_int.h"

#include <stdio.h>
#include <string.h>

int mdq_fail(struct mdq_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Nesting and array keys first, by bson_iter (each length checked), because libbson's
 * bson_validate recurses without a bound: some 200,000 nested arrays, well
 * under 16 MiB, overflow the stack inside it.
 */
/* An array's keys are "0", "1", ... (libbson refuses to append others). */
static bool key_is(const bson_iter_t *it, uint32_t idx)
{
	char buf[16];
	const char *key;
	size_t n = bson_uint32_to_string(idx, &key, buf, sizeof(buf));
	return bson_iter_key_len(it) == n && !memcmp(bson_iter_key(it), key, n);
}

static int nesting_ok(bson_iter_t *it, bool array, int depth, int max)
{
	for (uint32_t i = 0; bson_iter_next(it); i++) {
		bson_iter_t sub;
		bson_t scope;
		const uint8_t *data;
		uint32_t len, clen;
		bool is_array = BSON_ITER_HOLDS_ARRAY(it);
		bool container = is_array || BSON_ITER_HOLDS_DOCUMENT(it);
		if (array && !key_is(it, i))
			return 0;
		if (BSON_ITER_HOLDS_CODEWSCOPE(it)) {
			bson_iter_codewscope(it, &clen, &len, &data);
			if (!bson_init_static(&scope, data, len) ||
			    !bson_iter_init(&sub, &scope))
				return 0;
			container = true;
		} else if (container && !bson_iter_recurse(it, &sub)) {
			return 0;
		}
		if (container && (depth >= max ||
		                  !nesting_ok(&sub, is_array, depth + 1, max)))
			return 0;
	}
	return it->err_off == 0;
}

int mdq_validate(const bson_t *doc, int max_depth, struct mdq_error *err)
{
	bson_iter_t it;
	size_t off;
	if (!doc || !bson_iter_init(&it, doc) || !nesting_ok(&it, false, 1, max_depth))
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "invalid BSON, an array "
		                "keyed other than 0, 1, ..., or nesting deeper "
		                "than %d levels", max_depth);
	if (!bson_validate(doc, BSON_VALIDATE_NONE, &off))
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "invalid BSON at offset "
		                "%zu", off);
	return 0;
}

int mdq_check_bson(const bson_t *b, const char *what, struct mdq_error *err)
{
	if (mdq_validate(b, MDQ_MAX_DEPTH, err))
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "%s is not valid BSON "
		                "(or nests deeper than %d levels)", what,
		                MDQ_MAX_DEPTH);
	return 0;
}

int mdq_check_path(const char *path, struct mdq_error *err)
{
	int n = 1;
	const char *c = path;
	for (;;) {
		const char *dot = strchr(c, '.');
		size_t len = dot ? (size_t)(dot - c) : strlen(c);
		if (len == 0)
			return mdq_fail(err, MDQ_BAD_VALUE,
			                "empty field name in path '%.200s'", path);
		if (c[0] == '$')
			return mdq_fail(err, MDQ_BAD_VALUE,
			                "field name '%.200s' must not start with '$'",
			                path);
		if (!dot)
			return 0;
		if (++n > MDQ_MAX_DEPTH)
			return mdq_fail(err, MDQ_BAD_VALUE,
			                "path '%.100s...' is too deep", path);
		c = dot + 1;
	}
}

/* The next component of path: its length; *rest after the dot or NULL. */
static size_t component(const char *path, const char **rest)
{
	const char *dot = strchr(path, '.');
	*rest = dot ? dot + 1 : NULL;
	return dot ? (size_t)(dot - path) : strlen(path);
}

static bool is_index(const char *c, size_t n)
{
	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c[i] < '0' || c[i] > '9')
			return false;
	return true;
}

struct walk {
	mdq_visit_fn fn;
	void *ctx;
	enum mdq_visit mode;
};

static bool walk_value(const struct walk *w, const bson_value_t *v,
                       const char *path);

/* The end of the path: an array's elements, then the array itself. */
static bool leaf(const struct walk *w, const bson_value_t *v)
{
	bson_t arr;
	bson_iter_t it;
	if (v->value_type == BSON_TYPE_ARRAY && w->mode != MDQ_VISIT_WHOLE &&
	    mdq_value_doc(v, &arr) && bson_iter_init(&it, &arr)) {
		while (bson_iter_next(&it))
			if (w->fn(bson_iter_value(&it), w->ctx))
				return true;
		if (w->mode == MDQ_VISIT_ELEMENTS)
			return false;
	}
	return w->fn(v, w->ctx);
}

/* The field named by path's first component in a document. */
static bool walk_doc(const struct walk *w, const bson_t *doc, const char *path)
{
	const char *rest;
	size_t n = component(path, &rest);
	bson_iter_t it;
	if (!bson_iter_init(&it, doc))
		return w->fn(NULL, w->ctx);
	while (bson_iter_next(&it)) {
		if (bson_iter_key_len(&it) != n ||
		    memcmp(bson_iter_key(&it), path, n))
			continue;
		const bson_value_t *v = bson_iter_value(&it);
		return rest ? walk_value(w, v, rest) : leaf(w, v);
	}
	return w->fn(NULL, w->ctx);
}

struct seen {
	const struct walk *outer;
	bool any;
};

static bool note(const bson_value_t *v, void *ctx)
{
	struct seen *s = ctx;
	s->any = true;
	return s->outer->fn(v, s->outer->ctx);
}

/* Through an array: each element document, and the element by position. */
static bool walk_array(const struct walk *w, const bson_t *arr,
                       const char *path)
{
	const char *rest;
	size_t n = component(path, &rest);
	struct seen s = { w, false };
	struct walk inner = { note, &s, w->mode };
	bson_iter_t it;
	if (!bson_iter_init(&it, arr))
		return w->fn(NULL, w->ctx);
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);
		bson_t sub;
		if (e->value_type == BSON_TYPE_DOCUMENT &&
		    mdq_value_doc(e, &sub) && walk_doc(&inner, &sub, path))
			return true;
		if (is_index(path, n) && bson_iter_key_len(&it) == n &&
		    !memcmp(bson_iter_key(&it), path, n) &&
		    (rest ? walk_value(&inner, e, rest) : leaf(&inner, e)))
			return true;
	}
	return s.any ? false : w->fn(NULL, w->ctx);
}

static bool walk_value(const struct walk *w, const bson_value_t *v,
                       const char *path)
{
	bson_t sub;
	if (!mdq_value_doc(v, &sub))
		return w->fn(NULL, w->ctx);
	if (v->value_type == BSON_TYPE_DOCUMENT)
		return walk_doc(w, &sub, path);
	return walk_array(w, &sub, path);
}

bool mdq_path_visit(const bson_t *doc, const char *path, enum mdq_visit mode,
                    mdq_visit_fn fn, void *ctx)
{
	struct walk w = { fn, ctx, mode };
	return walk_doc(&w, doc, path);
}

bool mdq_path_get(const bson_t *doc, const char *path, bson_value_t *out)
{
	bson_t cur, sub;
	if (!bson_init_static(&cur, bson_get_data(doc), doc->len))
		return false;
	for (;;) {
		const char *rest;
		size_t n = component(path, &rest);
		bson_iter_t it;
		bool found = false;
		if (!bson_iter_init(&it, &cur))
			return false;
		while (!found && bson_iter_next(&it))
			found = bson_iter_key_len(&it) == n &&
			        !memcmp(bson_iter_key(&it), path, n);
		if (!found)
			return false;
		const bson_value_t *v = bson_iter_value(&it);
		if (!rest) {
			*out = *v;
			return true;
		}
		/* a static bson_t points into itself: made again, not copied */
		if (v->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(v, &sub) ||
		    !bson_init_static(&cur, bson_get_data(&sub), sub.len))
			return false;
		path = rest;
	}
}

const char *mdq_type_name(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_DOUBLE: return "double";
	case BSON_TYPE_UTF8: return "string";
	case BSON_TYPE_DOCUMENT: return "object";
	case BSON_TYPE_ARRAY: return "array";
	case BSON_TYPE_BINARY: return "binData";
	case BSON_TYPE_UNDEFINED: return "undefined";
	case BSON_TYPE_OID: return "objectId";
	case BSON_TYPE_BOOL: return "bool";
	case BSON_TYPE_DATE_TIME: return "date";
	case BSON_TYPE_NULL: return "null";
	case BSON_TYPE_REGEX: return "regex";
	case BSON_TYPE_DBPOINTER: return "dbPointer";
	case BSON_TYPE_CODE: return "javascript";
	case BSON_TYPE_SYMBOL: return "symbol";
	case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
	case BSON_TYPE_INT32: return "int";
	case BSON_TYPE_TIMESTAMP: return "timestamp";
	case BSON_TYPE_INT64: return "long";
	case BSON_TYPE_DECIMAL128: return "decimal";
	case BSON_TYPE_MINKEY: return "minKey";
	case BSON_TYPE_MAXKEY: return "maxKey";
	default: return "unknown";
	}
}
