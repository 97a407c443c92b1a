/*
 * mojimctl: asks a running mojim-mirror how it is doing, over its
 * DIR/control.sock. One request per connection, the answer is text.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "mojim_wire.h"
#include "util.h"

enum { EXIT_TIMEOUT = 1, EXIT_USAGE = 2, EXIT_NOMIRROR = 3, EXIT_REFUSED = 4 };

struct promote_opts {
	const char *data_dir;
	int data_on_disk, force;
	uint64_t lose_from; /* 0: none named */
};

static void usage(FILE *out)
{
	fprintf(out,
"usage: mojimctl [--dir DIR | --socket PATH] status [--json]\n"
"       mojimctl [--dir DIR | --socket PATH] wait-applied SEQ [--timeout-ms MS]\n"
"       mojimctl --dir DIR [--data-dir D] [--data-on-disk] promote [--force]\n"
"                [--lose-from SEQ]\n"
"\n"
"  --dir DIR          the mirror's --dir (its socket is DIR/control.sock)\n"
"  --socket PATH      the control socket itself\n"
"  status             print the mirror's status as key: value lines\n"
"  --json             the same as one JSON object\n"
"  wait-applied SEQ   wait until the mirror's seq_applied >= SEQ\n"
"  --timeout-ms MS    how long wait-applied waits (default 10000)\n"
"  promote            make the mirror's replica a primary's directory: the\n"
"                     old primary is refused from then on (its epoch is\n"
"                     fenced), every complete batch is applied, the epoch\n"
"                     is bumped, DATA/.mojim-node is written. Against a\n"
"                     running mirror it refuses while a primary was heard\n"
"                     within the heartbeat timeout, unless --force; with no\n"
"                     mirror running it works on DIR directly (give the\n"
"                     mirror's --data-dir/--data-on-disk if it had them;\n"
"                     it is refused while that DIR is in use by another\n"
"                     process, e.g. a mirror still replaying at start)\n"
"  --lose-from SEQ    promote an UNHEALTHY replica (status says health:\n"
"                     unhealthy: batch SEQ could not be applied, e.g. its\n"
"                     disk is full) anyway. Promote applies once more\n"
"                     first; if that still fails it refuses and says what\n"
"                     would be lost: batches SEQ..seq_durable, which the\n"
"                     primary was told were durable, with batch SEQ partly\n"
"                     applied. SEQ must be that first failed batch: naming\n"
"                     it is saying those batches are lost\n"
"\n"
"Exit codes: 0 ok, 1 wait-applied timed out, 2 bad arguments,\n"
"3 no mirror answering on the socket, 4 promote refused or failed.\n");
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
	int rc = mjl_write_full(fd, req, strlen(req));
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

/* No mirror runs on DIR: open it, replay its logs, promote. */
static int promote_offline(const char *dir, const struct promote_opts *p)
{
	static struct mirror m;
	struct mirror_cfg cfg = {.dir = dir, .data_dir = p->data_dir,
	                         .data_on_disk = p->data_on_disk,
	                         .log_size = 64ull << 20, .slot_size = 4ull << 20,
	                         .ckpt_thresh = 1, .hb_timeout_ms = 5000};
	const char *why = "";
	char msg[PATH_MAX + 2048];
	int rc = mirror_open(&m, &cfg, &why);
	if (!rc)
		rc = mirror_replay(&m, &why);
	if (rc) {
		fprintf(stderr, "mojimctl: promote: %s: %s (%s)\n", dir, why,
		        strerror(-rc));
		mirror_close(&m);
		return EXIT_REFUSED;
	}
	rc = mirror_promote_offline(&m, p->lose_from, msg, sizeof(msg));
	mirror_close(&m);
	fputs(msg, rc ? stderr : stdout);
	return rc ? EXIT_REFUSED : 0;
}

static int promote(const char *dir, const char *path,
                   const struct promote_opts *p)
{
	char buf[PATH_MAX + 2048], req[96];
	snprintf(req, sizeof(req), "promote%s", p->force ? " force" : "");
	if (p->lose_from)
		snprintf(req + strlen(req), sizeof(req) - strlen(req),
		         " lose-from %llu", (unsigned long long)p->lose_from);
	strcat(req, "\n");
	int rc = ask(path, req, buf, sizeof(buf));
	if (rc == -ECONNREFUSED || rc == -ENOENT) {
		if (!dir)
			return no_mirror(path, rc);
		return promote_offline(dir, p);
	}
	if (rc)
		return no_mirror(path, rc);
	int ok = strncmp(buf, "promoted", 8) == 0;
	fputs(buf, ok ? stdout : stderr);
	return ok ? 0 : EXIT_REFUSED;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"force", no_argument, NULL, 'f'},
		{"data-dir", required_argument, NULL, 'D'},
		{"data-on-disk", no_argument, NULL, 'K'},
		{"lose-from", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *sock = NULL;
	char path[512];
	int json = 0, opt;
	struct promote_opts prom = {0};
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
		case 'f': prom.force = 1; break;
		case 'D': prom.data_dir = optarg; break;
		case 'K': prom.data_on_disk = 1; break;
		case 'L':
			if (parse_uint(optarg, UINT64_MAX, &prom.lose_from) ||
			    !prom.lose_from) {
				fprintf(stderr, "mojimctl: --lose-from: not a batch seq\n");
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
	if (strcmp(cmd, "promote") == 0 && optind + 1 == argc)
		return promote(dir, path, &prom);
	if (strcmp(cmd, "wait-applied") == 0 && optind + 2 == argc)
		return wait_applied(path, argv[optind + 1], tmo);
	usage(stderr);
	return EXIT_USAGE;
}
