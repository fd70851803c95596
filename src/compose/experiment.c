/*
 * experiment.c - see experiment.h. The variant choice is a pure function
 * of the order and the campaign; the winner reads its counts through a
 * store verb and judges them with stats.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/experiment.h"
#include "candor/log.h"
#include "candor/stats.h"
#include "candor/store.h"
#include "candor/store_report.h"

#define RECHECK 3600 /* seconds between checks before a decision */

/* Same order, same campaign, same arm: a restart never moves an order. */
const struct cd_variant *cd_experiment_variant(const struct cd_campaign *cp,
					       const char *order_id)
{
	uint64_t h = 1469598103934665603ULL, total = 0, x;

	for (const char *p = order_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = cp->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	/* FNV's low bits follow sequential ids too closely for "mod total":
	 * mix all 64 bits into them (splitmix64's finalizer) */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	for (size_t i = 0; i < cp->nvariants; i++)
		total += cp->variants[i].weight;
	x = h % total;
	for (size_t i = 0; i < cp->nvariants; i++) {
		if (x < cp->variants[i].weight)
			return &cp->variants[i];
		x -= cp->variants[i].weight;
	}
	return &cp->variants[0];
}

int cd_experiment_decide(const struct cd_campaign *cp, struct cd_experiment_arm *arms,
			 size_t n)
{
	double alpha = cp->winner_alpha / (double)(n > 1 ? n - 1 : 1);
	size_t best = 0;

	if (n == 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		struct cd_experiment_arm *a = &arms[k];

		a->rate = a->delivered ? (double)a->feedback / (double)a->delivered : 0;
		a->p = k == 0 ? 1 : cd_stats_p_value(arms[0].feedback, arms[0].delivered,
						     a->feedback, a->delivered, NULL);
	}
	for (size_t k = 0; k < n; k++) {
		if (arms[k].delivered < cp->winner_min)
			return -1;
		if (arms[k].rate > arms[best].rate)
			best = k;
	}
	if (n < 2)
		return -1;
	if (best != 0)
		return arms[best].p < alpha ? (int)best : -1;
	for (size_t k = 1; k < n; k++)
		if (arms[k].p >= alpha)
			return -1;
	return 0;
}

void cd_experiment_winner_stored(struct cd_store *st, const char *campaign, char *winner,
				 size_t len)
{
	if (cd_store_winner(st, campaign, winner, len) < 0)
		winner[0] = '\0';
}

struct arms {
	struct cd_experiment_arm *a;
	size_t n;
	int clicks;       /* auto_winner.metric = "clicks" */
};

/* The arm called NAME, added at the end if new; NULL when out of memory. */
static struct cd_experiment_arm *arm_named(struct arms *arms, const char *name)
{
	struct cd_experiment_arm *a;

	for (size_t i = 0; i < arms->n; i++)
		if (strcmp(arms->a[i].name, name) == 0)
			return &arms->a[i];
	if (!(a = realloc(arms->a, (arms->n + 1) * sizeof(*a))))
		return NULL;
	arms->a = a;
	a = &arms->a[arms->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	return a;
}

/* The successes counted are what auto_winner.metric names: feedback
 * received, or review links clicked (the web endpoint's events). */
static int add_counts(void *arg, const struct cd_variant_counts *c)
{
	struct arms *arms = arg;
	struct cd_experiment_arm *a = arm_named(arms, c->variant ? c->variant : "");

	if (!a)
		return CD_ENOMEM;
	a->delivered = c->sent - c->bounced;
	a->feedback = arms->clicks ? c->clicked : c->feedback;
	return 0;
}

/* CP's arms in the order the configuration lists them (the first is the
 * control), then any variant only the messages still name; a variant
 * not sent yet has no deliveries, so no decision is taken before every
 * arm has its share. */
static int load_arms(struct cd_store *st, const struct cd_campaign *cp, struct arms *arms,
		     struct cd_error *err)
{
	int rc;

	for (size_t i = 0; i < cp->nvariants; i++)
		if (!arm_named(arms, cp->variants[i].name))
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	rc = cd_store_variant_counts(st, cp->name, 0, cp->expire, add_counts, arms);
	if (rc == CD_ENOMEM)
		return cd_error_set(err, rc, NULL, 0, "out of memory");
	if (rc < 0)
		return cd_store_fail(st, err, "cannot count the campaign's variants");
	return 0;
}

static void log_decision(const struct cd_campaign *cp, const struct arms *arms, size_t w)
{
	const struct cd_experiment_arm *win = &arms->a[w];
	/* the control's winning margin is the one over the first challenger */
	const struct cd_experiment_arm *other = w == 0 ? &arms->a[1] : win;
	const struct cd_experiment_arm *loser = w == 0 ? other : &arms->a[0];

	cd_log(CD_LOG_NOTICE, "campaign %s: variant %s wins: %.2f%% %s among %lld"
	       " delivered against %.2f%% among %lld (p = %.2g, below %g%%); the rest of"
	       " the campaign goes with %s", cp->name, win->name, win->rate * 100,
	       cp->winner_clicks ? "clicked" : "feedback",
	       (long long)win->delivered, loser->rate * 100, (long long)loser->delivered,
	       other->p, cp->winner_alpha * 100, win->name);
}

int cd_experiment_winner_get(struct cd_store *st, const struct cd_campaign *cp, int64_t now,
			     char *winner, size_t len, struct cd_error *err)
{
	struct arms arms = { .clicks = cp->winner_clicks };
	int64_t checked;
	int rc, w;

	winner[0] = '\0';
	if (!cp->winner_min || cp->nvariants < 2)
		return 0;
	cd_experiment_winner_stored(st, cp->name, winner, len);
	if (winner[0])
		return 0;
	if (cd_store_winner_checked(st, cp->name, &checked) == 0 && now - checked < RECHECK)
		return 0;
	if ((rc = cd_store_winner_checked_set(st, cp->name, now, err)) < 0 ||
	    (rc = load_arms(st, cp, &arms, err)) < 0)
		goto out;
	/* several daemons may decide at the same moment: the first decision
	 * written stands, and every one of them goes with it */
	if ((w = cd_experiment_decide(cp, arms.a, arms.n)) >= 0 &&
	    (rc = cd_store_winner_decide(st, cp->name, arms.a[w].name, winner, len, err)) >= 0) {
		if (rc == 1)
			log_decision(cp, &arms, (size_t)w);
		else
			cd_log(CD_LOG_INFO, "campaign %s: variant %s won, as another candord decided",
			       cp->name, winner);
		rc = 0;
	}
out:
	free(arms.a);
	return rc;
}
