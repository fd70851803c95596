/*
 * features.c - what the learned model reads of a normalized text: hashed
 * word unigrams and bigrams, character n-grams of every word (3 to 5
 * characters, so "recensione", "recensioni" and "recenzja" share most of
 * theirs, which is what a stemmer would give us), Chinese and Japanese
 * character uni-, bi- and trigrams, and concepts from the model's own
 * multilingual term lists: which are present, and which pairs and triples
 * share a sentence ("review act + benefit + condition", "benefit +
 * independence").
 *
 * The training script never featurizes: it reads what this file emits
 * ("candorctl lint --features"), so training and checking cannot drift
 * apart. Anything that changes what is emitted must bump
 * CC_FEATURES_VERSION, which the model file records.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "candor/compliance_impl.h"
#include "candor/util.h"

/* Namespaces, so a word, a bigram and an n-gram never share an id. */
enum { NS_WORD = 'w', NS_BIGRAM = 'b', NS_CHAR = 'c', NS_CJK = 'j', NS_CONCEPT = 'k',
       NS_CONCEPT2 = 'm', NS_SENT_PAIR = 's', NS_ORDER = 'o', NS_DOC_PAIR = 'd',
       NS_TRIPLE = 't' };

#define MAX_WORD_CHARS 48
#define MAX_LISTS 64

/* ---- hashing ------------------------------------------------------------ */

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static uint32_t start_hash(char ns)
{
	return fnv(FNV_OFFSET, &ns, 1);
}

/* Spread the bits (murmur3's finalizer); 0 is never an id. */
static uint32_t finish(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h ? h : 1;
}

/* One occurrence of feature ID (hashed in namespace NS) from normalized
 * bytes [START, END). */
static int emit_ns(struct cc_feats *f, char ns, uint32_t id, size_t start, size_t end, int ngram)
{
	(void)ns;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct cc_feat *p = realloc(f->f, cap * sizeof(*p));

		if (!p)
			return CD_ENOMEM;
		f->f = p;
		f->cap = cap;
	}
	f->f[f->n++] = (struct cc_feat){ finish(id), (uint32_t)start, (uint32_t)end, (uint8_t)ngram };
	f->ngrams += (size_t)ngram;
	return 0;
}

double cc_ngram_value(size_t ngrams)
{
	return ngrams ? 1.0 / sqrt((double)ngrams) : 0.0;
}

/* ---- tokens ----------------------------------------------------------- */

enum kind { K_SPACE, K_WORD, K_CJK, K_SYMBOL };

struct tok {
	size_t start, end;
	enum kind kind;
};

static int is_cjk(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

static int is_currency(int32_t cp)
{
	return cp == '$' || cp == 0xA3 || cp == 0xA5 || cp == 0x20AC || cp == 0x20BD ||
	       cp == 0x20BA || cp == 0x20B4 || cp == 0xFFE5;
}

static enum kind kind_of(int32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			return K_WORD;
		return cp == '?' || cp == '!' || cp == '%' || cp == '$' ? K_SYMBOL : K_SPACE;
	}
	if (is_cjk(cp))
		return K_CJK;
	if (cp == 0x2605 || cp == 0x2192 || is_currency(cp))
		return K_SYMBOL;
	if (cp < 0x2E80) {
		utf8proc_category_t cat = utf8proc_category(cp);

		if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO &&
		    cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC &&
		    cat != UTF8PROC_CATEGORY_ME)
			return K_WORD;
	}
	return cp == 0xFF1F || cp == 0xFF01 ? K_SYMBOL : K_SPACE;
}

static int32_t next_cp(const char *s, size_t len, size_t i, size_t *n)
{
	int32_t cp;
	utf8proc_ssize_t k;

	if ((unsigned char)s[i] < 0x80) {
		*n = 1;
		return (unsigned char)s[i];
	}
	k = utf8proc_iterate((const uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
	*n = k > 0 ? (size_t)k : 1;
	return k > 0 ? cp : 0xFFFD;
}

/* The next token at or after *AT in [.., TO); K_SPACE when none. Symbols
 * are one character each; a run of stars is one token. */
static struct tok next_tok(const char *s, size_t *at, size_t to)
{
	struct tok t = { .kind = K_SPACE };
	size_t n;

	while (*at < to) {
		int32_t cp = next_cp(s, to, *at, &n);
		enum kind k = kind_of(cp);

		if (k == K_SPACE) {
			*at += n;
			continue;
		}
		t.start = *at;
		t.kind = k;
		*at += n;
		if (k == K_SYMBOL && cp != 0x2605)
			break;
		while (*at < to) {
			int32_t c2 = next_cp(s, to, *at, &n);

			if (kind_of(c2) != k || (k == K_SYMBOL && c2 != cp))
				break;
			*at += n;
		}
		break;
	}
	t.end = *at;
	return t;
}

/* The hash of a token as the model sees it: numbers of two digits or more
 * are all one number, currencies one currency, five stars or more five. */
static uint32_t token_hash(uint32_t h, const char *s, const struct tok *t)
{
	size_t len = t->end - t->start, digits = 0;
	size_t n;

	if (t->kind == K_SYMBOL) {
		int32_t cp = next_cp(s, t->end, t->start, &n);

		if (is_currency(cp))
			return fnv(h, "\xC2\xA4", 2);
		if (cp == 0x2605 && len > 15)
			len = 15;
		return fnv(h, s + t->start, len);
	}
	for (size_t i = t->start; i < t->end; i++)
		digits += s[i] >= '0' && s[i] <= '9';
	if (digits == len && len >= 2)
		return fnv(h, "#", 1);
	return fnv(h, s + t->start, len);
}

/* Character n-grams of " word " (3 to 5 characters). */
static int char_ngrams(const char *s, const struct tok *t, struct cc_feats *f)
{
	size_t off[MAX_WORD_CHARS + 3], nch = 0, n, letters = 0;
	uint32_t base = start_hash(NS_CHAR);

	for (size_t i = t->start; i < t->end && nch < MAX_WORD_CHARS; i += n) {
		off[nch++] = i;
		letters += !(s[i] >= '0' && s[i] <= '9');
		next_cp(s, t->end, i, &n);
	}
	if (nch < 2 || letters == 0 || nch == MAX_WORD_CHARS)
		return 0;
	off[nch] = t->end;
	/* positions -1 and nch stand for the padding spaces */
	for (long k = -1; k < (long)nch; k++) {
		uint32_t h = base;
		size_t from = k < 0 ? t->start : off[k];

		if (k < 0)
			h = fnv(h, " ", 1);
		for (long e = k; e < (long)nch + 1 && e - k < 5; e++) {
			size_t len = e - k + 1;

			if (e >= 0 && e < (long)nch)
				h = fnv(h, s + off[e], off[e + 1] - off[e]);
			else if (e == (long)nch)
				h = fnv(h, " ", 1);
			if (len >= 3 && emit_ns(f, NS_CHAR, h, from, e < (long)nch ? off[e + 1] : t->end, 1) < 0)
				return CD_ENOMEM;
		}
	}
	return 0;
}

/* Uni-, bi- and trigrams of a run of CJK characters. */
static int cjk_ngrams(const char *s, const struct tok *t, struct cc_feats *f)
{
	size_t off[4], n;
	int have = 0;

	for (size_t i = t->start; i < t->end; i += n) {
		next_cp(s, t->end, i, &n);
		if (have == 3) {
			memmove(off, off + 1, 2 * sizeof(*off));
			have = 2;
		}
		off[have++] = i;
		for (int k = 0; k < have; k++) {
			uint32_t h = fnv(start_hash(NS_CJK), s + off[k], i + n - off[k]);

			if (emit_ns(f, NS_CJK, h, off[k], i + n, 1) < 0)
				return CD_ENOMEM;
		}
	}
	return 0;
}

/* How many sentence ends lie before byte AT. */
static size_t sentence_at(const size_t *bounds, size_t nbounds, size_t at)
{
	size_t lo = 0, hi = nbounds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (bounds[mid] < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int ngrams(const struct cd_normtext *n, size_t from, size_t to, const size_t *bounds,
		  size_t nbounds, struct cc_feats *f)
{
	const char *s = n->s;
	struct tok prev = { .kind = K_SPACE };
	size_t prev_sentence = 0, at = from;

	for (;;) {
		struct tok t = next_tok(s, &at, to);
		size_t sentence;

		if (t.kind == K_SPACE)
			break;
		sentence = sentence_at(bounds, nbounds, t.start);
		if (t.kind == K_CJK) {
			if (cjk_ngrams(s, &t, f) < 0)
				return CD_ENOMEM;
			prev.kind = K_SPACE;
			continue;
		}
		if (emit_ns(f, NS_WORD, token_hash(start_hash(NS_WORD), s, &t), t.start, t.end, 1) < 0)
			return CD_ENOMEM;
		if (prev.kind != K_SPACE && prev_sentence == sentence) {
			uint32_t h = token_hash(start_hash(NS_BIGRAM), s, &prev);

			h = token_hash(fnv(h, " ", 1), s, &t);
			if (emit_ns(f, NS_BIGRAM, h, prev.start, t.end, 1) < 0)
				return CD_ENOMEM;
		}
		if (t.kind == K_WORD && char_ngrams(s, &t, f) < 0)
			return CD_ENOMEM;
		prev = t;
		prev_sentence = sentence;
	}
	return 0;
}

/* ---- concepts ------------------------------------------------------------ */

static uint32_t name_hash(uint32_t h, const struct cd_compliance *c, int list)
{
	const char *name = c->lists[list].name;

	return fnv(h, name, strlen(name) + 1);
}

uint32_t cc_concept_id(const char *name)
{
	return finish(fnv(start_hash(NS_CONCEPT), name, strlen(name) + 1));
}

/* Lists A and B in the order of their names, so the id does not depend
 * on the order of the source file. */
static uint32_t pair_hash(char ns, const struct cd_compliance *c, int a, int b)
{
	if (strcmp(c->lists[a].name, c->lists[b].name) > 0) {
		int t = a;

		a = b;
		b = t;
	}
	return name_hash(name_hash(start_hash(ns), c, a), c, b);
}

struct sentence_concepts {
	uint64_t present;
	uint32_t first[MAX_LISTS];   /* first match of each list */
	size_t start, end;
};

static int concept_pairs(const struct cd_compliance *c, const struct sentence_concepts *sc,
			 size_t nsent, uint64_t *pairs, struct cc_feats *f)
{
	for (size_t k = 0; k < nsent; k++) {
		uint64_t m = sc[k].present;

		for (int a = 0; a < MAX_LISTS; a++) {
			if (!(m >> a & 1))
				continue;
			for (int b = a + 1; b < MAX_LISTS; b++) {
				int first, second;

				if (!(m >> b & 1))
					continue;
				/* unordered pair in one sentence */
				if (!(pairs[a] >> b & 1)) {
					pairs[a] |= 1ull << b;
					if (emit_ns(f, NS_SENT_PAIR, pair_hash(NS_SENT_PAIR, c, a, b), sc[k].start, sc[k].end, 0) < 0)
						return CD_ENOMEM;
				}
				/* which comes first */
				first = sc[k].first[a] <= sc[k].first[b] ? a : b;
				second = first == a ? b : a;
				if (!(pairs[second] >> first & 1)) {
					uint32_t h = name_hash(name_hash(start_hash(NS_ORDER), c, first), c, second);

					pairs[second] |= 1ull << first;
					if (emit_ns(f, NS_ORDER, h, sc[k].start, sc[k].end, 0) < 0)
						return CD_ENOMEM;
				}
			}
		}
	}
	return 0;
}

/* Triples of lists sharing a sentence, each once per window. */
static int concept_triples(const struct cd_compliance *c, const struct sentence_concepts *sc,
			   size_t nsent, struct cc_feats *f)
{
	size_t before = f->n;

	for (size_t k = 0; k < nsent; k++) {
		uint64_t m = sc[k].present;
		int idx[MAX_LISTS], n = 0;

		for (int a = 0; a < MAX_LISTS; a++)
			if (m >> a & 1)
				idx[n++] = a;
		for (int x = 0; x < n; x++)
			for (int y = x + 1; y < n; y++)
				for (int z = y + 1; z < n; z++) {
					const char *names[3] = { c->lists[idx[x]].name, c->lists[idx[y]].name,
								 c->lists[idx[z]].name };
					uint32_t h = start_hash(NS_TRIPLE), id;
					int dup = 0;

					/* sorted by name */
					for (int i = 0; i < 3; i++)
						for (int j = i + 1; j < 3; j++)
							if (strcmp(names[i], names[j]) > 0) {
								const char *t = names[i];

								names[i] = names[j];
								names[j] = t;
							}
					for (int i = 0; i < 3; i++)
						h = fnv(h, names[i], strlen(names[i]) + 1);
					id = finish(h);
					for (size_t i = before; i < f->n && !dup; i++)
						dup = f->f[i].id == id;
					if (!dup && emit_ns(f, NS_TRIPLE, h, sc[k].start, sc[k].end, 0) < 0)
						return CD_ENOMEM;
				}
	}
	return 0;
}

static int concepts(const struct cd_compliance *c, const struct cd_normtext *n, size_t from,
		    size_t to, const size_t *bounds, size_t nbounds, struct cc_feats *f)
{
	size_t s0 = sentence_at(bounds, nbounds, from), nsent, counts[MAX_LISTS] = { 0 };
	struct sentence_concepts *sc;
	uint64_t window = 0, pairs[MAX_LISTS] = { 0 };
	uint32_t first[MAX_LISTS];
	int rc = CD_ENOMEM;

	if (cc_find(c, n->s + from, to - from, &f->concepts) < 0)
		return CD_ENOMEM;
	if (f->concepts.n == 0)
		return 0;
	nsent = sentence_at(bounds, nbounds, to > from ? to - 1 : to) - s0 + 1;
	if (!(sc = calloc(nsent, sizeof(*sc))))
		return CD_ENOMEM;
	for (size_t k = 0; k < nsent; k++) {
		sc[k].start = s0 + k > 0 ? bounds[s0 + k - 1] + 1 : 0;
		sc[k].end = s0 + k < nbounds ? bounds[s0 + k] + 1 : n->len;
		sc[k].start = sc[k].start < from ? from : sc[k].start;
		sc[k].end = sc[k].end > to ? to : sc[k].end;
	}
	for (size_t i = 0; i < f->concepts.n; i++) {
		struct cc_match *m = &f->concepts.m[i];
		size_t k;

		m->start += (uint32_t)from;
		m->end += (uint32_t)from;
		if (m->list >= MAX_LISTS)
			continue;
		k = sentence_at(bounds, nbounds, m->start) - s0;
		if (k >= nsent)
			k = nsent - 1;
		if (!(sc[k].present >> m->list & 1))
			sc[k].first[m->list] = m->start;
		sc[k].present |= 1ull << m->list;
		if (!(window >> m->list & 1))
			first[m->list] = (uint32_t)i;
		window |= 1ull << m->list;
		counts[m->list]++;
	}
	for (int a = 0; a < MAX_LISTS; a++) {
		const struct cc_match *m;

		if (!(window >> a & 1))
			continue;
		m = &f->concepts.m[first[a]];
		if (emit_ns(f, NS_CONCEPT, name_hash(start_hash(NS_CONCEPT), c, a), m->start, m->end, 0) < 0)
			goto out;
		if (counts[a] > 1 &&
		    emit_ns(f, NS_CONCEPT2, name_hash(start_hash(NS_CONCEPT2), c, a), m->start, m->end, 0) < 0)
			goto out;
		for (int b = a + 1; b < MAX_LISTS; b++)
			if ((window >> b & 1) &&
			    emit_ns(f, NS_DOC_PAIR, pair_hash(NS_DOC_PAIR, c, a, b), from, to, 0) < 0)
				goto out;
	}
	if (concept_pairs(c, sc, nsent, pairs, f) < 0 || concept_triples(c, sc, nsent, f) < 0)
		goto out;
	rc = 0;
out:
	free(sc);
	return rc;
}

int cc_featurize(const struct cd_compliance *c, const struct cd_normtext *n, size_t from,
		 size_t to, const size_t *bounds, size_t nbounds, struct cc_feats *f)
{
	f->n = 0;
	f->ngrams = 0;
	f->concepts.n = 0;
	if (ngrams(n, from, to, bounds, nbounds, f) < 0)
		return CD_ENOMEM;
	return concepts(c, n, from, to, bounds, nbounds, f);
}

void cc_feats_free(struct cc_feats *f)
{
	free(f->f);
	free(f->concepts.m);
	memset(f, 0, sizeof(*f));
}

/* ---- for training ------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
	const struct cc_feat *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int cd_compliance_features(const struct cd_compliance *c, const char *text, size_t len,
			   struct cd_buf *out)
{
	const struct cd_compliance *concepts = c->model ? cc_model_concepts(c->model) : c;
	struct cd_normtext n = { 0 };
	struct cc_feats f = { 0 };
	size_t *bounds = NULL, nbounds = 0;
	double v;
	int rc;

	if ((rc = cd_normalize(text, len, 0, &n)) < 0 ||
	    (rc = cc_sentence_ends(n.s, n.len, &bounds, &nbounds)) < 0 ||
	    (rc = cc_featurize(concepts, &n, 0, n.len, bounds, nbounds, &f)) < 0)
		goto out;
	v = cc_ngram_value(f.ngrams);
	qsort(f.f, f.n, sizeof(*f.f), by_id);
	for (size_t i = 0; i < f.n;) {
		double sum = 0;
		size_t j = i;

		for (; j < f.n && f.f[j].id == f.f[i].id; j++)
			sum += f.f[j].ngram ? v : 1.0;
		cd_buf_printf(out, "%s%u:%.6g", i ? " " : "", f.f[i].id, sum);
		i = j;
	}
	rc = out->oom ? CD_ENOMEM : 0;
out:
	cc_feats_free(&f);
	free(bounds);
	cd_normtext_free(&n);
	return rc;
}
