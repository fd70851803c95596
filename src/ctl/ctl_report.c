/*
 * ctl_report.c - "candorctl report": what each campaign's variants
 * achieved, as text, JSON, CSV or one HTML page.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/report.h"
#include "ctl.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] report [--campaign NAME] [--since YYYY-MM-DD]\n"
		"                                [--until YYYY-MM-DD] [--format text|json|csv|html]\n"
		"Per campaign and variant: sent, delivered, replied, unsubscribed, feedback left\n"
		"in the campaign window, the feedback rate among delivered mails with a 95%%\n"
		"interval, the lift against the control (the first variant), a p-value and a\n"
		"verdict; reminders apart from first requests; the rate per locale and over\n"
		"time; why negative feedback was left (in shop.locale's language); what\n"
		"apologies brought. The header gives the dates covered and when it was made.\n\n"
		"  -C, --campaign NAME  one campaign (default: all)\n"
		"  -s, --since DATE     messages made on or after DATE (UTC)\n"
		"  -u, --until DATE     messages made on or before DATE (UTC)\n"
		"  -f, --format FMT     text (default), json, csv or html (one self-contained page)\n"
		"  -h, --help           show this help and exit\n");
}

/* "YYYY-MM-DD" as Unix seconds at 00:00 UTC; -1 if it is not a date. */
static int64_t parse_day(const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%d", &tm);

	if (!end || *end || tm.tm_year < 70)
		return -1;
	return (int64_t)timegm(&tm);
}

int ctl_cmd_report(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "campaign", required_argument, NULL, 'C' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *campaign = NULL, *format = "text";
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_report r;
	struct cd_error err;
	int64_t since = 0, until = 0;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "C:s:u:f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'C':
			campaign = optarg;
			break;
		case 's':
			if ((since = parse_day(optarg)) < 0) {
				fprintf(stderr, "candorctl report: --since takes YYYY-MM-DD, not \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			/* the whole day: made before the next midnight */
			if ((until = parse_day(optarg)) < 0) {
				fprintf(stderr, "candorctl report: --until takes YYYY-MM-DD, not \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			until += 86400;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "csv") &&
			    strcmp(optarg, "html")) {
				fprintf(stderr, "candorctl report: --format is text, json, csv or html, not \"%s\"\n",
					optarg);
				return EXIT_USAGE;
			}
			format = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (until && until <= since) {
		fprintf(stderr, "candorctl report: --until is before --since\n");
		return EXIT_USAGE;
	}
	if ((rc = ctl_open_store(config, CD_STORE_READONLY, &cfg, &st)) != 0)
		goto out;
	if (cd_report_build(st, cfg, campaign, since, until, &r, &err) < 0) {
		rc = err.code == CD_ENOTFOUND ? (ctl_fail(&err), EXIT_USAGE) : ctl_fail(&err);
		goto out;
	}
	rc = strcmp(format, "json") == 0 ? cd_report_json(&r, stdout)
	     : strcmp(format, "csv") == 0 ? cd_report_csv(&r, stdout)
	     : strcmp(format, "html") == 0 ? cd_report_html(&r, cfg->shop.name, stdout)
	     : cd_report_text(&r, stdout);
	if (rc < 0) {
		fprintf(stderr, "candorctl report: cannot write the report\n");
		rc = 1;
	}
	cd_report_free(&r);
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}
