/*
 * template.c - a Mustache engine in two steps: compile (tokenize, follow
 * delimiter changes, drop "standalone" tag lines as the spec says, match
 * sections), then render the tokens against a stack of data contexts.
 * Partials come from a store (partials.c) that compiles each one once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/template.h"
#include "candor/util.h"

#define MAX_DEPTH 128     /* nested sections while rendering */
#define MAX_PARTIALS 64   /* partials inside partials */
#define MAX_DELIM 16

enum tok { T_TEXT, T_VAR, T_RAW, T_SECTION, T_INVERTED, T_CLOSE, T_COMMENT,
	   T_PARTIAL };

struct token {
	enum tok type;
	const char *s;     /* text, or the tag's name */
	size_t len;
	int line, col;
	size_t end;        /* sections: index of the matching close */
	const char *indent;/* standalone partials: the line's indentation */
	size_t ilen;
	int dynamic;       /* {{>*name}}: the name is looked up in the data */
};

struct cd_template {
	char *name, *text;
	struct token *toks;
	size_t n;
};

/* ---- compiling ------------------------------------------------------- */

struct parser {
	const char *name, *text;
	struct token *toks;
	size_t n, cap;
	char otag[MAX_DELIM + 1], ctag[MAX_DELIM + 1];
	size_t olen, clen;
	const char *at;    /* line and col are counted up to here */
	int line, col;
	struct cd_error *err;
};

static int push(struct parser *p, struct token t)
{
	if (CD_GROW(p->toks, p->n, p->cap) < 0)
		return CD_ENOMEM;
	p->toks[p->n++] = t;
	return 0;
}

/* Positions only move forward, so counting is linear in the text. */
static void position(struct parser *p, const char *to, int *line, int *col)
{
	for (; p->at < to; p->at++) {
		if (*p->at == '\n') {
			p->line++;
			p->col = 1;
		} else if (((unsigned char)*p->at & 0xC0) != 0x80) {
			p->col++;
		}
	}
	*line = p->line;
	*col = p->col;
}

static int fail_at(struct parser *p, const char *at, const char *msg)
{
	int line, col;

	position(p, at, &line, &col);
	return cd_error_set(p->err, CD_ETEMPLATE, p->name, line, "column %d: %s", col, msg);
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len && (blank(**s) || **s == '\r' || **s == '\n')) {
		(*s)++;
		(*len)--;
	}
	while (*len && (blank((*s)[*len - 1]) || (*s)[*len - 1] == '\r' ||
			(*s)[*len - 1] == '\n'))
		(*len)--;
}

/* A tag alone on its line (but for blanks) takes the line with it, so
 * templates can be laid out readably. Returns where the text resumes, or
 * NULL if the tag is not standalone. *LS is where its line starts. */
static const char *standalone_end(const char *text, const char *open,
				  const char *after, const char **ls)
{
	const char *q = open;

	while (q > text && blank(q[-1]))
		q--;
	if (q != text && q[-1] != '\n')
		return NULL;
	*ls = q;
	while (blank(*after))
		after++;
	if (*after == '\n')
		return after + 1;
	if (after[0] == '\r' && after[1] == '\n')
		return after + 2;
	return *after == '\0' ? after : NULL;
}

static enum tok tag_type(char sigil)
{
	switch (sigil) {
	case '#': return T_SECTION;
	case '^': return T_INVERTED;
	case '/': return T_CLOSE;
	case '!': return T_COMMENT;
	case '&': case '{': return T_RAW;
	case '>': return T_PARTIAL;
	default: return T_VAR;
	}
}

/* "{{=<% %>=}}": the body between the '='s names the new pair. */
static int set_delimiters(struct parser *p, const char *open, const char *s, size_t len)
{
	size_t a = 0, b;

	trim(&s, &len);
	while (a < len && !blank(s[a]))
		a++;
	b = a;
	while (b < len && blank(s[b]))
		b++;
	if (a == 0 || b == a || b == len || a > MAX_DELIM || len - b > MAX_DELIM ||
	    memchr(s, '=', len) || memchr(s + b, ' ', len - b) || memchr(s + b, '\t', len - b))
		return fail_at(p, open, "a delimiter change needs two delimiters without "
			       "blanks or '=', like {{=<% %>=}}");
	memcpy(p->otag, s, a);
	p->otag[a] = '\0';
	p->olen = a;
	memcpy(p->ctag, s + b, len - b);
	p->ctag[len - b] = '\0';
	p->clen = len - b;
	return 0;
}

/* Find the end of the tag whose body starts at BODY: the closing
 * delimiter, preceded by '}' or '=' for those sigils. */
static const char *find_close(const struct parser *p, const char *body, char sigil,
			      size_t *closelen)
{
	char want[MAX_DELIM + 2];
	size_t n = 0;

	if (sigil == '{' || sigil == '=')
		want[n++] = sigil == '{' ? '}' : '=';
	memcpy(want + n, p->ctag, p->clen + 1);
	*closelen = n + p->clen;
	return strstr(body, want);
}

static int parse_name(struct parser *p, const char *open, struct token *t)
{
	if (t->type == T_COMMENT)
		return 0;
	trim(&t->s, &t->len);
	if (t->type == T_PARTIAL && t->len && t->s[0] == '*') {
		t->dynamic = 1;
		t->s++;
		t->len--;
		trim(&t->s, &t->len);
	}
	if (t->len == 0)
		return fail_at(p, open, "empty tag name");
	if (t->type == T_PARTIAL && !t->dynamic && !cd_partials_name_ok(t->s, t->len))
		return fail_at(p, open, "a partial name may hold only letters, digits, "
			       "'-', '_' and '/' between parts");
	return 0;
}

/* Parse the tag at OPEN; *NEXT is where the text continues and *TRIM how
 * much of the preceding text (a standalone line's indentation) to drop. */
static int parse_tag(struct parser *p, const char *open, const char **next,
		     size_t *trimmed)
{
	const char *body = open + p->olen, *close, *ls;
	struct token t = { 0 };
	char sigil = *body;
	size_t closelen;
	int rc;

	position(p, open, &t.line, &t.col);
	t.type = tag_type(sigil);
	close = find_close(p, body + (sigil == '{' || sigil == '='), sigil, &closelen);
	if (!close)
		return fail_at(p, open, "tag is not closed");
	if (t.type != T_VAR || sigil == '=')
		body++;
	t.s = body;
	t.len = (size_t)(close - body);
	*next = close + closelen;
	if (sigil == '=') {
		if ((rc = set_delimiters(p, open, t.s, t.len)) < 0)
			return rc;
		t.type = T_COMMENT; /* renders nothing, may be standalone */
	} else if ((rc = parse_name(p, open, &t)) < 0) {
		return rc;
	}
	if (t.type != T_VAR && t.type != T_RAW) {
		const char *end = standalone_end(p->text, open, *next, &ls);

		if (end) {
			*trimmed = (size_t)(open - ls);
			*next = end;
			t.indent = ls;
			t.ilen = *trimmed;
		}
	}
	return push(p, t);
}

/* An error about a tag, placed where the tag opens. */
static int fail_tok(struct parser *p, const struct token *t, const char *msg)
{
	return cd_error_set(p->err, CD_ETEMPLATE, p->name, t->line,
			    "column %d: %s '%.*s'", t->col, msg, (int)t->len, t->s);
}

/* Match each close with its open; report the first mismatch. */
static int check_nesting(struct parser *p)
{
	size_t stack[MAX_DEPTH];
	int depth = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct token *t = &p->toks[i];

		if (t->type == T_SECTION || t->type == T_INVERTED) {
			if (depth == MAX_DEPTH)
				return fail_tok(p, t, "sections nested too deeply at");
			stack[depth++] = i;
		} else if (t->type == T_CLOSE) {
			struct token *o;

			if (depth == 0)
				return fail_tok(p, t, "closing tag without an opening one:");
			o = &p->toks[stack[--depth]];
			if (o->len != t->len || memcmp(o->s, t->s, t->len) != 0)
				return fail_tok(p, t, "section closed by the wrong name:");
			o->end = i;
		}
	}
	if (depth > 0)
		return fail_tok(p, &p->toks[stack[depth - 1]], "section is never closed:");
	return 0;
}

static int add_text(struct parser *p, const char *s, size_t len)
{
	struct token t = { .type = T_TEXT, .s = s, .len = len };

	return len ? push(p, t) : 0;
}

static int tokenize(struct parser *p)
{
	const char *pos = p->text, *open;
	int rc;

	while ((open = strstr(pos, p->otag)) != NULL) {
		size_t trimmed = 0, before = p->n;
		const char *next = open;

		if ((rc = add_text(p, pos, (size_t)(open - pos))) < 0 ||
		    (rc = parse_tag(p, open, &next, &trimmed)) < 0)
			return rc;
		/* the standalone line's indentation lives in the text token just
		 * added; drop it (and the token, if nothing else is left) */
		if (trimmed && p->n - before == 2) {
			struct token *txt = &p->toks[before];

			txt->len -= trimmed;
			if (txt->len == 0) {
				*txt = p->toks[before + 1];
				p->n--;
			}
		}
		pos = next;
	}
	if ((rc = add_text(p, pos, strlen(pos))) < 0)
		return rc;
	return check_nesting(p);
}

int cd_template_compile(const char *name, const char *text,
			struct cd_template **out, struct cd_error *err)
{
	struct cd_template *t = calloc(1, sizeof(*t));
	struct parser p = { .name = name, .err = err, .otag = "{{", .ctag = "}}",
			    .olen = 2, .clen = 2, .line = 1, .col = 1 };
	int rc = CD_ENOMEM;

	*out = NULL;
	if (!t || !(t->name = strdup(name)) || !(t->text = strdup(text)))
		goto out;
	p.text = p.at = t->text;
	if ((rc = tokenize(&p)) < 0)
		goto out;
	t->toks = p.toks;
	t->n = p.n;
	p.toks = NULL;
	*out = t;
	t = NULL;
out:
	if (rc == CD_ENOMEM)
		cd_error_set(err, rc, name, 0, "out of memory");
	free(p.toks);
	cd_template_free(t);
	return rc;
}

void cd_template_free(struct cd_template *t)
{
	if (!t)
		return;
	free(t->toks);
	free(t->text);
	free(t->name);
	free(t);
}

const char *cd_template_source(const struct cd_template *t)
{
	return t->text;
}

const char *cd_template_name(const struct cd_template *t)
{
	return t->name;
}

/* ---- rendering ------------------------------------------------------- */

struct render {
	const struct cd_tdata *stack[MAX_DEPTH];
	int depth, pdepth;
	enum cd_escape esc;
	struct cd_partials *partials;
	struct cd_buf *out;
	struct cd_missing *missing;
	struct cd_error *err;
};

/* Dotted names: the first part is searched up the context stack, the rest
 * only inside what it found (the spec's rule). */
static const struct cd_tdata *lookup(const struct render *r, const char *name,
				     size_t len)
{
	const struct cd_tdata *d = NULL;
	const char *dot = memchr(name, '.', len), *end = name + len;
	size_t first = dot ? (size_t)(dot - name) : len;

	if (len == 1 && name[0] == '.')
		return r->stack[r->depth - 1];
	for (int i = r->depth - 1; i >= 0 && !d; i--)
		d = cd_tdata_get(r->stack[i], name, first);
	while (d && dot) {
		const char *part = dot + 1;

		dot = memchr(part, '.', (size_t)(end - part));
		d = cd_tdata_get(d, part, dot ? (size_t)(dot - part) : (size_t)(end - part));
	}
	return d;
}

void cd_template_escape_html(struct cd_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		cd_buf_add(b, run, (size_t)(s - run));
		cd_buf_adds(b, rep);
		run = s + 1;
	}
	cd_buf_add(b, run, (size_t)(s - run));
}

static int fail_render(struct render *r, const struct cd_template *t,
		       const struct token *k, const char *msg)
{
	return cd_error_set(r->err, CD_ETEMPLATE, t->name, k->line, "column %d: %s '%.*s'",
			    k->col, msg, (int)k->len, k->s);
}

static int render_range(struct render *r, const struct cd_template *t,
			size_t from, size_t to);

static int render_section(struct render *r, const struct cd_template *t, size_t i)
{
	const struct token *k = &t->toks[i];
	const struct cd_tdata *d = lookup(r, k->s, k->len);
	int rc = 0;

	if (k->type == T_INVERTED)
		return cd_tdata_truthy(d) ? 0 : render_range(r, t, i + 1, k->end);
	if (!cd_tdata_truthy(d))
		return 0;
	if (r->depth == MAX_DEPTH)
		return fail_render(r, t, k, "sections nested too deeply at");
	if (d->kind == CD_TD_LIST) {
		for (const struct cd_tdata *e = d->first; e && rc == 0; e = e->next) {
			r->stack[r->depth++] = e;
			rc = render_range(r, t, i + 1, k->end);
			r->depth--;
		}
		return rc;
	}
	r->stack[r->depth++] = d;
	rc = render_range(r, t, i + 1, k->end);
	r->depth--;
	return rc;
}

static void note_missing(struct cd_missing *m, const char *name, size_t len)
{
	size_t used = strlen(m->names), room = sizeof(m->names) - used;
	const char *p = m->names;

	m->count++;
	/* the names already noted, as ", "-separated whole words */
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && memcmp(p, name, len) == 0)
			return;
		p += n;
		p += strspn(p, ", ");
	}
	if (used + len + 6 < sizeof(m->names))
		snprintf(m->names + used, room, "%s%.*s", used ? ", " : "", (int)len, name);
	else if (used + 4 < sizeof(m->names) && !strstr(m->names, "..."))
		snprintf(m->names + used, room, "...");
}

static int render_var(struct render *r, const struct cd_template *t,
		      const struct token *k)
{
	const struct cd_tdata *d = lookup(r, k->s, k->len);

	if (!d || d->kind == CD_TD_NULL || (d->kind == CD_TD_STRING && !d->str[0])) {
		if (r->missing)
			note_missing(r->missing, k->s, k->len);
		return 0;
	}
	if (d->kind == CD_TD_BOOL) {
		cd_buf_adds(r->out, d->b ? "true" : "false");
	} else if (d->kind == CD_TD_STRING) {
		if (k->type == T_VAR && r->esc != CD_ESCAPE_NONE) {
			cd_template_escape_html(r->out, d->str);
		} else if (k->type == T_RAW && r->esc == CD_ESCAPE_HTML && !d->safe) {
			return fail_render(r, t, k, "an HTML template may print only "
					   "values marked safe unescaped; write {{name}}, not");
		} else {
			cd_buf_adds(r->out, d->str);
		}
	}
	return 0;
}

/* {{>*name}}: the partial's name is a string in the data. */
static int partial_name(struct render *r, const struct token *k, const char **name,
			size_t *len)
{
	const struct cd_tdata *d;

	*name = k->s;
	*len = k->len;
	if (!k->dynamic)
		return 1;
	d = lookup(r, k->s, k->len);
	if (!d || d->kind != CD_TD_STRING || !cd_partials_name_ok(d->str, strlen(d->str)))
		return 0;
	*name = d->str;
	*len = strlen(d->str);
	return 1;
}

static int render_partial(struct render *r, const struct cd_template *t,
			  const struct token *k)
{
	const struct cd_template *pt = NULL;
	const char *name;
	size_t len;
	int rc;

	if (!r->partials || !partial_name(r, k, &name, &len))
		return 0;
	if (r->pdepth == MAX_PARTIALS)
		return fail_render(r, t, k, "partials nested too deeply at");
	rc = cd_partials_get(r->partials, name, len, k->indent, k->ilen, 0, &pt, r->err);
	if (rc < 0 || !pt)
		return rc;
	r->pdepth++;
	rc = render_range(r, pt, 0, pt->n);
	r->pdepth--;
	return rc;
}

static int render_range(struct render *r, const struct cd_template *t,
			size_t from, size_t to)
{
	int rc = 0;

	for (size_t i = from; i < to && rc == 0; i++) {
		const struct token *k = &t->toks[i];

		switch (k->type) {
		case T_TEXT:
			cd_buf_add(r->out, k->s, k->len);
			break;
		case T_VAR:
		case T_RAW:
			rc = render_var(r, t, k);
			break;
		case T_SECTION:
		case T_INVERTED:
			rc = render_section(r, t, i);
			i = k->end;
			break;
		case T_PARTIAL:
			rc = render_partial(r, t, k);
			break;
		case T_CLOSE:
		case T_COMMENT:
			break;
		}
	}
	return rc;
}

int cd_template_render(const struct cd_template *t, const struct cd_tdata *data,
		       enum cd_escape esc, struct cd_partials *partials,
		       struct cd_buf *out, struct cd_missing *missing, struct cd_error *err)
{
	struct render r = { .esc = esc, .partials = partials, .out = out, .err = err,
			    .missing = missing };
	int rc;

	r.stack[r.depth++] = data;
	rc = render_range(&r, t, 0, t->n);
	if (rc == 0 && out->oom)
		rc = cd_error_set(err, CD_ENOMEM, t->name, 0, "out of memory");
	return rc;
}

int cd_template_render_text(const char *name, const char *text,
			    const struct cd_tdata *data, enum cd_escape esc,
			    char **out, size_t *missing, struct cd_error *err)
{
	struct cd_missing m = { 0 };
	struct cd_template *t = NULL;
	struct cd_buf b = { 0 };
	int rc;

	*out = NULL;
	if ((rc = cd_template_compile(name, text, &t, err)) < 0)
		return rc;
	rc = cd_template_render(t, data, esc, NULL, &b, &m, err);
	if (missing)
		*missing = m.count;
	if (rc == 0 && !(*out = cd_buf_take(&b)))
		rc = cd_error_set(err, CD_ENOMEM, name, 0, "out of memory");
	cd_buf_free(&b);
	cd_template_free(t);
	return rc;
}

/* ---- checking before use --------------------------------------------- */

static int safe_name(const struct token *k, const char *const *names)
{
	for (; names && *names; names++)
		if (strlen(*names) == k->len && memcmp(*names, k->s, k->len) == 0)
			return 1;
	return 0;
}

/* Partials already checked, so recursion (direct or mutual) ends. */
struct seen {
	const struct cd_template *t[256];
	size_t n;
};

static int seen_before(struct seen *s, const struct cd_template *t)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i] == t)
			return 1;
	if (s->n < sizeof(s->t) / sizeof(s->t[0]))
		s->t[s->n++] = t;
	return 0;
}

static int check(const struct cd_template *t, struct cd_partials *p, enum cd_escape esc,
		 const char *const *safe, struct seen *seen, struct cd_error *err)
{
	struct render r = { .err = err };
	int rc = 0;

	for (size_t i = 0; i < t->n && rc == 0; i++) {
		const struct token *k = &t->toks[i];
		const struct cd_template *pt = NULL;

		if (k->type == T_RAW && esc == CD_ESCAPE_HTML && !safe_name(k, safe))
			rc = fail_render(&r, t, k, "an HTML template may print only values "
					 "marked safe unescaped; write {{name}}, not");
		if (k->type != T_PARTIAL || k->dynamic || rc < 0 || !p)
			continue;
		rc = cd_partials_get(p, k->s, k->len, NULL, 0, 1, &pt, err);
		if (rc == 0 && !pt)
			rc = fail_render(&r, t, k, "no such partial:");
		if (rc == 0 && !seen_before(seen, pt))
			rc = check(pt, p, esc, safe, seen, err);
	}
	return rc;
}

int cd_template_check(const struct cd_template *t, struct cd_partials *partials,
		      enum cd_escape esc, const char *const *safe_names,
		      struct cd_error *err)
{
	struct seen seen = { .n = 0 };

	seen_before(&seen, t);
	return check(t, partials, esc, safe_names, &seen, err);
}
