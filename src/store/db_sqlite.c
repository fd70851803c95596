/*
 * db_sqlite.c - the SQLite engine: the embedded default. WAL, a busy
 * timeout, statements prepared once, and the schema brought up to date
 * by numbered migrations (PRAGMA user_version). The schema is the
 * contract with the shop's own systems (README documents it), so it
 * changes only through a new migration.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

#define BUSY_TIMEOUT_MS 5000
/* A checkpointer of our own starts at 1000 WAL pages (SQLite's default),
 * before the 4000 at which a connection without one would do it in its
 * own commit (configure()): while it runs, the others never have to. */
#define ASIDE_PAGES 1000
#define ASIDE_CAP 4000        /* = the others' wal_autocheckpoint */
#define RESTART_WAIT_MS 10

/* How a connection waits for a lock (busy_wait()). */
struct busy {
	int64_t since_ms;        /* when the current wait began */
	int64_t limit_ms;
	long step_ns;            /* between tries */
};

/* The thread that checkpoints for a connection opened with
 * CD_STORE_INTERACTIVE, on a connection of its own. */
struct aside {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *h;
	struct busy busy;
	int wanted, stop;
};

struct cd_db {
	sqlite3 *h;
	char *path;
	struct busy busy;
	struct aside *aside;
};

struct stmt {
	struct cd_db_stmt base;
	sqlite3_stmt *s;
};

/* Migration N brings user_version from N-1 to N. Never edit a shipped
 * one; add the next. */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE orders ("
	"  order_id TEXT PRIMARY KEY,"
	"  channel TEXT NOT NULL DEFAULT 'web',"
	"  customer_id TEXT,"
	"  first_name TEXT, name TEXT,"
	"  email TEXT NOT NULL,"
	"  locale TEXT, country TEXT, timezone TEXT,"
	"  items TEXT NOT NULL DEFAULT '[]',"
	"  total TEXT, currency TEXT,"
	"  purchased INTEGER, shipped INTEGER, delivered INTEGER,"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN"
	"   ('open','paid','shipped','delivered','returned','refunded','cancelled')),"
	"  updated INTEGER NOT NULL DEFAULT (unixepoch()));"
	"CREATE INDEX orders_shipped ON orders(shipped);"
	"CREATE INDEX orders_delivered ON orders(delivered);"
	"CREATE INDEX orders_email ON orders(email COLLATE NOCASE);"
	"CREATE TABLE feedback ("
	"  id INTEGER PRIMARY KEY,"
	"  order_id TEXT NOT NULL,"
	"  rating INTEGER CHECK (rating BETWEEN 1 AND 5),"
	"  comment TEXT, source TEXT NOT NULL DEFAULT 'shop',"
	"  received INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX feedback_once ON feedback(order_id, source, received);"
	"CREATE INDEX feedback_received ON feedback(received);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  order_id TEXT NOT NULL,"
	"  campaign TEXT NOT NULL, variant TEXT NOT NULL,"
	"  kind TEXT NOT NULL DEFAULT 'request' CHECK (kind IN ('request','reminder')),"
	"  state TEXT NOT NULL CHECK (state IN"
	"   ('due','rendered','held','queued','sending','sent','deferred','failed')),"
	"  recipient TEXT NOT NULL,"
	"  recipient_domain TEXT GENERATED ALWAYS AS"
	"   (lower(substr(recipient, instr(recipient, '@') + 1))) VIRTUAL,"
	"  message_id TEXT UNIQUE, token TEXT UNIQUE,"
	"  subject TEXT,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER,"
	"  sent_at INTEGER,"
	"  reason TEXT, server_reply TEXT,"
	"  UNIQUE (order_id, campaign, kind));"
	"CREATE INDEX messages_state ON messages(state, next_attempt);"
	"CREATE INDEX messages_sent_at ON messages(sent_at);"
	"CREATE INDEX messages_domain ON messages(recipient_domain, sent_at);"
	"CREATE INDEX messages_recipient ON messages(recipient COLLATE NOCASE, created);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER REFERENCES messages(id),"
	"  order_id TEXT, kind TEXT NOT NULL, detail TEXT,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX events_order ON events(order_id);"
	"CREATE INDEX events_message ON events(message);"
	/* Every insert or update of an order, in commit order (SQLite has one
	 * writer at a time), so the scheduler can find orders that changed
	 * without reading them all. Purged once every campaign has seen them,
	 * always keeping the newest row so a new rowid is never reused. */
	"CREATE TABLE order_changes ("
	"  seq INTEGER PRIMARY KEY, order_id TEXT NOT NULL);"
	"CREATE TRIGGER orders_inserted AFTER INSERT ON orders BEGIN"
	"  INSERT INTO order_changes(order_id) VALUES (NEW.order_id); END;"
	"CREATE TRIGGER orders_updated AFTER UPDATE ON orders BEGIN"
	"  INSERT INTO order_changes(order_id) VALUES (NEW.order_id); END;"
	/* Where each campaign's last complete pass stopped. */
	"CREATE TABLE scan_state ("
	"  campaign TEXT NOT NULL, kind TEXT NOT NULL, params TEXT NOT NULL,"
	"  hwm INTEGER NOT NULL, mark INTEGER NOT NULL,"
	"  PRIMARY KEY (campaign, kind)) WITHOUT ROWID;"
	/* Due orders held back by the send window or a cap. */
	"CREATE TABLE waiting ("
	"  campaign TEXT NOT NULL, kind TEXT NOT NULL, order_id TEXT NOT NULL,"
	"  seen INTEGER NOT NULL,"
	"  PRIMARY KEY (campaign, kind, order_id)) WITHOUT ROWID;"
	"CREATE TABLE suppressions ("
	"  email TEXT PRIMARY KEY COLLATE NOCASE,"
	"  reason TEXT NOT NULL CHECK (reason IN"
	"   ('unsubscribed','hard_bounce','soft_bounce','complaint','blocked')),"
	"  detail TEXT, at INTEGER NOT NULL);",
	/* 2: a deferred message keeps its bytes, so a retry sends exactly what
	 * the first attempt did (same Message-ID); cleared once it is final */
	"ALTER TABLE messages ADD COLUMN mail BLOB;",
	/* 3: what the inbox brought: replies for support to read, and every
	 * inbox mail seen once, so a re-read mailbox counts nothing twice */
	"CREATE TABLE replies ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER REFERENCES messages(id),"
	"  order_id TEXT, kind TEXT NOT NULL, sender TEXT, subject TEXT, body TEXT,"
	"  received INTEGER NOT NULL);"
	"CREATE INDEX replies_order ON replies(order_id);"
	"CREATE TABLE inbox_seen ("
	"  key TEXT PRIMARY KEY, kind TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;",
	/* 4: order sources (src/intake/source*.c): where each stream of each
	 * source stopped, written in the transaction of the rows it covers;
	 * each source's last poll for candorctl sources; the files a drop
	 * folder took, so a crash between commit and move takes none twice */
	"CREATE TABLE IF NOT EXISTS source_cursors ("
	"  source TEXT NOT NULL, stream TEXT NOT NULL,"
	"  time TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY (source, stream)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS source_status ("
	"  source TEXT PRIMARY KEY, type TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('ok','failing')), detail TEXT,"
	"  last_poll INTEGER, last_ok INTEGER, caught_up INTEGER,"
	"  rows INTEGER NOT NULL DEFAULT 0, bad INTEGER NOT NULL DEFAULT 0,"
	"  errors INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS source_files ("
	"  source TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,"
	"  mtime INTEGER NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY (source, file, size, mtime)) WITHOUT ROWID;",
	/* 5: the source that read an order (NULL: an import, or the shop
	 * writing itself), so a source re-checks only its own orders for
	 * rows the shop deleted outright; and the shop's change time of the
	 * row as read, so a row read again behind the cursor (the settle
	 * window) is taken only when it changed */
	"ALTER TABLE orders ADD COLUMN source TEXT;"
	"ALTER TABLE orders ADD COLUMN source_time TEXT;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *errmsg(struct cd_db *db)
{
	return sqlite3_errmsg(db->h);
}

static int exec(struct cd_db *db, const char *sql)
{
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int fail(struct cd_db *db, struct cd_error *err, const char *what)
{
	return cd_error_set(err, CD_ESTORE, db->path, 0, "%s: %s", what, sqlite3_errmsg(db->h));
}

static int user_version(struct cd_db *db, int *v, struct cd_error *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return fail(db, err, "cannot read schema version");
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return fail(db, err, "cannot read schema version");
	return 0;
}

/* Each migration and its version bump in one transaction. */
static int migrate(struct cd_db *db, struct cd_error *err)
{
	char sql[64];
	int v, rc;

	if ((rc = user_version(db, &v, err)) < 0)
		return rc;
	if (v > NMIGRATIONS)
		return cd_error_set(err, CD_ESTORE, db->path, 0,
				    "database schema %d is newer than this candor (%d); upgrade candor",
				    v, NMIGRATIONS);
	for (; v < NMIGRATIONS; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(db, "BEGIN IMMEDIATE") < 0)
			return fail(db, err, "cannot migrate");
		if (exec(db, migrations[v]) < 0 || exec(db, sql) < 0) {
			rc = fail(db, err, "cannot migrate");
			exec(db, "ROLLBACK");
			return rc;
		}
		if (exec(db, "COMMIT") < 0) {
			rc = fail(db, err, "cannot migrate");
			exec(db, "ROLLBACK");
			return rc;
		}
	}
	return 0;
}

/* Run as root on a database someone else owns (an admin's "candorctl
 * init" after chown), the -wal and -shm files go to that owner too, as
 * SQLite does for the files it creates: else the daemon's user could no
 * longer write them. */
static void own_wal_files(const struct cd_db *db)
{
	static const char *const ext[] = { "-wal", "-shm" };
	struct stat sb, fb;
	char path[4096];

	if (geteuid() != 0 || stat(db->path, &sb) < 0 || sb.st_uid == 0)
		return;
	for (size_t i = 0; i < 2; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", db->path, ext[i]) >= sizeof(path))
			return;
		/* The directory is the daemon user's: never follow a link it
		 * planted, nor hand over a file linked elsewhere. A failure
		 * shows when SQLite cannot write the file. */
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (fstat(fd, &fb) == 0 && S_ISREG(fb.st_mode) && fb.st_nlink == 1 &&
		    (fb.st_uid != sb.st_uid || fb.st_gid != sb.st_gid))
			(void)!fchown(fd, sb.st_uid, sb.st_gid);
		close(fd);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for a lock another connection holds, up to its limit, trying
 * again every step. SQLite's own busy timeout sleeps 1, 2, 5, 10, 15,
 * 20, 25 ms...: behind a writer that holds the lock for 3 ms it waits 8,
 * and one that keeps losing the race to a busy neighbour sleeps 100 ms
 * at a time. The web endpoint and the sending daemon take turns with the
 * lock hundreds of times a second; measured (bench/web_bench.sh), those
 * sleeps were a tail of up to 100 ms on both sides. Trying again costs a
 * lock call on the -shm file. A connection people wait for
 * (CD_STORE_INTERACTIVE) tries every 0.1 ms, the others every 1 ms: when
 * both wait, the web gets the lock first, and a mail waits a little. */
static int busy_wait(void *arg, int count)
{
	struct busy *b = arg;
	int64_t now = mono_ms();
	struct timespec ts = { 0, count < 50 ? b->step_ns : 1000000 };

	if (count == 0)
		b->since_ms = now;
	else if (now - b->since_ms >= b->limit_ms)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

static int configure(struct cd_db *db, int flags, struct cd_error *err)
{
	db->busy.limit_ms = BUSY_TIMEOUT_MS;
	db->busy.step_ns = (flags & CD_STORE_INTERACTIVE) ? 100000 : 1000000;
	sqlite3_busy_handler(db->h, busy_wait, &db->busy);
	/* An 8 MB page cache keeps memory bounded. Statement journals, which
	 * every upsert needs once the order_changes trigger exists, stay in
	 * memory instead of costing a temporary file write per statement. */
	if (exec(db, "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;") < 0)
		return fail(db, err, "database error");
	if (flags & CD_STORE_READONLY)
		return 0;
	/* A checkpoint syncs; at SQLite's default (every 1000 WAL pages) a
	 * sender committing each round of connections (sender.c) spent more
	 * in checkpoints than in its commits: 4000 pages (16 MB of WAL)
	 * measured 13% more mails a second on bench/smtp_bench.sh. */
	if (exec(db, "PRAGMA journal_mode = WAL;"
		 "PRAGMA synchronous = NORMAL;"
		 "PRAGMA wal_autocheckpoint = 4000;"
		 "PRAGMA foreign_keys = ON;") < 0)
		return fail(db, err, "database error");
	/* The -wal and -shm files stay when the last writer closes: a reader
	 * that may not write in the directory (a marketer in group candor
	 * running "report") can open a WAL database read-only only while
	 * they exist. */
	sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	own_wal_files(db);
	return 0;
}

static void aside_stop(struct aside *a);

static void db_close(struct cd_db *db)
{
	if (!db)
		return;
	/* the hook must not wake a thread that is gone */
	if (db->aside) {
		sqlite3_wal_hook(db->h, NULL, NULL);
		aside_stop(db->aside);
	}
	sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

static int check_version(struct cd_db *db, struct cd_error *err)
{
	int v, rc;

	if ((rc = user_version(db, &v, err)) < 0)
		return rc;
	if (v != NMIGRATIONS)
		return cd_error_set(err, CD_ESTORE, db->path, 0,
				    "database schema is %d, expected %d; run candord or 'candorctl init' once to migrate",
				    v, NMIGRATIONS);
	return 0;
}

/* ---- checkpoints aside ---------------------------------------------- */

/* PASSIVE copies what no reader still needs and syncs, taking no lock
 * a writer waits for. But the WAL starts over only when a writer finds
 * it all copied, which never happens while commits keep coming faster
 * than a checkpoint and its sync: under a flood it grew by 16 MB a
 * second. So past ASIDE_CAP pages, once a PASSIVE has copied nearly
 * all, a RESTART copies the rest and makes the next writer start over:
 * it holds the write lock for that rest and one sync, and waits for
 * readers no longer than RESTART_WAIT_MS (then it is tried again). */
static void aside_checkpoint(struct aside *a)
{
	int log = 0, done = 0;

	if (sqlite3_wal_checkpoint_v2(a->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
	    SQLITE_OK || log < ASIDE_CAP)
		return;
	a->busy.limit_ms = RESTART_WAIT_MS;
	sqlite3_wal_checkpoint_v2(a->h, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	a->busy.limit_ms = BUSY_TIMEOUT_MS;
}

static void *aside_run(void *arg)
{
	struct aside *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->wanted && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		a->wanted = 0;
		pthread_mutex_unlock(&a->mu);
		aside_checkpoint(a);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Called by SQLite after each commit of the serving connection, with
 * the pages now in the WAL (all connections'). Only wakes the thread. */
static int aside_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	struct aside *a = arg;

	(void)h;
	(void)name;
	if (pages >= ASIDE_PAGES) {
		pthread_mutex_lock(&a->mu);
		a->wanted = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
	}
	return SQLITE_OK;
}

static void aside_stop(struct aside *a)
{
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	sqlite3_close_v2(a->h);
	free(a);
}

/* A second connection and a thread that checkpoints for DB, which then
 * never checkpoints in its own commits: a checkpoint copies the WAL
 * into the database and syncs it, tens of milliseconds that would
 * otherwise fall on whichever request's commit crossed the threshold. */
static int aside_start(struct cd_db *db, struct cd_error *err)
{
	struct aside *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	a->busy.limit_ms = BUSY_TIMEOUT_MS;
	a->busy.step_ns = 100000;
	/* a connection knows the file is in WAL mode only once it has read
	 * it; until then its checkpoints do nothing */
	if (sqlite3_open_v2(db->path, &a->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_busy_handler(a->h, busy_wait, &a->busy) != SQLITE_OK ||
	    sqlite3_exec(a->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK) {
		rc = cd_error_set(err, CD_ESTORE, db->path, 0, "cannot open database: %s",
				  a->h ? sqlite3_errmsg(a->h) : "out of memory");
		goto fail;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (pthread_create(&a->thread, NULL, aside_run, a) != 0) {
		rc = cd_error_set(err, CD_ESTORE, db->path, 0, "cannot start a thread");
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		goto fail;
	}
	db->aside = a;
	/* replaces the automatic checkpoint of wal_autocheckpoint */
	sqlite3_wal_hook(db->h, aside_hook, a);
	return 0;
fail:
	sqlite3_close_v2(a->h);
	free(a);
	return rc;
}

static int db_open(const struct cd_store_target *t, const char *name, int flags,
		   struct cd_db **out, struct cd_error *err)
{
	const char *path = t->path;
	struct cd_db *db;
	struct stat sb;
	int oflags, rc;

	*out = NULL;
	if (!(flags & CD_STORE_CREATE) && stat(path, &sb) < 0)
		return cd_error_set(err, CD_ENOTFOUND, path, 0,
				    "database not found (%s); create it with 'candorctl init'",
				    strerror(errno));
	db = calloc(1, sizeof(*db));
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	/* The store holds the token secret and customers' addresses: a new
	 * one is 0640 (SQLite gives its -wal and -shm files the same mode),
	 * whatever the umask of whoever ran "candorctl init". */
	if ((flags & CD_STORE_CREATE) && stat(path, &sb) < 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

		if (fd >= 0) {
			fchmod(fd, 0640);
			close(fd);
		}
	}
	oflags = (flags & CD_STORE_READONLY) ? SQLITE_OPEN_READONLY
		 : SQLITE_OPEN_READWRITE | ((flags & CD_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = fail(db, err, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if ((rc = configure(db, flags, err)) < 0)
		goto fail;
	rc = (flags & CD_STORE_READONLY) ? check_version(db, err) : migrate(db, err);
	if (rc == 0 && (flags & CD_STORE_INTERACTIVE) && !(flags & CD_STORE_READONLY))
		rc = aside_start(db, err);
	if (rc < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc;
}

static struct cd_db_stmt *prepare(struct cd_db *db, const char *sql, int persistent)
{
	struct stmt *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->base.ops = &cd_db_sqlite;
	if (sqlite3_prepare_v3(db->h, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
			       &st->s, NULL) != SQLITE_OK || !st->s) {
		sqlite3_finalize(st->s);
		free(st);
		return NULL;
	}
	return &st->base;
}

#define S(x) (((struct stmt *)(x))->s)

static void finalize(struct cd_db_stmt *s)
{
	if (!s)
		return;
	sqlite3_finalize(S(s));
	free(s);
}

static void reset(struct cd_db_stmt *s)
{
	sqlite3_reset(S(s));
	sqlite3_clear_bindings(S(s));
}

static int busy(struct cd_db_stmt *s)
{
	return sqlite3_stmt_busy(S(s));
}

static int ok(int rc)
{
	return rc == SQLITE_OK ? 0 : -1;
}

static int bind_int(struct cd_db_stmt *s, int i, int64_t v)
{
	return ok(sqlite3_bind_int64(S(s), i, v));
}

static int bind_double(struct cd_db_stmt *s, int i, double v)
{
	return ok(sqlite3_bind_double(S(s), i, v));
}

static int bind_text(struct cd_db_stmt *s, int i, const char *v, int len)
{
	return ok(sqlite3_bind_text(S(s), i, v, len, SQLITE_STATIC));
}

static int bind_blob(struct cd_db_stmt *s, int i, const void *v, size_t len)
{
	return ok(sqlite3_bind_blob64(S(s), i, v, len, SQLITE_STATIC));
}

static int bind_null(struct cd_db_stmt *s, int i)
{
	return ok(sqlite3_bind_null(S(s), i));
}

static int params(struct cd_db_stmt *s)
{
	return sqlite3_bind_parameter_count(S(s));
}

static int step(struct cd_db_stmt *s)
{
	int rc = sqlite3_step(S(s));

	if (rc == SQLITE_ROW)
		return CD_DB_ROW;
	return rc == SQLITE_DONE ? CD_DB_DONE : -1;
}

static int is_null(struct cd_db_stmt *s, int col)
{
	return sqlite3_column_type(S(s), col) == SQLITE_NULL;
}

static enum cd_db_type col_type(struct cd_db_stmt *s, int col)
{
	switch (sqlite3_column_type(S(s), col)) {
	case SQLITE_INTEGER: return CD_DB_INT;
	case SQLITE_FLOAT: return CD_DB_REAL;
	case SQLITE_TEXT: return CD_DB_TEXT;
	case SQLITE_BLOB: return CD_DB_BLOB;
	default: return CD_DB_NULL;
	}
}

static int columns(struct cd_db_stmt *s)
{
	return sqlite3_column_count(S(s));
}

static int64_t col_int(struct cd_db_stmt *s, int col)
{
	return sqlite3_column_int64(S(s), col);
}

static double col_double(struct cd_db_stmt *s, int col)
{
	return sqlite3_column_double(S(s), col);
}

static const char *col_text(struct cd_db_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(S(s), col);
}

static const void *col_blob(struct cd_db_stmt *s, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(S(s), col);

	*len = (size_t)sqlite3_column_bytes(S(s), col);
	return p;
}

static int64_t changes(struct cd_db *db)
{
	return sqlite3_changes64(db->h);
}

static int64_t last_id(struct cd_db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

const struct cd_db_ops cd_db_sqlite = {
	.name = "sqlite",
	.engine = CD_STORE_SQLITE,
	.begin_sql = "BEGIN IMMEDIATE",
	.open = db_open,
	.close = db_close,
	.errmsg = errmsg,
	.exec = exec,
	.prepare = prepare,
	.finalize = finalize,
	.reset = reset,
	.busy = busy,
	.bind_int = bind_int,
	.bind_double = bind_double,
	.bind_text = bind_text,
	.bind_blob = bind_blob,
	.bind_null = bind_null,
	.params = params,
	.step = step,
	.is_null = is_null,
	.col_type = col_type,
	.columns = columns,
	.col_int = col_int,
	.col_double = col_double,
	.col_text = col_text,
	.col_blob = col_blob,
	.changes = changes,
	.last_id = last_id,
};
