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

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

static const char *since_words(const struct cd_report *r, char *buf, size_t len)
{
	char d[16];

	if (!r->since)
		return "all messages";
	day(r->since, d, sizeof(d));
	snprintf(buf, len, "messages made since %s", d);
	return buf;
}

/* ---- text ------------------------------------------------------------ */

int cd_report_text(const struct cd_report *r, FILE *out)
{
	char buf[64];

	fprintf(out, "candor report: %s\n", since_words(r, buf, sizeof(buf)));
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];

		fprintf(out, "\nCampaign %s%s%s%s\n", c->name, c->apology ? " (apology)" : "",
			c->winner[0] ? ", winner chosen: " : "", c->winner);
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
		if (c->apology)
			fprintf(out, "  after the apology: %lld replied, %lld left feedback again,"
				" %lld of them rating higher\n", (long long)c->apology_replied,
				(long long)c->feedback_after, (long long)c->rating_up);
	}
	fprintf(out, "\nNegative feedback by reason (%lld):\n", (long long)r->negative);
	for (int k = 1; k <= CD_REASON_COUNT; k++) {
		enum cd_reason re = (enum cd_reason)(k % CD_REASON_COUNT); /* "other" last */

		fprintf(out, "  %-17s %6lld  %5.1f%%\n", cd_reason_name(re), (long long)r->reasons[re],
			r->negative ? 100.0 * (double)r->reasons[re] / (double)r->negative : 0.0);
	}
	return ferror(out) ? CD_EIO : 0;
}

/* ---- JSON ------------------------------------------------------------ */

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
	return o;
}

int cd_report_json(const struct cd_report *r, FILE *out)
{
	json_object *root = json_object_new_object(), *cs = json_object_new_array(),
		    *rs = json_object_new_object();

	if (!root || !cs || !rs)
		return CD_ENOMEM;
	json_object_object_add(root, "since", r->since ? json_object_new_int64(r->since) : NULL);
	for (size_t i = 0; i < r->ncampaigns; i++) {
		const struct cd_report_campaign *c = &r->campaigns[i];
		json_object *o = json_object_new_object(), *arms = json_object_new_array();

		json_object_object_add(o, "campaign", json_object_new_string(c->name));
		json_object_object_add(o, "apology", json_object_new_boolean(c->apology));
		json_object_object_add(o, "winner", c->winner[0] ? json_object_new_string(c->winner) : NULL);
		for (size_t k = 0; k < c->narms; k++)
			json_object_array_add(arms, arm_json(&c->arms[k], k == 0));
		json_object_object_add(o, "variants", arms);
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
	      "clicked,click_rate,click_ci_low,click_ci_high,click_lift_rel,click_p_value\n", out);
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
			fputc('\n', out);
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

/* One horizontal bar per variant: the rate, and its 95% interval as a
 * whisker, on a scale that fits the widest interval. */
static void svg_chart(FILE *out, const struct cd_report_campaign *c)
{
	const int left = 110, width = 460, row = 34, top = 24;
	double max = 0.01;
	int h = top + (int)c->narms * row + 24;

	for (size_t k = 0; k < c->narms; k++)
		if (c->arms[k].ci.hi > max && c->arms[k].delivered)
			max = c->arms[k].ci.hi;
	max = ceil(max * 20) / 20; /* a round 5% step */
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
		int y = top + (int)k * row, bw = (int)(a->rate / max * width);
		int lo = left + (int)(a->ci.lo / max * width), hi = left + (int)(a->ci.hi / max * width);

		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\">", left - 8, y + 18);
		html_text(out, a->name);
		fprintf(out, "%s</text>\n", k == 0 ? " (control)" : "");
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/>\n", left,
			y + 4, bw, k == 0 ? "#8aa4c8" : a->p < 0.05 ? "#3a7d44" : "#9bbf9f");
		if (a->delivered)
			fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#222\" stroke-width=\"2\"/>"
				"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#222\"/>"
				"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#222\"/>\n",
				lo, y + 14, hi, y + 14, lo, y + 8, lo, y + 20, hi, y + 8, hi, y + 20);
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%.1f%%</text>\n",
			(hi > left + bw ? hi : left + bw) + 6, y + 18, a->rate * 100);
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

static void html_campaign(FILE *out, const struct cd_report_campaign *c)
{
	fputs("<section><h2>Campaign ", out);
	html_text(out, c->name);
	fprintf(out, "%s</h2>\n", c->apology ? " <small>(apology)</small>" : "");
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
	if (c->apology)
		fprintf(out, "<p>After the apology: %lld customers replied, %lld left feedback again,"
			" %lld of them with a higher rating.</p>\n", (long long)c->apology_replied,
			(long long)c->feedback_after, (long long)c->rating_up);
	fputs("</section>\n", out);
}

int cd_report_html(const struct cd_report *r, const char *shop, FILE *out)
{
	char buf[64];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", out);
	html_text(out, shop);
	fputs(" — feedback report</title>\n<style>body{font:15px/1.4 system-ui,sans-serif;"
	      "max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}"
	      "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,"
	      "th:first-child{text-align:left}.sig{color:#1d5e2a;font-weight:600}.nosig{color:#555}"
	      ".win{background:#eef6ee;padding:6px}section{margin-bottom:2.5em}</style>\n"
	      "</head><body>\n<h1>", out);
	html_text(out, shop);
	fprintf(out, " — feedback report</h1>\n<p>%s. The rate is feedback left within each campaign's"
		" window among delivered mails; the first variant is the control.</p>\n",
		since_words(r, buf, sizeof(buf)));
	for (size_t i = 0; i < r->ncampaigns; i++)
		html_campaign(out, &r->campaigns[i]);
	fprintf(out, "<section><h2>Why customers were unhappy</h2><p>%lld negative feedback"
		" comments, by what they are about:</p><table>\n", (long long)r->negative);
	for (int k = 1; k <= CD_REASON_COUNT; k++) {
		enum cd_reason re = (enum cd_reason)(k % CD_REASON_COUNT);

		fprintf(out, "<tr><td>%s</td><td>%lld</td><td>%.0f%%</td></tr>\n", cd_reason_name(re),
			(long long)r->reasons[re],
			r->negative ? 100.0 * (double)r->reasons[re] / (double)r->negative : 0.0);
	}
	fputs("</table></section>\n</body></html>\n", out);
	return ferror(out) ? CD_EIO : 0;
}
