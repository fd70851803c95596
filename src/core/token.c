/*
 * token.c - see token.h. The HMAC input is exactly what compose has
 * always signed ("ORDER\nCAMPAIGN\nKIND", cut at 511 bytes), so tokens in
 * mails already sent stay valid.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

#include "candor/token.h"
#include "candor/util.h"

void cd_token_make(const unsigned char secret[32], const char *order_id,
		   const char *campaign, const char *kind, char out[CD_TOKEN_LEN + 1])
{
	unsigned char mac[32];
	char data[512];
	int n = snprintf(data, sizeof(data), "%s\n%s\n%s", order_id, campaign, kind);

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, 32, data,
			 (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1, mac);
	cd_util_hex(mac, CD_TOKEN_LEN / 2, out);
	cd_util_wipe(data, sizeof(data));
}

int cd_token_syntax_ok(const char *s, size_t len)
{
	if (!s || len != CD_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int cd_token_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

int cd_token_verify(const unsigned char secret[32], const char *token,
		    const char *order_id, const char *campaign, const char *kind)
{
	char want[CD_TOKEN_LEN + 1];
	int ok;

	if (!token || !cd_token_syntax_ok(token, strlen(token)))
		return 0;
	cd_token_make(secret, order_id, campaign, kind, want);
	ok = cd_token_equal(want, token, CD_TOKEN_LEN);
	cd_util_wipe(want, sizeof(want));
	return ok;
}
