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

#include "candor/config.h"
#include "candor/log.h"
#include "candor/ratelimit.h"
#include "candor/store_message.h"

#define MAILED_SLOTS 4096 /* > 2 * CD_DUE_BATCH: the set stays sparse */

struct planned {
	uint64_t hash;          /* 0: a free slot */
	int64_t count;
};

struct cd_ratelimit {
	const struct cd_config *cfg;
	struct cd_store *st;
	int64_t now;
	int limited;            /* a cycle-wide limit was reached (logged) */
	int64_t window_used;    /* sends in the global rate's window */
	int64_t today_used;     /* sends since midnight UTC */
	uint64_t mailed[MAILED_SLOTS]; /* hashes of who this batch mailed */
	/* a plan writes nothing for the store to count: what it would send,
	 * per address and per domain */
	struct planned *planned;
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
	if (rl)
		free(rl->planned);
	free(rl);
}

/* A plan's counts, per address and per domain, in one open-addressing
 * table of (hash, count): a plan over a backlog of 100,000 orders must
 * not compare each with all the others. The keys are hashed as
 * mailed_hash() folds them; an address and a domain differ by the
 * leading marker. */
static uint64_t fold_hash(char mark, const char *s)
{
	uint64_t h = (1469598103934665603ULL ^ (unsigned char)mark) * 1099511628211ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 1099511628211ULL;
	return h ? h : 1;
}

static struct planned *planned_slot(struct planned *t, size_t cap, uint64_t h)
{
	size_t i = (size_t)(h & (cap - 1));

	while (t[i].hash && t[i].hash != h)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int planned_grow(struct cd_ratelimit *rl)
{
	size_t cap = rl->planned_cap ? rl->planned_cap * 2 : 1024;
	struct planned *t = calloc(cap, sizeof(*t));

	if (!t)
		return CD_ENOMEM;
	for (size_t i = 0; i < rl->planned_cap; i++)
		if (rl->planned[i].hash)
			*planned_slot(t, cap, rl->planned[i].hash) = rl->planned[i];
	free(rl->planned);
	rl->planned = t;
	rl->planned_cap = cap;
	return 0;
}

static int planned_add(struct cd_ratelimit *rl, uint64_t h)
{
	struct planned *e;

	/* at most half full, so a probe ends soon */
	if ((rl->nplanned + 1) * 2 > rl->planned_cap && planned_grow(rl) < 0)
		return CD_ENOMEM;
	e = planned_slot(rl->planned, rl->planned_cap, h);
	if (!e->hash) {
		e->hash = h;
		rl->nplanned++;
	}
	e->count++;
	return 0;
}

int cd_ratelimit_note_planned(struct cd_ratelimit *rl, const char *email)
{
	const char *at = strchr(email, '@');

	if (planned_add(rl, fold_hash('<', email)) < 0 ||
	    (at && planned_add(rl, fold_hash('@', at + 1)) < 0))
		return CD_ENOMEM;
	return 0;
}

/* Mails a plan would send to EMAIL, or with DOMAIN to that domain. */
static int64_t planned_to(const struct cd_ratelimit *rl, const char *key, int domain)
{
	if (!rl->planned_cap)
		return 0;
	return planned_slot(rl->planned, rl->planned_cap, fold_hash(domain ? '@' : '<', key))->count;
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
