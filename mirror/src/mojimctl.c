/*
 * mojimctl: asks a running mojim-mirror how it is doing, over its
 * DIR/control.sock. One request per connection, the answer is text.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mojim_wire.h"
#include "util.h"

enum { EXIT_TIMEOUT = 1, EXIT_USAGE = 2, EXIT_NOMIRROR = 3 };

static void usage(FILE *out)
{
	fprintf(out,
"usage: mojimctl [--dir DIR | --socket PATH] status [--json]\n"
"       mojimctl [--dir DIR | --socket PATH] wait-applied SEQ [--timeout-ms MS]\n"
"\n"
"  --dir DIR          the mirror's --dir (its socket is DIR/control.sock)\n"
"  --socket PATH      the control socket itself\n"
"  status             print the mirror's status as key: value lines\n"
"  --json             the same as one JSON object\n"
"  wait-applied SEQ   wait until the mirror's seq_applied >= SEQ\n"
"  --timeout-ms MS    how long wait-applied waits (default 10000)\n"
"\n"
"Exit codes: 0 ok, 1 wait-applied timed out, 2 bad arguments,\n"
"3 no mirror answering on the socket.\n");
}

/* Sends one request and reads the whole answer into buf. */
static int ask(const char *path, const char *req, char *buf, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		close(fd);
		return -e;
	}
	int rc = mjw_write_full(fd, req, strlen(req));
	size_t n = 0;
	while (!rc && n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	return rc ? rc : (n ? 0 : -EPROTO);
}

static int no_mirror(const char *path, int rc)
{
	fprintf(stderr, "mojimctl: no mirror running at %s (%s)\n", path,
	        strerror(-rc));
	return EXIT_NOMIRROR;
}

static int get_applied(const char *path, unsigned long long *out, int *rc)
{
	char buf[20480];
	*rc = ask(path, "status\n", buf, sizeof(buf));
	if (*rc)
		return -1;
	const char *p = strstr(buf, "\nseq_applied: ");
	if (!p || sscanf(p, "\nseq_applied: %llu", out) != 1) {
		*rc = -EPROTO;
		return -1;
	}
	return 0;
}

static int wait_applied(const char *path, const char *seq_s, uint64_t tmo_ms)
{
	uint64_t seq;
	if (parse_uint(seq_s, UINT64_MAX, &seq)) {
		fprintf(stderr, "mojimctl: wait-applied: bad SEQ '%s'\n", seq_s);
		return EXIT_USAGE;
	}
	uint64_t deadline = now_ns() + tmo_ms * 1000000ull;
	unsigned long long applied = 0;
	for (;;) {
		int rc;
		if (get_applied(path, &applied, &rc))
			return no_mirror(path, rc);
		if (applied >= seq)
			return 0;
		if (now_ns() >= deadline)
			break;
		struct timespec ts = {.tv_nsec = 5000000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "mojimctl: timed out: seq_applied %llu < %llu\n",
	        applied, (unsigned long long)seq);
	return EXIT_TIMEOUT;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *sock = NULL;
	char path[512];
	int json = 0, opt;
	uint64_t tmo = 10000;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 's': sock = optarg; break;
		case 'j': json = 1; break;
		case 't':
			if (parse_uint(optarg, 86400000, &tmo)) {
				fprintf(stderr, "mojimctl: --timeout-ms: not a number\n");
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if ((!dir == !sock) || optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (sock)
		snprintf(path, sizeof(path), "%s", sock);
	else
		snprintf(path, sizeof(path), "%s/control.sock", dir);
	const char *cmd = argv[optind];
	if (strcmp(cmd, "status") == 0 && optind + 1 == argc) {
		char buf[20480];
		int rc = ask(path, json ? "status json\n" : "status\n", buf,
		             sizeof(buf));
		if (rc)
			return no_mirror(path, rc);
		fputs(buf, stdout);
		return 0;
	}
	if (strcmp(cmd, "wait-applied") == 0 && optind + 2 == argc)
		return wait_applied(path, argv[optind + 1], tmo);
	usage(stderr);
	return EXIT_USAGE;
}
