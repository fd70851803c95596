/* test_schedule.c - send windows in the customer's local time, with a
 * fixed clock, across daylight saving changes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "candor/schedule.h"

static struct cd_window window(int start, int end, unsigned days)
{
	struct cd_window w = { .start_min = start, .end_min = end, .weekdays = days };

	return w;
}

#define ALL_DAYS 0x7f
#define MON_FRI 0x3e

/* Epoch seconds of a UTC wall time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi };

	return (int64_t)timegm(&tm);
}

static void test_inside_window_sends_now(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);
	int64_t t = utc(2026, 6, 10, 12, 0); /* 14:00 in Berlin (CEST) */

	(void)state;
	assert_int_equal(cd_schedule_next_open(t, "Europe/Berlin", &w), t);
}

static void test_before_window_waits_for_local_start(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);

	(void)state;
	/* 05:00 UTC = 07:00 CEST: wait for 09:00 CEST = 07:00 UTC */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 5, 0), "Europe/Berlin", &w),
			 utc(2026, 6, 10, 7, 0));
	/* the same instant is 01:00 in New York (EDT): 09:00 EDT = 13:00 UTC */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 5, 0), "America/New_York", &w),
			 utc(2026, 6, 10, 13, 0));
	/* and 13:00 in Shanghai: inside */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 5, 0), "Asia/Shanghai", &w),
			 utc(2026, 6, 10, 5, 0));
}

static void test_after_window_waits_for_next_day(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);

	(void)state;
	/* 21:00 in Shanghai (UTC+8, no DST) -> 09:00 next day = 01:00 UTC */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 13, 0), "Asia/Shanghai", &w),
			 utc(2026, 6, 11, 1, 0));
	/* the end is exclusive: 20:00 local is closed */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 12, 0), "Asia/Shanghai", &w),
			 utc(2026, 6, 11, 1, 0));
}

static void test_berlin_spring_forward(void **state)
{
	/* 2026-03-29 02:00 CET jumps to 03:00 CEST. A window opening at 02:30
	 * does not exist that day: the first real moment after it is 03:30
	 * CEST = 01:30 UTC (mktime moves it forward by the gap). */
	struct cd_window w = window(2 * 60 + 30, 20 * 60, ALL_DAYS);
	int64_t got = cd_schedule_next_open(utc(2026, 3, 28, 23, 0), "Europe/Berlin", &w);

	(void)state;
	assert_int_equal(got, utc(2026, 3, 29, 1, 30));
	/* and the day before the change, 09:00 is 08:00 UTC; the day after, 07:00 UTC */
	w = window(9 * 60, 20 * 60, ALL_DAYS);
	assert_int_equal(cd_schedule_next_open(utc(2026, 3, 28, 0, 0), "Europe/Berlin", &w),
			 utc(2026, 3, 28, 8, 0));
	assert_int_equal(cd_schedule_next_open(utc(2026, 3, 29, 0, 0), "Europe/Berlin", &w),
			 utc(2026, 3, 29, 7, 0));
}

static void test_berlin_fall_back(void **state)
{
	/* 2026-10-25 03:00 CEST goes back to 02:00 CET. 20:00 closes at 19:00 UTC
	 * on that Sunday (CET); the same wall time on Saturday was 18:00 UTC. */
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);

	(void)state;
	assert_int_equal(cd_schedule_next_open(utc(2026, 10, 24, 18, 30), "Europe/Berlin", &w),
			 utc(2026, 10, 25, 8, 0));
	assert_int_equal(cd_schedule_next_open(utc(2026, 10, 25, 18, 30), "Europe/Berlin", &w),
			 utc(2026, 10, 25, 18, 30));
}

static void test_new_york_dst_changes(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);

	(void)state;
	/* 2026-03-08: EST (UTC-5) -> EDT (UTC-4). 09:00 local is 14:00 UTC on
	 * Saturday 7th and 13:00 UTC on Sunday 8th. */
	assert_int_equal(cd_schedule_next_open(utc(2026, 3, 7, 3, 0), "America/New_York", &w),
			 utc(2026, 3, 7, 14, 0));
	assert_int_equal(cd_schedule_next_open(utc(2026, 3, 8, 3, 0), "America/New_York", &w),
			 utc(2026, 3, 8, 13, 0));
	/* 2026-11-01: back to EST; 09:00 is 14:00 UTC again */
	assert_int_equal(cd_schedule_next_open(utc(2026, 11, 1, 3, 0), "America/New_York", &w),
			 utc(2026, 11, 1, 14, 0));
}

static void test_weekdays_in_local_time(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, MON_FRI);

	(void)state;
	/* Friday 2026-06-12 23:30 UTC is Saturday 07:30 in Shanghai: the next
	 * allowed moment is Monday 09:00 Shanghai = Monday 01:00 UTC */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 12, 23, 30), "Asia/Shanghai", &w),
			 utc(2026, 6, 15, 1, 0));
	/* while in New York it is still Friday 19:30: inside */
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 12, 23, 30), "America/New_York", &w),
			 utc(2026, 6, 12, 23, 30));
}

static void test_blackout_dates_are_local(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, ALL_DAYS);

	(void)state;
	w.nblackout = 2;
	w.blackout[0] = 20261224;
	w.blackout[1] = 20261225;
	/* 2026-12-24 10:00 CET: blacked out until 26th 09:00 CET = 08:00 UTC */
	assert_int_equal(cd_schedule_next_open(utc(2026, 12, 24, 9, 0), "Europe/Berlin", &w),
			 utc(2026, 12, 26, 8, 0));
}

static void test_no_open_day_returns_minus_one(void **state)
{
	struct cd_window w = window(9 * 60, 20 * 60, 0);

	(void)state;
	assert_int_equal(cd_schedule_next_open(utc(2026, 6, 10, 12, 0), "UTC", &w), -1);
}

static void test_zone_fallback_chain(void **state)
{
	(void)state;
	assert_string_equal(cd_schedule_zone("Asia/Tokyo", "DE", "UTC"), "Asia/Tokyo");
	assert_string_equal(cd_schedule_zone(NULL, "de", "UTC"), "Europe/Berlin");
	assert_string_equal(cd_schedule_zone("", "US", "UTC"), "America/New_York");
	assert_string_equal(cd_schedule_zone(NULL, "XX", "Europe/Paris"), "Europe/Paris");
	assert_string_equal(cd_schedule_zone(NULL, NULL, "Europe/Paris"), "Europe/Paris");
}

static void test_process_zone_untouched(void **state)
{
	struct cd_window w = window(0, 24 * 60, ALL_DAYS);
	time_t t = 1700000000;
	struct tm before, after;

	(void)state;
	setenv("TZ", "America/Denver", 1);
	tzset();
	localtime_r(&t, &before);
	cd_schedule_next_open(0, "Asia/Tokyo", &w);
	cd_schedule_next_open(0, "Europe/Berlin", &w);
	assert_non_null(getenv("TZ"));
	assert_string_equal(getenv("TZ"), "America/Denver");
	localtime_r(&t, &after);
	assert_int_equal(before.tm_hour, after.tm_hour);
	unsetenv("TZ");
	tzset();
}

static void test_parsers(void **state)
{
	(void)state;
	assert_int_equal(cd_units_hhmm("09:00"), 540);
	assert_int_equal(cd_units_hhmm("24:00"), 1440);
	assert_int_equal(cd_units_hhmm("9:00"), -1);
	assert_int_equal(cd_units_hhmm("24:01"), -1);
	assert_int_equal(cd_units_hhmm("12:60"), -1);
	assert_int_equal(cd_units_weekday("mon"), 1);
	assert_int_equal(cd_units_weekday("Sunday"), 0);
	assert_int_equal(cd_units_weekday("xyz"), -1);
	assert_int_equal(cd_units_weekday("Wednesday"), 3);
	assert_int_equal(cd_units_weekday("monxyz"), -1);
	assert_int_equal(cd_units_weekday("mo"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_window_sends_now),
		cmocka_unit_test(test_before_window_waits_for_local_start),
		cmocka_unit_test(test_after_window_waits_for_next_day),
		cmocka_unit_test(test_berlin_spring_forward),
		cmocka_unit_test(test_berlin_fall_back),
		cmocka_unit_test(test_new_york_dst_changes),
		cmocka_unit_test(test_weekdays_in_local_time),
		cmocka_unit_test(test_blackout_dates_are_local),
		cmocka_unit_test(test_no_open_day_returns_minus_one),
		cmocka_unit_test(test_zone_fallback_chain),
		cmocka_unit_test(test_process_zone_untouched),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
