/*
 * inmail.c - see inmail.h. libetpan parses the MIME tree and decodes
 * bodies; header fields are read straight from the text, which keeps
 * working when a bounce's headers are too broken for a strict parser.
 */
#include "config.h"

#include <ctype.h>
#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/buf.h"
#include "candor/error.h"
#include "candor/htmltext.h"
#include "candor/inmail.h"

#define MAX_DEPTH 16 /* nested multiparts a hostile mail may stack */

/* Length of the header block at S: up to and including the blank line. */
static size_t header_len(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < len && s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *cd_inmail_header(const char *block, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name), o = 0;
	const char *p = block;

	while (p && *p && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			/* the value and its continuation lines, joined */
			for (;;) {
				while (*p == ' ' || *p == '\t')
					p++;
				while (*p && *p != '\n' && *p != '\r') {
					if (o + 1 < len)
						out[o++] = *p;
					p++;
				}
				p += *p == '\r';
				p += *p == '\n';
				if (*p != ' ' && *p != '\t')
					break;
				if (o + 1 < len)
					out[o++] = ' ';
			}
			while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
				o--;
			out[len ? (o < len ? o : len - 1) : 0] = '\0';
			return len ? out : NULL;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

static int addr_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c);
}

char *cd_inmail_address(const char *value, char *out, size_t len)
{
	const char *at, *lt = strchr(value, '<'), *s, *e;
	size_t n;

	/* "Name <a@b>": the bracketed one; else the first word with an @ */
	at = lt && strchr(lt, '@') && strchr(lt, '>') ? strchr(lt, '@') : strchr(value, '@');
	if (!at || len == 0)
		return NULL;
	for (s = at; s > value && addr_char((unsigned char)s[-1]); s--)
		;
	for (e = at + 1; *e && (addr_char((unsigned char)*e) || *e == '[' || *e == ']'); e++)
		;
	while (e > at + 1 && e[-1] == '.')
		e--;
	n = (size_t)(e - s);
	if (s == at || e == at + 1 || n >= len)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return out;
}

/* ---- MIME ------------------------------------------------------------- */

static void type_name(const struct mailmime_content *ct, char *out, size_t len)
{
	const char *major = "application";
	const struct mailmime_type *t = ct ? ct->ct_type : NULL;

	if (!t) {
		snprintf(out, len, "text/plain");
		return;
	}
	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: major = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: major = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: major = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: major = "video"; break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			major = t->tp_data.tp_discrete_type->dt_extension;
			break;
		default: break;
		}
	} else {
		major = t->tp_data.tp_composite_type->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE
			? "message" : t->tp_data.tp_composite_type->ct_type ==
			  MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart"
			: t->tp_data.tp_composite_type->ct_token;
	}
	snprintf(out, len, "%s/%s", major ? major : "x", ct->ct_subtype ? ct->ct_subtype : "x");
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static const char *param(const struct mailmime_content *ct, const char *name)
{
	for (clistiter *it = ct && ct->ct_parameters ? clist_begin(ct->ct_parameters) : NULL; it;
	     it = clist_next(it)) {
		const struct mailmime_parameter *p = clist_content(it);

		if (p->pa_name && strcasecmp(p->pa_name, name) == 0)
			return p->pa_value;
	}
	return NULL;
}

/* Append S to B as valid UTF-8: a byte that starts no valid sequence
 * becomes '?', so what is stored and shown is always text. */
static void add_utf8(struct cd_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2
			 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
		size_t j = 1;

		while (k && j < k && i + j < n && ((unsigned char)s[i + j] & 0xC0) == 0x80)
			j++;
		if (k == 0 || j < k || c == 0) {
			cd_buf_addc(b, c == 0 ? ' ' : '?');
			i++;
			continue;
		}
		cd_buf_add(b, s + i, k);
		i += k;
	}
}

/* A single part's body with its transfer encoding undone and, for
 * text, its charset made UTF-8; appended to B. */
static void add_body(struct cd_buf *b, const struct mailmime *part, int text)
{
	const struct mailmime_data *d = part->mm_data.mm_single;
	const char *cs = text ? param(part->mm_content_type, "charset") : NULL;
	char *dec = NULL, *conv = NULL;
	size_t idx = 0, dlen = 0;

	if (!d || d->dt_type != MAILMIME_DATA_TEXT)
		return;
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, &idx,
				part->mm_mime_fields ? mailmime_transfer_encoding_get(part->mm_mime_fields)
				: MAILMIME_MECHANISM_8BIT, &dec,
				&dlen) != MAILIMF_NO_ERROR) {
		add_utf8(b, d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length);
		return;
	}
	if (cs && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "us-ascii") != 0 &&
	    charconv("utf-8", cs, dec, dlen, &conv) == MAIL_CHARCONV_NO_ERROR && conv)
		add_utf8(b, conv, strlen(conv));
	else
		add_utf8(b, dec, dlen);
	free(conv); /* charconv() mallocs; charconv_buffer_free is for charconv_buffer() */
	mmap_string_unref(dec);
	cd_buf_addc(b, '\n');
}

struct walk {
	struct cd_buf text, html, status, feedback;
	char *original;
	int oom;
};

static void keep_original(struct walk *w, const char *s, size_t n)
{
	if (!w->original && !(w->original = dup_n(s, header_len(s, n))))
		w->oom = 1;
}

static void walk(struct walk *w, const struct mailmime *m, int depth)
{
	char type[64];

	if (!m || depth > MAX_DEPTH)
		return;
	type_name(m->mm_content_type, type, sizeof(type));
	if (m->mm_type == MAILMIME_MULTIPLE) {
		for (clistiter *it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		     it = clist_next(it))
			walk(w, clist_content(it), depth + 1);
	} else if (m->mm_type == MAILMIME_MESSAGE) {
		/* a returned or quoted message: its headers say what it was;
		 * its text is not the sender's */
		if (depth > 0 && m->mm_body && m->mm_body->dt_type == MAILMIME_DATA_TEXT)
			keep_original(w, m->mm_body->dt_data.dt_text.dt_data,
				      m->mm_body->dt_data.dt_text.dt_length);
		if (depth == 0)
			walk(w, m->mm_data.mm_message.mm_msg_mime, depth + 1);
	} else if (strcmp(type, "message/delivery-status") == 0 ||
		   strcmp(type, "message/global-delivery-status") == 0) {
		add_body(&w->status, m, 0);
	} else if (strcmp(type, "message/feedback-report") == 0) {
		add_body(&w->feedback, m, 0);
	} else if (strcmp(type, "text/rfc822-headers") == 0 ||
		   strcmp(type, "message/rfc822-headers") == 0) {
		struct cd_buf h = { 0 };

		add_body(&h, m, 0);
		if (h.data)
			keep_original(w, h.data, h.len);
		cd_buf_free(&h);
	} else if (strcmp(type, "text/plain") == 0) {
		add_body(&w->text, m, 1);
	} else if (strcmp(type, "text/html") == 0) {
		add_body(&w->html, m, 1);
	}
}

/* A plain-text bounce (qmail, Exim, Yahoo, Gmail's old ones) returns the
 * message after a line like "--- Below this line is a copy of the
 * message." or "----- Original message -----": split there. */
static void split_inline_original(struct cd_inmail *m)
{
	static const char *const marks[] = {
		"copy of the message", "original message", "below this line",
		"message headers follow", "header of the original", "undelivered message",
		"returned message", "original headers",
	};

	for (char *line = m->text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (n < 8 || line[0] != '-' || line[1] != '-')
			continue;
		for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
			char *hit = strcasestr(line, marks[k]);

			if (hit && hit < line + n) {
				char *rest = end ? end + 1 : line + n;

				while (*rest == '\n' || *rest == '\r')
					rest++;
				if (!m->original)
					m->original = dup_n(rest, header_len(rest, strlen(rest)));
				*line = '\0';
				return;
			}
		}
	}
}

static char *decode_subject(const char *headers)
{
	char raw[1024], *out = NULL;
	size_t idx = 0;

	if (!cd_inmail_header(headers, "Subject", raw, sizeof(raw)))
		return strdup("");
	if (mailmime_encoded_phrase_parse("utf-8", raw, strlen(raw), &idx, "utf-8", &out) !=
	    MAILIMF_NO_ERROR || !out)
		return strdup(raw);
	/* libetpan's allocation; ours to hand on must be malloc'd */
	char *copy = strdup(out);

	free(out);
	return copy;
}

static void top_type(struct cd_inmail *m)
{
	char ct[512], *semi, *rt;

	if (!cd_inmail_header(m->headers, "Content-Type", ct, sizeof(ct)))
		return;
	if ((rt = strcasestr(ct, "report-type=")) != NULL) {
		rt += 12;
		rt += *rt == '"';
		snprintf(m->report, sizeof(m->report), "%.*s", (int)strcspn(rt, "\"; \t"), rt);
	}
	if ((semi = strchr(ct, ';')) != NULL)
		*semi = '\0';
	snprintf(m->type, sizeof(m->type), "%.63s", ct);
	for (char *p = m->type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (char *p = m->report; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

int cd_inmail_parse(const char *raw, size_t len, struct cd_inmail *m)
{
	struct walk w = { 0 };
	struct mailmime *mime = NULL;
	size_t hlen = header_len(raw, len), idx = 0;

	memset(m, 0, sizeof(*m));
	/* an mbox "From " line (a saved mail) is no header */
	if (len > 5 && strncmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);
		size_t skip = nl ? (size_t)(nl - raw) + 1 : len;

		raw += skip;
		len -= skip;
		hlen = header_len(raw, len);
	}
	if (!(m->headers = dup_n(raw, hlen)) || !(m->subject = decode_subject(m->headers)))
		goto oom;
	top_type(m);
	if (mailmime_parse(raw, len, &idx, &mime) == MAILIMF_NO_ERROR)
		walk(&w, mime, 0);
	if (mime)
		mailmime_free(mime);
	if (w.text.oom || w.html.oom || w.status.oom || w.feedback.oom || w.oom)
		goto oom_walk;
	if (w.text.len)
		m->text = cd_buf_take(&w.text);
	else if (w.html.len)
		m->text = cd_html_text(w.html.data, w.html.len);
	else if (!m->type[0] || strncmp(m->type, "text/", 5) == 0 || !mime) {
		/* no MIME, or MIME too broken to walk: the body as text */
		add_utf8(&w.text, raw + hlen, len - hlen);
		m->text = w.text.oom ? NULL : cd_buf_take(&w.text);
	} else {
		m->text = strdup("");
	}
	if (!m->text)
		goto oom_walk;
	m->status = w.status.len ? cd_buf_take(&w.status) : NULL;
	m->feedback = w.feedback.len ? cd_buf_take(&w.feedback) : NULL;
	m->original = w.original;
	w.original = NULL;
	split_inline_original(m);
	cd_buf_free(&w.text);
	cd_buf_free(&w.html);
	cd_buf_free(&w.status);
	cd_buf_free(&w.feedback);
	return 0;
oom_walk:
	free(w.original);
	cd_buf_free(&w.text);
	cd_buf_free(&w.html);
	cd_buf_free(&w.status);
	cd_buf_free(&w.feedback);
oom:
	cd_inmail_free(m);
	return CD_ENOMEM;
}

void cd_inmail_free(struct cd_inmail *m)
{
	free(m->headers);
	free(m->subject);
	free(m->text);
	free(m->status);
	free(m->feedback);
	free(m->original);
	memset(m, 0, sizeof(*m));
}
