/* test_order_check.c - customer values cleaned once, at intake: line
 * breaks in a name become a space, NUL and other controls refuse the
 * order (from CSV and from JSON alike, saying which), values and item
 * lists have length limits, and what an error echoes is escaped. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/import.h"
#include "candor/order_check.h"
#include "candor/store.h"
#include "candor/util.h"

static char dir[64];
static struct cd_store *st;
static char reported[4][600];
static size_t nreported;

static int setup(void **state)
{
	char db[128];
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-check-XXXXXX");
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

static void report(void *arg, const struct cd_error *e)
{
	(void)arg;
	if (nreported < 4)
		snprintf(reported[nreported++], sizeof(reported[0]), "%d: %s", e->line, e->msg);
}

/* Import LEN bytes of TEXT as NAME; the import's return code. */
static int import_bytes(const char *name, const char *text, size_t len)
{
	struct cd_import_opts o = { .kind = CD_IMPORT_ORDERS };
	struct cd_import_stats stats;
	struct cd_error err;
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	o.path = path;
	nreported = 0;
	return cd_import_run(st, &o, report, NULL, &stats, &err);
}

static const char *clean(struct cd_order *o, struct cd_order_clean *c, char *why)
{
	memset(c, 0, sizeof(*c));
	return cd_order_clean(o, c, why, 300);
}

static void test_line_breaks_in_a_name_become_one_space(void **state)
{
	struct cd_order o = { .id = " #1001\r\n", .email = "ann@example.org",
			      .first_name = "Ann\r\nBcc: x@evil.test", .name = "\tAnn \t Lee \xe2\x80\xa8" };
	struct cd_order_clean c;
	char why[300];

	(void)state;
	assert_null(clean(&o, &c, why));
	assert_string_equal(o.id, "#1001");
	assert_string_equal(o.first_name, "Ann Bcc: x@evil.test");
	assert_string_equal(o.name, "Ann Lee");
	cd_order_clean_free(&c);
}

static void test_nul_and_other_controls_refuse_the_order(void **state)
{
	static const char *const bad[] = { "Ann\x01", "Ann\x7f", "Ann\xc2\x90" };
	char why[300];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cd_order o = { .id = "1", .email = "ann@example.org", .first_name = bad[i] };
		struct cd_order_clean c;
		const char *r = clean(&o, &c, why);

		assert_non_null(r);
		assert_non_null(strstr(r, "first_name has a control character (U+"));
		assert_non_null(strstr(r, "at character 4"));
		cd_order_clean_free(&c);
	}
}

static void test_lengths_are_limited_per_field(void **state)
{
	char *big = malloc(5 * 1024 * 1024 + 1), why[300];
	struct cd_order o = { .id = "1", .email = "ann@example.org" };
	struct cd_order_clean c;
	char items[16384];
	size_t n = 0;

	(void)state;
	memset(big, 'a', 5 * 1024 * 1024);
	big[5 * 1024 * 1024] = '\0';
	o.name = big;
	assert_string_equal(clean(&o, &c, why), "name is longer than 200 characters (5242880)");
	cd_order_clean_free(&c);
	o = (struct cd_order){ .id = "1", .email = "ann@example.org", .name = "Ann" };
	n += (size_t)snprintf(items, sizeof(items), "[");
	for (int i = 0; i <= CD_ORDER_MAX_ITEMS; i++)
		n += (size_t)snprintf(items + n, sizeof(items) - n, "%s{\"name\":\"Tea %d\"}", i ? "," : "", i);
	snprintf(items + n, sizeof(items) - n, "]");
	o.items = items;
	assert_string_equal(clean(&o, &c, why), "more than 100 items (101)");
	cd_order_clean_free(&c);
	o = (struct cd_order){ .id = "1", .email = "ann@example.org" };
	o.items = "[{\"name\":\"Green\\nTea\",\"quantity\":2,\"sku\":\"T/1\"}]";
	assert_null(clean(&o, &c, why));
	assert_string_equal(o.items, "[{\"name\":\"Green Tea\",\"quantity\":2,\"sku\":\"T/1\"}]");
	cd_order_clean_free(&c);
	free(big);
}

/* The same NUL, from a CSV file and from JSON Lines: refused, saying so. */
static void test_nul_from_csv_and_json_is_refused_with_its_reason(void **state)
{
	static const char csv[] = "order_id,email,first_name\n1,ann@example.org,An\0n\n";
	static const char jsonl[] = "{\"order_id\":\"1\",\"email\":\"ann@example.org\",\"first_name\":\"An\\u0000n\"}\n";

	(void)state;
	assert_int_equal(import_bytes("nul.csv", csv, sizeof(csv) - 1), CD_EINVAL);
	assert_int_equal(nreported, 1);
	assert_non_null(strstr(reported[0], "2: a NUL character (U+0000) in the row"));
	assert_int_equal(import_bytes("nul.jsonl", jsonl, sizeof(jsonl) - 1), CD_EINVAL);
	assert_int_equal(nreported, 1);
	assert_non_null(strstr(reported[0], "1: first_name has a control character (U+0000)"));
}

/* An error that echoes a value escapes it: no second line. */
static void test_errors_escape_what_they_echo(void **state)
{
	static const char csv[] = "order_id,email\n1,\"ann@example.org\r\nforged: line\"\n";
	char line[1200];
	struct cd_error e = { 0 };

	(void)state;
	assert_int_equal(import_bytes("echo.csv", csv, sizeof(csv) - 1), CD_EINVAL);
	assert_int_equal(nreported, 1);
	assert_null(strchr(reported[0], '\n'));
	snprintf(e.msg, sizeof(e.msg), "bad \"%s\"", "a\nb\x01\xc2\x85");
	assert_string_equal(cd_error_format(&e, line, sizeof(line)), "bad \"a\\nb\\x01\\u0085\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_breaks_in_a_name_become_one_space),
		cmocka_unit_test(test_nul_and_other_controls_refuse_the_order),
		cmocka_unit_test(test_lengths_are_limited_per_field),
		cmocka_unit_test(test_nul_from_csv_and_json_is_refused_with_its_reason),
		cmocka_unit_test(test_errors_escape_what_they_echo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
