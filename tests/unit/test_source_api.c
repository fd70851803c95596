/* test_source_api.c - the API sources' pages mapped into candor's orders
 * and feedback (source_api_map.c): Shopify's statuses from its financial,
 * fulfilment, return and cancel fields, delivery where a carrier said so,
 * locale, items; WooCommerce's statuses through the sql preset's table;
 * the cursor skipping what was taken; the shop's clock running ahead;
 * throttles read from the cost extension; broken JSON refused; sizes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/order.h"
#include "../../src/intake/source_api.h"

#define NOW 1764500000   /* 2025-11-30 10:53:20 UTC */

struct got {
	int n, bad, reviews, notes;
	char id[8][64], status[8][16], locale[8][16], items[8][200], badwhy[200];
	int64_t shipped[8], delivered[8], purchased[8];
	char review_email[64];
	int rating;
};

static int on_order(void *arg, const struct cd_order *o, const char *key, const char *bad,
		    struct cd_error *err)
{
	struct got *g = arg;

	(void)key;
	(void)err;
	if (bad) {
		g->bad++;
		snprintf(g->badwhy, sizeof(g->badwhy), "%s", bad);
		return 0;
	}
	if (g->n < 8) {
		snprintf(g->id[g->n], sizeof(g->id[0]), "%s", o->id);
		snprintf(g->status[g->n], sizeof(g->status[0]), "%s", o->status ? o->status : "-");
		snprintf(g->locale[g->n], sizeof(g->locale[0]), "%s", o->locale ? o->locale : "-");
		snprintf(g->items[g->n], sizeof(g->items[0]), "%s", o->items ? o->items : "-");
		g->shipped[g->n] = o->shipped;
		g->delivered[g->n] = o->delivered;
		g->purchased[g->n] = o->purchased;
	}
	g->n++;
	return 0;
}

static int on_review(void *arg, struct cd_feedback *f, const char *email, const char *key,
		     struct cd_error *err)
{
	struct got *g = arg;

	(void)key;
	(void)err;
	g->reviews++;
	g->rating = f->rating;
	snprintf(g->review_email, sizeof(g->review_email), "%s", email ? email : "-");
	return 0;
}

static void on_note(void *arg, const char *text)
{
	(void)text;
	((struct got *)arg)->notes++;
}

static struct api_map map(struct got *g, int64_t t, int64_t k)
{
	memset(g, 0, sizeof(*g));
	return (struct api_map){ .now = NOW, .after = { t, k }, .arg = g, .order = on_order,
				 .review = on_review, .note = on_note };
}

#define SHOPIFY_NODE(id, extra) \
	"{\"id\":\"gid://shopify/Order/" #id "\",\"name\":\"#" #id "\",\"email\":\" a" #id "@example.org \"," \
	"\"updatedAt\":\"2025-11-30T10:00:" #id "Z\",\"createdAt\":\"2025-11-20T10:00:00Z\"," \
	"\"totalPriceSet\":{\"shopMoney\":{\"amount\":\"12.50\",\"currencyCode\":\"EUR\"}}," \
	"\"shippingAddress\":{\"countryCodeV2\":\"DE\"}" extra "}"

static const char shopify_page[] =
	"{\"data\":{\"orders\":{\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"abc\"},\"nodes\":["
	SHOPIFY_NODE(10, ",\"displayFinancialStatus\":\"PAID\",\"displayFulfillmentStatus\":\"UNFULFILLED\"")
	"," SHOPIFY_NODE(11, ",\"displayFinancialStatus\":\"PAID\",\"displayFulfillmentStatus\":\"FULFILLED\","
			   "\"customerLocale\":\"fr\",\"fulfillments\":[{\"createdAt\":\"2025-11-25T08:00:00Z\","
			   "\"displayStatus\":\"IN_TRANSIT\",\"deliveredAt\":null}],"
			   "\"lineItems\":{\"nodes\":[{\"name\":\"Tea \\\"Green\\\"\",\"quantity\":2,\"sku\":\"T1\"}]}")
	"," SHOPIFY_NODE(12, ",\"displayFinancialStatus\":\"PAID\",\"displayFulfillmentStatus\":\"FULFILLED\","
			   "\"fulfillments\":[{\"createdAt\":\"2025-11-25T08:00:00Z\",\"displayStatus\":\"DELIVERED\","
			   "\"deliveredAt\":\"2025-11-27T09:00:00Z\"}]")
	"," SHOPIFY_NODE(13, ",\"displayFinancialStatus\":\"REFUNDED\",\"displayFulfillmentStatus\":\"FULFILLED\"")
	"," SHOPIFY_NODE(14, ",\"displayFinancialStatus\":\"PAID\",\"cancelledAt\":\"2025-11-29T00:00:00Z\"")
	"," SHOPIFY_NODE(15, ",\"displayFinancialStatus\":\"PAID\",\"returnStatus\":\"RETURNED\"")
	",{\"id\":42,\"name\":\"#bad\"}"
	"]}},\"extensions\":{\"cost\":{\"requestedQueryCost\":302,\"actualQueryCost\":40,"
	"\"throttleStatus\":{\"maximumAvailable\":1000,\"currentlyAvailable\":102,\"restoreRate\":50}}}}";

static void test_shopify_statuses_and_fields(void **state)
{
	struct got g;
	struct api_map m = map(&g, 0, 0);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	assert_int_equal(api_shopify_page(shopify_page, strlen(shopify_page), &m, &pg, &err), 0);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.bad, 1);   /* an id that is no global id */
	assert_string_equal(g.id[0], "#10");
	assert_string_equal(g.status[0], "paid");
	assert_string_equal(g.locale[0], "de-DE");              /* from the country */
	assert_string_equal(g.status[1], "shipped");
	assert_string_equal(g.locale[1], "fr");                 /* customerLocale */
	assert_int_equal(g.shipped[1], 1764057600);             /* the fulfilment's time */
	assert_string_equal(g.items[1], "[{\"name\":\"Tea \\\"Green\\\"\",\"quantity\":2,\"sku\":\"T1\"}]");
	assert_string_equal(g.status[2], "delivered");
	assert_int_equal(g.delivered[2], 1764234000);
	assert_string_equal(g.status[3], "refunded");
	assert_string_equal(g.status[4], "cancelled");
	assert_string_equal(g.status[5], "returned");
	assert_int_equal(pg.taken, 6);
	assert_int_equal(pg.last.key, 15);
	assert_true(pg.has_next);
	assert_string_equal(pg.end_cursor, "abc");
	/* 200 short at 50 a second: four seconds before the next query */
	assert_true(pg.wait_ms >= 4000 && pg.wait_ms < 4500);
	assert_int_equal(pg.throttled, 0);
}

static void test_shopify_cursor_skips_what_was_taken(void **state)
{
	struct got g;
	/* 10:00:12 and id 12: rows 10..12 were taken */
	struct api_map m = map(&g, 1764496812, 12);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	assert_int_equal(api_shopify_page(shopify_page, strlen(shopify_page), &m, &pg, &err), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.id[0], "#13");
	assert_int_equal(pg.rows, 7);
}

static void test_shopify_throttled_and_errors(void **state)
{
	static const char thr[] =
		"{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":\"THROTTLED\"}}],"
		"\"extensions\":{\"cost\":{\"requestedQueryCost\":302,\"actualQueryCost\":null,"
		"\"throttleStatus\":{\"maximumAvailable\":1000,\"currentlyAvailable\":2,\"restoreRate\":100}}}}";
	static const char denied[] =
		"{\"errors\":[{\"message\":\"Access denied for orders field.\",\"extensions\":"
		"{\"code\":\"ACCESS_DENIED\"}}]}";
	struct got g;
	struct api_map m = map(&g, 0, 0);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	assert_int_equal(api_shopify_page(thr, strlen(thr), &m, &pg, &err), 0);
	assert_true(pg.throttled);
	assert_true(pg.wait_ms >= 3000 && pg.wait_ms < 3500);
	assert_int_equal(g.n, 0);
	assert_int_equal(api_shopify_page(denied, strlen(denied), &m, &pg, &err), 0);
	assert_false(pg.throttled);
	assert_true(pg.refused);
	assert_non_null(strstr(pg.error, "Access denied for orders field. (ACCESS_DENIED)"));
}

static void test_broken_json_is_refused(void **state)
{
	static const char *const bad[] = {
		"{\"data\":{\"orders\":{\"nodes\":[{\"id\":1,}]}}",   /* trailing comma */
		"{\"data\":{\"orders\":{\"nodes\":[",                 /* truncated */
		"{\"data\":{}} trailing",
		"{\"data\":{\"orders\":42}}",
		"",
		"[1,2,3]",
	};
	struct got g;
	struct api_map m = map(&g, 0, 0);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(api_shopify_page(bad[i], strlen(bad[i]), &m, &pg, &err), CD_EPROTO);
	assert_int_equal(api_shopify_page(bad[1], strlen(bad[1]), &m, &pg, &err), CD_EPROTO);
	assert_non_null(strstr(err.msg, "truncated"));
	static const char notlist[] = "{\"code\":\"x\",\"message\":\"No route\"}";

	assert_int_equal(api_woo_orders_page(notlist, strlen(notlist), &m, &pg, &err), CD_EPROTO);
	assert_non_null(strstr(err.msg, "not a list: No route"));
	assert_int_equal(g.n, 0);
}

static const char woo_page[] =
	"[{\"id\":101,\"number\":\"101\",\"status\":\"completed\",\"currency\":\"EUR\",\"total\":\"9.90\","
	"\"customer_id\":0,\"date_created_gmt\":\"2025-11-20T10:00:00\","
	"\"date_modified_gmt\":\"2025-11-30T10:00:00\",\"date_completed_gmt\":\"2025-11-22T10:00:00\","
	"\"billing\":{\"first_name\":\"Ann\",\"last_name\":\"Buyer\",\"email\":\"ann@example.org\","
	"\"country\":\"AT\"},\"shipping\":{\"country\":\"\"},"
	"\"line_items\":[{\"name\":\"Tea\",\"quantity\":3,\"sku\":\"\"}]},"
	"{\"id\":102,\"status\":\"refunded\",\"date_created_gmt\":\"2025-11-20T10:00:00\","
	"\"date_modified_gmt\":\"2025-11-30T10:00:01\",\"billing\":{\"email\":\"b@example.org\"}},"
	"{\"id\":103,\"status\":\"processing\",\"date_created_gmt\":\"2035-11-20T10:00:00\","
	"\"date_modified_gmt\":\"2035-11-30T10:00:02\",\"billing\":{\"email\":\"c@example.org\"}},"
	"{\"id\":104,\"status\":\"custom-thing\",\"date_created_gmt\":\"2025-11-20T10:00:00\","
	"\"date_modified_gmt\":\"2025-11-30T10:00:03\",\"billing\":{\"email\":\"d@example.org\"}},"
	"{\"id\":\"x\",\"date_modified_gmt\":\"2025-11-30T10:00:04\"}]";

static void test_woo_statuses_from_the_sql_preset(void **state)
{
	struct got g;
	struct api_map m = map(&g, 0, 0);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	assert_int_equal(api_woo_orders_page(woo_page, strlen(woo_page), &m, &pg, &err), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.bad, 1);
	assert_string_equal(g.id[0], "101");
	assert_string_equal(g.status[0], "shipped");            /* wc-completed */
	assert_int_equal(g.shipped[0], 1763805600);             /* date_completed_gmt */
	assert_string_equal(g.locale[0], "de-AT");              /* billing country */
	assert_string_equal(g.items[0], "[{\"name\":\"Tea\",\"quantity\":3}]");
	assert_string_equal(g.status[1], "refunded");
	assert_string_equal(g.status[2], "paid");               /* wc-processing */
	assert_string_equal(g.status[3], "-");                  /* kept as it was */
	assert_int_equal(g.notes, 2);  /* a date ahead of candor's clock; an unknown status */
	/* the shop's clock ahead: dates taken as now, the cursor in the shop's time */
	assert_int_equal(g.purchased[2], NOW);
	assert_int_equal(pg.last.key, 104);
}

static void test_woo_reviews(void **state)
{
	static const char page[] =
		"[{\"id\":7,\"date_created_gmt\":\"2025-11-30T09:00:00\",\"product_id\":55,"
		"\"status\":\"hold\",\"reviewer_email\":\"ann@example.org\",\"review\":\"Stale.\","
		"\"rating\":1},"
		"{\"id\":8,\"date_created_gmt\":\"2025-11-30T09:01:00\",\"status\":\"spam\","
		"\"reviewer_email\":\"x@example.org\",\"rating\":5}]";
	struct got g;
	struct api_map m = map(&g, 0, 0);
	struct api_page pg;
	struct cd_error err;

	(void)state;
	assert_int_equal(api_woo_reviews_page(page, strlen(page), &m, &pg, &err), 0);
	assert_int_equal(g.reviews, 1);   /* spam is no customer's word */
	assert_int_equal(g.rating, 1);
	assert_string_equal(g.review_email, "ann@example.org");
	assert_int_equal(pg.last.key, 8);  /* but the cursor passes it */
}

static void test_query_and_sizes(void **state)
{
	char *q = api_shopify_query(1764496800, 100, NULL);
	int64_t n;

	(void)state;
	assert_non_null(strstr(q, "\"q\":\"updated_at:>='2025-11-30T10:00:00Z'\""));
	assert_non_null(strstr(q, "sortKey: UPDATED_AT"));
	assert_non_null(strstr(q, "\"after\":null"));
	free(q);
	q = api_shopify_query(0, 5, "eyJsYXN0X2lkIjo\"x");
	assert_non_null(strstr(q, "\"after\":\"eyJsYXN0X2lkIjo\\\"x\""));
	free(q);
	assert_int_equal(api_parse_size("50MB", &n), 0);
	assert_int_equal(n, 50 * 1024 * 1024);
	assert_int_equal(api_parse_size("512 KB", &n), 0);
	assert_int_equal(n, 512 * 1024);
	assert_int_equal(api_parse_size("1000", &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(api_parse_size("lots", &n), -1);
	assert_int_equal(api_parse_size("0MB", &n), -1);
	assert_int_equal(api_parse_size("5TB", &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shopify_statuses_and_fields),
		cmocka_unit_test(test_shopify_cursor_skips_what_was_taken),
		cmocka_unit_test(test_shopify_throttled_and_errors),
		cmocka_unit_test(test_broken_json_is_refused),
		cmocka_unit_test(test_woo_statuses_from_the_sql_preset),
		cmocka_unit_test(test_woo_reviews),
		cmocka_unit_test(test_query_and_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
