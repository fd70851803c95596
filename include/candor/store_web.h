/*
 * store_web.h - the store verbs of the web endpoint (src/web/): find the
 * message a token names, unsubscribe its recipient (suppression and
 * event in one transaction, idempotent), undo that within a window,
 * record a click once per message, and the counts /metrics shows.
 *
 * All memory belongs to the caller; strings in struct cd_web_message are
 * copies, cut to their fields' sizes.
 */
#ifndef CANDOR_STORE_WEB_H
#define CANDOR_STORE_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"
#include "candor/store.h"

struct cd_web_message {
	int64_t id;
	char order_id[256], campaign[128], kind[16];
	char recipient[320];
	char channel[64], locale[64];   /* of the order; "" when unknown */
	char *items;                    /* the order's items JSON, or NULL */
	char supp_reason[32];           /* the address's suppression, "" none */
	int64_t supp_at;
};

/* Find the message whose token is TOKEN into M. Returns 0, CD_ENOTFOUND
 * or CD_ESTORE (ERR set). M is cleared first and must be cleared with
 * cd_store_web_message_clear() after a 0. */
int cd_store_web_find(struct cd_store *st, const char *token, struct cd_web_message *m,
		      struct cd_error *err);
void cd_store_web_message_clear(struct cd_web_message *m);

/* Suppress M's recipient for "unsubscribed" (an address already
 * suppressed keeps its first reason) and record the event "unsubscribed"
 * with DETAIL on M, unless it is already recorded and not undone since:
 * one transaction, so a repeated request changes nothing. *FRESH says
 * whether the event was new. Returns 0 or CD_ESTORE. */
int cd_store_web_unsubscribe(struct cd_store *st, const struct cd_web_message *m,
			     const char *detail, int64_t now, int *fresh, struct cd_error *err);

/* Lift M's recipient's "unsubscribed" suppression if it was made at or
 * after SINCE, and record "resubscribed" on M; the recipient's orders are
 * looked at again by the scheduler. Returns 0, CD_ENOTFOUND (no such
 * suppression, or older than SINCE) or CD_ESTORE. */
int cd_store_web_undo(struct cd_store *st, const struct cd_web_message *m, int64_t since,
		      int64_t now, struct cd_error *err);

/* Record the event "clicked" (DETAIL: which link) on M unless one is
 * there. *FIRST says whether this was the first. 0 or CD_ESTORE. */
int cd_store_web_click(struct cd_store *st, const struct cd_web_message *m, const char *detail,
		       int64_t now, int *first, struct cd_error *err);

/* One named figure (a held reason, a meta mark). */
struct cd_web_figure {
	char *name;
	char *value;        /* meta marks: as stored */
	int64_t n;          /* held reasons: messages */
};

struct cd_web_counts {
	int64_t states[CD_MSG_NSTATES];  /* messages by state */
	int64_t sends;                   /* messages handed to a server */
	int64_t suppressed;              /* suppressed addresses */
	struct cd_web_figure *held;      /* held messages by reason */
	size_t nheld;
	/* meta "last_ok:WHAT" (Unix seconds of the last success of WHAT)
	 * and "metric:NAME" (figures the daemon leaves for /metrics) */
	struct cd_web_figure *marks;
	size_t nmarks;
};

/* Fill C for /metrics. Returns 0, CD_ENOMEM or CD_ESTORE; free C with
 * cd_store_web_counts_free() either way. */
int cd_store_web_counts(struct cd_store *st, struct cd_web_counts *c, struct cd_error *err);
void cd_store_web_counts_free(struct cd_web_counts *c);

/* Does the database answer? 0 or CD_ESTORE. */
int cd_store_web_ping(struct cd_store *st, struct cd_error *err);

#endif
