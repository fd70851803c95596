/*
 * config.c - read candor.conf with libconfig and turn it into a validated
 * struct cd_config. Validation runs in two passes: the schema walk rejects
 * unknown names and wrong types anywhere in the file (the schema is every
 * section's field list), then each section's loader reads its values,
 * applies defaults and checks meaning (config_parse.h). Both passes report
 * every problem, not just the first. The top-level settings are this
 * file's own section.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "candor/config.h"
#include "candor/config_parse.h"
#include "candor/log.h"
#include "candor/util.h"

#define DEFAULT_TEMPLATES "/etc/candor/templates"

#define K_STRING CD_CFG_STRING
#define K_INT CD_CFG_INT
#define K_BOOL CD_CFG_BOOL
#define K_GROUP CD_CFG_GROUP
#define K_LIST CD_CFG_LIST

static const char *const kind_names[] = {
	[K_STRING] = "a string (in double quotes)", [K_INT] = "a whole number",
	[K_BOOL] = "true or false", [K_GROUP] = "a group { ... }",
	[K_LIST] = "a list ( ... )",
};

const char *const cd_config_trigger_names[3] = {
	[CD_TRIGGER_SHIPPED] = "shipped",
	[CD_TRIGGER_DELIVERED] = "delivered",
	[CD_TRIGGER_NEGATIVE_FEEDBACK] = "negative_feedback",
};

const char *const cd_config_tls_names[3] = {
	[CD_TLS_AUTO] = "auto", [CD_TLS_REQUIRED] = "required", [CD_TLS_NONE] = "none",
};

struct cd_config_loader {
	const char *file;
	int flags;            /* CD_CONFIG_* */
	char *dir;            /* directory of the file, for relative paths */
	struct cd_errors *errs;
	int failed;
	int oom;
};

void cd_cfg_report(struct cd_config_loader *ld, const config_setting_t *s,
		   const char *path, const char *fmt, ...)
{
	struct cd_error e;
	va_list ap;

	cd_error_clear(&e);
	e.code = CD_ECONFIG;
	snprintf(e.file, sizeof(e.file), "%s", ld->file);
	e.line = s ? (int)config_setting_source_line(s) : 0;
	snprintf(e.setting, sizeof(e.setting), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	ld->failed = 1;
	if (cd_errors_add(ld->errs, &e) < 0)
		ld->oom = 1;
}

void cd_cfg_oom(struct cd_config_loader *ld)
{
	ld->oom = ld->failed = 1;
}

int cd_cfg_wants(const struct cd_config_loader *ld, int flag)
{
	return (ld->flags & flag) != 0;
}

/* ---- pass 1: names and types ---------------------------------------- */

/* Call FN on every field of every section until it returns non-zero. */
static const struct cd_config_field *each_field(int (*fn)(const struct cd_config_field *, void *),
						void *arg)
{
	for (size_t s = 0; cd_config_sections[s]; s++)
		for (const struct cd_config_field *f = cd_config_sections[s]->fields; f->path; f++)
			if (fn(f, arg))
				return f;
	return NULL;
}

static int path_is(const struct cd_config_field *f, void *path)
{
	return strcmp(f->path, path) == 0;
}

static const struct cd_config_field *schema_find(const char *path)
{
	return each_field(path_is, (void *)path);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (lb >= 64 || la >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

struct suggestion {
	const char *parent, *name, *best;
	size_t plen, best_d;
};

static int closer(const struct cd_config_field *f, void *arg)
{
	struct suggestion *sg = arg;
	const char *leaf = f->path;
	size_t d;

	if (sg->plen) {
		if (strncmp(leaf, sg->parent, sg->plen) != 0 || leaf[sg->plen] != '.')
			return 0;
		leaf += sg->plen + 1;
	}
	if (strchr(leaf, '.'))
		return 0;
	if ((d = edit_distance(sg->name, leaf)) < sg->best_d) {
		sg->best_d = d;
		sg->best = leaf;
	}
	return 0;
}

/* The known sibling of an unknown name that a typo most likely meant. */
static const char *suggest(const char *parent, const char *name)
{
	struct suggestion sg = { parent, name, NULL, strlen(parent), 3 };

	each_field(closer, &sg);
	return sg.best;
}

static enum cd_cfg_kind kind_of(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return K_GROUP;
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return K_INT;
	case CONFIG_TYPE_BOOL: return K_BOOL;
	case CONFIG_TYPE_STRING: return K_STRING;
	case CONFIG_TYPE_LIST: case CONFIG_TYPE_ARRAY: return K_LIST;
	default: return (enum cd_cfg_kind)-1;
	}
}

static void walk(struct cd_config_loader *ld, const config_setting_t *group,
		 const char *spath, const char *dpath);

static void walk_child(struct cd_config_loader *ld, const config_setting_t *s,
		       const char *spath, const char *dpath,
		       const char *parent_spath)
{
	const struct cd_config_field *f = schema_find(spath);
	enum cd_cfg_kind k = kind_of(s);

	if (!f) {
		const char *name = config_setting_name(s);
		const char *hint = name ? suggest(parent_spath, name) : NULL;

		if (hint)
			cd_cfg_report(ld, s, dpath, "unknown setting (did you mean '%s'?)", hint);
		else
			cd_cfg_report(ld, s, dpath, "unknown setting");
		return;
	}
	if (k != f->kind) {
		cd_cfg_report(ld, s, dpath, "expected %s", kind_names[f->kind]);
		return;
	}
	if (k == K_GROUP) {
		walk(ld, s, spath, dpath);
	} else if (k == K_LIST) {
		char es[256], ed[256];

		snprintf(es, sizeof(es), "%s.*", spath);
		for (int i = 0; i < config_setting_length(s); i++) {
			snprintf(ed, sizeof(ed), "%s[%d]", dpath, i);
			walk_child(ld, config_setting_get_elem(s, (unsigned)i), es, ed, spath);
		}
	}
}

static void walk(struct cd_config_loader *ld, const config_setting_t *group,
		 const char *spath, const char *dpath)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char cs[256], cdp[256];

		snprintf(cs, sizeof(cs), "%s%s%s", spath, *spath ? "." : "", name);
		snprintf(cdp, sizeof(cdp), "%s%s%s", dpath, *dpath ? "." : "", name);
		walk_child(ld, s, cs, cdp, spath);
	}
}

/* ---- pass 2: values -------------------------------------------------- */

char *cd_cfg_strdup(struct cd_config_loader *ld, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		cd_cfg_oom(ld);
	return d;
}

/* Child NAME of GROUP (may be NULL) with the display path in DPATH. */
config_setting_t *cd_cfg_member(const config_setting_t *group,
				const char *prefix, const char *name,
				char *dpath, size_t len)
{
	snprintf(dpath, len, "%s%s%s", prefix, *prefix ? "." : "", name);
	return group ? config_setting_get_member(group, name) : NULL;
}

config_setting_t *cd_cfg_list(const config_setting_t *group, const char *name)
{
	config_setting_t *l = group ? config_setting_get_member(group, name) : NULL;

	return l && kind_of(l) == K_LIST ? l : NULL;
}

char *cd_cfg_string(struct cd_config_loader *ld, const config_setting_t *group,
			const char *prefix, const char *name, const char *def,
			int required)
{
	char dp[256];
	config_setting_t *s = cd_cfg_member(group, prefix, name, dp, sizeof(dp));
	const char *v = def;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (!v || (required && !*v)) {
		cd_cfg_report(ld, s ? s : group, dp, s ? "must not be empty"
					  : "missing required setting");
		return NULL;
	}
	return cd_cfg_strdup(ld, v);
}

int64_t cd_cfg_duration(struct cd_config_loader *ld, const config_setting_t *group,
			    const char *prefix, const char *name,
			    const char *def)
{
	char dp[256], why[160];
	config_setting_t *s = cd_cfg_member(group, prefix, name, dp, sizeof(dp));
	const char *v = def;
	int64_t secs = 0;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (cd_units_duration(v, &secs, why, sizeof(why)) < 0)
		cd_cfg_report(ld, s, dp, "bad duration \"%s\": %s", v, why);
	return secs;
}

/* The number NAME is set to, as written on line LINE of FILE, into
 * BUF: libconfig keeps only 32 bits of a plain integer, so 4294967396
 * would read as 100. 0 when found. */
static int raw_number(const char *file, int line, const char *name, char *buf, size_t len)
{
	char text[1024], *p = NULL;
	size_t nlen = strlen(name), n;
	FILE *fp = file ? fopen(file, "r") : NULL;
	int i = 0, rc = -1;

	if (!fp)
		return -1;
	while (i < line && fgets(text, sizeof(text), fp))
		i++;
	fclose(fp);
	if (i != line)
		return -1;
	/* the name as a word, then = or : */
	for (char *q = text; !p && (q = strstr(q, name)); q += nlen) {
		char *r = q + nlen;

		if ((q > text && (isalnum((unsigned char)q[-1]) || q[-1] == '_')) ||
		    isalnum((unsigned char)*r) || *r == '_')
			continue;
		r += strspn(r, " \t");
		if (*r == '=' || *r == ':')
			p = r + 1;
	}
	if (!p)
		return -1;
	p += strspn(p, " \t");
	n = strspn(p, "+-0123456789xXabcdefABCDEFL");
	if (n && n < len) {
		memcpy(buf, p, n);
		buf[n] = '\0';
		rc = 0;
	}
	return rc;
}

long long cd_cfg_int(struct cd_config_loader *ld, const config_setting_t *group,
		     const char *prefix, const char *name, long long def,
		     long long min, long long max)
{
	char dp[256], raw[64];
	config_setting_t *s = cd_cfg_member(group, prefix, name, dp, sizeof(dp));
	long long v = def;

	if (!s || kind_of(s) != K_INT)
		return v;
	v = config_setting_get_int64(s);
	/* settings of the main file have no source file (config_read) */
	if (raw_number(config_setting_source_file(s) ? config_setting_source_file(s) : ld->file,
		       (int)config_setting_source_line(s), name, raw, sizeof(raw)) == 0) {
		const char *num = raw;
		char *end;
		long long r;

		/* as libconfig reads it: 0x is hex, and a leading 0 does not
		 * make octal ("010" is ten) */
		errno = 0;
		if (num[0] == '0' && (num[1] == 'x' || num[1] == 'X'))
			r = (long long)strtoull(num, &end, 16), errno = r < 0 ? ERANGE : errno;
		else
			r = strtoll(num, &end, 10);
		end += strspn(end, "L");
		if (errno == ERANGE || *end || r != v) {
			cd_cfg_report(ld, s, dp, "%s is out of range (%lld to %lld)", raw, min, max);
			return def;
		}
	}
	if (v < min || v > max) {
		cd_cfg_report(ld, s, dp, "%lld is out of range (%lld to %lld)", v, min, max);
		return def;
	}
	return v;
}

int cd_cfg_bool(const config_setting_t *group, const char *name, int def)
{
	config_setting_t *s = group ? config_setting_get_member(group, name) : NULL;

	if (s && config_setting_type(s) == CONFIG_TYPE_BOOL)
		return config_setting_get_bool(s);
	return def;
}

/* Index of VALUE in NAMES (N entries), or report and return -1. */
int cd_cfg_choice(struct cd_config_loader *ld, const config_setting_t *group,
		      const char *prefix, const char *name, const char *def,
		      const char *const *names, int n)
{
	char dp[256], list[256] = "";
	config_setting_t *s = cd_cfg_member(group, prefix, name, dp, sizeof(dp));
	const char *v = def;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	for (int i = 0; i < n; i++) {
		if (names[i] && strcmp(v, names[i]) == 0)
			return i;
		if (names[i])
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s\"%s\"", *list ? ", " : "", names[i]);
	}
	cd_cfg_report(ld, s ? s : group, dp, "\"%s\" is not one of %s", v, list);
	return -1;
}

/* Relative paths are taken from the config file's directory, so a config
 * and its data can be moved together. */
char *cd_cfg_resolve(struct cd_config_loader *ld, const char *p)
{
	char *out;

	if (!p)
		return NULL;
	if (p[0] == '/')
		return cd_cfg_strdup(ld, p);
	out = cd_util_join_path(ld->dir, p);
	if (!out)
		cd_cfg_oom(ld);
	return out;
}

/* A deliberately plain check: one @, a non-empty local part, a dotted
 * domain, and none of the characters that could break a header. */
static int plausible_address(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || strchr(at + 1, '@') || !strchr(at + 1, '.'))
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\\\"", *p))
			return 0;
	return at[1] != '.' && a[strlen(a) - 1] != '.';
}

void cd_cfg_address(struct cd_config_loader *ld, const config_setting_t *group,
			  const char *prefix, const char *name, const char *v)
{
	char dp[256];
	config_setting_t *s = cd_cfg_member(group, prefix, name, dp, sizeof(dp));

	if (v && *v && !plausible_address(v))
		cd_cfg_report(ld, s ? s : group, dp,
		       "\"%s\" is not a plain address like feedback@shop.example", v);
}


/* A rate setting; "" means no limit (count 0). */
void cd_cfg_rate(struct cd_config_loader *ld, const config_setting_t *g, const char *prefix,
		 const char *name, const char *def, struct cd_rate *out)
{
	char dp[256], why[160];
	config_setting_t *s = cd_cfg_member(g, prefix, name, dp, sizeof(dp));
	const char *v = def;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (*v && cd_units_rate(v, out, why, sizeof(why)) < 0)
		cd_cfg_report(ld, s, dp, "bad rate \"%s\": %s", v, why);
}

/* An https URL with PLACEHOLDER in it (if not NULL), or "" when unset.
 * RFC 8058 one-click unsubscribe wants https; so do marketplaces. */
char *cd_cfg_url(struct cd_config_loader *ld, const config_setting_t *g, const char *dp,
		     const char *name, const char *placeholder)
{
	char *v = cd_cfg_string(ld, g, dp, name, "", 0), path[256];
	config_setting_t *s = cd_cfg_member(g, dp, name, path, sizeof(path));

	if (!v || !*v)
		return v;
	if (strncmp(v, "https://", 8) != 0 || strpbrk(v, " \t\r\n<>\"") || !v[8])
		cd_cfg_report(ld, s, path, "\"%s\" is not an https:// URL", v);
	else if (placeholder && !strstr(v, placeholder))
		cd_cfg_report(ld, s, path, "the URL must contain %s", placeholder);
	return v;
}

/* An optional file name, made absolute against the config's directory;
 * "" when unset. */
char *cd_cfg_path(struct cd_config_loader *ld, const config_setting_t *g, const char *group,
		      const char *name)
{
	char *v = cd_cfg_string(ld, g, group, name, "", 0), *abs;

	if (!v || !*v)
		return v;
	abs = cd_cfg_resolve(ld, v);
	if (abs != v)
		free(v);
	return abs;
}

/* The secret must be readable by us and by nobody else: a world-readable
 * password file is refused rather than used. */
static char *read_secret(struct cd_config_loader *ld, const config_setting_t *s,
			 const char *name, const char *path)
{
	char buf[1024], *pw = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		cd_cfg_report(ld, s, name, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cd_cfg_report(ld, s, name, "%s is not a regular file", path);
	} else if (st.st_mode & S_IROTH) {
		cd_cfg_report(ld, s, name, "%s is readable by every user; run chmod o-rwx on it", path);
	} else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		cd_cfg_report(ld, s, name, "cannot read %s: %s", path, strerror(errno));
	} else {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!buf[0])
			cd_cfg_report(ld, s, name, "%s is empty; write the secret on its first line", path);
		else
			pw = cd_cfg_strdup(ld, buf);
	}
	cd_util_wipe(buf, sizeof(buf));
	close(fd);
	return pw;
}

char *cd_cfg_secret(struct cd_config_loader *ld, const config_setting_t *g, const char *group,
			   const char *path)
{
	char name[64];

	/* read only where used: a marketer's report and the web process need
	 * no mail server's password */
	if (!path || !*path || !(ld->flags & CD_CONFIG_SECRETS))
		return NULL;
	snprintf(name, sizeof(name), "%s.password_file", group);
	return read_secret(ld, g ? config_setting_get_member(g, "password_file") : NULL, name, path);
}

char *cd_cfg_secret_file(struct cd_config_loader *ld, const config_setting_t *g,
			 const char *prefix, const char *name, const char *path)
{
	char dp[128];

	if (!path || !*path)
		return NULL;
	snprintf(dp, sizeof(dp), "%s.%s", prefix, name);
	return read_secret(ld, g ? config_setting_get_member(g, name) : NULL, dp, path);
}

void cd_cfg_free_secret(char *s)
{
	if (!s)
		return;
	cd_util_wipe(s, strlen(s));
	free(s);
}

/* ---- the top-level settings -------------------------------------------- */

static const struct cd_config_field top_fields[] = {
	{ "database", K_STRING },
	{ "templates", K_STRING },
	{ "packs", K_STRING },
	{ "compliance_model", K_STRING },
	{ "log_level", K_STRING },
	{ "poll_interval", K_STRING },
	{ "transport", K_STRING },
	{ NULL, 0 },
};

static void load_top(struct cd_config_loader *ld, struct cd_config *c,
		     const config_setting_t *root)
{
	static const char *const transports[] = {
		[CD_TRANSPORT_SMTP] = "smtp", [CD_TRANSPORT_OUTBOX] = "outbox",
	};
	static const char *const levels[] = {
		[3] = "error", [4] = "warning", [5] = "notice", [6] = "info",
		[7] = "debug",
	};
	char *s;
	int t;

	s = cd_cfg_string(ld, root, "", "database", "/var/lib/candor/candor.db", 1);
	c->database = cd_cfg_resolve(ld, s);
	free(s);
	s = cd_cfg_string(ld, root, "", "templates", DEFAULT_TEMPLATES, 1);
	c->templates = cd_cfg_resolve(ld, s);
	free(s);
	s = cd_cfg_string(ld, root, "", "packs", cd_config_default_packs(), 1);
	c->packs = cd_cfg_resolve(ld, s);
	free(s);
	/* the learned model: beside the packs unless named; "" turns it off */
	s = config_setting_get_member(root, "compliance_model")
	    ? cd_cfg_string(ld, root, "", "compliance_model", "", 0) : NULL;
	if (s && !*s) {
		c->compliance_model = s;
	} else if (s) {
		c->compliance_model = cd_cfg_resolve(ld, s);
		free(s);
	} else if (c->packs && !(c->compliance_model = cd_util_join_path(c->packs, "model.bin"))) {
		cd_cfg_oom(ld);
	}
	t = cd_cfg_choice(ld, root, "", "log_level", "info", levels, 8);
	c->log_level = t < 0 ? CD_LOG_INFO : t;
	c->poll_interval = cd_cfg_duration(ld, root, "", "poll_interval", "5m");
	if (c->poll_interval < 10)
		cd_cfg_report(ld, config_setting_get_member(root, "poll_interval"),
		       "poll_interval", "must be at least 10s");
	t = cd_cfg_choice(ld, root, "", "transport", "smtp", transports, 2);
	c->transport = t < 0 ? CD_TRANSPORT_SMTP : (enum cd_transport_kind)t;
}

static void print_top(const struct cd_config *c, FILE *out)
{
	static const char *const transports[] = { "smtp", "outbox" };

	fprintf(out, "# effective configuration of %s\n", c->path);
	cd_cfg_put_string(out, "", "database", c->database);
	cd_cfg_put_string(out, "", "templates", c->templates);
	cd_cfg_put_string(out, "", "packs", c->packs);
	cd_cfg_put_string(out, "", "compliance_model", c->compliance_model);
	cd_cfg_put_string(out, "", "log_level", cd_log_level_name(c->log_level));
	cd_cfg_put_duration(out, "", "poll_interval", c->poll_interval);
	cd_cfg_put_string(out, "", "transport", transports[c->transport]);
}

static void free_top(struct cd_config *c)
{
	free(c->database);
	free(c->templates);
	free(c->packs);
	free(c->compliance_model);
}

const struct cd_config_section cd_config_top_section = {
	.fields = top_fields, .load = load_top, .print = print_top, .free = free_top,
};

/* ---- the whole file -------------------------------------------------- */

/* libconfig reports "file I/O error" for every open failure; open the file
 * ourselves first so the admin reads the real reason. */
static int read_file(struct cd_config_loader *ld, config_t *cf)
{
	struct cd_error e;
	struct stat st;
	FILE *fp;
	int ok;

	fp = fopen(ld->file, "r");
	if (!fp || fstat(fileno(fp), &st) < 0) {
		cd_error_set(&e, CD_ECONFIG, ld->file, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		cd_error_set(&e, CD_ECONFIG, ld->file, 0, "is a directory, not a config file");
		goto fail;
	}
	config_set_include_dir(cf, ld->dir);
	ok = config_read(cf, fp);
	fclose(fp);
	fp = NULL;
	if (ok == CONFIG_TRUE)
		return 0;
	cd_error_set(&e, CD_ECONFIG, config_error_file(cf) ? config_error_file(cf) : ld->file,
		     config_error_line(cf), "%s", config_error_text(cf));
fail:
	if (fp)
		fclose(fp);
	ld->failed = 1;
	cd_errors_add(ld->errs, &e);
	return CD_ECONFIG;
}

int cd_config_load(const char *path, struct cd_config **out,
		   struct cd_errors *errs)
{
	return cd_config_load_with(path, CD_CONFIG_SECRETS, out, errs);
}

int cd_config_load_with(const char *path, int flags, struct cd_config **out,
			struct cd_errors *errs)
{
	struct cd_config_loader ld = { .file = path, .flags = flags, .errs = errs };
	struct cd_config *c = calloc(1, sizeof(*c));
	config_t cf;
	config_setting_t *root;
	int rc = CD_ECONFIG;

	*out = NULL;
	config_init(&cf);
	ld.dir = cd_util_dirname(path);
	if (ld.dir) {
		/* absolute, so paths stay right whatever the daemon's cwd */
		char *abs = realpath(ld.dir, NULL);

		if (abs) {
			free(ld.dir);
			ld.dir = abs;
		}
	}
	if (!c || !ld.dir || !(c->path = strdup(path))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if (read_file(&ld, &cf) < 0)
		goto out;
	root = config_root_setting(&cf);
	walk(&ld, root, "", "");
	for (size_t i = 0; cd_config_sections[i]; i++)
		cd_config_sections[i]->load(&ld, c, root);
	if (ld.oom)
		rc = CD_ENOMEM;
	else if (!ld.failed)
		rc = 0;
out:
	config_destroy(&cf);
	free(ld.dir);
	if (rc == 0)
		*out = c;
	else
		cd_config_free(c);
	return rc;
}

void cd_config_free(struct cd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; cd_config_sections[i]; i++)
		cd_config_sections[i]->free(c);
	free(c->path);
	free(c);
}

const struct cd_campaign *cd_config_campaign(const struct cd_config *cfg,
					     const char *name)
{
	for (size_t i = 0; i < cfg->ncampaigns; i++)
		if (strcmp(cfg->campaigns[i].name, name) == 0)
			return &cfg->campaigns[i];
	return NULL;
}

const struct cd_channel *cd_config_channel(const struct cd_config *cfg,
					   const char *name)
{
	for (size_t i = 0; name && i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i].name, name) == 0)
			return &cfg->channels[i];
	return NULL;
}

const char *cd_config_default_path(void)
{
	return SYSCONFDIR "/candor/candor.conf";
}

void cd_config_print_paths(const char *path, const struct cd_config *cfg, const char *store,
			   FILE *out)
{
	fprintf(out, "  %-14s %s\n", "config file", path);
	if (!cfg) {
		fprintf(out, "  %-14s %s (built-in default)\n", "templates", DEFAULT_TEMPLATES);
		fprintf(out, "  %-14s %s (built-in default)\n", "packs", cd_config_default_packs());
		return;
	}
	fprintf(out, "  %-14s %s\n", "store", store);
	fprintf(out, "  %-14s %s\n", "templates", cfg->templates);
	fprintf(out, "  %-14s %s\n", "packs", cfg->packs);
	fprintf(out, "  %-14s %s\n", "model", cfg->compliance_model && *cfg->compliance_model
		? cfg->compliance_model : "none (compliance_model = \"\")");
}

const char *cd_config_default_packs(void)
{
	return SYSCONFDIR "/candor/packs";
}

/* Is the running program inside DIR (the build tree)? */
static int running_from(const char *dir)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(dir);

	if (n <= 0 || !*dir)
		return 0;
	exe[n] = '\0';
	return strncmp(exe, dir, len) == 0 && exe[len] == '/';
}

const char *cd_config_build_packs(void)
{
#if defined(CD_SRC_TOP) && defined(CD_BUILD_TOP)
	struct stat sb;

	if (running_from(CD_BUILD_TOP) && stat(CD_SRC_TOP "/etc/packs", &sb) == 0 &&
	    S_ISDIR(sb.st_mode))
		return CD_SRC_TOP "/etc/packs";
#endif
	return cd_config_default_packs();
}

const char *cd_config_trigger_name(enum cd_trigger trigger)
{
	return cd_config_trigger_names[trigger];
}

