/*
 * wtfix.h (tests only): a real WiredTiger on a fresh directory under
 * /dev/shm for each test, removed after; a store and a session on it.
 */
#ifndef MDL_WTFIX_H
#define MDL_WTFIX_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check_run.h"
#include "mdb_layout.h"

static char home[256], basedir[128];
static WT_CONNECTION *conn;
static mdl_store *st;
static WT_SESSION *ses;
static mdl_err err;

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb; (void)f; (void)w;
	return remove(p);
}

static void wt_up(void)
{
	ck_assert_int_eq(wiredtiger_open(home, NULL, "create,cache_size=64M",
	                                 &conn), 0);
	ck_assert_msg(mdl_open(conn, &st, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(conn->open_session(conn, NULL, "isolation=snapshot",
	                                    &ses), 0);
}

static void wt_down(void)
{
	if (ses)
		ses->close(ses, NULL);
	mdl_close(st);
	if (conn)
		conn->close(conn, NULL);
	ses = NULL;
	st = NULL;
	conn = NULL;
}

static void setup(void)
{
	snprintf(home, sizeof(home), "%s/t-XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(home));
	wt_up();
}

static void teardown(void)
{
	wt_down();
	nftw(home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void begin(void)
{
	ck_assert_int_eq(ses->begin_transaction(ses, NULL), 0);
}

static void commit(void)
{
	ck_assert_int_eq(ses->commit_transaction(ses, NULL), 0);
}

static void rollback(void)
{
	ck_assert_int_eq(ses->rollback_transaction(ses, NULL), 0);
}

/* Runs one call in its own transaction: committed if it returns 0. */
#define TXN(call) ({ begin(); int r_ = (call); \
	if (r_) rollback(); else commit(); r_; })
#define OK(call) ck_assert_msg((call) == 0, "%s: %d %s", #call, err.code, \
	                       err.msg)

/* The tests' homes live in one directory the parent removes, so a failed
 * check, which ends its forked test before teardown, leaves nothing. */
static int wt_main(Suite *s)
{
	snprintf(basedir, sizeof(basedir), "/dev/shm/mdl-test-XXXXXX");
	if (!mkdtemp(basedir))
		return EXIT_FAILURE;
	int rc = check_run(s);
	nftw(basedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

#endif
