/* test_assign.c - A/B assignment: the same order always gets the same
 * variant of a campaign, and over 100,000 orders each arm's share matches
 * its weight within sampling error (chi-square at p > 0.001, so only a
 * real bias fails). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "candor/config.h"
#include "candor/experiment.h"

#define ORDERS 100000

/* chi-square 0.999 quantiles for 1..4 degrees of freedom */
static const double chi999[] = { 0, 10.828, 13.816, 16.266, 18.467 };

static void check_balance(struct cd_variant *v, size_t n, const char *campaign, const char *fmt)
{
	struct cd_campaign cp = { .name = (char *)campaign, .variants = v, .nvariants = n };
	long counts[8] = { 0 }, total = 0;
	double chi = 0;
	char id[32];

	for (size_t i = 0; i < n; i++)
		total += v[i].weight;
	for (int i = 0; i < ORDERS; i++) {
		snprintf(id, sizeof(id), fmt, i);
		counts[cd_experiment_variant(&cp, id) - v]++;
	}
	for (size_t i = 0; i < n; i++) {
		double want = (double)ORDERS * v[i].weight / total;

		chi += (counts[i] - want) * (counts[i] - want) / want;
	}
	if (chi > chi999[n - 1])
		fail_msg("%s: chi-square %.1f over %zu arms (%ld/%ld/%ld)", fmt, chi, n, counts[0],
			 counts[1], counts[2]);
}

static void test_balance(void **state)
{
	struct cd_variant two[] = { { .name = "A", .weight = 1 }, { .name = "B", .weight = 1 } };
	struct cd_variant three[] = { { .name = "A", .weight = 70 }, { .name = "B", .weight = 20 },
				      { .name = "C", .weight = 10 } };

	(void)state;
	/* sequential ids, Shopify-like ids, UUID-ish ids */
	check_balance(two, 2, "review", "W%07d");
	check_balance(two, 2, "review", "#%d");
	check_balance(three, 3, "review", "%d-4b2c-9d1e-shop");
	check_balance(three, 3, "apology", "ORD-%d");
}

static void test_stable(void **state)
{
	struct cd_variant v[] = { { .name = "A", .weight = 1 }, { .name = "B", .weight = 1 } };
	struct cd_campaign cp = { .name = "review", .variants = v, .nvariants = 2 };
	struct cd_campaign other = { .name = "second", .variants = v, .nvariants = 2 };
	int differ = 0;
	char id[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "W%07d", i);
		assert_ptr_equal(cd_experiment_variant(&cp, id), cd_experiment_variant(&cp, id));
		differ += cd_experiment_variant(&cp, id) != cd_experiment_variant(&other, id);
	}
	/* the campaign is part of the hash: another campaign's arms are drawn
	 * independently (about half differ) */
	assert_true(differ > 400 && differ < 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
