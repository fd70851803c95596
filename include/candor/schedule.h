/*
 * schedule.h - when may a due mail go out? The send window is read in
 * the customer's local time: the order's time zone, else a default zone
 * for the shipping country, else the shop's. Local times that do not
 * exist (a spring-forward gap) move to the first moment that does.
 */
#ifndef CANDOR_SCHEDULE_H
#define CANDOR_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/units.h"

/* The earliest moment at or after T (epoch seconds) that lies inside W in
 * time zone TZ (a tz database name). Returns -1 when no moment in the
 * next 60 days qualifies (every weekday off, say). */
int64_t cd_schedule_next_open(int64_t t, const char *tz, const struct cd_window *w);

/* The zone to use for an order: its own TIMEZONE if set, else a default
 * for COUNTRY (ISO 3166 alpha-2), else SHOP_TZ. Borrowed strings. */
const char *cd_schedule_zone(const char *timezone, const char *country,
			     const char *shop_tz);

#endif
