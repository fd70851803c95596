/*
 * compliance.c - find every term of every rule, and of the model's
 * concepts, in one pass (an Aho-Corasick automaton over the normalized
 * bytes, its alphabet folded to the bytes the terms use, compact so it
 * stays in cache), then judge the rules on the few matches.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "candor/branches.h"
#include "candor/compliance_impl.h"
#include "candor/normalize.h"
#include "candor/util.h"

#define SENTENCE_MAX 400  /* characters two terms of one sentence may be apart */
#define REACH_MAX 400     /* bytes a negation may stand from the words it excuses */
/* bytes an excuse or a deferring word may stand from a finding: sentences
 * are shorter, and a text without punctuation must not make each
 * candidate read all of it (220 KB of one "sentence" took 6 s) */
#define EXCUSE_MAX 2000

int cc_list(struct cd_compliance *c, const char *name)
{
	for (size_t i = 0; i < c->nlists; i++)
		if (strcmp(c->lists[i].name, name) == 0)
			return (int)i;
	uint32_t h = 2166136261u;

	if (CD_GROW(c->lists, c->nlists, c->caplists) < 0 ||
	    !(c->lists[c->nlists].name = strdup(name)))
		return -1;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	c->lists[c->nlists].hash = h;
	return (int)c->nlists++;
}

/* ---- the automaton ----------------------------------------------------- */

static int word_char(const char *s, size_t len, size_t at);
static size_t prev_char(const char *s, size_t at);

/* While building: the full transition table (DELTA[state * NCLASSES +
 * class]), which the compact form replaces once the links are known. */
struct build {
	uint32_t *delta;
	uint32_t *fail;
	uint8_t *real;          /* DELTA entry is a trie edge, not a fill */
};

static int alloc_states(struct cd_compliance *c, struct build *b, size_t max)
{
	b->delta = calloc(max * c->nclasses, sizeof(*b->delta));
	b->real = calloc(max * c->nclasses, 1);
	b->fail = calloc(max, sizeof(*b->fail));
	c->states = calloc(max, sizeof(*c->states));
	if (!b->delta || !b->real || !b->fail || !c->states)
		return CD_ENOMEM;
	for (size_t i = 0; i < max; i++)
		c->states[i].out = -1;
	return 0;
}

/* The trie of all terms; state 0 is the root, and 0 as a target means
 * "no edge yet" (nothing leads back to the root in a trie). */
static void build_trie(struct cd_compliance *c, struct build *b)
{
	c->nstates = 1;
	for (size_t t = 0; t < c->nterms; t++) {
		const unsigned char *s = (const unsigned char *)c->terms[t].text;
		uint32_t st = 0;

		for (size_t i = 0; i < c->terms[t].len; i++) {
			size_t at = st * c->nclasses + c->classes[s[i]];

			if (!b->delta[at]) {
				b->delta[at] = (uint32_t)c->nstates++;
				b->real[at] = 1;
			}
			st = b->delta[at];
		}
		c->terms[t].next = c->states[st].out;
		c->states[st].out = (int32_t)t;
	}
}

/* Breadth first: each state's failure link (missing edges filled from
 * it while building), and the nearest state with output down its chain. */
static int link_states(struct cd_compliance *c, struct build *b, uint32_t *queue)
{
	size_t head = 1, tail = 1, k = c->nclasses;

	queue[0] = 0; /* the root first: QUEUE ends as the breadth-first order */
	for (size_t a = 1; a < k; a++)
		if (b->delta[a])
			queue[tail++] = b->delta[a];
	while (head < tail) {
		uint32_t s = queue[head++], f = b->fail[s];
		struct cc_state *st = &c->states[s];

		st->fail = f;
		st->dict = c->states[f].out >= 0 ? f : c->states[f].dict;
		st->hasout = st->out >= 0 || c->states[f].hasout;
		for (size_t a = 1; a < k; a++) {
			uint32_t *e = &b->delta[s * k + a];

			if (b->real[s * k + a]) {
				b->fail[*e] = b->delta[f * k + a];
				if (b->fail[*e] == *e)
					b->fail[*e] = 0;
				queue[tail++] = *e;
			} else {
				*e = b->delta[f * k + a];
			}
		}
	}
	return 0;
}

/* the full rows, kept within L2 (2 MB a core on the 2-core machine here): at
 * 256 KB, with session 9's exchange and duty terms, lint_bench read 19.5 MB/s
 * with the model, at 1 MB 20.8 */
#define DENSE_BYTES (1024 * 1024)

/* The compact form: states renumbered breadth first (ORDER), full rows
 * for the shallow ones, trie edges for the rest. */
static int compact(struct cd_compliance *c, struct build *b, const uint32_t *order)
{
	size_t k = c->nclasses, n = c->nstates, nedges = 0;
	uint32_t *perm = malloc(n * sizeof(*perm));
	struct cc_state *old = c->states;
	int rc = CD_ENOMEM;

	c->ndense = DENSE_BYTES / (k * sizeof(*c->dense));
	c->ndense = c->ndense < 1 ? 1 : c->ndense > n ? n : c->ndense;
	c->states = calloc(n, sizeof(*c->states));
	c->dense = malloc(c->ndense * k * sizeof(*c->dense));
	c->edge_class = malloc(n + 1);
	c->edge_to = malloc((n + 1) * sizeof(*c->edge_to));
	if (!perm || !c->states || !c->dense || !c->edge_class || !c->edge_to)
		goto out;
	for (size_t i = 0; i < n; i++)
		perm[order[i]] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		const struct cc_state *o = &old[order[i]];
		struct cc_state *x = &c->states[i];

		*x = *o;
		x->fail = perm[o->fail];
		x->dict = perm[o->dict];
		x->edge = (uint32_t)nedges;
		x->nedges = 0;
		for (size_t a = 0; a < k; a++) {
			uint32_t to = b->delta[(size_t)order[i] * k + a];

			/* targets carry OUTPUT_BIT when they have output, so the
			 * scan need not look at the state itself to know */
			uint32_t mark = old[to].hasout ? CC_OUTPUT_BIT : 0;

			if (i < c->ndense)
				c->dense[i * k + a] = perm[to] | mark;
			else if (a > 0 && b->real[(size_t)order[i] * k + a]) {
				c->edge_class[nedges] = (uint8_t)a;
				c->edge_to[nedges++] = perm[to] | mark;
				x->nedges++;
			}
		}
	}
	if (!(c->hot = calloc(n, sizeof(*c->hot))))
		goto out;
	for (size_t i = c->ndense; i < n; i++) {
		const struct cc_state *x = &c->states[i];
		struct cc_hot *h = &c->hot[i];

		h->fail = x->fail;
		h->nedges = x->nedges;
		h->to = x->nedges == 1 ? c->edge_to[x->edge] : x->edge;
		h->cls = x->nedges == 1 ? c->edge_class[x->edge] : 0;
	}
	rc = 0;
out:
	free(perm);
	free(old);
	return rc;
}

/* ORDER (breadth first) keeps its shallow states, those that get full
 * rows, and takes the deep ones in the order the trie made them: term by
 * term, so the states along one term lie side by side, and a walk down
 * a word reads one cache line after the other, not one per letter. */
static int deep_in_trie_order(const struct cd_compliance *c, uint32_t *order)
{
	size_t n = c->nstates, ndense = DENSE_BYTES / (c->nclasses * sizeof(*c->dense)), at;
	uint8_t *shallow;

	ndense = ndense < 1 ? 1 : ndense > n ? n : ndense;
	if (!(shallow = calloc(n, 1)))
		return CD_ENOMEM;
	for (size_t i = 0; i < ndense; i++)
		shallow[order[i]] = 1;
	at = ndense;
	for (uint32_t s = 0; s < n; s++)
		if (!shallow[s])
			order[at++] = s;
	free(shallow);
	return 0;
}

/* Does a match of list HAVE count as one of list WANT ("include")? */
static int counts_as(const struct cd_compliance *c, int have, int want)
{
	const struct cc_list *l = &c->lists[want];

	if (have == want)
		return 1;
	for (int i = 0; i < l->nincludes; i++)
		if (l->includes[i] == have)
			return 1;
	return 0;
}

/* Each rule's MEMBER table, for the lists there are now. */
static int rule_members(struct cd_compliance *c)
{
	for (size_t i = 0; i < c->nrules; i++) {
		struct cc_rule *r = &c->rules[i];
		uint8_t *m = calloc(c->nlists + 1, 1);

		if (!m)
			return CD_ENOMEM;
		for (size_t l = 0; l < c->nlists; l++)
			for (int k = 0; k < r->nlists; k++)
				if (counts_as(c, (int)l, r->lists[k]))
					m[l] |= (uint8_t)(1u << k);
		free(r->member);
		r->member = m;
	}
	return 0;
}

int cc_build(struct cd_compliance *c)
{
	struct build b = { 0 };
	uint32_t *order = NULL;
	size_t max = 1;
	int rc;

	memset(c->classes, 0, sizeof(c->classes));
	c->nclasses = 1; /* class 0: bytes no term uses */
	for (size_t t = 0; t < c->nterms; t++) {
		struct cc_term *term = &c->terms[t];

		term->word_start = (uint8_t)word_char(term->text, term->len, 0);
		term->word_end = (uint8_t)word_char(term->text, term->len, prev_char(term->text, term->len));
		for (size_t i = 0; i < c->terms[t].len; i++) {
			unsigned char by = (unsigned char)c->terms[t].text[i];

			if (!c->classes[by])
				c->classes[by] = (uint8_t)c->nclasses++;
		}
		max += c->terms[t].len;
	}
	if ((rc = rule_members(c)) == 0 && (rc = alloc_states(c, &b, max)) == 0 &&
	    !(order = malloc(max * sizeof(*order))))
		rc = CD_ENOMEM;
	if (rc == 0) {
		build_trie(c, &b);
		if ((rc = link_states(c, &b, order)) == 0 && (rc = deep_in_trie_order(c, order)) == 0)
			rc = compact(c, &b, order);
	}
	free(order);
	free(b.delta);
	free(b.real);
	free(b.fail);
	return rc;
}

/* One move from state ST on byte class A: deep states follow their
 * edges or fail towards the root, until a shallow state's full row. The
 * result carries CC_OUTPUT_BIT when the new state has output. */
static inline uint32_t step(const struct cd_compliance *c, uint32_t st, uint8_t a)
{
	while (st >= c->ndense) {
		const struct cc_hot *x = &c->hot[st];

		if (x->nedges == 1) {
			if (x->cls == a)
				return x->to;
		} else {
			const uint8_t *ec = c->edge_class + x->to;

			for (uint32_t e = 0; e < x->nedges; e++)
				if (ec[e] == a)
					return c->edge_to[x->to + e];
		}
		st = x->fail;
	}
	return c->dense[st * c->nclasses + a];
}

/* ---- matching ---------------------------------------------------------- */

/* A letter or digit of a script that writes spaces between words. */
static int word_char(const char *s, size_t len, size_t at)
{
	utf8proc_int32_t cp;
	utf8proc_category_t cat;

	if (at >= len)
		return 0;
	if ((unsigned char)s[at] < 0x80)
		return (s[at] >= 'a' && s[at] <= 'z') || (s[at] >= '0' && s[at] <= '9');
	/* CJK and the symbols from U+2000 on write no spaces between words:
	 * their UTF-8 starts at 0xE2 */
	if ((unsigned char)s[at] >= 0xE2)
		return 0;
	if (utf8proc_iterate((const uint8_t *)s + at, (utf8proc_ssize_t)(len - at), &cp) <= 0 ||
	    cp >= 0x2E80)
		return 0;
	cat = utf8proc_category(cp);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO &&
	       cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC &&
	       cat != UTF8PROC_CATEGORY_ME;
}

/* The start of the character before byte AT. */
static size_t prev_char(const char *s, size_t at)
{
	while (at > 0 && ((unsigned char)s[--at] & 0xC0) == 0x80)
		;
	return at;
}

static int bounded(const struct cc_term *t, const char *s, size_t len, size_t start,
		   size_t end)
{
	if (!(t->flags & TERM_OPEN_START) && start > 0 && t->word_start &&
	    word_char(s, len, prev_char(s, start)))
		return 0;
	if (!(t->flags & TERM_OPEN_END) && t->word_end && word_char(s, len, end))
		return 0;
	return 1;
}

static int add_match(struct cc_matches *ms, size_t start, size_t end, int list)
{
	/* the model's concepts make many matches: grow only when full */
	if (ms->n == ms->cap && CD_GROW(ms->m, ms->n, ms->cap) < 0)
		return CD_ENOMEM;
	ms->m[ms->n++] = (struct cc_match){ (uint32_t)start, (uint32_t)end, list };
	return 0;
}

/* Every term, the automaton over every byte. */
static int scan_terms(const struct cd_compliance *c, const char *s, size_t len,
		      struct cc_matches *ms)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t st = 0;

	for (size_t i = 0; i < len; i++) {
		st = step(c, st, c->classes[p[i]]);
		if (!(st & CC_OUTPUT_BIT))
			continue;
		st &= ~CC_OUTPUT_BIT;
		for (uint32_t o = st; o; o = c->states[o].dict) {
			for (int32_t t = c->states[o].out; t >= 0; t = c->terms[t].next) {
				const struct cc_term *term = &c->terms[t];
				size_t start = i + 1 - term->len;

				if (bounded(term, s, len, start, i + 1) &&
				    add_match(ms, start, i + 1, term->list) < 0)
					return CD_ENOMEM;
			}
			if (!c->states[o].dict)
				break;
		}
	}
	return 0;
}

static int scan(const struct cd_compliance *c, const char *s, size_t len, struct cc_matches *ms)
{
	return c->states ? scan_terms(c, s, len, ms) : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct cc_match *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* Whether match O of a shadowing list hides M: another list of its
 * group, around it and longer. */
static int hides(const struct cd_compliance *c, const struct cc_match *o, const struct cc_match *m)
{
	return o->list != m->list && c->lists[o->list].group == c->lists[m->list].group &&
	       o->start <= m->start && o->end >= m->end && o->end - o->start > m->end - m->start;
}

/* Drop matches lying inside a match of a shadowing list ("happy" in "not
 * happy"). MS is sorted by start. The shadowing matches are few: they
 * are noted first, so each match is held against those alone (the
 * model's concepts make for many matches a text). */
static int shadow(const struct cd_compliance *c, struct cc_matches *ms)
{
	struct cc_match local[32], *few = local;
	size_t nsh = 0, w = 0, first = 0;

	for (size_t i = 0; i < ms->n; i++)
		nsh += c->lists[ms->m[i].list].shadows != 0;
	if (nsh == 0)
		return 0;
	if (nsh > sizeof(local) / sizeof(local[0]) && !(few = malloc(nsh * sizeof(*few))))
		return CD_ENOMEM;
	nsh = 0;
	for (size_t i = 0; i < ms->n; i++)
		if (c->lists[ms->m[i].list].shadows)
			few[nsh++] = ms->m[i];
	for (size_t i = 0; i < ms->n; i++) {
		const struct cc_match m = ms->m[i];
		int hidden = 0;

		/* shadowing matches that end before M starts hide nothing after it */
		while (first < nsh && few[first].end <= m.start && few[first].start < m.start)
			first++;
		for (size_t k = first; k < nsh && few[k].start <= m.start && !hidden; k++)
			hidden = hides(c, &few[k], &m);
		if (!hidden)
			ms->m[w++] = m;
	}
	ms->n = w;
	if (few != local)
		free(few);
	return 0;
}

/* Matches by start, longer first: the trie finds them nearly in that
 * order already, so an insertion sort is the quick way. */
static void sort_matches(struct cc_matches *ms)
{
	for (size_t i = 1; i < ms->n; i++) {
		struct cc_match m = ms->m[i];
		size_t j = i;

		while (j > 0 && by_start(&ms->m[j - 1], &m) > 0) {
			ms->m[j] = ms->m[j - 1];
			j--;
		}
		ms->m[j] = m;
	}
}

int cc_find(const struct cd_compliance *c, const char *s, size_t len, struct cc_matches *ms)
{
	/* with the model's concepts, about a match every ten bytes: room
	 * for them at once rather than by doubling from eight (up to a
	 * bound: add_match grows past it in a huge text) */
	size_t want = 16 + (len < 512 * 1024 ? len : 512 * 1024) / 8;
	int rc;

	ms->n = 0;
	if (ms->cap < want) {
		struct cc_match *m = realloc(ms->m, want * sizeof(*m));

		if (!m)
			return CD_ENOMEM;
		ms->m = m;
		ms->cap = want;
	}
	if ((rc = scan(c, s, len, ms)) < 0 || ms->n == 0)
		return rc;
	sort_matches(ms);
	return shadow(c, ms);
}

/* ---- judging the rules ---------------------------------------------------- */

struct doc {
	const struct cd_compliance *c;
	const char *orig;
	size_t olen;
	const struct cd_normtext *n;
	const struct cc_matches *ms;
	size_t *bounds;       /* sentence ends, sorted */
	size_t nbounds;
	int defer;            /* rules leave their "defer" sentences to the model */
	size_t first;         /* the findings before this text's are not its own */
};

static int is_boundary(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	if (c == '!' || c == '?' || c == '\n' || c == ';')
		return 1;
	if (c == '.')
		return i + 1 >= len || s[i + 1] == ' ' || s[i + 1] == '\n';
	/* 。！？ that NFKC leaves alone: U+3002 */
	return c == 0xE3 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
	       (unsigned char)s[i + 2] == 0x82;
}

int cc_sentence_ends(const char *s, size_t len, size_t **bounds, size_t *n)
{
	/* the bytes a sentence end starts with: most bytes are none, and
	 * this scan runs over every text twice (packs, model) */
	static const unsigned char maybe[256] = {
		['!'] = 1, ['?'] = 1, ['\n'] = 1, [';'] = 1, ['.'] = 1, [0xE3] = 1,
	};
	size_t cap = 0;

	*bounds = NULL;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!maybe[(unsigned char)s[i]] || !is_boundary(s, len, i))
			continue;
		if (CD_GROW(*bounds, *n, cap) < 0)
			return CD_ENOMEM;
		/* the last byte of the mark, so that one past a bound is where
		 * the next sentence starts, never inside a "。" */
		if ((unsigned char)s[i] == 0xE3)
			i += 2;
		(*bounds)[(*n)++] = i;
	}
	return 0;
}

static int find_bounds(struct doc *d)
{
	return cc_sentence_ends(d->n->s, d->n->len, &d->bounds, &d->nbounds);
}

/* How many sentence ends lie before byte AT. */
static size_t sentence_of(const struct doc *d, size_t at)
{
	size_t lo = 0, hi = d->nbounds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->bounds[mid] < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Characters from byte A to byte B (A <= B). */
static size_t chars(const struct doc *d, size_t a, size_t b)
{
	size_t n = 0;

	for (; a < b; a++)
		n += ((unsigned char)d->n->s[a] & 0xC0) != 0x80;
	return n;
}

/* The first match (by start) of LIST at or after byte FROM, or NULL. The
 * matches are sorted by start; this walks from a binary-searched point. */
static const struct cc_match *first_from(const struct doc *d, size_t from, size_t *idx)
{
	size_t lo = 0, hi = d->ms->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->ms->m[mid].start < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx = lo;
	return lo < d->ms->n ? &d->ms->m[lo] : NULL;
}

/* Is match M one of rule R's LISTS[K]? */
static inline int rule_list(const struct cc_rule *r, const struct cc_match *m, int k)
{
	return r->member[m->list] >> k & 1;
}

static int in_lists(const struct doc *d, int list, const int *lists, int n)
{
	for (int i = 0; i < n; i++)
		if (counts_as(d->c, list, lists[i]))
			return 1;
	return 0;
}

/* Is there a match of one of LISTS in bytes [A, B)? */
static int any_in(const struct doc *d, const int *lists, int n, size_t a, size_t b)
{
	size_t i;

	if (!n)
		return 0;
	for (first_from(d, a, &i); i < d->ms->n && d->ms->m[i].start < b; i++)
		if (in_lists(d, d->ms->m[i].list, lists, n))
			return 1;
	return 0;
}

/* The bytes of sentences KA to KB (0 to nbounds; the last runs to the
 * end). */
static void sentences_bytes(const struct doc *d, size_t ka, size_t kb, size_t *from, size_t *to)
{
	*from = ka > 0 ? d->bounds[ka - 1] + 1 : 0;
	*to = kb < d->nbounds ? d->bounds[kb] + 1 : d->n->len;
}

/* The bytes of the sentences holding A and B. */
static void sentence_span(const struct doc *d, size_t a, size_t b, size_t *from, size_t *to)
{
	sentences_bytes(d, sentence_of(d, a), sentence_of(d, b), from, to);
}

/* Does sentence K hold a word? "!!", ".\n\n" and "</p><p>" make empty
 * ones, which must not count as the sentence before or after. */
static int has_words(const struct doc *d, size_t k)
{
	size_t from, to;

	sentences_bytes(d, k, k, &from, &to);
	for (; from < to; from++)
		if ((unsigned char)d->n->s[from] >= 0x80 || isalnum((unsigned char)d->n->s[from]))
			return 1;
	return 0;
}

/* Does a dash start at byte AT of the original: a Unicode dash or minus
 * (U+2012-U+2015, U+2212), its HTML entity, "--", or a hyphen between
 * blanks? */
static int is_dash(const char *o, size_t olen, size_t at)
{
	static const char *const entities[] = { "&mdash;", "&ndash;", "&#8212;", "&#8211;",
						"&#8213;", "&#x2014;", "&#x2013;", "&minus;" };
	const unsigned char *u = (const unsigned char *)o;

	if (at + 2 < olen && u[at] == 0xE2 && ((u[at + 1] == 0x80 && u[at + 2] >= 0x92 &&
						 u[at + 2] <= 0x95) ||
						(u[at + 1] == 0x88 && u[at + 2] == 0x92)))
		return 1;
	if (o[at] == '&')
		for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
			if (olen - at >= strlen(entities[k]) &&
			    strncasecmp(o + at, entities[k], strlen(entities[k])) == 0)
				return 1;
	if (o[at] != '-')
		return 0;
	if (at + 1 < olen && o[at + 1] == '-')
		return 1;
	/* a hyphen between blanks: spaces, tabs, "&nbsp;" */
	return at > 0 && at + 1 < olen && o[at - 1] && o[at + 1] && strchr(" \t;", o[at - 1]) &&
	       strchr(" \t&", o[at + 1]);
}

/* Does the normalized space at byte I stand for a dash (" - ", "—",
 * "&mdash;")? Normalizing turns dashes into spaces and a run of spaces
 * into one, so the original between the characters around it tells;
 * tags and Mustache tags there, which normalizing drops, are skipped
 * ("<i title="a - b">" is no dash). */
static int dash_at(const struct doc *d, size_t i)
{
	const char *o = d->orig;
	size_t at = i > 0 ? d->n->map[i - 1] + 1 : 0, end = d->n->map[i + 1];

	if (d->n->s[i] != ' ')
		return 0;
	for (end = end < d->olen ? end : d->olen; at < end; at++) {
		const char *close = o[at] == '<' ? ">" :
				    o[at] == '{' && at + 1 < end && o[at + 1] == '{' ? "}}" : NULL;

		if (close) {
			size_t n = strlen(close);

			while (at + n <= end && memcmp(o + at, close, n) != 0)
				at++;
			if (at + n > end)
				return 0;
			at += n - 1;
		} else if (is_dash(o, d->olen, at)) {
			return 1;
		}
	}
	return 0;
}

/* Does byte I end what a negation before it can reach: a sentence end, a
 * bracket, a dash ("No pressure at all - leave a review and get 10% off")? */
static int strong_break(const struct doc *d, size_t i)
{
	return is_boundary(d->n->s, d->n->len, i) || d->n->s[i] == '(' || d->n->s[i] == ')' ||
	       dash_at(d, i);
}

/* ... or, looking back from the finding, a colon or a semicolon: "No
 * obligation either way: reviewers get a gift card" (but "Reviewers get:
 * nothing"). */
static int back_break(const struct doc *d, size_t i)
{
	return strong_break(d, i) || d->n->s[i] == ':' || d->n->s[i] == ';';
}

/* Where a negation before byte A stops speaking for it, with R's
 * "turns": back over the sentence to a strong break, a colon or a
 * semicolon, or the end of a match of a turn ("but", "or not", "whether
 * or not"); at most REACH_MAX back (a negation further off speaks for
 * something else, and a text without punctuation must not make each
 * finding walk all of it). "We never offer refunds, gifts or discounts
 * in exchange for reviews" is honest; "whether you loved it or not,
 * reviewers get a free gift" is not. */
static size_t reach_back(const struct doc *d, const struct cc_rule *r, size_t a)
{
	size_t lo = a > REACH_MAX ? a - REACH_MAX : 0, from = a, i;

	while (from > lo && !back_break(d, from - 1))
		from--;
	for (first_from(d, from, &i); i < d->ms->n && d->ms->m[i].start < a; i++)
		if (in_lists(d, d->ms->m[i].list, r->turns, r->nturns) && d->ms->m[i].end <= a &&
		    d->ms->m[i].end > from)
			from = d->ms->m[i].end;
	return from;
}

/* ... and after byte B: to a strong break, at most REACH_MAX on (a verb
 * that comes last may carry the negation: "reviewers get nothing"). */
static size_t reach_on(const struct doc *d, size_t b)
{
	size_t hi = b + REACH_MAX < d->n->len ? b + REACH_MAX : d->n->len;

	while (b < hi && !strong_break(d, b))
		b++;
	return b;
}

/* FROM, but no further than EXCUSE_MAX before AT; TO, no further after. */
static size_t clamp_back(size_t from, size_t at)
{
	return at > EXCUSE_MAX && from < at - EXCUSE_MAX ? at - EXCUSE_MAX : from;
}

static size_t clamp_on(size_t to, size_t at)
{
	return to > at + EXCUSE_MAX ? at + EXCUSE_MAX : to;
}

/* Is a finding of R at byte AT excused: one of its "unless" lists says,
 * in bytes [A, B), that nothing depends on the review? With "turns", not
 * from before a turn, a colon or a semicolon: "whether or not you review
 * is up to you; unhappy customers should contact us instead". */
static int excused(const struct doc *d, const struct cc_rule *r, size_t a, size_t b, size_t at)
{
	if (!r->nunless)
		return 0;
	if (r->nturns) {
		size_t from = reach_back(d, r, at);

		a = from > a ? from : a;
	}
	return any_in(d, r->unless, r->nunless, clamp_back(a, at), clamp_on(b, at));
}

/* Is a finding of R over bytes [A, B) excused by one of its
 * "unless_clause" lists within its reach? */
static int excused_clause(const struct doc *d, const struct cc_rule *r, size_t a, size_t b)
{
	return r->nunless_clause &&
	       any_in(d, r->unless_clause, r->nunless_clause, reach_back(d, r, a), reach_on(d, b));
}

/* Beside the model, does R leave its finding in bytes [A, B) to it? When
 * one of its "defer" lists (a negation) stands in the finding's sentences
 * ("points are never tied to reviews", "reviews earn no points"; "don't
 * forget" is no negation), or one of its "defer_around" lists (an
 * apology) there or in the sentence before or after ("We're sorry. Your
 * review was fair. We've refunded you."), the rule's words are unsure,
 * and the model, which weighs them with everything else, judges the
 * window instead. */
static int deferred(const struct doc *d, const struct cc_rule *r, size_t a, size_t b)
{
	size_t sa, sb, from, to;

	if (!d->defer || (!r->ndefer && !r->ndefer_around))
		return 0;
	/* B is past the finding: its last byte's sentence is the last one */
	sa = sentence_of(d, a);
	sb = sentence_of(d, b > a ? b - 1 : b);
	sentences_bytes(d, sa, sb, &from, &to);
	if (any_in(d, r->defer, r->ndefer, clamp_back(from, a), clamp_on(to, b)))
		return 1;
	if (!r->ndefer_around)
		return 0;
	while (sa > 0 && !has_words(d, --sa))
		;
	while (sb < d->nbounds && !has_words(d, ++sb))
		;
	sentences_bytes(d, sa, sb, &from, &to);
	return any_in(d, r->defer_around, r->ndefer_around, clamp_back(from, a), clamp_on(to, b));
}

/* Does an earlier error of R's family in this text cover part of
 * normalized bytes [A, B)? A rule with "unless_clause" restates, where
 * a broader rule found something, what that one found; but not where
 * only a rule that may yield to the model did, unless R yields too.
 * Findings come in text order: looking back a little is enough. */
static int covered(const struct doc *d, const struct cc_rule *r, size_t a, size_t b,
		   const struct cd_findings *f)
{
	size_t oa = d->n->map[a], ob = d->n->map[b - 1] + 1;
	size_t i = f->count > d->first + 32 ? f->count - 32 : d->first;

	for (; i < f->count; i++)
		if (strcmp(f->items[i].family, r->family) == 0 && f->items[i].start < ob &&
		    oa < f->items[i].end &&
		    (strcmp(f->items[i].severity, "error") == 0 || !r->error) &&
		    (!f->items[i].yields || r->yields))
			return 1;
	return 0;
}

/* The end of the sentence after the one that ends at byte AT. */
static size_t next_sentence_end(const struct doc *d, size_t at)
{
	size_t k = sentence_of(d, at), from, to;

	sentences_bytes(d, k, k, &from, &to);
	return to;
}

static size_t back(size_t at, size_t by)
{
	return at > by ? at - by : 0;
}

static void line_col(const char *s, size_t at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

int cc_add_finding(const char *orig, size_t olen, const struct cc_rule *r, size_t o_start,
		   size_t o_end, struct cd_findings *f)
{
	struct cd_finding *x;
	size_t n;

	while (o_end < olen && ((unsigned char)orig[o_end] & 0xC0) == 0x80)
		o_end++;
	/* one finding per rule and place; findings come in text order, so
	 * looking back a little is enough */
	for (size_t i = f->count > 32 ? f->count - 32 : 0; i < f->count; i++)
		if (f->items[i].rule == r->id && f->items[i].start < o_end && o_start < f->items[i].end)
			return 0;
	if (CD_GROW(f->items, f->count, f->cap) < 0)
		return CD_ENOMEM;
	x = &f->items[f->count++];
	*x = (struct cd_finding){ .rule = r->id, .family = r->family, .severity = r->severity,
				  .message = r->message, .suggestion = r->suggestion,
				  .start = o_start, .end = o_end,
				  .yields = r->yields == CC_YIELDS_ALWAYS };
	f->errors += r->error;
	line_col(orig, o_start, &x->line, &x->column);
	n = o_end - o_start < sizeof(x->excerpt) - 1 ? o_end - o_start : sizeof(x->excerpt) - 1;
	while (n > 0 && n < o_end - o_start && ((unsigned char)orig[o_start + n] & 0xC0) == 0x80)
		n--;
	memcpy(x->excerpt, orig + o_start, n);
	x->excerpt[n] = '\0';
	for (char *p = x->excerpt; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return 0;
}

static int add_finding_orig(const struct doc *d, const struct cc_rule *r, size_t o_start,
			    size_t o_end, struct cd_findings *f)
{
	return cc_add_finding(d->orig, d->olen, r, o_start, o_end, f);
}

/* Does one of sentences KA to KB hold a match of every list of R? The
 * words of a finding may be paired across a sentence end while another
 * sentence holds them all ("Thanks for your review. A refund goes to
 * every customer with a review."). */
static int together(const struct doc *d, const struct cc_rule *r, size_t ka, size_t kb)
{
	for (size_t k = ka; k <= kb; k++) {
		size_t from, to;
		int all = 1;

		sentences_bytes(d, k, k, &from, &to);
		for (int i = 0; i < r->nlists && all; i++)
			all = any_in(d, &r->lists[i], 1, from, to);
		if (all)
			return 1;
	}
	return 0;
}

/* Whether R's finding over normalized bytes [A, B) may yield: always,
 * or "apart" when its words lie in two sentences and no sentence of
 * them holds them all; never when a match of YIELDS_UNLESS lies in its
 * sentences. */
static int finding_yields(const struct doc *d, const struct cc_rule *r, size_t a, size_t b)
{
	size_t from, to, ka = sentence_of(d, a), kb = sentence_of(d, b - 1);

	if (r->yields == CC_YIELDS_NEVER ||
	    (r->yields == CC_YIELDS_APART && (ka == kb || together(d, r, ka, kb))))
		return 0;
	sentence_span(d, a, b - 1, &from, &to);
	return !any_in(d, r->yields_unless, r->nyields_unless, from, to);
}

/* A finding over bytes [NSTART, NEND) of the normalized text. */
static int add_finding(const struct doc *d, const struct cc_rule *r, size_t nstart, size_t nend,
		       struct cd_findings *f)
{
	size_t before = f->count;
	int rc = add_finding_orig(d, r, d->n->map[nstart], d->n->map[nend - 1] + 1, f);

	if (rc == 0 && f->count > before)
		f->items[before].yields = finding_yields(d, r, nstart, nend);
	return rc;
}

static int judge_any(const struct doc *d, const struct cc_rule *r, struct cd_findings *f)
{
	for (size_t i = 0; i < d->ms->n; i++) {
		const struct cc_match *m = &d->ms->m[i];
		size_t a, b;

		if (!r->member[m->list])
			continue;
		sentence_span(d, m->start, m->start, &a, &b);
		if (!excused(d, r, a, b, m->start) && !deferred(d, r, m->start, m->end) &&
		    !excused_clause(d, r, m->start, m->end) &&
		    add_finding(d, r, m->start, m->end, f) < 0)
			return CD_ENOMEM;
	}
	return 0;
}

/* Do A and B stand close enough for rule R? */
static int close_enough(const struct doc *d, const struct cc_rule *r, const struct cc_match *a,
			const struct cc_match *b)
{
	const struct cc_match *x = a->start <= b->start ? a : b, *y = x == a ? b : a;
	size_t gap = y->start > x->end ? chars(d, x->end, y->start) : 0;
	int same = sentence_of(d, x->start) == sentence_of(d, y->start);

	if (a->start == b->start && a->end == b->end)
		return 0; /* one word is not two things */
	if (r->sentence)
		return same && gap <= (size_t)r->within;
	return gap <= (size_t)r->within || (same && gap <= SENTENCE_MAX);
}

static int judge_near(const struct doc *d, const struct cc_rule *r, struct cd_findings *f)
{
	size_t reach = (size_t)(r->within > SENTENCE_MAX ? r->within : SENTENCE_MAX) * 4;

	for (size_t i = 0; i < d->ms->n; i++) {
		const struct cc_match *a = &d->ms->m[i];
		size_t j;

		if (!rule_list(r, a, 0))
			continue;
		for (first_from(d, back(a->start, reach), &j); j < d->ms->n &&
		     d->ms->m[j].start <= a->end + reach; j++) {
			const struct cc_match *b = &d->ms->m[j];
			size_t s0, s1, lo, hi;

			if (!rule_list(r, b, 1) || !close_enough(d, r, a, b))
				continue;
			lo = a->start < b->start ? a->start : b->start;
			hi = a->end > b->end ? a->end : b->end;
			sentence_span(d, lo, hi, &s0, &s1);
			/* an excuse may come in the next sentence: "We've refunded
			 * you after your review. It stays as it is; we never ask
			 * for changes." */
			if (excused(d, r, s0, next_sentence_end(d, s1), lo) || deferred(d, r, lo, hi) ||
			    excused_clause(d, r, lo, hi))
				continue;
			if (r->nunless_clause && covered(d, r, lo, hi, f))
				break;
			if (add_finding(d, r, lo, hi, f) < 0)
				return CD_ENOMEM;
			break;
		}
	}
	return 0;
}

/* For ALL: the nearest match of R's LISTS[K] to ANCHOR, not overlapping USED. */
static const struct cc_match *nearest(const struct doc *d, const struct cc_rule *r, int k,
				   const struct cc_match *anchor, size_t reach,
				   const struct cc_match **used, int nused)
{
	const struct cc_match *best = NULL;
	size_t j, bestd = (size_t)-1;

	for (first_from(d, back(anchor->start, reach), &j); j < d->ms->n &&
	     d->ms->m[j].start <= anchor->end + reach; j++) {
		const struct cc_match *m = &d->ms->m[j];
		size_t dist = m->start > anchor->start ? m->start - anchor->start
						       : anchor->start - m->start;
		int clash = 0;

		if (!rule_list(r, m, k))
			continue;
		for (int u = 0; u < nused && !clash; u++)
			clash = m->start < used[u]->end && used[u]->start < m->end;
		if (!clash && dist < bestd) {
			best = m;
			bestd = dist;
		}
	}
	return best;
}

static int judge_all(const struct doc *d, const struct cc_rule *r, struct cd_findings *f)
{
	size_t reach = (size_t)r->within * 4;

	for (size_t i = 0; i < d->ms->n; i++) {
		const struct cc_match *used[RULE_MAX_LISTS] = { &d->ms->m[i] };
		size_t lo = used[0]->start, hi = used[0]->end;
		int n = 1;

		if (!rule_list(r, used[0], 0))
			continue;
		for (; n < r->nlists; n++) {
			const struct cc_match *m = nearest(d, r, n, used[0], reach, used, n);

			if (!m)
				break;
			used[n] = m;
			lo = m->start < lo ? m->start : lo;
			hi = m->end > hi ? m->end : hi;
		}
		if (n < r->nlists || chars(d, lo, hi) > (size_t)r->within)
			continue;
		if (excused(d, r, back(lo, reach), hi + reach, lo) || deferred(d, r, lo, hi) ||
		    excused_clause(d, r, lo, hi))
			continue;
		if (add_finding(d, r, lo, hi, f) < 0)
			return CD_ENOMEM;
	}
	return 0;
}

/* A link (in text or in an href) to a host none of R's fragments names.
 * Links are read from the original: tags, where hrefs live, are gone
 * from the normalized text. */
static int judge_links(const struct doc *d, const struct cc_rule *r, struct cd_findings *f)
{
	static const char *const starts[] = { "http://", "https://", "www." };
	const char *s = d->orig;

	for (size_t i = 0; i < d->olen; i++) {
		size_t host = 0, end;
		int allowed = 0;
		char name[256];

		for (int k = 0; k < 3 && !host; k++)
			if (d->olen - i >= strlen(starts[k]) &&
			    strncasecmp(s + i, starts[k], strlen(starts[k])) == 0 &&
			    (i == 0 || !isalnum((unsigned char)s[i - 1])))
				host = i + (k == 2 ? 0 : strlen(starts[k]));
		if (!host)
			continue;
		for (end = host; end < d->olen && !strchr(" \t\r\n/?#\"'<>()[]", s[end]); end++)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(end - host), s + host);
		for (size_t a = 0; a < r->nallow && !allowed; a++)
			allowed = strcasestr(name, r->allow[a]) != NULL;
		if (!allowed && end > host && add_finding_orig(d, r, i, end, f) < 0)
			return CD_ENOMEM;
		i = end;
	}
	return 0;
}

static int in_channel(const struct cc_rule *r, const char *channel)
{
	if (!r->nchannels)
		return 1;
	for (size_t i = 0; channel && i < r->nchannels; i++)
		if (strcmp(r->channels[i], channel) == 0)
			return 1;
	return 0;
}

static int applies(const struct cc_rule *r, const struct cd_check_opts *o)
{
	int pack = !o || !o->packs;

	for (size_t i = 0; !pack && i < o->npacks; i++)
		pack = strcmp(o->packs[i], r->pack) == 0;
	return pack && in_channel(r, o ? o->channel : NULL);
}

static int judge(const struct cd_compliance *c, const struct doc *d,
		 const struct cd_check_opts *o, struct cd_findings *f)
{
	int rc = 0;

	for (size_t i = 0; i < c->nrules && rc == 0; i++) {
		const struct cc_rule *r = &c->rules[i];

		if (!applies(r, o))
			continue;
		switch (r->kind) {
		case CC_ANY: rc = judge_any(d, r, f); break;
		case CC_NEAR: rc = judge_near(d, r, f); break;
		case CC_ALL: rc = judge_all(d, r, f); break;
		case CC_LINKS: rc = judge_links(d, r, f); break;
		case CC_REMINDERS: break;
		}
	}
	return rc;
}

/* Is the model among the selected packs (it is the pack "model")? */
static int model_selected(const struct cd_compliance *c, const struct cd_check_opts *o)
{
	if (!c->model)
		return 0;
	for (size_t i = 0; o && o->packs && i < o->npacks; i++)
		if (strcmp(o->packs[i], CD_COMPLIANCE_MODEL_PACK) == 0)
			return 1;
	return !o || !o->packs;
}

/* Does the model score this text? Not when the caller asks for the rules
 * alone. */
static int model_applies(const struct cd_compliance *c, const struct cd_check_opts *o)
{
	return model_selected(c, o) && !(o && o->no_model);
}

/* Do the rules stand as beside the model, leaving their "defer" sentences
 * to it? When the model scores the text, and when the caller checks a
 * rendered mail whose template the model judged (O->defer). */
static int rules_defer(const struct cd_compliance *c, const struct cd_check_opts *o)
{
	return model_selected(c, o) && (!o || !o->no_model || o->defer);
}

/* Drop the findings of F from FIRST on whose rules yield to the model,
 * when it is sure D's text is honest. Law and marketplace terms name
 * what those rules look for only in part ("a review" near "change");
 * the model has read tens of thousands of texts on both sides, and a
 * text it scores far below its threshold is a free choice or an apology
 * that happens to share a sentence with a review. Rendered mail asks it
 * too, of the text as rendered: a footer from the configuration or a
 * name from the order was never judged as written. */
static int overrule(const struct cd_compliance *c, const struct doc *d, size_t first,
		    struct cd_findings *f)
{
	size_t kept = first;
	int any = 0, sure, rc;

	for (size_t i = first; i < f->count && !any; i++)
		any = f->items[i].yields;
	if (!any)
		return 0;
	if ((rc = cc_model_sure_honest(c, d->n, d->bounds, d->nbounds, d->ms, &sure)) < 0 || !sure)
		return rc;
	for (size_t i = first; i < f->count; i++) {
		if (f->items[i].yields) {
			f->errors -= strcmp(f->items[i].severity, "error") == 0;
			continue;
		}
		f->items[kept++] = f->items[i];
	}
	f->count = kept;
	return 0;
}

/* At most this many ways a template renders are judged one by one;
 * beyond, it is judged whole (the denser, safer side). */
#define BRANCHES_MAX 64

/* Does an error from FIRST on hold byte AT? */
static int error_at(const struct cd_findings *f, size_t first, size_t at)
{
	for (size_t i = first; i < f->count; i++)
		if (strcmp(f->items[i].severity, "error") == 0 && f->items[i].start <= at &&
		    at < f->items[i].end)
			return 1;
	return 0;
}

/* The errors of F from FIRST on (the packs', the model's in variants
 * judged before) as they stand in variant V, into HELD: the model skips
 * the windows they hold, as it does in a whole text. */
static int held_in_variant(const struct cd_findings *f, size_t first,
			   const struct cd_branch_variant *v, struct cd_findings *held)
{
	for (size_t i = first; i < f->count; i++) {
		struct cd_finding x = f->items[i];

		if (strcmp(x.severity, "error") != 0 ||
		    !cd_branches_place(v, x.start, x.end, &x.start, &x.end))
			continue;
		if (CD_GROW(held->items, held->count, held->cap) < 0)
			return CD_ENOMEM;
		held->items[held->count++] = x;
	}
	return 0;
}

/* Model finding X of variant V, placed in template TEXT: from its first
 * byte to the end of the stretch of the template that byte is in (a
 * sentence that runs across a cut section ends where the cut starts). */
static void place_in_template(const struct cd_branch_variant *v, const char *text,
			      struct cd_finding *x)
{
	size_t from = cd_branches_where(v, x->start), to = cd_branches_where(v, x->end - 1) + 1;
	size_t run = from;

	while (run + 1 < to && cd_branches_where(v, x->start + (run + 1 - from)) == run + 1)
		run++;
	x->start = from;
	x->end = run + 1;
	line_col(text, x->start, &x->line, &x->column);
}

/* The model's findings on variant V of template TEXT, placed in TEXT and
 * added to F unless an error from FIRST on (the packs', or the model's in
 * another variant) already holds their first byte. */
static int model_variant(const struct cd_compliance *c, const struct cd_branch_variant *v,
			 const char *text, size_t first, struct cd_findings *f)
{
	struct cd_normtext n = { 0 };
	struct cc_matches ms = { 0 };
	struct cd_findings mine = { 0 };
	size_t *bounds = NULL, nbounds = 0, held;
	int rc;

	if ((rc = held_in_variant(f, first, v, &mine)) < 0 ||
	    (rc = cd_normalize(v->text, v->len, 1, &n)) < 0 ||
	    (rc = cc_find(c, n.s, n.len, &ms)) < 0 ||
	    (rc = cc_sentence_ends(n.s, n.len, &bounds, &nbounds)) < 0)
		goto out;
	held = mine.count;
	if ((rc = cc_model_check(c, v->text, v->len, &n, bounds, nbounds, &ms, 0, &mine)) < 0)
		goto out;
	for (size_t i = held; i < mine.count; i++) {
		struct cd_finding x = mine.items[i];

		place_in_template(v, text, &x);
		if (error_at(f, first, x.start))
			continue;
		if (CD_GROW(f->items, f->count, f->cap) < 0) {
			rc = CD_ENOMEM;
			goto out;
		}
		f->items[f->count++] = x;
		f->errors += strcmp(x.severity, "error") == 0;
	}
out:
	cd_findings_clear(&mine);
	free(bounds);
	free(ms.m);
	cd_normtext_free(&n);
	return rc;
}

/* The model on template TEXT: on each way it can render when it has runs
 * of sections side by side (see branches.h), else on the whole of D. */
static int model_template(const struct cd_compliance *c, const char *text, size_t len,
			  const struct doc *d, size_t first, struct cd_findings *f)
{
	struct cd_branches br;
	int rc = cd_branches_split(text, len, BRANCHES_MAX, &br);

	if (rc < 0)
		return rc;
	if (br.n == 0)
		return cc_model_check(c, text, len, d->n, d->bounds, d->nbounds, d->ms, first, f);
	for (size_t k = 0; k < br.n && rc == 0; k++)
		rc = model_variant(c, &br.v[k], text, first, f);
	cd_branches_free(&br);
	return rc;
}

int cd_compliance_check(const struct cd_compliance *c, const char *text, size_t len,
			const struct cd_check_opts *opts, struct cd_findings *f)
{
	struct cd_normtext n = { 0 };
	struct cc_matches ms = { 0 };
	struct doc d = { .c = c, .orig = text, .olen = len, .n = &n, .ms = &ms,
			 .defer = rules_defer(c, opts), .first = f->count };
	size_t before = f->count;
	int rc;

	if (c->nrules == 0 && !model_applies(c, opts))
		return 0; /* nothing to find: skip the normalizing */

	if ((rc = cd_normalize(text, len, opts && opts->mustache, &n)) < 0)
		goto out;
	if ((rc = cc_find(c, n.s, n.len, &ms)) < 0 || (rc = find_bounds(&d)) < 0)
		goto out;
	if (ms.n > 0 && (rc = judge(c, &d, opts, f)) < 0)
		goto out;
	if (d.defer && !(opts && opts->no_yield) && (rc = overrule(c, &d, before, f)) < 0)
		goto out;
	if (model_applies(c, opts))
		rc = opts && opts->mustache ? model_template(c, text, len, &d, before, f)
					    : cc_model_check(c, text, len, &n, d.bounds, d.nbounds,
							     &ms, before, f);
out:
	free(d.bounds);
	free(ms.m);
	cd_normtext_free(&n);
	return rc;
}

size_t cd_compliance_no_reminder(const struct cd_compliance *c, char *const *packs,
				 size_t npacks, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->nrules; i++) {
		const struct cc_rule *r = &c->rules[i];
		struct cd_check_opts o = { .packs = npacks ? packs : NULL, .npacks = npacks,
					   .channel = r->nchannels ? r->channels[0] : NULL };

		if (r->kind != CC_REMINDERS || !applies(r, &o))
			continue;
		for (size_t k = 0; k < r->nchannels && n < max; k++)
			names[n++] = r->channels[k];
	}
	return n;
}

int cd_compliance_has_pack(const struct cd_compliance *c, const char *name)
{
	if (c->model && strcmp(name, CD_COMPLIANCE_MODEL_PACK) == 0)
		return 1;
	for (size_t i = 0; i < c->npacks; i++)
		if (strcmp(c->packs[i], name) == 0)
			return 1;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void cc_unbuild(struct cd_compliance *c)
{
	free(c->dense);
	free(c->states);
	free(c->hot);
	free(c->edge_class);
	free(c->edge_to);
	c->hot = NULL;
	c->dense = c->edge_to = NULL;
	c->states = NULL;
	c->edge_class = NULL;
	c->nstates = c->ndense = 0;
}

void cc_rule_free(struct cc_rule *r)
{
	free(r->id);
	free(r->family);
	free(r->severity);
	free(r->message);
	free(r->suggestion);
	free(r->pack);
	free(r->member);
	free_strings(r->allow, r->nallow);
	free_strings(r->channels, r->nchannels);
	memset(r, 0, sizeof(*r));
}

void cd_compliance_free(struct cd_compliance *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nterms; i++)
		free(c->terms[i].text);
	for (size_t i = 0; i < c->nlists; i++)
		free(c->lists[i].name);
	for (size_t i = 0; i < c->nrules; i++)
		cc_rule_free(&c->rules[i]);
	free_strings(c->packs, c->npacks);
	free(c->terms);
	free(c->lists);
	free(c->rules);
	cc_unbuild(c);
	cc_model_free(c->model);
	free(c);
}

void cd_findings_clear(struct cd_findings *f)
{
	free(f->items);
	memset(f, 0, sizeof(*f));
}

const char *cd_findings_summary(const struct cd_findings *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->count && used + 1 < len; i++) {
		const struct cd_finding *x = &f->items[i];
		int n = snprintf(buf + used, len - used, "%s%s (%d:%d): %s: \"%s\"", i ? "; " : "",
				 x->rule, x->line, x->column, x->message, x->excerpt);

		if (n < 0)
			break;
		used += (size_t)n < len - used ? (size_t)n : len - used - 1;
	}
	return buf;
}
