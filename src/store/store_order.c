/*
 * store_order.c - orders and feedback as sources write them (see
 * store_order.h). One cached statement per verb: an import calls the
 * upsert once per row, a million times for a big shop.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/order.h"
#include "candor/store_order.h"
#include "db.h"

/* On conflict, the row as stored is T's: bare column names in SQLite,
 * which PostgreSQL would find ambiguous beside "excluded". */
#define INSERT_ORDER(OR) \
	"INSERT " OR "INTO orders(order_id, channel, customer_id, first_name, name, email," \
	" locale, country, timezone, items, total, currency, purchased, shipped," \
	" delivered, status, updated, source, source_time) VALUES (?1, coalesce(?2, 'web'), ?3," \
	" ?4, ?5, ?6, coalesce(?7, ?20), ?8, ?9, coalesce(?10, '[]'), ?11, ?12, ?13, ?14, ?15," \
	" coalesce(?16, 'open'), ?17, ?18, ?19)"
#define UPSERT_ORDER(T) INSERT_ORDER("") \
	" ON CONFLICT(order_id) DO UPDATE SET channel = coalesce(?2, " T "channel)," \
	" customer_id = coalesce(?3, " T "customer_id), first_name = coalesce(?4, " T "first_name)," \
	" name = coalesce(?5, " T "name), email = coalesce(?6, " T "email)," \
	" locale = coalesce(?7, " T "locale, ?20)," \
	" country = coalesce(?8, " T "country), timezone = coalesce(?9, " T "timezone)," \
	" items = coalesce(?10, " T "items), total = coalesce(?11, " T "total)," \
	" currency = coalesce(?12, " T "currency), purchased = coalesce(?13, " T "purchased)," \
	" shipped = coalesce(?14, " T "shipped), delivered = coalesce(?15, " T "delivered)," \
	" status = coalesce(?16, " T "status), updated = ?17, source = coalesce(?18, " T "source)," \
	" source_time = coalesce(?19, " T "source_time)"

static const char sql_upsert_order[] = UPSERT_ORDER("");
static const char sql_upsert_order_pg[] = UPSERT_ORDER("orders.");
/* A new order in SQLite: an upsert always opens a statement journal
 * (its DO UPDATE may abort half way), which costs a third of the row on
 * a backfill; OR FAIL needs none, and a key already there is looked up
 * first. A failure still fails the caller's transaction. */
static const char sql_insert_order[] = INSERT_ORDER("OR FAIL ");

static const char sql_add_feedback[] =
	"INSERT INTO feedback(order_id, rating, comment, source, received)"
	" VALUES (?1, ?2, ?3, coalesce(?4, 'shop'), ?5) ON CONFLICT DO NOTHING";

/* "Not given" is NULL whichever way a source says it. */
static void bind_given(struct cd_db_stmt *s, int i, const char *v)
{
	cd_db_bind_text(s, i, v && *v ? v : NULL);
}

int cd_store_order_upsert(struct cd_store *st, const struct cd_order *o, int64_t updated,
			  struct cd_error *err)
{
	const char *sql = CD_DB_PICK(st, sql_upsert_order, sql_upsert_order_pg);
	struct cd_db_stmt *s;
	const char *text[12] = {
		o->id, o->channel, o->customer_id, o->first_name, o->name, o->email,
		o->locale, o->country, o->timezone, o->items, o->total, o->currency,
	};

	if (cd_db_engine(st) == CD_STORE_SQLITE && o->id) {
		int known = cd_store_order_exists(st, o->id);

		if (known < 0)
			return cd_store_fail(st, err, "cannot read orders");
		if (!known)
			sql = sql_insert_order;
	}
	if ((s = cd_db_cached(st, sql))) {
		for (int i = 0; i < 12; i++)
			bind_given(s, i + 1, text[i]);
		cd_db_bind_int_or_null(s, 13, o->purchased);
		cd_db_bind_int_or_null(s, 14, o->shipped);
		cd_db_bind_int_or_null(s, 15, o->delivered);
		bind_given(s, 16, o->status);
		cd_db_bind_int(s, 17, updated);
		bind_given(s, 18, o->source);
		bind_given(s, 19, o->source_time);
		bind_given(s, 20, o->locale_guess);
	}
	return cd_db_run(st, s, err, "cannot write");
}

int cd_store_feedback_add(struct cd_store *st, const struct cd_feedback *f,
			  struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql_add_feedback);

	if (s) {
		bind_given(s, 1, f->order_id);
		cd_db_bind_int_or_null(s, 2, f->rating);
		bind_given(s, 3, f->comment);
		bind_given(s, 4, f->source);
		cd_db_bind_int(s, 5, f->received);
	}
	return cd_db_run(st, s, err, "cannot write");
}

int cd_store_order_exists(struct cd_store *st, const char *id)
{
	struct cd_db_stmt *s = cd_db_cached(st, "SELECT 1 FROM orders WHERE order_id = ?1");
	int rc;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, id);
	rc = cd_db_step(s);
	cd_db_done(s);
	return rc == CD_DB_ROW ? 1 : rc == CD_DB_DONE ? 0 : CD_ESTORE;
}

int cd_store_order_latest_of(struct cd_store *st, const char *email, int64_t before, char **id)
{
	struct cd_db_stmt *s = cd_db_cached(st, CD_DB_PICK(st,
		"SELECT order_id FROM orders WHERE email = ?1 COLLATE NOCASE AND purchased <= ?2"
		" ORDER BY purchased DESC, order_id DESC LIMIT 1",
		"SELECT order_id FROM orders WHERE lower(email) = lower(?1) AND purchased <= ?2"
		" ORDER BY purchased DESC, order_id DESC LIMIT 1"));
	int rc;

	*id = NULL;
	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, email);
	cd_db_bind_int(s, 2, before);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW && !(*id = strdup(cd_db_text(s, 0) ? cd_db_text(s, 0) : "")))
		rc = CD_DB_DONE - 1000;
	cd_db_done(s);
	return rc == CD_DB_ROW ? 1 : rc == CD_DB_DONE ? 0 : CD_ESTORE;
}

static int count(struct cd_store *st, const char *sql, int64_t *n)
{
	struct cd_db_stmt *s = cd_db_prepare(st, sql);
	int rc = CD_ESTORE;

	if (!s)
		return CD_ESTORE;
	if (cd_db_step(s) == CD_DB_ROW) {
		*n = cd_db_int(s, 0);
		rc = 0;
	}
	cd_db_done(s);
	return rc;
}

int cd_store_order_count(struct cd_store *st, int64_t *n)
{
	return count(st, "SELECT count(*) FROM orders", n);
}

int cd_store_feedback_count(struct cd_store *st, int64_t *n)
{
	return count(st, "SELECT count(*) FROM feedback", n);
}
