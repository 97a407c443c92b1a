/*
 * mj_logdump: decodes a mirror's log, for tests that compare logs written
 * through different transports (tests/rdma/replicate.sh).
 *
 *   mj_logdump LOGDIR
 *
 * LOGDIR is a copy of a stopped mirror's DIR/log: the rings are read the
 * way a mirror's replay reads them (ring_scan, which may repair a torn
 * tail, hence a copy) and every frame through the readers' checked copy
 * (logcopy.h), in global seq order. It prints, per batch, its seq and its
 * frames (length, CRC32C of all their bytes), and per record its type,
 * names, offset, length and the CRC32C of its data. Which ring a batch
 * lies in and where are not printed: they depend on the connection index,
 * not on the bytes. Exit 0, or 1 with the reason on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logcopy.h"
#include "logread.h"
#include "ring.h"

static void print_rec(const struct mjw_rec_view *v)
{
	static const char *const types[] = {"?", "WRITE", "CREATE", "SETSIZE",
	                                    "RENAME", "REMOVE", "MKDIR"};
	const char *t = v->type < sizeof(types) / sizeof(types[0])
	                ? types[v->type] : "?";
	printf("  rec %s %.*s", t, (int)v->name_len, v->name);
	if (v->name2_len)
		printf(" -> %.*s", (int)v->name2_len, v->name2);
	printf(" off %" PRIu64 " len %" PRIu64, v->off, v->len);
	if (v->data)
		printf(" data_crc %08x", mjw_crc32c(0, v->data, (size_t)v->len));
	printf("\n");
}

/* Prints batch b of r: 0, or -1 with the reason said. */
static int print_batch(const struct ring *r, const struct ring_batch *b,
                       struct log_copy *c)
{
	uint64_t len;
	const void *f;
	const char *why;
	int rc;
	printf("batch %" PRIu64 "\n", b->seq);
	size_t off = 0;
	if ((rc = log_copy_batch(c, r, b, UINT64_MAX, &why)) != 0) {
		fprintf(stderr, "mj_logdump: batch %" PRIu64 ": %s\n", b->seq, why);
		return -1;
	}
	while (log_copy_frame(c, &off, &f, &len)) {
		printf(" frame len %" PRIu64 " crc %08x\n", len,
		       mjw_crc32c(0, f, (size_t)len));
		uint64_t rp = 0;
		struct mjw_rec_view v;
		while (mjw_rec_next(f, &rp, &v))
			print_rec(&v);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mj_logdump LOGDIR (a copy)\n");
		return 2;
	}
	static struct ring rings[RING_MAX];
	struct ring *rp[RING_MAX] = {0};
	uint64_t next = UINT64_MAX;
	for (int k = 0; k < RING_MAX; k++) {
		char path[4096];
		const char *why = "";
		snprintf(path, sizeof(path), "%s/ring-%d", argv[1], k);
		int rc = ring_open(&rings[k], path, k, 0, &why);
		if (rc == -ENOENT)
			continue;
		struct ring_scan_info info;
		if (rc || (rc = ring_scan(&rings[k], &info))) {
			fprintf(stderr, "mj_logdump: %s: %s (%s)\n", path,
			        strerror(-rc), why);
			return 1;
		}
		rp[k] = &rings[k];
		for (size_t i = 0; i < rings[k].q_len; i++)
			if (ring_batch_at(&rings[k], i)->seq < next)
				next = ring_batch_at(&rings[k], i)->seq;
	}
	struct log_copy c = {0};
	struct ring_batch b;
	struct ring *r;
	int rc = 0;
	uint64_t n = 0;
	for (; next != UINT64_MAX && !rc &&
	       (r = log_pick(rp, RING_MAX, next, &b)); next++, n++)
		rc = print_batch(r, &b, &c);
	printf("batches %" PRIu64 "\n", n);
	log_copy_free(&c);
	for (int k = 0; k < RING_MAX; k++)
		if (rp[k])
			ring_close(rp[k]);
	return rc ? 1 : 0;
}
