/*
 * mj_cutproxy: a TCP proxy between a primary and its mirror that kills
 * connections in the middle of a frame, for the process-level tests.
 *
 *   mj_cutproxy --listen ADDR:PORT --to ADDR:PORT --cuts N
 *               [--max-bytes N] [--max-back N] [--seed N] [--gentle N]
 *               [--tap FILE] [--trickle-ms N] [--rate-kbps N]
 *
 * Every accepted connection is forwarded both ways (a thread per
 * direction). While fewer than --cuts cuts are done or planned, a new
 * connection gets a random budget in one direction, chosen at random:
 * 1..--max-bytes bytes towards the mirror, or 1..--max-back bytes back
 * (acks). When it runs out, the proxy forwards exactly the budget's last
 * byte and then cuts both sides: with a FIN (shutdown) or a RST
 * (SO_LINGER 0), at random. A connection that has not used its budget
 * 0.5 to 2 s after it was accepted is cut then (an idle one). The first --gentle connections (default 0)
 * are only cut towards the mirror and after at least 4 KiB, past their
 * handshake: a primary opened under policy block fails to open when its
 * first handshake fails, as documented. Once
 * --cuts cuts happened, connections pass untouched, so the primary can
 * finish. Prints, line by line on stdout: "listening on ADDR:PORT", then
 * "cut K: after F bytes to the mirror and B back (fin|rst)" per cut, and
 * "cuts done" after the last one. Runs until killed. --tap FILE keeps a
 * copy of every byte sent towards the mirror (what someone on the path
 * reads: the TLS test looks for its payload there). --trickle-ms N sends
 * every byte back to the primary alone, N ms after the one before: a
 * mirror (or someone on the path) that answers just fast enough that no
 * single read times out. --rate-kbps N holds the bytes towards the mirror
 * to N kbit/s (a slow link; this kernel has no netem, and loopback is
 * shared by every test).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pair {
	int fd[2];               /* 0: the primary's side, 1: the mirror's */
	pthread_mutex_t mu;
	int limited;             /* has budgets (this connection is cut) */
	long budget[2];          /* bytes left: [0] towards the mirror, [1] back */
	long sent[2];
	int cut, rst, refs;
	uint64_t deadline_ms;    /* cut by then even if the budget lasts */
};

static long max_bytes = 1 << 20, max_back = 512;
static int cuts_wanted, gentle;
static int cuts_planned, cuts_done; /* under plan_mu */
static pthread_mutex_t plan_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned seed = 1;
static struct sockaddr_in target;
static FILE *tap; /* --tap: bytes towards the mirror, under tap_mu */
static long trickle_ms; /* --trickle-ms */
static long rate_kbps;  /* --rate-kbps */
static pthread_mutex_t tap_mu = PTHREAD_MUTEX_INITIALIZER;

static void tap_bytes(const char *p, size_t n)
{
	pthread_mutex_lock(&tap_mu);
	if (fwrite(p, 1, n, tap) != n || fflush(tap))
		abort(); /* a tap that misses bytes would make the test lie */
	pthread_mutex_unlock(&tap_mu);
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static long rnd(long n)
{
	pthread_mutex_lock(&plan_mu);
	long v = (long)(((unsigned long)rand_r(&seed) << 31) ^ (unsigned long)rand_r(&seed));
	pthread_mutex_unlock(&plan_mu);
	return 1 + (v < 0 ? -v : v) % n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_all(int fd, const char *p, size_t n);

/* --trickle-ms: n bytes, one at a time. */
static int write_trickled(int fd, const char *p, size_t n)
{
	struct timespec gap = {trickle_ms / 1000, (trickle_ms % 1000) * 1000000};
	for (size_t i = 0; i < n; i++) {
		if (write_all(fd, p + i, 1))
			return -1;
		nanosleep(&gap, NULL);
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* (mu) Kill both sides; the threads' reads return and they leave. */
static void cut_locked(struct pair *pr, int counted)
{
	if (pr->cut)
		return;
	pr->cut = 1;
	for (int i = 0; i < 2; i++) {
		if (pr->rst) {
			struct linger l = {1, 0}; /* close() sends a RST */
			setsockopt(pr->fd[i], SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			shutdown(pr->fd[i], SHUT_RD);
		} else {
			shutdown(pr->fd[i], SHUT_RDWR);
		}
	}
	if (!counted)
		return;
	pthread_mutex_lock(&plan_mu);
	int k = ++cuts_done;
	pthread_mutex_unlock(&plan_mu);
	printf("cut %d: after %ld bytes to the mirror and %ld back (%s%s)\n", k,
	       pr->sent[0], pr->sent[1], pr->rst ? "rst" : "fin",
	       pr->budget[0] && pr->budget[1] ? ", idle" : "");
	if (k == cuts_wanted)
		printf("cuts done\n");
}

/* One direction: dir 0 reads the primary and writes the mirror. */
static void *pump(void *arg)
{
	struct pair *pr = ((struct pair **)arg)[0];
	int dir = (int)(long)((void **)arg)[1];
	free(arg);
	char buf[65536];
	int exhausted = 0;
	for (;;) {
		/* an idle connection (a second one the primary barely uses)
		 * would keep its budget for ever: it is cut at its deadline */
		struct pollfd pf = {.fd = pr->fd[dir], .events = POLLIN};
		int pr_rc = poll(&pf, 1, 50);
		if (pr_rc == 0 || (pr_rc < 0 && errno == EINTR)) {
			if (pr->limited && now_ms() >= pr->deadline_ms) {
				exhausted = 1;
				break;
			}
			continue;
		}
		ssize_t n = recv(pr->fd[dir], buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n;
		pthread_mutex_lock(&pr->mu);
		if (pr->cut) {
			pthread_mutex_unlock(&pr->mu);
			break;
		}
		if (pr->limited) {
			if ((long)take >= pr->budget[dir]) {
				take = (size_t)pr->budget[dir];
				exhausted = 1;
			}
			pr->budget[dir] -= (long)take;
		}
		pthread_mutex_unlock(&pr->mu);
		if (tap && dir == 0)
			tap_bytes(buf, take);
		/* the budget's last byte goes through, then the cut */
		if (dir == 1 && trickle_ms ? write_trickled(pr->fd[0], buf, take)
		                           : write_all(pr->fd[1 - dir], buf, take))
			break;
		if (dir == 0 && rate_kbps) /* the time those bytes take */
			usleep((useconds_t)((uint64_t)take * 8000 / (uint64_t)rate_kbps));
		pthread_mutex_lock(&pr->mu);
		pr->sent[dir] += (long)take;
		pthread_mutex_unlock(&pr->mu);
		if (exhausted)
			break;
	}
	pthread_mutex_lock(&pr->mu);
	if (exhausted && !pr->cut) {
		cut_locked(pr, 1);
	} else if (!pr->cut) {
		/* a natural end: end the other direction too; a planned cut
		 * that did not happen goes to a later connection */
		cut_locked(pr, 0);
		if (pr->limited) {
			pthread_mutex_lock(&plan_mu);
			cuts_planned--;
			pthread_mutex_unlock(&plan_mu);
		}
	}
	int last = --pr->refs == 0;
	pthread_mutex_unlock(&pr->mu);
	if (last) {
		close(pr->fd[0]);
		close(pr->fd[1]);
		pthread_mutex_destroy(&pr->mu);
		free(pr);
	}
	return NULL;
}

static void start_pump(struct pair *pr, int dir)
{
	void **arg = malloc(2 * sizeof(void *));
	if (!arg)
		abort();
	arg[0] = pr;
	arg[1] = (void *)(long)dir;
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, pump, arg))
		abort();
	pthread_attr_destroy(&at);
}

static int usage(const char *why)
{
	fprintf(stderr, "mj_cutproxy: %s\n(see the comment at the top of "
	        "tests/tools/mj_cutproxy.c)\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"listen", 1, 0, 'l'}, {"to", 1, 0, 't'}, {"cuts", 1, 0, 'c'},
		{"max-bytes", 1, 0, 'b'}, {"max-back", 1, 0, 'k'},
		{"seed", 1, 0, 's'}, {"gentle", 1, 0, 'g'}, {"tap", 1, 0, 'T'},
		{"trickle-ms", 1, 0, 'r'}, {"rate-kbps", 1, 0, 'R'}, {0, 0, 0, 0}};
	struct sockaddr_in la;
	const char *listen_s = NULL, *to_s = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'c': cuts_wanted = atoi(optarg); break;
		case 'b': max_bytes = atol(optarg); break;
		case 'k': max_back = atol(optarg); break;
		case 's': seed = (unsigned)atoi(optarg); break;
		case 'g': gentle = atoi(optarg); break;
		case 'r': trickle_ms = atol(optarg); break;
		case 'R': rate_kbps = atol(optarg); break;
		case 'T':
			if (!(tap = fopen(optarg, "wb")))
				return usage("--tap: cannot create the file");
			break;
		default: return usage("unknown option");
		}
	}
	if (!listen_s || !to_s || parse_addr(listen_s, &la) ||
	    parse_addr(to_s, &target))
		return usage("--listen ADDR:PORT and --to ADDR:PORT are required");
	if (cuts_wanted < 0 || max_bytes < 4096 || max_back < 1 || gentle < 0 ||
	    trickle_ms < 0 || trickle_ms > 60000 || rate_kbps < 0)
		return usage("a number is out of range");
	setvbuf(stdout, NULL, _IOLBF, 0);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	socklen_t alen = sizeof(la);
	if (ls < 0 || bind(ls, (struct sockaddr *)&la, sizeof(la)) ||
	    listen(ls, 64) || getsockname(ls, (struct sockaddr *)&la, &alen)) {
		perror("mj_cutproxy: listen");
		return 1;
	}
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &la.sin_addr, host, sizeof(host));
	printf("listening on %s:%u\n", host, ntohs(la.sin_port));
	if (cuts_wanted == 0)
		printf("cuts done\n");
	for (;;) {
		int a = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("mj_cutproxy: accept");
			return 1;
		}
		int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (b < 0 || connect(b, (struct sockaddr *)&target, sizeof(target))) {
			/* the mirror is not there: the primary sees a refusal */
			if (b >= 0)
				close(b);
			close(a);
			continue;
		}
		setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct pair *pr = calloc(1, sizeof(*pr));
		if (!pr)
			abort();
		pr->fd[0] = a;
		pr->fd[1] = b;
		pr->refs = 2;
		pthread_mutex_init(&pr->mu, NULL);
		pthread_mutex_lock(&plan_mu);
		if (cuts_planned < cuts_wanted) {
			cuts_planned++;
			pr->limited = 1;
		}
		pthread_mutex_unlock(&plan_mu);
		if (pr->limited) {
			int g = gentle > 0; /* only this thread uses gentle */
			gentle -= g;
			/* one direction is cut, the other unbounded: both
			 * budgets at once would nearly always end on the small
			 * one, at a frame edge of the big one */
			int back = g ? 0 : rnd(2) == 1;
			pr->budget[0] = back ? LONG_MAX
			                : g ? 4095 + rnd(max_bytes - 4095)
			                    : rnd(max_bytes);
			pr->budget[1] = back ? rnd(max_back) : LONG_MAX;
			pr->rst = rnd(2) == 1;
			pr->deadline_ms = now_ms() + 500 + (uint64_t)rnd(1500);
		}
		start_pump(pr, 0);
		start_pump(pr, 1);
	}
}
