/*
 * mojim-failbench: what failures cost (issue 4, paper section 4.3).
 *
 *   bench/run-failover.sh [--size-mb N] [--outage-s S] [--csv FILE]
 *
 * In one run, side by side:
 *   stream      a region of N MB (default 1024) written whole and shipped
 *               in sync mode: the streaming rate, for comparison
 *   degrade     the mirror is SIGKILLed; the next sync point finds it gone
 *               and, under policy degrade, flushes the whole region
 *               locally first (the paper's window of vulnerability)
 *   catch-up    writers keep going (4 KB sync points, 2 threads, 200/s
 *               each) for S s
 *               (default 10) while the mirror is away; it restarts on the
 *               same address: time until the catch-up is acknowledged
 *   full copy   a new, empty mirror: time and MB/s of the full copy
 *   promote     a WiredTiger database of N MB through the extension in
 *               sync mode; the primary is SIGKILLed; `mojimctl promote
 *               --force`, then wiredtiger_open on the promoted copy (its
 *               recovery included): time from promote to open returned
 * and the targets: promote-to-open < 1 s, full copy >= 1 GB/s.
 */
#include "bench.h"
#include "failbench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MOJIM_MIRROR_BIN
#define MOJIM_MIRROR_BIN "mojim-mirror"
#endif

static void usage(void)
{
	fprintf(stderr, "usage: mojim-failbench [--size-mb N] [--outage-s S] "
	        "[--csv FILE] [--only region|promote] [--keep]\n");
}

static int parse_args(int argc, char **argv, struct fb_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) {
			o->keep = 1;
			continue;
		}
		if (!v) {
			usage();
			return -1;
		}
		i++;
		if (!strcmp(a, "--size-mb"))
			o->size_mb = atoi(v);
		else if (!strcmp(a, "--outage-s"))
			o->outage_s = atof(v);
		else if (!strcmp(a, "--csv"))
			o->csv = v;
		else if (!strcmp(a, "--only"))
			o->only = v;
		else {
			usage();
			return -1;
		}
	}
	if (o->size_mb < 16 || o->size_mb > 16384 || !(o->outage_s > 0) ||
	    o->outage_s > 600) {
		fprintf(stderr, "mojim-failbench: --size-mb wants 16..16384, "
		        "--outage-s 0..600\n");
		return -1;
	}
	return 0;
}

static void print_results(const struct fb_opts *o, const struct fb_result *r)
{
	struct utsname u;
	uname(&u);
	printf("\nmojim-failbench: %d MB, outage %.0f s; nproc %ld, Linux %s, "
	       "homes in /dev/shm (tmpfs, PMEM_IS_PMEM_FORCE=1)\n\n",
	       o->size_mb, o->outage_s, sysconf(_SC_NPROCESSORS_ONLN),
	       u.release);
	printf("%-34s %12s\n", "measurement", "value");
	printf("%-34s %9.0f MB/s\n", "stream (sync, 8 MB sync points)",
	       r->stream_mb_s);
	printf("%-34s %9.1f ms\n", "degrade: local flush of the region",
	       r->degrade_flush_ms);
	printf("%-34s %9.1f ms\n", "catch-up after the outage", r->catchup_ms);
	printf("%-34s %9.0f MB%s\n", "  bytes caught up (one batch)",
	       r->catchup_mb, r->catchup_was_copy ? " (a full copy instead)" : "");
	printf("%-34s %9.1f ms\n", "full copy to a new mirror", r->copy_ms);
	printf("%-34s %9.0f MB/s\n", "  full copy rate", r->copy_mb_s);
	printf("%-34s %9.1f ms\n", "promote (mojimctl)", r->promote_ms);
	printf("%-34s %9.1f ms\n", "wiredtiger_open on the copy", r->open_ms);
	printf("%-34s %9.1f ms\n", "promote to open returned",
	       r->promote_ms + r->open_ms);
	printf("\ntarget promote_to_open: %.0f ms (target < 1000 ms) %s\n",
	       r->promote_ms + r->open_ms,
	       r->promote_ms + r->open_ms < 1000 ? "OK" : "SHORT");
	printf("target full_copy_rate: %.0f MB/s (target >= 1000 MB/s) %s\n",
	       r->copy_mb_s, r->copy_mb_s >= 1000 ? "OK" : "SHORT");
	FILE *f = o->csv ? fopen(o->csv, "w") : stdout;
	if (!f)
		return;
	fprintf(f, "%ssize_mb,outage_s,stream_mb_s,degrade_flush_ms,catchup_ms,"
	        "catchup_mb,copy_ms,copy_mb_s,promote_ms,open_ms\n",
	        o->csv ? "" : "\n");
	fprintf(f, "%d,%.0f,%.0f,%.1f,%.1f,%.0f,%.1f,%.0f,%.1f,%.1f\n",
	        o->size_mb, o->outage_s, r->stream_mb_s, r->degrade_flush_ms,
	        r->catchup_ms, r->catchup_mb, r->copy_ms, r->copy_mb_s,
	        r->promote_ms, r->open_ms);
	if (o->csv)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct fb_opts o = {.size_mb = 1024, .outage_s = 10};
	struct fb_result r = {0};
	if (parse_args(argc, argv, &o))
		return 2;
	setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	o.bo = (struct bench_opts){.mirror_bin = MOJIM_MIRROR_BIN,
	                           .scratch = "/dev/shm", .spin_us = -1,
	                           .ckpt_thresh = -1};
	int failed = 0;
	if (!o.only || !strcmp(o.only, "region"))
		failed |= fb_region(&o, &r);
	if (!o.only || !strcmp(o.only, "promote"))
		failed |= fb_promote(&o, &r);
	print_results(&o, &r);
	return failed ? 1 : 0;
}
