/*
 * store_inbox.h - what the inbox brings, in the store: mails seen once,
 * the message a mail answers, events on it, replies kept for support,
 * and the suppressions they lead to.
 *
 * Strings passed in are borrowed for the call. Verbs that only return
 * CD_ESTORE leave the reason with the store: cd_store_fail() reads it,
 * so a caller that rolls back must call that first. The tracker runs a
 * mail's verbs in one cd_store_begin()/cd_store_commit().
 */
#ifndef CANDOR_STORE_INBOX_H
#define CANDOR_STORE_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_store;

/* One of our messages, as the tracker needs it. */
struct cd_sent_message {
	int64_t id;
	char order_id[256];
	char recipient[256];
};

/* What a reply said, kept for support to read. */
struct cd_reply {
	int64_t message;            /* the message it answers */
	const char *order_id;
	const char *kind;           /* "reply" */
	const char *sender, *subject;
	const char *body;
	size_t body_len;            /* bytes of BODY kept */
	int64_t received;
};

/* A suppressed address, as listed. Borrowed for the callback. */
struct cd_suppression {
	const char *email, *reason;
	const char *detail;         /* NULL: none */
	int64_t at;
};

/* Mark the inbox mail KEY (its Message-ID or a hash, see track.h) of
 * KIND seen at AT. *FRESH is 1 the first time, 0 after. Returns 0 or
 * CD_ESTORE. */
int cd_store_inbox_seen(struct cd_store *st, const char *key, const char *kind, int64_t at,
			int *fresh);

/* The message whose token is TOKEN. 1 found (into *M), 0 not, CD_ESTORE. */
int cd_store_message_by_token(struct cd_store *st, const char *token,
			      struct cd_sent_message *m);

/* The newest message sent, or being sent, to ADDR (compared without
 * case): for mails that carry no token of ours. 1, 0 or CD_ESTORE. */
int cd_store_message_last_to(struct cd_store *st, const char *addr,
			     struct cd_sent_message *m);

/* An event of KIND ("bounced", "replied", …) on MESSAGE of ORDER_ID at
 * AT; DETAIL may be NULL. Returns 0 or CD_ESTORE. */
int cd_store_event_add(struct cd_store *st, int64_t message, const char *order_id,
		       const char *kind, const char *detail, int64_t at);

/* Keep R. Returns 0 or CD_ESTORE. */
int cd_store_reply_add(struct cd_store *st, const struct cd_reply *r);

/* Suppress EMAIL for REASON (as cd_store_suppress) unless it already is:
 * the first reason stays. *ADDED says whether this call suppressed it.
 * Returns 0, CD_EINVAL (bad reason) or CD_ESTORE. */
int cd_store_suppress_first(struct cd_store *st, const char *email, const char *reason,
			    const char *detail, int64_t at, int *added);

/* Soft bounces of mail to ADDR (without case) since the last reply or
 * auto-reply from it: a sign of life starts the count again. Returns the
 * count, or CD_ESTORE. */
int64_t cd_store_soft_bounces_in_a_row(struct cd_store *st, const char *addr);

/* Call FN for each suppression, oldest first (then by address); FN
 * returns 0 to go on. Returns 0, what FN returned, or CD_ESTORE. */
int cd_store_suppressions(struct cd_store *st,
			  int (*fn)(void *arg, const struct cd_suppression *s), void *arg);

#endif
