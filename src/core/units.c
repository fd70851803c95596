/*
 * units.c - parse and print durations and rates strictly: a typo in a
 * schedule must be an error at load time, not a mail at 3 a.m.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "candor/error.h"
#include "candor/units.h"

struct unit {
	const char *name;
	int64_t seconds;
};

static const struct unit duration_units[] = {
	{ "w", 604800 }, { "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
};

static const struct unit rate_units[] = {
	{ "second", 1 }, { "sec", 1 }, { "s", 1 },
	{ "minute", 60 }, { "min", 60 }, { "m", 60 },
	{ "hour", 3600 }, { "h", 3600 },
	{ "day", 86400 }, { "d", 86400 },
};

static int fail(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return CD_EINVAL;
}

/* Read a run of decimal digits; reject overflow past LIMIT. */
static int read_number(const char **p, int64_t limit, int64_t *out)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		int d = **p - '0';

		if (v > (limit - d) / 10)
			return -2;
		v = v * 10 + d;
		(*p)++;
	}
	*out = v;
	return 0;
}

int cd_units_duration(const char *text, int64_t *seconds, char *why,
		      size_t whylen)
{
	const char *p = text;
	int64_t total = 0;
	const int64_t limit = INT64_C(100) * 366 * 86400; /* a century */

	if (!text || !*text)
		return fail(why, whylen, "empty duration (write e.g. \"7d\", \"36h\", \"15m\")");
	while (*p) {
		int64_t n, unit = 0;
		int rc = read_number(&p, limit, &n);

		if (rc == -2)
			return fail(why, whylen, "duration too large");
		if (rc < 0)
			return fail(why, whylen, "expected a number followed by w, d, h, m or s (e.g. \"7d\")");
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (*p == duration_units[i].name[0])
				unit = duration_units[i].seconds;
		if (!unit)
			return fail(why, whylen, *p ? "unknown unit (use w, d, h, m or s)"
						    : "missing unit (use w, d, h, m or s, e.g. \"7d\")");
		p++;
		if (n > (limit - total) / unit)
			return fail(why, whylen, "duration too large");
		total += n * unit;
	}
	*seconds = total;
	return 0;
}

int cd_units_rate(const char *text, struct cd_rate *rate, char *why,
		  size_t whylen)
{
	const char *p = text;
	int64_t n;

	if (!text || !*text)
		return fail(why, whylen, "empty rate (write e.g. \"200/hour\")");
	if (read_number(&p, INT64_C(1000000000), &n) < 0)
		return fail(why, whylen, "expected COUNT/UNIT, e.g. \"200/hour\"");
	if (*p++ != '/')
		return fail(why, whylen, "expected COUNT/UNIT, e.g. \"200/hour\"");
	for (size_t i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++) {
		if (strcmp(p, rate_units[i].name) == 0) {
			if (n == 0)
				return fail(why, whylen, "a rate of 0 would never send; remove the setting to have no limit");
			rate->count = n;
			rate->per_seconds = rate_units[i].seconds;
			return 0;
		}
	}
	return fail(why, whylen, "unknown rate unit (use second, minute, hour or day)");
}

const char *cd_units_format_duration(int64_t seconds, char *buf, size_t len)
{
	size_t off = 0;

	if (seconds <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		int64_t u = duration_units[i].seconds;

		/* Weeks only when exact, so "14d" does not print as "2w". */
		if (u == 604800)
			continue;
		if (seconds >= u) {
			int w = snprintf(buf + off, off < len ? len - off : 0,
					 "%lld%s", (long long)(seconds / u),
					 duration_units[i].name);
			if (w > 0)
				off += (size_t)w;
			seconds %= u;
		}
	}
	return buf;
}

const char *cd_units_format_rate(const struct cd_rate *rate, char *buf,
				 size_t len)
{
	static const char *const names[] = { "second", "minute", "hour", "day" };
	static const int64_t secs[] = { 1, 60, 3600, 86400 };

	for (int i = 0; i < 4; i++) {
		if (rate->per_seconds == secs[i]) {
			snprintf(buf, len, "%lld/%s", (long long)rate->count, names[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%lld/%llds", (long long)rate->count,
		 (long long)rate->per_seconds);
	return buf;
}

int cd_units_hhmm(const char *s)
{
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');

	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

int cd_units_weekday(const char *s)
{
	static const char *const names[] = {
		"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	};

	/* "mon" or "monday", in any case */
	for (int i = 0; i < 7; i++)
		if (strcasecmp(s, names[i]) == 0 ||
		    (strlen(s) == 3 && strncasecmp(s, names[i], 3) == 0))
			return i;
	return -1;
}
