/* test_experiment.c - the automatic winner of an A/B test: decided from
 * the counts, with the significance split between the challengers
 * (Bonferroni), never before every arm has min_per_arm deliveries, and
 * through a real store: counts by variant (bounces out, feedback only
 * within the window), the decision kept, checks at most hourly. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "candor/config.h"
#include "candor/experiment.h"
#include "candor/stats.h"
#include "candor/store.h"
#include "candor/store_report.h"

#define NOW 1800000000LL

static struct cd_variant two[] = { { .name = "A", .weight = 1 }, { .name = "B", .weight = 1 } };
static struct cd_variant three[] = { { .name = "A", .weight = 1 }, { .name = "B", .weight = 1 },
				     { .name = "C", .weight = 1 } };

static struct cd_experiment_arm arm(const char *name, int64_t feedback, int64_t delivered)
{
	struct cd_experiment_arm a = { .delivered = delivered, .feedback = feedback };

	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

/* 13% against 10% of 1,000 each: p about 0.035, under 5% but not under
 * 5% / 2. */
static void test_bonferroni_splits_the_level(void **state)
{
	struct cd_campaign cp = { .name = "review", .winner_min = 1000, .winner_alpha = 0.05,
				  .variants = two, .nvariants = 2 };
	struct cd_experiment_arm a2[] = { arm("A", 100, 1000), arm("B", 130, 1000) };
	struct cd_experiment_arm a3[] = { arm("A", 100, 1000), arm("B", 130, 1000),
					  arm("C", 100, 1000) };
	double p = cd_stats_p_value(100, 1000, 130, 1000, NULL);

	(void)state;
	assert_true(p < 0.05 && p > 0.025);
	/* one comparison: B wins at 5% */
	assert_int_equal(cd_experiment_decide(&cp, a2, 2), 1);
	assert_true(a2[1].p > 0.025 && a2[1].p < 0.05);
	assert_true(a2[1].rate > 0.129 && a2[1].rate < 0.131);
	assert_true(a2[0].p == 1);
	/* two comparisons: the same B needs p under 2.5% */
	cp.variants = three;
	cp.nvariants = 3;
	assert_int_equal(cd_experiment_decide(&cp, a3, 3), -1);
	/* a clearer B wins against two */
	a3[1] = arm("B", 150, 1000);
	assert_int_equal(cd_experiment_decide(&cp, a3, 3), 1);
}

static void test_control_wins_only_against_every_challenger(void **state)
{
	struct cd_campaign cp = { .name = "review", .winner_min = 1000, .winner_alpha = 0.05,
				  .variants = three, .nvariants = 3 };
	struct cd_experiment_arm a[] = { arm("A", 200, 1000), arm("B", 100, 1000),
					 arm("C", 190, 1000) };

	(void)state;
	/* A is best but not far from C */
	assert_int_equal(cd_experiment_decide(&cp, a, 3), -1);
	a[2] = arm("C", 100, 1000);
	assert_int_equal(cd_experiment_decide(&cp, a, 3), 0);
}

static void test_no_decision_below_min_per_arm(void **state)
{
	struct cd_campaign cp = { .name = "review", .winner_min = 1000, .winner_alpha = 0.05,
				  .variants = two, .nvariants = 2 };
	/* a difference no test could miss, but B is one mail short */
	struct cd_experiment_arm a[] = { arm("A", 100, 5000), arm("B", 300, 999) };

	(void)state;
	assert_int_equal(cd_experiment_decide(&cp, a, 2), -1);
	/* the control short of its share stops it too */
	a[0] = arm("A", 10, 999);
	a[1] = arm("B", 300, 1000);
	assert_int_equal(cd_experiment_decide(&cp, a, 2), -1);
	a[0] = arm("A", 10, 1000);
	assert_int_equal(cd_experiment_decide(&cp, a, 2), 1);
}

/* ---- through a store ------------------------------------------------------ */

static char dir[64], db[128];
static struct cd_store *st;

static int setup(void **state)
{
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-experiment-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/candor.db", dir);
	return cd_store_open(db, CD_STORE_CREATE, &st, &err);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cd_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Write as a shop's or the daemon's own connection would. */
static void sql(const char *text)
{
	sqlite3 *h;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_exec(h, text, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(h);
}

/* TEXT with $C replaced by the campaign and $N by the number in its
 * order ids ("$C-17"). */
static void sql_for(const char *campaign, const char *text)
{
	char buf[1024], num[64];
	size_t n = 0;

	snprintf(num, sizeof(num), "CAST(substr(order_id, %zu) AS INTEGER)", strlen(campaign) + 2);
	for (const char *p = text; *p; p++) {
		if (p[0] == '$' && (p[1] == 'C' || p[1] == 'N'))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", *++p == 'C' ? campaign : num);
		else
			buf[n++] = *p;
		assert_true(n < sizeof(buf) - 1);
	}
	buf[n] = '\0';
	sql(buf);
}

/* 2,000 messages of CAMPAIGN sent at 1000, odd orders A, even ones B;
 * 20 of B's bounced; feedback within the window from 1 in 20 of A and
 * 1 in 10 of B, and late feedback from A that must not count. */
static void plant(const char *campaign)
{
	sql_for(campaign, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
		" INSERT INTO messages(order_id, campaign, variant, state, recipient, created,"
		" updated, sent_at) SELECT '$C-' || i, '$C', CASE WHEN i % 2 THEN 'A' ELSE 'B' END,"
		" 'sent', 'c' || i || '@example.org', 1000, 1000, 1000 FROM n");
	sql_for(campaign, "INSERT INTO events(message, order_id, kind, detail, at) SELECT id,"
		" order_id, 'bounced', 'hard 5.1.1', 1100 FROM messages WHERE campaign = '$C'"
		" AND variant = 'B' AND $N % 100 = 2");
	sql_for(campaign, "INSERT INTO feedback(order_id, rating, source, received) SELECT"
		" order_id, 5, 'shop', 2000 FROM messages WHERE campaign = '$C'"
		" AND $N % CASE variant WHEN 'A' THEN 20 ELSE 10 END IN (0, 1)");
	sql_for(campaign, "INSERT INTO feedback(order_id, rating, source, received) SELECT"
		" order_id, 5, 'late', 1000 + 86400 * 60 FROM messages WHERE campaign = '$C'"
		" AND $N % 20 = 11");
}

static int keep_counts(void *arg, const struct cd_variant_counts *c)
{
	struct cd_variant_counts *out = arg;

	out[c->variant[0] == 'B'] = *c;
	out[c->variant[0] == 'B'].variant = NULL;
	return 0;
}

static void test_store_counts_delivered_and_feedback_in_window(void **state)
{
	struct cd_variant_counts c[2] = { { 0 } };

	(void)state;
	plant("review");
	assert_int_equal(cd_store_variant_counts(st, "review", 0, 86400 * 30, keep_counts, c), 0);
	assert_int_equal(c[0].sent, 1000);
	assert_int_equal(c[0].bounced, 0);
	assert_int_equal(c[0].feedback, 100);
	assert_int_equal(c[1].sent, 1000);
	assert_int_equal(c[1].bounced, 20);
	assert_int_equal(c[1].feedback, 200);
	assert_int_equal(c[1].positive, 200);
}

static void test_winner_decided_kept_and_checked_hourly(void **state)
{
	struct cd_campaign cp = { .name = "review", .winner_min = 900, .winner_alpha = 0.01,
				  .expire = 86400 * 30, .variants = two, .nvariants = 2 };
	struct cd_campaign later = cp;
	char winner[64], stored[64];
	struct cd_error err;
	int64_t at;

	(void)state;
	assert_int_equal(cd_experiment_winner_get(st, &cp, NOW, winner, sizeof(winner), &err), 0);
	assert_string_equal(winner, "B");
	cd_experiment_winner_stored(st, "review", stored, sizeof(stored));
	assert_string_equal(stored, "B");
	assert_int_equal(cd_store_winner(st, "review", stored, sizeof(stored)), 0);
	assert_string_equal(stored, "B");

	/* a campaign with nothing sent yet: checked, nothing decided */
	later.name = "later";
	assert_int_equal(cd_experiment_winner_get(st, &later, NOW, winner, sizeof(winner), &err), 0);
	assert_string_equal(winner, "");
	assert_int_equal(cd_store_winner_checked(st, "later", &at), 0);
	assert_int_equal(at, NOW);
	/* its mail goes out; within the hour nobody looks again */
	plant("later");
	assert_int_equal(cd_experiment_winner_get(st, &later, NOW + 3599, winner, sizeof(winner),
						  &err), 0);
	assert_string_equal(winner, "");
	assert_int_equal(cd_experiment_winner_get(st, &later, NOW + 3600, winner, sizeof(winner),
						  &err), 0);
	assert_string_equal(winner, "B");
	/* never before every arm has its deliveries: B has 980 */
	later.name = "review";
	later.winner_min = 981;
	assert_int_equal(cd_store_winner_set(st, "review", NULL, &err), 0);
	assert_int_equal(cd_store_winner_checked_set(st, "review", 0, &err), 0);
	assert_int_equal(cd_experiment_winner_get(st, &later, NOW, winner, sizeof(winner), &err), 0);
	assert_string_equal(winner, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bonferroni_splits_the_level),
		cmocka_unit_test(test_control_wins_only_against_every_challenger),
		cmocka_unit_test(test_no_decision_below_min_per_arm),
		cmocka_unit_test(test_store_counts_delivered_and_feedback_in_window),
		cmocka_unit_test(test_winner_decided_kept_and_checked_hourly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
