/*
 * config.c - read candor.conf with libconfig and turn it into a validated
 * struct cd_config. Validation runs in two passes: the schema walk rejects
 * unknown names and wrong types anywhere in the file, then the loaders read
 * each value, apply defaults and check meaning (durations, addresses,
 * secrets). Both passes report every problem, not just the first.
 */
#include "config.h"

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
#include "candor/log.h"
#include "candor/tz.h"
#include "candor/util.h"

enum kind { K_STRING, K_INT, K_BOOL, K_GROUP, K_LIST };

struct field {
	const char *path; /* "*" stands for any element of a list */
	enum kind kind;
};

static const struct field schema[] = {
	{ "database", K_STRING },
	{ "templates", K_STRING },
	{ "packs", K_STRING },
	{ "compliance_model", K_STRING },
	{ "log_level", K_STRING },
	{ "poll_interval", K_STRING },
	{ "transport", K_STRING },
	{ "shop", K_GROUP },
	{ "shop.name", K_STRING },
	{ "shop.domain", K_STRING },
	{ "shop.from", K_STRING },
	{ "shop.reply_to", K_STRING },
	{ "shop.support", K_STRING },
	{ "shop.timezone", K_STRING },
	{ "shop.footer", K_STRING },
	{ "shop.footer_html", K_STRING },
	{ "shop.unsubscribe_url", K_STRING },
	{ "channels", K_LIST },
	{ "channels.*", K_GROUP },
	{ "channels.*.name", K_STRING },
	{ "channels.*.feedback_url", K_STRING },
	{ "channels.*.review_url", K_STRING },
	{ "channels.*.unsubscribe_url", K_STRING },
	{ "outbox", K_GROUP },
	{ "outbox.directory", K_STRING },
	{ "smtp", K_GROUP },
	{ "smtp.url", K_STRING },
	{ "smtp.username", K_STRING },
	{ "smtp.password_file", K_STRING },
	{ "smtp.envelope_from", K_STRING },
	{ "smtp.tls", K_STRING },
	{ "smtp.verify_certificate", K_BOOL },
	{ "smtp.connections", K_INT },
	{ "smtp.connect_timeout", K_STRING },
	{ "smtp.timeout", K_STRING },
	{ "smtp.retry_min", K_STRING },
	{ "smtp.retry_max", K_STRING },
	{ "smtp.retry_for", K_STRING },
	{ "smtp.pause_retry", K_STRING },
	{ "imap", K_GROUP },
	{ "imap.url", K_STRING },
	{ "imap.username", K_STRING },
	{ "imap.password_file", K_STRING },
	{ "imap.tls", K_STRING },
	{ "imap.verify_certificate", K_BOOL },
	{ "imap.ca_file", K_STRING },
	{ "imap.mailbox", K_STRING },
	{ "imap.move_to", K_STRING },
	{ "imap.idle", K_BOOL },
	{ "imap.timeout", K_STRING },
	{ "imap.max_size", K_INT },
	{ "tracking", K_GROUP },
	{ "tracking.soft_bounce_limit", K_INT },
	{ "limits", K_GROUP },
	{ "limits.global_rate", K_STRING },
	{ "limits.daily_cap", K_INT },
	{ "limits.domain_rate", K_STRING },
	{ "limits.per_customer", K_INT },
	{ "limits.per_customer_period", K_STRING },
	{ "send_window", K_GROUP },
	{ "send_window.start", K_STRING },
	{ "send_window.end", K_STRING },
	{ "send_window.weekdays", K_LIST },
	{ "send_window.weekdays.*", K_STRING },
	{ "send_window.blackout", K_LIST },
	{ "send_window.blackout.*", K_STRING },
	{ "campaigns", K_LIST },
	{ "campaigns.*", K_GROUP },
	{ "campaigns.*.name", K_STRING },
	{ "campaigns.*.trigger", K_STRING },
	{ "campaigns.*.delay", K_STRING },
	{ "campaigns.*.expire", K_STRING },
	{ "campaigns.*.reminder", K_STRING },
	{ "campaigns.*.reminder_template", K_STRING },
	{ "campaigns.*.packs", K_LIST },
	{ "campaigns.*.packs.*", K_STRING },
	{ "campaigns.*.max_rating", K_INT },
	{ "campaigns.*.auto_winner", K_GROUP },
	{ "campaigns.*.auto_winner.min_per_arm", K_INT },
	{ "campaigns.*.auto_winner.significance", K_STRING },
	{ "campaigns.*.variants", K_LIST },
	{ "campaigns.*.variants.*", K_GROUP },
	{ "campaigns.*.variants.*.name", K_STRING },
	{ "campaigns.*.variants.*.template", K_STRING },
	{ "campaigns.*.variants.*.weight", K_INT },
};

static const char *const kind_names[] = {
	[K_STRING] = "a string (in double quotes)", [K_INT] = "a whole number",
	[K_BOOL] = "true or false", [K_GROUP] = "a group { ... }",
	[K_LIST] = "a list ( ... )",
};

static const char *const trigger_names[] = {
	[CD_TRIGGER_SHIPPED] = "shipped",
	[CD_TRIGGER_DELIVERED] = "delivered",
	[CD_TRIGGER_NEGATIVE_FEEDBACK] = "negative_feedback",
};

struct loader {
	const char *file;
	char *dir;            /* directory of the file, for relative paths */
	struct cd_errors *errs;
	int failed;
	int oom;
};

static void report(struct loader *ld, const config_setting_t *s,
		   const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct loader *ld, const config_setting_t *s,
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

/* ---- pass 1: names and types ---------------------------------------- */

static const struct field *schema_find(const char *path)
{
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if (strcmp(schema[i].path, path) == 0)
			return &schema[i];
	return NULL;
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

/* The known sibling of an unknown name that a typo most likely meant. */
static const char *suggest(const char *parent, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3, plen = strlen(parent);

	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++) {
		const char *p = schema[i].path, *leaf;

		if (plen) {
			if (strncmp(p, parent, plen) != 0 || p[plen] != '.')
				continue;
			leaf = p + plen + 1;
		} else {
			leaf = p;
		}
		if (strchr(leaf, '.'))
			continue;
		size_t d = edit_distance(name, leaf);
		if (d < best_d) {
			best_d = d;
			best = leaf;
		}
	}
	return best;
}

static enum kind kind_of(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return K_GROUP;
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return K_INT;
	case CONFIG_TYPE_BOOL: return K_BOOL;
	case CONFIG_TYPE_STRING: return K_STRING;
	case CONFIG_TYPE_LIST: case CONFIG_TYPE_ARRAY: return K_LIST;
	default: return (enum kind)-1;
	}
}

static void walk(struct loader *ld, const config_setting_t *group,
		 const char *spath, const char *dpath);

static void walk_child(struct loader *ld, const config_setting_t *s,
		       const char *spath, const char *dpath,
		       const char *parent_spath)
{
	const struct field *f = schema_find(spath);
	enum kind k = kind_of(s);

	if (!f) {
		const char *name = config_setting_name(s);
		const char *hint = name ? suggest(parent_spath, name) : NULL;

		if (hint)
			report(ld, s, dpath, "unknown setting (did you mean '%s'?)", hint);
		else
			report(ld, s, dpath, "unknown setting");
		return;
	}
	if (k != f->kind) {
		report(ld, s, dpath, "expected %s", kind_names[f->kind]);
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

static void walk(struct loader *ld, const config_setting_t *group,
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

static char *dup_or_oom(struct loader *ld, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		ld->oom = ld->failed = 1;
	return d;
}

/* Child NAME of GROUP (may be NULL) with the display path in DPATH. */
static config_setting_t *member(const config_setting_t *group,
				const char *prefix, const char *name,
				char *dpath, size_t len)
{
	snprintf(dpath, len, "%s%s%s", prefix, *prefix ? "." : "", name);
	return group ? config_setting_get_member(group, name) : NULL;
}

static char *get_string(struct loader *ld, const config_setting_t *group,
			const char *prefix, const char *name, const char *def,
			int required)
{
	char dp[256];
	config_setting_t *s = member(group, prefix, name, dp, sizeof(dp));
	const char *v = def;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (!v || (required && !*v)) {
		report(ld, s ? s : group, dp, s ? "must not be empty"
					  : "missing required setting");
		return NULL;
	}
	return dup_or_oom(ld, v);
}

static int64_t get_duration(struct loader *ld, const config_setting_t *group,
			    const char *prefix, const char *name,
			    const char *def)
{
	char dp[256], why[160];
	config_setting_t *s = member(group, prefix, name, dp, sizeof(dp));
	const char *v = def;
	int64_t secs = 0;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (cd_units_duration(v, &secs, why, sizeof(why)) < 0)
		report(ld, s, dp, "bad duration \"%s\": %s", v, why);
	return secs;
}

static long long get_int(struct loader *ld, const config_setting_t *group,
			 const char *prefix, const char *name, long long def,
			 long long min, long long max)
{
	char dp[256];
	config_setting_t *s = member(group, prefix, name, dp, sizeof(dp));
	long long v = def;

	if (s && kind_of(s) == K_INT)
		v = config_setting_get_int64(s);
	if (v < min || v > max) {
		report(ld, s, dp, "%lld is out of range (%lld to %lld)", v, min, max);
		return def;
	}
	return v;
}

static int get_bool(const config_setting_t *group, const char *name, int def)
{
	config_setting_t *s = group ? config_setting_get_member(group, name) : NULL;

	if (s && config_setting_type(s) == CONFIG_TYPE_BOOL)
		return config_setting_get_bool(s);
	return def;
}

/* Index of VALUE in NAMES (N entries), or report and return -1. */
static int get_choice(struct loader *ld, const config_setting_t *group,
		      const char *prefix, const char *name, const char *def,
		      const char *const *names, int n)
{
	char dp[256], list[256] = "";
	config_setting_t *s = member(group, prefix, name, dp, sizeof(dp));
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
	report(ld, s ? s : group, dp, "\"%s\" is not one of %s", v, list);
	return -1;
}

/* Relative paths are taken from the config file's directory, so a config
 * and its data can be moved together. */
static char *resolve_path(struct loader *ld, const char *p)
{
	char *out;

	if (!p)
		return NULL;
	if (p[0] == '/')
		return dup_or_oom(ld, p);
	out = cd_util_join_path(ld->dir, p);
	if (!out)
		ld->oom = ld->failed = 1;
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

static void check_address(struct loader *ld, const config_setting_t *group,
			  const char *prefix, const char *name, const char *v)
{
	char dp[256];
	config_setting_t *s = member(group, prefix, name, dp, sizeof(dp));

	if (v && *v && !plausible_address(v))
		report(ld, s ? s : group, dp,
		       "\"%s\" is not a plain address like feedback@shop.example", v);
}

static void check_timezone(struct loader *ld, const config_setting_t *group,
			   const char *v)
{
	char dp[256];
	config_setting_t *s = member(group, "shop", "timezone", dp, sizeof(dp));
	int known = v ? cd_tz_known(v) : 1;

	if (known < 0)
		report(ld, s, dp, "\"%s\" is not a time zone name like Europe/Berlin", v);
	else if (!known)
		report(ld, s, dp, "unknown time zone \"%s\" (not in the tz database)", v);
}

static char *get_url(struct loader *ld, const config_setting_t *g, const char *dp,
		     const char *name, const char *placeholder);

static void load_shop(struct loader *ld, struct cd_config *c,
		      const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "shop");

	if (!g) {
		report(ld, root, "shop", "missing required group (name, domain, from)");
		return;
	}
	c->shop.name = get_string(ld, g, "shop", "name", NULL, 1);
	c->shop.domain = get_string(ld, g, "shop", "domain", NULL, 1);
	c->shop.from = get_string(ld, g, "shop", "from", NULL, 1);
	c->shop.reply_to = get_string(ld, g, "shop", "reply_to",
				      c->shop.from ? c->shop.from : "", 0);
	c->shop.support = get_string(ld, g, "shop", "support",
				     c->shop.from ? c->shop.from : "", 0);
	c->shop.timezone = get_string(ld, g, "shop", "timezone", "UTC", 1);
	check_address(ld, g, "shop", "from", c->shop.from);
	check_address(ld, g, "shop", "reply_to", c->shop.reply_to);
	check_address(ld, g, "shop", "support", c->shop.support);
	check_timezone(ld, g, c->shop.timezone);
	if (c->shop.domain && !strchr(c->shop.domain, '.'))
		report(ld, config_setting_get_member(g, "domain"), "shop.domain",
		       "\"%s\" is not a domain name like shop.example", c->shop.domain);
	c->shop.footer = get_string(ld, g, "shop", "footer", "", 0);
	c->shop.footer_html = get_string(ld, g, "shop", "footer_html", "", 0);
	c->shop.unsubscribe_url = get_url(ld, g, "shop", "unsubscribe_url", "{token}");
}

/* An https URL with PLACEHOLDER in it (if not NULL), or "" when unset.
 * RFC 8058 one-click unsubscribe wants https; so do marketplaces. */
static char *get_url(struct loader *ld, const config_setting_t *g, const char *dp,
		     const char *name, const char *placeholder)
{
	char *v = get_string(ld, g, dp, name, "", 0), path[256];
	config_setting_t *s = member(g, dp, name, path, sizeof(path));

	if (!v || !*v)
		return v;
	if (strncmp(v, "https://", 8) != 0 || strpbrk(v, " \t\r\n<>\"") || !v[8])
		report(ld, s, path, "\"%s\" is not an https:// URL", v);
	else if (placeholder && !strstr(v, placeholder))
		report(ld, s, path, "the URL must contain %s", placeholder);
	return v;
}

static void load_channel(struct loader *ld, struct cd_channel *ch,
			 const config_setting_t *g, const char *dp)
{
	ch->name = get_string(ld, g, dp, "name", NULL, 1);
	ch->feedback_url = get_url(ld, g, dp, "feedback_url", NULL);
	ch->review_url = get_url(ld, g, dp, "review_url", "{product}");
	/* absent: the shop's; "": none for this channel (Amazon's own
	 * messaging handles opting out, and allows no outside links) */
	if (config_setting_get_member(g, "unsubscribe_url"))
		ch->unsubscribe_url = get_url(ld, g, dp, "unsubscribe_url", "{token}");
}

static void load_channels(struct loader *ld, struct cd_config *c,
			  const config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "channels");
	char dp[64];

	if (!l || kind_of(l) != K_LIST)
		return;
	c->nchannels = (size_t)config_setting_length(l);
	c->channels = calloc(c->nchannels ? c->nchannels : 1, sizeof(*c->channels));
	if (!c->channels) {
		ld->oom = ld->failed = 1;
		c->nchannels = 0;
		return;
	}
	for (size_t i = 0; i < c->nchannels; i++) {
		config_setting_t *g = config_setting_get_elem(l, (unsigned)i);

		snprintf(dp, sizeof(dp), "channels[%zu]", i);
		load_channel(ld, &c->channels[i], g, dp);
		for (size_t j = 0; j < i; j++)
			if (c->channels[i].name && c->channels[j].name &&
			    strcmp(c->channels[i].name, c->channels[j].name) == 0)
				report(ld, g, dp, "channel name \"%s\" used twice",
				       c->channels[i].name);
	}
}

/* The secret must be readable by us and by nobody else: a world-readable
 * password file is refused rather than used. */
static const char *const tls_names[] = {
	[CD_TLS_AUTO] = "auto", [CD_TLS_REQUIRED] = "required", [CD_TLS_NONE] = "none",
};

/* An optional file name, made absolute against the config's directory;
 * "" when unset. */
static char *get_path(struct loader *ld, const config_setting_t *g, const char *group,
		      const char *name)
{
	char *v = get_string(ld, g, group, name, "", 0), *abs;

	if (!v || !*v)
		return v;
	abs = resolve_path(ld, v);
	if (abs != v)
		free(v);
	return abs;
}

static char *load_password(struct loader *ld, const config_setting_t *g, const char *group,
			   const char *path)
{
	config_setting_t *s = g ? config_setting_get_member(g, "password_file") : NULL;
	char name[64], buf[1024], *pw = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return NULL;
	snprintf(name, sizeof(name), "%s.password_file", group);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		report(ld, s, name, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		report(ld, s, name, "%s is not a regular file", path);
	} else if (st.st_mode & S_IROTH) {
		report(ld, s, name, "%s is readable by every user; run chmod o-rwx on it", path);
	} else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		report(ld, s, name, "cannot read %s: %s", path, strerror(errno));
	} else {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		pw = dup_or_oom(ld, buf);
	}
	cd_util_wipe(buf, sizeof(buf));
	close(fd);
	return pw;
}

static void load_smtp(struct loader *ld, struct cd_config *c,
		      const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "smtp");
	int tls;

	c->smtp.url = get_string(ld, g, "smtp", "url", "smtp://localhost:25", 1);
	if (c->smtp.url && strncmp(c->smtp.url, "smtp://", 7) != 0 &&
	    strncmp(c->smtp.url, "smtps://", 8) != 0)
		report(ld, g ? config_setting_get_member(g, "url") : NULL, "smtp.url",
		       "\"%s\" must start with smtp:// or smtps://", c->smtp.url);
	c->smtp.username = get_string(ld, g, "smtp", "username", "", 0);
	c->smtp.password_file = get_path(ld, g, "smtp", "password_file");
	c->smtp.envelope_from = get_string(ld, g, "smtp", "envelope_from", "", 0);
	check_address(ld, g, "smtp", "envelope_from", c->smtp.envelope_from);
	tls = get_choice(ld, g, "smtp", "tls", "auto", tls_names, 3);
	c->smtp.tls = tls < 0 ? CD_TLS_REQUIRED : (enum cd_tls_mode)tls;
	c->smtp.verify_certificate = get_bool(g, "verify_certificate", 1);
	c->smtp.connections = (int)get_int(ld, g, "smtp", "connections", 2, 1, 64);
	c->smtp.connect_timeout = get_duration(ld, g, "smtp", "connect_timeout", "20s");
	c->smtp.timeout = get_duration(ld, g, "smtp", "timeout", "60s");
	c->smtp.retry_min = get_duration(ld, g, "smtp", "retry_min", "5m");
	c->smtp.retry_max = get_duration(ld, g, "smtp", "retry_max", "4h");
	c->smtp.retry_for = get_duration(ld, g, "smtp", "retry_for", "2d");
	c->smtp.pause_retry = get_duration(ld, g, "smtp", "pause_retry", "15m");
	if (c->smtp.retry_min <= 0 || c->smtp.retry_max < c->smtp.retry_min)
		report(ld, g ? config_setting_get_member(g, "retry_max") : root, "smtp.retry_max", "must be at least smtp.retry_min, which must be more than 0s");
	c->smtp.password = load_password(ld, g, "smtp", c->smtp.password_file);
}

static void load_imap(struct loader *ld, struct cd_config *c, const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "imap");
	config_setting_t *t = config_setting_get_member(root, "tracking");
	int tls;

	c->imap.url = get_string(ld, g, "imap", "url", "", 0);
	if (c->imap.url && *c->imap.url && strncmp(c->imap.url, "imap://", 7) != 0 &&
	    strncmp(c->imap.url, "imaps://", 8) != 0)
		report(ld, g ? config_setting_get_member(g, "url") : NULL, "imap.url",
		       "\"%s\" must start with imap:// or imaps://", c->imap.url);
	c->imap.username = get_string(ld, g, "imap", "username", "", 0);
	c->imap.password_file = get_path(ld, g, "imap", "password_file");
	tls = get_choice(ld, g, "imap", "tls", "auto", tls_names, 3);
	c->imap.tls = tls < 0 ? CD_TLS_REQUIRED : (enum cd_tls_mode)tls;
	c->imap.verify_certificate = get_bool(g, "verify_certificate", 1);
	c->imap.ca_file = get_path(ld, g, "imap", "ca_file");
	c->imap.mailbox = get_string(ld, g, "imap", "mailbox", "INBOX", 1);
	c->imap.move_to = get_string(ld, g, "imap", "move_to", "", 0);
	c->imap.idle = get_bool(g, "idle", 1);
	c->imap.timeout = get_duration(ld, g, "imap", "timeout", "60s");
	c->imap.max_size = get_int(ld, g, "imap", "max_size", 4 << 20, 65536, 1 << 30);
	c->tracking.soft_bounce_limit = (int)get_int(ld, t, "tracking", "soft_bounce_limit", 3, 1, 100);
	if (c->imap.url && *c->imap.url && (!c->imap.username || !*c->imap.username))
		report(ld, g, "imap.username", "is needed with imap.url");
	c->imap.password = load_password(ld, g, "imap", c->imap.password_file);
}

/* A rate setting; "" means no limit (count 0). */
static void get_rate(struct loader *ld, const config_setting_t *g, const char *name,
		     const char *def, struct cd_rate *out)
{
	char dp[256], why[160];
	config_setting_t *s = member(g, "limits", name, dp, sizeof(dp));
	const char *v = def;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (*v && cd_units_rate(v, out, why, sizeof(why)) < 0)
		report(ld, s, dp, "bad rate \"%s\": %s", v, why);
}

static void load_limits(struct loader *ld, struct cd_config *c,
			const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "limits");

	get_rate(ld, g, "global_rate", "200/hour", &c->limits.global_rate);
	get_rate(ld, g, "domain_rate", "100/hour", &c->limits.domain_rate);
	c->limits.daily_cap = get_int(ld, g, "limits", "daily_cap", 2000, 0, 100000000);
	c->limits.per_customer = (int)get_int(ld, g, "limits", "per_customer", 3, 0, 1000);
	c->limits.per_customer_period = get_duration(ld, g, "limits", "per_customer_period", "90d");
}

static int get_hhmm(struct loader *ld, const config_setting_t *g, const char *name,
		    const char *def)
{
	char dp[256];
	config_setting_t *s = member(g, "send_window", name, dp, sizeof(dp));
	const char *v = def;
	int m;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if ((m = cd_units_hhmm(v)) < 0)
		report(ld, s, dp, "bad time \"%s\" (write HH:MM, e.g. \"09:00\")", v);
	return m;
}

static void load_weekdays(struct loader *ld, struct cd_window *w,
			  const config_setting_t *g)
{
	config_setting_t *l = g ? config_setting_get_member(g, "weekdays") : NULL;
	char dp[64];

	w->weekdays = 0x7e; /* Monday to Saturday */
	if (!l || kind_of(l) != K_LIST)
		return;
	w->weekdays = 0;
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int d = v ? cd_units_weekday(v) : -1;

		snprintf(dp, sizeof(dp), "send_window.weekdays[%d]", i);
		if (d < 0)
			report(ld, e, dp, "\"%s\" is not a weekday (mon, tue, ... sun)", v ? v : "");
		else
			w->weekdays |= 1u << d;
	}
	if (!w->weekdays)
		report(ld, l, "send_window.weekdays", "no weekday left to send on");
}

static void load_blackout(struct loader *ld, struct cd_window *w,
			  const config_setting_t *g)
{
	config_setting_t *l = g ? config_setting_get_member(g, "blackout") : NULL;
	char dp[64];

	if (!l || kind_of(l) != K_LIST)
		return;
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int y, m, d;
		char tail;

		snprintf(dp, sizeof(dp), "send_window.blackout[%d]", i);
		if (!v || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
		    d < 1 || d > 31 || strlen(v) != 10)
			report(ld, e, dp, "\"%s\" is not a date like \"2026-12-25\"", v ? v : "");
		else if (w->nblackout == CD_MAX_BLACKOUTS)
			report(ld, e, dp, "at most %d blackout dates", CD_MAX_BLACKOUTS);
		else
			w->blackout[w->nblackout++] = y * 10000 + m * 100 + d;
	}
}

static void load_window(struct loader *ld, struct cd_config *c,
			const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "send_window");
	struct cd_window *w = &c->window;

	w->start_min = get_hhmm(ld, g, "start", "09:00");
	w->end_min = get_hhmm(ld, g, "end", "20:00");
	if (w->start_min >= 0 && w->end_min >= 0 && w->start_min >= w->end_min)
		report(ld, g ? config_setting_get_member(g, "end") : NULL, "send_window.end",
		       "must be later than send_window.start");
	load_weekdays(ld, w, g);
	load_blackout(ld, w, g);
}

static void load_variant(struct loader *ld, struct cd_variant *v,
			 const config_setting_t *g, const char *dp)
{
	v->line = (int)config_setting_source_line(g);
	v->name = get_string(ld, g, dp, "name", NULL, 1);
	v->template = get_string(ld, g, dp, "template", NULL, 1);
	v->weight = (unsigned)get_int(ld, g, dp, "weight", 1, 1, 1000000);
	if (v->template && (strchr(v->template, '/') || v->template[0] == '.'))
		report(ld, config_setting_get_member(g, "template"), dp,
		       "template \"%s\" must be a plain name inside the templates directory",
		       v->template);
}

/* The compliance packs a campaign's mail is checked against; their
 * existence is checked when the packs load (templates.c). */
static void load_packs(struct loader *ld, struct cd_campaign *cp,
		       const config_setting_t *g, const char *dp)
{
	config_setting_t *l = config_setting_get_member(g, "packs");
	char pdp[256];

	if (!l || kind_of(l) != K_LIST)
		return;
	cp->packs = calloc((size_t)config_setting_length(l) + 1, sizeof(*cp->packs));
	if (!cp->packs) {
		ld->oom = ld->failed = 1;
		return;
	}
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);

		snprintf(pdp, sizeof(pdp), "%s.packs[%d]", dp, i);
		if (!v || !*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
			report(ld, e, pdp, "\"%s\" is not a pack name (lower-case letters, digits, - and _)",
			       v ? v : "");
		else if ((cp->packs[cp->npacks] = dup_or_oom(ld, v)))
			cp->npacks++;
	}
}

/* auto_winner = { min_per_arm = 1000; significance = "1%"; } */
static void load_auto_winner(struct loader *ld, struct cd_campaign *cp,
			     const config_setting_t *g, const char *dp)
{
	config_setting_t *w = config_setting_get_member(g, "auto_winner");
	char wdp[256], *sig, *end;
	double a;

	if (!w)
		return;
	snprintf(wdp, sizeof(wdp), "%s.auto_winner", dp);
	cp->winner_min = get_int(ld, w, wdp, "min_per_arm", 1000, 10, 100000000);
	sig = get_string(ld, w, wdp, "significance", "1%", 0);
	a = sig ? strtod(sig, &end) : 0;
	if (sig && end != sig && *end == '%')
		a /= 100, end++;
	if (!sig || end == sig || *end || a <= 0 || a >= 0.5)
		report(ld, config_setting_get_member(w, "significance"), wdp,
		       "significance \"%s\" must be a level like \"1%%\" or \"0.01\" (above 0, below 50%%)",
		       sig ? sig : "");
	cp->winner_alpha = a;
	free(sig);
}

static void load_campaign(struct loader *ld, struct cd_campaign *cp,
			  const config_setting_t *g, const char *dp)
{
	config_setting_t *vl = config_setting_get_member(g, "variants");
	char vdp[256];
	int t;

	cp->line = (int)config_setting_source_line(g);
	cp->name = get_string(ld, g, dp, "name", NULL, 1);
	t = get_choice(ld, g, dp, "trigger", "delivered", trigger_names, 3);
	cp->trigger = t < 0 ? CD_TRIGGER_DELIVERED : (enum cd_trigger)t;
	cp->delay = get_duration(ld, g, dp, "delay", "7d");
	cp->expire = get_duration(ld, g, dp, "expire", "30d");
	cp->reminder = get_duration(ld, g, dp, "reminder", "0s");
	cp->reminder_template = get_string(ld, g, dp, "reminder_template", "", 0);
	load_packs(ld, cp, g, dp);
	cp->max_rating = (int)get_int(ld, g, dp, "max_rating", 2, 1, 5);
	load_auto_winner(ld, cp, g, dp);
	if (cp->reminder && cp->reminder_template && !*cp->reminder_template)
		report(ld, config_setting_get_member(g, "reminder"), dp,
		       "a reminder needs reminder_template");
	if (cp->reminder && t == CD_TRIGGER_NEGATIVE_FEEDBACK)
		report(ld, config_setting_get_member(g, "reminder"), dp,
		       "an apology gets no reminder");
	if (cp->expire <= cp->delay)
		report(ld, config_setting_get_member(g, "expire"), dp,
		       "expire must be longer than delay, or no mail is ever due");
	if (!vl || config_setting_length(vl) == 0) {
		snprintf(vdp, sizeof(vdp), "%s.variants", dp);
		report(ld, vl ? vl : g, vdp, "a campaign needs at least one variant");
		return;
	}
	cp->nvariants = (size_t)config_setting_length(vl);
	cp->variants = calloc(cp->nvariants, sizeof(*cp->variants));
	if (!cp->variants) {
		ld->oom = ld->failed = 1;
		cp->nvariants = 0;
		return;
	}
	for (size_t i = 0; i < cp->nvariants; i++) {
		snprintf(vdp, sizeof(vdp), "%s.variants[%zu]", dp, i);
		load_variant(ld, &cp->variants[i],
			     config_setting_get_elem(vl, (unsigned)i), vdp);
		for (size_t j = 0; j < i; j++)
			if (cp->variants[i].name && cp->variants[j].name &&
			    strcmp(cp->variants[i].name, cp->variants[j].name) == 0)
				report(ld, config_setting_get_elem(vl, (unsigned)i), vdp,
				       "variant name \"%s\" used twice", cp->variants[i].name);
	}
}

static void load_campaigns(struct loader *ld, struct cd_config *c,
			   const config_setting_t *root)
{
	config_setting_t *l = config_setting_get_member(root, "campaigns");
	char dp[64];

	if (!l || kind_of(l) != K_LIST)
		return;
	c->ncampaigns = (size_t)config_setting_length(l);
	c->campaigns = calloc(c->ncampaigns ? c->ncampaigns : 1, sizeof(*c->campaigns));
	if (!c->campaigns) {
		ld->oom = ld->failed = 1;
		c->ncampaigns = 0;
		return;
	}
	for (size_t i = 0; i < c->ncampaigns; i++) {
		config_setting_t *g = config_setting_get_elem(l, (unsigned)i);

		snprintf(dp, sizeof(dp), "campaigns[%zu]", i);
		load_campaign(ld, &c->campaigns[i], g, dp);
		for (size_t j = 0; j < i; j++)
			if (c->campaigns[i].name && c->campaigns[j].name &&
			    strcmp(c->campaigns[i].name, c->campaigns[j].name) == 0)
				report(ld, g, dp, "campaign name \"%s\" used twice",
				       c->campaigns[i].name);
	}
}

static void load_top(struct loader *ld, struct cd_config *c,
		     const config_setting_t *root)
{
	static const char *const transports[] = {
		[CD_TRANSPORT_SMTP] = "smtp", [CD_TRANSPORT_OUTBOX] = "outbox",
	};
	static const char *const levels[] = {
		[3] = "error", [4] = "warning", [5] = "notice", [6] = "info",
		[7] = "debug",
	};
	config_setting_t *ob = config_setting_get_member(root, "outbox");
	char *s;
	int t;

	s = get_string(ld, root, "", "database", "/var/lib/candor/candor.db", 1);
	c->database = resolve_path(ld, s);
	free(s);
	s = get_string(ld, root, "", "templates", "/etc/candor/templates", 1);
	c->templates = resolve_path(ld, s);
	free(s);
	s = get_string(ld, root, "", "packs", cd_config_default_packs(), 1);
	c->packs = resolve_path(ld, s);
	free(s);
	/* the learned model: beside the packs unless named; "" turns it off */
	s = config_setting_get_member(root, "compliance_model")
	    ? get_string(ld, root, "", "compliance_model", "", 0) : NULL;
	if (s && !*s)
		c->compliance_model = s;
	else if (s) {
		c->compliance_model = resolve_path(ld, s);
		free(s);
	} else if (c->packs && !(c->compliance_model = cd_util_join_path(c->packs, "model.bin")))
		ld->oom = ld->failed = 1;
	t = get_choice(ld, root, "", "log_level", "info", levels, 8);
	c->log_level = t < 0 ? CD_LOG_INFO : t;
	c->poll_interval = get_duration(ld, root, "", "poll_interval", "5m");
	if (c->poll_interval < 10)
		report(ld, config_setting_get_member(root, "poll_interval"),
		       "poll_interval", "must be at least 10s");
	t = get_choice(ld, root, "", "transport", "smtp", transports, 2);
	c->transport = t < 0 ? CD_TRANSPORT_SMTP : (enum cd_transport_kind)t;
	s = get_string(ld, ob, "outbox", "directory", "/var/lib/candor/outbox", 1);
	c->outbox.directory = resolve_path(ld, s);
	free(s);
}

/* libconfig reports "file I/O error" for every open failure; open the file
 * ourselves first so the admin reads the real reason. */
static int read_file(struct loader *ld, config_t *cf)
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
	struct loader ld = { .file = path, .errs = errs };
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
	load_top(&ld, c, root);
	load_shop(&ld, c, root);
	load_smtp(&ld, c, root);
	load_imap(&ld, c, root);
	load_limits(&ld, c, root);
	load_window(&ld, c, root);
	load_campaigns(&ld, c, root);
	load_channels(&ld, c, root);
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

static void free_campaign(struct cd_campaign *cp)
{
	for (size_t j = 0; j < cp->nvariants; j++) {
		free(cp->variants[j].name);
		free(cp->variants[j].template);
	}
	free(cp->variants);
	free(cp->reminder_template);
	for (size_t j = 0; j < cp->npacks; j++)
		free(cp->packs[j]);
	free(cp->packs);
	free(cp->name);
}

void cd_config_free(struct cd_config *c)
{
	if (!c)
		return;
	if (c->smtp.password) {
		cd_util_wipe(c->smtp.password, strlen(c->smtp.password));
		free(c->smtp.password);
	}
	if (c->imap.password) {
		cd_util_wipe(c->imap.password, strlen(c->imap.password));
		free(c->imap.password);
	}
	free(c->imap.url);
	free(c->imap.username);
	free(c->imap.password_file);
	free(c->imap.mailbox);
	free(c->imap.move_to);
	free(c->imap.ca_file);
	for (size_t i = 0; i < c->ncampaigns; i++)
		free_campaign(&c->campaigns[i]);
	free(c->campaigns);
	for (size_t i = 0; i < c->nchannels; i++) {
		free(c->channels[i].name);
		free(c->channels[i].feedback_url);
		free(c->channels[i].review_url);
		free(c->channels[i].unsubscribe_url);
	}
	free(c->channels);
	free(c->shop.footer);
	free(c->shop.footer_html);
	free(c->shop.unsubscribe_url);
	free(c->smtp.url);
	free(c->smtp.username);
	free(c->smtp.password_file);
	free(c->smtp.envelope_from);
	free(c->shop.name);
	free(c->shop.domain);
	free(c->shop.from);
	free(c->shop.reply_to);
	free(c->shop.support);
	free(c->shop.timezone);
	free(c->outbox.directory);
	free(c->database);
	free(c->templates);
	free(c->packs);
	free(c->compliance_model);
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

const char *cd_config_default_packs(void)
{
	return SYSCONFDIR "/candor/packs";
}

const char *cd_config_trigger_name(enum cd_trigger trigger)
{
	return trigger_names[trigger];
}
