/*
 * transport.c: what the transport costs a sync point: random msync of 4 KB
 * and 64 KB in mode sync, one thread, over TCP and over RDMA (the batch
 * placed in the mirror's log with one-sided writes), alternated ROUNDS
 * times, each on its own mirror, on o->host (an address of an RDMA
 * device: tests/rdma/guest's soft-RoCE, or a real NIC). Not in the default
 * run: --only rdma asks for it (bench/run-rdma.sh runs it in the guest).
 */
#include "bench.h"

#include <stdio.h>

#define ROUNDS 3

static void one(const struct bench_opts *o, const char *name,
                const struct bench_link *link, uint64_t size, int round)
{
	struct bench_target t;
	if (target_open_keyed(&t, o, MJ_MODE_SYNC, o->connections, link))
		return;
	struct work_spec w = {.threads = 1, .size = size,
	                      .max_ops = o->iters / ROUNDS + 1,
	                      .seconds = o->seconds * 3};
	work_row(&t, &w, "rdma", name, round, ROUNDS);
}

void run_rdma(const struct bench_opts *o)
{
	report_section("Transport: sync msync, one thread, TCP and RDMA "
	               "(alternated)", "rdma");
	const struct bench_link tcp = {.args = "--transport tcp",
	                               .transport = "tcp"};
	const struct bench_link rdma = {.args = "--transport rdma",
	                                .transport = "rdma"};
	for (int i = 1; i <= ROUNDS; i++) {
		one(o, "4 KB tcp", &tcp, 4096, i);
		one(o, "4 KB rdma", &rdma, 4096, i);
		one(o, "64 KB tcp", &tcp, 65536, i);
		one(o, "64 KB rdma", &rdma, 65536, i);
	}
}
