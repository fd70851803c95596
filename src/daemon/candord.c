/*
 * candord.c - the daemon's main(): parse arguments, set up logging, run.
 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/daemon.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/web.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: candord [OPTION]...\n"
		"Send honest feedback requests for a shop's orders, and track the answers.\n"
		"\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"      --once            run one full cycle, then exit\n"
		"      --dry-run         do everything but hand mail over: messages go to\n"
		"                        the outbox directory and nothing is recorded\n"
		"      --web             serve the web endpoint instead (one-click\n"
		"                        unsubscribe, click tracking, /metrics): on the\n"
		"                        socket systemd passes, else on http.listen; the\n"
		"                        mail passwords are not read\n"
		"      --log-level LEVEL error, warning, notice, info or debug\n"
		"                        (default: the config's log_level)\n"
		"      --syslog          log to syslog instead of standard error\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n"
		"\n"
		"Signals: SIGHUP reloads the configuration and templates; SIGTERM and\n"
		"SIGINT stop after the current message.\n"
		"Exit status: 0 success, 1 failure, 64 usage error, 78 configuration error.\n"
		"See candord(8) and candor.conf(5).\n",
		cd_config_default_path());
}

/* --help ends with the paths the daemon would use with PATH: what the
 * file says when it loads, else the built-in defaults. */
static void print_paths(const char *path)
{
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	char store[512] = "", buf[1024];

	if (cd_config_load_with(path, 0, &cfg, &errs) == 0)
		cd_store_config_where(cfg, store, sizeof(store));
	printf("\nPaths (from the configuration file, else the built-in defaults):\n");
	cd_config_print_paths(path, cfg, store, stdout);
	if (!cfg && errs.count)
		printf("  (the configuration does not load: %s)\n",
		       cd_error_format(&errs.items[0], buf, sizeof(buf)));
	cd_errors_clear(&errs);
	cd_config_free(cfg);
}

int main(int argc, char **argv)
{
	enum { OPT_ONCE = 256, OPT_DRY, OPT_LEVEL, OPT_SYSLOG, OPT_WEB };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "log-level", required_argument, NULL, OPT_LEVEL },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "web", no_argument, NULL, OPT_WEB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cd_daemon_opts o = { .config_path = cd_config_default_path(), .log_level = -1 };
	enum cd_log_target target = CD_LOG_AUTO;
	int c, rc, web = 0, help = 0;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case OPT_ONCE: o.once = 1; break;
		case OPT_DRY: o.dry_run = 1; break;
		case OPT_SYSLOG: target = CD_LOG_SYSLOG; break;
		case OPT_WEB: web = 1; break;
		case OPT_LEVEL:
			o.log_level = cd_log_level_parse(optarg);
			if (o.log_level < 0) {
				fprintf(stderr, "candord: unknown log level '%s' (error, warning, notice, info, debug)\n",
					optarg);
				return 64;
			}
			break;
		case 'h': help = 1; break;
		case 'V': printf("candord %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (help) {
		/* after the other options, so "-c FILE --help" shows FILE's paths */
		usage(stdout);
		print_paths(o.config_path);
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "candord: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 64;
	}
	if (web && (o.once || o.dry_run)) {
		fprintf(stderr, "candord: --web serves until stopped; it takes neither --once nor --dry-run\n");
		return 64;
	}
	cd_log_init(web ? "candord-web" : "candord", target,
		    o.log_level < 0 ? CD_LOG_INFO : o.log_level);
	if (web) {
		rc = cd_web_main(o.config_path, o.log_level);
		cd_log_fini();
		return rc;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cd_daemon_run(&o);
	curl_global_cleanup();
	cd_log_fini();
	return rc;
}
