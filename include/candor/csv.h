/*
 * csv.h - an RFC 4180 reader for shop exports: quoted fields with commas,
 * quotes and line breaks, CRLF or LF, an optional UTF-8 BOM. Each record
 * keeps its raw bytes, so a rejected row can be written out untouched.
 */
#ifndef CANDOR_CSV_H
#define CANDOR_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "candor/error.h"

/* A record longer than this is refused rather than read into memory. */
#define CD_CSV_MAX_RECORD (1024 * 1024)

struct cd_csv;

struct cd_csv_record {
	size_t nfields;
	const char *const *fields; /* borrowed until the next read */
	size_t line;               /* physical line the record starts on */
	const char *raw;           /* the record's bytes, line end included */
	size_t rawlen;
};

/* Read from FP (borrowed; the caller closes it). NAME is used in errors.
 * Returns 0 or CD_ENOMEM. */
int cd_csv_open(FILE *fp, const char *name, struct cd_csv **out);

/* Read the next non-empty record into REC. Returns 1, 0 at the end, or
 * CD_EINVAL for a record that cannot be read (an unterminated quote, a
 * record over the limit); ERR names the line. After CD_EINVAL the reader
 * has skipped the bad record (REC->raw holds it) and may be read on. */
int cd_csv_next(struct cd_csv *c, struct cd_csv_record *rec,
		struct cd_error *err);

void cd_csv_close(struct cd_csv *c);

#endif
