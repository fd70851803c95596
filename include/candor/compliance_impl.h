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
	int32_t next;           /* next term ending in the same state, or -1 */
};

struct cc_list {
	char *name;
	int shadows;            /* hides other lists' matches inside its own */
};

enum cc_kind { CC_ANY, CC_NEAR, CC_ALL, CC_LINKS, CC_REMINDERS };

struct cc_rule {
	char *id, *family, *severity, *message, *suggestion, *pack;
	enum cc_kind kind;
	int lists[RULE_MAX_LISTS], nlists;
	int unless[RULE_MAX_LISTS], nunless;
	int within;             /* characters */
	int sentence;           /* both ends must share a sentence */
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
	/* the automaton: DELTA[state * NCLASSES + CLASS[byte]] */
	uint8_t classes[256];
	size_t nclasses, nstates;
	uint32_t *delta;
	int32_t *out;           /* first term ending in each state, or -1 */
	uint32_t *dict;         /* nearest state down the fail chain with output */
	uint8_t *hasout;        /* the state or its chain has output */
	struct cc_model *model; /* the learned second stage, or NULL */
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

/* compliance.c: build the automaton once the terms are in. */
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
 * *BOUNDS (the caller frees it). Returns 0 or CD_ENOMEM. */
int cc_sentence_ends(const char *s, size_t len, size_t **bounds, size_t *n);

/* pack.c: the term lists of SETTING (a group of named lists, as a pack's
 * "terms") into C; problems go to ERRS naming FILE. Returns 0 or
 * CD_ECONFIG / CD_ENOMEM. */
struct config_setting_t;
int cc_load_lists(struct cd_compliance *c, const struct config_setting_t *setting,
		  const char *file, struct cd_errors *errs);

/* ---- the model: what features.c computes and model.c weighs ---------- */

#define CC_FEATURES_VERSION CD_COMPLIANCE_FEATURES_VERSION
#define CC_WINDOW_CHARS 400     /* longer texts are scored in windows of sentences */

/* One feature occurrence: its hashed id and the normalized bytes it came
 * from. NGRAM occurrences count towards the length scaling; concept
 * features weigh 1 each. */
struct cc_feat {
	uint32_t id;
	uint32_t start, end;
	uint8_t ngram;
};

struct cc_feats {
	struct cc_feat *f;
	size_t n, cap;
	size_t ngrams;          /* how many are n-grams */
	/* the concept matches, for explaining a verdict */
	struct cc_matches concepts;
};

/* features.c: the features of normalized window [FROM, TO) of N, whose
 * sentence ends are BOUNDS (NBOUNDS), with concept lists of CONCEPTS.
 * F is emptied first. Returns 0 or CD_ENOMEM. */
int cc_featurize(const struct cd_compliance *concepts, const struct cd_normtext *n,
		 size_t from, size_t to, const size_t *bounds, size_t nbounds,
		 struct cc_feats *f);

void cc_feats_free(struct cc_feats *f);

/* features.c: the id of the feature "concept list NAME is present". */
uint32_t cc_concept_id(const char *name);

/* features.c: the value of an n-gram occurrence in a window of NGRAMS
 * n-gram occurrences (counts scaled by the square root of the length). */
double cc_ngram_value(size_t ngrams);

/* model.c: score the text of D's normalized form with C's model; append a
 * finding for each window it holds to be a violation. */
int cc_model_check(const struct cd_compliance *c, const char *orig, size_t olen,
		   const struct cd_normtext *n, const size_t *bounds, size_t nbounds,
		   struct cd_findings *f);

void cc_model_free(struct cc_model *m);

/* model.c: the checker holding M's concept lists (borrowed). */
const struct cd_compliance *cc_model_concepts(const struct cc_model *m);

/* compliance.c: a finding of rule R over bytes [O_START, O_END) of the
 * original ORIG (OLEN bytes); one per rule and place. Returns 0 or
 * CD_ENOMEM. */
int cc_add_finding(const char *orig, size_t olen, const struct cc_rule *r, size_t o_start,
		   size_t o_end, struct cd_findings *f);

#endif
