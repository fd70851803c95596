/*
 * due.c - which orders are due, at the cost of what is due: the rules of
 * each campaign kind (wait times, expiry, when a saved position may be
 * trusted) around the store's queries (store_due.c), which let a pass
 * skip what earlier passes already saw.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/due.h"
#include "candor/ratelimit.h"
#include "candor/schedule.h"
#include "candor/store_due.h"

const char *cd_due_kind_name(enum cd_due_kind k)
{
	/* an apology is its campaign's request */
	return k == CD_DUE_REMINDER ? "reminder" : "request";
}

void cd_due_order_clear(struct cd_due_order *o)
{
	free(o->strings);
	memset(o, 0, sizeof(*o));
}

int64_t cd_due_wait(const struct cd_campaign *cp, enum cd_due_kind k)
{
	return k == CD_DUE_REMINDER ? cp->reminder : cp->delay;
}

/* With no saved position, or one made under other rules (a changed
 * delay, say), the pass reads the whole range once. */
void cd_due_load_scan(struct cd_store *st, const struct cd_campaign *cp,
		      enum cd_due_kind k, int64_t now, const char *const *no_reminder,
		      size_t nno, struct cd_due_scan *sc)
{
	int64_t hwm = 0, mark = 0;

	sc->cap_since = 0;
	sc->no_reminder = k == CD_DUE_REMINDER ? no_reminder : NULL;
	sc->nno_reminder = sc->no_reminder ? nno : 0;
	snprintf(sc->rules, sizeof(sc->rules), "%s %lld %lld %d %lld",
		 cd_config_trigger_name(cp->trigger), (long long)cp->delay,
		 (long long)cp->expire, cp->max_rating, (long long)cp->reminder);
	sc->new_mark = cd_store_due_change_mark(st, k);
	/* a mark ahead of now means the clock went back: trust nothing and
	 * read the whole range; so does a position we cannot read */
	if (cd_store_due_position(st, cp->name, k, sc->rules, sc->no_reminder, sc->nno_reminder,
				  &hwm, &mark) == 1 && hwm <= now - cd_due_wait(cp, k)) {
		sc->hwm = hwm;
		sc->mark = mark;
	} else {
		sc->hwm = INT64_MIN;   /* the whole range ... */
		sc->mark = INT64_MAX;  /* ... covers every change too */
	}
}

/* A complete pass moves the position on and forgets waiting orders it
 * no longer saw (sent, expired or excluded since). */
int cd_due_save_scan(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		     int64_t now, const struct cd_due_scan *sc, struct cd_error *err)
{
	return cd_store_due_save_position(st, cp->name, k, sc->rules, sc->no_reminder,
					  sc->nno_reminder, now - cd_due_wait(cp, k), sc->new_mark,
					  now, err);
}

/* Remember an order that is due but must wait, so the next pass finds it
 * without reading the whole range. */
int cd_due_remember_waiting(struct cd_store *st, const struct cd_campaign *cp,
			    enum cd_due_kind k, const char *order_id, int64_t now)
{
	return cd_store_due_remember_waiting(st, cp->name, k, order_id, now, NULL);
}

/* The query of a pass of CP and kind K at NOW: the range of base times
 * its rules allow, from position SC. */
static struct cd_store_due_query due_query(const struct cd_campaign *cp, enum cd_due_kind k,
					   int64_t now, const struct cd_due_scan *sc)
{
	int64_t oldest = now - cp->expire;

	/* a reminder's own clock starts at the request, but the campaign's
	 * expiry still counts from the trigger (oldest) */
	return (struct cd_store_due_query){
		.campaign = cp->name, .kind = k, .trigger = cp->trigger,
		.max_rating = cp->max_rating,
		.from = k == CD_DUE_REMINDER ? INT64_MIN : oldest,
		.to = now - cd_due_wait(cp, k), .oldest = oldest,
		.hwm = sc->hwm, .mark = sc->mark, .after = INT64_MIN, .cap_since = sc->cap_since,
		.no_reminder = sc->no_reminder, .nno_reminder = sc->nno_reminder,
	};
}

int cd_due_next_batch(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		      int64_t now, const struct cd_due_scan *sc, struct cd_due_page *pg,
		      struct cd_due_order *out, size_t *n, int *more, struct cd_error *err)
{
	struct cd_store_due_query q = due_query(cp, k, now, sc);
	int rc;

	q.after = pg->key;
	rc = cd_store_due_batch(st, &q, out, n, more, err);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			cd_due_order_clear(&out[i]);
		*n = 0;
		return rc;
	}
	if (*n > 0)
		pg->key = out[*n - 1].key;
	return 0;
}

/* Which rule stops an order the due query did not return, in the order
 * an admin can act on: what the order is, then when. */
static enum cd_due_stop first_stop(const struct cd_due_facts *f, const struct cd_campaign *cp,
				   enum cd_due_kind k, const struct cd_store_due_query *q,
				   int64_t *when)
{
	*when = 0;
	if (f->excluded)
		return CD_DUE_EXCLUDED;
	if (f->suppressed)
		return CD_DUE_SUPPRESSED;
	if (f->messaged)
		return CD_DUE_DONE;
	if (f->feedback)
		return CD_DUE_FEEDBACK;
	if (f->answered)
		return CD_DUE_ANSWERED;
	if (f->no_reminder)
		return CD_DUE_NO_REMINDER;
	if (!f->has_base)
		return CD_DUE_NO_BASE;
	if (f->base < q->from || (k == CD_DUE_REMINDER && f->trigger < q->oldest))
		return CD_DUE_EXPIRED;
	if (f->base > q->to) {
		*when = f->base + cd_due_wait(cp, k);
		return CD_DUE_LATER;
	}
	return CD_DUE_OTHER;
}

int cd_due_explain(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		   int64_t now, const char *order_id, const char *const *no_reminder, size_t nno,
		   struct cd_due_verdict *v, struct cd_error *err)
{
	/* the whole range, as a pass with no position reads it */
	struct cd_due_scan sc = { .hwm = INT64_MIN, .mark = INT64_MAX,
				  .no_reminder = k == CD_DUE_REMINDER ? no_reminder : NULL,
				  .nno_reminder = k == CD_DUE_REMINDER && no_reminder ? nno : 0 };
	struct cd_store_due_query q = due_query(cp, k, now, &sc);
	struct cd_due_order *o = calloc(CD_DUE_BATCH, sizeof(*o)); /* room the batch may fill */
	struct cd_due_facts f;
	size_t n = 0;
	int more, rc;

	memset(v, 0, sizeof(*v));
	if (!o)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	q.order_id = order_id;
	/* the daemon's own query says whether it is due ... */
	rc = cd_store_due_batch(st, &q, o, &n, &more, err);
	for (size_t i = 0; i < n; i++)
		cd_due_order_clear(&o[i]);
	free(o);
	if (rc < 0)
		return rc;
	if (n) {
		v->stop = CD_DUE_NOW;
		return 0;
	}
	/* ... and its rules, one at a time, which one says no */
	if ((rc = cd_store_due_facts(st, &q, &f, err)) < 0)
		return rc;
	snprintf(v->status, sizeof(v->status), "%s", f.status);
	v->stop = first_stop(&f, cp, k, &q, &v->when);
	return 0;
}

const char *cd_due_stop_text(enum cd_due_stop s, enum cd_due_kind k)
{
	switch (s) {
	case CD_DUE_NOW: return "due now";
	case CD_DUE_LATER: return "not due yet";
	case CD_DUE_EXCLUDED: return "its status excludes it";
	case CD_DUE_SUPPRESSED: return "the customer's address is suppressed";
	case CD_DUE_DONE:
		return k == CD_DUE_REMINDER ? "its reminder was made already"
			: "this campaign made its message for the order already";
	case CD_DUE_FEEDBACK: return "the customer left feedback already";
	case CD_DUE_ANSWERED:
		return "the request was replied to, bounced, unsubscribed from or complained about";
	case CD_DUE_NO_REMINDER: return "the order's channel gets no reminder";
	case CD_DUE_NO_BASE:
		return k == CD_DUE_REMINDER ? "no request was sent for it"
			: k == CD_DUE_APOLOGY ? "it has no feedback at or below max_rating"
			: "it has no date for the campaign's trigger";
	case CD_DUE_EXPIRED: return "it is older than the campaign's expire";
	default: return "the due query does not return it";
	}
}

int cd_due_stop_final(enum cd_due_stop s)
{
	return s != CD_DUE_NOW && s != CD_DUE_LATER;
}

int cd_due_must_wait(const struct cd_config *cfg, struct cd_ratelimit *rl,
		     const struct cd_due_order *o, int64_t now, int64_t *open,
		     enum cd_wait *w, struct cd_error *err)
{
	const char *tz = cd_schedule_zone(o->order.timezone, o->order.country, cfg->shop.timezone);

	*open = cd_schedule_next_open(now, tz, &cfg->window);
	if (*open != now) {
		*w = CD_WAIT_WINDOW;
		return 0;
	}
	return cd_ratelimit_wait(rl, o->order.email, o->mails, w, err);
}

int cd_due_load_order(struct cd_store *st, const char *order_id, const struct cd_campaign *cp,
		      enum cd_due_kind k, struct cd_due_order *out, struct cd_error *err)
{
	return cd_store_due_order(st, order_id, cp->name, k, out, err);
}
