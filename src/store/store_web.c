/*
 * store_web.c - the verbs of the web endpoint (store_web.h). Every
 * statement is cached: the one-click path runs thousands of times a
 * second under load.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/store_web.h"
#include "candor/util.h"
#include "db.h"

static void copy_col(struct cd_db_stmt *s, int col, char *out, size_t len)
{
	const char *v = cd_db_text(s, col);

	snprintf(out, len, "%s", v ? v : "");
}

int cd_store_web_find(struct cd_store *st, const char *token, struct cd_web_message *m,
		      struct cd_error *err)
{
	struct cd_db_stmt *s;
	const char *items;
	int rc;

	memset(m, 0, sizeof(*m));
	s = cd_db_cached(st, CD_DB_PICK(st,
			 "SELECT m.id, m.order_id, m.campaign, m.kind, m.recipient,"
			 " o.channel, o.locale, o.items, s.reason, s.at"
			 " FROM messages m LEFT JOIN orders o ON o.order_id = m.order_id"
			 " LEFT JOIN suppressions s ON s.email = m.recipient"
			 " WHERE m.token = ?1",
			 "SELECT m.id, m.order_id, m.campaign, m.kind, m.recipient,"
			 " o.channel, o.locale, o.items, s.reason, s.at"
			 " FROM messages m LEFT JOIN orders o ON o.order_id = m.order_id"
			 " LEFT JOIN suppressions s ON lower(s.email) = lower(m.recipient)"
			 " WHERE m.token = ?1"));
	if (!s)
		return cd_store_fail(st, err, "cannot look up a token");
	cd_db_bind_text(s, 1, token);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW) {
		m->id = cd_db_int(s, 0);
		copy_col(s, 1, m->order_id, sizeof(m->order_id));
		copy_col(s, 2, m->campaign, sizeof(m->campaign));
		copy_col(s, 3, m->kind, sizeof(m->kind));
		copy_col(s, 4, m->recipient, sizeof(m->recipient));
		copy_col(s, 5, m->channel, sizeof(m->channel));
		copy_col(s, 6, m->locale, sizeof(m->locale));
		copy_col(s, 8, m->supp_reason, sizeof(m->supp_reason));
		m->supp_at = cd_db_int(s, 9);
		if ((items = cd_db_text(s, 7)) && !(m->items = strdup(items))) {
			cd_db_done(s);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		}
		cd_db_done(s);
		return 0;
	}
	cd_db_done(s);
	if (rc == CD_DB_DONE)
		return cd_error_set(err, CD_ENOTFOUND, NULL, 0, "no message has this token");
	return cd_store_fail(st, err, "cannot look up a token");
}

void cd_store_web_message_clear(struct cd_web_message *m)
{
	free(m->items);
	m->items = NULL;
}

/* Run SQL with the message as ?1, its order ?2, DETAIL ?3, NOW ?4 and
 * the recipient ?5, as far as SQL numbers its parameters (SQLite lets a
 * statement that uses ?5 alone take all five); *CHANGED (may be NULL)
 * tells whether a row changed. */
static int run(struct cd_store *st, const char *sql, const struct cd_web_message *m,
	       const char *detail, int64_t now, int *changed, struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);
	int n = s ? cd_db_params(s) : 0, rc;

	if (s) {
		cd_db_bind_int(s, 1, m->id);
		if (n >= 2)
			cd_db_bind_text(s, 2, m->order_id);
		if (n >= 3)
			cd_db_bind_text(s, 3, detail);
		if (n >= 4)
			cd_db_bind_int(s, 4, now);
		if (n >= 5)
			cd_db_bind_text(s, 5, m->recipient);
	}
	rc = cd_db_run(st, s, err, "cannot record a web request");
	if (rc == 0 && changed)
		*changed = cd_db_changes(st) > 0;
	return rc;
}

int cd_store_web_unsubscribe(struct cd_store *st, const struct cd_web_message *m,
			     const char *detail, int64_t now, int *fresh, struct cd_error *err)
{
	int rc;

	*fresh = 0;
	if ((rc = cd_store_begin(st, err)) < 0)
		return rc;
	/* the first reason stays, as in the inbox path (track.c) */
	rc = run(st, "INSERT INTO suppressions(email, reason, detail, at)"
		 " VALUES (?5, 'unsubscribed', ?3, ?4)"
		 " ON CONFLICT DO NOTHING", m, detail, now, NULL, err);
	if (rc == 0)
		rc = run(st, "INSERT INTO events(message, order_id, kind, detail, at)"
			 " SELECT ?1, ?2, 'unsubscribed', ?3, ?4 WHERE NOT EXISTS"
			 " (SELECT 1 FROM events WHERE message = ?1 AND kind = 'unsubscribed'"
			 "  AND id > coalesce((SELECT max(id) FROM events WHERE message = ?1"
			 "   AND kind = 'resubscribed'), 0))", m, detail, now, fresh, err);
	if (rc < 0) {
		cd_store_rollback(st);
		return rc;
	}
	return cd_store_commit(st, err);
}

int cd_store_web_undo(struct cd_store *st, const struct cd_web_message *m, int64_t since,
		      int64_t now, struct cd_error *err)
{
	int rc, lifted = 0;

	if ((rc = cd_store_begin(st, err)) < 0)
		return rc;
	rc = run(st, CD_DB_PICK(st, "DELETE FROM suppressions WHERE email = ?5"
				" AND reason = 'unsubscribed' AND at >= ?4",
				"DELETE FROM suppressions WHERE lower(email) = lower(?5)"
				" AND reason = 'unsubscribed' AND at >= ?4"), m, "", since, &lifted, err);
	/* the scheduler passed over this customer's orders while suppressed;
	 * touching them lets it look again (as cd_store_unsuppress does) */
	if (rc == 0 && lifted)
		rc = run(st, CD_DB_PICK(st, "UPDATE orders SET updated = updated"
					" WHERE email = ?5 COLLATE NOCASE",
					"UPDATE orders SET updated = updated"
					" WHERE lower(email) = lower(?5)"), m, "", now, NULL, err);
	if (rc == 0 && lifted)
		rc = run(st, "INSERT INTO events(message, order_id, kind, detail, at)"
			 " VALUES (?1, ?2, 'resubscribed', ?3, ?4)", m, "undone on the web page",
			 now, NULL, err);
	if (rc < 0) {
		cd_store_rollback(st);
		return rc;
	}
	if ((rc = cd_store_commit(st, err)) < 0)
		return rc;
	return lifted ? 0 : cd_error_set(err, CD_ENOTFOUND, NULL, 0, "nothing to undo");
}

int cd_store_web_click(struct cd_store *st, const struct cd_web_message *m, const char *detail,
		       int64_t now, int *first, struct cd_error *err)
{
	*first = 0;
	return run(st, "INSERT INTO events(message, order_id, kind, detail, at)"
		   " SELECT ?1, ?2, 'clicked', ?3, ?4 WHERE NOT EXISTS"
		   " (SELECT 1 FROM events WHERE message = ?1 AND kind = 'clicked')",
		   m, detail, now, first, err);
}

static int add_figure(struct cd_web_figure **list, size_t *n, size_t *cap, const char *name,
		      const char *value, int64_t count)
{
	struct cd_web_figure *f;

	if (cd_util_grow((void **)list, cap, *n, sizeof(**list)) < 0)
		return CD_ENOMEM;
	f = &(*list)[*n];
	f->name = strdup(name ? name : "");
	f->value = value ? strdup(value) : NULL;
	f->n = count;
	if (!f->name || (value && !f->value)) {
		free(f->name);
		free(f->value);
		return CD_ENOMEM;
	}
	(*n)++;
	return 0;
}

static int64_t one_int(struct cd_store *st, const char *sql, int *bad)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);
	int64_t v = 0;

	if (!s || cd_db_step(s) != CD_DB_ROW)
		*bad = 1;
	else
		v = cd_db_int(s, 0);
	cd_db_done(s);
	return v;
}

int cd_store_web_counts(struct cd_store *st, struct cd_web_counts *c, struct cd_error *err)
{
	size_t hcap = 0, mcap = 0;
	struct cd_db_stmt *s;
	int rc = 0, bad = 0;

	memset(c, 0, sizeof(*c));
	if ((rc = cd_store_count_states(st, c->states, err)) < 0)
		return rc;
	c->sends = one_int(st, "SELECT count(*) FROM messages WHERE sent_at IS NOT NULL", &bad);
	c->suppressed = one_int(st, "SELECT count(*) FROM suppressions", &bad);
	if (bad)
		return cd_store_fail(st, err, "cannot count for /metrics");
	/* held messages wait for a human: few, whatever the store's size */
	if (!(s = cd_db_cached(st, "SELECT coalesce(reason, ''), count(*) FROM messages"
			       " WHERE state = 'held' GROUP BY 1 LIMIT 10000")))
		return cd_store_fail(st, err, "cannot count held messages");
	while (rc == 0 && (rc = cd_db_step(s)) == CD_DB_ROW)
		rc = add_figure(&c->held, &c->nheld, &hcap, cd_db_text(s, 0), NULL, cd_db_int(s, 1));
	cd_db_done(s);
	if (rc < 0)
		return rc == CD_ENOMEM ? cd_error_set(err, rc, NULL, 0, "out of memory")
			: cd_store_fail(st, err, "cannot count held messages");
	/* PostgreSQL keeps meta values as bytea, which the engine decodes */
	if (!(s = cd_db_cached(st, CD_DB_PICK(st, "SELECT key, CAST(value AS TEXT) FROM meta"
			       " WHERE (key >= 'last_ok:' AND key < 'last_ok;')"
			       " OR (key >= 'metric:' AND key < 'metric;') ORDER BY key",
			       "SELECT key, value FROM meta"
			       " WHERE (key >= 'last_ok:' AND key < 'last_ok;')"
			       " OR (key >= 'metric:' AND key < 'metric;') ORDER BY key"))))
		return cd_store_fail(st, err, "cannot read marks");
	rc = 0;
	while (rc == 0 && (rc = cd_db_step(s)) == CD_DB_ROW)
		rc = add_figure(&c->marks, &c->nmarks, &mcap, cd_db_text(s, 0), cd_db_text(s, 1), 0);
	cd_db_done(s);
	if (rc < 0)
		return rc == CD_ENOMEM ? cd_error_set(err, rc, NULL, 0, "out of memory")
			: cd_store_fail(st, err, "cannot read marks");
	return 0;
}

static void free_figures(struct cd_web_figure *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

void cd_store_web_counts_free(struct cd_web_counts *c)
{
	free_figures(c->held, c->nheld);
	free_figures(c->marks, c->nmarks);
	c->held = c->marks = NULL;
	c->nheld = c->nmarks = 0;
}

int cd_store_web_ping(struct cd_store *st, struct cd_error *err)
{
	int bad = 0;

	one_int(st, "SELECT count(*) FROM meta WHERE key = 'token_secret'", &bad);
	return bad ? cd_store_fail(st, err, "the database does not answer") : 0;
}
