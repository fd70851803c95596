/*
 * store_copy.c - one store copied into another, whatever their engines
 * (store_copy.h): each table read in pages by its key, written in
 * multi-row INSERTs inside one transaction on the target, then read back
 * there and compared with the source by count and checksum before the
 * commit.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/store_copy.h"
#include "candor/util.h"
#include "db.h"

#define PAGE 2000

/* A table as copied: COLS are read and written as they are, the first
 * NKEY of them being the key pages are read by. */
struct table {
	const char *name;
	const char *cols;
	int ncols, nkey;
	const char *where;     /* rows not copied are left out by this */
	const char *identity;  /* PostgreSQL: the identity column to move on */
};

static const struct table tables[CD_STORE_COPY_TABLES] = {
	{ "meta", "key, value", 2, 1,
	  "key NOT IN ('schema_version', '" CD_STORE_MIGRATION_KEY "')", NULL },
	{ "orders", "rowid, order_id, channel, customer_id, first_name, name, email, locale,"
	  " country, timezone, items, total, currency, purchased, shipped, delivered, status,"
	  " updated, source, source_time", 20, 1, NULL, "rowid" },
	{ "feedback", "id, order_id, rating, comment, source, received", 6, 1, NULL, "id" },
	{ "messages", "id, order_id, campaign, variant, kind, state, recipient, message_id, token,"
	  " subject, created, updated, attempts, next_attempt, sent_at, reason, server_reply, mail",
	  18, 1, NULL, "id" },
	{ "events", "id, message, order_id, kind, detail, at", 6, 1, NULL, "id" },
	{ "replies", "id, message, order_id, kind, sender, subject, body, received", 8, 1, NULL, "id" },
	{ "suppressions", "email, reason, detail, at", 4, 1, NULL, NULL },
	{ "waiting", "campaign, kind, order_id, seen", 4, 3, NULL, NULL },
	{ "inbox_seen", "key, kind, at", 3, 1, NULL, NULL },
	{ "source_cursors", "source, stream, time, key, at", 5, 2, NULL, NULL },
	{ "source_status", "source, type, state, detail, last_poll, last_ok, caught_up, rows,"
	  " bad, errors", 10, 1, NULL, NULL },
	{ "source_files", "source, file, size, mtime, result, at", 6, 4, NULL, NULL },
};

/* A value read, kept past the row it came from. */
struct val {
	enum cd_db_type type;
	int64_t i;
	double d;
	char *p;
	size_t len;
};

/* The running count and checksum of a table's rows on one side. */
struct sum {
	int64_t rows;
	uint64_t lo, hi;
};

static void val_clear(struct val *v)
{
	free(v->p);
	memset(v, 0, sizeof(*v));
}

/* Column COL of S into V (a copy). 0 or CD_ENOMEM. */
static int val_read(struct cd_db_stmt *s, int col, struct val *v)
{
	const void *p;

	val_clear(v);
	v->type = cd_db_type(s, col);
	switch (v->type) {
	case CD_DB_INT:
		v->i = cd_db_int(s, col);
		break;
	case CD_DB_REAL:
		v->d = cd_db_double(s, col);
		break;
	case CD_DB_TEXT:
	case CD_DB_BLOB:
		/* as bytes: SQLite's text may hold a NUL */
		p = cd_db_blob(s, col, &v->len);
		if (!(v->p = malloc(v->len + 1)))
			return CD_ENOMEM;
		memcpy(v->p, p ? p : "", v->len);
		v->p[v->len] = '\0';
		break;
	default:
		break;
	}
	return 0;
}

static void val_bind(struct cd_db_stmt *s, int i, const struct val *v)
{
	switch (v->type) {
	case CD_DB_INT: cd_db_bind_int(s, i, v->i); break;
	case CD_DB_REAL: cd_db_bind_double(s, i, v->d); break;
	case CD_DB_TEXT: cd_db_bind_textn(s, i, v->p, (int)v->len); break;
	case CD_DB_BLOB: cd_db_bind_blob(s, i, v->p, v->len); break;
	default: cd_db_bind_null(s, i); break;
	}
}

/* Add row S's values to SUM. Text and blobs count as the same bytes
 * (meta.value is text or blob in SQLite, bytea in PostgreSQL); a whole
 * real as the integer it is. */
static int sum_row(struct cd_db_stmt *s, int ncols, struct sum *sum, struct cd_buf *b)
{
	unsigned char digest[32];
	uint64_t lo, hi;

	b->len = 0;
	for (int c = 0; c < ncols; c++) {
		enum cd_db_type t = cd_db_type(s, c);
		int64_t i = t == CD_DB_INT ? cd_db_int(s, c) : 0;
		double d = t == CD_DB_REAL ? cd_db_double(s, c) : 0;
		const void *p;
		size_t len = 0;

		if (t == CD_DB_REAL && d == floor(d) && fabs(d) < 9e18) {
			t = CD_DB_INT;
			i = (int64_t)d;
		}
		switch (t) {
		case CD_DB_NULL:
			cd_buf_addc(b, 'N');
			break;
		case CD_DB_INT:
			cd_buf_printf(b, "I%lld;", (long long)i);
			break;
		case CD_DB_REAL:
			cd_buf_printf(b, "R%.17g;", d);
			break;
		default:
			p = cd_db_blob(s, c, &len);
			cd_buf_printf(b, "S%zu:", len);
			cd_buf_add(b, p ? p : "", len);
		}
	}
	if (b->oom || gnutls_hash_fast(GNUTLS_DIG_SHA256, b->data, b->len, digest) != 0)
		return CD_ENOMEM;
	memcpy(&lo, digest, 8);
	memcpy(&hi, digest + 8, 8);
	sum->hi += hi + (sum->lo + lo < sum->lo);
	sum->lo += lo;
	sum->rows++;
	return 0;
}

/* The statement reading T's next page after KEY (NULL: the first). */
static struct cd_db_stmt *page(struct cd_store *st, const struct table *t, const struct val *key)
{
	struct cd_buf sql = { 0 };
	struct cd_db_stmt *s = NULL;
	char order[64];

	if (t->nkey == 3)
		snprintf(order, sizeof(order), "campaign, kind, order_id");
	else
		snprintf(order, sizeof(order), "%.*s", (int)strcspn(t->cols, ","), t->cols);
	cd_buf_printf(&sql, "SELECT %s FROM %s WHERE %s", t->cols, t->name,
		      t->where ? t->where : "1 = 1");
	if (key)
		cd_buf_printf(&sql, t->nkey == 1 ? " AND %s > ?1" : " AND (%s) > (?1, ?2, ?3)", order);
	cd_buf_printf(&sql, " ORDER BY %s LIMIT %d", order, PAGE);
	if (!sql.oom && (s = cd_db_prepare(st, sql.data)) && key)
		for (int i = 0; i < t->nkey; i++)
			val_bind(s, i + 1, &key[i]);
	cd_buf_free(&sql);
	return s;
}

/* Read T on ST page by page; ROW gets each, with CTX. Returns 0, what
 * ROW returned, CD_ENOMEM or CD_ESTORE. */
static int each_row(struct cd_store *st, const struct table *t,
		    int (*row)(struct cd_db_stmt *s, void *ctx), void *ctx)
{
	struct val key[3] = { { 0 } };
	int rc = 0, more = 1, have_key = 0;

	while (rc == 0 && more) {
		struct cd_db_stmt *s = page(st, t, have_key ? key : NULL);
		int n = 0, step;

		if (!s)
			return CD_ESTORE;
		while (rc == 0 && (step = cd_db_step(s)) == CD_DB_ROW) {
			n++;
			rc = row(s, ctx);
			for (int i = 0; rc == 0 && i < t->nkey; i++)
				rc = val_read(s, i, &key[i]);
			have_key = 1;
		}
		if (rc == 0 && step != CD_DB_DONE)
			rc = CD_ESTORE;
		cd_db_done(s);
		more = n == PAGE;
	}
	for (int i = 0; i < 3; i++)
		val_clear(&key[i]);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

struct writer {
	struct cd_store *to;
	const struct table *t;
	struct val *rows;      /* BATCH rows of NCOLS values */
	int batch, n;
	struct sum sum;        /* of the source */
	struct cd_buf hashbuf;
	int write_failed;
	void (*progress)(void *arg, const char *table, int64_t rows);
	void *arg;
};

/* The INSERT of N rows of T. */
static char *insert_sql(const struct table *t, int n)
{
	struct cd_buf b = { 0 };

	cd_buf_printf(&b, "INSERT INTO %s(%s) VALUES ", t->name, t->cols);
	for (int r = 0; r < n; r++) {
		cd_buf_adds(&b, r ? ",(" : "(");
		for (int c = 0; c < t->ncols; c++)
			cd_buf_adds(&b, c ? ",?" : "?");
		cd_buf_addc(&b, ')');
	}
	if (b.oom) {
		cd_buf_free(&b);
		return NULL;
	}
	return cd_buf_take(&b);
}

static int flush(struct writer *w)
{
	struct cd_db_stmt *s;
	char *sql;
	int rc;

	if (!w->n)
		return 0;
	if (!(sql = insert_sql(w->t, w->n)))
		return CD_ENOMEM;
	/* a full batch runs again and again: keep it prepared */
	s = w->n == w->batch ? cd_db_cached(w->to, sql) : cd_db_prepare(w->to, sql);
	free(sql);
	if (!s) {
		w->write_failed = 1;
		return CD_ESTORE;
	}
	for (int i = 0; i < w->n * w->t->ncols; i++)
		val_bind(s, i + 1, &w->rows[i]);
	rc = cd_db_step(s) == CD_DB_DONE ? 0 : CD_ESTORE;
	cd_db_done(s);
	w->write_failed = rc < 0;
	for (int i = 0; i < w->n * w->t->ncols; i++)
		val_clear(&w->rows[i]);
	w->n = 0;
	if (rc == 0 && w->progress)
		w->progress(w->arg, w->t->name, w->sum.rows);
	return rc;
}

static int copy_row(struct cd_db_stmt *s, void *ctx)
{
	struct writer *w = ctx;
	int rc;

	for (int c = 0; c < w->t->ncols; c++)
		if ((rc = val_read(s, c, &w->rows[w->n * w->t->ncols + c])) < 0)
			return rc;
	if ((rc = sum_row(s, w->t->ncols, &w->sum, &w->hashbuf)) < 0)
		return rc;
	return ++w->n == w->batch ? flush(w) : 0;
}

struct reader {
	const struct table *t;
	struct sum sum;
	struct cd_buf hashbuf;
};

static int check_row(struct cd_db_stmt *s, void *ctx)
{
	struct reader *r = ctx;

	return sum_row(s, r->t->ncols, &r->sum, &r->hashbuf);
}

static void hex_sum(const struct sum *s, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)s->hi, (unsigned long long)s->lo);
}

/* Copy table T, then read it back on TO and compare. */
static int copy_table(struct cd_store *from, struct cd_store *to, const struct table *t,
		      struct cd_store_copy_table *out,
		      void (*progress)(void *arg, const char *table, int64_t rows), void *arg,
		      struct cd_error *err)
{
	/* PostgreSQL takes up to 999 placeholders in our SQL, SQLite 32766 */
	struct writer w = { .to = to, .t = t, .batch = 990 / t->ncols, .progress = progress,
			    .arg = arg };
	struct reader r = { .t = t };
	char what[64];
	int rc;

	out->name = t->name;
	if (!(w.rows = calloc((size_t)(w.batch * t->ncols), sizeof(*w.rows))))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	rc = each_row(from, t, copy_row, &w);
	if (rc == 0)
		rc = flush(&w);
	for (int i = 0; i < w.batch * t->ncols; i++)
		val_clear(&w.rows[i]);
	free(w.rows);
	cd_buf_free(&w.hashbuf);
	if (rc < 0) {
		if (rc == CD_ENOMEM)
			return cd_error_set(err, rc, NULL, 0, "out of memory copying %s", t->name);
		snprintf(what, sizeof(what), "cannot %s %s", w.write_failed ? "write" : "read", t->name);
		return cd_store_fail(w.write_failed ? to : from, err, what);
	}
	rc = each_row(to, t, check_row, &r);
	cd_buf_free(&r.hashbuf);
	if (rc < 0) {
		snprintf(what, sizeof(what), "cannot read back %s", t->name);
		return cd_store_fail(to, err, what);
	}
	out->rows = w.sum.rows;
	hex_sum(&w.sum, out->checksum);
	out->verified = r.sum.rows == w.sum.rows && r.sum.lo == w.sum.lo && r.sum.hi == w.sum.hi;
	if (!out->verified) {
		char got[33];

		hex_sum(&r.sum, got);
		return cd_error_set(err, CD_ESTORE, cd_store_name(to), 0,
				    "%s: copied %lld rows with checksum %s, read back %lld rows with checksum %s",
				    t->name, (long long)w.sum.rows, out->checksum,
				    (long long)r.sum.rows, got);
	}
	return 0;
}

/* ---- the whole copy --------------------------------------------------- */

/* 1 when TO holds rows of its own (a fresh init's meta aside), 0, or
 * CD_ESTORE. */
static int has_rows(struct cd_store *to, const char **which)
{
	for (int i = 0; i < CD_STORE_COPY_TABLES; i++) {
		char sql[256];
		struct cd_db_stmt *s;
		int rc;

		snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE %s LIMIT 1", tables[i].name,
			 i == 0 ? "key NOT IN ('schema_version', 'token_secret', '"
				  CD_STORE_MIGRATION_KEY "')" : "1 = 1");
		if (!(s = cd_db_prepare(to, sql)))
			return CD_ESTORE;
		rc = cd_db_step(s);
		cd_db_done(s);
		if (rc < 0)
			return CD_ESTORE;
		if (rc == CD_DB_ROW) {
			*which = tables[i].name;
			return 1;
		}
	}
	return 0;
}

/* PostgreSQL's identity columns go on after the highest id copied. */
static int move_identities(struct cd_store *to, struct cd_error *err)
{
	for (int i = 0; i < CD_STORE_COPY_TABLES; i++) {
		const struct table *t = &tables[i];
		char sql[256];

		if (!t->identity)
			continue;
		snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence('%s', '%s'),"
			 " (SELECT coalesce(max(%s), 0) + 1 FROM %s), false)",
			 t->name, t->identity, t->identity, t->name);
		if (cd_db_exec(to, sql, err) < 0)
			return CD_ESTORE;
	}
	return 0;
}

int cd_store_copy(struct cd_store *from, struct cd_store *to,
		  void (*progress)(void *arg, const char *table, int64_t rows), void *arg,
		  struct cd_store_copy_stats *stats, struct cd_error *err)
{
	int pg = cd_db_engine(to) == CD_STORE_POSTGRESQL;
	const char *which = NULL;
	char mark[600];
	int rc;

	memset(stats, 0, sizeof(*stats));
	if ((rc = has_rows(to, &which)) != 0)
		return rc < 0 ? cd_store_fail(to, err, "cannot read the target")
			: cd_error_set(err, CD_EINVAL, cd_store_name(to), 0,
				       "not empty (%s has rows); migrate into an empty database", which);
	/* the mark goes first and on its own: whoever opens the target from
	 * now until the copy commits is refused */
	snprintf(mark, sizeof(mark), "copy from %s begun at %lld", cd_store_name(from),
		 (long long)time(NULL));
	if ((rc = cd_store_meta_set(to, CD_STORE_MIGRATION_KEY, mark, err)) < 0)
		return rc;
	if ((rc = cd_store_begin(to, err)) < 0)
		return rc;
	/* an init's secret gives way to the source's: its mails' tokens */
	rc = cd_db_exec(to, "DELETE FROM meta WHERE key NOT IN ('schema_version', '"
			CD_STORE_MIGRATION_KEY "'); DELETE FROM scan_state; DELETE FROM order_changes",
			err);
	/* the first pass reads every range whole: no change log is needed,
	 * and a million orders do not write a million changes */
	if (rc == 0 && pg)
		rc = cd_db_exec(to, "ALTER TABLE orders DISABLE TRIGGER orders_changed", err);
	for (int i = 0; rc == 0 && i < CD_STORE_COPY_TABLES; i++) {
		rc = copy_table(from, to, &tables[i], &stats->tables[i], progress, arg, err);
		stats->ntables = i + 1;
	}
	if (rc == 0 && pg)
		rc = cd_db_exec(to, "ALTER TABLE orders ENABLE TRIGGER orders_changed", err);
	if (rc == 0 && pg)
		rc = move_identities(to, err);
	if (rc == 0)
		rc = cd_store_meta_set(to, CD_STORE_MIGRATION_KEY, NULL, err);
	if (rc < 0) {
		cd_store_rollback(to);
		return rc;
	}
	return cd_store_commit(to, err);
}
