/* branches.h - the ways a Mustache template can render, for the model.
 *
 * A template's sections are conditional, and a run of sections that stand
 * next to each other (only blanks and at most one line break between
 * them) is most often a switch:
 * "{{#comment}}...{{/comment}}{{^comment}}.{{/comment}}", or one
 * paragraph per complaint reason. Judged all at once, such a template is
 * denser than any mail it sends; so the learned model judges each
 * variant: the template with one section of every run kept and the rest
 * of the run cut. The packs still judge the whole template. */
#ifndef CANDOR_BRANCHES_H
#define CANDOR_BRANCHES_H

#include <stddef.h>

/* bytes [vpos, vpos + len) of a variant are bytes [opos, opos + len) of
 * the template */
struct cd_branch_seg {
	size_t vpos, opos, len;
};

struct cd_branch_variant {
	char *text;             /* NUL-terminated */
	size_t len;
	struct cd_branch_seg *segs;
	size_t nsegs;
};

struct cd_branches {
	struct cd_branch_variant *v;
	size_t n;
};

/* The variants of template TEXT (LEN bytes) into OUT, which the caller
 * frees with cd_branches_free: none (OUT->n == 0) when it has no run of
 * two sections or more, when they would be more than MAX or hold more
 * than CD_BRANCHES_MAX_BYTES in all, or when its tags are not plain (a
 * delimiter change, an unclosed section): then the template is judged as
 * a whole. Returns 0 or CD_ENOMEM. */
#define CD_BRANCHES_MAX_BYTES (1024 * 1024)
int cd_branches_split(const char *text, size_t len, size_t max, struct cd_branches *out);

/* The template's byte for byte AT of variant V (AT may be V->len). */
size_t cd_branches_where(const struct cd_branch_variant *v, size_t at);

/* The bytes of variant V that template bytes [A, B) became, into
 * [*FROM, *TO): 0 when none of them is in V (all in sections it cut). */
int cd_branches_place(const struct cd_branch_variant *v, size_t a, size_t b, size_t *from,
		      size_t *to);

/* Free B's variants and empty it; B may be NULL. */
void cd_branches_free(struct cd_branches *b);

#endif
