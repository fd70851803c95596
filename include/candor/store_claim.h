/*
 * store_claim.h - several candord sending from one PostgreSQL store:
 * which due orders this daemon works on (a claim), the lock under which
 * the caps and rates are checked across daemons, and the watch for sends
 * a dead daemon left "sending".
 *
 * A claim only keeps two daemons from preparing the same mail: what keeps
 * a mail from going twice is the message row's UNIQUE (order_id,
 * campaign, kind), committed as "sending" before the transfer (a second
 * daemon's insert finds it and sends nothing). On SQLite (one daemon per
 * file) every verb here is a no-op that grants everything.
 *
 * Strings passed in are borrowed for the call.
 */
#ifndef CANDOR_STORE_CLAIM_H
#define CANDOR_STORE_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"
#include "candor/store.h"
#include "candor/store_due.h"

/* May several daemons send from ST at once (PostgreSQL)? */
int cd_store_shared(struct cd_store *st);

/* Claim the N orders IDS for CAMPAIGN and kind K, in one short
 * transaction: each order's row locked FOR UPDATE SKIP LOCKED, then a
 * session advisory lock taken on (campaign, kind, order) that the server
 * lets go of if this daemon dies. GOT[i] says whether IDS[i] is ours; an
 * order another daemon holds, or that has its message already, is not.
 * Release what was got with cd_store_claim_release. Returns 0, CD_ENOMEM
 * or CD_ESTORE (ERR filled; then nothing is claimed). */
int cd_store_claim(struct cd_store *st, const char *campaign, enum cd_due_kind k,
		   const char *const *ids, size_t n, unsigned char *got, struct cd_error *err);

/* Let go of the claims GOT says were taken on IDS (errors are ignored: a
 * connection lost has let go of them already). */
void cd_store_claim_release(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			    const char *const *ids, const unsigned char *got, size_t n);

/* Remember the orders of IDS that GOT says were not claimed, and that
 * have no message for CAMPAIGN and K yet, as waiting (seen at NOW), so a
 * later pass looks at them again should their holder die before it
 * sends. Returns 0 or CD_ESTORE. */
int cd_store_claim_missed(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			  const char *const *ids, const unsigned char *got, size_t n,
			  int64_t now, struct cd_error *err);

/* Inside the transaction that makes messages "sending": take the lock
 * under which every daemon checks the caps and rates (held to the
 * commit), and the time to stamp the messages with: NOW, or the latest
 * sent_at in the store if that is later, so stamps never go back and
 * the window ending at a stamp is the only one it can overfill.
 * Returns 0 or CD_ESTORE. */
int cd_store_limits_lock(struct cd_store *st, int64_t now, int64_t *stamp,
			 struct cd_error *err);

#endif
