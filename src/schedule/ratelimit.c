/*
 * ratelimit.c - the sending limits (see ratelimit.h): counts read from
 * the store once per cycle for the global rate and the daily cap, live
 * counts per mail for the domain rate, and the per-customer cap from the
 * due query's own count, counted again only for customers the batch has
 * mailed since.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/ratelimit.h"
#include "candor/store_message.h"
#include "candor/util.h"

#define MAILED_SLOTS 4096 /* > 2 * CD_DUE_BATCH: the set stays sparse */

struct cd_ratelimit {
	const struct cd_config *cfg;
	struct cd_store *st;
	int64_t now;
	int limited;            /* a cycle-wide limit was reached (logged) */
	int64_t window_used;    /* sends in the global rate's window */
	int64_t today_used;     /* sends since midnight UTC */
	uint64_t mailed[MAILED_SLOTS]; /* hashes of who this batch mailed */
	/* a plan writes nothing for the store to count: what it would send */
	char **planned;
	size_t nplanned, planned_cap;
};

int cd_ratelimit_open(const struct cd_config *cfg, struct cd_store *st, int64_t now,
		      struct cd_ratelimit **out, struct cd_error *err)
{
	struct cd_ratelimit *rl = calloc(1, sizeof(*rl));

	*out = NULL;
	if (!rl)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	*rl = (struct cd_ratelimit){ .cfg = cfg, .st = st, .now = now };
	/* the window includes now: N per hour counts the last 3600 s */
	if (cfg->limits.global_rate.count &&
	    (rl->window_used = cd_store_message_sent_since(
		     st, now - cfg->limits.global_rate.per_seconds + 1, err)) < 0)
		goto fail;
	if (cfg->limits.daily_cap &&
	    (rl->today_used = cd_store_message_sent_since(st, now - now % 86400, err)) < 0)
		goto fail;
	*out = rl;
	return 0;
fail:
	free(rl);
	return CD_ESTORE;
}

void cd_ratelimit_free(struct cd_ratelimit *rl)
{
	for (size_t i = 0; rl && i < rl->nplanned; i++)
		free(rl->planned[i]);
	if (rl)
		free(rl->planned);
	free(rl);
}

int cd_ratelimit_note_planned(struct cd_ratelimit *rl, const char *email)
{
	char *copy;

	if (CD_GROW(rl->planned, rl->nplanned, rl->planned_cap) < 0 || !(copy = strdup(email)))
		return CD_ENOMEM;
	rl->planned[rl->nplanned++] = copy;
	return 0;
}

/* Mails a plan would send to EMAIL, or with DOMAIN to its domain. */
static int64_t planned_to(const struct cd_ratelimit *rl, const char *email, int domain)
{
	int64_t n = 0;

	for (size_t i = 0; i < rl->nplanned; i++) {
		const char *at = strchr(rl->planned[i], '@');

		n += domain ? at && strcasecmp(at + 1, email) == 0
			    : strcasecmp(rl->planned[i], email) == 0;
	}
	return n;
}

static const struct { const char *name, *text; } waits[CD_WAIT_NREASONS] = {
	[CD_WAIT_NONE] = { "none", "nothing" },
	[CD_WAIT_WINDOW] = { "window", "outside the send window" },
	[CD_WAIT_CUSTOMER_CAP] = { "per_customer", "per-customer cap reached" },
	[CD_WAIT_DOMAIN_RATE] = { "domain_rate",
				  "limits.domain_rate reached for the recipient's domain" },
	[CD_WAIT_GLOBAL_RATE] = { "global_rate", "limits.global_rate reached" },
	[CD_WAIT_DAILY_CAP] = { "daily_cap", "limits.daily_cap reached" },
};

const char *cd_wait_text(enum cd_wait w)
{
	return w < CD_WAIT_NREASONS ? waits[w].text : "?";
}

const char *cd_wait_name(enum cd_wait w)
{
	return w < CD_WAIT_NREASONS ? waits[w].name : "?";
}

enum cd_wait cd_ratelimit_which(const struct cd_ratelimit *rl)
{
	const struct cd_config *cfg = rl->cfg;

	if (cfg->limits.global_rate.count && rl->window_used >= cfg->limits.global_rate.count)
		return CD_WAIT_GLOBAL_RATE;
	if (cfg->limits.daily_cap && rl->today_used >= cfg->limits.daily_cap)
		return CD_WAIT_DAILY_CAP;
	return CD_WAIT_NONE;
}

int cd_ratelimit_reached(struct cd_ratelimit *rl)
{
	enum cd_wait which = cd_ratelimit_which(rl);

	if (which != CD_WAIT_NONE && !rl->limited)
		cd_log(CD_LOG_NOTICE, "%s; due orders wait for the next cycle", cd_wait_text(which));
	rl->limited = which != CD_WAIT_NONE;
	return rl->limited;
}

int64_t cd_ratelimit_cap_since(const struct cd_ratelimit *rl)
{
	return rl->cfg->limits.per_customer ? rl->now - rl->cfg->limits.per_customer_period : 0;
}

/* The batch's query counted each customer's mails as it began; a
 * customer this batch has mailed since is counted again, live. The set
 * holds hashes of the address folded as COLLATE NOCASE folds it: a
 * collision only costs that live count. */
static uint64_t mailed_hash(const char *email)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)email; *p; p++)
		h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 1099511628211ULL;
	return h ? h : 1;
}

static uint64_t *mailed_slot(struct cd_ratelimit *rl, uint64_t h)
{
	size_t i = (size_t)(h % MAILED_SLOTS);

	while (rl->mailed[i] && rl->mailed[i] != h)
		i = (i + 1) % MAILED_SLOTS;
	return &rl->mailed[i];
}

void cd_ratelimit_new_batch(struct cd_ratelimit *rl)
{
	memset(rl->mailed, 0, sizeof(rl->mailed));
}

void cd_ratelimit_note_mailed(struct cd_ratelimit *rl, const char *email)
{
	uint64_t h = mailed_hash(email);

	*mailed_slot(rl, h) = h;
}

void cd_ratelimit_note_sent(struct cd_ratelimit *rl)
{
	rl->window_used++;
	rl->today_used++;
}

int cd_ratelimit_wait(struct cd_ratelimit *rl, const char *email, int64_t mails,
		      enum cd_wait *reason, struct cd_error *err)
{
	const struct cd_config *cfg = rl->cfg;
	const char *at = strchr(email, '@');
	int64_t n;

	*reason = CD_WAIT_NONE;
	if (cfg->limits.per_customer) {
		n = !*mailed_slot(rl, mailed_hash(email)) ? mails
			: cd_store_message_customer_count(rl->st, email, cd_ratelimit_cap_since(rl), err);
		if (n < 0)
			return CD_ESTORE;
		n += planned_to(rl, email, 0);
		if (n >= cfg->limits.per_customer) {
			*reason = CD_WAIT_CUSTOMER_CAP;
			return 0;
		}
	}
	if (cfg->limits.domain_rate.count && at) {
		n = cd_store_message_domain_sent_since(rl->st, at + 1,
						       rl->now - cfg->limits.domain_rate.per_seconds + 1,
						       err);
		if (n < 0)
			return CD_ESTORE;
		n += planned_to(rl, at + 1, 1);
		if (n >= cfg->limits.domain_rate.count)
			*reason = CD_WAIT_DOMAIN_RATE;
	}
	return 0;
}

int cd_ratelimit_check(struct cd_ratelimit *rl, const char *email, int64_t mails,
		       const char **why, struct cd_error *err)
{
	enum cd_wait w;

	*why = NULL;
	if (cd_ratelimit_wait(rl, email, mails, &w, err) < 0)
		return CD_ESTORE;
	if (w == CD_WAIT_NONE)
		return 0;
	*why = cd_wait_text(w);
	return 1;
}
