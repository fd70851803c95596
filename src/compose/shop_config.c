/*
 * shop_config.c - the shop and channels sections of candor.conf: who the
 * mail comes from, the footers, and where each sales channel takes
 * feedback (config_parse.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/config_parse.h"
#include "candor/tz.h"

static const struct cd_config_field shop_fields[] = {
	{ "shop", CD_CFG_GROUP },
	{ "shop.name", CD_CFG_STRING },
	{ "shop.domain", CD_CFG_STRING },
	{ "shop.from", CD_CFG_STRING },
	{ "shop.reply_to", CD_CFG_STRING },
	{ "shop.support", CD_CFG_STRING },
	{ "shop.timezone", CD_CFG_STRING },
	{ "shop.locale", CD_CFG_STRING },
	{ "shop.footer", CD_CFG_STRING },
	{ "shop.footer_html", CD_CFG_STRING },
	{ "shop.unsubscribe_url", CD_CFG_STRING },
	{ NULL, 0 },
};

static const struct cd_config_field channel_fields[] = {
	{ "channels", CD_CFG_LIST },
	{ "channels.*", CD_CFG_GROUP },
	{ "channels.*.name", CD_CFG_STRING },
	{ "channels.*.feedback_url", CD_CFG_STRING },
	{ "channels.*.review_url", CD_CFG_STRING },
	{ "channels.*.unsubscribe_url", CD_CFG_STRING },
	{ "channels.*.track_clicks", CD_CFG_BOOL },
	{ NULL, 0 },
};

static void check_timezone(struct cd_config_loader *ld, const config_setting_t *group,
			   const char *v)
{
	char dp[256];
	config_setting_t *s = cd_cfg_member(group, "shop", "timezone", dp, sizeof(dp));
	int known = v ? cd_tz_known(v) : 1;

	if (known < 0)
		cd_cfg_report(ld, s, dp, "\"%s\" is not a time zone name like Europe/Berlin", v);
	else if (!known)
		cd_cfg_report(ld, s, dp, "unknown time zone \"%s\" (not in the tz database)", v);
}

/* A language tag like "de" or "pt-BR": letters, digits, '-' and '_'. */
static void check_locale(struct cd_config_loader *ld, const config_setting_t *group,
			 const char *v)
{
	size_t n = v ? strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") : 0;

	if (v && *v && (v[n] || n > 35 || !isalpha((unsigned char)v[0])))
		cd_cfg_report(ld, config_setting_get_member(group, "locale"), "shop.locale",
			      "\"%s\" is not a language tag like de or en-GB", v);
}

static void load_shop(struct cd_config_loader *ld, struct cd_config *c,
		      const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "shop");

	if (!g) {
		cd_cfg_report(ld, root, "shop", "missing required group (name, domain, from)");
		return;
	}
	c->shop.name = cd_cfg_string(ld, g, "shop", "name", NULL, 1);
	c->shop.domain = cd_cfg_string(ld, g, "shop", "domain", NULL, 1);
	c->shop.from = cd_cfg_string(ld, g, "shop", "from", NULL, 1);
	c->shop.reply_to = cd_cfg_string(ld, g, "shop", "reply_to",
				      c->shop.from ? c->shop.from : "", 0);
	c->shop.support = cd_cfg_string(ld, g, "shop", "support",
				     c->shop.from ? c->shop.from : "", 0);
	c->shop.timezone = cd_cfg_string(ld, g, "shop", "timezone", "UTC", 1);
	cd_cfg_address(ld, g, "shop", "from", c->shop.from);
	cd_cfg_address(ld, g, "shop", "reply_to", c->shop.reply_to);
	cd_cfg_address(ld, g, "shop", "support", c->shop.support);
	check_timezone(ld, g, c->shop.timezone);
	/* the language of reports; "" is the shipped templates' default, English */
	c->shop.locale = cd_cfg_string(ld, g, "shop", "locale", "", 0);
	check_locale(ld, g, c->shop.locale);
	if (c->shop.domain && !strchr(c->shop.domain, '.'))
		cd_cfg_report(ld, config_setting_get_member(g, "domain"), "shop.domain",
		       "\"%s\" is not a domain name like shop.example", c->shop.domain);
	c->shop.footer = cd_cfg_string(ld, g, "shop", "footer", "", 0);
	c->shop.footer_html = cd_cfg_string(ld, g, "shop", "footer_html", "", 0);
	c->shop.unsubscribe_url = cd_cfg_url(ld, g, "shop", "unsubscribe_url", "{token}");
}

static int amazon(const char *name)
{
	return name && strcasecmp(name, "amazon") == 0;
}

static void load_channel(struct cd_config_loader *ld, struct cd_channel *ch,
			 const config_setting_t *g, const char *dp)
{
	ch->name = cd_cfg_string(ld, g, dp, "name", NULL, 1);
	ch->feedback_url = cd_cfg_url(ld, g, dp, "feedback_url", NULL);
	ch->review_url = cd_cfg_url(ld, g, dp, "review_url", "{product}");
	/* absent: the shop's; "": none for this channel (Amazon's own
	 * messaging handles opting out, and allows no outside links) */
	if (config_setting_get_member(g, "unsubscribe_url"))
		ch->unsubscribe_url = cd_cfg_url(ld, g, dp, "unsubscribe_url", "{token}");
	/* review links go through our /c/ redirect when http.public_url is
	 * set; Amazon allows only its own links in a buyer message */
	ch->track_clicks = cd_cfg_bool(g, "track_clicks", !amazon(ch->name));
	if (ch->track_clicks && amazon(ch->name))
		cd_cfg_report(ld, config_setting_get_member(g, "track_clicks"), dp,
			      "track_clicks cannot be on for Amazon, which allows only its own links");
}

static void load_channels(struct cd_config_loader *ld, struct cd_config *c,
			  const config_setting_t *root)
{
	config_setting_t *l = cd_cfg_list(root, "channels");
	char dp[64];

	if (!l)
		return;
	c->nchannels = (size_t)config_setting_length(l);
	c->channels = calloc(c->nchannels ? c->nchannels : 1, sizeof(*c->channels));
	if (!c->channels) {
		cd_cfg_oom(ld);
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
				cd_cfg_report(ld, g, dp, "channel name \"%s\" used twice",
				       c->channels[i].name);
	}
}

static void print_shop(const struct cd_config *c, FILE *out)
{
	fputs("shop = {\n", out);
	cd_cfg_put_string(out, "  ", "name", c->shop.name);
	cd_cfg_put_string(out, "  ", "domain", c->shop.domain);
	cd_cfg_put_string(out, "  ", "from", c->shop.from);
	cd_cfg_put_string(out, "  ", "reply_to", c->shop.reply_to);
	cd_cfg_put_string(out, "  ", "support", c->shop.support);
	cd_cfg_put_string(out, "  ", "timezone", c->shop.timezone);
	cd_cfg_put_string(out, "  ", "locale", c->shop.locale);
	cd_cfg_put_string(out, "  ", "footer", c->shop.footer);
	cd_cfg_put_string(out, "  ", "footer_html", c->shop.footer_html);
	cd_cfg_put_string(out, "  ", "unsubscribe_url", c->shop.unsubscribe_url);
	fputs("};\n", out);
}

static void print_channels(const struct cd_config *c, FILE *out)
{
	fputs("channels = (\n", out);
	for (size_t i = 0; i < c->nchannels; i++) {
		fputs("  {\n", out);
		cd_cfg_put_string(out, "    ", "name", c->channels[i].name);
		cd_cfg_put_string(out, "    ", "feedback_url", c->channels[i].feedback_url);
		cd_cfg_put_string(out, "    ", "review_url", c->channels[i].review_url);
		if (c->channels[i].unsubscribe_url)
			cd_cfg_put_string(out, "    ", "unsubscribe_url", c->channels[i].unsubscribe_url);
		cd_cfg_put_bool(out, "    ", "track_clicks", c->channels[i].track_clicks);
		fputs(i + 1 == c->nchannels ? "  }\n" : "  },\n", out);
	}
	fputs(");\n", out);
}

static void free_shop(struct cd_config *c)
{
	free(c->shop.name);
	free(c->shop.domain);
	free(c->shop.from);
	free(c->shop.reply_to);
	free(c->shop.support);
	free(c->shop.timezone);
	free(c->shop.locale);
	free(c->shop.footer);
	free(c->shop.footer_html);
	free(c->shop.unsubscribe_url);
}

static void free_channels(struct cd_config *c)
{
	for (size_t i = 0; i < c->nchannels; i++) {
		free(c->channels[i].name);
		free(c->channels[i].feedback_url);
		free(c->channels[i].review_url);
		free(c->channels[i].unsubscribe_url);
	}
	free(c->channels);
}

const struct cd_config_section cd_shop_section = {
	.fields = shop_fields, .load = load_shop, .print = print_shop, .free = free_shop,
};

const struct cd_config_section cd_channels_section = {
	.fields = channel_fields, .load = load_channels, .print = print_channels,
	.free = free_channels,
};
