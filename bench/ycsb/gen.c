/*
 * gen.c: YCSB's generators, rebuilt from their published definitions
 * (site.ycsb.Utils, generator.ZipfianGenerator, ScrambledZipfianGenerator,
 * SkewedLatestGenerator, AcknowledgedCounterGenerator, DiscreteGenerator,
 * workloads.CoreWorkload). Java's long arithmetic is kept where it shows
 * in the output: the wrapping FNV multiply, Math.abs, truncating '%'.
 */
#include "ycsb.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const op_names[OP_NTYPES] = {
	"READ", "UPDATE", "INSERT", "SCAN", "READ-MODIFY-WRITE"
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double rng_double(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	uint64_t n = (uint64_t)(hi - lo) + 1;
	/* Lemire's multiply: no modulo bias worth the name */
	return lo + (int64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

int64_t ycsb_fnvhash64(int64_t val)
{
	uint64_t h = 0xCBF29CE484222325ull, v = (uint64_t)val;
	for (int i = 0; i < 8; i++) {
		h ^= v & 0xff;
		v >>= 8; /* Java's >> sign-extends; keys are never negative */
		h *= 1099511628211ull;
	}
	int64_t s = (int64_t)h;
	/* Math.abs: Long.MIN_VALUE stays negative */
	return s == INT64_MIN ? s : (s < 0 ? -s : s);
}

int ycsb_key(int64_t keynum, char *buf, size_t len)
{
	int n = snprintf(buf, len, "user%" PRId64, ycsb_fnvhash64(keynum));
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- zipfian ---- */

double zipf_zeta(int64_t from, int64_t n, double theta, double initial)
{
	double sum = initial;
	for (int64_t i = from; i < n; i++)
		sum += 1.0 / pow((double)(i + 1), theta);
	return sum;
}

void zipf_init(struct zipf *z, int64_t min, int64_t max, double theta,
               double zetan)
{
	z->items = max - min + 1;
	z->base = min;
	z->theta = theta;
	z->zeta2theta = zipf_zeta(0, 2, theta, 0);
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zetan > 0 ? zetan : zipf_zeta(0, z->items, theta, 0);
	z->countforzeta = z->items;
	/* YCSB keeps eta on the constructor's item count, even after zeta
	 * grows with the item count: kept, since that is its distribution. */
	z->eta = (1 - pow(2.0 / (double)z->items, 1 - theta)) /
	         (1 - z->zeta2theta / z->zetan);
}

int64_t zipf_next(struct zipf *z, struct rng *r, int64_t itemcount)
{
	if (itemcount > z->countforzeta) {
		z->zetan = zipf_zeta(z->countforzeta, itemcount, z->theta,
		                     z->zetan);
		z->countforzeta = itemcount;
		z->eta = (1 - pow(2.0 / (double)z->items, 1 - z->theta)) /
		         (1 - z->zeta2theta / z->zetan);
	}
	double u = rng_double(r);
	double uz = u * z->zetan;
	if (uz < 1.0)
		return z->base;
	if (uz < 1.0 + pow(0.5, z->theta))
		return z->base + 1;
	return z->base + (int64_t)((double)itemcount *
	                           pow(z->eta * u - z->eta + 1, z->alpha));
}

void szipf_init(struct szipf *s, int64_t min, int64_t max)
{
	s->min = min;
	s->itemcount = max - min + 1;
	zipf_init(&s->z, 0, SZIPF_ITEMS, 0.99, SZIPF_ZETAN);
}

int64_t szipf_next(struct szipf *s, struct rng *r)
{
	int64_t v = zipf_next(&s->z, r, s->z.items);
	return s->min + ycsb_fnvhash64(v) % s->itemcount;
}

/* ---- the insert key sequence ---- */

int ackctr_init(struct ackctr *a, int64_t start)
{
	atomic_store(&a->next, start);
	atomic_store(&a->limit, start - 1);
	a->window = calloc(ACK_WINDOW, 1);
	if (!a->window)
		return -1;
	pthread_mutex_init(&a->mu, NULL);
	return 0;
}

void ackctr_free(struct ackctr *a)
{
	if (a->window)
		pthread_mutex_destroy(&a->mu);
	free(a->window);
	a->window = NULL;
}

int64_t ackctr_take(struct ackctr *a)
{
	return atomic_fetch_add(&a->next, 1);
}

int ackctr_ack(struct ackctr *a, int64_t k)
{
	pthread_mutex_lock(&a->mu);
	int64_t limit = atomic_load(&a->limit);
	if (k - limit > ACK_WINDOW || k <= limit) {
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	a->window[k & (ACK_WINDOW - 1)] = 1;
	/* Advance over the contiguous acknowledged keys (at most a window). */
	for (int i = 0; i < ACK_WINDOW; i++) {
		uint8_t *slot = &a->window[(limit + 1) & (ACK_WINDOW - 1)];
		if (!*slot)
			break;
		*slot = 0;
		limit++;
	}
	atomic_store(&a->limit, limit);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* ---- latest ---- */

void latest_init(struct latest *l, int64_t last)
{
	/* new ZipfianGenerator(basis.lastValue()): items 0..last-1 */
	zipf_init(&l->z, 0, (last > 1 ? last : 1) - 1, 0.99, 0);
}

int64_t latest_next(struct latest *l, struct rng *r, int64_t last)
{
	if (last < 1)
		return 0;
	return last - zipf_next(&l->z, r, last);
}

/* ---- operations ---- */

void opmix_init(struct opmix *m, const double prop[OP_NTYPES])
{
	m->sum = 0;
	for (int i = 0; i < OP_NTYPES; i++) {
		m->w[i] = prop[i] > 0 ? prop[i] : 0;
		m->sum += m->w[i];
	}
}

enum op opmix_next(const struct opmix *m, struct rng *r)
{
	double v = rng_double(r) * m->sum;
	int last = OP_READ;
	for (int i = 0; i < OP_NTYPES; i++) {
		if (m->w[i] <= 0)
			continue;
		if (v < m->w[i])
			return (enum op)i;
		v -= m->w[i];
		last = i;
	}
	return (enum op)last; /* rounding at the very top */
}

void keychooser_init(struct keychooser *k, enum dist d, int64_t records,
                     int64_t expected_inserts)
{
	memset(k, 0, sizeof(*k));
	k->dist = d;
	k->records = records;
	if (d == DIST_ZIPFIAN) /* room for the run's inserts, x2 as YCSB */
		szipf_init(&k->u.sz, 0, records + expected_inserts);
	else if (d == DIST_LATEST)
		latest_init(&k->u.lt, records - 1);
}

#define KEY_TRIES 1000000

int64_t keychooser_next(struct keychooser *k, struct rng *r,
                        const struct ackctr *a)
{
	int64_t limit = atomic_load(&a->limit);
	switch (k->dist) {
	case DIST_UNIFORM:
		return rng_range(r, 0, k->records - 1);
	case DIST_LATEST:
		return latest_next(&k->u.lt, r, limit);
	default:
		/* keys not inserted yet are drawn again, as YCSB does */
		for (int i = 0; i < KEY_TRIES; i++) {
			int64_t v = szipf_next(&k->u.sz, r);
			if (v <= limit)
				return v;
		}
		return -1;
	}
}
