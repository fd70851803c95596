/*
 * import.c - read order and feedback files into the store. Every format
 * is turned into the same array of field values per row, and those into
 * one struct cd_order (or cd_feedback), checked by intake's verbs and
 * written by the store's, so the formats differ only in how a row
 * becomes values. The exports that spread an order over several rows
 * (Shopify's, WooCommerce's per-item layout) are grouped back into one
 * order here; the WooCommerce layouts are read in import_woo.c.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>

#include "candor/buf.h"
#include "candor/config.h"
#include "candor/csv.h"
#include "candor/import.h"
#include "candor/order_check.h"
#include "candor/store.h"
#include "candor/store_order.h"
#include "candor/util.h"
#include "import_woo.h"
#include "source_sql.h"

enum { FB_ORDER_ID, FB_RATING, FB_COMMENT, FB_SOURCE, FB_RECEIVED, NF_FEEDBACK };
#define NF_MAX NF_ORDER

static const char *const order_fields[NF_ORDER] = {
	"order_id", "channel", "customer_id", "first_name", "name", "email",
	"locale", "country", "timezone", "items", "total", "currency",
	"purchased", "shipped", "delivered", "status",
};
static const char *const feedback_fields[NF_FEEDBACK] = {
	"order_id", "rating", "comment", "source", "received",
};

/* Shopify columns beyond the one-to-one ones. */
enum { S_FIN, S_FUL, S_CANCEL, S_LINAME, S_LIQTY, S_SHIPNAME, S_BILLNAME,
       S_SHIPCOUNTRY, S_BILLCOUNTRY, S_SOURCE, S_LISKU, NS };
static const char *const shopify_cols[NS] = {
	"Financial Status", "Fulfillment Status", "Cancelled at", "Lineitem name",
	"Lineitem quantity", "Shipping Name", "Billing Name", "Shipping Country",
	"Billing Country", "Source", "Lineitem sku",
};

enum format { FMT_GENERIC, FMT_SHOPIFY, FMT_JSONL, FMT_WOO };
static const char *const format_names[] = { "generic CSV", "Shopify CSV", "JSON Lines", NULL };

struct group {            /* the rows of one Shopify or WooCommerce order */
	char *v[NF_ORDER];    /* order-level values, copied from its first row */
	json_object *items;
	struct cd_buf raw;    /* the rows as read, for the reject file */
	size_t line;
	int bad;
	int64_t rows, reported;   /* rows read, and of those reported bad */
};

struct importer {
	struct cd_store *st;
	const struct cd_import_opts *o;
	cd_import_report_fn report;
	void *arg;
	struct cd_import_stats *stats;
	const char *name;
	enum format fmt;
	int col[NF_MAX];
	int scol[NS];
	struct woo_map woo;
	FILE *reject;
	struct group g;
	int64_t last_progress_ms, start_ms;
	int64_t now;          /* the outlook's clock, read once */
};

static int nfields(const struct importer *im)
{
	return im->o->kind == CD_IMPORT_ORDERS ? NF_ORDER : NF_FEEDBACK;
}

static int bad_row(struct importer *im, size_t line, const char *raw, size_t rawlen,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Report a bad row and, with a reject file, keep it there untouched. */
static int bad_row(struct importer *im, size_t line, const char *raw, size_t rawlen,
		   const char *fmt, ...)
{
	struct cd_error e;
	va_list ap;

	cd_error_clear(&e);
	e.code = CD_EINVAL;
	snprintf(e.file, sizeof(e.file), "%s", im->name);
	e.line = (int)line;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	im->stats->rejected++;
	if (im->report)
		im->report(im->arg, &e);
	if (im->reject && raw && fwrite(raw, 1, rawlen, im->reject) != rawlen)
		return CD_EIO;
	return 0;
}

/* ---- rows into orders and feedback --------------------------------------- */

static const char *given(const char *v)
{
	return v && *v ? v : NULL;
}

/* V shortened to MAX characters and escaped, for a message. */
static const char *echo(const char *v, size_t max, char *out, size_t len)
{
	return cd_util_escape(v, strlen(v), max, out, len);
}

/* A status in WooCommerce's words ("processing", "On hold", "wc-completed")
 * in candor's, by the same table as the WooCommerce database preset; V
 * itself when it is candor's or no WooCommerce word (the check says so). */
static const char *woo_status(const char *v, char *buf, size_t len)
{
	const char *c;
	size_t n = 0;

	if (!v || cd_order_status_parse(v) != CD_ORDER_NSTATUSES)
		return v;
	if (strncasecmp(v, "wc-", 3) != 0)
		n = (size_t)snprintf(buf, len, "wc-");
	for (const char *p = v; *p && n + 1 < len; p++)
		buf[n++] = *p == ' ' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	buf[n] = '\0';
	c = sql_status_find(sql_preset_find("woocommerce"), buf);
	return c ? c : v;
}

/* V as an order into O, cleaned (its copies in C); why it cannot be
 * stored, or NULL. Without a locale, the order's country gives one,
 * used only where none is stored (a re-import without the column keeps
 * the customer's language). */
static const char *to_order(const char *const *v, struct cd_order *o, struct cd_order_clean *c,
			    char *why, size_t len)
{
	static const int dates[] = { F_PURCHASED, F_SHIPPED, F_DELIVERED };
	int64_t *t[] = { &o->purchased, &o->shipped, &o->delivered };
	const char *r;
	char shown[200], status[40];
	int bad = -1;

	*o = (struct cd_order){
		.id = given(v[F_ORDER_ID]), .channel = given(v[F_CHANNEL]),
		.customer_id = given(v[F_CUSTOMER_ID]), .first_name = given(v[F_FIRST_NAME]),
		.name = given(v[F_NAME]), .email = given(v[F_EMAIL]), .locale = given(v[F_LOCALE]),
		.country = given(v[F_COUNTRY]), .timezone = given(v[F_TIMEZONE]),
		.items = given(v[F_ITEMS]), .total = given(v[F_TOTAL]),
		.currency = given(v[F_CURRENCY]),
		.status = woo_status(given(v[F_STATUS]), status, sizeof(status)),
	};
	if (!o->locale && o->country)
		o->locale_guess = sql_country_locale(o->country);
	for (int i = 0; i < 3; i++)
		if (given(v[dates[i]]) && cd_util_parse_time(v[dates[i]], t[i]) < 0 && bad < 0)
			bad = dates[i];
	if (bad < 0)
		return (r = cd_order_clean(o, c, why, len)) ? r : cd_order_check(o, why, len);
	/* A date that is none never reaches the order. It is reported after
	 * the order's id and email and before the rest, as it always was. */
	if ((r = cd_order_check(&(struct cd_order){ .id = o->id, .email = o->email }, why, len)))
		return r;
	snprintf(why, len, "bad date in %s: \"%s\" (use 2026-11-20, "
		 "2026-11-20 14:05:00 +0100 or Unix seconds)", order_fields[bad],
		 echo(v[bad], 60, shown, sizeof(shown)));
	return why;
}

/* V as feedback into F, cleaned (its copies in C); why it cannot be
 * stored, or NULL. A rating or a date that is none stays 0, which the
 * check refuses. */
static const char *to_feedback(const char *const *v, struct cd_feedback *f,
			       struct cd_order_clean *c, char *why, size_t len)
{
	const char *bad;
	int64_t t = 0;
	long r = 0;
	char *end;

	if (given(v[FB_RATING]) && ((r = strtol(v[FB_RATING], &end, 10)) < 1 || r > 5 || *end))
		r = 0;
	if (given(v[FB_RECEIVED]) && cd_util_parse_time(v[FB_RECEIVED], &t) < 0)
		t = 0;
	*f = (struct cd_feedback){
		.order_id = given(v[FB_ORDER_ID]), .rating = (int)r,
		.comment = given(v[FB_COMMENT]), .source = given(v[FB_SOURCE]), .received = t,
	};
	return (bad = cd_feedback_clean(f, c, why, len)) ? bad : cd_feedback_check(f, why, len);
}

/* ---- what the campaigns will make of it ---------------------------------- */

static void outlook_start(struct importer *im)
{
	const struct cd_config *cfg = im->o->cfg;
	struct cd_import_stats *s = im->stats;

	im->now = im->o->now ? im->o->now : cd_util_now();

	for (size_t i = 0; cfg && i < cfg->ncampaigns && s->noutlook < CD_IMPORT_MAX_OUTLOOK; i++)
		if (cfg->campaigns[i].trigger != CD_TRIGGER_NEGATIVE_FEEDBACK)
			s->outlook[s->noutlook++].campaign = &cfg->campaigns[i];
}

static void count_channel(struct importer *im, const char *name)
{
	struct cd_import_stats *s = im->stats;
	size_t i;

	for (i = 0; i < s->nchannels; i++)
		if (strcmp(s->channels[i].name, name) == 0)
			break;
	if (i == s->nchannels) {
		if (i == CD_IMPORT_MAX_CHANNELS) {
			s->other_channels++;
			return;
		}
		snprintf(s->channels[i].name, sizeof(s->channels[i].name), "%s", name);
		s->channels[i].known = im->o->cfg && cd_config_channel(im->o->cfg, name) != NULL;
		s->nchannels++;
	}
	s->channels[i].orders++;
}

/* Count order O (its locale as the row gave it: GIVEN) in the outlook. */
static void outlook_add(struct importer *im, const struct cd_order *o, const char *given_locale)
{
	struct cd_import_stats *s = im->stats;
	enum cd_order_status st = o->status ? cd_order_status_parse(o->status) : CD_ORDER_OPEN;
	int64_t now = im->now;

	if (!given_locale)
		*(o->locale || o->locale_guess ? &s->locale_from_country : &s->no_locale) += 1;
	count_channel(im, o->channel ? o->channel : "web");
	if (st == CD_ORDER_RETURNED || st == CD_ORDER_REFUNDED || st == CD_ORDER_CANCELLED) {
		s->closed++;
		return;
	}
	for (size_t i = 0; i < s->noutlook; i++) {
		const struct cd_campaign *cp = s->outlook[i].campaign;
		int64_t t = cp->trigger == CD_TRIGGER_SHIPPED ? o->shipped : o->delivered;

		if (!t)
			s->outlook[i].no_date++;
		else if (t < now - cp->expire)
			s->outlook[i].expired++;
		else
			s->outlook[i].can_mail++;
	}
}

/* Check V and write it, or report the row. */
static int take(struct importer *im, const char *const *v, size_t line,
		const char *raw, size_t rawlen, struct cd_error *err)
{
	struct cd_order_clean c = { 0 };
	char why[400], shown[200];
	const char *bad;
	int rc;

	if (im->o->kind == CD_IMPORT_ORDERS) {
		struct cd_order o;

		if ((bad = to_order(v, &o, &c, why, sizeof(why))))
			rc = bad_row(im, line, raw, rawlen, "%s", bad);
		else if ((rc = cd_store_order_upsert(im->st, &o, cd_util_now(), err)) == 0)
			outlook_add(im, &o, given(v[F_LOCALE]));
	} else {
		struct cd_feedback f;

		if ((bad = to_feedback(v, &f, &c, why, sizeof(why))))
			rc = bad_row(im, line, raw, rawlen, "%s", bad);
		else if ((rc = cd_store_order_exists(im->st, f.order_id)) < 0)
			rc = cd_store_fail(im->st, err, "cannot read orders");
		else if (rc == 0)
			bad = "", rc = bad_row(im, line, raw, rawlen, "unknown order \"%s\"",
					       echo(f.order_id, 100, shown, sizeof(shown)));
		else
			rc = cd_store_feedback_add(im->st, &f, err);
	}
	cd_order_clean_free(&c);
	if (rc < 0 || bad)
		return rc;
	im->stats->records++;
	return 0;
}

static void progress(struct importer *im, int final)
{
	int64_t now = cd_util_mono_ms();
	double secs;

	if (!im->o->progress || (!final && now - im->last_progress_ms < 500))
		return;
	im->last_progress_ms = now;
	secs = (double)(now - im->start_ms) / 1000.0;
	fprintf(stderr, "\r%lld rows, %.0f rows/s%s", (long long)im->stats->rows,
		secs > 0 ? (double)im->stats->rows / secs : 0.0, final ? "\n" : "");
}

/* ---- CSV ------------------------------------------------------------------- */

static int find_col(const struct cd_csv_record *h, const char *name)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (strcmp(h->fields[i], name) == 0)
			return (int)i;
	return -1;
}

static int map_generic(struct importer *im, const struct cd_csv_record *h,
		       struct cd_error *err)
{
	const char *const *names = im->o->kind == CD_IMPORT_ORDERS ? order_fields : feedback_fields;
	int n = nfields(im);

	for (int f = 0; f < n; f++)
		im->col[f] = find_col(h, names[f]);
	for (size_t i = 0; i < h->nfields; i++) {
		int known = 0;

		for (int f = 0; f < n; f++)
			known |= strcmp(h->fields[i], names[f]) == 0;
		if (!known) {
			char shown[200];

			return cd_error_set(err, CD_EINVAL, im->name, (int)h->line,
					    "unknown column \"%s\" in the header",
					    echo(h->fields[i], 60, shown, sizeof(shown)));
		}
	}
	return 0;
}

static int map_header(struct importer *im, const struct cd_csv_record *h,
		      struct cd_error *err)
{
	int rc;

	if (im->o->kind == CD_IMPORT_ORDERS && find_col(h, "Name") >= 0 &&
	    find_col(h, "Lineitem name") >= 0) {
		im->fmt = FMT_SHOPIFY;
		for (int f = 0; f < NF_ORDER; f++)
			im->col[f] = -1;
		im->col[F_ORDER_ID] = find_col(h, "Name");
		im->col[F_EMAIL] = find_col(h, "Email");
		im->col[F_TOTAL] = find_col(h, "Total");
		im->col[F_CURRENCY] = find_col(h, "Currency");
		im->col[F_PURCHASED] = find_col(h, "Created at");
		im->col[F_SHIPPED] = find_col(h, "Fulfilled at");
		for (int s = 0; s < NS; s++)
			im->scol[s] = find_col(h, shopify_cols[s]);
		return 0;
	}
	if (im->o->kind == CD_IMPORT_ORDERS && (rc = woo_detect(h, &im->woo)) != 0) {
		if (rc < 0)
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		im->fmt = FMT_WOO;
		return 0;
	}
	if (find_col(h, "order_id") < 0)
		return cd_error_set(err, CD_EINVAL, im->name, (int)h->line,
				    "unknown header: expected candor's columns (order_id,email,...; "
				    "see README), a Shopify or a WooCommerce orders export");
	im->fmt = FMT_GENERIC;
	return map_generic(im, h, err);
}

static const char *cell(const struct cd_csv_record *r, int col)
{
	return col >= 0 && (size_t)col < r->nfields ? r->fields[col] : NULL;
}

static void group_clear(struct group *g)
{
	for (int i = 0; i < NF_ORDER; i++) {
		free(g->v[i]);
		g->v[i] = NULL;
	}
	json_object_put(g->items);
	g->items = NULL;
	g->raw.len = 0;
	g->bad = 0;
	g->rows = g->reported = 0;
}

/* Shopify spreads an order over its line items: status from Financial,
 * Fulfillment and Cancelled columns of the first row. */
static const char *shopify_status(const struct importer *im, const struct cd_csv_record *r)
{
	const char *fin = cell(r, im->scol[S_FIN]), *ful = cell(r, im->scol[S_FUL]);
	const char *cancel = cell(r, im->scol[S_CANCEL]);

	if (cancel && *cancel)
		return "cancelled";
	if (fin && (strcmp(fin, "refunded") == 0 || strcmp(fin, "voided") == 0))
		return "refunded";
	if (ful && strcmp(ful, "fulfilled") == 0)
		return "shipped";
	if (fin && strcmp(fin, "paid") == 0)
		return "paid";
	return "open";
}

static void add_item(struct group *g, const char *name, const char *qty,
		     const char *sku)
{
	json_object *it;

	if (!name || !*name)
		return;
	if (!g->items)
		g->items = json_object_new_array();
	it = json_object_new_object();
	json_object_object_add(it, "name", json_object_new_string(name));
	json_object_object_add(it, "quantity", json_object_new_int(qty && *qty ? atoi(qty) : 1));
	if (sku && *sku)
		json_object_object_add(it, "sku", json_object_new_string(sku));
	json_object_array_add(g->items, it);
}

static int flush_group(struct importer *im, struct cd_error *err)
{
	struct group *g = &im->g;
	const char *v[NF_ORDER];
	int64_t rejected = im->stats->rejected - g->reported;
	int rc = 0;

	if (!g->v[F_ORDER_ID])
		return 0;
	for (int i = 0; i < NF_ORDER; i++)
		v[i] = g->v[i];
	if (g->items)
		v[F_ITEMS] = json_object_to_json_string_ext(g->items, JSON_C_TO_STRING_PLAIN);
	if (g->bad)
		rc = im->reject && fwrite(g->raw.data, 1, g->raw.len, im->reject) != g->raw.len
		     ? CD_EIO : 0;
	else
		rc = take(im, v, g->line, g->raw.data, g->raw.len, err);
	/* the rejected count says how many rows the reject file got */
	if (im->stats->rejected > rejected)
		im->stats->rejected = rejected + g->rows;
	group_clear(g);
	return rc;
}

/* First row of a Shopify order: copy its order-level values. */
static int start_shopify(struct importer *im, const struct cd_csv_record *r)
{
	struct group *g = &im->g;
	const char *name = cell(r, im->scol[S_SHIPNAME]);
	const char *country = cell(r, im->scol[S_SHIPCOUNTRY]);

	if (!name || !*name)
		name = cell(r, im->scol[S_BILLNAME]);
	if (!country || !*country)
		country = cell(r, im->scol[S_BILLCOUNTRY]);
	for (int f = 0; f < NF_ORDER; f++)
		g->v[f] = cell(r, im->col[f]) ? strdup(cell(r, im->col[f])) : NULL;
	g->v[F_NAME] = name && *name ? strdup(name) : NULL;
	g->v[F_FIRST_NAME] = name && *name ? strndup(name, strcspn(name, " ")) : NULL;
	g->v[F_COUNTRY] = country && *country ? strdup(country) : NULL;
	g->v[F_STATUS] = strdup(shopify_status(im, r));
	g->v[F_CHANNEL] = strdup("shopify");
	return g->v[F_ORDER_ID] && g->v[F_STATUS] && g->v[F_CHANNEL] ? 0 : CD_ENOMEM;
}

/* The order number of a grouped row; NULL when blank. */
static const char *group_id(const struct importer *im, const struct cd_csv_record *r)
{
	const char *id = im->fmt == FMT_WOO ? woo_order_id(&im->woo, r)
			 : cell(r, im->col[F_ORDER_ID]);

	return id && *id ? id : NULL;
}

/* The items of a grouped row into the group; NULL or why they are bad. */
static const char *group_items(struct importer *im, const struct cd_csv_record *r,
			       char *why, size_t len)
{
	if (im->fmt == FMT_WOO)
		return woo_items(&im->woo, r, &im->g.items, why, len);
	add_item(&im->g, cell(r, im->scol[S_LINAME]), cell(r, im->scol[S_LIQTY]),
		 cell(r, im->scol[S_LISKU]));
	return NULL;
}

/* One row of an order spread over rows. WHY, when set, says the row is
 * bad: the whole order is then rejected, all its rows together, so no
 * order is imported without the row that carried its status and totals,
 * nor with an item missing. A WooCommerce per-item export may leave the
 * order's columns blank on its later rows: those continue the order
 * above. */
static int group_row(struct importer *im, const struct cd_csv_record *r,
		     const char *why, struct cd_error *err)
{
	const char *id = group_id(im, r);
	char whybuf[400];
	int rc = 0;

	if (!id && im->fmt == FMT_WOO && im->woo.per_item && im->g.v[F_ORDER_ID])
		id = im->g.v[F_ORDER_ID];
	if (!id) {
		if (why)
			return bad_row(im, r->line, r->raw, r->rawlen, "%s", why);
		return bad_row(im, r->line, r->raw, r->rawlen, "missing order number (%s)",
			       im->fmt == FMT_WOO ? im->woo.id_name : "Name");
	}
	if (!im->g.v[F_ORDER_ID] || strcmp(im->g.v[F_ORDER_ID], id) != 0) {
		if ((rc = flush_group(im, err)) < 0)
			return rc;
		rc = im->fmt == FMT_WOO ? woo_values(&im->woo, r, im->g.v) : start_shopify(im, r);
		if (rc < 0)
			return cd_error_set(err, CD_ENOMEM, im->name, (int)r->line, "out of memory");
		im->g.line = r->line;
	}
	cd_buf_add(&im->g.raw, r->raw, r->rawlen);
	im->g.rows++;
	if (!why)
		why = group_items(im, r, whybuf, sizeof(whybuf));
	if (why) {
		im->g.bad = 1;
		im->g.reported++;
		return bad_row(im, r->line, NULL, 0, "%s", why);
	}
	return 0;
}

static int generic_row(struct importer *im, const struct cd_csv_record *r,
		       struct cd_error *err)
{
	const char *v[NF_MAX] = { 0 };
	int n = nfields(im);

	for (int f = 0; f < n; f++)
		v[f] = cell(r, im->col[f]);
	return take(im, v, r->line, r->raw, r->rawlen, err);
}

/* A row's bytes must be UTF-8 before any of it is looked at. */
static int csv_row(struct importer *im, struct cd_csv_record *r, size_t ncols,
		   struct cd_error *err)
{
	char why[160] = "";

	/* a NUL would end a field early without a word: say it */
	if (memchr(r->raw, '\0', r->rawlen))
		snprintf(why, sizeof(why), "a NUL character (U+0000) in the row; NUL and other "
			 "control characters are refused");
	else if (!cd_util_utf8_valid(r->raw, r->rawlen))
		snprintf(why, sizeof(why), "not valid UTF-8 text");
	else if (r->nfields != ncols)
		snprintf(why, sizeof(why), "%zu fields, but the header has %zu", r->nfields, ncols);
	if (im->fmt == FMT_SHOPIFY || im->fmt == FMT_WOO)
		return group_row(im, r, *why ? why : NULL, err);
	if (*why)
		return bad_row(im, r->line, r->raw, r->rawlen, "%s", why);
	return generic_row(im, r, err);
}

static int import_csv(struct importer *im, FILE *fp, struct cd_error *err)
{
	struct cd_csv *csv = NULL;
	struct cd_csv_record rec, hdr;
	char **header = NULL;
	size_t ncols = 0;
	int rc;

	if (cd_csv_open(fp, im->name, &csv) < 0)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	rc = cd_csv_next(csv, &hdr, err);
	if (rc == 0)
		rc = cd_error_set(err, CD_EINVAL, im->name, 1, "empty file: no header line");
	if (rc < 0)
		goto out;
	ncols = hdr.nfields;
	if ((rc = map_header(im, &hdr, err)) < 0)
		goto out;
	if (im->reject && fwrite(hdr.raw, 1, hdr.rawlen, im->reject) != hdr.rawlen) {
		rc = cd_error_set(err, CD_EIO, im->o->reject, 0, "cannot write: %s", strerror(errno));
		goto out;
	}
	while ((rc = cd_csv_next(csv, &rec, err)) != 0) {
		im->stats->rows++;
		if (rc == CD_EINVAL)
			rc = bad_row(im, rec.line, rec.raw, rec.rawlen, "%s", err->msg);
		else if (rc > 0)
			rc = csv_row(im, &rec, ncols, err);
		if (rc < 0)
			goto out;
		progress(im, 0);
	}
	rc = flush_group(im, err);
out:
	free(header);
	cd_csv_close(csv);
	return rc;
}

/* ---- JSON Lines ---------------------------------------------------------- */

static int json_field(const struct importer *im, const char *key)
{
	const char *const *names = im->o->kind == CD_IMPORT_ORDERS ? order_fields : feedback_fields;

	for (int f = 0; f < nfields(im); f++)
		if (strcmp(key, names[f]) == 0)
			return f;
	return -1;
}

static int json_row(struct importer *im, const char *line, size_t len, size_t lineno,
		    struct cd_error *err)
{
	const char *v[NF_MAX] = { 0 };
	enum json_tokener_error jerr;
	json_object *obj;
	int rc;

	if (!cd_util_utf8_valid(line, len))
		return bad_row(im, lineno, line, len, "not valid UTF-8 text");
	obj = json_tokener_parse_verbose(line, &jerr);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return bad_row(im, lineno, line, len, "not a JSON object%s%s",
			       obj ? "" : ": ", obj ? "" : json_tokener_error_desc(jerr));
	}
	json_object_object_foreach(obj, key, val) {
		int f = json_field(im, key);

		if (f < 0) {
			char shown[200];

			rc = bad_row(im, lineno, line, len, "unknown key \"%s\"",
				     echo(key, 60, shown, sizeof(shown)));
			goto out;
		}
		/* "\u0000" would cut the value short without a word: say it */
		if (val && json_object_is_type(val, json_type_string) &&
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val)) {
			rc = bad_row(im, lineno, line, len, "%s has a control character (U+0000); "
				     "NUL and other control characters are refused", key);
			goto out;
		}
		if (val && !json_object_is_type(val, json_type_null))
			v[f] = json_object_is_type(val, json_type_string)
				? json_object_get_string(val)
				: json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	rc = take(im, v, lineno, line, len, err);
out:
	json_object_put(obj);
	return rc;
}

static int import_jsonl(struct importer *im, FILE *fp, struct cd_error *err)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		im->stats->rows++;
		if (lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
			memmove(line, line + 3, (size_t)(n -= 3) + 1);
		rc = json_row(im, line, (size_t)n, lineno, err);
		progress(im, 0);
	}
	free(line);
	return rc;
}

/* ---- the whole import ------------------------------------------------------ */

static int detect_jsonl(const char *path, FILE *fp)
{
	const char *dot = strrchr(path, '.');
	int c;

	if (dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0))
		return 1;
	while ((c = getc(fp)) == ' ' || c == '\n' || c == '\r' || c == '\t' ||
	       c == 0xEF || c == 0xBB || c == 0xBF)
		;
	if (c != EOF)
		ungetc(c, fp);
	return c == '{';
}

/* Orders or feedback entries stored; 0 when the store cannot say. */
static int64_t stored(struct importer *im)
{
	int64_t n = 0;

	if (im->o->kind == CD_IMPORT_ORDERS)
		cd_store_order_count(im->st, &n);
	else
		cd_store_feedback_count(im->st, &n);
	return n;
}

static int run(struct importer *im, FILE *fp, struct cd_error *err)
{
	int64_t before = stored(im);
	int rc;

	if ((rc = cd_store_begin(im->st, err)) < 0)
		return rc;
	im->fmt = detect_jsonl(im->o->path, fp) ? FMT_JSONL : FMT_GENERIC;
	rc = im->fmt == FMT_JSONL ? import_jsonl(im, fp, err) : import_csv(im, fp, err);
	im->stats->format = im->fmt == FMT_WOO ? im->woo.format : format_names[im->fmt];
	if (rc == 0 && ferror(fp))
		rc = cd_error_set(err, CD_EIO, im->name, 0, "read error: %s", strerror(errno));
	if (rc == 0 && im->stats->rejected && !im->reject)
		rc = cd_error_set(err, CD_EINVAL, im->name, 0,
				  "%lld bad row(s); nothing was imported (use --skip-bad FILE to import the good rows)",
				  (long long)im->stats->rejected);
	if (rc < 0) {
		struct cd_import_stats *s = im->stats;

		cd_store_rollback(im->st);
		s->records = s->closed = s->locale_from_country = s->no_locale = 0;
		s->noutlook = s->nchannels = 0;
		s->other_channels = 0;
		return rc;
	}
	if ((rc = cd_store_commit(im->st, err)) < 0)
		return rc;
	im->stats->added = stored(im) - before;
	return 0;
}

int cd_import_run(struct cd_store *st, const struct cd_import_opts *opts,
		  cd_import_report_fn report, void *arg,
		  struct cd_import_stats *stats, struct cd_error *err)
{
	struct importer im = {
		.st = st, .o = opts, .report = report, .arg = arg, .stats = stats,
		.name = strcmp(opts->path, "-") == 0 ? "<stdin>" : opts->path,
	};
	FILE *fp;
	int rc;

	memset(stats, 0, sizeof(*stats));
	stats->format = "unknown";
	fp = strcmp(opts->path, "-") == 0 ? stdin : fopen(opts->path, "rb");
	if (!fp)
		return cd_error_set(err, CD_EIO, opts->path, 0, "cannot read: %s", strerror(errno));
	if (opts->reject && !(im.reject = fopen(opts->reject, "wb"))) {
		rc = cd_error_set(err, CD_EIO, opts->reject, 0, "cannot create: %s", strerror(errno));
		goto out;
	}
	im.start_ms = cd_util_mono_ms();
	if (opts->kind == CD_IMPORT_ORDERS)
		outlook_start(&im);
	rc = run(&im, fp, err);
	progress(&im, 1);
	if (im.reject && fclose(im.reject) != 0 && rc == 0)
		rc = cd_error_set(err, CD_EIO, opts->reject, 0, "cannot write: %s", strerror(errno));
out:
	group_clear(&im.g);
	cd_buf_free(&im.g.raw);
	woo_map_free(&im.woo);
	if (fp != stdin)
		fclose(fp);
	return rc;
}
