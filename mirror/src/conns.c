/*
 * conns.c: the table of a mirror's connections (m->conns, m->nconns), and
 * cutting them. Cutting is a shutdown of the socket: the connection's own
 * thread then sees its reads end, says why (a REFUSE when it has one) and
 * goes (listener.c). Every call is made under the mirror lock.
 */
#include "conn.h"
#include "util.h"

#include <string.h>
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
				mjl_peer_cut(&o->in, SHUT_RDWR);
			n++;
		}
	}
	return n;
}

/* (L) Cuts c, which has not said HELLO, for the reason why. */
static void evict(struct conn *c, const char *why)
{
	c->evicted = why;
	c->m->evicted_peers++;
	mjl_peer_cut(&c->in, SHUT_RDWR);
}

/* Whether a and b ("host:port") are of the same host. */
static int same_host(const char *a, const char *b)
{
	const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');
	size_t la = ca ? (size_t)(ca - a) : strlen(a);
	size_t lb = cb ? (size_t)(cb - b) : strlen(b);
	return la == lb && memcmp(a, b, la) == 0;
}

/* (L) Whether c may be evicted: not admitted, not past the key's proof
 * (then it is in admission, which is bounded), not cut already. */
static int evictable(const struct conn *c)
{
	return c && !c->admitted && !c->proved && !c->evicted;
}

/* (L) The oldest evictable connection of the host that holds the most of
 * them: a flood from one host evicts its own, not a primary elsewhere. */
static struct conn *victim(struct mirror *m)
{
	struct conn *best = NULL;
	int best_n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *c = m->conns[i], *oldest = c;
		if (!evictable(c))
			continue;
		int n = 0;
		for (int k = 0; k < MIRROR_MAX_CONNS; k++) {
			struct conn *o = m->conns[k];
			if (!evictable(o) || !same_host(o->peer, c->peer))
				continue;
			n++;
			if (o->accepted_ns < oldest->accepted_ns)
				oldest = o;
		}
		if (n > best_n) {
			best_n = n;
			best = oldest;
		}
	}
	return best;
}

/*
 * (L) Bounds the peers that have not said HELLO: each gets
 * HELLO_DEADLINE_MS in all (not per read, so trickling a byte at a time
 * does not keep a slot), and at most MIRROR_MAX_UNADMITTED are kept; with
 * room_for_one, one goes to make room for a newcomer: the oldest of the
 * host with the most, so idle connections, or a fast flood from another
 * host, can never lock a primary out. A connection past the key's proof
 * is never evicted.
 */
void conns_bound_unadmitted(struct mirror *m, int room_for_one)
{
	uint64_t now = now_ns(), limit = HELLO_DEADLINE_MS * 1000000ull;
	int n = 0;
	for (int i = 0; i < MIRROR_MAX_CONNS; i++) {
		struct conn *c = m->conns[i];
		if (!evictable(c))
			continue;
		if (now - c->accepted_ns > limit) {
			evict(c, "no HELLO within the deadline");
			continue;
		}
		n++;
	}
	struct conn *v = room_for_one && n >= MIRROR_MAX_UNADMITTED ? victim(m)
	                                                            : NULL;
	if (v)
		evict(v, "evicted: too many connections without a HELLO");
}

void conns_cut_older(struct mirror *m, uint64_t epoch)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->epoch < epoch)
			mjl_peer_cut(&m->conns[i]->in, SHUT_RDWR);
}

void conns_refuse_all(struct mirror *m)
{
	/* Reads end; the write side stays for the thread's REFUSE. */
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i] && m->conns[i]->admitted)
			mjl_peer_cut(&m->conns[i]->in, SHUT_RD);
}

void conns_cut_all(struct mirror *m)
{
	for (int i = 0; i < MIRROR_MAX_CONNS; i++)
		if (m->conns[i])
			mjl_peer_cut(&m->conns[i]->in, SHUT_RDWR);
}
