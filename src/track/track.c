/*
 * track.c - see track.h.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/store_inbox.h"
#include "candor/store_left.h"
#include "candor/track.h"
#include "candor/util.h"

#define MAX_BODY (64 * 1024) /* of a reply kept for support */

struct ctx {
	struct cd_store *st;
	const struct cd_config *cfg;
	const struct cd_classified *c;
	int64_t now;
	struct cd_track_stats *stats;
};

/* Our message this mail answers: by its tokens (for a bounce, the one
 * whose recipient is ADDR if several), else by the last message that
 * went to ADDR when BY_ADDRESS (replies written fresh, auto-replies;
 * never bounces, unsubscribes or complaints). 1 found, 0 not, < 0
 * error. */
static int match(struct ctx *x, const char *addr, int by_address, struct cd_sent_message *m)
{
	struct cd_sent_message first = { 0 };
	int rc, any = 0;

	for (size_t i = 0; i < x->c->ntokens; i++) {
		rc = cd_store_message_by_token(x->st, x->c->tokens[i], m);
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
	    (rc = cd_store_message_last_to(x->st, addr, m)) != 0)
		return rc;
	if (any)
		*m = first;
	return any;
}

static int event(struct ctx *x, const struct cd_sent_message *m, const char *kind,
		 const char *detail)
{
	return cd_store_event_add(x->st, m->id, m->order_id, kind, detail, x->now);
}

static int suppress(struct ctx *x, const char *email, const char *reason, const char *detail)
{
	int added = 0, rc;

	/* the first reason stays: a shop's "blocked" is not overwritten */
	rc = cd_store_suppress_first(x->st, email, reason, detail, x->now, &added);
	if (rc == 0 && added) {
		x->stats->suppressed++;
		cd_log(CD_LOG_NOTICE, "suppressed %s: %s", email, reason);
	}
	return rc;
}

/* A bounce that names an address of ours but carries no token: anyone
 * can write one, so it acts on nothing. It is noted on the last message
 * to that address, for a human, and the mail stays in the mailbox. */
static int unproven_bounce(struct ctx *x, const struct cd_bounce_rcpt *r, const char *detail)
{
	struct cd_sent_message m;
	char note[640];
	int rc;

	x->stats->unmatched++;
	if (!r->addr[0] || (rc = cd_store_message_last_to(x->st, r->addr, &m)) == 0) {
		cd_log(CD_LOG_INFO, "bounce for %s matches no message of ours", r->addr[0] ? r->addr : "-");
		return 0;
	}
	if (rc < 0)
		return rc;
	snprintf(note, sizeof(note), "from %.100s, without our VERP address or Message-ID; nobody "
		 "suppressed, left in the mailbox: %s", x->c->from[0] ? x->c->from : "-", detail);
	cd_log(CD_LOG_WARNING, "order %s: a bounce for %s carries no token of ours (no VERP "
	       "address, no Message-ID of ours): not acted on, left in the mailbox for a human",
	       m.order_id, m.recipient);
	return event(x, &m, "bounce_unproven", note);
}

static int one_bounce(struct ctx *x, const struct cd_bounce_rcpt *r)
{
	char detail[320];
	struct cd_sent_message m;
	int64_t n;
	int rc;

	snprintf(detail, sizeof(detail), "%s %s %s: %s", r->hard ? "hard" : "soft",
		 r->status[0] ? r->status : "-", r->reason, r->diag);
	/* only proof acts: the token of the VERP address the bounce came to,
	 * or of our Message-ID (or Reply-To) in the headers it returns */
	if ((rc = match(x, r->addr[0] ? r->addr : NULL, 0, &m)) <= 0)
		return rc < 0 ? rc : unproven_bounce(x, r, detail);
	if ((rc = event(x, &m, "bounced", detail)) < 0)
		return rc;
	cd_log(CD_LOG_INFO, "order %s: %s bounced (%s)", m.order_id, m.recipient, detail);
	if (r->hard)
		return suppress(x, m.recipient, "hard_bounce", detail);
	if ((n = cd_store_soft_bounces_in_a_row(x->st, m.recipient)) < 0)
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

static int keep_reply(struct ctx *x, const struct cd_sent_message *m, const char *kind)
{
	const struct cd_inmail *mail = &x->c->mail;
	size_t n = strlen(mail->text);

	if (n > MAX_BODY) {
		/* cut on a UTF-8 boundary */
		n = MAX_BODY;
		while (n > 0 && ((unsigned char)mail->text[n] & 0xC0) == 0x80)
			n--;
	}
	return cd_store_reply_add(x->st, &(struct cd_reply){
		.message = m->id, .order_id = m->order_id, .kind = kind, .sender = x->c->from,
		.subject = mail->subject, .body = mail->text, .body_len = n, .received = x->now,
	});
}

/* What a non-bounce does to its message. */
static int answer(struct ctx *x)
{
	const struct cd_classified *c = x->c;
	enum cd_mail_kind k = c->kind;
	/* a stop or a complaint acts only through our token; a reply or an
	 * auto-reply may be found by its sender's address */
	int by_address = k == CD_MAIL_REPLY || k == CD_MAIL_AUTO_REPLY;
	struct cd_sent_message m;
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
	rc = cd_store_inbox_seen(st, key, cd_mail_kind_name(c.kind), now, &fresh);
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
