/*
 * source_presets.c - the sql source's presets: each platform's orders,
 * items and reviews read from its own tables, and its status values
 * mapped into candor's (source_sql.h). Written from the platforms'
 * schemas: WooCommerce's HPOS tables (wc_orders, wc_order_addresses,
 * wc_order_operational_data) and its legacy posts/postmeta, order items
 * and product reviews (comments with a "rating" comment meta); Magento
 * 2's sales_order, sales_order_item, sales_shipment and review with
 * rating_option_vote; PrestaShop 8's orders, order_detail,
 * order_history, order_state, configuration (PS_OS_*), order_return and
 * the productcomments module's product_comment.
 *
 * The SQL keeps to what MariaDB, MySQL and PostgreSQL share. The cursor
 * condition is written "t >= :cursor_time AND (t > :cursor_time OR id >
 * :cursor_key)" rather than a row comparison, so MariaDB uses the index
 * on the change time. Reviews are matched to the latest order of the
 * same customer for the reviewed product placed before the review.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "source_sql.h"

#define AFTER(t, id) \
	" " t " >= :cursor_time AND (" t " > :cursor_time OR " id " > :cursor_key)"
#define CURSOR(t, id) AFTER(t, id) " ORDER BY " t ", " id " LIMIT :limit"

/* ---- WooCommerce ---------------------------------------------------------------- */

static const struct sql_status woo_statuses[] = {
	{ "wc-pending", "open" }, { "wc-on-hold", "open" }, { "wc-checkout-draft", "open" },
	{ "auto-draft", "open" }, { "draft", "open" },
	{ "wc-processing", "paid" },
	{ "wc-completed", "shipped" },
	/* statuses of common shipment-tracking and returns plugins */
	{ "wc-shipped", "shipped" }, { "wc-delivered", "delivered" },
	{ "wc-returned", "returned" },
	{ "wc-refunded", "refunded" },
	{ "wc-cancelled", "cancelled" }, { "wc-failed", "cancelled" },
	{ "trash", "cancelled" },
	{ NULL, NULL },
};

static const char woo_hpos_orders[] =
	"SELECT o.id AS cursor_key, o.date_updated_gmt AS cursor_time, o.id AS order_id,"
	" o.billing_email AS email, o.customer_id AS customer_id,"
	" b.first_name AS first_name, b.last_name AS last_name,"
	" COALESCE(NULLIF(s.country, ''), NULLIF(b.country, '')) AS country,"
	" o.total_amount AS total, o.currency AS currency, o.date_created_gmt AS purchased,"
	" d.date_completed_gmt AS shipped, o.status AS status"
	" FROM {p}wc_orders o"
	" LEFT JOIN {p}wc_order_addresses b ON b.order_id = o.id AND b.address_type = 'billing'"
	" LEFT JOIN {p}wc_order_addresses s ON s.order_id = o.id AND s.address_type = 'shipping'"
	" LEFT JOIN {p}wc_order_operational_data d ON d.order_id = o.id"
	" WHERE o.type = 'shop_order' AND" CURSOR("o.date_updated_gmt", "o.id");

/* Items of the orders a batch reads: the same orders, picked again by
 * the same cursor and limit in a derived table, so the query can go out
 * with the orders' own (on a connection of its own) before those rows
 * are back. Their order is put right by the source (item_key). */
#define BATCH_OF(cols, from, t, id) "(SELECT " cols " FROM " from " AND" CURSOR(t, id) ") b"

#define WOO_ITEMS(orders, only, t, id) \
	"SELECT i.order_id AS order_key, i.order_item_id AS item_key, i.order_item_name AS name," \
	" q.meta_value AS quantity" \
	" FROM " BATCH_OF(id " AS id", orders " WHERE " only, t, id) \
	" JOIN {p}woocommerce_order_items i ON i.order_id = b.id AND i.order_item_type = 'line_item'" \
	" LEFT JOIN {p}woocommerce_order_itemmeta q ON q.order_item_id = i.order_item_id" \
	"  AND q.meta_key = '_qty'"

static const char woo_hpos_items[] =
	WOO_ITEMS("{p}wc_orders o", "o.type = 'shop_order'", "o.date_updated_gmt", "o.id");

/* Reviews are comments on the product with a rating meta; spam and
 * trash are left out, reviews awaiting moderation are not (a low one is
 * what the apology is for). */
#define WOO_REVIEWS(match) \
	"SELECT c.comment_ID AS cursor_key, c.comment_date_gmt AS cursor_time," \
	" c.comment_date_gmt AS received, r.meta_value AS rating, c.comment_content AS comment," \
	" (" match ") AS order_id" \
	" FROM {p}comments c" \
	" JOIN {p}commentmeta r ON r.comment_id = c.comment_ID AND r.meta_key = 'rating'" \
	" WHERE c.comment_approved IN ('0', '1') AND" CURSOR("c.comment_date_gmt", "c.comment_ID")

static const char woo_hpos_reviews[] = WOO_REVIEWS(
	"SELECT o.id FROM {p}wc_orders o"
	" JOIN {p}woocommerce_order_items i ON i.order_id = o.id AND i.order_item_type = 'line_item'"
	" JOIN {p}woocommerce_order_itemmeta p ON p.order_item_id = i.order_item_id"
	"  AND p.meta_key = '_product_id'"
	" WHERE o.type = 'shop_order' AND p.meta_value = CONCAT('', c.comment_post_ID)"
	" AND (o.billing_email = c.comment_author_email"
	"  OR (c.user_id <> 0 AND o.customer_id = c.user_id))"
	" AND o.date_created_gmt <= c.comment_date_gmt"
	" ORDER BY o.date_created_gmt DESC, o.id DESC LIMIT 1");

#define META(alias, key) \
	" LEFT JOIN {p}postmeta " alias " ON " alias ".post_id = p.ID AND " alias ".meta_key = '" key "'"

static const char woo_legacy_orders[] =
	"SELECT p.ID AS cursor_key, p.post_modified_gmt AS cursor_time, p.ID AS order_id,"
	" em.meta_value AS email, cu.meta_value AS customer_id,"
	" fn.meta_value AS first_name, ln.meta_value AS last_name,"
	" COALESCE(NULLIF(sc.meta_value, ''), NULLIF(bc.meta_value, '')) AS country,"
	" tot.meta_value AS total, cur.meta_value AS currency, p.post_date_gmt AS purchased,"
	" dc.meta_value AS shipped, p.post_status AS status"
	" FROM {p}posts p"
	META("em", "_billing_email") META("cu", "_customer_user")
	META("fn", "_billing_first_name") META("ln", "_billing_last_name")
	META("sc", "_shipping_country") META("bc", "_billing_country")
	META("tot", "_order_total") META("cur", "_order_currency")
	META("dc", "_date_completed")
	" WHERE p.post_type = 'shop_order' AND" CURSOR("p.post_modified_gmt", "p.ID");

static const char woo_legacy_items[] =
	WOO_ITEMS("{p}posts p", "p.post_type = 'shop_order'", "p.post_modified_gmt", "p.ID");

static const char woo_legacy_reviews[] = WOO_REVIEWS(
	"SELECT o.ID FROM {p}posts o"
	" JOIN {p}postmeta e ON e.post_id = o.ID AND e.meta_key = '_billing_email'"
	" JOIN {p}woocommerce_order_items i ON i.order_id = o.ID AND i.order_item_type = 'line_item'"
	" JOIN {p}woocommerce_order_itemmeta p ON p.order_item_id = i.order_item_id"
	"  AND p.meta_key = '_product_id'"
	" WHERE o.post_type = 'shop_order' AND p.meta_value = CONCAT('', c.comment_post_ID)"
	" AND e.meta_value = c.comment_author_email AND o.post_date_gmt <= c.comment_date_gmt"
	" ORDER BY o.post_date_gmt DESC, o.ID DESC LIMIT 1");

/* ---- Magento 2 ------------------------------------------------------------------- */

static const struct sql_status magento_statuses[] = {
	{ "pending", "open" }, { "pending_payment", "open" }, { "payment_review", "open" },
	{ "holded", "open" }, { "new", "open" },
	{ "processing", "paid" },
	{ "complete", "shipped" },
	{ "closed", "refunded" },
	{ "canceled", "cancelled" }, { "fraud", "cancelled" },
	{ NULL, NULL },
};

static const char magento_orders[] =
	"SELECT o.entity_id AS cursor_key, o.updated_at AS cursor_time, o.increment_id AS order_id,"
	" o.customer_email AS email, o.customer_id AS customer_id,"
	" COALESCE(o.customer_firstname, ba.firstname) AS first_name,"
	" COALESCE(o.customer_lastname, ba.lastname) AS last_name,"
	" COALESCE(sa.country_id, ba.country_id) AS country,"
	" COALESCE((SELECT c.value FROM {p}core_config_data c WHERE c.path = 'general/locale/code'"
	"   AND c.scope = 'stores' AND c.scope_id = o.store_id),"
	"  (SELECT c.value FROM {p}core_config_data c WHERE c.path = 'general/locale/code'"
	"   AND c.scope = 'default' AND c.scope_id = 0)) AS locale,"
	" o.grand_total AS total, o.order_currency_code AS currency, o.created_at AS purchased,"
	" (SELECT MIN(sh.created_at) FROM {p}sales_shipment sh WHERE sh.order_id = o.entity_id)"
	"  AS shipped, o.status AS status"
	" FROM {p}sales_order o"
	" LEFT JOIN {p}sales_order_address sa ON sa.parent_id = o.entity_id"
	"  AND sa.address_type = 'shipping'"
	" LEFT JOIN {p}sales_order_address ba ON ba.parent_id = o.entity_id"
	"  AND ba.address_type = 'billing'"
	" WHERE" CURSOR("o.updated_at", "o.entity_id");

static const char magento_items[] =
	"SELECT i.order_id AS order_key, i.item_id AS item_key, i.name AS name,"
	" i.qty_ordered AS quantity, i.sku AS sku"
	" FROM " BATCH_OF("o.entity_id AS id", "{p}sales_order o WHERE 1 = 1", "o.updated_at",
			  "o.entity_id")
	" JOIN {p}sales_order_item i ON i.order_id = b.id AND i.parent_item_id IS NULL";

static const char magento_reviews[] =
	"SELECT r.review_id AS cursor_key, r.created_at AS cursor_time, r.created_at AS received,"
	" (SELECT AVG(v.value) FROM {p}rating_option_vote v WHERE v.review_id = r.review_id)"
	"  AS rating, d.detail AS comment,"
	" (SELECT o.increment_id FROM {p}sales_order o"
	"   JOIN {p}sales_order_item i ON i.order_id = o.entity_id"
	"   WHERE o.customer_id = d.customer_id AND i.product_id = r.entity_pk_value"
	"   AND o.created_at <= r.created_at ORDER BY o.created_at DESC, o.entity_id DESC"
	"   LIMIT 1) AS order_id"
	" FROM {p}review r JOIN {p}review_detail d ON d.review_id = r.review_id"
	" WHERE r.entity_id = (SELECT e.entity_id FROM {p}review_entity e"
	"  WHERE e.entity_code = 'product') AND" CURSOR("r.created_at", "r.review_id");

/* ---- PrestaShop 8 ------------------------------------------------------------------- */

/* A state is known by the configuration key that names it (PS_OS_*),
 * not by its id, which each shop may renumber. */
static const struct sql_status prestashop_statuses[] = {
	{ "PS_OS_CHEQUE", "open" }, { "PS_OS_BANKWIRE", "open" },
	{ "PS_OS_COD_VALIDATION", "open" },
	{ "PS_OS_OUTOFSTOCK_UNPAID", "open" },
	{ "PS_OS_PAYMENT", "paid" }, { "PS_OS_WS_PAYMENT", "paid" },
	{ "PS_OS_OUTOFSTOCK_PAID", "paid" }, { "PS_OS_PREPARATION", "paid" },
	{ "PS_OS_OUTOFSTOCK", "paid" },   /* PrestaShop 1.6 on: the same state as _PAID */
	{ "PS_OS_SHIPPING", "shipped" },
	{ "PS_OS_DELIVERED", "delivered" },
	{ "RETURNED", "returned" },
	{ "PS_OS_REFUND", "refunded" },
	{ "PS_OS_CANCELED", "cancelled" }, { "PS_OS_ERROR", "cancelled" },
	{ NULL, NULL },
};

#define PS_STATE_AT(key) \
	"(SELECT MIN(h.date_add) FROM {p}order_history h JOIN {p}configuration k" \
	"  ON k.name = '" key "' AND k.value = CONCAT('', h.id_order_state)" \
	"  WHERE h.id_order = o.id_order)"

static const char prestashop_orders[] =
	"SELECT o.id_order AS cursor_key, o.date_upd AS cursor_time, o.id_order AS order_id,"
	" cu.email AS email, o.id_customer AS customer_id,"
	" cu.firstname AS first_name, cu.lastname AS last_name, co.iso_code AS country,"
	" l.locale AS locale, o.total_paid AS total, cur.iso_code AS currency,"
	" o.date_add AS purchased,"
	" COALESCE(" PS_STATE_AT("PS_OS_SHIPPING") ", " PS_STATE_AT("PS_OS_DELIVERED") ") AS shipped,"
	" " PS_STATE_AT("PS_OS_DELIVERED") " AS delivered,"
	" CASE WHEN EXISTS (SELECT 1 FROM {p}order_return r WHERE r.id_order = o.id_order"
	"   AND r.state IN (3, 5)) THEN 'RETURNED'"
	"  ELSE COALESCE((SELECT MIN(k.name) FROM {p}configuration k WHERE k.name LIKE 'PS\\_OS\\_%'"
	"   AND k.value = CONCAT('', o.current_state)), CONCAT('state ', o.current_state)) END"
	"  AS status"
	" FROM {p}orders o"
	" JOIN {p}customer cu ON cu.id_customer = o.id_customer"
	" LEFT JOIN {p}address a ON a.id_address = o.id_address_delivery"
	" LEFT JOIN {p}country co ON co.id_country = a.id_country"
	" LEFT JOIN {p}lang l ON l.id_lang = o.id_lang"
	" LEFT JOIN {p}currency cur ON cur.id_currency = o.id_currency"
	" WHERE" CURSOR("o.date_upd", "o.id_order");

/* the orders' query joins the customer: so must the batch here */
static const char prestashop_items[] =
	"SELECT d.id_order AS order_key, d.id_order_detail AS item_key, d.product_name AS name,"
	" d.product_quantity AS quantity, d.product_reference AS sku"
	" FROM " BATCH_OF("o.id_order AS id", "{p}orders o JOIN {p}customer cu"
			  " ON cu.id_customer = o.id_customer WHERE 1 = 1", "o.date_upd", "o.id_order")
	" JOIN {p}order_detail d ON d.id_order = b.id";

static const char prestashop_reviews[] =
	"SELECT pc.id_product_comment AS cursor_key, pc.date_add AS cursor_time,"
	" pc.date_add AS received, pc.grade AS rating, pc.content AS comment,"
	" (SELECT o.id_order FROM {p}orders o JOIN {p}order_detail d ON d.id_order = o.id_order"
	"   WHERE pc.id_customer <> 0 AND o.id_customer = pc.id_customer"
	"   AND d.product_id = pc.id_product AND o.date_add <= pc.date_add"
	"   ORDER BY o.date_add DESC, o.id_order DESC LIMIT 1) AS order_id"
	" FROM {p}product_comment pc WHERE pc.deleted = 0 AND"
	CURSOR("pc.date_add", "pc.id_product_comment");

/* ---- which orders the shop still has ------------------------------------------------ */

/* A trashed WooCommerce order is still there (and read as cancelled);
 * these find the ones deleted outright. */
static const char woo_hpos_exists[] =
	"SELECT o.id AS order_id FROM {p}wc_orders o WHERE o.id IN ({keys})";
static const char woo_legacy_exists[] =
	"SELECT p.ID AS order_id FROM {p}posts p"
	" WHERE p.post_type = 'shop_order' AND p.ID IN ({keys})";
static const char magento_exists[] =
	"SELECT o.increment_id AS order_id FROM {p}sales_order o WHERE o.increment_id IN ({keys})";
static const char prestashop_exists[] =
	"SELECT o.id_order AS order_id FROM {p}orders o WHERE o.id_order IN ({keys})";

static const struct sql_preset presets[] = {
	{ "woocommerce", "WooCommerce", woo_hpos_orders, woo_hpos_items, woo_hpos_reviews,
	  woo_hpos_exists, 0, woo_statuses },
	{ "woocommerce_legacy", "WooCommerce", woo_legacy_orders, woo_legacy_items, woo_legacy_reviews,
	  woo_legacy_exists, 0, woo_statuses },
	{ "magento2", "Magento", magento_orders, magento_items, magento_reviews, magento_exists, 1,
	  magento_statuses },
	{ "prestashop", "PrestaShop", prestashop_orders, prestashop_items, prestashop_reviews,
	  prestashop_exists, 0, prestashop_statuses },
};

const char sql_preset_names[] = "woocommerce, woocommerce_legacy, magento2, prestashop";

const char *sql_status_find(const struct sql_preset *p, const char *v)
{
	for (const struct sql_status *s = p->statuses; v && s->platform; s++)
		if (strcmp(s->platform, v) == 0)
			return s->candor;
	return NULL;
}

const struct sql_preset *sql_preset_find(const char *name)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

/* ---- locale from the country ----------------------------------------------------------- */

static const char *const country_locales[][2] = {
	{ "AT", "de-AT" }, { "AU", "en-AU" }, { "BE", "nl-BE" }, { "BG", "bg-BG" },
	{ "BR", "pt-BR" }, { "CA", "en-CA" }, { "CH", "de-CH" }, { "CN", "zh-CN" },
	{ "CZ", "cs-CZ" }, { "DE", "de-DE" }, { "DK", "da-DK" }, { "EE", "et-EE" },
	{ "ES", "es-ES" }, { "FI", "fi-FI" }, { "FR", "fr-FR" }, { "GB", "en-GB" },
	{ "GR", "el-GR" }, { "HK", "zh-Hant-HK" }, { "HR", "hr-HR" }, { "HU", "hu-HU" },
	{ "IE", "en-IE" }, { "IN", "en-IN" }, { "IT", "it-IT" }, { "JP", "ja-JP" },
	{ "KR", "ko-KR" }, { "LI", "de-LI" }, { "LT", "lt-LT" }, { "LU", "fr-LU" },
	{ "LV", "lv-LV" }, { "MX", "es-MX" }, { "NL", "nl-NL" }, { "NO", "nb-NO" },
	{ "NZ", "en-NZ" }, { "PL", "pl-PL" }, { "PT", "pt-PT" }, { "RO", "ro-RO" },
	{ "SE", "sv-SE" }, { "SG", "en-SG" }, { "SI", "sl-SI" }, { "SK", "sk-SK" },
	{ "TR", "tr-TR" }, { "TW", "zh-Hant-TW" }, { "UA", "uk-UA" }, { "US", "en-US" },
};

const char *sql_country_locale(const char *country)
{
	for (size_t i = 0; i < sizeof(country_locales) / sizeof(country_locales[0]); i++)
		if (strcasecmp(country_locales[i][0], country) == 0)
			return country_locales[i][1];
	return NULL;
}
