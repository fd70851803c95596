/*
 * candorctl.c - the admin tool: one function per command, each parsing
 * its own arguments and calling into libcandor.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "candor/compose.h"
#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/history.h"
#include "candor/import.h"
#include "candor/log.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/store_inbox.h"
#include "candor/template.h"
#include "candor/units.h"
#include "candor/util.h"

#include "ctl.h"

#define MAX_REPORTED 50

int ctl_config_given;

struct command {
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(const char *config, int argc, char **argv);
};

void ctl_print_errors(const struct cd_errors *errs)
{
	char buf[1024];

	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "candorctl: %s\n", cd_error_format(&errs->items[i], buf, sizeof(buf)));
}

/* Load the config, printing every problem; returns 0 or the exit code. */
int ctl_load_config(const char *path, int config_flags, struct cd_config **cfg)
{
	struct cd_errors errs = { 0 };
	int rc = cd_config_load_with(path, config_flags, cfg, &errs);

	ctl_print_errors(&errs);
	cd_errors_clear(&errs);
	return rc < 0 ? CD_EXIT_CONFIG : 0;
}

int ctl_fail(const struct cd_error *err)
{
	char buf[1024];

	fprintf(stderr, "candorctl: %s\n", cd_error_format(err, buf, sizeof(buf)));
	return 1;
}

/* Load the config and open its database (FLAGS as cd_store_open); returns
 * 0, or the exit code after printing why. The caller frees both. */
int ctl_open_store(const char *path, int flags, struct cd_config **cfg,
		   struct cd_store **st)
{
	struct cd_error err;
	int rc = ctl_load_config(path, (flags & CTL_SECRETS ? CD_CONFIG_SECRETS : 0) |
				 (flags & CTL_TEMPLATES ? CD_CONFIG_TEMPLATES : 0), cfg);

	if (rc != 0)
		return rc;
	if (cd_store_open_config(*cfg, flags & ~(CTL_SECRETS | CTL_TEMPLATES), st, &err) < 0)
		return ctl_fail(&err);
	return 0;
}

int ctl_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Commands take no options of their own yet beyond --help. */
static int no_args(const char *name, const char *args, int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: candorctl [-c FILE] %s %s\n", name, args);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "candorctl %s: unexpected argument '%s'\n", name, argv[1]);
		return EXIT_USAGE;
	}
	return -1;
}

static int cmd_check_config(const char *path, int argc, char **argv)
{
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	struct cd_templates *tpl = NULL;
	int rc = no_args("check-config", "", argc, argv);

	if (rc >= 0)
		return rc;
	if ((rc = ctl_load_config(path, CD_CONFIG_SECRETS | CD_CONFIG_TEMPLATES, &cfg)) != 0)
		return rc;
	if (cd_templates_load(cfg, &tpl, &errs) < 0) {
		ctl_print_errors(&errs);
		rc = CD_EXIT_CONFIG;
		goto out;
	}
	cd_config_print(cfg, stdout);
	cd_errors_clear(&errs);
	cd_templates_warnings(tpl, cfg, &errs);
	for (size_t i = 0; i < errs.count; i++) {
		char buf[1024];

		fprintf(stderr, "candorctl: warning: %s\n",
			cd_error_format(&errs.items[i], buf, sizeof(buf)));
	}
	{
		char store[512];

		cd_store_config_where(cfg, store, sizeof(store));
		fprintf(stderr, "candorctl: paths used:\n");
		cd_config_print_paths(path, cfg, store, stderr);
	}
	fprintf(stderr, "candorctl: %s is valid%s\n", path, errs.count ? " (see the warnings)" : "");
out:
	cd_errors_clear(&errs);
	cd_templates_free(tpl);
	cd_config_free(cfg);
	return rc;
}

static int cmd_init(const char *path, int argc, char **argv)
{
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	int rc = no_args("init", "", argc, argv), created;

	if (rc >= 0)
		return rc;
	if ((rc = ctl_open_store(path, CD_STORE_CREATE, &cfg, &st)) != 0)
		goto out;
	if (cd_store_init_secret(st, &created, &err) < 0) {
		rc = ctl_fail(&err);
		goto out;
	}
	printf("%s: schema version %d, %s\n", cd_store_name(st), CD_STORE_SCHEMA_VERSION,
	       created ? "new token secret created" : "token secret kept");
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

static void print_time(const char *label, int64_t t)
{
	char buf[64] = "none";

	if (t > 0) {
		time_t tt = (time_t)t;
		struct tm tm;

		localtime_r(&tt, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm);
	}
	printf("%-14s %s\n", label, buf);
}

/* What a cycle would do now: due orders, and those that wait by reason
 * (a plan: the daemon's own queries, window and limits, writing
 * nothing). */
static int print_plan(const struct cd_config *cfg, struct cd_store *st)
{
	struct cd_cycle c = { .cfg = cfg, .store = st, .plan_only = 1 };
	struct cd_cycle_stats s;
	struct cd_error err;
	int64_t all = 0;

	if (cd_cycle_run(&c, &s, &err) < 0)
		return ctl_fail(&err);
	for (int w = CD_WAIT_NONE + 1; w < CD_WAIT_NREASONS; w++)
		all += s.waiting[w];
	printf("%-14s %lld\n", "due now", (long long)s.due);
	printf("%-14s %lld\n", "waiting", (long long)all);
	for (int w = CD_WAIT_NONE + 1; w < CD_WAIT_NREASONS; w++)
		if (s.waiting[w])
			printf("  %-12s %lld\n", cd_wait_name(w), (long long)s.waiting[w]);
	return 0;
}

static int cmd_status(const char *path, int argc, char **argv)
{
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	int64_t counts[CD_MSG_NSTATES];
	struct cd_error err;
	int rc = no_args("status", "", argc, argv);

	if (rc >= 0)
		return rc;
	if ((rc = ctl_open_store(path, CD_STORE_READONLY, &cfg, &st)) != 0)
		goto out;
	if (cd_store_count_states(st, counts, &err) < 0) {
		rc = ctl_fail(&err);
		goto out;
	}
	printf("%-14s %s\n", "database", cd_store_name(st));
	for (int i = 0; i < CD_MSG_NSTATES; i++)
		printf("%-14s %lld\n", cd_store_state_name(i), (long long)counts[i]);
	if ((rc = ctl_inbox_status(st)) != 0)
		goto out;
	if (counts[CD_MSG_SENDING])
		printf("note: %lld message(s) in 'sending' were interrupted by a crash or are being sent now; candor never sends them again on its own\n",
		       (long long)counts[CD_MSG_SENDING]);
	print_time("next due", cd_cycle_next_due(cfg, st, cd_util_now()));
	if ((rc = print_plan(cfg, st)) != 0)
		goto out;
	{
		char pause[300];

		if (cd_sender_is_paused(st, cfg, cd_util_now(), pause, sizeof(pause)) ||
		    (pause[0] && printf("note: sending was paused %s; candord tries again now\n", pause) < 0))
			printf("sending        PAUSED %s\n"
			       "note: the SMTP server refused our login, sender or TLS; fix smtp in %s and reload\n",
			       pause, path);
	}
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

struct import_report {
	int64_t shown;
};

static void report_bad_row(void *arg, const struct cd_error *e)
{
	struct import_report *r = arg;
	char buf[1024];

	if (r->shown++ < MAX_REPORTED)
		fprintf(stderr, "candorctl: %s\n", cd_error_format(e, buf, sizeof(buf)));
}

static const char *orders_word(int64_t n)
{
	return n == 1 ? "order" : "orders";
}

/* What the config's campaigns will make of the orders just written, so
 * an import that can never become mail says so now, not weeks later. */
static void print_outlook(const struct cd_import_stats *s)
{
	for (size_t i = 0; i < s->noutlook; i++) {
		const struct cd_import_outlook *o = &s->outlook[i];
		const char *trig = cd_config_trigger_name(o->campaign->trigger);

		printf("  campaign \"%s\" (trigger = \"%s\"): %lld %s can be mailed",
		       o->campaign->name, trig, (long long)o->can_mail, orders_word(o->can_mail));
		if (o->no_date)
			printf("; %lld never: no %s date%s", (long long)o->no_date, trig,
			       o->campaign->trigger != CD_TRIGGER_DELIVERED ? ""
			       : strcmp(s->format, "Shopify CSV") == 0
			       ? " (a Shopify export has none: use trigger = \"shipped\", or "
				 "import the delivery dates)"
			       : " (use trigger = \"shipped\" if the file has shipping dates, or "
				 "import the delivery dates)");
		if (o->expired) {
			char d[32];

			printf("; %lld never: %s more than expire (%s) ago", (long long)o->expired,
			       trig, cd_units_format_duration(o->campaign->expire, d, sizeof(d)));
		}
		printf("\n");
	}
	if (s->closed)
		printf("  %lld %s returned, refunded or cancelled: never mailed\n",
		       (long long)s->closed, orders_word(s->closed));
	for (size_t i = 0; i < s->nchannels; i++)
		if (!s->channels[i].known)
			printf("  channel \"%s\" (%lld %s) is not in the config's channels: its "
			       "mails carry no feedback link\n", s->channels[i].name,
			       (long long)s->channels[i].orders, orders_word(s->channels[i].orders));
	if (s->other_channels)
		printf("  %lld %s on further channels, not checked against the config\n",
		       (long long)s->other_channels, orders_word(s->other_channels));
	if (s->locale_from_country)
		printf("  locale taken from the country for %lld %s (where none was stored)\n",
		       (long long)s->locale_from_country, orders_word(s->locale_from_country));
	if (s->no_locale)
		printf("  %lld %s with neither locale nor country: mailed in the templates' "
		       "default language\n", (long long)s->no_locale, orders_word(s->no_locale));
}

static int import_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] import orders|feedback [--skip-bad REJECTS] FILE\n"
		"Import CSV (candor's columns, a Shopify or a WooCommerce orders export)\n"
		"or JSON Lines;\n"
		"FILE \"-\" reads standard input. Orders already in the database are\n"
		"updated in place. By default a single bad row imports nothing;\n"
		"--skip-bad imports the good rows and writes the bad ones to REJECTS.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

static int cmd_import(const char *path, int argc, char **argv)
{
	struct cd_import_opts o = { .progress = isatty(STDERR_FILENO) };
	struct cd_import_stats stats;
	struct import_report rep = { 0 };
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	int rc, i = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return import_usage(stdout);
	if (argc < 3 || (strcmp(argv[1], "orders") != 0 && strcmp(argv[1], "feedback") != 0))
		return import_usage(stderr);
	o.kind = strcmp(argv[i++], "orders") == 0 ? CD_IMPORT_ORDERS : CD_IMPORT_FEEDBACK;
	if (strcmp(argv[i], "--skip-bad") == 0) {
		if (argc != 5)
			return import_usage(stderr);
		o.reject = argv[i + 1];
		i += 2;
	}
	if (i != argc - 1)
		return import_usage(stderr);
	o.path = argv[i];
	if ((rc = ctl_open_store(path, 0, &cfg, &st)) != 0)
		goto out;
	o.cfg = cfg;
	rc = cd_import_run(st, &o, report_bad_row, &rep, &stats, &err);
	if (rep.shown > MAX_REPORTED)
		fprintf(stderr, "candorctl: ... and %lld more bad rows\n",
			(long long)(rep.shown - MAX_REPORTED));
	if (rc < 0) {
		ctl_fail(&err);
		rc = rc == CD_EINVAL ? EXIT_DATAERR : 1;
		goto out;
	}
	printf("%s: %lld rows (%s): %lld %s written, %lld new", o.path, (long long)stats.rows,
	       stats.format, (long long)stats.records,
	       o.kind == CD_IMPORT_ORDERS ? "orders" : "feedback entries", (long long)stats.added);
	if (o.reject)
		printf(", %lld rows rejected to %s", (long long)stats.rejected, o.reject);
	printf("\n");
	print_outlook(&stats);
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

static int cmd_history(const char *path, int argc, char **argv)
{
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: candorctl [-c FILE] history ORDER\n"
		       "Everything candor knows and did about one order.\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: candorctl [-c FILE] history ORDER\n");
		return EXIT_USAGE;
	}
	if ((rc = ctl_open_store(path, CD_STORE_READONLY, &cfg, &st)) == 0 &&
	    cd_history_print(st, argv[1], stdout, &err) < 0)
		rc = ctl_fail(&err);
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

static int suppress_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] suppress [--reason R] [--detail TEXT] ADDRESS\n"
		"       candorctl [-c FILE] suppress --remove ADDRESS\n"
		"       candorctl [-c FILE] suppress --list\n"
		"Never mail ADDRESS again (compared without case). R is blocked (the\n"
		"default: the shop blocks an abusive customer), unsubscribed, complaint,\n"
		"hard_bounce or soft_bounce.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

/* ADDRESS, reason, time (UTC) and detail, tab-separated: for scripts. */
static int print_suppression(void *arg, const struct cd_suppression *s)
{
	time_t t = (time_t)s->at;
	char when[32];
	struct tm tm;

	(void)arg;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	printf("%s\t%s\t%s\t%s\n", s->email, s->reason, when, s->detail ? s->detail : "");
	return 0;
}

static int list_suppressions(struct cd_store *st)
{
	return cd_store_suppressions(st, print_suppression, NULL) < 0 ? 1 : 0;
}

static int cmd_suppress(const char *path, int argc, char **argv)
{
	const char *reason = "blocked", *detail = NULL, *address = NULL;
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_error err;
	int rc, remove = 0, list = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return suppress_usage(stdout);
		else if (strcmp(argv[i], "--remove") == 0)
			remove = 1;
		else if (strcmp(argv[i], "--list") == 0)
			list = 1;
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (strcmp(argv[i], "--detail") == 0 && i + 1 < argc)
			detail = argv[++i];
		else if (argv[i][0] != '-' && !address)
			address = argv[i];
		else
			return suppress_usage(stderr);
	}
	if (list ? (address || remove) : !address)
		return suppress_usage(stderr);
	if (address && !cd_util_address_ok(address)) {
		fprintf(stderr, "candorctl: \"%s\" is not an address\n", address);
		return EXIT_USAGE;
	}
	if ((rc = ctl_open_store(path, list ? CD_STORE_READONLY : 0, &cfg, &st)) != 0)
		goto out;
	if (list)
		rc = list_suppressions(st);
	else if ((remove ? cd_store_unsuppress(st, address, &err)
			 : cd_store_suppress(st, address, reason, detail, cd_util_now(), &err)) < 0)
		rc = err.code == CD_EINVAL ? (ctl_fail(&err), EXIT_USAGE) : ctl_fail(&err);
	else
		printf("%s: %s\n", address, remove ? "may be mailed again" : reason);
out:
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}

static const struct command commands[] = {
	{ "init", "", "create or migrate the database and its token secret", cmd_init },
	{ "migrate", "", "copy the SQLite store into PostgreSQL (--to postgresql), verified", ctl_cmd_migrate },
	{ "check-config", "", "validate the configuration and templates, print the effective settings", cmd_check_config },
	{ "status", "", "message counts by state, the next due time, what is due now and what waits, by reason", cmd_status },
	{ "import", "", "import orders or feedback (CSV, Shopify/WooCommerce CSV, JSON Lines)", cmd_import },
	{ "sources", "", "the shop's order sources and their state; --test NAME polls one without writing", ctl_cmd_sources },
	{ "report", "", "A/B results per campaign and variant: rates, intervals, p-values, verdicts", ctl_cmd_report },
	{ "history", "", "everything that happened to one order", cmd_history },
	{ "suppress", "", "never mail an address again (or --remove, --list)", cmd_suppress },
	{ "lint", "", "check wording for bought, gated or pressured reviews", ctl_cmd_lint },
	{ "preview", "", "show the complete mail an order would get, and its verdict", ctl_cmd_preview },
	{ "render", "", "render one Mustache template with JSON data", ctl_cmd_render },
	{ "classify", "", "classify one inbox mail: reply, bounce, auto-reply, unsubscribe, other", ctl_cmd_classify },
	{ "inbox", "", "inbox mails left for a human, with the reason (unsubscribes without a token first of all)", ctl_cmd_inbox },
	{ "send-test", "", "send one sample mail to an address and show the SMTP dialogue", ctl_cmd_send_test },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] COMMAND [ARGS]...\n"
		"Administer candor: database, configuration and messages.\n\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -h, --help         show this help and exit\n"
		"  -V, --version      show the version and exit\n\n"
		"Commands:\n", cd_config_default_path());
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'candorctl COMMAND --help' describes one command. See candorctl(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = cd_config_default_path();
	int c;

	cd_log_init("candorctl", CD_LOG_STDERR, CD_LOG_WARNING);
	/* "+": stop at the command name; its own options follow it */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; ctl_config_given = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("candorctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			/* -c may also come after the command */
			if (sub_argc >= 3 && (strcmp(sub_argv[1], "-c") == 0 ||
					      strcmp(sub_argv[1], "--config") == 0)) {
				config = sub_argv[2];
				sub_argv[2] = sub_argv[0];
				sub_argv += 2;
				sub_argc -= 2;
			}
			return commands[i].run(config, sub_argc, sub_argv);
		}
	}
	fprintf(stderr, "candorctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
