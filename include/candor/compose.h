/*
 * compose.h - turn a rendered message into RFC 5322 bytes: UTF-8 text
 * and HTML as multipart/alternative, RFC 2047 subject and names, and the
 * headers that let replies and unsubscribes find their way back.
 *
 * Customer values never shape the header block: CR, LF and other control
 * characters in names and subjects become spaces, and an address that is
 * not a plain address is refused.
 */
#ifndef CANDOR_COMPOSE_H
#define CANDOR_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_mail {
	const char *from_name, *from_addr;
	const char *to_name, *to_addr;
	const char *reply_to;        /* address with the per-message token */
	const char *subject, *text, *html; /* html may be NULL */
	const char *message_id;      /* without angle brackets */
	const char *unsubscribe_mailto; /* address for List-Unsubscribe */
	const char *unsubscribe_url;    /* https URL for one-click, or NULL */
	int64_t date;                /* epoch seconds */
};

/* Compose M into *OUT (CRLF line ends, NUL-terminated) and its length.
 * Returns 0, CD_EINVAL (an address is unusable; ERR says which) or
 * CD_ENOMEM. */
int cd_compose(const struct cd_mail *m, char **out, size_t *len,
	       struct cd_error *err);

#endif
