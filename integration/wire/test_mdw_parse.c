/*
 * test_mdw_parse.c: every field of the header, OP_MSG and OP_QUERY as
 * parsed, and every length, flag, section and checksum refusal, on
 * messages written byte by byte (test_mdw.h), each parsed from an
 * exact-size heap copy so that ASan sees a read past the end.
 */
#include "check_run.h"
#include "test_mdw.h"
#include "views_inside.h"

static struct raw r;
static struct mdw_request req;
static const char *why;
static uint8_t *copy;

static void teardown(void)
{
	free(copy);
	copy = NULL;
}

static int parse(void)
{
	free(copy);
	int rc = raw_parse(r.b, r.n, &req, &why, &copy);
	ck_assert_msg(rc == MDW_OK || why, "an error without a reason");
	if (rc == MDW_OK)
		ck_assert(mdw_views_inside(&req, copy, r.n));
	return rc;
}

#define PARSE_IS(err) ck_assert_msg(parse() == (err), "got %s (%s), want %s", \
	mdw_err_name(parse()), why ? why : "", #err)

/* OP_MSG with flags and a body {hello: 1}. */
static void msg_start(uint32_t flags)
{
	raw_header(&r, 7, 0, MDW_OP_MSG);
	raw_u32(&r, flags);
}

static void body(void)
{
	bson_t *b = BCON_NEW("hello", BCON_INT32(1), "$db", "admin");
	raw_u8(&r, 0);
	raw_doc(&r, b);
	bson_destroy(b);
}

/* A kind-1 section with n documents {i: k}; returns its offset. */
static size_t seq(const char *id, int n)
{
	size_t at = r.n;
	raw_u8(&r, 1);
	raw_u32(&r, 0);
	raw_put(&r, id, strlen(id) + 1);
	for (int k = 0; k < n; k++) {
		bson_t *d = BCON_NEW("i", BCON_INT32(k));
		raw_doc(&r, d);
		bson_destroy(d);
	}
	uint32_t size = (uint32_t)(r.n - at - 1);
	memcpy(r.b + at + 1, &size, 4);
	return at;
}

START_TEST(header_fields)
{
	uint8_t h[20] = {0};
	struct mdw_header hd;
	uint32_t v[4] = {26, 0x01020304, 0xfffffffe, MDW_OP_MSG};
	memcpy(h, v, 16);
	ck_assert_int_eq(mdw_header_parse(h, 16, &hd, &why), MDW_OK);
	ck_assert_int_eq(hd.length, 26);
	ck_assert_int_eq(hd.request_id, 0x01020304);
	ck_assert_int_eq(hd.response_to, -2);
	ck_assert_int_eq(hd.opcode, MDW_OP_MSG);
	for (size_t n = 0; n < 16; n++)
		ck_assert_int_eq(mdw_header_parse(h, n, &hd, &why), MDW_E_SHORT);
}
END_TEST

static int hdr_len(int32_t len, int32_t op)
{
	uint32_t v[4] = {(uint32_t)len, 1, 0, (uint32_t)op};
	struct mdw_header hd;
	return mdw_header_parse(v, 16, &hd, &why);
}

START_TEST(header_lengths)
{
	ck_assert_int_eq(hdr_len(MDW_MAX_MESSAGE, MDW_OP_MSG), MDW_OK);
	ck_assert_int_eq(hdr_len(MDW_MAX_MESSAGE + 1, MDW_OP_MSG), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(INT32_MAX, MDW_OP_QUERY), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(-1, MDW_OP_MSG), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(INT32_MIN, 9999), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(26, MDW_OP_MSG), MDW_OK);
	ck_assert_int_eq(hdr_len(25, MDW_OP_MSG), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(34, MDW_OP_QUERY), MDW_OK);
	ck_assert_int_eq(hdr_len(33, MDW_OP_QUERY), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(16, MDW_OP_GET_MORE), MDW_OK);
	ck_assert_int_eq(hdr_len(15, 9999), MDW_E_LENGTH);
	ck_assert_int_eq(hdr_len(0, 9999), MDW_E_LENGTH);
}
END_TEST

START_TEST(length_not_what_was_read)
{
	msg_start(0);
	body();
	raw_end(&r);
	PARSE_IS(MDW_OK);
	r.n--; /* one byte fewer than messageLength */
	PARSE_IS(MDW_E_LENGTH);
	r.n++;
	raw_u8(&r, 0); /* one more */
	PARSE_IS(MDW_E_LENGTH);
}
END_TEST

START_TEST(msg_fields)
{
	msg_start(MDW_MSG_MORE_TO_COME | MDW_MSG_EXHAUST | MDW_MSG_CHECKSUM |
	          0x80000000u);
	size_t s1 = seq("documents", 3);
	size_t b0 = r.n;
	body();
	size_t s2 = seq("updates", 1);
	seq("e", 0);
	raw_crc(&r, true);
	ck_assert_int_eq(parse(), MDW_OK);
	ck_assert_int_eq(req.hdr.request_id, 7);
	ck_assert_int_eq(req.hdr.length, (int32_t)r.n);
	const struct mdw_msg *m = &req.msg;
	ck_assert_uint_eq(m->flags, 0x80010003u);
	ck_assert(m->checksum);
	ck_assert_uint_eq(m->crc, ref_crc32c(r.b, r.n - 4));
	ck_assert_ptr_eq(m->body.data, copy + b0 + 1);
	bson_t b;
	ck_assert(mdw_doc_bson(&m->body, &b));
	ck_assert_uint_eq(m->body.len, b.len);
	bson_iter_t it;
	ck_assert(bson_iter_init_find(&it, &b, "$db"));
	ck_assert_str_eq(bson_iter_utf8(&it, NULL), "admin");
	ck_assert_uint_eq(m->nseq, 3);
	ck_assert_str_eq(m->seq[0].id, "documents");
	ck_assert_uint_eq(m->seq[0].id_len, 9);
	ck_assert_ptr_eq(m->seq[0].id, (const char *)copy + s1 + 5);
	ck_assert_uint_eq(m->seq[0].ndocs, 3);
	ck_assert_str_eq(m->seq[1].id, "updates");
	ck_assert_ptr_eq(m->seq[1].docs, copy + s2 + 5 + 8);
	ck_assert_uint_eq(m->seq[1].ndocs, 1);
	ck_assert_uint_eq(m->seq[2].ndocs, 0);
	ck_assert_uint_eq(m->seq[2].docs_len, 0);
	size_t off = 0;
	struct mdw_doc d;
	for (int k = 0; k < 3; k++) {
		ck_assert(mdw_seq_next(&m->seq[0], &off, &d));
		ck_assert(mdw_doc_bson(&d, &b));
		ck_assert(bson_iter_init_find(&it, &b, "i"));
		ck_assert_int_eq(bson_iter_int32(&it), k);
	}
	ck_assert(!mdw_seq_next(&m->seq[0], &off, &d));
	ck_assert_uint_eq(off, m->seq[0].docs_len);
}
END_TEST

/* Each of bits 0-15 alone: 0 needs its checksum, 1 is moreToCome, the
 * rest are unknown required bits; 16-31 are all accepted. */
START_TEST(msg_flag_bits)
{
	for (int bit = 0; bit < 32; bit++) {
		msg_start(1u << bit);
		body();
		raw_end(&r);
		if (bit == 0)
			raw_crc(&r, true);
		int want = (bit >= 2 && bit < 16) ? MDW_E_FLAGS : MDW_OK;
		ck_assert_msg(parse() == want, "bit %d: %s", bit, mdw_err_name(parse()));
	}
}
END_TEST

START_TEST(msg_checksum)
{
	msg_start(MDW_MSG_CHECKSUM);
	body();
	raw_crc(&r, true);
	PARSE_IS(MDW_OK);
	for (size_t i = 0; i < r.n; i++) {
		if (i < 4 || (i >= 12 && i < 16))
			continue; /* length and opcode: refused as such */
		r.b[i] ^= 0x20;
		ck_assert_msg(parse() == MDW_E_CHECKSUM || (i >= 16 && i < 20),
		              "byte %zu flipped: %s", i, mdw_err_name(parse()));
		r.b[i] ^= 0x20;
	}
	/* checksumPresent, then only a body and no room for a CRC */
	msg_start(MDW_MSG_CHECKSUM);
	raw_end(&r);
	raw_u8(&r, 0);
	raw_u8(&r, 0);
	raw_end(&r);
	PARSE_IS(MDW_E_LENGTH);
	/* no checksumPresent: four trailing bytes are not a section */
	msg_start(0);
	body();
	raw_crc(&r, true);
	PARSE_IS(MDW_E_FORMAT);
}
END_TEST

START_TEST(msg_kind0_count)
{
	msg_start(0);
	seq("documents", 1);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "no kind-0"));
	msg_start(0);
	body();
	body();
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "more than one kind-0"));
	msg_start(0);
	body();
	raw_u8(&r, 2); /* kind 2 is mongod-internal */
	raw_u8(&r, 0);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "unknown section kind"));
}
END_TEST

START_TEST(msg_body_lengths)
{
	static const int32_t bad[] = {0, 4, -1, INT32_MIN, 6, 1000};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_start(0);
		body();
		raw_end(&r);
		memcpy(r.b + 21, &bad[i], 4);
		PARSE_IS(MDW_E_BSON);
	}
	/* a kind byte and then the end */
	msg_start(0);
	body();
	raw_u8(&r, 0);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT); /* the second kind-0 */
	msg_start(0);
	raw_u8(&r, 0);
	raw_put(&r, "\x06\0\0\0\0", 5); /* claims one more byte */
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
	ck_assert_ptr_nonnull(strstr(why, "larger than what remains"));
	/* no trailing NUL; a bad element type inside */
	msg_start(0);
	raw_u8(&r, 0);
	raw_put(&r, "\x05\0\0\0\x01", 5);
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
	msg_start(0);
	raw_u8(&r, 0);
	raw_put(&r, "\x08\0\0\0\x7a" "a\0\0", 8);
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
	/* a nested document whose last byte is not NUL (libbson 1.23's
	 * bson_validate lets it through), in the body and in an array */
	bson_t *in = BCON_NEW("0", "xy");
	for (int arr = 0; arr < 2; arr++) {
		bson_t *o = bson_new();
		if (arr)
			bson_append_array(o, "v", 1, in);
		else
			bson_append_document(o, "v", 1, in);
		msg_start(0);
		raw_u8(&r, 0);
		raw_doc(&r, o);
		raw_end(&r);
		PARSE_IS(MDW_OK);
		r.b[r.n - 2] = 1; /* the nested one's NUL */
		PARSE_IS(MDW_E_BSON);
		bson_destroy(o);
	}
	bson_destroy(in);
	/* a string whose length points past its document */
	msg_start(0);
	raw_u8(&r, 0);
	raw_put(&r, "\x0f\0\0\0\x02" "a\0" "\x40\0\0\0" "xy\0" "\0", 15);
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
}
END_TEST

START_TEST(msg_seq_lengths)
{
	static const int32_t bad[] = {0, 4, -1, INT32_MIN, 1000};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_start(0);
		body();
		size_t at = seq("documents", 2);
		raw_end(&r);
		memcpy(r.b + at + 1, &bad[i], 4);
		PARSE_IS(MDW_E_FORMAT);
	}
	/* a size shorter than its documents: they pass the section */
	msg_start(0);
	body();
	size_t at = seq("documents", 2);
	raw_end(&r);
	r.b[at + 1] -= 3;
	PARSE_IS(MDW_E_BSON);
	/* a size longer than its documents: 3 bytes that are not one */
	msg_start(0);
	body();
	at = seq("documents", 2);
	raw_put(&r, "\0\0\0", 3);
	raw_end(&r);
	r.b[at + 1] += 3;
	PARSE_IS(MDW_E_BSON);
	/* a document length larger than the section, the message has more */
	msg_start(0);
	at = seq("documents", 1);
	body();
	raw_end(&r);
	r.b[at + 1 + 4 + 10] += 8;
	PARSE_IS(MDW_E_BSON);
	ck_assert_ptr_nonnull(strstr(why, "larger than what remains"));
	/* the identifier's NUL outside the section */
	msg_start(0);
	body();
	raw_u8(&r, 1);
	raw_u32(&r, 4 + 3);
	raw_put(&r, "abc", 3);
	raw_put(&r, "\0", 1);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "NUL"));
	/* a size field cut by the end of the message */
	msg_start(0);
	body();
	raw_put(&r, "\1\x10\0", 3);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	/* empty identifier; one not UTF-8 (it would be a field name) */
	msg_start(0);
	body();
	seq("", 1);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	msg_start(0);
	body();
	seq("docu\xffments", 1);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "UTF-8"));
	msg_start(0);
	body();
	seq("d\xc3\xa9j\xc3\xa0", 1);
	raw_end(&r);
	PARSE_IS(MDW_OK);
}
END_TEST

START_TEST(msg_seq_ids)
{
	msg_start(0);
	body();
	seq("documents", 1);
	seq("documents", 2);
	raw_end(&r);
	PARSE_IS(MDW_E_DUPLICATE);
	msg_start(0);
	body();
	seq("documents", 1);
	seq("documentsX", 2);
	seq("Documents", 2);
	raw_end(&r);
	PARSE_IS(MDW_OK);
	msg_start(0);
	body();
	char id[24];
	for (int i = 0; i < MDW_MAX_SEQUENCES; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		seq(id, 1);
	}
	raw_end(&r);
	PARSE_IS(MDW_OK);
	ck_assert_uint_eq(req.msg.nseq, MDW_MAX_SEQUENCES);
	seq("one-more", 1);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
}
END_TEST

/*
 * {a: {a: ... {} ...}} nested n deep (the top level is depth 0), or
 * [[...[]...]], written directly: bson_append would copy each level.
 */
static bson_t *nested(int n, bool arrays)
{
	size_t len = 5 + (size_t)n * 8;
	uint8_t *p = malloc(len);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i <= n; i++) {
		uint8_t *q = p + (size_t)i * 7;
		uint32_t l = (uint32_t)(len - (size_t)i * 8);
		memcpy(q, &l, 4);
		if (i < n) {
			q[4] = arrays ? 0x04 : 0x03;
			q[5] = arrays ? '0' : 'a';
			q[6] = 0;
		} else {
			q[4] = 0;
		}
		p[len - 1 - i] = 0;
	}
	bson_t *b = bson_new_from_data(p, len);
	free(p);
	ck_assert_ptr_nonnull(b);
	return b;
}

START_TEST(msg_depth)
{
	for (int arrays = 0; arrays < 2; arrays++) {
		for (int n = MDW_MAX_DEPTH; n <= MDW_MAX_DEPTH + 1; n++) {
			bson_t *d = nested(n, arrays);
			msg_start(0);
			raw_u8(&r, 0);
			raw_doc(&r, d);
			raw_end(&r);
			bson_destroy(d);
			ck_assert_int_eq(parse(), n > MDW_MAX_DEPTH ? MDW_E_BSON : MDW_OK);
		}
	}
	/* deep enough to overflow a recursive validator: refused, no crash */
	bson_t *d = nested(200000, false);
	msg_start(0);
	raw_u8(&r, 0);
	raw_doc(&r, d);
	raw_end(&r);
	bson_destroy(d);
	PARSE_IS(MDW_E_BSON);
	/* nesting through a code-with-scope's scope counts too */
	bson_t *scope = nested(MDW_MAX_DEPTH, false);
	bson_t *c = bson_new();
	BSON_APPEND_CODE_WITH_SCOPE(c, "f", "x", scope);
	msg_start(0);
	raw_u8(&r, 0);
	raw_doc(&r, c);
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
	bson_destroy(c);
	bson_destroy(scope);
}
END_TEST

/* A document of exactly n bytes: {s: "xxx..."}. */
static bson_t *sized(uint32_t n)
{
	size_t slen = n - (4 + 1 + 2 + 4 + 1 + 1);
	char *s = malloc(slen + 1);
	memset(s, 'x', slen);
	s[slen] = 0;
	bson_t *b = bson_new();
	bson_append_utf8(b, "s", 1, s, (int)slen);
	free(s);
	ck_assert_uint_eq(b->len, n);
	return b;
}

START_TEST(msg_doc_sizes)
{
	uint32_t sizes[] = {MDW_MAX_BSON_CMD, MDW_MAX_BSON_CMD + 1};
	for (int i = 0; i < 2; i++) {
		bson_t *d = sized(sizes[i]);
		msg_start(0);
		raw_u8(&r, 0);
		raw_doc(&r, d);
		raw_end(&r);
		ck_assert_int_eq(parse(), i ? MDW_E_BSON : MDW_OK);
		bson_destroy(d);
	}
	uint32_t ssizes[] = {MDW_MAX_BSON, MDW_MAX_BSON + 1};
	for (int i = 0; i < 2; i++) {
		bson_t *d = sized(ssizes[i]);
		msg_start(0);
		body();
		raw_u8(&r, 1);
		raw_u32(&r, 4 + 2 + d->len);
		raw_put(&r, "d", 2);
		raw_doc(&r, d);
		raw_end(&r);
		ck_assert_int_eq(parse(), i ? MDW_E_BSON : MDW_OK);
		bson_destroy(d);
	}
}
END_TEST

/* OP_QUERY with a namespace, a query and optionally fields. */
static void query(const char *ns, const bson_t *q, const bson_t *f)
{
	raw_header(&r, 3, 0, MDW_OP_QUERY);
	raw_u32(&r, 4);
	raw_put(&r, ns, strlen(ns) + 1);
	raw_u32(&r, 5);
	raw_u32(&r, (uint32_t)-1);
	raw_doc(&r, q);
	if (f)
		raw_doc(&r, f);
	raw_end(&r);
}

START_TEST(query_fields)
{
	bson_t *q = BCON_NEW("isMaster", BCON_INT32(1), "client", "{", "x", "y", "}");
	bson_t *f = BCON_NEW("a", BCON_INT32(1));
	query("admin.$cmd", q, f);
	PARSE_IS(MDW_OK);
	const struct mdw_query *mq = &req.query;
	ck_assert_int_eq(req.hdr.opcode, MDW_OP_QUERY);
	ck_assert_int_eq(mq->flags, 4);
	ck_assert_str_eq(mq->ns, "admin.$cmd");
	ck_assert_uint_eq(mq->ns_len, 10);
	ck_assert_ptr_eq(mq->db, (const char *)copy + 20);
	ck_assert_uint_eq(mq->db_len, 5);
	ck_assert_int_eq(mq->skip, 5);
	ck_assert_int_eq(mq->nreturn, -1);
	ck_assert_ptr_eq(mq->query.data, copy + 20 + 11 + 8);
	ck_assert_uint_eq(mq->query.len, q->len);
	ck_assert_ptr_eq(mq->cmd.data, mq->query.data);
	ck_assert_uint_eq(mq->fields.len, f->len);
	ck_assert(!memcmp(mq->fields.data, bson_get_data(f), f->len));
	query("test.$cmd", q, NULL);
	PARSE_IS(MDW_OK);
	ck_assert_uint_eq(req.query.fields.len, 0);
	ck_assert_ptr_null(req.query.fields.data);
	bson_destroy(q);
	bson_destroy(f);
}
END_TEST

START_TEST(query_unwrap)
{
	bson_t *inner = BCON_NEW("hello", BCON_INT32(1));
	const char *keys[] = {"$query", "query", "$querx"};
	for (int i = 0; i < 3; i++) {
		bson_t *q = bson_new();
		bson_append_document(q, keys[i], -1, inner);
		BCON_APPEND(q, "$readPreference", "{", "mode", "primary", "}");
		query("admin.$cmd", q, NULL);
		PARSE_IS(MDW_OK);
		bson_t c;
		ck_assert(mdw_doc_bson(&req.query.cmd, &c));
		ck_assert(bson_equal(&c, i < 2 ? inner : q));
		bson_destroy(q);
	}
	/* $query holding a non-document: the query itself is the command */
	bson_t *q = BCON_NEW("$query", BCON_INT32(1));
	query("admin.$cmd", q, NULL);
	PARSE_IS(MDW_OK);
	ck_assert_ptr_eq(req.query.cmd.data, req.query.query.data);
	bson_destroy(q);
	bson_destroy(inner);
}
END_TEST

START_TEST(query_refusals)
{
	bson_t *q = BCON_NEW("isMaster", BCON_INT32(1));
	const char *nss[] = {"admin.coll", "admin.$cmdx", "admin.$cm", "admin",
	                     ".$cmd", "a b.$cmd", "a$b.$cmd"};
	int want[] = {MDW_E_UNSUPPORTED, MDW_E_UNSUPPORTED, MDW_E_UNSUPPORTED,
	              MDW_E_FORMAT, MDW_E_FORMAT, MDW_E_FORMAT, MDW_E_FORMAT};
	for (int i = 0; i < 7; i++) {
		query(nss[i], q, NULL);
		ck_assert_msg(parse() == want[i], "%s: %s", nss[i], why);
	}
	char ns[300];
	memset(ns, 'a', sizeof(ns));
	strcpy(ns + 255 - 5, ".$cmd"); /* 255 bytes: the longest */
	ck_assert_int_eq(strlen(ns), 255);
	query(ns, q, NULL);
	PARSE_IS(MDW_E_FORMAT); /* the database name is > 63 */
	ck_assert_ptr_nonnull(strstr(why, "database name"));
	memset(ns, 'a', sizeof(ns));
	strcpy(ns + 256 - 5, ".$cmd");
	query(ns, q, NULL);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "longer than 255"));
	/* the namespace running to the end of the message without a NUL */
	raw_header(&r, 3, 0, MDW_OP_QUERY);
	raw_u32(&r, 0);
	raw_put(&r, "admin.$cmdaaaaaaaaaaaaaaaaaaaa", 30);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	ck_assert_ptr_nonnull(strstr(why, "not NUL-terminated"));
	/* skip and return cut */
	raw_header(&r, 3, 0, MDW_OP_QUERY);
	raw_u32(&r, 0);
	raw_put(&r, "admin.$cmd", 11);
	raw_put(&r, "\0\0\0\0\0\0\0", 7);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	/* trailing bytes: after the query (not a document), after fields */
	query("admin.$cmd", q, NULL);
	raw_put(&r, "\0\0\0", 3);
	raw_end(&r);
	PARSE_IS(MDW_E_BSON);
	query("admin.$cmd", q, q);
	raw_put(&r, "\0\0\0", 3);
	raw_end(&r);
	PARSE_IS(MDW_E_FORMAT);
	/* a query document longer than the message */
	query("admin.$cmd", q, NULL);
	r.b[r.n - q->len] += 1;
	PARSE_IS(MDW_E_BSON);
	bson_destroy(q);
}
END_TEST

START_TEST(db_names)
{
	ck_assert_int_eq(mdw_db_name_check("admin", 5, &why), MDW_OK);
	ck_assert_int_eq(mdw_db_name_check("a", 0, &why), MDW_E_FORMAT);
	char n[64];
	memset(n, 'd', 64);
	ck_assert_int_eq(mdw_db_name_check(n, 63, &why), MDW_OK);
	ck_assert_int_eq(mdw_db_name_check(n, 64, &why), MDW_E_FORMAT);
	const char bad[] = "/\\. \"$";
	for (int i = 0; i < 7; i++) {
		char d[4] = {'a', bad[i], 'b', 0};
		ck_assert_int_eq(mdw_db_name_check(d, 3, &why), MDW_E_FORMAT);
	}
}
END_TEST

START_TEST(opcodes_refused)
{
	const int32_t known[] = {MDW_OP_REPLY, MDW_OP_UPDATE, MDW_OP_INSERT,
	                         MDW_OP_GET_MORE, MDW_OP_DELETE,
	                         MDW_OP_KILL_CURSORS, MDW_OP_COMPRESSED, 2010};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		raw_header(&r, 1, 0, known[i]);
		raw_u32(&r, 0);
		raw_end(&r);
		PARSE_IS(MDW_E_UNSUPPORTED);
		ck_assert_ptr_nonnull(mdw_opcode_name(known[i]));
		ck_assert_ptr_nonnull(strstr(why, mdw_opcode_name(known[i])));
	}
	const int32_t unknown[] = {0, -1, 2, 2008, 2014, 1 << 30};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		raw_header(&r, 1, 0, unknown[i]);
		raw_end(&r);
		PARSE_IS(MDW_E_OPCODE);
		ck_assert_ptr_null(mdw_opcode_name(unknown[i]));
	}
	ck_assert_str_eq(mdw_opcode_name(MDW_OP_MSG), "OP_MSG");
	ck_assert_str_eq(mdw_err_name(MDW_E_CHECKSUM), "MDW_E_CHECKSUM");
	ck_assert_str_eq(mdw_err_name(-3), "MDW_E_?");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdw_parse");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, header_fields);
	tcase_add_test(tc, header_lengths);
	tcase_add_test(tc, length_not_what_was_read);
	tcase_add_test(tc, msg_fields);
	tcase_add_test(tc, msg_flag_bits);
	tcase_add_test(tc, msg_checksum);
	tcase_add_test(tc, msg_kind0_count);
	tcase_add_test(tc, msg_body_lengths);
	tcase_add_test(tc, msg_seq_lengths);
	tcase_add_test(tc, msg_seq_ids);
	tcase_add_test(tc, msg_depth);
	tcase_add_test(tc, msg_doc_sizes);
	tcase_add_test(tc, query_fields);
	tcase_add_test(tc, query_unwrap);
	tcase_add_test(tc, query_refusals);
	tcase_add_test(tc, db_names);
	tcase_add_test(tc, opcodes_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
