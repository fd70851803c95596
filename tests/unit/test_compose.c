/* test_compose.c - composed mail parsed back with libetpan: headers are
 * right, hostile values cannot add or break a header, bodies decode. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <libetpan/libetpan.h>

#include "candor/buf.h"
#include "candor/compose.h"
#include "candor/rfc2047.h"

static struct cd_mail base(void)
{
	struct cd_mail m = {
		.from_name = "Tea House", .from_addr = "feedback@tea.example",
		.to_name = "Anna Schmidt", .to_addr = "anna@example.org",
		.reply_to = "feedback+tok@tea.example",
		.subject = "How was your tea?", .text = "Hello Anna,\nhow was it?\n",
		.html = "<p>Hello Anna</p>", .message_id = "abc.tok@tea.example",
		.unsubscribe_mailto = "feedback+u-tok@tea.example", .date = 1700000000,
	};
	return m;
}

/* noinline: GCC 12 otherwise warns of a dangling pointer it imagines */
__attribute__((noinline)) static char *compose(const struct cd_mail *m, size_t *len)
{
	struct cd_error err;
	char *out = NULL;

	assert_int_equal(cd_compose(m, &out, len, &err), 0);
	return out;
}

/* Decode an unstructured header value with libetpan's RFC 2047 parser. */
static char *decode(const char *value)
{
	size_t idx = 0;
	char *out = NULL;

	assert_int_equal(mailmime_encoded_phrase_parse("us-ascii", value, strlen(value), &idx,
						       "utf-8", &out), MAILIMF_NO_ERROR);
	return out;
}

/* The value of the optional (non-RFC 5322 core) header NAME, or NULL;
 * *COUNT is how many header fields the message has in all. */
static struct mailimf_message *parse(const char *data, size_t len)
{
	struct mailimf_message *msg = NULL;
	size_t idx = 0;

	assert_int_equal(mailimf_message_parse(data, len, &idx, &msg), MAILIMF_NO_ERROR);
	return msg;
}

static int count_fields(struct mailimf_message *msg, const char *name)
{
	int n = 0;

	for (clistiter *it = clist_begin(msg->msg_fields->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);

		if (!name)
			n++;
		else if (f->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
			 strcasecmp(f->fld_data.fld_optional_field->fld_name, name) == 0)
			n++;
	}
	return n;
}

static char *subject_of(struct mailimf_message *msg)
{
	for (clistiter *it = clist_begin(msg->msg_fields->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);

		if (f->fld_type == MAILIMF_FIELD_SUBJECT)
			return decode(f->fld_data.fld_subject->sbj_value);
	}
	return NULL;
}

static void test_headers_present(void **state)
{
	struct cd_mail m = base();
	size_t len;
	char *out = compose(&m, &len);
	struct mailimf_message *msg = parse(out, len);

	(void)state;
	assert_int_equal(count_fields(msg, "Auto-Submitted"), 1);
	assert_int_equal(count_fields(msg, "List-Unsubscribe"), 1);
	assert_int_equal(count_fields(msg, "MIME-Version"), 1);
	assert_non_null(strstr(out, "Message-ID: <abc.tok@tea.example>\r\n"));
	assert_non_null(strstr(out, "Reply-To: <feedback+tok@tea.example>\r\n"));
	assert_non_null(strstr(out, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(out, "multipart/alternative"));
	mailimf_message_free(msg);
	free(out);
}

static void test_crlf_in_values_cannot_add_headers(void **state)
{
	struct cd_mail m = base();
	size_t len;
	char *out, *subj;
	struct mailimf_message *msg;
	int before;

	(void)state;
	out = compose(&m, &len);
	msg = parse(out, len);
	before = count_fields(msg, NULL);
	mailimf_message_free(msg);
	free(out);

	m.to_name = "Eve\r\nBcc: victim@example.org";
	m.subject = "Hi\r\nX-Injected: yes\nContent-Type: text/html";
	m.from_name = "Shop\rX-Evil: 1";
	out = compose(&m, &len);
	msg = parse(out, len);
	assert_int_equal(count_fields(msg, NULL), before);
	assert_int_equal(count_fields(msg, "X-Injected"), 0);
	assert_int_equal(count_fields(msg, "X-Evil"), 0);
	assert_null(strstr(out, "\r\nBcc:"));
	assert_null(strstr(out, "\nX-Injected"));
	subj = subject_of(msg);
	/* the would-be headers are now words of the subject */
	assert_true(strncmp(subj, "Hi", 2) == 0);
	assert_non_null(strstr(subj, "X-Injected: yes"));
	free(subj);
	mailimf_message_free(msg);
	free(out);
}

static void test_bad_addresses_are_refused(void **state)
{
	const char *bad[] = { "a@b\r\nBcc: x@y", "no-at-sign", "a@", "@b.example",
			      "a b@c.example", "<a@b.example>", "a@b@c.example", "" };
	struct cd_error err;
	char *out;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cd_mail m = base();

		m.to_addr = bad[i];
		assert_int_equal(cd_compose(&m, &out, &len, &err), CD_EINVAL);
		assert_non_null(strstr(err.msg, "recipient"));
	}
}

/* RFC 5322: header lines should stay within 78 characters. */
static void assert_header_lines_fit(const char *mail)
{
	size_t head = (size_t)(strstr(mail, "\r\n\r\n") - mail), start = 0;

	for (size_t i = 0; i <= head; i++) {
		if (mail[i] == '\r') {
			assert_true(i - start <= 78);
			start = i + 2;
		}
	}
}

static void test_unicode_subject_round_trips(void **state)
{
	const char *subjects[] = {
		"您的订单 1002 怎么样？",
		"Как вам заказ? Ваше мнение важно — спасибо!",
		"🍵 Tea time 🍵 with an emoji subject that is long enough to need several encoded words",
		"مرحبا بالعالم RTL ‏text",
		"Grüße aus München",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		struct cd_mail m = base();
		size_t len;
		char *out, *subj;
		struct mailimf_message *msg;

		m.subject = subjects[i];
		m.to_name = subjects[i];
		out = compose(&m, &len);
		assert_header_lines_fit(out);
		msg = parse(out, len);
		subj = subject_of(msg);
		assert_string_equal(subj, subjects[i]);
		free(subj);
		mailimf_message_free(msg);
		free(out);
	}
}

/* The body of single part PART decoded by libetpan the way its own
 * Content-Transfer-Encoding says. */
static char *decode_part(struct mailmime *part, size_t *dlen, int *mechanism)
{
	struct mailmime_data *d = part->mm_data.mm_single;
	size_t idx = 0;
	char *dec = NULL;

	*mechanism = mailmime_transfer_encoding_get(part->mm_mime_fields);
	assert_int_equal(mailmime_part_parse(d->dt_data.dt_text.dt_data,
					     d->dt_data.dt_text.dt_length, &idx, *mechanism,
					     &dec, dlen), MAILIMF_NO_ERROR);
	return dec;
}

/* No line of the message is longer than 78 characters plus CRLF. */
static void assert_lines_fit(const char *out)
{
	for (const char *line = out; *line;) {
		const char *end = strstr(line, "\r\n");

		assert_non_null(end);
		if (end - line > 78)
			fail_msg("line of %d characters: %.40s...", (int)(end - line), line);
		line = end + 2;
	}
}

static void expect_body(const char *text, int want_mechanism)
{
	struct cd_mail m = base();
	struct mailmime *mime = NULL, *part;
	struct cd_buf want = { 0 };
	size_t len, idx = 0, dlen = 0;
	char *out, *dec;
	int mech;

	m.html = NULL;
	m.text = text;
	out = compose(&m, &len);
	assert_lines_fit(out);
	for (const char *p = text; *p; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			cd_buf_addc(&want, '\r');
		cd_buf_addc(&want, *p);
	}
	assert_int_equal(mailmime_parse(out, len, &idx, &mime), MAILIMF_NO_ERROR);
	part = mime->mm_data.mm_message.mm_msg_mime;
	assert_non_null(part);
	assert_int_equal(part->mm_type, MAILMIME_SINGLE);
	dec = decode_part(part, &dlen, &mech);
	if (want_mechanism >= 0)
		assert_int_equal(mech, want_mechanism);
	if (dlen != want.len || memcmp(dec, want.data, dlen) != 0)
		fprintf(stderr, "body %zu bytes %s, decoded %zu:\n[%s]\n---\n[%.*s]\n---\n%s",
			 want.len, mech == MAILMIME_MECHANISM_BASE64 ? "base64" : "qp", dlen,
			 want.data, (int)dlen, dec, out), fail();
	assert_memory_equal(dec, want.data, dlen);
	mailmime_decoded_part_free(dec);
	mailmime_free(mime);
	cd_buf_free(&want);
	free(out);
}

static void test_body_decodes_to_text(void **state)
{
	char longline[2000] = "";

	(void)state;
	/* mostly ASCII: quoted-printable, with the tricky lines */
	expect_body("Hello\n--=_candor_x\n.\nFrom here\ntrailing  \n= sign\tend\t\nGrüße\n",
		    MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	for (int i = 0; i < 150; i++)
		strcat(longline, "abcdefghij=");
	strcat(longline, " \n");
	expect_body(longline, MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	/* CJK and Cyrillic: base64 */
	expect_body("您好，您的订单怎么样？\n", MAILMIME_MECHANISM_BASE64);
	expect_body("Здравствуйте, Анна!\r\nКак вам заказ?\n", MAILMIME_MECHANISM_BASE64);
}

/* Bodies made of the pieces that trip encoders, in random order and
 * lengths, each decoded back by libetpan to the same bytes. */
static void test_random_bodies_round_trip(void **state)
{
	static const char *const pieces[] = {
		" ", "\t", "\n", "\r\n", "=", ".", "From ", "F", "abc", "é", "漢字",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "=?UTF-8?B?", "--=_candor_",
	};
	unsigned seed = 12345;
	char body[4096];

	(void)state;
	for (int round = 0; round < 500; round++) {
		size_t len = 0;
		int count;

		seed = seed * 1103515245u + 12345u;
		count = (int)(seed >> 16) % 200;
		for (int i = 0; i < count; i++) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			if (len + strlen(p) + 1 >= sizeof(body))
				break;
			memcpy(body + len, p, strlen(p));
			len += strlen(p);
		}
		/* a lone CR is not text; the composer's input never has one */
		body[len] = '\0';
		if (len == 0)
			continue;
		expect_body(body, -1);
	}
}

static void test_multipart_alternative_round_trips(void **state)
{
	struct cd_mail m = base();
	struct mailmime *mime = NULL, *alt;
	size_t len, idx = 0, dlen;
	const char *want[] = { "Hello Anna,\r\nhow was it?\r\n", "<p>Hello Anna</p>\r\n" };
	const char *types[] = { "plain", "html" };
	clistiter *it;
	char *out, *dec;
	int mech, i = 0;

	(void)state;
	m.html = "<p>Hello Anna</p>\n";
	out = compose(&m, &len);
	assert_lines_fit(out);
	assert_int_equal(mailmime_parse(out, len, &idx, &mime), MAILIMF_NO_ERROR);
	alt = mime->mm_data.mm_message.mm_msg_mime;
	assert_int_equal(alt->mm_type, MAILMIME_MULTIPLE);
	assert_string_equal(alt->mm_content_type->ct_subtype, "alternative");
	for (it = clist_begin(alt->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it), i++) {
		struct mailmime *part = clist_content(it);

		assert_true(i < 2);
		assert_string_equal(part->mm_content_type->ct_subtype, types[i]);
		dec = decode_part(part, &dlen, &mech);
		assert_int_equal(dlen, strlen(want[i]));
		assert_memory_equal(dec, want[i], dlen);
		mailmime_decoded_part_free(dec);
	}
	assert_int_equal(i, 2);
	mailmime_free(mime);
	free(out);
}

static void test_one_click_unsubscribe(void **state)
{
	struct cd_mail m = base();
	struct cd_error err;
	size_t len;
	char *out;

	(void)state;
	m.unsubscribe_url = "https://tea.example/unsubscribe?t=abc";
	out = compose(&m, &len);
	assert_non_null(strstr(out, "List-Unsubscribe: <https://tea.example/unsubscribe?t=abc>,\r\n"
				    " <mailto:feedback+u-tok@tea.example>\r\n"));
	assert_non_null(strstr(out, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
	free(out);
	m.unsubscribe_url = "https://tea.example/u?t=a>\r\nBcc: x@evil.example";
	assert_int_equal(cd_compose(&m, &out, &len, &err), CD_EINVAL);
	/* without a URL there is no one-click header (RFC 8058 needs https) */
	m = base();
	out = compose(&m, &len);
	assert_null(strstr(out, "List-Unsubscribe-Post"));
	free(out);
}

static void test_encoded_words_never_split_characters(void **state)
{
	struct cd_buf b = { 0 };
	char text[400] = "";

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(text, "é漢");
	cd_rfc2047_encode(&b, text, 9);
	/* each word at most 75 characters */
	for (char *w = strstr(b.data, "=?"); w; w = strstr(w + 2, "=?")) {
		char *end = strstr(w, "?=\r\n");

		if (!end)
			end = w + strlen(w) - 2;
		assert_true(end + 2 - w <= 75);
	}
	{
		char *dec = decode(b.data);

		assert_string_equal(dec, text);
		free(dec);
	}
	cd_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_present),
		cmocka_unit_test(test_crlf_in_values_cannot_add_headers),
		cmocka_unit_test(test_bad_addresses_are_refused),
		cmocka_unit_test(test_unicode_subject_round_trips),
		cmocka_unit_test(test_body_decodes_to_text),
		cmocka_unit_test(test_random_bodies_round_trip),
		cmocka_unit_test(test_multipart_alternative_round_trips),
		cmocka_unit_test(test_one_click_unsubscribe),
		cmocka_unit_test(test_encoded_words_never_split_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
