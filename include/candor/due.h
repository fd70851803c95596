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
#include "candor/store_due.h"

struct cd_campaign;
struct cd_store;

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

/* Read order ORDER_ID as a due order of CP and kind K would be read,
 * whether or not it is due (for previews). Returns 0, CD_ENOTFOUND,
 * CD_ENOMEM or CD_ESTORE. */
int cd_due_load_order(struct cd_store *st, const char *order_id,
		      const struct cd_campaign *cp, enum cd_due_kind k,
		      struct cd_due_order *out, struct cd_error *err);

/* Free an order's strings and zero it. */
void cd_due_order_clear(struct cd_due_order *o);

#endif
