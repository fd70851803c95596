/*
 * store.h - the store: orders, feedback, messages, events, suppressions,
 * behind typed verbs (this header and store_*.h, one per concern). Only
 * src/store/ speaks SQL; an engine plugs in there as a table of
 * operations (src/store/db.h): SQLite (WAL, a busy timeout, migrations by
 * PRAGMA user_version) is the embedded default.
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

/* The schema version this build writes. */
#define CD_STORE_SCHEMA_VERSION 4

/* The engines behind the store (src/store/db_*.c). */
enum cd_store_engine {
	CD_STORE_SQLITE,
	CD_STORE_POSTGRESQL
};

enum cd_store_flags {
	CD_STORE_CREATE = 1,   /* create the file if missing (candorctl init) */
	CD_STORE_READONLY = 2  /* status, report, history */
};

/* Message life cycle states, in the order DESIGN.md draws them. */
enum cd_msg_state {
	CD_MSG_DUE, CD_MSG_RENDERED, CD_MSG_HELD, CD_MSG_QUEUED,
	CD_MSG_SENDING, CD_MSG_SENT, CD_MSG_DEFERRED, CD_MSG_FAILED,
	CD_MSG_NSTATES
};

/* Open PATH, apply pending migrations. Returns 0, CD_ENOTFOUND (no file
 * and no CD_STORE_CREATE), CD_ESTORE (damaged, newer schema, locked). */
int cd_store_open(const char *path, int flags, struct cd_store **out,
		  struct cd_error *err);

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

/* Fill ERR with the database's last message, prefixed by WHAT. */
int cd_store_fail(struct cd_store *st, struct cd_error *err, const char *what);

#endif
