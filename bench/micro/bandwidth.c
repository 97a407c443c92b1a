/*
 * bandwidth.c: how fast the mirror takes data. 64 KB sync points in sync
 * mode (each one a batch unless group commit merges them), 1, 2 and 4
 * threads over 2, 3 and 4 connections, each connection count with a fresh
 * mirror.
 */
#include "bench.h"

#include <stdio.h>

#define BW_SIZE (64u << 10)

void run_bandwidth(const struct bench_opts *o)
{
	static const int threads[] = {1, 2, 4};
	report_section("Mirror bandwidth: 64 KB sync points, sync mode", "bandwidth");
	for (int conns = 2; conns <= 4; conns++) {
		struct bench_target t;
		if (target_open(&t, o, MJ_MODE_SYNC, conns))
			continue;
		for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
			struct work_spec w = {.threads = threads[i], .size = BW_SIZE,
			                      .max_ops = (long)(o->seconds * 100000) + 100,
			                      .seconds = o->seconds};
			struct row r = {0};
			snprintf(r.section, sizeof(r.section), "bandwidth");
			snprintf(r.name, sizeof(r.name), "sync");
			if (work_run(&t, &w, &r))
				snprintf(r.note, sizeof(r.note), "FAILED (see stderr)");
			report_row(&r);
		}
		target_close(&t);
	}
}
