/*
 * intent.c - see intent.h. The cue lists (stop_cues.txt, compiled in)
 * are parsed once; each pattern element is normalised as the text is, so
 * cues are written as people write ("löschen", "ください") and match
 * whatever case, accents or width the customer typed.
 *
 * A sentence is cut into units: words, and each CJK character (those
 * scripts put no spaces between words). Patterns match at unit starts;
 * an element matches a word it begins ("abmeld" matches "abmelden")
 * unless it ends in "=", and ".." lets a few units pass between
 * elements. Clauses (split at , ; : and their CJK forms) bound how far
 * a negation or a condition reaches.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "candor/error.h"
#include "candor/intent.h"
#include "candor/normalize.h"
#include "stop_cues.h"

#define NEG_WINDOW 5      /* units between a negation and what it negates */
#define MAX_TEXT 8192     /* bytes of own text read */
#define NEARLY_EMPTY 3    /* words of text that leave a "Re:" subject its say */

enum cat { C_STOP, C_BARE, C_KEEP, C_UNDO, C_NEG, C_COND, C_POLITE, C_FILL, C_NCAT };

static const char *const cat_names[C_NCAT] = {
	"stop", "bare", "keep", "undo", "neg", "cond", "polite", "fill",
};

struct alt {
	char *s;
	size_t n;
	int exact;    /* the whole word, not a word it begins */
};

struct elem {
	struct alt *alts;
	size_t nalts;
	int gap;      /* units that may pass before this element */
};

struct cue {
	enum cat cat;
	char lang[8];
	int anchored; /* only at a clause's start (after fill words) */
	struct elem *el;
	size_t nel;
	const char *src;
};

/* Where a cue may start: its first element's alternative ALT. Entries
 * are filed by the first two bytes of that alternative (one-byte ones
 * by their byte), so a unit of text tries only what can begin there. */
struct entry {
	uint32_t cue, alt;
};

struct bucket {
	struct entry *v;
	size_t n, cap;
};

#define BUCKETS 4096

static struct {
	int loaded;
	struct cue *v;
	size_t n, cap;
	struct bucket pairs[BUCKETS], singles[256];
} cues;

static unsigned pair_key(unsigned char a, unsigned char b)
{
	return ((unsigned)a * 131u + b) & (BUCKETS - 1);
}

/* ---- text ------------------------------------------------------------ */

/* After cd_normalize: apostrophes one character, Turkish dotless i and
 * Polish ł plain, so "don’t" is "don't", "ÇIKARIN" reads as "çıkarın"
 * does and "wysyłać" as "wysylac". */
static char *canonical(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)s + i;

		if (u[0] == 0xE2 && i + 2 < n && u[1] == 0x80 && (u[2] == 0x98 || u[2] == 0x99 || u[2] == 0xB2)) {
			o[k++] = '\'';
			i += 3;
		} else if ((u[0] == 0xCA && i + 1 < n && u[1] == 0xBC) || (u[0] == 0xC2 && i + 1 < n && u[1] == 0xB4)) {
			o[k++] = '\'';
			i += 2;
		} else if (u[0] == '`') {
			o[k++] = '\'';
			i++;
		} else if (u[0] == 0xC4 && i + 1 < n && u[1] == 0xB1) {
			o[k++] = 'i';
			i += 2;
		} else if (u[0] == 0xC5 && i + 1 < n && u[1] == 0x82) {
			o[k++] = 'l'; /* Polish ł has no decomposition to drop */
			i += 2;
		} else {
			o[k++] = s[i++];
		}
	}
	o[k] = '\0';
	return o;
}

/* S normalised as cue and text both are: malloc'd, NULL if out of memory. */
static char *norm(const char *s, size_t n)
{
	struct cd_normtext nt;
	char *c;

	if (cd_normalize(s, n, 0, &nt) < 0)
		return NULL;
	c = canonical(nt.s, nt.len);
	cd_normtext_free(&nt);
	return c;
}

static int is_cjk(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30FF && cp != 0x30FB) || (cp >= 0x3400 && cp <= 0x9FFF) ||
	       (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFF66 && cp <= 0xFF9F) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
	       (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3130 && cp <= 0x318F);
}

/* 0: between words; 1: in a word; 2: a CJK character (a word each). */
static int char_class(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
	if (is_cjk(cp))
		return 2;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* One sentence, cut into units and clauses. */
struct sent {
	const char *s;
	size_t n;
	unsigned char *cls;  /* per byte: the class of its character */
	size_t *unit;        /* byte offset of each unit */
	int *clause;         /* clause number of each unit */
	unsigned char *anchor; /* unit starts its clause, fill words aside */
	unsigned char *fill; /* unit is a fill word at its clause's start */
	size_t nunit;
	int question, link;
};

struct hit {
	const struct cue *c;
	size_t u0, u1;  /* units [u0, u1) */
	size_t b0, b1;  /* bytes */
};

struct hits {
	struct hit *v;
	size_t n, cap;
	int oom;
};

static void add_hit(struct hits *h, const struct cue *c, const struct sent *t, size_t u0, size_t b1)
{
	size_t u1 = u0;

	while (u1 < t->nunit && t->unit[u1] < b1)
		u1++;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hit *v = realloc(h->v, cap * sizeof(*v));

		if (!v) {
			h->oom = 1;
			return;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (struct hit){ c, u0, u1, t->unit[u0], b1 };
}

/* Alternative X at byte B of T: 1 with the end of what it matched in
 * *STOP (the rest of the word it begins, unless it is exact). */
static int match_alt(const struct sent *t, const struct alt *x, size_t b, size_t *stop)
{
	size_t e;

	if (x->s[0] != t->s[b] || b + x->n > t->n || memcmp(t->s + b, x->s, x->n) != 0)
		return 0;
	e = b + x->n;
	if (t->cls[b] == 1 && e > b && t->cls[e - 1] == 1) {
		if (x->exact && e < t->n && t->cls[e] == 1)
			return 0;
		while (!x->exact && e < t->n && t->cls[e] == 1)
			e++;
	}
	*stop = e;
	return 1;
}

static int match_from(const struct sent *t, const struct cue *c, size_t e, size_t u, size_t *end);

/* Element E of C matched from unit U to byte STOP: the elements after
 * it, within their gaps; the end byte in *END. */
static int match_rest(const struct sent *t, const struct cue *c, size_t e, size_t u, size_t stop,
		      size_t *end)
{
	size_t v = u + 1;

	if (e + 1 == c->nel) {
		*end = stop;
		return 1;
	}
	while (v < t->nunit && t->unit[v] < stop)
		v++;
	for (int k = 0; k <= c->el[e + 1].gap && v + (size_t)k < t->nunit; k++)
		if (match_from(t, c, e + 1, v + (size_t)k, end))
			return 1;
	return 0;
}

/* Element E of C at unit U and what follows; the end byte in *END. */
static int match_from(const struct sent *t, const struct cue *c, size_t e, size_t u, size_t *end)
{
	const struct elem *el = &c->el[e];
	size_t stop;

	for (size_t a = 0; a < el->nalts; a++)
		if (match_alt(t, &el->alts[a], t->unit[u], &stop) && match_rest(t, c, e, u, stop, end))
			return 1;
	return 0;
}

/* The cues that may start at unit U of T: two lists. */
static void entries_at(const struct sent *t, size_t u, const struct bucket **pair,
		       const struct bucket **single)
{
	size_t b = t->unit[u];
	unsigned char b0 = (unsigned char)t->s[b], b1 = b + 1 < t->n ? (unsigned char)t->s[b + 1] : 0;

	*pair = &cues.pairs[pair_key(b0, b1)];
	*single = &cues.singles[b0];
}

/* Call FN for each cue of category CAT (C_NCAT: any but fill and bare)
 * whose pattern matches at unit U, with its end byte; FN returning
 * non-zero stops and is returned. Each cue is tried once. */
static int each_match(const struct sent *t, size_t u, int cat,
		      int (*fn)(void *arg, const struct cue *c, size_t end), void *arg)
{
	const struct bucket *lists[2];

	entries_at(t, u, &lists[0], &lists[1]);
	for (int l = 0; l < 2; l++) {
		uint32_t tried = UINT32_MAX;

		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct entry *en = &lists[l]->v[i];
			const struct cue *c = &cues.v[en->cue];
			size_t stop, end;
			int rc;

			if (en->cue == tried)
				continue;
			if (cat == C_NCAT ? c->cat == C_FILL || c->cat == C_BARE : (int)c->cat != cat)
				continue;
			if (c->anchored && !t->anchor[u])
				continue;
			if (!match_alt(t, &c->el[0].alts[en->alt], t->unit[u], &stop) ||
			    !match_rest(t, c, 0, u, stop, &end))
				continue;
			tried = en->cue;
			if ((rc = fn(arg, c, end)) != 0)
				return rc;
		}
	}
	return 0;
}

struct found {
	size_t end;
};

static int first_end(void *arg, const struct cue *c, size_t end)
{
	(void)c;
	((struct found *)arg)->end = end;
	return 1;
}

/* The unit after fill words starting at U (U if none). */
static size_t skip_fill(const struct sent *t, size_t u)
{
	struct found f;

	while (u < t->nunit && each_match(t, u, C_FILL, first_end, &f)) {
		size_t v = u + 1;

		while (v < t->nunit && t->unit[v] < f.end)
			v++;
		if (v < t->nunit && t->clause[v] != t->clause[u])
			return v; /* the clause ended */
		u = v;
	}
	return u;
}

static int clause_mark(unsigned char c)
{
	return c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '[' || c == ']';
}

/* Cut S (normalised, one sentence) into units and clauses. */
static int cut(struct sent *t, const char *s, size_t n)
{
	int clause = 0, prev = 0, boundary = 0;

	memset(t, 0, sizeof(*t));
	t->s = s;
	t->n = n;
	t->cls = malloc(n + 1);
	t->unit = malloc((n + 1) * sizeof(*t->unit));
	t->clause = malloc((n + 1) * sizeof(*t->clause));
	t->anchor = calloc(n + 1, 1);
	t->fill = calloc(n + 1, 1);
	if (!t->cls || !t->unit || !t->clause || !t->anchor || !t->fill)
		return CD_ENOMEM;
	for (size_t i = 0; i < n;) {
		int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
		int cl;

		if (k <= 0)
			k = 1, cp = ' ';
		cl = char_class(cp);
		/* CJK clause marks: 、 and the ideographic ones NFKC keeps */
		if (cl == 0 && (clause_mark((unsigned char)s[i]) || cp == 0x3001 || cp == 0xFF64))
			boundary = 1;
		if (cl == 2 || (cl == 1 && prev != 1)) {
			if (boundary && t->nunit)
				clause++;
			boundary = 0;
			t->clause[t->nunit] = clause;
			t->unit[t->nunit++] = i;
		}
		memset(t->cls + i, cl, (size_t)k);
		prev = cl;
		i += (size_t)k;
	}
	t->cls[n] = 0;
	for (size_t u = 0; u < t->nunit; u++) {
		if (u == 0 || t->clause[u] != t->clause[u - 1]) {
			size_t v = skip_fill(t, u);

			t->anchor[u] = 1;
			for (size_t w = u; w < v && w < t->nunit; w++)
				t->fill[w] = 1;
			if (v < t->nunit && t->clause[v] == t->clause[u])
				t->anchor[v] = 1;
		}
	}
	t->link = strstr(s, "http") || strstr(s, "www.") || strstr(s, "://");
	{
		size_t e = n;

		while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '.' || s[e - 1] == '!'))
			e--;
		t->question = (e > 0 && s[e - 1] == '?') || strncmp(s, "\xc2\xbf", 2) == 0;
		/* ja "...か。", zh "...吗" */
		if (e >= 3 && (memcmp(s + e - 3, "\xe3\x81\x8b", 3) == 0 ||
			       memcmp(s + e - 3, "\xe5\x90\x97", 3) == 0 ||
			       memcmp(s + e - 3, "\xe5\x97\x8e", 3) == 0))
			t->question = 1;
		if (e >= 3 && memcmp(s + e - 3, "\xe3\x80\x82", 3) == 0 && e >= 6 &&
		    memcmp(s + e - 6, "\xe3\x81\x8b", 3) == 0)
			t->question = 1;
	}
	return 0;
}

static void sent_free(struct sent *t)
{
	free(t->cls);
	free(t->unit);
	free(t->clause);
	free(t->anchor);
	free(t->fill);
}

struct gather {
	const struct sent *t;
	struct hits *h;
	size_t u;
};

static int gather_hit(void *arg, const struct cue *c, size_t end)
{
	struct gather *g = arg;

	add_hit(g->h, c, g->t, g->u, end);
	return 0;
}

/* Every cue found in T. */
static void find_all(const struct sent *t, struct hits *h)
{
	struct gather g = { t, h, 0 };

	for (g.u = 0; g.u < t->nunit; g.u++)
		each_match(t, g.u, C_NCAT, gather_hit, &g);
}

struct bare {
	const struct sent *t;
	size_t u;
	const struct cue *c;
	size_t end;
};

/* A bare command at B->u that fills its clause, fill words aside. */
static int whole_clause(void *arg, const struct cue *c, size_t end)
{
	struct bare *b = arg;
	const struct sent *t = b->t;
	size_t v = b->u + 1;

	while (v < t->nunit && t->unit[v] < end)
		v++;
	if (v < t->nunit && t->clause[v] == t->clause[b->u])
		v = skip_fill(t, v);
	if (v < t->nunit && t->clause[v] == t->clause[b->u])
		return 0;
	b->c = c;
	b->end = end;
	return 1;
}

/* Bare commands: a clause that is nothing else, fill words aside. */
static void find_bare(const struct sent *t, struct hits *h)
{
	for (size_t u = 0; u < t->nunit; u++) {
		struct bare b = { t, u, NULL, 0 };

		if (t->anchor[u] && each_match(t, u, C_BARE, whole_clause, &b))
			add_hit(h, b.c, t, u, b.end);
	}
}

static int same_lang(const struct cue *a, const struct cue *b)
{
	return strcmp(a->lang, b->lang) == 0 || strcmp(a->lang, "*") == 0 || strcmp(b->lang, "*") == 0;
}

/* Hit I makes a question a request: a polite cue, but not the "请" of
 * "请问" (a condition or question cue around it). */
static int is_polite(const struct hits *h, size_t i)
{
	if (h->v[i].c->cat != C_POLITE)
		return 0;
	for (size_t j = 0; j < h->n; j++)
		if (h->v[j].c->cat == C_COND && h->v[j].b0 <= h->v[i].b0 && h->v[i].b1 <= h->v[j].b1)
			return 0;
	return 1;
}

struct reading {
	const struct cue *stop;  /* a request that stands */
	char said[96];           /* its words, normalised */
	int negated;             /* a request taken back, or "keep me" */
	size_t words;            /* units outside fill words */
};

enum judgement { ASKS, TAKEN_BACK, DOES_NOT_ASK };

/* What request X amounts to among the hits H of its sentence T. */
static enum judgement judge(const struct sent *t, const struct hits *h, const struct hit *x,
			    int polite)
{
	int clause = t->clause[x->u0], conditional = 0;

	if (t->link)
		return DOES_NOT_ASK;
	for (size_t j = 0; j < h->n; j++) {
		const struct hit *y = &h->v[j];
		int overlap = y->b0 < x->b1 && x->b0 < y->b1;

		if (y->c->cat == C_UNDO && y->b0 >= x->b1)
			return TAKEN_BACK; /* a change of mind: the whole sentence */
		if (t->clause[y->u0] != clause && !overlap)
			continue;
		if (y->c->cat == C_KEEP)
			return TAKEN_BACK;
		if (y->c->cat == C_NEG && same_lang(x->c, y->c) && y->u0 < x->u0 &&
		    x->u0 - y->u0 <= NEG_WINDOW && y->b1 <= x->b0)
			return TAKEN_BACK;
		if (y->c->cat == C_COND && same_lang(x->c, y->c) && y->u0 < x->u0) {
			int asked = 0;

			/* "if you could please remove me" asks */
			for (size_t k = 0; k < h->n; k++)
				asked |= is_polite(h, k) && h->v[k].u0 > y->u0 && h->v[k].u0 <= x->u0;
			conditional |= !asked;
		}
	}
	return conditional || (t->question && !polite) ? DOES_NOT_ASK : ASKS;
}

/* The words of request X into R->said, cut on a character boundary. */
static void keep_words(struct reading *r, const struct sent *t, const struct hit *x)
{
	size_t k = x->b1 - x->b0;

	if (k >= sizeof(r->said)) {
		k = sizeof(r->said) - 1;
		while (k > 0 && ((unsigned char)t->s[x->b0 + k] & 0xC0) == 0x80)
			k--;
	}
	memcpy(r->said, t->s + x->b0, k);
	r->said[k] = '\0';
}

/* What one sentence says, into R. */
static int read_sentence(const char *s, size_t n, struct reading *r)
{
	struct sent t;
	struct hits h = { 0 };
	int rc = cut(&t, s, n), polite = 0;

	if (rc < 0)
		goto out;
	for (size_t u = 0; u < t.nunit; u++)
		r->words += !t.fill[u];
	find_all(&t, &h);
	find_bare(&t, &h);
	if (h.oom) {
		rc = CD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < h.n; i++) {
		polite |= is_polite(&h, i);
		r->negated |= h.v[i].c->cat == C_KEEP || h.v[i].c->cat == C_UNDO;
	}
	for (size_t i = 0; i < h.n && !r->stop; i++) {
		const struct hit *x = &h.v[i];

		if (x->c->cat != C_STOP && x->c->cat != C_BARE)
			continue;
		switch (judge(&t, &h, x, polite)) {
		case ASKS:
			keep_words(r, &t, x);
			r->stop = x->c;
			break;
		case TAKEN_BACK:
			r->negated = 1;
			break;
		case DOES_NOT_ASK:
			break;
		}
	}
out:
	free(h.v);
	sent_free(&t);
	return rc;
}

/* ---- the customer's text as sentences --------------------------------- */

/* Blank out what stands in quotation marks, short of the whole line: a
 * quoted button label or footer is not the customer's request. */
static void drop_quoted(char *s)
{
	static const char *const pairs[][2] = {
		{ "\"", "\"" }, { "\xe2\x80\x9c", "\xe2\x80\x9d" }, { "\xe2\x80\x9e", "\xe2\x80\x9c" },
		{ "\xc2\xab", "\xc2\xbb" }, { "\xe2\x80\xb9", "\xe2\x80\xba" },
		{ "\xe3\x80\x8c", "\xe3\x80\x8d" }, { "\xe3\x80\x8e", "\xe3\x80\x8f" },
		{ "\xe2\x80\x9d", "\xe2\x80\x9d" },
	};
	size_t len = strlen(s);

	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		char *p = s;

		while ((p = strstr(p, pairs[k][0])) != NULL) {
			size_t ol = strlen(pairs[k][0]), cl = strlen(pairs[k][1]);
			char *q = strstr(p + ol, pairs[k][1]);

			if (!q || q - p > 160)
				break;
			if (p == s && (size_t)(q + cl - s) >= len - 1) {
				p = q + cl;
				continue;
			}
			memset(p, ' ', (size_t)(q + cl - p));
			p = q + cl;
		}
	}
}

/* Sentence ends: . ! ? (the '.' before a space), and 。！？…. */
static size_t sentence_end(const char *s, size_t i, size_t n)
{
	unsigned char c = (unsigned char)s[i];

	if (c == '!' || c == '?' || (c == '.' && (i + 1 == n || s[i + 1] == ' ')))
		return i + 1;
	if (c == 0xE3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x82)
		return i + 3;
	return 0;
}

struct reader {
	struct reading r;
	int sentences, max;
	int oom;
};

static void read_block(struct reader *rd, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n && !rd->r.stop && !rd->oom; i++) {
		size_t e = i < n ? sentence_end(s, i, n) : n;

		if (!e)
			continue;
		/* "Stop!!!", "?!": the marks stay with their sentence */
		while (e < n && (s[e] == '!' || s[e] == '?' || s[e] == '.'))
			e++;
		while (start < e && s[start] == ' ')
			start++;
		if (e > start) {
			if (rd->max && rd->sentences >= rd->max)
				return;
			rd->sentences++;
			if (read_sentence(s + start, e - start, &rd->r) < 0)
				rd->oom = 1;
		}
		if (e >= n)
			break;
		start = e;
		i = e - 1;
	}
}

/* Lines as mail clients send them: a long line that ends without a
 * full stop was wrapped, and goes on in the next. */
static int read_text(struct reader *rd, const char *own)
{
	size_t len = strnlen(own, MAX_TEXT), bcap = 2 * len + 16, blen = 0;
	char *block = malloc(bcap);
	const char *p = own, *end = own + len;
	int joinable = 0;

	if (!block)
		return CD_ENOMEM;
	while (p < end && !rd->r.stop && !rd->oom) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t raw = e ? (size_t)(e - p) : (size_t)(end - p);
		char *line = norm(p, raw);
		size_t n;

		if (!line) {
			rd->oom = 1;
			break;
		}
		drop_quoted(line);
		n = strlen(line);
		if (blen && (!joinable || !n)) {
			read_block(rd, block, blen);
			blen = 0;
		}
		if (n) {
			if (blen)
				block[blen++] = ' ';
			memcpy(block + blen, line, n < bcap - blen - 1 ? n : bcap - blen - 1);
			blen += n < bcap - blen - 1 ? n : bcap - blen - 1;
			block[blen] = '\0';
		}
		joinable = raw >= 60 && n && !strchr(".!?", line[n - 1]);
		free(line);
		p = e ? e + 1 : end;
	}
	if (blen && !rd->r.stop && !rd->oom)
		read_block(rd, block, blen);
	free(block);
	return rd->oom ? CD_ENOMEM : 0;
}

int cd_intent_read(const char *own, const char *subject, int replied, int max_sentences,
		   struct cd_intent *out)
{
	struct reader text = { .max = max_sentences }, subj = { 0 };
	const struct cue *decided = NULL;
	const char *said = "";

	memset(out, 0, sizeof(*out));
	if (cd_intent_init() < 0)
		return CD_ENOMEM;
	if (own && *own && read_text(&text, own) < 0)
		return CD_ENOMEM;
	if (text.r.stop) {
		decided = text.r.stop;
		said = text.r.said;
		out->verdict = CD_INTENT_STOP;
	} else if (text.r.negated) {
		out->verdict = CD_INTENT_KEEP;
	} else if (subject && *subject) {
		char *s = norm(subject, strlen(subject));

		if (!s)
			return CD_ENOMEM;
		drop_quoted(s);
		if (read_sentence(s, strlen(s), &subj.r) < 0) {
			free(s);
			return CD_ENOMEM;
		}
		free(s);
		if (subj.r.stop && (!replied || text.r.words <= NEARLY_EMPTY)) {
			decided = subj.r.stop;
			said = subj.r.said;
			out->verdict = CD_INTENT_STOP;
			out->from_subject = 1;
		} else if (subj.r.negated) {
			out->verdict = CD_INTENT_KEEP;
		}
	}
	if (decided) {
		snprintf(out->lang, sizeof(out->lang), "%s", decided->lang);
		snprintf(out->cue, sizeof(out->cue), "%s", decided->src);
		snprintf(out->said, sizeof(out->said), "%s", said);
	}
	return 0;
}

/* ---- the cue lists --------------------------------------------------- */

static int add_alt(struct elem *el, const char *s, size_t n)
{
	struct alt *v = realloc(el->alts, (el->nalts + 1) * sizeof(*v));
	int exact = n > 1 && s[n - 1] == '=';
	char *x;

	if (!v)
		return CD_ENOMEM;
	el->alts = v;
	if (!(x = norm(s, n - (size_t)exact)))
		return CD_ENOMEM;
	if (!*x) {
		free(x);
		return 0;
	}
	v[el->nalts++] = (struct alt){ x, strlen(x), exact };
	return 0;
}

/* One line: "CATEGORY LANG PATTERN". Returns 0, 1 (a comment or blank
 * line), CD_ENOMEM, or CD_EINVAL. */
static int parse_line(const char *line, struct cue *c)
{
	char catname[16], lang[8];
	const char *p;
	int n = 0, gap = 0;

	memset(c, 0, sizeof(*c));
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '#')
		return 1;
	if (sscanf(line, "%15s %7s %n", catname, lang, &n) != 2 || !n)
		return CD_EINVAL;
	for (c->cat = 0; c->cat < C_NCAT && strcmp(cat_names[c->cat], catname) != 0; c->cat++)
		;
	if (c->cat == C_NCAT)
		return CD_EINVAL;
	snprintf(c->lang, sizeof(c->lang), "%s", lang);
	c->src = line + n;
	for (p = line + n; *p;) {
		size_t len = strcspn(p, " \t");

		if (len == 1 && *p == '^' && c->nel == 0 && !c->anchored) {
			c->anchored = 1;
		} else if (len >= 2 && strspn(p, ".") == len) {
			gap = len == 2 ? 3 : len == 3 ? 8 : 16;
		} else if (len) {
			struct elem *v = realloc(c->el, (c->nel + 1) * sizeof(*v));
			const char *a = p;

			if (!v)
				return CD_ENOMEM;
			c->el = v;
			memset(&v[c->nel], 0, sizeof(v[0]));
			v[c->nel].gap = gap;
			c->nel++;
			gap = 0;
			while (a < p + len) {
				size_t al = strcspn(a, "|");

				if (al > (size_t)(p + len - a))
					al = (size_t)(p + len - a);
				if (al && add_alt(&c->el[c->nel - 1], a, al) < 0)
					return CD_ENOMEM;
				a += al + 1;
			}
			if (c->el[c->nel - 1].nalts == 0)
				return CD_EINVAL;
		}
		p += len;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return c->nel ? 0 : CD_EINVAL;
}

static void cue_free(struct cue *c)
{
	for (size_t e = 0; e < c->nel; e++) {
		for (size_t a = 0; a < c->el[e].nalts; a++)
			free(c->el[e].alts[a].s);
		free(c->el[e].alts);
	}
	free(c->el);
}

static int bucket_add(struct bucket *b, size_t cue, size_t alt)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		struct entry *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return CD_ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = (struct entry){ (uint32_t)cue, (uint32_t)alt };
	return 0;
}

int cd_intent_init(void)
{
	if (cues.loaded)
		return 0;
	for (size_t l = 0; cd_stop_cues[l]; l++) {
		struct cue c;
		int rc = parse_line(cd_stop_cues[l], &c);

		if (rc == 1)
			continue;
		if (rc < 0) {
			cue_free(&c);
			if (rc == CD_ENOMEM)
				return rc;
			/* a broken line of our own list: skipped (test_intent fails on it) */
			continue;
		}
		if (cues.n == cues.cap) {
			size_t cap = cues.cap ? cues.cap * 2 : 512;
			struct cue *v = realloc(cues.v, cap * sizeof(*v));

			if (!v) {
				cue_free(&c);
				return CD_ENOMEM;
			}
			cues.v = v;
			cues.cap = cap;
		}
		cues.v[cues.n++] = c;
		for (size_t a = 0; a < c.el[0].nalts; a++) {
			const unsigned char *x = (const unsigned char *)c.el[0].alts[a].s;
			struct bucket *b = c.el[0].alts[a].n == 1 ? &cues.singles[x[0]]
					   : &cues.pairs[pair_key(x[0], x[1])];

			if (bucket_add(b, cues.n - 1, a) < 0)
				return CD_ENOMEM;
		}
	}
	cues.loaded = 1;
	return 0;
}

int cd_intent_bad_lines(void)
{
	int bad = 0;

	for (size_t l = 0; cd_stop_cues[l]; l++) {
		struct cue c;
		int rc = parse_line(cd_stop_cues[l], &c);

		bad += rc == CD_EINVAL;
		cue_free(&c);
	}
	return bad;
}
