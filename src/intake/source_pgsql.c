/*
 * source_pgsql.c - the sql source's PostgreSQL driver (libpq): prepared
 * statements with every value bound, text results, the session read-only
 * and in UTC, a client-side timeout on every query, TLS verified unless
 * the admin says otherwise (source_sql.h).
 */
#include "config.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/util.h"
#include "source_sql.h"

#define SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"

struct sql_conn {
	PGconn *pg;
	int64_t timeout_ms;
	int nstmts;
};

struct sql_stmt {
	struct sql_conn *conn;
	char name[16];
	int nparams;
};

/* libpq's messages end with a newline; one line in a log is enough. */
static int fail(struct cd_error *err, int code, const char *what, const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	return cd_error_set(err, code, NULL, 0, "%s: %.*s", what, (int)(n > 300 ? 300 : n),
			    msg ? msg : "");
}

static int pg_connect(const struct sql_conf *c, struct sql_conn **out, struct cd_error *err)
{
	static const char *const modes[] = { "disable", "prefer", "verify-full" };
	char port[16], timeout[24], setup[160];
	const char *kw[12], *val[12];
	struct sql_conn *x = calloc(1, sizeof(*x));
	int n = 0;

	*out = NULL;
	if (!x)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	snprintf(port, sizeof(port), "%d", c->port ? c->port : 5432);
	snprintf(timeout, sizeof(timeout), "%lld", (long long)(c->timeout > 2 ? c->timeout : 2));
	kw[n] = "host", val[n++] = c->host;
	kw[n] = "port", val[n++] = port;
	kw[n] = "user", val[n++] = c->user;
	kw[n] = "dbname", val[n++] = c->database;
	kw[n] = "password", val[n++] = c->password ? c->password : "";
	kw[n] = "sslmode", val[n++] = modes[c->tls];
	kw[n] = "sslrootcert", val[n++] = c->tls_ca && *c->tls_ca ? c->tls_ca : SYSTEM_CAS;
	kw[n] = "connect_timeout", val[n++] = timeout;
	kw[n] = "application_name", val[n++] = "candor";
	/* no service file or PGPASSWORD changes what the config says */
	kw[n] = NULL, val[n] = NULL;
	x->pg = PQconnectdbParams(kw, val, 0);
	if (!x->pg || PQstatus(x->pg) != CONNECTION_OK) {
		const char *m = x->pg ? PQerrorMessage(x->pg) : "out of memory";
		int code = strstr(m, "password") || strstr(m, "authentication") ||
			   strstr(m, "SSL") || strstr(m, "certificate") ? CD_EPROTO : CD_EIO;
		int rc = fail(err, code, "cannot connect", m);

		PQfinish(x->pg);
		free(x);
		return rc;
	}
	x->timeout_ms = c->timeout * 1000;
	snprintf(setup, sizeof(setup), "SET TimeZone = 'UTC'; SET default_transaction_read_only = on;"
		 " SET statement_timeout = %lld", (long long)x->timeout_ms);
	{
		PGresult *r = PQexec(x->pg, setup);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok) {
			int rc = fail(err, CD_EPROTO, "cannot set up the session", PQerrorMessage(x->pg));

			PQfinish(x->pg);
			free(x);
			return rc;
		}
	}
	*out = x;
	return 0;
}

static void pg_disconnect(struct sql_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c);
}

/* Wait for the answer to what was sent, at most the timeout. */
static int wait_result(struct sql_conn *c, PGresult **out, struct cd_error *err)
{
	int64_t until = cd_util_mono_ms() + c->timeout_ms;
	PGresult *r, *last = NULL;

	*out = NULL;
	for (;;) {
		while (PQisBusy(c->pg)) {
			struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
			int64_t left = until - cd_util_mono_ms();

			if (left <= 0 || poll(&p, 1, (int)left) == 0) {
				PQclear(last);
				return cd_error_set(err, CD_EIO, NULL, 0, "the server did not answer in %llds",
						    (long long)(c->timeout_ms / 1000));
			}
			if (!PQconsumeInput(c->pg)) {
				PQclear(last);
				return fail(err, CD_EIO, "the connection broke", PQerrorMessage(c->pg));
			}
		}
		if (!(r = PQgetResult(c->pg)))
			break;
		PQclear(last);
		last = r;
	}
	if (!last)
		return fail(err, CD_EIO, "the connection broke", PQerrorMessage(c->pg));
	*out = last;
	return 0;
}

static int pg_prepare(struct sql_conn *c, const char *sql, int nparams, struct sql_stmt **out,
		      struct cd_error *err)
{
	struct sql_stmt *s = calloc(1, sizeof(*s));
	PGresult *r;
	int rc;

	*out = NULL;
	if (!s)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	s->conn = c;
	s->nparams = nparams;
	snprintf(s->name, sizeof(s->name), "candor%d", c->nstmts++);
	if (!PQsendPrepare(c->pg, s->name, sql, nparams, NULL)) {
		free(s);
		return fail(err, CD_EIO, "the connection broke", PQerrorMessage(c->pg));
	}
	if ((rc = wait_result(c, &r, err)) < 0) {
		free(s);
		return rc;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = fail(err, CD_EPROTO, "the query does not prepare", PQresultErrorMessage(r));
		PQclear(r);
		free(s);
		return rc;
	}
	PQclear(r);
	*out = s;
	return 0;
}

static void pg_finalize(struct sql_stmt *s)
{
	/* the statement goes with the connection */
	free(s);
}

static int pg_send(struct sql_stmt *s, const char *const *params, const char *ints,
		   struct cd_error *err)
{
	(void)ints; /* the server types each parameter from its use */
	if (!PQsendQueryPrepared(s->conn->pg, s->name, s->nparams, params, NULL, NULL, 0))
		return fail(err, CD_EIO, "the connection broke", PQerrorMessage(s->conn->pg));
	return 0;
}

static int pg_recv(struct sql_stmt *s, struct sql_rows *rows, struct cd_error *err)
{
	PGresult *r;
	const char **names;
	int rc, nf, nt;

	if ((rc = wait_result(s->conn, &r, err)) < 0)
		return rc;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		/* 57P01: the server is shutting down; 08xxx: connection */
		rc = fail(err, state && (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0)
			  ? CD_EIO : CD_EPROTO, "the query failed", PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	nf = PQnfields(r);
	nt = PQntuples(r);
	if (!(names = calloc((size_t)(nf ? nf : 1), sizeof(*names)))) {
		PQclear(r);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	for (int i = 0; i < nf; i++)
		names[i] = PQfname(r, i);
	rc = sql_rows_start(rows, nf, names);
	free(names);
	for (int t = 0; rc == 0 && t < nt; t++)
		for (int i = 0; rc == 0 && i < nf; i++)
			rc = PQgetisnull(r, t, i) ? sql_rows_cell(rows, NULL, 0)
			     : sql_rows_cell(rows, PQgetvalue(r, t, i), (size_t)PQgetlength(r, t, i));
	PQclear(r);
	if (rc < 0)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	return 0;
}

static int pg_exec(struct sql_stmt *s, const char *const *params, const char *ints,
		   struct sql_rows *rows, struct cd_error *err)
{
	int rc = pg_send(s, params, ints, err);

	return rc < 0 ? rc : pg_recv(s, rows, err);
}

const struct sql_driver sql_postgresql = {
	.name = "postgresql", .style = '$', .default_port = 5432,
	.connect = pg_connect, .disconnect = pg_disconnect, .prepare = pg_prepare,
	.exec = pg_exec, .send = pg_send, .recv = pg_recv, .finalize = pg_finalize,
};
