/*
 * template.h - Mustache templates and the template sets campaigns use.
 *
 * A template set lives in TEMPLATES/<set>/<locale>/ with subject.mustache,
 * text.mustache and optionally html.mustache; <locale> "default" is the
 * last step of the fallback chain (zh-Hant-TW -> zh-Hant -> zh -> default).
 *
 * Rendering covers variables ({{x}}, {{{x}}}, {{&x}}, dotted names),
 * sections over lists, maps and booleans, inverted sections and comments.
 * A value is printed, never evaluated, so "{{" inside data is harmless.
 */
#ifndef CANDOR_TEMPLATE_H
#define CANDOR_TEMPLATE_H

#include <stddef.h>

#include "candor/error.h"

struct cd_config;

/* ---- data given to templates ----------------------------------------- */

struct cd_tdata; /* a tree of maps, lists, strings and booleans */

/* A new empty map; NULL on out of memory. */
struct cd_tdata *cd_tdata_map(void);

/* Add KEY (copied) to MAP with a copy of the string VALUE (NULL or "" is
 * falsy). Returns 0 or CD_ENOMEM. */
int cd_tdata_set_string(struct cd_tdata *map, const char *key, const char *value);

/* Add KEY with a boolean. */
int cd_tdata_set_bool(struct cd_tdata *map, const char *key, int value);

/* Add KEY with a new map or list and return it (owned by MAP). */
struct cd_tdata *cd_tdata_set_map(struct cd_tdata *map, const char *key);
struct cd_tdata *cd_tdata_set_list(struct cd_tdata *map, const char *key);

/* Append a new map to LIST and return it (owned by LIST). */
struct cd_tdata *cd_tdata_append_map(struct cd_tdata *list);

/* Free a tree; NULL is fine. */
void cd_tdata_free(struct cd_tdata *d);

/* ---- rendering -------------------------------------------------------- */

enum cd_escape { CD_ESCAPE_NONE, CD_ESCAPE_HTML };

/* Render the template TEXT (NAME is used in errors) with DATA. On success
 * *OUT is a new NUL-terminated string. Names with no value render empty
 * and are counted in *MISSING (may be NULL). Returns 0, CD_ETEMPLATE (ERR
 * has file, line and column) or CD_ENOMEM. */
int cd_template_render(const char *name, const char *text,
		       const struct cd_tdata *data, enum cd_escape esc,
		       char **out, size_t *missing, struct cd_error *err);

/* ---- template sets ---------------------------------------------------- */

struct cd_templates;

struct cd_rendered {
	char *subject, *text, *html; /* html may be NULL */
	char locale[32];             /* the locale actually used */
	size_t missing;              /* values the templates asked for but lacked */
};

/* Load and check every template set the configured campaigns name.
 * Problems go to ERRS (with file and line); returns 0, CD_ETEMPLATE or
 * CD_ENOMEM. */
int cd_templates_load(const struct cd_config *cfg, struct cd_templates **out,
		      struct cd_errors *errs);

void cd_templates_free(struct cd_templates *t);

/* Render set SET for LOCALE (may be NULL) with DATA into R. */
int cd_templates_render(const struct cd_templates *t, const char *set,
			const char *locale, const struct cd_tdata *data,
			struct cd_rendered *r, struct cd_error *err);

/* Free the strings in R. */
void cd_rendered_clear(struct cd_rendered *r);

#endif
