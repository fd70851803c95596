/*
 * message.c - turn a due order into a composed mail: variant, token,
 * template data, rendering, MIME. A problem with the templates or the
 * customer's data is a reason to hold the message, never a crash.
 */
#include "config.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/compliance.h"
#include "candor/compose.h"
#include "candor/config.h"
#include "candor/experiment.h"
#include "candor/message.h"
#include "candor/reason.h"
#include "candor/token.h"
#include "candor/util.h"

/* "feedback@shop" + token -> "feedback+TOKEN@shop" */
static char *tagged_address(const char *addr, const char *tag)
{
	const char *at = strchr(addr, '@');
	char *out;

	if (!at || asprintf(&out, "%.*s+%s%s", (int)(at - addr), addr, tag, at) < 0)
		return NULL;
	return out;
}

/* Percent-encode S for a URL query or path: customer-supplied order
 * ids and SKUs cannot add parameters or break out of the URL. */
static void put_url_value(struct cd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			cd_buf_addc(b, (char)c);
		} else {
			char esc[3] = { '%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15] };

			cd_buf_add(b, esc, 3);
		}
	}
}

/* A channel URL with {order}, {product} and {token} filled in; NULL (no
 * link) when the template is empty or needs a product it lacks. */
static char *fill_url(const char *tpl, const char *order, const char *product,
		      const char *token)
{
	static const char *const keys[] = { "{order}", "{product}", "{token}" };
	const char *vals[] = { order, product, token };
	struct cd_buf b = { 0 };

	if (!tpl || !*tpl)
		return NULL;
	while (*tpl) {
		int k = -1;

		for (int i = 0; *tpl == '{' && i < 3 && k < 0; i++)
			if (strncmp(tpl, keys[i], strlen(keys[i])) == 0)
				k = i;
		if (k < 0) {
			size_t run = strcspn(tpl + 1, "{") + 1;

			cd_buf_add(&b, tpl, run);
			tpl += run;
			continue;
		}
		if (!vals[k] || !*vals[k]) {
			cd_buf_free(&b);
			return NULL;
		}
		put_url_value(&b, vals[k]);
		tpl += strlen(keys[k]);
	}
	return cd_buf_take(&b);
}

char *cd_message_channel_url(const char *tpl, const char *order, const char *product,
			     const char *token)
{
	return fill_url(tpl, order, product, token);
}

int cd_message_tracks_clicks(const struct cd_config *cfg, const struct cd_channel *ch)
{
	return ch && ch->track_clicks && cfg->http.public_url && *cfg->http.public_url;
}

/* The product (sku) of entry N of the stored items JSON; NULL when there
 * is none. Borrowed from ARR. */
static const char *item_product(json_object *arr, size_t n)
{
	json_object *it, *sku;

	if (!arr || !json_object_is_type(arr, json_type_array) || n >= json_object_array_length(arr))
		return NULL;
	it = json_object_array_get_idx(arr, n);
	if (!json_object_is_type(it, json_type_object) ||
	    !json_object_object_get_ex(it, "sku", &sku))
		return NULL;
	return json_object_get_string(sku);
}

char *cd_message_click_target(const struct cd_config *cfg, const char *channel,
			      const char *order_id, const char *items, const char *token,
			      size_t item)
{
	const struct cd_channel *ch = cd_config_channel(cfg, channel && *channel ? channel : "web");
	json_object *arr;
	char *url;

	if (!cd_message_tracks_clicks(cfg, ch))
		return NULL;
	if (item == 0)
		return fill_url(ch->feedback_url, order_id, NULL, token);
	arr = items ? json_tokener_parse(items) : NULL;
	url = fill_url(ch->review_url, order_id, item_product(arr, item - 1), token);
	json_object_put(arr);
	return url;
}

/* KEY in M: the channel's URL, or when clicks are tracked and that URL
 * exists, ours that redirects to it (/c/TOKEN, /c/TOKEN/ITEM). */
static int set_url(struct cd_tdata *m, const char *key, const char *tpl,
		   const char *order, const char *product, const char *token,
		   const struct cd_config *cfg, const struct cd_channel *ch, size_t item)
{
	char *url = fill_url(tpl, order, product, token);
	int rc;

	if (url && cd_message_tracks_clicks(cfg, ch)) {
		char *ours;
		int n = item ? asprintf(&ours, "%s/c/%s/%zu", cfg->http.public_url, token, item)
			     : asprintf(&ours, "%s/c/%s", cfg->http.public_url, token);

		free(url);
		url = n < 0 ? NULL : ours;
		if (!url)
			return CD_ENOMEM;
	}
	rc = cd_tdata_set_string(m, key, url);
	free(url);
	return rc;
}

/* order.items from the stored JSON; entries that are not objects with a
 * name are left out rather than failing the mail. */
static int add_items(struct cd_tdata *order, const char *json, const struct cd_config *cfg,
		     const struct cd_channel *ch, const char *order_id, const char *token)
{
	struct cd_tdata *list = cd_tdata_set_list(order, "items");
	json_object *arr = json ? json_tokener_parse(json) : NULL;
	int bad = !list;

	for (size_t i = 0; !bad && arr && json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		json_object *it = json_object_array_get_idx(arr, i), *name, *qty, *sku;
		const char *product = NULL;
		struct cd_tdata *m;
		char q[24];

		if (!json_object_object_get_ex(it, "name", &name))
			continue;
		if (json_object_object_get_ex(it, "sku", &sku))
			product = json_object_get_string(sku);
		snprintf(q, sizeof(q), "%d", json_object_object_get_ex(it, "quantity", &qty)
			 ? json_object_get_int(qty) : 1);
		m = cd_tdata_append_map(list);
		bad = !m || cd_tdata_set_string(m, "name", json_object_get_string(name)) ||
		      cd_tdata_set_string(m, "quantity", q) ||
		      cd_tdata_set_string(m, "sku", product) ||
		      set_url(m, "review_url", ch ? ch->review_url : NULL, order_id, product,
			      token, cfg, ch, i + 1);
	}
	json_object_put(arr);
	return bad ? CD_ENOMEM : 0;
}

/* feedback.rating, .comment, .reason and one true flag per reason, so a
 * template can say {{#feedback.is_shipping}}...{{/feedback.is_shipping}}. */
static int add_feedback(struct cd_tdata *d, const struct cd_due_order *o)
{
	enum cd_reason r = cd_reason_classify(o->comment);
	struct cd_tdata *m = cd_tdata_set_map(d, "feedback");
	char rating[8], flag[48];
	int bad = !m;

	snprintf(rating, sizeof(rating), "%d", o->rating);
	if (!bad)
		bad = cd_tdata_set_string(m, "rating", rating) |
		      cd_tdata_set_string(m, "comment", o->comment) |
		      cd_tdata_set_string(m, "reason", cd_reason_name(r));
	snprintf(flag, sizeof(flag), "is_%s", cd_reason_name(r));
	if (!bad)
		bad = cd_tdata_set_bool(m, flag, 1);
	return bad ? CD_ENOMEM : 0;
}

static void format_date(int64_t when, char out[16])
{
	time_t t = (time_t)when;
	struct tm tm;

	out[0] = '\0';
	if (when <= 0)
		return;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static struct cd_tdata *order_data(const struct cd_config *cfg, const struct cd_due_order *o,
				   const struct cd_message *p)
{
	const char *channel = o->order.channel ? o->order.channel : "web";
	const struct cd_channel *ch = cd_config_channel(cfg, channel);
	struct cd_tdata *d = cd_tdata_map(), *m;
	char date[16];
	int bad = !d;

	format_date(o->order.purchased, date);
	if (!bad && (m = cd_tdata_set_map(d, "customer")))
		bad |= cd_tdata_set_string(m, "first_name", o->order.first_name) |
		       cd_tdata_set_string(m, "name", o->order.name);
	if (!bad && (m = cd_tdata_set_map(d, "order")))
		bad |= cd_tdata_set_string(m, "id", o->order.id) |
		       cd_tdata_set_string(m, "date", date) |
		       cd_tdata_set_string(m, "total", o->order.total) |
		       cd_tdata_set_string(m, "currency", o->order.currency) |
		       cd_tdata_set_string(m, "channel", o->order.channel) |
		       add_items(m, o->order.items, cfg, ch, o->order.id, p->token);
	if (!bad && (m = cd_tdata_set_map(d, "shop")))
		bad |= cd_tdata_set_string(m, "name", cfg->shop.name) |
		       cd_tdata_set_string(m, "support", cfg->shop.support) |
		       cd_tdata_set_string(m, "footer", cfg->shop.footer) |
		       cd_tdata_set_safe_string(m, "footer_html", cfg->shop.footer_html);
	if (!bad && (m = cd_tdata_set_map(d, "links")))
		bad |= set_url(m, "feedback", ch ? ch->feedback_url : NULL, o->order.id, NULL,
			       p->token, cfg, ch, 0) |
		       cd_tdata_set_string(m, "unsubscribe", p->unsub_url ? p->unsub_url : p->unsub_uri) |
		       cd_tdata_set_string(m, "unsubscribe_email", p->unsub);
	if (!bad && o->rating > 0)
		bad |= add_feedback(d, o);
	if (bad) {
		cd_tdata_free(d);
		return NULL;
	}
	return d;
}

void cd_message_clear(struct cd_message *p)
{
	free(p->reply_to);
	free(p->unsub);
	free(p->unsub_uri);
	free(p->unsub_url);
	free(p->mail);
	cd_rendered_clear(&p->parts);
	p->reply_to = p->unsub = p->unsub_uri = p->unsub_url = p->mail = NULL;
	p->len = 0;
	p->reason[0] = '\0';
	p->findings = 0;
}

/* A reminder keeps the request's variant, so the experiment stays clean;
 * a variant removed from the config since then falls back to the hash. */
/* A reminder keeps its request's variant; a decided winner takes every
 * new order; else the order's hash picks. */
static const struct cd_variant *variant_for(const struct cd_campaign *cp,
					    const struct cd_due_order *o, const char *winner)
{
	const char *want = o->variant ? o->variant : winner;

	for (size_t i = 0; want && i < cp->nvariants; i++)
		if (strcmp(cp->variants[i].name, want) == 0)
			return &cp->variants[i];
	return cd_experiment_variant(cp, o->order.id);
}

/* The one-click unsubscribe URL template for O's channel: the channel's
 * own if it sets one ("" for none), else the shop's. */
static const char *unsubscribe_url(const struct cd_config *cfg, const struct cd_due_order *o)
{
	const char *channel = o->order.channel ? o->order.channel : "web";
	const struct cd_channel *ch = cd_config_channel(cfg, channel);

	return ch && ch->unsubscribe_url ? ch->unsubscribe_url : cfg->shop.unsubscribe_url;
}

/* Blank every copy of the customer's own words (NEEDLE) in TEXT: a
 * complaint that says "5 stars" or "refund" is not the shop's wording. */
static void blank_quote(char *text, const char *needle)
{
	size_t n = needle ? strlen(needle) : 0;

	for (char *p = text; n && (p = strstr(p, needle)) != NULL; p += n)
		memset(p, ' ', n);
}

/* Check what would be sent against the campaign's packs; findings of
 * severity "error" become the reason to hold it. */
static int check_wording(struct cd_message *p, const struct cd_templates *tpl,
			 const struct cd_campaign *cp, const struct cd_due_order *o)
{
	const struct cd_compliance *c = cd_templates_compliance(tpl);
	struct cd_check_opts opts = { .channel = o->order.channel ? o->order.channel : "web",
				      .packs = cp->npacks ? cp->packs : NULL, .npacks = cp->npacks,
				      .no_model = 1, .defer = 1 };
	struct cd_buf plain = { 0 }, html = { 0 }, esc = { 0 };
	struct cd_findings f = { 0 };
	char sum[400];
	int rc = 0;

	if (!c)
		return 0;
	cd_buf_adds(&plain, p->parts.subject);
	cd_buf_adds(&plain, "\n\n");
	cd_buf_adds(&plain, p->parts.text);
	cd_buf_adds(&html, p->parts.html ? p->parts.html : "");
	cd_template_escape_html(&esc, o->comment ? o->comment : "");
	if (plain.oom || html.oom || esc.oom) {
		rc = CD_ENOMEM;
		goto out;
	}
	blank_quote(plain.data, o->comment);
	if (html.data)
		blank_quote(html.data, esc.data);
	if (cd_compliance_check(c, plain.data, plain.len, &opts, &f) < 0 ||
	    (html.len && cd_compliance_check(c, html.data, html.len, &opts, &f) < 0)) {
		rc = CD_ENOMEM;
		goto out;
	}
	if (f.errors)
		snprintf(p->reason, sizeof(p->reason), "compliance: %s",
			 cd_findings_summary(&f, sum, sizeof(sum)));
	p->findings = f.count;
out:
	cd_findings_clear(&f);
	cd_buf_free(&plain);
	cd_buf_free(&html);
	cd_buf_free(&esc);
	return rc;
}

static unsigned long msgid_count; /* this process's Message-IDs so far */

/* Render and compose; a problem with the template or the customer's data
 * is a reason to hold the message, not an error of the cycle. */
int cd_message_prepare(struct cd_message *p, const struct cd_config *cfg,
		       const struct cd_templates *tpl, const unsigned char secret[32],
		       int64_t now, const struct cd_campaign *cp, const struct cd_due_order *o)
{
	struct cd_tdata *data = NULL;
	unsigned char rnd[12];
	char hex[25], tag[40];
	struct cd_error err;
	int rc = 0;

	p->v = variant_for(cp, o, p->winner);
	p->template = p->kind == CD_DUE_REMINDER ? cp->reminder_template : p->v->template;
	cd_token_make(secret, o->order.id, cp->name, p->kind == CD_DUE_REMINDER ? "reminder" : "request",
		      p->token);
	/* the time and a count first, then random: unique all the same, and
	 * each new one goes to the end of the store's Message-ID index
	 * instead of a random page of it (a page per message, per commit) */
	if (cd_util_random_id(rnd, sizeof(rnd)) < 0)
		return CD_EIO;
	cd_util_hex(rnd, sizeof(rnd), hex);
	snprintf(p->msgid, sizeof(p->msgid), "%09llx%06lx%.9s.%s@%s",
		 (unsigned long long)(now > 0 ? now : 0) & 0xfffffffffULL,
		 (unsigned long)(msgid_count++ & 0xffffff), hex, p->token, cfg->shop.domain);
	snprintf(tag, sizeof(tag), "u-%s", p->token);
	p->reply_to = tagged_address(cfg->shop.reply_to, p->token);
	p->unsub = tagged_address(cfg->shop.reply_to, tag);
	if (!p->reply_to || !p->unsub || asprintf(&p->unsub_uri, "mailto:%s", p->unsub) < 0) {
		p->unsub_uri = NULL;
		rc = CD_ENOMEM;
		goto out;
	}
	p->unsub_url = fill_url(unsubscribe_url(cfg, o), o->order.id, NULL, p->token);
	if ((*unsubscribe_url(cfg, o) && !p->unsub_url) || !(data = order_data(cfg, o, p))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if (cd_templates_render(tpl, p->template, o->order.locale, data, &p->parts, &err) < 0) {
		cd_error_format(&err, p->reason, sizeof(p->reason));
		goto out;
	}
	/* composed even when held, so a preview shows what was refused */
	if ((rc = check_wording(p, tpl, cp, o)) < 0)
		goto out;
	struct cd_mail m = {
		.from_name = cfg->shop.name, .from_addr = cfg->shop.from,
		.to_name = o->order.name, .to_addr = o->order.email, .reply_to = p->reply_to,
		.subject = p->parts.subject, .text = p->parts.text, .html = p->parts.html,
		.message_id = p->msgid, .unsubscribe_mailto = p->unsub,
		.unsubscribe_url = p->unsub_url, .date = now,
	};
	if (cd_compose(&m, &p->mail, &p->len, &err) < 0)
		snprintf(p->reason, sizeof(p->reason), "cannot compose: %.480s", err.msg);
out:
	cd_tdata_free(data);
	return rc;
}

