/*
 * ctl_template.c - "candorctl render" (one Mustache template with JSON
 * data, the way the official spec is run and marketers try a template)
 * and "candorctl preview" (the whole mail one order would get).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/compliance.h"
#include "candor/config.h"
#include "candor/due.h"
#include "candor/ratelimit.h"
#include "candor/store.h"
#include "candor/message.h"
#include "candor/template.h"
#include "candor/util.h"
#include "ctl.h"

#define MAX_INPUT (16 * 1024 * 1024)

static int render_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl render --template FILE [--partials DIR] --data FILE.json\n"
		"                        [--text | --html]\n"
		"Print FILE rendered with the JSON data; {{>name}} loads DIR/name.mustache.\n"
		"Values are HTML-escaped as in plain Mustache; --text prints them as they\n"
		"are (like subject and text parts), --html applies candor's HTML rule\n"
		"(no {{{ }}} for values not marked safe). \"-\" reads standard input.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

struct render_args {
	const char *template, *partials, *data;
	enum cd_escape esc;
};

static int parse_render_args(int argc, char **argv, struct render_args *a)
{
	static const struct option opts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "partials", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "text", no_argument, NULL, 'T' },
		{ "html", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->esc = CD_ESCAPE_MUSTACHE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:p:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->template = optarg; break;
		case 'p': a->partials = optarg; break;
		case 'd': a->data = optarg; break;
		case 'T': a->esc = CD_ESCAPE_NONE; break;
		case 'H': a->esc = CD_ESCAPE_HTML; break;
		case 'h': return render_usage(stdout);
		default: return render_usage(stderr);
		}
	}
	if (optind != argc || !a->template || !a->data)
		return render_usage(stderr);
	return -1;
}

int ctl_cmd_render(const char *config, int argc, char **argv)
{
	struct render_args a = { 0 };
	struct cd_partials *parts = NULL;
	struct cd_template *t = NULL;
	struct cd_tdata *data = NULL;
	struct cd_buf out = { 0 };
	char *text = NULL, *json = NULL;
	struct cd_error err;
	size_t jlen;
	int rc;

	(void)config;
	if ((rc = parse_render_args(argc, argv, &a)) >= 0)
		return rc;
	rc = 0;
	if (cd_util_read_file(a.template, MAX_INPUT, &text, NULL, &err) < 0 ||
	    cd_util_read_file(a.data, MAX_INPUT, &json, &jlen, &err) < 0) {
		rc = err.code == CD_EINVAL ? (ctl_fail(&err), EXIT_DATAERR) : ctl_fail(&err);
		goto out;
	}
	if (a.partials && !(parts = cd_partials_new(&a.partials, 1))) {
		rc = ctl_fail(&(struct cd_error){ .code = CD_ENOMEM, .msg = "out of memory" });
		goto out;
	}
	if (cd_tdata_from_json(a.data, json, jlen, &data, &err) < 0 ||
	    cd_template_compile(a.template, text, &t, &err) < 0 ||
	    cd_template_render(t, data, a.esc, parts, &out, NULL, &err) < 0) {
		rc = err.code == CD_ENOMEM ? ctl_fail(&err) : (ctl_fail(&err), EXIT_DATAERR);
		goto out;
	}
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = 1;
	if (fflush(stdout) != 0)
		rc = 1;
out:
	cd_buf_free(&out);
	cd_template_free(t);
	cd_tdata_free(data);
	cd_partials_free(parts);
	free(json);
	free(text);
	return rc;
}

/* ---- preview --------------------------------------------------------- */

static int preview_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] preview --order ID [--campaign C] [--variant V]\n"
		"                                  [--reminder] [--parts]\n"
		"Print the complete message candor would send for order ID (with --parts,\n"
		"its subject, text and HTML as rendered, before encoding), then (on\n"
		"standard error) the template and locale used, every template value that\n"
		"came out empty, and whether the message would be sent now: the daemon's\n"
		"own rules (status, suppressions, one message per order, expiry, delay),\n"
		"send window and limits, then the compliance verdict. The campaign\n"
		"defaults to the first one in the configuration, the variant to the one\n"
		"the order is assigned to. Nothing is written to the database.\n"
		"Exit status: 0 would be sent now; 1 held (compliance or config); 2 error\n"
		"(no such order, the store unreadable); 3 never sent (a rule excludes the\n"
		"order, or it can never become due); 4 not now (due later, or waiting for\n"
		"the send window or a limit); 64 usage; 78 configuration.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

struct preview_args {
	const char *order, *campaign, *variant;
	int reminder, parts;
};

static int parse_preview_args(int argc, char **argv, struct preview_args *a)
{
	static const struct option opts[] = {
		{ "order", required_argument, NULL, 'o' },
		{ "campaign", required_argument, NULL, 'C' },
		{ "variant", required_argument, NULL, 'v' },
		{ "reminder", no_argument, NULL, 'r' },
		{ "parts", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:C:v:rph", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->order = optarg; break;
		case 'C': a->campaign = optarg; break;
		case 'v': a->variant = optarg; break;
		case 'r': a->reminder = 1; break;
		case 'p': a->parts = 1; break;
		case 'h': return preview_usage(stdout);
		default: return preview_usage(stderr);
		}
	}
	if (optind != argc || !a->order)
		return preview_usage(stderr);
	return -1;
}

/* The campaign and kind asked for; NULL (after saying why) if there is
 * none such. */
static const struct cd_campaign *preview_campaign(const struct cd_config *cfg,
						  const struct preview_args *a,
						  enum cd_due_kind *k)
{
	const struct cd_campaign *cp = a->campaign ? cd_config_campaign(cfg, a->campaign)
				       : cfg->ncampaigns ? &cfg->campaigns[0] : NULL;

	if (!cp) {
		fprintf(stderr, "candorctl preview: %s\n", a->campaign
			? "no such campaign in the configuration" : "the configuration has no campaign");
		return NULL;
	}
	*k = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK ? CD_DUE_APOLOGY : CD_DUE_REQUEST;
	if (a->reminder) {
		if (!cp->reminder) {
			fprintf(stderr, "candorctl preview: campaign %s has no reminder\n", cp->name);
			return NULL;
		}
		*k = CD_DUE_REMINDER;
	}
	return cp;
}

/* The variant asked for replaces the order's own assignment. */
static int preview_variant(const struct cd_campaign *cp, const char *name,
			   struct cd_due_order *o)
{
	for (size_t i = 0; name && i < cp->nvariants; i++)
		if (strcmp(cp->variants[i].name, name) == 0) {
			o->variant = cp->variants[i].name;
			return 0;
		}
	if (!name)
		return 0;
	fprintf(stderr, "candorctl preview: campaign %s has no variant \"%s\"\n", cp->name, name);
	return EXIT_USAGE;
}

/* What stops the order now, if anything: the daemon's due query and
 * its rules, then the send window and the limits. */
struct stop {
	int exit;        /* 0, EXIT_NEVER or EXIT_NOT_NOW */
	char why[300];
};

static void when_text(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(buf, len, "not within 60 days");
}

static int what_stops(const struct cd_config *cfg, struct cd_store *st,
		      const struct cd_templates *tpl, const struct cd_campaign *cp,
		      enum cd_due_kind k, const struct cd_due_order *o, int64_t now,
		      struct stop *s, struct cd_error *err)
{
	const char *names[32];
	size_t nnames = 0;
	struct cd_due_verdict v;
	struct cd_ratelimit *rl = NULL;
	enum cd_wait w;
	int64_t open;
	char when[64];
	int rc;

	*s = (struct stop){ 0 };
	if (k == CD_DUE_REMINDER)
		nnames = cd_compliance_no_reminder(cd_templates_compliance(tpl), cp->packs,
						    cp->npacks, names, sizeof(names) / sizeof(names[0]));
	if ((rc = cd_due_explain(st, cp, k, now, o->order.id, names, nnames, &v, err)) < 0)
		return rc;
	if (v.stop == CD_DUE_LATER) {
		when_text(v.when, when, sizeof(when));
		s->exit = EXIT_NOT_NOW;
		snprintf(s->why, sizeof(s->why), "NOT YET: due at %s (the campaign's %s)", when,
			 k == CD_DUE_REMINDER ? "reminder" : "delay");
		return 0;
	}
	if (v.stop != CD_DUE_NOW) {
		s->exit = EXIT_NEVER;
		snprintf(s->why, sizeof(s->why), "NOT SENT: %s%s%s%s", cd_due_stop_text(v.stop, k),
			 v.stop == CD_DUE_EXCLUDED ? " (status " : "",
			 v.stop == CD_DUE_EXCLUDED ? v.status : "", v.stop == CD_DUE_EXCLUDED ? ")" : "");
		return 0;
	}
	if ((rc = cd_ratelimit_open(cfg, st, now, &rl, err)) < 0)
		return rc;
	/* counted live from the store, as for a customer the cycle mailed */
	cd_ratelimit_note_mailed(rl, o->order.email);
	if ((rc = cd_due_must_wait(cfg, rl, o, now, &open, &w, err)) == 0 && w == CD_WAIT_NONE)
		w = cd_ratelimit_which(rl);
	cd_ratelimit_free(rl);
	if (rc < 0)
		return rc;
	if (w != CD_WAIT_NONE) {
		when_text(open, when, sizeof(when));
		s->exit = EXIT_NOT_NOW;
		snprintf(s->why, sizeof(s->why), "WAITS: %s%s%s", cd_wait_text(w),
			 w == CD_WAIT_WINDOW ? "; it opens " : "", w == CD_WAIT_WINDOW ? when : "");
	}
	return 0;
}

static int show_preview(struct cd_message *p, const struct cd_campaign *cp, int parts,
			const struct stop *stop)
{
	if (parts && p->parts.subject)
		printf("Subject: %s\n\n%s\n%s%s", p->parts.subject, p->parts.text,
		       p->parts.html ? "---- HTML ----\n" : "", p->parts.html ? p->parts.html : "");
	else if (p->mail && fwrite(p->mail, 1, p->len, stdout) != p->len)
		return 1;
	fflush(stdout);
	fprintf(stderr, "\ncampaign:  %s, variant %s\ntemplate:  %s/%s\n", cp->name,
		p->v->name, p->template, p->parts.locale[0] ? p->parts.locale : "-");
	if (p->parts.missing.count)
		fprintf(stderr, "empty:     %s (%zu in all) - check the data or guard them "
			"with {{#name}}...{{/name}}\n", p->parts.missing.names,
			p->parts.missing.count);
	else
		fprintf(stderr, "empty:     none\n");
	fprintf(stderr, "wording:   %s\n", !p->findings ? "clean under the campaign's packs"
		: p->reason[0] && strncmp(p->reason, "compliance:", 11) == 0
		? "breaks a compliance rule (see the verdict)" : "warnings only");
	/* the daemon never renders what is not due: that comes first */
	if (stop->exit)
		fprintf(stderr, "verdict:   %s\n", stop->why);
	else if (p->reason[0])
		fprintf(stderr, "verdict:   HELD: %s\n", p->reason);
	else
		fprintf(stderr, "verdict:   would be sent\n");
	return stop->exit ? stop->exit : p->reason[0] ? 1 : 0;
}

int ctl_cmd_preview(const char *config, int argc, char **argv)
{
	struct preview_args a = { 0 };
	struct cd_errors errs = { 0 };
	struct cd_templates *tpl = NULL;
	const struct cd_campaign *cp;
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_due_order o = { 0 };
	unsigned char secret[32];
	struct cd_message p = { 0 };
	struct cd_error err;
	struct stop stop;
	enum cd_due_kind k;
	int64_t now = cd_util_now();
	int rc;

	if ((rc = parse_preview_args(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = ctl_open_store(config, CD_STORE_READONLY | CTL_TEMPLATES, &cfg, &st)) != 0)
		goto out;
	if (cd_templates_load(cfg, &tpl, &errs) < 0) {
		ctl_print_errors(&errs);
		rc = CD_EXIT_CONFIG;
		goto out;
	}
	if (!(cp = preview_campaign(cfg, &a, &k))) {
		rc = EXIT_USAGE;
		goto out;
	}
	/* an error is not a verdict: 2, never 1 ("held") */
	if (cd_store_secret(st, secret, &err) < 0 ||
	    cd_due_load_order(st, a.order, cp, k, &o, &err) < 0) {
		rc = (ctl_fail(&err), EXIT_PREVIEW_ERROR);
		goto out;
	}
	if ((rc = preview_variant(cp, a.variant, &o)) != 0)
		goto out;
	if ((rc = what_stops(cfg, st, tpl, cp, k, &o, now, &stop, &err)) < 0) {
		rc = (ctl_fail(&err), EXIT_PREVIEW_ERROR);
		goto out;
	}
	p.kind = k;
	if (cd_message_prepare(&p, cfg, tpl, secret, now, cp, &o) < 0) {
		rc = (ctl_fail(&(struct cd_error){ .code = CD_ENOMEM, .msg = "out of memory" }),
		      EXIT_PREVIEW_ERROR);
		goto out;
	}
	rc = show_preview(&p, cp, a.parts, &stop);
out:
	cd_util_wipe(secret, sizeof(secret));
	cd_message_clear(&p);
	cd_due_order_clear(&o);
	cd_errors_clear(&errs);
	cd_templates_free(tpl);
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}
