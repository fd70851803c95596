/*
 * store_source.c - cursors, states and taken files of the order sources
 * (store_source.h). Tables from migration 4 (db_sqlite.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/store_source.h"
#include "db.h"

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
