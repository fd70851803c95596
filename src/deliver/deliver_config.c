/*
 * deliver_config.c - the outbox and smtp sections of candor.conf: where
 * mail goes and how hard to try (config_parse.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"

static const struct cd_config_field deliver_fields[] = {
	{ "outbox", CD_CFG_GROUP },
	{ "outbox.directory", CD_CFG_STRING },
	{ "smtp", CD_CFG_GROUP },
	{ "smtp.url", CD_CFG_STRING },
	{ "smtp.username", CD_CFG_STRING },
	{ "smtp.password_file", CD_CFG_STRING },
	{ "smtp.envelope_from", CD_CFG_STRING },
	{ "smtp.tls", CD_CFG_STRING },
	{ "smtp.verify_certificate", CD_CFG_BOOL },
	{ "smtp.connections", CD_CFG_INT },
	{ "smtp.connect_timeout", CD_CFG_STRING },
	{ "smtp.timeout", CD_CFG_STRING },
	{ "smtp.retry_min", CD_CFG_STRING },
	{ "smtp.retry_max", CD_CFG_STRING },
	{ "smtp.retry_for", CD_CFG_STRING },
	{ "smtp.pause_retry", CD_CFG_STRING },
	{ "smtp.stop_grace", CD_CFG_STRING },
	{ "smtp.verp", CD_CFG_BOOL },
	{ NULL, 0 },
};

static void load_smtp_only(struct cd_config_loader *ld, struct cd_config *c,
		      const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "smtp");
	int tls;

	c->smtp.url = cd_cfg_string(ld, g, "smtp", "url", "smtp://localhost:25", 1);
	if (c->smtp.url && strncmp(c->smtp.url, "smtp://", 7) != 0 &&
	    strncmp(c->smtp.url, "smtps://", 8) != 0)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "url") : NULL, "smtp.url",
		       "\"%s\" must start with smtp:// or smtps://", c->smtp.url);
	c->smtp.username = cd_cfg_string(ld, g, "smtp", "username", "", 0);
	c->smtp.password_file = cd_cfg_path(ld, g, "smtp", "password_file");
	c->smtp.envelope_from = cd_cfg_string(ld, g, "smtp", "envelope_from", "", 0);
	cd_cfg_address(ld, g, "smtp", "envelope_from", c->smtp.envelope_from);
	tls = cd_cfg_choice(ld, g, "smtp", "tls", "auto", cd_config_tls_names, 3);
	c->smtp.tls = tls < 0 ? CD_TLS_REQUIRED : (enum cd_tls_mode)tls;
	c->smtp.verify_certificate = cd_cfg_bool(g, "verify_certificate", 1);
	c->smtp.connections = (int)cd_cfg_int(ld, g, "smtp", "connections", 2, 1, 64);
	c->smtp.connect_timeout = cd_cfg_duration(ld, g, "smtp", "connect_timeout", "20s");
	c->smtp.timeout = cd_cfg_duration(ld, g, "smtp", "timeout", "60s");
	c->smtp.retry_min = cd_cfg_duration(ld, g, "smtp", "retry_min", "5m");
	c->smtp.retry_max = cd_cfg_duration(ld, g, "smtp", "retry_max", "4h");
	c->smtp.retry_for = cd_cfg_duration(ld, g, "smtp", "retry_for", "2d");
	c->smtp.pause_retry = cd_cfg_duration(ld, g, "smtp", "pause_retry", "15m");
	c->smtp.stop_grace = cd_cfg_duration(ld, g, "smtp", "stop_grace", "5s");
	if (c->smtp.stop_grace > 60)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "stop_grace") : root, "smtp.stop_grace",
			      "at most 60s: systemd's stop timeout (90s) must still cover it");
	c->smtp.verp = cd_cfg_bool(g, "verp", 1);
	if (c->smtp.retry_min <= 0 || c->smtp.retry_max < c->smtp.retry_min)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "retry_max") : root, "smtp.retry_max", "must be at least smtp.retry_min, which must be more than 0s");
	c->smtp.password = cd_cfg_secret(ld, g, "smtp", c->smtp.password_file);
}

static void load_deliver(struct cd_config_loader *ld, struct cd_config *c,
			 const config_setting_t *root)
{
	config_setting_t *ob = config_setting_get_member(root, "outbox");
	char *s = cd_cfg_string(ld, ob, "outbox", "directory", "/var/lib/candor/outbox", 1);

	c->outbox.directory = cd_cfg_resolve(ld, s);
	free(s);
	load_smtp_only(ld, c, root);
}

static void print_smtp(const struct cd_config *c, FILE *out)
{
	static const char *const tls[] = { "auto", "required", "none" };

	fputs("smtp = {\n", out);
	cd_cfg_put_string(out, "  ", "url", c->smtp.url);
	cd_cfg_put_string(out, "  ", "username", c->smtp.username);
	cd_cfg_put_string(out, "  ", "password_file", c->smtp.password_file);
	if (c->smtp.password)
		fputs("  # password: ******** (read from password_file)\n", out);
	cd_cfg_put_string(out, "  ", "envelope_from", c->smtp.envelope_from);
	cd_cfg_put_string(out, "  ", "tls", tls[c->smtp.tls]);
	cd_cfg_put_bool(out, "  ", "verify_certificate", c->smtp.verify_certificate);
	fprintf(out, "  connections = %d;\n", c->smtp.connections);
	cd_cfg_put_duration(out, "  ", "connect_timeout", c->smtp.connect_timeout);
	cd_cfg_put_duration(out, "  ", "timeout", c->smtp.timeout);
	cd_cfg_put_duration(out, "  ", "retry_min", c->smtp.retry_min);
	cd_cfg_put_duration(out, "  ", "retry_max", c->smtp.retry_max);
	cd_cfg_put_duration(out, "  ", "retry_for", c->smtp.retry_for);
	cd_cfg_put_duration(out, "  ", "pause_retry", c->smtp.pause_retry);
	cd_cfg_put_duration(out, "  ", "stop_grace", c->smtp.stop_grace);
	cd_cfg_put_bool(out, "  ", "verp", c->smtp.verp);
	fputs("};\n", out);
}

static void print_deliver(const struct cd_config *c, FILE *out)
{
	fputs("outbox = {\n", out);
	cd_cfg_put_string(out, "  ", "directory", c->outbox.directory);
	fputs("};\n", out);
	print_smtp(c, out);
}

static void free_deliver(struct cd_config *c)
{
	cd_cfg_free_secret(c->smtp.password);
	free(c->smtp.url);
	free(c->smtp.username);
	free(c->smtp.password_file);
	free(c->smtp.envelope_from);
	free(c->outbox.directory);
}

const struct cd_config_section cd_deliver_section = {
	.fields = deliver_fields, .load = load_deliver, .print = print_deliver,
	.free = free_deliver,
};
