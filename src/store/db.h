/*
 * db.h - the engine seam inside the store: the little a verb needs of a
 * database (statements, parameters, rows, transactions), behind one table
 * of operations per engine. Private to src/store/: no other folder sees a
 * statement, a row or a line of SQL.
 *
 * Verbs write SQL with SQLite's placeholders (?1, ?2 … or ?); an engine
 * with another syntax rewrites them when it prepares. Where the dialects
 * really differ, a verb asks cd_db_engine() and picks its text.
 *
 * Ownership: a statement from cd_db_cached() is borrowed from the store
 * and handed back with cd_db_done(); one from cd_db_prepare() belongs to
 * the caller (cd_db_free()). A bound string or blob must stay valid until
 * the statement is done or reset: engines do not copy it. A column's text
 * is borrowed until the next step, reset or done.
 */
#ifndef CANDOR_STORE_DB_H
#define CANDOR_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"
#include "candor/store.h"

struct cd_db;


/* Every engine's statement starts with this, so the inline helpers below
 * reach the engine without a lookup. */
struct cd_db_stmt {
	const struct cd_db_ops *ops;
	unsigned cached : 1;   /* owned by the store's cache */
};

/* cd_db_step() results; failures are negative. */
enum { CD_DB_DONE = 0, CD_DB_ROW = 1 };

/* What a column holds in the current row (cd_db_type()). */
enum cd_db_type { CD_DB_NULL, CD_DB_INT, CD_DB_REAL, CD_DB_TEXT, CD_DB_BLOB };

struct cd_db_ops {
	const char *name;            /* "sqlite", "postgresql" */
	enum cd_store_engine engine;
	/* SQL that starts the outermost transaction, taking the write lock. */
	const char *begin_sql;

	/* Open TARGET (NAME says which in messages, and holds no secret)
	 * and bring the schema to CD_STORE_SCHEMA_VERSION unless
	 * CD_STORE_READONLY. Returns 0, CD_ENOTFOUND (no database, or no
	 * schema, without CD_STORE_CREATE) or CD_ESTORE with ERR filled. */
	int (*open)(const struct cd_store_target *target, const char *name, int flags,
		    struct cd_db **out, struct cd_error *err);
	void (*close)(struct cd_db *db);
	const char *(*errmsg)(struct cd_db *db);
	/* Statements with no result and no parameters; 0 or -1. */
	int (*exec)(struct cd_db *db, const char *sql);
	/* NULL on failure (errmsg says why). PERSISTENT: kept for long. */
	struct cd_db_stmt *(*prepare)(struct cd_db *db, const char *sql, int persistent);
	void (*finalize)(struct cd_db_stmt *s);
	/* Back to before the first step, parameters cleared. */
	void (*reset)(struct cd_db_stmt *s);
	/* Stepped and not yet reset: a cached statement in use. */
	int (*busy)(struct cd_db_stmt *s);
	int (*bind_int)(struct cd_db_stmt *s, int i, int64_t v);
	int (*bind_double)(struct cd_db_stmt *s, int i, double v);
	int (*bind_text)(struct cd_db_stmt *s, int i, const char *v, int len);
	int (*bind_blob)(struct cd_db_stmt *s, int i, const void *v, size_t len);
	int (*bind_null)(struct cd_db_stmt *s, int i);
	int (*params)(struct cd_db_stmt *s);
	/* CD_DB_ROW, CD_DB_DONE, or negative. */
	int (*step)(struct cd_db_stmt *s);
	int (*is_null)(struct cd_db_stmt *s, int col);
	enum cd_db_type (*col_type)(struct cd_db_stmt *s, int col);
	int (*columns)(struct cd_db_stmt *s);
	int64_t (*col_int)(struct cd_db_stmt *s, int col);
	double (*col_double)(struct cd_db_stmt *s, int col);
	const char *(*col_text)(struct cd_db_stmt *s, int col);
	const void *(*col_blob)(struct cd_db_stmt *s, int col, size_t *len);
	/* Rows the last statement changed, and the last row id it inserted. */
	int64_t (*changes)(struct cd_db *db);
	int64_t (*last_id)(struct cd_db *db);
};

extern const struct cd_db_ops cd_db_sqlite;
extern const struct cd_db_ops cd_db_pg;

/* "postgresql://USER@HOST:PORT/DATABASE" for T, whatever of it is known
 * (db_pg.c). */
void cd_db_pg_name(const struct cd_store_target *t, char *buf, size_t len);

/* meta key of a copy into the store that has not finished (store_copy.c) */
#define CD_STORE_MIGRATION_KEY "migration_incomplete"

/* SQL for the store's engine: SQLITE's text, or PG's where the dialects
 * differ. */
#define CD_DB_PICK(st, sqlite, pg) \
	(cd_db_engine(st) == CD_STORE_POSTGRESQL ? (pg) : (sqlite))

/* The store's engine and connection. Borrowed. */
enum cd_store_engine cd_db_engine(struct cd_store *st);
struct cd_db *cd_db_handle(struct cd_store *st);
const struct cd_db_ops *cd_db_ops_of(struct cd_store *st);

/* A statement kept prepared as long as the store: for SQL run often.
 * Borrowed; hand it back with cd_db_done() before preparing the same SQL
 * again. NULL on failure (cd_store_fail() says why). */
struct cd_db_stmt *cd_db_cached(struct cd_store *st, const char *sql);
/* A statement of the caller's, for SQL built at run time. */
struct cd_db_stmt *cd_db_prepare(struct cd_store *st, const char *sql);
/* Reset a cached statement or free an owned one; NULL is fine. */
void cd_db_done(struct cd_db_stmt *s);

/* Run SQL with no parameters and no result; 0 or CD_ESTORE with ERR. */
int cd_db_exec(struct cd_store *st, const char *sql, struct cd_error *err);
/* Step a statement that returns no row; 0 or CD_ESTORE with ERR naming
 * WHAT. The statement is done (reset or freed) either way. */
int cd_db_run(struct cd_store *st, struct cd_db_stmt *s, struct cd_error *err,
	      const char *what);
int64_t cd_db_changes(struct cd_store *st);
int64_t cd_db_last_id(struct cd_store *st);

static inline int cd_db_bind_int(struct cd_db_stmt *s, int i, int64_t v)
{
	return s->ops->bind_int(s, i, v);
}

static inline int cd_db_bind_double(struct cd_db_stmt *s, int i, double v)
{
	return s->ops->bind_double(s, i, v);
}

/* NULL binds SQL NULL. */
static inline int cd_db_bind_text(struct cd_db_stmt *s, int i, const char *v)
{
	return v ? s->ops->bind_text(s, i, v, -1) : s->ops->bind_null(s, i);
}

static inline int cd_db_bind_textn(struct cd_db_stmt *s, int i, const char *v, int len)
{
	return s->ops->bind_text(s, i, v, len);
}

static inline int cd_db_bind_blob(struct cd_db_stmt *s, int i, const void *v, size_t len)
{
	return s->ops->bind_blob(s, i, v, len);
}

static inline int cd_db_bind_null(struct cd_db_stmt *s, int i)
{
	return s->ops->bind_null(s, i);
}

/* 0 binds NULL: for optional times and ids. */
static inline int cd_db_bind_int_or_null(struct cd_db_stmt *s, int i, int64_t v)
{
	return v ? s->ops->bind_int(s, i, v) : s->ops->bind_null(s, i);
}

static inline int cd_db_params(struct cd_db_stmt *s)
{
	return s->ops->params(s);
}

static inline int cd_db_step(struct cd_db_stmt *s)
{
	return s->ops->step(s);
}

static inline int cd_db_is_null(struct cd_db_stmt *s, int col)
{
	return s->ops->is_null(s, col);
}

static inline enum cd_db_type cd_db_type(struct cd_db_stmt *s, int col)
{
	return s->ops->col_type(s, col);
}

/* Columns of the result (after the first step). */
static inline int cd_db_columns(struct cd_db_stmt *s)
{
	return s->ops->columns(s);
}

static inline int64_t cd_db_int(struct cd_db_stmt *s, int col)
{
	return s->ops->col_int(s, col);
}

static inline double cd_db_double(struct cd_db_stmt *s, int col)
{
	return s->ops->col_double(s, col);
}

/* NULL for SQL NULL. Borrowed until the next step. */
static inline const char *cd_db_text(struct cd_db_stmt *s, int col)
{
	return s->ops->col_text(s, col);
}

static inline const void *cd_db_blob(struct cd_db_stmt *s, int col, size_t *len)
{
	return s->ops->col_blob(s, col, len);
}

struct cd_buf;

/* V[0..N) as a JSON array of strings into B, for a query that takes a
 * list as one parameter (json_each, json_array_elements_text); with
 * PICK, only the V[i] whose PICK[i] is WANT (0 or 1). */
void cd_db_json_strings(struct cd_buf *b, const char *const *v, const unsigned char *pick,
			int want, size_t n);

#endif
