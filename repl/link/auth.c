/*
 * auth.c: the cluster key and the handshake's MACs (mojim_link.h tells
 * the exchange). OpenSSL's libcrypto does the HMAC-SHA256, the random
 * nonces and the base64; nothing here is hand-made crypto.
 */
#include "mojim_link.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_MAX 4096 /* bytes of text */

static int key_err(char *err, size_t errlen, int rc, const char *path,
                   const char *why)
{
	snprintf(err, errlen, "key file %s: %s", path, why);
	return rc;
}

/* Reads the whole file into text (NUL-terminated); the file must be
 * regular and private to its owner. */
static int read_private(const char *path, char *text, char *err,
                        size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return key_err(err, errlen, -errno, path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st))
		rc = key_err(err, errlen, -errno, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = key_err(err, errlen, -EINVAL, path, "not a regular file");
	else if (st.st_mode & 077)
		rc = key_err(err, errlen, -EACCES, path, "group or others may "
		             "access it (chmod 600 it)");
	else if (st.st_size > KEYFILE_MAX)
		rc = key_err(err, errlen, -EINVAL, path, "longer than 4096 bytes");
	ssize_t n = rc ? 0 : read(fd, text, KEYFILE_MAX);
	if (n < 0)
		rc = key_err(err, errlen, -errno, path, strerror(errno));
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return rc;
}

/* Keeps the base64 characters of text, refusing anything else. */
static int strip_base64(char *text, size_t *len)
{
	size_t out = 0;
	for (char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
		      ch == '='))
			return -1;
		text[out++] = (char)ch;
	}
	text[out] = '\0';
	*len = out;
	return 0;
}

int mjl_key_load(const char *path, struct mjl_key *key, char *err,
                 size_t errlen)
{
	char text[KEYFILE_MAX + 1];
	unsigned char raw[KEYFILE_MAX];
	size_t len;
	key->len = 0;
	int rc = read_private(path, text, err, errlen);
	if (rc)
		return rc;
	if (strip_base64(text, &len))
		return key_err(err, errlen, -EINVAL, path, "not base64 text");
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int n1 = 0, n2 = 0;
	if (!ctx)
		return key_err(err, errlen, -ENOMEM, path, "out of memory");
	EVP_DecodeInit(ctx);
	int ok = EVP_DecodeUpdate(ctx, raw, &n1, (unsigned char *)text,
	                          (int)len) >= 0 &&
	         EVP_DecodeFinal(ctx, raw + n1, &n2) == 1;
	EVP_ENCODE_CTX_free(ctx);
	size_t n = (size_t)n1 + (size_t)n2;
	if (!ok)
		rc = key_err(err, errlen, -EINVAL, path, "not valid base64");
	else if (n < MJL_KEY_MIN)
		rc = key_err(err, errlen, -EINVAL, path, "shorter than 16 bytes "
		             "decoded (make one: head -c 32 /dev/urandom | base64)");
	else if (n > MJL_KEY_MAX)
		rc = key_err(err, errlen, -EINVAL, path, "longer than 768 bytes "
		             "decoded");
	if (!rc) {
		memcpy(key->bytes, raw, n);
		key->len = n;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int mjl_nonce(unsigned char out[MJW_NONCE_SIZE])
{
	return RAND_bytes(out, (int)MJW_NONCE_SIZE) == 1 ? 0 : -EIO;
}

struct part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256 under s->key of the role, the nonces, the HELLO and its
 * epoch, then the extra parts. A failing libcrypto gives an all-zero MAC,
 * which no peer's check accepts (mjl_mac_equal refuses zero). */
static void mac(const struct mjl_session *s, const char *role,
                const struct part *extra, int nextra,
                unsigned char out[MJW_MAC_SIZE])
{
	memset(out, 0, MJW_MAC_SIZE);
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		                                 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	int ok = ctx && EVP_MAC_init(ctx, s->key->bytes, s->key->len, params) &&
	         EVP_MAC_update(ctx, (const unsigned char *)role,
	                        strlen(role) + 1) &&
	         EVP_MAC_update(ctx, s->nd, MJW_NONCE_SIZE) &&
	         EVP_MAC_update(ctx, s->na, MJW_NONCE_SIZE) &&
	         EVP_MAC_update(ctx, (const unsigned char *)&s->hello,
	                        sizeof(s->hello)) &&
	         EVP_MAC_update(ctx, (const unsigned char *)&s->epoch,
	                        sizeof(s->epoch));
	for (int i = 0; ok && i < nextra; i++)
		ok = EVP_MAC_update(ctx, extra[i].p, extra[i].len);
	unsigned char full[EVP_MAX_MD_SIZE];
	if (ok && EVP_MAC_final(ctx, full, &outl, sizeof(full)) &&
	    outl >= MJW_MAC_SIZE)
		memcpy(out, full, MJW_MAC_SIZE);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
}

void mjl_mac_dialer(const struct mjl_session *s, unsigned char out[MJW_MAC_SIZE])
{
	mac(s, "mojim dialer", NULL, 0, out);
}

void mjl_mac_acceptor(const struct mjl_session *s,
                      const struct mjw_hello_ack *ack,
                      unsigned char out[MJW_MAC_SIZE])
{
	struct mjw_hello_ack a = *ack;
	memset(a.mac, 0, sizeof(a.mac));
	struct part p = {&a, sizeof(a)};
	mac(s, "mojim acceptor", &p, 1, out);
}

void mjl_mac_refusal(const struct mjl_session *s, uint64_t code,
                     const char *reason, size_t reason_len,
                     unsigned char out[MJW_MAC_SIZE])
{
	struct part p[] = {{&code, sizeof(code)}, {reason, reason_len}};
	mac(s, "mojim refusal", p, 2, out);
}

int mjl_mac_equal(const unsigned char *a, const unsigned char *b)
{
	static const unsigned char zero[MJW_MAC_SIZE];
	return CRYPTO_memcmp(a, b, MJW_MAC_SIZE) == 0 &&
	       CRYPTO_memcmp(a, zero, MJW_MAC_SIZE) != 0;
}
