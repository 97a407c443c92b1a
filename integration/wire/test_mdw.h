/*
 * test_mdw.h: what the test_mdw_* tests share: a raw message writer for
 * messages the builders would never make, and a bitwise CRC-32C as the
 * oracle of the library's ISA-L one.
 */
#ifndef MDW_TEST_MDW_H
#define MDW_TEST_MDW_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mdb_wire.h"

struct raw {
	uint8_t *b;
	size_t n, cap;
};

static inline void raw_put(struct raw *r, const void *p, size_t n)
{
	if (r->n + n > r->cap) {
		r->cap = (r->n + n) * 2 + 64;
		r->b = realloc(r->b, r->cap);
		ck_assert_ptr_nonnull(r->b);
	}
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static inline void raw_u32(struct raw *r, uint32_t v)
{
	raw_put(r, &v, 4);
}

static inline void raw_u8(struct raw *r, uint8_t v)
{
	raw_put(r, &v, 1);
}

static inline void raw_doc(struct raw *r, const bson_t *d)
{
	raw_put(r, bson_get_data(d), d->len);
}

/* A header with length 0, fixed by raw_end. */
static inline void raw_header(struct raw *r, int32_t id, int32_t to, int32_t op)
{
	r->n = 0;
	raw_u32(r, 0);
	raw_u32(r, (uint32_t)id);
	raw_u32(r, (uint32_t)to);
	raw_u32(r, (uint32_t)op);
}

static inline void raw_end(struct raw *r)
{
	uint32_t n = (uint32_t)r->n;
	memcpy(r->b, &n, 4);
}

static inline uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

/* The checksum appended to (or rewritten at the end of) an OP_MSG. */
static inline void raw_crc(struct raw *r, bool append)
{
	if (append) {
		raw_u32(r, 0);
		raw_end(r);
	}
	uint32_t c = ref_crc32c(r->b, r->n - 4);
	memcpy(r->b + r->n - 4, &c, 4);
}

/* mdw_parse on an exact-size heap copy, so ASan sees any overread. */
static inline int raw_parse(const uint8_t *p, size_t n, struct mdw_request *req,
                            const char **why, uint8_t **copy)
{
	*copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, p, n);
	*why = NULL;
	return mdw_parse(*copy, n, req, why);
}

#endif
