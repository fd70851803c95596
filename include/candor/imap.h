/*
 * imap.h - read the reply mailbox by IMAP (libetpan) and hand each new
 * mail to track.c. Incremental by UID; a changed UIDVALIDITY re-reads the
 * mailbox, and inbox_seen keeps that from counting anything twice.
 * Processed mails get the keyword $Candor (and move to imap.move_to when
 * set); nothing is deleted; a mail that answers none of our messages is
 * left where it is for a human. After a failure the connection is
 * retried with backoff (30 s doubling to 30 min); while the daemon
 * sleeps, IDLE (when the server offers it) wakes it for new mail.
 */
#ifndef CANDOR_TRACKER_H
#define CANDOR_TRACKER_H

#include <stdint.h>

#include "candor/error.h"
#include "candor/track.h"

struct cd_config;
struct cd_store;
struct cd_imap;

struct cd_imap *cd_imap_new(void);
void cd_imap_free(struct cd_imap *t); /* logs out; NULL is fine */

/* Read and record what is new. Returns 0 (also when tracking is off or a
 * reconnect waits for its backoff), or a negative code with ERR set: the
 * connection is then dropped and retried later. */
int cd_imap_run(struct cd_imap *t, const struct cd_config *cfg, struct cd_store *st,
		   int64_t now, struct cd_track_stats *stats, struct cd_error *err);

/* Start waiting with IDLE if the server offers it and imap.idle is on:
 * the descriptor that becomes readable when mail arrives, or -1. */
int cd_imap_idle_fd(struct cd_imap *t, const struct cd_config *cfg);

/* "connected to imaps://host, INBOX, 12 read" for status lines. */
void cd_imap_describe(const struct cd_imap *t, char *buf, size_t len);

#endif
