/*
 * ctl_classify.c - "candorctl classify": what the tracker would make of
 * one mail file, without a database or a server.
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/classify.h"
#include "candor/util.h"
#include "ctl.h"

#define MAX_MAIL (64u << 20)

static void usage(FILE *out)
{
	fprintf(out, "Usage: candorctl classify [--format text|json] FILE.eml|-\n"
		"Classify one mail as the tracker would: reply, hard_bounce, soft_bounce,\n"
		"auto_reply, unsubscribe or other.\n\n"
		"  -f, --format FMT  text (default): KIND<TAB>RECIPIENT<TAB>DETAIL, one line per\n"
		"                    failed recipient of a bounce, else one line;\n"
		"                    json: one object with every recipient and token\n"
		"  -h, --help        show this help and exit\n");
}

static void print_text(const struct cd_classified *c)
{
	const char *kind = cd_mail_kind_name(c->kind);

	if ((c->kind == CD_MAIL_HARD_BOUNCE || c->kind == CD_MAIL_SOFT_BOUNCE) && c->bounce.n) {
		for (size_t i = 0; i < c->bounce.n; i++) {
			const struct cd_bounce_rcpt *r = &c->bounce.r[i];

			/* each recipient has its own kind: one report may say
			 * "user unknown" for one and "mailbox full" for another */
			printf("%s\t%s\t%s %s: %s\n", r->hard ? "hard_bounce" : "soft_bounce",
			       r->addr[0] ? r->addr : "-", r->status[0] ? r->status : "-", r->reason,
			       r->diag);
		}
		return;
	}
	printf("%s\t-\t%s\n", kind, c->detail);
}

static int print_json(const struct cd_classified *c)
{
	json_object *o = json_object_new_object(), *rs = json_object_new_array(),
		    *ts = json_object_new_array();

	if (!o || !rs || !ts)
		return -1;
	json_object_object_add(o, "kind", json_object_new_string(cd_mail_kind_name(c->kind)));
	json_object_object_add(o, "from", json_object_new_string(c->from));
	json_object_object_add(o, "subject", json_object_new_string(c->mail.subject));
	json_object_object_add(o, "detail", json_object_new_string(c->detail));
	json_object_object_add(o, "complaint", json_object_new_boolean(c->complaint));
	for (size_t i = 0; i < c->bounce.n; i++) {
		const struct cd_bounce_rcpt *r = &c->bounce.r[i];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "address", json_object_new_string(r->addr));
		json_object_object_add(x, "kind", json_object_new_string(r->hard ? "hard_bounce"
									  : "soft_bounce"));
		json_object_object_add(x, "status", json_object_new_string(r->status));
		json_object_object_add(x, "reason", json_object_new_string(r->reason));
		json_object_object_add(x, "diagnostic", json_object_new_string(r->diag));
		json_object_array_add(rs, x);
	}
	json_object_object_add(o, "recipients", rs);
	for (size_t i = 0; i < c->ntokens; i++)
		json_object_array_add(ts, json_object_new_string(c->tokens[i]));
	json_object_object_add(o, "tokens", ts);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int ctl_cmd_classify(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text";
	struct cd_classified c;
	struct cd_error err;
	char *raw = NULL;
	size_t len = 0;
	int ch, rc;

	(void)config;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch == 'f' && (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0)) {
			format = optarg;
			continue;
		}
		if (ch == 'f')
			fprintf(stderr, "candorctl classify: --format is text or json, not \"%s\"\n", optarg);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "candorctl classify: expected one FILE (or - for standard input)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cd_util_read_bytes(argv[optind], MAX_MAIL, &raw, &len, &err) < 0)
		return ctl_fail(&err);
	if (cd_classify(raw, len, &c) < 0) {
		fprintf(stderr, "candorctl classify: out of memory\n");
		free(raw);
		return 1;
	}
	if (strcmp(format, "json") == 0)
		rc = print_json(&c) < 0 ? 1 : 0;
	else
		print_text(&c), rc = 0;
	cd_classified_free(&c);
	free(raw);
	return rc;
}
