/*
 * store_message.c - outgoing messages: the row written before anything
 * leaves the process, each move through the life cycle with its event,
 * the deferred ones due again, and the counts the rate limiter and the
 * per-customer cap read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/store_inbox.h"
#include "candor/store_message.h"
#include "db.h"

/* The columns every new message's statement takes as ?1 to ?9. */
static void bind_new(struct cd_db_stmt *s, const struct cd_msg_new *m)
{
	cd_db_bind_text(s, 1, m->order_id);
	cd_db_bind_text(s, 2, m->campaign);
	cd_db_bind_text(s, 3, m->variant);
	cd_db_bind_text(s, 4, m->recipient);
	cd_db_bind_text(s, 5, m->message_id);
	cd_db_bind_text(s, 6, m->token);
	cd_db_bind_text(s, 7, m->subject);
	cd_db_bind_int(s, 8, m->created);
	cd_db_bind_text(s, 9, m->kind == CD_DUE_REMINDER ? "reminder" : "request");
}

int cd_store_message_insert(struct cd_store *st, const struct cd_msg_new *m, int64_t *id,
			    struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	s = cd_db_cached(st, "INSERT INTO messages(order_id, campaign, variant, kind, state, recipient,"
			 " message_id, token, subject, created, updated)"
			 " VALUES (?1, ?2, ?3, ?9, 'rendered', ?4, ?5, ?6, ?7, ?8, ?8)");
	if (s)
		bind_new(s, m);
	if ((rc = cd_db_run(st, s, err, "cannot record message")) == 0)
		*id = cd_db_last_id(st);
	return rc;
}

/* PostgreSQL: the row and its event in one round trip, and nothing when
 * another daemon's message for the order is there already */
static int insert_sending_pg(struct cd_store *st, const struct cd_msg_new *m, int64_t *id,
			     struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	s = cd_db_cached(st, "WITH m AS (INSERT INTO messages(order_id, campaign, variant, kind,"
			 " state, recipient, message_id, token, subject, created, updated, sent_at)"
			 " VALUES (?1, ?2, ?3, ?9, 'sending', ?4, ?5, ?6, ?7, ?8, ?10, ?10)"
			 " ON CONFLICT (order_id, campaign, kind) DO NOTHING RETURNING id, order_id)"
			 " INSERT INTO events(message, order_id, kind, detail, at)"
			 " SELECT id, order_id, 'sending', NULL, ?10 FROM m RETURNING message");
	if (!s)
		return cd_store_fail(st, err, "cannot record message");
	bind_new(s, m);
	cd_db_bind_int(s, 10, m->sent_at ? m->sent_at : m->created);
	*id = 0;
	if ((rc = cd_db_step(s)) == CD_DB_ROW)
		*id = cd_db_int(s, 0);
	cd_db_done(s);
	return rc < 0 ? cd_store_fail(st, err, "cannot record message") : 0;
}

int cd_store_message_insert_sending(struct cd_store *st, const struct cd_msg_new *m,
				    int64_t *id, struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	if (cd_db_engine(st) == CD_STORE_POSTGRESQL)
		return insert_sending_pg(st, m, id, err);
	/* one row and one event, no detour through "rendered": this runs
	 * for every message, inside the hand-off's transaction */
	s = cd_db_cached(st, "INSERT INTO messages(order_id, campaign, variant, kind, state, recipient,"
			 " message_id, token, subject, created, updated, sent_at)"
			 " VALUES (?1, ?2, ?3, ?9, 'sending', ?4, ?5, ?6, ?7, ?8, ?8, ?8)");
	if (s)
		bind_new(s, m);
	if ((rc = cd_db_run(st, s, err, "cannot record message")) < 0)
		return rc;
	*id = cd_db_last_id(st);
	return cd_store_event_add(st, *id, m->order_id, "sending", NULL, m->created) < 0
		? cd_store_fail(st, err, "cannot record message") : 0;
}

int cd_store_message_take(struct cd_store *st, int64_t id, int64_t now, struct cd_error *err)
{
	struct cd_db_stmt *s;
	int64_t changed = 0;
	int rc;

	if ((rc = cd_store_begin(st, err)) < 0)
		return rc;
	/* as cd_store_message_change to "sending" does, but only from a
	 * state it may be taken from: of two daemons, one takes it */
	s = cd_db_cached(st, "UPDATE messages SET state = 'sending', reason = NULL, updated = ?2,"
			 " next_attempt = NULL, mail = NULL, sent_at = ?2"
			 " WHERE id = ?1 AND state IN ('queued','deferred')");
	if (s) {
		cd_db_bind_int(s, 1, id);
		cd_db_bind_int(s, 2, now);
	}
	if ((rc = cd_db_run(st, s, err, "cannot take a message to send again")) == 0) {
		changed = cd_db_changes(st);
		s = changed ? cd_db_cached(st, "INSERT INTO events(message, order_id, kind, at)"
					   " SELECT id, order_id, 'sending', ?2 FROM messages WHERE id = ?1")
			: NULL;
		if (s) {
			cd_db_bind_int(s, 1, id);
			cd_db_bind_int(s, 2, now);
		}
		if (changed)
			rc = cd_db_run(st, s, err, "cannot take a message to send again");
	}
	if (rc < 0) {
		cd_store_rollback(st);
		return rc;
	}
	return (rc = cd_store_commit(st, err)) < 0 ? rc : changed > 0;
}

/* PostgreSQL: the move and its event in one statement - atomic without
 * a savepoint, and one round trip instead of four for every outcome */
static int change_pg(struct cd_store *st, int64_t id, const struct cd_msg_change *c,
		     const char *state, int64_t now, struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"WITH u AS (UPDATE messages SET state = ?2, reason = ?3, updated = ?4,"
		" server_reply = coalesce(?5, server_reply), attempts = attempts + ?6,"
		" next_attempt = ?7, mail = ?8,"
		" sent_at = CASE WHEN ?2 = 'sending' THEN ?4 WHEN ?2 = 'queued' THEN NULL"
		" ELSE sent_at END WHERE id = ?1 RETURNING id, order_id)"
		" INSERT INTO events(message, order_id, kind, detail, at)"
		" SELECT id, order_id, ?2, coalesce(?3, ?5), ?4 FROM u");

	if (s) {
		cd_db_bind_int(s, 1, id);
		cd_db_bind_text(s, 2, state);
		cd_db_bind_text(s, 3, c->reason);
		cd_db_bind_int(s, 4, now);
		cd_db_bind_text(s, 5, c->reply);
		cd_db_bind_int(s, 6, c->attempt);
		cd_db_bind_int_or_null(s, 7, c->next_attempt);
		if (c->mail)
			cd_db_bind_blob(s, 8, c->mail, c->len);
		else
			cd_db_bind_null(s, 8);
	}
	return cd_db_run(st, s, err, "cannot record message state");
}

int cd_store_message_change(struct cd_store *st, int64_t id, const struct cd_msg_change *c,
			    int64_t now, struct cd_error *err)
{
	static const char upd[] =
		"UPDATE messages SET state = ?2, reason = ?3, updated = ?4,"
		" server_reply = coalesce(?5, server_reply), attempts = attempts + ?6,"
		" next_attempt = ?7, mail = ?8,"
		" sent_at = CASE WHEN ?2 = 'sending' THEN ?4 WHEN ?2 = 'queued' THEN NULL"
		" ELSE sent_at END WHERE id = ?1";
	static const char ev[] =
		"INSERT INTO events(message, order_id, kind, detail, at)"
		" SELECT id, order_id, ?2, coalesce(?3, ?5), ?4 FROM messages WHERE id = ?1";
	const char *const sqls[] = { upd, ev };
	const char *state = cd_store_state_name(c->state);
	int rc = 0;

	if (c->state >= CD_MSG_NSTATES)
		return cd_error_set(err, CD_ESTORE, NULL, 0, "message %lld: no such state",
				    (long long)id);
	if (cd_db_engine(st) == CD_STORE_POSTGRESQL)
		return change_pg(st, id, c, state, now, err);
	if (cd_store_begin(st, err) < 0)
		return CD_ESTORE;
	for (int i = 0; i < 2 && rc == 0; i++) {
		struct cd_db_stmt *s = cd_db_cached(st, sqls[i]);

		if (!s) {
			rc = CD_ESTORE;
			break;
		}
		cd_db_bind_int(s, 1, id);
		cd_db_bind_text(s, 2, state);
		cd_db_bind_text(s, 3, c->reason);
		cd_db_bind_int(s, 4, now);
		cd_db_bind_text(s, 5, c->reply);
		if (i == 0) {
			cd_db_bind_int(s, 6, c->attempt);
			cd_db_bind_int_or_null(s, 7, c->next_attempt);
			if (c->mail)
				cd_db_bind_blob(s, 8, c->mail, c->len);
			else
				cd_db_bind_null(s, 8);
		}
		rc = cd_db_step(s) == CD_DB_DONE ? 0 : CD_ESTORE;
		cd_db_done(s);
	}
	if (rc < 0) {
		cd_store_fail(st, err, "cannot record message state");
		cd_store_rollback(st);
		return rc;
	}
	return cd_store_commit(st, err);
}

int cd_store_message_set_state(struct cd_store *st, int64_t id, enum cd_msg_state state,
			       const char *reason, int64_t now, struct cd_error *err)
{
	struct cd_msg_change c = { .state = state, .reason = reason,
				   .attempt = state == CD_MSG_SENT || state == CD_MSG_FAILED };

	return cd_store_message_change(st, id, &c, now, err);
}

int cd_store_message_attempts(struct cd_store *st, int64_t id, int64_t *created,
			      int64_t *attempts)
{
	struct cd_db_stmt *s = cd_db_cached(st, "SELECT created, attempts FROM messages WHERE id = ?1");
	int rc;

	*created = *attempts = 0;
	if (!s)
		return CD_ESTORE;
	cd_db_bind_int(s, 1, id);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW) {
		*created = cd_db_int(s, 0);
		*attempts = cd_db_int(s, 1);
	}
	cd_db_done(s);
	return rc == CD_DB_ROW ? 0 : rc == CD_DB_DONE ? CD_ENOTFOUND : CD_ESTORE;
}

int cd_store_message_retries(struct cd_store *st, int64_t now, int64_t after, int64_t *ids,
			     size_t max, size_t *n, struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	*n = 0;
	s = cd_db_cached(st, "SELECT id FROM messages WHERE state IN ('queued','deferred')"
			 " AND next_attempt <= ?1 AND id > ?2 ORDER BY id LIMIT ?3");
	if (!s)
		return cd_store_fail(st, err, "cannot find deferred messages");
	cd_db_bind_int(s, 1, now);
	cd_db_bind_int(s, 2, after);
	cd_db_bind_int(s, 3, (int64_t)max);
	while (*n < max && (rc = cd_db_step(s)) == CD_DB_ROW)
		ids[(*n)++] = cd_db_int(s, 0);
	cd_db_done(s);
	if (*n < max && rc < 0)
		return cd_store_fail(st, err, "cannot find deferred messages");
	return 0;
}

void cd_msg_retry_clear(struct cd_msg_retry *r)
{
	free(r->strings);
	free(r->mail);
	memset(r, 0, sizeof(*r));
}

int cd_store_message_retry(struct cd_store *st, int64_t id, struct cd_msg_retry *r,
			   struct cd_error *err)
{
	struct cd_db_stmt *s;
	const char *text[4], *kind;
	const void *blob;
	size_t lens[4], total = 0, off = 0, len = 0;
	int rc;

	s = cd_db_cached(st, "SELECT order_id, message_id, recipient, token, kind, mail,"
			 " (SELECT o.status FROM orders o WHERE o.order_id = messages.order_id"
			 "  AND o.status IN ('returned','refunded','cancelled'))"
			 " FROM messages WHERE id = ?1 AND state IN ('queued','deferred')");
	if (!s)
		return cd_store_fail(st, err, "cannot read a deferred message");
	cd_db_bind_int(s, 1, id);
	if ((rc = cd_db_step(s)) != CD_DB_ROW) {
		cd_db_done(s);
		return rc == CD_DB_DONE ? 0 : cd_store_fail(st, err, "cannot read a deferred message");
	}
	memset(r, 0, sizeof(*r));
	r->id = id;
	for (int i = 0; i < 4; i++) {
		text[i] = cd_db_text(s, i);
		lens[i] = text[i] ? strlen(text[i]) : 0;
		total += lens[i] + 1;
	}
	kind = cd_db_text(s, 4);
	r->kind = kind && strcmp(kind, "reminder") == 0 ? CD_DUE_REMINDER : CD_DUE_REQUEST;
	blob = cd_db_blob(s, 5, &len);
	snprintf(r->order_stopped, sizeof(r->order_stopped), "%s",
		 cd_db_text(s, 6) ? cd_db_text(s, 6) : "");
	if (!(r->strings = malloc(total)) || (blob && !(r->mail = malloc(len ? len : 1)))) {
		cd_db_done(s);
		cd_msg_retry_clear(r);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	for (int i = 0; i < 4; i++) {
		const char **dst[4] = { &r->order_id, &r->message_id, &r->recipient, &r->token };

		*dst[i] = memcpy(r->strings + off, text[i] ? text[i] : "", lens[i] + 1);
		off += lens[i] + 1;
	}
	if (blob) {
		memcpy(r->mail, blob, len);
		r->len = len;
	}
	cd_db_done(s);
	return 1;
}

/* The first column of the one row SQL gives, with ?1 = SINCE and ?2 =
 * TEXT when there is one; CD_ESTORE when it fails. The statements are
 * kept prepared: the counts run once per due order. */
static int64_t count(struct cd_store *st, const char *sql, int64_t since, const char *text,
		     struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);
	int64_t n = -1;

	if (!s)
		return cd_store_fail(st, err, "cannot count messages");
	cd_db_bind_int(s, 1, since);
	if (text)
		cd_db_bind_text(s, 2, text);
	if (cd_db_step(s) == CD_DB_ROW)
		n = cd_db_int(s, 0);
	cd_db_done(s);
	if (n < 0)
		return cd_store_fail(st, err, "cannot count messages");
	return n;
}

int64_t cd_store_message_sent_since(struct cd_store *st, int64_t since, struct cd_error *err)
{
	return count(st, "SELECT count(*) FROM messages WHERE sent_at >= ?1", since, NULL, err);
}

int64_t cd_store_message_domain_sent_since(struct cd_store *st, const char *domain,
					   int64_t since, struct cd_error *err)
{
	return count(st, "SELECT count(*) FROM messages WHERE sent_at >= ?1"
		     " AND recipient_domain = lower(?2)", since, domain, err);
}

int64_t cd_store_message_customer_count(struct cd_store *st, const char *email,
					int64_t since, struct cd_error *err)
{
	return count(st, CD_DB_PICK(st, "SELECT count(*) FROM messages WHERE created >= ?1"
				    " AND recipient = ?2 COLLATE NOCASE AND state NOT IN ('held','failed')",
				    "SELECT count(*) FROM messages WHERE created >= ?1"
				    " AND lower(recipient) = lower(?2) AND state NOT IN ('held','failed')"),
		     since, email, err);
}

int64_t cd_store_message_next_retry(struct cd_store *st)
{
	struct cd_db_stmt *s = cd_db_cached(st, "SELECT min(next_attempt) FROM messages"
					    " WHERE state IN ('queued','deferred')");
	int64_t v = 0;

	if (!s)
		return 0;
	if (cd_db_step(s) == CD_DB_ROW && !cd_db_is_null(s, 0))
		v = cd_db_int(s, 0);
	cd_db_done(s);
	return v;
}

/* Each row of S (order_id, message_id) to EACH; how many, or CD_ESTORE. */
static int64_t each_sending(struct cd_store *st, struct cd_db_stmt *s,
			    void (*each)(void *arg, const char *order_id, const char *message_id),
			    void *arg, struct cd_error *err)
{
	int64_t n = 0;
	int rc;

	if (!s)
		return cd_store_fail(st, err, "cannot look for interrupted sends");
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		n++;
		each(arg, cd_db_text(s, 0), cd_db_text(s, 1));
	}
	cd_db_done(s);
	if (rc != CD_DB_DONE)
		return cd_store_fail(st, err, "cannot look for interrupted sends");
	return n;
}

int64_t cd_store_message_left_sending(struct cd_store *st, int64_t after, int64_t upto,
				      void (*each)(void *arg, const char *order_id,
						   const char *message_id),
				      void *arg, struct cd_error *err)
{
	struct cd_db_stmt *s;

	s = cd_db_prepare(st, "SELECT order_id, message_id FROM messages"
			  " WHERE state = 'sending' AND sent_at > ?1 AND sent_at <= ?2 ORDER BY id");
	if (s) {
		cd_db_bind_int(s, 1, after);
		cd_db_bind_int(s, 2, upto);
	}
	return each_sending(st, s, each, arg, err);
}

int64_t cd_store_message_interrupted(struct cd_store *st,
				     void (*each)(void *arg, const char *order_id,
						  const char *message_id),
				     void *arg, struct cd_error *err)
{
	return each_sending(st, cd_db_prepare(st, "SELECT order_id, message_id FROM messages"
					      " WHERE state = 'sending' ORDER BY id"),
			    each, arg, err);
}
