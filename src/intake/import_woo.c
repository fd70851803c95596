/*
 * import_woo.c - WooCommerce order exports as candor's order fields.
 * WooCommerce itself has no order CSV export; shops use a plugin, and
 * three layouts are common (headers: shared/conformance/orders/README.md):
 *
 * - labelled columns, one row per line item ("Advanced Order Export For
 *   WooCommerce", AlgolPlus, woo-order-export-lite): "Order Number",
 *   "Order Status" (the status *label*: "Processing", "On hold",
 *   "Pending payment"), "Email (Billing)", the item in "Name", "Quantity",
 *   "SKU". Read in its classes/class-wc-order-export-data-extractor.php
 *   (fetch_order_data, csv_process_multi_rows): the extra rows of an
 *   order leave the order's columns blank unless "fill order columns for
 *   all product rows" is set (its default in later versions, where the
 *   dates are "Y-m-d H:i"), so a blank order number continues the order
 *   above.
 * - snake_case, one row per order, items in line_item_1..N (WebToffee
 *   "Order Export & Order Import for WooCommerce"). Read in its
 *   admin/modules/order/export/class-wt-orderimpexpcsv-basic-exporter.php
 *   (get_orders_csv_row): a cell is "name:…|product_id:…|sku:…|quantity:…
 *   |total:…|sub_total:…" then optional tax, tax_data (JSON), the item's
 *   meta as key:value, refunded, _variation_id — joined by "|" with
 *   nothing escaped, so a "|" in a product name stays as it is.
 *   order_date is "Y-m-d H:i:s", paid_date WooCommerce's DATE_ATOM.
 * - snake_case, one row per order, all items in one line_items cell (the
 *   SkyVerge "Customer/Order CSV Export", legacy default format). Read in
 *   its class-wc-customer-order-csv-export-generator.php
 *   (get_orders_csv_row): items "name:…|sku:…|quantity:…|total:…" (later
 *   versions add refunded, refunded_qty, meta, tax) joined by ";", names
 *   unescaped; the meta has ":;|" replaced by "=". Its one-row-per-item
 *   format (item_name, item_quantity, item_sku) is read like the
 *   labelled one.
 *
 * So a name runs up to the plugin's next fixed key ("|product_id:" or
 * "|sku:"), and a SkyVerge item up to the next ";name:": a "|" or ";"
 * inside a product name survives. Other columns are ignored: plugins
 * add many.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/error.h"
#include "candor/util.h"
#include "import_woo.h"

/* Each column by its label (AlgolPlus) and its snake_case names. */
static const struct {
	int w;
	const char *label, *label2, *snake, *snake2;
} woo_cols[] = {
	{ W_ID, "Order ID", NULL, "order_id", NULL },
	{ W_NUMBER, "Order Number", NULL, "order_number", NULL },
	{ W_EMAIL, "Email (Billing)", NULL, "billing_email", NULL },
	{ W_USER_EMAIL, "Customer User Email", NULL, "customer_email", NULL },
	{ W_FIRST, "First Name (Billing)", NULL, "billing_first_name", NULL },
	{ W_LAST, "Last Name (Billing)", NULL, "billing_last_name", NULL },
	{ W_SHIP_FIRST, "First Name (Shipping)", NULL, "shipping_first_name", NULL },
	{ W_SHIP_LAST, "Last Name (Shipping)", NULL, "shipping_last_name", NULL },
	{ W_SHIP_COUNTRY, "Country Code (Shipping)", NULL, "shipping_country", NULL },
	{ W_BILL_COUNTRY, "Country Code (Billing)", NULL, "billing_country", NULL },
	/* WPML's language of the order, as WebToffee exports the meta */
	{ W_LANGUAGE, NULL, NULL, "meta:wpml_language", NULL },
	{ W_STATUS, "Order Status", NULL, "status", NULL },
	{ W_DATE, "Order Date", NULL, "order_date", "date" },
	{ W_PAID, "Paid Date", NULL, "paid_date", NULL },
	{ W_COMPLETED, "Completed Date", NULL, "completed_date", "meta:_completed_date" },
	{ W_COMPLETED_META, NULL, NULL, "meta:_date_completed", NULL },  /* Unix seconds */
	{ W_TOTAL, "Order Total Amount", NULL, "order_total", NULL },
	{ W_CURRENCY, "Currency", NULL, "order_currency", NULL },
	{ W_CUSTOMER, "Customer User ID", NULL, "customer_id", "customer_user" },
	{ W_ITEM_NAME, "Name", NULL, "item_name", NULL },
	{ W_ITEM_QTY, "Quantity", NULL, "item_quantity", NULL },
	{ W_ITEM_SKU, "SKU", NULL, "item_sku", NULL },
	{ W_LINE_ITEMS, NULL, NULL, "line_items", NULL },
};

static int find(const struct cd_csv_record *h, const char *name)
{
	for (size_t i = 0; name && i < h->nfields; i++)
		if (strcasecmp(h->fields[i], name) == 0)
			return (int)i;
	return -1;
}

static const char *cell(const struct cd_csv_record *r, int col)
{
	return col >= 0 && (size_t)col < r->nfields && r->fields[col][0] ? r->fields[col] : NULL;
}

/* "line_item_12": its number, or 0. */
static size_t line_item_number(const char *name)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "line_item_", 10) != 0 || name[10] < '1' || name[10] > '9')
		return 0;
	n = strtoul(name + 10, &end, 10);
	return *end || n > 1000 ? 0 : (size_t)n;
}

static int find_line_items(const struct cd_csv_record *h, struct woo_map *m)
{
	for (size_t i = 0; i < h->nfields; i++) {
		size_t n = line_item_number(h->fields[i]);
		struct woo_item_col *p;

		if (!n)
			continue;
		if (!(p = realloc(m->item_cols, (m->nitem_cols + 1) * sizeof(*p))))
			return CD_ENOMEM;
		m->item_cols = p;
		m->item_cols[m->nitem_cols++] = (struct woo_item_col){ (int)i, n };
	}
	return 0;
}

int woo_detect(const struct cd_csv_record *h, struct woo_map *m)
{
	int labelled = find(h, "Order Number") >= 0 && find(h, "Email (Billing)") >= 0;
	int snake = find(h, "order_id") >= 0 &&
		    (find(h, "billing_email") >= 0 || find(h, "customer_email") >= 0);

	*m = (struct woo_map){ 0 };
	if (!labelled && !snake)
		return 0;
	for (size_t i = 0; i < sizeof(woo_cols) / sizeof(woo_cols[0]); i++) {
		int c = find(h, labelled ? woo_cols[i].label : woo_cols[i].snake);

		if (c < 0)
			c = find(h, labelled ? woo_cols[i].label2 : woo_cols[i].snake2);
		m->col[woo_cols[i].w] = c;
	}
	if (labelled) {
		m->format = "WooCommerce CSV (Advanced Order Export)";
		m->id_name = "Order Number";
		m->qty_name = "Quantity";
		m->per_item = 1;
		return 1;
	}
	m->id_name = "order_id";
	m->qty_name = "item_quantity";
	if (find_line_items(h, m) < 0)
		return CD_ENOMEM;
	m->per_item = m->col[W_ITEM_NAME] >= 0;
	if (m->nitem_cols || find(h, "wt_import_key") >= 0)
		m->format = "WooCommerce CSV (WebToffee)";
	else if (m->col[W_LINE_ITEMS] >= 0 || m->per_item)
		m->format = "WooCommerce CSV (Customer/Order CSV Export)";
	else
		m->format = "WooCommerce CSV";
	return 1;
}

void woo_map_free(struct woo_map *m)
{
	free(m->item_cols);
	m->item_cols = NULL;
	m->nitem_cols = 0;
}

const char *woo_order_id(const struct woo_map *m, const struct cd_csv_record *r)
{
	const char *id = cell(r, m->col[W_ID]);

	return id ? id : cell(r, m->col[W_NUMBER]);
}

/* ---- the order ------------------------------------------------------------- */

/* The status as WooCommerce's status table knows it: AlgolPlus writes
 * the labels of wc_get_order_statuses(), two of which are not their
 * slug with spaces. The rest (and unknown words) the import maps and
 * checks as for candor's CSV. */
static const char *status_word(const char *v)
{
	if (v && strcasecmp(v, "Pending payment") == 0)
		return "pending";
	if (v && strcasecmp(v, "Draft") == 0)
		return "checkout-draft";
	return v;
}

static char *copy(const char *v, int *oom)
{
	char *s = v ? strdup(v) : NULL;

	if (v && !s)
		*oom = 1;
	return s;
}

/* "First Last" from the billing names, else the shipping ones. */
static char *full_name(const struct woo_map *m, const struct cd_csv_record *r, int *oom,
		       const char **first)
{
	const char *f = cell(r, m->col[W_FIRST]), *l = cell(r, m->col[W_LAST]);
	char *s;

	if (!f && !l) {
		f = cell(r, m->col[W_SHIP_FIRST]);
		l = cell(r, m->col[W_SHIP_LAST]);
	}
	*first = f;
	if (!f || !l)
		return copy(f ? f : l, oom);
	if (!(s = malloc(strlen(f) + strlen(l) + 2))) {
		*oom = 1;
		return NULL;
	}
	sprintf(s, "%s %s", f, l);
	return s;
}

int woo_values(const struct woo_map *m, const struct cd_csv_record *r, char **v)
{
	const char *email = cell(r, m->col[W_EMAIL]), *country = cell(r, m->col[W_SHIP_COUNTRY]);
	const char *date = cell(r, m->col[W_DATE]), *done = cell(r, m->col[W_COMPLETED]);
	const char *customer = cell(r, m->col[W_CUSTOMER]), *first;
	int oom = 0;

	for (int f = 0; f < NF_ORDER; f++)
		v[f] = NULL;
	v[F_ORDER_ID] = copy(woo_order_id(m, r), &oom);
	v[F_EMAIL] = copy(email ? email : cell(r, m->col[W_USER_EMAIL]), &oom);
	v[F_NAME] = full_name(m, r, &oom, &first);
	v[F_FIRST_NAME] = copy(first, &oom);
	v[F_COUNTRY] = copy(country ? country : cell(r, m->col[W_BILL_COUNTRY]), &oom);
	v[F_LOCALE] = copy(cell(r, m->col[W_LANGUAGE]), &oom);
	v[F_STATUS] = copy(status_word(cell(r, m->col[W_STATUS])), &oom);
	v[F_PURCHASED] = copy(date ? date : cell(r, m->col[W_PAID]), &oom);
	v[F_SHIPPED] = copy(done ? done : cell(r, m->col[W_COMPLETED_META]), &oom);
	v[F_TOTAL] = copy(cell(r, m->col[W_TOTAL]), &oom);
	v[F_CURRENCY] = copy(cell(r, m->col[W_CURRENCY]), &oom);
	/* a guest's orders carry customer 0: no customer */
	v[F_CUSTOMER_ID] = copy(customer && strcmp(customer, "0") != 0 ? customer : NULL, &oom);
	return oom ? CD_ENOMEM : 0;
}

/* ---- the items ------------------------------------------------------------- */

const char *woo_add_item(json_object **items, const char *name, size_t n, const char *qty,
			 size_t q, const char *sku, size_t s, const char *field, char *why,
			 size_t len)
{
	json_object *it;
	long count = 1;
	char shown[120];

	if (qty) {
		/* WooCommerce keeps whole quantities (_qty); no sign, no
		 * fraction; "quantity:" with nothing after it is no number */
		count = q ? 0 : -1;
		for (size_t i = 0; i < q && count >= 0; i++)
			if (qty[i] < '0' || qty[i] > '9' || (count = count * 10 + (qty[i] - '0')) > 1000000)
				count = -1;
		if (count < 1) {
			snprintf(why, len, "%s: bad quantity \"%s\" (a whole number from 1)", field,
				 cd_util_escape(qty, q, 20, shown, sizeof(shown)));
			return why;
		}
	}
	if (!*items && !(*items = json_object_new_array()))
		return "out of memory";
	if (!(it = json_object_new_object()))
		return "out of memory";
	json_object_object_add(it, "name", json_object_new_string_len(name, (int)n));
	json_object_object_add(it, "quantity", json_object_new_int((int)count));
	if (s)
		json_object_object_add(it, "sku", json_object_new_string_len(sku, (int)s));
	json_object_array_add(*items, it);
	return NULL;
}

/* The value of "KEY:" among the "|"-separated pairs in [P, END), or NULL. */
static const char *pair(const char *p, const char *end, const char *key, size_t *n)
{
	size_t k = strlen(key);

	while (p < end) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *stop = bar ? bar : end;

		if ((size_t)(stop - p) > k && memcmp(p, key, k) == 0 && p[k] == ':') {
			*n = (size_t)(stop - p - k - 1);
			return p + k + 1;
		}
		p = stop + 1;
	}
	return NULL;
}

/* One item written "name:…|NEXT:…|…|quantity:…" in [S, END): the name
 * runs up to "|NEXT:", the key the plugin writes after it. */
static const char *parse_item(const char *s, const char *end, const char *next,
			      const char *field, json_object **items, char *why, size_t len)
{
	char mark[24], shown[120];
	const char *name, *stop, *qty, *sku;
	size_t q = 0, k = 0;

	if ((size_t)(end - s) < 5 || memcmp(s, "name:", 5) != 0) {
		snprintf(why, len, "%s does not start with name: (\"%s\")", field,
			 cd_util_escape(s, (size_t)(end - s), 40, shown, sizeof(shown)));
		return why;
	}
	name = s + 5;
	snprintf(mark, sizeof(mark), "|%s:", next);
	stop = memmem(name, (size_t)(end - name), mark, strlen(mark));
	if (!stop && !(stop = memchr(name, '|', (size_t)(end - name))))
		stop = end;
	if (stop == name) {
		snprintf(why, len, "%s has an item without a name", field);
		return why;
	}
	qty = pair(stop + 1, end, "quantity", &q);
	sku = pair(stop + 1, end, "sku", &k);
	return woo_add_item(items, name, (size_t)(stop - name), qty, qty ? q : 0, sku,
			    sku ? k : 0, field, why, len);
}

/* SkyVerge's line_items: items joined by ";", each starting "name:". */
static const char *parse_line_items(const char *s, json_object **items, char *why, size_t len)
{
	const char *end = s + strlen(s), *bad;

	while (s < end) {
		const char *next = memmem(s + 1, (size_t)(end - s - 1), ";name:", 6);
		const char *stop = next ? next : end;

		if ((bad = parse_item(s, stop, "sku", "line_items", items, why, len)))
			return bad;
		s = next ? next + 1 : end;
	}
	return NULL;
}

const char *woo_items(const struct woo_map *m, const struct cd_csv_record *r,
		      json_object **items, char *why, size_t len)
{
	const char *v, *bad;

	if (m->per_item && (v = cell(r, m->col[W_ITEM_NAME]))) {
		const char *qty = cell(r, m->col[W_ITEM_QTY]), *sku = cell(r, m->col[W_ITEM_SKU]);

		/* a blank Quantity column is no quantity: 1 */
		if (qty && !*qty)
			qty = NULL;
		if ((bad = woo_add_item(items, v, strlen(v), qty, qty ? strlen(qty) : 0, sku,
					sku ? strlen(sku) : 0, m->qty_name, why, len)))
			return bad;
	}
	for (size_t i = 0; i < m->nitem_cols; i++) {
		char field[24];

		if (!(v = cell(r, m->item_cols[i].col)))
			continue;
		snprintf(field, sizeof(field), "line_item_%zu", m->item_cols[i].n);
		if ((bad = parse_item(v, v + strlen(v), "product_id", field, items, why, len)))
			return bad;
	}
	if ((v = cell(r, m->col[W_LINE_ITEMS])))
		return parse_line_items(v, items, why, len);
	return NULL;
}
