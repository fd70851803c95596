/*
 * htmltext.c - see htmltext.h. One pass, no DOM: mail HTML is too often
 * broken for a strict parser, and all the classifier needs is lines of
 * text and which of them are quoted.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/buf.h"
#include "candor/htmltext.h"

struct out {
	struct cd_buf b;
	int quote;      /* open <blockquote>s */
	int quote_rest; /* inside a client's quote container: to the end */
	int newlines;   /* line ends pending (0, 1 or 2) */
	int space;      /* a space is pending */
	int at_line;    /* nothing written on this line yet */
};

static void put_utf8(struct cd_buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		cd_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		cd_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		cd_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		cd_buf_add(b, u, 4);
	}
}

/* Before the next visible character: pending line ends, the quote
 * marks of a new line, a pending space. */
static void flush(struct out *o)
{
	if (o->newlines && o->b.len) {
		for (int i = 0; i < o->newlines; i++)
			cd_buf_addc(&o->b, '\n');
		o->at_line = 1;
	}
	o->newlines = 0;
	if (o->at_line) {
		if (o->quote || o->quote_rest)
			cd_buf_adds(&o->b, "> ");
		o->at_line = 0;
		o->space = 0;
	}
	if (o->space)
		cd_buf_addc(&o->b, ' ');
	o->space = 0;
}

static void line_end(struct out *o, int n)
{
	if (o->newlines < n)
		o->newlines = n;
}

static const struct { const char *name; uint32_t cp; } entities[] = {
	{ "nbsp", ' ' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "laquo", 0xAB }, { "raquo", 0xBB }, { "ldquo", 0x201C },
	{ "rdquo", 0x201D }, { "bdquo", 0x201E }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "hellip", 0x2026 }, { "shy", 0xAD },
	{ "zwj", 0x200D }, { "zwnj", 0x200C }, { "euro", 0x20AC }, { "copy", 0xA9 },
	{ "middot", 0xB7 }, { "bull", 0x2022 }, { "iexcl", 0xA1 }, { "iquest", 0xBF },
	{ "auml", 0xE4 }, { "ouml", 0xF6 }, { "uuml", 0xFC }, { "Auml", 0xC4 }, { "Ouml", 0xD6 },
	{ "Uuml", 0xDC }, { "szlig", 0xDF }, { "eacute", 0xE9 }, { "egrave", 0xE8 },
	{ "ecirc", 0xEA }, { "agrave", 0xE0 }, { "aacute", 0xE1 }, { "acirc", 0xE2 },
	{ "atilde", 0xE3 }, { "ccedil", 0xE7 }, { "iacute", 0xED }, { "oacute", 0xF3 },
	{ "otilde", 0xF5 }, { "ocirc", 0xF4 }, { "uacute", 0xFA }, { "ntilde", 0xF1 },
	{ "Eacute", 0xC9 }, { "Agrave", 0xC0 }, { "Ccedil", 0xC7 },
};

/* An entity at S ("&...;"): its code point and length, or 0. */
static size_t entity(const char *s, const char *end, uint32_t *cp)
{
	const char *semi = s + 1;

	while (semi < end && semi - s < 12 && *semi != ';')
		semi++;
	if (semi >= end || *semi != ';' || semi == s + 1)
		return 0;
	if (s[1] == '#') {
		char *stop;
		unsigned long v = (s[2] == 'x' || s[2] == 'X') ? strtoul(s + 3, &stop, 16)
							       : strtoul(s + 2, &stop, 10);

		if (stop != semi || v == 0 || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
			return 0;
		*cp = (uint32_t)v;
		return (size_t)(semi - s) + 1;
	}
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
		if (strlen(entities[k].name) == (size_t)(semi - s - 1) &&
		    strncmp(entities[k].name, s + 1, (size_t)(semi - s - 1)) == 0) {
			*cp = entities[k].cp;
			return (size_t)(semi - s) + 1;
		}
	return 0;
}

static int name_is(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncasecmp(*list, name, n) == 0)
			return 1;
	return 0;
}

/* Containers mail clients put the quoted original in. */
static int quote_container(const char *attrs, size_t n)
{
	static const char *const marks[] = {
		"gmail_quote", "yahoo_quoted", "divrplyfwdmsg", "outlookmessageheader",
		"appendonsend", "protonmail_quote", "mail-quote", "mailru-blockquote",
		"zmail_extra", NULL };
	char low[512];
	size_t k;

	for (k = 0; k < n && k + 1 < sizeof(low); k++)
		low[k] = (char)(attrs[k] >= 'A' && attrs[k] <= 'Z' ? attrs[k] + 32 : attrs[k]);
	low[k] = '\0';
	for (const char *const *m = marks; *m; m++)
		if (strstr(low, *m))
			return 1;
	return 0;
}

/* Skip from P (just past "<NAME...>") to past "</NAME>". */
static const char *skip_element(const char *p, const char *end, const char *name, size_t n)
{
	for (; p < end; p++)
		if (*p == '<' && p + 2 + n <= end && p[1] == '/' && strncasecmp(p + 2, name, n) == 0) {
			const char *gt = memchr(p, '>', (size_t)(end - p));

			return gt ? gt + 1 : end;
		}
	return end;
}

/* A tag at P; returns the position after it (P + 1 when '<' starts
 * no tag: it is then text). */
static const char *tag(struct out *o, const char *p, const char *end)
{
	static const char *const breaks[] = {
		"br", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"hr", "pre", "section", "article", "header", "footer", "address", "center",
		"dl", "dt", "dd", "form", "fieldset", "body", "html", NULL };
	static const char *const skipped[] = { "style", "script", "head", "title", "xml", NULL };
	const char *q = p + 1, *name, *gt;
	size_t n = 0;
	int closing = 0;

	if (q + 3 <= end && strncmp(q, "!--", 3) == 0) {
		const char *c = q + 3;

		while (c + 3 <= end && strncmp(c, "-->", 3) != 0)
			c++;
		return c + 3 <= end ? c + 3 : end;
	}
	if (q < end && *q == '/')
		closing = 1, q++;
	if (q >= end || !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '!' || *q == '?'))
		return p + 1;
	name = q;
	while (name + n < end && ((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
				  (name[n] >= '0' && name[n] <= '9') || name[n] == ':'))
		n++;
	gt = memchr(name, '>', (size_t)(end - name));
	if (!gt)
		return end;
	if (!closing && name_is(name, n, skipped))
		return skip_element(gt + 1, end, name, n);
	if (n == 10 && strncasecmp(name, "blockquote", 10) == 0) {
		line_end(o, 1);
		if (closing)
			o->quote -= o->quote > 0;
		else
			o->quote++;
	} else if (n == 1 && (*name == 'p' || *name == 'P')) {
		line_end(o, 2);
	} else if (name_is(name, n, breaks)) {
		if (n == 2 && strncasecmp(name, "br", 2) == 0 && o->newlines == 1)
			o->newlines = 2;
		else
			line_end(o, 1);
	} else if (n == 2 && strncasecmp(name, "td", 2) == 0) {
		o->space = 1;
	}
	if (!closing && !o->quote_rest && quote_container(name + n, (size_t)(gt - name - n))) {
		line_end(o, 1);
		o->quote_rest = 1;
	}
	return gt + 1;
}

char *cd_html_text(const char *html, size_t len)
{
	struct out o = { .at_line = 1 };
	const char *p = html, *end = html + len;
	uint32_t cp;
	size_t n;

	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '<') {
			const char *next = tag(&o, p, end);

			if (next != p + 1) {
				p = next;
				continue;
			}
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			o.space = 1; /* flush() drops it at a line's start */
			p++;
			continue;
		}
		if (c == '&' && (n = entity(p, end, &cp)) > 0) {
			if (cp == ' ') {
				o.space = 1;
			} else if (cp != 0xAD && cp != 0x200B) {
				flush(&o);
				put_utf8(&o.b, cp);
			}
			p += n;
			continue;
		}
		flush(&o);
		cd_buf_addc(&o.b, (char)c);
		p++;
	}
	cd_buf_addc(&o.b, '\n');
	if (o.b.oom) {
		cd_buf_free(&o.b);
		return NULL;
	}
	return cd_buf_take(&o.b);
}
