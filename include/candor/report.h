/*
 * report.h - what each campaign's variants achieved, and whether the
 * difference is real: per variant sent, delivered (sent minus bounced),
 * replied, unsubscribed, feedback left within the campaign window and its
 * positive share; the feedback rate among delivered mails with a 95%
 * Wilson interval, lift against the control (the first variant), a
 * p-value and a verdict in words. Also why negative feedback was left,
 * and what the apologies brought; per variant, reminders apart from first
 * requests, the feedback rate per locale and over time (per day, or per
 * week when the campaign's mails span more than 62 days).
 */
#ifndef CANDOR_REPORT_H
#define CANDOR_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "candor/error.h"
#include "candor/reason.h"
#include "candor/stats.h"

struct cd_config;
struct cd_store;

/* Mails of one variant in some slice (a locale, a day or week, the
 * reminders): rate = feedback / delivered, 0 when nothing was delivered. */
struct cd_report_tally {
	int64_t sent, bounced, delivered, feedback;
	double rate;
};

struct cd_report_arm {
	char name[64];
	int64_t sent, bounced, delivered, replied, unsubscribed, feedback, positive;
	double rate;                /* feedback / delivered */
	struct cd_interval ci;      /* 95% Wilson */
	/* against the control; unset (p = 1) for the control itself */
	double lift_abs, lift_rel, p;
	const char *method;         /* "z-test", "fisher" */
	int64_t more_needed;        /* deliveries per arm to see a 20% lift */
	char verdict[200];
	/* clicks on the tracked review link (event "clicked", once per
	 * message), with the same statistics among delivered mails */
	int64_t clicked;
	double click_rate;
	struct cd_interval click_ci;
	double click_lift_abs, click_lift_rel, click_p;  /* against the control */
	const char *click_method;
	/* the reminders of this variant; their feedback is what came after
	 * the reminder (it counts for the first request too) */
	struct cd_report_tally reminder;
};

/* One locale of the orders (as "de-DE"; "" when unknown), per arm. */
struct cd_report_locale {
	char locale[36];
	struct cd_report_tally *arms;   /* narms of the campaign */
};

struct cd_report_campaign {
	char name[64];
	int apology;                /* a negative_feedback campaign */
	struct cd_report_arm *arms;
	size_t narms;
	/* apologies: what came after */
	int64_t apology_replied, feedback_after, rating_up;
	char winner[64];            /* decided by auto_winner, "" none */
	int64_t first_sent, last_sent; /* its mails' sending, 0 when none */
	int64_t reminders;          /* reminders sent, every variant */
	struct cd_report_locale *locales; /* most mails first */
	size_t nlocales;
	/* the first requests' rate over time: NBUCKETS buckets of STEP
	 * seconds from START (00:00 UTC; a Monday for weeks), each narms
	 * tallies, by sending */
	int64_t series_start, series_step;
	size_t nbuckets;
	struct cd_report_tally *series;
};

struct cd_report {
	int64_t since;              /* 0: everything */
	int64_t until;              /* messages made before; 0: no end */
	int64_t generated;          /* when the report was made */
	int64_t first_sent, last_sent; /* every mail reported; 0 when none */
	char locale[36];            /* the reader's language (shop.locale) */
	struct cd_report_campaign *campaigns;
	size_t ncampaigns;
	int64_t reasons[CD_REASON_COUNT]; /* negative feedback by reason */
	int64_t negative;
};

/* Build the report for CAMPAIGN (NULL: all) over messages made at or
 * after SINCE (0: all) and before UNTIL (0: no end). Returns 0,
 * CD_ENOTFOUND (no such campaign), CD_ENOMEM or CD_ESTORE. */
int cd_report_build(struct cd_store *st, const struct cd_config *cfg, const char *campaign,
		    int64_t since, int64_t until, struct cd_report *out, struct cd_error *err);
void cd_report_free(struct cd_report *r);

/* Write R as text, JSON, CSV (one row per variant) or one self-contained
 * HTML page with an SVG chart per campaign. Return 0 or CD_ENOMEM. */
int cd_report_text(const struct cd_report *r, FILE *out);
int cd_report_json(const struct cd_report *r, FILE *out);
int cd_report_csv(const struct cd_report *r, FILE *out);
int cd_report_html(const struct cd_report *r, const char *shop, FILE *out);

#endif
