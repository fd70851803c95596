/*
 * compliance.h - the checker that keeps bought, gated and pressured
 * reviews out of every mail. Rules come from pack files (etc/packs/NAME.pack,
 * libconfig syntax; see candorctl(1), lint); text is normalized first
 * (normalize.h) and all terms of all rules are found in one pass of an
 * Aho-Corasick automaton, so the cost does not grow with the number of
 * rules. Findings point at the original text.
 *
 * A struct cd_compliance is immutable once loaded and owns everything a
 * finding borrows (rule id, message, suggestion).
 */
#ifndef CANDOR_COMPLIANCE_H
#define CANDOR_COMPLIANCE_H

#include <stddef.h>

#include "candor/error.h"

struct cd_compliance;

struct cd_finding {
	const char *rule, *family, *severity, *message, *suggestion; /* borrowed */
	size_t start, end;      /* byte offsets in the original text */
	int line, column;       /* 1-based; column counts characters */
	char excerpt[160];      /* the original wording, on one line */
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
};

/* Load every *.pack in DIR, or only those named in ONLY (NONLY names;
 * an unknown name is an error). Problems go to ERRS with file and line.
 * Returns 0, CD_ECONFIG or CD_ENOMEM. */
int cd_compliance_load(const char *dir, const char *const *only, size_t nonly,
		       struct cd_compliance **out, struct cd_errors *errs);

void cd_compliance_free(struct cd_compliance *c);


/* Is pack NAME loaded? */
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
