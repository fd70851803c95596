/* test_report.c - the report's formatters on a report built by hand: the
 * range and generation time in the header, reasons in words of the
 * shop's language with the ids kept in JSON, a campaign named once, a 0%
 * bar as an empty track without a whisker, intervals kept on the track,
 * and every name from the shop escaped. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/report.h"

static struct cd_report_arm arms[2];
static struct cd_report_campaign camp;
static struct cd_report rep;

static void setup_report(const char *name, int apology)
{
	memset(arms, 0, sizeof(arms));
	memset(&camp, 0, sizeof(camp));
	memset(&rep, 0, sizeof(rep));
	snprintf(arms[0].name, sizeof(arms[0].name), "A");
	arms[0].sent = arms[0].delivered = 1000;
	arms[0].feedback = 100;
	arms[0].rate = 0.1;
	arms[0].ci.lo = 0.083;
	arms[0].ci.hi = 0.12;
	snprintf(arms[1].name, sizeof(arms[1].name), "Z");
	arms[1].sent = arms[1].delivered = 1000;
	arms[1].ci.hi = 0.0038;
	arms[1].p = 0.001;
	arms[1].method = "z-test";
	arms[0].method = arms[0].click_method = arms[1].click_method = "";
	snprintf(camp.name, sizeof(camp.name), "%s", name);
	camp.apology = apology;
	camp.arms = arms;
	camp.narms = 2;
	rep.campaigns = &camp;
	rep.ncampaigns = 1;
	rep.generated = 1800000000;          /* 2027-01-15 08:00 UTC */
	rep.first_sent = 1690608800;         /* 2023-07-29 */
	rep.last_sent = 1703604800;          /* 2023-12-26 */
	rep.reasons[CD_REASON_WRONG_ITEM] = 3;
	rep.negative = 3;
}

/* The output of FN on the report, as a string to free. */
static char *render(int (*fn)(const struct cd_report *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(&rep, f), 0);
	fclose(f);
	return buf;
}

static int html(const struct cd_report *r, FILE *f)
{
	return cd_report_html(r, "Shop <&> \"Co\"", f);
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_header_says_range_and_generation_time(void **state)
{
	char *h, *t;

	(void)state;
	setup_report("review", 0);
	rep.since = 1698796800;              /* 2023-11-01 */
	rep.until = 1701388800;              /* made before 2023-12-01 */
	h = render(html);
	t = render(cd_report_text);
	assert_non_null(strstr(h, "mails sent 2023-07-29 to 2023-12-26 (UTC); report generated"
			       " 2027-01-15 08:00 UTC"));
	assert_non_null(strstr(h, "messages made from 2023-11-01 to 2023-11-30"));
	assert_non_null(strstr(t, "candor report: messages made from 2023-11-01 to 2023-11-30\n"
			       "mails sent 2023-07-29 to 2023-12-26 (UTC); report generated"
			       " 2027-01-15 08:00 UTC\n"));
	free(h);
	free(t);
}

static void test_reasons_in_words_of_the_shop_language(void **state)
{
	char *h, *j;

	(void)state;
	setup_report("review", 0);
	h = render(html);
	assert_non_null(strstr(h, "<td>Wrong or missing item</td>"));
	assert_null(strstr(h, "wrong_item"));
	free(h);
	snprintf(rep.locale, sizeof(rep.locale), "de_CH");
	h = render(html);
	j = render(cd_report_json);
	assert_non_null(strstr(h, "<td>Falscher oder fehlender Artikel</td>"));
	assert_non_null(strstr(h, "<td>Sonstiges</td>"));
	assert_non_null(strstr(j, "\"wrong_item\":3"));
	assert_non_null(strstr(j, "\"label\":\"Falscher oder fehlender Artikel\""));
	free(h);
	free(j);
	assert_string_equal(cd_reason_label(CD_REASON_SHIPPING, "xx-YY"), "Shipping and delivery");
	assert_string_equal(cd_reason_label(CD_REASON_SHIPPING, NULL), "Shipping and delivery");
	assert_string_equal(cd_reason_label(CD_REASON_WRONG_ITEM, "zh-TW"), "發錯或漏發");
	assert_string_equal(cd_reason_label(CD_REASON_WRONG_ITEM, "zh"), "发错或漏发");
	assert_string_equal(cd_reason_label(CD_REASON_COUNT, "de"), "Sonstiges");
}

static void test_campaign_named_once(void **state)
{
	char *h, *t;

	(void)state;
	setup_report("apology", 1);
	h = render(html);
	t = render(cd_report_text);
	assert_non_null(strstr(h, "<h2>apology</h2>"));
	assert_null(strstr(h, "(apology)"));
	assert_null(strstr(h, "Campaign apology"));
	assert_null(strstr(t, "(apology)"));
	assert_non_null(strstr(t, "Campaign apology: apologies after negative feedback\n"));
	free(h);
	free(t);
}

static void test_zero_rate_is_an_empty_track_without_whisker(void **state)
{
	char *h;

	(void)state;
	setup_report("review", 0);
	h = render(html);
	assert_int_equal(count(h, "class=\"track\""), 2);
	assert_int_equal(count(h, "class=\"bar\""), 1);
	assert_int_equal(count(h, "class=\"whisker\""), 1);
	assert_non_null(strstr(h, ">0.0%</text>"));
	assert_non_null(strstr(h, ">10.0%</text>"));
	free(h);
}

/* Every x of a whisker's lines within the track, 110..570. */
static void whiskers_on_track(const char *h)
{
	for (const char *p = h; (p = strstr(p, "<g class=\"whisker\"")); p++) {
		const char *end = strstr(p, "</g>");

		for (const char *q = p; (q = strstr(q, " x")) && q < end; q++) {
			int x;

			if (sscanf(q, " x1=\"%d\"", &x) == 1 || sscanf(q, " x2=\"%d\"", &x) == 1) {
				assert_true(x >= 110);
				assert_true(x <= 570);
			}
		}
	}
}

static void test_intervals_stay_on_the_track(void **state)
{
	char *h;

	(void)state;
	setup_report("review", 0);
	arms[0].ci.lo = -0.05;               /* out of range: shown clamped */
	arms[0].ci.hi = 1.7;
	arms[1].feedback = 999;
	arms[1].rate = 0.999;
	arms[1].ci.lo = 0.99;
	arms[1].ci.hi = 1.0;
	h = render(html);
	assert_int_equal(count(h, "class=\"whisker\""), 2);
	whiskers_on_track(h);
	assert_non_null(strstr(h, "width=\"460\" height=\"20\" fill=\"#3a7d44\""));
	free(h);
}

static void test_shop_values_escaped(void **state)
{
	struct cd_report_tally loc[2] = { { .sent = 1 }, { .sent = 2 } };
	struct cd_report_locale l = { .arms = loc };
	struct cd_report_tally pts[2] = { { .sent = 1, .delivered = 1 }, { 0 } };
	char *h;

	(void)state;
	setup_report("<script>x</script>", 0);
	snprintf(arms[1].name, sizeof(arms[1].name), "\"><img src=x>");
	snprintf(l.locale, sizeof(l.locale), "<b>de");
	camp.locales = &l;
	camp.nlocales = 1;
	camp.series = pts;
	camp.nbuckets = 1;
	camp.series_start = 1700000000 / 86400 * 86400;
	camp.series_step = 86400;
	arms[1].reminder.sent = 5;
	camp.reminders = 5;
	h = render(html);
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "<b>"));
	assert_non_null(strstr(h, "&lt;script&gt;"));
	assert_non_null(strstr(h, "&quot;&gt;&lt;img src=x&gt;"));
	assert_non_null(strstr(h, "&lt;b&gt;de"));
	assert_non_null(strstr(h, "Shop &lt;&amp;&gt; &quot;Co&quot;"));
	assert_int_equal(count(h, "class=\"series\""), 1);
	assert_non_null(strstr(h, "class=\"reminders\""));
	free(h);
}

static void test_page_shows_the_biggest_locales(void **state)
{
	struct cd_report_locale ls[30];
	struct cd_report_tally t[60];
	char *h;

	(void)state;
	setup_report("review", 0);
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 30; i++) {
		snprintf(ls[i].locale, sizeof(ls[i].locale), "x%d", i);
		ls[i].arms = &t[2 * i];
	}
	camp.locales = ls;
	camp.nlocales = 30;
	h = render(html);
	assert_int_equal(count(h, "<tr><td>x"), 25);
	assert_non_null(strstr(h, "<tr><td>x24</td>"));
	assert_null(strstr(h, "<tr><td>x25</td>"));
	assert_non_null(strstr(h, "And 5 smaller locales"));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_says_range_and_generation_time),
		cmocka_unit_test(test_reasons_in_words_of_the_shop_language),
		cmocka_unit_test(test_campaign_named_once),
		cmocka_unit_test(test_zero_rate_is_an_empty_track_without_whisker),
		cmocka_unit_test(test_intervals_stay_on_the_track),
		cmocka_unit_test(test_shop_values_escaped),
		cmocka_unit_test(test_page_shows_the_biggest_locales),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
