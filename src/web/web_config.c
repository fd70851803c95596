/*
 * web_config.c - the http section of candor.conf: where "candord --web"
 * listens, where the shop's reverse proxy publishes it, who may read
 * /metrics, and the limits that keep a flood or a slow client from
 * hurting anyone (config_parse.h). With a public_url, mails' one-click
 * unsubscribe URL defaults to the endpoint.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"
#include "candor/web.h"

static const struct cd_config_field http_fields[] = {
	{ "http", CD_CFG_GROUP },
	{ "http.listen", CD_CFG_STRING },
	{ "http.public_url", CD_CFG_STRING },
	{ "http.metrics_token_file", CD_CFG_STRING },
	{ "http.rate_limit", CD_CFG_STRING },
	{ "http.undo_window", CD_CFG_STRING },
	{ "http.timeout", CD_CFG_STRING },
	{ "http.max_connections", CD_CFG_INT },
	{ "http.connections_per_address", CD_CFG_INT },
	{ NULL, 0 },
};

static void check_listen(struct cd_config_loader *ld, const config_setting_t *g,
			 const char *v)
{
	struct cd_web_addr a;

	if (v && *v && cd_web_parse_listen(v, &a) < 0)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "listen") : NULL, "http.listen",
			      "\"%s\" is not an address and port like 127.0.0.1:8025 or [::1]:8025", v);
}

/* public_url without its trailing slashes; it must not carry a query or
 * a fragment, as paths are appended to it. */
static void check_public_url(struct cd_config_loader *ld, const config_setting_t *g,
			     char *v)
{
	size_t n;

	if (!v || !*v)
		return;
	if (strpbrk(v, "?#{}"))
		cd_cfg_report(ld, g ? config_setting_get_member(g, "public_url") : NULL,
			      "http.public_url", "\"%s\" must be a plain https://host/path URL"
			      " (no query, fragment or placeholder)", v);
	n = strlen(v);
	while (n > 8 && v[n - 1] == '/')
		v[--n] = '\0';
}

/* The shop's one-click unsubscribe URL, when it set none: ours. */
static void default_unsubscribe(struct cd_config_loader *ld, struct cd_config *c)
{
	char *u;

	if (!c->http.public_url || !*c->http.public_url || !c->shop.unsubscribe_url ||
	    *c->shop.unsubscribe_url)
		return;
	if (asprintf(&u, "%s/u/{token}", c->http.public_url) < 0) {
		cd_cfg_oom(ld);
		return;
	}
	free(c->shop.unsubscribe_url);
	c->shop.unsubscribe_url = u;
}

static void load_http(struct cd_config_loader *ld, struct cd_config *c,
		      const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "http");

	c->http.listen = cd_cfg_string(ld, g, "http", "listen", "", 0);
	check_listen(ld, g, c->http.listen);
	c->http.public_url = cd_cfg_url(ld, g, "http", "public_url", NULL);
	check_public_url(ld, g, c->http.public_url);
	c->http.metrics_token_file = cd_cfg_path(ld, g, "http", "metrics_token_file");
	c->http.metrics_token = cd_cfg_secret_file(ld, g, "http", "metrics_token_file",
						   c->http.metrics_token_file);
	if (c->http.metrics_token && strlen(c->http.metrics_token) < 16)
		cd_cfg_report(ld, config_setting_get_member(g, "metrics_token_file"),
			      "http.metrics_token_file", "the token must be at least 16 characters");
	cd_cfg_rate(ld, g, "http", "rate_limit", "50/second", &c->http.rate_limit);
	c->http.undo_window = cd_cfg_duration(ld, g, "http", "undo_window", "7d");
	c->http.timeout = cd_cfg_duration(ld, g, "http", "timeout", "10s");
	if (c->http.timeout < 1 || c->http.timeout > 600)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "timeout") : NULL, "http.timeout",
			      "must be between 1s and 10m");
	c->http.max_connections = (int)cd_cfg_int(ld, g, "http", "max_connections", 1024, 1, 65536);
	c->http.connections_per_address = (int)cd_cfg_int(ld, g, "http", "connections_per_address",
							  256, 1, 65536);
	default_unsubscribe(ld, c);
}

static void print_http(const struct cd_config *c, FILE *out)
{
	fputs("http = {\n", out);
	cd_cfg_put_string(out, "  ", "listen", c->http.listen);
	cd_cfg_put_string(out, "  ", "public_url", c->http.public_url);
	cd_cfg_put_string(out, "  ", "metrics_token_file", c->http.metrics_token_file);
	if (c->http.metrics_token)
		fputs("  # metrics token: ******** (read from metrics_token_file)\n", out);
	cd_cfg_put_rate(out, "  ", "rate_limit", &c->http.rate_limit);
	cd_cfg_put_duration(out, "  ", "undo_window", c->http.undo_window);
	cd_cfg_put_duration(out, "  ", "timeout", c->http.timeout);
	fprintf(out, "  max_connections = %d;\n", c->http.max_connections);
	fprintf(out, "  connections_per_address = %d;\n", c->http.connections_per_address);
	fputs("};\n", out);
}

static void free_http(struct cd_config *c)
{
	cd_cfg_free_secret(c->http.metrics_token);
	free(c->http.listen);
	free(c->http.public_url);
	free(c->http.metrics_token_file);
}

const struct cd_config_section cd_http_section = {
	.fields = http_fields, .load = load_http, .print = print_http, .free = free_http,
};
