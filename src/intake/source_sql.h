/*
 * source_sql.h - inside the sql source (intake-private): its settings,
 * the client-library drivers (source_mariadb.c, source_pgsql.c) behind
 * one table of operations, and the platform presets (source_presets.c).
 *
 * SQL reaches a driver with its parameters already in the driver's
 * syntax ('?' or '$1'); every value is bound, never spliced. A result
 * is copied whole into struct sql_rows (one batch: bounded by LIMIT),
 * which its caller owns.
 */
#ifndef CANDOR_SOURCE_SQL_H
#define CANDOR_SOURCE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

enum sql_tls { SQL_TLS_NONE, SQL_TLS_PREFERRED, SQL_TLS_REQUIRED };

struct sql_preset;

struct sql_conf {
	const struct sql_driver *driver;
	const struct sql_preset *preset;   /* NULL: the shop's own query */
	char *query, *feedback_query;       /* own SQL, "" none */
	char *host, *user, *password_file, *database, *table_prefix, *tls_ca, *channel;
	char *password;                     /* secret, or NULL */
	int port;                           /* 0: the driver's default */
	enum sql_tls tls;
	int64_t timeout;                    /* seconds, per connect and query */
	int batch;                          /* rows per query */
	int feedback;                       /* read the platform's reviews */
	int recheck;                        /* keys re-checked per poll; 0 none */
	int64_t settle;                     /* seconds read again behind the cursor */
};

/* A result: NCOLS names, NROWS rows of cells (NULL for SQL NULL). */
struct sql_rows {
	int ncols;
	char **names;         /* lower-case */
	size_t nrows, cap;
	size_t cur;           /* cells of the last row so far */
	size_t *off;          /* nrows * ncols offsets into data; SQL_NULL */
	char *data;
	size_t len, dcap;
};
#define SQL_NULL ((size_t)-1)

/* Empty R for a new result with N columns named NAMES. 0 or CD_ENOMEM. */
int sql_rows_start(struct sql_rows *r, int n, const char *const *names);
/* Append one cell of the current row (V NULL: SQL NULL); the row ends
 * after NCOLS cells. 0 or CD_ENOMEM. */
int sql_rows_cell(struct sql_rows *r, const char *v, size_t len);
/* Cell (ROW, COL), or NULL; COL < 0 is NULL too. */
const char *sql_cell(const struct sql_rows *r, size_t row, int col);
/* Index of column NAME, or -1. */
int sql_col(const struct sql_rows *r, const char *name);
void sql_rows_free(struct sql_rows *r);

struct sql_conn;
struct sql_stmt;

struct sql_driver {
	const char *name;        /* "mariadb", "postgresql" */
	char style;              /* '?' or '$' */
	int default_port;
	/* Connect read-only, UTC, with C's TLS mode and timeouts. Returns 0
	 * or CD_EIO (refused, unreachable, timeout), CD_EPROTO (login, TLS)
	 * with ERR; never with the password in it. */
	int (*connect)(const struct sql_conf *c, struct sql_conn **out, struct cd_error *err);
	void (*disconnect)(struct sql_conn *c);
	/* Prepare SQL with NPARAMS parameters. 0 or CD_EPROTO with ERR. */
	int (*prepare)(struct sql_conn *c, const char *sql, int nparams, struct sql_stmt **out,
		       struct cd_error *err);
	/* Run S with PARAMS (text; NULL binds NULL) into ROWS; INTS[i] set
	 * says parameter i is a whole number (a driver that types its
	 * parameters binds it so, and the server can use its index). 0,
	 * CD_EIO (the connection broke or timed out) or CD_EPROTO with ERR. */
	int (*exec)(struct sql_stmt *s, const char *const *params, const char *ints,
		    struct sql_rows *rows, struct cd_error *err);
	/* exec in two halves, so the server works on the next batch while
	 * candor writes this one: send returns once the query is on its
	 * way (PARAMS may go after it), recv reads its rows. Nothing else
	 * may use the connection in between. Same returns as exec. */
	int (*send)(struct sql_stmt *s, const char *const *params, const char *ints,
		    struct cd_error *err);
	int (*recv)(struct sql_stmt *s, struct sql_rows *rows, struct cd_error *err);
	void (*finalize)(struct sql_stmt *s);
};

extern const struct sql_driver sql_mariadb;     /* source_mariadb.c */
extern const struct sql_driver sql_postgresql;  /* source_pgsql.c */

/* Platform status → candor status. */
struct sql_status {
	const char *platform, *candor;
};

struct sql_preset {
	const char *name;        /* "woocommerce" */
	const char *platform;    /* "WooCommerce (HPOS)", for messages */
	/* Orders after (:cursor_time, :cursor_key), :limit of them, oldest
	 * change first; {p} stands for the table prefix. Columns: candor's
	 * names, with status as the platform writes it, plus cursor_time and
	 * cursor_key (the platform's own order key). */
	const char *orders;
	/* Items of the orders the orders query reads with the same
	 * :cursor_time, :cursor_key and :limit, in any order: order_key
	 * (their cursor_key), item_key (a number: the items' order within
	 * the order), name, quantity, sku. */
	const char *items;
	/* Reviews after the cursor: order_id (the matched order, or NULL),
	 * rating, comment, received, cursor_time, cursor_key. NULL: none. */
	const char *feedback;
	/* Which of the keys {keys} (SQL_RECHECK_CHUNK of them, unused ones
	 * NULL) the shop still has: order_id, as candor stores it. */
	const char *exists;
	int text_keys;                       /* order_id is text, not a number */
	const struct sql_status *statuses;   /* ends with a NULL platform */
};

/* The candor status of the platform's status V under preset P, or NULL
 * when P does not map it. */
const char *sql_status_find(const struct sql_preset *p, const char *v);

/* Keys asked about in one query when re-checking for deleted orders. */
#define SQL_RECHECK_CHUNK 100

/* The preset named NAME, or NULL; the names, for messages. */
const struct sql_preset *sql_preset_find(const char *name);
extern const char sql_preset_names[];

/* The usual language of COUNTRY (ISO 3166 alpha-2) as a locale
 * ("de-DE"), or NULL. */
const char *sql_country_locale(const char *country);

#endif
