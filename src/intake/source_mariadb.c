/*
 * source_mariadb.c - the sql source's MariaDB / MySQL driver
 * (libmariadb): prepared statements with every value bound, results
 * fetched as text, the session read-only and in UTC, TLS verified unless
 * the admin says otherwise (source_sql.h).
 */
#include "config.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "source_sql.h"

#define SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"

struct sql_conn {
	MYSQL *m;
};

struct sql_stmt {
	struct sql_conn *conn;
	MYSQL_STMT *s;
	int nparams;
	MYSQL_BIND *pb;
	unsigned long *plen;
	long long *pint;
};

static int fail(struct cd_error *err, int code, const char *what, const char *msg, unsigned no)
{
	/* 2002/2003: no server, 2005 unknown host, 2006/2013 lost, 2026 TLS */
	if (no == 2002 || no == 2003 || no == 2005 || no == 2006 || no == 2013)
		code = CD_EIO;
	return cd_error_set(err, code, NULL, 0, "%s: %s", what, msg);
}

static int my_connect(const struct sql_conf *c, struct sql_conn **out, struct cd_error *err)
{
	struct sql_conn *x = calloc(1, sizeof(*x));
	unsigned int t = (unsigned int)c->timeout;
	const char *sock = NULL, *host = c->host;
	my_bool yes = 1;

	*out = NULL;
	if (!x || !(x->m = mysql_init(NULL))) {
		free(x);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	mysql_options(x->m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(x->m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(x->m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	mysql_options(x->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* no ~/.my.cnf or [client] group changes what the config says */
	if (c->tls != SQL_TLS_NONE) {
		const char *ca = c->tls_ca && *c->tls_ca ? c->tls_ca : SYSTEM_CAS;

		mysql_ssl_set(x->m, NULL, NULL, ca, NULL, NULL);
		if (c->tls == SQL_TLS_REQUIRED) {
			mysql_options(x->m, MYSQL_OPT_SSL_ENFORCE, &yes);
			mysql_options(x->m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
		} else {
			my_bool no = 0;

			mysql_options(x->m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
		}
	}
	if (host[0] == '/') {
		sock = host;
		host = "localhost";
	}
	if (!mysql_real_connect(x->m, host, c->user, c->password ? c->password : "", c->database,
				(unsigned)(c->port ? c->port : 3306), sock, 0)) {
		int rc = fail(err, CD_EPROTO, "cannot connect", mysql_error(x->m), mysql_errno(x->m));

		mysql_close(x->m);
		free(x);
		return rc;
	}
	/* the cursor's times are compared in UTC; and candor never writes */
	if (mysql_query(x->m, "SET time_zone = '+00:00'") != 0 ||
	    mysql_query(x->m, "SET SESSION TRANSACTION READ ONLY") != 0) {
		int rc = fail(err, CD_EPROTO, "cannot set up the session", mysql_error(x->m),
			      mysql_errno(x->m));

		mysql_close(x->m);
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

static void my_disconnect(struct sql_conn *c)
{
	if (!c)
		return;
	mysql_close(c->m);
	free(c);
}

static int my_prepare(struct sql_conn *c, const char *sql, int nparams, struct sql_stmt **out,
		      struct cd_error *err)
{
	struct sql_stmt *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || !(s->s = mysql_stmt_init(c->m))) {
		free(s);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	s->conn = c;
	if (mysql_stmt_prepare(s->s, sql, (unsigned long)strlen(sql)) != 0) {
		int rc = fail(err, CD_EPROTO, "the query does not prepare", mysql_stmt_error(s->s),
			      mysql_stmt_errno(s->s));

		mysql_stmt_close(s->s);
		free(s);
		return rc;
	}
	if ((int)mysql_stmt_param_count(s->s) != nparams) {
		mysql_stmt_close(s->s);
		free(s);
		return cd_error_set(err, CD_EPROTO, NULL, 0, "the query has stray ? placeholders: "
				    "name every parameter (:cursor_time, :cursor_key, :limit)");
	}
	s->nparams = nparams;
	s->pb = calloc((size_t)(nparams ? nparams : 1), sizeof(*s->pb));
	s->plen = calloc((size_t)(nparams ? nparams : 1), sizeof(*s->plen));
	s->pint = calloc((size_t)(nparams ? nparams : 1), sizeof(*s->pint));
	if (!s->pb || !s->plen || !s->pint) {
		mysql_stmt_close(s->s);
		free(s->pb);
		free(s->plen);
		free(s->pint);
		free(s);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	*out = s;
	return 0;
}

static void my_finalize(struct sql_stmt *s)
{
	if (!s)
		return;
	mysql_stmt_close(s->s);
	free(s->pb);
	free(s->plen);
	free(s->pint);
	free(s);
}

struct outcol {
	char *buf;
	unsigned long cap, len;
	my_bool null, error;
};

static int stmt_fail(struct sql_stmt *s, struct cd_error *err, const char *what)
{
	return fail(err, CD_EPROTO, what, mysql_stmt_error(s->s), mysql_stmt_errno(s->s));
}

static int fetch_rows(struct sql_stmt *s, MYSQL_RES *meta, struct sql_rows *rows,
		      struct cd_error *err)
{
	unsigned n = mysql_num_fields(meta);
	MYSQL_FIELD *f = mysql_fetch_fields(meta);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	struct outcol *col = calloc(n ? n : 1, sizeof(*col));
	MYSQL_BIND *b = calloc(n ? n : 1, sizeof(*b));
	int rc = 0, st;

	if (!names || !col || !b) {
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		names[i] = f[i].name;
		col[i].cap = 256;
		if (!(col[i].buf = malloc(col[i].cap))) {
			rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
			goto out;
		}
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = col[i].buf;
		b[i].buffer_length = col[i].cap;
		b[i].length = &col[i].len;
		b[i].is_null = &col[i].null;
		b[i].error = &col[i].error;
	}
	if (sql_rows_start(rows, (int)n, names) < 0) {
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	if (mysql_stmt_bind_result(s->s, b) != 0) {
		rc = stmt_fail(s, err, "cannot read the result");
		goto out;
	}
	while ((st = mysql_stmt_fetch(s->s)) == 0 || st == MYSQL_DATA_TRUNCATED) {
		for (unsigned i = 0; i < n && rc == 0; i++) {
			if (col[i].null) {
				rc = sql_rows_cell(rows, NULL, 0);
				continue;
			}
			if (col[i].len > col[i].cap) {
				/* a long value: fetch it again into room enough */
				char *nb = realloc(col[i].buf, col[i].len + 1);

				if (!nb) {
					rc = CD_ENOMEM;
					break;
				}
				col[i].buf = nb;
				col[i].cap = col[i].len + 1;
				b[i].buffer = nb;
				b[i].buffer_length = col[i].cap;
				if (mysql_stmt_fetch_column(s->s, &b[i], i, 0) != 0) {
					rc = stmt_fail(s, err, "cannot read a long value");
					goto out;
				}
				if (mysql_stmt_bind_result(s->s, b) != 0) {
					rc = stmt_fail(s, err, "cannot read the result");
					goto out;
				}
			}
			rc = sql_rows_cell(rows, col[i].buf, col[i].len);
		}
		if (rc < 0) {
			rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
			goto out;
		}
	}
	if (st != MYSQL_NO_DATA)
		rc = stmt_fail(s, err, "the query failed while reading");
out:
	mysql_stmt_free_result(s->s);
	for (unsigned i = 0; col && i < n; i++)
		free(col[i].buf);
	free(col);
	free(b);
	free(names);
	return rc;
}

static int my_send(struct sql_stmt *s, const char *const *params, const char *ints,
		   struct cd_error *err)
{
	for (int i = 0; i < s->nparams; i++) {
		memset(&s->pb[i], 0, sizeof(s->pb[i]));
		if (!params[i]) {
			s->pb[i].buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		/* a key compared with an integer column as a string would be
		 * converted row by row, past the index */
		if (ints && ints[i]) {
			s->pint[i] = strtoll(params[i], NULL, 10);
			s->pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			s->pb[i].buffer = &s->pint[i];
			continue;
		}
		s->plen[i] = (unsigned long)strlen(params[i]);
		s->pb[i].buffer_type = MYSQL_TYPE_STRING;
		s->pb[i].buffer = (void *)params[i];
		s->pb[i].buffer_length = s->plen[i];
		s->pb[i].length = &s->plen[i];
	}
	if (s->nparams && mysql_stmt_bind_param(s->s, s->pb) != 0)
		return stmt_fail(s, err, "cannot bind the cursor");
	/* returns with the result's first packets: the server goes on
	 * producing rows into the socket while the caller works */
	if (mysql_stmt_execute(s->s) != 0)
		return stmt_fail(s, err, "the query failed");
	return 0;
}

static int my_recv(struct sql_stmt *s, struct sql_rows *rows, struct cd_error *err)
{
	MYSQL_RES *meta;
	int rc;

	if (!(meta = mysql_stmt_result_metadata(s->s)))
		return stmt_fail(s, err, "the query returns no rows");
	rc = fetch_rows(s, meta, rows, err);
	mysql_free_result(meta);
	return rc;
}

static int my_exec(struct sql_stmt *s, const char *const *params, const char *ints,
		   struct sql_rows *rows, struct cd_error *err)
{
	int rc = my_send(s, params, ints, err);

	return rc < 0 ? rc : my_recv(s, rows, err);
}

const struct sql_driver sql_mariadb = {
	.name = "mariadb", .style = '?', .default_port = 3306,
	.connect = my_connect, .disconnect = my_disconnect, .prepare = my_prepare,
	.exec = my_exec, .send = my_send, .recv = my_recv, .finalize = my_finalize,
};
