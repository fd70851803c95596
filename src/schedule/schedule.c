/*
 * schedule.c - send windows in local time. tz.c reads the tz database
 * (DST rules included) for each customer's zone without touching the
 * process's TZ; this walks forward one local day at a time.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/schedule.h"
#include "candor/tz.h"

static int blacked_out(const struct cd_window *w, int ymd)
{
	for (int i = 0; i < w->nblackout; i++)
		if (w->blackout[i] == ymd)
			return 1;
	return 0;
}

/* The window of one local day, remembered: a cycle asks for the same
 * zone and day once per order. */
static struct {
	const struct cd_window *w;
	const struct cd_tz *z;
	int64_t day;
	int64_t open, close;
} last_day;

static void day_window(const struct cd_window *w, const struct cd_tz *z, int64_t day,
		       int64_t *open, int64_t *close)
{
	if (last_day.w != w || last_day.z != z || last_day.day != day) {
		last_day.w = w;
		last_day.z = z;
		last_day.day = day;
		last_day.open = cd_tz_from_local(z, day * 86400 + w->start_min * 60);
		last_day.close = cd_tz_from_local(z, day * 86400 + w->end_min * 60);
	}
	*open = last_day.open;
	*close = last_day.close;
}

int64_t cd_schedule_next_open(int64_t t, const char *tz, const struct cd_window *w)
{
	const struct cd_tz *z = cd_tz_get(tz && *tz ? tz : "UTC");
	int64_t local, day;

	if (!z && !(z = cd_tz_get("UTC")))
		return -1;
	local = t + cd_tz_offset(z, t);
	day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	for (int i = 0; i < 60; i++, day++) {
		int y, m, d;

		cd_tz_civil(day, &y, &m, &d);
		if ((w->weekdays & (1u << cd_tz_weekday(day))) &&
		    !blacked_out(w, y * 10000 + m * 100 + d)) {
			int64_t open, close;

			day_window(w, z, day, &open, &close);
			if (t < open)
				return open;
			if (t < close)
				return t;
		}
	}
	return -1;
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
