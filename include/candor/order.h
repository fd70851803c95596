/*
 * order.h - candor's order and feedback, as every source delivers them
 * and every stage reads them: an importer, a shop database or an API maps
 * into these (intake, which also checks them: order_check.h), the store
 * keeps them, the scheduler and the composer read them back. The type
 * sits in core because every stage, the store included, uses it.
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
	const char *locale_guess; /* from the country: used only when no
				   * locale is given or stored */
	const char *country;     /* ISO 3166 alpha-2 */
	const char *timezone;    /* IANA name */
	const char *items;       /* JSON array [{"name":…,"quantity":…}] */
	const char *total, *currency;
	const char *status;      /* a status name; NULL keeps / "open" */
	int64_t purchased, shipped, delivered; /* Unix seconds; 0 unknown */
	const char *source;      /* the source that read it; NULL: an import */
	const char *source_time; /* the shop's change time of the row read */
	int items_built;         /* items written by candor itself (a source
				  * preset): well-formed, not parsed again */
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

#endif
