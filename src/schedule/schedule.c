/*
 * schedule.c - send windows in local time. The C library does the time
 * zone arithmetic (tz database, DST rules); candor only walks forward day
 * by day. TZ is switched with setenv()+tzset(), cached so that a run of
 * orders in one zone costs one switch.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "candor/schedule.h"

static char current_tz[128];
static char saved_tz[128];
static int saved, had_tz;

static void use_zone(const char *tz)
{
	if (strcmp(current_tz, tz) == 0)
		return;
	if (!saved) {
		const char *old = getenv("TZ");

		had_tz = old != NULL;
		snprintf(saved_tz, sizeof(saved_tz), "%s", old ? old : "");
		saved = 1;
	}
	snprintf(current_tz, sizeof(current_tz), "%s", tz);
	setenv("TZ", tz, 1);
	tzset();
}

static int blacked_out(const struct cd_window *w, const struct tm *tm)
{
	int ymd = (tm->tm_year + 1900) * 10000 + (tm->tm_mon + 1) * 100 + tm->tm_mday;

	for (int i = 0; i < w->nblackout; i++)
		if (w->blackout[i] == ymd)
			return 1;
	return 0;
}

/* The epoch time of local date TM at MINUTES after midnight; mktime()
 * with tm_isdst = -1 resolves gaps and overlaps by the zone's rules. */
static int64_t local_at(const struct tm *day, int minutes)
{
	struct tm tm = *day;

	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* The window of one local day, remembered: a cycle asks for the same
 * zone and day once per order, and mktime() is not cheap. */
static struct {
	const struct cd_window *w;
	char tz[128];
	int ymd;
	int64_t open, close;
} last_day;

static void day_window(const struct cd_window *w, const struct tm *day,
		       int64_t *open, int64_t *close)
{
	int ymd = (day->tm_year + 1900) * 10000 + (day->tm_mon + 1) * 100 + day->tm_mday;

	if (last_day.w != w || last_day.ymd != ymd || strcmp(last_day.tz, current_tz) != 0) {
		last_day.w = w;
		last_day.ymd = ymd;
		snprintf(last_day.tz, sizeof(last_day.tz), "%s", current_tz);
		last_day.open = local_at(day, w->start_min);
		last_day.close = local_at(day, w->end_min);
	}
	*open = last_day.open;
	*close = last_day.close;
}

int64_t cd_schedule_next_open(int64_t t, const char *tz, const struct cd_window *w)
{
	time_t now = (time_t)t;
	struct tm day;

	use_zone(tz && *tz ? tz : "UTC");
	localtime_r(&now, &day);
	for (int i = 0; i < 60; i++) {
		if ((w->weekdays & (1u << day.tm_wday)) && !blacked_out(w, &day)) {
			int64_t open, close;

			day_window(w, &day, &open, &close);

			if (t < open)
				return open;
			if (t < close)
				return t;
		}
		/* the next local day: noon avoids every DST edge */
		day.tm_mday++;
		day.tm_hour = 12;
		day.tm_min = day.tm_sec = 0;
		day.tm_isdst = -1;
		now = mktime(&day);
		localtime_r(&now, &day);
	}
	return -1;
}

void cd_schedule_restore_zone(void)
{
	if (!saved)
		return;
	if (had_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	saved = 0;
	current_tz[0] = '\0';
	last_day.w = NULL; /* a new cycle may bring a new configuration */
}

/* Countries that span several zones get the zone most of their people
 * live in; the rest take the tz database's only (or first) zone. */
static const struct { const char *cc, *tz; } country_zones[] = {
	{ "AR", "America/Argentina/Buenos_Aires" }, { "AT", "Europe/Vienna" },
	{ "AU", "Australia/Sydney" }, { "BE", "Europe/Brussels" },
	{ "BR", "America/Sao_Paulo" }, { "CA", "America/Toronto" },
	{ "CH", "Europe/Zurich" }, { "CL", "America/Santiago" },
	{ "CN", "Asia/Shanghai" }, { "CZ", "Europe/Prague" },
	{ "DE", "Europe/Berlin" }, { "DK", "Europe/Copenhagen" },
	{ "ES", "Europe/Madrid" }, { "FI", "Europe/Helsinki" },
	{ "FR", "Europe/Paris" }, { "GB", "Europe/London" },
	{ "HK", "Asia/Hong_Kong" }, { "ID", "Asia/Jakarta" },
	{ "IE", "Europe/Dublin" }, { "IN", "Asia/Kolkata" },
	{ "IT", "Europe/Rome" }, { "JP", "Asia/Tokyo" },
	{ "KR", "Asia/Seoul" }, { "KZ", "Asia/Almaty" },
	{ "MX", "America/Mexico_City" }, { "MY", "Asia/Kuala_Lumpur" },
	{ "NL", "Europe/Amsterdam" }, { "NO", "Europe/Oslo" },
	{ "NZ", "Pacific/Auckland" }, { "PL", "Europe/Warsaw" },
	{ "PT", "Europe/Lisbon" }, { "RU", "Europe/Moscow" },
	{ "SE", "Europe/Stockholm" }, { "SG", "Asia/Singapore" },
	{ "TR", "Europe/Istanbul" }, { "TW", "Asia/Taipei" },
	{ "UA", "Europe/Kyiv" }, { "US", "America/New_York" },
};

const char *cd_schedule_zone(const char *timezone, const char *country,
			     const char *shop_tz)
{
	if (timezone && *timezone)
		return timezone;
	if (country && strlen(country) == 2) {
		for (size_t i = 0; i < sizeof(country_zones) / sizeof(country_zones[0]); i++)
			if (strcasecmp(country, country_zones[i].cc) == 0)
				return country_zones[i].tz;
	}
	return shop_tz;
}

int cd_schedule_zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat st;

	if (!*tz || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cd_schedule_parse_hhmm(const char *s)
{
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');

	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

int cd_schedule_parse_weekday(const char *s)
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
