/*
 * tls.c: the TLS transport, TLS 1.2 or later over a TCP socket (netio.c),
 * with OpenSSL. Both sides show a certificate the cluster's CA signed
 * (mutual authentication); the dialer also checks that the acceptor's
 * certificate names the host it dialed. Every byte of the link, the mojim
 * handshake included, then travels inside the session, so a network that
 * can read or inject into the TCP stream gets nothing it can use.
 *
 * The certificates are loaded once (mjl_tls_open); each connection is one
 * SSL object, used by the one thread that owns the connection. Bytes go
 * through a BIO of our own that sends with MSG_NOSIGNAL: a peer gone
 * mid-write must be an error, not a SIGPIPE in the application that loaded
 * the extension.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct mjl_tls {
	SSL_CTX *ctx;
	BIO_METHOD *bio; /* sockets without SIGPIPE */
	int acceptor;
};

struct tls_conn {
	struct mjl_conn base; /* first: the struct mjl_conn * callers hold */
	SSL *ssl;
	char err[200]; /* the last failed call's OpenSSL error, or "" */
};

/* Why a handshake failed, for the caller's log line (a const char * the
 * transport API hands back, so one buffer per thread). */
static __thread char tls_why[256];

/* How long a refused peer's input is drained before the close. */
#define REFUSAL_LINGER_MS 250

/* OpenSSL's last error as text in buf; the error queue is left empty. */
static const char *ssl_error(const char *what, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	char detail[200] = "no detail from OpenSSL";
	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	snprintf(buf, len, "%s: %s", what, detail);
	return buf;
}

/* ---- the BIO: recv and send on the socket ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
	int fd = BIO_get_fd(b, NULL);
	BIO_clear_retry_flags(b);
	ssize_t n;
	while ((n = send(fd, buf, (size_t)len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b); /* SO_SNDTIMEO ran out */
	return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
	int fd = BIO_get_fd(b, NULL);
	const struct mjl_conn *conn = BIO_get_app_data(b);
	BIO_clear_retry_flags(b);
	if (conn && conn->deadline_ns && mjl_now_ns() > conn->deadline_ns) {
		errno = ETIMEDOUT; /* the handshake's bound (mjl_conn) */
		return -1;
	}
	ssize_t n;
	while ((n = recv(fd, buf, (size_t)len, 0)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b); /* SO_RCVTIMEO ran out */
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_C_SET_FD:
		BIO_set_data(b, (void *)(intptr_t)*(int *)ptr);
		BIO_set_init(b, 1);
		return 1;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = (int)(intptr_t)BIO_get_data(b);
		return (long)(intptr_t)BIO_get_data(b);
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		(void)num;
		return 0;
	}
}

static BIO_METHOD *bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
	                             BIO_TYPE_DESCRIPTOR, "mojim socket");
	if (m && (!BIO_meth_set_write(m, bio_write) ||
	          !BIO_meth_set_read(m, bio_read) ||
	          !BIO_meth_set_ctrl(m, bio_ctrl))) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/* ---- the certificates, once ---- */

/* The private key's file, opened once: a regular file nobody else may
 * read (checked on the descriptor it is then read from). */
static int open_key_file(const char *path, FILE **out, char *err,
                         size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return snprintf(err, errlen, "--tls-key %s: %s", path,
		                strerror(e)), -e;
	}
	int rc = 0;
	if (!S_ISREG(st.st_mode))
		rc = -EINVAL, snprintf(err, errlen, "tls key %s is not a regular "
		                       "file", path);
	else if (st.st_mode & 077)
		rc = -EPERM, snprintf(err, errlen, "tls key %s is readable by group "
		                      "or others (mode %04o): chmod 600 it", path,
		                      (unsigned)(st.st_mode & 07777));
	else if (!(*out = fdopen(fd, "r")))
		rc = -errno, snprintf(err, errlen, "--tls-key %s: %s", path,
		                      strerror(-rc));
	if (rc)
		close(fd);
	return rc;
}

static int read_key(const char *path, EVP_PKEY **out, char *err,
                    size_t errlen)
{
	FILE *f = NULL;
	int rc = open_key_file(path, &f, err, errlen);
	if (rc)
		return rc;
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out)
		return 0;
	char what[PATH_MAX + 40];
	snprintf(what, sizeof(what), "private key %s", path);
	return ssl_error(what, err, errlen), -EINVAL;
}

/* OpenSSL says "system lib" for a missing file: say which and why. */
static int readable(const char *what, const char *path, char *err,
                    size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	return -e;
}

static int load_files(SSL_CTX *ctx, const struct mjl_tls_config *cfg,
                      EVP_PKEY *key, char *err, size_t errlen)
{
	char what[PATH_MAX + 40];
	int rc = readable("certificate", cfg->cert, err, errlen);
	if (!rc)
		rc = readable("CA", cfg->ca, err, errlen);
	if (rc)
		return rc;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		snprintf(what, sizeof(what), "certificate %s", cfg->cert);
		return ssl_error(what, err, errlen), -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		int mismatch = ERR_GET_REASON(ERR_peek_last_error()) ==
		               X509_R_KEY_VALUES_MISMATCH;
		snprintf(what, sizeof(what), mismatch ? "private key %s does not "
		         "match the certificate" : "private key %s", cfg->key);
		return ssl_error(what, err, errlen), -EINVAL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ssl_error("the private key does not match the certificate",
		                 err, errlen), -EINVAL;
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
		snprintf(what, sizeof(what), "CA %s", cfg->ca);
		return ssl_error(what, err, errlen), -EINVAL;
	}
	return 0;
}

int mjl_tls_open(const struct mjl_tls_config *cfg, int acceptor,
                 struct mjl_tls **out, char *err, size_t errlen)
{
	if (!cfg->cert || !cfg->key || !cfg->ca)
		return snprintf(err, errlen, "tls=on needs a certificate, its key "
		                "and the CA (tls_cert, tls_key, tls_ca)"), -EINVAL;
	EVP_PKEY *key = NULL;
	int rc = read_key(cfg->key, &key, err, errlen);
	if (rc)
		return rc;
	struct mjl_tls *t = calloc(1, sizeof(*t));
	if (!t) {
		EVP_PKEY_free(key);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	t->acceptor = acceptor;
	t->ctx = SSL_CTX_new(acceptor ? TLS_server_method() : TLS_client_method());
	t->bio = bio_method();
	if (!t->ctx || !t->bio ||
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		ssl_error("cannot set up TLS", err, errlen);
		rc = -ENOMEM;
	}
	if (!rc)
		rc = load_files(t->ctx, cfg, key, err, errlen);
	EVP_PKEY_free(key); /* the context holds its own reference */
	if (rc) {
		mjl_tls_free(t);
		return rc;
	}
	/* Both sides must show a certificate of the CA. Links are long-lived:
	 * no session resumption, so no tickets after the handshake. */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
	                   (acceptor ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	if (acceptor)
		SSL_CTX_set_num_tickets(t->ctx, 0);
	*out = t;
	return 0;
}

void mjl_tls_free(struct mjl_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->bio);
	free(t);
}

/* ---- connections ---- */

/* Why the handshake on ssl failed: the peer's certificate, or no TLS. */
static int handshake_error(SSL *ssl, int ret, const char *who)
{
	int sys = errno;
	long v = SSL_get_verify_result(ssl);
	int e = SSL_get_error(ssl, ret);
	if (v != X509_V_OK) {
		ERR_clear_error();
		snprintf(tls_why, sizeof(tls_why), "TLS: the %s's certificate is "
		         "not trusted: %s", who, X509_verify_cert_error_string(v));
		return -MJL_EAUTH;
	}
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
	    (e == SSL_ERROR_SYSCALL && sys == ETIMEDOUT)) {
		ERR_clear_error();
		snprintf(tls_why, sizeof(tls_why), "TLS handshake timed out");
		return -ETIMEDOUT;
	}
	if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
		snprintf(tls_why, sizeof(tls_why), "TLS handshake: the %s closed "
		         "the connection", who);
		return -ECONNRESET;
	}
	char what[64];
	snprintf(what, sizeof(what), "TLS handshake with the %s failed", who);
	ssl_error(what, tls_why, sizeof(tls_why));
	return -MJL_EPROTO;
}

/* The dialer checks the acceptor's name: the host of addr (IP or DNS). */
static int expect_name(SSL *ssl, const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, n);
	host[n] = '\0';
	char *h = host;
	if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
		h[n - 1] = '\0';
		h++;
	}
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, h, ip) == 1 || inet_pton(AF_INET6, h, ip) == 1;
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
	int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, h)
	               : (SSL_set_hostflags(ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT),
	                  SSL_set1_host(ssl, h) && SSL_set_tlsext_host_name(ssl, h));
	return ok == 1 ? 0 : -EINVAL;
}

static struct tls_conn *conn_new(struct mjl_tls *t, int fd)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	BIO *b = BIO_new(t->bio);
	if (!c || !b || !(c->ssl = SSL_new(t->ctx))) {
		free(c);
		BIO_free(b);
		return NULL;
	}
	BIO_set_fd(b, fd, BIO_NOCLOSE);
	BIO_set_app_data(b, &c->base);
	SSL_set_bio(c->ssl, b, b);
	c->base.t = &mjl_tls;
	c->base.fd = fd;
	return c;
}

static void conn_free(struct tls_conn *c)
{
	SSL_free(c->ssl);
	free(c);
}

static int tls_dial(void *ctx, const char *addr, int timeout_ms,
                    int io_timeout_ms, struct mjl_conn **out, const char **why)
{
	struct mjl_tls *t = ctx;
	int fd;
	/* The TLS handshake is part of the connect: both within timeout_ms,
	 * however slowly the peer trickles its bytes. */
	uint64_t deadline = mjl_now_ns() + (uint64_t)timeout_ms * 1000000;
	int rc = mjl_tcp_connect(addr, timeout_ms, timeout_ms, &fd, why);
	if (rc)
		return rc;
	struct tls_conn *c = conn_new(t, fd);
	if (!c)
		rc = -ENOMEM;
	else if (expect_name(c->ssl, addr))
		rc = -EINVAL, *why = "TLS: cannot check the mirror's name";
	if (c && !rc) {
		c->base.deadline_ns = deadline;
		if ((rc = SSL_connect(c->ssl)) != 1)
			rc = handshake_error(c->ssl, rc, "mirror"), *why = tls_why;
		else
			rc = mjl_tcp_options(fd, io_timeout_ms);
		c->base.deadline_ns = 0;
	}
	if (rc) {
		if (c)
			conn_free(c);
		close(fd);
		return rc;
	}
	*out = &c->base;
	return 0;
}

/*
 * A plaintext mojim peer (its first bytes are a frame's magic) is told in
 * its own language why it is refused, before the TLS handshake fails.
 */
static int refuse_plaintext(int fd)
{
	uint32_t magic = 0;
	ssize_t n = recv(fd, &magic, sizeof(magic), MSG_PEEK | MSG_WAITALL);
	if (n != (ssize_t)sizeof(magic) || magic != MJW_MAGIC)
		return 0;
	static const char why[] = "this mirror requires TLS (tls=on)";
	mjl_send_ctrl(fd, MJW_REFUSE, 0, MJW_REFUSE_AUTH, why, sizeof(why) - 1);
	mjl_fd_linger(fd, REFUSAL_LINGER_MS);
	snprintf(tls_why, sizeof(tls_why), "a plaintext peer: this mirror "
	         "requires TLS");
	return -MJL_EPROTO;
}

static int tls_accept(void *ctx, struct mjl_peer *p, int io_timeout_ms,
                      struct mjl_conn **out, const char **why)
{
	struct mjl_tls *t = ctx;
	int fd = p->fd;
	int rc = mjl_tcp_options(fd, io_timeout_ms);
	if (rc)
		return *why = "cannot set the connection's socket options", rc;
	if ((rc = refuse_plaintext(fd)))
		return *why = tls_why, rc;
	struct tls_conn *c = conn_new(t, fd);
	if (!c)
		return *why = "out of memory", -ENOMEM;
	if ((rc = SSL_accept(c->ssl)) != 1) {
		rc = handshake_error(c->ssl, rc, "peer");
		*why = tls_why;
		conn_free(c);
		/* With TLS 1.3 the peer's handshake is over before ours fails:
		 * its first frame may be on its way, and must not reset away the
		 * alert that says why. */
		mjl_fd_linger(fd, REFUSAL_LINGER_MS);
		return rc;
	}
	*out = &c->base;
	return 0;
}

/* A failed SSL call as a transport error: -EAGAIN on the socket's timeout,
 * -ECONNRESET when the peer went away, -EIO otherwise (with the reason in
 * c->err: with TLS 1.3 a peer that refuses our certificate says so only
 * now, in an alert, after our handshake has returned). */
static int io_error(struct tls_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	int sys = errno;
	c->err[0] = '\0';
	if (e == SSL_ERROR_SSL)
		ssl_error("TLS session failed", c->err, sizeof(c->err));
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e == SSL_ERROR_ZERO_RETURN)
		return -ECONNRESET;
	if (e == SSL_ERROR_SYSCALL)
		return sys && sys != EAGAIN ? -sys : -ECONNRESET;
	return -EIO;
}

static int tls_send(struct mjl_conn *base, const void *buf, size_t len)
{
	struct tls_conn *c = (struct tls_conn *)base;
	const unsigned char *p = buf;
	while (len > 0) {
		size_t n = 0;
		int ret = SSL_write_ex(c->ssl, p, len, &n);
		if (ret != 1)
			return io_error(c, ret);
		p += n;
		len -= n;
	}
	return 0;
}

static int tls_recv(struct mjl_conn *base, void *buf, size_t len)
{
	struct tls_conn *c = (struct tls_conn *)base;
	unsigned char *p = buf;
	while (len > 0) {
		size_t n = 0;
		int ret = SSL_read_ex(c->ssl, p, len, &n);
		if (ret != 1)
			return io_error(c, ret);
		p += n;
		len -= n;
	}
	return 0;
}

/* Bytes OpenSSL already decrypted are there at once; otherwise the socket. */
static int tls_wait(struct mjl_conn *base, int spin_us, int timeout_ms)
{
	struct tls_conn *c = (struct tls_conn *)base;
	if (SSL_pending(c->ssl) > 0)
		return 0;
	return mjl_fd_wait(base->fd, spin_us, timeout_ms);
}

static const char *tls_error(struct mjl_conn *base)
{
	struct tls_conn *c = (struct tls_conn *)base;
	return c->err[0] ? c->err : NULL;
}

static void tls_close(struct mjl_conn *base)
{
	struct tls_conn *c = (struct tls_conn *)base;
	int fd = base->fd;
	conn_free(c);
	close(fd);
}

const struct mjl_transport mjl_tls = {
	.name = "tls",
	.dial = tls_dial,
	.accept = tls_accept,
	.send = tls_send,
	.recv = tls_recv,
	.wait = tls_wait,
	.close = tls_close,
	.error = tls_error,
	MJL_SOCK_LISTENER,
};
