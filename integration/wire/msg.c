/*
 * msg.c: OP_MSG (2013) parsed into views of the caller's buffer.
 *
 * Layout after the header: uint32 flagBits, sections up to the end (or up
 * to the 4-byte CRC-32C if checksumPresent). A section is a kind byte,
 * then for kind 0 one document, for kind 1 an int32 size (counting
 * itself), a cstring identifier and documents filling the size exactly.
 */
#include "wire_int.h"

#define KNOWN_REQUIRED (MDW_MSG_CHECKSUM | MDW_MSG_MORE_TO_COME)

static int check_flags(uint32_t flags, const char **why)
{
	/* MongoDB: bits 0-15 must be understood, 16-31 may be ignored. */
	if (flags & 0xffffu & ~KNOWN_REQUIRED)
		return mdw_fail(why, MDW_E_FLAGS, "OP_MSG flagBits: an unknown required bit (0-15) is set");
	return MDW_OK;
}

/* The kind-1 section at p + pos (after its kind byte), ending by end. */
static int parse_seq(const uint8_t *p, size_t pos, size_t end,
                     struct mdw_seq *s, size_t *next, const char **why)
{
	if (end - pos < 4)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: size runs past the end");
	int32_t size = (int32_t)mdw_rd32(p + pos);
	if (size < 5)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: size below 5");
	if ((size_t)size > end - pos)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: size larger than the message");
	size_t send = pos + (size_t)size, q = pos + 4;
	const uint8_t *nul = memchr(p + q, 0, send - q);
	if (!nul)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: identifier not NUL-terminated inside the section");
	*s = (struct mdw_seq){.id = (const char *)(p + q),
	                      .id_len = (size_t)(nul - (p + q))};
	if (s->id_len == 0)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: empty identifier");
	/* It becomes a field name, and libbson holds every field name to
	 * UTF-8 (bson_validate does, whatever its flags). */
	if (!bson_utf8_validate(s->id, s->id_len, false))
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG kind-1 section: identifier not UTF-8");
	q += s->id_len + 1;
	s->docs = p + q;
	s->docs_len = send - q;
	while (q < send) {
		uint32_t dlen;
		int rc = mdw_doc_check(p + q, send - q, MDW_MAX_BSON, &dlen, why);
		if (rc)
			return rc;
		q += dlen;
		s->ndocs++;
	}
	*next = send;
	return MDW_OK;
}

static int add_seq(struct mdw_msg *m, const struct mdw_seq *s,
                   const char **why)
{
	if (m->nseq == MDW_MAX_SEQUENCES)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG: more than 16 kind-1 sections");
	for (uint32_t i = 0; i < m->nseq; i++)
		if (m->seq[i].id_len == s->id_len &&
		    !memcmp(m->seq[i].id, s->id, s->id_len))
			return mdw_fail(why, MDW_E_DUPLICATE, "OP_MSG: two kind-1 sections with one identifier");
	m->seq[m->nseq++] = *s;
	return MDW_OK;
}

static int parse_sections(const uint8_t *p, size_t pos, size_t end,
                          struct mdw_msg *m, const char **why)
{
	bool have_body = false;
	while (pos < end) {
		uint8_t kind = p[pos++];
		int rc;
		if (kind == 0) {
			if (have_body)
				return mdw_fail(why, MDW_E_FORMAT, "OP_MSG: more than one kind-0 section");
			rc = mdw_doc_check(p + pos, end - pos, MDW_MAX_BSON_CMD,
			                   &m->body.len, why);
			if (rc)
				return rc;
			m->body.data = p + pos;
			pos += m->body.len;
			have_body = true;
		} else if (kind == 1) {
			struct mdw_seq s;
			rc = parse_seq(p, pos, end, &s, &pos, why);
			if (rc || (rc = add_seq(m, &s, why)))
				return rc;
		} else {
			return mdw_fail(why, MDW_E_FORMAT, "OP_MSG: unknown section kind (only 0 and 1 exist)");
		}
	}
	if (!have_body)
		return mdw_fail(why, MDW_E_FORMAT, "OP_MSG: no kind-0 section");
	return MDW_OK;
}

int mdw_msg_parse(const uint8_t *p, size_t len, struct mdw_msg *m,
                  const char **why)
{
	memset(m, 0, sizeof(*m));
	size_t pos = MDW_HEADER_SIZE, end = len;
	if (end - pos < 4)
		return mdw_fail(why, MDW_E_LENGTH, "OP_MSG: no room for flagBits");
	m->flags = mdw_rd32(p + pos);
	pos += 4;
	int rc = check_flags(m->flags, why);
	if (rc)
		return rc;
	if (m->flags & MDW_MSG_CHECKSUM) {
		if (end - pos < 4)
			return mdw_fail(why, MDW_E_LENGTH, "OP_MSG: checksumPresent but no room for the checksum");
		end -= 4;
		m->crc = mdw_rd32(p + end);
		if (mdw_crc32c(p, end) != m->crc)
			return mdw_fail(why, MDW_E_CHECKSUM, "OP_MSG: CRC-32C checksum mismatch");
		m->checksum = true;
	}
	rc = parse_sections(p, pos, end, m, why);
	if (rc)
		memset(m, 0, sizeof(*m));
	return rc;
}

bool mdw_seq_next(const struct mdw_seq *s, size_t *off, struct mdw_doc *d)
{
	/* The sequence was checked by mdw_parse; the bounds are checked
	 * again so that a struct built by hand cannot lead out of it. */
	if (!s || !off || !d || *off >= s->docs_len || s->docs_len - *off < 5)
		return false;
	uint32_t l = mdw_rd32(s->docs + *off);
	if (l < 5 || l > s->docs_len - *off)
		return false;
	*d = (struct mdw_doc){.data = s->docs + *off, .len = l};
	*off += l;
	return true;
}
