/*
 * classify.h - what an inbox mail is: a bounce (hard or soft, per failed
 * recipient), an auto-reply, a request to stop, a human reply, or
 * something else; and which of our messages it answers.
 *
 * Matching keys, strongest first: our token in the address it was sent
 * to (feedback+TOKEN@, feedback+u-TOKEN@ for unsubscribe), our
 * Message-IDs in In-Reply-To/References, and for bounces the returned
 * message's Message-ID and Reply-To. Tokens are HMACs only the shop can
 * make; the tracker still checks each against the database.
 */
#ifndef CANDOR_CLASSIFY_H
#define CANDOR_CLASSIFY_H

#include <stddef.h>

#include "candor/bounce.h"
#include "candor/inmail.h"
#include "candor/intent.h"

enum cd_mail_kind {
	CD_MAIL_REPLY, CD_MAIL_HARD_BOUNCE, CD_MAIL_SOFT_BOUNCE, CD_MAIL_AUTO_REPLY,
	CD_MAIL_UNSUBSCRIBE, CD_MAIL_OTHER
};

#define CD_CLASSIFY_TOKENS 8

struct cd_classified {
	enum cd_mail_kind kind;
	struct cd_bounce bounce;    /* bounces: each failed recipient */
	char from[256];             /* the sender's address, "" if none */
	char detail[256];           /* one line for a human */
	int complaint;              /* an abuse report (ARF) */
	char tokens[CD_CLASSIFY_TOKENS][33]; /* candidate tokens, strongest first */
	size_t ntokens;
	struct cd_inmail mail;      /* the parsed mail (text for replies) */
	char *words;                /* what the sender wrote, quotes cut
				     * (ownwords.h); NULL for reports */
	struct cd_intent intent;    /* what WORDS and the subject ask */
};

/* Classify RAW. Returns 0 or CD_ENOMEM; any bytes get an answer. Free
 * with cd_classified_free. */
int cd_classify(const char *raw, size_t len, struct cd_classified *c);
void cd_classified_free(struct cd_classified *c);

/* "reply", "hard_bounce", ... as candorctl classify prints them. */
const char *cd_mail_kind_name(enum cd_mail_kind k);

#endif
