/*
 * modes.c: the paper's Figures 4-5 (4 KB random msync per mode), 8 (msync
 * size) and 9 (application threads). Each replicated mode gets its own
 * fresh mirror process; see workload.c for what one operation is.
 */
#include "bench.h"

#include <stdio.h>

/* Latency runs stop at --iters or after this many --seconds. */
#define LATENCY_TIME_FACTOR 3
/* Throughput runs: per-thread bound on operations (and latency slots). */
#define THROUGHPUT_MAX_OPS_PER_S 500000

static const enum mj_mode fig8_modes[] = {
	MJ_MODE_UNREPLICATED, MJ_MODE_SYNC, MJ_MODE_ASYNC,
};

static void measure(struct bench_target *t, const char *section,
                    const struct work_spec *w)
{
	struct row r = {0};
	snprintf(r.section, sizeof(r.section), "%s", section);
	snprintf(r.name, sizeof(r.name), "%s", mj_mode_name(t->mode));
	if (work_run(t, w, &r))
		snprintf(r.note, sizeof(r.note), "FAILED (see stderr)");
	report_row(&r);
}

static struct work_spec latency_spec(const struct bench_opts *o, uint64_t size)
{
	return (struct work_spec){.threads = 1, .size = size, .max_ops = o->iters,
	                          .seconds = o->seconds * LATENCY_TIME_FACTOR};
}

static struct work_spec throughput_spec(const struct bench_opts *o,
                                        int threads, uint64_t size)
{
	long max_ops = (long)(o->seconds * THROUGHPUT_MAX_OPS_PER_S) + 1000;
	return (struct work_spec){.threads = threads, .size = size,
	                          .max_ops = max_ops, .seconds = o->seconds};
}

void run_modes(const struct bench_opts *o)
{
	static const enum mj_mode modes[] = {
		MJ_MODE_UNREPLICATED, MJ_MODE_SYNC, MJ_MODE_SYNCFLUSH, MJ_MODE_ASYNC,
	};
	report_section("Figures 4-5: random 4 KB msync, one thread, per mode",
	               "modes");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct bench_target t;
		if (target_open(&t, o, modes[i], o->connections))
			continue;
		struct work_spec w = latency_spec(o, 4096);
		measure(&t, "modes", &w);
		target_close(&t);
	}
}

void run_sizes(const struct bench_opts *o)
{
	static const uint64_t sizes[] = {8, 64, 512, 1024, 2048, 4096, 8192,
	                                 12288};
	report_section("Figure 8: msync latency by size, one thread", "sizes");
	for (size_t m = 0; m < sizeof(fig8_modes) / sizeof(fig8_modes[0]); m++) {
		struct bench_target t;
		if (target_open(&t, o, fig8_modes[m], o->connections))
			continue;
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct work_spec w = latency_spec(o, sizes[s]);
			measure(&t, "sizes", &w);
		}
		target_close(&t);
	}
}

void run_threads(const struct bench_opts *o)
{
	static const int threads[] = {1, 2, 4, 8};
	report_section("Figure 9: msync throughput by application threads "
	               "(each thread its own stripe)", "threads");
	for (size_t m = 0; m < sizeof(fig8_modes) / sizeof(fig8_modes[0]); m++) {
		struct bench_target t;
		if (target_open(&t, o, fig8_modes[m], o->connections))
			continue;
		for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
			struct work_spec w = throughput_spec(o, threads[i], 4096);
			measure(&t, "threads", &w);
		}
		struct work_spec w = throughput_spec(o, 4, 1024);
		measure(&t, "threads", &w);
		target_close(&t);
	}
}
