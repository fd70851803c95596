/*
 * schedule_bench.c - issue 3's figures: one scheduling pass over a store
 * of 1,000,000 orders of which 1,000 are due, against a full-scan
 * baseline in the same program; and importing 1,000,000 CSV rows.
 *
 * The store is the steady state of a daemon that has run for months:
 * orders delivered over three years; every order in the campaign's range
 * that is not one of the 1,000 due already has its request; the last
 * complete pass was a day ago, and the 1,000 due are the orders that
 * crossed the 7-day delay since.
 *
 * Last line: pass_ms=... fullscan_ms=... ratio=... import_rows_per_s=...
 * Usage: schedule_bench [ORDERS]   (default 1000000)
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/import.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/util.h"

#define DUE 1000
#define NOW 1793000000LL /* fixed, so every run is the same */
#define DAY 86400LL

static void die(const char *what, const struct cd_error *err)
{
	char buf[1024];

	fprintf(stderr, "schedule_bench: %s: %s\n", what,
		err ? cd_error_format(err, buf, sizeof(buf)) : "failed");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "schedule_bench: %s\n", msg);
		exit(1);
	}
}

/* Orders 0..n-1: delivered spread over three years before NOW; the DUE
 * first ones land inside the review window (7 to 30 days ago) with no
 * message; the others inside it get a sent request. */
static void fill(sqlite3 *db, long n)
{
	sqlite3_stmt *o, *m;
	long in_range = 0;

	exec(db, "BEGIN");
	sqlite3_prepare_v2(db, "INSERT INTO orders(order_id, email, timezone, delivered, status,"
			   " items) VALUES (?1, ?2, 'UTC', ?3, 'delivered', '[]')", -1, &o, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO messages(order_id, campaign, variant, state,"
			   " recipient, created, updated, sent_at) VALUES (?1, 'review', 'A',"
			   " 'sent', ?2, ?3, ?3, ?3)", -1, &m, NULL);
	for (long i = 0; i < n; i++) {
		char id[32], email[64];
		/* the due ones crossed the 7-day delay since the last pass, a day
		 * ago; the rest are spread over three years, outside that day:
		 * whatever crossed the delay since the last pass is what is due */
		long long delivered = i < DUE ? NOW - 7 * DAY - 60 - (i % 1400) * 60
					      : NOW - 8 * DAY - (long long)((i * 7919) % (3 * 365 - 8)) * DAY - 3600;

		snprintf(id, sizeof(id), "ord%07ld", i);
		snprintf(email, sizeof(email), "c%ld@example.org", i);
		sqlite3_bind_text(o, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(o, 2, email, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(o, 3, delivered);
		sqlite3_step(o);
		sqlite3_reset(o);
		if (i >= DUE && delivered >= NOW - 30 * DAY && delivered <= NOW - 7 * DAY) {
			in_range++;
			sqlite3_bind_text(m, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(m, 2, email, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(m, 3, delivered + 7 * DAY);
			sqlite3_step(m);
			sqlite3_reset(m);
		}
	}
	sqlite3_finalize(o);
	sqlite3_finalize(m);
	/* the daemon has been running: its last complete pass was a day ago
	 * and had read every order written so far */
	char sql[512];
	snprintf(sql, sizeof(sql), "INSERT INTO scan_state VALUES ('review', 'request',"
		 " 'delivered 604800 2592000 2 0', %lld, (SELECT max(seq) FROM order_changes))",
		 NOW - 8 * DAY);
	exec(db, sql);
	exec(db, "COMMIT");
	exec(db, "ANALYZE");
	fprintf(stderr, "filled %ld orders; %ld more in the campaign's range already mailed\n",
		n, in_range);
}

/* The baseline: what a cron job without an index strategy does, reading
 * every order and deciding in C. It applies the rules the pass applies
 * to what it finds (no message yet, no suppression, no feedback, the
 * customer's cap), so both compute the same answer. */
static long full_scan(sqlite3 *db)
{
	static const char *const checks[] = {
		"SELECT 1 FROM messages WHERE order_id = ?1 AND campaign = 'review'",
		"SELECT 1 FROM suppressions WHERE email = ?2",
		"SELECT 1 FROM feedback WHERE order_id = ?1",
		"SELECT 1 FROM messages WHERE recipient = ?2 COLLATE NOCASE"
		" AND created >= ?3 AND state NOT IN ('held','failed') LIMIT 1 OFFSET 2",
	};
	enum { NCHECKS = sizeof(checks) / sizeof(checks[0]) };
	sqlite3_stmt *s, *m[NCHECKS];
	long due = 0;

	sqlite3_prepare_v2(db, "SELECT order_id, delivered, status, email FROM orders", -1, &s, NULL);
	for (int i = 0; i < NCHECKS; i++)
		sqlite3_prepare_v2(db, checks[i], -1, &m[i], NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		long long d = sqlite3_column_int64(s, 1);
		const char *status = (const char *)sqlite3_column_text(s, 2);
		int hit = 0;

		if (d < NOW - 30 * DAY || d > NOW - 7 * DAY || strcmp(status, "delivered") != 0)
			continue;
		for (int i = 0; i < NCHECKS && !hit; i++) {
			sqlite3_bind_text(m[i], 1, (const char *)sqlite3_column_text(s, 0), -1,
					  SQLITE_TRANSIENT);
			if (i != 0 && i != 2)
				sqlite3_bind_text(m[i], 2, (const char *)sqlite3_column_text(s, 3), -1,
						  SQLITE_TRANSIENT);
			if (i == 3)
				sqlite3_bind_int64(m[i], 3, NOW - 90 * DAY);
			hit = sqlite3_step(m[i]) == SQLITE_ROW;
			sqlite3_reset(m[i]);
		}
		due += !hit;
	}
	sqlite3_finalize(s);
	for (int i = 0; i < NCHECKS; i++)
		sqlite3_finalize(m[i]);
	return due;
}

static const char config_text[] =
	"database = \"bench.db\";\n"
	"templates = \"/nonexistent\";\n"
	"shop = { name = \"Bench\"; domain = \"bench.example\"; from = \"f@bench.example\"; };\n"
	"limits = { global_rate = \"\"; domain_rate = \"\"; daily_cap = 0; per_customer = 3; };\n"
	"send_window = { start = \"00:00\"; end = \"24:00\";\n"
	"  weekdays = [\"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"]; };\n"
	"campaigns = ( { name = \"review\"; trigger = \"delivered\"; delay = \"7d\"; expire = \"30d\";\n"
	"  variants = ( { name = \"A\"; template = \"review_request\"; } ); } );\n";

static sqlite3 *raw;

static double import_rate(const char *dir, long rows)
{
	char csv[512], db[512];
	struct cd_import_opts o = { .kind = CD_IMPORT_ORDERS, .path = csv };
	struct cd_import_stats stats;
	struct cd_store *st;
	struct cd_error err;
	int64_t t0;
	FILE *fp;

	snprintf(csv, sizeof(csv), "%s/import.csv", dir);
	snprintf(db, sizeof(db), "%s/import.db", dir);
	fp = fopen(csv, "w");
	fputs("order_id,channel,email,first_name,name,locale,country,items,total,currency,"
	      "purchased,delivered,status\n", fp);
	for (long i = 0; i < rows; i++)
		fprintf(fp, "W%07ld,web,customer%ld@example.org,Anna,\"Schmidt, Anna\",de-DE,DE,"
			"\"[{\"\"name\"\":\"\"Sencha\"\",\"\"quantity\"\":2}]\",18.00,EUR,"
			"2026-10-01 10:00:00 +0200,%ld,delivered\n", i, i, 1790000000L + i);
	fclose(fp);
	if (cd_store_open(db, CD_STORE_CREATE, &st, &err) < 0)
		die("open import store", &err);
	t0 = cd_util_mono_ms();
	if (cd_import_run(st, &o, NULL, NULL, &stats, &err) < 0)
		die("import", &err);
	t0 = cd_util_mono_ms() - t0;
	cd_store_close(st);
	fprintf(stderr, "imported %lld rows in %.2f s\n", (long long)stats.rows, t0 / 1000.0);
	return stats.rows / (t0 / 1000.0);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char dir[] = "/tmp/candor-bench-XXXXXX", path[512], cmd[600], now[32];
	struct cd_errors errs = { 0 };
	struct cd_cycle_stats stats;
	struct cd_config *cfg;
	struct cd_store *st;
	struct cd_error err;
	double pass_ms = 1e9, scan_ms = 1e9, rate;
	long scanned = 0;
	FILE *fp;

	cd_log_init("schedule_bench", CD_LOG_STDERR, CD_LOG_WARNING);
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(now, sizeof(now), "%lld", NOW);
	setenv("CANDOR_NOW", now, 1);
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	fp = fopen(path, "w");
	fputs(config_text, fp);
	fclose(fp);
	if (cd_config_load(path, &cfg, &errs) < 0)
		die("config", errs.count ? &errs.items[0] : NULL);
	if (cd_store_open(cfg->database, CD_STORE_CREATE, &st, &err) < 0)
		die("open store", &err);
	/* the fixture and the baseline use a connection of their own, as a
	 * shop's system writing into the store would */
	if (sqlite3_open(cfg->database, &raw) != SQLITE_OK)
		die("open the database", NULL);
	sqlite3_busy_timeout(raw, 5000);
	/* the same cache the store's own connection gets, so the baseline is
	 * not slowed by a smaller one */
	exec(raw, "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;");
	fill(raw, n);
	struct cd_cycle c = { .cfg = cfg, .store = st, .plan_only = 1 };
	int dummy;

	cd_store_init_secret(st, &dummy, &err);
	/* best of five of each, so a cold page cache does not decide */
	for (int i = 0; i < 5; i++) {
		int64_t t0 = cd_util_mono_ms() * 1000;
		struct timespec a, b;

		(void)t0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (cd_cycle_run(&c, &stats, &err) < 0)
			die("pass", &err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < pass_ms)
			pass_ms = ms;
		clock_gettime(CLOCK_MONOTONIC, &a);
		scanned = full_scan(raw);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < scan_ms)
			scan_ms = ms;
	}
	/* BENCH_PASSES=N runs N more passes, for a profiler to look at */
	for (long i = getenv("BENCH_PASSES") ? atol(getenv("BENCH_PASSES")) : 0; i > 0; i--)
		cd_cycle_run(&c, &stats, &err);
	fprintf(stderr, "pass found %lld due, full scan found %ld due\n",
		(long long)stats.due, scanned);
	if (stats.due != DUE || scanned != DUE)
		die("the pass and the scan disagree with the planted figure", NULL);
	sqlite3_close(raw);
	cd_store_close(st);
	cd_config_free(cfg);
	unsetenv("CANDOR_NOW");
	rate = import_rate(dir, n);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (getenv("BENCH_KEEP"))
		fprintf(stderr, "kept %s\n", dir);
	else if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	printf("pass_ms=%.2f fullscan_ms=%.2f ratio=%.1f import_rows_per_s=%.0f\n",
	       pass_ms, scan_ms, scan_ms / pass_ms, rate);
	return 0;
}
