/*
 * source_sql.c - the sql source: reads a shop's own database (MariaDB
 * or MySQL, PostgreSQL) with a platform preset or the shop's own query.
 * Each poll reads one batch after the stored cursor (the row's change
 * time and key, compared as a tuple in the SQL and bound as parameters),
 * maps every row into candor's order (or feedback) and hands it to the
 * runner, which writes the batch and the cursor in one transaction.
 *
 * Queries name their parameters (:cursor_time, :cursor_key, :limit);
 * compile() turns them into the driver's placeholders. Only the
 * admin's table prefix, checked to be a plain identifier, is put into
 * the text: identifiers cannot be bound.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/config_parse.h"
#include "candor/order.h"
#include "candor/source_impl.h"
#include "candor/util.h"
#include "source_sql.h"


/* ---- result rows ------------------------------------------------------------ */

int sql_rows_start(struct sql_rows *r, int n, const char *const *names)
{
	for (int i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	r->names = calloc((size_t)(n ? n : 1), sizeof(char *));
	/* the offsets are laid out per column count: kept for the same */
	if (r->ncols != n) {
		free(r->off);
		r->off = NULL;
		r->cap = 0;
	}
	r->ncols = 0;
	r->nrows = 0;
	r->cur = 0;
	r->len = 0;
	if (!r->names)
		return CD_ENOMEM;
	r->ncols = n;
	for (int i = 0; i < n; i++) {
		if (!(r->names[i] = strdup(names[i] ? names[i] : "")))
			return CD_ENOMEM;
		for (char *p = r->names[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

int sql_rows_cell(struct sql_rows *r, const char *v, size_t len)
{
	size_t i;

	if (r->ncols == 0)
		return 0;
	/* a row begins with its first cell */
	if (r->nrows == 0 || r->cur == (size_t)r->ncols) {
		if (r->nrows == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 256;
			size_t *off = realloc(r->off, cap * (size_t)r->ncols * sizeof(*off));

			if (!off)
				return CD_ENOMEM;
			r->off = off;
			r->cap = cap;
		}
		r->nrows++;
		r->cur = 0;
	}
	i = (r->nrows - 1) * (size_t)r->ncols + r->cur++;
	if (!v) {
		r->off[i] = SQL_NULL;
		return 0;
	}
	if (r->len + len + 1 > r->dcap) {
		size_t cap = r->dcap ? r->dcap : 65536;
		char *d;

		while (cap < r->len + len + 1)
			cap *= 2;
		if (!(d = realloc(r->data, cap)))
			return CD_ENOMEM;
		r->data = d;
		r->dcap = cap;
	}
	memcpy(r->data + r->len, v, len);
	r->data[r->len + len] = 0;
	r->off[i] = r->len;
	r->len += len + 1;
	return 0;
}

const char *sql_cell(const struct sql_rows *r, size_t row, int col)
{
	size_t o;

	if (col < 0 || col >= r->ncols || row >= r->nrows)
		return NULL;
	o = r->off[row * (size_t)r->ncols + (size_t)col];
	return o == SQL_NULL ? NULL : r->data + o;
}

int sql_col(const struct sql_rows *r, const char *name)
{
	for (int i = 0; i < r->ncols; i++)
		if (strcmp(r->names[i], name) == 0)
			return i;
	return -1;
}

void sql_rows_free(struct sql_rows *r)
{
	for (int i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	free(r->off);
	free(r->data);
	memset(r, 0, sizeof(*r));
}

/* ---- named parameters -------------------------------------------------------- */

/* P_KEY: one of the keys a re-check asks about ({keys} in a preset) */
enum { P_CURSOR_TIME, P_CURSOR_KEY, P_LIMIT, NPNAMES, P_KEY = NPNAMES };
static const char *const param_names[NPNAMES] = {
	"cursor_time", "cursor_key", "limit",
};

struct query {
	char *sql;            /* in the driver's syntax */
	int nparams;
	int *param;           /* P_* per placeholder */
	unsigned used;        /* bit per P_* */
	struct sql_stmt *stmt;
};

static size_t skip_quoted(const char *s, size_t i)
{
	char q = s[i++];

	for (; s[i]; i++) {
		if (s[i] == '\\' && q == '\'' && s[i + 1])
			i++;
		else if (s[i] == q && s[i + 1] == q)
			i++;
		else if (s[i] == q)
			return i + 1;
	}
	return i;
}

/* One placeholder for parameter P into B and Q. 0 or CD_ENOMEM. */
static int placeholder(struct cd_buf *b, struct query *q, int *cap, int p, char style)
{
	if (q->nparams == *cap) {
		int *np = realloc(q->param, (size_t)(*cap = *cap ? *cap * 2 : 16) * sizeof(int));

		if (!np)
			return CD_ENOMEM;
		q->param = np;
	}
	q->param[q->nparams++] = p;
	if (style == '$') {
		char ph[16];

		snprintf(ph, sizeof(ph), "$%d", q->nparams);
		cd_buf_add(b, ph, strlen(ph));
	} else {
		cd_buf_add(b, "?", 1);
	}
	if (p < NPNAMES)
		q->used |= 1u << p;
	return 0;
}

/* SQL with :names (and {p} for PREFIX, {keys} for SQL_RECHECK_CHUNK
 * keys) into Q for a driver of STYLE. WHY names a problem (an unknown
 * parameter). 0, CD_EINVAL, CD_ENOMEM. */
static int compile(const char *sql, const char *prefix, char style, struct query *q,
		   char *why, size_t whylen)
{
	struct cd_buf b = { 0 };
	size_t i = 0;
	int cap = 0;

	memset(q, 0, sizeof(*q));
	while (sql[i]) {
		char c = sql[i];

		if (c == '\'' || c == '"' || c == '`') {
			size_t j = skip_quoted(sql, i);

			cd_buf_add(&b, sql + i, j - i);
			i = j;
		} else if (c == '-' && sql[i + 1] == '-') {
			size_t j = i + strcspn(sql + i, "\n");

			cd_buf_add(&b, sql + i, j - i);
			i = j;
		} else if (c == '/' && sql[i + 1] == '*') {
			const char *e = strstr(sql + i + 2, "*/");
			size_t j = e ? (size_t)(e - sql) + 2 : strlen(sql);

			cd_buf_add(&b, sql + i, j - i);
			i = j;
		} else if (c == '{' && strncmp(sql + i, "{p}", 3) == 0) {
			cd_buf_add(&b, prefix, strlen(prefix));
			i += 3;
		} else if (c == '{' && strncmp(sql + i, "{keys}", 6) == 0) {
			for (int k = 0; k < SQL_RECHECK_CHUNK; k++) {
				if (k)
					cd_buf_add(&b, ", ", 2);
				if (placeholder(&b, q, &cap, P_KEY, style) < 0) {
					cd_buf_free(&b);
					free(q->param);
					return CD_ENOMEM;
				}
			}
			i += 6;
		} else if (c == ':' && sql[i + 1] == ':') {
			cd_buf_add(&b, "::", 2);
			i += 2;
		} else if (c == ':' && (islower((unsigned char)sql[i + 1]) || sql[i + 1] == '_')) {
			size_t n = strspn(sql + i + 1, "abcdefghijklmnopqrstuvwxyz_0123456789");
			int p = -1;

			for (int k = 0; k < NPNAMES; k++)
				if (strlen(param_names[k]) == n && strncmp(sql + i + 1, param_names[k], n) == 0)
					p = k;
			if (p < 0) {
				snprintf(why, whylen, "unknown parameter :%.*s (use :cursor_time, "
					 ":cursor_key and :limit)", (int)n, sql + i + 1);
				cd_buf_free(&b);
				free(q->param);
				return CD_EINVAL;
			}
			if (placeholder(&b, q, &cap, p, style) < 0) {
				cd_buf_free(&b);
				free(q->param);
				return CD_ENOMEM;
			}
			i += n + 1;
		} else {
			cd_buf_add(&b, &c, 1);
			i++;
		}
	}
	cd_buf_add(&b, "", 1);
	if (!b.data) {
		free(q->param);
		return CD_ENOMEM;
	}
	q->sql = b.data;
	return 0;
}

static void query_free(const struct sql_driver *d, struct query *q)
{
	if (q->stmt)
		d->finalize(q->stmt);
	free(q->sql);
	free(q->param);
	memset(q, 0, sizeof(*q));
}

/* ---- settings ------------------------------------------------------------------ */

static const char *const sql_settings[] = {
	"driver", "preset", "query", "feedback_query", "host", "port", "user", "password_file",
	"database", "table_prefix", "tls", "tls_ca", "timeout", "batch", "channel", "feedback",
	"recheck", "settle", NULL,
};
static const char *const driver_names[] = { "mariadb", "postgresql" };
static const struct sql_driver *const drivers[] = { &sql_mariadb, &sql_postgresql };
static const char *const tls_names[] = { "none", "preferred", "required" };

static int plain_identifier(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
	       strlen(s);
}

/* The own query must bind the cursor and the batch size. */
static void check_query(struct cd_config_loader *ld, const config_setting_t *g, const char *dp,
			const char *name, const char *sql)
{
	struct query q;
	char why[160] = "", path[128];
	int rc;

	snprintf(path, sizeof(path), "%s.%s", dp, name);
	rc = compile(sql, "", '?', &q, why, sizeof(why));
	if (rc == CD_ENOMEM) {
		cd_cfg_oom(ld);
		return;
	}
	if (rc < 0)
		cd_cfg_report(ld, config_setting_get_member(g, name), path, "%s", why);
	else if ((q.used & 7u) != 7u)
		cd_cfg_report(ld, config_setting_get_member(g, name), path,
			      "must use :cursor_time, :cursor_key and :limit, e.g. WHERE (updated, id) > "
			      "(:cursor_time, :cursor_key) ORDER BY updated, id LIMIT :limit");
	free(q.sql);
	free(q.param);
}

static void sql_parse(struct cd_config_loader *ld, struct cd_source_conf *sc,
		      const config_setting_t *g, const char *dp)
{
	struct sql_conf *c = calloc(1, sizeof(*c));
	char *preset, sp[96];
	int d, t;

	if (!(sc->priv = c)) {
		cd_cfg_oom(ld);
		return;
	}
	d = cd_cfg_choice(ld, g, dp, "driver", NULL, driver_names, 2);
	c->driver = d < 0 ? &sql_mariadb : drivers[d];
	if (!config_setting_get_member(g, "driver"))
		cd_cfg_report(ld, g, dp, "a sql source needs driver = \"mariadb\" or \"postgresql\"");
	preset = cd_cfg_string(ld, g, dp, "preset", "", 0);
	c->query = cd_cfg_string(ld, g, dp, "query", "", 0);
	c->feedback_query = cd_cfg_string(ld, g, dp, "feedback_query", "", 0);
	snprintf(sp, sizeof(sp), "%s.preset", dp);
	if (preset && *preset && !(c->preset = sql_preset_find(preset)))
		cd_cfg_report(ld, config_setting_get_member(g, "preset"), sp,
			      "unknown preset \"%s\" (%s, or \"\" with your own query)", preset,
			      sql_preset_names);
	snprintf(sp, sizeof(sp), "%s.query", dp);
	if (c->preset && c->query && *c->query)
		cd_cfg_report(ld, config_setting_get_member(g, "query"), sp,
			      "set either preset or query, not both");
	else if (!c->preset && (!preset || !*preset) && c->query && !*c->query)
		cd_cfg_report(ld, g, dp, "a sql source needs a preset (%s) or its own query",
			      sql_preset_names);
	free(preset);
	if (c->query && *c->query)
		check_query(ld, g, dp, "query", c->query);
	if (c->feedback_query && *c->feedback_query)
		check_query(ld, g, dp, "feedback_query", c->feedback_query);
	c->host = cd_cfg_string(ld, g, dp, "host", "127.0.0.1", 1);
	c->port = (int)cd_cfg_int(ld, g, dp, "port", 0, 0, 65535);
	c->user = cd_cfg_string(ld, g, dp, "user", "candor", 1);
	c->password_file = cd_cfg_path(ld, g, dp, "password_file");
	c->database = cd_cfg_string(ld, g, dp, "database", NULL, 1);
	c->table_prefix = cd_cfg_string(ld, g, dp, "table_prefix",
					c->preset && strcmp(c->preset->name, "prestashop") == 0 ? "ps_"
					: c->preset && strncmp(c->preset->name, "woocommerce", 11) == 0 ? "wp_"
					: "", 0);
	snprintf(sp, sizeof(sp), "%s.table_prefix", dp);
	if (c->table_prefix && !plain_identifier(c->table_prefix))
		cd_cfg_report(ld, config_setting_get_member(g, "table_prefix"), sp,
			      "table_prefix \"%s\" may hold only letters, digits and '_'", c->table_prefix);
	t = cd_cfg_choice(ld, g, dp, "tls", "required", tls_names, 3);
	c->tls = t < 0 ? SQL_TLS_REQUIRED : (enum sql_tls)t;
	c->tls_ca = cd_cfg_path(ld, g, dp, "tls_ca");
	c->timeout = cd_cfg_duration(ld, g, dp, "timeout", "30s");
	c->batch = (int)cd_cfg_int(ld, g, dp, "batch", 2000, 1, 100000);
	c->channel = cd_cfg_string(ld, g, dp, "channel", "", 0);
	c->feedback = cd_cfg_bool(g, "feedback", 1);
	c->recheck = (int)cd_cfg_int(ld, g, dp, "recheck", 500, 0, 100000);
	c->settle = cd_cfg_duration(ld, g, dp, "settle", "60s");
	c->password = cd_cfg_secret(ld, g, dp, c->password_file);
}

static void sql_print(const struct cd_source_conf *sc, FILE *out, const char *in)
{
	const struct sql_conf *c = sc->priv;

	cd_cfg_put_string(out, in, "driver", c->driver->name);
	cd_cfg_put_string(out, in, "preset", c->preset ? c->preset->name : "");
	cd_cfg_put_string(out, in, "query", c->query);
	cd_cfg_put_string(out, in, "feedback_query", c->feedback_query);
	cd_cfg_put_string(out, in, "host", c->host);
	fprintf(out, "%sport = %d;\n", in, c->port ? c->port : c->driver->default_port);
	cd_cfg_put_string(out, in, "user", c->user);
	cd_cfg_put_string(out, in, "password_file", c->password_file);
	if (c->password)
		fprintf(out, "%s# password: ******** (read from password_file)\n", in);
	cd_cfg_put_string(out, in, "database", c->database);
	cd_cfg_put_string(out, in, "table_prefix", c->table_prefix);
	cd_cfg_put_string(out, in, "tls", tls_names[c->tls]);
	cd_cfg_put_string(out, in, "tls_ca", c->tls_ca);
	cd_cfg_put_duration(out, in, "timeout", c->timeout);
	fprintf(out, "%sbatch = %d;\n", in, c->batch);
	cd_cfg_put_string(out, in, "channel", c->channel);
	cd_cfg_put_bool(out, in, "feedback", c->feedback);
	fprintf(out, "%srecheck = %d;\n", in, c->recheck);
	cd_cfg_put_duration(out, in, "settle", c->settle);
}

static void sql_free_conf(struct cd_source_conf *sc)
{
	struct sql_conf *c = sc->priv;

	cd_cfg_free_secret(c->password);
	free(c->query);
	free(c->feedback_query);
	free(c->host);
	free(c->user);
	free(c->password_file);
	free(c->database);
	free(c->table_prefix);
	free(c->tls_ca);
	free(c->channel);
	free(c);
	sc->priv = NULL;
}

/* ---- polling ----------------------------------------------------------------------- */

/* A batch's order key and its row; an item and where it goes. */
struct keyrow {
	const char *key;
	size_t row;
};
struct itemref {
	size_t row, irow;
	long long item;
};

struct sql_source {
	const struct cd_source_conf *sc;
	const struct sql_conf *c;
	struct sql_conn *conn;
	struct sql_conn *iconn;       /* a preset's items, beside the orders */
	struct query orders, items, feedback, exists;
	struct sql_rows rows, irows;
	struct cd_buf *items_json;    /* per row of the batch; "" none */
	size_t nitems_json;
	struct keyrow *keys;          /* the batch's rows by key */
	struct itemref *refs;         /* its items in their order */
	size_t capkeys, caprefs;
	int pending;          /* the next orders batch (and its items) is on its way */
	char *recheck_after;  /* the re-check's walk: the last key asked about */
	char *settled;        /* the cursor ("time/key") whose window is final */
};

static int sql_open(const struct cd_source_conf *sc, void **state, struct cd_error *err)
{
	struct sql_source *s = calloc(1, sizeof(*s));

	if (!s)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	s->sc = sc;
	s->c = sc->priv;
	*state = s;
	return 0;
}

static void disconnect(struct sql_source *s)
{
	const struct sql_driver *d = s->c->driver;

	query_free(d, &s->orders);
	query_free(d, &s->items);
	query_free(d, &s->feedback);
	query_free(d, &s->exists);
	if (s->conn)
		d->disconnect(s->conn);
	if (s->iconn)
		d->disconnect(s->iconn);
	s->conn = s->iconn = NULL;
	s->pending = 0;
}

static void sql_close(void *state)
{
	struct sql_source *s = state;

	if (!s)
		return;
	disconnect(s);
	sql_rows_free(&s->rows);
	sql_rows_free(&s->irows);
	for (size_t i = 0; i < s->nitems_json; i++)
		cd_buf_free(&s->items_json[i]);
	free(s->items_json);
	free(s->keys);
	free(s->refs);
	free(s->recheck_after);
	free(s->settled);
	free(s);
}

static int prepare(struct sql_source *s, struct sql_conn *conn, struct query *q, const char *sql,
		   struct cd_error *err)
{
	char why[160];
	int rc;

	if (!sql || !*sql)
		return 0;
	if ((rc = compile(sql, s->c->table_prefix, s->c->driver->style, q, why, sizeof(why))) < 0)
		return cd_error_set(err, rc, NULL, 0, "%s", rc == CD_ENOMEM ? "out of memory" : why);
	return s->c->driver->prepare(conn, q->sql, q->nparams, &q->stmt, err);
}

static int connect_source(struct sql_source *s, struct cd_error *err)
{
	const struct sql_conf *c = s->c;
	int rc;

	if (s->conn)
		return 0;
	if ((rc = c->driver->connect(c, &s->conn, err)) < 0)
		return rc;
	/* the items come on a connection of their own, so both queries of
	 * the next batch run on the server while candor writes this one */
	if ((c->preset && c->preset->items && (rc = c->driver->connect(c, &s->iconn, err)) < 0) ||
	    (rc = prepare(s, s->conn, &s->orders, c->preset ? c->preset->orders : c->query, err)) < 0 ||
	    (rc = prepare(s, s->iconn, &s->items, c->preset ? c->preset->items : NULL, err)) < 0 ||
	    (c->feedback &&
	     (rc = prepare(s, s->conn, &s->feedback, c->preset ? c->preset->feedback : c->feedback_query,
			   err)) < 0) ||
	    (c->recheck && c->preset &&
	     (rc = prepare(s, s->conn, &s->exists, c->preset->exists, err)) < 0)) {
		disconnect(s);
		return rc;
	}
	return 0;
}

static int whole_number(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n <= 18 && !v[n];
}

/* Run Q with the cursor (TIME, KEY) into ROWS; ROWS NULL only sends it
 * (sql_driver.send), for the caller to read later. */
static int run_query(struct sql_source *s, struct query *q, const char *time, const char *key,
		     struct sql_rows *rows, struct cd_error *err)
{
	size_t n = (size_t)(q->nparams ? q->nparams : 1);
	const char **params = calloc(n, sizeof(*params));
	char limit[16], *ints = calloc(n, 1);
	int rc;

	if (!params || !ints) {
		free(params);
		free(ints);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	snprintf(limit, sizeof(limit), "%d", s->c->batch);
	for (int i = 0; i < q->nparams; i++) {
		int p = q->param[i];

		params[i] = p == P_CURSOR_TIME ? time : p == P_CURSOR_KEY ? key : limit;
		/* a preset's keys are the platform's integer ids; an own
		 * query's keys are compared as it wrote them */
		ints[i] = p == P_LIMIT || (p == P_CURSOR_KEY && s->c->preset && params[i] &&
					   whole_number(params[i]));
	}
	rc = rows ? s->c->driver->exec(q->stmt, params, ints, rows, err)
	     : s->c->driver->send(q->stmt, params, ints, err);
	free(params);
	free(ints);
	return rc;
}

/* A date from the shop; 0 for none ("0000-00-00 …" is MySQL's none). */
static int parse_date(const char *v, int64_t *out)
{
	char buf[64];
	size_t n;

	*out = 0;
	if (!v || !*v || strncmp(v, "0000-00-00", 10) == 0)
		return 0;
	if (cd_util_parse_time(v, out) == 0)
		return 0;
	/* PostgreSQL writes a zone as "+00" */
	n = strlen(v);
	if (n > 3 && n < sizeof(buf) - 3 && (v[n - 3] == '+' || v[n - 3] == '-')) {
		snprintf(buf, sizeof(buf), "%s:00", v);
		if (cd_util_parse_time(buf, out) == 0)
			return 0;
	}
	return -1;
}

/* S as a JSON string into B. */
static void json_string(struct cd_buf *b, const char *s)
{
	cd_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			cd_buf_addc(b, '\\');
			cd_buf_addc(b, (char)c);
		} else if (c < 0x20) {
			cd_buf_printf(b, "\\u%04x", c);
		} else {
			cd_buf_addc(b, (char)c);
		}
	}
	cd_buf_addc(b, '"');
}

static int cmp_keyrow(const void *a, const void *b)
{
	return strcmp(((const struct keyrow *)a)->key, ((const struct keyrow *)b)->key);
}

static int cmp_itemref(const void *a, const void *b)
{
	const struct itemref *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->irow < y->irow ? -1 : x->irow > y->irow;
}

/* Room for N of each in S's per-batch arrays. */
static int batch_room(struct sql_source *s, size_t n, size_t nitems)
{
	if (n > s->nitems_json) {
		struct cd_buf *nb = realloc(s->items_json, n * sizeof(*nb));

		if (!nb)
			return CD_ENOMEM;
		memset(nb + s->nitems_json, 0, (n - s->nitems_json) * sizeof(*nb));
		s->items_json = nb;
		s->nitems_json = n;
	}
	if (n > s->capkeys) {
		struct keyrow *k = realloc(s->keys, n * sizeof(*k));

		if (!k)
			return CD_ENOMEM;
		s->keys = k;
		s->capkeys = n;
	}
	if (nitems > s->caprefs) {
		struct itemref *r = realloc(s->refs, nitems * sizeof(*r));

		if (!r)
			return CD_ENOMEM;
		s->refs = r;
		s->caprefs = nitems;
	}
	return 0;
}

/* The items in S->irows as one JSON array per row of S->rows in
 * S->items_json (written as text: a million orders should not cost a
 * million trees of JSON objects), each order's in item_key order. */
static int match_items(struct sql_source *s, int keycol, struct cd_error *err)
{
	size_t n = s->rows.nrows, nk = 0, nr = 0;
	int ok = sql_col(&s->irows, "order_key"), ik = sql_col(&s->irows, "item_key");
	int iname = sql_col(&s->irows, "name"), iqty = sql_col(&s->irows, "quantity");
	int isku = sql_col(&s->irows, "sku"), rc = 0;

	if (batch_room(s, n, s->irows.nrows) < 0)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		s->items_json[i].len = 0;
		if ((s->keys[nk].key = sql_cell(&s->rows, i, keycol)))
			s->keys[nk++].row = i;
	}
	if (nk) /* an array of none may be NULL, which qsort must not see */
		qsort(s->keys, nk, sizeof(*s->keys), cmp_keyrow);
	for (size_t r = 0; nk && r < s->irows.nrows; r++) {
		struct keyrow want = { .key = sql_cell(&s->irows, r, ok) }, *hit;
		const char *item = sql_cell(&s->irows, r, ik);

		if (!want.key || !sql_cell(&s->irows, r, iname) ||
		    !(hit = bsearch(&want, s->keys, nk, sizeof(*s->keys), cmp_keyrow)))
			continue; /* an order outside the batch: it changed meanwhile */
		s->refs[nr++] = (struct itemref){ hit->row, r, item ? strtoll(item, NULL, 10) : 0 };
	}
	if (nr)
		qsort(s->refs, nr, sizeof(*s->refs), cmp_itemref);
	for (size_t j = 0; j < nr; j++) {
		size_t r = s->refs[j].irow;
		const char *qty = sql_cell(&s->irows, r, iqty), *sku = sql_cell(&s->irows, r, isku);
		struct cd_buf *b = &s->items_json[s->refs[j].row];

		cd_buf_addc(b, b->len ? ',' : '[');
		cd_buf_adds(b, "{\"name\":");
		json_string(b, sql_cell(&s->irows, r, iname));
		cd_buf_printf(b, ",\"quantity\":%d", qty ? (int)strtod(qty, NULL) : 1);
		if (sku && *sku) {
			cd_buf_adds(b, ",\"sku\":");
			json_string(b, sku);
		}
		cd_buf_addc(b, '}');
	}
	for (size_t i = 0; i < n; i++) {
		if (s->items_json[i].len)
			cd_buf_addc(&s->items_json[i], ']');
		if (s->items_json[i].oom && rc == 0)
			rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	return rc;
}

static const char *map_status(struct cd_source_run *run, const struct sql_preset *p,
			      const char *v)
{
	const char *c;

	if (!v || !*v)
		return NULL;
	if (!p)
		return v;
	if ((c = sql_status_find(p, v)))
		return c;
	cd_source_note(run, "%s status \"%.60s\" is not one candor maps; such orders keep "
		       "the status they had (new ones: open)", p->platform, v);
	return NULL;
}

struct ordercols {
	int id, channel, customer, first, last, name, email, locale, country, tz, items, total,
	    currency, purchased, shipped, delivered, status, ctime, ckey;
};

static void find_cols(const struct sql_rows *r, struct ordercols *c)
{
	c->id = sql_col(r, "order_id");
	c->channel = sql_col(r, "channel");
	c->customer = sql_col(r, "customer_id");
	c->first = sql_col(r, "first_name");
	c->last = sql_col(r, "last_name");
	c->name = sql_col(r, "name");
	c->email = sql_col(r, "email");
	c->locale = sql_col(r, "locale");
	c->country = sql_col(r, "country");
	c->tz = sql_col(r, "timezone");
	c->items = sql_col(r, "items");
	c->total = sql_col(r, "total");
	c->currency = sql_col(r, "currency");
	c->purchased = sql_col(r, "purchased");
	c->shipped = sql_col(r, "shipped");
	c->delivered = sql_col(r, "delivered");
	c->status = sql_col(r, "status");
	c->ctime = sql_col(r, "cursor_time");
	c->ckey = sql_col(r, "cursor_key");
}

/* Row I of the batch into an order and on to the runner. */
static int map_order(struct sql_source *s, struct cd_source_run *run, const struct ordercols *k,
		     size_t i, const char *items, struct cd_error *err)
{
	const struct sql_rows *r = &s->rows;
	const char *key = sql_cell(r, i, k->ckey);
	const char *dates[3] = { sql_cell(r, i, k->purchased), sql_cell(r, i, k->shipped),
				 sql_cell(r, i, k->delivered) };
	static const char *const dnames[3] = { "purchased", "shipped", "delivered" };
	int64_t t[3], changed = 0;
	char name[512], locale[64], keybuf[160], email[400], total[64];
	const char *first = sql_cell(r, i, k->first), *last = sql_cell(r, i, k->last);
	const char *loc = sql_cell(r, i, k->locale), *customer = sql_cell(r, i, k->customer);
	struct cd_order o;

	/* the order number, and the platform's key where that differs */
	if (sql_cell(r, i, k->id) && key && strcmp(sql_cell(r, i, k->id), key) != 0)
		snprintf(keybuf, sizeof(keybuf), "%.80s (key %.40s)", sql_cell(r, i, k->id), key);
	else
		snprintf(keybuf, sizeof(keybuf), "%.80s", sql_cell(r, i, k->id) ? sql_cell(r, i, k->id)
			 : key ? key : "?");
	for (int d = 0; d < 3; d++)
		if (parse_date(dates[d], &t[d]) < 0) {
			cd_source_problem(run, keybuf, "bad date in %s: \"%.60s\"", dnames[d], dates[d]);
			return 0;
		}
	parse_date(sql_cell(r, i, k->ctime), &changed);
	o = (struct cd_order){
		.id = sql_cell(r, i, k->id), .channel = sql_cell(r, i, k->channel),
		.customer_id = customer && strcmp(customer, "0") != 0 ? customer : NULL,
		.first_name = first, .name = sql_cell(r, i, k->name),
		.email = sql_cell(r, i, k->email), .country = sql_cell(r, i, k->country),
		.timezone = sql_cell(r, i, k->tz), .items = sql_cell(r, i, k->items),
		.total = sql_cell(r, i, k->total), .currency = sql_cell(r, i, k->currency),
		.status = map_status(run, s->c->preset, sql_cell(r, i, k->status)),
		.purchased = t[0], .shipped = t[1], .delivered = t[2],
		.source_time = sql_cell(r, i, k->ctime),
	};
	if (o.total && strchr(o.total, '.') && strlen(o.total) < sizeof(total)) {
		/* DECIMAL(26,8) reads "42.50000000": keep the cents */
		size_t n = strlen(strcpy(total, o.total)), dot = (size_t)(strchr(total, '.') - total);

		while (n > dot + 3 && total[n - 1] == '0')
			total[--n] = 0;
		o.total = total;
	}
	if (!o.channel && *s->c->channel)
		o.channel = s->c->channel;
	if (!o.name && (first || last)) {
		snprintf(name, sizeof(name), "%s%s%s", first ? first : "", first && last ? " " : "",
			 last ? last : "");
		o.name = name;
	}
	if (loc && *loc) {
		/* Magento and PrestaShop write de_DE */
		snprintf(locale, sizeof(locale), "%s", loc);
		for (char *p = locale; *p; p++)
			if (*p == '_')
				*p = '-';
		o.locale = locale;
	} else if (o.country) {
		o.locale_guess = sql_country_locale(o.country);
	}
	if (items) {
		o.items = items;
		o.items_built = 1;
	}
	/* a platform that knows shipped or delivered only as a status: the
	 * time is when the order last changed */
	if (o.status && strcmp(o.status, "shipped") == 0 && !o.shipped)
		o.shipped = changed;
	if (o.status && strcmp(o.status, "delivered") == 0 && !o.delivered)
		o.delivered = changed;
	if (o.status && strcmp(o.status, "delivered") == 0 && !o.shipped)
		o.shipped = o.delivered;
	if (o.email) {
		/* a shop keeps what the customer typed; candor's checks want
		 * it without the spaces around */
		size_t n;

		o.email += strspn(o.email, " \t");
		snprintf(email, sizeof(email), "%s", o.email);
		n = strlen(email);
		while (n && (email[n - 1] == ' ' || email[n - 1] == '\t'))
			email[--n] = 0;
		o.email = email;
	}
	return cd_source_put_order(run, &o, keybuf, err);
}

/* Send the queries of the batch after (TIME, KEY): its orders, and its
 * items on their own connection. */
static int send_batch(struct sql_source *s, const char *time, const char *key,
		      struct cd_error *err)
{
	int rc = run_query(s, &s->orders, time, key, NULL, err);

	if (rc == 0 && s->items.stmt)
		rc = run_query(s, &s->items, time, key, NULL, err);
	return rc;
}

static int poll_orders(struct sql_source *s, struct cd_source_run *run, struct cd_error *err)
{
	const char *time, *key, *lt, *lk;
	struct ordercols k;
	int rc = 0;
	size_t n;

	cd_source_run_cursor(run, "orders", &time, &key);
	if (!s->pending && (rc = send_batch(s, time, key, err)) < 0)
		return rc;
	s->pending = 0;
	if ((rc = s->c->driver->recv(s->orders.stmt, &s->rows, err)) < 0 ||
	    (s->items.stmt && (rc = s->c->driver->recv(s->items.stmt, &s->irows, err)) < 0))
		return rc;
	find_cols(&s->rows, &k);
	if (k.ctime < 0 || k.ckey < 0 || k.id < 0 || k.email < 0)
		return cd_error_set(err, CD_EINVAL, NULL, 0,
				    "the query must return order_id, email, cursor_time and cursor_key");
	if ((n = s->rows.nrows) == 0)
		return 0;
	if (s->items.stmt && (rc = match_items(s, k.ckey, err)) < 0)
		return rc;
	lt = sql_cell(&s->rows, n - 1, k.ctime);
	lk = sql_cell(&s->rows, n - 1, k.ckey);
	/* the batch's last row, good or bad, is where the next one starts */
	if (!lt || !lk)
		return cd_error_set(err, CD_EINVAL, NULL, 0,
				    "cursor_time or cursor_key is NULL in row %s",
				    sql_cell(&s->rows, n - 1, k.id) ? sql_cell(&s->rows, n - 1, k.id) : "?");
	/* a full batch: more wait after its last row. The server starts on
	 * them now, while this batch is mapped and written. */
	if (n >= (size_t)s->c->batch && !cd_source_run_testing(run)) {
		if ((rc = send_batch(s, lt, lk, err)) < 0)
			return rc;
		s->pending = 1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = map_order(s, run, &k, i, s->items.stmt && s->items_json[i].len
				 ? s->items_json[i].data : NULL, err);
	if (rc < 0)
		return rc;
	if ((rc = cd_source_commit(run, "orders", lt, lk, err)) < 0)
		return rc;
	return n >= (size_t)s->c->batch;
}

/* Is the row (TIME, KEY) after the cursor (CT, CK)? Times as the
 * server writes them compare as text; keys as numbers when both are. */
static int after_cursor(const char *time, const char *key, const char *ct, const char *ck)
{
	int c = strcmp(time, ct);

	if (c)
		return c > 0;
	if (whole_number(key) && whole_number(ck))
		return strtoll(key, NULL, 10) > strtoll(ck, NULL, 10);
	return strcmp(key, ck) > 0;
}

/* The settle window: read again the rows changed up to `settle` before
 * the cursor, for those a long transaction in the shop committed after
 * later rows were read (a cursor alone would skip them: their time is
 * behind it). A row taken before as it is now is skipped (the order
 * keeps the shop's change time it was read at); rows past the cursor
 * are the next poll's. The cursor does not move. A row is taken to
 * commit within `settle` of its change time: once a pass has run that
 * long after the cursor's time, the window behind that cursor is final
 * and is not read again (an idle shop costs one query a poll). */
static int settle(struct sql_source *s, struct cd_source_run *run, struct cd_error *err)
{
	const char *t, *k;
	char *ct = NULL, *ck = NULL, from[96], *fkey = NULL, secs[20], mark[256];
	int64_t when;
	int rc = 0, past = 0, final;

	cd_source_run_cursor(run, "orders", &t, &k);
	snprintf(mark, sizeof(mark), "%s/%s", t, k);
	if (s->settled && strcmp(s->settled, mark) == 0)
		return 0;
	/* to the second: PostgreSQL may write microseconds and a zone */
	snprintf(secs, sizeof(secs), "%s", t);
	if (parse_date(secs, &when) < 0 || !when)
		return 0;
	final = cd_util_now() >= when + s->c->settle;
	if (!(ct = strdup(t)) || !(ck = strdup(k)) || !(fkey = strdup(s->c->preset ? "0" : ""))) {
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	{
		time_t w = (time_t)(when - s->c->settle);
		struct tm tm;

		gmtime_r(&w, &tm);
		strftime(from, sizeof(from), "%Y-%m-%d %H:%M:%S", &tm);
	}
	while (!past) {
		struct ordercols c;
		size_t n;

		if ((rc = send_batch(s, from, fkey, err)) < 0 ||
		    (rc = s->c->driver->recv(s->orders.stmt, &s->rows, err)) < 0 ||
		    (s->items.stmt && (rc = s->c->driver->recv(s->items.stmt, &s->irows, err)) < 0))
			break;
		find_cols(&s->rows, &c);
		if ((n = s->rows.nrows) == 0 || c.ctime < 0 || c.ckey < 0 || c.id < 0)
			break;
		if (s->items.stmt && (rc = match_items(s, c.ckey, err)) < 0)
			break;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const char *rt = sql_cell(&s->rows, i, c.ctime), *rk = sql_cell(&s->rows, i, c.ckey);

			if (!rt || !rk || (past = after_cursor(rt, rk, ct, ck)))
				break;
			if ((rc = cd_source_seen(run, sql_cell(&s->rows, i, c.id), rt, err)) != 0)
				continue; /* taken as it is: 1; or the store failed */
			rc = map_order(s, run, &c, i, s->items.stmt && s->items_json[i].len
				       ? s->items_json[i].data : NULL, err);
		}
		if (rc == 1)
			rc = 0;
		if (rc < 0 || (rc = cd_source_commit(run, NULL, NULL, NULL, err)) < 0 ||
		    n < (size_t)s->c->batch)
			break;
		snprintf(from, sizeof(from), "%s", sql_cell(&s->rows, n - 1, c.ctime));
		free(fkey);
		if (!(fkey = strdup(sql_cell(&s->rows, n - 1, c.ckey)))) {
			rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
			break;
		}
	}
	if (rc == 0 && final) {
		free(s->settled);
		s->settled = strdup(mark);
	}
out:
	free(ct);
	free(ck);
	free(fkey);
	return rc;
}

static int poll_feedback(struct sql_source *s, struct cd_source_run *run, struct cd_error *err)
{
	const char *time, *key;
	int id, rating, comment, received, ctime, ckey, rc;
	size_t n;

	cd_source_run_cursor(run, "feedback", &time, &key);
	if ((rc = run_query(s, &s->feedback, time, key, &s->rows, err)) < 0)
		return rc;
	id = sql_col(&s->rows, "order_id");
	rating = sql_col(&s->rows, "rating");
	comment = sql_col(&s->rows, "comment");
	received = sql_col(&s->rows, "received");
	ctime = sql_col(&s->rows, "cursor_time");
	ckey = sql_col(&s->rows, "cursor_key");
	if (ctime < 0 || ckey < 0 || id < 0 || rating < 0)
		return cd_error_set(err, CD_EINVAL, NULL, 0, "the feedback query must return "
				    "order_id, rating, cursor_time and cursor_key");
	if ((n = s->rows.nrows) == 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *k = sql_cell(&s->rows, i, ckey), *rv = sql_cell(&s->rows, i, rating);
		const char *when = sql_cell(&s->rows, i, received);
		struct cd_feedback f = {
			.order_id = sql_cell(&s->rows, i, id),
			.comment = sql_cell(&s->rows, i, comment), .source = "shop",
		};
		char keybuf[96];
		double v = rv ? strtod(rv, NULL) : 0;

		snprintf(keybuf, sizeof(keybuf), "review %s", k ? k : "?");
		if (!f.order_id) {
			cd_source_problem(run, keybuf, "matches no order of this customer");
			continue;
		}
		f.rating = (int)(v + 0.5);
		if (parse_date(when ? when : sql_cell(&s->rows, i, ctime), &f.received) < 0)
			f.received = 0;
		rc = cd_source_put_feedback(run, &f, keybuf, err);
	}
	if (rc < 0)
		return rc;
	if ((rc = cd_source_commit(run, "feedback", sql_cell(&s->rows, n - 1, ctime),
				   sql_cell(&s->rows, n - 1, ckey), err)) < 0)
		return rc;
	return n >= (size_t)s->c->batch;
}

/* Which of the N keys IDS the shop still has, into S->rows. */
static int ask_exists(struct sql_source *s, char **ids, size_t n, struct cd_error *err)
{
	const char *params[SQL_RECHECK_CHUNK];
	char ints[SQL_RECHECK_CHUNK];
	int k = 0;

	if (s->exists.nparams != SQL_RECHECK_CHUNK)
		return cd_error_set(err, CD_EINVAL, NULL, 0, "the re-check query takes no {keys}");
	for (int i = 0; i < SQL_RECHECK_CHUNK; i++) {
		params[i] = (size_t)k < n ? ids[k++] : NULL;
		ints[i] = params[i] && !s->c->preset->text_keys && whole_number(params[i]);
	}
	return s->c->driver->exec(s->exists.stmt, params, ints, &s->rows, err);
}

/* A step of the walk over the orders this source read that could still
 * be mailed, asking the shop which of them it still has: up to
 * `recheck` keys a poll, SQL_RECHECK_CHUNK a query; the walk starts over
 * when it reaches the end. An order the shop no longer has is cancelled.
 * More than half of a good number gone at once looks like the wrong
 * database or a restored backup, not deletions: nothing is cancelled. */
static int recheck(struct sql_source *s, struct cd_source_run *run, struct cd_error *err)
{
	int budget = s->c->recheck, rc = 0, found;

	while (rc == 0 && budget > 0) {
		int want = budget < SQL_RECHECK_CHUNK ? budget : SQL_RECHECK_CHUNK;
		char **ids;
		size_t n, gone = 0;
		char *gone_ids[SQL_RECHECK_CHUNK];

		if ((rc = cd_source_pending(run, s->recheck_after ? s->recheck_after : "", want, &ids,
					    &n, err)) < 0)
			break;
		if (n == 0 || (rc = ask_exists(s, ids, n, err)) < 0)
			goto next;
		found = sql_col(&s->rows, "order_id");
		for (size_t i = 0; i < n; i++) {
			size_t r = 0;

			while (r < s->rows.nrows && (!sql_cell(&s->rows, r, found) ||
						     strcmp(sql_cell(&s->rows, r, found), ids[i]) != 0))
				r++;
			if (r == s->rows.nrows)
				gone_ids[gone++] = ids[i];
		}
		if (gone >= 20 && gone * 2 > n)
			cd_source_note(run, "%zu of %zu orders re-checked are missing from the shop at once: "
				       "none cancelled (the wrong database, or a restored backup?)", gone, n);
		else
			for (size_t i = 0; rc == 0 && i < gone; i++)
				rc = cd_source_gone(run, gone_ids[i], err);
next:
		free(s->recheck_after);
		s->recheck_after = rc == 0 && n == (size_t)want ? strdup(ids[n - 1]) : NULL;
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		budget -= want;
		if (!s->recheck_after)
			break;
	}
	if (rc == 0)
		rc = cd_source_commit(run, NULL, NULL, NULL, err);
	return rc;
}

static int sql_poll(void *state, struct cd_source_run *run, struct cd_error *err)
{
	struct sql_source *s = state;
	int rc, more;

	if ((rc = connect_source(s, err)) < 0)
		return rc;
	more = rc = poll_orders(s, run, err);
	if (rc == 0 && s->c->settle && !cd_source_run_testing(run))
		rc = settle(s, run, err);
	/* reviews once the orders have caught up: they name those orders */
	if (rc == 0 && s->feedback.stmt)
		rc = poll_feedback(s, run, err);
	/* deleted orders once caught up: a backfill is no time to look back */
	if (rc == 0 && s->exists.stmt)
		rc = recheck(s, run, err);
	if (rc < 0) {
		/* after any failure the next poll connects afresh; a store
		 * failure keeps the connection, unless a batch read ahead
		 * from a cursor that was not committed waits on it */
		if (rc != CD_ESTORE || s->pending)
			disconnect(s);
		return rc;
	}
	return more || rc;
}

const struct cd_source_type cd_source_sql = {
	.name = "sql", .settings = sql_settings,
	.parse = sql_parse, .print = sql_print, .free_conf = sql_free_conf,
	.open = sql_open, .poll = sql_poll, .close = sql_close,
};
