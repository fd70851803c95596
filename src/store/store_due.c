/*
 * store_due.c - the scheduler's queries: what is due for a campaign (at
 * the cost of what is due, not of what is stored), the position each
 * campaign's passes keep (scan_state, the waiting list, the order_changes
 * log), and when the next order becomes due. The rules that choose the
 * parameters are the scheduler's (src/schedule/due.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/store_due.h"
#include "db.h"

/* messages.kind, scan_state.kind and waiting.kind: an apology is its
 * campaign's request */
static const char *kind_value(enum cd_due_kind k)
{
	return k == CD_DUE_REMINDER ? "reminder" : "request";
}

static const char *trigger_column(enum cd_trigger t)
{
	return t == CD_TRIGGER_SHIPPED ? "shipped" : "delivered";
}

/* scan_state.params: the rules, then the channel list when there is one
 * (positions saved before there was a list still count). NULL when out
 * of memory; the caller frees it. */
static char *position_params(const char *rules, const char *const *no_reminder, size_t nno)
{
	struct cd_buf b = { 0 };

	cd_buf_adds(&b, rules);
	if (no_reminder) {
		cd_buf_addc(&b, ' ');
		cd_db_json_strings(&b, no_reminder, NULL, 0, nno);
	}
	if (b.oom) {
		cd_buf_free(&b);
		return NULL;
	}
	return cd_buf_take(&b);
}

#define ORDER_COLUMNS \
	"o.order_id, o.first_name, o.name, o.email, o.locale, o.total, o.currency," \
	" o.purchased, o.country, o.timezone, o.items"
/* column 17: the customer's mails against the per-customer cap (?11) */
#define CAP_COUNT \
	", (SELECT count(*) FROM messages n WHERE n.recipient = o.email COLLATE NOCASE" \
	" AND n.created >= ?11 AND n.state NOT IN ('held','failed'))"
/* The rules, one fragment each: the due queries ask for their negation,
 * and the facts of one order (cd_store_due_facts) for each on its own,
 * so a preview names the rule that stops an order with the daemon's own
 * words for it. */
#define EXCLUDED_STATUS "o.status IN ('returned','refunded','cancelled')"
#define SUPPRESSED "EXISTS (SELECT 1 FROM suppressions x WHERE x.email = o.email)"
#define SUPPRESSED_PG \
	"EXISTS (SELECT 1 FROM suppressions x WHERE lower(x.email) = lower(o.email))"
/* this campaign already made a message for the order */
#define MESSAGED "EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id" \
	" AND m.campaign = ?3)"
#define HAS_FEEDBACK "EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
/* reminders, of request M: one was made already; the customer answered */
#define REMINDED "EXISTS (SELECT 1 FROM messages r WHERE r.order_id = m.order_id" \
	" AND r.campaign = m.campaign AND r.kind = 'reminder')"
#define ANSWERED "EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind IN" \
	" ('replied','bounced','unsubscribed','complaint'))"
#define NO_REMINDER_CHANNEL "o.channel IN (SELECT value FROM json_each(?10))"
#define NO_REMINDER_CHANNEL_PG "o.channel IN (SELECT json_array_elements_text(?10::json))"
/* apologies: the first feedback at or below max_rating */
#define FIRST_LOW "(SELECT min(id) FROM feedback g WHERE g.order_id = f.order_id" \
	" AND g.rating <= ?6)"

#define NOT_EXCLUDED " AND NOT " EXCLUDED_STATUS " AND NOT " SUPPRESSED

/* The candidates when one order is asked about (?12, previews): the
 * same rules then say whether it is due now. */
static const char *one_candidate(enum cd_due_kind k, int pg)
{
	if (k == CD_DUE_APOLOGY)
		return "SELECT id FROM feedback WHERE order_id = ?12";
	if (k == CD_DUE_REMINDER)
		return "SELECT id FROM messages WHERE order_id = ?12";
	return pg ? "SELECT order_id FROM orders WHERE order_id = ?12"
		: "SELECT rowid FROM orders WHERE order_id = ?12";
}

/* The "what is due" query of each kind. It costs what is due, not what
 * is stored: the candidates are only what crossed its delay since the
 * last complete pass (?8 .. ?2, an index range), what changed since then
 * (?9: order_changes or feedback ids), and what was waiting for its send
 * window or a cap. The full rules then apply to those: ?1..?2 the range
 * of the base time, ?3 the campaign, ?4 the candidate after which the
 * next batch starts, ?6 max_rating, ?7 the oldest trigger, ?10 the
 * channels that get no reminder (a JSON array).
 * "rowid IN (... UNION ALL ...)" makes SQLite keep the candidates in one
 * sorted set of integers and walk the big table through it in rowid
 * order: duplicates fall out, and ORDER BY needs no sort of whole rows.
 * The unary + on the other terms keeps SQLite from driving the query
 * from their indexes instead (messages_state alone would walk every sent
 * message). */
static void due_sql_sqlite(enum cd_due_kind k, enum cd_trigger t, int cap, int one,
			   char *sql, size_t len)
{
	const char *col = trigger_column(t);
	const char *count = cap ? CAP_COUNT : ", 0";
	char cand[512];

	if (one)
		snprintf(cand, sizeof(cand), "%s", one_candidate(k, 0));
	else if (k == CD_DUE_APOLOGY)
		snprintf(cand, sizeof(cand),
			 "  SELECT id FROM feedback WHERE received > ?8 AND received <= ?2"
			 "  UNION ALL SELECT id FROM feedback WHERE id > ?9"
			 "  UNION ALL SELECT g.id FROM waiting w JOIN feedback g ON g.order_id = w.order_id"
			 "   WHERE w.campaign = ?3 AND w.kind = 'request'");
	else if (k == CD_DUE_REMINDER)
		snprintf(cand, sizeof(cand),
			 "  SELECT id FROM messages WHERE sent_at > ?8 AND sent_at <= ?2"
			 "  UNION ALL SELECT r.id FROM waiting w JOIN messages r ON r.order_id = w.order_id"
			 "   AND r.campaign = w.campaign AND r.kind = 'request'"
			 "   WHERE w.campaign = ?3 AND w.kind = 'reminder'");
	else
		snprintf(cand, sizeof(cand),
			 "  SELECT rowid FROM orders WHERE %s > ?8 AND %s <= ?2"
			 "  UNION ALL SELECT c.rowid FROM order_changes ch JOIN orders c"
			 "   ON c.order_id = ch.order_id WHERE ch.seq > ?9"
			 "  UNION ALL SELECT c.rowid FROM waiting w JOIN orders c ON c.order_id = w.order_id"
			 "   WHERE w.campaign = ?3 AND w.kind = 'request'", col, col);

	if (k == CD_DUE_APOLOGY)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", f.received, NULL, f.rating, f.comment, f.id, o.channel%s"
			 " FROM feedback f JOIN orders o ON o.order_id = f.order_id"
			 " WHERE f.id IN (%s)"
			 " AND f.id > ?4 AND +f.received BETWEEN ?1 AND ?2 AND f.rating <= ?6"
			 " AND f.id = " FIRST_LOW
			 " AND NOT " MESSAGED " AND NOT " SUPPRESSED
			 " ORDER BY f.id LIMIT %d", count, cand, CD_DUE_BATCH + 1);
	else if (k == CD_DUE_REMINDER)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", m.sent_at, m.variant, NULL, NULL, m.id, o.channel%s"
			 " FROM messages m JOIN orders o ON o.order_id = m.order_id"
			 " WHERE m.id IN (%s)"
			 " AND m.id > ?4 AND +m.sent_at BETWEEN ?1 AND ?2 AND +m.campaign = ?3"
			 " AND +m.kind = 'request' AND +m.state = 'sent'"
			 " AND o.%s >= ?7" NOT_EXCLUDED
			 " AND NOT " REMINDED " AND NOT " ANSWERED " AND NOT " HAS_FEEDBACK
			 " AND NOT " NO_REMINDER_CHANNEL
			 " ORDER BY m.id LIMIT %d", count, cand, col, CD_DUE_BATCH + 1);
	else
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", o.%s, NULL, NULL, NULL, o.rowid, o.channel%s"
			 " FROM orders o"
			 " WHERE o.rowid IN (%s)"
			 " AND o.rowid > ?4 AND +o.%s BETWEEN ?1 AND ?2" NOT_EXCLUDED
			 " AND NOT " MESSAGED " AND NOT " HAS_FEEDBACK
			 " ORDER BY o.rowid LIMIT %d", col, count, cand, col, CD_DUE_BATCH + 1);
}

/* PostgreSQL's twin: the same candidates and rules. The candidates are
 * an IN over a UNION (the planner hashes them, or probes each by key),
 * and the change log and new feedback are read by the transaction that
 * wrote them (xact >= ?9), as ids are not handed out in commit order
 * when several write at once. Case is folded by lower(), as the indexes
 * are. */
#define CAP_COUNT_PG \
	", (SELECT count(*) FROM messages n WHERE lower(n.recipient) = lower(o.email)" \
	" AND n.created >= ?11 AND n.state NOT IN ('held','failed'))"
#define NOT_EXCLUDED_PG " AND NOT " EXCLUDED_STATUS " AND NOT " SUPPRESSED_PG

static void due_sql_pg(enum cd_due_kind k, enum cd_trigger t, int cap, int one,
		       char *sql, size_t len)
{
	const char *col = trigger_column(t);
	const char *count = cap ? CAP_COUNT_PG : ", 0";
	char cand[512];

	if (one)
		snprintf(cand, sizeof(cand), "%s", one_candidate(k, 1));
	else if (k == CD_DUE_APOLOGY)
		snprintf(cand, sizeof(cand),
			 "  SELECT id FROM feedback WHERE received > ?8 AND received <= ?2"
			 "  UNION SELECT id FROM feedback WHERE xact >= ?9"
			 "  UNION SELECT g.id FROM waiting w JOIN feedback g ON g.order_id = w.order_id"
			 "   WHERE w.campaign = ?3 AND w.kind = 'request'");
	else if (k == CD_DUE_REMINDER)
		snprintf(cand, sizeof(cand),
			 "  SELECT id FROM messages WHERE sent_at > ?8 AND sent_at <= ?2"
			 "  UNION SELECT r.id FROM waiting w JOIN messages r ON r.order_id = w.order_id"
			 "   AND r.campaign = w.campaign AND r.kind = 'request'"
			 "   WHERE w.campaign = ?3 AND w.kind = 'reminder'");
	else
		snprintf(cand, sizeof(cand),
			 "  SELECT order_id FROM orders WHERE %s > ?8 AND %s <= ?2"
			 "  UNION SELECT order_id FROM order_changes WHERE xact >= ?9"
			 "  UNION SELECT order_id FROM waiting WHERE campaign = ?3 AND kind = 'request'",
			 col, col);

	if (k == CD_DUE_APOLOGY)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", f.received, NULL, f.rating, f.comment, f.id, o.channel%s"
			 " FROM feedback f JOIN orders o ON o.order_id = f.order_id"
			 " WHERE f.id IN (%s)"
			 " AND f.id > ?4 AND f.received BETWEEN ?1 AND ?2 AND f.rating <= ?6"
			 " AND f.id = " FIRST_LOW
			 " AND NOT " MESSAGED " AND NOT " SUPPRESSED_PG
			 " ORDER BY f.id LIMIT %d", count, cand, CD_DUE_BATCH + 1);
	else if (k == CD_DUE_REMINDER)
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", m.sent_at, m.variant, NULL, NULL, m.id, o.channel%s"
			 " FROM messages m JOIN orders o ON o.order_id = m.order_id"
			 " WHERE m.id IN (%s)"
			 " AND m.id > ?4 AND m.sent_at BETWEEN ?1 AND ?2 AND m.campaign = ?3"
			 " AND m.kind = 'request' AND m.state = 'sent'"
			 " AND o.%s >= ?7" NOT_EXCLUDED_PG
			 " AND NOT " REMINDED " AND NOT " ANSWERED " AND NOT " HAS_FEEDBACK
			 " AND NOT " NO_REMINDER_CHANNEL_PG
			 " ORDER BY m.id LIMIT %d", count, cand, col, CD_DUE_BATCH + 1);
	else
		snprintf(sql, len,
			 "SELECT " ORDER_COLUMNS ", o.%s, NULL, NULL, NULL, o.rowid, o.channel%s"
			 " FROM orders o"
			 " WHERE o.order_id IN (%s)"
			 " AND o.rowid > ?4 AND o.%s BETWEEN ?1 AND ?2" NOT_EXCLUDED_PG
			 " AND NOT " MESSAGED " AND NOT " HAS_FEEDBACK
			 " ORDER BY o.rowid LIMIT %d", col, count, cand, col, CD_DUE_BATCH + 1);
}

void cd_store_due_sql_for(enum cd_store_engine e, enum cd_due_kind k, enum cd_trigger t,
			  int cap, char *sql, size_t len)
{
	if (e == CD_STORE_POSTGRESQL)
		due_sql_pg(k, t, cap, 0, sql, len);
	else
		due_sql_sqlite(k, t, cap, 0, sql, len);
}

void cd_store_due_sql(enum cd_due_kind k, enum cd_trigger t, int cap, char *sql, size_t len)
{
	due_sql_sqlite(k, t, cap, 0, sql, len);
}

/* Copy a row's strings into one block: a due order costs one malloc,
 * not twelve. NULL columns stay NULL. Returns 0 or CD_ENOMEM. */
static int read_order(struct cd_db_stmt *s, struct cd_due_order *o)
{
	static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 16 };
	enum { N = sizeof(cols) / sizeof(cols[0]) };
	struct cd_order *d = &o->order;
	const char **dst[N] = { &d->id, &d->first_name, &d->name, &d->email, &d->locale,
				&d->total, &d->currency, &d->country, &d->timezone, &d->items,
				&o->variant, &o->comment, &d->channel };
	const char *text[N];
	size_t lens[N], total = 0, off = 0;

	for (size_t i = 0; i < N; i++) {
		text[i] = cd_db_text(s, cols[i]);
		lens[i] = text[i] ? strlen(text[i]) : 0;
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
	d->purchased = cd_db_int(s, 7);
	o->base = cd_db_int(s, 11);
	o->rating = (int)cd_db_int(s, 13);
	o->key = cd_db_int(s, 15);
	o->mails = cd_db_int(s, 17);
	return 0;
}

/* The query asks for one row beyond the batch, so the last page costs
 * no extra query. */
int cd_store_due_batch(struct cd_store *st, const struct cd_store_due_query *q,
		       struct cd_due_order *out, size_t *n, int *more, struct cd_error *err)
{
	struct cd_buf json = { 0 };
	struct cd_db_stmt *s;
	char sql[3072];
	int rc;

	*n = 0;
	*more = 0;
	if (cd_db_engine(st) == CD_STORE_POSTGRESQL)
		due_sql_pg(q->kind, q->trigger, q->cap_since != 0, q->order_id != NULL, sql, sizeof(sql));
	else
		due_sql_sqlite(q->kind, q->trigger, q->cap_since != 0, q->order_id != NULL, sql,
			       sizeof(sql));
	if (q->kind == CD_DUE_REMINDER) {
		cd_db_json_strings(&json, q->no_reminder, NULL, 0,
				   q->no_reminder ? q->nno_reminder : 0);
		if (json.oom) {
			cd_buf_free(&json);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		}
	}
	if (!(s = cd_db_cached(st, sql))) {
		cd_buf_free(&json);
		return cd_store_fail(st, err, "cannot query due orders");
	}
	cd_db_bind_int(s, 1, q->from);
	cd_db_bind_int(s, 2, q->to);
	cd_db_bind_text(s, 3, q->campaign);
	cd_db_bind_int(s, 4, q->after);
	cd_db_bind_int(s, 6, q->max_rating);
	cd_db_bind_int(s, 7, q->oldest);
	cd_db_bind_int(s, 8, q->hwm);
	cd_db_bind_int(s, 9, q->mark);
	if (q->cap_since)
		cd_db_bind_int(s, 11, q->cap_since);
	if (q->kind == CD_DUE_REMINDER)
		cd_db_bind_text(s, 10, json.data);
	if (q->order_id)
		cd_db_bind_text(s, 12, q->order_id);
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		if (*n == CD_DUE_BATCH) {
			*more = 1;
			break;
		}
		if (read_order(s, &out[*n]) < 0) {
			cd_db_done(s);
			cd_buf_free(&json);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory reading due orders");
		}
		(*n)++;
	}
	cd_db_done(s);
	cd_buf_free(&json);
	if (rc < 0)
		return cd_store_fail(st, err, "cannot query due orders");
	return 0;
}

/* a rule as a column: 0 or 1 on either engine (PostgreSQL's booleans
 * read as 't' and 'f') */
#define B(rule) "CASE WHEN " rule " THEN 1 ELSE 0 END"

/* The facts query: each rule of the due query of kind K, as a column,
 * for order ?12 (?3 the campaign, ?6 max_rating, ?10 the channels that
 * get no reminder). */
static void facts_sql(enum cd_due_kind k, enum cd_trigger t, int pg, char *sql, size_t len)
{
	const char *col = trigger_column(t);
	const char *supp = pg ? B(SUPPRESSED_PG) : B(SUPPRESSED);

	if (k == CD_DUE_APOLOGY)
		snprintf(sql, len, "SELECT o.status, 0, %s, " B(MESSAGED) ", 0, 0, 0, f.received, 0"
			 " FROM orders o LEFT JOIN feedback f ON f.order_id = o.order_id"
			 "  AND f.rating <= ?6 AND f.id = " FIRST_LOW
			 " WHERE o.order_id = ?12", supp);
	else if (k == CD_DUE_REMINDER)
		snprintf(sql, len, "SELECT o.status, " B(EXCLUDED_STATUS) ", %s, " B(REMINDED) ", "
			 B(HAS_FEEDBACK) ", " B(ANSWERED) ", %s, m.sent_at, o.%s"
			 " FROM orders o LEFT JOIN messages m ON m.order_id = o.order_id"
			 "  AND m.campaign = ?3 AND m.kind = 'request' AND m.state = 'sent'"
			 " WHERE o.order_id = ?12", supp,
			 pg ? B(NO_REMINDER_CHANNEL_PG) : B(NO_REMINDER_CHANNEL), col);
	else
		snprintf(sql, len, "SELECT o.status, " B(EXCLUDED_STATUS) ", %s, " B(MESSAGED) ", "
			 B(HAS_FEEDBACK) ", 0, 0, o.%s, 0 FROM orders o WHERE o.order_id = ?12",
			 supp, col);
}

int cd_store_due_facts(struct cd_store *st, const struct cd_store_due_query *q,
		       struct cd_due_facts *f, struct cd_error *err)
{
	struct cd_buf json = { 0 };
	struct cd_db_stmt *s;
	const char *status;
	char sql[2048];
	int rc;

	memset(f, 0, sizeof(*f));
	facts_sql(q->kind, q->trigger, cd_db_engine(st) == CD_STORE_POSTGRESQL, sql, sizeof(sql));
	cd_db_json_strings(&json, q->no_reminder, NULL, 0,
				   q->no_reminder ? q->nno_reminder : 0);
	if (json.oom) {
		cd_buf_free(&json);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	if (!(s = cd_db_prepare(st, sql))) {
		cd_buf_free(&json);
		return cd_store_fail(st, err, "cannot read the order");
	}
	cd_db_bind_text(s, 3, q->campaign);
	cd_db_bind_int(s, 6, q->max_rating);
	cd_db_bind_text(s, 10, json.data);
	cd_db_bind_text(s, 12, q->order_id);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW) {
		status = cd_db_text(s, 0);
		snprintf(f->status, sizeof(f->status), "%s", status ? status : "");
		f->excluded = cd_db_int(s, 1) != 0;
		f->suppressed = cd_db_int(s, 2) != 0;
		f->messaged = cd_db_int(s, 3) != 0;
		f->feedback = cd_db_int(s, 4) != 0;
		f->answered = cd_db_int(s, 5) != 0;
		f->no_reminder = cd_db_int(s, 6) != 0;
		f->has_base = !cd_db_is_null(s, 7);
		f->base = f->has_base ? cd_db_int(s, 7) : 0;
		f->trigger = cd_db_is_null(s, 8) ? 0 : cd_db_int(s, 8);
		rc = 0;
	} else if (rc == CD_DB_DONE) {
		rc = cd_error_set(err, CD_ENOTFOUND, NULL, 0, "no order \"%s\"", q->order_id);
	} else {
		rc = cd_store_fail(st, err, "cannot read the order");
	}
	cd_db_done(s);
	cd_buf_free(&json);
	return rc;
}

int cd_store_due_order(struct cd_store *st, const char *order_id, const char *campaign,
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
	struct cd_db_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(s = cd_db_prepare(st, sql)))
		return cd_store_fail(st, err, "cannot read the order");
	cd_db_bind_text(s, 1, order_id);
	cd_db_bind_text(s, 2, campaign);
	cd_db_bind_int(s, 3, k == CD_DUE_APOLOGY);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW)
		rc = read_order(s, out) < 0
			? cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory") : 0;
	else if (rc == CD_DB_DONE)
		rc = cd_error_set(err, CD_ENOTFOUND, NULL, 0, "no order \"%s\"", order_id);
	else
		rc = cd_store_fail(st, err, "cannot read the order");
	cd_db_done(s);
	return rc;
}

/* The first column of the one row SQL gives, with ?1 = ARG when it has
 * a parameter: 1 and *V; 0 for no row or NULL; CD_ESTORE. */
static int one_int(struct cd_store *st, const char *sql, int64_t arg, int64_t *v)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);
	int rc;

	if (!s)
		return CD_ESTORE;
	if (cd_db_params(s) > 0)
		cd_db_bind_int(s, 1, arg);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW && !cd_db_is_null(s, 0)) {
		*v = cd_db_int(s, 0);
		rc = 1;
	} else {
		rc = rc < 0 ? CD_ESTORE : 0;
	}
	cd_db_done(s);
	return rc;
}

int64_t cd_store_due_change_mark(struct cd_store *st, enum cd_due_kind k)
{
	int64_t v = 0;

	/* PostgreSQL: every transaction older than this one's horizon has
	 * ended, so what a pass reads from here on includes all it wrote */
	if (one_int(st, cd_db_engine(st) == CD_STORE_POSTGRESQL
		    ? "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
		    : k == CD_DUE_APOLOGY ? "SELECT max(id) FROM feedback"
		    : "SELECT max(seq) FROM order_changes", 0, &v) <= 0)
		return 0;
	return v;
}

int cd_store_due_position(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			  const char *rules, const char *const *no_reminder, size_t nno,
			  int64_t *hwm, int64_t *mark)
{
	char *params = position_params(rules, no_reminder, nno);
	struct cd_db_stmt *s;
	const char *stored;
	int rc = 0;

	if (!params)
		return CD_ENOMEM;
	if (!(s = cd_db_cached(st, "SELECT params, hwm, mark FROM scan_state"
			       " WHERE campaign = ?1 AND kind = ?2"))) {
		free(params);
		return CD_ESTORE;
	}
	cd_db_bind_text(s, 1, campaign);
	cd_db_bind_text(s, 2, kind_value(k));
	switch (cd_db_step(s)) {
	case CD_DB_ROW:
		if ((stored = cd_db_text(s, 0)) && strcmp(stored, params) == 0) {
			*hwm = cd_db_int(s, 1);
			*mark = cd_db_int(s, 2);
			rc = 1;
		}
		break;
	case CD_DB_DONE:
		break;
	default:
		rc = CD_ESTORE;
	}
	cd_db_done(s);
	free(params);
	return rc;
}

int cd_store_due_save_position(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			       const char *rules, const char *const *no_reminder, size_t nno,
			       int64_t hwm, int64_t mark, int64_t now, struct cd_error *err)
{
	char *params = position_params(rules, no_reminder, nno);
	struct cd_db_stmt *s;
	int rc;

	if (!params)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	s = cd_db_cached(st, CD_DB_PICK(st, "INSERT OR REPLACE INTO scan_state(campaign, kind,"
					" params, hwm, mark) VALUES (?1, ?2, ?3, ?4, ?5)",
					"INSERT INTO scan_state(campaign, kind, params, hwm, mark)"
					" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (campaign, kind)"
					" DO UPDATE SET params = excluded.params, hwm = excluded.hwm,"
					" mark = excluded.mark"));
	if (s) {
		cd_db_bind_text(s, 1, campaign);
		cd_db_bind_text(s, 2, kind_value(k));
		cd_db_bind_text(s, 3, params);
		cd_db_bind_int(s, 4, hwm);
		cd_db_bind_int(s, 5, mark);
	}
	rc = cd_db_run(st, s, err, "cannot save the scheduler's position");
	free(params);
	if (rc < 0)
		return rc;
	/* what waited and was not seen again went, expired or was excluded */
	s = cd_db_cached(st, "DELETE FROM waiting WHERE campaign = ?1 AND kind = ?2 AND seen < ?3");
	if (s) {
		cd_db_bind_text(s, 1, campaign);
		cd_db_bind_text(s, 2, kind_value(k));
		cd_db_bind_int(s, 3, now);
	}
	return cd_db_run(st, s, err, "cannot save the scheduler's position");
}

int cd_store_due_remember_waiting(struct cd_store *st, const char *campaign,
				  enum cd_due_kind k, const char *order_id, int64_t now,
				  struct cd_error *err)
{
	struct cd_db_stmt *s;

	s = cd_db_cached(st, CD_DB_PICK(st, "INSERT INTO waiting(campaign, kind, order_id, seen)"
					" VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET seen = excluded.seen",
					"INSERT INTO waiting(campaign, kind, order_id, seen)"
					" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (campaign, kind, order_id)"
					" DO UPDATE SET seen = excluded.seen"));
	if (s) {
		cd_db_bind_text(s, 1, campaign);
		cd_db_bind_text(s, 2, kind_value(k));
		cd_db_bind_text(s, 3, order_id);
		cd_db_bind_int(s, 4, now);
	}
	return cd_db_run(st, s, err, "cannot remember a waiting order");
}

int cd_store_due_forget_changes(struct cd_store *st, int64_t before, struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st, CD_DB_PICK(st, "DELETE FROM order_changes WHERE seq < ?1",
							  "DELETE FROM order_changes WHERE xact < ?1"));

	if (s)
		cd_db_bind_int(s, 1, before);
	return cd_db_run(st, s, err, "cannot trim order_changes");
}

int cd_store_due_first_after(struct cd_store *st, enum cd_trigger t, int64_t after,
			     int64_t *first)
{
	const char *sql = t == CD_TRIGGER_NEGATIVE_FEEDBACK
		? "SELECT min(received) FROM feedback WHERE received > ?1"
		: t == CD_TRIGGER_SHIPPED
		? "SELECT min(shipped) FROM orders WHERE shipped > ?1"
		: "SELECT min(delivered) FROM orders WHERE delivered > ?1";

	return one_int(st, sql, after, first);
}

int cd_store_due_snapshot(struct cd_store *st, struct cd_error *err)
{
	/* SQLite's deferred BEGIN takes its snapshot at the first read and
	 * no write lock; PostgreSQL needs to be asked for one snapshot */
	return cd_db_exec(st, cd_db_engine(st) == CD_STORE_POSTGRESQL
			  ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", err);
}

void cd_store_due_snapshot_end(struct cd_store *st)
{
	cd_db_exec(st, "COMMIT", NULL);
}
