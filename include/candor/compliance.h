/*
 * compliance.h - the checker that keeps bought, gated and pressured
 * reviews out of every mail. Rules come from pack files (etc/packs/NAME.pack,
 * libconfig syntax; see candorctl(1), lint); text is normalized first
 * (normalize.h) and all terms of all rules are found in one pass of an
 * Aho-Corasick automaton, so the cost does not grow with the number of
 * rules. Findings point at the original text.
 *
 * A second stage, a model learned from a labelled corpus (model.c,
 * features.c), reads what no rule names: it scores hashed word and
 * character n-grams and multilingual concepts (a review act, a benefit, a
 * condition, independence...) of the same normalized text. It counts as
 * the pack "model"; its findings carry rule ids "model.<family>".
 *
 * A struct cd_compliance is immutable once loaded (its model included)
 * and owns everything a finding borrows (rule id, message, suggestion).
 */
#ifndef CANDOR_COMPLIANCE_H
#define CANDOR_COMPLIANCE_H

#include <stddef.h>

#include "candor/buf.h"
#include "candor/error.h"

/* The name under which the model is selected, like a pack. */
#define CD_COMPLIANCE_MODEL_PACK "model"

/* What features.c emits; a model records the version it was trained on.
 * Bump it whenever the features change (and retrain). */
#define CD_COMPLIANCE_FEATURES_VERSION 3

/* The model file's name beside the packs, the default. */
#define CD_COMPLIANCE_MODEL_FILE "model.bin"

struct cd_compliance;

struct cd_finding {
	const char *rule, *family, *severity, *message, *suggestion; /* borrowed */
	size_t start, end;      /* byte offsets in the original text */
	int line, column;       /* 1-based; column counts characters */
	char excerpt[160];      /* the original wording, on one line */
	char detail[160];       /* model findings: score and the concepts that
				 * drove it, as found in the text; else "" */
	int yields;             /* a rule's finding the model may overrule */
};

struct cd_findings {
	struct cd_finding *items;
	size_t count, cap;
	size_t errors;          /* findings of severity "error" */
};

struct cd_check_opts {
	int mustache;           /* text is a template: ignore its {{tags}} */
	const char *channel;    /* the order's channel, for channel rules; NULL */
	char *const *packs;     /* only these packs' rules; NULL: all */
	size_t npacks;
	/* rules only: the model finds nothing. Rendered mail is checked
	 * so, as the model's score moves with the words around it and
	 * customer data (an order called "ok", a product's name) must not
	 * make it hold the shop's wording; the model judges the templates
	 * as written, when they load, and lint. With defer it is still
	 * asked whether a rule that yields gives way, of the text as given,
	 * so an order's data can make such a rule stand (the safe side). */
	int no_model;
	/* with no_model: judge as the packs do beside the model, whose rules
	 * leave negated sentences to it ("defer") and, where it is sure the
	 * text is honest, give way if they "yield" (the model is asked that
	 * much). For rendered mail, whose template the model judged as
	 * written when it loaded; and "candorctl lint --rules-beside-model". */
	int defer;
	/* keep the findings of rules that yield to a sure model ("yields")
	 * whatever it says: for training, which weighs them with its own
	 * scores ("candorctl lint --scores") */
	int no_yield;
};

/* Load every *.pack in DIR, or only those named in ONLY (NONLY names;
 * an unknown name is an error). Problems go to ERRS with file and line.
 * Returns 0, CD_ECONFIG or CD_ENOMEM. */
int cd_compliance_load(const char *dir, const char *const *only, size_t nonly,
		       struct cd_compliance **out, struct cd_errors *errs);

void cd_compliance_free(struct cd_compliance *c);

/* Load the model file PATH (see model.c for its format) into C, which
 * must not have one yet. A file that is missing, truncated, of another
 * format or features version, or whose checksum is wrong, is refused
 * with an error naming the file. Returns 0, CD_ECONFIG or CD_ENOMEM. */
int cd_compliance_load_model(struct cd_compliance *c, const char *path,
			     struct cd_errors *errs);

/* "FILE: N features, trained on LABEL" for a log line, or "none". */
const char *cd_compliance_model_info(const struct cd_compliance *c, char *buf, size_t len);

/* The model's score of TEXT (LEN bytes; the highest of its windows), on
 * the scale of its threshold, into *OUT. Returns 0, CD_EINVAL (no model
 * loaded) or CD_ENOMEM. */
int cd_compliance_model_score(const struct cd_compliance *c, const char *text, size_t len,
			      double *out);

/* The model's threshold: a text scoring this or more is a violation. */
double cd_compliance_model_threshold(const struct cd_compliance *c);

/* For training: the concept lists of a model's source file PATH
 * (etc/model/concepts.conf) alone, as a checker without rules. Returns
 * 0, CD_ECONFIG or CD_ENOMEM. */
int cd_compliance_load_concepts(const char *path, struct cd_compliance **out,
				struct cd_errors *errs);

/* For training: the features the model reads in TEXT (LEN bytes, one
 * window however long), as "id:value" pairs separated by spaces (concept
 * features "id:value:c"), then a tab and 1 or 0: whether a gate concept
 * is present (without one, the model holds any text clean), appended to
 * OUT. C is a model's checker or one from cd_compliance_load_concepts.
 * Returns 0 or CD_ENOMEM. */
int cd_compliance_features(const struct cd_compliance *c, const char *text, size_t len,
			   struct cd_buf *out);

/* For training: the features of each window candor scores in TEXT (see
 * src/compliance/model.c), one line each as cd_compliance_features
 * writes a text's, separated by newlines; nothing for a text without a
 * word. Returns 0 or CD_ENOMEM. */
int cd_compliance_window_features(const struct cd_compliance *c, const char *text, size_t len,
				  struct cd_buf *out);


/* Is pack NAME loaded? ("model": is a model loaded?) */
int cd_compliance_has_pack(const struct cd_compliance *c, const char *name);

/* Check TEXT (LEN bytes) and append what it finds to F. Returns 0 or
 * CD_ENOMEM. */
int cd_compliance_check(const struct cd_compliance *c, const char *text, size_t len,
			const struct cd_check_opts *opts, struct cd_findings *f);

/* The channels whose orders get no reminder under PACKS (NPACKS names;
 * none: all packs), at most MAX of them into NAMES (borrowed from C):
 * Amazon allows one request per order. Returns how many. */
size_t cd_compliance_no_reminder(const struct cd_compliance *c, char *const *packs,
				 size_t npacks, const char **names, size_t max);

/* Free F's items and empty it. */
void cd_findings_clear(struct cd_findings *f);

/* "rule (line:col): message" for every finding, "; "-separated, into BUF
 * (for a held message's reason or a log line). */
const char *cd_findings_summary(const struct cd_findings *f, char *buf, size_t len);


#endif
