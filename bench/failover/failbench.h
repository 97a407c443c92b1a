/*
 * failbench.h: the failover benchmark's pieces (main.c says what it does).
 *
 *   main.c     flags, the report
 *   region.c   libmojim: streaming, degrade flush, catch-up, full copy
 *   promote.c  WiredTiger: kill the primary, promote, open the copy
 */
#ifndef MOJIM_FAILBENCH_H
#define MOJIM_FAILBENCH_H

#include "bench.h"

struct fb_opts {
	int size_mb;
	double outage_s;
	const char *csv;
	const char *only;
	int keep;             /* leave the promote scratch dir for a look */
	struct bench_opts bo; /* mirror binary, scratch in /dev/shm */
};

struct fb_result {
	double stream_mb_s;
	double degrade_flush_ms;
	double catchup_ms, catchup_mb;
	int catchup_was_copy; /* too much changed: a full copy instead */
	double copy_ms, copy_mb_s;
	double promote_ms, open_ms;
};

/* Each returns 0, or 1 after saying on stderr what failed. */
int fb_region(const struct fb_opts *o, struct fb_result *r);
int fb_promote(const struct fb_opts *o, struct fb_result *r);

#endif
