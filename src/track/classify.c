/*
 * classify.c - see classify.h. Bounces first (an Exim bounce also says
 * Auto-Submitted), then auto-replies, then requests to stop, then human
 * replies; what is none of these is "other" and kept. A request to stop
 * is read from the sender's own words (ownwords.h) by intent.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "candor/classify.h"
#include "candor/error.h"
#include "candor/intent.h"
#include "candor/ownwords.h"

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

/* S cut to at most MAX bytes on a character boundary, into OUT (which
 * holds MAX + 1): details are shown and stored as text. */
static const char *clip(const char *s, size_t max, char *out)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
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

/* Does S (case folded: see folded()) contain one of WORDS (lowercase)? */
static int contains_any(const char *s, const char *const *words)
{
	for (; s && *words; words++)
		if (strstr(s, *words))
			return 1;
	return 0;
}

/* S case folded for the word lists (Unicode, so "Автоответ" and
 * "АВТООТВЕТ" read as "автоответ"; accents kept), malloc'd; NULL when
 * out of memory. Bytes utf8proc refuses are folded as ASCII. */
static char *folded(const char *s)
{
	utf8proc_uint8_t *out = NULL;
	char *copy;

	if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &out, UTF8PROC_NULLTERM | UTF8PROC_CASEFOLD) >= 0)
		return (char *)out;
	if ((copy = strdup(s)) != NULL)
		for (char *p = copy; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return copy;
}
/* RFC 3834 and the headers and subjects autoresponders really use:
 * out-of-office notices, ticket systems' receipts, challenge-response
 * filters asking the sender to prove they are human. OWN is what the
 * mail says itself, without what it quotes. 1 yes, 0 no, CD_ENOMEM. */
static int auto_reply(const struct cd_inmail *m, const char *own)
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
		"нет на месте", "в отпуске",
		/* more autoresponders */
		"automatic response", "automated response", "automated reply", "autosvar",
		"automatisch antwoord", "afwezigheidsmelding", "odpowiedź automatyczna",
		"automatyczna odpowiedź", "otomatik yanıt", "otomatik cevap", "resposta automática",
		"resposta automatica", "fuori ufficio", "自動応答", "不在通知", "自動送信", "【自動",
		"休暇", "休業のお知らせ", "自动答复", "自動答覆", "休假", "出差中", "[自动回复]",
		/* ticket systems */
		"[ticket", "ticket #", "ticket#", "ticket no", "ticket received", "ticket created",
		"request received", "request #", "case #", "case number", "support request",
		"we received your", "we have received your", "we've received your",
		"thank you for contacting", "thanks for contacting", "eingangsbestätigung",
		"ihre anfrage ist", "anfrage erhalten", "accusé de réception", "nous avons bien reçu",
		"hemos recibido", "abbiamo ricevuto", "recebemos a sua", "recebemos sua",
		"ontvangstbevestiging", "otrzymaliśmy", "vi har mottagit", "talebiniz alın",
		"ваше обращение", "ваша заявка", "заявка №", "обращение №", "工单", "工單",
		"已收到您的", "受付完了", "お問い合わせを受け付け",
		/* challenge-response */
		"please confirm your message", "confirm your message", "verify your email",
		"verification required", "pending verification", "sender verification",
		"confirm you are human", "are you human", "boxtrapper", "spam arrest",
		"bestätigen sie ihre", "confirmez votre message", "confirm you are a human",
		"are you a human", "human verification", "verify you are human", "prove you are human",
		/* a person's autoresponder, about their own mailbox */
		"mailbox full", "mailbox almost full", "mailbox is full", "mailbox is almost full",
		"postfach voll", "postfach fast voll", "boîte pleine", "buzón lleno", "casella piena",
		"caixa cheia", "mailbox vol", "brevlådan är full", "posta kutusu dolu",
		"ящик переполнен", "邮箱已满", "信箱已滿", NULL };
	/* what only a machine says of itself */
	static const char *const says[] = {
		"this is an automated", "this is an automatic", "this is an auto-reply",
		"this is an autoreply", "automatically generated reply", "i am out of the office",
		"i'm out of the office", "i am currently out of the office", "out of office until",
		"do not reply to this", "this mailbox is not monitored", "your ticket number",
		"we will get back to you", "we'll get back to you", "one of our agents",
		"confirm that you are a human", "prove you are human", "verify that you are a",
		"awaiting verification", "held pending verification", "dies ist eine automatische",
		"diese nachricht wurde automatisch", "bin ich nicht im büro", "ceci est une réponse automatique",
		"ceci est un message automatique", "esta es una respuesta automática",
		"este es un mensaje automático", "questa è una risposta automatica",
		"questo è un messaggio automatico", "esta é uma resposta automática",
		"esta é uma mensagem automática", "dit is een automatisch", "to jest automatyczna",
		"wiadomość wygenerowana automatycznie", "detta är ett automatiskt", "bu otomatik bir",
		"это автоматический", "это автоответ", "письмо сформировано автоматически",
		"这是一封自动回复", "此邮件为自动回复", "本邮件由系统自动发送", "這是一封自動回覆",
		"此郵件為自動回覆", "このメールは自動", "自動送信されて", "自動返信です", "本メールは自動",
		"本メールはシステム", "系统自动回复", "系統自動回覆", "自动回复邮件", "自動回覆郵件",
		"ihre nachricht ist bei uns eingegangen", "ihre anfrage ist bei uns eingegangen",
		"wir haben ihre nachricht erhalten", "wir haben ihre anfrage erhalten",
		"diese e-mail wurde automatisch", "nous avons bien reçu votre message",
		"nous avons bien reçu votre demande", "a été généré automatiquement",
		"hemos recibido su mensaje", "hemos recibido tu mensaje", "hemos recibido su solicitud",
		"generado automáticamente", "abbiamo ricevuto il tuo messaggio",
		"abbiamo ricevuto la sua richiesta", "abbiamo ricevuto la tua richiesta",
		"generato automaticamente", "recebemos a sua mensagem", "recebemos sua mensagem",
		"recebemos a sua solicitação", "gerada automaticamente", "we hebben je bericht ontvangen",
		"wij hebben uw bericht ontvangen", "we hebben uw bericht ontvangen",
		"otrzymaliśmy twoją wiadomość", "otrzymaliśmy państwa wiadomość",
		"vi har tagit emot ditt meddelande", "mesajınız alınmıştır", "talebiniz alınmıştır",
		"otomatik olarak gönderil", "ваше обращение зарегистрировано", "мы получили ваше письмо",
		"мы получили ваше обращение", "не отвечайте на это письмо", "我们已收到您的邮件",
		"已收到您的来信", "此邮件由系统自动发送", "我們已收到您的郵件", "お問い合わせを受け付けました",
		"自動返信メール", "このメールは送信専用", "my mailbox is full", "my mailbox is almost full",
		"mein postfach ist voll", "mein postfach ist fast voll", "ma boîte mail est pleine",
		"ma boîte aux lettres est pleine", "mi buzón está lleno", "la mia casella è piena",
		"a minha caixa de correio está cheia",
		/* "I have changed jobs" */
		"i no longer work", "no longer with the company", "have left the company",
		"has left the company", "this address is no longer", "this mailbox is no longer",
		"nicht mehr im unternehmen", "nicht mehr bei der firma", "nicht mehr für die firma",
		"ne fait plus partie", "ne travaille plus", "ya no trabaja", "ya no forma parte",
		"non lavora più", "não trabalha mais", "werkt niet meer", "nie pracuje już",
		"arbetar inte längre", "artık çalışmıyor", "больше не работает", "已离职", "已離職",
		"退職いたしました", NULL };

	char *subject, *text;
	int yes;

	if (header_says(m->headers, "Auto-Submitted", automatic) ||
	    header_says(m->headers, "X-Autoreply", NULL) ||
	    header_says(m->headers, "X-Autorespond", NULL) ||
	    header_says(m->headers, "X-Autoresponder", NULL) ||
	    header_says(m->headers, "Precedence", precedence))
		return 1;
	subject = folded(m->subject);
	text = own ? folded(own) : NULL;
	if (!subject || (own && !text)) {
		free(subject);
		free(text);
		return CD_ENOMEM;
	}
	yes = contains_any(subject, subjects) || contains_any(text, says);
	free(subject);
	free(text);
	return yes;
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

/* A mailing list's or a newsletter's mail: its "unsubscribe" is its own
 * footer, not a customer asking. */
static int bulk(const struct cd_inmail *m)
{
	static const char *const precedence[] = { "bulk", "list", "junk", NULL };

	return header_says(m->headers, "List-Unsubscribe", NULL) ||
	       header_says(m->headers, "List-Id", NULL) ||
	       header_says(m->headers, "Precedence", precedence);
}

/* Does the sender ask us to stop? Reads their own words OWN and the
 * subject; an answer to one of ours is read further down than a mail
 * out of the blue, whose footer may say "unsubscribe". */
static int asks_to_stop(const struct cd_classified *c, const char *own, struct cd_intent *in)
{
	char subject[512];
	int replied, rc;

	memset(in, 0, sizeof(*in));
	if (bulk(&c->mail))
		return 0;
	replied = cd_ownwords_subject(c->mail.subject, subject, sizeof(subject)) > 0;
	rc = cd_intent_read(own, subject, replied,
			    c->ntokens || looks_like_reply(&c->mail) ? 12 : 5, in);
	return rc < 0 ? rc : in->verdict == CD_INTENT_STOP;
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
	char v[512], clipped[144], cue[81];
	const char *from;
	int unsub, stop = 0, automatic;

	memset(c, 0, sizeof(*c));
	if (cd_inmail_parse(raw, len, &c->mail) < 0)
		return CD_ENOMEM;
	if (cd_inmail_header(c->mail.headers, "From", v, sizeof(v)))
		cd_inmail_address(v, c->from, sizeof(c->from));
	from = c->from[0] ? c->from : "-";
	collect_tokens(c, &unsub);
	if (strcmp(c->mail.report, "feedback-report") == 0 || c->mail.feedback) {
		c->kind = CD_MAIL_OTHER;
		c->complaint = 1;
		snprintf(c->detail, sizeof(c->detail), "complaint (abuse report) from %.200s",
			 c->from[0] ? c->from : "-");
	} else if (cd_bounce_read(&c->mail, &c->bounce)) {
		bounce_kind(c);
	} else if (!(c->words = cd_ownwords(c->mail.text)) ||
		   (!unsub && (stop = asks_to_stop(c, c->words, &c->intent)) < 0)) {
		cd_classified_free(c);
		return CD_ENOMEM;
	} else if ((automatic = auto_reply(&c->mail, c->words)) < 0) {
		cd_classified_free(c);
		return CD_ENOMEM;
	} else if (automatic && !(stop && c->intent.from_subject)) {
		/* an autoresponder quotes, and says "do not reply": only a
		 * client's unsubscribe button, whose subject is the request,
		 * marks itself automatic and still asks */
		c->kind = CD_MAIL_AUTO_REPLY;
		snprintf(c->detail, sizeof(c->detail), "from %.100s: %s", from,
			 clip(c->mail.subject, 140, clipped));
	} else if (unsub || stop) {
		c->kind = CD_MAIL_UNSUBSCRIBE;
		if (unsub)
			snprintf(c->detail, sizeof(c->detail), "from %.100s to the unsubscribe address", from);
		else
			snprintf(c->detail, sizeof(c->detail), "from %.100s: asks to stop%s: \"%s\" (%s)", from,
				 c->intent.from_subject ? " in the subject" : "", clip(c->intent.said, 80, cue),
				 c->intent.lang);
	} else {
		c->kind = c->ntokens || looks_like_reply(&c->mail) ? CD_MAIL_REPLY : CD_MAIL_OTHER;
		snprintf(c->detail, sizeof(c->detail), "from %.100s: %s", from,
			 clip(c->mail.subject, 140, clipped));
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
	free(c->words);
	c->words = NULL;
}
