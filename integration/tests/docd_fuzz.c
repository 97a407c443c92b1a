/*
 * docd_fuzz: hostile clients for a running mojim-docd (wire_fuzz.sh).
 *
 *   docd_fuzz PORT SEED ITERATIONS SECONDS
 *
 * Each iteration builds a valid message (OP_MSG commands of every kind
 * the daemon serves, with documents that are valid, odd or hostile, or
 * the legacy OP_QUERY handshake), then maybe mutates it: bytes flipped,
 * lengths rewritten, the message cut short or padded, random bytes. It
 * sends it and reads until a reply arrives, the daemon closes, or 2 s
 * pass; a closed connection is opened again. A reply that does not parse
 * as a message, or a daemon that stops accepting connections, is a
 * failure (exit 1); everything else (error replies, closes) is the
 * daemon's right. Prints what it saw.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mdb_wire.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int dial(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 100; i++) { /* the daemon may be busy closing */
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		usleep(20000);
	}
	close(fd);
	return -1;
}

/* A value of a random kind, some of them odd (deep, huge, typed oddly). */
static void odd_value(bson_t *b, const char *key, int depth)
{
	switch (rnd() % 12) {
	case 0: BSON_APPEND_INT32(b, key, (int32_t)rnd()); break;
	case 1: BSON_APPEND_INT64(b, key, (int64_t)rnd()); break;
	case 2: BSON_APPEND_DOUBLE(b, key, (double)(int64_t)rnd() / 7.0); break;
	case 3: BSON_APPEND_UTF8(b, key, "$set"); break; /* constants only */
	case 4: BSON_APPEND_NULL(b, key); break;
	case 5: BSON_APPEND_BOOL(b, key, rnd() & 1); break;
	case 6: BSON_APPEND_UTF8(b, key, "$nope"); break;
	case 7: BSON_APPEND_MINKEY(b, key); break;
	case 8: BSON_APPEND_MAXKEY(b, key); break;
	default:
		if (depth < 6) {
			bson_t child;
			static const char *const keys[] = {"$gt", "$in", "$set", "a",
			                                   "a.b", "_id", "$and",
			                                   "$inc", "0"};
			int arr = rnd() & 1;
			if (arr)
				BSON_APPEND_ARRAY_BEGIN(b, key, &child);
			else
				BSON_APPEND_DOCUMENT_BEGIN(b, key, &child);
			int n = (int)(rnd() % 4);
			for (int i = 0; i < n; i++) {
				char k[8];
				snprintf(k, sizeof(k), "%d", i);
				odd_value(&child, arr ? k : keys[rnd() % 9], depth + 1);
			}
			if (arr)
				bson_append_array_end(b, &child);
			else
				bson_append_document_end(b, &child);
		} else {
			BSON_APPEND_INT32(b, key, 1);
		}
	}
}

static const char *const commands[] = {
	"hello", "isMaster", "ping", "buildInfo", "insert", "find", "update",
	"delete", "findAndModify", "count", "distinct", "aggregate", "create",
	"drop", "listCollections", "listDatabases", "createIndexes",
	"listIndexes", "dropIndexes", "getMore", "killCursors", "collStats",
	"dbStats", "renameCollection", "serverStatus", "nosuch",
};

static const char *const fields[] = {
	"documents", "filter", "sort", "projection", "limit", "skip",
	"batchSize", "updates", "deletes", "q", "u", "query", "update",
	"remove", "new", "upsert", "key", "pipeline", "cursor", "indexes",
	"index", "cursors", "collection", "to", "writeConcern", "ordered",
};

/* A command on db "fz": a real name, then random fields of odd values. */
static void command(bson_t *b)
{
	const char *name = commands[rnd() % (sizeof(commands) / sizeof(*commands))];
	if (!strcmp(name, "getMore"))
		BSON_APPEND_INT64(b, name, (int64_t)(rnd() & INT64_MAX));
	else if (!strcmp(name, "renameCollection"))
		bson_append_utf8(b, name, -1, rnd() & 1 ? "fz.c" : "fz", -1);
	else if (rnd() % 4) /* not BSON_APPEND_UTF8: it reads its value twice */
		bson_append_utf8(b, name, -1, rnd() & 1 ? "c" : "d.e", -1);
	else
		odd_value(b, name, 0);
	int n = (int)(rnd() % 5);
	for (int i = 0; i < n; i++)
		odd_value(b, fields[rnd() % (sizeof(fields) / sizeof(*fields))], 0);
	bson_append_utf8(b, "$db", -1, rnd() % 16 ? "fz" : "bad.db", -1);
}

/* One message into out: a command, maybe with a sequence, or OP_QUERY. */
static int build(struct mdw_buf *out, int32_t id)
{
	const char *why;
	bson_t body = BSON_INITIALIZER;
	int rc;
	if (rnd() % 10 == 0) {
		BSON_APPEND_INT32(&body, "isMaster", 1);
		rc = mdw_build_query(out, id, 0, rnd() & 1 ? "admin.$cmd" : "x.y",
		                     0, -1, &body, NULL, &why);
	} else {
		command(&body);
		bson_t doc = BSON_INITIALIZER;
		odd_value(&doc, "_id", 0);
		const bson_t *docs[] = {&doc};
		struct mdw_seq_out seq = {.id = rnd() & 1 ? "documents" : "updates",
		                          .docs = docs, .ndocs = 1};
		uint32_t flags = rnd() % 8 == 0 ? MDW_MSG_CHECKSUM : 0;
		rc = mdw_build_msg(out, id, 0, flags, &body, rnd() & 1 ? &seq : NULL,
		                   1, &why);
		bson_destroy(&doc);
	}
	bson_destroy(&body);
	return rc;
}

/* Mutates len bytes at p (capacity cap): the new length. */
static size_t mutate(uint8_t *p, size_t len, size_t cap)
{
	switch (rnd() % 7) {
	case 0: /* flip bytes */
		for (int i = 0, n = 1 + (int)(rnd() % 4); i < n; i++)
			p[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		return len;
	case 1: { /* a length field rewritten: the header's or a document's */
		size_t at = rnd() % 2 ? 0 : (rnd() % (len - 3));
		int32_t v = (int32_t)(rnd() % 3 == 0 ? rnd() : rnd() % (len * 2 + 1));
		memcpy(p + at, &v, 4);
		return len;
	}
	case 2: /* cut short, the header still saying the whole length */
		return len > 17 ? 16 + rnd() % (len - 16) : len;
	case 3: { /* random bytes after the header */
		for (size_t i = 16; i < len; i++)
			p[i] = (uint8_t)rnd();
		return len;
	}
	case 4: { /* padded: more bytes than the header says */
		size_t n = len + rnd() % 64;
		n = n > cap ? cap : n;
		for (size_t i = len; i < n; i++)
			p[i] = (uint8_t)rnd();
		return n;
	}
	default:
		return len; /* sent as built */
	}
}

/* Reads a reply (2 s): 1 a whole message, 0 closed or timed out, -1 a
 * reply that is not a message. */
static int read_reply(int fd)
{
	uint8_t hb[MDW_HEADER_SIZE];
	size_t got = 0;
	struct mdw_header h;
	const char *why;
	while (got < sizeof(hb)) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 2000) <= 0)
			return 0;
		ssize_t r = read(fd, hb + got, sizeof(hb) - got);
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
	if (mdw_header_parse(hb, sizeof(hb), &h, &why))
		return fprintf(stderr, "docd_fuzz: a reply header: %s\n", why), -1;
	uint8_t *m = malloc((size_t)h.length);
	if (!m)
		return 0;
	memcpy(m, hb, sizeof(hb));
	for (got = sizeof(hb); got < (size_t)h.length;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r = poll(&pf, 1, 2000) > 0 ? read(fd, m + got, h.length - got) : 0;
		if (r <= 0) {
			free(m);
			return 0;
		}
		got += (size_t)r;
	}
	struct mdw_request req;
	int err = h.opcode == MDW_OP_REPLY ? 0 :
	          mdw_parse(m, (size_t)h.length, &req, &why);
	free(m);
	if (err)
		return fprintf(stderr, "docd_fuzz: a reply: %s\n", why), -1;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: docd_fuzz PORT SEED ITERATIONS SECONDS\n");
		return 2;
	}
	int port = atoi(argv[1]);
	rng_state = strtoull(argv[2], NULL, 10) * 2654435761u + 1;
	long iters = atol(argv[3]);
	time_t until = time(NULL) + atol(argv[4]);
	struct mdw_buf out;
	mdw_buf_init(&out, 1 << 20);
	long replies = 0, closes = 0, sent = 0;
	int fd = -1;
	for (long i = 0; i < iters && time(NULL) < until; i++) {
		if (fd < 0 && (fd = dial(port)) < 0) {
			fprintf(stderr, "docd_fuzz: the daemon stopped accepting "
			        "(iteration %ld)\n", i);
			mdw_buf_free(&out);
			return 1;
		}
		mdw_buf_reset(&out);
		if (build(&out, (int32_t)i))
			continue;
		uint8_t msg[1 << 16];
		size_t len = out.len < sizeof(msg) ? out.len : sizeof(msg);
		memcpy(msg, out.data, len);
		if (rnd() % 3)
			len = mutate(msg, len, sizeof(msg));
		sent++;
		/* A header that promises more than is sent would make both
		 * sides wait: send, then hang up mid-message. */
		int32_t declared;
		memcpy(&declared, msg, 4);
		int whole = declared >= 0 && (size_t)declared <= len;
		int r = send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len && whole ?
		        read_reply(fd) : 0;
		if (r < 0) {
			mdw_buf_free(&out);
			return 1;
		}
		if (r == 1) {
			replies++;
		} else {
			closes++;
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	mdw_buf_free(&out);
	printf("sent %ld replies %ld closed %ld\n", sent, replies, closes);
	return 0;
}
