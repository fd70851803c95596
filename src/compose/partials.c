/*
 * partials.c - where {{>name}} finds its text: partials added in memory
 * (tests, the spec runner) or files NAME.mustache in a list of
 * directories. Each (name, indentation) pair is compiled once and kept,
 * since a standalone partial is indented line by line before it is
 * compiled (the spec's rule) and daemons render the same ones all day.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/template.h"
#include "candor/util.h"

#define MAX_PARTIAL_BYTES (1024 * 1024)

struct source {
	char *name, *text, *path; /* text NULL: looked for, not found */
};

struct compiled {
	char *name, *indent;
	struct cd_template *t;
};

struct cd_partials {
	char **dirs;
	size_t ndirs;
	struct source *src;
	size_t nsrc, capsrc;
	struct compiled *tpl;
	size_t ntpl, captpl;
};

struct cd_partials *cd_partials_new(const char *const *dirs, size_t ndirs)
{
	struct cd_partials *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (ndirs && !(p->dirs = calloc(ndirs, sizeof(*p->dirs))))
		goto fail;
	for (; p->ndirs < ndirs; p->ndirs++)
		if (!(p->dirs[p->ndirs] = strdup(dirs[p->ndirs])))
			goto fail;
	return p;
fail:
	cd_partials_free(p);
	return NULL;
}

void cd_partials_free(struct cd_partials *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndirs; i++)
		free(p->dirs[i]);
	for (size_t i = 0; i < p->nsrc; i++) {
		free(p->src[i].name);
		free(p->src[i].text);
		free(p->src[i].path);
	}
	for (size_t i = 0; i < p->ntpl; i++) {
		free(p->tpl[i].name);
		free(p->tpl[i].indent);
		cd_template_free(p->tpl[i].t);
	}
	free(p->dirs);
	free(p->src);
	free(p->tpl);
	free(p);
}

int cd_partials_name_ok(const char *name, size_t len)
{
	int part_start = 1;

	if (len == 0 || len > 200)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/') {
			if (part_start)
				return 0; /* leading, trailing or doubled '/' */
			part_start = 1;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		part_start = 0;
	}
	return !part_start;
}

static struct source *add_source(struct cd_partials *p, const char *name, size_t len)
{
	struct source *s;

	if (CD_GROW(p->src, p->nsrc, p->capsrc) < 0)
		return NULL;
	s = &p->src[p->nsrc];
	if (!(s->name = strndup(name, len)))
		return NULL;
	p->nsrc++;
	return s;
}

int cd_partials_add(struct cd_partials *p, const char *name, const char *text)
{
	struct source *s;

	if (!cd_partials_name_ok(name, strlen(name)))
		return CD_EINVAL;
	if (!(s = add_source(p, name, strlen(name))) || !(s->text = strdup(text)) ||
	    !(s->path = strdup(name)))
		return CD_ENOMEM;
	return 0;
}

/* The first DIR/NAME.mustache that exists; a missing one is remembered so
 * the disk is asked once. */
static int load_source(struct cd_partials *p, const char *name, size_t len,
		       struct source **out, struct cd_error *err)
{
	struct source *s = NULL;
	char file[256];
	int rc = 0;

	for (size_t i = 0; i < p->nsrc; i++)
		if (strlen(p->src[i].name) == len && memcmp(p->src[i].name, name, len) == 0) {
			*out = &p->src[i];
			return 0;
		}
	if (!(s = add_source(p, name, len)))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	snprintf(file, sizeof(file), "%.*s.mustache", (int)len, name);
	for (size_t i = 0; i < p->ndirs && !s->text; i++) {
		char *path = cd_util_join_path(p->dirs[i], file);

		if (!path)
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		rc = cd_util_read_file(path, MAX_PARTIAL_BYTES, &s->text, NULL, err);
		if (rc == 0)
			s->path = path;
		else
			free(path);
		if (rc == CD_ENOTFOUND)
			rc = 0;
		else if (rc < 0)
			return rc == CD_ENOMEM ? rc : CD_ETEMPLATE;
	}
	*out = s;
	return 0;
}

/* TEXT with INDENT before every line that has something after it. */
static char *indented(const char *text, const char *indent, size_t ilen)
{
	struct cd_buf b = { 0 };

	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);

		cd_buf_add(&b, indent, ilen);
		cd_buf_add(&b, line, n);
		line += n;
	}
	return cd_buf_take(&b);
}

static int compile(struct cd_partials *p, const struct source *s, const char *indent,
		   size_t ilen, const struct cd_template **t, struct cd_error *err)
{
	struct compiled *c = NULL;
	char *text = NULL;
	int rc = CD_ENOMEM;

	if (CD_GROW(p->tpl, p->ntpl, p->captpl) < 0)
		goto out;
	c = &p->tpl[p->ntpl];
	if (!(c->name = strdup(s->name)) || !(c->indent = strndup(indent, ilen)) ||
	    !(text = ilen ? indented(s->text, indent, ilen) : strdup(s->text)))
		goto out;
	if ((rc = cd_template_compile(s->path, text, &c->t, err)) < 0)
		goto out;
	p->ntpl++;
	*t = c->t;
	c = NULL;
out:
	if (rc == CD_ENOMEM)
		cd_error_set(err, rc, s->path, 0, "out of memory");
	if (rc < 0 && c) {
		free(c->name);
		free(c->indent);
		memset(c, 0, sizeof(*c));
	}
	free(text);
	return rc;
}

int cd_partials_get(struct cd_partials *p, const char *name, size_t len,
		    const char *indent, size_t ilen, int strict,
		    const struct cd_template **t, struct cd_error *err)
{
	struct source *s;
	int rc;

	*t = NULL;
	if (!cd_partials_name_ok(name, len))
		return strict ? cd_error_set(err, CD_ETEMPLATE, NULL, 0,
					     "bad partial name \"%.*s\"", (int)len, name) : 0;
	if (!indent) {
		indent = "";
		ilen = 0;
	}
	for (size_t i = 0; i < p->ntpl; i++) {
		const struct compiled *c = &p->tpl[i];

		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0 &&
		    strlen(c->indent) == ilen && memcmp(c->indent, indent, ilen) == 0) {
			*t = c->t;
			return 0;
		}
	}
	if ((rc = load_source(p, name, len, &s, err)) < 0)
		return rc;
	if (!s->text)
		return 0;
	/* compile it plain first, so errors point at the file's own columns */
	if (ilen && (rc = cd_partials_get(p, name, len, NULL, 0, strict, t, err)) < 0)
		return rc;
	return compile(p, s, indent, ilen, t, err);
}

int cd_partials_source(const struct cd_partials *p, size_t i, const char **path,
		       const char **text)
{
	for (size_t k = 0; k < p->nsrc; k++) {
		if (!p->src[k].text)
			continue;
		if (i-- == 0) {
			*path = p->src[k].path;
			*text = p->src[k].text;
			return 0;
		}
	}
	return CD_ENOTFOUND;
}
