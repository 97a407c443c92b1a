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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOJIM_PROXY_BIN
#define MOJIM_PROXY_BIN "mj_cutproxy"
#endif

#define ROUNDS 3
#define ETH_KBPS "10000"

struct tier {
	const char *name;
	int backups;
	int slow;  /* the backup behind the rate-limited proxy */
	int chain;
};

static const struct tier tiers[] = {
	{"sync", 0, 0, 0},       {"syncsec 1", 1, 0, 0},
	{"syncsec 2", 2, 0, 0},  {"syncseceth", 1, 1, 0},
	{"chain", 1, 0, 1},
};

/* A proxy to addr, rate-limited towards it; its address in out. */
static pid_t proxy_start(const char *scratch, const char *addr, char *out,
                         size_t len)
{
	char log[300], line[200];
	snprintf(log, sizeof(log), "%s/proxy.out", scratch);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stdout))
			_exit(127);
		execl(MOJIM_PROXY_BIN, MOJIM_PROXY_BIN, "--listen", "127.0.0.1:0",
		      "--to", addr, "--cuts", "0", "--rate-kbps", ETH_KBPS,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 2000; i++) {
		FILE *f = fopen(log, "r");
		int found = f && fgets(line, sizeof(line), f) &&
		            sscanf(line, "listening on %63s", out) == 1;
		if (f)
			fclose(f);
		if (found)
			return pid;
		usleep(1000);
	}
	fprintf(stderr, "mojim-bench: the proxy %s did not start\n",
	        MOJIM_PROXY_BIN);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	(void)len;
	return -1;
}

static void measure(const struct bench_opts *o, const struct tier *tr,
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
static void one(const struct bench_opts *o, const struct tier *tr,
                int threads, int round)
{
	char scratch[256], args[512] = "", addr[64];
	struct mirror_proc b[2];
	pid_t proxy = -1;
	int started = 0;
	if (scratch_make(o, scratch, sizeof(scratch)))
		return;
	const struct bench_link role = {.args = "--role backup"};
	for (; started < tr->backups; started++) {
		char name[16];
		snprintf(name, sizeof(name), "b%d", started);
		if (mirror_start_keyed(o, scratch, name, &role, &b[started]))
			goto out;
		snprintf(addr, sizeof(addr), "%s", b[started].addr);
		if (tr->slow && (proxy = proxy_start(scratch, b[started].addr, addr,
		                                     sizeof(addr))) < 0)
			goto out;
		size_t n = strlen(args);
		snprintf(args + n, sizeof(args) - n, "%s--backup %s", n ? " " : "",
		         addr);
	}
	if (tr->chain)
		strncat(args, " --chain", sizeof(args) - strlen(args) - 1);
	if (tr->slow)
		strncat(args, " --secondary-thresh 4M",
		        sizeof(args) - strlen(args) - 1);
	measure(o, tr, args, threads, round);
out:
	if (proxy > 0) {
		kill(proxy, SIGTERM);
		waitpid(proxy, NULL, 0);
	}
	while (started-- > 0)
		mirror_stop(&b[started]);
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
		for (size_t k = 0; k < sizeof(tiers) / sizeof(tiers[0]); k++) {
			one(o, &tiers[k], 1, i);
			one(o, &tiers[k], 4, i);
		}
	}
}
