/*
 * error.c - error values that carry a printable message and a location.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/error.h"
#include "candor/util.h"

void cd_error_clear(struct cd_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int cd_error_set(struct cd_error *err, int code, const char *file, int line,
		 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	cd_error_clear(err);
	err->code = code;
	if (file)
		snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *cd_error_format(const struct cd_error *err, char *buf, size_t len)
{
	char where[300] = "";

	if (err->file[0] && err->line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", err->file, err->line);
	else if (err->file[0])
		snprintf(where, sizeof(where), "%s: ", err->file);
	char raw[1600];

	if (err->setting[0])
		snprintf(raw, sizeof(raw), "%s%s: %s", where, err->setting, err->msg);
	else
		snprintf(raw, sizeof(raw), "%s%s", where, err->msg);
	/* one line, whatever a value echoed in it held */
	return cd_util_escape(raw, strlen(raw), len, buf, len);
}

int cd_errors_add(struct cd_errors *list, const struct cd_error *err)
{
	if (CD_GROW(list->items, list->count, list->cap) < 0)
		return CD_ENOMEM;
	list->items[list->count++] = *err;
	return 0;
}

void cd_errors_clear(struct cd_errors *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}
