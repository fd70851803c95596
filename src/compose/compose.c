/*
 * compose.c - write the message. Bodies go as quoted-printable or base64,
 * so no line of customer text can exceed a limit or pose as a MIME
 * boundary ("=_" never occurs in either encoding); headers go through
 * rfc2047.c so no value can add or break a header.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/compose.h"
#include "candor/rfc2047.h"
#include "candor/util.h"

static void add_address(struct cd_buf *b, const char *header, const char *name,
			const char *addr)
{
	size_t line_start;

	cd_buf_printf(b, "%s: ", header);
	line_start = b->len - strlen(header) - 2;
	if (name && *name) {
		cd_rfc2047_phrase(b, name, (int)strlen(header) + 2);
		/* fold before the address when it would not fit the line */
		for (size_t i = line_start; b->data && i + 1 < b->len; i++)
			if (b->data[i] == '\r' && b->data[i + 1] == '\n')
				line_start = i + 2;
		if (b->len - line_start + strlen(addr) + 3 > 78)
			cd_buf_adds(b, "\r\n");
		cd_buf_adds(b, " ");
	}
	cd_buf_printf(b, "<%s>\r\n", addr);
}

static void add_date(struct cd_buf *b, int64_t when)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;

	/* Spelled out rather than strftime("%a"), which follows the locale. */
	gmtime_r(&t, &tm);
	cd_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
		      days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		      tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Bytes quoted-printable passes as they are (blanks need a look ahead). */
static int qp_plain(unsigned char c)
{
	return c > 32 && c < 127 && c != '=';
}

/* One byte at column *COL that is not a line end, escaped as needed. */
static char *qp_byte(char *o, const char *body, size_t i, size_t n, size_t *col)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c = (unsigned char)body[i];
	int esc;

	if (c == ' ' || c == '\t')
		esc = i + 1 == n || body[i + 1] == '\n' || body[i + 1] == '\r';
	else
		esc = !qp_plain(c) || (*col == 0 && c == '.') ||
		      (*col == 0 && c == 'F' && strncmp(body + i, "From ", 5) == 0);
	if (!esc) {
		*o++ = (char)c;
		(*col)++;
		return o;
	}
	*o++ = '=';
	*o++ = hex[c >> 4];
	*o++ = hex[c & 15];
	*col += 3;
	return o;
}

/* Quoted-printable (RFC 2045 6.7) of BODY with its line ends made CRLF.
 * Lines stay under 76 characters; trailing blanks, '=', controls and
 * 8-bit bytes are escaped; so are a leading '.' and "From ", which some
 * relays and mbox files would otherwise mangle. */
static void put_qp(struct cd_buf *b, const char *body, size_t n)
{
	/* worst case: every byte escaped, plus a soft break per 24 bytes */
	char *out = cd_buf_space(b, n * 3 + (n / 24 + 2) * 3 + 2), *o = out;
	size_t col = 0;

	if (!out)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == '\n' || (c == '\r' && i + 1 < n && body[i + 1] == '\n')) {
			i += c == '\r';
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;
		}
		if (col > 72) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
		}
		/* most text is a run of plain bytes and inner blanks, copied up
		 * to where the line must break */
		if (col > 0 && col < 73 && i + 1 < n) {
			size_t stop = i + (73 - col) < n - 1 ? i + (73 - col) : n - 1, from = i;

			while (i < stop && (qp_plain(c) || (c == ' ' && body[i + 1] != '\n' &&
							     body[i + 1] != '\r')))
				c = (unsigned char)body[++i];
			memcpy(o, body + from, i - from);
			o += i - from;
			col += i - from;
		}
		if (c == '\n' || (c == '\r' && i + 1 < n && body[i + 1] == '\n')) {
			i--;
			continue;
		}
		if (col > 72) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
		}
		o = qp_byte(o, body, i, n, &col);
	}
	/* text without a final line break keeps none: a soft break ends it */
	if (col) {
		memcpy(o, "=\r\n", 3);
		o += 3;
	}
	cd_buf_commit(b, (size_t)(o - out));
}

/* Base64 of BODY in canonical form (CRLF line ends), 76 columns. */
static void put_base64(struct cd_buf *b, const char *body, size_t n)
{
	struct cd_buf crlf = { 0 };
	char *o = cd_buf_space(&crlf, n * 2);

	if (o) {
		char *start = o;

		for (size_t i = 0; i < n; i++) {
			if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
				*o++ = '\r';
			*o++ = body[i];
		}
		cd_buf_commit(&crlf, (size_t)(o - start));
	}
	if (crlf.oom)
		b->oom = 1;
	cd_rfc2047_base64_lines(b, (const unsigned char *)(crlf.data ? crlf.data : ""),
				crlf.len);
	cd_buf_free(&crlf);
}

/* Mostly ASCII (English, German, French, Spanish) reads best and is
 * smallest as quoted-printable; Cyrillic or CJK text, where nearly every
 * byte would be escaped three times over, goes as base64. */
static int wants_base64(const char *body, size_t n)
{
	size_t high = 0, i = 0;

	/* eight bytes at a time: the multiply adds up their top bits */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, body + i, 8);
		high += (size_t)((((w & 0x8080808080808080ULL) >> 7) * 0x0101010101010101ULL) >> 56);
	}
	for (; i < n; i++)
		high += (unsigned char)body[i] >= 0x80;
	return high * 6 > n;
}

static void add_part(struct cd_buf *b, const char *type, const char *body)
{
	size_t n = strlen(body);
	int b64 = wants_base64(body, n);

	cd_buf_printf(b, "Content-Type: %s; charset=UTF-8\r\n"
		      "Content-Transfer-Encoding: %s\r\n\r\n", type,
		      b64 ? "base64" : "quoted-printable");
	if (b64)
		put_base64(b, body, n);
	else
		put_qp(b, body, n);
}

static int check_addresses(const struct cd_mail *m, struct cd_error *err)
{
	const char *which = NULL;

	if (!cd_util_address_ok(m->from_addr))
		which = "sender";
	else if (!cd_util_address_ok(m->to_addr))
		which = "recipient";
	else if (m->reply_to && !cd_util_address_ok(m->reply_to))
		which = "Reply-To";
	else if (m->unsubscribe_mailto && !cd_util_address_ok(m->unsubscribe_mailto))
		which = "unsubscribe";
	if (which)
		return cd_error_set(err, CD_EINVAL, NULL, 0, "unusable %s address", which);
	return 0;
}

static void add_headers(struct cd_buf *b, const struct cd_mail *m)
{
	add_address(b, "From", m->from_name, m->from_addr);
	add_address(b, "To", m->to_name, m->to_addr);
	if (m->reply_to)
		cd_buf_printf(b, "Reply-To: <%s>\r\n", m->reply_to);
	cd_buf_adds(b, "Subject: ");
	cd_rfc2047_encode(b, m->subject, 9);
	cd_buf_adds(b, "\r\n");
	add_date(b, m->date);
	cd_buf_printf(b, "Message-ID: <%s>\r\n", m->message_id);
	cd_buf_adds(b, "MIME-Version: 1.0\r\n");
	/* RFC 3834: vacation responders must not answer this */
	cd_buf_adds(b, "Auto-Submitted: auto-generated\r\n");
	if (m->unsubscribe_mailto && m->unsubscribe_url) {
		cd_buf_printf(b, "List-Unsubscribe: <%s>,\r\n <mailto:%s>\r\n",
			      m->unsubscribe_url, m->unsubscribe_mailto);
		cd_buf_adds(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
	} else if (m->unsubscribe_mailto) {
		cd_buf_printf(b, "List-Unsubscribe: <mailto:%s>\r\n", m->unsubscribe_mailto);
	}
}

int cd_compose(const struct cd_mail *m, char **out, size_t *len,
	       struct cd_error *err)
{
	struct cd_buf b = { 0 };
	unsigned char rnd[12];
	char boundary[64], hex[25];
	int rc;

	*out = NULL;
	if ((rc = check_addresses(m, err)) < 0)
		return rc;
	if (m->unsubscribe_url && strpbrk(m->unsubscribe_url, "\r\n <>\""))
		return cd_error_set(err, CD_EINVAL, NULL, 0, "unusable unsubscribe URL");
	/* room for the whole mail at once (encoding adds about a tenth),
	 * rather than a realloc and copy at each doubling */
	cd_buf_space(&b, 2048 + (strlen(m->text) + (m->html ? strlen(m->html) : 0)) * 5 / 4);
	add_headers(&b, m);
	if (!m->html) {
		add_part(&b, "text/plain", m->text);
	} else {
		if (cd_util_random_id(rnd, sizeof(rnd)) < 0)
			memset(rnd, 0x5a, sizeof(rnd));
		cd_util_hex(rnd, sizeof(rnd), hex);
		/* "=_" cannot occur in base64 or quoted-printable output */
		snprintf(boundary, sizeof(boundary), "=_candor_%s", hex);
		cd_buf_printf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
			      boundary);
		cd_buf_printf(&b, "--%s\r\n", boundary);
		add_part(&b, "text/plain", m->text);
		/* the CRLF before a boundary belongs to the boundary (RFC 2046
		 * 5.1.1): one more keeps the part's own last line break */
		cd_buf_printf(&b, "\r\n--%s\r\n", boundary);
		add_part(&b, "text/html", m->html);
		cd_buf_printf(&b, "\r\n--%s--\r\n", boundary);
	}
	*len = b.len;
	*out = cd_buf_take(&b);
	if (!*out)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	return 0;
}
