/*
 * buf.h - a growing byte buffer. Appends after an allocation failure are
 * ignored and the failure is remembered, so callers check once at the end.
 */
#ifndef CANDOR_BUF_H
#define CANDOR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct cd_buf {
	char *data;  /* always NUL-terminated once anything was added */
	size_t len, cap;
	int oom;
};

void cd_buf_add(struct cd_buf *b, const void *p, size_t n);
void cd_buf_adds(struct cd_buf *b, const char *s);
void cd_buf_addc(struct cd_buf *b, char c);
void cd_buf_printf(struct cd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Room for N more bytes at the end, to be filled by the caller and then
 * claimed with cd_buf_commit; NULL after an allocation failure. */
char *cd_buf_space(struct cd_buf *b, size_t n);

/* Claim N bytes written into the room cd_buf_space gave. */
void cd_buf_commit(struct cd_buf *b, size_t n);

/* Hand the contents to the caller (never NULL unless out of memory) and
 * reset B. */
char *cd_buf_take(struct cd_buf *b);

/* Free the contents and reset B. */
void cd_buf_free(struct cd_buf *b);

#endif
