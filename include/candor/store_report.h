/*
 * store_report.h - what reports and the experiment read from the store:
 * a campaign's counts per variant, what its apologies brought, the
 * comments of negative feedback, one order's history, and a campaign's
 * decided winner.
 *
 * Rows go to a callback, one at a time; their strings are borrowed until
 * the callback returns (NULL where the column is NULL). A callback
 * returns 0 to go on, anything else to stop, and the verb then returns
 * that. Otherwise verbs return 0 or CD_ESTORE, the reason left with the
 * store for cd_store_fail().
 */
#ifndef CANDOR_STORE_REPORT_H
#define CANDOR_STORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_feedback;
struct cd_order;
struct cd_store;

/* One variant of a campaign, over its request messages that were sent. */
struct cd_variant_counts {
	const char *variant;
	int64_t sent;
	int64_t bounced;            /* with a bounce event */
	int64_t replied, unsubscribed;
	/* of the mails not bounced: feedback received within the window
	 * after the mail, and of those, positive (rated 4 or 5) */
	int64_t feedback, positive;
	int64_t clicked;            /* of those, with a review link clicked */
};

/* One group of a campaign's sent messages: one kind, variant, locale and
 * day of sending, with the counts of cd_variant_counts. For a reminder,
 * feedback is what came after the reminder within the window. */
struct cd_message_group {
	const char *kind;           /* "request" or "reminder" */
	const char *variant;
	const char *locale;         /* the order's as written; NULL unknown */
	int64_t day;                /* UTC days since 1970-01-01 */
	int64_t first, last;        /* the earliest and latest sending */
	int64_t sent, bounced, replied, unsubscribed, feedback, positive, clicked;
};

/* What an apology campaign's sent messages brought within the window. */
struct cd_apology_counts {
	int64_t replied;
	int64_t feedback_after;     /* feedback left after the apology */
	int64_t rating_up;          /* rated higher than the feedback before it */
};

/* A message made for an order, as its history shows it. */
struct cd_message_record {
	int64_t id;
	const char *campaign, *variant, *kind, *state, *recipient;
	const char *message_id, *reason;
};

/* An event on one of an order's messages. */
struct cd_event_record {
	int64_t at, message;
	const char *kind, *detail;
};

/* FN for each variant of CAMPAIGN with request messages sent, made at or
 * after SINCE (0: all); feedback counts when received within WINDOW
 * seconds after the mail. Variants without such messages are not
 * called. */
int cd_store_variant_counts(struct cd_store *st, const char *campaign, int64_t since,
			    int64_t window,
			    int (*fn)(void *arg, const struct cd_variant_counts *c), void *arg);

/* FN for each group of CAMPAIGN's sent messages (requests and
 * reminders) made at or after SINCE and before UNTIL (0: no end);
 * feedback counts when received within WINDOW seconds after the mail.
 * Groups come in no particular order. */
int cd_store_campaign_groups(struct cd_store *st, const char *campaign, int64_t since,
			     int64_t until, int64_t window,
			     int (*fn)(void *arg, const struct cd_message_group *g), void *arg);

/* Into *OUT: what CAMPAIGN's request messages made since SINCE and
 * before UNTIL (0: no end) brought within WINDOW seconds. */
int cd_store_apology_counts(struct cd_store *st, const char *campaign, int64_t since,
			    int64_t until, int64_t window, struct cd_apology_counts *out);

/* FN with the comment (maybe NULL) of each feedback rated at most
 * MAX_RATING and received at or after SINCE and before UNTIL (0: no
 * end). */
int cd_store_negative_comments(struct cd_store *st, int max_rating, int64_t since,
			       int64_t until, int (*fn)(void *arg, const char *comment), void *arg);

/* One order's history: the order (CD_ENOTFOUND when there is none; its
 * unknown times are 0), its feedback by time received, its messages in
 * the order they were made, and their events by time. */
int cd_store_history_order(struct cd_store *st, const char *order_id,
			   int (*fn)(void *arg, const struct cd_order *o), void *arg);
int cd_store_history_feedback(struct cd_store *st, const char *order_id,
			      int (*fn)(void *arg, const struct cd_feedback *f), void *arg);
int cd_store_history_messages(struct cd_store *st, const char *order_id,
			      int (*fn)(void *arg, const struct cd_message_record *m), void *arg);
int cd_store_history_events(struct cd_store *st, const char *order_id,
			    int (*fn)(void *arg, const struct cd_event_record *e), void *arg);

/* CAMPAIGN's decided winner into WINNER (LEN bytes; "" and CD_ENOTFOUND
 * when none), and deciding it (VARIANT NULL forgets it). */
int cd_store_winner(struct cd_store *st, const char *campaign, char *winner, size_t len);
int cd_store_winner_set(struct cd_store *st, const char *campaign, const char *variant,
			struct cd_error *err);

/* Decide CAMPAIGN's winner as VARIANT unless a decision is stored
 * already (another daemon's, taken at the same moment): the first one
 * written stays, and WINNER (LEN bytes) gets the one that stands. 1
 * when VARIANT was written, 0 when another decision stands, or
 * CD_ESTORE. */
int cd_store_winner_decide(struct cd_store *st, const char *campaign, const char *variant,
			   char *winner, size_t len, struct cd_error *err);

/* When CAMPAIGN was last checked for a winner (CD_ENOTFOUND: never), and
 * noting a check at AT. */
int cd_store_winner_checked(struct cd_store *st, const char *campaign, int64_t *at);
int cd_store_winner_checked_set(struct cd_store *st, const char *campaign, int64_t at,
				struct cd_error *err);

#endif
