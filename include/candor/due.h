/*
 * due.h - which orders are due for a campaign, at the cost of what is
 * due rather than of what is stored. A pass reads only the candidates:
 * orders whose trigger crossed the delay since the last complete pass,
 * orders written since (order_changes), and orders that were waiting for
 * their send window or a cap. The full rules then apply to those.
 *
 * This is the scheduler's side: the rules (kinds, wait times, expiry,
 * when a position may be trusted) around the store's verbs
 * (store_due.h), which hold the queries.
 *
 * Strings in a struct cd_due_order belong to it until cd_due_order_clear.
 */
#ifndef CANDOR_DUE_H
#define CANDOR_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"
#include "candor/ratelimit.h"
#include "candor/store_due.h"

struct cd_campaign;
struct cd_config;
struct cd_store;

/* Whether one order is due now, and if not, which rule stops it. */
enum cd_due_stop {
	CD_DUE_NOW,          /* due now (it may still wait: cd_due_must_wait) */
	CD_DUE_LATER,        /* not yet: due at cd_due_verdict.when */
	CD_DUE_EXCLUDED,     /* its status: returned, refunded or cancelled */
	CD_DUE_SUPPRESSED,   /* its address is suppressed */
	CD_DUE_DONE,         /* the campaign's message (or reminder) exists */
	CD_DUE_FEEDBACK,     /* the customer left feedback */
	CD_DUE_ANSWERED,     /* reminders: the request was answered or bounced */
	CD_DUE_NO_REMINDER,  /* reminders: the channel gets none */
	CD_DUE_NO_BASE,      /* no trigger date, sent request or low rating */
	CD_DUE_EXPIRED,      /* past the campaign's expire */
	CD_DUE_OTHER         /* not due, and no single rule says why */
};

struct cd_due_verdict {
	enum cd_due_stop stop;
	int64_t when;        /* CD_DUE_LATER: when it becomes due */
	char status[32];     /* the order's status */
};

/* The kind's name for logs and the sender ("request", "reminder"; an
 * apology is its campaign's request). Static. */
const char *cd_due_kind_name(enum cd_due_kind k);

/* How long after its base time an order of kind K becomes due. */
int64_t cd_due_wait(const struct cd_campaign *cp, enum cd_due_kind k);

/* Load the position of CP's passes of kind K. For reminders,
 * NO_REMINDER (NNO channel names, borrowed until the pass ends; NULL
 * when unknown) keeps reminders from those channels' orders. With no
 * position, one made under other rules (a changed delay or channel list)
 * or one ahead of NOW (the clock went back), the pass reads the whole
 * range once. */
void cd_due_load_scan(struct cd_store *st, const struct cd_campaign *cp,
		      enum cd_due_kind k, int64_t now, const char *const *no_reminder,
		      size_t nno, struct cd_due_scan *sc);

/* After a pass that saw everything: move the position on and forget
 * waiting orders it no longer saw. Returns 0 or CD_ESTORE. */
int cd_due_save_scan(struct cd_store *st, const struct cd_campaign *cp,
		     enum cd_due_kind k, int64_t now, const struct cd_due_scan *sc,
		     struct cd_error *err);

/* Note that ORDER_ID is due but must wait. Returns 0 or CD_ESTORE. */
int cd_due_remember_waiting(struct cd_store *st, const struct cd_campaign *cp,
			    enum cd_due_kind k, const char *order_id, int64_t now);

/* Read the next batch (at most CD_DUE_BATCH) into OUT; *MORE says whether
 * another follows. Returns 0, CD_ENOMEM or CD_ESTORE. */
int cd_due_next_batch(struct cd_store *st, const struct cd_campaign *cp,
		      enum cd_due_kind k, int64_t now, const struct cd_due_scan *sc,
		      struct cd_due_page *pg, struct cd_due_order *out, size_t *n,
		      int *more, struct cd_error *err);

/* Is order ORDER_ID due for CP and kind K at NOW, by the daemon's own
 * query (NO_REMINDER as for cd_due_load_scan)? If not, which of its
 * rules says no, into V. Returns 0, CD_ENOTFOUND, CD_ENOMEM or
 * CD_ESTORE. */
int cd_due_explain(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		   int64_t now, const char *order_id, const char *const *no_reminder, size_t nno,
		   struct cd_due_verdict *v, struct cd_error *err);

/* The rule S in words, for kind K. Static. */
const char *cd_due_stop_text(enum cd_due_stop s, enum cd_due_kind k);

/* Does S stop the order for good (not now, not later)? */
int cd_due_stop_final(enum cd_due_stop s);

/* Must due order O wait at NOW: for the send window in the customer's
 * zone (CFG's window; *OPEN is when it opens, -1 none in 60 days), then
 * the per-customer cap and the domain rate (RL)? *W is CD_WAIT_NONE when
 * it may go now. Returns 0 or CD_ESTORE. */
int cd_due_must_wait(const struct cd_config *cfg, struct cd_ratelimit *rl,
		     const struct cd_due_order *o, int64_t now, int64_t *open,
		     enum cd_wait *w, struct cd_error *err);

/* Read order ORDER_ID as a due order of CP and kind K would be read,
 * whether or not it is due (for previews). Returns 0, CD_ENOTFOUND,
 * CD_ENOMEM or CD_ESTORE. */
int cd_due_load_order(struct cd_store *st, const char *order_id,
		      const struct cd_campaign *cp, enum cd_due_kind k,
		      struct cd_due_order *out, struct cd_error *err);

/* Free an order's strings and zero it. */
void cd_due_order_clear(struct cd_due_order *o);

#endif
