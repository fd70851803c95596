/*
 * pg_schedule_bench.c - schedule_bench's pass on PostgreSQL: one
 * scheduling pass over 1,000,000 orders of which 1,000 are due, the
 * same store as schedule_bench builds (orders over three years, every
 * order in the campaign's range but the due ones already mailed, the
 * last complete pass a day ago), written by the server itself.
 *
 * Needs a database of its own: CANDOR_BENCH_PG, a libpq connection
 * string (bench/pg_schedule_bench.sh starts a server and sets it).
 * Last line: pg_pass_ms=... orders=... due=...
 * Usage: pg_schedule_bench [ORDERS]   (default 1000000)
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/log.h"
#include "candor/store.h"

#define DUE 1000
#define NOW 1793000000LL /* fixed, as schedule_bench's */
#define DAY 86400LL

static void die(const char *what, const char *why)
{
	fprintf(stderr, "pg_schedule_bench: %s: %s\n", what, why ? why : "failed");
	exit(1);
}

static void exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die(sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* schedule_bench's fill(), in SQL: order i delivered as it computes it */
static void fill(PGconn *c, long n)
{
	char sql[2048];

	exec(c, "TRUNCATE orders, feedback, messages, events, replies, order_changes, waiting,"
	     " scan_state, suppressions CASCADE");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO orders(order_id, email, timezone, delivered, status, items)"
		 " SELECT 'ord' || lpad(i::text, 7, '0'), 'c' || i || '@example.org', 'UTC',"
		 " CASE WHEN i < %d THEN %lld - 7 * %lld - 60 - (i %% 1400) * 60"
		 " ELSE %lld - 8 * %lld - ((i::bigint * 7919) %% (3 * 365 - 8)) * %lld - 3600 END,"
		 " 'delivered', '[]' FROM generate_series(0, %ld) i",
		 DUE, NOW, DAY, NOW, DAY, DAY, n - 1);
	exec(c, sql);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO messages(order_id, campaign, variant, state, recipient, created,"
		 " updated, sent_at) SELECT order_id, 'review', 'A', 'sent', email, delivered + 7 * %lld,"
		 " delivered + 7 * %lld, delivered + 7 * %lld FROM orders"
		 " WHERE order_id >= 'ord' || lpad('%d', 7, '0')"
		 " AND delivered BETWEEN %lld - 30 * %lld AND %lld - 7 * %lld",
		 DAY, DAY, DAY, DUE, NOW, DAY, NOW, DAY);
	exec(c, sql);
	/* the last complete pass, a day ago, had read every change so far */
	exec(c, "DELETE FROM order_changes");
	snprintf(sql, sizeof(sql), "INSERT INTO scan_state VALUES ('review', 'request',"
		 " 'delivered 604800 2592000 2 0', %lld,"
		 " pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", NOW - 8 * DAY);
	exec(c, sql);
	exec(c, "VACUUM ANALYZE orders");
	exec(c, "VACUUM ANALYZE messages");
	exec(c, "VACUUM ANALYZE order_changes");
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

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *conninfo = getenv("CANDOR_BENCH_PG");
	char dir[] = "/tmp/candor-pgbench-XXXXXX", path[512], now[32], buf[1024];
	struct cd_store_target t = { .engine = CD_STORE_POSTGRESQL };
	struct cd_errors errs = { 0 };
	struct cd_cycle_stats stats;
	struct cd_config *cfg;
	struct cd_store *st;
	struct cd_error err;
	double pass_ms = 1e9;
	PGconn *raw;
	FILE *fp;
	int created;

	if (!conninfo || !*conninfo)
		die("CANDOR_BENCH_PG", "not set (bench/pg_schedule_bench.sh sets it)");
	cd_log_init("pg_schedule_bench", CD_LOG_STDERR, CD_LOG_WARNING);
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(now, sizeof(now), "%lld", NOW);
	setenv("CANDOR_NOW", now, 1);
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	fp = fopen(path, "w");
	fputs(config_text, fp);
	fclose(fp);
	if (cd_config_load(path, &cfg, &errs) < 0)
		die("config", errs.count ? cd_error_format(&errs.items[0], buf, sizeof(buf)) : NULL);
	t.conninfo = conninfo;
	if (cd_store_open_target(&t, CD_STORE_CREATE, &st, &err) < 0)
		die("open store", cd_error_format(&err, buf, sizeof(buf)));
	cd_store_init_secret(st, &created, &err);
	raw = PQconnectdb(conninfo);
	if (PQstatus(raw) != CONNECTION_OK)
		die("connect", PQerrorMessage(raw));
	fill(raw, n);
	fprintf(stderr, "filled %ld orders\n", n);
	struct cd_cycle c = { .cfg = cfg, .store = st, .plan_only = 1 };

	/* best of five, as schedule_bench */
	for (int i = 0; i < 5; i++) {
		struct timespec a, b;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (cd_cycle_run(&c, &stats, &err) < 0)
			die("pass", cd_error_format(&err, buf, sizeof(buf)));
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < pass_ms)
			pass_ms = ms;
	}
	if (stats.due != DUE) {
		snprintf(buf, sizeof(buf), "the pass found %lld due, not %d", (long long)stats.due, DUE);
		die("check", buf);
	}
	PQfinish(raw);
	cd_store_close(st);
	cd_config_free(cfg);
	unlink(path);
	rmdir(dir);
	printf("pg_pass_ms=%.2f orders=%ld due=%lld\n", pass_ms, n, (long long)stats.due);
	return 0;
}
