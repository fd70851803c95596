/*
 * order_check.h - what intake accepts: the checks every source's orders
 * and feedback pass before the store sees them (src/intake/order_check.c).
 */
#ifndef CANDOR_ORDER_CHECK_H
#define CANDOR_ORDER_CHECK_H

#include <stddef.h>

#include "candor/order.h"

/* Why O cannot be stored, or NULL when it can: an id (at most 200
 * characters) and a deliverable email are required; a status, locale,
 * country, time zone or items given must be valid. NULL and "" both
 * mean "not given". The reason is a constant or written into WHY (LEN
 * bytes); either way it is for a human, naming the field. */
const char *cd_order_check(const struct cd_order *o, char *why, size_t len);

/* Why F cannot be stored, or NULL: an order id, a rating from 1 to 5 and
 * a received time are required. Whether the order exists is the
 * store's to say (cd_store_order_exists). */
const char *cd_feedback_check(const struct cd_feedback *f, char *why, size_t len);

#endif
