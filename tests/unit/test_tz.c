/* test_tz.c - tz.c against glibc's own reading of the same tz database,
 * an independent implementation, over many zones and a century of times;
 * and the POSIX rules that govern the years after a file's last entry. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "candor/tz.h"

static const char *const zones[] = {
	"Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Sydney",
	"America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "Europe/London",
	"America/St_Johns", "Asia/Tehran", "Pacific/Auckland", "Africa/Casablanca",
	"America/Santiago", "Europe/Moscow", "Asia/Tokyo", "UTC", "Europe/Dublin",
	"Australia/Lord_Howe", "America/Godthab", "Pacific/Apia",
};

static uint64_t rnd = 88172645463325252ull;

static uint64_t next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void use_glibc_zone(const char *name)
{
	setenv("TZ", name, 1);
	tzset();
}

static void test_offsets_match_glibc(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const struct cd_tz *z = cd_tz_get(zones[i]);

		assert_non_null(z);
		use_glibc_zone(zones[i]);
		for (int n = 0; n < 4000; n++) {
			/* 1950 to 2080: the table and the rule after it */
			time_t t = (time_t)(-631152000 + (int64_t)(next() % 4102444800ull));
			struct tm tm;

			localtime_r(&t, &tm);
			if (cd_tz_offset(z, t) != tm.tm_gmtoff) {
				fprintf(stderr, "%s at %lld: %d, glibc %ld\n", zones[i],
					(long long)t, cd_tz_offset(z, t), tm.tm_gmtoff);
				fail();
			}
		}
	}
	unsetenv("TZ");
	tzset();
}

static void test_local_round_trip_matches_mktime(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const struct cd_tz *z = cd_tz_get(zones[i]);

		use_glibc_zone(zones[i]);
		for (int n = 0; n < 2000; n++) {
			time_t t = (time_t)(946684800 + (int64_t)(next() % 2524608000ull));
			int64_t local = t + cd_tz_offset(z, t);
			int64_t back = cd_tz_from_local(z, local);

			/* a time that occurs twice comes back as the earlier */
			assert_true(back <= t);
			assert_int_equal(back + cd_tz_offset(z, back), local);
		}
	}
	unsetenv("TZ");
	tzset();
}

static void test_gap_and_overlap(void **state)
{
	const struct cd_tz *z = cd_tz_get("Europe/Berlin");
	int64_t day = cd_tz_days(2026, 3, 29);

	(void)state;
	/* 02:30 does not exist on 2026-03-29: read with CET, 01:30 UTC */
	assert_int_equal(cd_tz_from_local(z, day * 86400 + 9000), day * 86400 + 5400);
	/* 02:30 on 2026-10-25 happens twice: the first is 00:30 UTC */
	day = cd_tz_days(2026, 10, 25);
	assert_int_equal(cd_tz_from_local(z, day * 86400 + 9000), day * 86400 + 1800);
}

static void test_rule_after_the_table(void **state)
{
	const struct cd_tz *z = cd_tz_get("America/New_York");
	int64_t summer = cd_tz_days(2090, 7, 1) * 86400;
	int64_t winter = cd_tz_days(2090, 1, 15) * 86400;
	/* second Sunday of March 2090 is the 12th: 02:00 EST = 07:00 UTC */
	int64_t change = cd_tz_days(2090, 3, 12) * 86400 + 7 * 3600;

	(void)state;
	assert_int_equal(cd_tz_offset(z, summer), -4 * 3600);
	assert_int_equal(cd_tz_offset(z, winter), -5 * 3600);
	assert_int_equal(cd_tz_offset(z, change - 1), -5 * 3600);
	assert_int_equal(cd_tz_offset(z, change), -4 * 3600);
	/* southern hemisphere: Sydney is on daylight time in January */
	z = cd_tz_get("Australia/Sydney");
	assert_int_equal(cd_tz_offset(z, cd_tz_days(2090, 1, 15) * 86400), 11 * 3600);
	assert_int_equal(cd_tz_offset(z, cd_tz_days(2090, 7, 15) * 86400), 10 * 3600);
}

static void test_civil_days(void **state)
{
	int y, m, d;

	(void)state;
	assert_int_equal(cd_tz_days(1970, 1, 1), 0);
	assert_int_equal(cd_tz_days(2000, 3, 1), 11017);
	assert_int_equal(cd_tz_weekday(0), 4);                     /* Thursday */
	assert_int_equal(cd_tz_weekday(cd_tz_days(2026, 11, 30)), 1); /* Monday */
	assert_int_equal(cd_tz_weekday(-1), 3);
	for (int64_t n = -800000; n < 800000; n += 997) {
		cd_tz_civil(n, &y, &m, &d);
		assert_int_equal(cd_tz_days(y, m, d), n);
	}
}

static void test_unknown_and_hostile_names(void **state)
{
	(void)state;
	assert_null(cd_tz_get("Mars/Olympus_Mons"));
	assert_null(cd_tz_get("../../etc/passwd"));
	assert_null(cd_tz_get("/etc/localtime"));
	assert_null(cd_tz_get(""));
	/* a file that is no TZif */
	assert_null(cd_tz_get("zone.tab"));
	assert_non_null(cd_tz_get("UTC"));
	cd_tz_reset();
	assert_non_null(cd_tz_get("Europe/Berlin"));
	cd_tz_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_glibc),
		cmocka_unit_test(test_local_round_trip_matches_mktime),
		cmocka_unit_test(test_gap_and_overlap),
		cmocka_unit_test(test_rule_after_the_table),
		cmocka_unit_test(test_civil_days),
		cmocka_unit_test(test_unknown_and_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
