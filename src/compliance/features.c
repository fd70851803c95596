/*
 * features.c - what the learned model reads of a normalized text: hashed
 * word unigrams and bigrams, Chinese and Japanese character uni-, bi- and
 * trigrams, and concepts from the model's own multilingual term lists:
 * which are present, and which pairs and triples share a sentence ("review
 * act + benefit + condition", "benefit + independence"). The concept
 * lists' stems ("recensi*", "opini*") stand in for a stemmer, and since
 * features version 3 each word longer than four characters also counts
 * by its first four (author cross-validation, ca/cc/cd: 89.6% to 91.1%
 * of violations caught at 1% of honest texts flagged, 95.4% to 96.6% at
 * 2%; stem bigrams and five or six characters did no better). Character
 * n-grams of words were tried and dropped: across writers they did not
 * help and cost most of the time. Negation scopes ("without a review")
 * as features were tried too: no change in cross-validation.
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
enum { NS_WORD = 'w', NS_BIGRAM = 'b', NS_CJK = 'j', NS_CONCEPT = 'k',
       NS_CONCEPT2 = 'm', NS_SENT_PAIR = 's', NS_ORDER = 'o', NS_DOC_PAIR = 'd',
       NS_TRIPLE = 't', NS_STEM = 'p' };

/* A word's stem, for the model: its first STEM_CHARS characters, when it
 * is longer. Crude, but it works alike in every language, and inflected
 * forms ("recensione", "recensioni"; "отзыв", "отзывом") meet. */
#define STEM_CHARS 4

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

/* One more value into a hash. */
static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9E3779B1u;
	return h ^ (h >> 15);
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
	if (f->sum_only) {
		float w = cc_model_weight(f->sum_only, finish(id));

		if (ngram)
			f->wngram += w;
		else
			f->wconcept += w;
		f->ngrams += (size_t)ngram;
		return 0;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct cc_feat *p = realloc(f->f, cap * sizeof(*p));

		if (!p)
			return CD_ENOMEM;
		f->f = p;
		f->cap = cap;
	}
	f->f[f->n++] = (struct cc_feat){ .id = finish(id), .start = (uint32_t)start, .end = (uint32_t)end,
					.ngram = (uint8_t)ngram, .slot = -1 };
	f->ngrams += (size_t)ngram;
	return 0;
}

/* Counts scaled by the square root of the window's length, so a long
 * text does not outweigh a short one; a very short one counts as if it
 * had CC_SHORT n-grams, so three words do not weigh like a paragraph. */
double cc_ngram_value(size_t ngrams)
{
	return 1.0 / sqrt((double)(ngrams > CC_SHORT ? ngrams : CC_SHORT));
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

/* The stem of word T, when it is longer than its stem. */
static int stem(struct cc_feats *f, const char *s, const struct tok *t)
{
	size_t at = t->start, k = 0;

	while (at < t->end && k < STEM_CHARS) {
		at++;
		while (at < t->end && ((unsigned char)s[at] & 0xC0) == 0x80)
			at++;
		k++;
	}
	if (at >= t->end)
		return 0;
	return emit_ns(f, NS_STEM, mix(start_hash(NS_STEM), fnv(FNV_OFFSET, s + t->start, at - t->start)),
		       t->start, t->end, 1);
}

static int ngrams(const struct cd_normtext *n, size_t from, size_t to, const size_t *bounds,
		  size_t nbounds, struct cc_feats *f)
{
	const char *s = n->s;
	struct tok prev = { .kind = K_SPACE };
	size_t prev_sentence = 0, at = from, sentence = sentence_at(bounds, nbounds, from);
	uint32_t th, prev_hash = 0;

	for (;;) {
		struct tok t = next_tok(s, &at, to);

		if (t.kind == K_SPACE)
			break;
		/* tokens come in order: the sentence index only moves on */
		while (sentence < nbounds && bounds[sentence] < t.start)
			sentence++;
		if (t.kind == K_CJK) {
			if (cjk_ngrams(s, &t, f) < 0)
				return CD_ENOMEM;
			prev.kind = K_SPACE;
			continue;
		}
		th = token_hash(FNV_OFFSET, s, &t);
		if (emit_ns(f, NS_WORD, mix(start_hash(NS_WORD), th), t.start, t.end, 1) < 0)
			return CD_ENOMEM;
		if (t.kind == K_WORD && stem(f, s, &t) < 0)
			return CD_ENOMEM;
		if (prev.kind != K_SPACE && prev_sentence == sentence &&
		    emit_ns(f, NS_BIGRAM, mix(mix(start_hash(NS_BIGRAM), prev_hash), th), prev.start,
			    t.end, 1) < 0)
			return CD_ENOMEM;
		prev_hash = th;
		prev = t;
		prev_sentence = sentence;
	}
	return 0;
}

/* ---- concepts ------------------------------------------------------------ */

/* Concept features combine the lists' name hashes (struct cc_list), in
 * the order of the hashes, so an id depends on the names alone and not on
 * their order in the source file. */
/* Concept A's name hash (concepts are numbered from 0, their lists from
 * C's concept_base). */
static uint32_t list_hash(const struct cd_compliance *c, int a)
{
	return c->lists[c->concept_base + (size_t)a].hash;
}

uint32_t cc_concept_id(const char *name)
{
	return finish(mix(start_hash(NS_CONCEPT), fnv(FNV_OFFSET, name, strlen(name))));
}

/* A pair of lists, either order. */
static uint32_t pair_hash(char ns, const struct cd_compliance *c, int a, int b)
{
	uint32_t x = list_hash(c, a), y = list_hash(c, b);

	return mix(mix(start_hash(ns), x < y ? x : y), x < y ? y : x);
}

static void sort3(uint32_t *v)
{
	for (int i = 0; i < 2; i++)
		for (int j = i + 1; j < 3; j++)
			if (v[j] < v[i]) {
				uint32_t t = v[i];

				v[i] = v[j];
				v[j] = t;
			}
}

/* The hash of concept feature NS over concepts A, B, Z (as many as NS
 * combines; pairs and triples in either order), before finish(). */
static uint32_t concept_hash(const struct cd_compliance *c, char ns, int a, int b, int z)
{
	uint32_t v[3];

	switch (ns) {
	case NS_CONCEPT:
	case NS_CONCEPT2:
		return mix(start_hash(ns), list_hash(c, a));
	case NS_SENT_PAIR:
	case NS_DOC_PAIR:
		return pair_hash(ns, c, a, b);
	case NS_ORDER:
		return mix(mix(start_hash(NS_ORDER), list_hash(c, a)), list_hash(c, b));
	default:
		v[0] = list_hash(c, a);
		v[1] = list_hash(c, b);
		v[2] = list_hash(c, z);
		sort3(v);
		return mix(mix(mix(start_hash(NS_TRIPLE), v[0]), v[1]), v[2]);
	}
}

uint32_t cc_concept_feature(const struct cd_compliance *c, char ns, int a, int b, int z)
{
	return finish(concept_hash(c, ns, a, b, z));
}

/* One concept feature: when only the score is wanted, its weight from
 * the model's table (no hashing, no probing), else as any feature. */
static int emit_concept(struct cc_feats *f, const struct cd_compliance *c, char ns, int a, int b,
			int z, size_t start, size_t end)
{
	if (f->sum_only) {
		float w;

		if (cc_model_concept_weight(f->sum_only, ns, a, b, z, &w)) {
			f->wconcept += w;
			return 0;
		}
	}
	return emit_ns(f, ns, concept_hash(c, ns, a, b, z), start, end, 0);
}

struct sentence_concepts {
	uint64_t present;
	uint32_t first[MAX_LISTS];   /* first match of each list */
	size_t start, end;
};

static int concept_pairs(const struct cd_compliance *c, const struct sentence_concepts *sc,
			 size_t nsent, struct cc_feats *f)
{
	uint64_t pairs[MAX_LISTS] = { 0 }, order[MAX_LISTS] = { 0 };

	for (size_t k = 0; k < nsent; k++) {
		for (uint64_t ma = sc[k].present; ma; ma &= ma - 1) {
			int a = __builtin_ctzll(ma);

			for (uint64_t mb = ma & (ma - 1); mb; mb &= mb - 1) {
				int b = __builtin_ctzll(mb), first, second;

				/* the pair in one sentence */
				if (!(pairs[a] >> b & 1)) {
					pairs[a] |= 1ull << b;
					if (emit_concept(f, c, NS_SENT_PAIR, a, b, 0, sc[k].start,
							 sc[k].end) < 0)
						return CD_ENOMEM;
				}
				/* which comes first */
				first = sc[k].first[a] <= sc[k].first[b] ? a : b;
				second = first == a ? b : a;
				if (!(order[first] >> second & 1)) {
					order[first] |= 1ull << second;
					if (emit_concept(f, c, NS_ORDER, first, second, 0, sc[k].start,
							 sc[k].end) < 0)
						return CD_ENOMEM;
				}
			}
		}
	}
	return 0;
}

/* Triples of lists sharing a sentence, each once per window: a triple
 * is new in sentence K unless an earlier sentence held all three. */
static int concept_triples(const struct cd_compliance *c, const struct sentence_concepts *sc,
			   size_t nsent, struct cc_feats *f)
{
	for (size_t k = 0; k < nsent; k++) {
		int idx[MAX_LISTS], n = 0;

		for (uint64_t m = sc[k].present; m; m &= m - 1)
			idx[n++] = __builtin_ctzll(m);
		for (int x = 0; x < n; x++)
			for (int y = x + 1; y < n; y++)
				for (int z = y + 1; z < n; z++) {
					uint64_t tm = 1ull << idx[x] | 1ull << idx[y] | 1ull << idx[z];
					int seen = 0;

					for (size_t j = 0; j < k && !seen; j++)
						seen = (sc[j].present & tm) == tm;
					if (seen)
						continue;
					if (emit_concept(f, c, NS_TRIPLE, idx[x], idx[y], idx[z],
							 sc[k].start, sc[k].end) < 0)
						return CD_ENOMEM;
				}
	}
	return 0;
}

/* The concept matches of ALL inside [FROM, TO), numbered as concepts. */
static int select_concepts(const struct cd_compliance *c, const struct cc_matches *all,
			   size_t from, size_t to, struct cc_matches *out)
{
	out->n = 0;
	for (size_t i = 0; i < all->n; i++) {
		const struct cc_match *m = &all->m[i];
		size_t l = (size_t)m->list;

		if (m->start < from || m->end > to || l < c->concept_base ||
		    l >= c->concept_base + c->nconcepts)
			continue;
		if (out->n == out->cap && CD_GROW(out->m, out->n, out->cap) < 0)
			return CD_ENOMEM;
		out->m[out->n++] = (struct cc_match){ m->start, m->end, (int)(l - c->concept_base) };
	}
	return 0;
}

static int concepts(const struct cd_compliance *c, const struct cd_normtext *n, size_t from,
		    size_t to, const size_t *bounds, size_t nbounds, const struct cc_matches *all,
		    struct cc_feats *f)
{
	size_t s0 = sentence_at(bounds, nbounds, from), nsent, counts[MAX_LISTS] = { 0 };
	struct sentence_concepts few[8], *sc;
	uint64_t window = 0;
	uint32_t first[MAX_LISTS];
	int rc = CD_ENOMEM;

	if (select_concepts(c, all, from, to, &f->concepts) < 0)
		return CD_ENOMEM;
	if (f->concepts.n == 0)
		return 0;
	nsent = sentence_at(bounds, nbounds, to > from ? to - 1 : to) - s0 + 1;
	sc = nsent <= 8 ? few : malloc(nsent * sizeof(*sc));
	if (!sc)
		return CD_ENOMEM;
	for (size_t k = 0; k < nsent; k++) {
		sc[k].present = 0;
		sc[k].start = s0 + k > 0 ? bounds[s0 + k - 1] + 1 : 0;
		sc[k].end = s0 + k < nbounds ? bounds[s0 + k] + 1 : n->len;
		sc[k].start = sc[k].start < from ? from : sc[k].start;
		sc[k].end = sc[k].end > to ? to : sc[k].end;
	}
	for (size_t i = 0; i < f->concepts.n; i++) {
		struct cc_match *m = &f->concepts.m[i];
		size_t k;

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
	f->gate = (window & c->gate_mask) != 0;
	for (uint64_t ma = window; ma; ma &= ma - 1) {
		int a = __builtin_ctzll(ma);
		const struct cc_match *m = &f->concepts.m[first[a]];

		if (emit_concept(f, c, NS_CONCEPT, a, 0, 0, m->start, m->end) < 0)
			goto out;
		if (counts[a] > 1 && emit_concept(f, c, NS_CONCEPT2, a, 0, 0, m->start, m->end) < 0)
			goto out;
		/* pairs anywhere in the window: only news with several sentences */
		for (uint64_t mb = nsent > 1 ? ma & (ma - 1) : 0; mb; mb &= mb - 1)
			if (emit_concept(f, c, NS_DOC_PAIR, a, __builtin_ctzll(mb), 0, from, to) < 0)
				goto out;
	}
	if (concept_pairs(c, sc, nsent, f) < 0 || concept_triples(c, sc, nsent, f) < 0)
		goto out;
	rc = 0;
out:
	if (sc != few)
		free(sc);
	return rc;
}

int cc_featurize(const struct cd_compliance *c, const struct cd_normtext *n, size_t from,
		 size_t to, const size_t *bounds, size_t nbounds, const struct cc_matches *all,
		 struct cc_feats *f)
{
	f->n = 0;
	f->ngrams = 0;
	f->gate = 0;
	f->concepts.n = 0;
	if (ngrams(n, from, to, bounds, nbounds, f) < 0)
		return CD_ENOMEM;
	return concepts(c, n, from, to, bounds, nbounds, all, f);
}

int cc_featurize_score(const struct cd_compliance *c, const struct cc_model *m,
		       const struct cd_normtext *n, size_t from, size_t to, const size_t *bounds,
		       size_t nbounds, const struct cc_matches *all, struct cc_feats *f)
{
	int rc;

	f->n = 0;
	f->ngrams = 0;
	f->gate = 0;
	f->concepts.n = 0;
	f->wngram = f->wconcept = 0;
	f->sum_only = m;
	/* the concepts first: without a gate concept the n-grams do not matter */
	rc = concepts(c, n, from, to, bounds, nbounds, all, f);
	if (rc == 0 && f->gate)
		rc = ngrams(n, from, to, bounds, nbounds, f);
	f->sum_only = NULL;
	return rc < 0 ? CD_ENOMEM : 0;
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

/* The features of N's bytes [FROM, TO) as cd_compliance_features
 * writes them, appended to OUT. */
static int feature_line(const struct cd_compliance *c, const struct cd_normtext *n, size_t from,
			size_t to, const size_t *bounds, size_t nbounds, const struct cc_matches *all,
			struct cc_feats *f, struct cd_buf *out)
{
	double v;

	if (cc_featurize(c, n, from, to, bounds, nbounds, all, f) < 0)
		return CD_ENOMEM;
	v = cc_ngram_value(f->ngrams);
	qsort(f->f, f->n, sizeof(*f->f), by_id);
	for (size_t i = 0; i < f->n;) {
		double sum = 0;
		size_t j = i;

		for (; j < f->n && f->f[j].id == f->f[i].id; j++)
			sum += f->f[j].ngram ? v : 1.0;
		/* concepts marked ":c", so training may weigh the groups apart */
		cd_buf_printf(out, "%s%u:%.6g%s", i ? " " : "", f->f[i].id, sum,
			      f->f[i].ngram ? "" : ":c");
		i = j;
	}
	/* whether the model judges this text at all (the gate) */
	cd_buf_printf(out, "\t%d", f->gate);
	return out->oom ? CD_ENOMEM : 0;
}

struct text_feats {
	const struct cd_compliance *c;
	struct cd_normtext n;
	struct cc_matches all;
	size_t *bounds, nbounds;
	struct cc_feats f;
	struct cd_buf *out;
};

static int text_open(struct text_feats *t, const char *text, size_t len)
{
	int rc;

	if ((rc = cd_normalize(text, len, 0, &t->n)) < 0 ||
	    (rc = cc_sentence_ends(t->n.s, t->n.len, &t->bounds, &t->nbounds)) < 0)
		return rc;
	return cc_find(t->c, t->n.s, t->n.len, &t->all);
}

static void text_close(struct text_feats *t)
{
	cc_feats_free(&t->f);
	free(t->all.m);
	free(t->bounds);
	cd_normtext_free(&t->n);
}

int cd_compliance_features(const struct cd_compliance *c, const char *text, size_t len,
			   struct cd_buf *out)
{
	struct text_feats t = { .c = c, .out = out };
	int rc;

	if ((rc = text_open(&t, text, len)) == 0)
		rc = feature_line(c, &t.n, 0, t.n.len, t.bounds, t.nbounds, &t.all, &t.f, out);
	text_close(&t);
	return rc;
}

static int window_line(const struct cc_window *w, void *arg)
{
	struct text_feats *t = arg;

	if (t->out->len)
		cd_buf_printf(t->out, "\n");
	return feature_line(t->c, &t->n, w->from, w->to, w->bounds, w->nbounds, &t->all, &t->f,
			    t->out);
}

int cd_compliance_window_features(const struct cd_compliance *c, const char *text, size_t len,
				  struct cd_buf *out)
{
	struct text_feats t = { .c = c, .out = out };
	int rc;

	if ((rc = text_open(&t, text, len)) == 0)
		rc = cc_each_window(c, &t.n, t.bounds, t.nbounds, &t.all, window_line, &t);
	text_close(&t);
	return rc;
}
