/*
 * mojim-bench: the micro benchmark (see README.md in this folder).
 *
 *   mojim-bench [--quick] [--iters N] [--seconds S] [--only LIST]
 *               [--spin-us N] [--connections N] [--file-size N[K|M|G]]
 *               [--checkpoint-thresh N] [--csv FILE] [--mirror-bin PATH]
 *               [--scratch DIR] [--lib-backpressure]
 *
 * LIST is a comma-separated subset of tcp,modes,sizes,threads,bandwidth,
 * link.
 */
#include "bench.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MOJIM_MIRROR_BIN
#define MOJIM_MIRROR_BIN "mojim-mirror"
#endif

static const char *const sections[] = {"tcp", "modes", "sizes", "threads",
                                       "bandwidth", "link", "tier", "rdma"};

static int usage(const char *why)
{
	fprintf(stderr, "mojim-bench: %s\n"
	        "usage: mojim-bench [--quick] [--iters N] [--seconds S] "
	        "[--only tcp,modes,sizes,threads,bandwidth,link,tier,rdma]\n"
	        "       [--spin-us N] [--connections N] [--file-size N[K|M|G]] "
	        "[--checkpoint-thresh N]\n"
	        "       [--csv FILE] [--mirror-bin PATH] [--scratch DIR] "
	        "[--lib-backpressure] [--host ADDR] "
	        "[--connect-timeout-ms N]\n", why);
	return 2;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': return v << 10;
	case 'm': case 'M': return v << 20;
	case 'g': case 'G': return v << 30;
	default: return *end ? 0 : v;
	}
}

static int check_only(const char *only)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", only);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		int known = 0;
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			known |= !strcmp(t, sections[i]);
		if (!known)
			return -1;
	}
	return 0;
}

static int wanted(const struct bench_opts *o, const char *name)
{
	char buf[128];
	if (!o->only)
		return 1;
	snprintf(buf, sizeof(buf), "%s", o->only);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
		if (!strcmp(t, name))
			return 1;
	return 0;
}

static void apply_quick(struct bench_opts *o, int iters_set, int secs_set,
                        int size_set)
{
	if (!iters_set)
		o->iters = o->quick ? 800 : 10000;
	if (!secs_set)
		o->seconds = o->quick ? 0.2 : 2.0;
	if (!size_set)
		o->file_size = o->quick ? (32u << 20) : (256u << 20);
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{"quick", 0, 0, 'q'}, {"iters", 1, 0, 'i'}, {"seconds", 1, 0, 's'},
		{"only", 1, 0, 'o'}, {"spin-us", 1, 0, 'S'},
		{"connections", 1, 0, 'c'}, {"file-size", 1, 0, 'f'},
		{"checkpoint-thresh", 1, 0, 'k'}, {"csv", 1, 0, 'C'},
		{"mirror-bin", 1, 0, 'm'}, {"scratch", 1, 0, 'd'},
		{"lib-backpressure", 0, 0, 'B'}, {"host", 1, 0, 'H'},
		{"connect-timeout-ms", 1, 0, 'T'},
		{"help", 0, 0, 'h'},
		{0, 0, 0, 0}};
	int iters_set = 0, secs_set = 0, size_set = 0, c;
	*o = (struct bench_opts){.spin_us = -1, .connections = 2,
	                         .ckpt_thresh = -1, .mirror_bin = MOJIM_MIRROR_BIN,
	                         .scratch = "/dev/shm", .host = "127.0.0.1"};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = 1; break;
		case 'i': o->iters = atol(optarg); iters_set = 1; break;
		case 's': o->seconds = atof(optarg); secs_set = 1; break;
		case 'o': o->only = optarg; break;
		case 'S': o->spin_us = atoi(optarg); break;
		case 'c': o->connections = atoi(optarg); break;
		case 'f': o->file_size = parse_size(optarg); size_set = 1; break;
		case 'k': o->ckpt_thresh = atoi(optarg); break;
		case 'C': o->csv = optarg; break;
		case 'm': o->mirror_bin = optarg; break;
		case 'd': o->scratch = optarg; break;
		case 'B': o->lib_backpressure = 1; break;
		case 'H': o->host = optarg; break;
		case 'T': o->connect_timeout_ms = atoi(optarg); break;
		case 'h': usage("help"); exit(0);
		default: return usage("unknown option");
		}
	}
	apply_quick(o, iters_set, secs_set, size_set);
	if (optind < argc)
		return usage("unexpected argument");
	if (o->iters < 1 || o->iters > 10000000 || o->seconds <= 0 ||
	    o->seconds > 600 || o->connections < 1 || o->connections > 64 ||
	    o->file_size < (1u << 20) || o->spin_us > 1000000)
		return usage("a number is out of range");
	if (o->only && check_only(o->only))
		return usage("--only takes tcp,modes,sizes,threads,bandwidth,link,"
		             "tier,rdma");
	if (o->connect_timeout_ms < 0 || o->connect_timeout_ms > 600000)
		return usage("--connect-timeout-ms is out of range");
	if (strlen(o->host) > 60)
		return usage("--host is too long");
	return 0;
}

static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && p) {
			p[strcspn(p, "\n")] = 0;
			snprintf(buf, len, "%s", p + 2);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void print_machine(const struct bench_opts *o)
{
	char model[128];
	struct utsname u;
	struct mj_config def;
	mj_config_defaults(&def);
	cpu_model(model, sizeof(model));
	uname(&u);
	printf("mojim-bench: machine: %ld CPUs online (%ld configured), %s, "
	       "Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       sysconf(_SC_NPROCESSORS_CONF), model, u.release);
	printf("mojim-bench: spin: libmojim spin_us %d%s, mirror %s\n",
	       o->spin_us >= 0 ? o->spin_us : def.spin_us,
	       o->spin_us >= 0 ? " (--spin-us)" : " (default)",
	       o->spin_us >= 0 ? "--spin-us as libmojim" : "its default");
	printf("mojim-bench: iters %ld, seconds %.2f, file %llu MiB in %s, "
	       "connections %d, checkpoint-thresh %s, PMEM_IS_PMEM_FORCE=%s\n",
	       o->iters, o->seconds, (unsigned long long)(o->file_size >> 20),
	       o->scratch, o->connections,
	       o->ckpt_thresh >= 0 ? "set" : "mirror default",
	       getenv("PMEM_IS_PMEM_FORCE"));
	printf("mojim-bench: mirror %s\n", o->mirror_bin);
	printf("mojim-bench: async backpressure: %s\n", o->lib_backpressure ?
	       "libmojim's async_max_bytes" : "by the benchmark, 16 MiB "
	       "unacknowledged (libmojim's is off: see workload.c)");
	printf("mojim-bench: columns: latency of the msync call only; ops/s and "
	       "MB/s (1e6 B) over the whole loop;\n"
	       "  bench-cpus = CPUs the benchmark threads ran on (sampled per op), "
	       "peer-cpus = last CPU of each busy thread of the mirror/echo "
	       "process,\n  cpuS/cpuP = CPU time of this process/the peer per wall "
	       "second (1.00 = one CPU busy)\n");
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	/* Before libpmem sees anything: /dev/shm counts as pmem (flushes are
	 * clwb/clflushopt + sfence, not msync). Inherited by the mirror. */
	setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_machine(&o);
	uint64_t t0 = now_ns();
	if (wanted(&o, "tcp"))
		run_tcp(&o);
	if (wanted(&o, "modes"))
		run_modes(&o);
	if (wanted(&o, "sizes"))
		run_sizes(&o);
	if (wanted(&o, "threads"))
		run_threads(&o);
	if (wanted(&o, "bandwidth"))
		run_bandwidth(&o);
	if (wanted(&o, "link"))
		run_link(&o);
	if (wanted(&o, "tier"))
		run_tier(&o);
	if (o.only && wanted(&o, "rdma")) /* needs an RDMA device */
		run_rdma(&o);
	report_targets();
	printf("\nmojim-bench: done in %.1f s\n", (double)(now_ns() - t0) / 1e9);
	return report_csv(o.csv) ? 1 : 0;
}
