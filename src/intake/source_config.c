/*
 * source_config.c - the sources section of candor.conf: each entry's
 * name, type, poll interval and `since` window here; the rest of the
 * entry is read by its type (source_impl.h), which owns those settings.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"
#include "candor/source.h"
#include "candor/source_impl.h"

static const struct cd_config_field source_fields[] = {
	{ "sources", CD_CFG_LIST },
	{ "sources.*", CD_CFG_GROUP },
	{ "sources.*.name", CD_CFG_STRING },
	{ "sources.*.type", CD_CFG_STRING },
	{ "sources.*.poll_interval", CD_CFG_STRING },
	{ "sources.*.since", CD_CFG_STRING },
	/* sql */
	{ "sources.*.driver", CD_CFG_STRING },
	{ "sources.*.preset", CD_CFG_STRING },
	{ "sources.*.query", CD_CFG_STRING },
	{ "sources.*.feedback_query", CD_CFG_STRING },
	{ "sources.*.host", CD_CFG_STRING },
	{ "sources.*.port", CD_CFG_INT },
	{ "sources.*.user", CD_CFG_STRING },
	{ "sources.*.password_file", CD_CFG_STRING },
	{ "sources.*.database", CD_CFG_STRING },
	{ "sources.*.table_prefix", CD_CFG_STRING },
	{ "sources.*.tls", CD_CFG_STRING },
	{ "sources.*.tls_ca", CD_CFG_STRING },
	{ "sources.*.timeout", CD_CFG_STRING },
	{ "sources.*.batch", CD_CFG_INT },
	{ "sources.*.channel", CD_CFG_STRING },
	{ "sources.*.feedback", CD_CFG_BOOL },
	{ "sources.*.recheck", CD_CFG_INT },
	{ "sources.*.settle", CD_CFG_STRING },
	/* directory */
	{ "sources.*.path", CD_CFG_STRING },
	/* shopify, woocommerce */
	{ "sources.*.shop", CD_CFG_STRING },
	{ "sources.*.token_file", CD_CFG_STRING },
	{ "sources.*.api_version", CD_CFG_STRING },
	{ "sources.*.url", CD_CFG_STRING },
	{ "sources.*.key_file", CD_CFG_STRING },
	{ "sources.*.secret_file", CD_CFG_STRING },
	{ "sources.*.max_response", CD_CFG_STRING },
	{ NULL, 0 },
};

static const char *const common_settings[] = {
	"name", "type", "poll_interval", "since", NULL,
};

static const struct cd_source_type *const types[] = {
	&cd_source_sql, &cd_source_directory, &cd_source_shopify, &cd_source_woocommerce,
};

const struct cd_source_type *cd_source_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (name && strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

static int listed(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (strcmp(*names, name) == 0)
			return 1;
	return 0;
}

/* The longest window in which any campaign could still mail: a row
 * last changed before it cannot start anything. */
static int64_t longest_window(const struct cd_config *c)
{
	int64_t w = 0;

	for (size_t i = 0; i < c->ncampaigns; i++) {
		int64_t e = c->campaigns[i].expire + c->campaigns[i].reminder;

		if (e > w)
			w = e;
	}
	return w > 0 ? w : 30 * 86400;
}

/* A name goes into log lines, STATUS= and the store: keep it plain. */
static int plain_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static void load_source(struct cd_config_loader *ld, const struct cd_config *cfg,
			struct cd_source_conf *sc, const config_setting_t *g, const char *dp)
{
	char *type;

	char sp[96];

	sc->line = (int)config_setting_source_line(g);
	sc->name = cd_cfg_string(ld, g, dp, "name", NULL, 1);
	snprintf(sp, sizeof(sp), "%s.name", dp);
	if (sc->name && *sc->name && !plain_name(sc->name))
		cd_cfg_report(ld, config_setting_get_member(g, "name"), sp,
			      "source name \"%s\" may hold only letters, digits, '-', '_' and '.'",
			      sc->name);
	type = cd_cfg_string(ld, g, dp, "type", NULL, 1);
	sc->type = cd_source_type_find(type);
	snprintf(sp, sizeof(sp), "%s.type", dp);
	if (type && *type && !sc->type)
		cd_cfg_report(ld, config_setting_get_member(g, "type"), sp,
			      "unknown source type \"%s\" (sql, shopify, woocommerce or directory)", type);
	free(type);
	sc->poll_interval = cd_cfg_duration(ld, g, dp, "poll_interval",
					    sc->type == &cd_source_directory ? "10s" : "5m");
	sc->since = cd_cfg_duration(ld, g, dp, "since", "0s");
	if (!config_setting_get_member(g, "since"))
		sc->since = longest_window(cfg);
	if (config_setting_get_member(g, "poll_interval") && sc->poll_interval < 1)
		cd_cfg_report(ld, config_setting_get_member(g, "poll_interval"), dp,
			      "poll_interval must be at least 1s");
	if (!sc->type)
		return;
	for (unsigned i = 0; i < (unsigned)config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *n = config_setting_name(m);
		char path[128];

		if (listed(common_settings, n) || listed(sc->type->settings, n))
			continue;
		snprintf(path, sizeof(path), "%s.%s", dp, n);
		cd_cfg_report(ld, m, path, "not a setting of a %s source", sc->type->name);
	}
	sc->type->parse(ld, sc, g, dp);
}

static void load_sources(struct cd_config_loader *ld, struct cd_config *c,
			 const config_setting_t *root)
{
	config_setting_t *l = cd_cfg_list(root, "sources");
	char dp[64];

	if (!l)
		return;
	c->nsources = (size_t)config_setting_length(l);
	c->sources = calloc(c->nsources ? c->nsources : 1, sizeof(*c->sources));
	if (!c->sources) {
		cd_cfg_oom(ld);
		c->nsources = 0;
		return;
	}
	for (size_t i = 0; i < c->nsources; i++) {
		config_setting_t *g = config_setting_get_elem(l, (unsigned)i);

		snprintf(dp, sizeof(dp), "sources[%zu]", i);
		load_source(ld, c, &c->sources[i], g, dp);
		for (size_t j = 0; j < i; j++)
			if (c->sources[i].name && c->sources[j].name &&
			    strcmp(c->sources[i].name, c->sources[j].name) == 0)
				cd_cfg_report(ld, g, dp, "source name \"%s\" used twice",
					      c->sources[i].name);
	}
}

static void print_sources(const struct cd_config *c, FILE *out)
{
	if (!c->nsources)
		return;
	fputs("sources = (\n", out);
	for (size_t i = 0; i < c->nsources; i++) {
		const struct cd_source_conf *sc = &c->sources[i];

		fputs("  {\n", out);
		cd_cfg_put_string(out, "    ", "name", sc->name);
		cd_cfg_put_string(out, "    ", "type", sc->type ? sc->type->name : "");
		cd_cfg_put_duration(out, "    ", "poll_interval", sc->poll_interval);
		cd_cfg_put_duration(out, "    ", "since", sc->since);
		if (sc->type && sc->priv)
			sc->type->print(sc, out, "    ");
		fputs(i + 1 < c->nsources ? "  },\n" : "  }\n", out);
	}
	fputs(");\n", out);
}

static void free_sources(struct cd_config *c)
{
	for (size_t i = 0; i < c->nsources; i++) {
		struct cd_source_conf *sc = &c->sources[i];

		if (sc->type && sc->priv)
			sc->type->free_conf(sc);
		free(sc->name);
	}
	free(c->sources);
}

const struct cd_config_section cd_sources_section = {
	.fields = source_fields, .load = load_sources, .print = print_sources,
	.free = free_sources,
};
