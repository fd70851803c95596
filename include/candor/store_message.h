/*
 * store_message.h - the store's verbs for outgoing messages: write the
 * row, move it through its states (enum cd_msg_state) with the outcome
 * of each attempt, find the deferred ones whose retry is due, count what
 * was sent for the caps and rates, and find what a crash left "sending".
 *
 * Strings passed in are borrowed for the call; what comes back belongs
 * to the caller unless marked borrowed. Each verb is atomic; a caller
 * may wrap several in cd_store_begin()/cd_store_commit().
 */
#ifndef CANDOR_STORE_MESSAGE_H
#define CANDOR_STORE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/store_due.h"
#include "candor/error.h"
#include "candor/store.h"

/* A message about to be made, in state "rendered". */
struct cd_msg_new {
	const char *order_id, *campaign, *variant;
	enum cd_due_kind kind;       /* an apology is stored as its campaign's request */
	const char *recipient;
	const char *message_id, *token, *subject;
	int64_t created;
	int64_t sent_at;             /* insert_sending: the stamp; 0 is CREATED */
};

/* A move to another state, and what the attempt brought. */
struct cd_msg_change {
	enum cd_msg_state state;
	const char *reason;          /* why (held, failed); NULL: none */
	const char *reply;           /* the server's reply; NULL keeps the one stored */
	int attempt;                 /* counts as a delivery attempt */
	int64_t next_attempt;        /* deferred: when to try again; 0 none */
	const void *mail;            /* deferred: the bytes to send again (LEN); */
	size_t len;                  /* NULL drops any kept */
};

/* A queued or deferred message whose (next) attempt is due. */
struct cd_msg_retry {
	int64_t id;
	enum cd_due_kind kind;       /* CD_DUE_REQUEST or CD_DUE_REMINDER */
	const char *order_id, *message_id, *recipient, *token; /* in STRINGS */
	char *mail;                  /* the kept bytes (LEN), malloc'd; NULL: none */
	size_t len;
	char *strings;
	/* the order's status when it is one that stops mail (returned,
	 * refunded, cancelled since the message was queued); "" otherwise */
	char order_stopped[16];
};

/* Write message M as "rendered"; *ID gets its id. Returns 0 or
 * CD_ESTORE (a second message for the same order, campaign and kind
 * included). */
int cd_store_message_insert(struct cd_store *st, const struct cd_msg_new *m, int64_t *id,
			    struct cd_error *err);

/* Write message M straight as "sending" (sent_at = M->sent_at, else
 * M->created), with its event - what the hand-off to a connection does,
 * inside the caller's transaction. *ID gets its id; on PostgreSQL 0 when
 * the order's message for M's campaign and kind is there already
 * (another daemon made it: nothing is written, nothing must be sent).
 * Returns 0 or CD_ESTORE. */
int cd_store_message_insert_sending(struct cd_store *st, const struct cd_msg_new *m,
				    int64_t *id, struct cd_error *err);

/* Move message ID as C says at NOW, with its event; one transaction.
 * Entering CD_MSG_SENDING stamps sent_at (the rates count from it);
 * going back to CD_MSG_QUEUED clears it.
 * Returns 0 or CD_ESTORE. */
int cd_store_message_change(struct cd_store *st, int64_t id, const struct cd_msg_change *c,
			    int64_t now, struct cd_error *err);

/* The plain move: STATE with REASON (may be NULL); a move to "sent" or
 * "failed" counts as an attempt. Returns 0 or CD_ESTORE. */
int cd_store_message_set_state(struct cd_store *st, int64_t id, enum cd_msg_state state,
			       const char *reason, int64_t now, struct cd_error *err);

/* Make queued or deferred message ID "sending" at NOW for another
 * attempt, with its event; one transaction. 1 when taken, 0 when it is
 * in another state now (another daemon took it), or CD_ESTORE. */
int cd_store_message_take(struct cd_store *st, int64_t id, int64_t now, struct cd_error *err);

/* When message ID was made and how many attempts it had. Returns 0,
 * CD_ENOTFOUND or CD_ESTORE (then both stay 0). */
int cd_store_message_attempts(struct cd_store *st, int64_t id, int64_t *created,
			      int64_t *attempts);

/* Up to MAX ids of messages to send again by NOW - queued ones (a stop
 * handed them back) and deferred ones - after id AFTER, in id order,
 * into IDS; *N how many. Returns 0 or CD_ESTORE. */
int cd_store_message_retries(struct cd_store *st, int64_t now, int64_t after, int64_t *ids,
			     size_t max, size_t *n, struct cd_error *err);

/* Read message ID for a retry into R: 1 when it is still queued or
 * deferred, 0 when it is not (R untouched), CD_ENOMEM or CD_ESTORE. */
int cd_store_message_retry(struct cd_store *st, int64_t id, struct cd_msg_retry *r,
			   struct cd_error *err);

/* Free R's strings and bytes and zero it. */
void cd_msg_retry_clear(struct cd_msg_retry *r);

/* The earliest next_attempt of a queued or deferred message; 0 when
 * none. */
int64_t cd_store_message_next_retry(struct cd_store *st);

/* Counts for the rates and caps; each returns the count or CD_ESTORE.
 * Messages made "sending" since SINCE (global rate, daily cap): */
int64_t cd_store_message_sent_since(struct cd_store *st, int64_t since, struct cd_error *err);
/* ... of those, to addresses at DOMAIN (compared without case): */
int64_t cd_store_message_domain_sent_since(struct cd_store *st, const char *domain,
					   int64_t since, struct cd_error *err);
/* Messages made for EMAIL (compared without case) since SINCE that were
 * not held or failed (the per-customer cap): */
int64_t cd_store_message_customer_count(struct cd_store *st, const char *email,
					int64_t since, struct cd_error *err);

/* Call EACH (order id, Message-ID; borrowed) for every message left
 * "sending", oldest first. Returns their number or CD_ESTORE. */
int64_t cd_store_message_interrupted(struct cd_store *st,
				     void (*each)(void *arg, const char *order_id,
						  const char *message_id),
				     void *arg, struct cd_error *err);

/* The same for the messages made "sending" after AFTER and up to UPTO
 * (sent_at) that are still "sending": with several daemons, those older
 * than the longest a transfer can take were left by one that died. */
int64_t cd_store_message_left_sending(struct cd_store *st, int64_t after, int64_t upto,
				      void (*each)(void *arg, const char *order_id,
						   const char *message_id),
				      void *arg, struct cd_error *err);

#endif
