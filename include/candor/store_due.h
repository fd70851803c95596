/*
 * store_due.h - the store's verbs for the scheduler: the "what is due"
 * queries, the scheduler's position (scan_state), the orders waiting for
 * their send window or a cap, the order_changes log, and the time the
 * next order becomes due. The rules that fill these verbs' parameters
 * (wait times, expiry, batching) are the scheduler's (due.h).
 *
 * Strings passed in are borrowed for the call. A struct cd_due_order
 * filled here owns its strings (one block; cd_due_order_clear frees it).
 */
#ifndef CANDOR_STORE_DUE_H
#define CANDOR_STORE_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/config.h"
#include "candor/order.h"
#include "candor/error.h"
#include "candor/store.h"

struct cd_store;

/* How many due orders one batch reads. */
#define CD_DUE_BATCH 1000

enum cd_due_kind {
	CD_DUE_REQUEST,   /* shipped / delivered campaigns */
	CD_DUE_REMINDER,  /* the one reminder of a request */
	CD_DUE_APOLOGY    /* negative_feedback campaigns */
};

struct cd_due_order {
	/* The order as the due queries read it: id, channel, first_name,
	 * name, email, locale, country, timezone, items, total, currency and
	 * purchased; customer_id, status, shipped and delivered stay empty
	 * (the queries filter on them but do not read them). */
	struct cd_order order;
	const char *variant; /* reminders: the request's variant */
	const char *comment; /* apologies: the feedback's comment */
	int64_t base;     /* the time the campaign counts from */
	int64_t key;      /* the candidate's id, for paging */
	int rating;       /* apologies: the feedback's rating */
	int64_t mails;    /* the customer's mails counting against the cap
			   * (since cd_due_scan.cap_since), as the batch began */
	char *strings;    /* one block holding every string above */
};

/* Where the last complete pass of one campaign and kind stopped. */
struct cd_due_scan {
	int64_t hwm;      /* base times up to here were all seen */
	int64_t mark;     /* changes up to here were all seen */
	int64_t new_mark; /* the change sequence as this pass starts */
	char rules[192];  /* the rules the position was made under */
	/* Reminders: the channels whose orders get none (borrowed from the
	 * caller of cd_due_load_scan); NULL when no compliance verdict is
	 * known, which leaves no channel out. */
	const char *const *no_reminder;
	size_t nno_reminder;
	int64_t cap_since; /* count each customer's mails since; 0 none */
};

struct cd_due_page {
	int64_t key;      /* the last candidate of the previous batch */
};

/* One "what is due" query: the candidates are what crossed the delay
 * since the last complete pass (a base time after HWM, up to TO), what
 * changed since (after MARK), and what waits; of those, what the rules
 * allow. */
struct cd_store_due_query {
	const char *campaign;
	enum cd_due_kind kind;
	enum cd_trigger trigger;   /* requests and reminders: which time counts */
	int max_rating;            /* apologies: ratings at or below */
	int64_t from, to;          /* the base time lies in [FROM, TO] */
	int64_t oldest;            /* reminders: the trigger no earlier than this */
	int64_t hwm, mark;         /* the position (struct cd_due_scan) */
	int64_t after;             /* the key after which this batch starts */
	int64_t cap_since;         /* count each customer's mails since; 0 none */
	/* reminders: the channels that get none (NULL or none: all get one) */
	const char *const *no_reminder;
	size_t nno_reminder;
	/* one order alone (previews): whatever the position, is it due? */
	const char *order_id;
};

/* The rules of the due queries taken one at a time for one order, so a
 * preview can say which one stops it. */
struct cd_due_facts {
	char status[32];     /* the order's status */
	int excluded;        /* its status is returned, refunded or cancelled */
	int suppressed;      /* its address is suppressed */
	int messaged;        /* requests, apologies: the campaign made one already;
			      * reminders: the reminder was made already */
	int feedback;        /* requests, reminders: the customer left feedback */
	int answered;        /* reminders: the request was replied to, bounced,
			      * unsubscribed from or complained about */
	int no_reminder;     /* reminders: the channel gets none */
	int has_base;        /* there is a time to count from (the trigger's
			      * date; the request's sending; a low rating) */
	int64_t base;
	int64_t trigger;     /* reminders: the trigger's date (0: none) */
};

/* The query of kind K for campaigns triggered by T into SQL (LEN >= 3072),
 * with the per-customer count column when CAP: the text
 * cd_store_due_batch runs, for tests that check its plan stays on the
 * candidates. SQLite's dialect. */
void cd_store_due_sql(enum cd_due_kind k, enum cd_trigger t, int cap, char *sql, size_t len);
/* The same in engine E's dialect. */
void cd_store_due_sql_for(enum cd_store_engine e, enum cd_due_kind k, enum cd_trigger t,
			  int cap, char *sql, size_t len);

/* Run Q: up to CD_DUE_BATCH due orders into OUT (room for CD_DUE_BATCH),
 * in key order; *MORE says whether more follow. With Q->order_id, that
 * order alone, if the rules say it is due in Q's range. The statement is kept
 * prepared: a quiet store costs more to prepare it than to run it.
 * Returns 0, CD_ENOMEM or CD_ESTORE; on failure OUT holds the N orders
 * read so far. */
int cd_store_due_batch(struct cd_store *st, const struct cd_store_due_query *q,
		       struct cd_due_order *out, size_t *n, int *more, struct cd_error *err);

/* The facts of order Q->order_id under Q's campaign, kind and rules
 * (Q->campaign, kind, trigger, max_rating, no_reminder). Returns 0,
 * CD_ENOTFOUND, CD_ENOMEM or CD_ESTORE. */
int cd_store_due_facts(struct cd_store *st, const struct cd_store_due_query *q,
		       struct cd_due_facts *f, struct cd_error *err);

/* Order ORDER_ID as a due order of CAMPAIGN and kind K reads it, whether
 * due or not (previews): apologies take its worst feedback, reminders
 * the request's variant. Returns 0, CD_ENOTFOUND, CD_ENOMEM or
 * CD_ESTORE. */
int cd_store_due_order(struct cd_store *st, const char *order_id, const char *campaign,
		       enum cd_due_kind k, struct cd_due_order *out, struct cd_error *err);

/* The newest change a pass of kind K could see: the last feedback for
 * apologies, else the last order_changes entry; 0 when none. */
int64_t cd_store_due_change_mark(struct cd_store *st, enum cd_due_kind k);

/* The position of CAMPAIGN's passes of kind K, if it was saved under
 * RULES and the same NO_REMINDER list (NNO names; NULL: no list): 1 and
 * *HWM, *MARK filled; 0 when there is none such; CD_ESTORE. */
int cd_store_due_position(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			  const char *rules, const char *const *no_reminder, size_t nno,
			  int64_t *hwm, int64_t *mark);

/* Save the position (HWM, MARK) under RULES and NO_REMINDER, and forget
 * the waiting orders of CAMPAIGN and K last seen before NOW. Returns 0
 * or CD_ESTORE. */
int cd_store_due_save_position(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			       const char *rules, const char *const *no_reminder, size_t nno,
			       int64_t hwm, int64_t mark, int64_t now, struct cd_error *err);

/* ORDER_ID is due for CAMPAIGN and K but waits (send window, cap);
 * seen at NOW. Returns 0 or CD_ESTORE. */
int cd_store_due_remember_waiting(struct cd_store *st, const char *campaign,
				  enum cd_due_kind k, const char *order_id, int64_t now,
				  struct cd_error *err);

/* Every pass has read the order_changes log before BEFORE: drop those
 * entries. Returns 0 or CD_ESTORE. */
int cd_store_due_forget_changes(struct cd_store *st, int64_t before, struct cd_error *err);

/* The earliest trigger time of campaigns triggered by T that is later
 * than AFTER (an indexed MIN): 1 and *FIRST, 0 when there is none,
 * CD_ESTORE. */
int cd_store_due_first_after(struct cd_store *st, enum cd_trigger t, int64_t after,
			     int64_t *first);

/* One read snapshot for several queries (a plan that writes nothing),
 * instead of a lock per query; end it with cd_store_due_snapshot_end.
 * Returns 0 or CD_ESTORE. */
int cd_store_due_snapshot(struct cd_store *st, struct cd_error *err);
void cd_store_due_snapshot_end(struct cd_store *st);

#endif
