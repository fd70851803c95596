/*
 * bounce.h - read a non-delivery report: RFC 3464 delivery status
 * notifications, and the plain-text notices of qmail, Exim, Gmail, Yahoo,
 * Exchange and others, recognised by their structure and wording. Each
 * failed recipient gets a reason and, from it, hard or soft: an address
 * that does not exist, a domain that does not, an account disabled or
 * moved is hard; a full mailbox, a too-large message, a delay, a block
 * or a rate limit is soft, whatever the status class says.
 */
#ifndef CANDOR_BOUNCE_H
#define CANDOR_BOUNCE_H

#include <stddef.h>

struct cd_inmail;

#define CD_BOUNCE_MAX 16

struct cd_bounce_rcpt {
	char addr[256];     /* "" when the report names nobody usable */
	char status[16];    /* "5.1.1", "" if none */
	const char *reason; /* "user_unknown", "mailbox_full", ... */
	int hard;
	char diag[200];     /* the server's words, one line */
};

struct cd_bounce {
	struct cd_bounce_rcpt r[CD_BOUNCE_MAX];
	size_t n;
};

/* Is M a non-delivery report? If so, fill B (n may be 0 when no failed
 * recipient could be read) and return 1; else 0. A DSN that only says
 * "delivered" is not one. */
int cd_bounce_read(const struct cd_inmail *m, struct cd_bounce *b);

#endif
