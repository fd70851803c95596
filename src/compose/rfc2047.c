/*
 * rfc2047.c - the encoded-word encoder and base64, kept apart from
 * compose.c so each can be tested and fuzzed on its own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/rfc2047.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(struct cd_buf *b, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		cd_buf_add(b, q, 4);
	}
}

void cd_rfc2047_base64_lines(struct cd_buf *b, const unsigned char *p, size_t len)
{
	/* 57 input bytes make one 76-character line */
	for (size_t i = 0; i < len; i += 57) {
		base64(b, p + i, len - i < 57 ? len - i : 57);
		cd_buf_add(b, "\r\n", 2);
	}
}

static int plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting with C (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xF0 && c < 0xF8)
		return 4;
	if (c >= 0xE0)
		return c < 0xF0 ? 3 : 1;
	if (c >= 0xC0)
		return 2;
	return 1;
}

/* Bytes of text one encoded word may carry when it starts at column COL:
 * the word is at most 75 characters and the line at most 78. */
static size_t word_capacity(int col)
{
	int room = 78 - col < 75 ? 78 - col : 75;

	room -= 12; /* strlen("=?UTF-8?B??=") */
	return room < 4 ? 3 : (size_t)(room / 4) * 3;
}

static void encoded_words(struct cd_buf *b, const char *text, int col)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), i = 0;
	int first = 1;

	while (i < len) {
		size_t take = 0, cap = word_capacity(first ? col : 1);

		/* whole characters only, so no word splits one */
		while (i + take < len) {
			size_t cl = utf8_len(p[i + take]);

			if (i + take + cl > len || take + cl > cap)
				break;
			take += cl;
		}
		if (take == 0)
			take = 1;
		if (!first)
			cd_buf_add(b, "\r\n ", 3);
		cd_buf_adds(b, "=?UTF-8?B?");
		base64(b, p + i, take);
		cd_buf_adds(b, "?=");
		first = 0;
		i += take;
	}
}

/* Copy with control characters made spaces: this is where a CR or LF in
 * customer data stops being able to start a new header. */
static char *neutralise(const char *text)
{
	size_t n = strlen(text);
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)text[i];

		s[i] = (c && (c < 0x20 || c == 0x7f)) ? ' ' : (char)c;
	}
	return s;
}

static void fold_ascii(struct cd_buf *b, const char *s, int col)
{
	while (*s) {
		size_t n = strlen(s);
		const char *cut;

		if (col + (int)n <= 78) {
			cd_buf_adds(b, s);
			return;
		}
		/* break at the last space that fits; a word longer than a line
		 * goes out whole (998 is the hard limit, and we cap input). */
		cut = NULL;
		for (const char *q = s + 1; *q && q - s + col <= 78; q++)
			if (*q == ' ')
				cut = q;
		if (!cut)
			cut = strchr(s + 1, ' ');
		if (!cut) {
			cd_buf_adds(b, s);
			return;
		}
		cd_buf_add(b, s, (size_t)(cut - s));
		cd_buf_adds(b, "\r\n");
		s = cut; /* the space starts the continuation line */
		col = 0;
	}
}

void cd_rfc2047_encode(struct cd_buf *b, const char *text, int start)
{
	char *s = neutralise(text);

	if (!s) {
		b->oom = 1;
		return;
	}
	if (plain_ascii(s) && strlen(s) < 900)
		fold_ascii(b, s, start);
	else
		encoded_words(b, s, start);
	free(s);
}

void cd_rfc2047_phrase(struct cd_buf *b, const char *name, int start)
{
	char *s = neutralise(name);

	if (!s) {
		b->oom = 1;
		return;
	}
	if (plain_ascii(s) && strlen(s) < 200) {
		cd_buf_addc(b, '"');
		for (const char *p = s; *p; p++) {
			if (*p == '"' || *p == '\\')
				cd_buf_addc(b, '\\');
			cd_buf_addc(b, *p);
		}
		cd_buf_addc(b, '"');
	} else {
		encoded_words(b, s, start);
	}
	free(s);
}
