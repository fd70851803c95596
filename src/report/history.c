/*
 * history.c - "candorctl history ORDER": read-only queries, printed in
 * time order so support staff can see what happened and when.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "candor/history.h"
#include "candor/store.h"

static const char *when(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	time_t t;
	struct tm tm;

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return "-";
	t = (time_t)sqlite3_column_int64(s, col);
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static const char *text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "-";
}

static int print_order(sqlite3 *db, const char *id, FILE *out)
{
	sqlite3_stmt *s;
	char a[40], b[40], c[40];
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT channel, name, email, locale, country, timezone,"
			       " status, total, currency, purchased, shipped, delivered, items"
			       " FROM orders WHERE order_id = ?1", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		fprintf(out, "order %s (%s): %s <%s>, locale %s, country %s, time zone %s\n",
			id, text(s, 0), text(s, 1), text(s, 2), text(s, 3), text(s, 4), text(s, 5));
		fprintf(out, "  status %s, total %s %s\n", text(s, 6), text(s, 7), text(s, 8));
		fprintf(out, "  purchased %s, shipped %s, delivered %s\n", when(s, 9, a, sizeof(a)),
			when(s, 10, b, sizeof(b)), when(s, 11, c, sizeof(c)));
		fprintf(out, "  items %s\n", text(s, 12));
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? CD_ENOTFOUND : CD_ESTORE;
}

static int print_rows(sqlite3 *db, const char *id, FILE *out, const char *sql,
		      const char *title, void (*line)(sqlite3_stmt *, FILE *))
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == 0)
			fprintf(out, "%s\n", title);
		line(s, out);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

static void feedback_line(sqlite3_stmt *s, FILE *out)
{
	char a[40];

	fprintf(out, "  %s  %d/5 from %s: %s\n", when(s, 0, a, sizeof(a)),
		sqlite3_column_int(s, 1), text(s, 2), text(s, 3));
}

static void message_line(sqlite3_stmt *s, FILE *out)
{
	fprintf(out, "  #%lld %s/%s %s: %s to %s, <%s>%s%s\n",
		(long long)sqlite3_column_int64(s, 0), text(s, 1), text(s, 2), text(s, 3),
		text(s, 4), text(s, 5), text(s, 6),
		sqlite3_column_type(s, 7) == SQLITE_NULL ? "" : ": ",
		sqlite3_column_type(s, 7) == SQLITE_NULL ? "" : text(s, 7));
}

static void event_line(sqlite3_stmt *s, FILE *out)
{
	char a[40];

	fprintf(out, "  %s  #%lld %s%s%s\n", when(s, 0, a, sizeof(a)),
		(long long)sqlite3_column_int64(s, 1), text(s, 2),
		sqlite3_column_type(s, 3) == SQLITE_NULL ? "" : ": ",
		sqlite3_column_type(s, 3) == SQLITE_NULL ? "" : text(s, 3));
}

int cd_history_print(struct cd_store *st, const char *order_id, FILE *out,
		     struct cd_error *err)
{
	sqlite3 *db = cd_store_db(st);
	int rc = print_order(db, order_id, out);

	if (rc == CD_ENOTFOUND)
		return cd_error_set(err, rc, NULL, 0, "no order \"%s\" in the database", order_id);
	if (rc == 0)
		rc = print_rows(db, order_id, out,
				"SELECT received, rating, source, comment FROM feedback"
				" WHERE order_id = ?1 ORDER BY received", "feedback:", feedback_line);
	if (rc == 0)
		rc = print_rows(db, order_id, out,
				"SELECT id, campaign, variant, kind, state, recipient, message_id, reason"
				" FROM messages WHERE order_id = ?1 ORDER BY id", "messages:", message_line);
	if (rc == 0)
		rc = print_rows(db, order_id, out,
				"SELECT at, message, kind, detail FROM events"
				" WHERE order_id = ?1 ORDER BY at, id", "events:", event_line);
	if (rc < 0)
		return cd_store_fail(st, err, "cannot read history");
	return 0;
}
