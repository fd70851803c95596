/* test_store.c - opening, migrations and the token secret on a real
 * SQLite file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "candor/store.h"

#define CD_STR_(x) #x
#define CD_STR(x) CD_STR_(x)

static char dir[64], db[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/candor.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* The store's file seen through a connection of its own, as the shop's
 * systems see it: the schema is the contract. ST keeps the test's
 * store open. */
static int query_int(struct cd_store *st, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int v = -1;

	(void)st;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* SQL run as a shop's system would, on its own connection; the result
 * code and, on failure, the message in MSG. */
static int raw_exec(const char *sql, char *msg, size_t len)
{
	sqlite3 *h;
	char *m = NULL;
	int rc;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	rc = sqlite3_exec(h, sql, NULL, NULL, &m);
	snprintf(msg, len, "%s", m ? m : "");
	sqlite3_free(m);
	sqlite3_close(h);
	return rc;
}

static void test_missing_database_is_not_created(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;

	(void)state;
	unlink(db);
	assert_int_equal(cd_store_open(db, 0, &st, &err), CD_ENOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err.msg, "candorctl init"));
	assert_int_not_equal(access(db, F_OK), 0);
}

static void test_create_migrates_and_uses_wal(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	int created;

	(void)state;
	assert_int_equal(cd_store_open(db, CD_STORE_CREATE, &st, &err), 0);
	assert_int_equal(query_int(st, "PRAGMA user_version"), CD_STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name IN"
				   " ('orders','feedback','messages','events','suppressions')"), 5);
	{
		char mode[16] = "";
		sqlite3 *h;
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
		sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		sqlite3_close(h);
		assert_string_equal(mode, "wal");
	}
	assert_int_equal(cd_store_init_secret(st, &created, &err), 0);
	assert_true(created);
	cd_store_close(st);
}

static void test_secret_is_kept_on_second_init(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	unsigned char a[32], b[32];
	int created;

	(void)state;
	assert_int_equal(cd_store_open(db, CD_STORE_CREATE, &st, &err), 0);
	assert_int_equal(cd_store_secret(st, a, &err), 0);
	assert_int_equal(cd_store_init_secret(st, &created, &err), 0);
	assert_false(created);
	assert_int_equal(cd_store_secret(st, b, &err), 0);
	assert_memory_equal(a, b, 32);
	cd_store_close(st);
}

static void test_newer_schema_is_refused(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	sqlite3 *raw;

	(void)state;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(raw);
	assert_int_equal(cd_store_open(db, 0, &st, &err), CD_ESTORE);
	assert_non_null(strstr(err.msg, "newer than this candor"));
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	sqlite3_exec(raw, "PRAGMA user_version = " CD_STR(CD_STORE_SCHEMA_VERSION), NULL, NULL, NULL);
	sqlite3_close(raw);
}

/* A database made by the first release (schema 1) is brought up to date
 * at open, keeping its rows. */
static void test_version_1_database_is_migrated(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	sqlite3 *raw;

	(void)state;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "ALTER TABLE messages DROP COLUMN mail;"
				      "DROP TABLE replies; DROP TABLE inbox_seen;"
				      "ALTER TABLE orders DROP COLUMN source;"
				      "ALTER TABLE orders DROP COLUMN source_time;"
				      "INSERT INTO meta(key, value) VALUES ('probe', 'kept');"
				      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(cd_store_open(db, 0, &st, &err), 0);
	assert_int_equal(query_int(st, "PRAGMA user_version"), CD_STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'mail'"), 1);
	assert_int_equal(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'replies'"), 1);
	assert_int_equal(query_int(st, "SELECT count(*) FROM meta WHERE key = 'probe'"), 1);
	cd_store_close(st);
}

static void test_nested_transactions_roll_back_inner_only(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;

	(void)state;
	assert_int_equal(cd_store_open(db, 0, &st, &err), 0);
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_suppress(st, "a@x.example", "blocked", NULL, 1, &err), 0);
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_suppress(st, "b@x.example", "blocked", NULL, 1, &err), 0);
	cd_store_rollback(st);
	assert_int_equal(cd_store_commit(st, &err), 0);
	assert_int_equal(query_int(st, "SELECT count(*) FROM suppressions"), 1);
	/* the CHECK constraints guard what a shop's system writes directly */
	{
		char msg[256];

		assert_int_not_equal(raw_exec("INSERT INTO orders(order_id, email, status)"
					      " VALUES ('x', 'x@y.example', 'lost')", msg, sizeof(msg)),
				     SQLITE_OK);
		assert_non_null(strstr(msg, "CHECK"));
	}
	cd_store_close(st);
}

/* A count through a connection of the test's own to the file at PATH. */
static int count_at(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* With CD_STORE_INTERACTIVE (the web endpoint's store), commits
 * coming faster than a checkpoint and its sync - a flood of one-click
 * POSTs - still leave a WAL of bounded size: the store's thread
 * restarts it past 4000 pages (16 MB). Without that, the WAL only grows
 * while the commits go on (here to some 100 MB). And every row is in
 * the file afterwards. */
static void test_checkpoint_aside_keeps_the_wal_bounded(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	struct timespec pause = { 0, 50000 };  /* the server reading requests */
	char path[160], wal[170], detail[3000], email[64];
	struct stat sb;
	off_t most = 0;
	int n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/aside.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	assert_int_equal(cd_store_open(path, CD_STORE_CREATE | CD_STORE_INTERACTIVE, &st, &err),
			 0);
	for (int c = 0; c < 3000; c++) {
		assert_int_equal(cd_store_begin(st, &err), 0);
		for (int i = 0; i < 10; i++, n++) {
			snprintf(email, sizeof(email), "a%d@x.example", n);
			assert_int_equal(cd_store_suppress(st, email, "blocked", detail, 1, &err), 0);
		}
		assert_int_equal(cd_store_commit(st, &err), 0);
		if (stat(wal, &sb) == 0 && sb.st_size > most)
			most = sb.st_size;
		nanosleep(&pause, NULL);
	}
	cd_store_close(st);
	print_message("the WAL grew to %lld MB\n", (long long)(most >> 20));
	assert_true(most < (off_t)40 << 20);
	assert_int_equal(count_at(path, "SELECT count(*) FROM suppressions"), n);
}

static void test_damaged_file_is_an_error(void **state)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	char bad[160];
	FILE *fp;

	(void)state;
	snprintf(bad, sizeof(bad), "%s/garbage.db", dir);
	fp = fopen(bad, "w");
	fputs("this is not a database, just text that goes on and on and on\n", fp);
	fclose(fp);
	assert_int_equal(cd_store_open(bad, 0, &st, &err), CD_ESTORE);
	assert_null(st);
	assert_string_equal(err.file, bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_database_is_not_created),
		cmocka_unit_test(test_create_migrates_and_uses_wal),
		cmocka_unit_test(test_secret_is_kept_on_second_init),
		cmocka_unit_test(test_newer_schema_is_refused),
		cmocka_unit_test(test_version_1_database_is_migrated),
		cmocka_unit_test(test_nested_transactions_roll_back_inner_only),
		cmocka_unit_test(test_damaged_file_is_an_error),
		cmocka_unit_test(test_checkpoint_aside_keeps_the_wal_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
