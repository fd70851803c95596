/*
 * tdata.h - the data templates see: a tree of maps, lists, strings,
 * booleans and nulls. Strings are copied in; a tree is freed as a whole.
 * A string can be marked safe (HTML written by the shop's admin, never by
 * a customer): only safe values may be printed unescaped in HTML parts.
 *
 * The struct is visible so the renderer can walk it without a call per
 * step; build trees only through the functions below.
 */
#ifndef CANDOR_TDATA_H
#define CANDOR_TDATA_H

#include <stddef.h>

#include "candor/error.h"

enum cd_tkind { CD_TD_MAP, CD_TD_LIST, CD_TD_STRING, CD_TD_BOOL, CD_TD_NULL };

struct cd_tdata {
	enum cd_tkind kind;
	char *key;                 /* within a map; NULL in a list */
	size_t keylen;
	char *str;                 /* CD_TD_STRING */
	int b;                     /* CD_TD_BOOL */
	int safe;                  /* string may go into HTML unescaped */
	struct cd_tdata *first, *last, *next;
};

/* A new empty map; NULL on out of memory. */
struct cd_tdata *cd_tdata_map(void);

/* Add KEY (copied) to MAP with a copy of the string VALUE (NULL or "" is
 * falsy). Returns 0 or CD_ENOMEM. */
int cd_tdata_set_string(struct cd_tdata *map, const char *key, const char *value);

/* The same, marked safe for HTML. */
int cd_tdata_set_safe_string(struct cd_tdata *map, const char *key, const char *value);

/* Add KEY with a boolean. Returns 0 or CD_ENOMEM. */
int cd_tdata_set_bool(struct cd_tdata *map, const char *key, int value);

/* Add KEY with a new map or list and return it (owned by MAP); NULL on
 * out of memory. */
struct cd_tdata *cd_tdata_set_map(struct cd_tdata *map, const char *key);
struct cd_tdata *cd_tdata_set_list(struct cd_tdata *map, const char *key);

/* Append a new map to LIST and return it (owned by LIST). */
struct cd_tdata *cd_tdata_append_map(struct cd_tdata *list);

/* The member NAME (LEN bytes) of MAP, or NULL. Borrowed. */
const struct cd_tdata *cd_tdata_get(const struct cd_tdata *map, const char *name,
				    size_t len);

/* Is D true for a section: non-empty string or list, true, any map. */
int cd_tdata_truthy(const struct cd_tdata *d);

/* Build a tree from JSON text (objects, arrays, strings, numbers as
 * written, booleans, null). Returns 0, CD_EINVAL (ERR says where the
 * JSON is broken) or CD_ENOMEM. NAME is used in errors. */
int cd_tdata_from_json(const char *name, const char *json, size_t len,
		       struct cd_tdata **out, struct cd_error *err);

/* Free a tree; NULL is fine. */
void cd_tdata_free(struct cd_tdata *d);

#endif
