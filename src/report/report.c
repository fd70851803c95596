/*
 * report.c - see report.h. The counts come from the store, one grouped
 * read per campaign (by kind, variant, locale and day, summed here into
 * totals, reminders, the locale table and the time series); the
 * statistics from stats.c; the words are for a marketer.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/experiment.h"
#include "candor/report.h"
#include "candor/store.h"
#include "candor/store_report.h"
#include "candor/util.h"

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
			   int64_t until, int64_t window)
{
	struct cd_apology_counts a = { 0 };
	int rc = cd_store_apology_counts(st, c->name, since, until, window, &a);

	c->apology_replied = a.replied;
	c->feedback_after = a.feedback_after;
	c->rating_up = a.rating_up;
	return rc;
}

/* A first request's slice kept while the groups come, by arm index
 * (arms may still be added and move): one locale, or one day. */
struct slice {
	char key[36];               /* the locale; "" for a day */
	int64_t day;
	size_t arm;
	struct cd_report_tally t;
};

struct groups {
	struct cd_report_campaign *c;
	struct slice *locales, *days;
	size_t nlocales, capl, ndays, capd;
};

static void tally_add(struct cd_report_tally *t, const struct cd_message_group *g)
{
	t->sent += g->sent;
	t->bounced += g->bounced;
	t->delivered += g->sent - g->bounced;
	t->feedback += g->feedback;
}

/* A subtag after the language as BCP 47 writes it: a region "GB", a
 * script "Hant". */
static void subtag_case(char *s, size_t n)
{
	if (n == 2) {
		s[0] = (char)toupper((unsigned char)s[0]);
		s[1] = (char)toupper((unsigned char)s[1]);
	} else if (n == 4) {
		s[0] = (char)toupper((unsigned char)s[0]);
	}
}

/* LOCALE as "de-DE" (from "de_de", "DE-de"…), cut to fit; "" when
 * unknown. */
static void locale_key(const char *locale, char *out, size_t len)
{
	size_t i = 0, start = 0;

	for (; locale && locale[i] && i + 1 < len; i++) {
		if (locale[i] == '_' || locale[i] == '-') {
			if (start)
				subtag_case(out + start, i - start);
			out[i] = '-';
			start = i + 1;
			continue;
		}
		out[i] = (char)tolower((unsigned char)locale[i]);
	}
	if (start)
		subtag_case(out + start, i - start);
	out[i] = '\0';
}

static struct slice *slice_add(struct slice **items, size_t *n, size_t *cap)
{
	if (CD_GROW(*items, *n, *cap) < 0)
		return NULL;
	return &(*items)[(*n)++];
}

static int request_group(struct groups *x, size_t arm, const struct cd_message_group *g)
{
	struct cd_report_arm *a = &x->c->arms[arm];
	struct slice *sl;
	char key[36];

	a->sent += g->sent;
	a->bounced += g->bounced;
	a->delivered += g->sent - g->bounced;
	a->replied += g->replied;
	a->unsubscribed += g->unsubscribed;
	a->feedback += g->feedback;
	a->positive += g->positive;
	a->clicked += g->clicked;
	/* merged by locales(), after a sort: a shop may hold thousands */
	locale_key(g->locale, key, sizeof(key));
	if (!(sl = slice_add(&x->locales, &x->nlocales, &x->capl)))
		return CD_ENOMEM;
	memcpy(sl->key, key, sizeof(key));
	sl->arm = arm;
	tally_add(&sl->t, g);
	if (!(sl = slice_add(&x->days, &x->ndays, &x->capd)))
		return CD_ENOMEM;
	sl->day = g->day;
	sl->arm = arm;
	tally_add(&sl->t, g);
	return 0;
}

static int add_group(void *arg, const struct cd_message_group *g)
{
	struct groups *x = arg;
	struct cd_report_campaign *c = x->c;
	struct cd_report_arm *a = arm_named(c, g->variant ? g->variant : "");

	if (!a)
		return CD_ENOMEM;
	if (!c->first_sent || g->first < c->first_sent)
		c->first_sent = g->first;
	if (g->last > c->last_sent)
		c->last_sent = g->last;
	if (g->kind && strcmp(g->kind, "reminder") == 0) {
		tally_add(&a->reminder, g);
		c->reminders += g->sent;
		return 0;
	}
	return request_group(x, (size_t)(a - c->arms), g);
}

static void rate(struct cd_report_tally *t)
{
	t->rate = t->delivered ? (double)t->feedback / (double)t->delivered : 0;
}

static int by_size(const void *a, const void *b)
{
	const struct cd_report_locale *x = a, *y = b;
	int64_t nx, ny;

	/* before the arms, locales() keeps the row's total in slot 0 */
	nx = x->arms[0].sent;
	ny = y->arms[0].sent;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(x->locale, y->locale);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct slice *)a)->key, ((const struct slice *)b)->key);
}

/* The locale slices as a table: one row per locale, one tally per arm,
 * the biggest first. */
static int locales(struct groups *x)
{
	struct cd_report_campaign *c = x->c;
	struct cd_report_locale *l = NULL;
	size_t cap = 0;

	if (!x->nlocales)
		return 0;   /* qsort may not see a NULL array */
	qsort(x->locales, x->nlocales, sizeof(*x->locales), by_key);
	for (size_t i = 0; i < x->nlocales; i++) {
		struct slice *sl = &x->locales[i];
		struct cd_report_tally *t;

		if (!l || strcmp(l->locale, sl->key) != 0) {
			if (CD_GROW(c->locales, c->nlocales, cap) < 0)
				return CD_ENOMEM;
			l = &c->locales[c->nlocales];
			memcpy(l->locale, sl->key, sizeof(l->locale));
			/* one more tally in front: the row's total, for sorting */
			if (!(l->arms = calloc(c->narms + 1, sizeof(*l->arms))))
				return CD_ENOMEM;
			c->nlocales++;
		}
		l->arms[0].sent += sl->t.sent;
		t = &l->arms[sl->arm + 1];
		t->sent += sl->t.sent;
		t->bounced += sl->t.bounced;
		t->delivered += sl->t.delivered;
		t->feedback += sl->t.feedback;
	}
	qsort(c->locales, c->nlocales, sizeof(*c->locales), by_size);
	for (size_t k = 0; k < c->nlocales; k++) {
		struct cd_report_locale *r = &c->locales[k];

		memmove(r->arms, r->arms + 1, c->narms * sizeof(*r->arms));
		for (size_t a = 0; a < c->narms; a++)
			rate(&r->arms[a]);
	}
	return 0;
}

#define DAY 86400
#define MAX_POINTS 104

/* Per day when the mails span at most 62 days; else per week from a
 * Monday (1970-01-01, day 0, was a Thursday), or per several weeks so
 * that no more than MAX_POINTS buckets are drawn. */
static int series(struct groups *x)
{
	struct cd_report_campaign *c = x->c;
	int64_t first = INT64_MAX, last = INT64_MIN, start, step = 1, n;

	for (size_t i = 0; i < x->ndays; i++) {
		if (x->days[i].day < first)
			first = x->days[i].day;
		if (x->days[i].day > last)
			last = x->days[i].day;
	}
	if (!x->ndays || !c->narms)
		return 0;
	start = first;
	if (last - first + 1 > 62) {
		start = first - ((first - 4) % 7 + 7) % 7;
		n = (last - start) / 7 + 1;
		step = 7 * ((n + MAX_POINTS - 1) / MAX_POINTS);
	}
	n = (last - start) / step + 1;
	if (!(c->series = calloc((size_t)n * c->narms, sizeof(*c->series))))
		return CD_ENOMEM;
	c->nbuckets = (size_t)n;
	c->series_start = start * DAY;
	c->series_step = step * DAY;
	for (size_t i = 0; i < x->ndays; i++) {
		struct cd_report_tally *t = &c->series[(size_t)((x->days[i].day - start) / step) *
						       c->narms + x->days[i].arm];

		t->sent += x->days[i].t.sent;
		t->bounced += x->days[i].t.bounced;
		t->delivered += x->days[i].t.delivered;
		t->feedback += x->days[i].t.feedback;
	}
	for (size_t i = 0; i < c->nbuckets * c->narms; i++)
		rate(&c->series[i]);
	return 0;
}

static int build_campaign(struct cd_store *st, const struct cd_campaign *cp, int64_t since,
			  int64_t until, struct cd_report_campaign *c)
{
	struct groups x = { .c = c };
	int rc;

	snprintf(c->name, sizeof(c->name), "%s", cp->name);
	c->apology = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK;
	/* arms in the order the configuration lists them: the first is the
	 * control */
	for (size_t i = 0; i < cp->nvariants; i++)
		if (!arm_named(c, cp->variants[i].name))
			return CD_ENOMEM;
	rc = cd_store_campaign_groups(st, cp->name, since, until, cp->expire, add_group, &x);
	if (rc == 0)
		rc = locales(&x);
	if (rc == 0)
		rc = series(&x);
	free(x.locales);
	free(x.days);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < c->narms; i++) {
		judge(&c->arms[i], &c->arms[0]);
		rate(&c->arms[i].reminder);
	}
	cd_experiment_winner_stored(st, cp->name, c->winner, sizeof(c->winner));
	return c->apology ? apology_figures(st, c, since, until, cp->expire) : 0;
}

static int count_reason(void *arg, const char *comment)
{
	struct cd_report *r = arg;

	r->reasons[cd_reason_classify(comment)]++;
	r->negative++;
	return 0;
}

static int reasons(struct cd_store *st, const struct cd_config *cfg, struct cd_report *r)
{
	int max_rating = 2;

	for (size_t i = 0; i < cfg->ncampaigns; i++)
		if (cfg->campaigns[i].trigger == CD_TRIGGER_NEGATIVE_FEEDBACK)
			max_rating = cfg->campaigns[i].max_rating;
	return cd_store_negative_comments(st, max_rating, r->since, r->until, count_reason, r);
}

/* The sending the whole report covers. */
static void span(struct cd_report *r)
{
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];

		if (c->first_sent && (!r->first_sent || c->first_sent < r->first_sent))
			r->first_sent = c->first_sent;
		if (c->last_sent > r->last_sent)
			r->last_sent = c->last_sent;
	}
}

int cd_report_build(struct cd_store *st, const struct cd_config *cfg, const char *campaign,
		    int64_t since, int64_t until, struct cd_report *out, struct cd_error *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->since = since;
	out->until = until;
	out->generated = cd_util_now();
	snprintf(out->locale, sizeof(out->locale), "%s", cfg->shop.locale ? cfg->shop.locale : "");
	if (campaign && !cd_config_campaign(cfg, campaign))
		return cd_error_set(err, CD_ENOTFOUND, cfg->path, 0, "no campaign \"%s\"", campaign);
	if (!(out->campaigns = calloc(cfg->ncampaigns ? cfg->ncampaigns : 1, sizeof(*out->campaigns))))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	for (size_t i = 0; i < cfg->ncampaigns && rc == 0; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];

		if (campaign && strcmp(campaign, cp->name) != 0)
			continue;
		rc = build_campaign(st, cp, since, until, &out->campaigns[out->ncampaigns++]);
	}
	if (rc == 0)
		rc = reasons(st, cfg, out);
	span(out);
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
	for (size_t i = 0; r->campaigns && i < r->ncampaigns; i++) {
		struct cd_report_campaign *c = &r->campaigns[i];

		for (size_t k = 0; k < c->nlocales; k++)
			free(c->locales[k].arms);
		free(c->locales);
		free(c->series);
		free(c->arms);
	}
	free(r->campaigns);
	memset(r, 0, sizeof(*r));
}
