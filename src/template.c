/*
 * template.c - a Mustache engine in two steps: tokenize (checking that
 * sections nest, and dropping "standalone" tag lines as the spec says),
 * then render the tokens against a stack of data contexts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/template.h"
#include "candor/util.h"

#define MAX_DEPTH 64

/* ---- data ------------------------------------------------------------ */

enum tkind { TD_MAP, TD_LIST, TD_STRING, TD_BOOL };

struct cd_tdata {
	enum tkind kind;
	char *key;                 /* within a map; NULL in a list */
	char *str;                 /* TD_STRING */
	int b;                     /* TD_BOOL */
	struct cd_tdata *first, *last, *next;
};

static struct cd_tdata *node(enum tkind kind)
{
	struct cd_tdata *d = calloc(1, sizeof(*d));

	if (d)
		d->kind = kind;
	return d;
}

struct cd_tdata *cd_tdata_map(void)
{
	return node(TD_MAP);
}

static struct cd_tdata *attach(struct cd_tdata *parent, const char *key,
			       struct cd_tdata *child)
{
	if (!child)
		return NULL;
	if (key && !(child->key = strdup(key))) {
		cd_tdata_free(child);
		return NULL;
	}
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	return child;
}

int cd_tdata_set_string(struct cd_tdata *map, const char *key, const char *value)
{
	struct cd_tdata *d = node(TD_STRING);

	if (d && !(d->str = strdup(value ? value : ""))) {
		free(d);
		d = NULL;
	}
	return attach(map, key, d) ? 0 : CD_ENOMEM;
}

int cd_tdata_set_bool(struct cd_tdata *map, const char *key, int value)
{
	struct cd_tdata *d = node(TD_BOOL);

	if (d)
		d->b = !!value;
	return attach(map, key, d) ? 0 : CD_ENOMEM;
}

struct cd_tdata *cd_tdata_set_map(struct cd_tdata *map, const char *key)
{
	return attach(map, key, node(TD_MAP));
}

struct cd_tdata *cd_tdata_set_list(struct cd_tdata *map, const char *key)
{
	return attach(map, key, node(TD_LIST));
}

struct cd_tdata *cd_tdata_append_map(struct cd_tdata *list)
{
	return attach(list, NULL, node(TD_MAP));
}

void cd_tdata_free(struct cd_tdata *d)
{
	while (d) {
		struct cd_tdata *next = d->next;

		cd_tdata_free(d->first);
		free(d->key);
		free(d->str);
		free(d);
		d = next;
	}
}

static int truthy(const struct cd_tdata *d)
{
	if (!d)
		return 0;
	switch (d->kind) {
	case TD_BOOL: return d->b;
	case TD_STRING: return d->str[0] != '\0';
	case TD_LIST: return d->first != NULL;
	case TD_MAP: return 1;
	}
	return 0;
}

/* ---- tokens ---------------------------------------------------------- */

enum tok { T_TEXT, T_VAR, T_RAW, T_SECTION, T_INVERTED, T_CLOSE, T_COMMENT };

struct token {
	enum tok type;
	const char *s;   /* text, or the tag's name */
	size_t len;
	int line, col;
	size_t end;      /* sections: index of the matching close */
};

struct parser {
	const char *name, *text;
	struct token *toks;
	size_t n, cap;
	struct cd_error *err;
};

static int push(struct parser *p, struct token t)
{
	if (CD_GROW(p->toks, p->n, p->cap) < 0)
		return CD_ENOMEM;
	p->toks[p->n++] = t;
	return 0;
}

static void position(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *q = text; q < at; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*q & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static int fail_at(struct parser *p, const char *at, const char *msg)
{
	int line, col;

	position(p->text, at, &line, &col);
	return cd_error_set(p->err, CD_ETEMPLATE, p->name, line, "column %d: %s", col, msg);
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* A section, close or comment tag alone on its line takes the line with
 * it, so templates can be laid out readably without stray blank lines.
 * Returns where rendering resumes, or NULL if the tag is not standalone. */
static const char *standalone_end(const char *text, const char *open,
				  const char *after)
{
	const char *q = open;

	while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	if (q != text && q[-1] != '\n')
		return NULL;
	while (*after == ' ' || *after == '\t')
		after++;
	if (*after == '\n')
		return after + 1;
	if (after[0] == '\r' && after[1] == '\n')
		return after + 2;
	return *after == '\0' ? after : NULL;
}

static int add_text(struct parser *p, const char *s, size_t len)
{
	struct token t = { .type = T_TEXT, .s = s, .len = len };

	return len ? push(p, t) : 0;
}

/* Parse the tag starting at OPEN ("{{"); on success *NEXT is where the
 * template continues and the tag is pushed. */
static int parse_tag(struct parser *p, const char *open, const char **next,
		     size_t *text_start_trim)
{
	const char *body = open + 2, *close;
	struct token t = { 0 };
	char sigil = *body;

	position(p->text, open, &t.line, &t.col);
	if (sigil == '{') {
		close = strstr(body, "}}}");
		t.type = T_RAW;
		body++;
	} else {
		close = strstr(body, "}}");
		t.type = sigil == '#' ? T_SECTION : sigil == '^' ? T_INVERTED :
			 sigil == '/' ? T_CLOSE : sigil == '!' ? T_COMMENT :
			 sigil == '&' ? T_RAW : T_VAR;
		if (t.type != T_VAR)
			body++;
		if (sigil == '>' || sigil == '=')
			return fail_at(p, open, sigil == '>' ? "partials are not supported here"
				       : "changing delimiters is not supported here");
	}
	if (!close)
		return fail_at(p, open, "tag is not closed with }}");
	t.s = body;
	t.len = (size_t)(close - body);
	*next = close + (sigil == '{' ? 3 : 2);
	if (t.type != T_COMMENT) {
		trim(&t.s, &t.len);
		if (t.len == 0)
			return fail_at(p, open, "empty tag name");
	}
	if (t.type == T_SECTION || t.type == T_INVERTED || t.type == T_CLOSE ||
	    t.type == T_COMMENT) {
		const char *end = standalone_end(p->text, open, *next);

		if (end) {
			const char *ls = open;

			while (ls > p->text && (ls[-1] == ' ' || ls[-1] == '\t'))
				ls--;
			*text_start_trim = (size_t)(open - ls);
			*next = end;
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
	if (depth > 0) {
		struct token *o = &p->toks[stack[depth - 1]];

		return fail_tok(p, o, "section is never closed:");
	}
	return 0;
}

static int tokenize(struct parser *p)
{
	const char *pos = p->text, *open;
	int rc;

	while ((open = strstr(pos, "{{")) != NULL) {
		size_t textlen = (size_t)(open - pos), trimmed = 0;
		size_t at = p->n;
		const char *next = open;

		if ((rc = add_text(p, pos, textlen)) < 0)
			return rc;
		if ((rc = parse_tag(p, open, &next, &trimmed)) < 0)
			return rc;
		if (trimmed && at < p->n - 1) {
			p->toks[at].len -= trimmed;
			if (p->toks[at].len == 0) { /* drop an emptied text token */
				p->toks[at] = p->toks[at + 1];
				p->n--;
			}
		}
		pos = next;
	}
	if ((rc = add_text(p, pos, strlen(pos))) < 0)
		return rc;
	return check_nesting(p);
}

/* ---- rendering ------------------------------------------------------- */

struct render {
	const struct token *toks;
	const struct cd_tdata *stack[MAX_DEPTH];
	int depth;
	enum cd_escape esc;
	struct cd_buf out;
	size_t missing;
};

static const struct cd_tdata *child(const struct cd_tdata *map, const char *name,
				    size_t len)
{
	if (!map || map->kind != TD_MAP)
		return NULL;
	for (const struct cd_tdata *c = map->first; c; c = c->next)
		if (strlen(c->key) == len && memcmp(c->key, name, len) == 0)
			return c;
	return NULL;
}

/* Dotted names: the first part is searched up the context stack, the rest
 * only inside what it found (the spec's rule). */
static const struct cd_tdata *lookup(const struct render *r, const char *name,
				     size_t len, int *found)
{
	const struct cd_tdata *d = NULL;
	const char *dot = memchr(name, '.', len);
	size_t first = dot ? (size_t)(dot - name) : len;

	*found = 0;
	if (len == 1 && name[0] == '.') {
		*found = 1;
		return r->stack[r->depth - 1];
	}
	for (int i = r->depth - 1; i >= 0 && !d; i--)
		d = child(r->stack[i], name, first);
	while (d && dot) {
		const char *part = dot + 1;

		dot = memchr(part, '.', len - (size_t)(part - name));
		d = child(d, part, dot ? (size_t)(dot - part) : len - (size_t)(part - name));
	}
	*found = d != NULL;
	return d;
}

static void put_escaped(struct cd_buf *b, const char *s, enum cd_escape esc)
{
	if (esc == CD_ESCAPE_NONE) {
		cd_buf_adds(b, s);
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '&': cd_buf_adds(b, "&amp;"); break;
		case '<': cd_buf_adds(b, "&lt;"); break;
		case '>': cd_buf_adds(b, "&gt;"); break;
		case '"': cd_buf_adds(b, "&quot;"); break;
		case '\'': cd_buf_adds(b, "&#39;"); break;
		default: cd_buf_addc(b, *s);
		}
	}
}

static void render_range(struct render *r, size_t from, size_t to);

static void render_section(struct render *r, size_t i)
{
	const struct token *t = &r->toks[i];
	int found;
	const struct cd_tdata *d = lookup(r, t->s, t->len, &found);

	if (t->type == T_INVERTED) {
		if (!truthy(d))
			render_range(r, i + 1, t->end);
		return;
	}
	if (!truthy(d) || r->depth == MAX_DEPTH)
		return;
	if (d->kind == TD_LIST) {
		for (const struct cd_tdata *e = d->first; e; e = e->next) {
			r->stack[r->depth++] = e;
			render_range(r, i + 1, t->end);
			r->depth--;
		}
	} else {
		r->stack[r->depth++] = d;
		render_range(r, i + 1, t->end);
		r->depth--;
	}
}

static void render_var(struct render *r, const struct token *t)
{
	int found;
	const struct cd_tdata *d = lookup(r, t->s, t->len, &found);

	if (!d || (d->kind == TD_STRING && !d->str[0])) {
		r->missing++;
		return;
	}
	if (d->kind == TD_STRING)
		put_escaped(&r->out, d->str, t->type == T_RAW ? CD_ESCAPE_NONE : r->esc);
	else if (d->kind == TD_BOOL)
		cd_buf_adds(&r->out, d->b ? "true" : "false");
}

static void render_range(struct render *r, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct token *t = &r->toks[i];

		switch (t->type) {
		case T_TEXT:
			cd_buf_add(&r->out, t->s, t->len);
			break;
		case T_VAR:
		case T_RAW:
			render_var(r, t);
			break;
		case T_SECTION:
		case T_INVERTED:
			render_section(r, i);
			i = t->end;
			break;
		case T_CLOSE:
		case T_COMMENT:
			break;
		}
	}
}

int cd_template_render(const char *name, const char *text,
		       const struct cd_tdata *data, enum cd_escape esc,
		       char **out, size_t *missing, struct cd_error *err)
{
	struct parser p = { .name = name, .text = text, .err = err };
	struct render r = { .esc = esc };
	int rc;

	*out = NULL;
	rc = tokenize(&p);
	if (rc == CD_ENOMEM)
		cd_error_set(err, rc, name, 0, "out of memory");
	if (rc < 0)
		goto out;
	r.toks = p.toks;
	r.stack[r.depth++] = data;
	render_range(&r, 0, p.n);
	*out = cd_buf_take(&r.out);
	if (!*out) {
		rc = cd_error_set(err, CD_ENOMEM, name, 0, "out of memory");
		goto out;
	}
	if (missing)
		*missing = r.missing;
out:
	free(p.toks);
	return rc;
}
