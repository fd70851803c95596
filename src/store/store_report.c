/*
 * store_report.c - what reports and the experiment read (see
 * store_report.h). Read-only and run seldom (a report, an hourly winner
 * check, one order's history), so statements are prepared per call and
 * not kept in the store's cache.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "candor/order.h"
#include "candor/store.h"
#include "candor/store_report.h"
#include "db.h"

/* Step S to its end, handing each row to ROW with CTX; ROW returns 0 to
 * go on. S is done either way. Returns 0, what ROW returned, or
 * CD_ESTORE. */
static int each_row(struct cd_db_stmt *s, int (*row)(struct cd_db_stmt *s, void *ctx),
		    void *ctx)
{
	int rc;

	if (!s)
		return CD_ESTORE;
	for (;;) {
		if ((rc = cd_db_step(s)) != CD_DB_ROW) {
			rc = rc == CD_DB_DONE ? 0 : CD_ESTORE;
			break;
		}
		if ((rc = row(s, ctx)) != 0)
			break;
	}
	cd_db_done(s);
	return rc;
}

/* A statement for SQL with ?1 bound to the text ARG. */
static struct cd_db_stmt *prepare_on(struct cd_store *st, const char *sql, const char *arg)
{
	struct cd_db_stmt *s = cd_db_prepare(st, sql);

	if (s)
		cd_db_bind_text(s, 1, arg);
	return s;
}

/* ---- a campaign's figures ------------------------------------------------- */

/* Per variant, over request messages that were sent: bounced, replied,
 * unsubscribed (events), and among the delivered ones feedback received
 * within the campaign window after the mail (?3), and positive (4-5);
 * review links clicked (the web endpoint's events). */
/* B(x): a condition summed as 0 or 1, which SQLite does as is and
 * PostgreSQL after a cast. */
#define VARIANT_SQL(B) \
	"SELECT m.variant, count(*)," \
	" sum(" B("b.id IS NOT NULL") ")," \
	" sum(" B("EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'replied')") ")," \
	" sum(" B("EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'unsubscribed')") ")," \
	" sum(" B("b.id IS NULL AND EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id" \
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3)") ")," \
	" sum(" B("b.id IS NULL AND EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id" \
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3 AND f.rating >= 4)") ")," \
	" sum(" B("b.id IS NULL AND EXISTS (SELECT 1 FROM events e WHERE e.message = m.id" \
	"  AND e.kind = 'clicked')") ")" \
	" FROM messages m LEFT JOIN events b ON b.id = (SELECT min(id) FROM events x" \
	"  WHERE x.message = m.id AND x.kind = 'bounced')" \
	" WHERE m.campaign = ?1 AND m.kind = 'request' AND m.state = 'sent' AND m.created >= ?2" \
	" GROUP BY m.variant"
#define AS_IS(x) x
#define AS_INT(x) "(" x ")::int"

static const char variant_sql[] = VARIANT_SQL(AS_IS);
static const char variant_sql_pg[] = VARIANT_SQL(AS_INT);

struct variant_ctx {
	int (*fn)(void *arg, const struct cd_variant_counts *c);
	void *arg;
};

static int variant_row(struct cd_db_stmt *s, void *ctx)
{
	struct variant_ctx *x = ctx;
	struct cd_variant_counts c = {
		.variant = cd_db_text(s, 0), .sent = cd_db_int(s, 1), .bounced = cd_db_int(s, 2),
		.replied = cd_db_int(s, 3), .unsubscribed = cd_db_int(s, 4),
		.feedback = cd_db_int(s, 5), .positive = cd_db_int(s, 6), .clicked = cd_db_int(s, 7),
	};

	return x->fn(x->arg, &c);
}

int cd_store_variant_counts(struct cd_store *st, const char *campaign, int64_t since,
			    int64_t window,
			    int (*fn)(void *arg, const struct cd_variant_counts *c), void *arg)
{
	struct cd_db_stmt *s = prepare_on(st, CD_DB_PICK(st, variant_sql, variant_sql_pg), campaign);
	struct variant_ctx x = { fn, arg };

	if (s) {
		cd_db_bind_int(s, 2, since);
		cd_db_bind_int(s, 3, window);
	}
	return each_row(s, variant_row, &x);
}

/* The same figures per kind (request, reminder), variant, the order's
 * locale and UTC day of sending, over every sent message of the campaign
 * made in [?2, ?4): one pass gives the report its totals, reminders,
 * locales and time series. For a reminder, feedback counts when it came
 * after the reminder. Each message looks at its events once (their kinds
 * as bits: 1 bounced, 2 replied, 4 unsubscribed, 8 clicked) and at its
 * feedback once (0 none, 1 some, 2 some rated 4 or 5); MATERIALIZED
 * (SQLite 3.35, PostgreSQL 12) keeps the planner from copying those
 * lookups into each sum that reads them. */
#define GROUP_SQL(B) \
	"WITH x AS MATERIALIZED (SELECT m.kind AS kind, m.variant AS variant, o.locale AS locale," \
	"  coalesce(m.sent_at, m.created) AS t," \
	"  coalesce((SELECT max(" B("e.kind = 'bounced'") ") + 2 * max(" B("e.kind = 'replied'") ")" \
	"   + 4 * max(" B("e.kind = 'unsubscribed'") ") + 8 * max(" B("e.kind = 'clicked'") ")" \
	"   FROM events e WHERE e.message = m.id), 0) AS ev," \
	"  coalesce((SELECT max(CASE WHEN f.rating >= 4 THEN 2 ELSE 1 END) FROM feedback f" \
	"   WHERE f.order_id = m.order_id AND f.received > m.sent_at" \
	"   AND f.received <= m.sent_at + ?3), 0) AS fb" \
	"  FROM messages m LEFT JOIN orders o ON o.order_id = m.order_id" \
	"  WHERE m.campaign = ?1 AND m.state = 'sent' AND m.created >= ?2 AND m.created < ?4)" \
	"SELECT kind, variant, locale, t / 86400, min(t), max(t), count(*)," \
	" sum(" B("(ev & 1) <> 0") "), sum(" B("(ev & 2) <> 0") "), sum(" B("(ev & 4) <> 0") ")," \
	" sum(" B("(ev & 1) = 0 AND fb > 0") "), sum(" B("(ev & 1) = 0 AND fb = 2") ")," \
	" sum(" B("(ev & 9) = 8") ")" \
	" FROM x GROUP BY 1, 2, 3, 4"

struct group_ctx {
	int (*fn)(void *arg, const struct cd_message_group *g);
	void *arg;
};

static int group_row(struct cd_db_stmt *s, void *ctx)
{
	struct group_ctx *x = ctx;
	struct cd_message_group g = {
		.kind = cd_db_text(s, 0), .variant = cd_db_text(s, 1), .locale = cd_db_text(s, 2),
		.day = cd_db_int(s, 3), .first = cd_db_int(s, 4), .last = cd_db_int(s, 5),
		.sent = cd_db_int(s, 6), .bounced = cd_db_int(s, 7), .replied = cd_db_int(s, 8),
		.unsubscribed = cd_db_int(s, 9), .feedback = cd_db_int(s, 10),
		.positive = cd_db_int(s, 11), .clicked = cd_db_int(s, 12),
	};

	return x->fn(x->arg, &g);
}

int cd_store_campaign_groups(struct cd_store *st, const char *campaign, int64_t since,
			     int64_t until, int64_t window,
			     int (*fn)(void *arg, const struct cd_message_group *g), void *arg)
{
	struct cd_db_stmt *s = prepare_on(st, CD_DB_PICK(st, GROUP_SQL(AS_IS), GROUP_SQL(AS_INT)),
					  campaign);
	struct group_ctx x = { fn, arg };

	if (s) {
		cd_db_bind_int(s, 2, since);
		cd_db_bind_int(s, 3, window);
		cd_db_bind_int(s, 4, until > 0 ? until : INT64_MAX);
	}
	return each_row(s, group_row, &x);
}

/* Replies to apologies, feedback left after one, and how many rated
 * higher than the feedback that started it. */
#define APOLOGY_SQL(B) \
	"SELECT sum(" B("EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'replied')") ")," \
	" sum(" B("EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id" \
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3)") ")," \
	" sum(" B("EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id" \
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3" \
	"  AND f.rating > (SELECT min(rating) FROM feedback g WHERE g.order_id = m.order_id" \
	"   AND g.received <= m.sent_at))") ")" \
	" FROM messages m WHERE m.campaign = ?1 AND m.kind = 'request'" \
	" AND m.state = 'sent' AND m.created >= ?2 AND m.created < ?4"

int cd_store_apology_counts(struct cd_store *st, const char *campaign, int64_t since,
			    int64_t until, int64_t window, struct cd_apology_counts *out)
{
	struct cd_db_stmt *s = prepare_on(st, CD_DB_PICK(st, APOLOGY_SQL(AS_IS), APOLOGY_SQL(AS_INT)),
					  campaign);
	int rc;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_int(s, 2, since);
	cd_db_bind_int(s, 3, window);
	cd_db_bind_int(s, 4, until > 0 ? until : INT64_MAX);
	if ((rc = cd_db_step(s)) == CD_DB_ROW) {
		/* sums over no message are NULL, read as 0 */
		out->replied = cd_db_int(s, 0);
		out->feedback_after = cd_db_int(s, 1);
		out->rating_up = cd_db_int(s, 2);
	}
	cd_db_done(s);
	return rc == CD_DB_ROW ? 0 : CD_ESTORE;
}

struct comment_ctx {
	int (*fn)(void *arg, const char *comment);
	void *arg;
};

static int comment_row(struct cd_db_stmt *s, void *ctx)
{
	struct comment_ctx *x = ctx;

	return x->fn(x->arg, cd_db_text(s, 0));
}

int cd_store_negative_comments(struct cd_store *st, int max_rating, int64_t since,
			       int64_t until, int (*fn)(void *arg, const char *comment), void *arg)
{
	struct cd_db_stmt *s = cd_db_prepare(st, "SELECT comment FROM feedback"
					     " WHERE rating <= ?1 AND received >= ?2 AND received < ?3");
	struct comment_ctx x = { fn, arg };

	if (s) {
		cd_db_bind_int(s, 1, max_rating);
		cd_db_bind_int(s, 2, since);
		cd_db_bind_int(s, 3, until > 0 ? until : INT64_MAX);
	}
	return each_row(s, comment_row, &x);
}

/* ---- one order's history ---------------------------------------------------- */

struct order_ctx {
	int (*fn)(void *arg, const struct cd_order *o);
	void *arg;
	int found;
};

static int order_row(struct cd_db_stmt *s, void *ctx)
{
	struct order_ctx *x = ctx;
	struct cd_order o = {
		.id = cd_db_text(s, 0), .channel = cd_db_text(s, 1),
		.customer_id = cd_db_text(s, 2), .first_name = cd_db_text(s, 3),
		.name = cd_db_text(s, 4), .email = cd_db_text(s, 5), .locale = cd_db_text(s, 6),
		.country = cd_db_text(s, 7), .timezone = cd_db_text(s, 8),
		.items = cd_db_text(s, 9), .total = cd_db_text(s, 10),
		.currency = cd_db_text(s, 11), .purchased = cd_db_int(s, 12),
		.shipped = cd_db_int(s, 13), .delivered = cd_db_int(s, 14),
		.status = cd_db_text(s, 15),
	};

	x->found = 1;
	return x->fn(x->arg, &o);
}

int cd_store_history_order(struct cd_store *st, const char *order_id,
			   int (*fn)(void *arg, const struct cd_order *o), void *arg)
{
	struct order_ctx x = { fn, arg, 0 };
	int rc = each_row(prepare_on(st, "SELECT order_id, channel, customer_id, first_name, name,"
				     " email, locale, country, timezone, items, total, currency,"
				     " purchased, shipped, delivered, status"
				     " FROM orders WHERE order_id = ?1", order_id),
			  order_row, &x);

	return rc == 0 && !x.found ? CD_ENOTFOUND : rc;
}

struct feedback_ctx {
	int (*fn)(void *arg, const struct cd_feedback *f);
	void *arg;
};

static int feedback_row(struct cd_db_stmt *s, void *ctx)
{
	struct feedback_ctx *x = ctx;
	struct cd_feedback f = {
		.order_id = cd_db_text(s, 0), .rating = (int)cd_db_int(s, 1),
		.comment = cd_db_text(s, 2), .source = cd_db_text(s, 3),
		.received = cd_db_int(s, 4),
	};

	return x->fn(x->arg, &f);
}

int cd_store_history_feedback(struct cd_store *st, const char *order_id,
			      int (*fn)(void *arg, const struct cd_feedback *f), void *arg)
{
	struct feedback_ctx x = { fn, arg };

	return each_row(prepare_on(st, "SELECT order_id, rating, comment, source, received"
				   " FROM feedback WHERE order_id = ?1 ORDER BY received", order_id),
			feedback_row, &x);
}

struct message_ctx {
	int (*fn)(void *arg, const struct cd_message_record *m);
	void *arg;
};

static int message_row(struct cd_db_stmt *s, void *ctx)
{
	struct message_ctx *x = ctx;
	struct cd_message_record m = {
		.id = cd_db_int(s, 0), .campaign = cd_db_text(s, 1), .variant = cd_db_text(s, 2),
		.kind = cd_db_text(s, 3), .state = cd_db_text(s, 4), .recipient = cd_db_text(s, 5),
		.message_id = cd_db_text(s, 6), .reason = cd_db_text(s, 7),
	};

	return x->fn(x->arg, &m);
}

int cd_store_history_messages(struct cd_store *st, const char *order_id,
			      int (*fn)(void *arg, const struct cd_message_record *m), void *arg)
{
	struct message_ctx x = { fn, arg };

	return each_row(prepare_on(st, "SELECT id, campaign, variant, kind, state, recipient,"
				   " message_id, reason FROM messages WHERE order_id = ?1 ORDER BY id",
				   order_id),
			message_row, &x);
}

struct event_ctx {
	int (*fn)(void *arg, const struct cd_event_record *e);
	void *arg;
};

static int event_row(struct cd_db_stmt *s, void *ctx)
{
	struct event_ctx *x = ctx;
	struct cd_event_record e = {
		.at = cd_db_int(s, 0), .message = cd_db_int(s, 1),
		.kind = cd_db_text(s, 2), .detail = cd_db_text(s, 3),
	};

	return x->fn(x->arg, &e);
}

int cd_store_history_events(struct cd_store *st, const char *order_id,
			    int (*fn)(void *arg, const struct cd_event_record *e), void *arg)
{
	struct event_ctx x = { fn, arg };

	return each_row(prepare_on(st, "SELECT at, message, kind, detail FROM events"
				   " WHERE order_id = ?1 ORDER BY at, id", order_id),
			event_row, &x);
}

/* ---- the experiment's decision -------------------------------------------- */

/* Kept in meta, where an admin deletes "winner:CAMPAIGN" to restart a
 * test (experiment.h); databases in use hold these keys, so the names
 * stay. */
static void key(char *buf, size_t len, const char *what, const char *campaign)
{
	snprintf(buf, len, "%s:%s", what, campaign);
}

int cd_store_winner(struct cd_store *st, const char *campaign, char *winner, size_t len)
{
	char k[128];

	key(k, sizeof(k), "winner", campaign);
	return cd_store_meta_get(st, k, winner, len);
}

int cd_store_winner_set(struct cd_store *st, const char *campaign, const char *variant,
			struct cd_error *err)
{
	char k[128];

	key(k, sizeof(k), "winner", campaign);
	return cd_store_meta_set(st, k, variant, err);
}

int cd_store_winner_decide(struct cd_store *st, const char *campaign, const char *variant,
			   char *winner, size_t len, struct cd_error *err)
{
	struct cd_db_stmt *s;
	char k[128];
	int rc;

	key(k, sizeof(k), "winner", campaign);
	/* the same text on both engines: a decision is only ever added */
	s = cd_db_cached(st, "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING");
	if (s) {
		cd_db_bind_text(s, 1, k);
		cd_db_bind_text(s, 2, variant);
	}
	if ((rc = cd_db_run(st, s, err, "cannot record the winner")) < 0)
		return rc;
	rc = cd_db_changes(st) > 0;
	if (cd_store_meta_get(st, k, winner, len) < 0)
		return cd_error_set(err, CD_ESTORE, NULL, 0, "cannot read back the winner of %s",
				    campaign);
	return rc;
}

int cd_store_winner_checked(struct cd_store *st, const char *campaign, int64_t *at)
{
	char k[128], v[32];
	int rc;

	key(k, sizeof(k), "winner_checked", campaign);
	if ((rc = cd_store_meta_get(st, k, v, sizeof(v))) == 0)
		*at = strtoll(v, NULL, 10);
	return rc;
}

int cd_store_winner_checked_set(struct cd_store *st, const char *campaign, int64_t at,
				struct cd_error *err)
{
	char k[128], v[32];

	key(k, sizeof(k), "winner_checked", campaign);
	snprintf(v, sizeof(v), "%lld", (long long)at);
	return cd_store_meta_set(st, k, v, err);
}
