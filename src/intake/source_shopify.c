/*
 * source_shopify.c - the shopify source: a shop's orders from the Admin
 * GraphQL API (the REST Admin API is legacy). Each poll asks for the
 * orders updated at or after the stream's cursor, sorted by update
 * time, one page (batch) at a time; the page's rows are mapped
 * (source_api_map.c) and written with the cursor of the last one. A
 * page whose rows were all taken already (many orders changed in the
 * same second) is followed by pageInfo.endCursor instead. The access
 * token comes from token_file and goes only into the
 * X-Shopify-Access-Token header. Shopify's cost throttle is respected:
 * the next query waits until the bucket holds what it costs, and a
 * THROTTLED answer or a 429 waits as the shop says.
 *
 * Also the glue both API types use to hand a page to the runner.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config_parse.h"
#include "candor/order.h"
#include "candor/source_impl.h"
#include "candor/store_order.h"
#include "candor/util.h"
#include "source_api.h"

/* ---- the glue ------------------------------------------------------------------------ */

struct glue {
	struct cd_source_run *run;
};

static int put_order(void *arg, const struct cd_order *o, const char *key, const char *bad,
		     struct cd_error *err)
{
	struct cd_source_run *run = arg;

	if (bad) {
		cd_source_problem(run, key, "%s", bad);
		return 0;
	}
	return cd_source_put_order(run, o, key, err);
}

static int put_review(void *arg, struct cd_feedback *f, const char *email, const char *key,
		      struct cd_error *err)
{
	struct cd_source_run *run = arg;
	struct cd_store *st;
	char *id = NULL;
	int rc;

	if (!email || !*email) {
		cd_source_problem(run, key, "the review names no e-mail address");
		return 0;
	}
	if (cd_source_run_testing(run)) {
		f->order_id = "(the customer's latest order, matched when written)";
		return cd_source_put_feedback(run, f, key, err);
	}
	if (!(st = cd_source_run_store(run, err)))
		return CD_ESTORE;
	if ((rc = cd_store_order_latest_of(st, email, f->received, &id)) < 0)
		return cd_error_set(err, CD_ESTORE, NULL, 0, "cannot read orders");
	if (rc == 0) {
		cd_source_problem(run, key, "matches no order of this customer in candor's store");
		return 0;
	}
	f->order_id = id;
	rc = cd_source_put_feedback(run, f, key, err);
	free(id);
	return rc;
}

static void put_note(void *arg, const char *text)
{
	cd_source_note(arg, "%s", text);
}

void api_map_for_run(struct api_map *m, struct cd_source_run *run, const char *stream,
		     const char *channel)
{
	const char *time, *key;
	int64_t t = 0;

	cd_source_run_cursor(run, stream, &time, &key);
	cd_util_parse_time(time, &t);
	*m = (struct api_map){
		.now = cd_util_now(), .channel = channel && *channel ? channel : NULL,
		.after = { t, strtoll(key, NULL, 10) }, .arg = run,
		.order = put_order, .review = put_review, .note = put_note,
	};
}

int api_commit(struct cd_source_run *run, const char *stream, const struct api_page *pg,
	       struct cd_error *err)
{
	char t[32], k[32];

	/* nothing new: nothing is written (an idle poll writes nothing) */
	if (!pg->taken)
		return 0;
	api_format_time(pg->last.time, 0, t, sizeof(t));
	snprintf(k, sizeof(k), "%lld", (long long)pg->last.key);
	return cd_source_commit(run, stream, t, k, err);
}

int64_t api_refused_pause_ms(struct cd_source_run *run)
{
	int64_t p = cd_source_run_conf(run)->poll_interval;

	return (p > 900 ? p : 900) * 1000;
}

int api_plain_host(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");

	if (n == 0 || s[0] == '.' || s[0] == '-')
		return 0;
	if (!s[n])
		return 1;
	return s[n] == ':' && strlen(s + n + 1) >= 1 && strlen(s + n + 1) <= 5 &&
	       strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

/* ---- settings ------------------------------------------------------------------------ */

struct shopify_conf {
	struct api_conf api;
	char *shop, *token_file, *api_version;
	char *token;             /* secret, or NULL */
};

static const char *const shopify_settings[] = {
	"shop", "token_file", "api_version", "tls_ca", "timeout", "batch", "max_response",
	"channel", NULL,
};

static void shopify_parse(struct cd_config_loader *ld, struct cd_source_conf *sc,
			  const config_setting_t *g, const char *dp)
{
	struct shopify_conf *c = calloc(1, sizeof(*c));
	char sp[96];

	if (!(sc->priv = c)) {
		cd_cfg_oom(ld);
		return;
	}
	/* GraphQL pages hold at most 250 nodes; 100 keeps a page's cost low */
	api_conf_parse(ld, &c->api, g, dp, 250);
	if (!config_setting_get_member(g, "batch"))
		c->api.batch = 100;
	c->shop = cd_cfg_string(ld, g, dp, "shop", NULL, 1);
	snprintf(sp, sizeof(sp), "%s.shop", dp);
	if (c->shop && *c->shop && !api_plain_host(c->shop))
		cd_cfg_report(ld, config_setting_get_member(g, "shop"), sp,
			      "shop \"%s\" must be the shop's host name, e.g. \"example.myshopify.com\"",
			      c->shop);
	c->api_version = cd_cfg_string(ld, g, dp, "api_version", "2025-07", 1);
	snprintf(sp, sizeof(sp), "%s.api_version", dp);
	if (c->api_version && (strlen(c->api_version) != 7 ||
			       strspn(c->api_version, "0123456789-") != 7 || c->api_version[4] != '-'))
		cd_cfg_report(ld, config_setting_get_member(g, "api_version"), sp,
			      "api_version \"%s\" is not a Shopify API version such as \"2025-07\"",
			      c->api_version);
	c->token_file = cd_cfg_path(ld, g, dp, "token_file");
	if (c->token_file && !*c->token_file)
		cd_cfg_report(ld, g, dp, "a shopify source needs token_file (the Admin API "
			      "access token, read_orders)");
	c->token = cd_cfg_secret(ld, g, dp, c->token_file);
}

static void shopify_print(const struct cd_source_conf *sc, FILE *out, const char *in)
{
	const struct shopify_conf *c = sc->priv;

	cd_cfg_put_string(out, in, "shop", c->shop);
	cd_cfg_put_string(out, in, "api_version", c->api_version);
	cd_cfg_put_string(out, in, "token_file", c->token_file);
	if (c->token)
		fprintf(out, "%s# token: ******** (read from token_file)\n", in);
	api_conf_print(&c->api, out, in);
}

static void shopify_free_conf(struct cd_source_conf *sc)
{
	struct shopify_conf *c = sc->priv;

	cd_cfg_free_secret(c->token);
	api_conf_free(&c->api);
	free(c->shop);
	free(c->token_file);
	free(c->api_version);
	free(c);
	sc->priv = NULL;
}

/* ---- polling ------------------------------------------------------------------------- */

struct shopify_source {
	const struct shopify_conf *c;
	struct api_http http;
	char url[512], shown[512];
	char after[512];         /* endCursor to follow, for the query from AFTER_SINCE */
	int64_t after_since;
	/* the next page, asked for from PENDING_SINCE while this one is written */
	int pending;
	int64_t pending_since;
	int testing;
};

static int shopify_open(const struct cd_source_conf *sc, void **state, struct cd_error *err)
{
	struct shopify_source *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	s->c = sc->priv;
	if ((rc = api_http_open(&s->http, &s->c->api, err)) < 0) {
		free(s);
		return rc;
	}
	snprintf(s->url, sizeof(s->url), "https://%s/admin/api/%s/graphql.json", s->c->shop,
		 s->c->api_version);
	snprintf(s->shown, sizeof(s->shown), "%s", s->url);
	*state = s;
	return 0;
}

static void shopify_close(void *state)
{
	struct shopify_source *s = state;

	if (!s)
		return;
	api_http_close(&s->http);
	free(s);
}

/* Send the query for the orders from SINCE (page AFTER, or the first). */
static int ask(struct shopify_source *s, int64_t since, const char *after, struct cd_error *err)
{
	char hdr[600];
	const char *headers[] = { hdr, NULL };
	char *body;
	int rc;

	if (!(body = api_shopify_query(since, s->c->api.batch, after)))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	snprintf(hdr, sizeof(hdr), "X-Shopify-Access-Token: %.500s", s->c->token);
	rc = api_http_start(&s->http, s->url, s->shown, headers, NULL, NULL, body, err);
	cd_util_wipe(hdr, sizeof(hdr));
	free(body);
	return rc;
}

/* A page is parsed and more follow: the next is asked for now, from
 * this page's last row (the cursor it commits), and read by the next
 * poll while the shop was working on it as candor wrote this one. */
static void read_ahead(void *arg, const struct api_cursor *last, int has_next)
{
	struct shopify_source *s = arg;
	struct cd_error e;

	if (!has_next || s->testing || s->after[0])
		return;
	if (ask(s, last->time, NULL, &e) == 0) {
		s->pending = 1;
		s->pending_since = last->time;
	}
}

/* A 429, or the throttle in the answer: more to read, after a wait. */
static int throttled(struct cd_source_run *run, int64_t ms, const char *how)
{
	char why[120];

	snprintf(why, sizeof(why), "throttled by the shop (%s)", how);
	cd_source_wait(run, ms, why);
	return 1;
}

static int shopify_poll(void *state, struct cd_source_run *run, struct cd_error *err)
{
	struct shopify_source *s = state;
	char how[64];
	struct api_page pg;
	struct api_map m;
	int rc;

	if (!s->c->token || !*s->c->token)
		return cd_error_set(err, CD_ECONFIG, NULL, 0, "no access token (token_file %s is "
				    "empty or was not read)", s->c->token_file);
	api_map_for_run(&m, run, "orders", s->c->api.channel);
	if (s->after[0] && s->after_since != m.after.time)
		s->after[0] = 0;
	s->testing = cd_source_run_testing(run);
	/* the page read ahead is this poll's when it was asked from the
	 * cursor committed since; otherwise it is dropped */
	if (!(s->pending && s->http.busy && !s->after[0] && s->pending_since == m.after.time) &&
	    (rc = ask(s, m.after.time, s->after[0] ? s->after : NULL, err)) < 0)
		return rc;
	s->pending = 0;
	rc = api_http_finish(&s->http, err);
	m.parsed = read_ahead;
	m.parg = s;
	if (rc == API_THROTTLED) {
		snprintf(how, sizeof(how), "HTTP 429, Retry-After %llds",
			 (long long)(s->http.retry_after >= 0 ? s->http.retry_after : 2));
		return throttled(run, (s->http.retry_after >= 0 ? s->http.retry_after : 2) * 1000, how);
	}
	if (rc == API_REFUSED) {
		cd_source_wait(run, api_refused_pause_ms(run), "credentials refused");
		return CD_EPROTO;
	}
	if (rc < 0) {
		s->after[0] = 0;
		return rc;
	}
	if ((rc = api_shopify_page(s->http.body.data, s->http.body.len, &m, &pg, err)) < 0) {
		s->after[0] = 0;
		return rc;
	}
	if (pg.throttled)
		return throttled(run, pg.wait_ms, "cost throttle");
	if (pg.error[0]) {
		if (pg.refused)
			cd_source_wait(run, api_refused_pause_ms(run), "access denied");
		return cd_error_set(err, CD_EPROTO, NULL, 0, "%s: %s%s", s->shown, pg.error,
				    pg.refused ? "; polling paused" : "");
	}
	if ((rc = api_commit(run, "orders", &pg, err)) < 0)
		return rc;
	if (pg.wait_ms)
		cd_source_wait(run, pg.wait_ms, "waiting for Shopify's cost bucket to refill");
	/* a page of rows taken before: follow it; else query afresh from
	 * the cursor just committed, which orders changed meanwhile cannot
	 * move past */
	s->after[0] = 0;
	if (pg.has_next && !pg.taken && pg.end_cursor[0]) {
		snprintf(s->after, sizeof(s->after), "%s", pg.end_cursor);
		s->after_since = m.after.time;
	}
	return pg.has_next;
}

const struct cd_source_type cd_source_shopify = {
	.name = "shopify", .settings = shopify_settings,
	.parse = shopify_parse, .print = shopify_print, .free_conf = shopify_free_conf,
	.open = shopify_open, .poll = shopify_poll, .close = shopify_close,
};
