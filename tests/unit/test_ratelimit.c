/* test_ratelimit.c - the sending limits count what the store says was
 * sent, with the window's edges where the config puts them: N per hour
 * is the last 3600 seconds, now included; the daily cap counts from
 * midnight UTC; a domain's rate holds that domain back and no other; the
 * per-customer cap takes the due query's count until the batch mails the
 * customer, then counts again. Messages are made through the store's own
 * verbs, as the cycle makes them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/ratelimit.h"
#include "candor/store.h"
#include "candor/store_message.h"

#define NOW 1793000000LL /* 07:33:20 UTC */
#define HOUR 3600

static char dir[64];
static struct cd_store *st;
static int serial;

static int setup(void **state)
{
	(void)state;
	cd_log_init("test_ratelimit", CD_LOG_STDERR, CD_LOG_ERR);
	snprintf(dir, sizeof(dir), "/tmp/cd-test-ratelimit-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Each test has a store of its own, empty. */
static int open_store(void **state)
{
	char path[128];
	struct cd_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/candor%d.db", dir, ++serial);
	return cd_store_open(path, CD_STORE_CREATE, &st, &err);
}

static int close_store(void **state)
{
	(void)state;
	cd_store_close(st);
	st = NULL;
	return 0;
}

/* A message to EMAIL made at CREATED and made "sending" at SENT (0: it
 * never went), ending in state END. */
static void mail(const char *email, int64_t created, int64_t sent, enum cd_msg_state end)
{
	char order[32], msgid[32];
	struct cd_error err;
	int64_t id;

	snprintf(order, sizeof(order), "o%d", ++serial);
	snprintf(msgid, sizeof(msgid), "m%d@test", serial);
	struct cd_msg_new m = {
		.order_id = order, .campaign = "review", .variant = "A", .kind = CD_DUE_REQUEST,
		.recipient = email, .message_id = msgid, .token = msgid, .subject = "How was it?",
		.created = created,
	};
	assert_int_equal(cd_store_message_insert(st, &m, &id, &err), 0);
	if (sent)
		assert_int_equal(cd_store_message_set_state(st, id, CD_MSG_SENDING, NULL, sent, &err), 0);
	assert_int_equal(cd_store_message_set_state(st, id, end, NULL, sent ? sent : created, &err), 0);
}

static struct cd_config limits(int64_t global, int64_t domain, int64_t daily, int per_customer)
{
	struct cd_config cfg = { 0 };

	cfg.limits.global_rate = (struct cd_rate){ .count = global, .per_seconds = HOUR };
	cfg.limits.domain_rate = (struct cd_rate){ .count = domain, .per_seconds = HOUR };
	cfg.limits.daily_cap = daily;
	cfg.limits.per_customer = per_customer;
	cfg.limits.per_customer_period = 30 * 86400;
	return cfg;
}

static struct cd_ratelimit *open_at(const struct cd_config *cfg, int64_t now)
{
	struct cd_ratelimit *rl = NULL;
	struct cd_error err;

	assert_int_equal(cd_ratelimit_open(cfg, st, now, &rl, &err), 0);
	assert_non_null(rl);
	return rl;
}

/* May a mail to EMAIL go? 0 yes, 1 it waits. */
static int check(struct cd_ratelimit *rl, const char *email, int64_t mails)
{
	const char *why = NULL;
	struct cd_error err;
	int rc = cd_ratelimit_check(rl, email, mails, &why, &err);

	assert_true(rc == 0 || rc == 1);
	assert_true((rc == 1) == (why != NULL));
	return rc;
}

static void test_global_rate_window_is_the_last_hour(void **state)
{
	struct cd_config cfg = limits(2, 0, 0, 0);
	struct cd_ratelimit *rl;

	(void)state;
	mail("a@one.example", NOW - 2 * HOUR, NOW - HOUR, CD_MSG_SENT);     /* just outside */
	mail("b@one.example", NOW - 2 * HOUR, NOW - HOUR + 1, CD_MSG_SENT); /* just inside */
	rl = open_at(&cfg, NOW);
	assert_false(cd_ratelimit_reached(rl));
	cd_ratelimit_note_sent(rl);
	assert_true(cd_ratelimit_reached(rl));
	cd_ratelimit_free(rl);
	/* a second later the older one left the window too */
	rl = open_at(&cfg, NOW + 1);
	assert_false(cd_ratelimit_reached(rl));
	cd_ratelimit_free(rl);
	/* the rate limits the cycle, not each address */
	rl = open_at(&cfg, NOW);
	assert_int_equal(check(rl, "c@two.example", 0), 0);
	cd_ratelimit_free(rl);
}

static void test_daily_cap_counts_from_midnight_utc(void **state)
{
	int64_t midnight = NOW - NOW % 86400;
	struct cd_config cfg = limits(0, 0, 2, 0);
	struct cd_ratelimit *rl;

	(void)state;
	mail("a@day.example", midnight - 10, midnight - 1, CD_MSG_SENT); /* yesterday */
	mail("b@day.example", midnight - 10, midnight, CD_MSG_SENT);     /* today */
	rl = open_at(&cfg, NOW);
	assert_false(cd_ratelimit_reached(rl));
	cd_ratelimit_note_sent(rl);
	assert_true(cd_ratelimit_reached(rl));
	/* a message that got as far as "sending" went out, whatever came of it */
	cd_ratelimit_free(rl);
	mail("c@day.example", midnight + 5, midnight + 5, CD_MSG_DEFERRED);
	rl = open_at(&cfg, NOW);
	assert_true(cd_ratelimit_reached(rl));
	cd_ratelimit_free(rl);
}

static void test_domain_rate_holds_back_only_that_domain(void **state)
{
	struct cd_config cfg = limits(0, 2, 0, 0);
	struct cd_ratelimit *rl;

	(void)state;
	mail("a@busy.example", NOW - 60, NOW - 60, CD_MSG_SENT);
	mail("b@Busy.Example", NOW - 30, NOW - 30, CD_MSG_SENT);
	mail("c@quiet.example", NOW - HOUR, NOW - HOUR, CD_MSG_SENT); /* outside the window */
	mail("d@quiet.example", NOW - 60, NOW - 60, CD_MSG_SENT);
	rl = open_at(&cfg, NOW);
	assert_int_equal(check(rl, "new@busy.example", 0), 1);
	assert_int_equal(check(rl, "new@BUSY.example", 0), 1);
	assert_int_equal(check(rl, "new@quiet.example", 0), 0);
	assert_int_equal(check(rl, "new@elsewhere.example", 0), 0);
	/* the domain rate holds back a mail, never the whole cycle */
	assert_false(cd_ratelimit_reached(rl));
	cd_ratelimit_free(rl);
}

static void test_customer_cap_counts_again_once_mailed(void **state)
{
	struct cd_config cfg = limits(0, 0, 0, 1);
	struct cd_ratelimit *rl = open_at(&cfg, NOW);

	(void)state;
	assert_true(cd_ratelimit_cap_since(rl) == NOW - 30 * 86400);
	cd_ratelimit_new_batch(rl);
	/* the batch's own count decides while the batch has not mailed her */
	assert_int_equal(check(rl, "eve@cap.example", 0), 0);
	assert_int_equal(check(rl, "eve@cap.example", 1), 1);
	/* her first order's mail is made; the second order of the same batch
	 * still carries the count from before it, so it is counted again */
	mail("eve@cap.example", NOW, NOW, CD_MSG_SENT);
	cd_ratelimit_note_mailed(rl, "Eve@Cap.Example");
	assert_int_equal(check(rl, "eve@cap.example", 0), 1);
	/* a new batch's query counted her mail already */
	cd_ratelimit_new_batch(rl);
	assert_int_equal(check(rl, "eve@cap.example", 1), 1);
	assert_int_equal(check(rl, "zoe@cap.example", 0), 0);
	cd_ratelimit_free(rl);
}

static void test_customer_cap_ignores_held_and_failed(void **state)
{
	struct cd_config cfg = limits(0, 0, 0, 1);
	struct cd_ratelimit *rl = open_at(&cfg, NOW);

	(void)state;
	mail("held@cap.example", NOW, 0, CD_MSG_HELD);
	mail("held@cap.example", NOW, NOW, CD_MSG_FAILED);
	cd_ratelimit_new_batch(rl);
	cd_ratelimit_note_mailed(rl, "held@cap.example");
	assert_int_equal(check(rl, "held@cap.example", 0), 0);
	/* and mails older than the period do not count */
	mail("old@cap.example", NOW - 31 * 86400, NOW - 31 * 86400, CD_MSG_SENT);
	cd_ratelimit_note_mailed(rl, "old@cap.example");
	assert_int_equal(check(rl, "old@cap.example", 0), 0);
	cd_ratelimit_free(rl);
}

static void test_no_limits_no_waiting(void **state)
{
	struct cd_config cfg = limits(0, 0, 0, 0);
	struct cd_ratelimit *rl = open_at(&cfg, NOW);

	(void)state;
	assert_true(cd_ratelimit_cap_since(rl) == 0);
	for (int i = 0; i < 5; i++) {
		mail("same@one.example", NOW, NOW, CD_MSG_SENT);
		cd_ratelimit_note_mailed(rl, "same@one.example");
		cd_ratelimit_note_sent(rl);
	}
	assert_false(cd_ratelimit_reached(rl));
	assert_int_equal(check(rl, "same@one.example", 5), 0);
	cd_ratelimit_free(rl);
}

/* A plan writes nothing: what it would send counts through
 * cd_ratelimit_note_planned, per address (any case) and per domain, and
 * stays right past the table's first growth. */
static void test_a_plan_counts_what_it_would_send(void **state)
{
	struct cd_config cfg = limits(0, 3, 0, 2);
	struct cd_ratelimit *rl = open_at(&cfg, NOW);
	char addr[64];

	(void)state;
	assert_int_equal(check(rl, "ann@plan.example", 0), 0);
	assert_int_equal(cd_ratelimit_note_planned(rl, "Ann@Plan.Example"), 0);
	assert_int_equal(check(rl, "ann@plan.example", 0), 0);
	assert_int_equal(cd_ratelimit_note_planned(rl, "ann@plan.example"), 0);
	/* her cap of 2 is reached by the plan alone */
	assert_int_equal(check(rl, "ANN@plan.example", 0), 1);
	/* the domain has had 2 of its 3 an hour */
	assert_int_equal(check(rl, "bob@plan.example", 0), 0);
	assert_int_equal(cd_ratelimit_note_planned(rl, "bob@plan.example"), 0);
	assert_int_equal(check(rl, "cy@PLAN.example", 0), 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "c%d@d%d.example", i, i);
		assert_int_equal(cd_ratelimit_note_planned(rl, addr), 0);
	}
	assert_int_equal(check(rl, "ann@plan.example", 0), 1);
	assert_int_equal(check(rl, "c4999@d4999.example", 0), 0);
	assert_int_equal(check(rl, "new@fresh.example", 0), 0);
	cd_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define WITH_STORE(t) cmocka_unit_test_setup_teardown(t, open_store, close_store)
		WITH_STORE(test_global_rate_window_is_the_last_hour),
		WITH_STORE(test_daily_cap_counts_from_midnight_utc),
		WITH_STORE(test_domain_rate_holds_back_only_that_domain),
		WITH_STORE(test_customer_cap_counts_again_once_mailed),
		WITH_STORE(test_customer_cap_ignores_held_and_failed),
		WITH_STORE(test_no_limits_no_waiting),
		WITH_STORE(test_a_plan_counts_what_it_would_send),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
