/*
 * import_woo.h - inside the importer (intake-private): candor's order
 * fields as the CSV layouts fill them, and the WooCommerce order exports
 * (import_woo.c) turned into those fields and items. import.c groups the
 * rows of one order, checks and writes them; this file only reads cells.
 */
#ifndef CANDOR_IMPORT_WOO_H
#define CANDOR_IMPORT_WOO_H

#include <json-c/json.h>
#include <stddef.h>

#include "candor/csv.h"

/* candor's order fields, in the order of import.c's order_fields[] */
enum { F_ORDER_ID, F_CHANNEL, F_CUSTOMER_ID, F_FIRST_NAME, F_NAME, F_EMAIL,
       F_LOCALE, F_COUNTRY, F_TIMEZONE, F_ITEMS, F_TOTAL, F_CURRENCY,
       F_PURCHASED, F_SHIPPED, F_DELIVERED, F_STATUS, NF_ORDER };

/* The WooCommerce columns read, each found by one of several names. */
enum { W_ID, W_NUMBER, W_EMAIL, W_USER_EMAIL, W_FIRST, W_LAST, W_SHIP_FIRST, W_SHIP_LAST,
       W_SHIP_COUNTRY, W_BILL_COUNTRY, W_LANGUAGE, W_STATUS, W_DATE, W_PAID, W_COMPLETED,
       W_COMPLETED_META, W_TOTAL, W_CURRENCY, W_CUSTOMER, W_ITEM_NAME, W_ITEM_QTY,
       W_ITEM_SKU, W_LINE_ITEMS, NW };

struct woo_item_col {
	int col;               /* line_item_N's column */
	size_t n;              /* its N */
};

struct woo_map {
	const char *format;    /* "WooCommerce CSV (…)", for the summary */
	const char *id_name;   /* the order number's column, for messages */
	const char *qty_name;  /* the item quantity's column, for messages */
	int per_item;          /* one row per line item (the rows of one order follow
				* each other; later ones may leave the order blank) */
	int col[NW];           /* -1: absent */
	struct woo_item_col *item_cols;   /* line_item_1 … line_item_N */
	size_t nitem_cols;
};

/* The WooCommerce layout of header H into M: 1, 0 when H is none of
 * them, CD_ENOMEM. M is to be freed with woo_map_free either way. */
int woo_detect(const struct cd_csv_record *h, struct woo_map *m);
void woo_map_free(struct woo_map *m);

/* Row R's order number (borrowed), or NULL when the row leaves it blank. */
const char *woo_order_id(const struct woo_map *m, const struct cd_csv_record *r);

/* Row R's order-level values into V[NF_ORDER] (each malloc'd or NULL;
 * the caller frees them). 0 or CD_ENOMEM. */
int woo_values(const struct woo_map *m, const struct cd_csv_record *r, char **v);

/* Row R's line items appended to *ITEMS (an array made when NULL). NULL,
 * or why the items cannot be read (in WHY or a constant). */
const char *woo_items(const struct woo_map *m, const struct cd_csv_record *r,
		      json_object **items, char *why, size_t len);

/* One item: NAME (N bytes), QTY (Q bytes; none: 1) and SKU into *ITEMS.
 * NULL, or why the quantity is not one; FIELD names the cell. */
const char *woo_add_item(json_object **items, const char *name, size_t n, const char *qty,
			 size_t q, const char *sku, size_t s, const char *field, char *why,
			 size_t len);

#endif
