/*
 * classify.c - see classify.h. Bounces first (an Exim bounce also says
 * Auto-Submitted), then auto-replies, then requests to stop, then human
 * replies; what is none of these is "other" and kept.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/classify.h"
#include "candor/error.h"

const char *cd_mail_kind_name(enum cd_mail_kind k)
{
	static const char *const names[] = {
		[CD_MAIL_REPLY] = "reply", [CD_MAIL_HARD_BOUNCE] = "hard_bounce",
		[CD_MAIL_SOFT_BOUNCE] = "soft_bounce", [CD_MAIL_AUTO_REPLY] = "auto_reply",
		[CD_MAIL_UNSUBSCRIBE] = "unsubscribe", [CD_MAIL_OTHER] = "other",
	};
	return k <= CD_MAIL_OTHER ? names[k] : "other";
}

static int hex32(const char *s)
{
	for (int i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return !isxdigit((unsigned char)s[32]);
}

static void add_token(struct cd_classified *c, const char *t)
{
	for (size_t i = 0; i < c->ntokens; i++)
		if (strncmp(c->tokens[i], t, 32) == 0)
			return;
	if (c->ntokens < CD_CLASSIFY_TOKENS)
		snprintf(c->tokens[c->ntokens++], sizeof(c->tokens[0]), "%.32s", t);
}

/* "feedback+TOKEN@" and "feedback+u-TOKEN@" in a header's addresses;
 * returns 1 when an unsubscribe tag was among them. */
static int tagged_tokens(struct cd_classified *c, const char *block, const char *name)
{
	char v[2048];
	int unsub = 0;

	if (!block || !cd_inmail_header(block, name, v, sizeof(v)))
		return 0;
	for (char *p = strchr(v, '+'); p; p = strchr(p + 1, '+')) {
		const char *t = p + 1;
		int u = strncmp(t, "u-", 2) == 0;

		t += u ? 2 : 0;
		if (hex32(t) && t[32] == '@') {
			add_token(c, t);
			unsub |= u;
		}
	}
	return unsub;
}

/* Our Message-IDs are "<random>.<token>@domain". */
static void id_tokens(struct cd_classified *c, const char *block, const char *name)
{
	char v[4096];

	if (!block || !cd_inmail_header(block, name, v, sizeof(v)))
		return;
	for (char *p = strchr(v, '.'); p; p = strchr(p + 1, '.'))
		if (hex32(p + 1) && p[33] == '@')
			add_token(c, p + 1);
}

static int header_says(const char *headers, const char *name, const char *const *values)
{
	char v[256];

	if (!cd_inmail_header(headers, name, v, sizeof(v)))
		return 0;
	if (!values)
		return 1;
	for (; *values; values++)
		if (strncasecmp(v, *values, strlen(*values)) == 0)
			return 1;
	return 0;
}

static int contains_any(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcasestr(s, *words))
			return 1;
	return 0;
}

/* RFC 3834 and the headers and subjects autoresponders really use. */
static int auto_reply(const struct cd_inmail *m)
{
	static const char *const automatic[] = { "auto-replied", "auto-generated", "auto-notified",
						 "auto", NULL };
	static const char *const precedence[] = { "auto_reply", NULL };
	static const char *const subjects[] = {
		"out of office", "out of the office", "automatic reply", "auto reply", "autoreply",
		"auto-reply", "autorespon", "auto response", "away until", "away from",
		"on vacation", "vacation", "abwesenheit", "automatische antwort",
		"réponse automatique", "reponse automatique", "absence", "respuesta automática",
		"respuesta automatica", "fuera de la oficina", "risposta automatica", "自动回复",
		"自動回覆", "自動回复", "自動返信", "不在", "автоответ", "автоматический ответ",
		"нет на месте", "в отпуске", NULL };

	return header_says(m->headers, "Auto-Submitted", automatic) ||
	       header_says(m->headers, "X-Autoreply", NULL) ||
	       header_says(m->headers, "X-Autorespond", NULL) ||
	       header_says(m->headers, "X-Autoresponder", NULL) ||
	       header_says(m->headers, "Precedence", precedence) ||
	       contains_any(m->subject, subjects);
}

/* The first line the sender wrote, lowercased, without punctuation. */
static void first_words(const char *text, char *out, size_t len)
{
	const char *p = text;
	size_t o = 0;

	while (*p && (isspace((unsigned char)*p) || *p == '>'))
		p++;
	for (; *p && *p != '\n' && o + 1 < len; p++)
		if (!strchr(".,!?;:\"'()", *p))
			out[o++] = (char)tolower((unsigned char)*p);
	while (o > 0 && isspace((unsigned char)out[o - 1]))
		o--;
	out[o] = '\0';
}

static int asks_to_stop(const char *text)
{
	static const char *const stops[] = {
		"unsubscribe", "stop", "remove me", "opt out", "opt-out", "no more emails",
		"no more mail", "please remove", "take me off", "abmelden", "abbestellen",
		"désabonner", "desabonner", "désinscrire", "darse de baja", "dar de baja", "baja",
		"退订", "取消订阅", "不要再发", "отписаться", "отпишите", "отписка", "стоп", NULL };
	char first[200];

	first_words(text, first, sizeof(first));
	if (!first[0] || strlen(first) > 80)
		return 0;
	for (const char *const *s = stops; *s; s++)
		if (strncmp(first, *s, strlen(*s)) == 0)
			return 1;
	return 0;
}

static int looks_like_reply(const struct cd_inmail *m)
{
	static const char *const prefixes[] = { "re:", "re :", "aw:", "sv:", "antw:", "r:",
						"réf", "rif:", "回复", "回覆", "答复", "ответ", NULL };
	const char *s = m->subject;

	while (*s == ' ')
		s++;
	for (const char *const *p = prefixes; *p; p++)
		if (strncasecmp(s, *p, strlen(*p)) == 0)
			return 1;
	return header_says(m->headers, "In-Reply-To", NULL) ||
	       header_says(m->headers, "References", NULL);
}

static void bounce_kind(struct cd_classified *c)
{
	const struct cd_bounce *b = &c->bounce;
	int hard = 0;

	for (size_t i = 0; i < b->n; i++)
		hard |= b->r[i].hard;
	c->kind = hard || b->n == 0 ? CD_MAIL_HARD_BOUNCE : CD_MAIL_SOFT_BOUNCE;
	if (b->n == 0)
		snprintf(c->detail, sizeof(c->detail), "no failed recipient found");
	else
		snprintf(c->detail, sizeof(c->detail), "%s %s: %.200s", b->r[0].status[0] ? b->r[0].status : "-",
			 b->r[0].reason, b->r[0].diag);
}

static void collect_tokens(struct cd_classified *c, int *unsub)
{
	static const char *const to[] = { "To", "Cc", "Delivered-To", "X-Original-To",
					   "Envelope-To", "X-Envelope-To", NULL };
	const struct cd_inmail *m = &c->mail;

	*unsub = 0;
	for (const char *const *h = to; *h; h++)
		*unsub |= tagged_tokens(c, m->headers, *h);
	id_tokens(c, m->headers, "In-Reply-To");
	id_tokens(c, m->headers, "References");
	/* a bounce returns our message: its Message-ID and Reply-To */
	id_tokens(c, m->original, "Message-ID");
	tagged_tokens(c, m->original, "Reply-To");
}

int cd_classify(const char *raw, size_t len, struct cd_classified *c)
{
	char v[512];
	int unsub;

	memset(c, 0, sizeof(*c));
	if (cd_inmail_parse(raw, len, &c->mail) < 0)
		return CD_ENOMEM;
	if (cd_inmail_header(c->mail.headers, "From", v, sizeof(v)))
		cd_inmail_address(v, c->from, sizeof(c->from));
	collect_tokens(c, &unsub);
	if (strcmp(c->mail.report, "feedback-report") == 0 || c->mail.feedback) {
		c->kind = CD_MAIL_OTHER;
		c->complaint = 1;
		snprintf(c->detail, sizeof(c->detail), "complaint (abuse report) from %.200s",
			 c->from[0] ? c->from : "-");
	} else if (cd_bounce_read(&c->mail, &c->bounce)) {
		bounce_kind(c);
	} else if (auto_reply(&c->mail)) {
		c->kind = CD_MAIL_AUTO_REPLY;
		snprintf(c->detail, sizeof(c->detail), "from %.100s: %.140s", c->from[0] ? c->from : "-",
			 c->mail.subject);
	} else if (unsub || asks_to_stop(c->mail.text)) {
		c->kind = CD_MAIL_UNSUBSCRIBE;
		snprintf(c->detail, sizeof(c->detail), "from %.100s%s", c->from[0] ? c->from : "-",
			 unsub ? " to the unsubscribe address" : ": asks to stop");
	} else if (c->ntokens || looks_like_reply(&c->mail)) {
		c->kind = CD_MAIL_REPLY;
		snprintf(c->detail, sizeof(c->detail), "from %.100s: %.140s", c->from[0] ? c->from : "-",
			 c->mail.subject);
	} else {
		c->kind = CD_MAIL_OTHER;
		snprintf(c->detail, sizeof(c->detail), "from %.100s: %.140s", c->from[0] ? c->from : "-",
			 c->mail.subject);
	}
	/* one line, whatever the subject held */
	for (char *p = c->detail; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	return 0;
}

void cd_classified_free(struct cd_classified *c)
{
	cd_inmail_free(&c->mail);
}
