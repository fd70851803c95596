/*
 * tz.h - time zones without touching the process: the tz database's
 * compiled files (TZif, RFC 8536) read once per zone and kept, so the
 * scheduler can ask for any customer's local time while the daemon's
 * own clock, logs and libraries keep the server's zone.
 *
 * Zones belong to a process-wide cache and live until cd_tz_reset().
 */
#ifndef CANDOR_TZ_H
#define CANDOR_TZ_H

#include <stdint.h>

struct cd_tz;

/* The zone NAME ("Europe/Berlin", "UTC") from $TZDIR or
 * /usr/share/zoneinfo; NULL when there is no such zone or the file is
 * damaged. Borrowed from the cache. */
const struct cd_tz *cd_tz_get(const char *name);

/* Is NAME a zone of the tz database? 1 yes, 0 no, -1 not even a zone
 * name (empty, absolute, "..", over 64 characters), so no name can reach
 * outside the database. */
int cd_tz_known(const char *name);

/* Seconds east of UTC in zone Z at time T (Unix seconds). */
int32_t cd_tz_offset(const struct cd_tz *z, int64_t t);

/* The Unix time at which zone Z's clocks show LOCAL (local seconds since
 * 1970-01-01 00:00 on the wall clock). A time that occurs twice (clocks
 * go back) gives the earlier; one that never occurs (clocks go forward)
 * is read with the offset before the change, so it lands as far past the
 * change as it was past the gap's start, as mktime() does. */
int64_t cd_tz_from_local(const struct cd_tz *z, int64_t local);

/* Days since 1970-01-01 of a civil date, and back; the weekday of a day
 * (0 Sunday). Proleptic Gregorian, any year. */
int64_t cd_tz_days(int y, int m, int d);
void cd_tz_civil(int64_t days, int *y, int *m, int *d);
int cd_tz_weekday(int64_t days);

/* Forget every loaded zone (tests; a daemon that wants new tz data). */
void cd_tz_reset(void);

#endif
