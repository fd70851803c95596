/*
 * ctl_send.c - "candorctl send-test ADDRESS": one sample of a campaign's
 * mail, rendered and checked like the real thing, sent through the
 * configured transport to the admin's own address, with the SMTP
 * dialogue shown. Nothing is written to the database.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/compose.h"
#include "candor/due.h"
#include "candor/message.h"
#include "candor/template.h"
#include "candor/transport.h"
#include "candor/util.h"
#include "ctl.h"

static int send_test_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] send-test [--campaign C] [--variant V] [--locale L]\n"
		"                                    ADDRESS\n"
		"Render a sample of campaign C's mail (default: the first campaign) in its\n"
		"variant V (default: the one a made-up order is assigned to) for a\n"
		"made-up order in locale L, check it, and send it to ADDRESS through the\n"
		"configured transport; print the SMTP dialogue (passwords masked) and the\n"
		"outcome. Exit 0 when the server accepted it.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

/* A made-up order that fills every value the shipped templates use. */
static void sample_order(struct cd_due_order *o, const char *address, const char *locale,
			 int apology)
{
	*o = (struct cd_due_order){ .order = {
		.id = "TEST-0001", .first_name = "Sam", .name = "Sam Sample", .email = address,
		.locale = locale, .total = "42.00", .currency = "EUR", .channel = "web",
		.items = "[{\"name\":\"Sample item\",\"quantity\":2}]",
		.purchased = cd_util_now() - 10 * 86400,
	} };
	if (apology) {
		o->rating = 1;
		o->comment = "The parcel arrived two weeks late.";
	}
}

struct send_args {
	const char *campaign, *variant, *locale, *address;
};

static int parse_send_args(int argc, char **argv, struct send_args *a)
{
	static const struct option opts[] = {
		{ "campaign", required_argument, NULL, 'C' },
		{ "locale", required_argument, NULL, 'l' },
		{ "variant", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "C:l:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': a->campaign = optarg; break;
		case 'v': a->variant = optarg; break;
		case 'l': a->locale = optarg; break;
		case 'h': return send_test_usage(stdout);
		default: return send_test_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return send_test_usage(stderr);
	a->address = argv[optind];
	if (!cd_util_address_ok(a->address)) {
		fprintf(stderr, "candorctl send-test: \"%s\" is not a plain address\n", a->address);
		return EXIT_USAGE;
	}
	return -1;
}

/* CP's variant NAME (borrowed from the configuration), or NULL after
 * naming the ones there are. */
static const char *variant_named(const struct cd_campaign *cp, const char *name)
{
	for (size_t i = 0; i < cp->nvariants; i++)
		if (strcmp(cp->variants[i].name, name) == 0)
			return cp->variants[i].name;
	fprintf(stderr, "candorctl send-test: campaign %s has no variant \"%s\"; it has", cp->name,
		name);
	for (size_t i = 0; i < cp->nvariants; i++)
		fprintf(stderr, "%s %s", i ? "," : "", cp->variants[i].name);
	fprintf(stderr, "\n");
	return NULL;
}

static int deliver_sample(const struct cd_config *cfg, struct cd_message *p, const char *address)
{
	struct cd_transport *t = NULL;
	struct cd_send_result res;
	struct cd_buf dialogue = { 0 };
	struct cd_error err;
	struct cd_outgoing out = {
		.envelope_from = *cfg->smtp.envelope_from ? cfg->smtp.envelope_from : cfg->shop.from,
		.recipient = address, .message_id = p->msgid, .data = p->mail, .len = p->len,
		.transcript = &dialogue,
	};

	const char *via;

	if (cd_transport_open(cfg, 0, &t, &err) < 0)
		return ctl_fail(&err);
	via = cd_transport_name(t); /* a static name */
	cd_transport_send(t, &out, &res);
	cd_transport_close(t);
	if (dialogue.len)
		printf("%s", dialogue.data);
	printf("outcome: %s via %s: %s\n", res.outcome == CD_SEND_SENT ? "accepted" :
	       res.outcome == CD_SEND_FAILED ? "refused" : res.outcome == CD_SEND_PAUSED
	       ? "refused (login, sender or TLS: check smtp in the configuration)"
	       : res.outcome == CD_SEND_UNKNOWN ? "unknown (connection lost after the message)"
	       : "not now (try again later)", via, res.reply);
	cd_buf_free(&dialogue);
	return res.outcome == CD_SEND_SENT ? 0 : 1;
}

int ctl_cmd_send_test(const char *config, int argc, char **argv)
{
	struct send_args a = { 0 };
	struct cd_errors errs = { 0 };
	struct cd_templates *tpl = NULL;
	const struct cd_campaign *cp;
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_due_order o;
	struct cd_message p = { 0 };
	unsigned char secret[32];
	struct cd_error err;
	int rc;

	if ((rc = parse_send_args(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = ctl_open_store(config, CD_STORE_READONLY | CTL_SECRETS | CTL_TEMPLATES, &cfg, &st)) != 0)
		goto out;
	if (cd_templates_load(cfg, &tpl, &errs) < 0) {
		ctl_print_errors(&errs);
		rc = CD_EXIT_CONFIG;
		goto out;
	}
	cp = a.campaign ? cd_config_campaign(cfg, a.campaign) : cfg->ncampaigns ? &cfg->campaigns[0] : NULL;
	if (!cp) {
		fprintf(stderr, "candorctl send-test: no such campaign\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (cd_store_secret(st, secret, &err) < 0) {
		rc = ctl_fail(&err);
		goto out;
	}
	sample_order(&o, a.address, a.locale ? a.locale : "en", cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK);
	if (a.variant && !(o.variant = variant_named(cp, a.variant))) {
		rc = EXIT_USAGE;
		goto out;
	}
	p.kind = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK ? CD_DUE_APOLOGY : CD_DUE_REQUEST;
	if (cd_message_prepare(&p, cfg, tpl, secret, cd_util_now(), cp, &o) < 0 || !p.mail) {
		fprintf(stderr, "candorctl send-test: cannot make the sample: %s\n",
			p.reason[0] ? p.reason : "out of memory");
		rc = 1;
		goto out;
	}
	printf("sample of campaign %s, variant %s (template %s/%s, Message-ID <%s>) to %s\n",
	       cp->name, p.v->name, p.template, p.parts.locale, p.msgid, a.address);
	if (p.reason[0])
		printf("note: a real mail like this would be HELD: %s\n", p.reason);
	rc = deliver_sample(cfg, &p, a.address);
out:
	cd_util_wipe(secret, sizeof(secret));
	cd_message_clear(&p);
	cd_errors_clear(&errs);
	cd_templates_free(tpl);
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}
