/*
 * order.h - candor's order and feedback, as every source delivers them
 * and every stage reads them. Owned by intake (src/intake/order.c): an
 * importer, a shop database or an API maps into these; the scheduler and
 * the composer read them back from the store.
 *
 * Strings are borrowed unless the struct says otherwise: a source fills
 * one from its own row, hands it to the store, and reuses it.
 */
#ifndef CANDOR_ORDER_H
#define CANDOR_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* Order statuses as stored (the schema's CHECK list). */
enum cd_order_status {
	CD_ORDER_OPEN, CD_ORDER_PAID, CD_ORDER_SHIPPED, CD_ORDER_DELIVERED,
	CD_ORDER_RETURNED, CD_ORDER_REFUNDED, CD_ORDER_CANCELLED,
	CD_ORDER_NSTATUSES
};

struct cd_order {
	const char *id;          /* the shop's order number; required */
	const char *channel;     /* "web", "amazon" … NULL: keep / "web" */
	const char *customer_id;
	const char *first_name, *name;
	const char *email;       /* required */
	const char *locale;      /* BCP 47, "de-DE" */
	const char *country;     /* ISO 3166 alpha-2 */
	const char *timezone;    /* IANA name */
	const char *items;       /* JSON array [{"name":…,"quantity":…}] */
	const char *total, *currency;
	const char *status;      /* a status name; NULL keeps / "open" */
	int64_t purchased, shipped, delivered; /* Unix seconds; 0 unknown */
};

struct cd_feedback {
	const char *order_id;
	int rating;              /* 1..5 */
	const char *comment;
	const char *source;      /* "shop", "amazon" … NULL: "shop" */
	int64_t received;        /* Unix seconds */
};

/* Name of a status as stored, and back (CD_ORDER_NSTATUSES for none). */
const char *cd_order_status_name(enum cd_order_status s);
enum cd_order_status cd_order_status_parse(const char *name);

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
