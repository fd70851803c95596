/*
 * source_api.h - inside the API sources (intake-private): what the
 * shopify and woocommerce types share. An HTTPS client over one reused
 * libcurl handle per source (TLS verified, bounded responses, timeouts,
 * Retry-After read), their common settings, and the page mappers: JSON
 * text in, candor's orders and feedback out through callbacks, so the
 * mapping is tested and fuzzed without a network (test_source_api.c,
 * tests/fuzz/fuzz_api.c).
 *
 * Strings handed to callbacks are borrowed for the call.
 */
#ifndef CANDOR_SOURCE_API_H
#define CANDOR_SOURCE_API_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "candor/buf.h"
#include "candor/error.h"

struct cd_config_loader;
struct cd_feedback;
struct cd_order;

/* Settings both API types have. */
struct api_conf {
	char *tls_ca;            /* CA file to trust instead of the system's; "" none */
	int64_t timeout;         /* seconds per request */
	int64_t max_response;    /* bytes: a larger page is refused */
	int batch;               /* orders per page */
	char *channel;           /* "" none */
	int feedback;            /* read reviews (woocommerce) */
};

/* Read the common settings of G (DP in errors); BATCH_MAX is the API's
 * page limit. */
void api_conf_parse(struct cd_config_loader *ld, struct api_conf *c, const config_setting_t *g,
		    const char *dp, int batch_max);
void api_conf_print(const struct api_conf *c, FILE *out, const char *in);
void api_conf_free(struct api_conf *c);

/* "50MB", "512KB", "1GB" or a number of bytes into *OUT. 0 or -1. */
int api_parse_size(const char *s, int64_t *out);

/* ---- the HTTP client ------------------------------------------------------------ */

struct api_http {
	void *multi;               /* CURLM *: keeps the connection between requests */
	void *curl;                /* CURL *, reused */
	int busy;                  /* a request is under way */
	void *headers;             /* its struct curl_slist *, wiped when done */
	char *post;                /* its body */
	char shown[600];
	const struct api_conf *c;
	struct cd_buf body;        /* the last response, NUL-terminated */
	int too_big;
	long status;
	int64_t retry_after;       /* seconds the shop asked for; -1 none */
	long total_pages;          /* X-WP-TotalPages; -1 none */
	char errbuf[256];
};

/* Results of api_http_fetch besides errors. */
#define API_OK 0
#define API_THROTTLED 1     /* 429: wait h->retry_after (or back off) */
#define API_REFUSED 2       /* 401/403: the credentials were refused */

/* Set H up for C; nothing is connected yet. 0 or CD_ENOMEM. */
int api_http_open(struct api_http *h, const struct api_conf *c, struct cd_error *err);
void api_http_close(struct api_http *h);

/* GET URL (POST BODY when BODY is not NULL, as JSON) with HEADERS (NULL
 * ends them; they may hold a secret, which is never shown) or the
 * Basic USER and PASS (NULL: none). Returns API_OK with the body in
 * H->body, API_THROTTLED, API_REFUSED (ERR says so), or CD_EIO (the
 * connection, TLS, a timeout, a 5xx, a dropped or oversized body) or
 * CD_EPROTO (any other answer) with ERR; SHOWN names the request in
 * messages (no query string, no secret). */
int api_http_fetch(struct api_http *h, const char *url, const char *shown,
		   const char *const *headers, const char *user, const char *pass,
		   const char *body, struct cd_error *err);

/* api_http_fetch in two halves: start sends the request (a request
 * under way is abandoned) and returns (0 or CD_ENOMEM); finish waits
 * for the answer and returns what api_http_fetch would. Between them
 * the caller may write the last answer while the shop works on this. */
int api_http_start(struct api_http *h, const char *url, const char *shown,
		   const char *const *headers, const char *user, const char *pass,
		   const char *body, struct cd_error *err);
int api_http_finish(struct api_http *h, struct cd_error *err);
/* Drop a request under way, if any. */
void api_http_abandon(struct api_http *h);

/* ---- mapping -------------------------------------------------------------------- */

/* Where a stream stands: rows at or before (TIME, KEY) were taken. */
struct api_cursor {
	int64_t time;
	int64_t key;
};

struct api_map {
	int64_t now;             /* candor's clock: a later date is the shop's skew */
	const char *channel;     /* NULL none */
	struct api_cursor after; /* rows up to here are skipped */
	void *arg;
	/* A mapped order (BAD NULL) or one that could not be mapped (O
	 * NULL, BAD why). KEY names it in messages. 0 or a negative code
	 * that ends the page. */
	int (*order)(void *arg, const struct cd_order *o, const char *key, const char *bad,
		     struct cd_error *err);
	/* A review of PRODUCT by EMAIL: F's order_id is NULL, for the
	 * caller to match. */
	int (*review)(void *arg, struct cd_feedback *f, const char *email, const char *key,
		      struct cd_error *err);
	/* A note that does not skip a row. */
	void (*note)(void *arg, const char *text);
	/* Optional: the page is parsed, its rows not yet handed on; LAST is
	 * its last row's (time, key) and HAS_NEXT says more follow (the
	 * caller may ask for them now, while the rows are written). Not
	 * called when the next query must wait for Shopify's bucket. */
	void (*parsed)(void *parg, const struct api_cursor *last, int has_next);
	void *parg;
};

/* What a page held besides its rows. */
struct api_page {
	int64_t rows;            /* nodes on the page, skipped ones too */
	int64_t taken;           /* nodes after the cursor */
	struct api_cursor last;  /* the last node's (time, key); 0 none */
	int has_next;            /* the API says more follow */
	char end_cursor[512];    /* Shopify's pageInfo.endCursor */
	/* Shopify's cost throttle */
	int throttled;           /* the query was refused: wait_ms */
	int64_t wait_ms;         /* wait before the next query; 0 none */
	char error[300];         /* a GraphQL error other than a throttle */
	int refused;             /* ... that is ACCESS_DENIED */
};

/* Shopify Admin GraphQL: the answer to the orders query (api_shopify_query). */
int api_shopify_page(const char *json, size_t len, const struct api_map *m,
		     struct api_page *pg, struct cd_error *err);
/* WooCommerce REST v3: a page of GET /orders, or of /products/reviews. */
int api_woo_orders_page(const char *json, size_t len, const struct api_map *m,
			struct api_page *pg, struct cd_error *err);
int api_woo_reviews_page(const char *json, size_t len, const struct api_map *m,
			 struct api_page *pg, struct cd_error *err);

/* The GraphQL request body for orders changed at or after SINCE (Unix
 * seconds), FIRST per page, AFTER a page cursor (NULL: from the start).
 * A new string, or NULL. */
char *api_shopify_query(int64_t since, int first, const char *after);

/* T as "YYYY-MM-DD HH:MM:SS" (cursor times) or "YYYY-MM-DDTHH:MM:SS" (ISO). */
void api_format_time(int64_t t, int iso, char *buf, size_t len);

/* ---- polling (source_shopify.c) ------------------------------------------------ */

struct cd_source_run;

/* M set up to hand STREAM's rows to RUN (reviews matched to the
 * customer's latest order before them), after the stream's cursor. */
void api_map_for_run(struct api_map *m, struct cd_source_run *run, const char *stream,
		     const char *channel);

/* After a page of STREAM: its cursor moves to the page's last row,
 * written with the rows. 0 or CD_ESTORE with ERR. */
int api_commit(struct cd_source_run *run, const char *stream, const struct api_page *pg,
	       struct cd_error *err);

/* How long a source whose credentials were refused waits: the longer of
 * its poll interval and a quarter hour. */
int64_t api_refused_pause_ms(struct cd_source_run *run);

/* Is S a plain host name with an optional port ("shop.example:8443")? */
int api_plain_host(const char *s);

#endif
