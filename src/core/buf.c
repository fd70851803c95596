/*
 * buf.c - growing buffers for rendered text and composed mail.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"

static int grow(struct cd_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void cd_buf_add(struct cd_buf *b, const void *p, size_t n)
{
	if (grow(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cd_buf_adds(struct cd_buf *b, const char *s)
{
	cd_buf_add(b, s, strlen(s));
}

void cd_buf_addc(struct cd_buf *b, char c)
{
	cd_buf_add(b, &c, 1);
}

void cd_buf_printf(struct cd_buf *b, const char *fmt, ...)
{
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_list ap;
	int n;

	if (b->oom)
		return;
	/* format once into the room there is; only a line that does not
	 * fit is formatted again */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		if (grow(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *cd_buf_space(struct cd_buf *b, size_t n)
{
	return grow(b, n) < 0 ? NULL : b->data + b->len;
}

void cd_buf_commit(struct cd_buf *b, size_t n)
{
	if (b->oom)
		return;
	b->len += n;
	b->data[b->len] = '\0';
}

char *cd_buf_take(struct cd_buf *b)
{
	char *p;

	if (b->oom) {
		cd_buf_free(b);
		return NULL;
	}
	p = b->data ? b->data : strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void cd_buf_free(struct cd_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
