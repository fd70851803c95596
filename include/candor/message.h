/*
 * message.h - one outgoing mail, from a due order: the variant, the
 * per-message token (HMAC under the store's secret, so a forged reply
 * cannot name another order), the Message-ID, the template data, the
 * rendered parts and the composed bytes. Strings belong to the message
 * until cd_message_clear; the variant and template name are borrowed
 * from the configuration.
 */
#ifndef CANDOR_MESSAGE_H
#define CANDOR_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/due.h"
#include "candor/template.h"

struct cd_campaign;
struct cd_channel;
struct cd_config;
struct cd_variant;

struct cd_message {
	enum cd_due_kind kind;        /* set by the caller before preparing */
	const char *winner;           /* the caller's: the campaign's decided variant, or NULL */
	const struct cd_variant *v;   /* borrowed */
	const char *template;         /* borrowed: the set rendered */
	char token[33], msgid[128];
	char *reply_to, *unsub;       /* feedback+TOKEN@..., feedback+u-TOKEN@... */
	char *unsub_uri;              /* "mailto:" + unsub */
	char *unsub_url;              /* https one-click URL, or NULL */
	struct cd_rendered parts;
	char *mail;                   /* the composed message */
	size_t len;
	char reason[512];             /* why it must be held; "" when it can go */
	size_t findings;              /* compliance findings (warnings included) */
};

/* Prepare P for order O of campaign CP at time NOW. Returns 0 (check
 * P->reason: a template or data problem holds the message), CD_ENOMEM or
 * CD_EIO (no random bytes). */
int cd_message_prepare(struct cd_message *p, const struct cd_config *cfg,
		       const struct cd_templates *tpl, const unsigned char secret[32],
		       int64_t now, const struct cd_campaign *cp,
		       const struct cd_due_order *o);

/* Free what P holds; P may be prepared again afterwards. */
void cd_message_clear(struct cd_message *p);

/* TPL (a channel URL) with {order}, {product} and {token} filled in,
 * each percent-encoded so no value can add a parameter or leave the URL;
 * NULL when TPL is empty, names a value that is missing, or on out of
 * memory. The caller frees it. */
char *cd_message_channel_url(const char *tpl, const char *order, const char *product,
			     const char *token);

/* Do mails of channel CH (may be NULL) carry click-tracking links? Only
 * with an http.public_url, and never for a channel that forbids outside
 * links (Amazon) or sets track_clicks = false. */
int cd_message_tracks_clicks(const struct cd_config *cfg, const struct cd_channel *ch);

/* Where a tracked click goes: ITEM 0 is the order's feedback URL, ITEM N
 * the review URL of entry N (from 1) of the order's ITEMS JSON, exactly
 * as compose would have written it without tracking. Computed from the
 * configuration and the stored order only. NULL when CHANNEL ("" or NULL:
 * "web") tracks no clicks or there is no such link; the caller frees it. */
char *cd_message_click_target(const struct cd_config *cfg, const char *channel,
			      const char *order_id, const char *items, const char *token,
			      size_t item);

#endif
