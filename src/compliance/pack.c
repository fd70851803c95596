/*
 * pack.c - read compliance packs: libconfig files with named term lists
 * (per language) and rules that combine them. Every problem is reported
 * with the file and line, and a pack with one problem is not used.
 */
#include "config.h"

#include <dirent.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/compliance_impl.h"
#include "candor/normalize.h"
#include "candor/util.h"

static const char *const families[] = {
	"incentive", "positive_only", "gating", "change_remove", "pressure",
	"marketing", "links", "one_request", "other",
};

struct loader {
	struct cd_compliance *c;
	const char *file;
	const char *prefix;     /* before every list name; NULL: none */
	struct cd_errors *errs;
	int failed, oom;
};

static void report(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	struct cd_error e = { .code = CD_ECONFIG };
	va_list ap;

	snprintf(e.file, sizeof(e.file), "%s", ld->file);
	e.line = s ? (int)config_setting_source_line(s) : 0;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	cd_errors_add(ld->errs, &e);
	ld->failed = 1;
}

static char *dup_str(struct loader *ld, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		ld->oom = ld->failed = 1;
	return d;
}

/* ---- terms ----------------------------------------------------------- */

/* Add one term, written as in the pack ("review*"), to LIST. */
static void add_term(struct loader *ld, int list, const char *written,
		     const config_setting_t *where)
{
	size_t n = strlen(written);
	unsigned flags = 0;
	struct cd_normtext norm;
	struct cc_term *t;
	const char *body = written;
	size_t a = 0, b;

	if (n && written[0] == '*') {
		flags |= TERM_OPEN_START;
		body++;
		n--;
	}
	if (n && body[n - 1] == '*') {
		flags |= TERM_OPEN_END;
		n--;
	}
	if (memchr(body, '*', n)) {
		report(ld, where, "term \"%s\": '*' may only start or end a term", written);
		return;
	}
	if (cd_normalize(body, n, 0, &norm) < 0) {
		ld->oom = ld->failed = 1;
		return;
	}
	while (a < norm.len && (norm.s[a] == ' ' || norm.s[a] == '\n'))
		a++;
	for (b = norm.len; b > a && (norm.s[b - 1] == ' ' || norm.s[b - 1] == '\n'); b--)
		;
	if (b == a) {
		report(ld, where, "term \"%s\" is empty once normalized", written);
	} else if (CD_GROW(ld->c->terms, ld->c->nterms, ld->c->capterms) < 0 ||
		   !(ld->c->terms[ld->c->nterms].text = strndup(norm.s + a, b - a))) {
		ld->oom = ld->failed = 1;
	} else {
		t = &ld->c->terms[ld->c->nterms++];
		t->len = b - a;
		t->list = list;
		t->flags = flags;
		t->next = -1;
	}
	cd_normtext_free(&norm);
}

/* "include = [ NAME, ... ]": a match of one of the lists named counts
 * as one of LIST's too. It does not chain (check_refs). */
static void include_lists(struct loader *ld, int list, const config_setting_t *inc, const char *name)
{
	int n = config_setting_type(inc) == CONFIG_TYPE_ARRAY ? config_setting_length(inc) : 0;

	if (ld->prefix) {
		report(ld, inc, "terms.%s.include: only a pack's term lists may include others", name);
		return;
	}
	if (n < 1 || n > RULE_MAX_LISTS) {
		report(ld, inc, "terms.%s.include must be an array of 1 to %d term list names", name,
		       RULE_MAX_LISTS);
		return;
	}
	for (int k = 0; k < n; k++) {
		const char *other = config_setting_get_string_elem(inc, (unsigned)k);
		int from = other ? cc_list(ld->c, other) : -1;

		if (!other) {
			report(ld, inc, "terms.%s.include: every element must be a term list name", name);
			continue;
		}
		if (from < 0) {
			ld->oom = ld->failed = 1;
			return;
		}
		if (from == list) {
			report(ld, inc, "terms.%s.include: a list cannot include itself", name);
			continue;
		}
		ld->c->lists[list].includes[ld->c->lists[list].nincludes++] = from;
	}
}

static void load_list(struct loader *ld, const config_setting_t *g)
{
	const char *name = config_setting_name(g);
	char full[256];
	int list;

	snprintf(full, sizeof(full), "%s%s", ld->prefix ? ld->prefix : "", name);
	if ((list = cc_list(ld->c, full)) < 0) {
		ld->oom = ld->failed = 1;
		return;
	}
	if (ld->prefix) {
		uint32_t h = 2166136261u;

		/* the model's features hash the name it was trained with */
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		ld->c->lists[list].hash = h;
		ld->c->lists[list].group = 1;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		report(ld, g, "terms.%s must be a group of languages, like { en = [ ... ]; }", name);
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *lang = config_setting_get_elem(g, (unsigned)i);
		const char *ln = config_setting_name(lang);

		if (strcmp(ln, "shadows") == 0 && config_setting_type(lang) == CONFIG_TYPE_BOOL) {
			ld->c->lists[list].shadows = config_setting_get_bool(lang);
			continue;
		}
		if (strcmp(ln, "include") == 0) {
			include_lists(ld, list, lang, name);
			continue;
		}
		if (config_setting_type(lang) != CONFIG_TYPE_ARRAY) {
			report(ld, lang, "terms.%s.%s must be an array of strings", name, ln);
			continue;
		}
		for (int k = 0; k < config_setting_length(lang); k++) {
			config_setting_t *e = config_setting_get_elem(lang, (unsigned)k);

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				report(ld, lang, "terms.%s.%s: every term must be a string", name, ln);
			else
				add_term(ld, list, config_setting_get_string(e), lang);
		}
	}
}

int cc_load_lists(struct cd_compliance *c, const config_setting_t *setting, const char *file,
		  const char *prefix, struct cd_errors *errs)
{
	struct loader ld = { .c = c, .file = file, .prefix = prefix, .errs = errs };

	for (int i = 0; i < config_setting_length(setting); i++)
		load_list(&ld, config_setting_get_elem(setting, (unsigned)i));
	if (ld.oom)
		return CD_ENOMEM;
	return ld.failed ? CD_ECONFIG : 0;
}

/* ---- rules ----------------------------------------------------------- */

/* A list of term-list names (ANY, NEAR, ALL, UNLESS) into OUT. Lists not
 * yet defined are looked up once every pack is read (see check_refs). */
static int get_lists(struct loader *ld, const config_setting_t *r, const char *key,
		     int *out, int max, const char *id)
{
	config_setting_t *a = config_setting_get_member(r, key);
	int n = 0;

	if (!a)
		return 0;
	if (config_setting_type(a) != CONFIG_TYPE_ARRAY || config_setting_length(a) == 0 ||
	    config_setting_length(a) > max) {
		report(ld, a, "rule %s: %s must be an array of 1 to %d term list names", id, key, max);
		return -1;
	}
	for (int i = 0; i < config_setting_length(a); i++) {
		const char *name = config_setting_get_string_elem(a, (unsigned)i);
		int l = name ? cc_list(ld->c, name) : -1;

		if (!name) {
			report(ld, a, "rule %s: %s holds a non-string", id, key);
			return -1;
		}
		if (l < 0) {
			ld->oom = ld->failed = 1;
			return -1;
		}
		out[n++] = l;
	}
	return n;
}

/* A rule's optional list of lists (KEY): how many, 0 when absent or
 * broken (a broken one is reported). */
static int optional_lists(struct loader *ld, const config_setting_t *r, const char *key, int *out,
			  const char *id)
{
	int n = get_lists(ld, r, key, out, RULE_MAX_LISTS, id);

	return n < 0 ? 0 : n;
}

static char **get_strings(struct loader *ld, const config_setting_t *r, const char *key,
			  size_t *n)
{
	config_setting_t *a = config_setting_get_member(r, key);
	char **v;

	*n = 0;
	if (!a)
		return NULL;
	if (config_setting_type(a) != CONFIG_TYPE_ARRAY) {
		report(ld, a, "%s must be an array of strings", key);
		return NULL;
	}
	v = calloc((size_t)config_setting_length(a) + 1, sizeof(*v));
	if (!v) {
		ld->oom = ld->failed = 1;
		return NULL;
	}
	for (int i = 0; i < config_setting_length(a); i++) {
		const char *s = config_setting_get_string_elem(a, (unsigned)i);

		if (!s)
			report(ld, a, "%s holds a non-string", key);
		else if ((v[*n] = dup_str(ld, s)))
			(*n)++;
	}
	return v;
}

static const char *get_str(struct loader *ld, const config_setting_t *r, const char *key,
			   const char *def, const char *id)
{
	const char *v = NULL;

	if (!config_setting_lookup_string(r, key, &v)) {
		if (config_setting_get_member(r, key))
			report(ld, config_setting_get_member(r, key), "rule %s: %s must be a string", id, key);
		else if (!def)
			report(ld, r, "rule %s: missing %s", id, key);
		v = def;
	}
	return v ? v : "";
}

static int known_family(const char *f)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(f, families[i]) == 0)
			return 1;
	return 0;
}

static void check_rule_keys(struct loader *ld, const config_setting_t *r, const char *id)
{
	static const char *const keys[] = {
		"id", "family", "severity", "message", "suggestion", "any", "near", "all",
		"within", "scope", "unless", "unless_clause", "turns", "defer", "defer_around", "links",
		"channels", "reminders", "yields", "yields_unless",
	};

	for (int i = 0; i < config_setting_length(r); i++) {
		const char *k = config_setting_name(config_setting_get_elem(r, (unsigned)i));
		size_t j = 0;

		while (j < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[j], k) != 0)
			j++;
		if (j == sizeof(keys) / sizeof(keys[0]))
			report(ld, config_setting_get_elem(r, (unsigned)i), "rule %s: unknown setting \"%s\"", id, k);
	}
}

/* Which kind of rule R is: exactly one of any, near, all, links, reminders. */
static void rule_kind(struct loader *ld, const config_setting_t *r, struct cc_rule *u)
{
	int n_any = get_lists(ld, r, "any", u->lists, RULE_MAX_LISTS, u->id), n, kinds = 0;
	int reminders;

	if (n_any > 0) {
		u->kind = CC_ANY;
		u->nlists = n_any;
		kinds++;
	}
	if ((n = get_lists(ld, r, "near", u->lists, 2, u->id)) != 0) {
		if (n != 2 && n > 0)
			report(ld, r, "rule %s: near needs exactly two term lists", u->id);
		u->kind = CC_NEAR;
		u->nlists = n;
		kinds++;
	}
	if ((n = get_lists(ld, r, "all", u->lists, RULE_MAX_LISTS, u->id)) != 0) {
		u->kind = CC_ALL;
		u->nlists = n;
		kinds++;
	}
	if (config_setting_get_member(r, "links")) {
		u->allow = get_strings(ld, r, "links", &u->nallow);
		u->kind = CC_LINKS;
		kinds++;
	}
	if (config_setting_lookup_bool(r, "reminders", &reminders)) {
		if (reminders)
			report(ld, r, "rule %s: \"reminders = true\" says nothing; leave it out", u->id);
		u->kind = CC_REMINDERS;
		kinds++;
	}
	if (kinds != 1)
		report(ld, r, "rule %s: give exactly one of any, near, all, links or reminders", u->id);
}

/* Rule R's "yields" into U (its kind known): true, false or "apart"
 * (a near or all rule only), and only for a rule with wording for the
 * model to judge. */
static void load_yields(struct loader *ld, const config_setting_t *r, struct cc_rule *u)
{
	const config_setting_t *y = config_setting_get_member(r, "yields");
	const char *s;

	if (!y)
		return;
	if (config_setting_type(y) == CONFIG_TYPE_BOOL) {
		u->yields = config_setting_get_bool(y) ? CC_YIELDS_ALWAYS : CC_YIELDS_NEVER;
	} else if ((s = config_setting_get_string(y)) && strcmp(s, "apart") == 0) {
		u->yields = CC_YIELDS_APART;
		if (u->kind != CC_NEAR && u->kind != CC_ALL)
			report(ld, y, "rule %s: yields = \"apart\" needs words in two places "
			       "(a near or all rule)", u->id);
	} else {
		report(ld, y, "rule %s: yields must be true, false or \"apart\"", u->id);
	}
	if ((u->kind == CC_LINKS || u->kind == CC_REMINDERS) && u->yields)
		report(ld, r, "rule %s: a links or reminders rule has no wording for the model to "
		       "judge (yields)", u->id);
}

static void load_rule(struct loader *ld, const config_setting_t *r, const char *pack)
{
	struct cc_rule *u;
	const char *scope = "near", *sev;
	int within = 60;

	if (config_setting_type(r) != CONFIG_TYPE_GROUP) {
		report(ld, r, "each rule must be a group { id = ...; ... }");
		return;
	}
	if (CD_GROW(ld->c->rules, ld->c->nrules, ld->c->caprules) < 0) {
		ld->oom = ld->failed = 1;
		return;
	}
	u = &ld->c->rules[ld->c->nrules++];
	u->id = dup_str(ld, get_str(ld, r, "id", NULL, "(no id)"));
	if (!u->id)
		return;
	check_rule_keys(ld, r, u->id);
	for (size_t i = 0; i + 1 < ld->c->nrules; i++)
		if (strcmp(ld->c->rules[i].id, u->id) == 0)
			report(ld, r, "rule id \"%s\" is used twice", u->id);
	u->pack = dup_str(ld, pack);
	u->family = dup_str(ld, get_str(ld, r, "family", NULL, u->id));
	if (u->family && !known_family(u->family))
		report(ld, r, "rule %s: unknown family \"%s\"", u->id, u->family);
	sev = get_str(ld, r, "severity", "error", u->id);
	if (strcmp(sev, "error") != 0 && strcmp(sev, "warning") != 0)
		report(ld, r, "rule %s: severity must be \"error\" or \"warning\"", u->id);
	u->severity = dup_str(ld, sev);
	u->error = strcmp(sev, "error") == 0;
	u->message = dup_str(ld, get_str(ld, r, "message", NULL, u->id));
	u->suggestion = dup_str(ld, get_str(ld, r, "suggestion", "", u->id));
	config_setting_lookup_int(r, "within", &within);
	if (within < 1 || within > 2000)
		report(ld, config_setting_get_member(r, "within"), "rule %s: within must be 1 to 2000 characters", u->id);
	u->within = within;
	config_setting_lookup_string(r, "scope", &scope);
	if (strcmp(scope, "near") != 0 && strcmp(scope, "sentence") != 0)
		report(ld, config_setting_get_member(r, "scope"), "rule %s: scope must be \"near\" or \"sentence\"", u->id);
	u->sentence = strcmp(scope, "sentence") == 0;
	u->nunless = optional_lists(ld, r, "unless", u->unless, u->id);
	u->nunless_clause = optional_lists(ld, r, "unless_clause", u->unless_clause, u->id);
	u->nturns = optional_lists(ld, r, "turns", u->turns, u->id);
	u->ndefer = optional_lists(ld, r, "defer", u->defer, u->id);
	u->ndefer_around = optional_lists(ld, r, "defer_around", u->defer_around, u->id);
	u->channels = get_strings(ld, r, "channels", &u->nchannels);
	rule_kind(ld, r, u);
	load_yields(ld, r, u);
	u->nyields_unless = optional_lists(ld, r, "yields_unless", u->yields_unless, u->id);
	if (u->nyields_unless && !u->yields)
		report(ld, config_setting_get_member(r, "yields_unless"),
		       "rule %s: yields_unless needs a rule that yields", u->id);
	if ((u->kind == CC_LINKS || u->kind == CC_REMINDERS) && (u->ndefer || u->ndefer_around))
		report(ld, r, "rule %s: a links or reminders rule has no words to leave to the model "
		       "(defer, defer_around)", u->id);
}

/* ---- files ----------------------------------------------------------- */

static void check_top_keys(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "name", "description", "terms", "rules" };

	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		size_t j = 0;

		while (j < 4 && strcmp(keys[j], config_setting_name(s)) != 0)
			j++;
		if (j == 4)
			report(ld, s, "unknown setting \"%s\" (a pack has name, description, terms, rules)",
			       config_setting_name(s));
	}
}

static void load_file(struct loader *ld, const char *path)
{
	config_setting_t *root, *terms, *rules;
	const char *name = NULL;
	config_t cf;

	config_init(&cf);
	ld->file = path;
	if (!config_read_file(&cf, path)) {
		struct cd_error e = { .code = CD_ECONFIG };

		snprintf(e.file, sizeof(e.file), "%s", config_error_file(&cf) ? config_error_file(&cf) : path);
		e.line = config_error_line(&cf);
		snprintf(e.msg, sizeof(e.msg), "%s", config_error_text(&cf));
		cd_errors_add(ld->errs, &e);
		ld->failed = 1;
		goto out;
	}
	root = config_root_setting(&cf);
	check_top_keys(ld, root);
	if (!config_lookup_string(&cf, "name", &name) || !*name) {
		report(ld, root, "a pack needs a name");
		name = "?";
	}
	if (CD_GROW(ld->c->packs, ld->c->npacks, ld->c->cappacks) < 0 ||
	    !(ld->c->packs[ld->c->npacks] = strdup(name))) {
		ld->oom = ld->failed = 1;
		goto out;
	}
	ld->c->npacks++;
	if ((terms = config_lookup(&cf, "terms")) != NULL)
		for (int i = 0; i < config_setting_length(terms); i++)
			load_list(ld, config_setting_get_elem(terms, (unsigned)i));
	rules = config_lookup(&cf, "rules");
	if (!rules || !config_setting_is_list(rules))
		report(ld, rules ? rules : root, "a pack needs rules = ( { ... }, ... );");
	for (int i = 0; rules && i < config_setting_length(rules); i++)
		load_rule(ld, config_setting_get_elem(rules, (unsigned)i), name);
out:
	config_destroy(&cf);
}

/* How many terms list L has of its own. */
static size_t terms_of(const struct loader *ld, int l)
{
	size_t n = 0;

	for (size_t t = 0; t < ld->c->nterms; t++)
		n += ld->c->terms[t].list == l;
	return n;
}

/* A list that has no terms of its own, or includes others itself, can
 * not be included: include does not chain. */
static void check_includes(struct loader *ld)
{
	for (size_t l = 0; l < ld->c->nlists; l++) {
		const struct cc_list *x = &ld->c->lists[l];

		for (int k = 0; k < x->nincludes; k++) {
			const struct cc_list *y = &ld->c->lists[x->includes[k]];

			if (terms_of(ld, x->includes[k]) == 0 || y->nincludes) {
				struct cd_error e = { .code = CD_ECONFIG };

				snprintf(e.msg, sizeof(e.msg), "term list \"%s\" includes \"%s\", which %s",
					 x->name, y->name, y->nincludes ? "includes others (include does not chain)"
									: "no pack defines terms for");
				cd_errors_add(ld->errs, &e);
				ld->failed = 1;
			}
		}
	}
}

/* Every list a rule names must have terms by now (cc_build then notes,
 * for each rule, which lists count as its own, includes and all). */
static void check_refs(struct loader *ld)
{
	check_includes(ld);
	for (size_t l = 0; l < ld->c->nlists; l++) {
		size_t n = terms_of(ld, (int)l);

		for (size_t o = 0; o < ld->c->nlists && n == 0; o++)
			for (int k = 0; k < ld->c->lists[o].nincludes; k++)
				n += ld->c->lists[o].includes[k] == (int)l; /* said above */
		if (n == 0 && ld->c->lists[l].nincludes == 0) {
			struct cd_error e = { .code = CD_ECONFIG };

			snprintf(e.msg, sizeof(e.msg), "term list \"%s\" is named by a rule but no pack defines terms for it",
				 ld->c->lists[l].name);
			cd_errors_add(ld->errs, &e);
			ld->failed = 1;
		}
	}
}

/* Packs share their term lists, so all are read; with ONLY, the rules of
 * the others are dropped afterwards. */
static void keep_rules_of(struct cd_compliance *c, const char *const *only, size_t nonly)
{
	size_t w = 0;

	for (size_t i = 0; i < c->nrules; i++) {
		int keep = 0;

		for (size_t k = 0; k < nonly && !keep; k++)
			keep = c->rules[i].pack && strcmp(c->rules[i].pack, only[k]) == 0;
		if (keep)
			c->rules[w++] = c->rules[i];
		else
			cc_rule_free(&c->rules[i]);
	}
	c->nrules = w;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.pack files of DIR, sorted; NULL-terminated. */
static char **pack_files(const char *dir, struct loader *ld)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!dh) {
		struct cd_error e = { .code = CD_ECONFIG };

		snprintf(e.file, sizeof(e.file), "%s", dir);
		snprintf(e.msg, sizeof(e.msg), "cannot read the compliance packs directory");
		cd_errors_add(ld->errs, &e);
		ld->failed = 1;
		return NULL;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".pack") != 0)
			continue;
		if (CD_GROW(v, n, cap) < 0 || CD_GROW(v, n + 1, cap) < 0 ||
		    !(v[n] = strdup(de->d_name))) {
			ld->oom = ld->failed = 1;
			break;
		}
		v[++n] = NULL;
	}
	closedir(dh);
	if (v)
		qsort(v, n, sizeof(*v), by_name);
	return v;
}

int cd_compliance_load(const char *dir, const char *const *only, size_t nonly,
		       struct cd_compliance **out, struct cd_errors *errs)
{
	struct loader ld = { .errs = errs };
	char **files = NULL;

	*out = NULL;
	if (!(ld.c = calloc(1, sizeof(*ld.c))))
		goto oom;
	files = pack_files(dir, &ld);
	for (size_t i = 0; files && files[i]; i++) {
		char *path;

		if (!(path = cd_util_join_path(dir, files[i])))
			goto oom;
		load_file(&ld, path);
		free(path);
	}
	for (size_t i = 0; only && i < nonly; i++)
		if (!cd_compliance_has_pack(ld.c, only[i])) {
			struct cd_error e = { .code = CD_ECONFIG };

			snprintf(e.file, sizeof(e.file), "%s", dir);
			snprintf(e.msg, sizeof(e.msg), "no compliance pack \"%s\" (%s.pack)", only[i], only[i]);
			cd_errors_add(errs, &e);
			ld.failed = 1;
		}
	if (!ld.failed)
		check_refs(&ld);
	if (!ld.failed && only)
		keep_rules_of(ld.c, only, nonly);
	if (!ld.failed && cc_build(ld.c) < 0)
		ld.oom = ld.failed = 1;
	if (ld.oom)
		goto oom;
	for (size_t i = 0; files && files[i]; i++)
		free(files[i]);
	free(files);
	if (ld.failed) {
		cd_compliance_free(ld.c);
		return CD_ECONFIG;
	}
	*out = ld.c;
	return 0;
oom:
	for (size_t i = 0; files && files[i]; i++)
		free(files[i]);
	free(files);
	cd_compliance_free(ld.c);
	return CD_ENOMEM;
}
