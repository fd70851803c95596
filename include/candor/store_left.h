/*
 * store_left.h - inbox mails left for a human. The tracker acts on a
 * mail only through a token of ours; whatever it cannot act on stays in
 * the mailbox unmarked, and is recorded here with the reason, so that
 * "candorctl status" counts it and "candorctl inbox" lists it: above
 * all, a customer's request to stop that carries no token we can verify
 * (written to the shop's plain address, or forwarded) is never silently
 * dropped.
 *
 * The rows live in the replies table (schema 3) with no message and a
 * kind naming the reason, so the schema does not change.
 */
#ifndef CANDOR_STORE_LEFT_H
#define CANDOR_STORE_LEFT_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_store;

enum cd_inbox_reason {
	CD_INBOX_UNVERIFIED_UNSUBSCRIBE, /* asks to stop, no valid token */
	CD_INBOX_UNVERIFIED_COMPLAINT,   /* an abuse report, no valid token */
	CD_INBOX_UNMATCHED,              /* a reply, auto-reply or bounce to none of ours */
	CD_INBOX_NOT_OURS,               /* not an answer to a mail of ours */
	CD_INBOX_NREASONS
};

struct cd_inbox_mail {
	int64_t id;
	enum cd_inbox_reason reason;
	const char *sender, *subject, *body; /* borrowed: valid during the callback */
	int64_t received;
	int suppressed;                      /* the sender is suppressed now */
};

/* The reason as stored in replies.kind ("unverified_unsubscribe"), and
 * as a human reads it. */
const char *cd_store_inbox_reason_name(enum cd_inbox_reason r);
const char *cd_store_inbox_reason_text(enum cd_inbox_reason r);
/* CD_INBOX_NREASONS for a name that is none. */
enum cd_inbox_reason cd_store_inbox_reason_parse(const char *name);

/* Record a mail left for a human: SENDER (may be ""), SUBJECT, the first
 * 64 KB of BODY (cut on a character boundary), at AT. Returns 0 or
 * CD_ESTORE with ERR set. */
int cd_store_inbox_leave(struct cd_store *st, enum cd_inbox_reason reason, const char *sender,
			 const char *subject, const char *body, int64_t at, struct cd_error *err);

/* Mails left, by reason, into COUNTS[CD_INBOX_NREASONS]; *WAITING (may be
 * NULL) gets the unverified requests to stop whose sender is not
 * suppressed yet. Returns 0 or CD_ESTORE. */
int cd_store_inbox_count(struct cd_store *st, int64_t *counts, int64_t *waiting,
			 struct cd_error *err);

/* FN for each mail left, newest first, at most LIMIT (0: all), only those
 * of REASON unless it is CD_INBOX_NREASONS. FN returning non-zero stops
 * the walk. Returns 0 or CD_ESTORE. */
int cd_store_inbox_list(struct cd_store *st, enum cd_inbox_reason reason, int64_t limit,
			int (*fn)(void *arg, const struct cd_inbox_mail *m), void *arg,
			struct cd_error *err);

#endif
