/* test_stats.c - the report's statistics against values computed
 * independently (Python's math module, by the formulas' textbook forms,
 * and the classic tea-tasting table). */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "candor/stats.h"

static void near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.10f, want %.10f", got, want);
}

static void test_wilson(void **state)
{
	struct cd_interval i = cd_stats_wilson(81, 263, CD_Z95);

	(void)state;
	near(i.lo, 0.2552885198782742, 1e-9);
	near(i.hi, 0.36620957698280004, 1e-9);
	i = cd_stats_wilson(0, 10, CD_Z95);
	near(i.lo, 0, 1e-12);
	near(i.hi, 0.2775327998628892, 1e-9);
	i = cd_stats_wilson(0, 0, CD_Z95);
	near(i.lo, 0, 0);
	near(i.hi, 1, 0);
}

static void test_z_test(void **state)
{
	(void)state;
	near(cd_stats_z_test(120, 1000, 150, 1000), 0.04964038686536881, 1e-9);
	near(cd_stats_z_test(150, 1000, 120, 1000), 0.04964038686536881, 1e-9);
	near(cd_stats_z_test(0, 100, 0, 100), 1, 0);
}

static void test_fisher(void **state)
{
	(void)state;
	near(cd_stats_fisher(3, 4, 1, 4), 0.4857142857142857, 1e-9); /* tea tasting */
	near(cd_stats_fisher(1, 10, 7, 10), 0.01976661109788045, 1e-9);
	near(cd_stats_fisher(2, 20, 9, 20), 0.03095030514385353, 1e-9);
}

static void test_p_value_picks_the_test(void **state)
{
	const char *m;

	(void)state;
	near(cd_stats_p_value(1, 10, 7, 10, &m), 0.01976661109788045, 1e-9);
	assert_string_equal(m, "fisher");
	near(cd_stats_p_value(120, 1000, 150, 1000, &m), 0.04964038686536881, 1e-9);
	assert_string_equal(m, "z-test");
}

static void test_quantile_and_sample_size(void **state)
{
	(void)state;
	near(cd_stats_norm_quantile(0.975), 1.959963984540054, 1e-9);
	near(cd_stats_norm_quantile(0.8), 0.8416212335729143, 1e-9);
	near(cd_stats_needed_per_arm(0.10, 0.2, 0.05, 0.8), 3840.847482436276, 1e-3);
	near(cd_stats_needed_per_arm(0.25, 0.2, 0.05, 0.8), 1250.7167334356145, 1e-3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wilson),
		cmocka_unit_test(test_z_test),
		cmocka_unit_test(test_fisher),
		cmocka_unit_test(test_p_value_picks_the_test),
		cmocka_unit_test(test_quantile_and_sample_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
