/*
 * report.c - see report.h. The counts come from one grouped query per
 * campaign; the statistics from stats.c; the words are for a marketer.
 */
#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/report.h"
#include "candor/store.h"
#include "candor/winner.h"

#define LIFT 0.2   /* the lift "more deliveries needed" is sized for */
#define POWER 0.8
#define ALPHA 0.05

/* Per variant, over request messages that were sent: bounced, replied,
 * unsubscribed (events), and among the delivered ones feedback received
 * within the campaign window after the mail (?3), and positive (4-5). */
static const char arm_sql[] =
	"SELECT m.variant, count(*),"
	" sum(b.id IS NOT NULL),"
	" sum(EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'replied')),"
	" sum(EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'unsubscribed')),"
	" sum(b.id IS NULL AND EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id"
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3)),"
	" sum(b.id IS NULL AND EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id"
	"  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3 AND f.rating >= 4)),"
	" sum(b.id IS NULL AND EXISTS (SELECT 1 FROM events e WHERE e.message = m.id"
	"  AND e.kind = 'clicked'))"
	" FROM messages m LEFT JOIN events b ON b.id = (SELECT min(id) FROM events x"
	"  WHERE x.message = m.id AND x.kind = 'bounced')"
	" WHERE m.campaign = ?1 AND m.kind = 'request' AND m.state = 'sent' AND m.created >= ?2"
	" GROUP BY m.variant";

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
	sqlite3_stmt *s;
	int rc;

	/* feedback left after the apology, and how many rated higher than
	 * the feedback that started it */
	if (sqlite3_prepare_v2(cd_store_db(st),
			       "SELECT sum(EXISTS (SELECT 1 FROM events e WHERE e.message = m.id AND e.kind = 'replied')),"
			       " sum(EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id"
			       "  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3)),"
			       " sum(EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id"
			       "  AND f.received > m.sent_at AND f.received <= m.sent_at + ?3"
			       "  AND f.rating > (SELECT min(rating) FROM feedback g WHERE g.order_id = m.order_id"
			       "   AND g.received <= m.sent_at)))"
			       " FROM messages m WHERE m.campaign = ?1 AND m.kind = 'request'"
			       " AND m.state = 'sent' AND m.created >= ?2", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, window);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->apology_replied = sqlite3_column_int64(s, 0);
		c->feedback_after = sqlite3_column_int64(s, 1);
		c->rating_up = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : CD_ESTORE;
}

static int build_campaign(struct cd_store *st, const struct cd_campaign *cp, int64_t since,
			  struct cd_report_campaign *c)
{
	sqlite3_stmt *s;
	int rc;

	snprintf(c->name, sizeof(c->name), "%s", cp->name);
	c->apology = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK;
	/* arms in the order the configuration lists them: the first is the
	 * control */
	for (size_t i = 0; i < cp->nvariants; i++)
		if (!arm_named(c, cp->variants[i].name))
			return CD_ENOMEM;
	if (sqlite3_prepare_v2(cd_store_db(st), arm_sql, -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, cp->expire);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cd_report_arm *a = arm_named(c, (const char *)sqlite3_column_text(s, 0));

		if (!a) {
			sqlite3_finalize(s);
			return CD_ENOMEM;
		}
		a->sent = sqlite3_column_int64(s, 1);
		a->bounced = sqlite3_column_int64(s, 2);
		a->delivered = a->sent - a->bounced;
		a->replied = sqlite3_column_int64(s, 3);
		a->unsubscribed = sqlite3_column_int64(s, 4);
		a->feedback = sqlite3_column_int64(s, 5);
		a->positive = sqlite3_column_int64(s, 6);
		a->clicked = sqlite3_column_int64(s, 7);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return CD_ESTORE;
	for (size_t i = 0; i < c->narms; i++)
		judge(&c->arms[i], &c->arms[0]);
	cd_winner_stored(st, cp->name, c->winner, sizeof(c->winner));
	return c->apology ? apology_figures(st, c, since, cp->expire) : 0;
}

static int reasons(struct cd_store *st, const struct cd_config *cfg, int64_t since,
		   struct cd_report *r)
{
	int max_rating = 2;
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < cfg->ncampaigns; i++)
		if (cfg->campaigns[i].trigger == CD_TRIGGER_NEGATIVE_FEEDBACK)
			max_rating = cfg->campaigns[i].max_rating;
	if (sqlite3_prepare_v2(cd_store_db(st), "SELECT comment FROM feedback"
			       " WHERE rating <= ?1 AND received >= ?2", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_int(s, 1, max_rating);
	sqlite3_bind_int64(s, 2, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r->reasons[cd_reason_classify((const char *)sqlite3_column_text(s, 0))]++;
		r->negative++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
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
