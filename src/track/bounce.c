/*
 * bounce.c - see bounce.h. The reasons are read from the server's words
 * first and its status code second: servers agree far better on "Mailbox
 * full" than on which status class a full mailbox deserves (Exchange
 * says 5.2.2, qmail 4.2.2), and a soft reason must not suppress an
 * address for good.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/bounce.h"
#include "candor/inmail.h"

struct reason {
	const char *name;
	int hard;
	const char *const *words; /* lowercase, matched as substrings */
};

/* First match wins, so the order matters: greylisting first (its 450
 * says "recipient address rejected"), then the specific soft reasons
 * (a full mailbox that also says "permanent error") before the hard
 * ones, the hard ones before the vaguer soft ones ("may be
 * blacklisted" next to "the account may not exist"). */
static const char *const w_grey[] = {
	"greylist", "graylist", "grey-list", "gray-list", "greylisting", NULL };
static const char *const w_full[] = {
	"mailbox full", "mailbox is full", "mailbox size limit", "quota exceeded", "over quota",
	"overquota", "quotaexceeded", "exceeded storage", "out of storage", "insufficient storage",
	"not enough storage", "user is over", "mailbox has exceeded", "storage space", "inbox is full",
	"postfach voll", "boîte pleine", "buzón lleno", "переполнен", "邮箱已满", "信箱已满",
	"邮箱容量", "空间不足", "容量超過", "容量オーバー", "容量が一杯", "いっぱい", "満杯", "信箱容量",
	"郵箱已滿", "信箱已滿", NULL };
static const char *const w_size[] = {
	"message size exceeds", "message too large", "message is too large", "too big",
	"size limit", "exceeds the maximum", "recipsizelimit", "message length exceeds",
	"message too long", NULL };
static const char *const w_rate[] = {
	"at a rate that", "rate limit", "too many messages", "too many connections",
	"too many recipients", "rate of incoming", "sending rate", NULL };
static const char *const w_user[] = {
	"user unknown", "unknown user", "no such user", "unknown recipient", "recipient unknown",
	"does not exist", "doesn't exist", "not exist", "no mailbox", "mailbox unavailable",
	"mailbox not found", "invalid recipient", "recipient not found", "recipnotfound",
	"address rejected", "user not found", "not recognized", "no such mailbox",
	"invalid mailbox", "unknown address", "address unknown", "wasn't found", "was not found",
	"no such recipient", "not a valid mailbox", "unknown local part", "unbekannt",
	"inconnu", "desconocido", "не существует", "不存在", "宛先不明", "存在しません",
	"見つかりません", "無効なアドレス", "无此用户", "無此用戶", "查无此人", "没有这个用户", NULL };
static const char *const w_host[] = {
	"host or domain name not found", "domain not found", "host not found",
	"domain is not reachable", "no such domain", "unrouteable", "name or service not known",
	"domain does not exist", "host unknown", "unknown host", "couldn't find a mail exchanger",
	"no mx record", "null mx", "does not accept mail", "not accept mail", NULL };
static const char *const w_moved[] = {
	"no longer on server", "has moved", "not our user", "no longer available",
	"no longer valid", NULL };
static const char *const w_suspend[] = {
	"disabled", "suspended", "account is locked", "inactive", "discontinued", "deactivated",
	"account has been closed", "account closed", NULL };
static const char *const w_expired[] = {
	"retry timeout exceeded", "delivery time expired", "message expired", "in the queue too long",
	"queue too long", "could not be delivered within", "delivered for too long",
	"timed out", "timeout", "will be retried", "has been delayed", "delivery delayed", NULL };
static const char *const w_network[] = {
	"name service error", "connection refused", "establish an smtp connection",
	"network is unreachable", "no route to host", "lost connection", "connection reset", NULL };
static const char *const w_blocked[] = {
	"blocked", "client host rejected", "blacklist", "blocklist", "spamhaus", "listed in",
	"not allowed to send", "access denied", NULL };
static const char *const w_spam[] = { "spam", "junk mail", NULL };
static const char *const w_policy[] = { "violation", "policy", "not permitted", NULL };
static const char *const w_system[] = {
	"system error", "internal error", "could not load", "temporary failure", "try again later",
	"temporarily", "service unavailable", "local error", NULL };

static const struct reason reasons[] = {
	{ "greylisted", 0, w_grey },
	{ "mailbox_full", 0, w_full },
	{ "message_too_big", 0, w_size },
	{ "rate_limited", 0, w_rate },
	{ "user_unknown", 1, w_user },
	{ "host_unknown", 1, w_host },
	{ "has_moved", 1, w_moved },
	{ "suspended", 1, w_suspend },
	{ "expired", 0, w_expired },
	{ "network_error", 0, w_network },
	{ "blocked", 0, w_blocked },
	{ "spam_detected", 0, w_spam },
	{ "policy", 0, w_policy },
	{ "system_error", 0, w_system },
};

/* Status codes whose detail settles the reason whatever the class. */
static const struct { const char *detail; const char *reason; int hard; } details[] = {
	{ ".1.1", "user_unknown", 1 }, { ".1.10", "user_unknown", 1 },
	{ ".1.2", "host_unknown", 1 }, { ".1.6", "has_moved", 1 },
	{ ".2.2", "mailbox_full", 0 }, { ".2.3", "message_too_big", 0 },
	{ ".3.4", "message_too_big", 0 }, { ".4.7", "expired", 0 },
};

static void lower(const char *s, char *out, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* The first "D.D.D" status code in S (class 2, 4 or 5). */
static int find_status(const char *s, char *out, size_t len)
{
	for (const char *p = s; *p; p++) {
		size_t a, b;

		if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.' ||
		    (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		a = strspn(p + 2, "0123456789");
		if (a < 1 || a > 3 || p[2 + a] != '.')
			continue;
		b = strspn(p + 3 + a, "0123456789");
		if (b < 1 || b > 3 || isalnum((unsigned char)p[3 + a + b]))
			continue;
		snprintf(out, len, "%.*s", (int)(3 + a + b), p);
		return 1;
	}
	return 0;
}

/* The status class from an SMTP reply code in S ("550 ...", "said:
 * 450"), 0 if none. */
static int reply_class(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((*p == '4' || *p == '5') && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) && (p == s || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[3]) && p[3] != '.')
			return *p - '0';
	return 0;
}

/* Settle R's reason and hardness from DIAG (the server's words) and
 * STATUS (a DSN field, may be ""). WHOLE is the report's text, for the
 * words "permanent" and "temporary" when nothing else says. */
static void judge(struct cd_bounce_rcpt *r, const char *diag, const char *status,
		  const char *whole)
{
	char low[2048];
	int cls;

	lower(diag, low, sizeof(low));
	if (status && find_status(status, r->status, sizeof(r->status)) == 0)
		r->status[0] = '\0';
	if (!r->status[0])
		find_status(diag, r->status, sizeof(r->status));
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		for (const char *const *w = reasons[i].words; *w; w++)
			if (strstr(low, *w)) {
				r->reason = reasons[i].name;
				r->hard = reasons[i].hard;
				/* "550 spam message rejected": the server refuses
				 * this mail for good, not the address for now */
				if (reasons[i].words == w_spam && strstr(low, "reject") &&
				    (r->status[0] ? r->status[0] == '5' : reply_class(diag) == 5))
					r->hard = 1;
				return;
			}
	for (size_t i = 0; r->status[0] && i < sizeof(details) / sizeof(details[0]); i++) {
		size_t n = strlen(details[i].detail), s = strlen(r->status);

		if (s > n && strcmp(r->status + s - n, details[i].detail) == 0 &&
		    r->status[s - n - 1] != '.') {
			r->reason = details[i].reason;
			r->hard = details[i].hard;
			return;
		}
	}
	cls = r->status[0] ? r->status[0] - '0' : reply_class(diag);
	if (!cls) {
		lower(whole, low, sizeof(low));
		cls = strstr(low, "permanent") || strstr(low, "fatal") ? 5 : 4;
	}
	r->reason = cls == 5 ? "rejected" : "deferred";
	r->hard = cls == 5;
}

static void one_line(const char *s, char *out, size_t len)
{
	size_t o = 0;
	int space = 0;

	for (; *s && o + 1 < len; s++) {
		if (isspace((unsigned char)*s)) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < len)
			out[o++] = ' ';
		space = 0;
		out[o++] = *s;
	}
	out[o] = '\0';
}

/* A warning that the server still tries (RFC 3464 "Action: delayed",
 * Postfix's "Delayed Mail", Exim's "Warning: message ... delayed"): the
 * mail may yet arrive, so nothing about it is final. */
static void still_trying(struct cd_bounce_rcpt *r)
{
	if (r->hard)
		r->reason = "delayed";
	r->hard = 0;
}

/* ---- RFC 3464 --------------------------------------------------------- */

/* The per-recipient groups of a delivery-status body, one at a time:
 * *P moves past the group; returns it (NUL-terminated in BUF) or NULL. */
static const char *next_group(const char **p, char *buf, size_t len)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	for (e = s; *e; e++)
		if (*e == '\n' && (e[1] == '\n' || (e[1] == '\r' && e[2] == '\n')))
			break;
	n = (size_t)(e - s);
	snprintf(buf, len, "%.*s\n\n", (int)(n < len - 3 ? n : len - 3), s);
	*p = *e ? e + 1 : e;
	return buf;
}

static int read_dsn(const struct cd_inmail *m, struct cd_bounce *b, int *failed)
{
	const char *p = m->status;
	char group[8192], v[1024], action[64];
	int seen = 0;

	*failed = 0;
	while (b->n < CD_BOUNCE_MAX && next_group(&p, group, sizeof(group))) {
		struct cd_bounce_rcpt *r = &b->r[b->n];
		char status[64] = "";

		if (!cd_inmail_header(group, "Final-Recipient", v, sizeof(v)) &&
		    !cd_inmail_header(group, "Original-Recipient", v, sizeof(v)))
			continue;
		seen = 1;
		if (cd_inmail_header(group, "Action", action, sizeof(action)) &&
		    strncasecmp(action, "failed", 6) != 0 && strncasecmp(action, "delayed", 7) != 0)
			continue;
		memset(r, 0, sizeof(*r));
		if (!cd_inmail_address(v, r->addr, sizeof(r->addr)) &&
		    !(cd_inmail_header(group, "Original-Recipient", v, sizeof(v)) &&
		      cd_inmail_address(v, r->addr, sizeof(r->addr))) &&
		    !(cd_inmail_header(group, "X-Actual-Recipient", v, sizeof(v)) &&
		      cd_inmail_address(v, r->addr, sizeof(r->addr))))
			r->addr[0] = '\0';
		cd_inmail_header(group, "Status", status, sizeof(status));
		if (!cd_inmail_header(group, "Diagnostic-Code", v, sizeof(v)))
			v[0] = '\0';
		/* no words in the report: the human-readable part has them */
		judge(r, v[0] ? v : m->text, status, m->text);
		one_line(v[0] ? v : status, r->diag, sizeof(r->diag));
		if (strncasecmp(action, "delayed", 7) == 0)
			still_trying(r);
		b->n++;
		(*failed)++;
	}
	return seen;
}

/* ---- plain-text notices ----------------------------------------------- */

static int daemon_sender(const char *headers)
{
	static const char *const daemons[] = {
		"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail delivery",
		"mail administrator", "system administrator", NULL };
	char from[512], low[512];

	if (!cd_inmail_header(headers, "From", from, sizeof(from)))
		return 0;
	lower(from, low, sizeof(low));
	for (const char *const *d = daemons; *d; d++)
		if (strstr(low, *d))
			return 1;
	return 0;
}

static int has_any(const char *text, const char *const *words)
{
	char low[4096];

	lower(text, low, sizeof(low));
	for (; *words; words++)
		if (strstr(low, *words))
			return 1;
	return 0;
}

static const char *const bounce_subjects[] = {
	"undeliver", "failure notice", "delivery status notification", "mail delivery failed",
	"returned mail", "delivery failure", "delivery failed", "nondeliverable", "non remis",
	"unzustellbar", "no entregado", "non recapitabile", "недоставлен", "退信", "无法投递",
	"配信不能", "delivery has failed", "delivery notification", "delayed mail",
	"delivery delayed", "delivery delay", "message delayed", "warning: message",
	"not yet delivered", "still being retried", "could not send message for past",
	"verzögert", "retardée", "retardé", "retrasad", "ritardat", "vertraagd", "opóźni",
	"försenad", "задерж", "延迟", "延遲", "遅延", "系统退信", "退信通知", "投递失败",
	"发送失败", "未能送达", "无法送达", "無法遞送", "无法递送", "郵件退回", "配信エラー",
	"配送エラー", "送信エラー", "送信できませんでした", "配信失敗", NULL };
static const char *const bounce_words[] = {
	"could not be delivered", "couldn't be delivered", "unable to deliver", "not able to deliver",
	"wasn't able to deliver", "did not reach", "delivery to the following", "permanent error",
	"delivery has failed", "address(es) failed", "has been delayed", "failed permanently",
	"the following address", "delivery failed", "not yet been delivered",
	"has not been delivered yet", "still being retried", "will continue to try",
	"delivery attempts will continue", "will keep trying", "will retry", "delay reason",
	"could not send message for past", "送信できませんでした", "配信できませんでした",
	"届けることができませんでした", "投递失败", "无法投递", "无法送达", "發送失敗", "無法投遞",
	"未能成功发送", NULL };
/* A notice that delivery is still being tried, not given up. */
static const char *const delay_words[] = {
	"not yet been delivered", "has not been delivered yet", "still being retried",
	"will continue to try", "delivery attempts will continue", "will keep trying",
	"will retry", "will be retried", "no action is required", "delay reason",
	"could not send message for past", "warning: message", "delayed mail",
	"delivery delayed", "message delayed", "still trying", "wird weiterhin versucht",
	"weiterhin zuzustellen", "verzögert", "延迟投递", "延遲投遞", "正在重试", "正在重試",
	"将继续尝试", "將繼續嘗試", "再送を試み", "再試行します", "配信が遅れて", NULL };

static int is_header_line(const char *line)
{
	static const char *const names[] = { "to:", "from:", "subject:", "sent:", "date:", "cc:",
					     "reply-to:", "return-path:", "message-id:",
					     "in-reply-to:", "references:", "x-postfix-queue-id:",
					     NULL };
	while (*line == ' ' || *line == '\t')
		line++;
	for (const char *const *n = names; *n; n++)
		if (strncasecmp(line, *n, strlen(*n)) == 0)
			return 1;
	return 0;
}

/* Addresses the report is about, in order of first mention, skipping
 * the report's own From and To and header-like lines quoting the
 * original. */
static void text_recipients(const struct cd_inmail *m, struct cd_bounce *b)
{
	char own_from[256] = "", own_to[256] = "", v[512], addr[256];

	if (cd_inmail_header(m->headers, "From", v, sizeof(v)))
		cd_inmail_address(v, own_from, sizeof(own_from));
	if (cd_inmail_header(m->headers, "To", v, sizeof(v)))
		cd_inmail_address(v, own_to, sizeof(own_to));
	for (const char *line = m->text; line && *line && b->n < CD_BOUNCE_MAX;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		const char *p = buf;

		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), line);
		while (!is_header_line(buf) && (p = strchr(p, '@')) != NULL) {
			const char *s = p;
			int dup = 0;

			/* back to the address's start: CJK text runs into it
			 * without a space ("收件人：a@b") */
			while (s > buf && !strchr(" \t<>(),;:\"'[]", s[-1]) && (unsigned char)s[-1] < 0x80)
				s--;
			p++;
			if (!cd_inmail_address(s, addr, sizeof(addr)) || strcmp(addr, own_from) == 0 ||
			    strcmp(addr, own_to) == 0 || strncmp(addr, "mailer-daemon@", 14) == 0 ||
			    strncmp(addr, "postmaster@", 11) == 0)
				continue;
			for (size_t k = 0; k < b->n; k++)
				dup |= strcmp(b->r[k].addr, addr) == 0;
			if (!dup)
				snprintf(b->r[b->n++].addr, sizeof(b->r[0].addr), "%s", addr);
			if (b->n == CD_BOUNCE_MAX)
				break;
		}
		line = end ? end + 1 : NULL;
	}
}

/* The server's words about recipient I: the text from its first mention
 * to the next recipient's. */
static void words_about(const struct cd_inmail *m, const struct cd_bounce *b, size_t i,
			char *out, size_t len)
{
	const char *s = strcasestr(m->text, b->r[i].addr), *e = NULL;

	if (!s) {
		snprintf(out, len, "%s", m->text);
		return;
	}
	for (size_t k = 0; k < b->n; k++) {
		const char *o = k == i ? NULL : strcasestr(s + 1, b->r[k].addr);

		if (o && (!e || o < e))
			e = o;
	}
	snprintf(out, len, "%.*s", (int)(e ? (size_t)(e - s) : strlen(s)), s);
}

static int read_text(const struct cd_inmail *m, struct cd_bounce *b)
{
	char v[1024], words[2048];
	int delayed;
	int failed_hdr = cd_inmail_header(m->headers, "X-Failed-Recipients", v, sizeof(v)) != NULL;

	if (!failed_hdr && !(daemon_sender(m->headers) &&
			     (has_any(m->subject, bounce_subjects) || has_any(m->text, bounce_words))) &&
	    !(has_any(m->subject, bounce_subjects) && has_any(m->text, bounce_words)))
		return 0;
	if (failed_hdr) {
		/* "a@b, c@d" */
		for (char *tok = strtok(v, ", \t"); tok && b->n < CD_BOUNCE_MAX; tok = strtok(NULL, ", \t"))
			if (cd_inmail_address(tok, b->r[b->n].addr, sizeof(b->r[0].addr)))
				b->n++;
	}
	if (b->n == 0)
		text_recipients(m, b);
	delayed = has_any(m->subject, delay_words) || has_any(m->text, delay_words);
	for (size_t i = 0; i < b->n; i++) {
		words_about(m, b, i, words, sizeof(words));
		judge(&b->r[i], words, "", m->text);
		one_line(words, b->r[i].diag, sizeof(b->r[i].diag));
		if (delayed)
			still_trying(&b->r[i]);
	}
	return 1;
}

/* A DSN whose recipient field names no mailbox ("rfc822; @host"): the
 * text or the returned message's To says who it was. */
static void fill_missing(const struct cd_inmail *m, struct cd_bounce *b)
{
	struct cd_bounce t = { 0 };
	char v[512];

	for (size_t i = 0; i < b->n; i++) {
		if (b->r[i].addr[0])
			continue;
		if (!t.n)
			text_recipients(m, &t);
		if (t.n)
			snprintf(b->r[i].addr, sizeof(b->r[i].addr), "%s", t.r[0].addr);
		else if (m->original && cd_inmail_header(m->original, "To", v, sizeof(v)))
			cd_inmail_address(v, b->r[i].addr, sizeof(b->r[i].addr));
	}
}

int cd_bounce_read(const struct cd_inmail *m, struct cd_bounce *b)
{
	int failed;

	memset(b, 0, sizeof(*b));
	if (m->status && read_dsn(m, b, &failed)) {
		fill_missing(m, b);
		return failed > 0;
	}
	return read_text(m, b);
}
