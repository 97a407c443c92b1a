/*
 * keys.c: an index's key for a document: each field of the key pattern
 * found by its dotted path (missing: null), encoded (keyenc.c), inverted
 * where descending, concatenated. Arrays on the path would make the
 * index multikey, which this library does not do: such documents are
 * refused (MDL_ECANNOT_INDEX) rather than indexed wrongly.
 */
#include "layout.h"

#include <string.h>

enum { FOUND, MISSING, ARRAY };

/* The value at path in doc; *v valid while doc is. */
static int find_path(const bson_t *doc, const char *path, bson_value_t *v)
{
	bson_iter_t it, child;
	if (!bson_iter_init(&it, doc))
		return MISSING;
	for (const char *p = path;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!bson_iter_find_w_len(&it, p, (int)n))
			return MISSING;
		if (BSON_ITER_HOLDS_ARRAY(&it))
			return ARRAY;
		if (!dot) {
			*v = *bson_iter_value(&it); /* points into doc */
			return FOUND;
		}
		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &child))
			return MISSING;
		it = child;
		p = dot + 1;
	}
}

/* One field's value: found, or null when missing. */
static int field_value(const bson_t *doc, const char *path, bson_value_t *v,
                       mdl_err *err)
{
	int r = find_path(doc, path, v);
	if (r == ARRAY)
		return mdl_fail(err, MDL_ECANNOT_INDEX, "field '%s' is or is in an "
		                "array: multikey indexes are not supported", path);
	if (r == MISSING)
		v->value_type = BSON_TYPE_NULL;
	return 0;
}

int ix_key(const struct ixdef *ix, const bson_t *doc, uint8_t *out,
           size_t *len, mdl_err *err)
{
	struct kbuf b = {.p = out, .cap = MDL_KEY_MAX};
	bson_iter_t it;
	int rc = 0;
	bson_iter_init(&it, &ix->key);
	while (!rc && bson_iter_next(&it)) {
		bson_value_t v;
		size_t from = b.n;
		if ((rc = field_value(doc, bson_iter_key(&it), &v, err)) != 0)
			break;
		kb_value(&b, &v, 0);
		if (bson_iter_as_double(&it) < 0)
			kb_invert(&b, from);
		if (b.deep)
			rc = mdl_fail(err, MDL_EBAD_VALUE, "index %s: value of '%s' "
			              "nested deeper than %d", ix->name,
			              bson_iter_key(&it), MDL_DEPTH_MAX);
		else if (b.over)
			rc = mdl_fail(err, MDL_EKEY_TOO_LONG, "index %s: key over %d "
			              "bytes", ix->name, MDL_KEY_MAX);
	}
	*len = b.n;
	return rc;
}

void ix_dupkey(const struct ixdef *ix, const bson_t *doc, mdl_err *err)
{
	bson_t k = BSON_INITIALIZER;
	bson_iter_t it;
	bson_iter_init(&it, &ix->key);
	while (bson_iter_next(&it)) {
		bson_value_t v;
		if (find_path(doc, bson_iter_key(&it), &v) == FOUND) {
			bson_append_value(&k, bson_iter_key(&it), -1, &v);
		} else {
			bson_append_null(&k, bson_iter_key(&it), -1);
		}
	}
	if (k.len > sizeof(err->dupkey)) {
		bson_reinit(&k);
		bson_append_utf8(&k, "", 0, "<key too large>", -1);
	}
	memcpy(err->dupkey, bson_get_data(&k), k.len);
	err->dupkey_len = k.len;
	snprintf(err->index, sizeof(err->index), "%s", ix->name);
	bson_destroy(&k);
}

static int check_path(const char *p, mdl_err *err)
{
	size_t n = strlen(p);
	if (n == 0 || n > MDL_NS_MAX || p[0] == '$' || p[0] == '.' ||
	    p[n - 1] == '.' || strstr(p, ".."))
		return mdl_fail(err, MDL_EBAD_VALUE, "bad index key field '%.64s'",
		                p);
	return 0;
}

int ix_check_pattern(const bson_t *key, mdl_err *err)
{
	bson_iter_t it, it2;
	int n = 0;
	if (!bson_validate(key, BSON_VALIDATE_NONE, NULL) ||
	    !bson_iter_init(&it, key))
		return mdl_fail(err, MDL_EBAD_VALUE, "bad index key pattern");
	while (bson_iter_next(&it)) {
		int rc = check_path(bson_iter_key(&it), err);
		if (rc)
			return rc;
		if (!BSON_ITER_HOLDS_NUMBER(&it) || bson_iter_as_double(&it) == 0 ||
		    bson_iter_as_double(&it) != bson_iter_as_double(&it))
			return mdl_fail(err, MDL_EBAD_VALUE, "index key '%.64s': only "
			                "1 or -1 (ascending, descending) are "
			                "supported", bson_iter_key(&it));
		if (++n > MDL_FIELDS_MAX)
			return mdl_fail(err, MDL_EBAD_VALUE, "more than %d fields in an "
			                "index key pattern", MDL_FIELDS_MAX);
		it2 = it;
		while (bson_iter_next(&it2))
			if (!strcmp(bson_iter_key(&it), bson_iter_key(&it2)))
				return mdl_fail(err, MDL_EBAD_VALUE, "field '%.64s' twice "
				                "in an index key", bson_iter_key(&it));
	}
	if (!n)
		return mdl_fail(err, MDL_EBAD_VALUE, "empty index key pattern");
	return 0;
}

size_t ix_rid_suffix(uint8_t *p, int64_t rid)
{
	uint64_t u = (uint64_t)rid ^ (1ull << 63);
	p[0] = RID_MARK;
	for (int i = 0; i < 8; i++)
		p[1 + i] = (uint8_t)(u >> (56 - 8 * i));
	return 9;
}
