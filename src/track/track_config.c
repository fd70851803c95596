/*
 * track_config.c - the imap and tracking sections of candor.conf: the
 * reply mailbox and when soft bounces suppress (config_parse.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"

static const struct cd_config_field track_fields[] = {
	{ "imap", CD_CFG_GROUP },
	{ "imap.url", CD_CFG_STRING },
	{ "imap.username", CD_CFG_STRING },
	{ "imap.password_file", CD_CFG_STRING },
	{ "imap.tls", CD_CFG_STRING },
	{ "imap.verify_certificate", CD_CFG_BOOL },
	{ "imap.ca_file", CD_CFG_STRING },
	{ "imap.mailbox", CD_CFG_STRING },
	{ "imap.move_to", CD_CFG_STRING },
	{ "imap.idle", CD_CFG_BOOL },
	{ "imap.timeout", CD_CFG_STRING },
	{ "imap.max_size", CD_CFG_INT },
	{ "tracking", CD_CFG_GROUP },
	{ "tracking.soft_bounce_limit", CD_CFG_INT },
	{ NULL, 0 },
};

static void load_imap(struct cd_config_loader *ld, struct cd_config *c, const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "imap");
	config_setting_t *t = config_setting_get_member(root, "tracking");
	int tls;

	c->imap.url = cd_cfg_string(ld, g, "imap", "url", "", 0);
	if (c->imap.url && *c->imap.url && strncmp(c->imap.url, "imap://", 7) != 0 &&
	    strncmp(c->imap.url, "imaps://", 8) != 0)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "url") : NULL, "imap.url",
		       "\"%s\" must start with imap:// or imaps://", c->imap.url);
	c->imap.username = cd_cfg_string(ld, g, "imap", "username", "", 0);
	c->imap.password_file = cd_cfg_path(ld, g, "imap", "password_file");
	tls = cd_cfg_choice(ld, g, "imap", "tls", "auto", cd_config_tls_names, 3);
	c->imap.tls = tls < 0 ? CD_TLS_REQUIRED : (enum cd_tls_mode)tls;
	c->imap.verify_certificate = cd_cfg_bool(g, "verify_certificate", 1);
	c->imap.ca_file = cd_cfg_path(ld, g, "imap", "ca_file");
	c->imap.mailbox = cd_cfg_string(ld, g, "imap", "mailbox", "INBOX", 1);
	c->imap.move_to = cd_cfg_string(ld, g, "imap", "move_to", "", 0);
	c->imap.idle = cd_cfg_bool(g, "idle", 1);
	c->imap.timeout = cd_cfg_duration(ld, g, "imap", "timeout", "60s");
	c->imap.max_size = cd_cfg_int(ld, g, "imap", "max_size", 4 << 20, 65536, 1 << 30);
	c->tracking.soft_bounce_limit = (int)cd_cfg_int(ld, t, "tracking", "soft_bounce_limit", 3, 1, 100);
	if (c->imap.url && *c->imap.url && (!c->imap.username || !*c->imap.username))
		cd_cfg_report(ld, g, "imap.username", "is needed with imap.url");
	c->imap.password = cd_cfg_secret(ld, g, "imap", c->imap.password_file);
}

static void print_imap(const struct cd_config *c, FILE *out)
{
	static const char *const tls[] = { "auto", "required", "none" };

	fputs("imap = {\n", out);
	cd_cfg_put_string(out, "  ", "url", c->imap.url);
	cd_cfg_put_string(out, "  ", "username", c->imap.username);
	cd_cfg_put_string(out, "  ", "password_file", c->imap.password_file);
	if (c->imap.password)
		fputs("  # password: ******** (read from password_file)\n", out);
	cd_cfg_put_string(out, "  ", "tls", tls[c->imap.tls]);
	fprintf(out, "  verify_certificate = %s;\n", c->imap.verify_certificate ? "true" : "false");
	cd_cfg_put_string(out, "  ", "ca_file", c->imap.ca_file);
	cd_cfg_put_string(out, "  ", "mailbox", c->imap.mailbox);
	cd_cfg_put_string(out, "  ", "move_to", c->imap.move_to);
	fprintf(out, "  idle = %s;\n", c->imap.idle ? "true" : "false");
	cd_cfg_put_duration(out, "  ", "timeout", c->imap.timeout);
	fprintf(out, "  max_size = %lld;\n", (long long)c->imap.max_size);
	fputs("};\ntracking = {\n", out);
	fprintf(out, "  soft_bounce_limit = %d;\n};\n", c->tracking.soft_bounce_limit);
}

static void free_track(struct cd_config *c)
{
	cd_cfg_free_secret(c->imap.password);
	free(c->imap.url);
	free(c->imap.username);
	free(c->imap.password_file);
	free(c->imap.mailbox);
	free(c->imap.move_to);
	free(c->imap.ca_file);
}

const struct cd_config_section cd_track_section = {
	.fields = track_fields, .load = load_imap, .print = print_imap, .free = free_track,
};
