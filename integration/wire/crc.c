/*
 * crc.c: CRC-32C for OP_MSG checksums, by ISA-L as repl/wire does it.
 */
#include "wire_int.h"

#include <isa-l/crc.h>

uint32_t mdw_crc32c(const void *buf, size_t len)
{
	/* crc32_iscsi is CRC-32C without the final inversion and takes an
	 * int length: invert around it, feed it in chunks. */
	const unsigned char *p = buf;
	uint32_t c = ~0u;
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		c = crc32_iscsi((unsigned char *)p, (int)n, c);
		p += n;
		len -= n;
	}
	return ~c;
}
