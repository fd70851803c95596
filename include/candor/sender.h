/*
 * sender.h - the send queue of one cycle: hand composed messages to the
 * transport, several at once, and record each outcome. The move to
 * "sending" is committed before a message reaches the transport, so a
 * crash can lose a send but never double it.
 *
 * Outcomes: accepted -> "sent" with the server's reply; 4xx and network
 * trouble -> "deferred", its bytes kept and retried with exponential
 * backoff and jitter (smtp.retry_min .. retry_max) until smtp.retry_for,
 * then "failed"; 5xx -> "failed", and a 5.1.x rejection of the address
 * suppresses it; a refused login, sender or TLS -> sending pauses (the
 * message goes back to "deferred", nothing is marked failed) until a
 * reload or smtp.pause_retry; a connection lost after the whole message
 * went -> it stays "sending" (it may have arrived) and is not sent again.
 */
#ifndef CANDOR_SENDER_H
#define CANDOR_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_config;
struct cd_store;
struct cd_transport;
struct cd_sender;

struct cd_sender_stats {
	int64_t sent, failed, deferred, unknown;
};

/* The meta key of a pause: "EPOCH REASON". */
#define CD_SENDER_PAUSE_KEY "send_paused"

/* A sender for one cycle at time NOW. TICK (may be NULL) is called while
 * waiting for the server, to keep a watchdog fed. Returns 0 or
 * CD_ENOMEM. */
int cd_sender_open(const struct cd_config *cfg, struct cd_store *st, struct cd_transport *t,
		   int64_t now, void (*tick)(void *), void *tick_arg, struct cd_sender **out);

/* Send message ID of KIND ("request", "reminder"; a static string) to
 * RECIPIENT, for ORDER_ID (MSGID its Message-ID), taking over MAIL (LEN
 * bytes, malloc'd). Its row must already say "sending", committed by the
 * caller together with the row itself: a crash can lose a send, never
 * double it. Waits for a free connection. Returns 0 or CD_ENOMEM (ERR
 * filled). */
int cd_sender_submit(struct cd_sender *s, int64_t id, const char *kind, const char *order_id,
		     const char *msgid, const char *recipient, char *mail, size_t len,
		     struct cd_error *err);

/* Retry the deferred messages whose time has come, while MAY_GO(ARG)
 * says sending may go on; each is made "sending" (committed) before its
 * kept bytes go out again. Returns 0 or a negative code. */
int cd_sender_retry(struct cd_sender *s, int (*may_go)(void *), void *arg,
		    struct cd_error *err);

/* Wait for every message in flight. Returns 0 or the first store error
 * met while recording outcomes. */
int cd_sender_drain(struct cd_sender *s, struct cd_error *err);

/* Did a message pause sending? (Then send no more this cycle.) */
int cd_sender_paused(const struct cd_sender *s);

const struct cd_sender_stats *cd_sender_stats(const struct cd_sender *s);

/* Drain and free; NULL is fine. */
void cd_sender_close(struct cd_sender *s);

/* Is sending paused in ST at NOW under CFG (a pause younger than
 * smtp.pause_retry)? REASON (may be NULL) gets why. */
int cd_sender_is_paused(struct cd_store *st, const struct cd_config *cfg, int64_t now,
			char *reason, size_t len);

/* Lift a pause (after a reload: the admin may have fixed it). */
int cd_sender_unpause(struct cd_store *st, struct cd_error *err);

#endif
