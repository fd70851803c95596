/*
 * order_check.c - the checks every source's orders and feedback pass
 * before the store sees them (order_check.h).
 */
#include "config.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "candor/order_check.h"
#include "candor/tz.h"
#include "candor/util.h"

static int given(const char *s)
{
	return s && *s;
}

static int plain_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

static const char *check_items(const char *s)
{
	json_object *j = json_tokener_parse(s);
	const char *why = NULL;

	if (!j || !json_object_is_type(j, json_type_array))
		why = "items is not a JSON array like [{\"name\":\"Tea\",\"quantity\":1}]";
	json_object_put(j);
	return why;
}

const char *cd_order_check(const struct cd_order *o, char *why, size_t len)
{
	if (!given(o->id))
		return "missing order_id";
	if (strlen(o->id) > 200)
		return "order_id longer than 200 characters";
	if (!given(o->email))
		return "missing email";
	/* a customer's domain has a dot: "ann@gmail" is a typo */
	if (!cd_util_address_ok(o->email) || !strchr(strchr(o->email, '@'), '.')) {
		snprintf(why, len, "invalid email \"%.100s\"", o->email);
		return why;
	}
	if (given(o->status) && cd_order_status_parse(o->status) == CD_ORDER_NSTATUSES) {
		snprintf(why, len, "unknown status \"%.40s\" (open, paid, shipped, delivered, "
			 "returned, refunded, cancelled)", o->status);
		return why;
	}
	if (given(o->locale) && !plain_token(o->locale, 35))
		return "bad locale (write e.g. de-DE or zh-Hant-TW)";
	if (given(o->country) && !plain_token(o->country, 56))
		return "bad country";
	if (given(o->timezone) && cd_tz_known(o->timezone) != 1) {
		snprintf(why, len, "unknown time zone \"%.60s\"", o->timezone);
		return why;
	}
	if (given(o->items))
		return check_items(o->items);
	return NULL;
}

const char *cd_feedback_check(const struct cd_feedback *f, char *why, size_t len)
{
	(void)why;
	(void)len;
	if (!given(f->order_id))
		return "missing order_id";
	if (f->rating < 1 || f->rating > 5)
		return "rating must be a whole number from 1 to 5";
	if (!f->received)
		return "missing or bad received date";
	return NULL;
}
