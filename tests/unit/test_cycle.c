/* test_cycle.c - one pass of the pipeline (cd_cycle_run) over a real
 * SQLite store, with the shipped templates and packs and the outbox
 * transport into a temporary directory, at a fixed clock (CANDOR_NOW):
 * each due order gets exactly one request, in the outbox and recorded
 * "sent" with the token its mail carries; a second cycle sends nothing
 * again, only what became due since; returned, refunded and cancelled
 * orders, suppressed addresses and orders with feedback get none; the
 * per-customer cap holds inside one cycle; a plan (plan_only) counts
 * what is due and writes nothing; a dry run leaves the store as it was. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/log.h"
#include "candor/order.h"
#include "candor/store.h"
#include "candor/store_order.h"
#include "candor/template.h"

#define NOW 1795000000LL
#define DAY 86400

static char dir[64], top[4096], outbox[160];
static struct cd_config *cfg;
static struct cd_templates *tpl;
static struct cd_store *st;
static sqlite3 *raw; /* a second connection, as the shop's own system has */
static int serial;

static int setup(void **state)
{
	char now[32];

	(void)state;
	cd_log_init("test_cycle", CD_LOG_STDERR, CD_LOG_ERR);
	if (!realpath(getenv("top_srcdir") ? getenv("top_srcdir") : ".", top))
		return -1;
	snprintf(now, sizeof(now), "%lld", NOW);
	setenv("CANDOR_NOW", now, 1);
	snprintf(dir, sizeof(dir), "/tmp/cd-test-cycle-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	unsetenv("CANDOR_NOW");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A store, an outbox and a configuration of the test's own: limits only
 * per customer (two in 90 days), a send window that is always open, one
 * campaign "review" 7 days after delivery for 30 days. CAMPAIGN_EXTRA
 * goes inside the campaign's group. */
static int open_all(const char *campaign_extra)
{
	char path[200], db[200];
	struct cd_errors errs = { 0 };
	struct cd_error err;
	int created;
	FILE *fp;

	serial++;
	snprintf(outbox, sizeof(outbox), "%s/outbox%d", dir, serial);
	snprintf(db, sizeof(db), "%s/candor%d.db", dir, serial);
	snprintf(path, sizeof(path), "%s/candor%d.conf", dir, serial);
	if (!(fp = fopen(path, "w")))
		return -1;
	fprintf(fp,
		"database = \"%s\";\ntemplates = \"%s/templates\";\npacks = \"%s/etc/packs\";\n"
		"transport = \"outbox\";\noutbox = { directory = \"%s\"; };\n"
		"shop = { name = \"Tea House\"; domain = \"tea.example\"; from = \"feedback@tea.example\"; };\n"
		"channels = ( { name = \"web\"; feedback_url = \"https://tea.example/review?order={order}\"; } );\n"
		"limits = { global_rate = \"\"; domain_rate = \"\"; daily_cap = 0;\n"
		"  per_customer = 2; per_customer_period = \"90d\"; };\n"
		"send_window = { start = \"00:00\"; end = \"24:00\";\n"
		"  weekdays = [\"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"]; };\n"
		"campaigns = ( { name = \"review\"; trigger = \"delivered\"; delay = \"7d\"; expire = \"30d\";\n"
		"  %s\n"
		"  variants = ( { name = \"A\"; template = \"review_request\"; }%s ); } );\n",
		db, top, top, outbox, campaign_extra ? campaign_extra : "",
		campaign_extra ? ", { name = \"B\"; template = \"review_request\"; }" : "");
	fclose(fp);
	if (cd_config_load(path, &cfg, &errs) < 0 || cd_templates_load(cfg, &tpl, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			print_message("# %s:%d: %s\n", errs.items[i].file, errs.items[i].line,
				      errs.items[i].msg);
		cd_errors_clear(&errs);
		return -1;
	}
	if (cd_store_open(db, CD_STORE_CREATE, &st, &err) < 0 ||
	    cd_store_init_secret(st, &created, &err) < 0 || sqlite3_open(db, &raw) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(raw, 5000);
	return 0;
}

static int open_plain(void **state)
{
	(void)state;
	return open_all(NULL);
}

static int close_all(void **state)
{
	(void)state;
	sqlite3_close(raw);
	cd_store_close(st);
	cd_templates_free(tpl);
	cd_config_free(cfg);
	raw = NULL, st = NULL, tpl = NULL, cfg = NULL;
	return 0;
}

/* ---- orders and looking ------------------------------------------------------ */

/* Order ID for EMAIL, delivered DAYS_AGO days before NOW, in STATUS. */
static void order(const char *id, const char *email, int days_ago, const char *status)
{
	struct cd_order o = { .id = id, .email = email, .first_name = "Anna", .name = "Anna Schmidt",
			      .locale = "en", .status = status, .purchased = NOW - (days_ago + 3) * DAY,
			      .delivered = NOW - days_ago * DAY,
			      .items = "[{\"name\":\"Sencha 100 g\",\"quantity\":1}]" };
	struct cd_error err;

	assert_int_equal(cd_store_order_upsert(st, &o, NOW - DAY, &err), 0);
}

static int64_t num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t num(const char *fmt, ...)
{
	char q[512];
	sqlite3_stmt *s;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(raw, q, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The order ids with a message, in order, as "a,b,c". */
static const char *mailed(void)
{
	static char out[512];
	sqlite3_stmt *s;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(raw, "SELECT order_id FROM messages ORDER BY order_id",
					    -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t n = strlen(out);

		snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "",
			 (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	return out;
}

static int outbox_count(void)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s 2>/dev/null | grep -c '\\.eml$'", outbox);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static char *outbox_mail(const char *msgid)
{
	char path[400];
	FILE *fp;
	char *buf = calloc(1, 65536);

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s.eml", outbox, msgid);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("no outbox file for <%s>", msgid);
	assert_true(fread(buf, 1, 65535, fp) > 0);
	fclose(fp);
	return buf;
}

static struct cd_cycle_stats run(int plan_only, int dry_run)
{
	struct cd_cycle c = { .cfg = cfg, .store = st, .tpl = tpl, .plan_only = plan_only,
			      .dry_run = dry_run };
	struct cd_cycle_stats stats;
	struct cd_error err;

	if (cd_cycle_run(&c, &stats, &err) < 0)
		fail_msg("cycle: %s", err.msg);
	return stats;
}

/* ---- requests --------------------------------------------------------------------- */

static void test_each_due_order_gets_exactly_one_request(void **state)
{
	struct cd_cycle_stats s;
	sqlite3_stmt *q;

	(void)state;
	order("o1", "ann@example.org", 8, "delivered");
	order("o2", "bob@example.org", 10, "delivered");
	order("o3", "cy@example.org", 29, "delivered");
	order("young", "dee@example.org", 6, "delivered");  /* not yet due */
	order("old", "eve@example.org", 38, "delivered");   /* past expire */
	order("open", "fay@example.org", 0, "open");        /* never delivered */
	s = run(0, 0);
	assert_int_equal(s.due, 3);
	assert_int_equal(s.sent, 3);
	assert_int_equal(s.held + s.failed + s.deferred + s.unknown, 0);
	assert_string_equal(mailed(), "o1,o2,o3");
	assert_int_equal(num("SELECT count(*) FROM messages WHERE state = 'sent' AND kind = 'request'"
			     " AND campaign = 'review' AND attempts = 1"), 3);
	assert_int_equal(outbox_count(), 3);
	/* each mail went to its customer and carries its row's token */
	assert_int_equal(sqlite3_prepare_v2(raw, "SELECT message_id, token, recipient FROM messages",
					    -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		char *m = outbox_mail((const char *)sqlite3_column_text(q, 0)), want[200];

		snprintf(want, sizeof(want), "\r\nReply-To: <feedback+%s@tea.example>\r\n",
			 (const char *)sqlite3_column_text(q, 1));
		assert_non_null(strstr(m, want));
		snprintf(want, sizeof(want), "<%s>\r\n", (const char *)sqlite3_column_text(q, 2));
		assert_non_null(strstr(m, want));
		free(m);
	}
	sqlite3_finalize(q);
	/* the next one due: "young", a day from now */
	assert_int_equal(s.next_due, NOW + DAY);
}

static void test_second_cycle_sends_nothing_again(void **state)
{
	struct cd_cycle_stats s;

	(void)state;
	order("o1", "ann@example.org", 8, "delivered");
	order("o2", "bob@example.org", 9, "delivered");
	s = run(0, 0);
	assert_int_equal(s.sent, 2);
	s = run(0, 0);
	assert_int_equal(s.due, 0);
	assert_int_equal(s.sent, 0);
	assert_int_equal(num("SELECT count(*) FROM messages"), 2);
	assert_int_equal(outbox_count(), 2);
	/* an order written again (the shop's export runs daily) is not new */
	order("o1", "ann@example.org", 8, "delivered");
	/* what became due since goes, and only that */
	order("o3", "cy@example.org", 7, "delivered");
	s = run(0, 0);
	assert_int_equal(s.sent, 1);
	assert_string_equal(mailed(), "o1,o2,o3");
	assert_int_equal(outbox_count(), 3);
}

static void test_refunded_returned_cancelled_suppressed_and_answered_get_none(void **state)
{
	struct cd_feedback fb = { .order_id = "answered", .rating = 5, .received = NOW - 2 * DAY };
	struct cd_cycle_stats s;
	struct cd_error err;

	(void)state;
	order("ok", "ann@example.org", 8, "delivered");
	order("refunded", "bob@example.org", 8, "refunded");
	order("returned", "cy@example.org", 8, "returned");
	order("cancelled", "dee@example.org", 8, "cancelled");
	/* delivered, then refunded before the cycle came round */
	order("late-refund", "eve@example.org", 9, "delivered");
	order("late-refund", "eve@example.org", 9, "refunded");
	order("suppressed", "Fay@Example.org", 8, "delivered");
	assert_int_equal(cd_store_suppress(st, "fay@example.org", "unsubscribed", NULL, NOW - DAY,
					   &err), 0);
	order("answered", "gil@example.org", 8, "delivered");
	assert_int_equal(cd_store_feedback_add(st, &fb, &err), 0);
	s = run(0, 0);
	assert_int_equal(s.sent, 1);
	assert_string_equal(mailed(), "ok");
	assert_int_equal(outbox_count(), 1);
}

/* Two mails per customer in 90 days: three of her orders due in the same
 * cycle (her address written two ways) make two mails, not three, and
 * the third does not go in the next cycle either. */
static void test_customer_cap_holds_within_one_cycle(void **state)
{
	struct cd_cycle_stats s;

	(void)state;
	order("c1", "kim@example.org", 8, "delivered");
	order("c2", "Kim@Example.org", 9, "delivered");
	order("c3", "kim@example.org", 10, "delivered");
	order("other", "lee@example.org", 8, "delivered");
	s = run(0, 0);
	assert_int_equal(s.sent, 3);
	assert_int_equal(num("SELECT count(*) FROM messages WHERE recipient = 'kim@example.org'"
			     " COLLATE NOCASE"), 2);
	assert_int_equal(num("SELECT count(*) FROM messages WHERE recipient = 'lee@example.org'"), 1);
	assert_int_equal(outbox_count(), 3);
	s = run(0, 0);
	assert_int_equal(s.sent, 0);
	assert_int_equal(num("SELECT count(*) FROM messages"), 3);
}

/* ---- plans and dry runs -------------------------------------------------------------- */

/* What a cycle may write, summed up: rows of every table it writes. */
static void footprint(char *out, size_t len)
{
	snprintf(out, len, "messages %lld events %lld scan_state %lld waiting %lld"
		 " order_changes %lld meta %lld suppressions %lld",
		 (long long)num("SELECT count(*) FROM messages"),
		 (long long)num("SELECT count(*) FROM events"),
		 (long long)num("SELECT count(*) FROM scan_state"),
		 (long long)num("SELECT count(*) FROM waiting"),
		 (long long)num("SELECT count(*) FROM order_changes"),
		 (long long)num("SELECT count(*) FROM meta"),
		 (long long)num("SELECT count(*) FROM suppressions"));
}

static void test_plan_counts_what_is_due_and_writes_nothing(void **state)
{
	char before[256], after[256];
	struct cd_cycle_stats s;

	(void)state;
	/* kim has had her two mails */
	order("k1", "kim@example.org", 8, "delivered");
	order("k2", "kim@example.org", 9, "delivered");
	s = run(0, 0);
	assert_int_equal(s.sent, 2);
	order("p1", "ann@example.org", 8, "delivered");
	order("p2", "bob@example.org", 9, "delivered");
	order("p3", "cy@example.org", 3, "delivered");  /* not yet due */
	order("k3", "kim@example.org", 10, "delivered"); /* due, but over her cap */
	footprint(before, sizeof(before));
	s = run(1, 0);
	assert_int_equal(s.due, 2);
	assert_int_equal(s.sent, 0);
	footprint(after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(outbox_count(), 2);
	/* and a plan twice is the same plan */
	s = run(1, 0);
	assert_int_equal(s.due, 2);
	/* the real cycle afterwards still has everything to do */
	s = run(0, 0);
	assert_int_equal(s.sent, 2);
	assert_string_equal(mailed(), "k1,k2,p1,p2");
	assert_int_equal(num("SELECT count(*) FROM waiting WHERE order_id = 'k3'"), 1);
}

/* A dry run composes and writes the mails to the outbox, and leaves the
 * store as it was: the real run afterwards sends them all. */
static void test_dry_run_leaves_the_store_as_it_was(void **state)
{
	char before[256], after[256];
	struct cd_cycle_stats s;

	(void)state;
	order("d1", "ann@example.org", 8, "delivered");
	order("d2", "bob@example.org", 9, "delivered");
	footprint(before, sizeof(before));
	s = run(0, 1);
	assert_int_equal(s.sent, 2);
	assert_int_equal(outbox_count(), 2);
	footprint(after, sizeof(after));
	assert_string_equal(after, before);
	s = run(0, 0);
	assert_int_equal(s.sent, 2);
	assert_int_equal(num("SELECT count(*) FROM messages WHERE state = 'sent'"), 2);
}

static int open_with_auto_winner(void **state)
{
	(void)state;
	return open_all("auto_winner = { min_per_arm = 100; significance = \"5%\"; };");
}

/* With an automatic winner configured, a plan still writes nothing: it
 * checks no winner (which records itself), so "candorctl status" can
 * run a plan on a store opened read-only. */
static void test_plan_with_auto_winner_counts_what_is_due(void **state)
{
	char before[256], after[256];
	struct cd_cycle_stats s;

	(void)state;
	order("w1", "ann@example.org", 8, "delivered");
	footprint(before, sizeof(before));
	s = run(1, 0);
	assert_int_equal(s.due, 1);
	footprint(after, sizeof(after));
	assert_int_equal(num("SELECT count(*) FROM messages"), 0);
	assert_int_equal(outbox_count(), 0);
	assert_string_equal(after, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define FRESH(t) cmocka_unit_test_setup_teardown(t, open_plain, close_all)
		FRESH(test_each_due_order_gets_exactly_one_request),
		FRESH(test_second_cycle_sends_nothing_again),
		FRESH(test_refunded_returned_cancelled_suppressed_and_answered_get_none),
		FRESH(test_customer_cap_holds_within_one_cycle),
		FRESH(test_plan_counts_what_is_due_and_writes_nothing),
		FRESH(test_dry_run_leaves_the_store_as_it_was),
		cmocka_unit_test_setup_teardown(test_plan_with_auto_winner_counts_what_is_due,
						open_with_auto_winner, close_all),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
