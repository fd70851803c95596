/*
 * experiment.h - a campaign's A/B test, on the sending path: which
 * variant an order gets, and the optional automatic winner.
 *
 * The variant is a hash of the order and the campaign against the
 * weights, so a restart never moves an order to another arm. Once every
 * variant has auto_winner.min_per_arm deliveries and the best one differs
 * from the control at auto_winner.significance (divided by the number of
 * comparisons, so three challengers do not get three chances), the rest
 * of the campaign goes with it. The decision is kept in the database and
 * logged with its figures; it is never taken back automatically (an
 * admin deletes meta "winner:CAMPAIGN" to restart).
 *
 * The counts come from the store, the statistics from stats.h; nothing
 * here runs through reports.
 */
#ifndef CANDOR_EXPERIMENT_H
#define CANDOR_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_campaign;
struct cd_store;
struct cd_variant;

/* One arm of a test, as the decision sees it. */
struct cd_experiment_arm {
	char name[64];
	int64_t delivered, feedback;  /* given; feedback counts clicks when
				       * auto_winner.metric = "clicks" */
	double rate;                  /* set: feedback / delivered, 0 when none */
	double p;                     /* set: against the control; 1 for it */
};

/* The variant of CP for ORDER_ID. Borrowed from CP. */
const struct cd_variant *cd_experiment_variant(const struct cd_campaign *cp,
					       const char *order_id);

/* Which of ARMS (N of them, ARMS[0] the control) wins CP's test: its
 * index, or -1 while none does. A challenger wins with the best rate and
 * a p-value under CP's significance divided by N - 1; the control, when
 * its rate is the best and every challenger is that far from it. Never
 * before each arm has CP's min_per_arm deliveries. Sets each arm's rate
 * and p. */
int cd_experiment_decide(const struct cd_campaign *cp, struct cd_experiment_arm *arms,
			 size_t n);

/* Into WINNER (LEN bytes): CP's winner, deciding now if it is time (at
 * most once an hour before a decision, as the check reads every message
 * of the campaign). "" when there is none. Returns 0, CD_ENOMEM or
 * CD_ESTORE with ERR filled. */
int cd_experiment_winner_get(struct cd_store *st, const struct cd_campaign *cp, int64_t now,
			     char *winner, size_t len, struct cd_error *err);

/* The winner already decided for CAMPAIGN into WINNER ("" if none),
 * without deciding anything. */
void cd_experiment_winner_stored(struct cd_store *st, const char *campaign, char *winner,
				 size_t len);

#endif
