/*
 * compose_bench.c - issue 4's figure: messages rendered and composed per
 * second on one core. Each message goes the whole way a daemon takes it
 * after the scheduler: variant, HMAC token, random Message-ID, template
 * data from the order, subject/text/HTML from the shipped German review
 * request (partials and all), quoted-printable, multipart/alternative.
 *
 * Two runs in one program: msgs_per_s is issue 4's figure, rendering
 * plus composing (the packs directory is empty, so no rule is checked);
 * checked_msgs_per_s is the daemon's whole path, every message also
 * checked against all shipped compliance packs (issue 5) before it
 * would be queued.
 *
 * Last line: msgs_per_s=... checked_msgs_per_s=... msg_bytes=...
 *
 * Usage: compose_bench [SOURCE_DIR [SECONDS]]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "candor/config.h"
#include "candor/due.h"
#include "candor/message.h"
#include "candor/template.h"
#include "candor/util.h"

static void die(const char *what, const struct cd_error *err)
{
	char buf[1024];

	fprintf(stderr, "compose_bench: %s: %s\n", what,
		err ? cd_error_format(err, buf, sizeof(buf)) : "failed");
	exit(1);
}

static struct cd_config *load_config(const char *top, const char *packs)
{
	char path[] = "/tmp/candor-compose-bench.XXXXXX";
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	int fd = mkstemp(path);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!fp)
		die("cannot write a config", NULL);
	fprintf(fp, "database = \"/tmp/unused.db\";\ntemplates = \"%s/templates\";\n"
		"packs = \"%s\";\n"
		"shop = { name = \"Teehaus Müller\"; domain = \"tee.example\";\n"
		"  from = \"feedback@tee.example\"; support = \"hilfe@tee.example\";\n"
		"  footer = \"Teehaus Müller GmbH, Teestraße 1, 10115 Berlin\";\n"
		"  footer_html = \"<p>Teehaus Müller GmbH &middot; Teestraße 1</p>\";\n"
		"  unsubscribe_url = \"https://tee.example/abmelden?t={token}\"; };\n"
		"channels = ( { name = \"web\"; feedback_url = \"https://tee.example/bewertung?o={order}\"; } );\n"
		"campaigns = ( { name = \"review\"; variants = (\n"
		"  { name = \"A\"; template = \"review_request\"; } ); } );\n", top, packs);
	fclose(fp);
	if (cd_config_load(path, &cfg, &errs) < 0)
		die("config", errs.count ? &errs.items[0] : NULL);
	remove(path);
	cd_errors_clear(&errs);
	return cfg;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prepare messages for BUDGET seconds; returns messages per second and
 * the mean size in *BYTES. */
static double run(const char *top, const char *packs, double budget, size_t *bytes)
{
	static unsigned char secret[32] = "bench secret, not a real one...";
	struct cd_config *cfg = load_config(top, packs);
	struct cd_templates *tpl = NULL;
	struct cd_errors errs = { 0 };
	char id[32], items[512];
	size_t total = 0, n = 0;
	double start, elapsed;
	struct cd_due_order o = { .order = {
		.first_name = "Anna", .name = "Anna Schmidt", .email = "anna@example.org",
		.locale = "de-DE", .total = "42.50", .currency = "EUR", .country = "DE",
		.channel = "web", .purchased = 1790000000, .items = items,
	} };

	if (cd_templates_load(cfg, &tpl, &errs) < 0)
		die("templates", errs.count ? &errs.items[0] : NULL);
	snprintf(items, sizeof(items), "[{\"name\":\"Sencha Bio 100 g\",\"quantity\":2},"
		 "{\"name\":\"Gusseisen-Teekanne 0,8 l\",\"quantity\":1},"
		 "{\"name\":\"Teefilter aus Baumwolle\",\"quantity\":3}]");
	o.order.id = id;
	start = seconds();
	do {
		/* a batch between clock reads, so timing costs nothing */
		for (int i = 0; i < 1000; i++, n++) {
			struct cd_message p = { .kind = CD_DUE_REQUEST };

			snprintf(id, sizeof(id), "DE-%08zu", n);
			if (cd_message_prepare(&p, cfg, tpl, secret, 1790500000, &cfg->campaigns[0], &o) < 0 ||
			    p.reason[0])
				die(p.reason[0] ? p.reason : "prepare", NULL);
			total += p.len;
			cd_message_clear(&p);
		}
		elapsed = seconds() - start;
	} while (elapsed < budget);
	fprintf(stderr, "%s: %zu messages in %.2f s\n", packs, n, elapsed);
	cd_templates_free(tpl);
	cd_config_free(cfg);
	*bytes = total / n;
	return (double)n / elapsed;
}

int main(int argc, char **argv)
{
	const char *top = argc > 1 ? argv[1] : SRC_TOP;
	double budget = argc > 2 ? atof(argv[2]) : 3.0, plain, checked;
	char empty[] = "/tmp/candor-no-packs.XXXXXX", packs[4096];
	size_t bytes;

	if (!mkdtemp(empty))
		die("mkdtemp", NULL);
	snprintf(packs, sizeof(packs), "%s/etc/packs", top);
	plain = run(top, empty, budget, &bytes);
	checked = run(top, packs, budget, &bytes);
	rmdir(empty);
	printf("msgs_per_s=%.0f checked_msgs_per_s=%.0f msg_bytes=%zu\n", plain, checked, bytes);
	return 0;
}
