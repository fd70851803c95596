/* test_due.c - the "what is due" queries stay on what is due: on a real
 * store without statistics (candord never runs ANALYZE), each kind's plan
 * is driven by the candidate row ids, scans no table and sorts no rows.
 * (Without the unary + on its filters, the reminder query walked
 * messages_state: every sent message, every pass.) And the scheduler's
 * side around those queries: the channels that get no reminder, and a
 * position that is trusted again only under the same rules. */
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
#include "candor/due.h"
#include "candor/store.h"
#include "candor/store_due.h"

#define T 1800000000LL /* a request sent then, for the reminder tests */

static char dir[64];
static struct cd_store *st;
static sqlite3 *db; /* the same file, for what only tests do to it */

static int setup(void **state)
{
	char path[128];
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-due-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/candor.db", dir);
	if (cd_store_open(path, CD_STORE_CREATE, &st, &err) < 0 ||
	    sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	/* enough rows that the planner has a choice, most of them sent */
	return sqlite3_exec(db,
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
		" INSERT INTO orders(order_id, email, delivered, shipped, status)"
		" SELECT 'o' || i, 'c' || i || '@x.example', 1700000000 + i * 600, 1700000000 + i * 500,"
		" 'delivered' FROM n;"
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)"
		" SELECT order_id, 'review', 'A', 'sent', email, delivered, delivered, delivered FROM orders;"
		"INSERT INTO feedback(order_id, rating, received) SELECT order_id, 1 + rowid % 5, delivered"
		" FROM orders;"
		/* two requests sent at T without an answer: one web order, one
		 * from a marketplace that allows no reminder */
		"INSERT INTO orders(order_id, channel, email, delivered, status) VALUES"
		" ('web1', 'web', 'w@y.example', 1800000000 - 86400, 'delivered'),"
		" ('amz1', 'amazon', 'a@y.example', 1800000000 - 86400, 'delivered');"
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)"
		" VALUES ('web1', 'review', 'B', 'sent', 'w@y.example', 1800000000, 1800000000, 1800000000),"
		" ('amz1', 'review', 'B', 'sent', 'a@y.example', 1800000000, 1800000000, 1800000000);",
		NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	sqlite3_close(db);
	cd_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const struct cd_campaign review = {
	.name = "review", .trigger = CD_TRIGGER_DELIVERED, .delay = 604800,
	.expire = 2592000, .reminder = 432000, .max_rating = 2,
};

static void assert_plan_on_candidates(enum cd_due_kind k, enum cd_trigger trigger)
{
	char sql[3072], explain[3200];
	sqlite3_stmt *s;
	int first = 1;

	cd_store_due_sql(k, trigger, 1, sql, sizeof(sql));
	snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 3);

		if (first && strncmp(line, "SEARCH ", 7) == 0) {
			if (!strstr(line, "INTEGER PRIMARY KEY (rowid=?)"))
				fail_msg("kind %d is driven by \"%s\", not by its candidates", (int)k, line);
			first = 0;
		}
		if ((strncmp(line, "SCAN ", 5) == 0 && !strstr(line, "json_each")) ||
		    strstr(line, "TEMP B-TREE"))
			fail_msg("kind %d: \"%s\"", (int)k, line);
	}
	sqlite3_finalize(s);
	assert_int_equal(first, 0);
}

static void test_request_plan(void **state)
{
	(void)state;
	assert_plan_on_candidates(CD_DUE_REQUEST, CD_TRIGGER_DELIVERED);
	assert_plan_on_candidates(CD_DUE_REQUEST, CD_TRIGGER_SHIPPED);
}

static void test_reminder_plan(void **state)
{
	(void)state;
	assert_plan_on_candidates(CD_DUE_REMINDER, CD_TRIGGER_DELIVERED);
}

static void test_apology_plan(void **state)
{
	(void)state;
	assert_plan_on_candidates(CD_DUE_APOLOGY, CD_TRIGGER_NEGATIVE_FEEDBACK);
}

/* The reminders due at NOW under NO_REMINDER (NNO names), as "id,id". */
static void due_reminders(int64_t now, const char *const *no_reminder, size_t nno, char *out,
			  size_t len)
{
	struct cd_due_order *orders = calloc(CD_DUE_BATCH, sizeof(*orders));
	struct cd_due_page pg = { .key = INT64_MIN };
	struct cd_due_scan sc;
	struct cd_error err;
	size_t n = 0;
	int more = 0;

	assert_non_null(orders);
	out[0] = '\0';
	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now, no_reminder, nno, &sc);
	assert_int_equal(cd_due_next_batch(st, &review, CD_DUE_REMINDER, now, &sc, &pg, orders, &n,
					   &more, &err), 0);
	assert_int_equal(more, 0);
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(out);

		/* a reminder keeps its request's variant */
		assert_string_equal(orders[i].variant, "B");
		snprintf(out + used, len - used, "%s%s", used ? "," : "", orders[i].order.id);
		cd_due_order_clear(&orders[i]);
	}
	free(orders);
}

static void test_reminder_skips_channels_without_reminders(void **state)
{
	const char *amazon[] = { "amazon" };
	int64_t now = T + review.reminder + 10;
	char ids[64];

	(void)state;
	due_reminders(now, NULL, 0, ids, sizeof(ids));
	assert_string_equal(ids, "web1,amz1");
	due_reminders(now, amazon, 1, ids, sizeof(ids));
	assert_string_equal(ids, "web1");
	/* a name JSON would have to escape is still only a name */
	{
		const char *odd[] = { "we\"b", "x\\" };

		due_reminders(now, odd, 2, ids, sizeof(ids));
		assert_string_equal(ids, "web1,amz1");
	}
	/* not due before the reminder's wait */
	due_reminders(T + review.reminder - 10, NULL, 0, ids, sizeof(ids));
	assert_string_equal(ids, "");
}

static void test_position_kept_only_under_the_same_rules(void **state)
{
	const char *amazon[] = { "amazon" }, *two[] = { "amazon", "ebay" };
	int64_t now = T + review.reminder + 10, wait = review.reminder;
	struct cd_due_scan sc;
	struct cd_error err;
	sqlite3_stmt *s;

	(void)state;
	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now, amazon, 1, &sc);
	assert_true(sc.hwm == INT64_MIN);
	assert_int_equal(cd_due_save_scan(st, &review, CD_DUE_REMINDER, now, &sc, &err), 0);
	/* the stored rules are those earlier versions wrote, list included,
	 * so an upgrade does not make every campaign read its whole range */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT params, hwm FROM scan_state"
					    " WHERE campaign = 'review' AND kind = 'reminder'",
					    -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0),
			    "delivered 604800 2592000 2 432000 [\"amazon\"]");
	assert_true(sqlite3_column_int64(s, 1) == now - wait);
	sqlite3_finalize(s);

	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now + 60, amazon, 1, &sc);
	assert_true(sc.hwm == now - wait);
	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now + 60, two, 2, &sc);
	assert_true(sc.hwm == INT64_MIN);
	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now + 60, NULL, 0, &sc);
	assert_true(sc.hwm == INT64_MIN);
	/* the clock went back: the position is ahead of now, trust nothing */
	cd_due_load_scan(st, &review, CD_DUE_REMINDER, now - 60, amazon, 1, &sc);
	assert_true(sc.hwm == INT64_MIN && sc.mark == INT64_MAX);
}

/* A preview asks about one order: the due query itself says whether
 * it is due, its rules one at a time which one says no. */
static void test_explain_names_the_rule(void **state)
{
	const char *amazon[] = { "amazon" };
	const struct cd_campaign sorry = {
		.name = "sorry", .trigger = CD_TRIGGER_NEGATIVE_FEEDBACK, .delay = 0,
		.expire = 1000000000, .max_rating = 2,
	};
	int64_t now = T + review.reminder + 10;
	struct cd_due_verdict v;
	struct cd_error err;

	(void)state;
	assert_int_equal(cd_due_explain(st, &review, CD_DUE_REMINDER, now, "web1", amazon, 1,
					&v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_NOW);
	assert_int_equal(cd_due_explain(st, &review, CD_DUE_REMINDER, now, "amz1", amazon, 1,
					&v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_NO_REMINDER);
	assert_false(cd_due_stop_final(CD_DUE_NOW) || cd_due_stop_final(CD_DUE_LATER));
	assert_true(cd_due_stop_final(v.stop));
	assert_int_equal(cd_due_explain(st, &review, CD_DUE_REMINDER, T + review.reminder - 10,
					"web1", amazon, 1, &v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_LATER);
	assert_true(v.when == T + review.reminder);
	/* the request was made: the campaign is done with the order */
	assert_int_equal(cd_due_explain(st, &review, CD_DUE_REQUEST, now, "o5", NULL, 0,
					&v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_DONE);
	assert_string_equal(v.status, "delivered");
	/* apologies: o5's feedback is a 1, o4's a 5 */
	now = 1700000000 + 5 * 600 + 10;
	assert_int_equal(cd_due_explain(st, &sorry, CD_DUE_APOLOGY, now, "o5", NULL, 0,
					&v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_NOW);
	assert_int_equal(cd_due_explain(st, &sorry, CD_DUE_APOLOGY, now, "o4", NULL, 0,
					&v, &err), 0);
	assert_int_equal(v.stop, CD_DUE_NO_BASE);
	assert_int_equal(cd_due_explain(st, &review, CD_DUE_REQUEST, now, "nope", NULL, 0,
					&v, &err), CD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_plan),
		cmocka_unit_test(test_reminder_plan),
		cmocka_unit_test(test_apology_plan),
		cmocka_unit_test(test_reminder_skips_channels_without_reminders),
		cmocka_unit_test(test_position_kept_only_under_the_same_rules),
		cmocka_unit_test(test_explain_names_the_rule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
