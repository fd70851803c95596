/*
 * csv.c - a byte-at-a-time state machine. getc_unlocked() on a stdio
 * buffer is fast enough for a million rows a second, and keeping the
 * raw bytes beside the parsed fields costs one more buffer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/csv.h"
#include "candor/util.h"

struct cd_csv {
	FILE *fp;
	const char *name;
	size_t line;          /* lines consumed so far */
	int at_start;         /* BOM check pending */
	struct cd_buf raw;    /* the current record's bytes */
	struct cd_buf data;   /* field contents, NUL-separated */
	size_t *offsets;      /* field starts in data */
	const char **fields;
	size_t nfields, ocap, fcap;
};

int cd_csv_open(FILE *fp, const char *name, struct cd_csv **out)
{
	struct cd_csv *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return CD_ENOMEM;
	c->fp = fp;
	c->name = name;
	c->at_start = 1;
	*out = c;
	return 0;
}

void cd_csv_close(struct cd_csv *c)
{
	if (!c)
		return;
	cd_buf_free(&c->raw);
	cd_buf_free(&c->data);
	free(c->offsets);
	free(c->fields);
	free(c);
}

static int start_field(struct cd_csv *c)
{
	if (CD_GROW(c->offsets, c->nfields, c->ocap) < 0)
		return CD_ENOMEM;
	c->offsets[c->nfields] = c->data.len;
	return 0;
}

static int end_field(struct cd_csv *c)
{
	cd_buf_addc(&c->data, '\0');
	c->nfields++;
	return c->data.oom ? CD_ENOMEM : 0;
}

static void skip_bom(struct cd_csv *c)
{
	int a = getc_unlocked(c->fp), b, d;

	c->at_start = 0;
	if (a == 0xEF) {
		b = getc_unlocked(c->fp);
		d = getc_unlocked(c->fp);
		if (b == 0xBB && d == 0xBF)
			return;
		/* not a BOM: give the bytes back as far as stdio allows, then
		 * treat them as data (a lone 0xEF is bad UTF-8 anyway). */
		if (d != EOF)
			ungetc(d, c->fp);
		cd_buf_addc(&c->raw, (char)a);
		cd_buf_addc(&c->data, (char)a);
		if (b != EOF)
			cd_buf_addc(&c->raw, (char)b), cd_buf_addc(&c->data, (char)b);
		return;
	}
	if (a != EOF)
		ungetc(a, c->fp);
}

/* Finish the record: point fields into the data buffer. */
static int publish(struct cd_csv *c, struct cd_csv_record *rec, size_t start)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (CD_GROW(c->fields, i, c->fcap) < 0)
			return CD_ENOMEM;
	for (size_t i = 0; i < c->nfields; i++)
		c->fields[i] = c->data.data + c->offsets[i];
	rec->nfields = c->nfields;
	rec->fields = c->fields;
	rec->line = start;
	rec->raw = c->raw.data;
	rec->rawlen = c->raw.len;
	return 0;
}

enum state { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED };

/* Read one record; 1, 0 at EOF before any byte, or a negative code. */
static int read_record(struct cd_csv *c, size_t *start_line, int *too_long)
{
	enum state st = FIELD_START;
	int ch, any = c->raw.len > 0;

	*start_line = c->line + 1;
	if (start_field(c) < 0)
		return CD_ENOMEM;
	for (;;) {
		ch = getc_unlocked(c->fp);
		if (ch == EOF)
			break;
		any = 1;
		if (c->raw.len < CD_CSV_MAX_RECORD)
			cd_buf_addc(&c->raw, (char)ch);
		else
			*too_long = 1;
		if (ch == '\n')
			c->line++;
		switch (st) {
		case QUOTED:
			if (ch == '"')
				st = QUOTE_IN_QUOTED;
			else if (!*too_long)
				cd_buf_addc(&c->data, (char)ch);
			continue;
		case QUOTE_IN_QUOTED:
			if (ch == '"') {
				cd_buf_addc(&c->data, '"');
				st = QUOTED;
				continue;
			}
			st = UNQUOTED; /* the closing quote; fall through */
			/* fallthrough */
		case FIELD_START:
			if (st == FIELD_START && ch == '"') {
				st = QUOTED;
				continue;
			}
			/* fallthrough */
		case UNQUOTED:
			st = UNQUOTED;
			if (ch == ',') {
				if (end_field(c) < 0 || start_field(c) < 0)
					return CD_ENOMEM;
				st = FIELD_START;
			} else if (ch == '\n') {
				goto done;
			} else if (ch != '\r' && !*too_long) {
				cd_buf_addc(&c->data, (char)ch);
			}
			continue;
		}
	}
	if (!any)
		return 0;
done:
	if (end_field(c) < 0)
		return CD_ENOMEM;
	return st == QUOTED ? CD_EINVAL : 1;
}

int cd_csv_next(struct cd_csv *c, struct cd_csv_record *rec,
		struct cd_error *err)
{
	for (;;) {
		size_t start;
		int too_long = 0, rc;

		c->raw.len = c->data.len = 0;
		c->nfields = 0;
		if (c->at_start)
			skip_bom(c);
		rc = read_record(c, &start, &too_long);
		if (rc == 0)
			return 0;
		if (rc == CD_ENOMEM || c->raw.oom || c->data.oom || publish(c, rec, start) < 0)
			return cd_error_set(err, CD_ENOMEM, c->name, (int)start, "out of memory");
		if (rc == CD_EINVAL)
			return cd_error_set(err, CD_EINVAL, c->name, (int)start,
					    "a quoted field is never closed");
		if (too_long)
			return cd_error_set(err, CD_EINVAL, c->name, (int)start,
					    "record longer than %d bytes", CD_CSV_MAX_RECORD);
		/* blank lines are not records */
		if (c->nfields == 1 && c->fields[0][0] == '\0')
			continue;
		return 1;
	}
}
