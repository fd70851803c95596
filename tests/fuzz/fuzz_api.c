/* fuzz_api.c - the API sources' page parser (source_api_map.c): arbitrary
 * bytes as a Shopify GraphQL answer, a WooCommerce orders page and a
 * reviews page, mapped through callbacks that check what they are given. */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candor/order.h"
#include "../../src/intake/source_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_order(void *arg, const struct cd_order *o, const char *key, const char *bad,
		    struct cd_error *err)
{
	(void)arg;
	(void)err;
	assert(key);
	/* a status may be NULL: one candor does not map keeps the stored one */
	assert(bad || (o && o->id));
	if (o && o->items)
		assert(o->items[0] == '[');
	return 0;
}

static int on_review(void *arg, struct cd_feedback *f, const char *email, const char *key,
		     struct cd_error *err)
{
	(void)arg;
	(void)email;
	(void)err;
	assert(key && !f->order_id);
	return 0;
}

static void on_note(void *arg, const char *text)
{
	(void)arg;
	assert(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_map m = { .now = 1764500000, .after = { 1764400000, 7 }, .order = on_order,
			     .review = on_review, .note = on_note };
	struct api_page pg;
	struct cd_error err;

	api_shopify_page((const char *)data, size, &m, &pg, &err);
	assert(pg.taken <= pg.rows && pg.wait_ms >= 0);
	api_woo_orders_page((const char *)data, size, &m, &pg, &err);
	api_woo_reviews_page((const char *)data, size, &m, &pg, &err);
	return 0;
}
