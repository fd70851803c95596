/*
 * due.c - which orders are due, at the cost of what is due: the queries
 * of each campaign kind, and the scheduler's position (scan_state, the
 * order_changes log, the waiting list) that lets a pass skip what earlier
 * passes already saw.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/due.h"
#include "candor/store.h"

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

static const char *trigger_column(enum cd_trigger t)
{
	return t == CD_TRIGGER_SHIPPED ? "shipped" : "delivered";
}

#define ORDER_COLUMNS \
	"o.order_id, o.first_name, o.name, o.email, o.locale, o.total, o.currency," \
	" o.purchased, o.country, o.timezone, o.items"
/* column 17: the customer's mails against the per-customer cap (?11) */
#define CAP_COUNT \
	", (SELECT count(*) FROM messages n WHERE n.recipient = o.email COLLATE NOCASE" \
	" AND n.created >= ?11 AND n.state NOT IN ('held','failed'))"
#define NOT_EXCLUDED \
	" AND o.status NOT IN ('returned','refunded','cancelled')" \
	" AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = o.email)"

/* The "what is due" query of each kind. It costs what is due, not what
 * is stored: the candidates are only what crossed its delay since the
 * last complete pass (?8 .. ?2, an index range), what changed since then
 * (?9: order_changes or feedback ids), and what was waiting for its send
 * window or a cap. The full rules then apply to those: ?1..?2 the range
 * of the base time, ?3 the campaign, ?4 the candidate after which the
 * next batch starts, ?6 max_rating, ?7 the oldest trigger.
 * "rowid IN (... UNION ALL ...)" makes SQLite keep the candidates in one
 * sorted set of integers and walk the big table through it in rowid
 * order: duplicates fall out, and ORDER BY needs no sort of whole rows.
 * The unary + on the other terms keeps SQLite from driving the query
 * from their indexes instead (messages_state alone would walk every sent
 * message). */
void cd_due_sql(const struct cd_campaign *cp, enum cd_due_kind k, int cap, char *sql,
		size_t len)
{
	const char *col = trigger_column(cp->trigger);
	const char *count = cap ? CAP_COUNT : ", 0";

	if (k == CD_DUE_APOLOGY)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", f.received, NULL, f.rating, f.comment, f.id, o.channel%s"
			 " FROM feedback f JOIN orders o ON o.order_id = f.order_id"
			 " WHERE f.id IN ("
			 "  SELECT id FROM feedback WHERE received > ?8 AND received <= ?2"
			 "  UNION ALL SELECT id FROM feedback WHERE id > ?9"
			 "  UNION ALL SELECT g.id FROM waiting w JOIN feedback g ON g.order_id = w.order_id"
			 "   WHERE w.campaign = ?3 AND w.kind = 'request')"
			 " AND f.id > ?4 AND +f.received BETWEEN ?1 AND ?2 AND f.rating <= ?6"
			 " AND f.id = (SELECT min(id) FROM feedback g WHERE g.order_id = f.order_id"
			 "  AND g.rating <= ?6)"
			 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
			 "  AND m.campaign = ?3)"
			 " AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = o.email)"
			 " ORDER BY f.id LIMIT %d", count, CD_DUE_BATCH + 1);
	else if (k == CD_DUE_REMINDER)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", m.sent_at, m.variant, NULL, NULL, m.id, o.channel%s"
			 " FROM messages m JOIN orders o ON o.order_id = m.order_id"
			 " WHERE m.id IN ("
			 "  SELECT id FROM messages WHERE sent_at > ?8 AND sent_at <= ?2"
			 "  UNION ALL SELECT r.id FROM waiting w JOIN messages r ON r.order_id = w.order_id"
			 "   AND r.campaign = w.campaign AND r.kind = 'request'"
			 "   WHERE w.campaign = ?3 AND w.kind = 'reminder')"
			 " AND m.id > ?4 AND +m.sent_at BETWEEN ?1 AND ?2 AND +m.campaign = ?3"
			 " AND +m.kind = 'request' AND +m.state = 'sent'"
			 " AND o.%s >= ?7" NOT_EXCLUDED
			 " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.order_id = m.order_id"
			 "  AND r.campaign = m.campaign AND r.kind = 'reminder')"
			 " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind IN"
			 "  ('replied','bounced','unsubscribed','complaint'))"
			 " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
			 " AND o.channel NOT IN (SELECT value FROM json_each(?10))"
			 " ORDER BY m.id LIMIT %d", count, col, CD_DUE_BATCH + 1);
	else
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", o.%s, NULL, NULL, NULL, o.rowid, o.channel%s"
			 " FROM orders o"
			 " WHERE o.rowid IN ("
			 "  SELECT rowid FROM orders WHERE %s > ?8 AND %s <= ?2"
			 "  UNION ALL SELECT c.rowid FROM order_changes ch JOIN orders c"
			 "   ON c.order_id = ch.order_id WHERE ch.seq > ?9"
			 "  UNION ALL SELECT c.rowid FROM waiting w JOIN orders c ON c.order_id = w.order_id"
			 "   WHERE w.campaign = ?3 AND w.kind = 'request')"
			 " AND o.rowid > ?4 AND +o.%s BETWEEN ?1 AND ?2" NOT_EXCLUDED
			 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
			 "  AND m.campaign = ?3)"
			 " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
			 " ORDER BY o.rowid LIMIT %d", col, count, col, col, col, CD_DUE_BATCH + 1);
}

/* Copy a row's strings into one block: a due order costs one malloc,
 * not twelve. NULL columns stay NULL. Each column is read once, text
 * before length as SQLite asks. Returns 0 or CD_ENOMEM. */
static int read_order(sqlite3_stmt *s, struct cd_due_order *o)
{
	static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 16 };
	enum { N = sizeof(cols) / sizeof(cols[0]) };
	char **dst[N] = { &o->id, &o->first_name, &o->name, &o->email, &o->locale,
			  &o->total, &o->currency, &o->country, &o->timezone, &o->items,
			  &o->variant, &o->comment, &o->channel };
	const unsigned char *text[N];
	size_t lens[N], total = 0, off = 0;

	for (size_t i = 0; i < N; i++) {
		text[i] = sqlite3_column_text(s, cols[i]);
		lens[i] = (size_t)sqlite3_column_bytes(s, cols[i]);
		total += lens[i] + 1;
	}
	if (!(o->strings = malloc(total)))
		return CD_ENOMEM;
	for (size_t i = 0; i < N; i++) {
		*dst[i] = NULL;
		if (!text[i])
			continue;
		*dst[i] = memcpy(o->strings + off, text[i], lens[i] + 1);
		off += lens[i] + 1;
	}
	o->purchased = sqlite3_column_int64(s, 7);
	o->base = sqlite3_column_int64(s, 11);
	o->rating = sqlite3_column_int(s, 13);
	o->key = sqlite3_column_int64(s, 15);
	o->mails = sqlite3_column_int64(s, 17);
	return 0;
}

int64_t cd_due_wait(const struct cd_campaign *cp, enum cd_due_kind k)
{
	return k == CD_DUE_REMINDER ? cp->reminder : cp->delay;
}

/* Load the scan state; with none, or one made under other rules (a
 * changed delay, say), the pass reads the whole range once. */
void cd_due_load_scan(struct cd_store *st, const struct cd_campaign *cp,
		      enum cd_due_kind k, int64_t now, const char *no_reminder,
		      struct cd_due_scan *sc)
{
	sqlite3 *db = cd_store_db(st);
	sqlite3_stmt *s;
	int found = 0;

	sc->cap_since = 0;
	snprintf(sc->no_reminder, sizeof(sc->no_reminder), "%s",
		 k == CD_DUE_REMINDER && no_reminder ? no_reminder : "");
	/* the channel list only when there is one, so positions saved before
	 * it existed still count */
	snprintf(sc->params, sizeof(sc->params), "%s %lld %lld %d %lld%s%s",
		 cd_config_trigger_name(cp->trigger), (long long)cp->delay,
		 (long long)cp->expire, cp->max_rating, (long long)cp->reminder,
		 sc->no_reminder[0] ? " " : "", sc->no_reminder);
	sc->new_mark = k == CD_DUE_APOLOGY
		? cd_store_int(st, "SELECT max(id) FROM feedback", 0, 0)
		: cd_store_int(st, "SELECT max(seq) FROM order_changes", 0, 0);
	if (sqlite3_prepare_v2(db, "SELECT params, hwm, mark FROM scan_state"
			       " WHERE campaign = ?1 AND kind = ?2", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, cd_due_kind_name(k), -1, SQLITE_STATIC);
		/* a mark ahead of now means the clock went back: trust
		 * nothing and read the whole range */
		if (sqlite3_step(s) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(s, 0), sc->params) == 0 &&
		    sqlite3_column_int64(s, 1) <= now - cd_due_wait(cp, k)) {
			sc->hwm = sqlite3_column_int64(s, 1);
			sc->mark = sqlite3_column_int64(s, 2);
			found = 1;
		}
	}
	sqlite3_finalize(s);
	if (!found) {
		sc->hwm = INT64_MIN;   /* the whole range ... */
		sc->mark = INT64_MAX;  /* ... covers every change too */
	}
}

/* A complete pass moves the state on and forgets waiting orders it no
 * longer saw (sent, expired or excluded since). */
int cd_due_save_scan(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		     int64_t now, const struct cd_due_scan *sc, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(st);
	sqlite3_stmt *s = NULL, *w = NULL;
	int ok;

	ok = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO scan_state(campaign, kind, params,"
				" hwm, mark) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &s, NULL) == SQLITE_OK &&
	     sqlite3_prepare_v2(db, "DELETE FROM waiting WHERE campaign = ?1 AND kind = ?2"
				" AND seen < ?3", -1, &w, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, cd_due_kind_name(k), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, sc->params, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, now - cd_due_wait(cp, k));
		sqlite3_bind_int64(s, 5, sc->new_mark);
		sqlite3_bind_text(w, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(w, 2, cd_due_kind_name(k), -1, SQLITE_STATIC);
		sqlite3_bind_int64(w, 3, now);
		ok = sqlite3_step(s) == SQLITE_DONE && sqlite3_step(w) == SQLITE_DONE;
	}
	sqlite3_finalize(s);
	sqlite3_finalize(w);
	return ok ? 0 : cd_store_fail(st, err, "cannot save the scheduler's position");
}

/* Remember an order that is due but must wait, so the next pass finds it
 * without reading the whole range. */
int cd_due_remember_waiting(struct cd_store *st, const struct cd_campaign *cp,
			    enum cd_due_kind k, const char *order_id, int64_t now)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(cd_store_db(st),
			       "INSERT INTO waiting(campaign, kind, order_id, seen) VALUES (?1, ?2, ?3, ?4)"
			       " ON CONFLICT DO UPDATE SET seen = excluded.seen", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cd_due_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, order_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

/* Read the next batch into OUT; *MORE tells whether another follows (the
 * query asks for one row beyond the batch, so the last page costs no
 * extra query). */
int cd_due_next_batch(struct cd_store *st, const struct cd_campaign *cp, enum cd_due_kind k,
		      int64_t now, const struct cd_due_scan *sc, struct cd_due_page *pg,
		      struct cd_due_order *out, size_t *n, int *more, struct cd_error *err)
{
	int64_t oldest = now - cp->expire;
	sqlite3_stmt *s;
	char sql[3072];
	int rc;

	cd_due_sql(cp, k, sc->cap_since != 0, sql, sizeof(sql));
	*n = 0;
	if (!(s = cd_store_prepare_cached(st, sql)))
		return cd_store_fail(st, err, "cannot query due orders");
	/* a reminder's own clock starts at the request, but the campaign's
	 * expiry still counts from the trigger (?7) */
	sqlite3_bind_int64(s, 1, k == CD_DUE_REMINDER ? INT64_MIN : oldest);
	sqlite3_bind_int64(s, 2, now - cd_due_wait(cp, k));
	sqlite3_bind_text(s, 3, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, pg->key);
	sqlite3_bind_int(s, 6, cp->max_rating);
	sqlite3_bind_int64(s, 7, oldest);
	sqlite3_bind_int64(s, 8, sc->hwm);
	sqlite3_bind_int64(s, 9, sc->mark);
	if (sc->cap_since)
		sqlite3_bind_int64(s, 11, sc->cap_since);
	if (k == CD_DUE_REMINDER)
		sqlite3_bind_text(s, 10, sc->no_reminder[0] ? sc->no_reminder : "[]", -1, SQLITE_STATIC);
	*more = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == CD_DUE_BATCH) {
			*more = 1;
			break;
		}
		if (read_order(s, &out[*n]) < 0) {
			cd_store_release(s);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory reading due orders");
		}
		(*n)++;
	}
	cd_store_release(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return cd_store_fail(st, err, "cannot query due orders");
	if (*n > 0)
		pg->key = out[*n - 1].key;
	return 0;
}


int cd_due_load_order(struct cd_store *st, const char *order_id, const struct cd_campaign *cp,
		      enum cd_due_kind k, struct cd_due_order *out, struct cd_error *err)
{
	/* the same columns as the due queries, for one order whatever its
	 * state; apologies take its worst feedback, reminders its request's
	 * variant */
	static const char sql[] =
		"SELECT " ORDER_COLUMNS ", 0,"
		" (SELECT variant FROM messages m WHERE m.order_id = o.order_id"
		"   AND m.campaign = ?2 AND m.kind = 'request'),"
		" f.rating, f.comment, 0, o.channel, 0"
		" FROM orders o LEFT JOIN feedback f ON f.id = (SELECT id FROM feedback g"
		"   WHERE g.order_id = o.order_id AND ?3 ORDER BY rating, id LIMIT 1)"
		" WHERE o.order_id = ?1";
	sqlite3 *db = cd_store_db(st);
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot read the order");
	sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, k == CD_DUE_APOLOGY);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_order(s, out) < 0
			? cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory") : 0;
	else if (rc == SQLITE_DONE)
		rc = cd_error_set(err, CD_ENOTFOUND, NULL, 0, "no order \"%s\"", order_id);
	else
		rc = cd_store_fail(st, err, "cannot read the order");
	sqlite3_finalize(s);
	return rc;
}
