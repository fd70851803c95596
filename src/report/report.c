/*
 * report.c - see report.h. The counts come from the store, one grouped
 * read per campaign; the statistics from stats.c; the words are for a
 * marketer.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/experiment.h"
#include "candor/report.h"
#include "candor/store.h"
#include "candor/store_report.h"

#define LIFT 0.2   /* the lift "more deliveries needed" is sized for */
#define POWER 0.8
#define ALPHA 0.05

static struct cd_report_arm *arm_named(struct cd_report_campaign *c, const char *name)
{
	struct cd_report_arm *a;

	for (size_t i = 0; i < c->narms; i++)
		if (strcmp(c->arms[i].name, name) == 0)
			return &c->arms[i];
	if (!(a = realloc(c->arms, (c->narms + 1) * sizeof(*a))))
		return NULL;
	c->arms = a;
	a = &c->arms[c->narms++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	return a;
}

/* Clicks among delivered mails: the feedback rate's statistics. */
static void judge_clicks(struct cd_report_arm *a, const struct cd_report_arm *ctrl)
{
	a->click_rate = a->delivered ? (double)a->clicked / (double)a->delivered : 0;
	a->click_ci = cd_stats_wilson(a->clicked, a->delivered, CD_Z95);
	a->click_p = 1;
	a->click_method = "";
	if (a == ctrl)
		return;
	a->click_lift_abs = a->click_rate - ctrl->click_rate;
	a->click_lift_rel = ctrl->click_rate > 0 ? a->click_lift_abs / ctrl->click_rate : 0;
	a->click_p = cd_stats_p_value(ctrl->clicked, ctrl->delivered, a->clicked, a->delivered,
				      &a->click_method);
}

static void judge(struct cd_report_arm *a, const struct cd_report_arm *ctrl)
{
	double need;

	judge_clicks(a, ctrl);
	a->rate = a->delivered ? (double)a->feedback / (double)a->delivered : 0;
	a->ci = cd_stats_wilson(a->feedback, a->delivered, CD_Z95);
	a->p = 1;
	a->method = "";
	if (a == ctrl) {
		snprintf(a->verdict, sizeof(a->verdict), "control");
		return;
	}
	a->lift_abs = a->rate - ctrl->rate;
	a->lift_rel = ctrl->rate > 0 ? a->lift_abs / ctrl->rate : 0;
	a->p = cd_stats_p_value(ctrl->feedback, ctrl->delivered, a->feedback, a->delivered,
				&a->method);
	if (!a->delivered || !ctrl->delivered) {
		snprintf(a->verdict, sizeof(a->verdict), "nothing delivered yet to compare");
	} else if (a->p < ALPHA) {
		snprintf(a->verdict, sizeof(a->verdict), "%s gets %s feedback than %s (p = %.2g)",
			 a->name, a->rate > ctrl->rate ? "more" : "less", ctrl->name, a->p);
	} else if (ctrl->rate <= 0 || ctrl->rate >= 1 / (1 + LIFT)) {
		snprintf(a->verdict, sizeof(a->verdict),
			 "no difference detected yet (the control's rate is %s to size a test)",
			 ctrl->rate <= 0 ? "too low" : "too high");
	} else {
		int64_t have = a->delivered < ctrl->delivered ? a->delivered : ctrl->delivered;

		need = ceil(cd_stats_needed_per_arm(ctrl->rate, LIFT, ALPHA, POWER));
		a->more_needed = need > (double)have ? (int64_t)need - have : 0;
		snprintf(a->verdict, sizeof(a->verdict),
			 "no difference detected yet: about %lld more deliveries per arm are needed"
			 " to detect a %.0f%% lift with %.0f%% power", (long long)a->more_needed,
			 LIFT * 100, POWER * 100);
	}
}

static int apology_figures(struct cd_store *st, struct cd_report_campaign *c, int64_t since,
			   int64_t window)
{
	struct cd_apology_counts a = { 0 };
	int rc = cd_store_apology_counts(st, c->name, since, window, &a);

	c->apology_replied = a.replied;
	c->feedback_after = a.feedback_after;
	c->rating_up = a.rating_up;
	return rc;
}

static int add_arm(void *arg, const struct cd_variant_counts *v)
{
	struct cd_report_arm *a = arm_named(arg, v->variant ? v->variant : "");

	if (!a)
		return CD_ENOMEM;
	a->sent = v->sent;
	a->bounced = v->bounced;
	a->delivered = a->sent - a->bounced;
	a->replied = v->replied;
	a->unsubscribed = v->unsubscribed;
	a->feedback = v->feedback;
	a->positive = v->positive;
	a->clicked = v->clicked;
	return 0;
}

static int build_campaign(struct cd_store *st, const struct cd_campaign *cp, int64_t since,
			  struct cd_report_campaign *c)
{
	int rc;

	snprintf(c->name, sizeof(c->name), "%s", cp->name);
	c->apology = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK;
	/* arms in the order the configuration lists them: the first is the
	 * control */
	for (size_t i = 0; i < cp->nvariants; i++)
		if (!arm_named(c, cp->variants[i].name))
			return CD_ENOMEM;
	if ((rc = cd_store_variant_counts(st, cp->name, since, cp->expire, add_arm, c)) < 0)
		return rc;
	for (size_t i = 0; i < c->narms; i++)
		judge(&c->arms[i], &c->arms[0]);
	cd_experiment_winner_stored(st, cp->name, c->winner, sizeof(c->winner));
	return c->apology ? apology_figures(st, c, since, cp->expire) : 0;
}

static int count_reason(void *arg, const char *comment)
{
	struct cd_report *r = arg;

	r->reasons[cd_reason_classify(comment)]++;
	r->negative++;
	return 0;
}

static int reasons(struct cd_store *st, const struct cd_config *cfg, int64_t since,
		   struct cd_report *r)
{
	int max_rating = 2;

	for (size_t i = 0; i < cfg->ncampaigns; i++)
		if (cfg->campaigns[i].trigger == CD_TRIGGER_NEGATIVE_FEEDBACK)
			max_rating = cfg->campaigns[i].max_rating;
	return cd_store_negative_comments(st, max_rating, since, count_reason, r);
}

int cd_report_build(struct cd_store *st, const struct cd_config *cfg, const char *campaign,
		    int64_t since, struct cd_report *out, struct cd_error *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->since = since;
	if (campaign && !cd_config_campaign(cfg, campaign))
		return cd_error_set(err, CD_ENOTFOUND, cfg->path, 0, "no campaign \"%s\"", campaign);
	if (!(out->campaigns = calloc(cfg->ncampaigns ? cfg->ncampaigns : 1, sizeof(*out->campaigns))))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	for (size_t i = 0; i < cfg->ncampaigns && rc == 0; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];

		if (campaign && strcmp(campaign, cp->name) != 0)
			continue;
		rc = build_campaign(st, cp, since, &out->campaigns[out->ncampaigns++]);
	}
	if (rc == 0)
		rc = reasons(st, cfg, since, out);
	if (rc < 0) {
		if (rc == CD_ENOMEM)
			cd_error_set(err, rc, NULL, 0, "out of memory");
		else
			cd_store_fail(st, err, "cannot build the report");
		cd_report_free(out);
	}
	return rc;
}

void cd_report_free(struct cd_report *r)
{
	for (size_t i = 0; r->campaigns && i < r->ncampaigns; i++)
		free(r->campaigns[i].arms);
	free(r->campaigns);
	memset(r, 0, sizeof(*r));
}
