/*
 * tdata.c - the data tree templates render from, built by message.c for
 * a mail or from JSON for "candorctl render".
 */
#include "config.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "candor/tdata.h"

static struct cd_tdata *node(enum cd_tkind kind)
{
	struct cd_tdata *d = calloc(1, sizeof(*d));

	if (d)
		d->kind = kind;
	return d;
}

struct cd_tdata *cd_tdata_map(void)
{
	return node(CD_TD_MAP);
}

static struct cd_tdata *attach(struct cd_tdata *parent, const char *key,
			       struct cd_tdata *child)
{
	if (!child)
		return NULL;
	if (key) {
		child->keylen = strlen(key);
		if (!(child->key = strdup(key))) {
			cd_tdata_free(child);
			return NULL;
		}
	}
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	return child;
}

static struct cd_tdata *string_node(const char *value, size_t len, int safe)
{
	struct cd_tdata *d = node(CD_TD_STRING);

	if (!d)
		return NULL;
	d->safe = safe;
	if (!(d->str = malloc(len + 1))) {
		free(d);
		return NULL;
	}
	memcpy(d->str, value, len);
	d->str[len] = '\0';
	return d;
}

int cd_tdata_set_string(struct cd_tdata *map, const char *key, const char *value)
{
	value = value ? value : "";
	return attach(map, key, string_node(value, strlen(value), 0)) ? 0 : CD_ENOMEM;
}

int cd_tdata_set_safe_string(struct cd_tdata *map, const char *key, const char *value)
{
	value = value ? value : "";
	return attach(map, key, string_node(value, strlen(value), 1)) ? 0 : CD_ENOMEM;
}

int cd_tdata_set_bool(struct cd_tdata *map, const char *key, int value)
{
	struct cd_tdata *d = node(CD_TD_BOOL);

	if (d)
		d->b = !!value;
	return attach(map, key, d) ? 0 : CD_ENOMEM;
}

struct cd_tdata *cd_tdata_set_map(struct cd_tdata *map, const char *key)
{
	return attach(map, key, node(CD_TD_MAP));
}

struct cd_tdata *cd_tdata_set_list(struct cd_tdata *map, const char *key)
{
	return attach(map, key, node(CD_TD_LIST));
}

struct cd_tdata *cd_tdata_append_map(struct cd_tdata *list)
{
	return attach(list, NULL, node(CD_TD_MAP));
}

const struct cd_tdata *cd_tdata_get(const struct cd_tdata *map, const char *name,
				    size_t len)
{
	if (!map || map->kind != CD_TD_MAP)
		return NULL;
	for (const struct cd_tdata *c = map->first; c; c = c->next)
		if (c->keylen == len && memcmp(c->key, name, len) == 0)
			return c;
	return NULL;
}

int cd_tdata_truthy(const struct cd_tdata *d)
{
	if (!d)
		return 0;
	switch (d->kind) {
	case CD_TD_BOOL: return d->b;
	case CD_TD_STRING: return d->str[0] != '\0';
	case CD_TD_LIST: return d->first != NULL;
	case CD_TD_MAP: return 1;
	case CD_TD_NULL: return 0;
	}
	return 0;
}

void cd_tdata_free(struct cd_tdata *d)
{
	while (d) {
		struct cd_tdata *next = d->next;

		cd_tdata_free(d->first);
		free(d->key);
		free(d->str);
		free(d);
		d = next;
	}
}

/* ---- JSON ------------------------------------------------------------ */

#define MAX_JSON_DEPTH 64

static struct cd_tdata *from_json(json_object *j, int depth);

static int add_members(struct cd_tdata *d, json_object *j, int depth)
{
	if (d->kind == CD_TD_LIST) {
		for (size_t i = 0; i < json_object_array_length(j); i++)
			if (!attach(d, NULL, from_json(json_object_array_get_idx(j, i), depth)))
				return CD_ENOMEM;
		return 0;
	}
	json_object_object_foreach(j, key, val) {
		if (!attach(d, key, from_json(val, depth)))
			return CD_ENOMEM;
	}
	return 0;
}

static struct cd_tdata *from_json(json_object *j, int depth)
{
	struct cd_tdata *d;
	const char *s;

	switch (json_object_get_type(j)) {
	case json_type_null:
		return node(CD_TD_NULL);
	case json_type_boolean:
		if ((d = node(CD_TD_BOOL)))
			d->b = json_object_get_boolean(j);
		return d;
	case json_type_string:
		return string_node(json_object_get_string(j),
				   (size_t)json_object_get_string_len(j), 0);
	case json_type_int:
	case json_type_double:
		/* numbers print as they were written ("1.21", not 1.2100000001) */
		s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
		return string_node(s, strlen(s), 0);
	case json_type_array:
	case json_type_object:
		if (depth >= MAX_JSON_DEPTH)
			return NULL;
		d = node(json_object_get_type(j) == json_type_array ? CD_TD_LIST : CD_TD_MAP);
		if (d && add_members(d, j, depth + 1) < 0) {
			cd_tdata_free(d);
			d = NULL;
		}
		return d;
	}
	return NULL;
}

static int json_error(const char *name, const char *json, size_t at, const char *why,
		      struct cd_error *err)
{
	int line = 1, col = 1;

	for (size_t i = 0; i < at; i++) {
		if (json[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)json[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	return cd_error_set(err, CD_EINVAL, name, line, "column %d: %s", col, why);
}

int cd_tdata_from_json(const char *name, const char *json, size_t len,
		       struct cd_tdata **out, struct cd_error *err)
{
	json_tokener *tok = json_tokener_new_ex(MAX_JSON_DEPTH);
	json_object *j = NULL;
	size_t end;
	int rc = 0;

	*out = NULL;
	if (len > INT_MAX) {
		json_tokener_free(tok);
		return cd_error_set(err, CD_EINVAL, name, 0, "JSON larger than 2 GB");
	}
	if (!tok)
		return cd_error_set(err, CD_ENOMEM, name, 0, "out of memory");
	j = json_tokener_parse_ex(tok, json, (int)len);
	end = json_tokener_get_parse_end(tok);
	/* a bare number may go on until the tokener sees the end */
	if (!j && json_tokener_get_error(tok) == json_tokener_continue &&
	    (j = json_tokener_parse_ex(tok, "", 1)) != NULL)
		end = len;
	if (!j || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		rc = json_error(name, json, end > len ? len : end,
				e == json_tokener_continue ? "JSON ends too early"
				: json_tokener_error_desc(e), err);
		goto out;
	}
	for (; end < len && strchr(" \t\r\n", json[end]) && json[end]; end++)
		;
	if (end < len) {
		rc = json_error(name, json, end, "unexpected text after the JSON value", err);
		goto out;
	}
	if (!(*out = from_json(j, 0)))
		rc = cd_error_set(err, CD_ENOMEM, name, 0, "out of memory");
out:
	json_object_put(j);
	json_tokener_free(tok);
	return rc;
}
