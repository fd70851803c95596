/*
 * winner.h - the optional automatic winner of an A/B test. Once every
 * variant of a campaign has auto_winner.min_per_arm deliveries and the
 * best one differs from the control at auto_winner.significance (divided
 * by the number of comparisons, so three challengers do not get three
 * chances), the rest of the campaign goes with it. The decision is kept
 * in the database and logged with its figures; it is never taken back
 * automatically (an admin deletes meta "winner:CAMPAIGN" to restart).
 */
#ifndef CANDOR_WINNER_H
#define CANDOR_WINNER_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_campaign;
struct cd_config;
struct cd_store;

/* Into WINNER (LEN bytes): CP's winner, deciding now if it is time
 * (at most once an hour before a decision, as the check reads every
 * message of the campaign). "" when there is none. Returns 0 or a
 * negative code. */
int cd_winner_get(struct cd_store *st, const struct cd_config *cfg, const struct cd_campaign *cp,
		  int64_t now, char *winner, size_t len, struct cd_error *err);

/* The winner already decided for CAMPAIGN into WINNER ("" if none),
 * without deciding anything. */
void cd_winner_stored(struct cd_store *st, const char *campaign, char *winner, size_t len);

#endif
