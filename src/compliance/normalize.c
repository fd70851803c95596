/*
 * normalize.c - see normalize.h. One pass over the input decodes tags,
 * entities and UTF-8 and emits normalized bytes with their origin; a
 * second joins letter-spaced words. ASCII, most of any mail, takes a fast
 * path; everything else goes through utf8proc (NFKD with compatibility
 * mappings, case folding, marks and default-ignorables stripped), which
 * is why a Debian library does this rather than tables of our own; its
 * answer for a code point of the BMP is kept once asked (memo_of).
 */
#include "config.h"

#include <stdatomic.h>
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
	int filled;     /* the run of stars last put holds a filled one */
	unsigned seen;  /* SEEN_* of what was put, so later passes may skip */
};

#define SEEN_DIGIT 1u
#define SEEN_HIGH 2u    /* a byte from 0x80 */
#define SEEN_CJK 4u     /* a byte from 0xE3, where CJK characters start */

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

/* put() with room for two bytes reserved. */
static void put_reserved(struct out *o, char c, size_t at)
{
	put_separator(o, at);
	o->s[o->len] = c;
	o->map[o->len++] = (uint32_t)at;
	o->seen |= ((unsigned char)c >= 0x80 ? SEEN_HIGH : 0) | ((unsigned char)c >= 0xE3 ? SEEN_CJK : 0) |
		   (c >= '0' && c <= '9' ? SEEN_DIGIT : 0);
}

/* Emit byte C that came from offset AT, after any pending separator. */
static void put(struct out *o, char c, size_t at)
{
	if (reserve(o, 2) == 0)
		put_reserved(o, c, at);
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

/* Outlined stars. After a filled one they are the empty slots of a
 * drawn rating ("★☆☆☆☆" is one star of five, not five); a run of them
 * alone is stars all the same (Japanese writes ☆5). */
static int is_empty_star(int32_t cp)
{
	return cp == 0x2606 || cp == 0x2729 || cp == 0x2730;
}

/* Put star CP from offset AT as ★, or nothing where it is an empty slot
 * in a run of stars that holds a filled one. A space ends a run ("★
 * ☆☆☆☆☆" is one star and five). */
static void put_star(struct out *o, int32_t cp, size_t at)
{
	static const char star[] = "\xE2\x98\x85";
	int after_star = !o->space && !o->para && o->len >= 3 &&
			 memcmp(o->s + o->len - 3, star, 3) == 0;

	if (!after_star)
		o->filled = 0;
	if (is_empty_star(cp) && after_star && o->filled)
		return;
	o->filled |= !is_empty_star(cp);
	put_utf8(o, 0x2605, at);
}

/* Pictographs that stand for a word in sales mail ("🎁 for a review",
 * "😊 → review us, 😞 → write to us"): the word, or NULL. Faces and
 * thumbs become words of their own that no language uses. */
static const char *symbol_word(int32_t cp)
{
	static const struct { int32_t lo, hi; const char *word; } words[] = {
		{ 0x1F381, 0x1F381, "gift" }, { 0x1F380, 0x1F380, "gift" },
		{ 0x1F4B0, 0x1F4B0, "money" }, { 0x1F4B2, 0x1F4B2, "money" },
		{ 0x1F4B4, 0x1F4B8, "money" }, { 0x1F911, 0x1F911, "money" },
		{ 0x1FA99, 0x1FA99, "money" }, { 0x1F4B3, 0x1F4B3, "card" },
		{ 0x1F193, 0x1F193, "free" }, { 0x1F39F, 0x1F39F, "voucher" },
		{ 0x1F3AB, 0x1F3AB, "voucher" }, { 0x1F3F7, 0x1F3F7, "discount" },
		{ 0x1F4F7, 0x1F4F8, "photo" }, { 0x270D, 0x270D, "write" },
		{ 0x1F4DD, 0x1F4DD, "write" }, { 0x1F4AC, 0x1F4AC, "comment" },
		{ 0x1F5E8, 0x1F5E8, "comment" }, { 0x1F517, 0x1F517, "link" },
		{ 0x1F64F, 0x1F64F, "please" }, { 0x1F97A, 0x1F97A, "please" },
		{ 0x1F600, 0x1F60D, "emojihappy" }, { 0x1F642, 0x1F642, "emojihappy" },
		{ 0x263A, 0x263A, "emojihappy" }, { 0x1F970, 0x1F970, "emojihappy" },
		{ 0x1F929, 0x1F929, "emojihappy" }, { 0x1F917, 0x1F917, "emojihappy" },
		{ 0x1F44D, 0x1F44D, "emojihappy" }, { 0x1F44C, 0x1F44C, "emojihappy" },
		{ 0x2764, 0x2764, "emojihappy" }, { 0x1F493, 0x1F493, "emojihappy" },
		{ 0x1F495, 0x1F49F, "emojihappy" }, { 0x1F60A, 0x1F60A, "emojihappy" },
		{ 0x1F31E, 0x1F31E, "emojihappy" }, { 0x1F973, 0x1F973, "emojihappy" },
		{ 0x1F612, 0x1F612, "emojisad" }, { 0x1F614, 0x1F62D, "emojisad" },
		{ 0x1F630, 0x1F631, "emojisad" }, { 0x1F641, 0x1F641, "emojisad" },
		{ 0x2639, 0x2639, "emojisad" }, { 0x1F44E, 0x1F44E, "emojisad" },
		{ 0x1F494, 0x1F494, "emojisad" },
		{ 0x2705, 0x2705, "emojiyes" }, { 0x2714, 0x2714, "emojiyes" },
		{ 0x2611, 0x2611, "emojiyes" }, { 0x274C, 0x274C, "emojino" },
		{ 0x2716, 0x2716, "emojino" }, { 0x274E, 0x274E, "emojino" },
		{ 0x1F6AB, 0x1F6AB, "emojino" },
	};

	if (cp < 0x2600 || (cp > 0x27BF && cp < 0x1F000))
		return NULL;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (cp >= words[i].lo && cp <= words[i].hi)
			return words[i].word;
	return NULL;
}

/* Arrows of every shape, pointing hands too, read as one arrow. */
static int is_arrow(int32_t cp)
{
	if (cp < 0x2190 || (cp > 0x2BFF && cp < 0x1F446))
		return 0;
	return (cp >= 0x2190 && cp <= 0x21FF) || cp == 0x27A1 || (cp >= 0x2794 && cp <= 0x27BF) ||
	       (cp >= 0x27F5 && cp <= 0x27FF) || (cp >= 0x2B05 && cp <= 0x2B07) ||
	       (cp >= 0x1F446 && cp <= 0x1F449) || (cp >= 0x1F800 && cp <= 0x1F8FF);
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

		o->seen |= c >= '0' && c <= '9' ? SEEN_DIGIT : 0;
		o->s[o->len] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		o->map[o->len++] = (uint32_t)k;
	}
}

/* ASCII that separates words: blanks, controls, hyphens, underscores. */
static int ascii_space(int32_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '-' ||
	       c == '_' || c < 0x20 || c == 0x7f;
}

/* Ops of fold_ops(): a pending space, a pending paragraph; any other
 * byte is put as it is. */
#define OP_SPACE '\x01'
#define OP_PARA '\x02'

/* What the compatibility decomposition, case folding and mark stripping
 * make of CP, as ops into OPS (at most MAX): the bytes to put, the
 * separators to set. Returns the count, or -1 if they do not fit. */
static int fold_ops(int32_t cp, char *ops, int max)
{
	utf8proc_int32_t dec[32];
	utf8proc_ssize_t n;
	int k = 0;

	n = utf8proc_decompose_char(cp, dec, 32, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
				    UTF8PROC_IGNORE | UTF8PROC_LUMP | UTF8PROC_STRIPMARK |
				    UTF8PROC_STRIPNA, NULL);
	for (utf8proc_ssize_t i = 0; i < n && i < 32; i++) {
		utf8proc_category_t cat = utf8proc_category(dec[i]);
		uint8_t buf[4];
		int len = 0;

		if (dec[i] < 0x80) {
			int32_t c = dec[i];

			if (ascii_space(c))
				buf[len++] = OP_SPACE;
			else
				buf[len++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		} else if (cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
			   cat == UTF8PROC_CATEGORY_PD || cat == UTF8PROC_CATEGORY_CC) {
			buf[len++] = OP_SPACE;
		} else if (cat == UTF8PROC_CATEGORY_ZP) {
			buf[len++] = OP_PARA;
		} else if (cat != UTF8PROC_CATEGORY_CF && cat != UTF8PROC_CATEGORY_MN &&
			   cat != UTF8PROC_CATEGORY_ME) {
			len = (int)utf8proc_encode_char(dec[i], buf);
		}
		if (k + len > max)
			return -1;
		memcpy(ops + k, buf, (size_t)len);
		k += len;
	}
	return k;
}

/* fold_ops() of the Basic Multilingual Plane, each worked out the first
 * time it is met: utf8proc's decomposition was the largest part of the
 * checker's time on text that is not ASCII. An entry packs one more than
 * the count in its low byte, the ops above it; 0 is "not yet", MEMO_SLOW
 * "ask put_cp's special cases, or utf8proc: the ops do not fit". Threads
 * that meet a code point at once store the same value, so relaxed
 * atomics do. */
#define MEMO_SLOW 0xFF
static _Atomic uint64_t memo[0x10000];

/* Code points put_cp treats apart from their decomposition. */
static int special(int32_t cp)
{
	return cp < 0x80 || is_star(cp) || is_arrow(cp) || cp == 0x131 || cp == 0x141 ||
	       cp == 0x142 || symbol_word(cp) != NULL;
}

static uint64_t memo_of(int32_t cp)
{
	uint64_t v = atomic_load_explicit(&memo[cp], memory_order_relaxed);
	char ops[7];
	int n;

	if (v)
		return v;
	n = special(cp) ? -1 : fold_ops(cp, ops, (int)sizeof(ops));
	v = n < 0 ? MEMO_SLOW : (uint64_t)n + 1;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)(unsigned char)ops[i] << (8 * (i + 1));
	atomic_store_explicit(&memo[cp], v, memory_order_relaxed);
	return v;
}

/* N ops from offset AT, room for them reserved at once. */
static void put_ops(struct out *o, const char *ops, int n, size_t at)
{
	if (reserve(o, 2 * (size_t)n) < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (ops[i] == OP_SPACE)
			o->space = 1;
		else if (ops[i] == OP_PARA)
			o->para = 1;
		else
			put_reserved(o, ops[i], at);
	}
}

/* The ops of a memo entry V, for a code point from offset AT. */
static void put_memo(struct out *o, uint64_t v, size_t at)
{
	char ops[7];
	int n = (int)(v & 0xFF) - 1;

	for (int i = 0; i < n; i++)
		ops[i] = (char)(v >> (8 * (i + 1)));
	put_ops(o, ops, n, at);
}

/* One decoded code point CP from offset AT. */
static void put_cp(struct out *o, int32_t cp, size_t at)
{
	char ops[128];
	const char *word;
	int n;

	if (cp >= 0x80 && cp < 0x10000) {
		uint64_t v = memo_of(cp);

		if (v != MEMO_SLOW) {
			put_memo(o, v, at);
			return;
		}
	}
	if (cp < 0x80) {
		if (ascii_space(cp))
			o->space = 1;
		else
			put(o, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp), at);
		return;
	}
	if (is_star(cp)) {
		put_star(o, cp, at);
		return;
	}
	if (is_arrow(cp)) {
		o->space = 1;
		put_utf8(o, 0x2192, at);
		o->space = 1;
		return;
	}
	/* letters NFKD leaves whole that are plain ones with a stroke or
	 * without a dot: Turkish ı, Polish ł (Ł folds to ł) */
	if (cp == 0x131 || cp == 0x141 || cp == 0x142) {
		put(o, cp == 0x131 ? 'i' : 'l', at);
		return;
	}
	if ((word = symbol_word(cp)) != NULL) {
		o->space = 1;
		for (; *word; word++)
			put(o, *word, at);
		o->space = 1;
		return;
	}
	/* 32 code points of four bytes at most */
	if ((n = fold_ops(cp, ops, (int)sizeof(ops))) > 0)
		put_ops(o, ops, n, at);
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

/* What may stand between the letters of a spaced-out word: space . * ~
 * / | + (a table: this is asked of nearly every byte). */
static int spacer(char c)
{
	static const unsigned char is[256] = {
		[' '] = 1, ['.'] = 1, ['*'] = 1, ['~'] = 1, ['/'] = 1, ['|'] = 1, ['+'] = 1,
	};

	return is[(unsigned char)c];
}

/* Is S[I] a one-character word: a letter or a digit with a separator
 * (or the end) on both sides? Returns its byte length, or 0; *LETTER
 * says whether it is a letter. */
static size_t single_char(const char *s, size_t len, size_t i, int *letter)
{
	size_t n = 1;
	unsigned char c = (unsigned char)s[i];

	*letter = 1;
	if (c >= '0' && c <= '9')
		*letter = 0;
	else if (c >= 0xC3 && c <= 0xD4 && i + 1 < len)  /* Latin, Greek, Cyrillic */
		n = 2;
	else if (c < 'a' || c > 'z')
		return 0;
	if (i > 0 && !spacer(s[i - 1]))
		return 0;
	/* after it, a separator or anything not a letter ("a v i s,") */
	if (i + n < len && !spacer(s[i + n]) &&
	    ((s[i + n] >= 'a' && s[i + n] <= 'z') || (s[i + n] >= '0' && s[i + n] <= '9') ||
	     (unsigned char)s[i + n] >= 0x80))
		return 0;
	return n;
}

/* Spaces in the original between the starts of two joined letters: a
 * wider gap than the rest of the run ("c i n q u e  s t e l l e") is
 * where one word ends. */
static size_t orig_spaces(const char *text, uint32_t from, uint32_t to)
{
	size_t n = 0;

	for (uint32_t k = from; k < to; k++)
		n += text[k] == ' ' || text[k] == '\t';
	return n;
}

/* Copy one spaced-out run [R, END) of O's bytes to W, separators
 * dropped but for a word break where the original gap is wider. */
static size_t join_run(struct out *o, const char *text, size_t r, size_t end, size_t w)
{
	size_t least = (size_t)-1, prev = (size_t)-1;

	for (size_t k = r; k < end; k++)
		if (!spacer(o->s[k]) && ((unsigned char)o->s[k] & 0xC0) != 0x80) {
			if (prev != (size_t)-1) {
				size_t g = orig_spaces(text, o->map[prev], o->map[k]);

				least = g < least ? g : least;
			}
			prev = k;
		}
	prev = (size_t)-1;
	for (size_t k = r; k < end; k++) {
		if (spacer(o->s[k]))
			continue;
		if (((unsigned char)o->s[k] & 0xC0) != 0x80) {
			if (prev != (size_t)-1 && orig_spaces(text, o->map[prev], o->map[k]) > least) {
				o->s[w] = ' ';
				o->map[w++] = o->map[k];
			}
			prev = k;
		}
		o->s[w] = o->s[k];
		o->map[w++] = o->map[k];
	}
	return w;
}

/* O's bytes [R, R + N) moved to W (W <= R): nothing to do until a
 * join has made the text shorter, which is rare. */
static void keep(struct out *o, size_t w, size_t r, size_t n)
{
	if (w == r)
		return;
	memmove(o->s + w, o->s + r, n);
	memmove(o->map + w, o->map + r, n * sizeof(*o->map));
}

/* "r e f u n d", "r.e.f.u.n.d", "r 3 v 1 e w": four or more one-character
 * words in a row, one separator apart, starting with a letter and with at
 * least three letters, become one word. */
static void join_spaced(struct out *o, const char *text)
{
	size_t r = 0, w = 0;

	while (r < o->len) {
		size_t i = r, count = 0, letters = 0, n;
		int letter;

		/* inside a word: no one-character word starts here, nor
		 * anywhere up to the next separator */
		if (r > 0 && !spacer(o->s[r - 1])) {
			size_t e = r;

			while (e < o->len && !spacer(o->s[e]))
				e++;
			e += e < o->len;
			keep(o, w, r, e - r);
			w += e - r;
			r = e;
			continue;
		}

		while (i < o->len && (n = single_char(o->s, o->len, i, &letter)) > 0) {
			if (count == 0 && !letter)
				break;
			count++;
			letters += (size_t)letter;
			i += n;
			if (i + 1 < o->len && spacer(o->s[i]) && single_char(o->s, o->len, i + 1, &letter))
				i++;
			else
				break;
		}
		/* "get a r e f u n d" reads "arefund": an article before the word
		 * cannot be told from its first letter ("o p i n i ó n",
		 * "a v a l i a ç ã o"), and the packs know "arefund" */
		if (count >= 4 && letters >= 3) {
			w = join_run(o, text, r, i, w);
			r = i;
			continue;
		}
		o->s[w] = o->s[r];
		o->map[w++] = o->map[r];
		r++;
	}
	o->len = w;
}

/* ---- look-alikes: letters of another script, digits for letters -------- */

enum script { S_OTHER, S_LATIN, S_CYRILLIC, S_GREEK };

static enum script script_of(int32_t cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F))
		return S_LATIN;
	if (cp >= 0x400 && cp <= 0x52F)
		return S_CYRILLIC;
	if (cp >= 0x370 && cp <= 0x3FF)
		return S_GREEK;
	return S_OTHER;
}

/* A letter of a word written in Latin: a Cyrillic or Greek one that looks
 * the same becomes that Latin letter; 0 if it has none. */
static int32_t as_latin(int32_t cp)
{
	static const int32_t from[] = {
		0x430, 0x441, 0x435, 0x43E, 0x440, 0x445, 0x443, 0x456, 0x458, 0x455, 0x43A,
		0x43C, 0x442, 0x432, 0x501, 0x51B, 0x51D, 0x4BB, 0x3B1, 0x3BF, 0x3B5, 0x3B9,
		0x3BA, 0x3BD, 0x3C1, 0x3C4, 0x3C5, 0x3C7, 0x3B2,
	};
	static const char to[] = "aceopxyijskmtbdqwhaoeikvptuxb";

	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		if (from[i] == cp)
			return to[i];
	return 0;
}

/* The same for a word written in Cyrillic, digits included ("0тзыв"). */
static int32_t as_cyrillic(int32_t cp)
{
	static const char from[] = "acepoxykmthb0346";
	static const int32_t to[] = {
		0x430, 0x441, 0x435, 0x440, 0x43E, 0x445, 0x443, 0x43A, 0x43C, 0x442, 0x43D, 0x432,
		0x43E, 0x437, 0x430, 0x431,
	};
	const char *p = cp < 0x80 && cp > 0 ? strchr(from, (int)cp) : NULL;

	return p ? to[p - from] : 0;
}

/* A digit standing for a Latin letter ("r3v1ew", "fr33"), or 0. */
static int32_t leet_latin(int32_t cp)
{
	static const char from[] = "01345789", to[] = "oieastbg";
	const char *p = cp < 0x80 && cp > 0 ? strchr(from, (int)cp) : NULL;

	return p ? to[p - from] : 0;
}

/* A letter or digit of a script that writes spaces between words. */
static int word_cp(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9');
	return script_of(cp) != S_OTHER;
}

static int32_t decode(const struct out *o, size_t i, size_t *n)
{
	const unsigned char *u = (const unsigned char *)o->s + i;
	size_t left = o->len - i;
	int32_t cp;
	utf8proc_ssize_t k;

	if (u[0] < 0x80) {
		*n = 1;
		return u[0];
	}
	/* two and three bytes that cannot be overlong or a surrogate, done
	 * here: this runs on every character of Chinese and Japanese text */
	if (u[0] >= 0xC2 && u[0] <= 0xDF && left >= 2 && (u[1] & 0xC0) == 0x80) {
		*n = 2;
		return (int32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
	}
	if (u[0] >= 0xE1 && u[0] <= 0xEF && u[0] != 0xED && left >= 3 && (u[1] & 0xC0) == 0x80 &&
	    (u[2] & 0xC0) == 0x80) {
		*n = 3;
		return (int32_t)(u[0] & 0x0F) << 12 | (int32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
	}
	k = utf8proc_iterate(u, (utf8proc_ssize_t)left, &cp);
	*n = k > 0 ? (size_t)k : 1;
	return k > 0 ? cp : -1;
}

/* One word [I, END) of IN into OUT: letters that only look like the
 * word's script become that script's, and digits between letters become
 * the letters they stand for. */
static void fold_word(const struct out *in, size_t i, size_t end, struct out *out)
{
	size_t n, counts[4] = { 0 }, digits = 0;
	enum script target = S_LATIN;
	int32_t first = decode(in, i, &n);
	int leet, mixed;

	for (size_t k = i; k < end; k += n) {
		int32_t cp = decode(in, k, &n);

		if (cp >= '0' && cp <= '9')
			digits++;
		else
			counts[script_of(cp)]++;
	}
	if (counts[S_CYRILLIC] > counts[S_LATIN] && counts[S_CYRILLIC] >= counts[S_GREEK])
		target = S_CYRILLIC;
	else if (counts[S_GREEK] > counts[S_LATIN])
		target = S_GREEK;
	mixed = (counts[S_LATIN] > 0) + (counts[S_CYRILLIC] > 0) + (counts[S_GREEK] > 0) > 1;
	/* "4vis", "3dite", "0тзыв": one leading digit may stand for a letter
	 * too, but "5star" and "10off" keep their numbers */
	leet = digits > 0 && counts[target] >= 2 &&
	       (first < '0' || first > '9' ||
		(strchr("0134", (int)first) && i + 1 < end && !(in->s[i + 1] >= '0' && in->s[i + 1] <= '9')));
	if (!leet && !mixed) {
		if (reserve(out, end - i + 1) == 0) {
			put_separator(out, in->map[i]);
			memcpy(out->s + out->len, in->s + i, end - i);
			memcpy(out->map + out->len, in->map + i, (end - i) * sizeof(*out->map));
			out->len += end - i;
		}
		return;
	}
	for (size_t k = i; k < end; k += n) {
		int32_t cp = decode(in, k, &n), to = 0;
		int digit = cp >= '0' && cp <= '9';

		if (target != S_GREEK && ((digit && leet) || (!digit && mixed && script_of(cp) != target)))
			to = target == S_LATIN ? (digit ? leet_latin(cp) : as_latin(cp)) : as_cyrillic(cp);
		if (to) {
			put_utf8(out, to, in->map[k]);
			continue;
		}
		for (size_t b = 0; b < n; b++)
			put(out, in->s[k + b], in->map[k]);
	}
}

static void fold_words(const struct out *in, struct out *out)
{
	size_t i = 0, n;

	if (reserve(out, in->len * 2 + 16) < 0)
		return;
	while (i < in->len && !out->oom) {
		size_t end = i;

		while (end < in->len && word_cp(decode(in, end, &n)))
			end += n;
		if (end > i) {
			fold_word(in, i, end, out);
			i = end;
			continue;
		}
		if (in->s[i] == ' ' || in->s[i] == '\n') {
			/* put() owns separators: keep what the first pass made */
			if (reserve(out, 1) == 0) {
				out->s[out->len] = in->s[i];
				out->map[out->len++] = in->map[i];
			}
			i++;
			continue;
		}
		decode(in, i, &n);
		for (size_t b = 0; b < n && i + b < in->len; b++)
			put(out, in->s[i + b], in->map[i]);
		i += n;
	}
}

/* ---- spaced-out Chinese and Japanese ----------------------------------- */

static int is_cjk(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30FF && cp != 0x30FB) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

/* Bytes of a separator that may stand between spaced-out characters at
 * S[I] (a space, "*", "·", "・"...), or 0. */
static size_t cjk_spacer(const struct out *o, size_t i)
{
	const unsigned char *u = (const unsigned char *)o->s + i;

	if (spacer(o->s[i]))
		return 1;
	if (i + 1 < o->len && u[0] == 0xC2 && u[1] == 0xB7)
		return 2;
	if (i + 2 < o->len && u[0] == 0xE3 && u[1] == 0x83 && u[2] == 0xBB)
		return 3;
	return 0;
}

/* "好 评 返 现", "好*评": separators between two CJK characters go. A
 * full stop followed by a space ends a sentence and stays. */
static void join_cjk(struct out *o)
{
	size_t r = 0, w = 0, n;
	int after_cjk = 0;

	while (r < o->len) {
		size_t end = r, chars = 0, m;
		int dot = 0, space = 0;

		if (after_cjk) {
			while (end < o->len && chars < 4 && (m = cjk_spacer(o, end)) > 0) {
				dot |= o->s[end] == '.';
				space |= o->s[end] == ' ';
				end += m;
				chars++;
			}
			if (end > r && end < o->len && !(dot && space) && is_cjk(decode(o, end, &n))) {
				r = end;
				continue;
			}
		}
		after_cjk = is_cjk(decode(o, r, &n));
		n = n < o->len - r ? n : o->len - r;
		keep(o, w, r, n);
		w += n;
		r += n;
	}
	o->len = w;
}

/* Could fold_words change anything: a digit or a non-ASCII letter next
 * to a letter? Most text has neither, and is spared the copy. */
static int needs_folding(const struct out *o)
{
	for (size_t i = 1; i < o->len; i++) {
		unsigned char a = (unsigned char)o->s[i - 1], b = (unsigned char)o->s[i];
		int la = a >= 'a' && a <= 'z', lb = b >= 'a' && b <= 'z';
		int da = a >= '0' && a <= '9', db = b >= '0' && b <= '9';

		/* a Latin letter beside another script or a digit; a digit beside
		 * another script ("0тзыв") */
		if ((la && (b >= 0x80 || db)) || (lb && (a >= 0x80 || da)) ||
		    (da && b >= 0x80) || (db && a >= 0x80))
			return 1;
	}
	return 0;
}

int cd_normalize(const char *text, size_t len, int mustache, struct cd_normtext *out)
{
	struct out o = { 0 }, f = { 0 };

	memset(out, 0, sizeof(*out));
	if (reserve(&o, len + 16) < 0)
		goto fail;
	first_pass(&o, text, len, mustache);
	if (o.oom)
		goto fail;
	join_spaced(&o, text);
	if (o.seen && needs_folding(&o)) {
		unsigned seen = o.seen;

		fold_words(&o, &f);
		free(o.s);
		free(o.map);
		o = f;
		o.seen |= seen;
		memset(&f, 0, sizeof(f));
		if (o.oom)
			goto fail;
	}
	if (reserve(&o, 1) < 0)
		goto fail;
	/* join_cjk could change nothing without a CJK character */
	if (o.seen & SEEN_CJK)
		join_cjk(&o);
	f = o;
	f.s[f.len] = '\0';
	f.map[f.len] = (uint32_t)len;
	out->s = f.s;
	out->map = f.map;
	out->len = f.len;
	return 0;
fail:
	free(o.s);
	free(o.map);
	free(f.s);
	free(f.map);
	return CD_ENOMEM;
}

void cd_normtext_free(struct cd_normtext *n)
{
	free(n->s);
	free(n->map);
	memset(n, 0, sizeof(*n));
}
