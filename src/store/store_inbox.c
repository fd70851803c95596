/*
 * store_inbox.c - what the inbox brings (see store_inbox.h). The tracker
 * runs these for every mail of a mailbox, so their statements stay
 * cached.
 */
#include "config.h"

#include <stdio.h>

#include "candor/store.h"
#include "candor/store_inbox.h"
#include "db.h"

int cd_store_inbox_seen(struct cd_store *st, const char *key, const char *kind, int64_t at,
			int *fresh)
{
	struct cd_db_stmt *s = cd_db_cached(st, "INSERT INTO inbox_seen(key, kind, at)"
					    " VALUES (?1, ?2, ?3) ON CONFLICT(key) DO NOTHING");

	*fresh = 0;
	if (s) {
		cd_db_bind_text(s, 1, key);
		cd_db_bind_text(s, 2, kind);
		cd_db_bind_int(s, 3, at);
	}
	if (cd_db_run(st, s, NULL, "") < 0)
		return CD_ESTORE;
	*fresh = cd_db_changes(st) > 0;
	return 0;
}

/* The first row of SQL (id, order_id, recipient) with ?1 = ARG. */
static int find(struct cd_store *st, const char *sql, const char *arg,
		struct cd_sent_message *m)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);
	const char *order_id, *recipient;
	int rc;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, arg);
	if ((rc = cd_db_step(s)) == CD_DB_ROW) {
		m->id = cd_db_int(s, 0);
		order_id = cd_db_text(s, 1);
		recipient = cd_db_text(s, 2);
		snprintf(m->order_id, sizeof(m->order_id), "%s", order_id ? order_id : "");
		snprintf(m->recipient, sizeof(m->recipient), "%s", recipient ? recipient : "");
	}
	cd_db_done(s);
	return rc == CD_DB_ROW ? 1 : rc == CD_DB_DONE ? 0 : CD_ESTORE;
}

int cd_store_message_by_token(struct cd_store *st, const char *token,
			      struct cd_sent_message *m)
{
	return find(st, "SELECT id, order_id, recipient FROM messages WHERE token = ?1", token, m);
}

int cd_store_message_last_to(struct cd_store *st, const char *addr,
			     struct cd_sent_message *m)
{
	return find(st, CD_DB_PICK(st, "SELECT id, order_id, recipient FROM messages WHERE recipient = ?1"
				   " COLLATE NOCASE AND state IN ('sent','sending') ORDER BY id DESC LIMIT 1",
				   "SELECT id, order_id, recipient FROM messages WHERE lower(recipient)"
				   " = lower(?1) AND state IN ('sent','sending') ORDER BY id DESC LIMIT 1"),
		    addr, m);
}

int cd_store_event_add(struct cd_store *st, int64_t message, const char *order_id,
		       const char *kind, const char *detail, int64_t at)
{
	struct cd_db_stmt *s = cd_db_cached(st, "INSERT INTO events(message, order_id, kind,"
					    " detail, at) VALUES (?1, ?2, ?3, ?4, ?5)");

	if (s) {
		cd_db_bind_int(s, 1, message);
		cd_db_bind_text(s, 2, order_id);
		cd_db_bind_text(s, 3, kind);
		cd_db_bind_text(s, 4, detail);
		cd_db_bind_int(s, 5, at);
	}
	return cd_db_run(st, s, NULL, "") < 0 ? CD_ESTORE : 0;
}

int cd_store_reply_add(struct cd_store *st, const struct cd_reply *r)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"INSERT INTO replies(message, order_id, kind, sender, subject, body, received)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");

	if (s) {
		cd_db_bind_int(s, 1, r->message);
		cd_db_bind_text(s, 2, r->order_id);
		cd_db_bind_text(s, 3, r->kind);
		cd_db_bind_text(s, 4, r->sender);
		cd_db_bind_text(s, 5, r->subject);
		if (r->body)
			cd_db_bind_textn(s, 6, r->body, (int)r->body_len);
		else
			cd_db_bind_null(s, 6);
		cd_db_bind_int(s, 7, r->received);
	}
	return cd_db_run(st, s, NULL, "") < 0 ? CD_ESTORE : 0;
}

int cd_store_suppress_first(struct cd_store *st, const char *email, const char *reason,
			    const char *detail, int64_t at, int *added)
{
	int rc;

	*added = 0;
	if ((rc = cd_store_suppress(st, email, reason, detail, at, NULL)) < 0)
		return rc;
	*added = cd_db_changes(st) > 0;
	return 0;
}

/* Soft bounces to an address (M and N its two matches) since its last
 * sign of life. */
#define SOFT_BOUNCES(M, N) \
	"SELECT count(*) FROM events e JOIN messages m ON m.id = e.message" \
	" WHERE " M " AND e.kind = 'bounced' AND e.detail LIKE 'soft%'" \
	" AND e.at >= coalesce((SELECT max(r.at) FROM events r JOIN messages n" \
	"  ON n.id = r.message WHERE " N \
	"  AND r.kind IN ('replied', 'auto_reply')), 0)"

int64_t cd_store_soft_bounces_in_a_row(struct cd_store *st, const char *addr)
{
	struct cd_db_stmt *s = cd_db_cached(st, CD_DB_PICK(st,
		SOFT_BOUNCES("m.recipient = ?1 COLLATE NOCASE", "n.recipient = ?1 COLLATE NOCASE"),
		SOFT_BOUNCES("lower(m.recipient) = lower(?1)", "lower(n.recipient) = lower(?1)")));
	int64_t n = CD_ESTORE;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, addr);
	if (cd_db_step(s) == CD_DB_ROW)
		n = cd_db_int(s, 0);
	cd_db_done(s);
	return n;
}

int cd_store_suppressions(struct cd_store *st,
			  int (*fn)(void *arg, const struct cd_suppression *s), void *arg)
{
	struct cd_db_stmt *s = cd_db_prepare(st, "SELECT email, reason, detail, at"
					     " FROM suppressions ORDER BY at, email");
	int rc;

	if (!s)
		return CD_ESTORE;
	for (;;) {
		struct cd_suppression row;

		if ((rc = cd_db_step(s)) != CD_DB_ROW) {
			rc = rc == CD_DB_DONE ? 0 : CD_ESTORE;
			break;
		}
		row = (struct cd_suppression){
			.email = cd_db_text(s, 0), .reason = cd_db_text(s, 1),
			.detail = cd_db_text(s, 2), .at = cd_db_int(s, 3),
		};
		if ((rc = fn(arg, &row)) != 0)
			break;
	}
	cd_db_done(s);
	return rc;
}
