/*
 * compliance_impl.h - what pack.c (loading rules) and compliance.c
 * (matching them) share. Nothing else includes this.
 */
#ifndef CANDOR_COMPLIANCE_IMPL_H
#define CANDOR_COMPLIANCE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "candor/compliance.h"

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
};

/* compliance.c: build the automaton once the terms are in. */
int cc_build(struct cd_compliance *c);

/* compliance.c: free what rule R holds. */
void cc_rule_free(struct cc_rule *r);

/* compliance.c: the list called NAME, added if new; -1 on out of memory. */
int cc_list(struct cd_compliance *c, const char *name);

#endif
