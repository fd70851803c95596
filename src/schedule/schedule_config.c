/*
 * schedule_config.c - the limits and send_window sections of
 * candor.conf: how fast, how often per customer, and when in the
 * customer's day (config_parse.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"

static const struct cd_config_field schedule_fields[] = {
	{ "limits", CD_CFG_GROUP },
	{ "limits.global_rate", CD_CFG_STRING },
	{ "limits.daily_cap", CD_CFG_INT },
	{ "limits.domain_rate", CD_CFG_STRING },
	{ "limits.per_customer", CD_CFG_INT },
	{ "limits.per_customer_period", CD_CFG_STRING },
	{ "send_window", CD_CFG_GROUP },
	{ "send_window.start", CD_CFG_STRING },
	{ "send_window.end", CD_CFG_STRING },
	{ "send_window.weekdays", CD_CFG_LIST },
	{ "send_window.weekdays.*", CD_CFG_STRING },
	{ "send_window.blackout", CD_CFG_LIST },
	{ "send_window.blackout.*", CD_CFG_STRING },
	{ NULL, 0 },
};

static void load_limits(struct cd_config_loader *ld, struct cd_config *c,
			const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "limits");

	cd_cfg_rate(ld, g, "limits", "global_rate", "200/hour", &c->limits.global_rate);
	cd_cfg_rate(ld, g, "limits", "domain_rate", "100/hour", &c->limits.domain_rate);
	c->limits.daily_cap = cd_cfg_int(ld, g, "limits", "daily_cap", 2000, 0, 100000000);
	c->limits.per_customer = (int)cd_cfg_int(ld, g, "limits", "per_customer", 3, 0, 1000);
	c->limits.per_customer_period = cd_cfg_duration(ld, g, "limits", "per_customer_period", "90d");
}

static int get_hhmm(struct cd_config_loader *ld, const config_setting_t *g, const char *name,
		    const char *def)
{
	char dp[256];
	config_setting_t *s = cd_cfg_member(g, "send_window", name, dp, sizeof(dp));
	const char *v = def;
	int m;

	if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if ((m = cd_units_hhmm(v)) < 0)
		cd_cfg_report(ld, s, dp, "bad time \"%s\" (write HH:MM, e.g. \"09:00\")", v);
	return m;
}

static void load_weekdays(struct cd_config_loader *ld, struct cd_window *w,
			  const config_setting_t *g)
{
	config_setting_t *l = g ? cd_cfg_list(g, "weekdays") : NULL;
	char dp[64];

	w->weekdays = 0x7e; /* Monday to Saturday */
	if (!l)
		return;
	w->weekdays = 0;
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int d = v ? cd_units_weekday(v) : -1;

		snprintf(dp, sizeof(dp), "send_window.weekdays[%d]", i);
		if (d < 0)
			cd_cfg_report(ld, e, dp, "\"%s\" is not a weekday (mon, tue, ... sun)", v ? v : "");
		else
			w->weekdays |= 1u << d;
	}
	if (!w->weekdays)
		cd_cfg_report(ld, l, "send_window.weekdays", "no weekday left to send on");
}

static void load_blackout(struct cd_config_loader *ld, struct cd_window *w,
			  const config_setting_t *g)
{
	config_setting_t *l = g ? cd_cfg_list(g, "blackout") : NULL;
	char dp[64];

	if (!l)
		return;
	for (int i = 0; i < config_setting_length(l); i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int y, m, d;
		char tail;

		snprintf(dp, sizeof(dp), "send_window.blackout[%d]", i);
		if (!v || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
		    d < 1 || d > 31 || strlen(v) != 10)
			cd_cfg_report(ld, e, dp, "\"%s\" is not a date like \"2026-12-25\"", v ? v : "");
		else if (w->nblackout == CD_MAX_BLACKOUTS)
			cd_cfg_report(ld, e, dp, "at most %d blackout dates", CD_MAX_BLACKOUTS);
		else
			w->blackout[w->nblackout++] = y * 10000 + m * 100 + d;
	}
}

static void load_window(struct cd_config_loader *ld, struct cd_config *c,
			const config_setting_t *root)
{
	config_setting_t *g = config_setting_get_member(root, "send_window");
	struct cd_window *w = &c->window;

	w->start_min = get_hhmm(ld, g, "start", "09:00");
	w->end_min = get_hhmm(ld, g, "end", "20:00");
	if (w->start_min >= 0 && w->end_min >= 0 && w->start_min >= w->end_min)
		cd_cfg_report(ld, g ? config_setting_get_member(g, "end") : NULL, "send_window.end",
		       "must be later than send_window.start");
	load_weekdays(ld, w, g);
	load_blackout(ld, w, g);
}

static void load_schedule(struct cd_config_loader *ld, struct cd_config *c,
			  const config_setting_t *root)
{
	load_limits(ld, c, root);
	load_window(ld, c, root);
}

static void print_window(const struct cd_window *w, FILE *out)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	const char *sep = "";

	fprintf(out, "send_window = {\n  start = \"%02d:%02d\";\n  end = \"%02d:%02d\";\n",
		w->start_min / 60, w->start_min % 60, w->end_min / 60, w->end_min % 60);
	fputs("  weekdays = [", out);
	for (int d = 1; d <= 7; d++) {
		if (w->weekdays & (1u << (d % 7))) {
			fprintf(out, "%s\"%s\"", sep, days[d % 7]);
			sep = ", ";
		}
	}
	fputs("];\n  blackout = [", out);
	for (int i = 0; i < w->nblackout; i++)
		fprintf(out, "%s\"%04d-%02d-%02d\"", i ? ", " : "", w->blackout[i] / 10000,
			w->blackout[i] / 100 % 100, w->blackout[i] % 100);
	fputs("];\n};\n", out);
}

static void print_schedule(const struct cd_config *c, FILE *out)
{
	fputs("limits = {\n", out);
	cd_cfg_put_rate(out, "  ", "global_rate", &c->limits.global_rate);
	cd_cfg_put_rate(out, "  ", "domain_rate", &c->limits.domain_rate);
	fprintf(out, "  daily_cap = %lld;\n", (long long)c->limits.daily_cap);
	fprintf(out, "  per_customer = %d;\n", c->limits.per_customer);
	cd_cfg_put_duration(out, "  ", "per_customer_period", c->limits.per_customer_period);
	fputs("};\n", out);
	print_window(&c->window, out);
}

static void free_schedule(struct cd_config *c)
{
	(void)c;
}

const struct cd_config_section cd_schedule_section = {
	.fields = schedule_fields, .load = load_schedule, .print = print_schedule,
	.free = free_schedule,
};
