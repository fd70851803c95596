/*
 * normalize.c - see normalize.h. One pass over the input decodes tags,
 * entities and UTF-8 and emits normalized bytes with their origin; a
 * second joins letter-spaced words. ASCII, most of any mail, takes a fast
 * path; everything else goes through utf8proc (NFKD with compatibility
 * mappings, case folding, marks and default-ignorables stripped), which
 * is why a Debian library does this rather than tables of our own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "candor/error.h"
#include "candor/normalize.h"

struct out {
	char *s;
	uint32_t *map;
	size_t len, cap;
	int space;      /* a space is pending */
	int para;       /* a paragraph break is pending */
	int oom;
};

static int reserve(struct out *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return 0;
	size_t cap = o->cap ? o->cap * 2 : 256;

	while (cap < o->len + n + 1)
		cap *= 2;
	char *s = realloc(o->s, cap);
	uint32_t *map = s ? realloc(o->map, cap * sizeof(*map)) : NULL;

	if (s)
		o->s = s;
	if (!s || !map) {
		o->oom = 1;
		return -1;
	}
	o->map = map;
	o->cap = cap;
	return 0;
}

/* The pending separator, if any, before text from offset AT; the
 * caller has reserved room for it. */
static void put_separator(struct out *o, size_t at)
{
	if ((o->para || o->space) && o->len > 0) {
		o->s[o->len] = o->para ? '\n' : ' ';
		o->map[o->len++] = (uint32_t)at;
	}
	o->space = o->para = 0;
}

/* Emit byte C that came from offset AT, after any pending separator. */
static void put(struct out *o, char c, size_t at)
{
	if (reserve(o, 2) < 0)
		return;
	put_separator(o, at);
	o->s[o->len] = c;
	o->map[o->len++] = (uint32_t)at;
}

static void put_utf8(struct out *o, int32_t cp, size_t at)
{
	uint8_t buf[4];
	utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);

	for (utf8proc_ssize_t i = 0; i < n; i++)
		put(o, (char)buf[i], at);
}

static int is_star(int32_t cp)
{
	return cp == 0x2605 || cp == 0x2606 || cp == 0x2B50 || cp == 0x1F31F ||
	       (cp >= 0x2729 && cp <= 0x2730) || cp == 0x272A || cp == 0x22C6 ||
	       cp == 0x1F320 || cp == 0x2B51 || cp == 0x066D;
}

/* Bytes the first pass may copy as they are, but for case: printable
 * ASCII that starts no tag, entity, mustache tag or word break. */
static int plain_ascii(unsigned char c)
{
	/* a bit per ASCII byte: 0x21-0x7e but for < & { - _ */
	static const uint64_t bits[2] = { 0xefffdfbe00000000ULL, 0x77ffffff7fffffffULL };

	return c < 0x80 && (bits[c >> 6] >> (c & 63)) & 1;
}

/* TEXT[FROM..TO), all plain_ascii: what put() would do byte by byte,
 * with one reserve. Most of any mail is such runs. */
static void put_run(struct out *o, const char *text, size_t from, size_t to)
{
	if (reserve(o, to - from + 1) < 0)
		return;
	put_separator(o, from);
	for (size_t k = from; k < to; k++) {
		char c = text[k];

		o->s[o->len] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		o->map[o->len++] = (uint32_t)k;
	}
}

/* One decoded code point CP from offset AT. */
static void put_cp(struct out *o, int32_t cp, size_t at)
{
	utf8proc_int32_t dec[32];
	utf8proc_ssize_t n;

	if (cp < 0x80) {
		if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\f' || cp == '\v' ||
		    cp == '-' || cp == '_' || cp < 0x20 || cp == 0x7f)
			o->space = 1;
		else
			put(o, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp), at);
		return;
	}
	if (is_star(cp)) {
		put_utf8(o, 0x2605, at);
		return;
	}
	n = utf8proc_decompose_char(cp, dec, 32, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
				    UTF8PROC_IGNORE | UTF8PROC_LUMP | UTF8PROC_STRIPMARK |
				    UTF8PROC_STRIPNA, NULL);
	for (utf8proc_ssize_t i = 0; i < n && i < 32; i++) {
		utf8proc_category_t cat = utf8proc_category(dec[i]);

		if (dec[i] < 0x80)
			put_cp(o, dec[i], at);
		else if (cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
			 cat == UTF8PROC_CATEGORY_PD || cat == UTF8PROC_CATEGORY_CC)
			o->space = 1;
		else if (cat == UTF8PROC_CATEGORY_ZP)
			o->para = 1;
		else if (cat != UTF8PROC_CATEGORY_CF && cat != UTF8PROC_CATEGORY_MN &&
			 cat != UTF8PROC_CATEGORY_ME)
			put_utf8(o, dec[i], at);
	}
}

/* ---- HTML ------------------------------------------------------------ */

static const struct { const char *name; int32_t cp; } entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xA0 }, { "shy", 0xAD }, { "zwj", 0x200D }, { "zwnj", 0x200C },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "hellip", 0x2026 }, { "laquo", 0xAB },
	{ "raquo", 0xBB }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "euro", 0x20AC }, { "pound", 0xA3 }, { "yen", 0xA5 },
	{ "cent", 0xA2 }, { "times", 0xD7 }, { "middot", 0xB7 }, { "bull", 0x2022 },
	{ "star", 0x2606 }, { "starf", 0x2605 }, { "percnt", '%' }, { "dollar", '$' },
	{ "num", '#' }, { "excl", '!' }, { "quest", '?' }, { "period", '.' },
	{ "auml", 0xE4 }, { "ouml", 0xF6 }, { "uuml", 0xFC }, { "szlig", 0xDF },
	{ "eacute", 0xE9 }, { "egrave", 0xE8 }, { "agrave", 0xE0 }, { "ccedil", 0xE7 },
	{ "ntilde", 0xF1 }, { "iexcl", 0xA1 }, { "iquest", 0xBF }, { "copy", 0xA9 },
};

/* An entity at TEXT[I] ("&...;"): its code point and length, or 0. */
static size_t entity(const char *text, size_t i, size_t len, int32_t *cp)
{
	size_t j = i + 1, end;

	for (end = j; end < len && end - i < 12 && text[end] != ';'; end++)
		;
	if (end >= len || text[end] != ';' || end == j)
		return 0;
	if (text[j] == '#') {
		char *stop;
		long v = (j + 1 < end && (text[j + 1] == 'x' || text[j + 1] == 'X'))
			 ? strtol(text + j + 2, &stop, 16) : strtol(text + j + 1, &stop, 10);

		if (stop != text + end || v <= 0 || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
			return 0;
		*cp = (int32_t)v;
		return end - i + 1;
	}
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
		if (strlen(entities[k].name) == end - j &&
		    strncmp(entities[k].name, text + j, end - j) == 0) {
			*cp = entities[k].cp;
			return end - i + 1;
		}
	return 0;
}

/* Tags that end a block of text, so what follows is a new sentence. */
static int block_tag(const char *name, size_t n)
{
	static const struct { const char *s; size_t n; } blocks[] = {
#define B(x) { x, sizeof(x) - 1 }
		B("p"), B("div"), B("br"), B("li"), B("ul"), B("ol"), B("tr"), B("td"),
		B("th"), B("table"), B("h1"), B("h2"), B("h3"), B("h4"), B("h5"), B("h6"),
		B("blockquote"), B("hr"), B("section"), B("article"), B("header"),
		B("footer"), B("title"), B("body"), B("html"), B("head"),
#undef B
	};

	for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++)
		if (blocks[k].n == n && strncasecmp(blocks[k].s, name, n) == 0)
			return 1;
	return 0;
}

/* A tag at TEXT[I]: its length (0 if '<' starts no tag). Style and
 * script elements are skipped whole; a block tag sets a paragraph. */
static size_t tag(struct out *o, const char *text, size_t i, size_t len)
{
	size_t j = i + 1, name, n = 0, end;
	const char *close;

	if (j < len && text[j] == '/')
		j++;
	if (j >= len || !((text[j] >= 'a' && text[j] <= 'z') || (text[j] >= 'A' && text[j] <= 'Z') ||
			  text[j] == '!'))
		return 0;
	name = j;
	while (j + n < len && ((text[j + n] >= 'a' && text[j + n] <= 'z') ||
			       (text[j + n] >= 'A' && text[j + n] <= 'Z') ||
			       (text[j + n] >= '0' && text[j + n] <= '9')))
		n++;
	for (end = j + n; end < len && end - i < 2000 && text[end] != '>' && text[end] != '<'; end++)
		;
	if (end >= len || text[end] != '>')
		return 0;
	/* inline tags join: re<b>fund</b> reads "refund" */
	if (block_tag(text + name, n))
		o->para = 1;
	if (text[i + 1] != '/' && (n == 5 || n == 6) &&
	    (strncasecmp(text + name, "style", n) == 0 || strncasecmp(text + name, "script", n) == 0)) {
		/* skip to the closing tag */
		for (close = text + end; close && (size_t)(close - text) < len;
		     close = memchr(close + 1, '<', len - (size_t)(close - text) - 1))
			if ((size_t)(close - text) + 2 + n < len && close[1] == '/' &&
			    strncasecmp(close + 2, text + name, n) == 0)
				break;
		if (close && (size_t)(close - text) < len) {
			const char *gt = memchr(close, '>', len - (size_t)(close - text));

			return gt ? (size_t)(gt - text) - i + 1 : len - i;
		}
		return len - i;
	}
	return end - i + 1;
}

/* ---- the passes ------------------------------------------------------ */

/* Blank lines in plain text are paragraph breaks; single ones are not
 * (mail text wraps at 76 columns). */
static size_t newline(struct out *o, const char *text, size_t i, size_t len)
{
	size_t j = i + 1;

	while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
		j++;
	if (j < len && text[j] == '\n')
		o->para = 1;
	else
		o->space = 1;
	return 1;
}

static void first_pass(struct out *o, const char *text, size_t len, int mustache)
{
	size_t i = 0, n;
	int32_t cp;

	while (i < len && !o->oom) {
		unsigned char c = (unsigned char)text[i];

		if (c == '<' && (n = tag(o, text, i, len)) > 0) {
			i += n;
		} else if (c == '&' && (n = entity(text, i, len, &cp)) > 0) {
			put_cp(o, cp, i);
			i += n;
		} else if (mustache && c == '{' && i + 1 < len && text[i + 1] == '{') {
			const char *end = memmem(text + i, len - i, "}}", 2);

			o->space = 1;
			i = end ? (size_t)(end - text) + 2 + (end + 2 < text + len && end[2] == '}') : len;
		} else if (c == '\n') {
			i += newline(o, text, i, len);
		} else if (plain_ascii(c)) {
			for (n = i + 1; n < len && plain_ascii((unsigned char)text[n]); n++)
				;
			put_run(o, text, i, n);
			i = n;
		} else if (c < 0x80) {
			put_cp(o, c, i);
			i++;
		} else {
			n = (size_t)utf8proc_iterate((const uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp);
			if ((utf8proc_ssize_t)n <= 0) {
				o->space = 1;
				i++;
				continue;
			}
			put_cp(o, cp, i);
			i += n;
		}
	}
}

/* Is S[I] the start of a one-letter word: a letter with a separator (or
 * the end) on both sides? Returns the letter's byte length, or 0. */
static size_t single_letter(const char *s, size_t len, size_t i)
{
	size_t n;
	unsigned char c = (unsigned char)s[i];

	if (c >= 'a' && c <= 'z')
		n = 1;
	else if (c >= 0xC3 && c <= 0xD4 && i + 1 < len)  /* Latin, Greek, Cyrillic */
		n = 2;
	else
		return 0;
	if (i > 0 && s[i - 1] != ' ' && s[i - 1] != '.' && s[i - 1] != '*')
		return 0;
	if (i + n < len && s[i + n] != ' ' && s[i + n] != '.' && s[i + n] != '*')
		return 0;
	return n;
}

/* "r e f u n d", "r.e.f.u.n.d": four or more one-letter words in a row,
 * one separator apart, become one word. */
static void join_spaced(struct out *o)
{
	size_t r = 0, w = 0;

	while (r < o->len) {
		size_t i = r, count = 0, n;

		/* inside a word: no one-letter word starts here */
		if (r > 0 && o->s[r - 1] != ' ' && o->s[r - 1] != '.' && o->s[r - 1] != '*') {
			o->s[w] = o->s[r];
			o->map[w++] = o->map[r++];
			continue;
		}

		while (i < o->len && (n = single_letter(o->s, o->len, i)) > 0) {
			count++;
			i += n;
			if (i + 1 < o->len && (o->s[i] == ' ' || o->s[i] == '.' || o->s[i] == '*') &&
			    single_letter(o->s, o->len, i + 1))
				i++;
			else
				break;
		}
		/* "get a r e f u n d": a leading one-letter word before a space is
		 * a word of its own */
		if (count >= 5 && o->s[r + 1] == ' ' && strchr("aiouy", o->s[r])) {
			o->s[w] = o->s[r];
			o->map[w++] = o->map[r];
			r++;
			continue;
		}
		if (count >= 4) {
			for (; r < i; r++)
				if (o->s[r] != ' ' && o->s[r] != '.' && o->s[r] != '*') {
					o->s[w] = o->s[r];
					o->map[w++] = o->map[r];
				}
			continue;
		}
		o->s[w] = o->s[r];
		o->map[w++] = o->map[r];
		r++;
	}
	o->len = w;
}

int cd_normalize(const char *text, size_t len, int mustache, struct cd_normtext *out)
{
	struct out o = { 0 };

	memset(out, 0, sizeof(*out));
	if (reserve(&o, len + 16) < 0)
		goto fail;
	first_pass(&o, text, len, mustache);
	if (o.oom || reserve(&o, 1) < 0)
		goto fail;
	join_spaced(&o);
	o.s[o.len] = '\0';
	o.map[o.len] = (uint32_t)len;
	out->s = o.s;
	out->map = o.map;
	out->len = o.len;
	return 0;
fail:
	free(o.s);
	free(o.map);
	return CD_ENOMEM;
}

void cd_normtext_free(struct cd_normtext *n)
{
	free(n->s);
	free(n->map);
	memset(n, 0, sizeof(*n));
}
