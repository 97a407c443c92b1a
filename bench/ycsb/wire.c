/*
 * wire.c: the second backend, a MongoDB server over the wire through
 * libmongoc (--target mongodb://HOST:PORT), with YCSB's MongoDB binding's
 * operations on ycsb.usertable: read = find by _id, update = $set of one
 * field, insert = insertOne (insertMany for a batch), scan = find
 * {_id: {$gte: k}} sorted by _id with a limit, read-modify-write = read
 * then update. Documents are doc.c's, so the correctness pass reads every
 * one back and checks it. The server is the user's: nothing here starts
 * or opens a database of its own.
 */
#include "store.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_DB "ycsb"
#define WIRE_COLL "usertable"

static const struct mode_def wire_modes[] = {
	{"wire_w0", K_WIRE, "w0", 0, -1, "over the wire, {w: 0}"},
	{"wire_w1", K_WIRE, "w1", 0, -1, "over the wire, {w: 1}"},
	{"wire_journal", K_WIRE, "journal", 0, -1,
	 "over the wire, {w: 1, j: true}"},
	{"wire_majority", K_WIRE, "majority", 0, -1,
	 "over the wire, {w: \"majority\"}"},
};

const struct mode_def *wire_mode(const char *wc)
{
	for (size_t i = 0; i < sizeof(wire_modes) / sizeof(wire_modes[0]); i++)
		if (!strcmp(wire_modes[i].ext_mode, wc))
			return &wire_modes[i];
	return NULL;
}

static mongoc_write_concern_t *make_wc(const char *name)
{
	mongoc_write_concern_t *wc = mongoc_write_concern_new();
	if (!strcmp(name, "w0")) {
		mongoc_write_concern_set_w(wc, 0);
	} else if (!strcmp(name, "majority")) {
		mongoc_write_concern_set_wmajority(wc, 0);
	} else {
		mongoc_write_concern_set_w(wc, 1);
		if (!strcmp(name, "journal"))
			mongoc_write_concern_set_journal(wc, true);
	}
	return wc;
}

static void wire_fail(char *err, size_t len, const char *what,
                      const bson_error_t *e)
{
	snprintf(err, len, "%s: %.200s (%u.%u)", what, e->message, e->domain,
	         e->code);
}

/* A client from the pool with ycsb.usertable at the write concern. */
int wire_sess_open(struct store *st, struct sess *x)
{
	memset(x, 0, sizeof(*x));
	x->st = st;
	x->cli = mongoc_client_pool_pop(st->pool);
	if (!x->cli) {
		snprintf(x->err, sizeof(x->err), "no client from the pool");
		return -1;
	}
	x->mc = mongoc_client_get_collection(x->cli, WIRE_DB, WIRE_COLL);
	mongoc_collection_set_write_concern(x->mc, st->wc);
	return 0;
}

/* A ping answered means every write sent before it on this connection
 * was done ({w: 0} writes are not answered). */
static int wire_ping(mongoc_client_t *c, char *err, size_t len)
{
	bson_t cmd = BSON_INITIALIZER;
	bson_error_t e;
	BSON_APPEND_INT32(&cmd, "ping", 1);
	bool ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, NULL, &e);
	bson_destroy(&cmd);
	if (!ok)
		wire_fail(err, len, "ping", &e);
	return ok ? 0 : -1;
}

void wire_sess_close(struct sess *x)
{
	if (x->mc)
		mongoc_collection_destroy(x->mc);
	if (x->cli) {
		if (wire_ping(x->cli, x->err, sizeof(x->err)) && !x->close_rc)
			x->close_rc = -1;
		mongoc_client_pool_push(x->st->pool, x->cli);
	}
	x->mc = NULL;
	x->cli = NULL;
}

int wire_open(struct store *st, const char *target, const char *wc,
              char *err, size_t len)
{
	bson_error_t e;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(target, &e);
	if (!uri) {
		wire_fail(err, len, target, &e);
		return -1;
	}
	st->pool = mongoc_client_pool_new(uri);
	mongoc_uri_destroy(uri);
	if (!st->pool) {
		snprintf(err, len, "%s: cannot make a client pool", target);
		return -1;
	}
	mongoc_client_pool_set_error_api(st->pool, MONGOC_ERROR_API_VERSION_2);
	st->wc = make_wc(wc);
	return 0;
}

/* A fresh collection for a load: the old one dropped (if any). */
int wire_fresh(struct store *st, char *err, size_t len)
{
	struct sess x;
	bson_error_t e;
	if (wire_sess_open(st, &x)) {
		snprintf(err, len, "%s", x.err);
		return -1;
	}
	int rc = 0;
	if (!mongoc_collection_drop(x.mc, &e) && e.code != 26 &&
	    !strstr(e.message, "not found")) { /* 26: NamespaceNotFound */
		wire_fail(err, len, "drop ycsb.usertable", &e);
		rc = -1;
	}
	wire_sess_close(&x);
	return rc;
}

void wire_close(struct store *st)
{
	if (st->pool)
		mongoc_client_pool_destroy(st->pool);
	if (st->wc)
		mongoc_write_concern_destroy(st->wc);
	st->pool = NULL;
	st->wc = NULL;
}

/* libmongoc's warnings and errors to stderr, not its debug chatter (the
 * reason of a failure comes back in its bson_error_t anyway). */
static void wire_log(mongoc_log_level_t level, const char *domain,
                     const char *msg, void *arg)
{
	if (level <= MONGOC_LOG_LEVEL_WARNING)
		mongoc_log_default_handler(level, domain, msg, arg);
}

void wire_init(void)
{
	mongoc_init();
	mongoc_log_set_handler(wire_log, NULL);
}
