/*
 * test_mdw_build.c: the builders and the merge. Seeded random messages
 * (bodies, sequences, flags) are built, parsed back and compared with
 * what was built; the merge is compared with a document assembled
 * independently with bson_append_*; OP_REPLY and OP_QUERY byte by byte;
 * the output buffer's maximum.
 */
#include "check_run.h"
#include "test_mdw.h"
#include "views_inside.h"

#include <stdio.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A random document of a few fields, some nested. */
static bson_t *rdoc(int depth)
{
	bson_t *b = bson_new();
	int n = (int)rnd(5);
	for (int i = 0; i < n; i++) {
		char k[24];
		snprintf(k, sizeof(k), "f%d", i);
		switch (rnd(depth > 2 ? 3 : 4)) {
		case 0: bson_append_int32(b, k, -1, (int32_t)rnd(1000)); break;
		case 1: bson_append_utf8(b, k, -1, "v\0w", 3); break;
		case 2: bson_append_double(b, k, -1, rnd(100) / 3.0); break;
		default: {
			bson_t *c = rdoc(depth + 1);
			bson_append_document(b, k, -1, c);
			bson_destroy(c);
		}
		}
	}
	return b;
}

struct spec {
	uint32_t flags;
	bson_t *body;
	size_t nseq;
	char ids[4][24];
	bson_t *docs[4][8];
	const bson_t *cdocs[4][8];
	struct mdw_seq_out seqs[4];
};

static void spec_make(struct spec *s)
{
	static const uint32_t fl[] = {0, MDW_MSG_CHECKSUM, MDW_MSG_MORE_TO_COME,
	                              MDW_MSG_EXHAUST, MDW_MSG_CHECKSUM | MDW_MSG_EXHAUST};
	memset(s, 0, sizeof(*s));
	s->flags = fl[rnd(5)];
	s->body = rdoc(0);
	BCON_APPEND(s->body, "$db", "test");
	s->nseq = rnd(5);
	for (size_t q = 0; q < s->nseq; q++) {
		snprintf(s->ids[q], sizeof(s->ids[q]), "seq%zu", q);
		size_t n = rnd(9);
		for (size_t i = 0; i < n; i++)
			s->cdocs[q][i] = s->docs[q][i] = rdoc(0);
		s->seqs[q] = (struct mdw_seq_out){s->ids[q], s->cdocs[q], n};
	}
}

static void spec_free(struct spec *s)
{
	bson_destroy(s->body);
	for (size_t q = 0; q < s->nseq; q++)
		for (size_t i = 0; i < s->seqs[q].ndocs; i++)
			bson_destroy(s->docs[q][i]);
}

/* The merge's oracle: body fields, then one array per sequence. */
static bson_t *expected_merge(const struct spec *s)
{
	bson_t *e = bson_copy(s->body);
	for (size_t q = 0; q < s->nseq; q++) {
		bson_t arr;
		bson_append_array_begin(e, s->ids[q], -1, &arr);
		for (size_t i = 0; i < s->seqs[q].ndocs; i++) {
			char k[24];
			snprintf(k, sizeof(k), "%zu", i);
			bson_append_document(&arr, k, -1, s->docs[q][i]);
		}
		bson_append_array_end(e, &arr);
	}
	return e;
}

static void check_parsed(const struct spec *s, const struct mdw_request *r)
{
	const struct mdw_msg *m = &r->msg;
	bson_t b;
	ck_assert_uint_eq(m->flags, s->flags);
	ck_assert(m->checksum == !!(s->flags & MDW_MSG_CHECKSUM));
	ck_assert(mdw_doc_bson(&m->body, &b));
	ck_assert(bson_equal(&b, s->body));
	ck_assert_uint_eq(m->nseq, s->nseq);
	for (size_t q = 0; q < s->nseq; q++) {
		ck_assert_str_eq(m->seq[q].id, s->ids[q]);
		ck_assert_uint_eq(m->seq[q].ndocs, s->seqs[q].ndocs);
		size_t off = 0, i = 0;
		struct mdw_doc d;
		while (mdw_seq_next(&m->seq[q], &off, &d)) {
			ck_assert(mdw_doc_bson(&d, &b));
			ck_assert(bson_equal(&b, s->docs[q][i++]));
		}
		ck_assert_uint_eq(i, s->seqs[q].ndocs);
	}
}

START_TEST(msg_round_trips)
{
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	for (int t = 0; t < 2000; t++) {
		struct spec s;
		spec_make(&s);
		const char *why = NULL;
		mdw_buf_reset(&out);
		int32_t id = (int32_t)rnd(1u << 31), to = (int32_t)rnd(100);
		ck_assert_int_eq(mdw_build_msg(&out, id, to, s.flags, s.body, s.seqs,
		                               s.nseq, &why), MDW_OK);
		struct mdw_request r;
		uint8_t *copy;
		int rc = raw_parse(out.data, out.len, &r, &why, &copy);
		ck_assert_msg(rc == MDW_OK, "case %d: %s", t, why);
		ck_assert(mdw_views_inside(&r, copy, out.len));
		ck_assert_int_eq(r.hdr.length, (int32_t)out.len);
		ck_assert_int_eq(r.hdr.request_id, id);
		ck_assert_int_eq(r.hdr.response_to, to);
		ck_assert_int_eq(r.hdr.opcode, MDW_OP_MSG);
		check_parsed(&s, &r);
		if (s.flags & MDW_MSG_CHECKSUM)
			ck_assert_uint_eq(r.msg.crc, ref_crc32c(out.data, out.len - 4));
		bson_t merged;
		ck_assert_int_eq(mdw_msg_merge(&r.msg, &merged, &why), MDW_OK);
		bson_t *e = expected_merge(&s);
		ck_assert(bson_equal(&merged, e));
		bson_destroy(e);
		bson_destroy(&merged);
		free(copy);
		spec_free(&s);
	}
	mdw_buf_free(&out);
}
END_TEST

START_TEST(crc_known_value)
{
	/* CRC-32C's check value, through a checksummed message's bytes */
	ck_assert_uint_eq(ref_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	bson_t *b = BCON_NEW("ping", BCON_INT32(1));
	for (int t = 0; t < 200; t++) {
		bson_reinit(b);
		for (int i = 0; i < t; i++)
			BCON_APPEND(b, "k", BCON_INT32((int32_t)rnd(1u << 31)));
		mdw_buf_reset(&out);
		ck_assert_int_eq(mdw_build_msg(&out, 1, 0, MDW_MSG_CHECKSUM, b, NULL, 0, NULL), MDW_OK);
		uint32_t c;
		memcpy(&c, out.data + out.len - 4, 4);
		ck_assert_uint_eq(c, ref_crc32c(out.data, out.len - 4));
	}
	bson_destroy(b);
	mdw_buf_free(&out);
}
END_TEST

static int parse_merge(struct mdw_buf *out, bson_t *merged, const char **why)
{
	static struct mdw_request r;
	ck_assert_int_eq(mdw_parse(out->data, out->len, &r, why), MDW_OK);
	return mdw_msg_merge(&r.msg, merged, why);
}

START_TEST(merge_insert)
{
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	bson_t *body = BCON_NEW("insert", "c", "$db", "test");
	bson_t *d0 = BCON_NEW("_id", BCON_INT32(1));
	bson_t *d1 = BCON_NEW("_id", BCON_INT32(2));
	const bson_t *docs[] = {d0, d1};
	struct mdw_seq_out seq = {"documents", docs, 2};
	ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 0, body, &seq, 1, NULL), MDW_OK);
	bson_t merged;
	const char *why;
	ck_assert_int_eq(parse_merge(&out, &merged, &why), MDW_OK);
	char *js = bson_as_canonical_extended_json(&merged, NULL);
	ck_assert_str_eq(js, "{ \"insert\" : \"c\", \"$db\" : \"test\", \"documents\" : "
	                 "[ { \"_id\" : { \"$numberInt\" : \"1\" } }, "
	                 "{ \"_id\" : { \"$numberInt\" : \"2\" } } ] }");
	bson_free(js);
	bson_destroy(&merged);
	bson_destroy(body);
	bson_destroy(d0);
	bson_destroy(d1);
	mdw_buf_free(&out);
}
END_TEST

START_TEST(merge_duplicate_field)
{
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	bson_t *d0 = BCON_NEW("x", BCON_INT32(1));
	const bson_t *docs[] = {d0};
	/* exact key: "documents" conflicts; a prefix, a case, a dotted path
	 * do not */
	const char *ids[] = {"documents", "document", "Documents", "a.b", "a"};
	int want[] = {MDW_E_DUPLICATE, MDW_OK, MDW_OK, MDW_OK, MDW_E_DUPLICATE};
	bson_t *body = BCON_NEW("insert", "c", "documents", "[", "]",
	                        "a", "{", "b", BCON_INT32(1), "}");
	for (int i = 0; i < 5; i++) {
		struct mdw_seq_out seq = {ids[i], docs, 1};
		mdw_buf_reset(&out);
		ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 0, body, &seq, 1, NULL), MDW_OK);
		bson_t merged;
		const char *why = NULL;
		int rc = parse_merge(&out, &merged, &why);
		ck_assert_msg(rc == want[i], "%s: %s", ids[i], mdw_err_name(rc));
		if (rc == MDW_OK)
			bson_destroy(&merged);
		else
			ck_assert_ptr_nonnull(why);
	}
	bson_destroy(body);
	bson_destroy(d0);
	mdw_buf_free(&out);
}
END_TEST

/* A message near maxMessageSizeBytes of empty documents: each becomes an
 * array element with an index key, so the merge would pass 48000000. */
START_TEST(merge_too_big)
{
	struct raw r = {0};
	raw_header(&r, 1, 0, MDW_OP_MSG);
	raw_u32(&r, 0);
	bson_t *body = BCON_NEW("insert", "c");
	raw_u8(&r, 0);
	raw_doc(&r, body);
	size_t at = r.n;
	raw_u8(&r, 1);
	raw_u32(&r, 0);
	raw_put(&r, "documents", 10);
	size_t n = (MDW_MAX_MESSAGE - r.n) / 5;
	uint8_t *empties = malloc(n * 5);
	for (size_t i = 0; i < n; i++)
		memcpy(empties + i * 5, "\5\0\0\0\0", 5);
	raw_put(&r, empties, n * 5);
	free(empties);
	uint32_t size = (uint32_t)(r.n - at - 1);
	memcpy(r.b + at + 1, &size, 4);
	raw_end(&r);
	static struct mdw_request req;
	const char *why;
	ck_assert_int_eq(mdw_parse(r.b, r.n, &req, &why), MDW_OK);
	ck_assert_uint_eq(req.msg.seq[0].ndocs, n);
	bson_t merged;
	ck_assert_int_eq(mdw_msg_merge(&req.msg, &merged, &why), MDW_E_TOOBIG);
	/* a quarter of that merges, to more than 16 MiB: allowed */
	size = (uint32_t)(4 + 10 + 5 * (n / 4));
	memcpy(r.b + at + 1, &size, 4);
	r.n = at + 1 + size;
	raw_end(&r);
	ck_assert_int_eq(mdw_parse(r.b, r.n, &req, &why), MDW_OK);
	ck_assert_int_eq(mdw_msg_merge(&req.msg, &merged, &why), MDW_OK);
	ck_assert_uint_gt(merged.len, MDW_MAX_BSON);
	bson_destroy(&merged);
	bson_destroy(body);
	free(r.b);
}
END_TEST

START_TEST(reply_bytes)
{
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	bson_t *doc = BCON_NEW("ismaster", BCON_BOOL(true), "ok", BCON_DOUBLE(1));
	ck_assert_int_eq(mdw_build_reply(&out, 42, 7, 8, doc, NULL), MDW_OK);
	ck_assert_uint_eq(out.len, 16 + 20 + doc->len);
	int32_t v[4];
	memcpy(v, out.data, 16);
	ck_assert_int_eq(v[0], (int32_t)out.len);
	ck_assert_int_eq(v[1], 42);
	ck_assert_int_eq(v[2], 7);
	ck_assert_int_eq(v[3], MDW_OP_REPLY);
	int32_t flags, from, nret;
	int64_t cursor;
	memcpy(&flags, out.data + 16, 4);
	memcpy(&cursor, out.data + 20, 8);
	memcpy(&from, out.data + 28, 4);
	memcpy(&nret, out.data + 32, 4);
	ck_assert_int_eq(flags, 8);
	ck_assert_int_eq(cursor, 0);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(nret, 1);
	ck_assert(!memcmp(out.data + 36, bson_get_data(doc), doc->len));
	/* an OP_REPLY is no request: refused by mdw_parse */
	struct mdw_request r;
	const char *why;
	ck_assert_int_eq(mdw_parse(out.data, out.len, &r, &why), MDW_E_UNSUPPORTED);
	bson_destroy(doc);
	mdw_buf_free(&out);
}
END_TEST

START_TEST(query_round_trip)
{
	struct mdw_buf out;
	mdw_buf_init(&out, 0);
	bson_t *q = BCON_NEW("$query", "{", "isMaster", BCON_INT32(1), "}");
	bson_t *f = BCON_NEW("x", BCON_INT32(1));
	ck_assert_int_eq(mdw_build_query(&out, 9, 4, "local.$cmd", 3, -1, q, f, NULL), MDW_OK);
	struct mdw_request r;
	const char *why;
	ck_assert_int_eq(mdw_parse(out.data, out.len, &r, &why), MDW_OK);
	ck_assert_int_eq(r.hdr.request_id, 9);
	ck_assert_int_eq(r.query.flags, 4);
	ck_assert_int_eq(r.query.skip, 3);
	ck_assert_int_eq(r.query.nreturn, -1);
	ck_assert_uint_eq(r.query.db_len, 5);
	ck_assert(!memcmp(r.query.db, "local", 5));
	bson_t c;
	ck_assert(mdw_doc_bson(&r.query.cmd, &c));
	bson_iter_t it;
	ck_assert(bson_iter_init_find(&it, &c, "isMaster"));
	ck_assert_uint_eq(r.query.fields.len, f->len);
	char ns[300];
	memset(ns, 'a', sizeof(ns));
	ns[256] = 0;
	ck_assert_int_eq(mdw_build_query(&out, 9, 0, ns, 0, 0, q, NULL, &why), MDW_E_ARG);
	bson_destroy(q);
	bson_destroy(f);
	mdw_buf_free(&out);
}
END_TEST

START_TEST(buf_maximum)
{
	bson_t *b = BCON_NEW("ok", BCON_DOUBLE(1));
	size_t one = 16 + 4 + 1 + b->len;
	struct mdw_buf out;
	mdw_buf_init(&out, 2 * one + 3);
	const char *why;
	ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 0, b, NULL, 0, &why), MDW_OK);
	ck_assert_int_eq(mdw_build_msg(&out, 2, 0, 0, b, NULL, 0, &why), MDW_OK);
	ck_assert_uint_eq(out.len, 2 * one);
	/* the third does not fit: refused, the first two untouched */
	ck_assert_int_eq(mdw_build_msg(&out, 3, 0, 0, b, NULL, 0, &why), MDW_E_TOOBIG);
	ck_assert_int_eq(mdw_build_reply(&out, 3, 0, 0, b, &why), MDW_E_TOOBIG);
	ck_assert_uint_eq(out.len, 2 * one);
	ck_assert_uint_le(out.cap, out.max);
	struct mdw_header h;
	ck_assert_int_eq(mdw_header_parse(out.data + one, one, &h, &why), MDW_OK);
	ck_assert_int_eq(h.request_id, 2);
	/* flags the builder does not know; NULL arguments */
	ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 4, b, NULL, 0, &why), MDW_E_ARG);
	ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 0, NULL, NULL, 0, &why), MDW_E_ARG);
	ck_assert_int_eq(mdw_build_msg(&out, 1, 0, 0, b, NULL, 1, &why), MDW_E_ARG);
	mdw_buf_free(&out);
	ck_assert_ptr_null(out.data);
	/* the default maximum: maxMessageSizeBytes */
	mdw_buf_init(&out, 0);
	ck_assert_uint_eq(out.max, MDW_MAX_MESSAGE);
	mdw_buf_free(&out);
	bson_destroy(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdw_build");
	TCase *tc = tcase_create("build");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, msg_round_trips);
	tcase_add_test(tc, crc_known_value);
	tcase_add_test(tc, merge_insert);
	tcase_add_test(tc, merge_duplicate_field);
	tcase_add_test(tc, merge_too_big);
	tcase_add_test(tc, reply_bytes);
	tcase_add_test(tc, query_round_trip);
	tcase_add_test(tc, buf_maximum);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
