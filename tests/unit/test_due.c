/* test_due.c - the "what is due" queries stay on what is due: on a real
 * store without statistics (candord never runs ANALYZE), each kind's plan
 * is driven by the candidate row ids, scans no table and sorts no rows.
 * (Without the unary + on its filters, the reminder query walked
 * messages_state: every sent message, every pass.) */
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

static char dir[64];
static struct cd_store *st;

static int setup(void **state)
{
	char db[128];
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-due-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/candor.db", dir);
	if (cd_store_open(db, CD_STORE_CREATE, &st, &err) < 0)
		return -1;
	/* enough rows that the planner has a choice, most of them sent */
	return cd_store_exec(st,
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
		" INSERT INTO orders(order_id, email, delivered, shipped, status)"
		" SELECT 'o' || i, 'c' || i || '@x.example', 1700000000 + i * 600, 1700000000 + i * 500,"
		" 'delivered' FROM n;"
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)"
		" SELECT order_id, 'review', 'A', 'sent', email, delivered, delivered, delivered FROM orders;"
		"INSERT INTO feedback(order_id, rating, received) SELECT order_id, 1 + rowid % 5, delivered"
		" FROM orders;", &err);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cd_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void assert_plan_on_candidates(enum cd_due_kind k, enum cd_trigger trigger)
{
	struct cd_campaign cp = { .name = "review", .trigger = trigger, .delay = 604800,
				  .expire = 2592000, .reminder = 432000, .max_rating = 2 };
	char sql[3072], explain[3200];
	sqlite3_stmt *s;
	int first = 1;

	cd_due_sql(&cp, k, 1, sql, sizeof(sql));
	snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(cd_store_db(st), explain, -1, &s, NULL), SQLITE_OK);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_plan),
		cmocka_unit_test(test_reminder_plan),
		cmocka_unit_test(test_apology_plan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
