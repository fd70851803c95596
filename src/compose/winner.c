/*
 * winner.c - see winner.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/report.h"
#include "candor/store.h"
#include "candor/winner.h"

#define RECHECK 3600 /* seconds between checks before a decision */

/* The rate and p-value auto_winner.metric judges by. */
static double rate_of(const struct cd_report_arm *a, const struct cd_campaign *cp)
{
	return cp->winner_clicks ? a->click_rate : a->rate;
}

static double p_of(const struct cd_report_arm *a, const struct cd_campaign *cp)
{
	return cp->winner_clicks ? a->click_p : a->p;
}

/* The arm that wins C, or NULL: the best rate (feedback or clicks, as
 * auto_winner.metric says), significantly apart from the control (or,
 * for the control, from every challenger). */
static const struct cd_report_arm *decide(const struct cd_report_campaign *c,
					  const struct cd_campaign *cp)
{
	const struct cd_report_arm *best = &c->arms[0], *ctrl = &c->arms[0];
	double alpha = cp->winner_alpha / (double)(c->narms > 1 ? c->narms - 1 : 1);

	for (size_t k = 0; k < c->narms; k++) {
		if (c->arms[k].delivered < cp->winner_min)
			return NULL;
		if (rate_of(&c->arms[k], cp) > rate_of(best, cp))
			best = &c->arms[k];
	}
	if (c->narms < 2)
		return NULL;
	if (best != ctrl)
		return p_of(best, cp) < alpha ? best : NULL;
	for (size_t k = 1; k < c->narms; k++)
		if (p_of(&c->arms[k], cp) >= alpha)
			return NULL;
	return ctrl;
}

void cd_winner_stored(struct cd_store *st, const char *campaign, char *winner, size_t len)
{
	char key[128];

	snprintf(key, sizeof(key), "winner:%s", campaign);
	if (cd_store_meta_get(st, key, winner, len) < 0)
		winner[0] = '\0';
}

int cd_winner_get(struct cd_store *st, const struct cd_config *cfg, const struct cd_campaign *cp,
		  int64_t now, char *winner, size_t len, struct cd_error *err)
{
	char key[128], checked[32], value[32];
	const struct cd_report_arm *w;
	struct cd_report r;
	int rc;

	winner[0] = '\0';
	if (!cp->winner_min || cp->nvariants < 2)
		return 0;
	cd_winner_stored(st, cp->name, winner, len);
	if (winner[0])
		return 0;
	snprintf(key, sizeof(key), "winner_checked:%s", cp->name);
	if (cd_store_meta_get(st, key, checked, sizeof(checked)) == 0 &&
	    now - strtoll(checked, NULL, 10) < RECHECK)
		return 0;
	snprintf(value, sizeof(value), "%lld", (long long)now);
	if ((rc = cd_store_meta_set(st, key, value, err)) < 0 ||
	    (rc = cd_report_build(st, cfg, cp->name, 0, &r, err)) < 0)
		return rc;
	if ((w = decide(&r.campaigns[0], cp)) != NULL) {
		const struct cd_report_arm *ctrl = &r.campaigns[0].arms[0];
		const struct cd_report_arm *other = w == ctrl ? &r.campaigns[0].arms[1] : w;

		snprintf(key, sizeof(key), "winner:%s", cp->name);
		if ((rc = cd_store_meta_set(st, key, w->name, err)) == 0) {
			snprintf(winner, len, "%s", w->name);
			cd_log(CD_LOG_NOTICE, "campaign %s: variant %s wins: %.2f%% %s among %lld"
			       " delivered against %.2f%% among %lld (p = %.2g, below %g%%); the rest of"
			       " the campaign goes with %s", cp->name, w->name, rate_of(w, cp) * 100,
			       cp->winner_clicks ? "clicked" : "feedback", (long long)w->delivered,
			       rate_of(w == ctrl ? other : ctrl, cp) * 100,
			       (long long)(w == ctrl ? other : ctrl)->delivered, p_of(other, cp),
			       cp->winner_alpha * 100, w->name);
		}
	}
	cd_report_free(&r);
	return rc;
}
