/*
 * units.h - the duration and rate notations used in candor.conf.
 *
 * Durations are one or more number+unit pairs: "7d", "36h", "1h30m",
 * "90s", "2w". Rates are COUNT/UNIT: "200/hour", "5/minute", "1000/day".
 * Send windows are times of day "HH:MM", weekday names and dates.
 */
#ifndef CANDOR_UNITS_H
#define CANDOR_UNITS_H

#include <stdint.h>
#include <stddef.h>

#define CD_MAX_BLACKOUTS 64

/* A send window as written in the config; schedule.c applies it in the
 * customer's local time. */
struct cd_window {
	int start_min, end_min;  /* minutes after local midnight; start < end */
	unsigned weekdays;       /* bit 0 = Sunday ... bit 6 = Saturday */
	int nblackout;
	int blackout[CD_MAX_BLACKOUTS]; /* local dates as YYYYMMDD */
};

struct cd_rate {
	int64_t count;      /* events allowed ... */
	int64_t per_seconds;/* ... in this many seconds */
};

/* Parse TEXT into seconds. Returns 0, or CD_EINVAL with a reason in WHY
 * (WHYLEN bytes) for an empty, unit-less, negative or overflowing value. */
int cd_units_duration(const char *text, int64_t *seconds, char *why,
		      size_t whylen);

/* Parse a rate. Returns 0 or CD_EINVAL with a reason in WHY. */
int cd_units_rate(const char *text, struct cd_rate *rate, char *why,
		  size_t whylen);

/* Write SECONDS in the shortest exact notation ("7d", "1h30m", "0s"). */
const char *cd_units_format_duration(int64_t seconds, char *buf, size_t len);

/* Write RATE as "200/hour" when the period is a whole unit. */
const char *cd_units_format_rate(const struct cd_rate *rate, char *buf,
				 size_t len);

/* Parse "HH:MM" into minutes; -1 if malformed. */
int cd_units_hhmm(const char *s);

/* Parse a weekday name ("mon", "Monday", ...) into 0..6 (Sunday 0); -1. */
int cd_units_weekday(const char *s);

#endif
