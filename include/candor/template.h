/*
 * template.h - the Mustache engine (the official spec: variables,
 * sections, inverted sections, comments, partials with indentation,
 * changed delimiters, and dynamic partial names) and the template sets
 * campaigns use.
 *
 * A template is compiled once and rendered many times. A value is printed,
 * never evaluated, so "{{" inside customer data is harmless. In HTML mode
 * every value is escaped; {{{x}}} and {{&x}} print a value unescaped only
 * when it is marked safe (see tdata.h), and cd_template_check refuses
 * them at load time unless the name is one candor marks safe.
 *
 * A template set lives in TEMPLATES/<set>/<locale>/ with subject.mustache,
 * text.mustache and optionally html.mustache; <locale> "default" is the
 * last step of the fallback chain (zh-Hant-TW -> zh-Hant -> zh -> default).
 * Partials ({{>name}}) are looked up in the locale's directory, then the
 * set's default/, then TEMPLATES/_shared/<locale>/ and _shared/default/.
 */
#ifndef CANDOR_TEMPLATE_H
#define CANDOR_TEMPLATE_H

#include <stddef.h>

#include "candor/buf.h"
#include "candor/error.h"
#include "candor/tdata.h"

struct cd_config;
struct cd_template;
struct cd_partials;

enum cd_escape {
	CD_ESCAPE_NONE,     /* plain text: values printed as they are */
	CD_ESCAPE_HTML,     /* mail HTML: escaped; raw tags only for safe values */
	CD_ESCAPE_MUSTACHE  /* plain Mustache: escaped; raw tags print anything */
};

/* Values a rendering asked for but the data lacked (or held empty): how
 * many, and the distinct names, for "candorctl preview" to show. */
struct cd_missing {
	size_t count;
	char names[256];  /* "customer.first_name, order.date"; may end "..." */
};

/* ---- one template ---------------------------------------------------- */

/* Compile TEXT (copied); NAME (usually the file) is used in errors, which
 * carry line and column. Returns 0, CD_ETEMPLATE or CD_ENOMEM. */
int cd_template_compile(const char *name, const char *text,
			struct cd_template **out, struct cd_error *err);

void cd_template_free(struct cd_template *t);

/* The text T was compiled from, and its name (file); borrowed. */
const char *cd_template_source(const struct cd_template *t);
const char *cd_template_name(const struct cd_template *t);

/* Append the rendering of T with DATA to OUT. PARTIALS may be NULL (every
 * partial is then empty). Names with no value render empty and are
 * added to *MISSING (may be NULL; not reset). Returns 0, CD_ETEMPLATE (a partial
 * does not compile, recursion too deep, an unsafe value in a raw HTML
 * tag) or CD_ENOMEM. */
int cd_template_render(const struct cd_template *t, const struct cd_tdata *data,
		       enum cd_escape esc, struct cd_partials *partials,
		       struct cd_buf *out, struct cd_missing *missing,
		       struct cd_error *err);

/* Append S escaped as HTML text (& < > " ') to B. */
void cd_template_escape_html(struct cd_buf *b, const char *s);

/* Compile TEXT, render it without partials into a new string *OUT, free
 * the compiled form. For tests, fuzzing and one-off use. */
int cd_template_render_text(const char *name, const char *text,
			    const struct cd_tdata *data, enum cd_escape esc,
			    char **out, size_t *missing, struct cd_error *err);

/* Check T before it is used for mail: every partial it names exists and
 * compiles (recursively), and, when ESC is HTML, every raw tag names one
 * of SAFE_NAMES (NULL-terminated; may be NULL). Returns 0, CD_ETEMPLATE
 * or CD_ENOMEM. */
int cd_template_check(const struct cd_template *t, struct cd_partials *partials,
		      enum cd_escape esc, const char *const *safe_names,
		      struct cd_error *err);

/* ---- partials -------------------------------------------------------- */

/* A store of partials read from DIRS (searched in order; copied) and
 * compiled on first use. Returns NULL on out of memory. */
struct cd_partials *cd_partials_new(const char *const *dirs, size_t ndirs);

void cd_partials_free(struct cd_partials *p);

/* Add partial NAME with TEXT (both copied), ahead of any file. Returns 0,
 * CD_EINVAL (not a valid partial name) or CD_ENOMEM. */
int cd_partials_add(struct cd_partials *p, const char *name, const char *text);

/* Is NAME usable as a partial name: letters, digits, '-', '_' and '/'
 * between parts, no part starting with '.' - so it stays inside the
 * template directory. */
int cd_partials_name_ok(const char *name, size_t len);

/* The partial NAME compiled with every line indented by INDENT; *T is
 * NULL when there is no such partial. Borrowed from P. Returns 0,
 * CD_ETEMPLATE (bad name when STRICT, unreadable, or does not compile)
 * or CD_ENOMEM. */
int cd_partials_get(struct cd_partials *p, const char *name, size_t len,
		    const char *indent, size_t ilen, int strict,
		    const struct cd_template **t, struct cd_error *err);

/* The I-th partial P has read so far (I < count): its file and text;
 * 0, or CD_ENOTFOUND past the end. Borrowed. */
int cd_partials_source(const struct cd_partials *p, size_t i, const char **path,
		       const char **text);

/* ---- template sets ---------------------------------------------------- */

struct cd_templates;

struct cd_rendered {
	char *subject, *text, *html; /* html may be NULL */
	char locale[32];             /* the locale actually used */
	struct cd_missing missing;   /* values the templates asked for but lacked */
};

/* Load and check every template set the configured campaigns name, and
 * the compliance packs (cfg->packs): every template and partial a
 * campaign uses is checked against that campaign's packs, and a finding
 * of severity "error" stops the load. Problems go to ERRS (with file,
 * line and column); returns 0, CD_ETEMPLATE, CD_ECONFIG (packs) or
 * CD_ENOMEM. */
int cd_templates_load(const struct cd_config *cfg, struct cd_templates **out,
		      struct cd_errors *errs);

void cd_templates_free(struct cd_templates *t);

/* What T holds that will not stop a load but that an admin should hear
 * (candord logs them, check-config prints them): a variant whose set
 * lacks locales its campaign's control (the first variant) has, so those
 * customers would get the variant's default language. One entry per
 * variant in WARNS, with file, line and setting
 * (campaigns[i].variants[j].template). Returns how many. */
size_t cd_templates_warnings(const struct cd_templates *t, const struct cd_config *cfg,
			     struct cd_errors *warns);

/* The compliance packs loaded with T; borrowed. */
const struct cd_compliance *cd_templates_compliance(const struct cd_templates *t);

/* Render set SET for LOCALE (may be NULL) with DATA into R. Returns 0,
 * CD_ENOTFOUND (set not loaded), CD_ETEMPLATE or CD_ENOMEM. */
int cd_templates_render(const struct cd_templates *t, const char *set,
			const char *locale, const struct cd_tdata *data,
			struct cd_rendered *r, struct cd_error *err);

/* Free the strings in R. */
void cd_rendered_clear(struct cd_rendered *r);

#endif
