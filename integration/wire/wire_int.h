/*
 * wire_int.h: what the files of libmdbwire share and nobody else needs.
 */
#ifndef MDW_WIRE_INT_H
#define MDW_WIRE_INT_H

#include "mdb_wire.h"

#include <string.h>

/* The wire is little-endian, and so are the machines mojim runs on; a
 * memcpy keeps unaligned reads defined. */
static inline uint32_t mdw_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void mdw_wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline int mdw_fail(const char **why, int err, const char *reason)
{
	if (why)
		*why = reason;
	return err;
}

/* CRC-32C (Castagnoli) of len bytes, as OP_MSG's checksum (ISA-L). */
uint32_t mdw_crc32c(const void *buf, size_t len);

/*
 * The document at p with avail bytes left in its section: its length
 * (at most max) into *len, then its depth and structure.
 */
int mdw_doc_check(const uint8_t *p, size_t avail, uint32_t max,
                  uint32_t *len, const char **why);

/* Room for n more bytes at b->len, within b->max; the caller then writes
 * them and adds n to b->len. */
int mdw_buf_reserve(struct mdw_buf *b, size_t n, const char **why);

/* The 16-byte header at p. */
void mdw_put_header(uint8_t *p, uint32_t length, int32_t request_id,
                    int32_t response_to, int32_t opcode);

int mdw_msg_parse(const uint8_t *p, size_t len, struct mdw_msg *m,
                  const char **why);
int mdw_query_parse(const uint8_t *p, size_t len, struct mdw_query *q,
                    const char **why);

#endif
