/*
 * accept.c: the acceptor's side of the handshake's authentication
 * (mojim_link.h): CHALLENGE, the dialer's AUTH, and refusals that an
 * authenticated dialer can trust. Nothing here changes the acceptor's
 * state: admission comes after, in the acceptor's own code.
 */
#include "mojim_link.h"

#include <errno.h>
#include <string.h>

/* Reads the AUTH frame from c into frame; 0 or -MJL_EPROTO / -errno. */
static int read_auth(struct mjl_conn *c, unsigned char *frame, const char **why)
{
	struct mjw_hdr h;
	int rc = mjl_conn_recv(c, &h, sizeof(h));
	if (rc)
		return rc;
	if (mjw_check_hdr(&h, MJW_OVERHEAD + MJW_CTRL_BODY_MAX, why))
		return -MJL_EPROTO;
	if (h.type != MJW_AUTH || h.len != MJW_OVERHEAD + MJW_MAC_SIZE) {
		*why = "the keyed handshake wants AUTH after CHALLENGE";
		return -MJL_EPROTO;
	}
	memcpy(frame, &h, sizeof(h));
	rc = mjl_conn_recv(c, frame + MJW_HDR_SIZE, (size_t)(h.len - MJW_HDR_SIZE));
	if (rc)
		return rc;
	return mjw_check_frame(frame, h.len, why) ? -MJL_EPROTO : 0;
}

int mjl_accept_auth(struct mjl_conn *c, const struct mjl_key *key, uint64_t epoch,
                    const struct mjw_hello *hello, struct mjl_session *s,
                    const char **why)
{
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->hello = *hello;
	s->epoch = epoch;
	memcpy(s->nd, hello->nonce, MJW_NONCE_SIZE);
	int have = key && key->len > 0;
	int peer_keyed = (hello->flags & MJW_HELLO_F_KEYED) != 0;
	if ((hello->flags & ~(MJW_HELLO_F_KEYED | MJW_HELLO_F_FORWARDER |
	                      MJW_HELLO_F_PLACE)) ||
	    hello->reserved) {
		*why = "HELLO with unknown flags";
		return -MJL_EPROTO;
	}
	if (!have && peer_keyed) {
		*why = "the primary holds a cluster key and this mirror has none "
		       "(start it with --keyfile)";
		return -MJL_EAUTH;
	}
	if (have && !peer_keyed) {
		*why = "this mirror requires the cluster key (keyfile=)";
		return -MJL_EAUTH;
	}
	if (!have)
		return 0;
	if (mjl_nonce(s->na)) {
		*why = "no random bytes for a nonce";
		return -EIO;
	}
	int rc = mjl_conn_send_ctrl(c, MJW_CHALLENGE, epoch, 0, NULL, s->na,
	                            MJW_NONCE_SIZE);
	unsigned char frame[MJW_OVERHEAD + MJW_CTRL_BODY_MAX];
	if (!rc)
		rc = read_auth(c, frame, why);
	if (rc)
		return rc;
	unsigned char want[MJW_MAC_SIZE];
	mjl_mac_dialer(s, want);
	if (!mjl_mac_equal(frame + MJW_HDR_SIZE, want)) {
		*why = "the primary's proof of the cluster key does not match "
		       "(another key, or a replayed handshake)";
		return -MJL_EAUTH;
	}
	return 0;
}

int mjl_send_refuse(struct mjl_conn *c, const struct mjl_session *s, int authenticated,
                    uint64_t code, const char *reason)
{
	size_t len = strlen(reason);
	if (len > MJW_CTRL_BODY_MAX - MJW_MAC_SIZE)
		len = MJW_CTRL_BODY_MAX - MJW_MAC_SIZE;
	if (!s || !s->key || !s->key->len || !authenticated)
		return mjl_conn_send_ctrl(c, MJW_REFUSE, s ? s->epoch : 0, code, NULL,
		                          reason, (uint32_t)len);
	unsigned char mac[MJW_MAC_SIZE];
	mjl_mac_refusal(s, code, reason, len, mac);
	return mjl_conn_send_ctrl(c, MJW_REFUSE, s->epoch, code, mac, reason,
	                          (uint32_t)len);
}
