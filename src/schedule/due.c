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

int cd_due_next_batch(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		      int64_t now, const struct cd_due_scan *sc, struct cd_due_page *pg,
		      struct cd_due_order *out, size_t *n, int *more, struct cd_error *err)
{
	int64_t oldest = now - cp->expire;
	/* a reminder's own clock starts at the request, but the campaign's
	 * expiry still counts from the trigger (oldest) */
	struct cd_store_due_query q = {
		.campaign = cp->name, .kind = k, .trigger = cp->trigger,
		.max_rating = cp->max_rating,
		.from = k == CD_DUE_REMINDER ? INT64_MIN : oldest,
		.to = now - cd_due_wait(cp, k), .oldest = oldest,
		.hwm = sc->hwm, .mark = sc->mark, .after = pg->key, .cap_since = sc->cap_since,
		.no_reminder = sc->no_reminder, .nno_reminder = sc->nno_reminder,
	};
	int rc = cd_store_due_batch(st, &q, out, n, more, err);

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

int cd_due_load_order(struct cd_store *st, const char *order_id, const struct cd_campaign *cp,
		      enum cd_due_kind k, struct cd_due_order *out, struct cd_error *err)
{
	return cd_store_due_order(st, order_id, cp->name, k, out, err);
}
