/*
 * store.c - the store itself: which engine, its statement cache, nested
 * transactions, and the few verbs every part needs (secret, meta,
 * suppressions, counts). The other store_*.c files hold the verbs of one
 * concern each; db_*.c are the engines.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/store.h"
#include "candor/util.h"
#include "db.h"

#define STMT_CACHE 48

struct cd_store {
	const struct cd_db_ops *ops;
	struct cd_db *db;
	char *path;
	int depth; /* open savepoints */
	struct {
		char *sql;
		struct cd_db_stmt *s;
	} cache[STMT_CACHE];
	unsigned evict; /* the slot a full cache tries first */
};

static const char *const state_names[CD_MSG_NSTATES] = {
	"due", "rendered", "held", "queued", "sending", "sent", "deferred", "failed",
};

int cd_store_fail(struct cd_store *st, struct cd_error *err, const char *what)
{
	return cd_error_set(err, CD_ESTORE, st->path, 0, "%s: %s", what,
			    st->ops->errmsg(st->db));
}

enum cd_store_engine cd_db_engine(struct cd_store *st)
{
	return st->ops->engine;
}

struct cd_db *cd_db_handle(struct cd_store *st)
{
	return st->db;
}

const struct cd_db_ops *cd_db_ops_of(struct cd_store *st)
{
	return st->ops;
}

int cd_db_exec(struct cd_store *st, const char *sql, struct cd_error *err)
{
	if (st->ops->exec(st->db, sql) < 0)
		return cd_store_fail(st, err, "database error");
	return 0;
}

int64_t cd_db_changes(struct cd_store *st)
{
	return st->ops->changes(st->db);
}

int64_t cd_db_last_id(struct cd_store *st)
{
	return st->ops->last_id(st->db);
}

int cd_db_run(struct cd_store *st, struct cd_db_stmt *s, struct cd_error *err,
	      const char *what)
{
	int rc;

	if (!s)
		return cd_store_fail(st, err, what);
	rc = cd_db_step(s) == CD_DB_DONE ? 0 : cd_store_fail(st, err, what);
	cd_db_done(s);
	return rc;
}

int cd_store_open_target(const struct cd_store_target *t, int flags,
			 struct cd_store **out, struct cd_error *err)
{
	struct cd_store *st;
	char name[512], marker[256];
	int rc;

	*out = NULL;
	if (t->engine == CD_STORE_POSTGRESQL)
		cd_db_pg_name(t, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", t->path ? t->path : "");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(name))) {
		free(st);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	st->ops = t->engine == CD_STORE_POSTGRESQL ? &cd_db_pg : &cd_db_sqlite;
	if ((rc = st->ops->open(t, st->path, flags, &st->db, err)) < 0) {
		cd_store_close(st);
		return rc;
	}
	/* a copy into this store (cd_store_copy) that did not finish leaves
	 * its mark: nothing may run on half the data */
	if (!(flags & CD_STORE_MIGRATING) &&
	    cd_store_meta_get(st, CD_STORE_MIGRATION_KEY, marker, sizeof(marker)) == 0) {
		cd_error_set(err, CD_ESTORE, st->path, 0,
			     "half-migrated store (%s); run 'candorctl migrate' again", marker);
		cd_store_close(st);
		return CD_ESTORE;
	}
	*out = st;
	return 0;
}

int cd_store_open(const char *path, int flags, struct cd_store **out,
		  struct cd_error *err)
{
	struct cd_store_target t = { .engine = CD_STORE_SQLITE, .path = path };

	return cd_store_open_target(&t, flags, out, err);
}

const char *cd_store_name(struct cd_store *st)
{
	return st->path;
}

enum cd_store_engine cd_store_engine_of(struct cd_store *st)
{
	return st->ops->engine;
}

void cd_store_close(struct cd_store *st)
{
	if (!st)
		return;
	for (int i = 0; i < STMT_CACHE; i++) {
		if (st->cache[i].s)
			st->ops->finalize(st->cache[i].s);
		free(st->cache[i].sql);
	}
	if (st->db)
		st->ops->close(st->db);
	free(st->path);
	free(st);
}

/* A free slot, or one whose statement is not running; -1 if none. */
static int cache_slot(struct cd_store *st)
{
	for (int i = 0; i < STMT_CACHE; i++)
		if (!st->cache[i].s)
			return i;
	for (int n = 0; n < STMT_CACHE; n++) {
		int i = (int)((st->evict + n) % STMT_CACHE);

		if (!st->ops->busy(st->cache[i].s)) {
			st->evict = (unsigned)i + 1;
			st->ops->finalize(st->cache[i].s);
			free(st->cache[i].sql);
			st->cache[i].s = NULL;
			st->cache[i].sql = NULL;
			return i;
		}
	}
	return -1;
}

struct cd_db_stmt *cd_db_cached(struct cd_store *st, const char *sql)
{
	int i;

	for (i = 0; i < STMT_CACHE; i++)
		if (st->cache[i].sql && strcmp(st->cache[i].sql, sql) == 0)
			return st->cache[i].s;
	if ((i = cache_slot(st)) < 0 || !(st->cache[i].sql = strdup(sql)))
		return NULL;
	if (!(st->cache[i].s = st->ops->prepare(st->db, sql, 1))) {
		free(st->cache[i].sql);
		st->cache[i].sql = NULL;
		return NULL;
	}
	st->cache[i].s->cached = 1;
	return st->cache[i].s;
}

struct cd_db_stmt *cd_db_prepare(struct cd_store *st, const char *sql)
{
	return st->ops->prepare(st->db, sql, 0);
}

void cd_db_done(struct cd_db_stmt *s)
{
	if (!s)
		return;
	if (s->cached)
		s->ops->reset(s);
	else
		s->ops->finalize(s);
}

int cd_store_begin(struct cd_store *st, struct cd_error *err)
{
	/* The outermost level takes the write lock at once, so a busy
	 * database shows up here and not half-way through. */
	const char *sql = st->depth ? "SAVEPOINT cd" : st->ops->begin_sql;

	if (cd_db_exec(st, sql, err) < 0)
		return CD_ESTORE;
	st->depth++;
	return 0;
}

int cd_store_commit(struct cd_store *st, struct cd_error *err)
{
	const char *sql = st->depth > 1 ? "RELEASE cd" : "COMMIT";

	if (cd_db_exec(st, sql, err) < 0) {
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
		st->ops->exec(st->db, "ROLLBACK TO cd; RELEASE cd");
	else
		st->ops->exec(st->db, "ROLLBACK");
	st->depth--;
}

int cd_store_init_secret(struct cd_store *st, int *created, struct cd_error *err)
{
	unsigned char key[32];
	struct cd_db_stmt *s;
	int rc;

	*created = 0;
	if (cd_util_random(key, sizeof(key)) < 0)
		return cd_error_set(err, CD_EIO, NULL, 0, "cannot read random bytes from the kernel");
	s = cd_db_prepare(st, "INSERT INTO meta(key, value) VALUES ('token_secret', ?1)"
			  " ON CONFLICT DO NOTHING");
	if (s)
		cd_db_bind_blob(s, 1, key, sizeof(key));
	if ((rc = cd_db_run(st, s, err, "cannot store secret")) == 0)
		*created = cd_db_changes(st) > 0;
	cd_util_wipe(key, sizeof(key));
	return rc;
}

int cd_store_secret(struct cd_store *st, unsigned char out[32],
		    struct cd_error *err)
{
	struct cd_db_stmt *s;
	const void *p;
	size_t len = 0;
	int rc = CD_ENOTFOUND;

	s = cd_db_cached(st, "SELECT value FROM meta WHERE key = 'token_secret'");
	if (!s)
		return cd_store_fail(st, err, "cannot read secret");
	if (cd_db_step(s) == CD_DB_ROW && (p = cd_db_blob(s, 0, &len)) && len == 32) {
		memcpy(out, p, 32);
		rc = 0;
	} else {
		cd_error_set(err, rc, st->path, 0, "no token secret; run 'candorctl init'");
	}
	cd_db_done(s);
	return rc;
}

enum cd_msg_state cd_store_state_parse(const char *name)
{
	for (int i = 0; name && i < CD_MSG_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (enum cd_msg_state)i;
	return CD_MSG_NSTATES;
}

int cd_store_count_states(struct cd_store *st, int64_t *counts,
			  struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	memset(counts, 0, sizeof(*counts) * CD_MSG_NSTATES);
	s = cd_db_cached(st, "SELECT state, count(*) FROM messages GROUP BY state");
	if (!s)
		return cd_store_fail(st, err, "cannot count messages");
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		enum cd_msg_state i = cd_store_state_parse(cd_db_text(s, 0));

		if (i < CD_MSG_NSTATES)
			counts[i] = cd_db_int(s, 1);
	}
	cd_db_done(s);
	if (rc != CD_DB_DONE)
		return cd_store_fail(st, err, "cannot count messages");
	return 0;
}

int cd_store_suppress(struct cd_store *st, const char *email, const char *reason,
		      const char *detail, int64_t at, struct cd_error *err)
{
	static const char *const reasons[] = {
		"unsubscribed", "hard_bounce", "soft_bounce", "complaint", "blocked",
	};
	struct cd_db_stmt *s;
	size_t i = 0;

	while (i < 5 && strcmp(reason, reasons[i]) != 0)
		i++;
	if (i == 5)
		return cd_error_set(err, CD_EINVAL, NULL, 0,
				    "unknown reason \"%s\" (unsubscribed, hard_bounce, soft_bounce, complaint, blocked)",
				    reason);
	s = cd_db_cached(st, "INSERT INTO suppressions(email, reason, detail, at)"
			 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
	if (s) {
		cd_db_bind_text(s, 1, email);
		cd_db_bind_text(s, 2, reason);
		cd_db_bind_text(s, 3, detail);
		cd_db_bind_int(s, 4, at);
	}
	return cd_db_run(st, s, err, "cannot suppress");
}

/* Rows changed by SQL with EMAIL as ?1, or -1. */
static int64_t run_on_email(struct cd_store *st, const char *sql, const char *email)
{
	struct cd_db_stmt *s = cd_db_cached(st, sql);

	if (!s)
		return -1;
	cd_db_bind_text(s, 1, email);
	if (cd_db_run(st, s, NULL, "") < 0)
		return -1;
	return cd_db_changes(st);
}

int cd_store_unsuppress(struct cd_store *st, const char *email, struct cd_error *err)
{
	int64_t n;
	int rc;

	if ((rc = cd_store_begin(st, err)) < 0)
		return rc;
	n = run_on_email(st, CD_DB_PICK(st, "DELETE FROM suppressions WHERE email = ?1",
					"DELETE FROM suppressions WHERE lower(email) = lower(?1)"),
			 email);
	/* The scheduler passed over this customer's orders while the address
	 * was suppressed; touching them puts them in order_changes, so the
	 * next pass looks at them again (those still inside their window). */
	if (n < 0 || (n > 0 && run_on_email(st, CD_DB_PICK(st, "UPDATE orders SET updated = updated"
							   " WHERE email = ?1 COLLATE NOCASE",
							   "UPDATE orders SET updated = updated"
							   " WHERE lower(email) = lower(?1)"),
					    email) < 0)) {
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
	struct cd_db_stmt *s;
	const char *v;
	int rc = CD_ENOTFOUND;

	buf[0] = '\0';
	if (!(s = cd_db_cached(st, "SELECT value FROM meta WHERE key = ?1")))
		return CD_ESTORE;
	cd_db_bind_text(s, 1, key);
	if (cd_db_step(s) == CD_DB_ROW && (v = cd_db_text(s, 0))) {
		snprintf(buf, len, "%s", v);
		rc = 0;
	}
	cd_db_done(s);
	return rc;
}

int cd_store_meta_set(struct cd_store *st, const char *key, const char *value,
		      struct cd_error *err)
{
	struct cd_db_stmt *s;

	s = cd_db_cached(st, value ? "INSERT INTO meta(key, value) VALUES (?1, ?2)"
			 " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
			 : "DELETE FROM meta WHERE key = ?1");
	if (s) {
		cd_db_bind_text(s, 1, key);
		if (value)
			cd_db_bind_text(s, 2, value);
	}
	return cd_db_run(st, s, err, "cannot write meta");
}

void cd_db_json_strings(struct cd_buf *b, const char *const *v, const unsigned char *pick,
			int want, size_t n)
{
	cd_buf_addc(b, '[');
	for (size_t i = 0, first = 1; i < n; i++) {
		if (pick && !!pick[i] != want)
			continue;
		if (!first)
			cd_buf_addc(b, ',');
		first = 0;
		cd_buf_addc(b, '"');
		for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				cd_buf_printf(b, "\\%c", *p);
			else if (*p < 0x20)
				cd_buf_printf(b, "\\u%04x", *p);
			else
				cd_buf_addc(b, (char)*p);
		}
		cd_buf_addc(b, '"');
	}
	cd_buf_addc(b, ']');
}
