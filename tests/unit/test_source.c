/* test_source.c - the sources section (each type's settings checked and
 * reported with file, line and setting), the cursor and state kept by the
 * store, and the directory source taking a file once, through the runner. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "candor/config.h"
#include "candor/order.h"
#include "candor/source.h"
#include "candor/store.h"
#include "candor/store_order.h"
#include "candor/store_source.h"

#define BASE \
	"shop = { name = \"Tea\"; domain = \"tea.example\"; from = \"f@tea.example\"; };\n" \
	"campaigns = ( { name = \"review\"; expire = \"30d\"; reminder = \"5d\";\n" \
	"  reminder_template = \"t\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-source-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct cd_config *load(const char *sources, struct cd_errors *errs)
{
	struct cd_config *cfg = NULL;
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "%sdatabase = \"%s/candor.db\";\n%s", BASE, dir, sources);
	fclose(fp);
	memset(errs, 0, sizeof(*errs));
	cd_config_load(path, &cfg, errs);
	return cfg;
}

static int has_error(const struct cd_errors *errs, const char *setting, int line,
		     const char *words)
{
	for (size_t i = 0; i < errs->count; i++) {
		const struct cd_error *e = &errs->items[i];

		if (strcmp(e->setting, setting) == 0 && (line == 0 || e->line == line) &&
		    strstr(e->msg, words))
			return 1;
	}
	for (size_t i = 0; i < errs->count; i++) {
		char buf[1024];

		print_message("  got: %s\n", cd_error_format(&errs->items[i], buf, sizeof(buf)));
	}
	return 0;
}

static void test_sql_source_defaults_and_since_from_campaigns(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load("sources = ( { name = \"woo\"; type = \"sql\";\n"
				     "  driver = \"mariadb\"; preset = \"woocommerce\"; database = \"wp\"; } );\n",
				     &errs);

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->nsources, 1);
	assert_string_equal(cfg->sources[0].name, "woo");
	assert_int_equal(cfg->sources[0].poll_interval, 300);
	/* the longest window a campaign could still mail in: expire + reminder */
	assert_int_equal(cfg->sources[0].since, 35 * 86400);
	cd_config_free(cfg);
}

static void test_each_type_owns_its_settings(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load("sources = (\n"
				     "  { name = \"a\"; type = \"sql\"; driver = \"mariadb\"; preset = \"woocommerce\";\n"
				     "    database = \"wp\"; path = \"/tmp\"; },\n"
				     "  { name = \"b\"; type = \"directory\"; path = \"in\"; driver = \"mariadb\"; }\n"
				     ");\n", &errs);

	(void)state;
	assert_null(cfg);
	assert_true(has_error(&errs, "sources[0].path", 7, "not a setting of a sql source"));
	assert_true(has_error(&errs, "sources[1].driver", 8, "not a setting of a directory source"));
	cd_errors_clear(&errs);
}

static void test_bad_sources_are_named(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load("sources = (\n"
				     "  { name = \"a b\"; type = \"shopify2\"; },\n"
				     "  { name = \"c\"; type = \"sql\"; driver = \"oracle\"; preset = \"joomla\";\n"
				     "    database = \"x\"; tls = \"maybe\"; table_prefix = \"wp_; DROP\"; },\n"
				     "  { name = \"d\"; type = \"sql\"; driver = \"postgresql\"; database = \"x\";\n"
				     "    query = \"SELECT * FROM o WHERE id > :cursor_key\"; },\n"
				     "  { name = \"e\"; type = \"sql\"; driver = \"postgresql\"; database = \"x\";\n"
				     "    query = \"SELECT * FROM o WHERE id = :id\"; },\n"
				     "  { name = \"c\"; type = \"directory\"; }\n"
				     ");\n", &errs);

	(void)state;
	assert_null(cfg);
	assert_true(has_error(&errs, "sources[0].name", 6, "may hold only"));
	assert_true(has_error(&errs, "sources[0].type", 6, "unknown source type \"shopify2\""));
	assert_true(has_error(&errs, "sources[1].driver", 7, "oracle"));
	assert_true(has_error(&errs, "sources[1].preset", 7, "unknown preset \"joomla\""));
	assert_true(has_error(&errs, "sources[1].tls", 8, "maybe"));
	assert_true(has_error(&errs, "sources[1].table_prefix", 8, "may hold only"));
	assert_true(has_error(&errs, "sources[2].query", 10, "must use :cursor_time, :cursor_key and :limit"));
	assert_true(has_error(&errs, "sources[3].query", 12, "unknown parameter :id"));
	assert_true(has_error(&errs, "sources[4]", 13, "needs path"));
	assert_true(has_error(&errs, "sources[4]", 13, "used twice"));
	assert_int_equal(errs.count, 10);
	cd_errors_clear(&errs);
}

static void test_cursor_and_state_are_kept(void **state)
{
	struct cd_store *st = NULL;
	struct cd_source_status ss;
	struct cd_error err;
	char db[128], *t, *k;

	(void)state;
	snprintf(db, sizeof(db), "%s/cursor.db", dir);
	assert_int_equal(cd_store_open(db, CD_STORE_CREATE, &st, &err), 0);
	assert_int_equal(cd_store_source_cursor(st, "woo", "orders", &t, &k), CD_ENOTFOUND);
	/* a cursor rolled back with its batch is not kept */
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_source_set_cursor(st, "woo", "orders", "2026-11-20 10:00:00", "7", 1, &err), 0);
	cd_store_rollback(st);
	assert_int_equal(cd_store_source_cursor(st, "woo", "orders", &t, &k), CD_ENOTFOUND);
	assert_int_equal(cd_store_source_set_cursor(st, "woo", "orders", "2026-11-20 10:00:00", "7", 1, &err), 0);
	assert_int_equal(cd_store_source_set_cursor(st, "woo", "orders", "2026-11-20 11:00:00", "9", 2, &err), 0);
	assert_int_equal(cd_store_source_cursor(st, "woo", "orders", &t, &k), 0);
	assert_string_equal(t, "2026-11-20 11:00:00");
	assert_string_equal(k, "9");
	free(t);
	free(k);
	assert_int_equal(cd_store_source_polled(st, "woo", "sql", 100, 1, NULL, 1, 50, 2, &err), 0);
	assert_int_equal(cd_store_source_polled(st, "woo", "sql", 200, 0, "cannot connect", 0, 0, 0, &err), 0);
	assert_int_equal(cd_store_source_status(st, "woo", &ss), 0);
	assert_string_equal(ss.state, "failing");
	assert_string_equal(ss.detail, "cannot connect");
	assert_int_equal(ss.last_poll, 200);
	assert_int_equal(ss.last_ok, 100);
	assert_int_equal(ss.caught_up, 100);
	assert_int_equal(ss.rows, 50);
	assert_int_equal(ss.bad, 2);
	assert_int_equal(ss.errors, 1);
	cd_store_source_status_free(&ss);
	assert_int_equal(cd_store_source_file_taken(st, "drop", "a.csv", 10, 20), 0);
	assert_int_equal(cd_store_source_file_take(st, "drop", "a.csv", 10, 20, "done", 1, &err), 0);
	assert_int_equal(cd_store_source_file_taken(st, "drop", "a.csv", 10, 20), 1);
	assert_int_equal(cd_store_source_file_taken(st, "drop", "a.csv", 11, 20), 0);
	cd_store_close(st);
}

static void put(struct cd_store *st, const char *id, const char *source, const char *status,
		int64_t shipped, const char *when)
{
	struct cd_order o = { .id = id, .email = "a@x.example", .status = status,
			      .shipped = shipped, .source = source, .source_time = when };
	struct cd_error err;

	assert_int_equal(cd_store_order_upsert(st, &o, 1, &err), 0);
}

static void test_recheck_sees_only_the_sources_pending_orders(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	char db[128], **ids;
	size_t n;

	(void)state;
	snprintf(db, sizeof(db), "%s/pending.db", dir);
	assert_int_equal(cd_store_open(db, CD_STORE_CREATE, &st, &err), 0);
	put(st, "1", "woo", "shipped", 1000, "t1");
	put(st, "2", "woo", "shipped", 10, "t2");        /* older than the window */
	put(st, "3", "woo", "refunded", 1000, "t3");     /* never mailed */
	put(st, "4", NULL, "shipped", 1000, NULL);       /* imported: not the source's */
	put(st, "5", "other", "shipped", 1000, "t5");
	put(st, "6", "woo", "shipped", 1000, "t6");
	put(st, "7", "woo", "paid", 0, "t7");            /* not shipped: nothing to mail */
	assert_int_equal(cd_store_source_pending(st, "woo", "", 500, 10, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "1");
	assert_string_equal(ids[1], "6");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	/* a page starts after the last key */
	assert_int_equal(cd_store_source_pending(st, "woo", "1", 500, 1, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "6");
	free(ids[0]);
	free(ids);
	/* the same row read again is seen; a change of it is not */
	assert_int_equal(cd_store_source_seen(st, "woo", "6", "t6"), 1);
	assert_int_equal(cd_store_source_seen(st, "woo", "6", "t6b"), 0);
	assert_int_equal(cd_store_source_seen(st, "other", "6", "t6"), 0);
	/* gone: cancelled once, with an event; another source's order is not */
	assert_int_equal(cd_store_source_order_gone(st, "woo", "6", 7, &err), 1);
	assert_int_equal(cd_store_source_order_gone(st, "woo", "6", 8, &err), 0);
	assert_int_equal(cd_store_source_order_gone(st, "woo", "5", 8, &err), 0);
	assert_int_equal(cd_store_source_pending(st, "woo", "1", 500, 10, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	cd_store_close(st);
}

static void test_directory_takes_a_file_once(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg;
	struct cd_sources *src = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	char in[128], file[192], done[192], conf[256];
	int64_t n = 0;
	FILE *fp;

	(void)state;
	snprintf(in, sizeof(in), "%s/in", dir);
	mkdir(in, 0755);
	snprintf(conf, sizeof(conf), "sources = ( { name = \"drop\"; type = \"directory\"; path = \"%s\"; } );\n", in);
	cfg = load(conf, &errs);
	assert_non_null(cfg);
	assert_int_equal(cd_store_open(cfg->database, CD_STORE_CREATE, &st, &err), 0);
	snprintf(file, sizeof(file), "%s/orders.csv", in);
	fp = fopen(file, "w");
	assert_non_null(fp);
	fputs("order_id,email,status\nT-1,t1@example.org,paid\nT-2,bad,paid\n", fp);
	fclose(fp);
	/* as if it were there for a while: complete without an event */
	{
		struct timespec ts[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };

		utimensat(AT_FDCWD, file, ts, 0);
	}
	assert_int_equal(cd_sources_open(cfg, &src), 0);
	assert_int_equal(cd_sources_poll_all(src, st, NULL, NULL, NULL, &err), 0);
	assert_int_equal(cd_store_order_count(st, &n), 0);
	assert_int_equal(n, 1);
	snprintf(done, sizeof(done), "%s/done/orders.csv", in);
	assert_int_equal(access(done, F_OK), 0);
	snprintf(done, sizeof(done), "%s/rejected/orders.csv.errors", in);
	assert_int_equal(access(done, F_OK), 0);
	assert_int_equal(cd_sources_poll_all(src, st, NULL, NULL, NULL, &err), 0);
	assert_int_equal(cd_store_order_count(st, &n), 0);
	assert_int_equal(n, 1);
	cd_sources_free(src);
	cd_store_close(st);
	cd_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_source_defaults_and_since_from_campaigns),
		cmocka_unit_test(test_each_type_owns_its_settings),
		cmocka_unit_test(test_bad_sources_are_named),
		cmocka_unit_test(test_cursor_and_state_are_kept),
		cmocka_unit_test(test_recheck_sees_only_the_sources_pending_orders),
		cmocka_unit_test(test_directory_takes_a_file_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
