/*
 * store.c - open the database safely and keep its schema current. The
 * schema is the contract with the shop's own systems (README documents
 * it), so it changes only through numbered migrations.
 */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "candor/store.h"
#include "candor/util.h"

#define STMT_CACHE 16

struct cd_store {
	sqlite3 *db;
	char *path;
	int depth; /* open savepoints */
	struct {
		char *sql;
		sqlite3_stmt *s;
	} cache[STMT_CACHE];
	unsigned evict; /* the slot a full cache tries first */
};

static const char *const state_names[CD_MSG_NSTATES] = {
	"due", "rendered", "held", "queued", "sending", "sent", "deferred", "failed",
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
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int cd_store_fail(struct cd_store *st, struct cd_error *err, const char *what)
{
	return cd_error_set(err, CD_ESTORE, st->path, 0, "%s: %s", what,
			    sqlite3_errmsg(st->db));
}

int cd_store_exec(struct cd_store *st, const char *sql, struct cd_error *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "database error");
	return 0;
}

int64_t cd_store_int(struct cd_store *st, const char *sql, int64_t arg, int64_t def)
{
	sqlite3_stmt *s;
	int64_t v = def;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return def;
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int user_version(struct cd_store *st, int *v, struct cd_error *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot read schema version");
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return cd_store_fail(st, err, "cannot read schema version");
	return 0;
}

static int migrate(struct cd_store *st, struct cd_error *err)
{
	char sql[64];
	int v, rc;

	if ((rc = user_version(st, &v, err)) < 0)
		return rc;
	if (v > NMIGRATIONS)
		return cd_error_set(err, CD_ESTORE, st->path, 0,
				    "database schema %d is newer than this candor (%d); upgrade candor",
				    v, NMIGRATIONS);
	for (; v < NMIGRATIONS; v++) {
		if ((rc = cd_store_begin(st, err)) < 0)
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (cd_store_exec(st, migrations[v], err) < 0 ||
		    cd_store_exec(st, sql, err) < 0) {
			cd_store_rollback(st);
			return CD_ESTORE;
		}
		if ((rc = cd_store_commit(st, err)) < 0)
			return rc;
	}
	return 0;
}

static int configure(struct cd_store *st, int flags, struct cd_error *err)
{
	sqlite3_busy_timeout(st->db, 5000);
	/* An 8 MB page cache keeps memory bounded. Statement journals, which
	 * every upsert needs once the order_changes trigger exists, stay in
	 * memory instead of costing a temporary file write per statement. */
	if (cd_store_exec(st, "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;", err) < 0)
		return CD_ESTORE;
	if (flags & CD_STORE_READONLY)
		return 0;
	return cd_store_exec(st, "PRAGMA journal_mode = WAL;"
			     "PRAGMA synchronous = NORMAL;"
			     "PRAGMA foreign_keys = ON;", err);
}

int cd_store_open(const char *path, int flags, struct cd_store **out,
		  struct cd_error *err)
{
	struct cd_store *st;
	struct stat sb;
	int oflags, rc;

	*out = NULL;
	if (!(flags & CD_STORE_CREATE) && stat(path, &sb) < 0)
		return cd_error_set(err, CD_ENOTFOUND, path, 0,
				    "database not found (%s); create it with 'candorctl init'",
				    strerror(errno));
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	oflags = (flags & CD_STORE_READONLY) ? SQLITE_OPEN_READONLY
		 : SQLITE_OPEN_READWRITE | ((flags & CD_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = cd_store_fail(st, err, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = configure(st, flags, err)) < 0)
		goto fail;
	if (flags & CD_STORE_READONLY) {
		int v;

		if ((rc = user_version(st, &v, err)) < 0)
			goto fail;
		if (v != NMIGRATIONS) {
			rc = cd_error_set(err, CD_ESTORE, path, 0,
					  "database schema is %d, expected %d; run candord or 'candorctl init' once to migrate",
					  v, NMIGRATIONS);
			goto fail;
		}
	} else if ((rc = migrate(st, err)) < 0) {
		goto fail;
	}
	*out = st;
	return 0;
fail:
	cd_store_close(st);
	return rc;
}

void cd_store_close(struct cd_store *st)
{
	if (!st)
		return;
	for (int i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(st->cache[i].s);
		free(st->cache[i].sql);
	}
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

struct sqlite3 *cd_store_db(struct cd_store *st)
{
	return st->db;
}

/* A free slot, or one whose statement is not running; -1 if none. */
static int cache_slot(struct cd_store *st)
{
	for (int i = 0; i < STMT_CACHE; i++)
		if (!st->cache[i].s)
			return i;
	for (int n = 0; n < STMT_CACHE; n++) {
		int i = (int)((st->evict + n) % STMT_CACHE);

		if (!sqlite3_stmt_busy(st->cache[i].s)) {
			st->evict = (unsigned)i + 1;
			sqlite3_finalize(st->cache[i].s);
			free(st->cache[i].sql);
			st->cache[i].s = NULL;
			st->cache[i].sql = NULL;
			return i;
		}
	}
	return -1;
}

struct sqlite3_stmt *cd_store_prepare_cached(struct cd_store *st, const char *sql)
{
	int i;

	for (i = 0; i < STMT_CACHE; i++)
		if (st->cache[i].sql && strcmp(st->cache[i].sql, sql) == 0)
			return st->cache[i].s;
	if ((i = cache_slot(st)) < 0 || !(st->cache[i].sql = strdup(sql)))
		return NULL;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->cache[i].s,
			       NULL) != SQLITE_OK) {
		free(st->cache[i].sql);
		st->cache[i].sql = NULL;
		st->cache[i].s = NULL;
		return NULL;
	}
	return st->cache[i].s;
}

void cd_store_release(struct sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int cd_store_begin(struct cd_store *st, struct cd_error *err)
{
	/* The outermost level takes the write lock at once (IMMEDIATE), so a
	 * busy database shows up here and not half-way through. */
	const char *sql = st->depth ? "SAVEPOINT cd" : "BEGIN IMMEDIATE";

	if (cd_store_exec(st, sql, err) < 0)
		return CD_ESTORE;
	st->depth++;
	return 0;
}

int cd_store_commit(struct cd_store *st, struct cd_error *err)
{
	const char *sql = st->depth > 1 ? "RELEASE cd" : "COMMIT";

	if (cd_store_exec(st, sql, err) < 0) {
		cd_store_rollback(st);
		return CD_ESTORE;
	}
	st->depth--;
	return 0;
}

void cd_store_rollback(struct cd_store *st)
{
	if (st->depth == 0)
		return;
	if (st->depth > 1)
		sqlite3_exec(st->db, "ROLLBACK TO cd; RELEASE cd", NULL, NULL, NULL);
	else
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->depth--;
}

int cd_store_init_secret(struct cd_store *st, int *created, struct cd_error *err)
{
	unsigned char key[32];
	sqlite3_stmt *s = NULL;
	int rc;

	*created = 0;
	if (cd_util_random(key, sizeof(key)) < 0)
		return cd_error_set(err, CD_EIO, NULL, 0, "cannot read random bytes from the kernel");
	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR IGNORE INTO meta(key, value) VALUES ('token_secret', ?)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = cd_store_fail(st, err, "cannot store secret");
		goto out;
	}
	sqlite3_bind_blob(s, 1, key, sizeof(key), SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = cd_store_fail(st, err, "cannot store secret");
		goto out;
	}
	*created = sqlite3_changes(st->db) > 0;
	rc = 0;
out:
	cd_util_wipe(key, sizeof(key));
	sqlite3_finalize(s);
	return rc;
}

int cd_store_secret(struct cd_store *st, unsigned char out[32],
		    struct cd_error *err)
{
	sqlite3_stmt *s;
	int rc = CD_ENOTFOUND;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'token_secret'",
			       -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot read secret");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
		memcpy(out, sqlite3_column_blob(s, 0), 32);
		rc = 0;
	} else {
		cd_error_set(err, rc, st->path, 0, "no token secret; run 'candorctl init'");
	}
	sqlite3_finalize(s);
	return rc;
}

int cd_store_count_states(struct cd_store *st, int64_t *counts,
			  struct cd_error *err)
{
	sqlite3_stmt *s;
	int rc;

	memset(counts, 0, sizeof(*counts) * CD_MSG_NSTATES);
	if (sqlite3_prepare_v2(st->db, "SELECT state, count(*) FROM messages GROUP BY state",
			       -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot count messages");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		for (int i = 0; i < CD_MSG_NSTATES; i++)
			if (name && strcmp(name, state_names[i]) == 0)
				counts[i] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cd_store_fail(st, err, "cannot count messages");
	return 0;
}

int cd_store_suppress(struct cd_store *st, const char *email, const char *reason,
		      const char *detail, int64_t at, struct cd_error *err)
{
	static const char *const reasons[] = {
		"unsubscribed", "hard_bounce", "soft_bounce", "complaint", "blocked",
	};
	sqlite3_stmt *s;
	size_t i = 0;
	int rc;

	while (i < 5 && strcmp(reason, reasons[i]) != 0)
		i++;
	if (i == 5)
		return cd_error_set(err, CD_EINVAL, NULL, 0,
				    "unknown reason \"%s\" (unsubscribed, hard_bounce, soft_bounce, complaint, blocked)",
				    reason);
	if (sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO suppressions(email, reason, detail, at)"
			       " VALUES (?1, ?2, ?3, ?4)", -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot suppress");
	sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, at);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cd_store_fail(st, err, "cannot suppress");
}

static int run_on_email(struct cd_store *st, const char *sql, const char *email)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? sqlite3_changes(st->db) : -1;
}

int cd_store_unsuppress(struct cd_store *st, const char *email, struct cd_error *err)
{
	int n, rc;

	if ((rc = cd_store_begin(st, err)) < 0)
		return rc;
	n = run_on_email(st, "DELETE FROM suppressions WHERE email = ?1", email);
	/* The scheduler passed over this customer's orders while the address
	 * was suppressed; touching them puts them in order_changes, so the
	 * next pass looks at them again (those still inside their window). */
	if (n < 0 || (n > 0 && run_on_email(st, "UPDATE orders SET updated = updated"
					    " WHERE email = ?1 COLLATE NOCASE", email) < 0)) {
		cd_store_rollback(st);
		return cd_store_fail(st, err, "cannot lift the suppression");
	}
	if ((rc = cd_store_commit(st, err)) < 0)
		return rc;
	if (n == 0)
		return cd_error_set(err, CD_ENOTFOUND, NULL, 0, "%s is not suppressed", email);
	return 0;
}

const char *cd_store_state_name(enum cd_msg_state s)
{
	return s < CD_MSG_NSTATES ? state_names[s] : "?";
}

int cd_store_meta_get(struct cd_store *st, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *s;
	int rc = CD_ENOTFOUND;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int cd_store_meta_set(struct cd_store *st, const char *key, const char *value,
		      struct cd_error *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, value ? "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"
			       : "DELETE FROM meta WHERE key = ?1", -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(st, err, "cannot write meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cd_store_fail(st, err, "cannot write meta");
}
