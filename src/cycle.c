/*
 * cycle.c - one pass of the pipeline for the campaigns triggered by
 * shipping or delivery. Each message is its own short transaction, and the
 * move to "sending" is committed before the transport sees the message:
 * a crash can lose a send, never double it.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/compose.h"
#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/log.h"
#include "candor/schedule.h"
#include "candor/store.h"
#include "candor/template.h"
#include "candor/transport.h"
#include "candor/util.h"

#define BATCH 1000

enum kind { K_REQUEST, K_REMINDER, K_APOLOGY };
static const char *const kind_names[] = { "request", "reminder", "request" };

struct order {
	char *id, *first_name, *name, *email, *locale, *total, *currency;
	char *country, *timezone, *items, *variant, *comment;
	int64_t purchased, base;
	int64_t key;    /* the candidate id, for paging */
	int rating;
	char *strings;  /* one block holding every string above */
};

struct run {
	const struct cd_cycle *c;
	struct cd_cycle_stats *stats;
	struct cd_transport *transport;
	unsigned char secret[32];
	int64_t now;
	int paused;
	int limited;            /* a sending limit was reached */
	int64_t window_used;    /* sends in the global rate's window */
	int64_t today_used;     /* sends since midnight UTC */
	int64_t next_open;      /* earliest send-window opening seen, 0 none */
	sqlite3_stmt *cap_q;    /* prepared once per cycle: run per due order */
	sqlite3_stmt *domain_q;
	int64_t seen_changes;   /* order_changes every request pass has read */
	int changes_unread;     /* some request pass did not complete */
};

static void order_clear(struct order *o)
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
#define NOT_EXCLUDED \
	" AND o.status NOT IN ('returned','refunded','cancelled')" \
	" AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = o.email)"

/* The "what is due" query of each kind. It costs what is due, not what
 * is stored: the candidates (CTE c) are only what crossed its delay
 * since the last complete pass (?8 .. ?2, an index range), what changed
 * since then (?9: order_changes or feedback ids), and what was waiting
 * for its send window or a cap. The full rules then apply to those:
 * ?1..?2 the range of the base time, ?3 the campaign, ?4 the candidate
 * after which the next batch starts (candidates are integer ids, in the
 * order the union already yields them, so no sort of whole rows is
 * needed), ?6 max_rating, ?7 the oldest trigger.
 * CROSS JOIN keeps SQLite from driving the join from the big table, and
 * candidates are integer rowids, which join and sort faster than ids. */
static void due_sql(const struct cd_campaign *cp, enum kind k, char *sql, size_t len)
{
	const char *col = trigger_column(cp->trigger);

	if (k == K_APOLOGY)
		snprintf(sql, len,
			 "WITH c(id) AS ("
			 " SELECT id FROM feedback WHERE received > ?8 AND received <= ?2"
			 " UNION SELECT id FROM feedback WHERE id > ?9"
			 " UNION SELECT g.id FROM waiting w JOIN feedback g ON g.order_id = w.order_id"
			 "  WHERE w.campaign = ?3 AND w.kind = 'request')"
			 " SELECT " ORDER_COLUMNS ", f.received, NULL, f.rating, f.comment, c.id"
			 " FROM c CROSS JOIN feedback f ON f.id = c.id"
			 " JOIN orders o ON o.order_id = f.order_id"
			 " WHERE f.received BETWEEN ?1 AND ?2 AND f.rating <= ?6"
			 " AND f.id = (SELECT min(id) FROM feedback g WHERE g.order_id = f.order_id"
			 "  AND g.rating <= ?6)"
			 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
			 "  AND m.campaign = ?3)"
			 " AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = o.email)"
			 " AND c.id > ?4 ORDER BY c.id LIMIT %d", BATCH + 1);
	else if (k == K_REMINDER)
		snprintf(sql, len,
			 "WITH c(id) AS ("
			 " SELECT id FROM messages WHERE sent_at > ?8 AND sent_at <= ?2"
			 " UNION SELECT r.id FROM waiting w JOIN messages r ON r.order_id = w.order_id"
			 "  AND r.campaign = w.campaign AND r.kind = 'request'"
			 "  WHERE w.campaign = ?3 AND w.kind = 'reminder')"
			 " SELECT " ORDER_COLUMNS ", m.sent_at, m.variant, NULL, NULL, c.id"
			 " FROM c CROSS JOIN messages m ON m.id = c.id"
			 " JOIN orders o ON o.order_id = m.order_id"
			 " WHERE m.sent_at BETWEEN ?1 AND ?2 AND m.campaign = ?3"
			 " AND m.kind = 'request' AND m.state = 'sent'"
			 " AND o.%s >= ?7" NOT_EXCLUDED
			 " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.order_id = m.order_id"
			 "  AND r.campaign = m.campaign AND r.kind = 'reminder')"
			 " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind IN"
			 "  ('replied','bounced','unsubscribed','complaint'))"
			 " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
			 " AND c.id > ?4 ORDER BY c.id LIMIT %d", col, BATCH + 1);
	else
		snprintf(sql, len,
			 "WITH c(id) AS ("
			 " SELECT rowid FROM orders WHERE %s > ?8 AND %s <= ?2"
			 " UNION SELECT o.rowid FROM order_changes ch JOIN orders o"
			 "  ON o.order_id = ch.order_id WHERE ch.seq > ?9"
			 " UNION SELECT o.rowid FROM waiting w JOIN orders o ON o.order_id = w.order_id"
			 "  WHERE w.campaign = ?3 AND w.kind = 'request')"
			 " SELECT " ORDER_COLUMNS ", o.%s, NULL, NULL, NULL, c.id"
			 " FROM c CROSS JOIN orders o ON o.rowid = c.id"
			 " WHERE o.%s BETWEEN ?1 AND ?2" NOT_EXCLUDED
			 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
			 "  AND m.campaign = ?3)"
			 " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
			 " AND c.id > ?4 ORDER BY c.id LIMIT %d", col, col, col, col, BATCH + 1);
}

/* Copy a row's strings into one block: a due order costs one malloc,
 * not twelve. NULL columns stay NULL. Returns 0 or CD_ENOMEM. */
static int read_order(sqlite3_stmt *s, struct order *o)
{
	static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14 };
	char **dst[] = { &o->id, &o->first_name, &o->name, &o->email, &o->locale,
			 &o->total, &o->currency, &o->country, &o->timezone, &o->items,
			 &o->variant, &o->comment };
	size_t total = 0, off = 0;

	for (size_t i = 0; i < 12; i++)
		total += (size_t)sqlite3_column_bytes(s, cols[i]) + 1;
	if (!(o->strings = malloc(total)))
		return CD_ENOMEM;
	for (size_t i = 0; i < 12; i++) {
		const unsigned char *t = sqlite3_column_text(s, cols[i]);
		size_t n = (size_t)sqlite3_column_bytes(s, cols[i]);

		*dst[i] = NULL;
		if (!t)
			continue;
		*dst[i] = memcpy(o->strings + off, t, n + 1);
		off += n + 1;
	}
	o->purchased = sqlite3_column_int64(s, 7);
	o->base = sqlite3_column_int64(s, 11);
	o->rating = sqlite3_column_int(s, 13);
	o->key = sqlite3_column_int64(s, 15);
	return 0;
}

struct page {
	int64_t key;        /* the last candidate of the previous batch */
};

/* Where the last complete pass of one campaign and kind stopped. */
struct scan {
	int64_t hwm;        /* base times up to here were all seen */
	int64_t mark;       /* changes up to here were all seen */
	int64_t new_mark;   /* the change sequence as this pass starts */
	char params[160];   /* the rules the state was made under */
};

static int64_t wait_of(const struct cd_campaign *cp, enum kind k)
{
	return k == K_REMINDER ? cp->reminder : cp->delay;
}

static int64_t query_int(sqlite3 *db, const char *sql, int64_t def)
{
	sqlite3_stmt *s;
	int64_t v = def;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Load the scan state; with none, or one made under other rules (a
 * changed delay, say), the pass reads the whole range once. */
static void load_scan(struct run *r, const struct cd_campaign *cp, enum kind k,
		      struct scan *sc)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s;
	int found = 0;

	snprintf(sc->params, sizeof(sc->params), "%s %lld %lld %d %lld",
		 cd_config_trigger_name(cp->trigger), (long long)cp->delay,
		 (long long)cp->expire, cp->max_rating, (long long)cp->reminder);
	sc->new_mark = k == K_APOLOGY
		? query_int(db, "SELECT coalesce(max(id), 0) FROM feedback", 0)
		: query_int(db, "SELECT coalesce(max(seq), 0) FROM order_changes", 0);
	if (sqlite3_prepare_v2(db, "SELECT params, hwm, mark FROM scan_state"
			       " WHERE campaign = ?1 AND kind = ?2", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, kind_names[k == K_REMINDER], -1, SQLITE_STATIC);
		/* a mark ahead of now means the clock went back: trust
		 * nothing and read the whole range */
		if (sqlite3_step(s) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(s, 0), sc->params) == 0 &&
		    sqlite3_column_int64(s, 1) <= r->now - wait_of(cp, k)) {
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
static int save_scan(struct run *r, const struct cd_campaign *cp, enum kind k,
		     const struct scan *sc, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s = NULL, *w = NULL;
	int ok;

	ok = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO scan_state(campaign, kind, params,"
				" hwm, mark) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &s, NULL) == SQLITE_OK &&
	     sqlite3_prepare_v2(db, "DELETE FROM waiting WHERE campaign = ?1 AND kind = ?2"
				" AND seen < ?3", -1, &w, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, kind_names[k == K_REMINDER], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, sc->params, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, r->now - wait_of(cp, k));
		sqlite3_bind_int64(s, 5, sc->new_mark);
		sqlite3_bind_text(w, 1, cp->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(w, 2, kind_names[k == K_REMINDER], -1, SQLITE_STATIC);
		sqlite3_bind_int64(w, 3, r->now);
		ok = sqlite3_step(s) == SQLITE_DONE && sqlite3_step(w) == SQLITE_DONE;
	}
	sqlite3_finalize(s);
	sqlite3_finalize(w);
	return ok ? 0 : cd_store_fail(r->c->store, err, "cannot save the scheduler's position");
}

/* Remember an order that is due but must wait, so the next pass finds it
 * without reading the whole range. */
static int remember_waiting(struct run *r, const struct cd_campaign *cp, enum kind k,
			    const struct order *o)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(cd_store_db(r->c->store),
			       "INSERT INTO waiting(campaign, kind, order_id, seen) VALUES (?1, ?2, ?3, ?4)"
			       " ON CONFLICT DO UPDATE SET seen = excluded.seen", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind_names[k == K_REMINDER], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, r->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

/* Read the next batch into OUT; *MORE tells whether another follows (the
 * query asks for one row beyond the batch, so the last page costs no
 * extra query). */
static int due_orders(struct run *r, const struct cd_campaign *cp, enum kind k,
		      const struct scan *sc, struct page *pg, struct order *out,
		      size_t *n, int *more, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(r->c->store);
	int64_t oldest = r->now - cp->expire;
	sqlite3_stmt *s;
	char sql[3072];
	int rc;

	due_sql(cp, k, sql, sizeof(sql));
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(r->c->store, err, "cannot query due orders");
	/* a reminder's own clock starts at the request, but the campaign's
	 * expiry still counts from the trigger (?7) */
	sqlite3_bind_int64(s, 1, k == K_REMINDER ? INT64_MIN : oldest);
	sqlite3_bind_int64(s, 2, r->now - wait_of(cp, k));
	sqlite3_bind_text(s, 3, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, pg->key);
	sqlite3_bind_int(s, 6, cp->max_rating);
	sqlite3_bind_int64(s, 7, oldest);
	sqlite3_bind_int64(s, 8, sc->hwm);
	sqlite3_bind_int64(s, 9, sc->mark);
	*more = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == BATCH) {
			*more = 1;
			break;
		}
		if (read_order(s, &out[*n]) < 0) {
			sqlite3_finalize(s);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory reading due orders");
		}
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return cd_store_fail(r->c->store, err, "cannot query due orders");
	if (*n > 0)
		pg->key = out[*n - 1].key;
	return 0;
}

/* Same order, same campaign, same arm: a restart never moves an order. */
static const struct cd_variant *pick_variant(const struct cd_campaign *cp,
					     const char *order_id)
{
	uint64_t h = 1469598103934665603ULL, total = 0, x;

	for (const char *p = order_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = cp->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = 0; i < cp->nvariants; i++)
		total += cp->variants[i].weight;
	x = h % total;
	for (size_t i = 0; i < cp->nvariants; i++) {
		if (x < cp->variants[i].weight)
			return &cp->variants[i];
		x -= cp->variants[i].weight;
	}
	return &cp->variants[0];
}

/* An unguessable token: HMAC of the order, campaign and kind under the
 * secret from "candorctl init", so a forged reply cannot name another
 * order. */
static void make_token(const struct run *r, const char *order_id,
		       const char *campaign, enum kind k, char out[33])
{
	unsigned char mac[32];
	char data[512];
	int n = snprintf(data, sizeof(data), "%s\n%s\n%s", order_id, campaign,
			 k == K_REMINDER ? "reminder" : "request");

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, r->secret, sizeof(r->secret), data,
			 (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1, mac);
	cd_util_hex(mac, 16, out);
}

/* "feedback@shop" + token -> "feedback+TOKEN@shop" */
static char *tagged_address(const char *addr, const char *tag)
{
	const char *at = strchr(addr, '@');
	char *out;

	if (!at || asprintf(&out, "%.*s+%s%s", (int)(at - addr), addr, tag, at) < 0)
		return NULL;
	return out;
}

/* order.items from the stored JSON; entries that are not objects with a
 * name are left out rather than failing the mail. */
static int add_items(struct cd_tdata *order, const char *json)
{
	struct cd_tdata *list = cd_tdata_set_list(order, "items");
	json_object *arr = json ? json_tokener_parse(json) : NULL;
	int bad = !list;

	for (size_t i = 0; !bad && arr && json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		json_object *it = json_object_array_get_idx(arr, i), *name, *qty;
		struct cd_tdata *m;
		char q[24];

		if (!json_object_object_get_ex(it, "name", &name))
			continue;
		snprintf(q, sizeof(q), "%d", json_object_object_get_ex(it, "quantity", &qty)
			 ? json_object_get_int(qty) : 1);
		m = cd_tdata_append_map(list);
		bad = !m || cd_tdata_set_string(m, "name", json_object_get_string(name)) ||
		      cd_tdata_set_string(m, "quantity", q);
	}
	json_object_put(arr);
	return bad ? CD_ENOMEM : 0;
}

static struct cd_tdata *order_data(const struct run *r, const struct order *o,
				   const char *unsub)
{
	const struct cd_config *cfg = r->c->cfg;
	struct cd_tdata *d = cd_tdata_map(), *m;
	char date[16] = "", rating[8];
	int bad = !d;

	if (o->purchased > 0) {
		time_t t = (time_t)o->purchased;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	}
	if (!bad && (m = cd_tdata_set_map(d, "customer")))
		bad |= cd_tdata_set_string(m, "first_name", o->first_name) |
		       cd_tdata_set_string(m, "name", o->name);
	if (!bad && (m = cd_tdata_set_map(d, "order")))
		bad |= cd_tdata_set_string(m, "id", o->id) |
		       cd_tdata_set_string(m, "date", date) |
		       cd_tdata_set_string(m, "total", o->total) |
		       cd_tdata_set_string(m, "currency", o->currency) |
		       add_items(m, o->items);
	if (!bad && (m = cd_tdata_set_map(d, "shop")))
		bad |= cd_tdata_set_string(m, "name", cfg->shop.name) |
		       cd_tdata_set_string(m, "support", cfg->shop.support);
	if (!bad && (m = cd_tdata_set_map(d, "links")))
		bad |= cd_tdata_set_string(m, "unsubscribe", unsub);
	if (!bad && o->rating > 0 && (m = cd_tdata_set_map(d, "feedback"))) {
		snprintf(rating, sizeof(rating), "%d", o->rating);
		bad |= cd_tdata_set_string(m, "rating", rating) |
		       cd_tdata_set_string(m, "comment", o->comment);
	}
	if (bad) {
		cd_tdata_free(d);
		return NULL;
	}
	return d;
}

static int exec_msg(struct run *r, const char *sql, int64_t id, const char *a,
		    const char *b)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, r->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

/* Move message ID to STATE with REASON, and record an event; one
 * committed transaction. */
static int set_state(struct run *r, int64_t id, const char *state,
		     const char *reason, struct cd_error *err)
{
	struct cd_store *st = r->c->store;

	if (cd_store_begin(st, err) < 0)
		return CD_ESTORE;
	if (exec_msg(r, "UPDATE messages SET state = ?2, reason = ?3, updated = ?4,"
		     " attempts = attempts + (?2 IN ('sent','deferred','failed')),"
		     " sent_at = CASE WHEN ?2 = 'sending' THEN ?4 ELSE sent_at END"
		     " WHERE id = ?1", id, state, reason) < 0 ||
	    exec_msg(r, "INSERT INTO events(message, order_id, kind, detail, at)"
		     " SELECT id, order_id, ?2, ?3, ?4 FROM messages WHERE id = ?1",
		     id, state, reason) < 0) {
		cd_store_fail(st, err, "cannot record message state");
		cd_store_rollback(st);
		return CD_ESTORE;
	}
	return cd_store_commit(st, err);
}

struct prepared {
	enum kind kind;
	const struct cd_variant *v;
	const char *template;
	char token[33], msgid[128];
	char *reply_to, *unsub;
	struct cd_rendered parts;
	char *mail;
	size_t len;
	char reason[512];  /* why it is held, "" when it can go */
};

static void prepared_clear(struct prepared *p)
{
	free(p->reply_to);
	free(p->unsub);
	free(p->mail);
	cd_rendered_clear(&p->parts);
}

static int insert_message(struct run *r, const struct order *o,
			  const struct cd_campaign *cp, const struct prepared *p,
			  int64_t *id, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO messages(order_id, campaign, variant, kind, state, recipient,"
			       " message_id, token, subject, created, updated)"
			       " VALUES (?1, ?2, ?3, ?9, 'rendered', ?4, ?5, ?6, ?7, ?8, ?8)",
			       -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(r->c->store, err, "cannot record message");
	sqlite3_bind_text(s, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, o->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->token, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->parts.subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, r->now);
	sqlite3_bind_text(s, 9, kind_names[p->kind], -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cd_store_fail(r->c->store, err, "cannot record message");
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

/* A reminder keeps the request's variant, so the experiment stays clean;
 * a variant removed from the config since then falls back to the hash. */
static const struct cd_variant *variant_for(const struct cd_campaign *cp,
					    const struct order *o)
{
	for (size_t i = 0; o->variant && i < cp->nvariants; i++)
		if (strcmp(cp->variants[i].name, o->variant) == 0)
			return &cp->variants[i];
	return pick_variant(cp, o->id);
}

/* Render and compose; a problem with the template or the customer's data
 * is a reason to hold the message, not an error of the cycle. */
static int prepare(struct run *r, const struct cd_campaign *cp,
		   const struct order *o, struct prepared *p)
{
	const struct cd_config *cfg = r->c->cfg;
	struct cd_tdata *data = NULL;
	unsigned char rnd[12];
	char hex[25], tag[40];
	struct cd_error err;
	int rc = 0;

	p->v = variant_for(cp, o);
	p->template = p->kind == K_REMINDER ? cp->reminder_template : p->v->template;
	make_token(r, o->id, cp->name, p->kind, p->token);
	if (cd_util_random(rnd, sizeof(rnd)) < 0)
		return CD_EIO;
	cd_util_hex(rnd, sizeof(rnd), hex);
	snprintf(p->msgid, sizeof(p->msgid), "%s.%s@%s", hex, p->token, cfg->shop.domain);
	snprintf(tag, sizeof(tag), "u-%s", p->token);
	p->reply_to = tagged_address(cfg->shop.reply_to, p->token);
	p->unsub = tagged_address(cfg->shop.reply_to, tag);
	if (!p->reply_to || !p->unsub || !(data = order_data(r, o, p->unsub))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if (cd_templates_render(r->c->tpl, p->template, o->locale, data, &p->parts, &err) < 0) {
		cd_error_format(&err, p->reason, sizeof(p->reason));
		goto out;
	}
	struct cd_mail m = {
		.from_name = cfg->shop.name, .from_addr = cfg->shop.from,
		.to_name = o->name, .to_addr = o->email, .reply_to = p->reply_to,
		.subject = p->parts.subject, .text = p->parts.text, .html = p->parts.html,
		.message_id = p->msgid, .unsubscribe_mailto = p->unsub, .date = r->now,
	};
	if (cd_compose(&m, &p->mail, &p->len, &err) < 0)
		snprintf(p->reason, sizeof(p->reason), "cannot compose: %.480s", err.msg);
out:
	cd_tdata_free(data);
	return rc;
}

static const char *outcome_state(enum cd_send_outcome o)
{
	switch (o) {
	case CD_SEND_SENT: return "sent";
	case CD_SEND_FAILED: return "failed";
	case CD_SEND_PAUSED: return "queued";
	default: return "deferred";
	}
}

static int deliver(struct run *r, int64_t id, const struct order *o,
		   const struct prepared *p, struct cd_error *err)
{
	const struct cd_config *cfg = r->c->cfg;
	struct cd_outgoing out = {
		.envelope_from = *cfg->smtp.envelope_from ? cfg->smtp.envelope_from
							   : cfg->shop.from,
		.recipient = o->email, .message_id = p->msgid,
		.data = p->mail, .len = p->len,
	};
	struct cd_send_result res;
	int rc;

	if ((rc = set_state(r, id, "queued", NULL, err)) < 0 ||
	    (rc = set_state(r, id, "sending", NULL, err)) < 0)
		return rc;
	cd_transport_send(r->transport, &out, &res);
	if (res.outcome == CD_SEND_PAUSED) {
		r->paused = 1;
		cd_log(CD_LOG_ERR, "sending paused: the server refused our credentials or sender (%s); no message is marked failed for it",
		       res.reply);
	}
	rc = set_state(r, id, outcome_state(res.outcome), res.reply, err);
	if (rc == 0)
		cd_log(res.outcome == CD_SEND_SENT ? CD_LOG_INFO : CD_LOG_WARNING,
		       "order %s: %s %s <%s> via %s: %s", o->id, kind_names[p->kind],
		       outcome_state(res.outcome), p->msgid, cd_transport_name(r->transport),
		       res.reply);
	if (res.outcome == CD_SEND_SENT)
		r->stats->sent++;
	else if (res.outcome == CD_SEND_FAILED)
		r->stats->failed++;
	return rc;
}

/* Run a count with ?1 = SINCE and ?2 = TEXT. *CACHE (may be NULL) keeps
 * the statement for the rest of the cycle: these run once per due order. */
static int64_t count_query(struct run *r, sqlite3_stmt **cache, const char *sql,
			   const char *text, int64_t since, struct cd_error *err)
{
	sqlite3_stmt *s = cache ? *cache : NULL;
	int64_t n = -1;

	if (!s && sqlite3_prepare_v3(cd_store_db(r->c->store), sql, -1,
				     cache ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL) != SQLITE_OK)
		return cd_store_fail(r->c->store, err, "cannot count messages");
	sqlite3_bind_int64(s, 1, since);
	if (text)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	if (cache) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		*cache = s;
	} else {
		sqlite3_finalize(s);
	}
	if (n < 0)
		return cd_store_fail(r->c->store, err, "cannot count messages");
	return n;
}

static int64_t count_since(struct run *r, int64_t since, struct cd_error *err)
{
	return count_query(r, NULL, "SELECT count(*) FROM messages WHERE sent_at >= ?1", NULL,
			   since, err);
}

/* The limits count what the database says was sent, so they hold across
 * restarts without any state of their own. */
static int load_limits(struct run *r, struct cd_error *err)
{
	const struct cd_config *cfg = r->c->cfg;

	r->window_used = r->today_used = 0;
	if (cfg->limits.global_rate.count &&
	    (r->window_used = count_since(r, r->now - cfg->limits.global_rate.per_seconds + 1,
					  err)) < 0)
		return CD_ESTORE;
	if (cfg->limits.daily_cap &&
	    (r->today_used = count_since(r, r->now - r->now % 86400, err)) < 0)
		return CD_ESTORE;
	return 0;
}

static int limit_reached(struct run *r)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *which = NULL;

	if (cfg->limits.global_rate.count &&
	    r->window_used >= cfg->limits.global_rate.count)
		which = "limits.global_rate";
	else if (cfg->limits.daily_cap && r->today_used >= cfg->limits.daily_cap)
		which = "limits.daily_cap";
	if (which && !r->limited)
		cd_log(CD_LOG_NOTICE, "%s reached; due orders wait for the next cycle", which);
	r->limited = which != NULL;
	return r->limited;
}

/* Why O must wait (a reason for the debug log), or NULL when it may go
 * now: the send window in the customer's zone, the per-customer cap and
 * the per-domain rate. */
static const char *must_wait(struct run *r, const struct order *o, struct cd_error *err,
			     int *failed)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *tz = cd_schedule_zone(o->timezone, o->country, cfg->shop.timezone);
	int64_t open = cd_schedule_next_open(r->now, tz, &cfg->window), n;
	const char *at = strchr(o->email, '@');

	*failed = 0;
	if (open != r->now) {
		if (open > 0 && (!r->next_open || open < r->next_open))
			r->next_open = open;
		return "outside the send window";
	}
	if (cfg->limits.per_customer) {
		n = count_query(r, &r->cap_q, "SELECT count(*) FROM messages WHERE created >= ?1"
				" AND recipient = ?2 COLLATE NOCASE"
				" AND state NOT IN ('held','failed')",
				o->email, r->now - cfg->limits.per_customer_period, err);
		if (n < 0)
			return *failed = 1, "";
		if (n >= cfg->limits.per_customer)
			return "per-customer cap reached";
	}
	if (cfg->limits.domain_rate.count && at) {
		n = count_query(r, &r->domain_q, "SELECT count(*) FROM messages WHERE sent_at >= ?1"
				" AND recipient_domain = lower(?2)", at + 1,
				r->now - cfg->limits.domain_rate.per_seconds + 1, err);
		if (n < 0)
			return *failed = 1, "";
		if (n >= cfg->limits.domain_rate.count)
			return "limits.domain_rate reached for the recipient's domain";
	}
	return NULL;
}

static int process_order(struct run *r, const struct cd_campaign *cp, enum kind k,
			 const struct order *o, struct cd_error *err)
{
	struct prepared p = { .kind = k };
	const char *wait;
	int64_t id = 0;
	int rc, failed;

	if ((wait = must_wait(r, o, err, &failed)) != NULL) {
		if (failed)
			return CD_ESTORE;
		cd_log(CD_LOG_DEBUG, "order %s: %s %s waits: %s", o->id, cp->name,
		       kind_names[k], wait);
		if (!r->c->plan_only && remember_waiting(r, cp, k, o) < 0)
			return cd_store_fail(r->c->store, err, "cannot remember a waiting order");
		return 0;
	}
	r->stats->due++;
	if (r->c->plan_only)
		return 0;
	if ((rc = prepare(r, cp, o, &p)) < 0) {
		cd_error_set(err, rc, NULL, 0, "out of memory preparing order %s", o->id);
		goto out;
	}
	rc = insert_message(r, o, cp, &p, &id, err);
	if (rc < 0)
		goto out;
	if (p.reason[0]) {
		r->stats->held++;
		cd_log(CD_LOG_WARNING, "order %s: held: %s", o->id, p.reason);
		rc = set_state(r, id, "held", p.reason, err);
		goto out;
	}
	if (p.parts.missing)
		cd_log(CD_LOG_WARNING, "order %s: %zu template value(s) empty in %s/%s",
		       o->id, p.parts.missing, p.template, p.parts.locale);
	rc = deliver(r, id, o, &p, err);
	r->window_used++;
	r->today_used++;
out:
	prepared_clear(&p);
	return rc;
}

/* Can the cycle go on with the next message? */
static int may_continue(struct run *r)
{
	if (r->c->stop && *r->c->stop)
		r->stats->interrupted = 1;
	return !r->paused && !r->stats->interrupted && !limit_reached(r);
}

/* Work through the due orders of one kind a batch at a time, so memory
 * stays flat however many are due. */
static int run_kind(struct run *r, const struct cd_campaign *cp, enum kind k,
		    struct order *orders, struct cd_error *err)
{
	struct page pg = { .key = INT64_MIN };
	struct scan sc;
	size_t n = 0;
	int rc = 0, complete = 1, more = 1;

	load_scan(r, cp, k, &sc);
	while (rc == 0 && more && complete) {
		size_t i = 0;

		if (!(complete = may_continue(r)))
			break;
		rc = due_orders(r, cp, k, &sc, &pg, orders, &n, &more, err);
		for (; rc == 0 && i < n; i++) {
			if (!(complete = may_continue(r)))
				break;
			rc = process_order(r, cp, k, &orders[i], err);
			if (r->c->tick)
				r->c->tick(r->c->tick_arg);
		}
		for (i = 0; i < n; i++)
			order_clear(&orders[i]);
	}
	/* Only a pass that saw everything may move the state on; otherwise
	 * the next one reads the same range again. */
	if (rc == 0 && complete && !r->stats->interrupted && !r->paused && !r->c->plan_only)
		rc = save_scan(r, cp, k, &sc, err);
	else if (k == K_REQUEST)
		r->changes_unread = 1;
	if (k == K_REQUEST && (!r->seen_changes || sc.new_mark < r->seen_changes))
		r->seen_changes = sc.new_mark;
	return rc;
}

static int run_campaign(struct run *r, const struct cd_campaign *cp,
			struct cd_error *err)
{
	struct order *orders = calloc(BATCH, sizeof(*orders));
	int rc;

	if (!orders)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	if (cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK) {
		rc = run_kind(r, cp, K_APOLOGY, orders, err);
	} else {
		rc = run_kind(r, cp, K_REQUEST, orders, err);
		if (rc == 0 && cp->reminder)
			rc = run_kind(r, cp, K_REMINDER, orders, err);
	}
	free(orders);
	return rc;
}

/* When will the next order become due? One indexed MIN per campaign and
 * trigger; a due order that waits for its send window counts at the
 * window's opening. */
int64_t cd_cycle_next_due(const struct cd_config *cfg, struct cd_store *store,
			  int64_t now)
{
	sqlite3 *db = cd_store_db(store);
	int64_t next = 0;

	for (size_t i = 0; i < cfg->ncampaigns; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];
		const char *sql = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK
			? "SELECT min(received) FROM feedback WHERE received > ?1"
			: cp->trigger == CD_TRIGGER_SHIPPED
			? "SELECT min(shipped) FROM orders WHERE shipped > ?1"
			: "SELECT min(delivered) FROM orders WHERE delivered > ?1";
		sqlite3_stmt *s;

		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_int64(s, 1, now - cp->delay);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
			int64_t t = sqlite3_column_int64(s, 0) + cp->delay;

			if (!next || t < next)
				next = t;
		}
		sqlite3_finalize(s);
	}
	return next;
}

int cd_cycle_run(const struct cd_cycle *c, struct cd_cycle_stats *stats,
		 struct cd_error *err)
{
	struct run r = { .c = c, .stats = stats, .now = cd_util_now() };
	int rc, outer = 0;

	memset(stats, 0, sizeof(*stats));
	if ((rc = cd_store_secret(c->store, r.secret, err)) < 0)
		return rc;
	if (!c->plan_only &&
	    (rc = cd_transport_open(c->cfg, c->dry_run, &r.transport, err)) < 0)
		goto out;
	/* A dry run does all the work inside one transaction and throws it
	 * away, so a real run afterwards still sends everything. */
	if (c->dry_run) {
		if ((rc = cd_store_begin(c->store, err)) < 0)
			goto out;
		outer = 1;
	} else if (c->plan_only) {
		/* one read snapshot for the whole plan, not a lock per query */
		if ((rc = cd_store_exec(c->store, "BEGIN", err)) < 0)
			goto out;
		outer = 2;
	}
	if ((rc = load_limits(&r, err)) < 0)
		goto out;
	size_t i = 0;

	for (; rc == 0 && i < c->cfg->ncampaigns && may_continue(&r); i++)
		rc = run_campaign(&r, &c->cfg->campaigns[i], err);
	if (i < c->cfg->ncampaigns)
		r.changes_unread = 1; /* a campaign that did not run has not read them */
	/* every request campaign has read the change log this far */
	if (rc == 0 && !r.changes_unread && r.seen_changes && !c->plan_only)
		rc = exec_msg(&r, "DELETE FROM order_changes WHERE seq < ?1", r.seen_changes,
			      NULL, NULL) < 0 ? cd_store_fail(c->store, err, "cannot trim order_changes")
					       : 0;
	stats->next_due = cd_cycle_next_due(c->cfg, c->store, r.now);
	if (r.next_open && (!stats->next_due || r.next_open < stats->next_due))
		stats->next_due = r.next_open;
out:
	sqlite3_finalize(r.cap_q);
	sqlite3_finalize(r.domain_q);
	cd_schedule_restore_zone();
	if (outer == 1)
		cd_store_rollback(c->store);
	else if (outer == 2)
		cd_store_exec(c->store, "COMMIT", NULL);
	cd_transport_close(r.transport);
	cd_util_wipe(r.secret, sizeof(r.secret));
	return rc;
}

int64_t cd_cycle_report_interrupted(struct cd_store *store, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(store);
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT order_id, message_id FROM messages"
			       " WHERE state = 'sending' ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(store, err, "cannot look for interrupted sends");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ < 20)
			cd_log(CD_LOG_WARNING,
			       "order %s: message <%s> was being sent when candord stopped; it is not sent again",
			       sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cd_store_fail(store, err, "cannot look for interrupted sends");
	if (n > 20)
		cd_log(CD_LOG_WARNING, "... and %lld more interrupted sends (see 'candorctl status')",
		       (long long)(n - 20));
	return n;
}
