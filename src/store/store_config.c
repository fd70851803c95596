/*
 * store_config.c - the store section of candor.conf: which engine, and
 * for PostgreSQL how to reach it (config_parse.h); and opening the store
 * a configuration names. SQLite's file stays the top-level "database".
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"
#include "candor/store.h"

static const char *const engines[] = {
	[CD_STORE_SQLITE] = "sqlite", [CD_STORE_POSTGRESQL] = "postgresql",
};

static const char *const sslmodes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
};

static const struct cd_config_field store_fields[] = {
	{ "store", CD_CFG_GROUP },
	{ "store.engine", CD_CFG_STRING },
	{ "store.conninfo", CD_CFG_STRING },
	{ "store.host", CD_CFG_STRING },
	{ "store.port", CD_CFG_INT },
	{ "store.user", CD_CFG_STRING },
	{ "store.password_file", CD_CFG_STRING },
	{ "store.database", CD_CFG_STRING },
	{ "store.sslmode", CD_CFG_STRING },
	{ "store.ca_file", CD_CFG_STRING },
	{ NULL, 0 },
};

static config_setting_t *member(const config_setting_t *g, const char *name)
{
	return g ? config_setting_get_member(g, name) : NULL;
}

/* The conninfo string must parse, and must not carry a password: secrets
 * come from files. */
static void check_conninfo(struct cd_config_loader *ld, const config_setting_t *g,
			   const char *ci)
{
	PQconninfoOption *opts;
	char *msg = NULL;

	if (!ci || !*ci)
		return;
	if (!(opts = PQconninfoParse(ci, &msg))) {
		char *nl = msg ? strchr(msg, '\n') : NULL;

		if (nl)
			*nl = '\0';
		cd_cfg_report(ld, member(g, "conninfo"), "store.conninfo", "%s",
			      msg ? msg : "out of memory");
		PQfreemem(msg);
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			cd_cfg_report(ld, member(g, "conninfo"), "store.conninfo",
				      "holds a password; put it in a file named by store.password_file");
	PQconninfoFree(opts);
}

static void load_store(struct cd_config_loader *ld, struct cd_config *c,
		       const config_setting_t *root)
{
	static const char *const pg_only[] = {
		"conninfo", "host", "port", "user", "password_file", "database", "sslmode", "ca_file",
	};
	config_setting_t *g = config_setting_get_member(root, "store");
	int e, m;

	e = cd_cfg_choice(ld, g, "store", "engine", "sqlite", engines, 2);
	c->store.engine = e < 0 ? CD_STORE_SQLITE : e;
	c->store.conninfo = cd_cfg_string(ld, g, "store", "conninfo", "", 0);
	c->store.host = cd_cfg_string(ld, g, "store", "host", "", 0);
	c->store.port = (int)cd_cfg_int(ld, g, "store", "port", 0, 0, 65535);
	c->store.user = cd_cfg_string(ld, g, "store", "user", "", 0);
	c->store.password_file = cd_cfg_path(ld, g, "store", "password_file");
	c->store.database = cd_cfg_string(ld, g, "store", "database", "", 0);
	c->store.ca_file = cd_cfg_path(ld, g, "store", "ca_file");
	m = member(g, "sslmode") ? cd_cfg_choice(ld, g, "store", "sslmode", "", sslmodes, 6) : -1;
	c->store.sslmode = cd_cfg_strdup(ld, m >= 0 ? sslmodes[m] : "");
	if (c->store.engine == CD_STORE_SQLITE) {
		for (size_t i = 0; i < sizeof(pg_only) / sizeof(pg_only[0]); i++) {
			config_setting_t *s = member(g, pg_only[i]);
			char path[64];

			snprintf(path, sizeof(path), "store.%s", pg_only[i]);
			if (s)
				cd_cfg_report(ld, s, path,
					      "is for engine \"postgresql\"; the SQLite file is \"database\"");
		}
		return;
	}
	check_conninfo(ld, g, c->store.conninfo);
	if (c->store.conninfo && !*c->store.conninfo && c->store.database && !*c->store.database)
		cd_cfg_report(ld, g, "store.database", "is needed with engine \"postgresql\""
			      " (or a conninfo that names the database)");
}

static void print_store(const struct cd_config *c, FILE *out)
{
	fputs("store = {\n", out);
	cd_cfg_put_string(out, "  ", "engine", engines[c->store.engine]);
	if (c->store.engine == CD_STORE_POSTGRESQL) {
		cd_cfg_put_string(out, "  ", "conninfo", c->store.conninfo);
		cd_cfg_put_string(out, "  ", "host", c->store.host);
		fprintf(out, "  port = %d;\n", c->store.port);
		cd_cfg_put_string(out, "  ", "user", c->store.user);
		cd_cfg_put_string(out, "  ", "password_file", c->store.password_file);
		cd_cfg_put_string(out, "  ", "database", c->store.database);
		cd_cfg_put_string(out, "  ", "sslmode", c->store.sslmode);
		cd_cfg_put_string(out, "  ", "ca_file", c->store.ca_file);
	}
	fputs("};\n", out);
}

static void free_store(struct cd_config *c)
{
	free(c->store.conninfo);
	free(c->store.host);
	free(c->store.user);
	free(c->store.password_file);
	free(c->store.database);
	free(c->store.sslmode);
	free(c->store.ca_file);
}

const struct cd_config_section cd_store_section = {
	.fields = store_fields, .load = load_store, .print = print_store, .free = free_store,
};

void cd_store_config_where(const struct cd_config *cfg, char *buf, size_t len)
{
	if (cfg->store.engine != CD_STORE_POSTGRESQL)
		snprintf(buf, len, "sqlite %s", cfg->database);
	else if (cfg->store.conninfo && *cfg->store.conninfo)
		snprintf(buf, len, "postgresql (store.conninfo)");
	else if (cfg->store.port)
		snprintf(buf, len, "postgresql://%s@%s:%d/%s", cfg->store.user ? cfg->store.user : "",
			 cfg->store.host ? cfg->store.host : "", cfg->store.port,
			 cfg->store.database ? cfg->store.database : "");
	else
		snprintf(buf, len, "postgresql://%s@%s/%s", cfg->store.user ? cfg->store.user : "",
			 cfg->store.host ? cfg->store.host : "",
			 cfg->store.database ? cfg->store.database : "");
}

int cd_store_open_config(const struct cd_config *cfg, int flags, struct cd_store **out,
			 struct cd_error *err)
{
	struct cd_store_target t = {
		.engine = (enum cd_store_engine)cfg->store.engine, .path = cfg->database,
		.conninfo = cfg->store.conninfo, .host = cfg->store.host,
		.user = cfg->store.user, .database = cfg->store.database,
		.sslmode = cfg->store.sslmode, .ca_file = cfg->store.ca_file,
		.password_file = cfg->store.password_file, .port = cfg->store.port,
	};

	return cd_store_open_target(&t, flags, out, err);
}
