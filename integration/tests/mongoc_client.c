/*
 * mongoc_client: a small libmongoc (Debian's 1.23) client against
 * mojim-docd (clients_c_py.sh): insert with j:true, find, count, update.
 * Prints "ok NAME" per check; exit 1 with the error otherwise.
 *
 *   mongoc_client URI
 */
#include <mongoc/mongoc.h>
#include <stdio.h>

#define CHECK(cond, what) do { if (!(cond)) { \
	fprintf(stderr, "FAIL %s: %s\n", what, error.message); return 1; } } \
	while (0)

static int run(mongoc_client_t *client)
{
	bson_error_t error = {0};
	mongoc_collection_t *c = mongoc_client_get_collection(client, "cdb", "items");
	mongoc_write_concern_t *wc = mongoc_write_concern_new();
	mongoc_write_concern_set_journal(wc, true);
	bson_t opts = BSON_INITIALIZER;
	mongoc_write_concern_append(wc, &opts);
	for (int i = 0; i < 100; i++) {
		bson_t *doc = BCON_NEW("_id", BCON_INT32(i), "k", BCON_INT32(i % 10));
		bool ok = mongoc_collection_insert_one(c, doc, &opts, NULL, &error);
		bson_destroy(doc);
		CHECK(ok, "insert j:true");
	}
	printf("ok insert j:true\n");
	bson_t *filter = BCON_NEW("k", BCON_INT32(3));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
	const bson_t *doc;
	int n = 0;
	while (mongoc_cursor_next(cur, &doc))
		n++;
	CHECK(!mongoc_cursor_error(cur, &error) && n == 10, "find");
	mongoc_cursor_destroy(cur);
	printf("ok find\n");
	int64_t count = mongoc_collection_count_documents(c, filter, NULL, NULL,
	                                                  NULL, &error);
	CHECK(count == 10, "count");
	printf("ok count\n");
	bson_t *upd = BCON_NEW("$set", "{", "k", BCON_INT32(-1), "}");
	bson_t reply;
	bool ok = mongoc_collection_update_many(c, filter, upd, &opts, &reply, &error);
	bson_iter_t it;
	CHECK(ok && bson_iter_init_find(&it, &reply, "modifiedCount") &&
	      bson_iter_as_int64(&it) == 10, "update");
	bson_destroy(&reply);
	count = mongoc_collection_count_documents(c, filter, NULL, NULL, NULL,
	                                          &error);
	CHECK(count == 0, "update then count");
	printf("ok update\n");
	CHECK(mongoc_collection_drop(c, &error), "drop");
	bson_destroy(upd);
	bson_destroy(filter);
	bson_destroy(&opts);
	mongoc_write_concern_destroy(wc);
	mongoc_collection_destroy(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mongoc_client URI\n");
		return 2;
	}
	mongoc_init();
	bson_error_t error;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
	if (!uri) {
		fprintf(stderr, "FAIL uri: %s\n", error.message);
		return 1;
	}
	mongoc_client_t *client = mongoc_client_new_from_uri(uri);
	int rc = client ? run(client) : 1;
	mongoc_client_destroy(client);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return rc;
}
