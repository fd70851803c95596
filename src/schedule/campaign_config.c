/*
 * campaign_config.c - the campaigns section of candor.conf: what
 * triggers each campaign, its delays, reminder, variants and their
 * weights, the automatic winner and the packs its mail is checked
 * against (config_parse.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "candor/config_parse.h"
#include "candor/util.h"

static const struct cd_config_field campaign_fields[] = {
	{ "campaigns", CD_CFG_LIST },
	{ "campaigns.*", CD_CFG_GROUP },
	{ "campaigns.*.name", CD_CFG_STRING },
	{ "campaigns.*.trigger", CD_CFG_STRING },
	{ "campaigns.*.delay", CD_CFG_STRING },
	{ "campaigns.*.expire", CD_CFG_STRING },
	{ "campaigns.*.reminder", CD_CFG_STRING },
	{ "campaigns.*.reminder_template", CD_CFG_STRING },
	{ "campaigns.*.packs", CD_CFG_LIST },
	{ "campaigns.*.packs.*", CD_CFG_STRING },
	{ "campaigns.*.max_rating", CD_CFG_INT },
	{ "campaigns.*.auto_winner", CD_CFG_GROUP },
	{ "campaigns.*.auto_winner.min_per_arm", CD_CFG_INT },
	{ "campaigns.*.auto_winner.significance", CD_CFG_STRING },
	{ "campaigns.*.auto_winner.metric", CD_CFG_STRING },
	{ "campaigns.*.variants", CD_CFG_LIST },
	{ "campaigns.*.variants.*", CD_CFG_GROUP },
	{ "campaigns.*.variants.*.name", CD_CFG_STRING },
	{ "campaigns.*.variants.*.template", CD_CFG_STRING },
	{ "campaigns.*.variants.*.weight", CD_CFG_INT },
	{ NULL, 0 },
};

/* Template set NAME (GROUP's setting KEY) is a directory in TEMPLATES:
 * checked with the rest of the file, so a missing set is reported with
 * every other error and at its own setting. */
static void need_set(struct cd_config_loader *ld, const char *templates,
		     const config_setting_t *g, const char *dp, const char *key,
		     const char *name)
{
	char *dir, kdp[300];
	struct stat sb;

	if (!cd_cfg_wants(ld, CD_CONFIG_TEMPLATES) || !templates || !name || !*name ||
	    strchr(name, '/') || name[0] == '.')
		return;
	if (!(dir = cd_util_join_path(templates, name))) {
		cd_cfg_oom(ld);
		return;
	}
	snprintf(kdp, sizeof(kdp), "%s.%s", dp, key);
	if (stat(dir, &sb) < 0)
		cd_cfg_report(ld, config_setting_get_member(g, key), kdp,
			      "template set \"%s\" not found: %s: %s", name, dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		cd_cfg_report(ld, config_setting_get_member(g, key), kdp,
			      "template set \"%s\" is not a directory: %s", name, dir);
	free(dir);
}

static void load_variant(struct cd_config_loader *ld, struct cd_variant *v,
			 const config_setting_t *g, const char *dp, const char *templates)
{
	v->line = (int)config_setting_source_line(g);
	v->name = cd_cfg_string(ld, g, dp, "name", NULL, 1);
	v->template = cd_cfg_string(ld, g, dp, "template", NULL, 1);
	v->weight = (unsigned)cd_cfg_int(ld, g, dp, "weight", 1, 1, 1000000);
	if (v->template && (strchr(v->template, '/') || v->template[0] == '.'))
		cd_cfg_report(ld, config_setting_get_member(g, "template"), dp,
		       "template \"%s\" must be a plain name inside the templates directory",
		       v->template);
	need_set(ld, templates, g, dp, "template", v->template);
}

/* The compliance packs a campaign's mail is checked against; their
 * existence is checked when the packs load (templates.c). */
static void load_packs(struct cd_config_loader *ld, struct cd_campaign *cp,
		       const config_setting_t *g, const char *dp)
{
	config_setting_t *l = cd_cfg_list(g, "packs");
	char pdp[256];

	if (!l)
		return;
	cp->packs = calloc((size_t)config_setting_length(l) + 1, sizeof(*cp->packs));
	if (!cp->packs) {
		cd_cfg_oom(ld);
		return;
	}
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);

		snprintf(pdp, sizeof(pdp), "%s.packs[%d]", dp, i);
		if (!v || !*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
			cd_cfg_report(ld, e, pdp, "\"%s\" is not a pack name (lower-case letters, digits, - and _)",
			       v ? v : "");
		else if ((cp->packs[cp->npacks] = cd_cfg_strdup(ld, v)))
			cp->npacks++;
	}
}

/* auto_winner = { min_per_arm = 1000; significance = "1%"; } */
static void load_auto_winner(struct cd_config_loader *ld, struct cd_campaign *cp,
			     const config_setting_t *g, const char *dp)
{
	config_setting_t *w = config_setting_get_member(g, "auto_winner");
	char wdp[256], *sig, *end;
	double a;

	if (!w)
		return;
	snprintf(wdp, sizeof(wdp), "%s.auto_winner", dp);
	cp->winner_min = cd_cfg_int(ld, w, wdp, "min_per_arm", 1000, 10, 100000000);
	sig = cd_cfg_string(ld, w, wdp, "significance", "1%", 0);
	a = sig ? strtod(sig, &end) : 0;
	if (sig && end != sig && *end == '%')
		a /= 100, end++;
	if (!sig || end == sig || *end || a <= 0 || a >= 0.5)
		cd_cfg_report(ld, config_setting_get_member(w, "significance"), wdp,
		       "significance \"%s\" must be a level like \"1%%\" or \"0.01\" (above 0, below 50%%)",
		       sig ? sig : "");
	cp->winner_alpha = a;
	free(sig);
	{
		static const char *const metrics[] = { "feedback", "clicks" };
		int m = cd_cfg_choice(ld, w, wdp, "metric", "feedback", metrics, 2);

		cp->winner_clicks = m == 1;
	}
}

static void load_campaign(struct cd_config_loader *ld, struct cd_campaign *cp,
			  const config_setting_t *g, const char *dp, const char *templates)
{
	config_setting_t *vl = config_setting_get_member(g, "variants");
	char vdp[256];
	int t;

	cp->line = (int)config_setting_source_line(g);
	cp->name = cd_cfg_string(ld, g, dp, "name", NULL, 1);
	t = cd_cfg_choice(ld, g, dp, "trigger", "delivered", cd_config_trigger_names, 3);
	cp->trigger = t < 0 ? CD_TRIGGER_DELIVERED : (enum cd_trigger)t;
	cp->delay = cd_cfg_duration(ld, g, dp, "delay", "7d");
	cp->expire = cd_cfg_duration(ld, g, dp, "expire", "30d");
	cp->reminder = cd_cfg_duration(ld, g, dp, "reminder", "0s");
	cp->reminder_template = cd_cfg_string(ld, g, dp, "reminder_template", "", 0);
	load_packs(ld, cp, g, dp);
	cp->max_rating = (int)cd_cfg_int(ld, g, dp, "max_rating", 2, 1, 5);
	load_auto_winner(ld, cp, g, dp);
	if (cp->reminder && cp->reminder_template && !*cp->reminder_template)
		cd_cfg_report(ld, config_setting_get_member(g, "reminder"), dp,
		       "a reminder needs reminder_template");
	if (cp->reminder)
		need_set(ld, templates, g, dp, "reminder_template", cp->reminder_template);
	if (cp->reminder && t == CD_TRIGGER_NEGATIVE_FEEDBACK)
		cd_cfg_report(ld, config_setting_get_member(g, "reminder"), dp,
		       "an apology gets no reminder");
	if (cp->expire <= cp->delay)
		cd_cfg_report(ld, config_setting_get_member(g, "expire"), dp,
		       "expire must be longer than delay, or no mail is ever due");
	if (!vl || config_setting_length(vl) == 0) {
		snprintf(vdp, sizeof(vdp), "%s.variants", dp);
		cd_cfg_report(ld, vl ? vl : g, vdp, "a campaign needs at least one variant");
		return;
	}
	cp->nvariants = (size_t)config_setting_length(vl);
	cp->variants = calloc(cp->nvariants, sizeof(*cp->variants));
	if (!cp->variants) {
		cd_cfg_oom(ld);
		cp->nvariants = 0;
		return;
	}
	for (size_t i = 0; i < cp->nvariants; i++) {
		snprintf(vdp, sizeof(vdp), "%s.variants[%zu]", dp, i);
		load_variant(ld, &cp->variants[i],
			     config_setting_get_elem(vl, (unsigned)i), vdp, templates);
		for (size_t j = 0; j < i; j++)
			if (cp->variants[i].name && cp->variants[j].name &&
			    strcmp(cp->variants[i].name, cp->variants[j].name) == 0)
				cd_cfg_report(ld, config_setting_get_elem(vl, (unsigned)i), vdp,
				       "variant name \"%s\" used twice", cp->variants[i].name);
	}
}

static void load_campaigns(struct cd_config_loader *ld, struct cd_config *c,
			   const config_setting_t *root)
{
	config_setting_t *l = cd_cfg_list(root, "campaigns");
	char dp[64];

	if (!l)
		return;
	c->ncampaigns = (size_t)config_setting_length(l);
	c->campaigns = calloc(c->ncampaigns ? c->ncampaigns : 1, sizeof(*c->campaigns));
	if (!c->campaigns) {
		cd_cfg_oom(ld);
		c->ncampaigns = 0;
		return;
	}
	for (size_t i = 0; i < c->ncampaigns; i++) {
		config_setting_t *g = config_setting_get_elem(l, (unsigned)i);

		snprintf(dp, sizeof(dp), "campaigns[%zu]", i);
		load_campaign(ld, &c->campaigns[i], g, dp, c->templates);
		for (size_t j = 0; j < i; j++)
			if (c->campaigns[i].name && c->campaigns[j].name &&
			    strcmp(c->campaigns[i].name, c->campaigns[j].name) == 0)
				cd_cfg_report(ld, g, dp, "campaign name \"%s\" used twice",
				       c->campaigns[i].name);
	}
}

static void print_campaign(const struct cd_campaign *cp, FILE *out, int last)
{
	fputs("  {\n", out);
	cd_cfg_put_string(out, "    ", "name", cp->name);
	cd_cfg_put_string(out, "    ", "trigger", cd_config_trigger_name(cp->trigger));
	cd_cfg_put_duration(out, "    ", "delay", cp->delay);
	cd_cfg_put_duration(out, "    ", "expire", cp->expire);
	if (cp->reminder) {
		cd_cfg_put_duration(out, "    ", "reminder", cp->reminder);
		cd_cfg_put_string(out, "    ", "reminder_template", cp->reminder_template);
	}
	if (cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK)
		fprintf(out, "    max_rating = %d;\n", cp->max_rating);
	if (cp->winner_min)
		fprintf(out, "    auto_winner = { min_per_arm = %lld; significance = \"%g%%\";"
			" metric = \"%s\"; };\n", (long long)cp->winner_min, cp->winner_alpha * 100,
			cp->winner_clicks ? "clicks" : "feedback");
	fputs("    packs = [", out);
	for (size_t j = 0; j < cp->npacks; j++)
		fprintf(out, "%s\"%s\"", j ? ", " : "", cp->packs[j]);
	fputs("];\n", out);
	fputs("    variants = (\n", out);
	for (size_t j = 0; j < cp->nvariants; j++) {
		const struct cd_variant *v = &cp->variants[j];

		fputs("      { ", out);
		fprintf(out, "name = \"%s\"; template = \"%s\"; weight = %u; }%s\n",
			v->name, v->template, v->weight,
			j + 1 < cp->nvariants ? "," : "");
	}
	fputs("    );\n", out);
	fprintf(out, "  }%s\n", last ? "" : ",");
}

static void print_campaigns(const struct cd_config *c, FILE *out)
{
	fputs("campaigns = (\n", out);
	for (size_t i = 0; i < c->ncampaigns; i++)
		print_campaign(&c->campaigns[i], out, i + 1 == c->ncampaigns);
	fputs(");\n", out);
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

static void free_campaigns(struct cd_config *c)
{
	for (size_t i = 0; i < c->ncampaigns; i++)
		free_campaign(&c->campaigns[i]);
	free(c->campaigns);
}

const struct cd_config_section cd_campaigns_section = {
	.fields = campaign_fields, .load = load_campaigns, .print = print_campaigns,
	.free = free_campaigns,
};
