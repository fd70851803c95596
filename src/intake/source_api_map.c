/*
 * source_api_map.c - the API sources' pages mapped into candor's orders
 * and feedback (source_api.h). Written from the public references:
 * Shopify's Admin GraphQL Order (displayFinancialStatus,
 * displayFulfillmentStatus, fulfillments' displayStatus and
 * deliveredAt, cancelledAt, returnStatus, customerLocale, lineItems) and
 * its cost extension (extensions.cost.throttleStatus); WooCommerce's REST
 * v3 order (status, dates_gmt, billing, shipping, line_items) and product
 * review. WooCommerce's statuses map through the sql preset's table, so
 * both ways into a WooCommerce shop agree.
 *
 * Every value is checked for its JSON type: a page from a shop is
 * hostile input (tests/fuzz/fuzz_api.c). A date later than candor's
 * clock by more than a few minutes is the shop's clock running ahead:
 * it is taken as now, and noted.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/order.h"
#include "candor/util.h"
#include "source_api.h"
#include "source_sql.h"

#define SKEW_SLACK 300  /* seconds a shop's clock may run ahead unnoticed */

static json_object *get(json_object *o, const char *name)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, name, &v))
		return NULL;
	return v;
}

static const char *str(json_object *o, const char *name)
{
	json_object *v = get(o, name);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A present, non-empty string or NULL. */
static const char *nstr(json_object *o, const char *name)
{
	const char *s = str(o, name);

	return s && *s ? s : NULL;
}

static json_object *arr(json_object *o, const char *name)
{
	json_object *v = get(o, name);

	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static int64_t num(json_object *o, const char *name, int64_t def)
{
	json_object *v = get(o, name);

	if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return json_object_get_int64(v);
	if (v && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		long long n = strtoll(s, &end, 10);

		return end != s && !*end ? n : def;
	}
	return def;
}

static double dbl(json_object *o, const char *name)
{
	json_object *v = get(o, name);

	return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		? json_object_get_double(v) : 0;
}

static int parse(const char *json, size_t len, json_object **out, struct cd_error *err)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	enum json_tokener_error je;
	json_object *o;
	size_t used;

	*out = NULL;
	if (!tok)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	/* a shop's JSON is RFC 8259's: no trailing commas, no comments */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len > (size_t)INT32_MAX - 1) {
		json_tokener_free(tok);
		return cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer is too long");
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	je = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (je == json_tokener_continue || (!o && je == json_tokener_success)) {
		json_object_put(o);
		return cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer is not whole JSON: "
				    "it ends after %zu bytes (truncated)", len);
	}
	if (je != json_tokener_success) {
		json_object_put(o);
		return cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer is malformed JSON "
				    "at byte %zu: %s", used, json_tokener_error_desc(je));
	}
	for (; used < len; used++)
		if (json[used] != ' ' && json[used] != '\n' && json[used] != '\r' && json[used] != '\t') {
			json_object_put(o);
			return cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer is malformed "
					    "JSON: something follows it at byte %zu", used);
		}
	*out = o;
	return 0;
}

/* A date (ISO 8601; WooCommerce's _gmt ones have no zone) into *T; 0
 * none, -1 bad. A date ahead of candor's clock is taken as now. */
static int date(const struct api_map *m, const char *v, int64_t *t, int *skewed)
{
	*t = 0;
	if (!v || !*v)
		return 0;
	if (cd_util_parse_time(v, t) < 0)
		return -1;
	if (m->now && *t > m->now + SKEW_SLACK) {
		*t = m->now;
		*skewed = 1;
	}
	return 0;
}

/* A cursor's date: in the shop's own time, as the shop compares it. */
static int raw_date(const char *v, int64_t *t)
{
	*t = 0;
	return v && *v ? cd_util_parse_time(v, t) : 0;
}

static void note_skew(const struct api_map *m, int skewed)
{
	if (skewed && m->note)
		m->note(m->arg, "the shop's clock runs ahead of candor's (dates in the future): "
			"such dates are taken as now; check the clocks (NTP)");
}

/* Is (T, K) at or before the cursor? */
static int before_cursor(const struct api_map *m, int64_t t, int64_t k)
{
	return t < m->after.time || (t == m->after.time && k <= m->after.key);
}

/* The items as candor's JSON array; NULL none. A new string. */
static char *items_json(json_object *list, const char *qty_name)
{
	json_object *out = json_object_new_array();
	size_t n = list ? json_object_array_length(list) : 0;
	char *s = NULL;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(list, i), *o;
		const char *name = nstr(it, "name"), *sku = nstr(it, "sku");

		if (!name || !(o = json_object_new_object()))
			continue;
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "quantity", json_object_new_int((int)num(it, qty_name, 1)));
		if (sku)
			json_object_object_add(o, "sku", json_object_new_string(sku));
		json_object_array_add(out, o);
	}
	if (json_object_array_length(out))
		s = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	return s;
}

static void full_name(char *buf, size_t len, const char *first, const char *last)
{
	snprintf(buf, len, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
}

/* The e-mail without the spaces a shop keeps around what was typed. */
static const char *trim_email(const char *e, char *buf, size_t len)
{
	size_t n;

	if (!e)
		return NULL;
	e += strspn(e, " \t");
	snprintf(buf, len, "%s", e);
	n = strlen(buf);
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	return buf;
}

/* ---- Shopify --------------------------------------------------------------------- */

/* The number at the end of a global id, "gid://shopify/Order/123". */
static int64_t gid_number(const char *gid)
{
	const char *p = gid ? strrchr(gid, '/') : NULL;
	char *end;
	long long v;

	p = p ? p + 1 : gid;
	if (!p || !*p)
		return -1;
	v = strtoll(p, &end, 10);
	return *end || v < 0 ? -1 : v;
}

/* What Shopify knows of shipping and delivery: the first fulfilment's
 * time, and its delivery where a carrier reported it. */
static void shopify_fulfilment(const struct api_map *m, json_object *node, int64_t *shipped,
			       int64_t *delivered, int *skewed)
{
	json_object *fl = arr(node, "fulfillments");
	size_t n = fl ? json_object_array_length(fl) : 0;

	*shipped = *delivered = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(fl, i);
		const char *ds = str(f, "displayStatus");
		int64_t c = 0, d = 0;

		if (ds && (!strcmp(ds, "CANCELED") || !strcmp(ds, "FAILURE") ||
			   !strcmp(ds, "NOT_DELIVERED")))
			continue;
		if (date(m, str(f, "createdAt"), &c, skewed) == 0 && c && (!*shipped || c < *shipped))
			*shipped = c;
		if (date(m, str(f, "deliveredAt"), &d, skewed) == 0 && !d && ds &&
		    !strcmp(ds, "DELIVERED"))
			d = c;
		if (d && (!*delivered || d > *delivered))
			*delivered = d;
	}
}

static const char *shopify_status(json_object *node, int64_t shipped, int64_t delivered)
{
	const char *fin = str(node, "displayFinancialStatus");
	const char *ful = str(node, "displayFulfillmentStatus");
	const char *ret = str(node, "returnStatus");

	if (nstr(node, "cancelledAt") || (fin && !strcmp(fin, "VOIDED")))
		return "cancelled";
	if (fin && !strcmp(fin, "REFUNDED"))
		return "refunded";
	if (ret && !strcmp(ret, "RETURNED"))
		return "returned";
	if (delivered)
		return "delivered";
	if (shipped || (ful && !strcmp(ful, "FULFILLED")))
		return "shipped";
	if (fin && (!strcmp(fin, "PAID") || !strcmp(fin, "PARTIALLY_PAID") ||
		    !strcmp(fin, "PARTIALLY_REFUNDED")))
		return "paid";
	return "open";
}

static int shopify_order(const struct api_map *m, json_object *node, struct api_page *pg,
			 int *skewed, struct cd_error *err)
{
	const char *gid = str(node, "id"), *num_name = nstr(node, "name");
	json_object *cust = get(node, "customer"), *bill = get(node, "billingAddress");
	json_object *ship = get(node, "shippingAddress");
	json_object *money = get(get(node, "totalPriceSet"), "shopMoney");
	int64_t key = gid_number(gid), updated, created = 0, shipped, delivered;
	char keybuf[128], name[300], email[320], customer[40], *items;
	const char *first, *last, *locale = nstr(node, "customerLocale");
	struct cd_order o;
	int rc;

	pg->rows++;
	snprintf(keybuf, sizeof(keybuf), "%.60s", num_name ? num_name : gid ? gid : "?");
	if (key < 0 || raw_date(str(node, "updatedAt"), &updated) < 0 || !updated)
		return m->order(m->arg, NULL, keybuf, "no usable id or updatedAt", err);
	if (before_cursor(m, updated, key))
		return 0;
	pg->taken++;
	pg->last.time = updated;
	pg->last.key = key;
	if (date(m, str(node, "createdAt"), &created, skewed) < 0)
		return m->order(m->arg, NULL, keybuf, "bad createdAt", err);
	shopify_fulfilment(m, node, &shipped, &delivered, skewed);
	first = nstr(cust, "firstName") ? nstr(cust, "firstName") : nstr(bill, "firstName");
	last = nstr(cust, "lastName") ? nstr(cust, "lastName") : nstr(bill, "lastName");
	full_name(name, sizeof(name), first, last);
	snprintf(customer, sizeof(customer), "%lld", (long long)gid_number(str(cust, "id")));
	o = (struct cd_order){
		.id = num_name ? num_name : gid, .channel = m->channel,
		.customer_id = gid_number(str(cust, "id")) > 0 ? customer : NULL,
		.first_name = first, .name = *name ? name : NULL,
		.email = trim_email(str(node, "email"), email, sizeof(email)),
		.country = nstr(ship, "countryCodeV2") ? nstr(ship, "countryCodeV2")
			   : nstr(bill, "countryCodeV2"),
		.total = nstr(money, "amount"),
		.currency = nstr(money, "currencyCode") ? nstr(money, "currencyCode")
			    : nstr(node, "currencyCode"),
		.status = shopify_status(node, shipped, delivered),
		.purchased = created, .shipped = shipped, .delivered = delivered,
	};
	if (!strcmp(o.status, "shipped") && !o.shipped)
		o.shipped = m->now && updated > m->now ? m->now : updated;
	if (o.delivered && !o.shipped)
		o.shipped = o.delivered;
	o.locale = locale ? locale : o.country ? sql_country_locale(o.country) : NULL;
	items = items_json(get(get(node, "lineItems"), "nodes") ? arr(get(node, "lineItems"), "nodes")
			   : arr(node, "lineItems"), "quantity");
	o.items = items;
	rc = m->order(m->arg, &o, keybuf, NULL, err);
	free(items);
	return rc;
}

/* Milliseconds until a bucket restoring RATE a second holds NEED more,
 * plus SLACK; an hour at most (the numbers are the shop's). */
static int64_t refill_ms(double need, double rate, int64_t slack)
{
	double ms;

	if (!(need > 0) || !(rate > 0))
		return 0;
	ms = need / rate * 1000;
	return (ms < 3600000 ? (int64_t)ms : 3600000) + slack;
}

/* Shopify's errors: a throttle (wait until the bucket holds the
 * query's cost) or anything else (named, for the runner to fail). */
static void shopify_errors(json_object *root, json_object *errs, struct api_page *pg)
{
	json_object *e = json_object_array_length(errs) ? json_object_array_get_idx(errs, 0) : NULL;
	const char *code = str(get(e, "extensions"), "code"), *msg = str(e, "message");

	if ((code && !strcmp(code, "THROTTLED")) || (msg && !strcmp(msg, "Throttled"))) {
		json_object *cost = get(get(root, "extensions"), "cost");
		json_object *ts = get(cost, "throttleStatus");
		double need = dbl(cost, "requestedQueryCost") - dbl(ts, "currentlyAvailable");
		double rate = dbl(ts, "restoreRate");

		pg->throttled = 1;
		pg->wait_ms = refill_ms(need, rate, 250);
		if (!pg->wait_ms)
			pg->wait_ms = 2000;
		return;
	}
	pg->refused = code && !strcmp(code, "ACCESS_DENIED");
	snprintf(pg->error, sizeof(pg->error), "the shop's GraphQL API answered: %.200s%s%.40s%s",
		 msg ? msg : "an error", code ? " (" : "", code ? code : "", code ? ")" : "");
}

int api_shopify_page(const char *json, size_t len, const struct api_map *m,
		     struct api_page *pg, struct cd_error *err)
{
	json_object *root, *orders, *nodes, *edges, *errs, *info, *ts;
	int rc = 0, skewed = 0;
	size_t n;

	memset(pg, 0, sizeof(*pg));
	if ((rc = parse(json, len, &root, err)) < 0)
		return rc;
	if ((errs = arr(root, "errors")) && json_object_array_length(errs)) {
		shopify_errors(root, errs, pg);
		json_object_put(root);
		return 0;
	}
	orders = get(get(root, "data"), "orders");
	nodes = arr(orders, "nodes");
	edges = arr(orders, "edges");
	if (!orders || (!nodes && !edges)) {
		json_object_put(root);
		return cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer holds no "
				    "data.orders.nodes: not an answer to the orders query");
	}
	n = json_object_array_length(nodes ? nodes : edges);
	info = get(orders, "pageInfo");
	pg->has_next = get(info, "hasNextPage") && json_object_get_boolean(get(info, "hasNextPage"));
	/* the next query waits until the bucket holds this one's cost */
	ts = get(get(get(root, "extensions"), "cost"), "throttleStatus");
	if (ts) {
		double need = dbl(get(get(root, "extensions"), "cost"), "requestedQueryCost") -
			      dbl(ts, "currentlyAvailable");
		double rate = dbl(ts, "restoreRate");

		pg->wait_ms = refill_ms(need, rate, 100);
	}
	if (m->parsed && n && !pg->wait_ms) {
		json_object *x = json_object_array_get_idx(nodes ? nodes : edges, n - 1);
		struct api_cursor last = { 0, gid_number(str(nodes ? x : get(x, "node"), "id")) };

		if (raw_date(str(nodes ? x : get(x, "node"), "updatedAt"), &last.time) == 0 &&
		    last.time && last.key >= 0)
			m->parsed(m->parg, &last, pg->has_next);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_object *x = json_object_array_get_idx(nodes ? nodes : edges, i);

		rc = shopify_order(m, nodes ? x : get(x, "node"), pg, &skewed, err);
	}
	snprintf(pg->end_cursor, sizeof(pg->end_cursor), "%s",
		 nstr(info, "endCursor") ? nstr(info, "endCursor") : "");
	note_skew(m, skewed);
	json_object_put(root);
	return rc;
}

char *api_shopify_query(int64_t since, int first, const char *after)
{
	static const char q[] =
		"query($q: String!, $first: Int!, $after: String) {"
		" orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {"
		" pageInfo { hasNextPage endCursor }"
		" nodes { id name email updatedAt createdAt cancelledAt"
		" displayFinancialStatus displayFulfillmentStatus returnStatus customerLocale"
		" currencyCode totalPriceSet { shopMoney { amount currencyCode } }"
		" customer { id firstName lastName }"
		" billingAddress { firstName lastName countryCodeV2 }"
		" shippingAddress { countryCodeV2 }"
		" fulfillments(first: 10) { createdAt displayStatus deliveredAt }"
		" refunds(first: 10) { createdAt }"
		" lineItems(first: 50) { nodes { name quantity sku } } } } }";
	json_object *body = json_object_new_object(), *vars = json_object_new_object();
	char t[32], filter[64];
	char *s;

	if (!body || !vars) {
		json_object_put(body);
		json_object_put(vars);
		return NULL;
	}
	api_format_time(since, 1, t, sizeof(t));
	snprintf(filter, sizeof(filter), "updated_at:>='%sZ'", t);
	json_object_object_add(vars, "q", json_object_new_string(filter));
	json_object_object_add(vars, "first", json_object_new_int(first));
	json_object_object_add(vars, "after", after ? json_object_new_string(after) : NULL);
	json_object_object_add(body, "query", json_object_new_string(q));
	json_object_object_add(body, "variables", vars);
	s = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return s;
}

/* ---- WooCommerce ----------------------------------------------------------------- */

/* The sql preset's table, which writes statuses as WordPress stores
 * them ("wc-completed"); the REST API leaves off the "wc-". */
static const char *woo_status(const struct api_map *m, const char *v)
{
	const struct sql_preset *p = sql_preset_find("woocommerce");
	char buf[80];

	if (!v || !*v)
		return NULL;
	snprintf(buf, sizeof(buf), "%s%.60s", strcmp(v, "trash") && strcmp(v, "draft") &&
		 strcmp(v, "auto-draft") ? "wc-" : "", v);
	for (const struct sql_status *s = p->statuses; s->platform; s++)
		if (!strcmp(s->platform, buf))
			return s->candor;
	if (m->note) {
		char note[160];

		snprintf(note, sizeof(note), "WooCommerce status \"%.60s\" is not one candor maps; "
			 "such orders keep the status they had (new ones: open)", v);
		m->note(m->arg, note);
	}
	return NULL;
}

static int woo_order(const struct api_map *m, json_object *node, struct api_page *pg,
		     int *skewed, struct cd_error *err)
{
	json_object *bill = get(node, "billing"), *ship = get(node, "shipping");
	int64_t key = num(node, "id", -1), updated, created, completed;
	char keybuf[128], id[32], name[300], email[320], customer[32], *items;
	const char *number = nstr(node, "number"), *first, *last;
	struct cd_order o;
	int rc;

	pg->rows++;
	snprintf(id, sizeof(id), "%lld", (long long)key);
	snprintf(keybuf, sizeof(keybuf), "%.60s", number ? number : id);
	if (key < 0 || raw_date(str(node, "date_modified_gmt"), &updated) < 0 || !updated)
		return m->order(m->arg, NULL, keybuf, "no usable id or date_modified_gmt", err);
	if (before_cursor(m, updated, key))
		return 0;
	pg->taken++;
	pg->last.time = updated;
	pg->last.key = key;
	if (date(m, str(node, "date_created_gmt"), &created, skewed) < 0 ||
	    date(m, str(node, "date_completed_gmt"), &completed, skewed) < 0)
		return m->order(m->arg, NULL, keybuf, "bad date_created_gmt or date_completed_gmt", err);
	first = nstr(bill, "first_name");
	last = nstr(bill, "last_name");
	full_name(name, sizeof(name), first, last);
	snprintf(customer, sizeof(customer), "%lld", (long long)num(node, "customer_id", 0));
	o = (struct cd_order){
		/* the same id the sql preset gives: the order's key */
		.id = id, .channel = m->channel,
		.customer_id = num(node, "customer_id", 0) > 0 ? customer : NULL,
		.first_name = first, .name = *name ? name : NULL,
		.email = trim_email(str(bill, "email"), email, sizeof(email)),
		.country = nstr(ship, "country") ? nstr(ship, "country") : nstr(bill, "country"),
		.total = nstr(node, "total"), .currency = nstr(node, "currency"),
		.status = woo_status(m, str(node, "status")),
		.purchased = created, .shipped = completed,
	};
	if (m->now && updated > m->now)
		updated = m->now;
	if (o.status && !strcmp(o.status, "shipped") && !o.shipped)
		o.shipped = updated;
	if (o.status && !strcmp(o.status, "delivered")) {
		o.delivered = updated;
		if (!o.shipped)
			o.shipped = updated;
	}
	o.locale = o.country ? sql_country_locale(o.country) : NULL;
	items = items_json(arr(node, "line_items"), "quantity");
	o.items = items;
	rc = m->order(m->arg, &o, keybuf, NULL, err);
	free(items);
	return rc;
}

static int woo_list(const char *json, size_t len, json_object **root, struct cd_error *err)
{
	int rc;

	if ((rc = parse(json, len, root, err)) < 0)
		return rc;
	if (!json_object_is_type(*root, json_type_array)) {
		const char *msg = str(*root, "message");

		/* the message lives in the tree: said before the tree goes */
		rc = cd_error_set(err, CD_EPROTO, NULL, 0, "the shop's answer is not a list%s%.200s",
				  msg ? ": " : "", msg ? msg : "");
		json_object_put(*root);
		*root = NULL;
		return rc;
	}
	return 0;
}

typedef int (*woo_item_fn)(const struct api_map *m, json_object *node, struct api_page *pg,
			   int *skewed, struct cd_error *err);

/* A WooCommerce list page, each element through ITEM. */
static int woo_page(const char *json, size_t len, const struct api_map *m,
		    struct api_page *pg, woo_item_fn item, struct cd_error *err)
{
	json_object *root;
	int rc, skewed = 0;
	size_t n;

	memset(pg, 0, sizeof(*pg));
	if ((rc = woo_list(json, len, &root, err)) < 0)
		return rc;
	n = json_object_array_length(root);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = item(m, json_object_array_get_idx(root, i), pg, &skewed, err);
	note_skew(m, skewed);
	json_object_put(root);
	return rc;
}

int api_woo_orders_page(const char *json, size_t len, const struct api_map *m,
			struct api_page *pg, struct cd_error *err)
{
	return woo_page(json, len, m, pg, woo_order, err);
}

static int woo_review(const struct api_map *m, json_object *node, struct api_page *pg,
		      int *skewed, struct cd_error *err)
{
	int64_t key = num(node, "id", -1), when;
	const char *status = str(node, "status");
	char keybuf[64], email[320];
	struct cd_feedback f = { .source = "shop" };

	pg->rows++;
	snprintf(keybuf, sizeof(keybuf), "review %lld", (long long)key);
	if (key < 0 || raw_date(str(node, "date_created_gmt"), &when) < 0 || !when)
		return m->order(m->arg, NULL, keybuf, "no usable id or date_created_gmt", err);
	if (before_cursor(m, when, key))
		return 0;
	pg->taken++;
	pg->last.time = when;
	pg->last.key = key;
	date(m, str(node, "date_created_gmt"), &when, skewed);
	/* spam and trash are not a customer's word; held reviews are */
	if (status && (!strcmp(status, "spam") || !strcmp(status, "trash")))
		return 0;
	f.rating = (int)num(node, "rating", 0);
	f.comment = str(node, "review");
	f.received = when;
	return m->review(m->arg, &f, trim_email(str(node, "reviewer_email"), email, sizeof(email)),
			 keybuf, err);
}

int api_woo_reviews_page(const char *json, size_t len, const struct api_map *m,
			 struct api_page *pg, struct cd_error *err)
{
	return woo_page(json, len, m, pg, woo_review, err);
}
