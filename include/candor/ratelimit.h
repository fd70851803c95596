/*
 * ratelimit.h - the sending limits of candor.conf's limits section: the
 * global rate and the daily cap (for the whole cycle), the per-domain
 * rate and the per-customer cap (for each mail). The limits count what
 * the store says was sent, so they hold across restarts with no state of
 * their own; a cycle keeps a running count on top, as it sends.
 */
#ifndef CANDOR_RATELIMIT_H
#define CANDOR_RATELIMIT_H

#include <stdint.h>

#include "candor/error.h"

struct cd_config;
struct cd_store;
struct cd_ratelimit;

/* Why a due order waits: the send window, or a limit. Counted by reason
 * in a cycle's stats, STATUS= and "candorctl status". */
enum cd_wait {
	CD_WAIT_NONE,
	CD_WAIT_WINDOW,        /* outside the send window in the customer's zone */
	CD_WAIT_CUSTOMER_CAP,  /* limits.per_customer */
	CD_WAIT_DOMAIN_RATE,   /* limits.domain_rate */
	CD_WAIT_GLOBAL_RATE,   /* limits.global_rate */
	CD_WAIT_DAILY_CAP,     /* limits.daily_cap */
	CD_WAIT_NREASONS
};

/* A sentence for logs and previews ("outside the send window"). Static. */
const char *cd_wait_text(enum cd_wait w);

/* A short name for counts ("window", "per_customer", "domain_rate",
 * "global_rate", "daily_cap"). Static. */
const char *cd_wait_name(enum cd_wait w);

/* The limits of CFG (borrowed, like ST, for the limiter's life) for a
 * cycle at NOW, with what the store counts as sent already. Returns 0,
 * CD_ENOMEM or CD_ESTORE. */
int cd_ratelimit_open(const struct cd_config *cfg, struct cd_store *st, int64_t now,
		      struct cd_ratelimit **out, struct cd_error *err);

/* NULL is fine. */
void cd_ratelimit_free(struct cd_ratelimit *rl);

/* Is the global rate or the daily cap reached? Logs the first time it
 * is. */
int cd_ratelimit_reached(struct cd_ratelimit *rl);

/* Which cycle-wide limit is reached: CD_WAIT_GLOBAL_RATE,
 * CD_WAIT_DAILY_CAP or CD_WAIT_NONE. Logs nothing. */
enum cd_wait cd_ratelimit_which(const struct cd_ratelimit *rl);

/* From when the per-customer cap counts a customer's mails; 0 when there
 * is no cap. */
int64_t cd_ratelimit_cap_since(const struct cd_ratelimit *rl);

/* A new batch of due orders, whose MAILS counts (below) were taken as it
 * began: forget who the last one mailed. */
void cd_ratelimit_new_batch(struct cd_ratelimit *rl);

/* May a mail to EMAIL go now, under the per-customer cap and the rate of
 * its domain? MAILS is the customer's count as the batch began (due.h);
 * a customer this batch has mailed since is counted again. Returns 0
 * (it may), 1 (it waits; *WHY says why, static) or CD_ESTORE. */
int cd_ratelimit_check(struct cd_ratelimit *rl, const char *email, int64_t mails,
		       const char **why, struct cd_error *err);

/* The same, saying why as a reason: *REASON is CD_WAIT_NONE (it may go),
 * CD_WAIT_CUSTOMER_CAP or CD_WAIT_DOMAIN_RATE. Returns 0 or CD_ESTORE. */
int cd_ratelimit_wait(struct cd_ratelimit *rl, const char *email, int64_t mails,
		      enum cd_wait *reason, struct cd_error *err);

/* A message was made for EMAIL in this batch (held ones too). */
void cd_ratelimit_note_mailed(struct cd_ratelimit *rl, const char *email);

/* A plan (which writes nothing) would send to EMAIL: later orders of
 * the plan count it under the per-customer cap and the domain rate.
 * Returns 0 or CD_ENOMEM. */
int cd_ratelimit_note_planned(struct cd_ratelimit *rl, const char *email);

/* One more mail goes out: it counts against the global rate and the
 * daily cap. */
void cd_ratelimit_note_sent(struct cd_ratelimit *rl);

#endif
