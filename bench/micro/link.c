/*
 * link.c: what securing the link costs a sync point: random 4 KB msync in
 * mode sync, one thread, over plain TCP, a keyed link (the key is proved
 * once per connection, at the handshake, so no cost per batch is
 * expected), TLS, and TLS with the key. The four alternate, ROUNDS times,
 * each on its own mirror, so that the noise of a shared machine falls on
 * all of them.
 */
#include "bench.h"

#include <fcntl.h>
#include <stdlib.h>
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

/* One command of pki_make, in dir; 0 if it succeeded. */
static int openssl(const char *dir, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl %s 2>>openssl.log", dir,
	         args);
	return system(cmd) == 0 ? 0 : -1;
}

int pki_make(const char *dir)
{
	static const char *const steps[] = {
		"req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca",
		"req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
		"mirror.key -out mirror.csr -subj /CN=bench-mirror",
		"x509 -req -in mirror.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"-days 2 -extfile ext -out mirror.pem",
		"req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
		"primary.key -out primary.csr -subj /CN=bench-primary",
		"x509 -req -in primary.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"-days 2 -out primary.pem",
	};
	char ext[300];
	snprintf(ext, sizeof(ext), "%s/ext", dir);
	FILE *f = fopen(ext, "w");
	int ok = f && fputs("subjectAltName=IP:127.0.0.1\n", f) >= 0;
	if (f && fclose(f))
		ok = 0;
	for (size_t i = 0; ok && i < sizeof(steps) / sizeof(steps[0]); i++)
		ok = openssl(dir, steps[i]) == 0;
	char keys[600];
	snprintf(keys, sizeof(keys), "chmod 600 '%s/mirror.key' '%s/primary.key'",
	         dir, dir);
	if (!ok || system(keys) != 0) {
		fprintf(stderr, "mojim-bench: cannot make certificates in %s (is "
		        "openssl installed? see %s/openssl.log)\n", dir, dir);
		return -1;
	}
	return 0;
}

static void one(const struct bench_opts *o, const char *name,
                const struct bench_link *link, int round)
{
	struct bench_target t;
	if (target_open_keyed(&t, o, MJ_MODE_SYNC, o->connections, link))
		return;
	struct work_spec w = {.threads = 1, .size = 4096,
	                      .max_ops = o->iters / ROUNDS + 1,
	                      .seconds = o->seconds * 3};
	work_row(&t, &w, "link", name, round, ROUNDS);
}

void run_link(const struct bench_opts *o)
{
	char scratch[256], key[300], pki[300];
	report_section("Link: sync 4 KB msync, one thread, plain, keyed, TLS "
	               "and TLS keyed (alternated)", "link");
	if (scratch_make(o, scratch, sizeof(scratch)))
		return;
	snprintf(key, sizeof(key), "%s/key", scratch);
	snprintf(pki, sizeof(pki), "%s", scratch);
	if (make_key(key)) {
		fprintf(stderr, "mojim-bench: cannot write a key file in %s\n",
		        scratch);
		scratch_remove(scratch);
		return;
	}
	int tls = pki_make(pki) == 0;
	const struct bench_link keyed = {.keyfile = key};
	const struct bench_link tls_only = {.pki = pki};
	const struct bench_link tls_keyed = {.keyfile = key, .pki = pki};
	for (int i = 1; i <= ROUNDS; i++) {
		one(o, "sync tcp", NULL, i);
		one(o, "sync tcp+key", &keyed, i);
		if (tls) {
			one(o, "sync tls", &tls_only, i);
			one(o, "sync tls+key", &tls_keyed, i);
		}
	}
	scratch_remove(scratch);
}
