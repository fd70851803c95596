/*
 * ctl_classify.c - "candorctl classify": what the tracker would make of
 * one mail file, without a database or a server; with --stats, how many
 * of a labelled folder of mails it gets right.
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/classify.h"
#include "candor/util.h"
#include "ctl.h"

#define MAX_MAIL (64u << 20)

static void usage(FILE *out)
{
	fprintf(out, "Usage: candorctl classify [--format text|json] FILE.eml|-\n"
		"       candorctl classify --stats [--list] [--min PERCENT] DIR...\n"
		"Classify one mail as the tracker would: reply, hard_bounce, soft_bounce,\n"
		"auto_reply, unsubscribe or other.\n\n"
		"  -f, --format FMT  text (default): KIND<TAB>RECIPIENT<TAB>DETAIL, one line per\n"
		"                    failed recipient of a bounce, else one line;\n"
		"                    json: one object with every recipient and token, the\n"
		"                    sender's own words and what they ask\n"
		"  -s, --stats       classify every mail DIR/expected.tsv names (columns\n"
		"                    file, kind, recipient) and print one line of figures per\n"
		"                    DIR: kinds right, unsubscribe requests caught, other\n"
		"                    mail called unsubscribe, bounce recipients right\n"
		"  -l, --list        with --stats, also each mail it gets wrong\n"
		"  -m, --min PCT     with --stats, exit 1 when a DIR has fewer kinds right\n"
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
	if (c->words) {
		json_object *in = json_object_new_object();
		static const char *const verdicts[] = { "none", "stop", "keep" };

		json_object_object_add(o, "words", json_object_new_string(c->words));
		json_object_object_add(in, "verdict", json_object_new_string(verdicts[c->intent.verdict]));
		json_object_object_add(in, "from_subject", json_object_new_boolean(c->intent.from_subject));
		json_object_object_add(in, "lang", json_object_new_string(c->intent.lang));
		json_object_object_add(in, "cue", json_object_new_string(c->intent.cue));
		json_object_object_add(in, "said", json_object_new_string(c->intent.said));
		json_object_object_add(o, "intent", in);
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

struct tally {
	long mails, right, unsub, unsub_caught, replies, replies_unsub, others_unsub, rcpts, rcpts_right;
	long missing;
};

/* Classify FILE (in DIR) and count it against KIND and RCPT. */
static void score(const char *dir, const char *file, const char *kind, const char *rcpt, int list,
		  struct tally *t)
{
	char path[4096], got_rcpt[256] = "-";
	const char *got = "unreadable";
	struct cd_classified c;
	struct cd_error err;
	char *raw = NULL;
	size_t len = 0;
	int classified = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	t->mails++;
	if (cd_util_read_bytes(path, MAX_MAIL, &raw, &len, &err) < 0)
		t->missing++;
	else if (cd_classify(raw, len, &c) == 0)
		classified = 1;
	if (classified) {
		/* a bounce: the kind of the line about RCPT, as the tracker acts on it */
		const struct cd_bounce_rcpt *r = c.bounce.n ? &c.bounce.r[0] : NULL;

		for (size_t i = 0; i < c.bounce.n; i++)
			if (strcasecmp(c.bounce.r[i].addr, rcpt) == 0)
				r = &c.bounce.r[i];
		got = cd_mail_kind_name(c.kind);
		if ((c.kind == CD_MAIL_HARD_BOUNCE || c.kind == CD_MAIL_SOFT_BOUNCE) && r) {
			got = r->hard ? "hard_bounce" : "soft_bounce";
			snprintf(got_rcpt, sizeof(got_rcpt), "%s", r->addr[0] ? r->addr : "-");
		}
	}
	t->right += strcmp(got, kind) == 0;
	if (strcmp(kind, "unsubscribe") == 0) {
		t->unsub++;
		t->unsub_caught += strcmp(got, kind) == 0;
	} else if (strcmp(got, "unsubscribe") == 0) {
		t->others_unsub++;
		t->replies_unsub += strcmp(kind, "reply") == 0;
	}
	t->replies += strcmp(kind, "reply") == 0;
	if (strcmp(kind, "hard_bounce") == 0 || strcmp(kind, "soft_bounce") == 0) {
		t->rcpts++;
		t->rcpts_right += strcasecmp(got_rcpt, rcpt) == 0;
	}
	if (list && (strcmp(got, kind) != 0 || ((strcmp(kind, "hard_bounce") == 0 ||
						 strcmp(kind, "soft_bounce") == 0) &&
						strcasecmp(got_rcpt, rcpt) != 0)))
		printf("%s\texpected %s %s\tgot %s %s%s%.200s\n", path, kind, rcpt, got, got_rcpt,
		       classified ? "\t" : "", classified ? c.detail : "");
	if (classified)
		cd_classified_free(&c);
	free(raw);
}

static double pct(long n, long of)
{
	return of ? 100.0 * (double)n / (double)of : 100.0;
}

static void print_tally(const char *name, const struct tally *t)
{
	printf("%s: %ld mails, kinds right %ld (%.1f%%), unsubscribe requests caught %ld of %ld"
	       " (%.1f%%), replies called unsubscribe %ld of %ld, other mail called unsubscribe %ld,"
	       " bounce recipients right %ld of %ld\n", name, t->mails, t->right,
	       pct(t->right, t->mails), t->unsub_caught, t->unsub, pct(t->unsub_caught, t->unsub),
	       t->replies_unsub, t->replies, t->others_unsub - t->replies_unsub, t->rcpts_right,
	       t->rcpts);
}

/* --stats: every mail of each DIR against its expected.tsv. */
static int stats(int n, char **dirs, int list, double min)
{
	struct tally all = { 0 };
	int below = 0;

	for (int d = 0; d < n; d++) {
		char path[4096], line[2048];
		struct tally t = { 0 };
		FILE *f;

		snprintf(path, sizeof(path), "%s/expected.tsv", dirs[d]);
		if (!(f = fopen(path, "r"))) {
			fprintf(stderr, "candorctl classify: cannot read %s\n", path);
			return 1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *file, *kind, *rcpt, *save = NULL;

			line[strcspn(line, "\r\n")] = '\0';
			file = strtok_r(line, "\t", &save);
			kind = file ? strtok_r(NULL, "\t", &save) : NULL;
			rcpt = kind ? strtok_r(NULL, "\t", &save) : NULL;
			if (!kind || strcmp(file, "file") == 0 || file[0] == '#')
				continue;
			score(dirs[d], file, kind, rcpt ? rcpt : "-", list, &t);
		}
		fclose(f);
		print_tally(dirs[d], &t);
		if (t.missing)
			printf("%s: %ld mails could not be read\n", dirs[d], t.missing);
		below |= pct(t.right, t.mails) < min || t.missing;
		all.mails += t.mails, all.right += t.right, all.unsub += t.unsub;
		all.unsub_caught += t.unsub_caught, all.replies += t.replies;
		all.replies_unsub += t.replies_unsub, all.others_unsub += t.others_unsub;
		all.rcpts += t.rcpts, all.rcpts_right += t.rcpts_right;
	}
	if (n > 1)
		print_tally("all", &all);
	return below ? 1 : 0;
}

int ctl_cmd_classify(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 's' },
		{ "list", no_argument, NULL, 'l' },
		{ "min", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text";
	struct cd_classified c;
	struct cd_error err;
	char *raw = NULL, *end;
	size_t len = 0;
	int ch, rc, want_stats = 0, list = 0;
	double min = 0;

	(void)config;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:slm:h", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch == 's' || ch == 'l') {
			*(ch == 's' ? &want_stats : &list) = 1;
			continue;
		}
		if (ch == 'm' && (min = strtod(optarg, &end), end != optarg && *end == '\0' &&
				  min >= 0 && min <= 100))
			continue;
		if (ch == 'm')
			fprintf(stderr, "candorctl classify: --min is a percentage, not \"%s\"\n", optarg);
		if (ch == 'f' && (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0)) {
			format = optarg;
			continue;
		}
		if (ch == 'f')
			fprintf(stderr, "candorctl classify: --format is text or json, not \"%s\"\n", optarg);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (want_stats) {
		if (optind >= argc) {
			fprintf(stderr, "candorctl classify: --stats needs at least one DIR\n");
			usage(stderr);
			return EXIT_USAGE;
		}
		return stats(argc - optind, argv + optind, list, min);
	}
	if (list || min > 0) {
		fprintf(stderr, "candorctl classify: --list and --min go with --stats\n");
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
