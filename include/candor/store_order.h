/*
 * store_order.h - orders and feedback in the store, as every source
 * writes them: an upsert that keeps what a source does not know, and
 * feedback added once. Validation is intake's (order.h); these verbs
 * only write what they are given.
 *
 * Strings are borrowed for the call. Each verb is atomic on its own; a
 * source wraps many in one cd_store_begin()/cd_store_commit().
 */
#ifndef CANDOR_STORE_ORDER_H
#define CANDOR_STORE_ORDER_H

#include <stdint.h>

#include "candor/error.h"

struct cd_feedback;
struct cd_order;
struct cd_store;

/* Insert O, or update the stored order with O's id. A NULL or empty
 * string and a 0 time keep the stored value; a new order gets channel
 * "web", items "[]" and status "open" where O has none. UPDATED stamps
 * the row (and puts it in order_changes for the scheduler). Returns 0 or
 * CD_ESTORE with ERR filled. */
int cd_store_order_upsert(struct cd_store *st, const struct cd_order *o, int64_t updated,
			  struct cd_error *err);

/* Add F (source NULL or "": "shop"; rating 0: none); the same order,
 * source and time already stored is left as it is. Returns 0 or CD_ESTORE with ERR. */
int cd_store_feedback_add(struct cd_store *st, const struct cd_feedback *f,
			  struct cd_error *err);

/* Is an order with ID stored? 1 yes, 0 no, CD_ESTORE. */
int cd_store_order_exists(struct cd_store *st, const char *id);

/* The latest order of EMAIL purchased at or before BEFORE (an API's
 * review names the customer, not the order) into *ID (a new string).
 * Returns 1, 0 none, CD_ESTORE. */
int cd_store_order_latest_of(struct cd_store *st, const char *email, int64_t before, char **id);

/* How many orders / feedback entries are stored, into *N. Return 0 or
 * CD_ESTORE (*N untouched). */
int cd_store_order_count(struct cd_store *st, int64_t *n);
int cd_store_feedback_count(struct cd_store *st, int64_t *n);

#endif
