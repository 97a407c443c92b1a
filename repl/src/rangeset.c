/*
 * rangeset.c: a set of byte ranges of one file (mojim.h).
 *
 * Kept sorted, with overlapping and adjacent ranges merged: a log file is
 * written in consecutive pieces, which then ship as one range.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first range whose end is >= off (touching counts). */
static int first_touching(const struct mj_rangeset *d, uint64_t off)
{
	int lo = 0, hi = d->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (d->r[mid].end < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int mj_rangeset_add(struct mj_rangeset *d, uint64_t off, uint64_t end)
{
	if (end <= off)
		return 0;
	int i = first_touching(d, off);
	int j = i; /* ranges i..j-1 touch [off, end) and are merged */
	while (j < d->n && d->r[j].off <= end)
		j++;
	if (j > i) {
		if (d->r[i].off < off)
			off = d->r[i].off;
		if (d->r[j - 1].end > end)
			end = d->r[j - 1].end;
		d->r[i] = (struct mj_span){off, end};
		memmove(&d->r[i + 1], &d->r[j],
		        (size_t)(d->n - j) * sizeof(*d->r));
		d->n -= j - i - 1;
		return 0;
	}
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(d->r, (size_t)cap * sizeof(*d->r));
		if (!p)
			return -ENOMEM;
		d->r = p;
		d->cap = cap;
	}
	memmove(&d->r[i + 1], &d->r[i], (size_t)(d->n - i) * sizeof(*d->r));
	d->r[i] = (struct mj_span){off, end};
	d->n++;
	return 0;
}

/* Forgets what lies at or beyond size (the file was cut). */
void mj_rangeset_clip(struct mj_rangeset *d, uint64_t size)
{
	while (d->n > 0 && d->r[d->n - 1].off >= size)
		d->n--;
	if (d->n > 0 && d->r[d->n - 1].end > size)
		d->r[d->n - 1].end = size;
}

void mj_rangeset_free(struct mj_rangeset *d)
{
	free(d->r);
	*d = (struct mj_rangeset){0};
}
