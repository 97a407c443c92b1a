/*
 * hist.c: a log-bucketed latency histogram in the manner of HdrHistogram
 * (Debian packages HdrHistogram for Java and Go only, not C). Values
 * below 128 ns have a bucket each; above, every power of two is split in
 * 64 equal buckets, so a bucket is at most 1/64 of its value wide and a
 * percentile (the bucket's middle) is within 0.8% of the true sample.
 * Fixed size (about 30 KB), no allocation, merged by adding counts.
 */
#include "ycsb.h"

#include <string.h>

#define HALF (1 << (HIST_SUB_BITS - 1)) /* 64 buckets per power of two */

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

int hist_index(uint64_t v)
{
	if (v < 2 * HALF)
		return (int)v;
	int e = 63 - __builtin_clzll(v);         /* >= HIST_SUB_BITS */
	int shift = e - (HIST_SUB_BITS - 1);
	return shift * HALF + (int)(v >> shift); /* v >> shift in [64, 128) */
}

uint64_t hist_lower(int idx)
{
	if (idx < 2 * HALF)
		return (uint64_t)idx;
	int shift = idx / HALF - 1;
	return (uint64_t)(idx - shift * HALF) << shift;
}

static uint64_t bucket_width(int idx)
{
	return idx < 2 * HALF ? 1 : 1ull << (idx / HALF - 1);
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->count[hist_index(ns)]++;
	h->n++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
	if (ns < h->min)
		h->min = ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (int i = 0; i < HIST_BUCKETS; i++)
		dst->count[i] += src->count[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	if (src->min < dst->min)
		dst->min = src->min;
}

double hist_quantile(const struct hist *h, double q)
{
	if (!h->n)
		return 0;
	/* nearest rank: the sample at 1-based rank ceil(q * n) */
	uint64_t rank = (uint64_t)(q * (double)h->n);
	if ((double)rank < q * (double)h->n)
		rank++;
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen < rank)
			continue;
		double mid = (double)hist_lower(i) +
		             (double)(bucket_width(i) - 1) / 2.0;
		/* never report past the largest sample, nor below the least */
		if (mid > (double)h->max)
			mid = (double)h->max;
		if (mid < (double)h->min)
			mid = (double)h->min;
		return mid;
	}
	return (double)h->max;
}
