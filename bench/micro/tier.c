/*
 * tier.c: what the secondary tier costs a sync point (the paper's Figures
 * 6-7): random 4 KB msync in mode sync with the mirror alone (sync), with
 * one and two backups on loopback (syncsec), with one backup behind a
 * 10 Mbit/s link (syncseceth: mj_cutproxy --rate-kbps, this kernel has no
 * netem; --secondary-thresh 4M so that the stall shows within a run), and
 * with one backup and --chain (the paper's E-chain). One thread for the
 * latency, four for the throughput; the five alternate, ROUNDS times, each
 * measurement on fresh processes (a backup serves one cluster, and each
 * measurement's region is a new one). Before a measurement the benchmark
 * writes its whole file once: behind the 10 Mbit/s link that waits for the
 * backup to drain all but the threshold.
 */
#include "bench.h"

#define ROUNDS 3

static void measure(const struct bench_opts *o, const struct tier_spec *tr,
                    const char *args, int threads, int round)
{
	struct bench_target t;
	const struct bench_link link = {.args = args};
	if (target_open_keyed(&t, o, MJ_MODE_SYNC, o->connections, &link))
		return;
	struct work_spec w = {.threads = threads, .size = 4096,
	                      .max_ops = threads == 1 ? o->iters / ROUNDS + 1
	                                              : 100000000L,
	                      .seconds = threads == 1 ? o->seconds * 3
	                                              : o->seconds};
	work_row(&t, &w, "tier", tr->name, round, ROUNDS);
}

/* One measurement of a tier on fresh backups (and proxy): a backup takes
 * one cluster, and every measurement's primary is a new one. */
static void one(const struct bench_opts *o, const struct tier_spec *tr,
                int threads, int round)
{
	char scratch[256];
	struct tier_procs p;
	if (scratch_make(o, scratch, sizeof(scratch)))
		return;
	if (tier_procs_start(o, scratch, tr, &p) == 0) {
		measure(o, tr, p.args, threads, round);
		tier_procs_stop(&p);
	}
	scratch_remove(scratch);
}

/* The file each measurement writes whole before the clock starts goes
 * through the 10 Mbit/s link too: at most this much of it. */
#define TIER_FILE_MAX (16ull << 20)

void run_tier(const struct bench_opts *opts)
{
	struct bench_opts small = *opts;
	const struct bench_opts *o = &small;
	if (small.file_size > TIER_FILE_MAX)
		small.file_size = TIER_FILE_MAX;
	report_section("Secondary tier: sync 4 KB msync, 1 thread (latency) and "
	               "4 (throughput), mirror alone, 1 and 2 backups, a 10 "
	               "Mbit/s backup, chain (alternated; a 16M file)", "tier");
	for (int i = 1; i <= ROUNDS; i++) {
		for (size_t k = 0; k < ntier_specs; k++) {
			one(o, &tier_specs[k], 1, i);
			one(o, &tier_specs[k], 4, i);
		}
	}
}
