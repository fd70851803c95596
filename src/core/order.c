/*
 * order.c - the order statuses every source maps into (order.h).
 */
#include "config.h"

#include <string.h>

#include "candor/order.h"

static const char *const status_names[CD_ORDER_NSTATUSES] = {
	"open", "paid", "shipped", "delivered", "returned", "refunded", "cancelled",
};

const char *cd_order_status_name(enum cd_order_status s)
{
	return s < CD_ORDER_NSTATUSES ? status_names[s] : "?";
}

enum cd_order_status cd_order_status_parse(const char *name)
{
	for (int i = 0; name && i < CD_ORDER_NSTATUSES; i++)
		if (strcmp(name, status_names[i]) == 0)
			return (enum cd_order_status)i;
	return CD_ORDER_NSTATUSES;
}
