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

#include "candor/compliance.h"
#include "candor/config.h"
#include "candor/template.h"
#include "candor/util.h"

#define MAX_TEMPLATE_BYTES (1024 * 1024)

struct tlocale {
	char name[32];
	struct cd_template *subject, *text, *html;
	struct cd_partials *partials;
};

struct tset {
	char *name;
	struct tlocale *locales;
	size_t n, cap;
};

struct cd_templates {
	struct tset *sets;
	size_t n, cap;
	struct cd_compliance *compliance;
};

/* Values candor itself puts in the data as HTML (written by the shop's
 * admin in the config, never by a customer). */
static const char *const safe_names[] = { "shop.footer_html", NULL };

static void add_error(struct cd_errors *errs, int code, const char *file,
		      int line, const char *msg)
{
	struct cd_error e;

	cd_error_set(&e, code, file, line, "%s", msg);
	cd_errors_add(errs, &e);
}

/* Read, compile and check one part; a missing optional part leaves *OUT
 * NULL. Problems go to ERRS. */
static void load_part(struct tlocale *l, const char *dir, const char *file,
		      int required, enum cd_escape esc, struct cd_template **out,
		      struct cd_errors *errs)
{
	char *path = cd_util_join_path(dir, file), *text = NULL;
	struct cd_error e;
	int rc;

	*out = NULL;
	if (!path) {
		add_error(errs, CD_ENOMEM, NULL, 0, "out of memory");
		return;
	}
	rc = cd_util_read_file(path, MAX_TEMPLATE_BYTES, &text, NULL, &e);
	if (rc == CD_ENOTFOUND && !required)
		goto out;
	if (rc == 0 && !cd_util_utf8_ok(text, strlen(text)))
		rc = cd_error_set(&e, CD_ETEMPLATE, path, 0, "template is not valid UTF-8");
	if (rc == 0 && (rc = cd_template_compile(path, text, out, &e)) == 0 &&
	    (rc = cd_template_check(*out, l->partials, esc, safe_names, &e)) < 0) {
		cd_template_free(*out);
		*out = NULL;
	}
	if (rc < 0)
		cd_errors_add(errs, &e);
out:
	free(text);
	free(path);
}

/* Partials: this locale, the set's default, then the shared ones. */
static int make_partials(struct tlocale *l, const char *setdir, const char *root)
{
	const char *names[2] = { l->name, "default" };
	char *dirs[4] = { 0 };
	size_t n = 0;
	int rc = CD_ENOMEM;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && strcmp(l->name, "default") == 0)
			break;
		if (!(dirs[n++] = cd_util_join_path(setdir, names[i])))
			goto out;
	}
	for (int i = 0; i < 2; i++) {
		char shared[64];

		if (i == 1 && strcmp(l->name, "default") == 0)
			break;
		snprintf(shared, sizeof(shared), "_shared/%s", names[i]);
		if (!(dirs[n++] = cd_util_join_path(root, shared)))
			goto out;
	}
	if ((l->partials = cd_partials_new((const char *const *)dirs, n)))
		rc = 0;
out:
	for (size_t i = 0; i < 4; i++)
		free(dirs[i]);
	return rc;
}

static int load_locale(struct tlocale *l, const char *root, const char *setdir,
		       const char *name, struct cd_errors *errs)
{
	size_t before = errs->count;
	char *dir;

	snprintf(l->name, sizeof(l->name), "%s", name);
	if (!(dir = cd_util_join_path(setdir, name)) || make_partials(l, setdir, root) < 0) {
		free(dir);
		return CD_ENOMEM;
	}
	load_part(l, dir, "subject.mustache", 1, CD_ESCAPE_NONE, &l->subject, errs);
	load_part(l, dir, "text.mustache", 1, CD_ESCAPE_NONE, &l->text, errs);
	load_part(l, dir, "html.mustache", 0, CD_ESCAPE_HTML, &l->html, errs);
	free(dir);
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
		if (load_locale(&set->locales[set->n++], root, dir, de->d_name, errs) < 0)
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

/* ---- wording: the compliance check of every template ------------------ */

static void check_text(const struct cd_compliance *c, const struct cd_campaign *cp,
		       const char *file, const char *text, struct cd_errors *errs)
{
	struct cd_check_opts o = { .mustache = 1, .packs = cp->npacks ? cp->packs : NULL,
				   .npacks = cp->npacks };
	struct cd_findings f = { 0 };
	struct cd_error e;

	if (cd_compliance_check(c, text, strlen(text), &o, &f) < 0) {
		add_error(errs, CD_ENOMEM, file, 0, "out of memory checking the wording");
		return;
	}
	for (size_t i = 0; i < f.count; i++) {
		const struct cd_finding *x = &f.items[i];

		if (strcmp(x->severity, "error") != 0)
			continue;
		cd_error_set(&e, CD_ETEMPLATE, file, x->line, "column %d: %s (campaign %s): %s: \"%s\"; %s",
			     x->column, x->rule, cp->name, x->message, x->excerpt, x->suggestion);
		cd_errors_add(errs, &e);
	}
	cd_findings_clear(&f);
}

static void check_set(const struct cd_templates *t, const struct cd_campaign *cp,
		      const char *name, struct cd_errors *errs)
{
	const struct tset *s = find_set(t, name);

	for (size_t i = 0; s && i < s->n; i++) {
		const struct tlocale *l = &s->locales[i];
		const struct cd_template *parts[] = { l->subject, l->text, l->html };
		const char *path, *text;

		for (size_t k = 0; k < 3; k++)
			if (parts[k])
				check_text(t->compliance, cp, cd_template_name(parts[k]),
					   cd_template_source(parts[k]), errs);
		for (size_t k = 0; l->partials && cd_partials_source(l->partials, k, &path, &text) == 0; k++)
			check_text(t->compliance, cp, path, text, errs);
	}
}

/* Load the packs, make sure every campaign names packs that exist, and
 * check each campaign's templates against its packs. */
static int check_wording(struct cd_templates *t, const struct cd_config *cfg,
			 struct cd_errors *errs)
{
	size_t before = errs->count;
	int rc = cd_compliance_load(cfg->packs, NULL, 0, &t->compliance, errs);

	if (rc == 0 && cfg->compliance_model && *cfg->compliance_model)
		rc = cd_compliance_load_model(t->compliance, cfg->compliance_model, errs);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->ncampaigns; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];

		for (size_t k = 0; k < cp->npacks; k++)
			if (!cd_compliance_has_pack(t->compliance, cp->packs[k])) {
				char msg[300];

				snprintf(msg, sizeof(msg), "campaigns[%zu].packs: no pack \"%s\" in %s",
					 i, cp->packs[k], cfg->packs);
				add_error(errs, CD_ECONFIG, cfg->path, cp->line, msg);
			}
		for (size_t j = 0; j < cp->nvariants; j++)
			check_set(t, cp, cp->variants[j].template, errs);
		if (cp->reminder && cp->reminder_template && *cp->reminder_template)
			check_set(t, cp, cp->reminder_template, errs);
	}
	return errs->count > before ? CD_ETEMPLATE : 0;
}

const struct cd_compliance *cd_templates_compliance(const struct cd_templates *t)
{
	return t->compliance;
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
	if (rc == 0)
		rc = check_wording(t, cfg, errs);
	if (rc < 0) {
		cd_templates_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int has_locale(const struct tset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->locales[i].name, name) == 0)
			return 1;
	return 0;
}

/* The locales CONTROL has and S lacks, sorted for a stable message, into
 * B (LEN bytes) as "de, fr"; how many. */
static size_t missing_locales(const struct tset *control, const struct tset *s,
			      char *b, size_t len)
{
	const char *names[64];
	size_t n = 0, off = 0;

	for (size_t i = 0; i < control->n && n < 64; i++)
		if (!has_locale(s, control->locales[i].name))
			names[n++] = control->locales[i].name;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *x = names[j];

			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	b[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(b + off, len - off, "%s%s", i ? ", " : "", names[i]);
	return n;
}

size_t cd_templates_warnings(const struct cd_templates *t, const struct cd_config *cfg,
			     struct cd_errors *warns)
{
	size_t count = 0;

	for (size_t i = 0; i < cfg->ncampaigns; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];
		const struct tset *control = cp->nvariants ? find_set(t, cp->variants[0].template) : NULL;

		for (size_t j = 1; control && j < cp->nvariants; j++) {
			const struct cd_variant *v = &cp->variants[j];
			const struct tset *s = find_set(t, v->template);
			char names[512];
			struct cd_error e;
			size_t n;

			if (!s || s == control || !(n = missing_locales(control, s, names, sizeof(names))))
				continue;
			cd_error_set(&e, CD_ETEMPLATE, cfg->path, v->line,
				     "variant \"%s\" (set \"%s\") lacks %s %s that the control "
				     "\"%s\" (set \"%s\") has: those customers get its default locale",
				     v->name, v->template, n == 1 ? "locale" : "locales", names,
				     cp->variants[0].name, control->name);
			snprintf(e.setting, sizeof(e.setting), "campaigns[%zu].variants[%zu].template",
				 i, j);
			cd_errors_add(warns, &e);
			count++;
		}
	}
	return count;
}

void cd_templates_free(struct cd_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->sets[i].n; j++) {
			struct tlocale *l = &t->sets[i].locales[j];

			cd_template_free(l->subject);
			cd_template_free(l->text);
			cd_template_free(l->html);
			cd_partials_free(l->partials);
		}
		free(t->sets[i].locales);
		free(t->sets[i].name);
	}
	free(t->sets);
	cd_compliance_free(t->compliance);
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

static int render_part(const struct tlocale *l, const struct cd_template *t,
		       const struct cd_tdata *data, enum cd_escape esc, char **out,
		       struct cd_missing *missing, struct cd_error *err)
{
	struct cd_buf b = { 0 };
	int rc;

	rc = cd_template_render(t, data, esc, l->partials, &b, missing, err);
	if (rc == 0 && !(*out = cd_buf_take(&b)))
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	cd_buf_free(&b);
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
	rc = render_part(l, l->subject, data, CD_ESCAPE_NONE, &r->subject, &r->missing, err);
	if (rc == 0)
		one_line(r->subject);
	if (rc == 0)
		rc = render_part(l, l->text, data, CD_ESCAPE_NONE, &r->text, &r->missing, err);
	if (rc == 0 && l->html)
		rc = render_part(l, l->html, data, CD_ESCAPE_HTML, &r->html, &r->missing, err);
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
