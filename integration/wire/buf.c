/*
 * buf.c: the output buffer replies are built into; it grows by doubling
 * and never past its maximum, so a reply cannot take unbounded memory.
 */
#include "wire_int.h"

#include <stdlib.h>

void mdw_buf_init(struct mdw_buf *b, size_t max)
{
	*b = (struct mdw_buf){.max = max ? max : MDW_MAX_MESSAGE};
}

void mdw_buf_reset(struct mdw_buf *b)
{
	b->len = 0;
}

void mdw_buf_free(struct mdw_buf *b)
{
	free(b->data);
	*b = (struct mdw_buf){.max = b->max};
}

int mdw_buf_reserve(struct mdw_buf *b, size_t n, const char **why)
{
	if (b->len > b->max || n > b->max - b->len)
		return mdw_fail(why, MDW_E_TOOBIG, "output buffer: the message would pass its maximum size");
	size_t need = b->len + n;
	if (need <= b->cap)
		return MDW_OK;
	size_t cap = b->cap ? b->cap : 256;
	if (cap > b->max)
		cap = b->max;
	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	uint8_t *d = realloc(b->data, cap);
	if (!d)
		return mdw_fail(why, MDW_E_NOMEM, "output buffer: out of memory");
	b->data = d;
	b->cap = cap;
	return MDW_OK;
}

void mdw_put_header(uint8_t *p, uint32_t length, int32_t request_id,
                    int32_t response_to, int32_t opcode)
{
	mdw_wr32(p, length);
	mdw_wr32(p + 4, (uint32_t)request_id);
	mdw_wr32(p + 8, (uint32_t)response_to);
	mdw_wr32(p + 12, (uint32_t)opcode);
}
