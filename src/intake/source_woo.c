/*
 * source_woo.c - the woocommerce source: a shop's orders and product
 * reviews from the WooCommerce REST API v3, for a shop whose database
 * candor cannot reach. Orders come with modified_after (GMT dates),
 * orderby=modified, order=asc, per_page and page, X-WP-TotalPages
 * saying whether more follow; reviews from /products/reviews, ratings
 * as feedback, once the orders have caught up (they name orders).
 *
 * Pages by number shift when an order changes while candor reads them
 * (it moves to the end, and every later page starts one row later), so
 * each page is asked for afresh from the cursor just committed; only a
 * page whose rows were all taken before (many orders changed in the
 * same second) goes on to the next page number. The consumer key and
 * secret come from files and go only into Basic auth, over HTTPS.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"
#include "candor/source_impl.h"
#include "candor/util.h"
#include "source_api.h"

struct woo_conf {
	struct api_conf api;
	char *url, *key_file, *secret_file;
	char *key, *secret;      /* secrets, or NULL */
};

static const char *const woo_settings[] = {
	"url", "key_file", "secret_file", "tls_ca", "timeout", "batch", "max_response",
	"channel", "feedback", NULL,
};

/* https://HOST[:PORT][/PATH], the host plain, nothing after the path. */
static int good_url(const char *u)
{
	char host[300];
	size_t n;

	if (strncmp(u, "https://", 8) != 0 || strpbrk(u, "?#@ \"\\%"))
		return 0;
	u += 8;
	n = strcspn(u, "/");
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, u, n);
	host[n] = 0;
	return api_plain_host(host);
}

static void woo_parse(struct cd_config_loader *ld, struct cd_source_conf *sc,
		      const config_setting_t *g, const char *dp)
{
	struct woo_conf *c = calloc(1, sizeof(*c));
	char sp[96];
	size_t n;

	if (!(sc->priv = c)) {
		cd_cfg_oom(ld);
		return;
	}
	api_conf_parse(ld, &c->api, g, dp, 100);   /* per_page is at most 100 */
	c->url = cd_cfg_string(ld, g, dp, "url", NULL, 1);
	snprintf(sp, sizeof(sp), "%s.url", dp);
	if (c->url && (n = strlen(c->url)) && n > 1 && c->url[n - 1] == '/')
		c->url[n - 1] = 0;
	if (c->url && *c->url && !good_url(c->url))
		cd_cfg_report(ld, config_setting_get_member(g, "url"), sp,
			      "url \"%s\" must be the shop's https address, e.g. \"https://shop.example\" "
			      "(the key and secret never go over plain HTTP)", c->url);
	c->key_file = cd_cfg_path(ld, g, dp, "key_file");
	c->secret_file = cd_cfg_path(ld, g, dp, "secret_file");
	if ((c->key_file && !*c->key_file) || (c->secret_file && !*c->secret_file))
		cd_cfg_report(ld, g, dp, "a woocommerce source needs key_file and secret_file (a "
			      "REST API key with Read access)");
	c->key = cd_cfg_secret(ld, g, dp, c->key_file);
	c->secret = cd_cfg_secret(ld, g, dp, c->secret_file);
}

static void woo_print(const struct cd_source_conf *sc, FILE *out, const char *in)
{
	const struct woo_conf *c = sc->priv;

	cd_cfg_put_string(out, in, "url", c->url);
	cd_cfg_put_string(out, in, "key_file", c->key_file);
	cd_cfg_put_string(out, in, "secret_file", c->secret_file);
	if (c->key && c->secret)
		fprintf(out, "%s# key and secret: ******** (read from their files)\n", in);
	api_conf_print(&c->api, out, in);
	cd_cfg_put_bool(out, in, "feedback", c->api.feedback);
}

static void woo_free_conf(struct cd_source_conf *sc)
{
	struct woo_conf *c = sc->priv;

	cd_cfg_free_secret(c->key);
	cd_cfg_free_secret(c->secret);
	api_conf_free(&c->api);
	free(c->url);
	free(c->key_file);
	free(c->secret_file);
	free(c);
	sc->priv = NULL;
}

/* ---- polling ------------------------------------------------------------------------- */

struct woo_stream {
	const char *name;        /* "orders", "feedback" */
	const char *path;        /* under /wp-json/wc/v3 */
	const char *after;       /* the parameter that takes the cursor's time */
	const char *params;      /* the rest of the list's own */
	int (*page)(const char *json, size_t len, const struct api_map *m, struct api_page *pg,
		    struct cd_error *err);
	long page_no;            /* > 1: the page after all-taken ones */
	int64_t page_since;      /* ... of the query from this time */
};

struct woo_source {
	const struct woo_conf *c;
	struct api_http http;
	struct woo_stream orders, reviews;
};

static int woo_open(const struct cd_source_conf *sc, void **state, struct cd_error *err)
{
	struct woo_source *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	s->c = sc->priv;
	if ((rc = api_http_open(&s->http, &s->c->api, err)) < 0) {
		free(s);
		return rc;
	}
	s->orders = (struct woo_stream){ "orders", "/orders", "modified_after",
		"&dates_are_gmt=true&orderby=modified&order=asc", api_woo_orders_page, 1, 0 };
	/* held reviews too: a low one is what the apology is for */
	s->reviews = (struct woo_stream){ "feedback", "/products/reviews", "after",
		"&orderby=date_gmt&order=asc&status=all", api_woo_reviews_page, 1, 0 };
	*state = s;
	return 0;
}

static void woo_close(void *state)
{
	struct woo_source *s = state;

	if (!s)
		return;
	api_http_close(&s->http);
	free(s);
}

/* One page of stream W. Returns 1 more, 0 caught up, or a failure. */
static int woo_page(struct woo_source *s, struct woo_stream *w, struct cd_source_run *run,
		    struct cd_error *err)
{
	char url[1200], shown[600], since[32], why[120];
	struct api_page pg;
	struct api_map m;
	long total;
	int rc, more;

	api_map_for_run(&m, run, w->name, s->c->api.channel);
	if (w->page_no > 1 && w->page_since != m.after.time)
		w->page_no = 1;
	if (w->page_no < 1)
		w->page_no = 1;
	/* the API's "after" is strictly after: a second earlier, and the
	 * rows already taken in that second are skipped */
	api_format_time(m.after.time > 0 ? m.after.time - 1 : 0, 1, since, sizeof(since));
	snprintf(url, sizeof(url), "%s/wp-json/wc/v3%s?%s=%s%s&per_page=%d&page=%ld", s->c->url,
		 w->path, w->after, since, w->params, s->c->api.batch, w->page_no);
	snprintf(shown, sizeof(shown), "%s/wp-json/wc/v3%s", s->c->url, w->path);
	rc = api_http_fetch(&s->http, url, shown, NULL, s->c->key, s->c->secret, NULL, err);
	if (rc == API_THROTTLED) {
		int64_t ra = s->http.retry_after >= 0 ? s->http.retry_after : 5;

		snprintf(why, sizeof(why), "throttled by the shop (HTTP 429, Retry-After %llds)",
			 (long long)ra);
		cd_source_wait(run, ra * 1000, why);
		return 1;
	}
	if (rc == API_REFUSED) {
		cd_source_wait(run, api_refused_pause_ms(run), "credentials refused");
		return CD_EPROTO;
	}
	if (rc < 0 || (rc = w->page(s->http.body.data, s->http.body.len, &m, &pg, err)) < 0) {
		w->page_no = 1;
		return rc;
	}
	if ((rc = api_commit(run, w->name, &pg, err)) < 0)
		return rc;
	total = s->http.total_pages;
	more = total >= 0 ? total > w->page_no : pg.rows >= s->c->api.batch;
	if (more && !pg.taken) {
		w->page_since = m.after.time;
		w->page_no++;
	} else {
		w->page_no = 1;
	}
	return more;
}

static int woo_poll(void *state, struct cd_source_run *run, struct cd_error *err)
{
	struct woo_source *s = state;
	int rc;

	if (!s->c->key || !s->c->secret || !*s->c->key || !*s->c->secret)
		return cd_error_set(err, CD_ECONFIG, NULL, 0, "no consumer key or secret (key_file "
				    "or secret_file is empty or was not read)");
	rc = woo_page(s, &s->orders, run, err);
	/* reviews once the orders have caught up: they name those orders */
	if (rc == 0 && s->c->api.feedback)
		rc = woo_page(s, &s->reviews, run, err);
	return rc;
}

const struct cd_source_type cd_source_woocommerce = {
	.name = "woocommerce", .settings = woo_settings,
	.parse = woo_parse, .print = woo_print, .free_conf = woo_free_conf,
	.open = woo_open, .poll = woo_poll, .close = woo_close,
};
