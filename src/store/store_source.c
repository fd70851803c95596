/*
 * store_source.c - cursors, states and taken files of the order sources
 * (store_source.h). Tables from migration 4 (db_sqlite.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/store_source.h"
#include "db.h"

/* *V with room for twice CAP (at least 64) strings; the new capacity, or
 * 0 when out of memory (*V as it was). */
static size_t grow(char ***v, size_t cap)
{
	size_t n = cap ? cap * 2 : 64;
	char **nv = realloc(*v, n * sizeof(*nv));

	if (!nv)
		return 0;
	*v = nv;
	return n;
}

static char *dup_text(struct cd_db_stmt *s, int col)
{
	const char *v = cd_db_text(s, col);

	return v ? strdup(v) : NULL;
}

int cd_store_source_cursor(struct cd_store *st, const char *source, const char *stream,
			   char **time, char **key)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"SELECT time, key FROM source_cursors WHERE source = ?1 AND stream = ?2");
	int rc;

	*time = *key = NULL;
	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, source);
	cd_db_bind_text(s, 2, stream);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW) {
		*time = dup_text(s, 0);
		*key = dup_text(s, 1);
		rc = *time && *key ? 0 : CD_ESTORE;
	} else {
		rc = rc == CD_DB_DONE ? CD_ENOTFOUND : CD_ESTORE;
	}
	cd_db_done(s);
	if (rc < 0) {
		free(*time);
		free(*key);
		*time = *key = NULL;
	}
	return rc;
}

int cd_store_source_set_cursor(struct cd_store *st, const char *source, const char *stream,
			       const char *time, const char *key, int64_t at,
			       struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"INSERT INTO source_cursors(source, stream, time, key, at) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT(source, stream) DO UPDATE SET time = ?3, key = ?4, at = ?5");

	if (s) {
		cd_db_bind_text(s, 1, source);
		cd_db_bind_text(s, 2, stream);
		cd_db_bind_text(s, 3, time);
		cd_db_bind_text(s, 4, key);
		cd_db_bind_int(s, 5, at);
	}
	return cd_db_run(st, s, err, "cannot write the source cursor");
}

int cd_store_source_polled(struct cd_store *st, const char *source, const char *type,
			   int64_t at, int ok, const char *detail, int caught_up,
			   int64_t rows, int64_t bad, struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"INSERT INTO source_status(source, type, state, detail, last_poll, last_ok,"
		" caught_up, rows, bad, errors) VALUES (?1, ?2, CASE WHEN ?4 THEN 'ok' ELSE 'failing' END,"
		" ?5, ?3, CASE WHEN ?4 THEN ?3 END, CASE WHEN ?6 THEN ?3 END, ?7, ?8,"
		" CASE WHEN ?4 THEN 0 ELSE 1 END)"
		" ON CONFLICT(source) DO UPDATE SET type = ?2,"
		" state = CASE WHEN ?4 THEN 'ok' ELSE 'failing' END, detail = ?5, last_poll = ?3,"
		" last_ok = CASE WHEN ?4 THEN ?3 ELSE last_ok END,"
		" caught_up = CASE WHEN ?6 THEN ?3 ELSE caught_up END,"
		" rows = rows + ?7, bad = bad + ?8, errors = errors + CASE WHEN ?4 THEN 0 ELSE 1 END");

	if (s) {
		cd_db_bind_text(s, 1, source);
		cd_db_bind_text(s, 2, type);
		cd_db_bind_int(s, 3, at);
		cd_db_bind_int(s, 4, ok != 0);
		cd_db_bind_text(s, 5, detail);
		cd_db_bind_int(s, 6, caught_up != 0);
		cd_db_bind_int(s, 7, rows);
		cd_db_bind_int(s, 8, bad);
	}
	return cd_db_run(st, s, err, "cannot write the source state");
}

int cd_store_source_status(struct cd_store *st, const char *source,
			   struct cd_source_status *out)
{
	struct cd_db_stmt *s = cd_db_prepare(st,
		"SELECT source, type, state, detail, coalesce(last_poll, 0), coalesce(last_ok, 0),"
		" coalesce(caught_up, 0), rows, bad, errors FROM source_status WHERE source = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, source);
	rc = cd_db_step(s);
	if (rc == CD_DB_ROW) {
		out->source = dup_text(s, 0);
		out->type = dup_text(s, 1);
		out->state = dup_text(s, 2);
		out->detail = dup_text(s, 3);
		out->last_poll = cd_db_int(s, 4);
		out->last_ok = cd_db_int(s, 5);
		out->caught_up = cd_db_int(s, 6);
		out->rows = cd_db_int(s, 7);
		out->bad = cd_db_int(s, 8);
		out->errors = cd_db_int(s, 9);
		rc = out->source && out->type && out->state ? 0 : CD_ESTORE;
	} else {
		rc = rc == CD_DB_DONE ? CD_ENOTFOUND : CD_ESTORE;
	}
	cd_db_done(s);
	if (rc < 0)
		cd_store_source_status_free(out);
	return rc;
}

void cd_store_source_status_free(struct cd_source_status *s)
{
	if (!s)
		return;
	free(s->source);
	free(s->type);
	free(s->state);
	free(s->detail);
	memset(s, 0, sizeof(*s));
}

int cd_store_source_seen(struct cd_store *st, const char *source, const char *id,
			 const char *time)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"SELECT 1 FROM orders WHERE order_id = ?1 AND source = ?2 AND source_time = ?3");
	int rc;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, id);
	cd_db_bind_text(s, 2, source);
	cd_db_bind_text(s, 3, time);
	rc = cd_db_step(s);
	cd_db_done(s);
	return rc == CD_DB_ROW ? 1 : rc == CD_DB_DONE ? 0 : CD_ESTORE;
}

int cd_store_source_pending(struct cd_store *st, const char *source, const char *after,
			    int64_t since, int limit, char ***ids, size_t *n)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		/* from the candidates in the window, by the time indexes: a
		 * walk by key would read every order a poll */
		"SELECT o.order_id FROM orders o WHERE o.rowid IN (SELECT rowid FROM orders"
		"  WHERE shipped >= ?3 UNION SELECT rowid FROM orders WHERE delivered >= ?3)"
		" AND o.source = ?1 AND o.order_id > ?2"
		" AND o.status NOT IN ('returned','refunded','cancelled')"
		" AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
		"  AND m.kind = 'reminder')"
		" AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = o.order_id)"
		" ORDER BY o.order_id LIMIT ?4");
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, source);
	cd_db_bind_text(s, 2, after);
	cd_db_bind_int(s, 3, since);
	cd_db_bind_int(s, 4, limit);
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		char *id = dup_text(s, 0);

		if (!id || (*n == cap && !(cap = grow(ids, cap)))) {
			free(id);
			rc = CD_ESTORE;
			break;
		}
		(*ids)[(*n)++] = id;
	}
	cd_db_done(s);
	if (rc != CD_DB_DONE) {
		for (size_t i = 0; i < *n; i++)
			free((*ids)[i]);
		free(*ids);
		*ids = NULL;
		*n = 0;
		return CD_ESTORE;
	}
	return 0;
}

int cd_store_source_order_gone(struct cd_store *st, const char *source, const char *id,
			       int64_t at, struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"UPDATE orders SET status = 'cancelled', updated = ?3"
		" WHERE order_id = ?1 AND source = ?2 AND status <> 'cancelled'");
	int rc;

	if (s) {
		cd_db_bind_text(s, 1, id);
		cd_db_bind_text(s, 2, source);
		cd_db_bind_int(s, 3, at);
	}
	if ((rc = cd_db_run(st, s, err, "cannot cancel a deleted order")) < 0)
		return rc;
	if (cd_db_changes(st) == 0)
		return 0;
	s = cd_db_cached(st, "INSERT INTO events(message, order_id, kind, detail, at)"
			 " VALUES (NULL, ?1, 'order_deleted', ?2, ?3)");
	if (s) {
		cd_db_bind_text(s, 1, id);
		cd_db_bind_text(s, 2, source);
		cd_db_bind_int(s, 3, at);
	}
	return (rc = cd_db_run(st, s, err, "cannot record a deleted order")) < 0 ? rc : 1;
}

int cd_store_source_file_taken(struct cd_store *st, const char *source, const char *name,
			       int64_t size, int64_t mtime)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"SELECT 1 FROM source_files WHERE source = ?1 AND file = ?2 AND size = ?3 AND mtime = ?4");
	int rc;

	if (!s)
		return CD_ESTORE;
	cd_db_bind_text(s, 1, source);
	cd_db_bind_text(s, 2, name);
	cd_db_bind_int(s, 3, size);
	cd_db_bind_int(s, 4, mtime);
	rc = cd_db_step(s);
	cd_db_done(s);
	return rc == CD_DB_ROW ? 1 : rc == CD_DB_DONE ? 0 : CD_ESTORE;
}

int cd_store_source_file_take(struct cd_store *st, const char *source, const char *name,
			      int64_t size, int64_t mtime, const char *result, int64_t at,
			      struct cd_error *err)
{
	struct cd_db_stmt *s = cd_db_cached(st,
		"INSERT INTO source_files(source, file, size, mtime, result, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING");

	if (s) {
		cd_db_bind_text(s, 1, source);
		cd_db_bind_text(s, 2, name);
		cd_db_bind_int(s, 3, size);
		cd_db_bind_int(s, 4, mtime);
		cd_db_bind_text(s, 5, result);
		cd_db_bind_int(s, 6, at);
	}
	return cd_db_run(st, s, err, "cannot record the taken file");
}
