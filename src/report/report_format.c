/*
 * report_format.c - the report as text, JSON, CSV and one self-contained
 * HTML page (inline CSS and SVG, no script, nothing fetched).
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "candor/report.h"

static void day(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* a time no calendar holds (a shop's stray value) is "?" */
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "?");
}

/* T as "2026-11-30 14:05 UTC". */
static void minute(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "?");
}

/* Which messages --since and --until chose; until is the exclusive end,
 * so the last day named is the one before. */
static const char *since_words(const struct cd_report *r, char *buf, size_t len)
{
	char d[16], e[16];

	if (r->until)
		day(r->until - 86400, e, sizeof(e));
	if (r->since)
		day(r->since, d, sizeof(d));
	if (!r->since && !r->until)
		return "all messages";
	if (!r->until)
		snprintf(buf, len, "messages made since %s", d);
	else if (!r->since)
		snprintf(buf, len, "messages made until %s", e);
	else
		snprintf(buf, len, "messages made from %s to %s", d, e);
	return buf;
}

/* The sending covered and when the report was made. */
static const char *span_words(const struct cd_report *r, char *buf, size_t len)
{
	char a[16], b[16], g[32];

	minute(r->generated, g, sizeof(g));
	if (!r->first_sent) {
		snprintf(buf, len, "no mail sent in this range; report generated %s", g);
		return buf;
	}
	day(r->first_sent, a, sizeof(a));
	day(r->last_sent, b, sizeof(b));
	snprintf(buf, len, "mails sent %s to %s (UTC); report generated %s", a, b, g);
	return buf;
}

/* Negative feedback by reason, "other" last. */
static enum cd_reason reason_at(int k)
{
	return (enum cd_reason)((k + 1) % CD_REASON_COUNT);
}

static const char *const apology_words = "apologies after negative feedback";

/* ---- text ------------------------------------------------------------ */

static void text_reminders(const struct cd_report_campaign *c, FILE *out)
{
	if (!c->reminders)
		return;
	fprintf(out, "  %-10s %7s %9s %14s %7s\n", "reminders", "sent", "delivered",
		"feedback after", "rate");
	for (size_t k = 0; k < c->narms; k++) {
		const struct cd_report_tally *t = &c->arms[k].reminder;

		fprintf(out, "  %-10s %7lld %9lld %14lld %6.2f%%\n", c->arms[k].name,
			(long long)t->sent, (long long)t->delivered, (long long)t->feedback,
			t->rate * 100);
	}
}

/* The biggest locales a page or a terminal shows; JSON has them all. */
#define SHOWN_LOCALES 25

static size_t shown_locales(const struct cd_report_campaign *c)
{
	return c->nlocales < SHOWN_LOCALES ? c->nlocales : SHOWN_LOCALES;
}

static void text_locales(const struct cd_report_campaign *c, FILE *out)
{
	if (!c->nlocales)
		return;
	fprintf(out, "  %-10s %-10s %7s %9s %8s %7s\n", "locale", "variant", "sent", "delivered",
		"feedback", "rate");
	for (size_t i = 0; i < shown_locales(c); i++)
		for (size_t k = 0; k < c->narms; k++) {
			const struct cd_report_tally *t = &c->locales[i].arms[k];

			fprintf(out, "  %-10s %-10s %7lld %9lld %8lld %6.2f%%\n",
				k ? "" : c->locales[i].locale[0] ? c->locales[i].locale : "unknown",
				c->arms[k].name, (long long)t->sent, (long long)t->delivered,
				(long long)t->feedback, t->rate * 100);
		}
	if (c->nlocales > shown_locales(c))
		fprintf(out, "  and %zu smaller locales (all in JSON)\n", c->nlocales - shown_locales(c));
}

int cd_report_text(const struct cd_report *r, FILE *out)
{
	char buf[128];

	fprintf(out, "candor report: %s\n", since_words(r, buf, sizeof(buf)));
	fprintf(out, "%s\n", span_words(r, buf, sizeof(buf)));
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];

		fprintf(out, "\nCampaign %s%s%s%s%s\n", c->name, c->apology ? ": " : "",
			c->apology ? apology_words : "", c->winner[0] ? ", winner chosen: " : "",
			c->winner);
		fprintf(out, "  %-10s %7s %9s %7s %6s %8s %7s %17s %8s %9s\n", "variant", "sent",
			"delivered", "replied", "unsub", "feedback", "rate", "95% interval",
			"lift", "p");
		for (size_t k = 0; k < c->narms; k++) {
			const struct cd_report_arm *a = &c->arms[k];

			fprintf(out, "  %-10s %7lld %9lld %7lld %6lld %8lld", a->name, (long long)a->sent,
				(long long)a->delivered, (long long)a->replied,
				(long long)a->unsubscribed, (long long)a->feedback);
			if (a->delivered)
				fprintf(out, " %6.2f%% %7.2f%%-%6.2f%%", a->rate * 100, a->ci.lo * 100,
					a->ci.hi * 100);
			else
				fprintf(out, " %7s %17s", "-", "-");
			if (k == 0)
				fprintf(out, " %8s %9s\n", "-", "-");
			else
				fprintf(out, " %+7.1f%% %9.2g\n", a->lift_rel * 100, a->p);
		}
		for (size_t k = 1; k < c->narms; k++)
			fprintf(out, "  %s\n", c->arms[k].verdict);
		for (size_t k = 0; k < c->narms; k++) {
			const struct cd_report_arm *a = &c->arms[k];

			fprintf(out, "  %-10s %7lld clicked %6.2f%% %7.2f%%-%6.2f%%", k ? "" : "clicks",
				(long long)a->clicked, a->click_rate * 100, a->click_ci.lo * 100,
				a->click_ci.hi * 100);
			if (k)
				fprintf(out, " %+7.1f%% %9.2g  (%s)\n", a->click_lift_rel * 100, a->click_p,
					a->name);
			else
				fprintf(out, " %8s %9s  (%s)\n", "-", "-", a->name);
		}
		text_reminders(c, out);
		text_locales(c, out);
		if (c->apology)
			fprintf(out, "  after the apology: %lld replied, %lld left feedback again,"
				" %lld of them rating higher\n", (long long)c->apology_replied,
				(long long)c->feedback_after, (long long)c->rating_up);
	}
	fprintf(out, "\nNegative feedback by reason (%lld):\n", (long long)r->negative);
	for (int k = 0; k < CD_REASON_COUNT; k++) {
		enum cd_reason re = reason_at(k);

		fprintf(out, "  %-30s %6lld  %5.1f%%\n", cd_reason_label(re, r->locale),
			(long long)r->reasons[re],
			r->negative ? 100.0 * (double)r->reasons[re] / (double)r->negative : 0.0);
	}
	return ferror(out) ? CD_EIO : 0;
}

/* ---- JSON ------------------------------------------------------------ */

/* A slice's figures; the rate is null when nothing was delivered. */
static json_object *tally_json(const struct cd_report_tally *t, const char *variant)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (variant)
		json_object_object_add(o, "variant", json_object_new_string(variant));
	json_object_object_add(o, "sent", json_object_new_int64(t->sent));
	json_object_object_add(o, "delivered", json_object_new_int64(t->delivered));
	json_object_object_add(o, "feedback", json_object_new_int64(t->feedback));
	json_object_object_add(o, "rate", t->delivered ? json_object_new_double(t->rate) : NULL);
	return o;
}

/* NARMS tallies from T, one per variant of C. */
static json_object *tallies_json(const struct cd_report_campaign *c,
				 const struct cd_report_tally *t)
{
	json_object *a = json_object_new_array();

	for (size_t k = 0; a && k < c->narms; k++)
		json_object_array_add(a, tally_json(&t[k], c->arms[k].name));
	return a;
}

static json_object *day_json(int64_t t)
{
	char d[16];

	day(t, d, sizeof(d));
	return json_object_new_string(d);
}

static json_object *time_json(int64_t t)
{
	return t ? json_object_new_int64(t) : NULL;
}

static json_object *locales_json(const struct cd_report_campaign *c)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < c->nlocales; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "locale", c->locales[i].locale[0] ?
				       json_object_new_string(c->locales[i].locale) : NULL);
		json_object_object_add(o, "variants", tallies_json(c, c->locales[i].arms));
		json_object_array_add(a, o);
	}
	return a;
}

static const char *step_unit(int64_t step)
{
	return step == 86400 ? "day" : step == 7 * 86400 ? "week" : "weeks";
}

static json_object *series_json(const struct cd_report_campaign *c)
{
	json_object *o = json_object_new_object(), *pts = json_object_new_array();

	if (!o || !pts)
		return o;
	json_object_object_add(o, "unit", json_object_new_string(step_unit(c->series_step)));
	json_object_object_add(o, "step_days", json_object_new_int64(c->series_step / 86400));
	for (size_t b = 0; b < c->nbuckets; b++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "start", day_json(c->series_start + (int64_t)b * c->series_step));
		json_object_object_add(p, "variants", tallies_json(c, &c->series[b * c->narms]));
		json_object_array_add(pts, p);
	}
	json_object_object_add(o, "points", pts);
	return o;
}

static json_object *arm_json(const struct cd_report_arm *a, int control)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "variant", json_object_new_string(a->name));
	json_object_object_add(o, "control", json_object_new_boolean(control));
	json_object_object_add(o, "sent", json_object_new_int64(a->sent));
	json_object_object_add(o, "bounced", json_object_new_int64(a->bounced));
	json_object_object_add(o, "delivered", json_object_new_int64(a->delivered));
	json_object_object_add(o, "replied", json_object_new_int64(a->replied));
	json_object_object_add(o, "unsubscribed", json_object_new_int64(a->unsubscribed));
	json_object_object_add(o, "feedback", json_object_new_int64(a->feedback));
	json_object_object_add(o, "positive", json_object_new_int64(a->positive));
	json_object_object_add(o, "clicked", json_object_new_int64(a->clicked));
	json_object_object_add(o, "click_rate", json_object_new_double(a->click_rate));
	json_object_object_add(o, "click_ci_low", json_object_new_double(a->click_ci.lo));
	json_object_object_add(o, "click_ci_high", json_object_new_double(a->click_ci.hi));
	json_object_object_add(o, "click_lift_rel", json_object_new_double(a->click_lift_rel));
	json_object_object_add(o, "click_p_value", json_object_new_double(a->click_p));
	json_object_object_add(o, "positive_share",
			       json_object_new_double(a->feedback ? (double)a->positive / (double)a->feedback : 0));
	json_object_object_add(o, "rate", json_object_new_double(a->rate));
	json_object_object_add(o, "ci_low", json_object_new_double(a->ci.lo));
	json_object_object_add(o, "ci_high", json_object_new_double(a->ci.hi));
	if (!control) {
		json_object_object_add(o, "lift_abs", json_object_new_double(a->lift_abs));
		json_object_object_add(o, "lift_rel", json_object_new_double(a->lift_rel));
		json_object_object_add(o, "p_value", json_object_new_double(a->p));
		json_object_object_add(o, "test", json_object_new_string(a->method));
		json_object_object_add(o, "more_needed_per_arm", json_object_new_int64(a->more_needed));
	}
	json_object_object_add(o, "verdict", json_object_new_string(a->verdict));
	json_object_object_add(o, "reminder", tally_json(&a->reminder, NULL));
	return o;
}

/* The reasons in the report's order, with their words in its language. */
static json_object *reasons_json(const struct cd_report *r)
{
	json_object *a = json_object_new_array();

	for (int k = 0; a && k < CD_REASON_COUNT; k++) {
		json_object *o = json_object_new_object();
		enum cd_reason re = reason_at(k);

		json_object_object_add(o, "reason", json_object_new_string(cd_reason_name(re)));
		json_object_object_add(o, "label", json_object_new_string(cd_reason_label(re, r->locale)));
		json_object_object_add(o, "count", json_object_new_int64(r->reasons[re]));
		json_object_array_add(a, o);
	}
	return a;
}

int cd_report_json(const struct cd_report *r, FILE *out)
{
	json_object *root = json_object_new_object(), *cs = json_object_new_array(),
		    *rs = json_object_new_object();

	if (!root || !cs || !rs)
		return CD_ENOMEM;
	json_object_object_add(root, "since", r->since ? json_object_new_int64(r->since) : NULL);
	json_object_object_add(root, "until", time_json(r->until));
	json_object_object_add(root, "generated", json_object_new_int64(r->generated));
	json_object_object_add(root, "first_sent", time_json(r->first_sent));
	json_object_object_add(root, "last_sent", time_json(r->last_sent));
	json_object_object_add(root, "locale", json_object_new_string(r->locale[0] ? r->locale : "en"));
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];
		json_object *o = json_object_new_object(), *arms = json_object_new_array();

		json_object_object_add(o, "campaign", json_object_new_string(c->name));
		json_object_object_add(o, "apology", json_object_new_boolean(c->apology));
		json_object_object_add(o, "winner", c->winner[0] ? json_object_new_string(c->winner) : NULL);
		for (size_t k = 0; k < c->narms; k++)
			json_object_array_add(arms, arm_json(&c->arms[k], k == 0));
		json_object_object_add(o, "variants", arms);
		json_object_object_add(o, "first_sent", time_json(c->first_sent));
		json_object_object_add(o, "last_sent", time_json(c->last_sent));
		json_object_object_add(o, "reminders_sent", json_object_new_int64(c->reminders));
		json_object_object_add(o, "locales", locales_json(c));
		json_object_object_add(o, "series", series_json(c));
		if (c->apology) {
			json_object_object_add(o, "apology_replied", json_object_new_int64(c->apology_replied));
			json_object_object_add(o, "feedback_after", json_object_new_int64(c->feedback_after));
			json_object_object_add(o, "rating_up", json_object_new_int64(c->rating_up));
		}
		json_object_array_add(cs, o);
	}
	json_object_object_add(root, "campaigns", cs);
	for (int k = 0; k < CD_REASON_COUNT; k++)
		json_object_object_add(rs, cd_reason_name((enum cd_reason)k),
				       json_object_new_int64(r->reasons[k]));
	json_object_object_add(root, "negative_feedback", json_object_new_int64(r->negative));
	json_object_object_add(root, "negative_reasons", rs);
	json_object_object_add(root, "reasons", reasons_json(r));
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(root);
	return ferror(out) ? CD_EIO : 0;
}

/* ---- CSV ------------------------------------------------------------- */

static void csv_field(FILE *out, const char *s)
{
	/* a leading = + - @ would be a formula to a spreadsheet */
	int quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]);

	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (strchr("=+-@", s[0]) && s[0])
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int cd_report_csv(const struct cd_report *r, FILE *out)
{
	fputs("campaign,variant,control,sent,bounced,delivered,replied,unsubscribed,feedback,"
	      "positive,rate,ci_low,ci_high,lift_abs,lift_rel,p_value,test,verdict,"
	      "clicked,click_rate,click_ci_low,click_ci_high,click_lift_rel,click_p_value,"
	      "reminder_sent,reminder_delivered,reminder_feedback,reminder_rate\n", out);
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];

		for (size_t k = 0; k < c->narms; k++) {
			const struct cd_report_arm *a = &c->arms[k];

			csv_field(out, c->name);
			fputc(',', out);
			csv_field(out, a->name);
			fprintf(out, ",%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.6f,%.6f,%.6f,", k == 0,
				(long long)a->sent, (long long)a->bounced, (long long)a->delivered,
				(long long)a->replied, (long long)a->unsubscribed, (long long)a->feedback,
				(long long)a->positive, a->rate, a->ci.lo, a->ci.hi);
			if (k)
				fprintf(out, "%.6f,%.6f,%.6g,%s,", a->lift_abs, a->lift_rel, a->p, a->method);
			else
				fputs(",,,,", out);
			csv_field(out, a->verdict);
			fprintf(out, ",%lld,%.6f,%.6f,%.6f,", (long long)a->clicked, a->click_rate,
				a->click_ci.lo, a->click_ci.hi);
			if (k)
				fprintf(out, "%.6f,%.6g", a->click_lift_rel, a->click_p);
			else
				fputc(',', out);
			fprintf(out, ",%lld,%lld,%lld,%.6f\n", (long long)a->reminder.sent,
				(long long)a->reminder.delivered, (long long)a->reminder.feedback,
				a->reminder.rate);
		}
	}
	return ferror(out) ? CD_EIO : 0;
}

/* ---- HTML ------------------------------------------------------------ */

static void html_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char *const colours[] = { "#4a6fa5", "#3a7d44", "#c0392b", "#8e44ad", "#b9770e",
				       "#117a65" };
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

static int px(double v, double max, int width)
{
	double x = v / max * width;

	return x <= 0 ? 0 : x >= width ? width : (int)lround(x);
}

/* One horizontal bar per variant on an empty track: the rate, and its
 * 95% interval as a whisker, on a scale that fits the widest interval.
 * A variant at 0% is its empty track and "0.0%"; one with nothing
 * delivered says so; no whisker leaves the track. */
static void svg_chart(FILE *out, const struct cd_report_campaign *c)
{
	const int left = 110, width = 460, row = 34, top = 24;
	double max = 0.01;
	int h = top + (int)c->narms * row + 24;

	for (size_t k = 0; k < c->narms; k++)
		if (c->arms[k].ci.hi > max && c->arms[k].delivered)
			max = c->arms[k].ci.hi;
	max = ceil(max * 20) / 20; /* a round 5% step */
	if (max > 1)
		max = 1;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\""
		" aria-label=\"feedback rate per variant with 95%% intervals\">\n",
		left + width + 90, h);
	for (int g = 0; g <= 5; g++) {
		int x = left + width * g / 5;

		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" fill=\"#666\">%.0f%%</text>\n",
			x, top - 6, x, h - 20, x, h - 6, max * 100 * g / 5);
	}
	for (size_t k = 0; k < c->narms; k++) {
		const struct cd_report_arm *a = &c->arms[k];
		int y = top + (int)k * row, bw = px(a->rate, max, width);
		int lo = left + px(a->ci.lo, max, width), hi = left + px(a->ci.hi, max, width);
		int whisker = a->delivered && a->feedback > 0;

		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\">", left - 8, y + 18);
		html_text(out, a->name);
		fprintf(out, "%s</text>\n", k == 0 ? " (control)" : "");
		fprintf(out, "<rect class=\"track\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#f4f4f4\""
			" stroke=\"#bbb\"/>\n", left, y + 4, width);
		if (bw > 0)
			fprintf(out, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/>\n",
				left, y + 4, bw, k == 0 ? "#8aa4c8" : a->p < 0.05 ? "#3a7d44" : "#9bbf9f");
		if (whisker)
			fprintf(out, "<g class=\"whisker\" stroke=\"#222\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
				" stroke-width=\"2\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
				"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n",
				lo, y + 14, hi, y + 14, lo, y + 8, lo, y + 20, hi, y + 8, hi, y + 20);
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", left + width + 6, y + 18);
		if (a->delivered)
			fprintf(out, "%.1f%%</text>\n", a->rate * 100);
		else
			fputs("nothing delivered</text>\n", out);
	}
	fputs("</svg>\n", out);
}

/* The first requests' feedback rate per bucket and variant, one line
 * each, broken where a bucket had no delivery. */
static void svg_series(FILE *out, const struct cd_report_campaign *c)
{
	const int left = 50, width = 560, top = 12, height = 140;
	double max = 0.05;
	char a[16], b[16];

	for (size_t i = 0; i < c->nbuckets * c->narms; i++)
		if (c->series[i].delivered && c->series[i].rate > max)
			max = c->series[i].rate;
	max = ceil(max * 20) / 20;
	if (max > 1)
		max = 1;
	fprintf(out, "<p>Feedback rate of first requests per %s of sending:</p>\n",
		c->series_step == 86400 ? "day" : c->series_step == 7 * 86400 ? "week" : "few weeks");
	fprintf(out, "<svg class=\"series\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
		" role=\"img\" aria-label=\"feedback rate per variant over time\">\n",
		left + width + 120, top + height + 30);
	for (int g = 0; g <= 2; g++) {
		int y = top + height - height * g / 2;

		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" fill=\"#666\">%.1f%%</text>\n",
			left, y, left + width, y, left - 4, y + 4, max * 100 * g / 2);
	}
	day(c->series_start, a, sizeof(a));
	day(c->series_start + (int64_t)(c->nbuckets - 1) * c->series_step, b, sizeof(b));
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\">%s</text>"
		"<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">%s</text>\n",
		left, top + height + 16, a, left + width, top + height + 16, b);
	for (size_t k = 0; k < c->narms; k++) {
		int open = 0;

		for (size_t i = 0; i < c->nbuckets; i++) {
			const struct cd_report_tally *t = &c->series[i * c->narms + k];
			int x = left + (c->nbuckets > 1 ? (int)((double)width * (double)i /
							       (double)(c->nbuckets - 1)) : width / 2);
			int y = top + height - px(t->rate, max, height);

			if (!t->delivered) {
				if (open)
					fputs("\"/>\n", out);
				open = 0;
				continue;
			}
			if (!open)
				fprintf(out, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"",
					colours[k % NCOLOURS]);
			fprintf(out, "%s%d,%d", open ? " " : "", x, y);
			open = 1;
		}
		if (open)
			fputs("\"/>\n", out);
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"%s\">", left + width + 10,
			top + 12 + (int)k * 16, colours[k % NCOLOURS]);
		html_text(out, c->arms[k].name);
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}

static int64_t total_delivered(const struct cd_report_campaign *c)
{
	int64_t n = 0;

	for (size_t k = 0; k < c->narms; k++)
		n += c->arms[k].delivered;
	return n;
}

static void html_rate(FILE *out, const struct cd_report_tally *t)
{
	if (t->delivered)
		fprintf(out, "<td>%.2f%%</td>", t->rate * 100);
	else
		fputs("<td>–</td>", out);
}

static void html_reminders(FILE *out, const struct cd_report_campaign *c)
{
	if (!c->reminders)
		return;
	fputs("<p>Reminders, apart from first requests (feedback after a reminder counts for its"
	      " request too):</p>\n<table class=\"reminders\"><tr><th>variant</th><th>reminders sent</th>"
	      "<th>delivered</th><th>feedback after a reminder</th><th>rate</th></tr>\n", out);
	for (size_t k = 0; k < c->narms; k++) {
		const struct cd_report_tally *t = &c->arms[k].reminder;

		fputs("<tr><td>", out);
		html_text(out, c->arms[k].name);
		fprintf(out, "</td><td>%lld</td><td>%lld</td><td>%lld</td>", (long long)t->sent,
			(long long)t->delivered, (long long)t->feedback);
		html_rate(out, t);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_locales(FILE *out, const struct cd_report_campaign *c)
{
	if (!c->nlocales)
		return;
	fputs("<p>First requests by the customer's locale:</p>\n<table class=\"locales\"><tr>"
	      "<th>locale</th>", out);
	for (size_t k = 0; k < c->narms; k++) {
		fputs("<th>", out);
		html_text(out, c->arms[k].name);
		fputs(" sent</th><th>delivered</th><th>feedback rate</th>", out);
	}
	fputs("</tr>\n", out);
	for (size_t i = 0; i < shown_locales(c); i++) {
		fputs("<tr><td>", out);
		html_text(out, c->locales[i].locale[0] ? c->locales[i].locale : "unknown");
		fputs("</td>", out);
		for (size_t k = 0; k < c->narms; k++) {
			const struct cd_report_tally *t = &c->locales[i].arms[k];

			fprintf(out, "<td>%lld</td><td>%lld</td>", (long long)t->sent,
				(long long)t->delivered);
			html_rate(out, t);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	if (c->nlocales > shown_locales(c))
		fprintf(out, "<p>And %zu smaller locales (all in the JSON report).</p>\n",
			c->nlocales - shown_locales(c));
}

static void html_arms(FILE *out, const struct cd_report_campaign *c)
{
	fputs("<table><tr><th>variant</th><th>sent</th><th>delivered</th><th>replied</th>"
	      "<th>unsubscribed</th><th>feedback</th><th>positive</th><th>rate</th><th>95% interval</th>"
	      "<th>lift</th><th>p</th></tr>\n", out);
	for (size_t k = 0; k < c->narms; k++) {
		const struct cd_report_arm *a = &c->arms[k];

		fputs("<tr><td>", out);
		html_text(out, a->name);
		fprintf(out, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
			"<td>%.0f%%</td><td>%.2f%%</td><td>%.2f%% – %.2f%%</td>",
			(long long)a->sent, (long long)a->delivered, (long long)a->replied,
			(long long)a->unsubscribed, (long long)a->feedback,
			a->feedback ? 100.0 * (double)a->positive / (double)a->feedback : 0.0,
			a->rate * 100, a->ci.lo * 100, a->ci.hi * 100);
		if (k == 0)
			fputs("<td>control</td><td></td></tr>\n", out);
		else
			fprintf(out, "<td>%+.1f%%</td><td>%.2g</td></tr>\n", a->lift_rel * 100, a->p);
	}
	fputs("</table>\n<p>Clicks on the review link among delivered mails:</p>\n"
	      "<table><tr><th>variant</th><th>clicked</th><th>click rate</th><th>95% interval</th>"
	      "<th>lift</th><th>p</th></tr>\n", out);
	for (size_t k = 0; k < c->narms; k++) {
		const struct cd_report_arm *a = &c->arms[k];

		fputs("<tr><td>", out);
		html_text(out, a->name);
		fprintf(out, "</td><td>%lld</td><td>%.2f%%</td><td>%.2f%% – %.2f%%</td>",
			(long long)a->clicked, a->click_rate * 100, a->click_ci.lo * 100,
			a->click_ci.hi * 100);
		if (k == 0)
			fputs("<td>control</td><td></td></tr>\n", out);
		else
			fprintf(out, "<td>%+.1f%%</td><td>%.2g</td></tr>\n", a->click_lift_rel * 100,
				a->click_p);
	}
	fputs("</table>\n", out);
}

static void html_campaign(FILE *out, const struct cd_report_campaign *c)
{
	fputs("<section><h2>", out);
	html_text(out, c->name);
	fputs("</h2>\n", out);
	if (c->apology)
		fputs("<p class=\"kind\">Apologies after negative feedback.</p>\n", out);
	if (c->winner[0]) {
		fputs("<p class=\"win\">Winner chosen automatically: <b>", out);
		html_text(out, c->winner);
		fputs("</b>; the rest of the campaign goes with it.</p>\n", out);
	}
	for (size_t k = 1; k < c->narms; k++) {
		fprintf(out, "<p class=\"%s\">", c->arms[k].p < 0.05 ? "sig" : "nosig");
		html_text(out, c->arms[k].verdict);
		fputs(".</p>\n", out);
	}
	if (!total_delivered(c)) {
		fputs("<p>Nothing delivered yet.</p></section>\n", out);
		return;
	}
	fputs("<p>Feedback rate among delivered mails, with its 95% interval:</p>\n", out);
	svg_chart(out, c);
	if (c->nbuckets)
		svg_series(out, c);
	html_arms(out, c);
	html_reminders(out, c);
	html_locales(out, c);
	if (c->apology)
		fprintf(out, "<p>After the apology: %lld customers replied, %lld left feedback again,"
			" %lld of them with a higher rating.</p>\n", (long long)c->apology_replied,
			(long long)c->feedback_after, (long long)c->rating_up);
	fputs("</section>\n", out);
}

int cd_report_html(const struct cd_report *r, const char *shop, FILE *out)
{
	char buf[128];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", out);
	html_text(out, shop);
	fputs(" — feedback report</title>\n<style>body{font:15px/1.4 system-ui,sans-serif;"
	      "max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}"
	      "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,"
	      "th:first-child{text-align:left}.sig{color:#1d5e2a;font-weight:600}.nosig{color:#555}"
	      ".win{background:#eef6ee;padding:6px}.kind,.range{color:#555}section{margin-bottom:2.5em}"
	      "</style>\n</head><body>\n<h1>", out);
	html_text(out, shop);
	fputs(" — feedback report</h1>\n<p class=\"range\">Covers ", out);
	html_text(out, since_words(r, buf, sizeof(buf)));
	fputs(": ", out);
	html_text(out, span_words(r, buf, sizeof(buf)));
	fputs(".</p>\n<p>The rate is feedback left within each campaign's window among delivered"
	      " mails; the first variant is the control.</p>\n", out);
	for (size_t i = 0; i < r->ncampaigns; i++)
		html_campaign(out, &r->campaigns[i]);
	fprintf(out, "<section><h2>Why customers were unhappy</h2><p>%lld negative feedback"
		" comments, by what they are about:</p><table class=\"reasons\">\n", (long long)r->negative);
	for (int k = 0; k < CD_REASON_COUNT; k++) {
		enum cd_reason re = reason_at(k);

		fputs("<tr><td>", out);
		html_text(out, cd_reason_label(re, r->locale));
		fprintf(out, "</td><td>%lld</td><td>%.0f%%</td></tr>\n", (long long)r->reasons[re],
			r->negative ? 100.0 * (double)r->reasons[re] / (double)r->negative : 0.0);
	}
	fputs("</table></section>\n</body></html>\n", out);
	return ferror(out) ? CD_EIO : 0;
}
