/*
 * order_check.h - what intake accepts: the checks every source's orders
 * and feedback pass before the store sees them (src/intake/order_check.c).
 */
#ifndef CANDOR_ORDER_CHECK_H
#define CANDOR_ORDER_CHECK_H

#include <stddef.h>

#include "candor/order.h"

/* The longest values intake takes, in characters (UTF-8 code points). */
#define CD_ORDER_MAX_ID 200          /* order_id, customer_id */
#define CD_ORDER_MAX_EMAIL 254       /* and the address must be valid */
#define CD_ORDER_MAX_FIRST_NAME 100
#define CD_ORDER_MAX_NAME 200
#define CD_ORDER_MAX_ITEMS 100       /* items per order */
#define CD_ORDER_MAX_ITEM_NAME 200
#define CD_ORDER_MAX_SKU 100
#define CD_ORDER_MAX_SHORT 64        /* total, currency, feedback source */
#define CD_ORDER_MAX_COMMENT 10000   /* a feedback comment */

/* Copies made by cleaning, owned here until cd_order_clean_free. */
struct cd_order_clean {
	char *keep[10];
	size_t n;
};

/* Clean O's values once, at intake, by one rule (README, "Importing"):
 * in a one-line value - order_id, email, first_name, name, customer_id,
 * total, currency, each item's name and sku - line breaks (CR, LF, NEL,
 * U+2028/9) and tabs become a space, runs of spaces one space, and the
 * ends are trimmed; any other control character - NUL, the rest of C0,
 * DEL, C1 (U+0080-U+009F) - refuses the order, and so does a value
 * longer than its CD_ORDER_MAX_*, or more than CD_ORDER_MAX_ITEMS items.
 * O's pointers are set to the cleaned copies, kept in C (which must be
 * zeroed first and freed with cd_order_clean_free after O is stored).
 * Returns NULL, or why (a constant or written into WHY, LEN bytes) naming
 * the field and, for a control character, its code and position. */
const char *cd_order_clean(struct cd_order *o, struct cd_order_clean *c, char *why, size_t len);

/* The same for feedback: order_id and source as one line, the comment
 * as text of several lines (CR LF and CR become LF, a tab a space; other
 * controls refused; at most CD_ORDER_MAX_COMMENT characters). */
const char *cd_feedback_clean(struct cd_feedback *f, struct cd_order_clean *c, char *why,
			      size_t len);

void cd_order_clean_free(struct cd_order_clean *c);

/* Why O (cleaned) cannot be stored, or NULL when it can: an id (at most
 * 200 characters) and a deliverable email are required; a status,
 * locale, country, time zone or items given must be valid. NULL and ""
 * both mean "not given". The reason is a constant or written into WHY
 * (LEN bytes); either way it is for a human, naming the field, and any
 * value it echoes is shortened and escaped (cd_util_escape). */
const char *cd_order_check(const struct cd_order *o, char *why, size_t len);

/* Why F cannot be stored, or NULL: an order id, a rating from 1 to 5 and
 * a received time are required. Whether the order exists is the
 * store's to say (cd_store_order_exists). */
const char *cd_feedback_check(const struct cd_feedback *f, char *why, size_t len);

#endif
