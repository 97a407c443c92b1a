/*
 * tcp_rtt.c: the floor. A child process echoes an 8-byte ack for every
 * message of N bytes; the parent times send + ack over loopback with
 * TCP_NODELAY. Variants: both ends block in recv (unpinned, pinned to one
 * vCPU, pinned to different vCPUs), and both ends spin on non-blocking
 * recv, pinned to different vCPUs (no sleeping thread to wake).
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ACK_SIZE 8
#define SPIN_MAX_NS 1000000000ull /* spin at most 1 s before poll() */

struct variant {
	const char *name;
	int spin;
	int client_cpu, server_cpu; /* -1: not pinned */
};

static int pin_to(int cpu)
{
	if (cpu < 0)
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Reads exactly len bytes; spinning on MSG_DONTWAIT first if spin. */
static int recv_full(int fd, char *buf, size_t len, int spin)
{
	size_t got = 0;
	uint64_t spin_until = spin ? now_ns() + SPIN_MAX_NS : 0;
	while (got < len) {
		int fl = spin_until && now_ns() < spin_until ? MSG_DONTWAIT : 0;
		ssize_t n = recv(fd, buf + got, len - got, fl);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			return -1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

static int send_full(int fd, const char *buf, size_t len)
{
	size_t sent = 0;
	while (sent < len) {
		ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		sent += (size_t)n;
	}
	return 0;
}

static void set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The echo server: one connection, until EOF or max_msgs. Never returns. */
static void echo_child(int lfd, size_t size, const struct variant *v,
                       long max_msgs)
{
	alarm(120); /* never outlive a stuck parent for long */
	pin_to(v->server_cpu);
	int fd = accept(lfd, NULL, NULL);
	close(lfd);
	char *buf = malloc(size);
	char ack[ACK_SIZE] = "ack-ack";
	if (fd < 0 || !buf)
		_exit(1);
	set_nodelay(fd);
	for (long i = 0; i < max_msgs; i++)
		if (recv_full(fd, buf, size, v->spin) ||
		    send_full(fd, ack, ACK_SIZE))
			break;
	_exit(0);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 1) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		perror("mojim-bench: tcp listen");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static int connect_loopback(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("mojim-bench: tcp connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	set_nodelay(fd);
	return fd;
}

/* Sends size bytes, waits for the ack; records the time if l is set. */
static int round_trips(int fd, char *buf, size_t size, int spin, long n,
                       uint64_t deadline, struct lat *l, struct cpu_hist *h)
{
	char ack[ACK_SIZE];
	for (long i = 0; i < n && now_ns() < deadline; i++) {
		memset(buf, (int)i, size);
		uint64_t t0 = now_ns();
		if (send_full(fd, buf, size) || recv_full(fd, ack, ACK_SIZE, spin))
			return -1;
		if (l)
			lat_add(l, now_ns() - t0);
		if (h)
			cpu_hist_sample(h);
	}
	return 0;
}

/* Waits (bounded) for the child; kills it if it does not go. */
static void reap(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The client side of one variant; fills r from the measured part. */
static int client(const struct bench_opts *o, int fd, pid_t child, size_t size,
                  const struct variant *v, struct row *r)
{
	struct lat l;
	struct cpu_hist h = {0};
	struct proc_snap a, b;
	char *buf = malloc(size);
	long warm = o->iters / 10 + 10;
	if (!buf || lat_init(&l, (size_t)o->iters)) {
		free(buf);
		return -1;
	}
	int rc = round_trips(fd, buf, size, v->spin, warm,
	                     now_ns() + (uint64_t)(o->seconds * 1e9), NULL, NULL);
	proc_snap_take(child, &a);
	double c0 = self_cpu_seconds();
	uint64_t t0 = now_ns();
	if (!rc)
		rc = round_trips(fd, buf, size, v->spin, o->iters,
		                 t0 + (uint64_t)(o->seconds * 1e9), &l, &h);
	r->secs = (double)(now_ns() - t0) / 1e9;
	r->cpu_self = (self_cpu_seconds() - c0) / r->secs;
	proc_snap_take(child, &b);
	r->cpu_peer = proc_snap_diff(&a, &b, r->peer_cpus, sizeof(r->peer_cpus)) /
	              r->secs;
	cpu_hist_format(&h, r->cpus, sizeof(r->cpus));
	r->ops = (long)l.n;
	r->lat = lat_summarise(&l);
	r->ops_s = (double)r->ops / r->secs;
	r->mb_s = r->ops_s * (double)size / 1e6;
	lat_free(&l);
	free(buf);
	return rc;
}

static void run_variant(const struct bench_opts *o, size_t size,
                        const struct variant *v)
{
	struct row r = {.size = size, .threads = 1, .conns = 1};
	snprintf(r.section, sizeof(r.section), "tcp");
	snprintf(r.name, sizeof(r.name), "%s", v->name);
	int port, lfd = listen_loopback(&port);
	if (lfd < 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		echo_child(lfd, size, v, o->iters + o->iters / 10 + 20);
	close(lfd);
	if (pid < 0) {
		perror("mojim-bench: fork");
		return;
	}
	cpu_set_t saved;
	sched_getaffinity(0, sizeof(saved), &saved);
	pin_to(v->client_cpu);
	int fd = connect_loopback(port);
	int rc = fd < 0 ? -1 : client(o, fd, pid, size, v, &r);
	sched_setaffinity(0, sizeof(saved), &saved);
	if (fd >= 0)
		close(fd);
	reap(pid);
	if (rc)
		snprintf(r.note, sizeof(r.note), "FAILED (echo connection broke)");
	else if (v->client_cpu >= 0)
		snprintf(r.note, sizeof(r.note), "pinned client cpu%d server cpu%d",
		         v->client_cpu, v->server_cpu);
	report_row(&r);
}

void run_tcp(const struct bench_opts *o)
{
	static const struct variant vs[] = {
		{"block", 0, -1, -1},
		{"block-same", 0, 0, 0},
		{"block-cross", 0, 0, 1},
		{"spin-cross", 1, 0, 1},
	};
	static const size_t sizes[] = {4096, 1024};
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	report_section("Bare loopback TCP round trip: N bytes, 8 B ack, "
	               "TCP_NODELAY (the floor)", "tcp");
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
			if (cpus >= 2 || vs[i].client_cpu == vs[i].server_cpu)
				run_variant(o, sizes[s], &vs[i]);
}
