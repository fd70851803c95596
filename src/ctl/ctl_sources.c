/*
 * ctl_sources.c - `candorctl sources [--test NAME] [--show N]`: the
 * order sources with their state (cursor, last poll, lag, rows, errors),
 * or one poll of NAME that writes nothing and shows the first mapped
 * orders and every mapping problem.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/source.h"
#include "candor/util.h"
#include "ctl.h"

static void usage(FILE *out)
{
	fputs("usage: candorctl sources [--test NAME [--show N]]\n"
	      "  without options: every source with its cursor, last poll, lag, rows and errors\n"
	      "  --test NAME      one poll of NAME that writes nothing: the first mapped orders\n"
	      "                   (--show, default 10) and every mapping problem\n", out);
}

int ctl_cmd_sources(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "test", required_argument, NULL, 't' },
		{ "show", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	const char *test = NULL;
	int show = 10, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			test = optarg;
			break;
		case 's':
			show = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (test) {
		/* the stored cursor if there is a store; none is fine too */
		/* the source's database password is needed to poll it */
		if ((rc = ctl_load_config(config, CD_CONFIG_SECRETS, &cfg)) != 0)
			return rc;
		if (cd_store_open_config(cfg, CD_STORE_READONLY, &st, &err) < 0)
			st = NULL;
		rc = cd_source_test(cfg, st, test, show, stdout, &err);
		if (rc == CD_ENOTFOUND)
			rc = (ctl_fail(&err), EXIT_USAGE);
		else if (rc < 0)
			rc = ctl_fail(&err);
		goto out;
	}
	if ((rc = ctl_open_store(config, CD_STORE_READONLY, &cfg, &st)) != 0)
		goto out;
	if (cd_sources_list(cfg, st, cd_util_now(), stdout, &err) < 0)
		rc = ctl_fail(&err);
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}
