/*
 * branches.c - see branches.h. One scan finds the top-level sections
 * and groups those that touch; each variant is then the template with
 * the unchosen sections of every group cut out, and a list of segments
 * maps its bytes back to the template's, so a finding keeps its line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/branches.h"
#include "candor/error.h"
#include "candor/util.h"

/* a top-level section, tags included: bytes [start, end) */
struct block {
	size_t start, end;
	size_t group;
};

struct scan {
	struct block *b;
	size_t n, cap;
};

/* Do sections end at A and start at B side by side: nothing but blanks
 * and at most one line break between them? A blank line starts a new
 * paragraph, which may well render with the one before. */
static int side_by_side(const char *s, size_t a, size_t b)
{
	int lines = 0;

	for (; a < b; a++) {
		if (s[a] == '\n')
			lines++;
		else if (s[a] != ' ' && s[a] != '\t' && s[a] != '\r')
			return 0;
	}
	return lines <= 1;
}

/* The top-level sections of TEXT into S: 1 found (maybe none), 0 when
 * the tags are not plain, CD_ENOMEM. */
static int find_blocks(const char *text, size_t len, struct scan *s)
{
	size_t depth = 0, open = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		const char *end;
		char sigil;
		size_t j;

		if (text[i] != '{' || text[i + 1] != '{')
			continue;
		end = memmem(text + i + 2, len - i - 2, "}}", 2);
		if (!end)
			return 0;
		for (sigil = '\0', j = i + 2; j < (size_t)(end - text) && !sigil; j++)
			sigil = text[j] == ' ' ? '\0' : text[j];
		if (sigil == '=')
			return 0; /* new delimiters: not read here */
		if (sigil == '#' || sigil == '^') {
			if (depth++ == 0)
				open = i;
		} else if (sigil == '/') {
			if (depth == 0)
				return 0;
			if (--depth == 0) {
				if (CD_GROW(s->b, s->n, s->cap) < 0)
					return CD_ENOMEM;
				s->b[s->n++] = (struct block){ .start = open,
							       .end = (size_t)(end - text) + 2 };
			}
		}
		i = (size_t)(end - text) + 1;
	}
	return depth == 0;
}

static int add_seg(struct cd_branch_variant *v, size_t *cap, const char *text, size_t a, size_t b,
		   size_t *tcap)
{
	if (a >= b)
		return 0;
	if (CD_GROW(v->segs, v->nsegs, *cap) < 0)
		return CD_ENOMEM;
	if (v->len + (b - a) + 1 > *tcap) {
		size_t want = v->len + (b - a) + 1 + 256;
		char *t = realloc(v->text, want);

		if (!t)
			return CD_ENOMEM;
		v->text = t;
		*tcap = want;
	}
	v->segs[v->nsegs++] = (struct cd_branch_seg){ .vpos = v->len, .opos = a, .len = b - a };
	memcpy(v->text + v->len, text + a, b - a);
	v->len += b - a;
	v->text[v->len] = '\0';
	return 0;
}

/* Variant K: in every group of two sections or more, keep section
 * (K in that group's radix) and cut the others. */
static int build(const char *text, size_t len, const struct scan *s, const size_t *size,
		 size_t k, struct cd_branch_variant *v)
{
	size_t at = 0, scap = 0, tcap = 1;
	int rc;

	if (!(v->text = calloc(1, 1)))
		return CD_ENOMEM;
	for (size_t i = 0, g = (size_t)-1, keep = 0; i < s->n; i++) {
		const struct block *b = &s->b[i];

		if (b->group != g) {
			g = b->group;
			keep = i + k % size[g];
			k /= size[g];
		}
		if (size[g] < 2 || i == keep)
			continue;
		if ((rc = add_seg(v, &scap, text, at, b->start, &tcap)) < 0)
			return rc;
		at = b->end;
	}
	return add_seg(v, &scap, text, at, len, &tcap);
}

int cd_branches_split(const char *text, size_t len, size_t max, struct cd_branches *out)
{
	struct scan s = { 0 };
	size_t *size = NULL, groups = 0, total = 1;
	int rc;

	*out = (struct cd_branches){ 0 };
	if ((rc = find_blocks(text, len, &s)) <= 0 || s.n < 2)
		goto out;
	if (!(size = calloc(s.n, sizeof(*size)))) {
		rc = CD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (i > 0 && !side_by_side(text, s.b[i - 1].end, s.b[i].start))
			groups++;
		s.b[i].group = groups;
		size[groups]++;
	}
	for (size_t g = 0; g <= groups && total <= max; g++)
		total *= size[g];
	rc = 0;
	if (total < 2 || total > max || total > CD_BRANCHES_MAX_BYTES / (len + 1))
		goto out;
	if (!(out->v = calloc(total, sizeof(*out->v)))) {
		rc = CD_ENOMEM;
		goto out;
	}
	out->n = total;
	for (size_t k = 0; k < total && rc == 0; k++)
		rc = build(text, len, &s, size, k, &out->v[k]);
	if (rc < 0)
		cd_branches_free(out);
out:
	free(size);
	free(s.b);
	return rc < 0 ? rc : 0;
}

size_t cd_branches_where(const struct cd_branch_variant *v, size_t at)
{
	size_t lo = 0, hi = v->nsegs;

	if (v->nsegs == 0)
		return 0;
	/* the last segment starting at or before AT */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (v->segs[mid].vpos <= at)
			lo = mid;
		else
			hi = mid;
	}
	return v->segs[lo].opos + (at - v->segs[lo].vpos);
}

int cd_branches_place(const struct cd_branch_variant *v, size_t a, size_t b, size_t *from,
		      size_t *to)
{
	int any = 0;

	for (size_t i = 0; i < v->nsegs; i++) {
		const struct cd_branch_seg *s = &v->segs[i];
		size_t lo = a > s->opos ? a : s->opos, hi = b < s->opos + s->len ? b : s->opos + s->len;

		if (lo >= hi)
			continue;
		if (!any)
			*from = s->vpos + (lo - s->opos);
		*to = s->vpos + (hi - s->opos);
		any = 1;
	}
	return any;
}

void cd_branches_free(struct cd_branches *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->v && i < b->n; i++) {
		free(b->v[i].text);
		free(b->v[i].segs);
	}
	free(b->v);
	*b = (struct cd_branches){ 0 };
}
