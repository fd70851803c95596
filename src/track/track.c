/*
 * track.c - see track.h.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/store_inbox.h"
#include "candor/track.h"
#include "candor/util.h"

#define MAX_BODY (64 * 1024) /* of a reply kept for support */

/* The message a mail answers. */
struct match {
	int64_t id;
	char order_id[256];
	char recipient[256];
};

struct ctx {
	struct cd_store *st;
	const struct cd_config *cfg;
	const struct cd_classified *c;
	int64_t now;
	struct cd_track_stats *stats;
};

/* Run SQL with text ?1..?4 (NULL binds NULL) and integers ?5 (the
 * message) and ?6 (now). Returns 0 or CD_ESTORE; *CHANGED (may be NULL)
 * tells whether a row changed. */
static int run(struct ctx *x, const char *sql, const char *const t[4], int64_t message,
	       int *changed)
{
	sqlite3_stmt *s = cd_store_prepare_cached(x->st, sql);
	int rc;

	if (!s)
		return CD_ESTORE;
	for (int i = 0; i < 4; i++)
		sqlite3_bind_text(s, i + 1, t[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, message);
	sqlite3_bind_int64(s, 6, x->now);
	rc = sqlite3_step(s);
	cd_store_release(s);
	if (changed)
		*changed = sqlite3_changes(cd_store_db(x->st)) > 0;
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

static int find(struct ctx *x, const char *sql, const char *arg, struct match *m)
{
	sqlite3_stmt *s = cd_store_prepare_cached(x->st, sql);
	int found = 0;

	if (!s)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		m->id = sqlite3_column_int64(s, 0);
		snprintf(m->order_id, sizeof(m->order_id), "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(m->recipient, sizeof(m->recipient), "%s",
			 (const char *)sqlite3_column_text(s, 2));
		found = 1;
	}
	cd_store_release(s);
	return found;
}

/* Our message this mail answers: by its tokens (for a bounce, the one
 * whose recipient is ADDR if several), else by the last message that
 * went to ADDR when BY_ADDRESS (bounces that return no copy of ours,
 * replies written fresh). 1 found, 0 not, < 0 error. */
static int match(struct ctx *x, const char *addr, int by_address, struct match *m)
{
	struct match first = { 0 };
	int rc, any = 0;

	for (size_t i = 0; i < x->c->ntokens; i++) {
		rc = find(x, "SELECT id, order_id, recipient FROM messages WHERE token = ?1",
			  x->c->tokens[i], m);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (!addr || strcasecmp(m->recipient, addr) == 0)
			return 1;
		if (!any)
			first = *m, any = 1;
	}
	if (by_address && addr && *addr &&
	    (rc = find(x, "SELECT id, order_id, recipient FROM messages WHERE recipient = ?1"
		       " COLLATE NOCASE AND state IN ('sent','sending') ORDER BY id DESC LIMIT 1",
		       addr, m)) != 0)
		return rc;
	if (any)
		*m = first;
	return any;
}

static int event(struct ctx *x, const struct match *m, const char *kind, const char *detail)
{
	const char *t[4] = { m->order_id, kind, detail, NULL };

	return run(x, "INSERT INTO events(message, order_id, kind, detail, at)"
		   " VALUES (?5, ?1, ?2, ?3, ?6)", t, m->id, NULL);
}

static int suppress(struct ctx *x, const char *email, const char *reason, const char *detail)
{
	const char *t[4] = { email, reason, detail, NULL };
	int changed = 0, rc;

	/* the first reason stays: a shop's "blocked" is not overwritten */
	rc = run(x, "INSERT INTO suppressions(email, reason, detail, at) VALUES (?1, ?2, ?3, ?6)"
		 " ON CONFLICT(email) DO NOTHING", t, 0, &changed);
	if (rc == 0 && changed) {
		x->stats->suppressed++;
		cd_log(CD_LOG_NOTICE, "suppressed %s: %s", email, reason);
	}
	return rc;
}

/* Soft bounces to ADDR since it last showed signs of life. */
static int64_t soft_in_a_row(struct ctx *x, const char *addr)
{
	sqlite3_stmt *s = cd_store_prepare_cached(x->st,
		"SELECT count(*) FROM events e JOIN messages m ON m.id = e.message"
		" WHERE m.recipient = ?1 COLLATE NOCASE AND e.kind = 'bounced' AND e.detail LIKE 'soft%'"
		" AND e.at >= coalesce((SELECT max(r.at) FROM events r JOIN messages n"
		"  ON n.id = r.message WHERE n.recipient = ?1 COLLATE NOCASE"
		"  AND r.kind IN ('replied', 'auto_reply')), 0)");
	int64_t n = -1;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	cd_store_release(s);
	return n;
}

static int one_bounce(struct ctx *x, const struct cd_bounce_rcpt *r)
{
	char detail[320];
	struct match m;
	int64_t n;
	int rc;

	if ((rc = match(x, r->addr[0] ? r->addr : NULL, 1, &m)) <= 0) {
		if (rc == 0) {
			x->stats->unmatched++;
			cd_log(CD_LOG_INFO, "bounce for %s matches no message of ours", r->addr[0] ? r->addr : "-");
		}
		return rc;
	}
	snprintf(detail, sizeof(detail), "%s %s %s: %s", r->hard ? "hard" : "soft",
		 r->status[0] ? r->status : "-", r->reason, r->diag);
	if ((rc = event(x, &m, "bounced", detail)) < 0)
		return rc;
	cd_log(CD_LOG_INFO, "order %s: %s bounced (%s)", m.order_id, m.recipient, detail);
	if (r->hard)
		return suppress(x, m.recipient, "hard_bounce", detail);
	if ((n = soft_in_a_row(x, m.recipient)) < 0)
		return CD_ESTORE;
	if (n >= x->cfg->tracking.soft_bounce_limit) {
		snprintf(detail, sizeof(detail), "%lld soft bounces in a row, the last: %s %s",
			 (long long)n, r->status[0] ? r->status : "-", r->reason);
		return suppress(x, m.recipient, "soft_bounce", detail);
	}
	return 0;
}

static int bounces(struct ctx *x)
{
	const struct cd_bounce *b = &x->c->bounce;
	struct cd_bounce_rcpt none = { .hard = x->c->kind == CD_MAIL_HARD_BOUNCE, .reason = "unknown" };
	int rc = 0;

	if (b->n == 0)
		return one_bounce(x, &none);
	for (size_t i = 0; i < b->n && rc >= 0; i++)
		rc = one_bounce(x, &b->r[i]);
	return rc;
}

static int keep_reply(struct ctx *x, const struct match *m, const char *kind)
{
	const struct cd_inmail *mail = &x->c->mail;
	size_t n = strlen(mail->text);
	sqlite3_stmt *s = cd_store_prepare_cached(x->st,
		"INSERT INTO replies(message, order_id, kind, sender, subject, body, received)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	int rc;

	if (!s)
		return CD_ESTORE;
	if (n > MAX_BODY) {
		/* cut on a UTF-8 boundary */
		n = MAX_BODY;
		while (n > 0 && ((unsigned char)mail->text[n] & 0xC0) == 0x80)
			n--;
	}
	sqlite3_bind_int64(s, 1, m->id);
	sqlite3_bind_text(s, 2, m->order_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, x->c->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, mail->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, mail->text, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, x->now);
	rc = sqlite3_step(s);
	cd_store_release(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

/* What a non-bounce does to its message. */
static int answer(struct ctx *x)
{
	const struct cd_classified *c = x->c;
	enum cd_mail_kind k = c->kind;
	/* a stop or a complaint acts only through our token; a reply or an
	 * auto-reply may be found by its sender's address */
	int by_address = k == CD_MAIL_REPLY || k == CD_MAIL_AUTO_REPLY;
	struct match m;
	int rc;

	if ((rc = match(x, by_address ? c->from : NULL, by_address, &m)) <= 0) {
		if (rc == 0) {
			x->stats->unmatched++;
			cd_log(k == CD_MAIL_UNSUBSCRIBE || c->complaint ? CD_LOG_WARNING : CD_LOG_INFO,
			       "%s from %s matches no message of ours%s", c->complaint ? "complaint"
			       : cd_mail_kind_name(k), c->from[0] ? c->from : "-",
			       k == CD_MAIL_UNSUBSCRIBE || c->complaint
			       ? " (no token: nobody suppressed; left for a human)" : "");
		}
		return rc;
	}
	if (c->complaint) {
		x->stats->complaints++;
		return (rc = event(x, &m, "complaint", c->detail)) < 0 ? rc
			: suppress(x, m.recipient, "complaint", c->detail);
	}
	switch (k) {
	case CD_MAIL_UNSUBSCRIBE:
		return (rc = event(x, &m, "unsubscribed", c->detail)) < 0 ? rc
			: suppress(x, m.recipient, "unsubscribed", c->detail);
	case CD_MAIL_REPLY:
		return (rc = event(x, &m, "replied", c->mail.subject)) < 0 ? rc
			: keep_reply(x, &m, "reply");
	case CD_MAIL_AUTO_REPLY:
		return event(x, &m, "auto_reply", c->mail.subject);
	default:
		return event(x, &m, "other", c->detail);
	}
}

/* A mail we could not act on stays in the mailbox unmarked; the store
 * keeps it with the reason, for candorctl status and inbox. */
static int leave(struct ctx *x)
{
	const struct cd_classified *c = x->c;
	enum cd_inbox_reason r = c->complaint ? CD_INBOX_UNVERIFIED_COMPLAINT
		: c->kind == CD_MAIL_UNSUBSCRIBE ? CD_INBOX_UNVERIFIED_UNSUBSCRIBE
		: c->kind == CD_MAIL_OTHER ? CD_INBOX_NOT_OURS : CD_INBOX_UNMATCHED;

	return cd_store_inbox_leave(x->st, r, c->from, c->mail.subject, c->mail.text, x->now, NULL) < 0
		? CD_ESTORE : 0;
}

/* The mail's identity for inbox_seen: its Message-ID, else its bytes. */
static void mail_key(const char *raw, size_t len, const struct cd_inmail *m, char *out,
		     size_t outlen)
{
	unsigned char digest[32];
	char mid[512], hex[65];

	if (cd_inmail_header(m->headers, "Message-ID", mid, sizeof(mid)) && mid[0]) {
		snprintf(out, outlen, "id:%.500s", mid);
		return;
	}
	gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, len, digest);
	cd_util_hex(digest, sizeof(digest), hex);
	snprintf(out, outlen, "sha256:%s", hex);
}

int cd_track_mail(struct cd_store *st, const struct cd_config *cfg, const char *raw,
		  size_t len, int64_t now, enum cd_mail_kind *kind, struct cd_track_stats *stats,
		  struct cd_error *err)
{
	struct cd_classified c;
	struct ctx x = { .st = st, .cfg = cfg, .c = &c, .now = now, .stats = stats };
	int64_t unmatched = stats->unmatched;
	char key[520];
	int rc, fresh = 0;

	if (cd_classify(raw, len, &c) < 0)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory classifying a mail");
	if (kind)
		*kind = c.kind;
	mail_key(raw, len, &c.mail, key, sizeof(key));
	if ((rc = cd_store_begin(st, err)) < 0)
		goto out;
	{
		const char *t[4] = { key, cd_mail_kind_name(c.kind), NULL, NULL };

		rc = run(&x, "INSERT INTO inbox_seen(key, kind, at) VALUES (?1, ?2, ?6)"
			 " ON CONFLICT(key) DO NOTHING", t, 0, &fresh);
	}
	if (rc == 0 && fresh)
		rc = c.kind == CD_MAIL_HARD_BOUNCE || c.kind == CD_MAIL_SOFT_BOUNCE ? bounces(&x)
			: answer(&x);
	if (rc == 0 && fresh && stats->unmatched > unmatched)
		rc = leave(&x);
	if (rc < 0) {
		/* the reason first: the rollback would clear SQLite's message */
		if (rc == CD_ENOMEM)
			cd_error_set(err, rc, NULL, 0, "out of memory recording a mail");
		else
			cd_store_fail(st, err, "cannot record an inbox mail");
		cd_store_rollback(st);
		goto out;
	}
	if ((rc = cd_store_commit(st, err)) < 0)
		goto out;
	stats->read++;
	if (!fresh)
		stats->duplicates++;
	else
		stats->kinds[c.kind]++;
out:
	cd_classified_free(&c);
	return rc;
}
