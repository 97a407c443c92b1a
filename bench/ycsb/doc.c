/*
 * doc.c: the YCSB records as BSON documents, {_id: KEY, field0: ...,
 * fieldN: ...}, as YCSB's MongoDB binding stores them. Values are
 * printable (YCSB's RandomByteIterator is too) and self-checking: the
 * correctness pass needs no record of what was written.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[65] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void field_name(char buf[24], int i)
{
	snprintf(buf, 24, "field%d", i);
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xCBF29CE484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Filler after the header: 10 characters per 64-bit draw. */
static void fill(char *p, int n, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed);
	for (int i = 0; i < n;) {
		uint64_t v = rng_next(&r);
		for (int j = 0; j < 10 && i < n; j++, i++, v >>= 6)
			p[i] = alphabet[v & 63];
	}
}

void doc_field(char *buf, int len, const char *key, int field,
               uint32_t ver)
{
	int h = snprintf(buf, (size_t)len + 1, "%s:%d:%08" PRIx32 ":", key,
	                 field, ver);
	if (h > len) /* props.c keeps fieldlength >= 40: never here */
		h = len;
	fill(buf + h, len - h, fnv1a(buf, (size_t)h));
	buf[len] = '\0';
}

int doc_build(bson_t *b, const char *key, const struct docspec *s,
              struct rng *r)
{
	char name[24], *v = malloc((size_t)s->fieldlength + 1);
	int ok = v && bson_append_utf8(b, "_id", 3, key, -1);
	for (int i = 0; ok && i < s->fieldcount; i++) {
		field_name(name, i);
		doc_field(v, s->fieldlength, key, i, (uint32_t)rng_next(r));
		ok = bson_append_utf8(b, name, -1, v, s->fieldlength);
	}
	free(v);
	return ok ? 0 : -1;
}

int doc_update(const uint8_t *old, size_t len, const char *key, int f,
               int flen, struct rng *r, bson_t *out)
{
	bson_t in;
	bson_iter_t it;
	char name[24];
	if (!bson_init_static(&in, old, len) || !bson_iter_init(&it, &in))
		return -1;
	field_name(name, f);
	char *v = malloc((size_t)flen + 1);
	int ok = v != NULL, found = 0;
	while (ok && bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), name)) {
			ok = bson_append_iter(out, NULL, 0, &it);
			continue;
		}
		doc_field(v, flen, key, f, (uint32_t)rng_next(r));
		ok = bson_append_utf8(out, name, -1, v, flen);
		found = 1;
	}
	free(v);
	return ok && found ? 0 : -1;
}

long doc_read(const uint8_t *data, size_t len, const char *key)
{
	bson_t d;
	bson_iter_t it;
	long bytes = 0;
	if (!bson_init_static(&d, data, len) || !bson_iter_init(&it, &d) ||
	    !bson_iter_next(&it) || strcmp(bson_iter_key(&it), "_id") ||
	    strcmp(bson_iter_utf8(&it, NULL) ? bson_iter_utf8(&it, NULL) : "",
	           key))
		return -1;
	while (bson_iter_next(&it)) {
		uint32_t n = 0;
		if (BSON_ITER_HOLDS_UTF8(&it) && bson_iter_utf8(&it, &n))
			bytes += n;
	}
	return bytes;
}

/* One stored field: its header names key and field, its filler matches. */
static int check_field(const char *v, uint32_t n, const char *key, int f,
                       const struct docspec *s, char *want)
{
	char prefix[KEY_MAX + 16];
	int p = snprintf(prefix, sizeof(prefix), "%s:%d:", key, f);
	if ((int)n != s->fieldlength || strncmp(v, prefix, (size_t)p))
		return -1;
	char *end;
	unsigned long ver = strtoul(v + p, &end, 16);
	if (end != v + p + 8 || *end != ':')
		return -1;
	doc_field(want, s->fieldlength, key, f, (uint32_t)ver);
	return memcmp(v, want, n) ? -1 : 0;
}

int doc_check(const uint8_t *data, size_t len, const char *key,
              const struct docspec *s, char *err, size_t elen)
{
	bson_t d;
	bson_iter_t it;
	char name[24], *want = malloc((size_t)s->fieldlength + 1);
	int f = 0, rc = 0;
	if (!want || doc_read(data, len, key) < 0 ||
	    !bson_init_static(&d, data, len) || !bson_iter_init(&it, &d)) {
		snprintf(err, elen, "%s: not a document with _id %s", key, key);
		free(want);
		return -1;
	}
	bson_iter_next(&it); /* _id, checked by doc_read */
	for (; !rc && bson_iter_next(&it); f++) {
		uint32_t n = 0;
		const char *v = BSON_ITER_HOLDS_UTF8(&it) ?
		                bson_iter_utf8(&it, &n) : NULL;
		field_name(name, f);
		if (f >= s->fieldcount || strcmp(bson_iter_key(&it), name) ||
		    !v || check_field(v, n, key, f, s, want)) {
			snprintf(err, elen, "%s: field %s is wrong", key,
			         bson_iter_key(&it));
			rc = -1;
		}
	}
	if (!rc && f != s->fieldcount) {
		snprintf(err, elen, "%s: %d fields, not %d", key, f,
		         s->fieldcount);
		rc = -1;
	}
	free(want);
	return rc;
}
