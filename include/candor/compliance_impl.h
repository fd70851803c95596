/*
 * compliance_impl.h - what pack.c (loading rules), compliance.c (matching
 * them), model.c (the learned second stage) and features.c (what the
 * model reads of a text) share. Nothing else includes this but the
 * benchmark, which times the stages apart.
 */
#ifndef CANDOR_COMPLIANCE_IMPL_H
#define CANDOR_COMPLIANCE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "candor/compliance.h"
#include "candor/normalize.h"

struct cc_model;

#define TERM_OPEN_START 1u  /* "*term": may end a longer word */
#define TERM_OPEN_END 2u    /* "term*": may begin a longer word */
#define RULE_MAX_LISTS 8

struct cc_term {
	char *text;             /* normalized */
	size_t len;
	int list;
	unsigned flags;
	uint8_t word_start, word_end; /* its first, last character is a word's */
	int32_t next;           /* next term ending in the same state or
				 * node, or -1 */
};

#define CC_OUTPUT_BIT 0x80000000u /* in DENSE and EDGE_TO: the target has output */

struct cc_state {
	uint32_t edge;          /* its first edge */
	uint32_t fail;
	int32_t out;            /* first term ending here, or -1 */
	uint32_t dict;          /* nearest state down the fail chain with output */
	uint16_t nedges;
	uint8_t hasout;         /* it or its fail chain has output */
};

/* What a step through a deep state reads, apart from the rest so it
 * stays in cache: its failure link, and its only edge inline (most deep
 * states of a trie have one), else where its edges are. */
struct cc_hot {
	uint32_t fail;
	uint32_t to;            /* one edge: its target (with CC_OUTPUT_BIT); else
				 * its first edge in EDGE_CLASS and EDGE_TO */
	uint16_t nedges;
	uint8_t cls;            /* one edge: its byte class */
};

struct cc_list {
	char *name;
	uint32_t hash;          /* FNV-1a of the name (without "model."), for
				 * the model's features */
	uint8_t group;          /* 0: the packs', 1: the model's concepts; a
				 * list shadows only lists of its group */
	int shadows;            /* hides other lists' matches inside its own */
	/* "include": a match of one of these lists counts as one of this
	 * list's too (no copy of the terms, so no second match) */
	int includes[RULE_MAX_LISTS], nincludes;
};

enum cc_kind { CC_ANY, CC_NEAR, CC_ALL, CC_LINKS, CC_REMINDERS };

/* A rule's "yields": never; always; or only a finding whose words lie in
 * different sentences ("apart": "Refund sent. Your review stays up." is
 * two statements, "a refund for your review" one offer) */
enum cc_yields { CC_YIELDS_NEVER, CC_YIELDS_ALWAYS, CC_YIELDS_APART };

struct cc_rule {
	char *id, *family, *severity, *message, *suggestion, *pack;
	enum cc_kind kind;
	int lists[RULE_MAX_LISTS], nlists;
	int unless[RULE_MAX_LISTS], nunless;
	/* beside the model, a match of DEFER in the finding's sentences, or of
	 * DEFER_AROUND there or in the sentence before or after, leaves the
	 * verdict to the model */
	int defer[RULE_MAX_LISTS], ndefer;
	int defer_around[RULE_MAX_LISTS], ndefer_around;
	/* a match of UNLESS_CLAUSE in the finding's sentence, from a dash,
	 * bracket, colon, semicolon or match of TURNS before it to a dash or
	 * bracket after, excuses it, whether or not the model runs beside;
	 * with TURNS, UNLESS lists excuse it only from that point on too */
	int unless_clause[RULE_MAX_LISTS], nunless_clause;
	int turns[RULE_MAX_LISTS], nturns;
	int within;             /* characters */
	int sentence;           /* both ends must share a sentence */
	int yields;             /* CC_YIELDS_*: whether its finding gives way
				 * when the model is sure the text is honest
				 * (its score below "yield_below") */
	/* a match of YIELDS_UNLESS in the finding's sentences keeps it
	 * standing ("Refund sent. Leave a review." asks for one) */
	int yields_unless[RULE_MAX_LISTS], nyields_unless;
	/* by list id: bit K set when a match of that list counts as one of
	 * LISTS[K] (cc_build): the rules read every match of a text, the
	 * model's concepts' too, and most are none of theirs */
	uint8_t *member;
	char **allow;           /* links: host fragments allowed */
	size_t nallow;
	char **channels;        /* the rule applies to these channels only */
	size_t nchannels;
	int error;              /* severity "error" */
};

struct cd_compliance {
	struct cc_term *terms;
	size_t nterms, capterms;
	struct cc_list *lists;
	size_t nlists, caplists;
	struct cc_rule *rules;
	size_t nrules, caprules;
	char **packs;
	size_t npacks, cappacks;
	uint8_t classes[256];   /* bytes to the classes terms use; 0: the rest */
	size_t nclasses;
	/* the automaton, compact so it stays in cache: states numbered
	 * breadth first; the first NDENSE (the shallow ones, where text
	 * spends most bytes) have full rows DENSE[state * NCLASSES +
	 * CLASS[byte]], the deeper ones their trie edges and a failure link */
	size_t nstates, ndense;
	uint32_t *dense;
	struct cc_state *states;
	struct cc_hot *hot;     /* per state, what stepping reads */
	uint8_t *edge_class;    /* edges of state s: [states[s].edge, +nedges) */
	uint32_t *edge_to;
	struct cc_model *model; /* the learned second stage, or NULL */
	/* the model's concept lists, found in the same pass as the packs'
	 * terms: lists [concept_base, concept_base + nconcepts) */
	size_t concept_base, nconcepts;
	uint64_t gate_mask;     /* concepts one of which the model needs to judge */
};

/* Term matches in normalized text. */
struct cc_match {
	uint32_t start, end;    /* normalized byte offsets, end exclusive */
	int list;
};

struct cc_matches {
	struct cc_match *m;
	size_t n, cap;
};

/* compliance.c: build the automaton and the rules' list tables once the
 * terms and rules are in. */
int cc_build(struct cd_compliance *c);

/* compliance.c: free what rule R holds. */
void cc_rule_free(struct cc_rule *r);

/* compliance.c: the list called NAME, added if new; -1 on out of memory. */
int cc_list(struct cd_compliance *c, const char *name);

/* compliance.c: every match of C's terms in S (LEN bytes, normalized),
 * sorted by start, matches inside a shadowing list's dropped, into MS
 * (emptied first). Returns 0 or CD_ENOMEM. */
int cc_find(const struct cd_compliance *c, const char *s, size_t len, struct cc_matches *ms);

/* compliance.c: the sentence ends of normalized text S, sorted, into
 * *BOUNDS (the caller frees it): each the last byte of its mark, so the
 * next sentence starts one past it. Returns 0 or CD_ENOMEM. */
int cc_sentence_ends(const char *s, size_t len, size_t **bounds, size_t *n);

/* pack.c: the term lists of SETTING (a group of named lists, as a pack's
 * "terms") into C, each name with PREFIX before it (NULL: none; a prefix
 * makes them the model's concepts, group 1); problems go to ERRS naming
 * FILE. Returns 0 or CD_ECONFIG / CD_ENOMEM. */
struct config_setting_t;
int cc_load_lists(struct cd_compliance *c, const struct config_setting_t *setting,
		  const char *file, const char *prefix, struct cd_errors *errs);

/* compliance.c: free what cc_build made, so it can build again. */
void cc_unbuild(struct cd_compliance *c);

#define CC_CONCEPT_PREFIX "model."

/* ---- the model: what features.c computes and model.c weighs ---------- */

#define CC_FEATURES_VERSION CD_COMPLIANCE_FEATURES_VERSION
#define CC_WINDOW_CHARS 400     /* longer texts are scored in windows of sentences */
#define CC_SHORT 16             /* n-grams a short window counts as having */

/* One feature occurrence: its hashed id and the normalized bytes it came
 * from. NGRAM occurrences count towards the length scaling; concept
 * features weigh 1 each. */
struct cc_feat {
	uint32_t id;
	uint32_t start, end;
	uint8_t ngram;
	float w;                /* model.c: its weight, once scored */
	int32_t slot;           /* model.c: its slot in the model, or -1 */
};

struct cc_feats {
	struct cc_feat *f;
	size_t n, cap;
	size_t ngrams;          /* how many are n-grams */
	int gate;               /* a gate concept is present: the model judges */
	/* the concept matches, for explaining a verdict */
	struct cc_matches concepts;
	/* cc_featurize_score: the model whose weights are added up as the
	 * features come, none stored; the n-grams' and the concepts' sums */
	const struct cc_model *sum_only;
	double wngram, wconcept;
};

/* features.c: the features of normalized window [FROM, TO) of N, whose
 * sentence ends are BOUNDS (NBOUNDS); ALL are C's term matches in the
 * whole of N (cc_find), of which the concepts' count. F is emptied
 * first; its concept matches hold concept numbers, not list numbers.
 * Returns 0 or CD_ENOMEM. */
int cc_featurize(const struct cd_compliance *c, const struct cd_normtext *n,
		 size_t from, size_t to, const size_t *bounds, size_t nbounds,
		 const struct cc_matches *all, struct cc_feats *f);

/* features.c: the same features as cc_featurize, weighed by model M as
 * they come instead of stored: F's gate, ngrams, wngram and wconcept
 * (the score is M's bias + wconcept + wngram * cc_ngram_value(ngrams),
 * the same number model.c computes from cc_featurize's). The n-grams are
 * not looked at when the gate is closed. F's concept matches are set as
 * by cc_featurize. Returns 0 or CD_ENOMEM. */
int cc_featurize_score(const struct cd_compliance *c, const struct cc_model *m,
		       const struct cd_normtext *n, size_t from, size_t to, const size_t *bounds,
		       size_t nbounds, const struct cc_matches *all, struct cc_feats *f);

void cc_feats_free(struct cc_feats *f);

/* model.c: the weight of feature ID in M (0 when M does not know it). */
float cc_model_weight(const struct cc_model *m, uint32_t id);

/* features.c: the id of concept feature NS ('k' present, 'm' present
 * more than once, 's' a pair in a sentence, 'o' which of a pair comes
 * first, 'd' a pair in the window, 't' a triple in a sentence) over
 * concepts A, B, Z, as many as it combines. */
uint32_t cc_concept_feature(const struct cd_compliance *c, char ns, int a, int b, int z);

/* model.c: into *W the weight in M of concept feature NS over A, B, Z
 * from M's tables (filled at load from cc_concept_feature's ids); 0 when
 * M has no table for it (ask by id then). */
int cc_model_concept_weight(const struct cc_model *m, char ns, int a, int b, int z, float *w);

/* features.c: the id of the feature "concept list NAME is present". */
uint32_t cc_concept_id(const char *name);

/* features.c: the value of an n-gram occurrence in a window of NGRAMS
 * n-gram occurrences (counts scaled by the square root of the length). */
double cc_ngram_value(size_t ngrams);

/* A window the model scores: normalized bytes [FROM, TO) of a text whose
 * sentence ends are BOUNDS. */
struct cc_window {
	size_t from, to;
	const size_t *bounds;
	size_t nbounds;
	int suffix;     /* a short text's: a later window adds to it at most
			 * sentences without a concept, so none without a
			 * review act here has one later */
};

/* model.c: call FN on each window of N (sentence ends BOUNDS, C's term
 * matches ALL) that the model scores, stopping at FN's first error,
 * which it returns, or when FN returns CC_WINDOWS_DONE (no later window
 * can matter; returns 0). A short text's window may come twice, the
 * second time without its closing sentences. */
#define CC_WINDOWS_DONE 1
int cc_each_window(const struct cd_compliance *c, const struct cd_normtext *n,
		   const size_t *bounds, size_t nbounds, const struct cc_matches *all,
		   int (*fn)(const struct cc_window *w, void *arg), void *arg);

/* model.c: score ORIG (OLEN bytes), normalized as N with sentence ends
 * BOUNDS and C's term matches ALL, with C's model; append a finding for
 * each window it holds to be a violation. A window that holds one of the
 * packs' errors among F's findings from RULES on is not scored: the text
 * is held already, there, for a reason the packs cite. */
int cc_model_check(const struct cd_compliance *c, const char *orig, size_t olen,
		   const struct cd_normtext *n, const size_t *bounds, size_t nbounds,
		   const struct cc_matches *all, size_t rules, struct cd_findings *f);

/* model.c: whether C's model is sure the text N (as for cc_model_check)
 * is honest: its best window scores below the model's "yield_below".
 * *SURE is 0 without a model, without that setting, and for a text the
 * model does not judge. Returns 0 or CD_ENOMEM. */
int cc_model_sure_honest(const struct cd_compliance *c, const struct cd_normtext *n,
			 const size_t *bounds, size_t nbounds, const struct cc_matches *all,
			 int *sure);

void cc_model_free(struct cc_model *m);


/* compliance.c: a finding of rule R over bytes [O_START, O_END) of the
 * original ORIG (OLEN bytes); one per rule and place. Returns 0 or
 * CD_ENOMEM. */
int cc_add_finding(const char *orig, size_t olen, const struct cc_rule *r, size_t o_start,
		   size_t o_end, struct cd_findings *f);

#endif
