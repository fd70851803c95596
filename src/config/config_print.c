/*
 * config_print.c - write the effective configuration back out in
 * candor.conf syntax, so "candorctl check-config" shows the admin exactly
 * what the daemon would use, defaults included and secrets masked.
 */
#include "config.h"

#include <stdio.h>

#include "candor/config.h"
#include "candor/log.h"

static void put_string(FILE *out, const char *indent, const char *name,
		       const char *v)
{
	fprintf(out, "%s%s = \"", indent, name);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			fputs(*p == '\n' ? "\\n" : *p == '\r' ? "\\r" : "\\t", out);
			continue;
		}
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputs("\";\n", out);
}

static void put_duration(FILE *out, const char *indent, const char *name,
			 int64_t secs)
{
	char buf[64];

	fprintf(out, "%s%s = \"%s\";\n", indent, name,
		cd_units_format_duration(secs, buf, sizeof(buf)));
}

static void put_rate(FILE *out, const char *name, const struct cd_rate *r)
{
	char buf[64];

	put_string(out, "  ", name, r->count ? cd_units_format_rate(r, buf, sizeof(buf)) : "");
}

static void print_window(const struct cd_window *w, FILE *out)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	const char *sep = "";

	fprintf(out, "send_window = {\n  start = \"%02d:%02d\";\n  end = \"%02d:%02d\";\n",
		w->start_min / 60, w->start_min % 60, w->end_min / 60, w->end_min % 60);
	fputs("  weekdays = [", out);
	for (int d = 1; d <= 7; d++) {
		if (w->weekdays & (1u << (d % 7))) {
			fprintf(out, "%s\"%s\"", sep, days[d % 7]);
			sep = ", ";
		}
	}
	fputs("];\n  blackout = [", out);
	for (int i = 0; i < w->nblackout; i++)
		fprintf(out, "%s\"%04d-%02d-%02d\"", i ? ", " : "", w->blackout[i] / 10000,
			w->blackout[i] / 100 % 100, w->blackout[i] % 100);
	fputs("];\n};\n", out);
}

static void print_smtp(const struct cd_config *c, FILE *out)
{
	static const char *const tls[] = { "auto", "required", "none" };

	fputs("smtp = {\n", out);
	put_string(out, "  ", "url", c->smtp.url);
	put_string(out, "  ", "username", c->smtp.username);
	put_string(out, "  ", "password_file", c->smtp.password_file);
	if (c->smtp.password)
		fputs("  # password: ******** (read from password_file)\n", out);
	put_string(out, "  ", "envelope_from", c->smtp.envelope_from);
	put_string(out, "  ", "tls", tls[c->smtp.tls]);
	fprintf(out, "  verify_certificate = %s;\n",
		c->smtp.verify_certificate ? "true" : "false");
	fprintf(out, "  connections = %d;\n", c->smtp.connections);
	put_duration(out, "  ", "connect_timeout", c->smtp.connect_timeout);
	put_duration(out, "  ", "timeout", c->smtp.timeout);
	put_duration(out, "  ", "retry_min", c->smtp.retry_min);
	put_duration(out, "  ", "retry_max", c->smtp.retry_max);
	put_duration(out, "  ", "retry_for", c->smtp.retry_for);
	put_duration(out, "  ", "pause_retry", c->smtp.pause_retry);
	fputs("};\n", out);
}

static void print_imap(const struct cd_config *c, FILE *out)
{
	static const char *const tls[] = { "auto", "required", "none" };

	fputs("imap = {\n", out);
	put_string(out, "  ", "url", c->imap.url);
	put_string(out, "  ", "username", c->imap.username);
	put_string(out, "  ", "password_file", c->imap.password_file);
	if (c->imap.password)
		fputs("  # password: ******** (read from password_file)\n", out);
	put_string(out, "  ", "tls", tls[c->imap.tls]);
	fprintf(out, "  verify_certificate = %s;\n", c->imap.verify_certificate ? "true" : "false");
	put_string(out, "  ", "ca_file", c->imap.ca_file);
	put_string(out, "  ", "mailbox", c->imap.mailbox);
	put_string(out, "  ", "move_to", c->imap.move_to);
	fprintf(out, "  idle = %s;\n", c->imap.idle ? "true" : "false");
	put_duration(out, "  ", "timeout", c->imap.timeout);
	fprintf(out, "  max_size = %lld;\n", (long long)c->imap.max_size);
	fputs("};\ntracking = {\n", out);
	fprintf(out, "  soft_bounce_limit = %d;\n};\n", c->tracking.soft_bounce_limit);
}

static void print_campaign(const struct cd_campaign *cp, FILE *out, int last)
{
	fputs("  {\n", out);
	put_string(out, "    ", "name", cp->name);
	put_string(out, "    ", "trigger", cd_config_trigger_name(cp->trigger));
	put_duration(out, "    ", "delay", cp->delay);
	put_duration(out, "    ", "expire", cp->expire);
	if (cp->reminder) {
		put_duration(out, "    ", "reminder", cp->reminder);
		put_string(out, "    ", "reminder_template", cp->reminder_template);
	}
	if (cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK)
		fprintf(out, "    max_rating = %d;\n", cp->max_rating);
	if (cp->winner_min)
		fprintf(out, "    auto_winner = { min_per_arm = %lld; significance = \"%g%%\"; };\n",
			(long long)cp->winner_min, cp->winner_alpha * 100);
	fputs("    packs = [", out);
	for (size_t j = 0; j < cp->npacks; j++)
		fprintf(out, "%s\"%s\"", j ? ", " : "", cp->packs[j]);
	fputs("];\n", out);
	fputs("    variants = (\n", out);
	for (size_t j = 0; j < cp->nvariants; j++) {
		const struct cd_variant *v = &cp->variants[j];

		fputs("      { ", out);
		fprintf(out, "name = \"%s\"; template = \"%s\"; weight = %u; }%s\n",
			v->name, v->template, v->weight,
			j + 1 < cp->nvariants ? "," : "");
	}
	fputs("    );\n", out);
	fprintf(out, "  }%s\n", last ? "" : ",");
}

void cd_config_print(const struct cd_config *c, FILE *out)
{
	static const char *const transports[] = { "smtp", "outbox" };

	fprintf(out, "# effective configuration of %s\n", c->path);
	put_string(out, "", "database", c->database);
	put_string(out, "", "templates", c->templates);
	put_string(out, "", "packs", c->packs);
	put_string(out, "", "compliance_model", c->compliance_model);
	put_string(out, "", "log_level", cd_log_level_name(c->log_level));
	put_duration(out, "", "poll_interval", c->poll_interval);
	put_string(out, "", "transport", transports[c->transport]);
	fputs("shop = {\n", out);
	put_string(out, "  ", "name", c->shop.name);
	put_string(out, "  ", "domain", c->shop.domain);
	put_string(out, "  ", "from", c->shop.from);
	put_string(out, "  ", "reply_to", c->shop.reply_to);
	put_string(out, "  ", "support", c->shop.support);
	put_string(out, "  ", "timezone", c->shop.timezone);
	put_string(out, "  ", "footer", c->shop.footer);
	put_string(out, "  ", "footer_html", c->shop.footer_html);
	put_string(out, "  ", "unsubscribe_url", c->shop.unsubscribe_url);
	fputs("};\noutbox = {\n", out);
	put_string(out, "  ", "directory", c->outbox.directory);
	fputs("};\n", out);
	print_smtp(c, out);
	print_imap(c, out);
	fputs("limits = {\n", out);
	put_rate(out, "global_rate", &c->limits.global_rate);
	put_rate(out, "domain_rate", &c->limits.domain_rate);
	fprintf(out, "  daily_cap = %lld;\n", (long long)c->limits.daily_cap);
	fprintf(out, "  per_customer = %d;\n", c->limits.per_customer);
	put_duration(out, "  ", "per_customer_period", c->limits.per_customer_period);
	fputs("};\n", out);
	print_window(&c->window, out);
	fputs("campaigns = (\n", out);
	for (size_t i = 0; i < c->ncampaigns; i++)
		print_campaign(&c->campaigns[i], out, i + 1 == c->ncampaigns);
	fputs(");\nchannels = (\n", out);
	for (size_t i = 0; i < c->nchannels; i++) {
		fputs("  {\n", out);
		put_string(out, "    ", "name", c->channels[i].name);
		put_string(out, "    ", "feedback_url", c->channels[i].feedback_url);
		put_string(out, "    ", "review_url", c->channels[i].review_url);
		if (c->channels[i].unsubscribe_url)
			put_string(out, "    ", "unsubscribe_url", c->channels[i].unsubscribe_url);
		fputs(i + 1 == c->nchannels ? "  }\n" : "  },\n", out);
	}
	fputs(");\n", out);
}
