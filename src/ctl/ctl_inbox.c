/*
 * ctl_inbox.c - "candorctl inbox": the inbox mails the tracker left for
 * a human, newest first, with the reason; and the lines "candorctl
 * status" prints about them.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/store_left.h"
#include "ctl.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] inbox [--reason R] [--limit N]\n"
		"The inbox mails candor could not act on and left in the mailbox for a\n"
		"human, newest first: ID, RECEIVED, SENDER, REASON, SUBJECT, WORDS (tab-\n"
		"separated, one line each). Above all: requests to stop that carry no\n"
		"token of ours; act on one with 'candorctl suppress --reason unsubscribed\n"
		"ADDRESS' once you know the sender is the customer.\n\n"
		"  -r, --reason R  only unverified_unsubscribe, unverified_complaint,\n"
		"                  unmatched or not_ours\n"
		"  -n, --limit N   at most N mails (default 50; 0 for all)\n"
		"  -h, --help      show this help and exit\n");
}

/* S on one line, at most MAX bytes (on a character boundary). */
static void one_line(const char *s, size_t max)
{
	size_t n = 0;
	int space = 0;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	for (; *s && n < max; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			space = 1;
			continue;
		}
		if (n + 4 > max && ((unsigned char)*s & 0xC0) != 0x80)
			break;
		if (space)
			putchar(' '), n++;
		space = 0;
		putchar(*s);
		n++;
	}
}

static int print_mail(void *arg, const struct cd_inbox_mail *m)
{
	time_t t = (time_t)m->received;
	char when[32];
	struct tm tm;

	(void)arg;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	printf("%lld\t%s\t%s\t%s%s\t", (long long)m->id, when, m->sender[0] ? m->sender : "-",
	       cd_store_inbox_reason_text(m->reason),
	       m->reason == CD_INBOX_UNVERIFIED_UNSUBSCRIBE && m->suppressed ? " (sender suppressed)" : "");
	one_line(m->subject, 120);
	putchar('\t');
	one_line(m->body, 160);
	putchar('\n');
	return 0;
}

int ctl_cmd_inbox(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cd_inbox_reason reason = CD_INBOX_NREASONS;
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	long long limit = 50;
	char *end;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:n:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'r':
			if ((reason = cd_store_inbox_reason_parse(optarg)) == CD_INBOX_NREASONS) {
				fprintf(stderr, "candorctl inbox: no reason \"%s\"\n", optarg);
				usage(stderr);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			limit = strtoll(optarg, &end, 10);
			if (end == optarg || *end || limit < 0) {
				fprintf(stderr, "candorctl inbox: --limit is a count, not \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "candorctl inbox: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = ctl_open_store(config, CD_STORE_READONLY, &cfg, &st)) != 0)
		goto out;
	if (cd_store_inbox_list(st, reason, limit, print_mail, NULL, &err) < 0)
		rc = ctl_fail(&err);
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

int ctl_inbox_status(struct cd_store *st)
{
	int64_t counts[CD_INBOX_NREASONS], all = 0, waiting;
	struct cd_error err;

	if (cd_store_inbox_count(st, counts, &waiting, &err) < 0)
		return ctl_fail(&err);
	for (int i = 0; i < CD_INBOX_NREASONS; i++)
		all += counts[i];
	printf("%-14s %lld (candorctl inbox lists them)\n", "left for human", (long long)all);
	printf("unsubscribe requests without a valid token: %lld (%lld of their senders not suppressed)\n",
	       (long long)counts[CD_INBOX_UNVERIFIED_UNSUBSCRIBE], (long long)waiting);
	if (waiting)
		printf("note: %lld customer(s) asked to stop without a token of ours; check each with "
		       "'candorctl inbox --reason unverified_unsubscribe' and 'candorctl suppress'\n",
		       (long long)waiting);
	return 0;
}
