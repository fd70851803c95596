/*
 * order_check.c - the cleaning and the checks every source's orders and
 * feedback pass before the store sees them (order_check.h).
 */
#include "config.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"

#include "candor/order_check.h"
#include "candor/tz.h"
#include "candor/util.h"

static int given(const char *s)
{
	return s && *s;
}

/* V shortened to MAX characters and escaped, for a message. */
static const char *echo(const char *v, size_t max, char *out, size_t len)
{
	return cd_util_escape(v, strlen(v), max, out, len);
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

/* ---- cleaning ------------------------------------------------------------ */

/* A line break or a tab: U+0009-U+000D, NEL (U+0085), U+2028, U+2029. */
static int line_break(unsigned cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* V (N bytes) cleaned into *OUT (malloc'd) as the rule in order_check.h
 * says: for a one-line field (MULTILINE 0) line breaks and tabs become a
 * space, runs of spaces one, the ends trimmed; for text of several lines
 * CR LF and CR become LF and a tab a space. Any other control refuses
 * it, and so do more than MAX characters after cleaning. NULL, or why. */
static const char *clean_text(const char *field, const char *v, size_t n, size_t max,
			      int multiline, char **out, char *why, size_t len)
{
	struct cd_buf b = { 0 };
	size_t chars = 0, at = 0, k;
	int space = 0;
	unsigned cp;

	*out = NULL;
	for (size_t i = 0; i < n; i += k, at++) {
		if (!(k = cd_util_utf8_decode(v + i, n - i, &cp))) {
			snprintf(why, len, "%s is not valid UTF-8 text", field);
			goto bad;
		}
		if (multiline && (cp == '\n' || cp == '\r')) {
			if (cp == '\r' && i + 1 < n && v[i + 1] == '\n')
				k++;
			cd_buf_addc(&b, '\n');
			chars++;
			space = 0;
			continue;
		}
		if (line_break(cp) || cp == ' ') {
			space = 1;
			continue;
		}
		if (cd_util_is_control(cp)) {
			snprintf(why, len, "%s has a control character (U+%04X) at character %zu; "
				 "NUL and other control characters are refused", field, cp, at + 1);
			goto bad;
		}
		if (space && (multiline || b.len > 0)) {
			cd_buf_addc(&b, ' ');
			chars++;
		}
		space = 0;
		cd_buf_add(&b, v + i, k);
		chars++;
	}
	if (chars > max) {
		snprintf(why, len, "%s is longer than %zu characters (%zu)", field, max, chars);
		goto bad;
	}
	cd_buf_addc(&b, '\0');
	if (b.oom) {
		snprintf(why, len, "out of memory");
		goto bad;
	}
	*out = b.data;
	return NULL;
bad:
	cd_buf_free(&b);
	return why;
}

/* Clean *V in place of the caller's (a copy kept in C) when given. */
static const char *clean_field(struct cd_order_clean *c, const char *field, const char **v,
			       size_t max, int multiline, char *why, size_t len)
{
	char *out;
	const char *bad;

	if (!*v || !**v)
		return NULL;
	if (c->n == sizeof(c->keep) / sizeof(c->keep[0]))
		return "too many values to clean";
	if ((bad = clean_text(field, *v, strlen(*v), max, multiline, &out, why, len)))
		return bad;
	c->keep[c->n++] = out;
	*v = out;
	return NULL;
}

/* A string member of an item, cleaned: set anew in IT. */
static const char *clean_member(json_object *it, const char *key, const char *field,
				size_t max, char *why, size_t len)
{
	json_object *v;
	const char *bad;
	char *out;

	if (!json_object_object_get_ex(it, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, len, "%s is not a string", field);
		return why;
	}
	if ((bad = clean_text(field, json_object_get_string(v), (size_t)json_object_get_string_len(v),
			      max, 0, &out, why, len)))
		return bad;
	json_object_object_add(it, key, json_object_new_string(out));
	free(out);
	return NULL;
}

/* The items, each checked and its name and SKU cleaned, written anew. */
static const char *clean_items(struct cd_order_clean *c, const char **items, char *why,
			       size_t len)
{
	json_object *j;
	const char *bad = NULL;
	char *out;
	size_t n;

	if (!*items || !**items)
		return NULL;
	j = json_tokener_parse(*items);
	if (!j || !json_object_is_type(j, json_type_array)) {
		json_object_put(j);
		return "items is not a JSON array like [{\"name\":\"Tea\",\"quantity\":1}]";
	}
	if ((n = json_object_array_length(j)) > CD_ORDER_MAX_ITEMS) {
		snprintf(why, len, "more than %d items (%zu)", CD_ORDER_MAX_ITEMS, n);
		bad = why;
	}
	for (size_t i = 0; !bad && i < n; i++) {
		json_object *it = json_object_array_get_idx(j, i), *name;
		char field[48];

		snprintf(field, sizeof(field), "items[%zu]", i);
		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "name", &name)) {
			snprintf(why, len, "%s has no name (write {\"name\":\"Tea\",\"quantity\":1})", field);
			bad = why;
			break;
		}
		snprintf(field, sizeof(field), "items[%zu].name", i);
		if ((bad = clean_member(it, "name", field, CD_ORDER_MAX_ITEM_NAME, why, len)))
			break;
		snprintf(field, sizeof(field), "items[%zu].sku", i);
		bad = clean_member(it, "sku", field, CD_ORDER_MAX_SKU, why, len);
	}
	if (!bad && c->n == sizeof(c->keep) / sizeof(c->keep[0]))
		bad = "too many values to clean";
	if (!bad && !(out = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))))
		bad = "out of memory";
	json_object_put(j);
	if (bad)
		return bad;
	c->keep[c->n++] = out;
	*items = out;
	return NULL;
}

const char *cd_order_clean(struct cd_order *o, struct cd_order_clean *c, char *why, size_t len)
{
	const char *bad;

	if ((bad = clean_field(c, "order_id", &o->id, CD_ORDER_MAX_ID, 0, why, len)) ||
	    (bad = clean_field(c, "email", &o->email, CD_ORDER_MAX_EMAIL, 0, why, len)) ||
	    (bad = clean_field(c, "first_name", &o->first_name, CD_ORDER_MAX_FIRST_NAME, 0, why, len)) ||
	    (bad = clean_field(c, "name", &o->name, CD_ORDER_MAX_NAME, 0, why, len)) ||
	    (bad = clean_field(c, "customer_id", &o->customer_id, CD_ORDER_MAX_ID, 0, why, len)) ||
	    (bad = clean_field(c, "total", &o->total, CD_ORDER_MAX_SHORT, 0, why, len)) ||
	    (bad = clean_field(c, "currency", &o->currency, CD_ORDER_MAX_SHORT, 0, why, len)))
		return bad;
	/* items a source built itself hold names it read as values, not text
	 * to parse: they go into the body, escaped, never a header */
	return o->items_built ? NULL : clean_items(c, &o->items, why, len);
}

const char *cd_feedback_clean(struct cd_feedback *f, struct cd_order_clean *c, char *why,
			      size_t len)
{
	const char *bad;

	if ((bad = clean_field(c, "order_id", &f->order_id, CD_ORDER_MAX_ID, 0, why, len)) ||
	    (bad = clean_field(c, "source", &f->source, CD_ORDER_MAX_SHORT, 0, why, len)))
		return bad;
	return clean_field(c, "comment", &f->comment, CD_ORDER_MAX_COMMENT, 1, why, len);
}

void cd_order_clean_free(struct cd_order_clean *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keep[i]);
	c->n = 0;
}

/* ---- checks --------------------------------------------------------------- */

const char *cd_order_check(const struct cd_order *o, char *why, size_t len)
{
	char shown[320];

	if (!given(o->id))
		return "missing order_id";
	if (strlen(o->id) > 200)
		return "order_id longer than 200 characters";
	if (!given(o->email))
		return "missing email";
	/* a customer's domain has a dot: "ann@gmail" is a typo */
	if (!cd_util_address_ok(o->email) || !strchr(strchr(o->email, '@'), '.')) {
		snprintf(why, len, "invalid email \"%s\"", echo(o->email, 100, shown, sizeof(shown)));
		return why;
	}
	if (given(o->status) && cd_order_status_parse(o->status) == CD_ORDER_NSTATUSES) {
		snprintf(why, len, "unknown status \"%s\" (open, paid, shipped, delivered, "
			 "returned, refunded, cancelled)", echo(o->status, 40, shown, sizeof(shown)));
		return why;
	}
	if (given(o->locale) && !plain_token(o->locale, 35))
		return "bad locale (write e.g. de-DE or zh-Hant-TW)";
	if (given(o->country) && !plain_token(o->country, 56))
		return "bad country";
	if (given(o->timezone) && cd_tz_known(o->timezone) != 1) {
		snprintf(why, len, "unknown time zone \"%s\"", echo(o->timezone, 60, shown, sizeof(shown)));
		return why;
	}
	if (given(o->items) && !o->items_built)
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
