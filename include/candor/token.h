/*
 * token.h - the per-message token: an HMAC-SHA256 of the order, the
 * campaign and the kind of mail under the store's secret, cut to 128 bits
 * and written as 32 lower-case hex digits. It goes in the Reply-To
 * address, the Message-ID and the unsubscribe and click URLs; nobody
 * without the secret can make one that names another order. compose
 * makes it, track and web check it, so it lives here upstream of all.
 */
#ifndef CANDOR_TOKEN_H
#define CANDOR_TOKEN_H

#include <stddef.h>

/* Characters of a token, without the NUL. */
#define CD_TOKEN_LEN 32

/* The token of ORDER_ID, CAMPAIGN and KIND ("request" or "reminder")
 * under SECRET, into OUT (CD_TOKEN_LEN + 1 bytes). */
void cd_token_make(const unsigned char secret[32], const char *order_id,
		   const char *campaign, const char *kind, char out[CD_TOKEN_LEN + 1]);

/* Is S (LEN bytes, not necessarily NUL-terminated) shaped like a token:
 * exactly CD_TOKEN_LEN lower-case hex digits? */
int cd_token_syntax_ok(const char *s, size_t len);

/* Do A and B (LEN bytes each) hold the same bytes? Takes the same time
 * wherever they differ, so a forger learns nothing from the clock. */
int cd_token_equal(const void *a, const void *b, size_t len);

/* Does TOKEN belong to ORDER_ID, CAMPAIGN and KIND under SECRET?
 * Compared in constant time. */
int cd_token_verify(const unsigned char secret[32], const char *token,
		    const char *order_id, const char *campaign, const char *kind);

#endif
