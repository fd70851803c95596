/*
 * ownwords.c - see ownwords.h. Line by line: each line is quoted, an
 * attribution, the start of a quoted block, a signature, or the
 * sender's. The word lists are what mail clients print in the 14
 * languages the shop writes in (and a few more); they are matched on
 * the line as written, case folded for ASCII only.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/buf.h"
#include "candor/ownwords.h"

struct line {
	const char *s; /* first byte after leading blanks */
	size_t n;      /* up to the line end, trailing blanks dropped */
};

static int blank(const char *p)
{
	return *p == ' ' || *p == '\t' || *p == '\r' ||
	       ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0);
}

/* The line starting at P; returns the start of the next one (NULL at
 * the end). */
static const char *get_line(const char *p, struct line *l)
{
	const char *e = strchr(p, '\n'), *end = e ? e : p + strlen(p);

	while (p < end && blank(p))
		p += (unsigned char)*p == 0xC2 ? 2 : 1;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	l->s = p;
	l->n = (size_t)(end - p);
	return e ? e + 1 : NULL;
}

/* Does L contain W (ASCII letters compared without case)? */
static int has(const struct line *l, const char *w)
{
	size_t n = strlen(w);
	int first = tolower((unsigned char)w[0]);

	for (size_t i = 0; i + n <= l->n; i++)
		if (tolower((unsigned char)l->s[i]) == first && strncasecmp(l->s + i, w, n) == 0)
			return 1;
	return 0;
}

static int has_any(const struct line *l, const char *const *words)
{
	for (; *words; words++)
		if (has(l, *words))
			return 1;
	return 0;
}

static int ends_with(const struct line *l, const char *w)
{
	size_t n = strlen(w);

	return l->n >= n && memcmp(l->s + l->n - n, w, n) == 0;
}

/* "> text", ">> text", and The Bat!'s "AB> text". */
static int quoted(const struct line *l)
{
	size_t i = 0;

	if (l->n && (l->s[0] == '>' || l->s[0] == '|'))
		return l->s[0] == '>' || (l->n > 1 && l->s[1] == ' ');
	while (i < l->n && i < 3 && isalpha((unsigned char)l->s[i]))
		i++;
	return i > 0 && i < l->n && l->s[i] == '>';
}

/* "On Thu, 5 Nov 2026 at 10:12, Shop <hello@shop.example> wrote:" and
 * its kin: ends with a colon, and says "wrote" or names an address
 * and a date. */
static int attribution(const struct line *l)
{
	static const char *const wrote[] = {
		"wrote", "writes", "schrieb", "geschrieben", "crit :", "crit:", "escribi",
		"scritto", "scrisse", "escreveu", "schreef", "napisa", "pisze", "skrev",
		"kirjoitti", "yazd", "\xd0\xbf\xd0\xb8\xd1\x88\xd0\xb5\xd1\x82" /* пишет */,
		"\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0\xd0\xbb" /* писал */,
		"\xe5\x86\x99\xe9\x81\x93" /* 写道 */, "\xe5\xaf\xab\xe9\x81\x93" /* 寫道 */,
		"\xe6\x9b\xb8\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x97\xe3\x81\x9f" /* 書きました */,
		"\xe3\x81\xae\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb\xe3\x83\xbc\xe3\x82\xb8" /* のメッセージ */,
		"\xec\x9e\x91\xec\x84\xb1" /* 작성 */, NULL };
	int digit = 0;

	if (l->n < 4 || l->n > 400 || !(ends_with(l, ":") || ends_with(l, "\xef\xbc\x9a")))
		return 0;
	if (has_any(l, wrote))
		return 1;
	for (size_t i = 0; i < l->n; i++)
		digit |= isdigit((unsigned char)l->s[i]) != 0;
	return digit && (memchr(l->s, '@', l->n) || memchr(l->s, '<', l->n));
}

/* "-----Original Message-----", "----- Mail original -----",
 * "------------------ 原始邮件 ------------------", "________". */
static int separator(const struct line *l)
{
	static const char *const words[] = {
		"original", "message", "nachricht", "mail", "messag", "mensaje", "mensagem",
		"bericht", "wiadomo", "meddelande", "ileti", "forward", "weitergeleitet", "transf",
		"inoltrat", "doorgestuurd", "przekazan", "vidarebefordra",
		"\xd1\x81\xd0\xbe\xd0\xbe\xd0\xb1\xd1\x89\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5" /* сообщение */,
		"\xd0\xbf\xd0\xb8\xd1\x81\xd1\x8c\xd0\xbc\xd0\xbe" /* письмо */,
		"\xe9\x82\xae\xe4\xbb\xb6" /* 邮件 */, "\xe9\x83\xb5\xe4\xbb\xb6" /* 郵件 */,
		"\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb\xe3\x83\xbc\xe3\x82\xb8" /* メッセージ */,
		"\xe8\xbd\xac\xe5\x8f\x91" /* 转发 */, "\xe8\xbd\x89\xe5\xaf\x84" /* 轉寄 */,
		"\xc4\xb0leti" /* İleti */, "\xe5\x8e\x9f\xe4\xbb\xb6" /* 原件 */, NULL };
	size_t i = 0, marks = 0;

	while (i < l->n && strchr("-_=*", l->s[i]))
		i++;
	marks = i;
	if (marks >= 2 && marks < l->n && has_any(l, words))
		return 1;
	/* a rule of one character, long enough not to be a dash */
	if (l->n >= 8) {
		for (i = 0; i < l->n && (l->s[i] == '_' || l->s[i] == '-' || l->s[i] == '='); i++)
			;
		if (i == l->n)
			return 1;
	}
	return 0;
}

/* "From:", "Von:", "De :", "发件人:", ... at the start of L. */
static int header_line(const struct line *l)
{
	static const char *const names[] = {
		"from", "sent", "date", "to", "subject", "cc", "reply-to", "von", "gesendet",
		"datum", "an", "betreff", "de", "envoy\xc3\xa9", "envoye", "\xc3\xa0", "a", "objet",
		"enviado el", "enviado", "enviada em", "enviada", "fecha", "para", "asunto", "assunto",
		"data", "da", "inviato", "oggetto", "van", "verzonden", "aan", "onderwerp", "od",
		"wys\xc5\x82" "ano", "do", "temat", "fr\xc3\xa5n", "skickat", "till", "\xc3\xa4mne",
		"kimden", "g\xc3\xb6nderildi", "g\xc3\xb6nderilen", "tarih", "kime", "konu", "bilgi",
		"\xd0\xbe\xd1\x82" /* от */, "\xd0\x9e\xd1\x82" /* От */,
		"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe" /* отправлено */,
		"\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe" /* Отправлено */,
		"\xd0\x94\xd0\xb0\xd1\x82\xd0\xb0" /* Дата */, "\xd0\x9a\xd0\xbe\xd0\xbc\xd1\x83" /* Кому */,
		"\xd0\xba\xd0\xbe\xd0\xbc\xd1\x83" /* кому */, "\xd0\xa2\xd0\xb5\xd0\xbc\xd0\xb0" /* Тема */,
		"\xd1\x82\xd0\xb5\xd0\xbc\xd0\xb0" /* тема */, "\xd0\x9a\xd0\xbe\xd0\xbf\xd0\xb8\xd1\x8f" /* Копия */,
		"\xe5\x8f\x91\xe4\xbb\xb6\xe4\xba\xba" /* 发件人 */, "\xe5\x8f\x91\xe9\x80\x81\xe6\x97\xb6\xe9\x97\xb4" /* 发送时间 */,
		"\xe6\x94\xb6\xe4\xbb\xb6\xe4\xba\xba" /* 收件人 */, "\xe6\x8a\x84\xe9\x80\x81" /* 抄送 */,
		"\xe4\xb8\xbb\xe9\xa2\x98" /* 主题 */, "\xe6\x97\xa5\xe6\x9c\x9f" /* 日期 */,
		"\xe5\xaf\x84\xe4\xbb\xb6\xe8\x80\x85" /* 寄件者 */, "\xe5\xaf\x84\xe4\xbb\xb6\xe6\x97\xa5\xe6\x9c\x9f" /* 寄件日期 */,
		"\xe6\x94\xb6\xe4\xbb\xb6\xe8\x80\x85" /* 收件者 */, "\xe5\x89\xaf\xe6\x9c\xac" /* 副本 */,
		"\xe4\xb8\xbb\xe6\x97\xa8" /* 主旨 */, "\xe5\xb7\xae\xe5\x87\xba\xe4\xba\xba" /* 差出人 */,
		"\xe9\x80\x81\xe4\xbf\xa1\xe6\x97\xa5\xe6\x99\x82" /* 送信日時 */, "\xe5\xae\x9b\xe5\x85\x88" /* 宛先 */,
		"\xe4\xbb\xb6\xe5\x90\x8d" /* 件名 */, "\xe6\x97\xa5\xe4\xbb\x98" /* 日付 */,
		"\xe9\x80\x81\xe4\xbf\xa1\xe8\x80\x85" /* 送信者 */, NULL };
	const char *s = l->s, *e = l->s + l->n;

	while (s < e && *s == '*')
		s++;
	for (const char *const *n = names; *n; n++) {
		size_t k = strlen(*n);
		const char *p = s + k;

		if ((size_t)(e - s) <= k || strncasecmp(s, *n, k) != 0)
			continue;
		while (p < e && (*p == ' ' || *p == '*'))
			p++;
		if (p < e && (*p == ':' || (e - p >= 3 && memcmp(p, "\xef\xbc\x9a", 3) == 0)))
			return 1;
	}
	return 0;
}

/* "Sent from my iPhone", "Von meinem iPhone gesendet", "Get Outlook for
 * Android", "发自我的iPhone": a client's line, not the sender's. */
static int device_line(const struct line *l)
{
	static const char *const marks[] = {
		"sent from my", "sent from outlook", "get outlook for", "envoy\xc3\xa9 de mon", "envoye de mon",
		"von meinem", "gesendet von", "enviado desde mi", "enviado do meu", "enviado de meu",
		"enviado do meu", "obtener outlook", "inviato da", "verzonden vanaf", "verzonden met",
		"wys\xc5\x82" "ane z", "skickat fr\xc3\xa5n", "'umdan g\xc3\xb6nderildi", "dan g\xc3\xb6nderildi",
		"\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe \xd1\x81" /* Отправлено с */,
		"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe \xd1\x81" /* отправлено с */,
		"\xe5\x8f\x91\xe8\x87\xaa\xe6\x88\x91\xe7\x9a\x84" /* 发自我的 */,
		"\xe4\xbb\x8e\xe6\x88\x91\xe7\x9a\x84" /* 从我的 */, "\xe5\xbe\x9e\xe6\x88\x91\xe7\x9a\x84" /* 從我的 */,
		"\xe3\x81\x8b\xe3\x82\x89\xe9\x80\x81\xe4\xbf\xa1" /* から送信 */, NULL };

	return l->n < 100 && has_any(l, marks);
}

/* "Kind regards,", "Mit freundlichen Grüßen", "С уважением", "敬具": the
 * sender signs off; what follows is their signature (name, company, and
 * at times a marketing footer that says "unsubscribe"). */
static int valediction(const struct line *l)
{
	static const char *const closings[] = {
		"regards", "kind regards", "best regards", "warm regards", "best wishes", "best,",
		"sincerely", "yours sincerely", "yours faithfully", "yours truly", "cheers,",
		"thanks,", "thank you,", "many thanks,",
		"mit freundlichen gr", "freundliche gr", "viele gr", "beste gr", "liebe gr", "mfg",
		"cordialement", "bien cordialement", "bien \xc3\xa0 vous", "salutations",
		"atentamente", "saludos", "un saludo", "cordiales saludos", "cordiali saluti",
		"distinti saluti", "saluti", "atenciosamente", "cumprimentos", "com os melhores",
		"abra\xc3\xa7os", "met vriendelijke groet", "vriendelijke groet", "groeten", "groet,",
		"pozdrawiam", "z powa\xc5\xbc" "aniem", "med v\xc3\xa4nliga h\xc3\xa4lsningar",
		"v\xc3\xa4nliga h\xc3\xa4lsningar", "mvh", "h\xc3\xa4lsningar", "sayg\xc4\xb1lar\xc4\xb1mla",
		"iyi \xc3\xa7" "al\xc4\xb1\xc5\x9fmalar",
		"\xd1\x81 \xd1\x83\xd0\xb2\xd0\xb0\xd0\xb6\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5\xd0\xbc" /* с уважением */,
		"\xd0\xa1 \xd1\x83\xd0\xb2\xd0\xb0\xd0\xb6\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5\xd0\xbc" /* С уважением */,
		"\xe6\x95\xac\xe5\x85\xb7" /* 敬具 */, "\xe6\xad\xa4\xe8\x87\xb4" /* 此致 */,
		"\xe7\xa5\x9d\xe5\xa5\xbd" /* 祝好 */, NULL };

	if (l->n > 48)
		return 0;
	for (const char *const *c = closings; *c; c++)
		if (l->n >= strlen(*c) && strncasecmp(l->s, *c, strlen(*c)) == 0)
			return !memchr(l->s, '.', l->n) && !memchr(l->s, '?', l->n);
	return 0;
}

/* "P.S." resumes the sender's words after their signature. */
static int postscript(const struct line *l)
{
	return (l->n >= 3 && (strncasecmp(l->s, "p.s", 3) == 0 || strncasecmp(l->s, "ps:", 3) == 0 ||
			      strncasecmp(l->s, "ps ", 3) == 0));
}

/* The first line, from P on, that is not blank. */
static const char *next_text(const char *p, struct line *l)
{
	while (p) {
		const char *next = get_line(p, l);

		if (l->n)
			return p;
		p = next;
	}
	l->n = 0;
	return NULL;
}

/* A quoted header block starts at P: two header lines within four. */
static int header_block(const char *p)
{
	struct line l;
	int headers = 0, lines = 0;

	while (p && lines < 4) {
		p = get_line(p, &l);
		if (!l.n)
			continue;
		lines++;
		if (!header_line(&l))
			return 0;
		if (++headers >= 2)
			return 1;
	}
	return 0;
}

/* An attribution wrapped after the address: "On ..., Shop <a@b>" and
 * "wrote:" on the next line. */
static int wrapped_attribution(const struct line *l, const char *next)
{
	struct line two;

	if (!next || !l->n || quoted(l))
		return 0;
	get_line(next, &two);
	return two.n && two.n < 40 && attribution(&two) && has(&two, "wrote") &&
	       (memchr(l->s, '@', l->n) || memchr(l->s, ',', l->n));
}

char *cd_ownwords(const char *text)
{
	struct cd_buf b = { 0 };
	const char *p = text ? text : "";
	int signed_off = 0;

	cd_buf_adds(&b, "");
	while (p && *p) {
		struct line l, after;
		const char *next = get_line(p, &l);

		if (l.n == 2 && strncmp(l.s, "--", 2) == 0)
			break; /* "-- ": the signature */
		if (separator(&l) || header_block(p))
			break;
		if (attribution(&l) || wrapped_attribution(&l, next)) {
			/* the quote follows: with '>' marks, the sender may
			 * answer between them; without, the rest is quoted */
			const char *q = next;

			if (!attribution(&l))
				q = get_line(next, &after);
			if (!next_text(q, &after) || !quoted(&after))
				break;
			p = q;
			continue;
		}
		if (signed_off && postscript(&l))
			signed_off = 0;
		if (l.n && !quoted(&l) && !device_line(&l) && !signed_off) {
			cd_buf_add(&b, l.s, l.n);
			cd_buf_addc(&b, '\n');
		}
		signed_off |= valediction(&l);
		p = next;
	}
	if (b.oom) {
		cd_buf_free(&b);
		return NULL;
	}
	return cd_buf_take(&b);
}

int cd_ownwords_subject(const char *subject, char *out, size_t len)
{
	static const char *const prefixes[] = {
		"re", "aw", "sv", "vs", "antw", "antwort", "r", "rif", "ref", "r\xc3\xa9" "f", "res",
		"odp", "ynt", "yan\xc4\xb1t", "fw", "fwd", "wg", "tr", "rv", "enc", "doorst", "vb",
		"\xd0\xbe\xd1\x82\xd0\xb2" /* отв */, "\xd0\x9e\xd1\x82\xd0\xb2" /* Отв */,
		"\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82" /* ответ */, "\xd0\x9e\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82" /* Ответ */,
		"\xd0\x9f\xd0\xb5\xd1\x80\xd0\xb5\xd1\x81\xd0\xbb" /* Пересл */,
		"\xe5\x9b\x9e\xe5\xa4\x8d" /* 回复 */, "\xe5\x9b\x9e\xe8\xa6\x86" /* 回覆 */,
		"\xe7\xad\x94\xe5\xa4\x8d" /* 答复 */, "\xe7\xad\x94\xe8\xa6\x86" /* 答覆 */,
		"\xe8\xbd\xac\xe5\x8f\x91" /* 转发 */, "\xe8\xbd\x89\xe5\xaf\x84" /* 轉寄 */,
		"\xe8\xbf\x94\xe4\xbf\xa1" /* 返信 */, "\xe5\x9b\x9e" /* 回 */, NULL };
	const char *s = subject ? subject : "";
	int removed = 0;

	for (;;) {
		const char *p = NULL;

		while (*s == ' ' || *s == '\t')
			s++;
		for (const char *const *x = prefixes; *x && !p; x++) {
			size_t k = strlen(*x);

			if (strncasecmp(s, *x, k) != 0)
				continue;
			p = s + k;
			/* "Re[2]:", "Re(2):", "RE^2:" */
			if (*p == '[' || *p == '(' || *p == '^') {
				p++;
				while (isdigit((unsigned char)*p))
					p++;
				p += *p == ']' || *p == ')';
			}
			while (*p == ' ')
				p++;
			if (*p == ':')
				p++;
			else if (strncmp(p, "\xef\xbc\x9a", 3) == 0)
				p += 3;
			else
				p = NULL;
		}
		if (!p)
			break;
		s = p;
		removed++;
	}
	snprintf(out, len, "%s", s);
	for (size_t n = strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = '\0';
	return removed;
}
