/* test_message.c - the mail prepared for a due order, with the shipped
 * templates and compliance packs: the per-message token in Reply-To, the
 * unsubscribe address and one-click URL (and their List-Unsubscribe
 * headers), the locale's set or its fallback, a reminder in its
 * request's variant and with a token of its own, a decided winner for
 * new orders, a compliance finding that holds the mail (but not the
 * customer's own words quoted back), and customer values with CR, LF or
 * HTML that can add no header and no markup. */
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

#include "candor/config.h"
#include "candor/due.h"
#include "candor/experiment.h"
#include "candor/log.h"
#include "candor/message.h"
#include "candor/template.h"

#define NOW 1790500000LL
#define TOKEN_LEN 32

static char dir[64];
static struct cd_config *cfg;
static struct cd_templates *tpl;
static const unsigned char secret[32] = "test secret, not a real one....";

/* Three channels: the shop's own site (one-click unsubscribe page from
 * shop.unsubscribe_url), a marketplace that wants no page of ours
 * (unsubscribe_url "", Amazon's links only), and a phone channel that
 * sets no links at all. */
static const char conf_fmt[] =
	"database = \"%s/unused.db\";\n"
	"templates = \"%s/templates\";\n"
	"packs = \"%s/etc/packs\";\n"
	"shop = { name = \"Tea House\"; domain = \"tea.example\"; from = \"feedback@tea.example\";\n"
	"  support = \"help@tea.example\"; footer = \"Tea House Ltd, 1 Leaf Lane, Leeds\";\n"
	"  unsubscribe_url = \"https://tea.example/unsubscribe?t={token}&o={order}\"; };\n"
	"channels = (\n"
	"  { name = \"web\"; feedback_url = \"https://tea.example/review?order={order}\";\n"
	"    review_url = \"https://tea.example/p/{product}/review\"; },\n"
	"  { name = \"amazon\"; feedback_url = \"https://www.amazon.de/fb?o={order}\";\n"
	"    review_url = \"\"; unsubscribe_url = \"\"; },\n"
	"  { name = \"phone\"; feedback_url = \"\"; review_url = \"\"; }\n"
	");\n"
	"campaigns = (\n"
	"  { name = \"review\"; trigger = \"delivered\"; reminder = \"5d\";\n"
	"    reminder_template = \"review_reminder\";\n"
	"    variants = ( { name = \"A\"; template = \"review_request\"; },\n"
	"                 { name = \"B\"; template = \"review_request\"; } ); },\n"
	"  { name = \"apology\"; trigger = \"negative_feedback\"; delay = \"0s\";\n"
	"    variants = ( { name = \"A\"; template = \"apology\"; } ); }\n"
	");\n";

static int setup(void **state)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char abstop[4096], path[128];
	struct cd_errors errs = { 0 };
	FILE *fp;
	int rc;

	(void)state;
	cd_log_init("test_message", CD_LOG_STDERR, CD_LOG_ERR);
	if (!realpath(top, abstop))
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-message-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	if (!(fp = fopen(path, "w")))
		return -1;
	fprintf(fp, conf_fmt, dir, abstop, abstop);
	fclose(fp);
	rc = cd_config_load(path, &cfg, &errs);
	for (size_t i = 0; i < errs.count; i++)
		print_message("# config: %s\n", errs.items[i].msg);
	cd_errors_clear(&errs);
	if (rc < 0)
		return -1;
	rc = cd_templates_load(cfg, &tpl, &errs);
	for (size_t i = 0; i < errs.count; i++)
		print_message("# templates: %s:%d: %s\n", errs.items[i].file, errs.items[i].line,
			      errs.items[i].msg);
	cd_errors_clear(&errs);
	return rc;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cd_templates_free(tpl);
	cd_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const struct cd_campaign *campaign(const char *name)
{
	const struct cd_campaign *cp = cd_config_campaign(cfg, name);

	assert_non_null(cp);
	return cp;
}

static struct cd_due_order order(const char *id)
{
	struct cd_due_order o = { .order = {
		.id = id, .channel = "web", .first_name = "Anna", .name = "Anna Schmidt",
		.email = "anna@example.org", .locale = "en-GB", .country = "GB",
		.items = "[{\"name\":\"Sencha 100 g\",\"quantity\":2,\"sku\":\"SEN-100\"}]",
		.total = "12.50", .currency = "GBP", .purchased = 1789000000,
	} };
	return o;
}

/* Prepare O for campaign CP as kind K; the caller clears P. */
static void prepare(struct cd_message *p, const char *cp, enum cd_due_kind k,
		    const struct cd_due_order *o)
{
	memset(p, 0, sizeof(*p));
	p->kind = k;
	assert_int_equal(cd_message_prepare(p, cfg, tpl, secret, NOW, campaign(cp), o), 0);
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return s[n] == '\0';
}

/* The header block of P's mail (up to the blank line), NUL-terminated. */
static char *headers_of(const struct cd_message *p)
{
	const char *end = strstr(p->mail, "\r\n\r\n");
	char *h;

	assert_non_null(end);
	h = strndup(p->mail, (size_t)(end - p->mail) + 2);
	assert_non_null(h);
	return h;
}

/* How many header fields named NAME the mail has (libetpan's parse), or
 * every field when NAME is NULL. */
static int count_fields(const struct cd_message *p, const char *name)
{
	struct mailimf_fields *f = NULL;
	size_t idx = 0;
	int n = 0;

	assert_int_equal(mailimf_fields_parse(p->mail, p->len, &idx, &f), MAILIMF_NO_ERROR);
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fld = clist_content(it);
		const char *fname = NULL;

		switch (fld->fld_type) {
		case MAILIMF_FIELD_FROM: fname = "From"; break;
		case MAILIMF_FIELD_TO: fname = "To"; break;
		case MAILIMF_FIELD_CC: fname = "Cc"; break;
		case MAILIMF_FIELD_BCC: fname = "Bcc"; break;
		case MAILIMF_FIELD_REPLY_TO: fname = "Reply-To"; break;
		case MAILIMF_FIELD_SUBJECT: fname = "Subject"; break;
		case MAILIMF_FIELD_MESSAGE_ID: fname = "Message-ID"; break;
		case MAILIMF_FIELD_ORIG_DATE: fname = "Date"; break;
		case MAILIMF_FIELD_OPTIONAL_FIELD: fname = fld->fld_data.fld_optional_field->fld_name; break;
		default: fname = "?"; break;
		}
		if (!name || strcasecmp(fname, name) == 0)
			n++;
	}
	mailimf_fields_free(f);
	return n;
}

/* ---- token, Reply-To, Message-ID ----------------------------------------- */

static void test_token_names_the_reply_address_and_message_id(void **state)
{
	struct cd_due_order o = order("T-1001");
	struct cd_message p;
	char want[128], *h;

	(void)state;
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(p.reason, "");
	assert_true(is_hex(p.token, TOKEN_LEN));
	snprintf(want, sizeof(want), "feedback+%s@tea.example", p.token);
	assert_string_equal(p.reply_to, want);
	snprintf(want, sizeof(want), "feedback+u-%s@tea.example", p.token);
	assert_string_equal(p.unsub, want);
	snprintf(want, sizeof(want), "mailto:feedback+u-%s@tea.example", p.token);
	assert_string_equal(p.unsub_uri, want);
	/* the Message-ID carries the token too, so a bounce that quotes only
	 * the headers still finds its order */
	snprintf(want, sizeof(want), ".%s@tea.example", p.token);
	assert_true(strlen(p.msgid) > strlen(want));
	assert_string_equal(p.msgid + strlen(p.msgid) - strlen(want), want);
	h = headers_of(&p);
	snprintf(want, sizeof(want), "\r\nReply-To: <feedback+%s@tea.example>\r\n", p.token);
	assert_non_null(strstr(h, want));
	snprintf(want, sizeof(want), "\r\nMessage-ID: <%s>\r\n", p.msgid);
	assert_non_null(strstr(h, want));
	assert_non_null(strstr(h, "\r\nTo: \"Anna Schmidt\" <anna@example.org>\r\n"));
	assert_non_null(strstr(h, "From: \"Tea House\" <feedback@tea.example>\r\n"));
	assert_non_null(strstr(h, "\r\nDate: Sun, 27 Sep 2026 09:06:40 +0000\r\n"));
	free(h);
	cd_message_clear(&p);
}

/* The token is the order's: the same order, campaign and kind always get
 * the same one (a re-prepared mail still matches its replies), while any
 * other order, campaign, kind or secret gets another. Message-IDs are
 * new each time. */
static void test_token_is_stable_per_order_and_unguessable_across(void **state)
{
	struct cd_due_order o = order("T-1002"), other = order("T-1003");
	static const unsigned char secret2[32] = "another secret, not a real one.";
	struct cd_message a, b;
	char first[33], msgid[128];

	(void)state;
	prepare(&a, "review", CD_DUE_REQUEST, &o);
	snprintf(first, sizeof(first), "%s", a.token);
	snprintf(msgid, sizeof(msgid), "%s", a.msgid);
	cd_message_clear(&a);
	prepare(&a, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(a.token, first);
	assert_string_not_equal(a.msgid, msgid);
	cd_message_clear(&a);

	prepare(&b, "review", CD_DUE_REQUEST, &other);
	assert_string_not_equal(b.token, first);
	cd_message_clear(&b);
	prepare(&b, "apology", CD_DUE_REQUEST, &o);
	assert_string_not_equal(b.token, first);
	cd_message_clear(&b);
	/* a reminder is a message of its own: the store keeps tokens unique */
	o.variant = "A";
	prepare(&b, "review", CD_DUE_REMINDER, &o);
	assert_string_not_equal(b.token, first);
	cd_message_clear(&b);
	o.variant = NULL;
	memset(&b, 0, sizeof(b));
	b.kind = CD_DUE_REQUEST;
	assert_int_equal(cd_message_prepare(&b, cfg, tpl, secret2, NOW, campaign("review"), &o), 0);
	assert_string_not_equal(b.token, first);
	cd_message_clear(&b);
}

/* ---- unsubscribing -------------------------------------------------------- */

static void test_one_click_url_carries_token_and_headers(void **state)
{
	struct cd_due_order o = order("W/7&x=1");
	struct cd_message p;
	char want[256], *h;

	(void)state;
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(p.reason, "");
	/* the token as given, the order id percent-encoded: no parameter of
	 * the shop's page can be added by an order number */
	snprintf(want, sizeof(want), "https://tea.example/unsubscribe?t=%s&o=W%%2F7%%26x%%3D1", p.token);
	assert_non_null(p.unsub_url);
	assert_string_equal(p.unsub_url, want);
	h = headers_of(&p);
	/* RFC 8058: the https URL first, the mailto beside it, and the POST
	 * marker that makes it one click */
	snprintf(want, sizeof(want), "\r\nList-Unsubscribe: <%s>,\r\n <mailto:feedback+u-%s@tea.example>\r\n",
		 p.unsub_url, p.token);
	assert_non_null(strstr(h, want));
	assert_non_null(strstr(h, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
	assert_int_equal(count_fields(&p, "List-Unsubscribe"), 1);
	free(h);
	/* the footer's link is the same page */
	assert_non_null(strstr(p.parts.text, p.unsub_url));
	assert_non_null(strstr(p.parts.text, "order W/7&x=1"));
	cd_message_clear(&p);
}

/* A channel that sets unsubscribe_url = "" gets no page of ours: the
 * mailto address only, and no one-click marker (which would promise a
 * POST target that does not exist). */
static void test_channel_without_page_unsubscribes_by_mail(void **state)
{
	struct cd_due_order o = order("A-2001");
	struct cd_message p;
	char want[256], *h;

	(void)state;
	o.order.channel = "amazon";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(p.reason, "");
	assert_null(p.unsub_url);
	h = headers_of(&p);
	snprintf(want, sizeof(want), "\r\nList-Unsubscribe: <mailto:feedback+u-%s@tea.example>\r\n",
		 p.token);
	assert_non_null(strstr(h, want));
	assert_null(strstr(h, "List-Unsubscribe-Post"));
	assert_null(strstr(p.mail, "tea.example/unsubscribe"));
	free(h);
	snprintf(want, sizeof(want), "mailto:feedback+u-%s@tea.example", p.token);
	assert_non_null(strstr(p.parts.text, want));
	assert_non_null(strstr(p.parts.text, "https://www.amazon.de/fb?o=A-2001"));
	cd_message_clear(&p);
}

/* ---- locale ---------------------------------------------------------------- */

static void test_locale_falls_back_to_language_then_default(void **state)
{
	static const struct { const char *asked, *used, *subject_start; } cases[] = {
		{ "de-AT", "de", "Wie ist Ihre Bestellung L-1 bei Tea House" },
		{ "de", "de", "Wie ist Ihre Bestellung L-1" },
		{ "zh-Hant-TW", "zh-Hant", NULL },
		{ "pt-BR", "pt", "Como foi o seu pedido L-1 da Tea House?" },
		{ "ko-KR", "default", "How did your order L-1 from Tea House work out?" },
		{ NULL, "default", "How did your order L-1" },
		{ "", "default", "How did your order L-1" },
	};
	struct cd_due_order o = order("L-1");
	struct cd_message p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o.order.locale = cases[i].asked;
		prepare(&p, "review", CD_DUE_REQUEST, &o);
		if (strcmp(p.parts.locale, cases[i].used) != 0)
			fail_msg("locale \"%s\": rendered \"%s\", not \"%s\"",
				 cases[i].asked ? cases[i].asked : "(null)", p.parts.locale, cases[i].used);
		assert_string_equal(p.reason, "");
		if (cases[i].subject_start)
			assert_memory_equal(p.parts.subject, cases[i].subject_start,
					    strlen(cases[i].subject_start));
		cd_message_clear(&p);
	}
}

/* ---- variants --------------------------------------------------------------- */

/* An order id whose hash picks variant WANT for CP. */
static const char *order_in_arm(const struct cd_campaign *cp, const char *want, char *buf,
				size_t len)
{
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, len, "V-%d", i);
		if (strcmp(cd_experiment_variant(cp, buf)->name, want) == 0)
			return buf;
	}
	fail_msg("no order id falls in arm %s", want);
	return NULL;
}

static void test_reminder_keeps_request_variant_and_uses_its_template(void **state)
{
	const struct cd_campaign *cp = campaign("review");
	char id[32];
	struct cd_due_order o = order(order_in_arm(cp, "A", id, sizeof(id)));
	struct cd_message p;

	(void)state;
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(p.v->name, "A");
	assert_string_equal(p.template, "review_request");
	cd_message_clear(&p);
	/* the request went out as B (the weights may have changed since):
	 * the reminder stays in B, whatever the hash says now */
	o.variant = "B";
	prepare(&p, "review", CD_DUE_REMINDER, &o);
	assert_string_equal(p.v->name, "B");
	assert_string_equal(p.template, "review_reminder");
	assert_string_equal(p.reason, "");
	assert_memory_equal(p.parts.subject, "A short question about your order", 33);
	cd_message_clear(&p);
	/* a variant removed from the config since: back to the hash */
	o.variant = "Z";
	prepare(&p, "review", CD_DUE_REMINDER, &o);
	assert_string_equal(p.v->name, "A");
	cd_message_clear(&p);
}

static void test_winner_takes_new_orders_but_not_reminders(void **state)
{
	const struct cd_campaign *cp = campaign("review");
	char id[32];
	struct cd_due_order o = order(order_in_arm(cp, "A", id, sizeof(id)));
	struct cd_message p = { .kind = CD_DUE_REQUEST, .winner = "B" };

	(void)state;
	assert_int_equal(cd_message_prepare(&p, cfg, tpl, secret, NOW, cp, &o), 0);
	assert_string_equal(p.v->name, "B");
	cd_message_clear(&p);
	/* a reminder of a request sent as A before the decision stays A */
	o.variant = "A";
	p = (struct cd_message){ .kind = CD_DUE_REMINDER, .winner = "B" };
	assert_int_equal(cd_message_prepare(&p, cfg, tpl, secret, NOW, cp, &o), 0);
	assert_string_equal(p.v->name, "A");
	cd_message_clear(&p);
}

/* ---- compliance -------------------------------------------------------------- */

/* The shop's own data is the shop's wording: a product name that buys
 * reviews holds the mail, with the finding as the reason, and the mail
 * is still composed so a preview shows what was refused. An Amazon
 * order is held for Amazon's rules too (here: marketing). */
static void test_compliance_error_holds_the_mail(void **state)
{
	struct cd_due_order o = order("C-3001");
	struct cd_message p;

	(void)state;
	o.order.items = "[{\"name\":\"Sencha - a free gift card for every 5-star review\","
			"\"quantity\":1}]";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	if (strncmp(p.reason, "compliance: generic.", 20) != 0)
		fail_msg("not held for the generic pack: \"%s\"", p.reason);
	assert_true(p.findings > 0);
	assert_non_null(p.mail);
	cd_message_clear(&p);

	o.order.items = "[{\"name\":\"Sencha - visit our website for more teas\",\"quantity\":1}]";
	o.order.channel = "amazon";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	if (strncmp(p.reason, "compliance: amazon.marketing", 28) != 0)
		fail_msg("an Amazon order not held for marketing: \"%s\"", p.reason);
	assert_non_null(p.mail);
	cd_message_clear(&p);
}

/* An apology quotes the customer's complaint back; her words ("refund",
 * "5 stars") are hers, not an offer of ours, and hold nothing. */
static void test_customer_quote_is_not_the_shops_wording(void **state)
{
	struct cd_due_order o = order("F-4001");
	struct cd_message p;

	(void)state;
	o.rating = 1;
	o.comment = "Tin arrived dented. I want a refund or a free replacement, this is not 5 stars";
	prepare(&p, "apology", CD_DUE_REQUEST, &o);
	assert_string_equal(p.reason, "");
	assert_non_null(strstr(p.parts.text, "I want a refund or a free replacement"));
	assert_non_null(strstr(p.parts.text, "arrived late or damaged"));
	cd_message_clear(&p);
}

/* ---- hostile customer values -------------------------------------------------- */

static void test_crlf_in_customer_values_adds_no_header(void **state)
{
	struct cd_due_order o = order("H-5001");
	struct cd_message p;
	char *h;
	int fields;

	(void)state;
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	fields = count_fields(&p, NULL);
	cd_message_clear(&p);

	o.order.name = "Eve\r\nBcc: victim@example.net";
	o.order.first_name = "Eve\nX-Injected: 1";
	o.order.id = "H-5002\r\nCc: victim@example.net";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_non_null(p.mail);
	assert_int_equal(count_fields(&p, NULL), fields);
	assert_int_equal(count_fields(&p, "Bcc"), 0);
	assert_int_equal(count_fields(&p, "Cc"), 0);
	assert_int_equal(count_fields(&p, "X-Injected"), 0);
	/* the values are still there, on the line they belong to (the body
	 * may show them as typed: it is no header) */
	h = headers_of(&p);
	assert_null(strstr(h, "\nBcc:"));
	assert_null(strstr(h, "\nCc:"));
	assert_null(strstr(h, "\nX-Injected:"));
	assert_non_null(strstr(h, "\r\nTo: \"Eve  Bcc: victim@example.net\" <anna@example.org>\r\n"));
	free(h);
	cd_message_clear(&p);
}

/* An address that is no plain address holds the mail; it never reaches
 * a header. */
static void test_bad_recipient_address_holds_the_mail(void **state)
{
	struct cd_due_order o = order("H-5003");
	struct cd_message p;

	(void)state;
	o.order.email = "anna@example.org\r\nBcc: victim@example.net";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_non_null(strstr(p.reason, "recipient"));
	assert_null(p.mail);
	cd_message_clear(&p);
}

static void test_html_in_customer_values_is_escaped(void **state)
{
	struct cd_due_order o = order("H-6001");
	struct cd_message p;

	(void)state;
	o.order.first_name = "<script>alert(1)</script>";
	o.order.items = "[{\"name\":\"<img src=x onerror=alert(2)>\",\"quantity\":1,"
			"\"sku\":\"\\\"><b>x\"}]";
	prepare(&p, "review", CD_DUE_REQUEST, &o);
	assert_string_equal(p.reason, "");
	assert_non_null(p.parts.html);
	assert_null(strstr(p.parts.html, "<script"));
	assert_null(strstr(p.parts.html, "<img"));
	assert_null(strstr(p.parts.html, "\"><b>"));
	assert_non_null(strstr(p.parts.html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(p.parts.html, "&lt;img src=x onerror=alert(2)&gt;"));
	/* the SKU in a URL is percent-encoded before it is escaped */
	assert_non_null(strstr(p.parts.html, "https://tea.example/p/%22%3E%3Cb%3Ex/review"));
	/* plain text shows them as typed */
	assert_non_null(strstr(p.parts.text, "Hello <script>alert(1)</script>,"));
	cd_message_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_names_the_reply_address_and_message_id),
		cmocka_unit_test(test_token_is_stable_per_order_and_unguessable_across),
		cmocka_unit_test(test_one_click_url_carries_token_and_headers),
		cmocka_unit_test(test_channel_without_page_unsubscribes_by_mail),
		cmocka_unit_test(test_locale_falls_back_to_language_then_default),
		cmocka_unit_test(test_reminder_keeps_request_variant_and_uses_its_template),
		cmocka_unit_test(test_winner_takes_new_orders_but_not_reminders),
		cmocka_unit_test(test_compliance_error_holds_the_mail),
		cmocka_unit_test(test_customer_quote_is_not_the_shops_wording),
		cmocka_unit_test(test_crlf_in_customer_values_adds_no_header),
		cmocka_unit_test(test_bad_recipient_address_holds_the_mail),
		cmocka_unit_test(test_html_in_customer_values_is_escaped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
