/*
 * test_conns.c: which peers the mirror's connection table cuts to make
 * room (conns.c): not a primary past the key's proof, and under a flood
 * from one host, that host's oldest, not an older peer of another host.
 */
#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "util.h"

static struct mirror m;

/* A connection from peer, accepted age_ms ago, in the table. */
static struct conn *add(const char *peer, uint64_t age_ms)
{
	struct conn *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->m = &m;
	c->in = (struct mjl_peer){.t = &mjl_tcp, .fd = -1}; /* evicting shuts
	                                                         down nothing */
	c->index = -1;
	c->accepted_ns = now_ns() - age_ms * 1000000ull;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	ck_assert_int_eq(conns_add(&m, c), 0);
	return c;
}

static void clear(void)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		free(m.conns[i]);
		m.conns[i] = NULL;
	}
	m.nconns = 0;
}

static int evicted(void)
{
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		n += m.conns[i] && m.conns[i]->evicted;
	return n;
}

/* The primary is the oldest; a flood of another host fills the rest. */
START_TEST(test_flood_evicts_its_own)
{
	struct conn *primary = add("10.0.0.1:40000", 500);
	struct conn *first = NULL;
	for (int i = 0; i < MIRROR_MAX_UNADMITTED - 1; i++) {
		char peer[32];
		snprintf(peer, sizeof(peer), "10.0.0.9:%d", 50000 + i);
		struct conn *c = add(peer, 400 - (uint64_t)i);
		if (!first)
			first = c;
	}
	conns_bound_unadmitted(&m, 1);
	ck_assert_int_eq(evicted(), 1);
	ck_assert_ptr_null(primary->evicted);
	ck_assert_ptr_nonnull(first->evicted);
	clear();
}
END_TEST

/* All from one host (loopback): the oldest goes, unless it is past the
 * proof; a proved one outlives the HELLO deadline too. */
START_TEST(test_proved_is_never_evicted)
{
	struct conn *proved = add("127.0.0.1:40000", HELLO_DEADLINE_MS + 500);
	proved->proved = 1;
	struct conn *oldest = add("127.0.0.1:40001", 900);
	for (int i = 0; i < MIRROR_MAX_UNADMITTED - 1; i++) {
		char peer[32];
		snprintf(peer, sizeof(peer), "127.0.0.1:%d", 50000 + i);
		add(peer, 100);
	}
	conns_bound_unadmitted(&m, 1);
	ck_assert_ptr_null(proved->evicted);
	ck_assert_ptr_nonnull(oldest->evicted);
	ck_assert_int_eq(evicted(), 1);
	/* Without room asked for, only the deadline cuts. */
	struct conn *late = add("127.0.0.1:40002", HELLO_DEADLINE_MS + 1);
	conns_bound_unadmitted(&m, 0);
	ck_assert_ptr_nonnull(late->evicted);
	ck_assert_ptr_null(proved->evicted);
	ck_assert_int_eq(evicted(), 2);
	clear();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("conns");
	TCase *tc = tcase_create("conns");
	tcase_add_test(tc, test_flood_evicts_its_own);
	tcase_add_test(tc, test_proved_is_never_evicted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
