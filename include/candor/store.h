/*
 * store.h - the store: orders, feedback, messages, events, suppressions,
 * behind typed verbs (this header and store_*.h, one per concern). Only
 * src/store/ speaks SQL; an engine plugs in there as a table of
 * operations (src/store/db.h): SQLite (WAL, a busy timeout, migrations by
 * PRAGMA user_version) is the embedded default; PostgreSQL (libpq,
 * migrations recorded in meta.schema_version) serves several daemons.
 *
 * Transactions nest (SAVEPOINTs), so a caller may wrap several store calls
 * in one cd_store_begin()/cd_store_commit() and each call stays atomic.
 * Strings returned belong to the caller unless marked borrowed.
 */
#ifndef CANDOR_STORE_H
#define CANDOR_STORE_H

#include <stdint.h>

#include "candor/error.h"

struct cd_store;
struct cd_config;

/* The schema version this build writes. */
#define CD_STORE_SCHEMA_VERSION 5

/* The engines behind the store (src/store/db_*.c). */
enum cd_store_engine {
	CD_STORE_SQLITE,
	CD_STORE_POSTGRESQL
};

enum cd_store_flags {
	CD_STORE_CREATE = 1,   /* create the file if missing (candorctl init) */
	CD_STORE_READONLY = 2, /* status, report, history */
	CD_STORE_MIGRATING = 4, /* open a half-migrated store (cd_store_copy) */
	/* People wait for this connection's commits (the web endpoint).
	 * SQLite: a thread of the store's own, on a connection of its own,
	 * checkpoints the WAL, never these commits; and a busy lock is tried
	 * every 0.1 ms, where other connections try every 1 ms, so this one
	 * gets it first. Other engines: nothing. */
	CD_STORE_INTERACTIVE = 8
};

/* Message life cycle states, in the order DESIGN.md draws them. */
enum cd_msg_state {
	CD_MSG_DUE, CD_MSG_RENDERED, CD_MSG_HELD, CD_MSG_QUEUED,
	CD_MSG_SENDING, CD_MSG_SENT, CD_MSG_DEFERRED, CD_MSG_FAILED,
	CD_MSG_NSTATES
};

/* Where a store is. Strings are borrowed for the call; NULL or "" is
 * unset. For PostgreSQL, CONNINFO is a libpq connection string and the
 * other fields, when set, win over it; the password is read from
 * PASSWORD_FILE when the store opens (else libpq's own ways: .pgpass,
 * PGPASSWORD, peer), never kept, never shown. */
struct cd_store_target {
	enum cd_store_engine engine;
	const char *path;                   /* sqlite: the file */
	const char *conninfo;               /* postgresql */
	const char *host, *user, *database, *sslmode, *ca_file, *password_file;
	int port;                           /* 0: libpq's default */
};

/* Open PATH, an SQLite file, apply pending migrations. Returns 0,
 * CD_ENOTFOUND (no file and no CD_STORE_CREATE), CD_ESTORE (damaged,
 * newer schema, locked, or half-migrated: see cd_store_copy()). */
int cd_store_open(const char *path, int flags, struct cd_store **out,
		  struct cd_error *err);

/* The same for any engine. For PostgreSQL the database must exist;
 * CD_ENOTFOUND means it holds no candor schema yet (and no
 * CD_STORE_CREATE). */
int cd_store_open_target(const struct cd_store_target *t, int flags,
			 struct cd_store **out, struct cd_error *err);

/* The store CFG names: its store section (store_config.c), the SQLite
 * file being CFG's database. */
int cd_store_open_config(const struct cd_config *cfg, int flags,
			 struct cd_store **out, struct cd_error *err);

/* Where CFG's store is, for people, without opening it: "sqlite FILE" or
 * "postgresql://USER@HOST:PORT/DATABASE" (never a password) into BUF. */
void cd_store_config_where(const struct cd_config *cfg, char *buf, size_t len);

/* What the store is, for people: the SQLite file, or
 * "postgresql://USER@HOST:PORT/DATABASE" (never a password). Borrowed. */
const char *cd_store_name(struct cd_store *st);

/* The engine behind ST. */
enum cd_store_engine cd_store_engine_of(struct cd_store *st);

/* Close and free; NULL is fine. */
void cd_store_close(struct cd_store *st);

/* Nested transactions. Return 0 or CD_ESTORE. */
int cd_store_begin(struct cd_store *st, struct cd_error *err);
int cd_store_commit(struct cd_store *st, struct cd_error *err);
void cd_store_rollback(struct cd_store *st);

/* Create the token secret if there is none yet. *CREATED tells which. */
int cd_store_init_secret(struct cd_store *st, int *created,
			 struct cd_error *err);

/* Copy the 32-byte token secret into OUT. CD_ENOTFOUND before init. */
int cd_store_secret(struct cd_store *st, unsigned char out[32],
		    struct cd_error *err);

/* Count messages per state into COUNTS[CD_MSG_NSTATES]. */
int cd_store_count_states(struct cd_store *st, int64_t *counts,
			  struct cd_error *err);

/* Suppress EMAIL (compared without case) for REASON: "unsubscribed",
 * "hard_bounce", "soft_bounce", "complaint" or "blocked". An address
 * already suppressed keeps its first reason. Returns 0, CD_EINVAL (bad
 * reason) or CD_ESTORE. */
int cd_store_suppress(struct cd_store *st, const char *email, const char *reason,
		      const char *detail, int64_t at, struct cd_error *err);

/* Lift the suppression of EMAIL. Returns 0, CD_ENOTFOUND or CD_ESTORE. */
int cd_store_unsuppress(struct cd_store *st, const char *email, struct cd_error *err);

/* Name of a state as stored ("sending"), and back (CD_MSG_NSTATES for
 * a name that is none). */
const char *cd_store_state_name(enum cd_msg_state s);
enum cd_msg_state cd_store_state_parse(const char *name);

/* The meta value KEY into BUF ("" and CD_ENOTFOUND when unset); set it
 * (VALUE NULL deletes it). Return 0 or CD_ESTORE. */
int cd_store_meta_get(struct cd_store *st, const char *key, char *buf, size_t len);
int cd_store_meta_set(struct cd_store *st, const char *key, const char *value,
		      struct cd_error *err);

/* What one daemon at a time does when several share a PostgreSQL store. */
enum cd_store_role {
	CD_STORE_ROLE_SENDING,  /* SQLite: sending; PostgreSQL: the watch on interrupted sends */
	CD_STORE_ROLE_INBOX,    /* reading the reply mailbox */
	CD_STORE_ROLE_SOURCES,  /* polling the shop's order sources */
	CD_STORE_NROLES
};

/* Does this process lead ROLE? Takes the lead when nobody holds it; ask
 * again before each turn of the work, as a lead is lost with the
 * connection. 1, 0 (another daemon leads) or CD_ESTORE. SQLite: always
 * 1 (one daemon per file, by the instance lock). PostgreSQL: a session
 * advisory lock, which the server lets go of when the holder's
 * connection ends (a crash, kill -9), so a waiting daemon takes it over
 * at its next try. */
int cd_store_lead(struct cd_store *st, enum cd_store_role role);

/* Fill ERR with the database's last message, prefixed by WHAT. */
int cd_store_fail(struct cd_store *st, struct cd_error *err, const char *what);

#endif
