/*
 * link.c: what the link's authentication costs a sync point: random 4 KB
 * msync in mode sync, one thread, over a plain link and over a keyed one
 * (the same TCP; the key is proved once per connection, at the handshake,
 * so no cost per batch is expected). The two alternate, ROUNDS times, each
 * on its own mirror, so that the noise of a shared machine falls on both.
 */
#include "bench.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 3

/* A fresh random key file (base64, 0600) at path. */
static int make_key(const char *path)
{
	unsigned char raw[32], text[64];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	int n = EVP_EncodeBlock(text, raw, sizeof(raw));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int ok = write(fd, text, (size_t)n) == n && write(fd, "\n", 1) == 1;
	return close(fd) == 0 && ok ? 0 : -1;
}

static void one(const struct bench_opts *o, const char *name,
                const char *keyfile, int round)
{
	struct bench_target t;
	struct row r = {0};
	if (target_open_keyed(&t, o, MJ_MODE_SYNC, o->connections, keyfile))
		return;
	struct work_spec w = {.threads = 1, .size = 4096,
	                      .max_ops = o->iters / ROUNDS + 1,
	                      .seconds = o->seconds * 3};
	snprintf(r.section, sizeof(r.section), "link");
	snprintf(r.name, sizeof(r.name), "%s", name);
	if (work_run(&t, &w, &r))
		snprintf(r.note, sizeof(r.note), "FAILED (see stderr)");
	else
		snprintf(r.note, sizeof(r.note), "round %d of %d", round, ROUNDS);
	report_row(&r);
	target_close(&t);
}

void run_link(const struct bench_opts *o)
{
	char scratch[256], key[300];
	report_section("Link: sync 4 KB msync, one thread, plain and keyed "
	               "(alternated)", "link");
	if (scratch_make(o, scratch, sizeof(scratch)))
		return;
	snprintf(key, sizeof(key), "%s/key", scratch);
	if (make_key(key)) {
		fprintf(stderr, "mojim-bench: cannot write a key file in %s\n",
		        scratch);
		scratch_remove(scratch);
		return;
	}
	for (int i = 1; i <= ROUNDS; i++) {
		one(o, "sync tcp", NULL, i);
		one(o, "sync tcp+key", key, i);
	}
	scratch_remove(scratch);
}
