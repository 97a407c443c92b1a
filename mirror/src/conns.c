/*
 * conns.c: the table of a mirror's connections (m->conns, m->nconns), and
 * cutting them. Cutting is a shutdown of the socket: the connection's own
 * thread then sees its reads end, says why (a REFUSE when it has one) and
 * goes (listener.c). Every call is made under the mirror lock.
 */
#include "conn.h"
#include "util.h"

#include <sys/socket.h>

int conns_add(struct mirror *m, struct conn *c)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		if (!m->conns[i]) {
			c->slot = i;
			m->conns[i] = c;
			m->nconns++;
			return 0;
		}
	}
	return -1;
}

void conns_remove(struct mirror *m, struct conn *c)
{
	m->conns[c->slot] = NULL;
	m->nconns--;
	pthread_cond_broadcast(&m->conns_cond);
}

int conns_of_other_incarnation(struct mirror *m, uint64_t inc, int cut)
{
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *o = m->conns[i];
		if (o && o->incarnation && o->incarnation != inc) {
			if (cut)
				shutdown(o->fd, SHUT_RDWR);
			n++;
		}
	}
	return n;
}

/* (L) Cuts c, which has not said HELLO, for the reason why. */
static void evict(struct conn *c, const char *why)
{
	c->evicted = why;
	shutdown(c->fd, SHUT_RDWR);
}

/*
 * (L) Bounds the peers that have not said HELLO: each gets
 * HELLO_DEADLINE_MS in all (not per read, so trickling a byte at a time
 * does not keep a slot), and at most MIRROR_MAX_UNADMITTED are kept; with
 * room_for_one, the oldest goes to make room for a newcomer, so idle
 * connections can never lock a primary out.
 */
void conns_bound_unadmitted(struct mirror *m, int room_for_one)
{
	uint64_t now = now_ns(), limit = HELLO_DEADLINE_MS * 1000000ull;
	struct conn *oldest = NULL;
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *c = m->conns[i];
		if (!c || c->admitted || c->evicted)
			continue;
		if (now - c->accepted_ns > limit) {
			evict(c, "no HELLO within the deadline");
			continue;
		}
		n++;
		if (!oldest || c->accepted_ns < oldest->accepted_ns)
			oldest = c;
	}
	if (room_for_one && n >= MIRROR_MAX_UNADMITTED)
		evict(oldest, "evicted: too many connections without a HELLO");
}

void conns_cut_older(struct mirror *m, uint64_t epoch)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->epoch < epoch)
			shutdown(m->conns[i]->fd, SHUT_RDWR);
}

void conns_refuse_all(struct mirror *m)
{
	/* Reads end; the write side stays for the thread's REFUSE. */
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->admitted)
			shutdown(m->conns[i]->fd, SHUT_RD);
}

void conns_cut_all(struct mirror *m)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i])
			shutdown(m->conns[i]->fd, SHUT_RDWR);
}
