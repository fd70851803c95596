/*
 * error.h - errors a human will read: a code, a message, and where.
 *
 * Functions that can fail return 0 or a negative CD_E* code and, when given
 * a struct cd_error, fill it with a message the caller can print as is.
 * All memory belongs to the caller; struct cd_error holds no pointers.
 */
#ifndef CANDOR_ERROR_H
#define CANDOR_ERROR_H

#include <stddef.h>

enum {
	CD_OK = 0,
	CD_ENOMEM = -1,   /* out of memory */
	CD_EIO = -2,      /* a file or socket could not be read or written */
	CD_ECONFIG = -3,  /* the configuration is invalid */
	CD_ESTORE = -4,   /* the database refused or is damaged */
	CD_EBUSY = -5,    /* another instance holds the database; all busy */
	CD_EINVAL = -6,   /* bad input from a user or a file */
	CD_EPROTO = -7,   /* a server answered something we cannot use */
	CD_ETEMPLATE = -8,/* a template does not parse or render */
	CD_ENOTFOUND = -9 /* the thing asked for does not exist */
};

struct cd_error {
	int code;
	char file[256];   /* "" when the error is not about a file */
	int line;         /* 0 when unknown */
	char setting[128];/* configuration path, "" when none */
	char msg[512];
};

/* Clear ERR (may be NULL). */
void cd_error_clear(struct cd_error *err);

/* Fill ERR (may be NULL) and return CODE, so callers can write
 * "return cd_error_set(err, CD_EIO, ...)". FILE may be NULL. */
int cd_error_set(struct cd_error *err, int code, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Write ERR as "file:line: setting: message" into BUF. */
const char *cd_error_format(const struct cd_error *err, char *buf, size_t len);

/* A growing list of errors, for validators that report everything at once. */
struct cd_errors {
	struct cd_error *items;
	size_t count, cap;
};

/* Append a copy of ERR; on out-of-memory the error is dropped, the count of
 * earlier ones stays right, and CD_ENOMEM is returned. */
int cd_errors_add(struct cd_errors *list, const struct cd_error *err);

/* Release the list's memory and empty it. */
void cd_errors_clear(struct cd_errors *list);

#endif
