/* test_import.c - importing orders and feedback into a real SQLite store:
 * a bad row goes to the reject file byte for byte while the good ones go
 * in (and without a reject file nothing does), an unknown status is
 * refused with the message an admin sees, a re-import updates in place,
 * a value a file leaves out or empty keeps what is stored, a bad date
 * ranks after a missing email as it always has, and WooCommerce's item
 * cells are read as its export plugins write them. */
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
#include "candor/order.h"
#include "candor/store.h"
#include "candor/store_order.h"
#include "candor/store_report.h"

static char dir[64];
static struct cd_store *st;

/* What the reporter was told, one "LINE: MESSAGE" per bad row. */
static char reported[8][600];
static size_t nreported;

/* An order as stored, copied out of the store's row. */
struct stored {
	char channel[32], name[64], first_name[32], email[64], locale[16], country[8];
	char timezone[40], items[512], total[16], currency[8], status[16];
	int64_t purchased, shipped, delivered;
};

static int setup(void **state)
{
	char db[128];
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-import-XXXXXX");
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
	if (nreported < 8)
		snprintf(reported[nreported++], sizeof(reported[0]), "%d: %s", e->line, e->msg);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	fp = fopen(p, "wb");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static int import(enum cd_import_kind kind, const char *path, const char *reject,
		  struct cd_import_stats *stats, struct cd_error *err)
{
	struct cd_import_opts o = { .kind = kind, .path = path, .reject = reject };

	nreported = 0;
	return cd_import_run(st, &o, report, NULL, stats, err);
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "(null)");
}

static int copy_order(void *arg, const struct cd_order *o)
{
	struct stored *s = arg;

	copy(s->channel, sizeof(s->channel), o->channel);
	copy(s->name, sizeof(s->name), o->name);
	copy(s->first_name, sizeof(s->first_name), o->first_name);
	copy(s->email, sizeof(s->email), o->email);
	copy(s->locale, sizeof(s->locale), o->locale);
	copy(s->country, sizeof(s->country), o->country);
	copy(s->timezone, sizeof(s->timezone), o->timezone);
	copy(s->items, sizeof(s->items), o->items);
	copy(s->total, sizeof(s->total), o->total);
	copy(s->currency, sizeof(s->currency), o->currency);
	copy(s->status, sizeof(s->status), o->status);
	s->purchased = o->purchased;
	s->shipped = o->shipped;
	s->delivered = o->delivered;
	return 0;
}

/* 0 and *S filled, or CD_ENOTFOUND. */
static int get_order(const char *id, struct stored *s)
{
	memset(s, 0, sizeof(*s));
	return cd_store_history_order(st, id, copy_order, s);
}

static int64_t orders(void)
{
	int64_t n = -1;

	assert_int_equal(cd_store_order_count(st, &n), 0);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static const char bad_csv[] =
	"order_id,email,status,delivered\r\n"
	"R-1,ann@example.org,delivered,2026-11-10\r\n"
	"R-2,bob@example.org,lost,2026-11-10\r\n"
	"R-3,cy@example.org,shipped,\r\n";

static void test_bad_row_without_reject_file_imports_nothing(void **state)
{
	struct cd_import_stats stats;
	struct cd_error err;
	int64_t before = orders();

	(void)state;
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("bad.csv", bad_csv), NULL, &stats, &err),
			 CD_EINVAL);
	assert_non_null(strstr(err.msg, "1 bad row(s); nothing was imported"));
	assert_int_equal(stats.rejected, 1);
	assert_int_equal(stats.records, 0);
	assert_int_equal(orders(), before);
}

/* A name runs to the plugin's next key ("|product_id:" for WebToffee,
 * "|sku:" in line_items), so neither a "|" nor a "quantity:" inside it
 * is taken for the item's own; without that key, to the first "|". */
static void test_woo_item_cells_read_as_the_plugins_write_them(void **state)
{
	struct cd_import_stats stats;
	struct cd_error err;
	struct stored o;

	(void)state;
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("woo.csv",
		"order_id,billing_email,status,line_item_1,line_item_2,line_item_3\n"
		"W-1,w1@example.org,processing,"
		"name:Box|quantity:9 pack|product_id:5|sku:B|quantity:2|total:1.00,"
		"name:Cup|quantity:4,"
		"\"name:Mug, \"\"big\"\"|product_id:6|sku:|total:2.00\"\n"
		"W-2,w2@example.org,completed,,,\n"), NULL, &stats, &err), 0);
	assert_string_equal(stats.format, "WooCommerce CSV (WebToffee)");
	assert_int_equal(stats.records, 2);
	assert_int_equal(get_order("W-1", &o), 0);
	assert_string_equal(o.items, "[{\"name\":\"Box|quantity:9 pack\",\"quantity\":2,\"sku\":\"B\"},"
			    "{\"name\":\"Cup\",\"quantity\":4},{\"name\":\"Mug, \\\"big\\\"\",\"quantity\":1}]");
	assert_string_equal(o.status, "paid");
	assert_int_equal(get_order("W-2", &o), 0);
	assert_string_equal(o.status, "shipped");
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("sky.csv",
		"order_id,billing_email,line_items\n"
		"S-1,s1@example.org,name:A|B;name:C|sku:x|quantity:3;name:D;E|sku:|quantity:1\n"),
		NULL, &stats, &err), 0);
	assert_int_equal(get_order("S-1", &o), 0);
	assert_string_equal(o.items, "[{\"name\":\"A\",\"quantity\":1},"
			    "{\"name\":\"C\",\"quantity\":3,\"sku\":\"x\"},{\"name\":\"D;E\",\"quantity\":1}]");
}

static void test_woo_bad_quantity_rejects_the_order(void **state)
{
	static const char *const bad[] = { "2.5", "0", "1000001", "99999999999999999999", " 2", "2x", "" };
	struct cd_import_stats stats;
	struct cd_error err;
	char text[256], want[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "order_id,billing_email,line_item_1,line_item_7\n"
			 "Q-%zu,q@example.org,name:Tea|product_id:1|quantity:1,"
			 "name:Cup|product_id:2|quantity:%s\n", i, bad[i]);
		assert_int_equal(import(CD_IMPORT_ORDERS, write_file("q.csv", text), NULL, &stats,
					&err), CD_EINVAL);
		assert_int_equal(nreported, 1);
		snprintf(want, sizeof(want), "2: line_item_7: bad quantity \"%.20s\" (a whole number "
			 "from 1)", bad[i]);
		assert_string_equal(reported[0], want);
		assert_int_equal(stats.records, 0);
	}
}

/* In the per-item layout a blank order number continues the order
 * above, and only that: the first row cannot be a continuation, and a
 * continuation of a rejected order is rejected with it. */
static void test_woo_blank_order_number_continues_only_an_order(void **state)
{
	char rej[128];
	struct cd_import_stats stats;
	struct cd_error err;
	struct stored o;

	(void)state;
	snprintf(rej, sizeof(rej), "%s/woo-rej.csv", dir);
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("per-item.csv",
		"\"Order Number\",\"Order Status\",\"Email (Billing)\",Name,Quantity\n"
		",Processing,x@example.org,Tea,1\n"
		"P-1,On hold,p1@example.org,Tea,1\n"
		",,,Cup,2\n"
		"P-2,Completed,not-an-address,Tea,1\n"
		",,,Cup,2\n"), rej, &stats, &err), 0);
	assert_string_equal(stats.format, "WooCommerce CSV (Advanced Order Export)");
	assert_int_equal(stats.records, 1);
	assert_int_equal(stats.rejected, 3);
	assert_int_equal(nreported, 2);
	assert_string_equal(reported[0], "2: missing order number (Order Number)");
	assert_string_equal(reported[1], "5: invalid email \"not-an-address\"");
	assert_int_equal(get_order("P-1", &o), 0);
	assert_string_equal(o.status, "open");
	assert_string_equal(o.items, "[{\"name\":\"Tea\",\"quantity\":1},{\"name\":\"Cup\",\"quantity\":2}]");
	assert_string_equal(slurp(rej), "\"Order Number\",\"Order Status\",\"Email (Billing)\",Name,Quantity\n"
			    ",Processing,x@example.org,Tea,1\n"
			    "P-2,Completed,not-an-address,Tea,1\n,,,Cup,2\n");
}

static void test_bad_row_goes_to_reject_file_good_rows_in(void **state)
{
	char rej[128];
	struct cd_import_stats stats;
	struct stored o;
	struct cd_error err;

	(void)state;
	snprintf(rej, sizeof(rej), "%s/rejects.csv", dir);
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("bad.csv", bad_csv), rej, &stats, &err), 0);
	assert_int_equal(stats.rows, 3);
	assert_int_equal(stats.records, 2);
	assert_int_equal(stats.added, 2);
	assert_int_equal(stats.rejected, 1);
	assert_string_equal(stats.format, "generic CSV");
	/* the header and the bad row, as they were read */
	assert_string_equal(slurp(rej), "order_id,email,status,delivered\r\n"
			    "R-2,bob@example.org,lost,2026-11-10\r\n");
	/* the message names the status and the ones there are */
	assert_int_equal(nreported, 1);
	assert_string_equal(reported[0], "3: unknown status \"lost\" (open, paid, shipped, "
			    "delivered, returned, refunded, cancelled)");
	assert_int_equal(get_order("R-1", &o), 0);
	assert_string_equal(o.status, "delivered");
	assert_int_equal(o.delivered, 1794268800); /* 2026-11-10 UTC */
	assert_int_equal(get_order("R-3", &o), 0);
	assert_int_equal(o.delivered, 0);
	assert_int_equal(get_order("R-2", &o), CD_ENOTFOUND);
}

static void test_reimport_updates_in_place(void **state)
{
	struct cd_import_stats stats;
	struct stored o;
	struct cd_error err;
	int64_t before;

	(void)state;
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("u1.csv",
		"order_id,email,name,status,shipped\n"
		"U-1,una@example.org,Una Old,shipped,2026-11-01\n"), NULL, &stats, &err), 0);
	before = orders();
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("u2.csv",
		"order_id,email,name,status,delivered\n"
		"U-1,una@example.org,Una New,delivered,2026-11-03\n"), NULL, &stats, &err), 0);
	assert_int_equal(stats.records, 1);
	assert_int_equal(stats.added, 0);
	assert_int_equal(orders(), before);
	assert_int_equal(get_order("U-1", &o), 0);
	assert_string_equal(o.name, "Una New");
	assert_string_equal(o.status, "delivered");
	assert_int_equal(o.shipped, 1793491200);   /* 2026-11-01, kept */
	assert_int_equal(o.delivered, 1793664000); /* 2026-11-03 */
}

static void test_missing_and_empty_values_keep_stored_ones(void **state)
{
	struct cd_import_stats stats;
	struct stored o;
	struct cd_error err;

	(void)state;
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("k1.csv",
		"order_id,channel,customer_id,first_name,name,email,locale,country,timezone,items,"
		"total,currency,purchased,shipped,delivered,status\n"
		"K-1,amazon,c9,Kim,Kim Lee,kim@example.org,de-DE,DE,Europe/Berlin,"
		"\"[{\"\"name\"\":\"\"Tea\"\",\"\"quantity\"\":1}]\",9.50,EUR,1790000000,1790100000,"
		"1790200000,delivered\n"), NULL, &stats, &err), 0);
	/* a file without most columns, and empty cells in those it has */
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("k2.csv",
		"order_id,email,name,locale,delivered,status\n"
		"K-1,kim@example.org,,,,\n"), NULL, &stats, &err), 0);
	/* JSON Lines null too */
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("k3.jsonl",
		"{\"order_id\":\"K-1\",\"email\":\"kim@example.org\",\"name\":null,\"items\":null}\n"),
		NULL, &stats, &err), 0);
	assert_string_equal(stats.format, "JSON Lines");
	assert_int_equal(get_order("K-1", &o), 0);
	assert_string_equal(o.channel, "amazon");
	assert_string_equal(o.first_name, "Kim");
	assert_string_equal(o.name, "Kim Lee");
	assert_string_equal(o.locale, "de-DE");
	assert_string_equal(o.country, "DE");
	assert_string_equal(o.timezone, "Europe/Berlin");
	assert_string_equal(o.items, "[{\"name\":\"Tea\",\"quantity\":1}]");
	assert_string_equal(o.total, "9.50");
	assert_string_equal(o.currency, "EUR");
	assert_string_equal(o.status, "delivered");
	assert_int_equal(o.purchased, 1790000000);
	assert_int_equal(o.shipped, 1790100000);
	assert_int_equal(o.delivered, 1790200000);
}

/* What any source gets from the store verb: NULL and 0 keep, a new order
 * gets the defaults. */
static void test_upsert_null_fields_keep_and_defaults_fill(void **state)
{
	struct cd_order full = {
		.id = "V-1", .channel = "ebay", .name = "Vi Kay", .email = "vi@example.org",
		.items = "[]", .status = "paid", .delivered = 1790000000,
	};
	struct stored o;
	struct cd_error err;

	(void)state;
	assert_int_equal(cd_store_order_upsert(st, &(struct cd_order){ .id = "V-2",
			 .email = "new@example.org" }, 1, &err), 0);
	assert_int_equal(get_order("V-2", &o), 0);
	assert_string_equal(o.channel, "web");
	assert_string_equal(o.items, "[]");
	assert_string_equal(o.status, "open");
	assert_string_equal(o.name, "(null)");

	assert_int_equal(cd_store_order_upsert(st, &full, 1, &err), 0);
	assert_int_equal(cd_store_order_upsert(st, &(struct cd_order){ .id = "V-1",
			 .email = "vi@example.org", .channel = "", .status = "shipped" }, 2, &err), 0);
	assert_int_equal(get_order("V-1", &o), 0);
	assert_string_equal(o.channel, "ebay");
	assert_string_equal(o.name, "Vi Kay");
	assert_string_equal(o.status, "shipped");
	assert_int_equal(o.delivered, 1790000000);
}

/* Each row's first problem, in the order the checks always ran. */
static void test_reasons_and_their_order(void **state)
{
	char rej[128];
	struct cd_import_stats stats;
	struct cd_error err;

	(void)state;
	snprintf(rej, sizeof(rej), "%s/r.csv", dir);
	assert_int_equal(import(CD_IMPORT_ORDERS, write_file("order.csv",
		"order_id,email,status,delivered,timezone\n"
		"P-1,,delivered,someday,\n"
		"P-2,pat@example.org,lost,someday,\n"
		"P-3,pat@example,delivered,,\n"
		",pat@example.org,,,\n"
		"P-5,pat@example.org,,,Mars/Olympus\n"), rej, &stats, &err), 0);
	assert_int_equal(nreported, 5);
	assert_string_equal(reported[0], "2: missing email");
	assert_string_equal(reported[1], "3: bad date in delivered: \"someday\" (use 2026-11-20, "
			    "2026-11-20 14:05:00 +0100 or Unix seconds)");
	assert_string_equal(reported[2], "4: invalid email \"pat@example\"");
	assert_string_equal(reported[3], "5: missing order_id");
	assert_string_equal(reported[4], "6: unknown time zone \"Mars/Olympus\"");
	assert_int_equal(stats.records, 0);
}

static void test_feedback_checked_and_added_once(void **state)
{
	char rej[128];
	struct cd_import_stats stats;
	struct cd_error err;
	const char *path;
	int64_t n;

	(void)state;
	snprintf(rej, sizeof(rej), "%s/fb-rej.csv", dir);
	path = write_file("fb.csv", "order_id,rating,comment,received\n"
			  "R-1,2,\"late, and cold\",2026-11-12\n"
			  "R-1,6,too good,2026-11-12\n"
			  "ZZZ,5,who?,2026-11-12\n"
			  "R-1,4,,not a date\n");
	assert_int_equal(import(CD_IMPORT_FEEDBACK, path, rej, &stats, &err), 0);
	assert_int_equal(stats.records, 1);
	assert_int_equal(stats.added, 1);
	assert_int_equal(nreported, 3);
	assert_string_equal(reported[0], "3: rating must be a whole number from 1 to 5");
	assert_string_equal(reported[1], "4: unknown order \"ZZZ\"");
	assert_string_equal(reported[2], "5: missing or bad received date");
	/* the same feedback again is written but adds nothing */
	assert_int_equal(import(CD_IMPORT_FEEDBACK, path, rej, &stats, &err), 0);
	assert_int_equal(stats.records, 1);
	assert_int_equal(stats.added, 0);
	assert_int_equal(cd_store_feedback_count(st, &n), 0);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_row_without_reject_file_imports_nothing),
		cmocka_unit_test(test_woo_item_cells_read_as_the_plugins_write_them),
		cmocka_unit_test(test_woo_bad_quantity_rejects_the_order),
		cmocka_unit_test(test_woo_blank_order_number_continues_only_an_order),
		cmocka_unit_test(test_bad_row_goes_to_reject_file_good_rows_in),
		cmocka_unit_test(test_reimport_updates_in_place),
		cmocka_unit_test(test_missing_and_empty_values_keep_stored_ones),
		cmocka_unit_test(test_upsert_null_fields_keep_and_defaults_fill),
		cmocka_unit_test(test_reasons_and_their_order),
		cmocka_unit_test(test_feedback_checked_and_added_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
