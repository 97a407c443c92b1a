/*
 * fuzz_seed.c DIR: writes the fuzzer's seed corpus, one message a file,
 * made by the library's own builders: OP_MSG with and without sequences
 * and checksum, OP_QUERY handshakes plain and wrapped, an OP_REPLY.
 */
#include "mdb_wire.h"

#include <stdio.h>
#include <stdlib.h>

static int nfile;

static void save(const char *dir, struct mdw_buf *b)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%03d", dir, nfile++);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f)) {
		perror(path);
		exit(1);
	}
	mdw_buf_reset(b);
}

static void must(int rc, const char *why)
{
	if (rc) {
		fprintf(stderr, "fuzz_seed: %s\n", why);
		exit(1);
	}
}

/* Seeds for the command layer: a filter, an update, a pipeline. */
static void commands(const char *dir, struct mdw_buf *b)
{
	const char *why = "";
	bson_t *cmds[] = {
		BCON_NEW("find", "c", "filter", "{", "a", "{", "$gt", BCON_INT32(1),
		         "$in", "[", BCON_INT32(5), "x", "]", "}", "b.c",
		         BCON_NULL, "}", "sort", "{", "a", BCON_INT32(-1), "}",
		         "projection", "{", "a", BCON_INT32(1), "}", "$db", "t"),
		BCON_NEW("update", "c", "updates", "[", "{", "q", "{", "$or", "[",
		         "{", "a", BCON_INT32(1), "}", "{", "a", "{", "$exists",
		         BCON_BOOL(false), "}", "}", "]", "}", "u", "{", "$inc",
		         "{", "n", BCON_INT32(1), "}", "$push", "{", "t", "x", "}",
		         "}", "upsert", BCON_BOOL(true), "}", "]", "$db", "t"),
		BCON_NEW("aggregate", "c", "pipeline", "[", "{", "$match", "{",
		         "a", "{", "$ne", BCON_INT32(3), "}", "}", "}", "{",
		         "$group", "{", "_id", "$a", "n", "{", "$sum", BCON_INT32(1),
		         "}", "}", "}", "{", "$sort", "{", "n", BCON_INT32(1), "}",
		         "}", "{", "$limit", BCON_INT32(2), "}", "]", "cursor", "{",
		         "}", "$db", "t"),
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		must(mdw_build_msg(b, 30 + (int)i, 0, 0, cmds[i], NULL, 0, &why), why);
		save(dir, b);
		bson_destroy(cmds[i]);
	}
}

static void msgs(const char *dir, struct mdw_buf *b)
{
	const char *why = "";
	bson_t *hello = BCON_NEW("hello", BCON_INT32(1), "$db", "admin");
	bson_t *ins = BCON_NEW("insert", "c", "ordered", BCON_BOOL(true),
	                       "$db", "test");
	bson_t *d1 = BCON_NEW("_id", BCON_INT32(1), "a", "[", "x", "{",
	                      "b", BCON_DOUBLE(2.5), "}", "]");
	bson_t *d2 = BCON_NEW("_id", BCON_INT64(2), "s", BCON_UTF8("y"));
	const bson_t *docs[] = {d1, d2};
	struct mdw_seq_out seq[] = {{"documents", docs, 2}, {"extra", docs, 1}};
	uint32_t flags[] = {0, MDW_MSG_CHECKSUM, MDW_MSG_MORE_TO_COME,
	                    MDW_MSG_EXHAUST | MDW_MSG_CHECKSUM};
	for (int f = 0; f < 4; f++) {
		must(mdw_build_msg(b, 1 + f, 0, flags[f], hello, NULL, 0, &why), why);
		save(dir, b);
		must(mdw_build_msg(b, 10 + f, 0, flags[f], ins, seq, 1, &why), why);
		save(dir, b);
		must(mdw_build_msg(b, 20 + f, 0, flags[f], ins, seq, 2, &why), why);
		save(dir, b);
	}
	bson_t *wrapped = BCON_NEW("$query", "{", "isMaster", BCON_INT32(1),
	                           "}", "$readPreference", "{", "mode",
	                           "primary", "}");
	bson_t *fields = BCON_NEW("x", BCON_INT32(1));
	must(mdw_build_query(b, 7, 0, "admin.$cmd", 0, -1, hello, NULL, &why), why);
	save(dir, b);
	must(mdw_build_query(b, 8, 4, "admin.$cmd", 0, 1, wrapped, fields, &why), why);
	save(dir, b);
	must(mdw_build_reply(b, 9, 8, 8, hello, &why), why);
	save(dir, b);
	bson_destroy(hello);
	bson_destroy(ins);
	bson_destroy(d1);
	bson_destroy(d2);
	bson_destroy(wrapped);
	bson_destroy(fields);
	commands(dir, b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mdw_fuzz_seed DIR\n");
		return 2;
	}
	struct mdw_buf b;
	mdw_buf_init(&b, 0);
	msgs(argv[1], &b);
	mdw_buf_free(&b);
	return 0;
}
