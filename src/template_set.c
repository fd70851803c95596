/*
 * template_set.c - find, load and check the template sets that campaigns
 * name, and pick the best locale for an order. Everything is read at load
 * time so a broken template stops a start or a reload, not a send.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "candor/config.h"
#include "candor/template.h"
#include "candor/util.h"

#define MAX_TEMPLATE_BYTES (1024 * 1024)

struct tlocale {
	char name[32];
	char *subject, *text, *html;
	char *dir;
};

struct tset {
	char *name;
	struct tlocale *locales;
	size_t n, cap;
};

struct cd_templates {
	struct tset *sets;
	size_t n, cap;
};

static void add_error(struct cd_errors *errs, int code, const char *file,
		      int line, const char *msg)
{
	struct cd_error e;

	cd_error_set(&e, code, file, line, "%s", msg);
	cd_errors_add(errs, &e);
}

/* Read a whole template file; NULL with a message in ERRS on failure. A
 * missing optional file is not an error. */
static char *read_template(const char *dir, const char *name, int required,
			   struct cd_errors *errs)
{
	char *path = cd_util_join_path(dir, name), *text = NULL;
	struct cd_error e;
	FILE *fp = NULL;
	long size;

	if (!path)
		return NULL;
	fp = fopen(path, "rb");
	if (!fp) {
		if (required || errno != ENOENT) {
			cd_error_set(&e, CD_ETEMPLATE, path, 0, "cannot read template: %s",
				     strerror(errno));
			cd_errors_add(errs, &e);
		}
		goto out;
	}
	if (fseek(fp, 0, SEEK_END) < 0 || (size = ftell(fp)) < 0 ||
	    size > MAX_TEMPLATE_BYTES || fseek(fp, 0, SEEK_SET) < 0) {
		add_error(errs, CD_ETEMPLATE, path, 0, "template is larger than 1 MB or unreadable");
		goto out;
	}
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, fp) != (size_t)size) {
		add_error(errs, CD_ETEMPLATE, path, 0, "cannot read template");
		free(text);
		text = NULL;
		goto out;
	}
	text[size] = '\0';
	if (strlen(text) != (size_t)size) {
		add_error(errs, CD_ETEMPLATE, path, 0, "template contains a NUL byte");
		free(text);
		text = NULL;
	}
out:
	if (fp)
		fclose(fp);
	free(path);
	return text;
}

/* Parse-check TEXT by rendering it with no data. */
static int check_syntax(const char *dir, const char *file, const char *text,
			struct cd_errors *errs)
{
	struct cd_tdata *empty = cd_tdata_map();
	char *path = cd_util_join_path(dir, file), *out = NULL;
	struct cd_error e;
	int rc;

	if (!empty || !path) {
		rc = CD_ENOMEM;
		goto out;
	}
	rc = cd_template_render(path, text, empty, CD_ESCAPE_HTML, &out, NULL, &e);
	if (rc < 0)
		cd_errors_add(errs, &e);
out:
	free(out);
	free(path);
	cd_tdata_free(empty);
	return rc;
}

static int load_locale(struct tlocale *l, const char *setdir, const char *name,
		       struct cd_errors *errs)
{
	size_t before = errs->count;

	snprintf(l->name, sizeof(l->name), "%s", name);
	l->dir = cd_util_join_path(setdir, name);
	if (!l->dir)
		return CD_ENOMEM;
	l->subject = read_template(l->dir, "subject.mustache", 1, errs);
	l->text = read_template(l->dir, "text.mustache", 1, errs);
	l->html = read_template(l->dir, "html.mustache", 0, errs);
	if (l->subject)
		check_syntax(l->dir, "subject.mustache", l->subject, errs);
	if (l->text)
		check_syntax(l->dir, "text.mustache", l->text, errs);
	if (l->html)
		check_syntax(l->dir, "html.mustache", l->html, errs);
	return errs->count > before ? CD_ETEMPLATE : 0;
}

static int locale_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 32)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

static int load_set(struct tset *set, const char *root, const char *name,
		    const char *cfgfile, int cfgline, struct cd_errors *errs)
{
	char *dir = cd_util_join_path(root, name), msg[512];
	struct dirent *de;
	DIR *dh = NULL;
	int rc = 0, has_default = 0;

	if (!dir || !(set->name = strdup(name))) {
		rc = CD_ENOMEM;
		goto out;
	}
	dh = opendir(dir);
	if (!dh) {
		snprintf(msg, sizeof(msg), "template set \"%s\" not found: %s: %s", name, dir,
			 strerror(errno));
		add_error(errs, CD_ETEMPLATE, cfgfile, cfgline, msg);
		rc = CD_ETEMPLATE;
		goto out;
	}
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.' || !locale_name_ok(de->d_name))
			continue;
		if (CD_GROW(set->locales, set->n, set->cap) < 0) {
			rc = CD_ENOMEM;
			goto out;
		}
		if (load_locale(&set->locales[set->n++], dir, de->d_name, errs) < 0)
			rc = CD_ETEMPLATE;
		has_default |= strcmp(de->d_name, "default") == 0;
	}
	if (!has_default && rc == 0) {
		snprintf(msg, sizeof(msg), "template set \"%s\" has no default/ locale in %s",
			 name, dir);
		add_error(errs, CD_ETEMPLATE, cfgfile, cfgline, msg);
		rc = CD_ETEMPLATE;
	}
out:
	if (dh)
		closedir(dh);
	free(dir);
	return rc;
}

static const struct tset *find_set(const struct cd_templates *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->sets[i].name, name) == 0)
			return &t->sets[i];
	return NULL;
}

/* Load set NAME once, however many variants name it. */
static int need_set(struct cd_templates *t, const struct cd_config *cfg,
		    const char *name, int line, struct cd_errors *errs)
{
	if (find_set(t, name))
		return 0;
	if (CD_GROW(t->sets, t->n, t->cap) < 0)
		return CD_ENOMEM;
	return load_set(&t->sets[t->n++], cfg->templates, name, cfg->path, line, errs);
}

int cd_templates_load(const struct cd_config *cfg, struct cd_templates **out,
		      struct cd_errors *errs)
{
	struct cd_templates *t = calloc(1, sizeof(*t));
	int rc = 0, r;

	*out = NULL;
	if (!t)
		return CD_ENOMEM;
	for (size_t i = 0; i < cfg->ncampaigns && rc != CD_ENOMEM; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];

		for (size_t j = 0; j < cp->nvariants; j++) {
			r = need_set(t, cfg, cp->variants[j].template, cp->variants[j].line, errs);
			if (r < 0 && rc == 0)
				rc = r;
		}
		if (cp->reminder && cp->reminder_template && *cp->reminder_template) {
			r = need_set(t, cfg, cp->reminder_template, cp->line, errs);
			if (r < 0 && rc == 0)
				rc = r;
		}
	}
	if (rc < 0) {
		cd_templates_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void cd_templates_free(struct cd_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->sets[i].n; j++) {
			struct tlocale *l = &t->sets[i].locales[j];

			free(l->subject);
			free(l->text);
			free(l->html);
			free(l->dir);
		}
		free(t->sets[i].locales);
		free(t->sets[i].name);
	}
	free(t->sets);
	free(t);
}

static const struct tlocale *find_locale(const struct tset *s, const char *name,
					 size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *ln = s->locales[i].name;

		if (strlen(ln) != len)
			continue;
		size_t k = 0;
		for (; k < len; k++) {
			char a = (char)tolower((unsigned char)ln[k]);
			char b = (char)tolower((unsigned char)name[k]);

			if (a == '_')
				a = '-';
			if (b == '_')
				b = '-';
			if (a != b)
				break;
		}
		if (k == len)
			return &s->locales[i];
	}
	return NULL;
}

/* zh-Hant-TW -> zh-Hant -> zh -> default */
static const struct tlocale *pick_locale(const struct tset *s, const char *locale)
{
	size_t len = locale ? strlen(locale) : 0;

	while (len > 0) {
		const struct tlocale *l = find_locale(s, locale, len);

		if (l)
			return l;
		while (len > 0 && locale[len - 1] != '-' && locale[len - 1] != '_')
			len--;
		if (len > 0)
			len--;
	}
	return find_locale(s, "default", 7);
}

static int render_part(const struct tlocale *l, const char *file,
		       const char *text, const struct cd_tdata *data,
		       enum cd_escape esc, char **out, size_t *missing,
		       struct cd_error *err)
{
	char *path = cd_util_join_path(l->dir, file);
	size_t m = 0;
	int rc;

	if (!path)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	rc = cd_template_render(path, text, data, esc, out, &m, err);
	*missing += m;
	free(path);
	return rc;
}

/* A subject is one line: template line breaks become spaces and the ends
 * are trimmed, so "subject.mustache" may end with a newline like any file. */
static void one_line(char *s)
{
	size_t n, start = 0;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	while (s[start] == ' ')
		start++;
	memmove(s, s + start, n - start + 1);
}

int cd_templates_render(const struct cd_templates *t, const char *set,
			const char *locale, const struct cd_tdata *data,
			struct cd_rendered *r, struct cd_error *err)
{
	const struct tset *s = find_set(t, set);
	const struct tlocale *l;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!s || !(l = pick_locale(s, locale)))
		return cd_error_set(err, CD_ENOTFOUND, NULL, 0, "template set \"%s\" is not loaded", set);
	snprintf(r->locale, sizeof(r->locale), "%s", l->name);
	rc = render_part(l, "subject.mustache", l->subject, data, CD_ESCAPE_NONE,
			 &r->subject, &r->missing, err);
	if (rc == 0)
		one_line(r->subject);
	if (rc == 0)
		rc = render_part(l, "text.mustache", l->text, data, CD_ESCAPE_NONE,
				 &r->text, &r->missing, err);
	if (rc == 0 && l->html)
		rc = render_part(l, "html.mustache", l->html, data, CD_ESCAPE_HTML,
				 &r->html, &r->missing, err);
	if (rc < 0)
		cd_rendered_clear(r);
	return rc;
}

void cd_rendered_clear(struct cd_rendered *r)
{
	free(r->subject);
	free(r->text);
	free(r->html);
	r->subject = r->text = r->html = NULL;
}
