/*
 * mj_fuzz: attacks a running mojim-mirror over TCP (DESIGN.md invariants
 * 2 and 5), and sends single hand-made batches for the process tests.
 *
 *   mj_fuzz --addr 127.0.0.1:PORT [--seed N] [--iterations N] [--seconds S]
 *           [--hold-ms MS] [--verbose] [--all-indexes]
 *       Each iteration opens one connection (or, now and then, a storm of
 *       them) and sends garbage, a mutated and re-sealed batch, a cut-off
 *       frame, a header announcing a huge frame, a bad HELLO... Prints one
 *       summary line. Exit 0, or 1 if the mirror acked a batch that fails
 *       mjw_check_frame, answered with an invalid frame, or was never
 *       reachable.
 *
 *   mj_fuzz --addr A --probe [--name N] [--conn K]
 *       HELLO and one valid batch; exit 0 iff it was acked.
 *
 *   mj_fuzz --addr A --send CASE [--name N] [--pattern P] [--size N]
 *           [--conn K] [--bit N] [--seq N]
 *       One batch (MKDIR-free: CREATE name + WRITE pattern at offset 0)
 *       with seq durable_seq+1, sent as CASE:
 *         valid   whole and sealed             frag    valid, two fragments
 *         flip    one bit flipped after sealing (in the data unless --bit)
 *         trunc   cut in half, then our side closed
 *         noend   end mark zeroed (CRC still right)
 *         nolast  fragment 0 of two, then our side closed
 *         setsize-huge  16 SETSIZE to MJW_FILE_MAX - 4096, then an 8-byte
 *                 WRITE at the end of each (--name etc. unused)
 *       Prints "send CASE seq=N ack=A refuse=R closed=C durable_seq=D";
 *       exit 0 if the HELLO went through, whatever happened after.
 *
 *   mj_fuzz --addr A --flood foreign-hello --count N
 *       N connections, each a HELLO of another cluster (must be refused).
 *       Prints "flood foreign-hello sent=N refused=R".
 *   mj_fuzz --addr A --flood copy-begin --count N [--conn K]
 *       One session, then N COPY_BEGIN frames, each until its ACK.
 *       Prints "flood copy-begin sent=N acked=A".
 *   mj_fuzz --addr A --flood hello --count N
 *       N connections, each this cluster's HELLO (keyed with --keyfile),
 *       closed after the answer. Prints "flood hello sent=N acked=A
 *       refused=R auth_refused=U".
 *
 *   --keyfile FILE: every HELLO does the keyed handshake with that key
 *   (mojim_link.h), and the mirror's HELLO_ACK MAC is checked; the fuzz
 *   then attacks before and after authentication alike.
 *   mj_fuzz --addr A --keyfile FILE --record FILE2
 *       A keyed handshake whose two frames (HELLO, AUTH) are saved to FILE2.
 *   mj_fuzz --addr A --replay FILE2
 *       Sends FILE2's HELLO, answers the CHALLENGE with FILE2's AUTH.
 *       Prints "replay refuse=CODE" (0: none); exit 0 iff REFUSE auth.
 *   mj_fuzz --impostor PORTFILE [--impostor-mode plain|challenge]
 *       Plays a mirror without the key: listens on 127.0.0.1 (port written
 *       to PORTFILE), and answers each HELLO with a HELLO_ACK (plain), or
 *       with a CHALLENGE and, after the AUTH, a HELLO_ACK with a forged
 *       MAC (challenge). Serves --count connections, then exits 0.
 *
 * Everything is bounded: --iterations and --seconds, a 1 s connect timeout,
 * 500 ms socket timeouts, and only the one address given is ever dialled.
 *
 * HELLOs always carry epoch 1 (--epoch to change it): a HELLO with a newer
 * epoch legitimately fences every older primary, so a fuzzer sending one
 * would lock the legitimate client of the test out. The same for the
 * incarnation (--incarnation, default 1). --cluster HEX speaks for a real
 * primary's cluster (its .mojim-node's cluster_id), default 5a5546.
 */
#include "mojim_link.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_CAP (64u << 10)      /* our batches stay under the min slot */
#define RANDOM_MAX (200u << 10)    /* random garbage per connection */
#define CONNECT_MS 1000
#define IO_MS 500
#define STORM_CONNS 100
#define MAX_RECS 8          /* records of a random batch */
#define BATCH_RECS_MAX 32   /* records any batch built here may hold */
#define FLOOD_MAX 10000     /* --count bound */

/* The cluster every legitimate frame of the fuzzer belongs to, unless
 * --cluster says another (a real primary's, for the process tests). */
#define FUZZ_CLUSTER 0x5a5546ull

struct opts {
	const char *addr;
	uint64_t seed;
	long iterations;
	double seconds;
	int hold_ms;
	int verbose;
	int probe;
	const char *send_case;
	const char *name;
	const char *pattern;
	uint64_t size;
	uint32_t conn;
	uint64_t epoch;
	long bit;
	uint64_t seq; /* --send: batch seq; 0 = durable_seq + 1 */
	uint64_t cluster, incarnation; /* of our HELLOs and batches */
	const char *flood; /* --flood KIND */
	long count;        /* --count: frames or connections of a flood */
	const char *keyfile, *record, *replay, *impostor, *impostor_mode;
};
static struct mjl_key g_key; /* --keyfile; len 0: unkeyed */

struct stats {
	long iters, connects, connect_fail, hello_ack, refused, busy;
	long acks, pongs, peer_closed, storms, valid_sent, valid_unacked;
	long acked_invalid, bad_replies;
	uint64_t bytes;
};

static struct opts o = {
	.seed = 1, .iterations = 1000, .seconds = 30, .hold_ms = 200,
	.name = "victim", .pattern = "MOJIM-PATTERN-", .size = 4096,
	.epoch = 1, .bit = -1, .cluster = FUZZ_CLUSTER, .incarnation = 1,
};
static struct stats st;
static struct sockaddr_storage g_addr;
static unsigned g_alen;
static uint64_t g_deadline_ns;
static uint32_t g_index; /* connection index of the current session */

/* ---- small things ---------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int time_left(void)
{
	return now_ns() < g_deadline_ns;
}

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void rnd_fill(void *buf, size_t len)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)rnd();
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	                      .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* ---- sockets --------------------------------------------------------- */

/* Connects to the one address given, within CONNECT_MS; -1 on failure. */
static int dial(void)
{
	int fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	                SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (struct sockaddr *)&g_addr, g_alen);
	if (rc && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t el = sizeof(err);
		if (poll(&p, 1, CONNECT_MS) == 1 &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) && !err)
			rc = 0;
	}
	if (rc) {
		close(fd);
		st.connect_fail++;
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = 0, .tv_usec = IO_MS * 1000};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	st.connects++;
	return fd;
}

/* Sends what it can; the mirror closing on us is expected, not an error. */
static int send_some(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		st.bytes += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum rd { RD_FRAME, RD_EOF, RD_TIMEOUT, RD_GARBAGE };

struct reply {
	struct mjw_hdr h;
	unsigned char body[MJW_CTRL_BODY_MAX];
	uint64_t body_len;
};

/* Reads one frame from the mirror within ms. Its replies must be valid. */
static enum rd read_reply(int fd, int ms, struct reply *r)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) <= 0)
		return RD_TIMEOUT;
	int rc = mjl_read_full(fd, &r->h, sizeof(r->h));
	if (rc == -EAGAIN)
		return RD_TIMEOUT;
	if (rc)
		return RD_EOF;
	const char *why;
	if (mjw_check_hdr(&r->h, MJW_OVERHEAD + MJW_CTRL_BODY_MAX, &why) ||
	    r->h.type == MJW_BATCH) {
		fprintf(stderr, "mj_fuzz: BUG: invalid frame header from the "
		        "mirror: %s\n", r->h.type == MJW_BATCH ? "BATCH" : why);
		st.bad_replies++;
		return RD_GARBAGE;
	}
	static unsigned char f[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	memcpy(f, &r->h, sizeof(r->h));
	rc = mjl_read_full(fd, f + MJW_HDR_SIZE, r->h.len - MJW_HDR_SIZE);
	if (rc)
		return rc == -EAGAIN ? RD_TIMEOUT : RD_EOF;
	if (mjw_check_frame(f, r->h.len, &why)) {
		fprintf(stderr, "mj_fuzz: BUG: invalid frame from the mirror: "
		        "%s\n", why);
		st.bad_replies++;
		return RD_GARBAGE;
	}
	r->body_len = r->h.len - MJW_OVERHEAD;
	memcpy(r->body, f + MJW_HDR_SIZE, r->body_len);
	return RD_FRAME;
}

/* What came back on a connection after we sent our bytes. */
struct outcome {
	int ack, refuse, pong, closed;
	uint64_t ack_seq, refuse_code;
};

/*
 * Reads replies until the mirror closes, ms pass, or (until_ack) an ACK
 * or REFUSE came: a valid batch needs no more waiting than that.
 */
static void collect_until(int fd, int ms, int until_ack, struct outcome *out)
{
	struct reply r;
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	memset(out, 0, sizeof(*out));
	for (int n = 0; n < 64; n++) {
		uint64_t now = now_ns();
		if (now >= end)
			return;
		enum rd k = read_reply(fd, (int)((end - now) / 1000000 + 1), &r);
		if (k == RD_EOF) {
			out->closed = 1;
			st.peer_closed++;
			return;
		}
		if (k != RD_FRAME)
			return;
		if (r.h.type == MJW_ACK) {
			out->ack++;
			out->ack_seq = r.h.seq;
			st.acks++;
			if (until_ack)
				return;
		} else if (r.h.type == MJW_REFUSE) {
			out->refuse++;
			out->refuse_code = r.h.seq;
			st.refused++;
			if (until_ack)
				return;
		} else if (r.h.type == MJW_PONG) {
			out->pong++;
			st.pongs++;
		}
	}
}

static void collect(int fd, int ms, struct outcome *out)
{
	collect_until(fd, ms, 0, out);
}

/* ---- frames ---------------------------------------------------------- */

/* Another cluster's id, for --flood foreign-hello. */
#define FOREIGN_CLUSTER 0xf0e1d2ull

static uint64_t hello_frame_of(void *buf, uint64_t cluster, uint64_t epoch,
                               uint32_t index, uint32_t nconns)
{
	struct mjw_hello hello = {.cluster_id = cluster, .conn_index = index,
	                          .nconns = nconns,
	                          .incarnation = o.incarnation,
	                          .flags = g_key.len ? MJW_HELLO_F_KEYED : 0};
	rnd_fill(hello.nonce, sizeof(hello.nonce));
	uint64_t len = MJW_OVERHEAD + sizeof(hello);
	memset(buf, 0, (size_t)len);
	mjw_put_hdr(buf, MJW_HELLO, 0, 0, 0, epoch, 0, len, 0);
	memcpy((unsigned char *)buf + MJW_HDR_SIZE, &hello, sizeof(hello));
	mjw_seal(buf);
	return len;
}

static uint64_t hello_frame(void *buf, uint64_t epoch, uint32_t index,
                            uint32_t nconns)
{
	return hello_frame_of(buf, o.cluster, epoch, index, nconns);
}

/* The AUTH frame answering the CHALLENGE in r, for session s. */
static uint64_t auth_frame(void *buf, struct mjl_session *s,
                           const struct reply *r)
{
	uint64_t len = MJW_OVERHEAD + MJW_MAC_SIZE;
	memcpy(s->na, r->body, MJW_NONCE_SIZE);
	memset(buf, 0, (size_t)len);
	mjw_put_hdr(buf, MJW_AUTH, 0, 0, 0, o.epoch, 0, len, 0);
	mjl_mac_dialer(s, (unsigned char *)buf + MJW_HDR_SIZE);
	mjw_seal(buf);
	return len;
}

/*
 * Keyed: reads the CHALLENGE into r and sends the AUTH (into auth, if not
 * NULL). 0, or -1 with r holding whatever came instead.
 */
static int answer_challenge(int fd, struct mjl_session *s, struct reply *r,
                            unsigned char *auth)
{
	unsigned char f[MJW_OVERHEAD + MJW_MAC_SIZE];
	if (read_reply(fd, 2000, r) != RD_FRAME)
		return -1;
	if (r->h.type != MJW_CHALLENGE || r->body_len < MJW_NONCE_SIZE)
		return -1;
	uint64_t len = auth_frame(f, s, r);
	if (auth)
		memcpy(auth, f, (size_t)len);
	return send_some(fd, f, (size_t)len);
}

/*
 * HELLO and its answer (with --keyfile, the keyed handshake, whose frames
 * go to rec when not NULL). Returns 0 with *ack filled on HELLO_ACK, else
 * -1 (*refuse_code set to the REFUSE code, 0 if none came).
 */
static int hello_rec(int fd, uint32_t index, uint32_t nconns,
                     struct mjw_hello_ack *ack, uint64_t *refuse_code,
                     unsigned char *rec)
{
	unsigned char f[MJW_OVERHEAD + sizeof(struct mjw_hello)];
	struct reply r;
	struct mjl_session s = {.key = &g_key, .epoch = o.epoch};
	*refuse_code = 0;
	uint64_t len = hello_frame(f, o.epoch, index, nconns);
	memcpy(&s.hello, f + MJW_HDR_SIZE, sizeof(s.hello));
	memcpy(s.nd, s.hello.nonce, MJW_NONCE_SIZE);
	if (rec)
		memcpy(rec, f, (size_t)len);
	if (send_some(fd, f, (size_t)len))
		return -1;
	if (g_key.len && answer_challenge(fd, &s, &r, rec ? rec + len : NULL)) {
		if (r.h.type == MJW_REFUSE) {
			st.refused++;
			*refuse_code = r.h.seq;
		}
		return -1;
	}
	if (read_reply(fd, 2000, &r) != RD_FRAME)
		return -1;
	if (r.h.type == MJW_REFUSE) {
		st.refused++;
		if (r.h.seq == MJW_REFUSE_BUSY)
			st.busy++;
		*refuse_code = r.h.seq;
		return -1;
	}
	if (r.h.type != MJW_HELLO_ACK || r.body_len < sizeof(*ack)) {
		fprintf(stderr, "mj_fuzz: BUG: answer to HELLO is %s\n",
		        mjw_type_name(r.h.type));
		st.bad_replies++;
		return -1;
	}
	memcpy(ack, r.body, sizeof(*ack));
	unsigned char want[MJW_MAC_SIZE];
	if (g_key.len) {
		mjl_mac_acceptor(&s, ack, want);
		if (!mjl_mac_equal(ack->mac, want)) {
			fprintf(stderr, "mj_fuzz: BUG: the mirror's HELLO_ACK MAC "
			        "does not verify\n");
			st.bad_replies++;
			return -1;
		}
	}
	st.hello_ack++;
	return 0;
}

static int hello(int fd, uint32_t index, uint32_t nconns,
                 struct mjw_hello_ack *ack, uint64_t *refuse_code)
{
	return hello_rec(fd, index, nconns, ack, refuse_code, NULL);
}

/* A dial and a HELLO on a random index; -1 if either failed. */
static int open_session(struct mjw_hello_ack *ack)
{
	uint64_t code;
	int fd = dial();
	if (fd < 0)
		return -1;
	uint32_t index = (uint32_t)rnd_below(64);
	g_index = index;
	if (hello(fd, index, 64, ack, &code)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A batch under construction: where each record starts, for mutations. */
struct batch {
	unsigned char *f;
	uint64_t len;
	uint32_t nrec;
	uint64_t rec_pos[BATCH_RECS_MAX]; /* offset of each record */
};

static void batch_start(struct batch *b, unsigned char *buf)
{
	b->f = buf;
	b->len = MJW_HDR_SIZE;
	b->nrec = 0;
}

static void batch_add(struct batch *b, enum mjw_rec_type type,
                      const char *name, const char *name2, uint64_t off,
                      uint64_t len, const void *data, uint64_t data_len)
{
	if (b->nrec < BATCH_RECS_MAX)
		b->rec_pos[b->nrec] = b->len;
	b->nrec++;
	b->len += mjw_put_rec(b->f + b->len, type, name, name2, off, len, data,
	                      data_len);
}

static void batch_seal(struct batch *b, uint8_t flags, uint32_t frag,
                       uint64_t seq, uint64_t total)
{
	b->len += MJW_TRAILER_SIZE;
	mjw_put_hdr(b->f, MJW_BATCH, flags, b->nrec, frag, o.epoch, seq, b->len,
	            total ? total : b->len - MJW_OVERHEAD);
	memcpy(b->f + offsetof(struct mjw_hdr, cluster), &o.cluster, 8);
	mjw_seal(b->f);
}

/*
 * Names a mutation may put into a record. Each must be refused; the
 * valid ones the fuzzer uses all start with "fz" so a legitimate client's
 * files never collide with them.
 */
static const char *const bad_names[] = {
	"../escape", "/tmp/escape", "a/../../b", "..", ".", "fz//x", "fz/",
	"./fz", "fz/../../escape", "../../../../../../tmp/escape", "",
};

/* A name of MJW_NAME_MAX + extra bytes, valid characters only. */
static const char *long_name(size_t extra)
{
	static char buf[MJW_NAME_MAX + 64];
	size_t n = MJW_NAME_MAX + extra;
	memset(buf, 'z', n);
	buf[0] = 'f';
	buf[n] = '\0';
	return buf;
}

/*
 * A random batch of valid records on fz* names, seq given, into buf; with
 * bad >= 0 record number bad gets name bad_name instead.
 */
static void random_batch(struct batch *b, unsigned char *buf, uint64_t seq,
                         int bad, const char *bad_name)
{
	static unsigned char data[4096];
	char n1[32], n2[32];
	uint32_t n = 1 + (uint32_t)rnd_below(MAX_RECS);
	batch_start(b, buf);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(n1, sizeof(n1), "fz%u", (unsigned)rnd_below(16));
		snprintf(n2, sizeof(n2), "fz%u", (unsigned)rnd_below(16));
		const char *name = (int)i == bad ? bad_name : n1;
		uint64_t dlen = rnd_below(sizeof(data) / 4 + 1);
		switch (rnd_below(6)) {
		case 0:
			rnd_fill(data, (size_t)dlen);
			batch_add(b, MJW_REC_WRITE, name, NULL,
			          rnd_below(65536), dlen, data, dlen);
			break;
		case 1:
			batch_add(b, MJW_REC_CREATE, name, NULL, 0, 0, NULL, 0);
			break;
		case 2:
			batch_add(b, MJW_REC_SETSIZE, name, NULL, 0,
			          rnd_below(65536), NULL, 0);
			break;
		case 3:
			batch_add(b, MJW_REC_RENAME, n2, name, 0, 0, NULL, 0);
			break;
		case 4:
			batch_add(b, MJW_REC_REMOVE, name, NULL, 0, 0, NULL, 0);
			break;
		default:
			batch_add(b, MJW_REC_MKDIR, (int)i == bad ? name : "fzd",
			          NULL, 0, 0, NULL, 0);
		}
	}
	batch_seal(b, MJW_F_LAST, 0, seq, 0);
}

/* A value that breaks things when put in a length or count field. */
static uint64_t nasty(void)
{
	static const uint64_t v[] = {
		0, 1, 7, 8, 0xff, 0xffff, 0x10000, 0xffffffffull,
		MJW_FILE_MAX - 1, MJW_FILE_MAX, MJW_FILE_MAX + 1,
		MJW_FRAME_MAX, MJW_FRAME_MAX + 8, UINT64_MAX, UINT64_MAX - 7,
		1ull << 63,
	};
	return rnd_below(3) ? v[rnd_below(sizeof(v) / sizeof(v[0]))] : rnd();
}

/*
 * A seq for a mutated batch. Only 0, resends and values so large a
 * legitimate client never reaches them: a valid batch with a near-future
 * seq would be taken for the legitimate client's own batch of that seq.
 *
 * Far-future seqs stay off indexes below LOW_INDEXES (unless
 * --all-indexes): the mirror keeps such a batch, which can never be
 * applied, at the front of its ring forever, so the ring fills and its
 * index stalls (a known mirror bug, see the test report). The
 * legitimate client a process test runs after us uses the low indexes.
 */
#define LOW_INDEXES 8
static int g_all_indexes;

static uint64_t nasty_seq(uint64_t durable)
{
	int far = g_all_indexes || g_index >= LOW_INDEXES;
	switch (rnd_below(far ? 5 : 3)) {
	case 0: return 0;
	case 1: return durable;
	case 2: return durable ? durable - 1 : 0;
	case 3: return UINT64_MAX - rnd_below(2);
	default: return rnd() | (1ull << 62);
	}
}

static void poke_hdr(struct batch *b, uint64_t durable)
{
	struct mjw_hdr h;
	memcpy(&h, b->f, sizeof(h));
	switch (rnd_below(8)) {
	case 0: h.len = rnd_below(2) ? nasty() : b->len + 8 * (rnd_below(9) - 4); break;
	case 1: h.nrec = (uint32_t)(rnd_below(2) ? nasty() : h.nrec + rnd_below(3) - 1); break;
	case 2: h.frag = (uint32_t)nasty(); break;
	case 3: h.seq = nasty_seq(durable); break;
	case 4: h.epoch = nasty(); break;
	case 5: h.flags = (uint8_t)rnd(); break;
	case 6: h.total = nasty(); break;
	default: h.type = (uint8_t)rnd_below(9); break;
	}
	memcpy(b->f, &h, sizeof(h));
}

static void poke_rec(struct batch *b)
{
	struct mjw_rec r;
	unsigned char *p = b->f + b->rec_pos[rnd_below(b->nrec)];
	memcpy(&r, p, sizeof(r));
	switch (rnd_below(6)) {
	case 0: r.name_len = (uint16_t)nasty(); break;
	case 1: r.name2_len = (uint16_t)nasty(); break;
	case 2: r.len = nasty(); break;
	case 3: r.off = nasty(); break;
	case 4: r.type = (uint16_t)rnd_below(8); break;
	default: r.zero = (uint16_t)rnd(); break;
	}
	memcpy(p, &r, sizeof(r));
}

/* ---- one fuzz iteration each ----------------------------------------- */

/* Random bytes, sometimes behind a plausible header, on a fresh socket. */
static void it_random(int after_hello)
{
	static unsigned char buf[RANDOM_MAX];
	struct mjw_hello_ack ack;
	struct outcome out;
	int fd = after_hello ? open_session(&ack) : dial();
	if (fd < 0)
		return;
	size_t len = (size_t)rnd_below(RANDOM_MAX + 1);
	rnd_fill(buf, len);
	if (len >= MJW_OVERHEAD && rnd_below(2))
		mjw_put_hdr(buf, (enum mjw_type)(1 + rnd_below(MJW_COPY_DONE)),
		            (uint8_t)rnd_below(4), (uint32_t)rnd_below(3), 0,
		            o.epoch, rnd(), mjw_pad8(rnd_below(len)), rnd());
	send_some(fd, buf, len);
	collect(fd, 20, &out);
	close(fd);
}

static void report_bad_ack(const struct batch *b, uint64_t len,
                           const char *why)
{
	fprintf(stderr, "mj_fuzz: BUG: the mirror acked a frame that fails "
	        "mjw_check_frame (%s); first bytes:", why);
	for (uint64_t i = 0; i < len && i < 96; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", b->f[i]);
	fprintf(stderr, "\n");
	st.acked_invalid++;
}

/* A batch mutated 1..3 ways, then re-sealed so only validation can stop it. */
static void it_mutated(void)
{
	static unsigned char buf[FRAME_CAP + 64];
	struct mjw_hello_ack ack;
	struct batch b;
	struct outcome out;
	int fd = open_session(&ack);
	if (fd < 0)
		return;
	int bad = -1;
	const char *bad_name = NULL;
	if (rnd_below(4) == 0) {
		bad = 0; /* record 0 always exists */
		uint64_t k = rnd_below(sizeof(bad_names) / sizeof(bad_names[0]) + 2);
		bad_name = k < sizeof(bad_names) / sizeof(bad_names[0]) ?
		           bad_names[k] : long_name(1 + rnd_below(40));
	}
	random_batch(&b, buf, ack.durable_seq + 1, bad, bad_name);
	int muts = bad >= 0 ? (int)rnd_below(2) : 1 + (int)rnd_below(3);
	int reseal = rnd_below(8) != 0;
	for (int m = 0; m < muts; m++) {
		switch (rnd_below(3)) {
		case 0:
			b.f[rnd_below(b.len)] ^= (unsigned char)(1u << rnd_below(8));
			break;
		case 1:
			poke_hdr(&b, ack.durable_seq);
			break;
		default:
			poke_rec(&b);
		}
	}
	/* A bit flip can move seq a little into the future: a valid batch
	 * there would stand in for the legitimate client's own batch of that
	 * seq (the mirror cannot tell them apart), so keep it out. */
	struct mjw_hdr hs;
	memcpy(&hs, b.f, sizeof(hs));
	if (hs.seq > ack.durable_seq + 1 && hs.seq < (1ull << 62)) {
		hs.seq = nasty_seq(ack.durable_seq);
		memcpy(b.f, &hs, sizeof(hs));
	}
	/* Re-seal at the length the header now claims, if we hold that
	 * many bytes; what the mirror reads as the frame is then exactly
	 * those bytes, and our own verdict on them must match its answer. */
	struct mjw_hdr h;
	memcpy(&h, b.f, sizeof(h));
	uint64_t send_len = b.len;
	if (h.len >= MJW_OVERHEAD && h.len <= FRAME_CAP && h.len % 8 == 0) {
		if (h.len > b.len)
			memset(b.f + b.len, 0, (size_t)(h.len - b.len));
		if (reseal)
			mjw_seal(b.f);
		send_len = h.len;
	}
	const char *why = NULL;
	int valid = send_len == h.len && !mjw_check_frame(b.f, h.len, &why);
	if (!valid && !why)
		why = "header length differs from the bytes sent";
	send_some(fd, b.f, (size_t)send_len);
	collect_until(fd, valid ? 1000 : 50, valid, &out);
	if (out.ack && !valid)
		report_bad_ack(&b, send_len, why);
	close(fd);
}

/* A valid batch cut anywhere, then closed: it must never be acked. */
static void it_truncated(void)
{
	static unsigned char buf[FRAME_CAP + 64];
	struct mjw_hello_ack ack;
	struct batch b;
	struct outcome out;
	int fd = open_session(&ack);
	if (fd < 0)
		return;
	random_batch(&b, buf, ack.durable_seq + 1, -1, NULL);
	uint64_t cut = rnd_below(b.len);
	send_some(fd, b.f, (size_t)cut);
	shutdown(fd, SHUT_WR);
	collect(fd, 100, &out);
	if (out.ack)
		report_bad_ack(&b, cut, "truncated");
	close(fd);
}

/* A header announcing a huge frame, then silence for a while. */
static void it_huge(void)
{
	struct mjw_hello_ack ack;
	struct outcome out;
	int fd = open_session(&ack);
	if (fd < 0)
		return;
	uint64_t lens[] = {
		ack.slot_size, (uint64_t)ack.slot_size + 8, MJW_FRAME_MAX,
		MJW_FRAME_MAX + 8, 1ull << 40, UINT64_MAX & ~7ull,
	};
	unsigned char f[MJW_HDR_SIZE + 256];
	uint64_t len = lens[rnd_below(sizeof(lens) / sizeof(lens[0]))];
	mjw_put_hdr(f, MJW_BATCH, MJW_F_LAST, 1, 0, o.epoch,
	            ack.durable_seq + 1, len, len - MJW_OVERHEAD);
	uint64_t extra = rnd_below(2) ? rnd_below(256) : 0;
	rnd_fill(f + MJW_HDR_SIZE, (size_t)extra);
	send_some(fd, f, (size_t)(MJW_HDR_SIZE + extra));
	collect(fd, o.hold_ms, &out);
	close(fd);
}

/* HELLOs that must be refused: indexes, sizes, epoch 0, wrong type. */
static void it_bad_hello(void)
{
	unsigned char f[MJW_OVERHEAD + 64];
	struct outcome out;
	int fd = dial();
	if (fd < 0)
		return;
	uint64_t len = hello_frame(f, o.epoch, (uint32_t)rnd_below(64), 64);
	struct mjw_hello *hb = (struct mjw_hello *)(f + MJW_HDR_SIZE);
	struct mjw_hdr h;
	memcpy(&h, f, sizeof(h));
	switch (rnd_below(8)) {
	case 0: hb->nconns = 0; break;
	case 1: hb->nconns = 65 + (uint32_t)rnd_below(1000); break;
	case 2: hb->conn_index = hb->nconns + (uint32_t)rnd_below(1u << 31); break;
	case 3: hb->conn_index = UINT32_MAX; break;
	case 4: h.len = MJW_OVERHEAD + 8; len = h.len; break; /* short body */
	case 5: h.version = (uint16_t)(2 + rnd_below(100)); break;
	case 6: h.type = MJW_PING; break;
	default: h.epoch = 0; break; /* older than the mirror's */
	}
	memcpy(f, &h, sizeof(h));
	mjw_seal(f);
	send_some(fd, f, (size_t)len);
	collect(fd, 200, &out);
	close(fd);
}

/* A PING with a random body: PONG up to the control body limit. */
static void it_ping(void)
{
	static unsigned char f[MJW_OVERHEAD + MJW_CTRL_BODY_MAX + 64];
	struct mjw_hello_ack ack;
	struct outcome out;
	int fd = open_session(&ack);
	if (fd < 0)
		return;
	uint64_t body = mjw_pad8(rnd_below(MJW_CTRL_BODY_MAX + 48));
	uint64_t len = MJW_OVERHEAD + body;
	mjw_put_hdr(f, MJW_PING, 0, 0, 0, o.epoch, rnd(), len, 0);
	rnd_fill(f + MJW_HDR_SIZE, (size_t)body);
	mjw_seal(f);
	send_some(fd, f, (size_t)len);
	collect(fd, 100, &out);
	close(fd);
}

/* A valid batch, which must be acked: the mirror still works mid-fuzz. */
static void it_valid(void)
{
	static unsigned char buf[FRAME_CAP + 64];
	struct mjw_hello_ack ack;
	struct batch b;
	struct outcome out;
	int fd = open_session(&ack);
	if (fd < 0)
		return;
	random_batch(&b, buf, ack.durable_seq + 1, -1, NULL);
	st.valid_sent++;
	send_some(fd, b.f, (size_t)b.len);
	collect_until(fd, 2000, 1, &out);
	if (!out.ack || out.ack_seq != ack.durable_seq + 1) {
		st.valid_unacked++;
		if (o.verbose)
			fprintf(stderr, "mj_fuzz: valid batch %llu not acked "
			        "(refuse %d closed %d)\n",
			        (unsigned long long)ack.durable_seq + 1,
			        out.refuse, out.closed);
	}
	close(fd);
}

/* Many connections at once, each left half-sent, then all closed. */
static void it_storm(void)
{
	static unsigned char buf[FRAME_CAP + 64];
	int fds[STORM_CONNS];
	int n = 0;
	st.storms++;
	for (int i = 0; i < STORM_CONNS && time_left(); i++) {
		int fd = dial();
		if (fd < 0)
			break;
		fds[n++] = fd;
		uint64_t len = hello_frame(buf, o.epoch, (uint32_t)rnd_below(64), 64);
		if (rnd_below(2)) {
			send_some(fd, buf, (size_t)(rnd_below(len)));
			continue;
		}
		send_some(fd, buf, (size_t)len);
		struct batch b;
		random_batch(&b, buf, 1ull << 62, -1, NULL);
		send_some(fd, b.f, (size_t)rnd_below(b.len));
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static uint64_t fuzz_one(void)
{
	uint64_t k = rnd_below(100);
	if (k < 10)
		it_random(0);
	else if (k < 18)
		it_random(1);
	else if (k < 60)
		it_mutated();
	else if (k < 70)
		it_truncated();
	else if (k < 75)
		it_huge();
	else if (k < 85)
		it_bad_hello();
	else if (k < 90)
		it_ping();
	else if (k < 99)
		it_valid();
	else
		it_storm();
	return k;
}

static int run_fuzz(void)
{
	uint64_t t0 = now_ns();
	rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
	for (long i = 0; i < o.iterations && time_left(); i++) {
		uint64_t t = now_ns();
		uint64_t k = fuzz_one();
		t = (now_ns() - t) / 1000000;
		if (o.verbose && t > 300)
			fprintf(stderr, "mj_fuzz: iteration %ld (kind %llu) took "
			        "%llu ms\n", i, (unsigned long long)k,
			        (unsigned long long)t);
		st.iters++;
	}
	printf("mj_fuzz: seed %llu iterations %ld in %.1f s: connects %ld "
	       "(failed %ld) hello_ack %ld refused %ld (busy %ld) acks %ld "
	       "pongs %ld closed_by_mirror %ld storms %ld valid %ld "
	       "(unacked %ld) bytes %llu acked_invalid %ld bad_replies %ld\n",
	       (unsigned long long)o.seed, st.iters,
	       (double)(now_ns() - t0) / 1e9, st.connects, st.connect_fail,
	       st.hello_ack, st.refused, st.busy, st.acks, st.pongs,
	       st.peer_closed, st.storms, st.valid_sent, st.valid_unacked,
	       (unsigned long long)st.bytes, st.acked_invalid, st.bad_replies);
	if (st.connects == 0) {
		fprintf(stderr, "mj_fuzz: never reached the mirror\n");
		return 1;
	}
	return st.acked_invalid || st.bad_replies ? 1 : 0;
}

/* ---- single batches for the process tests ----------------------------- */

/* HELLO on index o.conn, retried while the index is busy (an old
 * connection of ours may not be torn down yet). */
static int session_retry(struct mjw_hello_ack *ack)
{
	for (int tries = 0; tries < 50 && time_left(); tries++) {
		uint64_t code = 0;
		int fd = dial();
		if (fd >= 0 && !hello(fd, o.conn, o.conn + 1, ack, &code))
			return fd;
		if (fd >= 0)
			close(fd);
		if (fd >= 0 && code && code != MJW_REFUSE_BUSY) {
			fprintf(stderr, "mj_fuzz: HELLO refused, code %llu\n",
			        (unsigned long long)code);
			return -1;
		}
		sleep_ms(100);
	}
	fprintf(stderr, "mj_fuzz: no HELLO_ACK from %s\n", o.addr);
	return -1;
}

/* o.size bytes of o.pattern repeated. */
static unsigned char *pattern_data(void)
{
	unsigned char *d = malloc((size_t)o.size + 1);
	size_t pl = strlen(o.pattern);
	if (!d || !pl)
		return d;
	for (uint64_t i = 0; i < o.size; i++)
		d[i] = (unsigned char)o.pattern[i % pl];
	return d;
}

/*
 * Builds the CASE batch into two frames (the second empty unless the case
 * is fragmented): CREATE name + WRITE pattern, or for frag/nolast the
 * pattern split over two fragments. Returns the number of frames.
 */
static int case_frames(const char *c, uint64_t seq, struct batch fr[2],
                       unsigned char *b0, unsigned char *b1,
                       const unsigned char *data)
{
	int two = !strcmp(c, "frag") || !strcmp(c, "nolast");
	uint64_t half = two ? o.size / 2 : o.size;
	batch_start(&fr[0], b0);
	batch_add(&fr[0], MJW_REC_CREATE, o.name, NULL, 0, 0, NULL, 0);
	batch_add(&fr[0], MJW_REC_WRITE, o.name, NULL, 0, half, data, half);
	if (!two) {
		batch_seal(&fr[0], MJW_F_LAST, 0, seq, 0);
		return 1;
	}
	batch_start(&fr[1], b1);
	batch_add(&fr[1], MJW_REC_WRITE, o.name, NULL, half, o.size - half,
	          data + half, o.size - half);
	uint64_t total = fr[0].len - MJW_HDR_SIZE + fr[1].len - MJW_HDR_SIZE;
	batch_seal(&fr[0], 0, 0, seq, total);
	batch_seal(&fr[1], MJW_F_LAST, 1, seq, total);
	return 2;
}

/* Damages frame 0 as the case says, after sealing. */
static void damage(const char *c, struct batch *b)
{
	if (!strcmp(c, "flip")) {
		/* Default: a bit inside the WRITE data, which only the CRC
		 * covers. The data follows record 1's header and name. */
		uint64_t pos = b->rec_pos[1] + MJW_REC_SIZE + strlen(o.name);
		uint64_t bit = o.bit >= 0 ? (uint64_t)o.bit : pos * 8 + 3;
		b->f[(bit / 8) % b->len] ^= (unsigned char)(1u << (bit % 8));
	} else if (!strcmp(c, "noend")) {
		memset(b->f + b->len - 8, 0, 8);
	}
}

/*
 * setsize-huge: 16 files set to MJW_FILE_MAX - 4096 bytes, then 8 bytes
 * written at the end of each, in one batch: more address space than a
 * process has if the mirror maps them all, more disk than it has.
 */
#define HUGE_FILES 16
static void huge_batch(struct batch *b, unsigned char *buf, uint64_t seq)
{
	char name[32];
	uint64_t size = MJW_FILE_MAX - 4096;
	batch_start(b, buf);
	for (int i = 0; i < HUGE_FILES; i++) {
		snprintf(name, sizeof(name), "fzhuge%d", i);
		batch_add(b, MJW_REC_SETSIZE, name, NULL, 0, size, NULL, 0);
	}
	for (int i = 0; i < HUGE_FILES; i++) {
		snprintf(name, sizeof(name), "fzhuge%d", i);
		batch_add(b, MJW_REC_WRITE, name, NULL, size - 8, 8, "HUGEHUGE", 8);
	}
	batch_seal(b, MJW_F_LAST, 0, seq, 0);
}

static int send_case(const char *c)
{
	static const char *const cases[] = {"valid", "frag", "flip", "trunc",
	                                    "noend", "nolast", "setsize-huge"};
	int known = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		known |= !strcmp(c, cases[i]);
	if (!known || o.size == 0 || o.size > FRAME_CAP / 2) {
		fprintf(stderr, "mj_fuzz: --send valid|frag|flip|trunc|noend|"
		        "nolast|setsize-huge, --size 1..%u\n", FRAME_CAP / 2);
		return 2;
	}
	static unsigned char b0[FRAME_CAP + 64], b1[FRAME_CAP + 64];
	struct mjw_hello_ack ack;
	struct batch fr[2];
	struct outcome out;
	unsigned char *data = pattern_data();
	int fd = data ? session_retry(&ack) : -1;
	if (fd < 0) {
		free(data);
		return 1;
	}
	uint64_t seq = o.seq ? o.seq : ack.durable_seq + 1;
	int nfr = 1;
	if (!strcmp(c, "setsize-huge"))
		huge_batch(&fr[0], b0, seq);
	else
		nfr = case_frames(c, seq, fr, b0, b1, data);
	free(data);
	damage(c, &fr[0]);
	if (!strcmp(c, "trunc")) {
		send_some(fd, fr[0].f, (size_t)(fr[0].len / 2));
	} else if (!strcmp(c, "nolast")) {
		send_some(fd, fr[0].f, (size_t)fr[0].len);
		/* Give the mirror time to take fragment 0 in, then go. */
		collect(fd, 300, &out);
	} else {
		for (int i = 0; i < nfr; i++)
			send_some(fd, fr[i].f, (size_t)fr[i].len);
	}
	int ours = !strcmp(c, "trunc") || !strcmp(c, "nolast");
	if (ours)
		shutdown(fd, SHUT_WR);
	/* Valid cases: the ack, then we close. Others: until the mirror
	 * closes (or 3 s pass). */
	struct outcome more;
	collect_until(fd, 3000, !strcmp(c, "valid") || !strcmp(c, "frag"),
	              &more);
	if (!strcmp(c, "nolast")) {
		more.ack += out.ack;
		more.refuse += out.refuse;
	}
	close(fd);
	printf("send %s seq=%llu ack=%d refuse=%d closed=%d durable_seq=%llu "
	       "slot_size=%u\n", c, (unsigned long long)seq, more.ack,
	       more.refuse, more.closed, (unsigned long long)ack.durable_seq,
	       ack.slot_size);
	return 0;
}

static int probe(void)
{
	struct mjw_hello_ack ack;
	static unsigned char b0[FRAME_CAP + 64], b1[FRAME_CAP + 64];
	struct batch fr[2];
	struct outcome out;
	unsigned char *data = pattern_data();
	int fd = data ? session_retry(&ack) : -1;
	if (fd < 0) {
		free(data);
		return 1;
	}
	uint64_t seq = ack.durable_seq + 1;
	case_frames("valid", seq, fr, b0, b1, data);
	free(data);
	send_some(fd, fr[0].f, (size_t)fr[0].len);
	collect_until(fd, 5000, 1, &out);
	close(fd);
	if (!out.ack || out.ack_seq != seq) {
		fprintf(stderr, "mj_fuzz: probe: batch %llu not acked (refuse "
		        "%d closed %d)\n", (unsigned long long)seq, out.refuse,
		        out.closed);
		return 1;
	}
	printf("probe ok seq=%llu\n", (unsigned long long)seq);
	return 0;
}

/* ---- floods for the resource tests ----------------------------------- */

/* --count HELLOs of another cluster, each on a new connection: all must
 * be refused (and cost the mirror nothing that stays). */
static int flood_foreign_hello(void)
{
	unsigned char f[MJW_OVERHEAD + sizeof(struct mjw_hello)];
	long refused = 0;
	for (long i = 0; i < o.count && time_left(); i++) {
		struct outcome out;
		int fd = dial();
		if (fd < 0)
			continue;
		uint64_t len = hello_frame_of(f, FOREIGN_CLUSTER, o.epoch,
		                              (uint32_t)(i % 64), 64);
		send_some(fd, f, (size_t)len);
		collect(fd, 1000, &out);
		refused += out.refuse && out.refuse_code == MJW_REFUSE_CLUSTER;
		close(fd);
	}
	printf("flood foreign-hello sent=%ld refused=%ld\n", o.count, refused);
	return 0;
}

/* One session, then --count COPY_BEGIN frames, each waiting for its ACK. */
static int flood_copy_begin(void)
{
	struct mjw_hello_ack ack;
	unsigned char f[MJW_OVERHEAD];
	long acked = 0;
	int fd = session_retry(&ack);
	if (fd < 0)
		return 1;
	for (long i = 0; i < o.count && time_left(); i++) {
		struct outcome out;
		mjw_put_hdr(f, MJW_COPY_BEGIN, 0, 0, 0, o.epoch, 0, MJW_OVERHEAD, 0);
		mjw_seal(f);
		if (send_some(fd, f, sizeof(f)))
			break;
		collect_until(fd, 2000, 1, &out);
		if (!out.ack)
			break;
		acked++;
	}
	close(fd);
	printf("flood copy-begin sent=%ld acked=%ld\n", o.count, acked);
	return 0;
}

/* --count HELLOs of this cluster, each on a new connection, each closed
 * after its answer: what they got, by kind. */
static int flood_hello(void)
{
	long acked = 0, refused = 0, auth = 0;
	for (long i = 0; i < o.count && time_left(); i++) {
		struct mjw_hello_ack ack;
		uint64_t code;
		int fd = dial();
		if (fd < 0)
			continue;
		if (hello(fd, (uint32_t)(i % 64), 64, &ack, &code) == 0)
			acked++;
		else if (code)
			refused++;
		auth += code == MJW_REFUSE_AUTH;
		close(fd);
	}
	printf("flood hello sent=%ld acked=%ld refused=%ld auth_refused=%ld\n",
	       o.count, acked, refused, auth);
	return 0;
}

/* A keyed handshake whose HELLO and AUTH frames are saved to o.record. */
static int record(void)
{
	unsigned char rec[2 * MJW_OVERHEAD + sizeof(struct mjw_hello) +
	                  MJW_MAC_SIZE];
	struct mjw_hello_ack ack;
	uint64_t code;
	if (!g_key.len) {
		fprintf(stderr, "mj_fuzz: --record needs --keyfile\n");
		return 2;
	}
	int fd = dial();
	if (fd < 0 || hello_rec(fd, o.conn, o.conn + 1, &ack, &code, rec)) {
		fprintf(stderr, "mj_fuzz: --record: the handshake failed (refuse "
		        "%llu)\n", (unsigned long long)code);
		return 1;
	}
	close(fd);
	FILE *f = fopen(o.record, "wb");
	if (!f || fwrite(rec, sizeof(rec), 1, f) != 1 || fclose(f)) {
		perror(o.record);
		return 1;
	}
	printf("recorded a handshake of %zu bytes\n", sizeof(rec));
	return 0;
}

/* Plays the recorded HELLO and AUTH against a fresh CHALLENGE. */
static int replay(void)
{
	unsigned char rec[2 * MJW_OVERHEAD + sizeof(struct mjw_hello) +
	                  MJW_MAC_SIZE];
	const size_t hello_len = MJW_OVERHEAD + sizeof(struct mjw_hello);
	FILE *f = fopen(o.replay, "rb");
	size_t n = f ? fread(rec, 1, sizeof(rec), f) : 0;
	if (f)
		fclose(f);
	if (n != sizeof(rec)) {
		fprintf(stderr, "mj_fuzz: --replay %s: not a recording\n", o.replay);
		return 2;
	}
	struct reply r = {0};
	int fd = dial();
	if (fd < 0)
		return 1;
	int got = send_some(fd, rec, hello_len) == 0 &&
	          read_reply(fd, 2000, &r) == RD_FRAME &&
	          r.h.type == MJW_CHALLENGE &&
	          send_some(fd, rec + hello_len, sizeof(rec) - hello_len) == 0 &&
	          read_reply(fd, 2000, &r) == RD_FRAME;
	close(fd);
	uint64_t code = got && r.h.type == MJW_REFUSE ? r.h.seq : 0;
	printf("replay refuse=%llu%s\n", (unsigned long long)code,
	       got && r.h.type == MJW_HELLO_ACK ? " (admitted!)" : "");
	return code == MJW_REFUSE_AUTH ? 0 : 1;
}

static int flood(const char *what)
{
	if (o.count < 1 || o.count > FLOOD_MAX) {
		fprintf(stderr, "mj_fuzz: --count 1..%d\n", FLOOD_MAX);
		return 2;
	}
	if (!strcmp(what, "foreign-hello"))
		return flood_foreign_hello();
	if (!strcmp(what, "copy-begin"))
		return flood_copy_begin();
	if (!strcmp(what, "hello"))
		return flood_hello();
	fprintf(stderr, "mj_fuzz: --flood foreign-hello|copy-begin|hello\n");
	return 2;
}

/* ---- a mirror without the key ----------------------------------------- */

/* Answers one primary's HELLO as an impostor would (see the top). */
static void impostor_serve(int fd, int challenge)
{
	struct reply r;
	struct mjw_hello_ack ack = {.slot_size = 4u << 20,
	                            .flags = MJW_MIRROR_EMPTY};
	if (read_reply(fd, 2000, &r) != RD_FRAME || r.h.type != MJW_HELLO)
		return;
	if (challenge) {
		unsigned char na[MJW_NONCE_SIZE];
		rnd_fill(na, sizeof(na));
		if (mjl_send_ctrl(fd, MJW_CHALLENGE, r.h.epoch, 0, na, sizeof(na)) ||
		    read_reply(fd, 2000, &r) != RD_FRAME || r.h.type != MJW_AUTH)
			return;
		rnd_fill(ack.mac, sizeof(ack.mac)); /* a forged proof */
	}
	ack.epoch = r.h.epoch;
	if (mjl_send_ctrl(fd, MJW_HELLO_ACK, r.h.epoch, 0, &ack, sizeof(ack)))
		return;
	st.hello_ack++;
	while (read_reply(fd, 1000, &r) == RD_FRAME) /* until it goes */
		;
}

static int impostor(void)
{
	int challenge = o.impostor_mode && !strcmp(o.impostor_mode, "challenge");
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
		perror("mj_fuzz: --impostor");
		return 1;
	}
	FILE *pf = fopen(o.impostor, "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(pf)) {
		perror(o.impostor);
		return 1;
	}
	long served = 0, want = o.count > 0 ? o.count : 1;
	while (served < want && time_left()) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		impostor_serve(fd, challenge);
		close(fd);
		served++;
	}
	close(lfd);
	printf("impostor served=%ld hello_acks=%ld\n", served, st.hello_ack);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr, "usage: mj_fuzz --addr HOST:PORT [--seed N] "
	        "[--iterations N] [--seconds S] [--hold-ms MS] [--verbose]\n"
	        "               [--all-indexes]\n"
	        "       mj_fuzz --addr HOST:PORT --probe [--name N] [--conn K]\n"
	        "       mj_fuzz --addr HOST:PORT --send CASE [--name N] "
	        "[--pattern P] [--size N] [--conn K] [--bit N] [--seq N]\n"
	        "       (any mode: [--epoch N] [--cluster HEX] [--incarnation N])\n"
	        "       mj_fuzz --addr HOST:PORT --flood foreign-hello|copy-begin "
	        "--count N [--conn K]\n"
	        "(see the comment at the top of tests/tools/mj_fuzz.c)\n");
	return 2;
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"addr", 1, 0, 'a'}, {"seed", 1, 0, 's'},
		{"iterations", 1, 0, 'i'}, {"seconds", 1, 0, 'S'},
		{"hold-ms", 1, 0, 'H'}, {"verbose", 0, 0, 'v'},
		{"probe", 0, 0, 'p'}, {"send", 1, 0, 'c'}, {"name", 1, 0, 'n'},
		{"pattern", 1, 0, 'P'}, {"size", 1, 0, 'z'}, {"conn", 1, 0, 'k'},
		{"epoch", 1, 0, 'e'}, {"bit", 1, 0, 'b'}, {"seq", 1, 0, 'q'},
		{"all-indexes", 0, 0, 'A'}, {"cluster", 1, 0, 'C'},
		{"incarnation", 1, 0, 'I'},
		{"all-indexes", 0, 0, 'A'}, {"flood", 1, 0, 'F'},
		{"count", 1, 0, 'N'}, {"keyfile", 1, 0, 'K'},
		{"record", 1, 0, 'R'}, {"replay", 1, 0, 'Y'},
		{"impostor", 1, 0, 'X'}, {"impostor-mode", 1, 0, 'x'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o.addr = optarg; break;
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'i': o.iterations = strtol(optarg, NULL, 0); break;
		case 'S': o.seconds = strtod(optarg, NULL); break;
		case 'H': o.hold_ms = atoi(optarg); break;
		case 'v': o.verbose = 1; break;
		case 'p': o.probe = 1; break;
		case 'c': o.send_case = optarg; break;
		case 'n': o.name = optarg; break;
		case 'P': o.pattern = optarg; break;
		case 'z': o.size = strtoull(optarg, NULL, 0); break;
		case 'k': o.conn = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'e': o.epoch = strtoull(optarg, NULL, 0); break;
		case 'b': o.bit = strtol(optarg, NULL, 0); break;
		case 'q': o.seq = strtoull(optarg, NULL, 0); break;
		case 'A': g_all_indexes = 1; break;
		case 'C': o.cluster = strtoull(optarg, NULL, 16); break;
		case 'I': o.incarnation = strtoull(optarg, NULL, 0); break;
		case 'F': o.flood = optarg; break;
		case 'N': o.count = strtol(optarg, NULL, 0); break;
		case 'K': o.keyfile = optarg; break;
		case 'R': o.record = optarg; break;
		case 'Y': o.replay = optarg; break;
		case 'X': o.impostor = optarg; break;
		case 'x': o.impostor_mode = optarg; break;
		default: return -1;
		}
	}
	if (o.impostor && !o.addr)
		o.addr = "127.0.0.1:0";
	if (!o.addr || optind != argc || o.iterations < 0 ||
	    !(o.seconds > 0 && o.seconds <= 3600) || o.hold_ms < 0 ||
	    o.hold_ms > 10000 || o.conn >= 64)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *why;
	if (parse(argc, argv))
		return usage();
	if (mjl_parse_addr(o.addr, &g_addr, &g_alen, &why)) {
		fprintf(stderr, "mj_fuzz: --addr %s: %s\n", o.addr, why);
		return 2;
	}
	g_deadline_ns = now_ns() + (uint64_t)(o.seconds * 1e9);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.keyfile) {
		char err[600];
		if (mjl_key_load(o.keyfile, &g_key, err, sizeof(err))) {
			fprintf(stderr, "mj_fuzz: %s\n", err);
			return 2;
		}
	}
	if (o.impostor)
		return impostor();
	if (o.record)
		return record();
	if (o.replay)
		return replay();
	if (o.probe)
		return probe();
	if (o.send_case)
		return send_case(o.send_case);
	if (o.flood)
		return flood(o.flood);
	return run_fuzz();
}
