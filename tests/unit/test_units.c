/* test_units.c - duration and rate notation. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "candor/error.h"
#include "candor/units.h"

static int64_t dur(const char *s)
{
	int64_t v = -1;
	char why[160];

	if (cd_units_duration(s, &v, why, sizeof(why)) < 0)
		return -1;
	return v;
}

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(dur("7d"), 7 * 86400);
	assert_int_equal(dur("36h"), 36 * 3600);
	assert_int_equal(dur("15m"), 900);
	assert_int_equal(dur("90s"), 90);
	assert_int_equal(dur("2w"), 14 * 86400);
	assert_int_equal(dur("1h30m"), 5400);
	assert_int_equal(dur("0s"), 0);
}

static void test_duration_rejects_typos(void **state)
{
	(void)state;
	assert_int_equal(dur(""), -1);
	assert_int_equal(dur("7"), -1);     /* no unit */
	assert_int_equal(dur("7 d"), -1);   /* space */
	assert_int_equal(dur("7days"), -1);
	assert_int_equal(dur("-7d"), -1);
	assert_int_equal(dur("d"), -1);
	assert_int_equal(dur("7x"), -1);
	assert_int_equal(dur("1.5h"), -1);
	assert_int_equal(dur("99999999999999999999d"), -1); /* overflow */
	assert_int_equal(dur("40000d"), -1);                 /* past a century */
}

static void test_duration_reason_names_problem(void **state)
{
	char why[160] = "";
	int64_t v;

	(void)state;
	assert_int_equal(cd_units_duration("7", &v, why, sizeof(why)), CD_EINVAL);
	assert_non_null(strstr(why, "missing unit"));
}

static void test_rate_forms(void **state)
{
	struct cd_rate r;
	char why[160];

	(void)state;
	assert_int_equal(cd_units_rate("200/hour", &r, why, sizeof(why)), 0);
	assert_int_equal(r.count, 200);
	assert_int_equal(r.per_seconds, 3600);
	assert_int_equal(cd_units_rate("5/minute", &r, why, sizeof(why)), 0);
	assert_int_equal(r.per_seconds, 60);
	assert_int_equal(cd_units_rate("1000/day", &r, why, sizeof(why)), 0);
	assert_int_equal(r.per_seconds, 86400);
	assert_int_equal(cd_units_rate("3/s", &r, why, sizeof(why)), 0);
	assert_int_equal(r.per_seconds, 1);
}

static void test_rate_rejects_bad(void **state)
{
	struct cd_rate r;
	char why[160];
	const char *bad[] = { "", "200", "200/", "/hour", "200/hours ", "200/fortnight",
			      "0/hour", "-1/hour", "two/hour", "200 / hour", "1e3/hour" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cd_units_rate(bad[i], &r, why, sizeof(why)), CD_EINVAL);
}

static void test_format_round_trips(void **state)
{
	const char *in[] = { "7d", "36h", "15m", "1h30m", "90s", "0s" };
	const char *out[] = { "7d", "1d12h", "15m", "1h30m", "1m30s", "0s" };
	char buf[64];
	struct cd_rate r = { 200, 3600 };

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_string_equal(cd_units_format_duration(dur(in[i]), buf, sizeof(buf)), out[i]);
		assert_int_equal(dur(buf), dur(in[i]));
	}
	assert_string_equal(cd_units_format_rate(&r, buf, sizeof(buf)), "200/hour");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_rejects_typos),
		cmocka_unit_test(test_duration_reason_names_problem),
		cmocka_unit_test(test_rate_forms),
		cmocka_unit_test(test_rate_rejects_bad),
		cmocka_unit_test(test_format_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
