/*
 * track.h - act on one inbox mail: classify it, find which of our
 * messages it answers, and record what it means. A hard bounce, an
 * unsubscribe or a complaint suppresses the address; soft bounces do
 * after tracking.soft_bounce_limit in a row; a reply is kept for support
 * and stops the reminder. Every outcome is an event on its message.
 *
 * Each mail is one transaction, keyed by its Message-ID (else a hash of
 * its bytes) in inbox_seen: reading a mailbox again counts nothing twice.
 * Bounces, unsubscribes and complaints act only through a token of ours
 * - a bounce's from the VERP address it came back to (smtp.verp) or from
 * our Message-ID in the headers it returns - so a forged mail cannot stop
 * someone else's mail. A bounce that only names an address we mailed is
 * noted on that message (event "bounce_unproven") and left in the
 * mailbox for a human; it suppresses nobody.
 */
#ifndef CANDOR_TRACK_H
#define CANDOR_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "candor/classify.h"
#include "candor/error.h"

struct cd_config;
struct cd_store;

struct cd_track_stats {
	int64_t read, duplicates, unmatched;
	int64_t kinds[CD_MAIL_OTHER + 1]; /* by enum cd_mail_kind */
	int64_t complaints, suppressed;
};

/* Record RAW (LEN bytes, NUL-terminated). *KIND (may be NULL) says what
 * it was. Returns 0, or CD_ESTORE / CD_ENOMEM with ERR set; the mail is
 * then not marked seen and the next read tries again. */
int cd_track_mail(struct cd_store *st, const struct cd_config *cfg, const char *raw,
		  size_t len, int64_t now, enum cd_mail_kind *kind, struct cd_track_stats *stats,
		  struct cd_error *err);

#endif
