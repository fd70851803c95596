/*
 * sender.c - the send queue of a cycle (see sender.h): several messages
 * in flight on the transport, each outcome recorded in its own committed
 * transaction as it comes back.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/transport.h"
#include "candor/util.h"

#define RETRY_BATCH 500
#define FLUSH_EVERY 64

struct pending {
	int busy;
	int64_t id;
	const char *kind;       /* static: "request" or "reminder" */
	char *order_id, *msgid, *recipient, *mail;
	size_t len;
	struct cd_outgoing out;
};

struct finished {
	struct pending p;
	struct cd_send_result res;
};

struct cd_sender {
	struct finished finished[FLUSH_EVERY];
	size_t nfinished;
	const struct cd_config *cfg;
	struct cd_store *st;
	struct cd_transport *t;
	int64_t now;
	struct pending *slots;
	size_t nslots;
	int paused;
	struct cd_sender_stats stats;
	void (*tick)(void *);
	void *tick_arg;
	int rc;                 /* first error while recording an outcome */
	struct cd_error err;
};

/* ---- recording ---------------------------------------------------------- */

struct change {
	const char *state, *reason, *reply;
	int attempt;            /* counts as an attempt */
	int64_t next_attempt;   /* 0: none */
	const char *mail;       /* kept for a retry; NULL clears it */
	size_t len;
};

static int record(struct cd_store *st, int64_t id, int64_t now, const struct change *c,
		  struct cd_error *err)
{
	static const char upd[] =
		"UPDATE messages SET state = ?2, reason = ?3, updated = ?4,"
		" server_reply = coalesce(?5, server_reply), attempts = attempts + ?6,"
		" next_attempt = ?7, mail = ?8,"
		" sent_at = CASE WHEN ?2 = 'sending' THEN ?4 ELSE sent_at END WHERE id = ?1";
	static const char ev[] =
		"INSERT INTO events(message, order_id, kind, detail, at)"
		" SELECT id, order_id, ?2, coalesce(?3, ?5), ?4 FROM messages WHERE id = ?1";
	sqlite3 *db = cd_store_db(st);
	const char *sqls[] = { upd, ev };
	int rc = 0;

	if (cd_store_begin(st, err) < 0)
		return CD_ESTORE;
	for (int i = 0; i < 2 && rc == 0; i++) {
		sqlite3_stmt *s;

		if (sqlite3_prepare_v2(db, sqls[i], -1, &s, NULL) != SQLITE_OK) {
			rc = CD_ESTORE;
			break;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, c->state, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, c->reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, now);
		sqlite3_bind_text(s, 5, c->reply, -1, SQLITE_STATIC);
		if (i == 0) {
			sqlite3_bind_int(s, 6, c->attempt);
			if (c->next_attempt)
				sqlite3_bind_int64(s, 7, c->next_attempt);
			if (c->mail)
				sqlite3_bind_blob(s, 8, c->mail, (int)c->len, SQLITE_STATIC);
		}
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : CD_ESTORE;
		sqlite3_finalize(s);
	}
	if (rc < 0) {
		cd_store_fail(st, err, "cannot record message state");
		cd_store_rollback(st);
		return rc;
	}
	return cd_store_commit(st, err);
}

int cd_sender_record(struct cd_store *st, int64_t id, const char *state, const char *reason,
		     int64_t now, struct cd_error *err)
{
	struct change c = { .state = state, .reason = reason,
			    .attempt = strcmp(state, "sent") == 0 || strcmp(state, "failed") == 0 };

	return record(st, id, now, &c, err);
}

/* ---- pauses --------------------------------------------------------------- */

static void pause_sending(struct cd_sender *s, const char *why)
{
	char value[300];

	s->paused = 1;
	snprintf(value, sizeof(value), "%lld %s", (long long)s->now, why);
	if (cd_store_meta_set(s->st, CD_SENDER_PAUSE_KEY, value, &s->err) < 0 && s->rc == 0)
		s->rc = CD_ESTORE;
	cd_log(CD_LOG_ERR, "sending paused: the server refused our login, sender or TLS (%s); "
	       "no message is marked failed for it. Fix the configuration and reload, or "
	       "candord tries again in %lld s", why, (long long)s->cfg->smtp.pause_retry);
}

int cd_sender_is_paused(struct cd_store *st, const struct cd_config *cfg, int64_t now,
			char *reason, size_t len)
{
	char value[300];
	long long since = 0;
	int n = 0;

	if (reason && len)
		reason[0] = '\0';
	if (cd_store_meta_get(st, CD_SENDER_PAUSE_KEY, value, sizeof(value)) < 0 ||
	    sscanf(value, "%lld %n", &since, &n) < 1)
		return 0;
	if (reason)
		snprintf(reason, len, "since %lld: %s", since, value + n);
	return now < since + cfg->smtp.pause_retry;
}

int cd_sender_unpause(struct cd_store *st, struct cd_error *err)
{
	return cd_store_meta_set(st, CD_SENDER_PAUSE_KEY, NULL, err);
}

/* ---- outcomes ------------------------------------------------------------- */

/* Exponential backoff with jitter (0.75 to 1.25), so a server that said
 * "try later" to a burst does not get the whole burst back at once. */
static int64_t backoff(const struct cd_config *cfg, int attempt)
{
	int64_t wait = cfg->smtp.retry_min;
	unsigned char r = 128;

	for (int i = 1; i < attempt && wait < cfg->smtp.retry_max; i++)
		wait *= 2;
	if (wait > cfg->smtp.retry_max)
		wait = cfg->smtp.retry_max;
	cd_util_random_id(&r, 1);
	return wait * 3 / 4 + wait * r / 512;
}

static void deferred(struct cd_sender *s, struct pending *p, const struct cd_send_result *res)
{
	int64_t created = cd_store_int(s->st, "SELECT created FROM messages WHERE id = ?1", p->id, 0);
	int attempts = (int)cd_store_int(s->st, "SELECT attempts FROM messages WHERE id = ?1", p->id, 0) + 1;
	struct change c = { .state = "deferred", .reply = res->reply, .attempt = 1,
			    .mail = p->mail, .len = p->len };
	char why[320];

	if (s->now - created >= s->cfg->smtp.retry_for) {
		snprintf(why, sizeof(why), "gave up after %d attempts over %lld s: %.200s", attempts,
			 (long long)(s->now - created), res->reply);
		c = (struct change){ .state = "failed", .reason = why, .reply = res->reply, .attempt = 1 };
		s->stats.failed++;
	} else {
		c.next_attempt = s->now + backoff(s->cfg, attempts);
		s->stats.deferred++;
	}
	if (record(s->st, p->id, s->now, &c, &s->err) < 0 && s->rc == 0)
		s->rc = CD_ESTORE;
}

/* Record how message P ended (inside the flush's transaction). */
static void apply(struct cd_sender *s, struct pending *p, const struct cd_send_result *res)
{
	struct change c = { .reply = res->reply, .attempt = 1 };
	int rc = 0;

	switch (res->outcome) {
	case CD_SEND_SENT:
		c.state = "sent";
		s->stats.sent++;
		break;
	case CD_SEND_FAILED:
		c.state = "failed";
		c.reason = res->reply;
		s->stats.failed++;
		if (res->bad_mailbox)
			rc = cd_store_suppress(s->st, p->recipient, "hard_bounce", res->reply, s->now,
					       &s->err);
		break;
	case CD_SEND_DEFERRED:
		deferred(s, p, res);
		c.state = NULL;
		break;
	case CD_SEND_PAUSED:
		/* our problem, not the customer's: back in line, not an attempt */
		c = (struct change){ .state = "deferred", .reason = "sending paused", .reply = res->reply,
				     .next_attempt = s->now, .mail = p->mail, .len = p->len };
		break;
	case CD_SEND_UNKNOWN:
		c = (struct change){ .state = "sending", .attempt = 1, .reply = res->reply,
				     .reason = "the connection broke after the whole message was sent; "
					       "it may have arrived, so it is not sent again" };
		s->stats.unknown++;
		break;
	}
	if (c.state && (rc < 0 || record(s->st, p->id, s->now, &c, &s->err) < 0) && s->rc == 0)
		s->rc = CD_ESTORE;
}

static void free_pending(struct pending *p)
{
	free(p->order_id);
	free(p->msgid);
	free(p->recipient);
	free(p->mail);
	memset(p, 0, sizeof(*p));
}

/* Outcomes are recorded a batch per transaction: one commit per mail
 * was half the cost of sending it. A crash before the batch commits
 * leaves those rows "sending" - reported, never resent - which is the
 * safe side. */
static void flush_outcomes(struct cd_sender *s)
{
	struct cd_error err;

	if (!s->nfinished)
		return;
	if (cd_store_begin(s->st, &err) < 0) {
		if (s->rc == 0) {
			s->rc = CD_ESTORE;
			s->err = err;
		}
	}
	for (size_t i = 0; i < s->nfinished; i++) {
		apply(s, &s->finished[i].p, &s->finished[i].res);
		free_pending(&s->finished[i].p);
	}
	s->nfinished = 0;
	if (cd_store_commit(s->st, &err) < 0 && s->rc == 0) {
		s->rc = CD_ESTORE;
		s->err = err;
	}
}

static void done(void *arg, const struct cd_outgoing *msg, const struct cd_send_result *res)
{
	struct cd_sender *s = arg;
	struct pending *p = msg->cookie;
	struct finished *f;

	if (res->outcome == CD_SEND_PAUSED && !s->paused)
		pause_sending(s, res->reply);
	cd_log(res->outcome == CD_SEND_SENT ? CD_LOG_INFO : CD_LOG_WARNING,
	       "order %s: %s %s <%s> via %s: %s", p->order_id, p->kind,
	       res->outcome == CD_SEND_SENT ? "sent" : res->outcome == CD_SEND_FAILED ? "failed"
	       : res->outcome == CD_SEND_UNKNOWN ? "outcome unknown"
	       : res->outcome == CD_SEND_PAUSED ? "held back (paused)" : "deferred",
	       p->msgid, cd_transport_name(s->t), res->reply);
	f = &s->finished[s->nfinished++];
	f->p = *p;
	f->res = *res;
	memset(p, 0, sizeof(*p)); /* the slot is free; its strings moved */
	if (s->nfinished == FLUSH_EVERY)
		flush_outcomes(s);
}

/* ---- the queue ------------------------------------------------------------ */

int cd_sender_open(const struct cd_config *cfg, struct cd_store *st, struct cd_transport *t,
		   int64_t now, void (*tick)(void *), void *tick_arg, struct cd_sender **out)
{
	struct cd_sender *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return CD_ENOMEM;
	*s = (struct cd_sender){ .cfg = cfg, .st = st, .t = t, .now = now, .tick = tick,
				 .tick_arg = tick_arg, .nslots = cd_transport_slots(t) };
	if (!(s->slots = calloc(s->nslots, sizeof(*s->slots)))) {
		free(s);
		return CD_ENOMEM;
	}
	*out = s;
	return 0;
}

static size_t poll_once(struct cd_sender *s)
{
	size_t left = cd_transport_poll(s->t, 1000, done, s);

	if (s->tick)
		s->tick(s->tick_arg);
	return left;
}

static struct pending *free_slot(struct cd_sender *s)
{
	for (;;) {
		for (size_t i = 0; i < s->nslots; i++)
			if (!s->slots[i].busy)
				return &s->slots[i];
		poll_once(s);
	}
}

void cd_sender_wait_slot(struct cd_sender *s)
{
	free_slot(s);
}

int cd_sender_send(struct cd_sender *s, int64_t id, const char *kind, const char *order_id,
		   const char *msgid, const char *recipient, char *mail, size_t len,
		   struct cd_error *err)
{
	int rc;

	free_slot(s);
	/* committed before the transport sees a byte: never twice */
	if ((rc = cd_sender_record(s->st, id, "sending", NULL, s->now, err)) < 0) {
		free(mail);
		return rc;
	}
	return cd_sender_submit(s, id, kind, order_id, msgid, recipient, mail, len, err);
}

int cd_sender_submit(struct cd_sender *s, int64_t id, const char *kind, const char *order_id,
		     const char *msgid, const char *recipient, char *mail, size_t len,
		     struct cd_error *err)
{
	const struct cd_config *cfg = s->cfg;
	struct pending *p = free_slot(s);
	int rc;

	*p = (struct pending){ .busy = 1, .id = id, .kind = kind, .order_id = strdup(order_id),
			       .msgid = strdup(msgid), .recipient = strdup(recipient),
			       .mail = mail, .len = len };
	if (!p->order_id || !p->msgid || !p->recipient) {
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	p->out = (struct cd_outgoing){
		.envelope_from = *cfg->smtp.envelope_from ? cfg->smtp.envelope_from : cfg->shop.from,
		.recipient = p->recipient, .message_id = p->msgid, .data = p->mail, .len = len,
		.cookie = p,
	};
	while ((rc = cd_transport_submit(s->t, &p->out)) == CD_EBUSY)
		poll_once(s);
	if (rc < 0) {
		struct cd_send_result res = { .outcome = CD_SEND_DEFERRED };

		snprintf(res.reply, sizeof(res.reply), "could not start the transfer (out of memory)");
		done(s, &p->out, &res);
		return 0;
	}
	return 0;
fail:
	free_pending(p);
	return rc;
}

int cd_sender_drain(struct cd_sender *s, struct cd_error *err)
{
	while (poll_once(s) > 0)
		;
	flush_outcomes(s);
	if (s->rc < 0 && err)
		*err = s->err;
	return s->rc;
}

/* One deferred message whose time has come: send its kept bytes again. */
static int retry_one(struct cd_sender *s, sqlite3_stmt *q, struct cd_error *err)
{
	int64_t id = sqlite3_column_int64(q, 0);
	const void *blob = sqlite3_column_blob(q, 4);
	size_t len = (size_t)sqlite3_column_bytes(q, 4);
	char *mail;

	if (!blob) {
		cd_log(CD_LOG_WARNING, "message %lld: deferred with nothing kept to retry", (long long)id);
		return cd_sender_record(s->st, id, "failed", "deferred, but its bytes were not kept",
					s->now, err);
	}
	if (!(mail = malloc(len)))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	memcpy(mail, blob, len);
	return cd_sender_send(s, id, strcmp((const char *)sqlite3_column_text(q, 5), "reminder") == 0
			      ? "reminder" : "request", (const char *)sqlite3_column_text(q, 1),
			      (const char *)sqlite3_column_text(q, 2),
			      (const char *)sqlite3_column_text(q, 3), mail, len, err);
}

int cd_sender_retry(struct cd_sender *s, int (*may_go)(void *), void *arg,
		    struct cd_error *err)
{
	sqlite3 *db = cd_store_db(s->st);
	int64_t last = 0;
	int rc = 0, n;

	do {
		sqlite3_stmt *q;

		/* a batch at a time: sending changes the rows the query walks */
		if (sqlite3_prepare_v2(db, "SELECT id, order_id, message_id, recipient, mail FROM messages"
				       " WHERE state = 'deferred' AND next_attempt <= ?1 AND id > ?2"
				       " ORDER BY id LIMIT ?3", -1, &q, NULL) != SQLITE_OK)
			return cd_store_fail(s->st, err, "cannot find deferred messages");
		sqlite3_bind_int64(q, 1, s->now);
		sqlite3_bind_int64(q, 2, last);
		sqlite3_bind_int(q, 3, RETRY_BATCH);
		struct { int64_t id; } ids[RETRY_BATCH];
		n = 0;
		while (sqlite3_step(q) == SQLITE_ROW)
			ids[n++].id = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		for (int i = 0; i < n && rc == 0; i++) {
			if (s->paused || (may_go && !may_go(arg)))
				return 0;
			last = ids[i].id;
			if (sqlite3_prepare_v2(db, "SELECT id, order_id, message_id, recipient, mail, kind"
					       " FROM messages WHERE id = ?1 AND state = 'deferred'",
					       -1, &q, NULL) != SQLITE_OK)
				return cd_store_fail(s->st, err, "cannot read a deferred message");
			sqlite3_bind_int64(q, 1, last);
			if (sqlite3_step(q) == SQLITE_ROW)
				rc = retry_one(s, q, err);
			sqlite3_finalize(q);
		}
	} while (rc == 0 && n == RETRY_BATCH);
	return rc;
}

int cd_sender_paused(const struct cd_sender *s)
{
	return s->paused;
}

const struct cd_sender_stats *cd_sender_stats(const struct cd_sender *s)
{
	return &s->stats;
}

void cd_sender_close(struct cd_sender *s)
{
	if (!s)
		return;
	cd_sender_drain(s, NULL);
	free(s->slots);
	free(s);
}
