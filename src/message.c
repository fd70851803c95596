/*
 * message.c - turn a due order into a composed mail: variant, token,
 * template data, rendering, MIME. A problem with the templates or the
 * customer's data is a reason to hold the message, never a crash.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/compose.h"
#include "candor/config.h"
#include "candor/message.h"
#include "candor/util.h"

/* Same order, same campaign, same arm: a restart never moves an order. */
const struct cd_variant *cd_message_pick_variant(const struct cd_campaign *cp,
					     const char *order_id)
{
	uint64_t h = 1469598103934665603ULL, total = 0, x;

	for (const char *p = order_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = cp->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = 0; i < cp->nvariants; i++)
		total += cp->variants[i].weight;
	x = h % total;
	for (size_t i = 0; i < cp->nvariants; i++) {
		if (x < cp->variants[i].weight)
			return &cp->variants[i];
		x -= cp->variants[i].weight;
	}
	return &cp->variants[0];
}

/* An unguessable token: HMAC of the order, campaign and kind under the
 * secret from "candorctl init", so a forged reply cannot name another
 * order. */
static void make_token(const unsigned char secret[32], const char *order_id,
		       const char *campaign, enum cd_due_kind k, char out[33])
{
	unsigned char mac[32];
	char data[512];
	int n = snprintf(data, sizeof(data), "%s\n%s\n%s", order_id, campaign,
			 k == CD_DUE_REMINDER ? "reminder" : "request");

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, 32, data,
			 (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1, mac);
	cd_util_hex(mac, 16, out);
}

/* "feedback@shop" + token -> "feedback+TOKEN@shop" */
static char *tagged_address(const char *addr, const char *tag)
{
	const char *at = strchr(addr, '@');
	char *out;

	if (!at || asprintf(&out, "%.*s+%s%s", (int)(at - addr), addr, tag, at) < 0)
		return NULL;
	return out;
}

/* order.items from the stored JSON; entries that are not objects with a
 * name are left out rather than failing the mail. */
static int add_items(struct cd_tdata *order, const char *json)
{
	struct cd_tdata *list = cd_tdata_set_list(order, "items");
	json_object *arr = json ? json_tokener_parse(json) : NULL;
	int bad = !list;

	for (size_t i = 0; !bad && arr && json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		json_object *it = json_object_array_get_idx(arr, i), *name, *qty;
		struct cd_tdata *m;
		char q[24];

		if (!json_object_object_get_ex(it, "name", &name))
			continue;
		snprintf(q, sizeof(q), "%d", json_object_object_get_ex(it, "quantity", &qty)
			 ? json_object_get_int(qty) : 1);
		m = cd_tdata_append_map(list);
		bad = !m || cd_tdata_set_string(m, "name", json_object_get_string(name)) ||
		      cd_tdata_set_string(m, "quantity", q);
	}
	json_object_put(arr);
	return bad ? CD_ENOMEM : 0;
}

static struct cd_tdata *order_data(const struct cd_config *cfg, const struct cd_due_order *o,
				   const char *unsub)
{
	struct cd_tdata *d = cd_tdata_map(), *m;
	char date[16] = "", rating[8];
	int bad = !d;

	if (o->purchased > 0) {
		time_t t = (time_t)o->purchased;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	}
	if (!bad && (m = cd_tdata_set_map(d, "customer")))
		bad |= cd_tdata_set_string(m, "first_name", o->first_name) |
		       cd_tdata_set_string(m, "name", o->name);
	if (!bad && (m = cd_tdata_set_map(d, "order")))
		bad |= cd_tdata_set_string(m, "id", o->id) |
		       cd_tdata_set_string(m, "date", date) |
		       cd_tdata_set_string(m, "total", o->total) |
		       cd_tdata_set_string(m, "currency", o->currency) |
		       add_items(m, o->items);
	if (!bad && (m = cd_tdata_set_map(d, "shop")))
		bad |= cd_tdata_set_string(m, "name", cfg->shop.name) |
		       cd_tdata_set_string(m, "support", cfg->shop.support);
	if (!bad && (m = cd_tdata_set_map(d, "links")))
		bad |= cd_tdata_set_string(m, "unsubscribe", unsub);
	if (!bad && o->rating > 0 && (m = cd_tdata_set_map(d, "feedback"))) {
		snprintf(rating, sizeof(rating), "%d", o->rating);
		bad |= cd_tdata_set_string(m, "rating", rating) |
		       cd_tdata_set_string(m, "comment", o->comment);
	}
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
	free(p->mail);
	cd_rendered_clear(&p->parts);
	p->reply_to = p->unsub = p->mail = NULL;
	p->len = 0;
	p->reason[0] = '\0';
}

/* A reminder keeps the request's variant, so the experiment stays clean;
 * a variant removed from the config since then falls back to the hash. */
static const struct cd_variant *variant_for(const struct cd_campaign *cp,
					    const struct cd_due_order *o)
{
	for (size_t i = 0; o->variant && i < cp->nvariants; i++)
		if (strcmp(cp->variants[i].name, o->variant) == 0)
			return &cp->variants[i];
	return cd_message_pick_variant(cp, o->id);
}

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

	p->v = variant_for(cp, o);
	p->template = p->kind == CD_DUE_REMINDER ? cp->reminder_template : p->v->template;
	make_token(secret, o->id, cp->name, p->kind, p->token);
	if (cd_util_random(rnd, sizeof(rnd)) < 0)
		return CD_EIO;
	cd_util_hex(rnd, sizeof(rnd), hex);
	snprintf(p->msgid, sizeof(p->msgid), "%s.%s@%s", hex, p->token, cfg->shop.domain);
	snprintf(tag, sizeof(tag), "u-%s", p->token);
	p->reply_to = tagged_address(cfg->shop.reply_to, p->token);
	p->unsub = tagged_address(cfg->shop.reply_to, tag);
	if (!p->reply_to || !p->unsub || !(data = order_data(cfg, o, p->unsub))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if (cd_templates_render(tpl, p->template, o->locale, data, &p->parts, &err) < 0) {
		cd_error_format(&err, p->reason, sizeof(p->reason));
		goto out;
	}
	struct cd_mail m = {
		.from_name = cfg->shop.name, .from_addr = cfg->shop.from,
		.to_name = o->name, .to_addr = o->email, .reply_to = p->reply_to,
		.subject = p->parts.subject, .text = p->parts.text, .html = p->parts.html,
		.message_id = p->msgid, .unsubscribe_mailto = p->unsub, .date = now,
	};
	if (cd_compose(&m, &p->mail, &p->len, &err) < 0)
		snprintf(p->reason, sizeof(p->reason), "cannot compose: %.480s", err.msg);
out:
	cd_tdata_free(data);
	return rc;
}

