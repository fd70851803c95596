/*
 * sender.h - the send queue of one cycle: hand composed messages to the
 * transport, several at once, and record each outcome.
 *
 * What a crash can cost is what is in flight, and no more: a message is
 * made "sending" (committed) only once a connection is free to take it
 * (cd_sender_wait, then the caller commits the row, then
 * cd_sender_submit), and its outcome is committed as soon as the server
 * has answered - in the same transaction as the messages that take the
 * freed connections. The log says "sent" only after that commit. So
 * after a kill -9 at most smtp.connections rows are "sending", and every
 * "sent" row was accepted.
 *
 * Outcomes: accepted -> "sent" with the server's reply; 4xx and network
 * trouble before the end of the message -> "deferred", its bytes kept and
 * retried with exponential backoff and jitter (smtp.retry_min ..
 * retry_max) until smtp.retry_for, then "failed"; 5xx -> "failed", and a
 * 5.1.x rejection of the address suppresses it; a refused login, sender
 * or TLS -> sending pauses (the message goes back to "deferred", nothing
 * is marked failed) until a reload or smtp.pause_retry; no answer after
 * the whole message went -> it stays "sending" (it may have arrived) and
 * is not sent again; stopped (SIGTERM, smtp.stop_grace) before the end of
 * the message -> back to "queued" with its bytes, sent with the next
 * cycle before anything new.
 */
#ifndef CANDOR_SENDER_H
#define CANDOR_SENDER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_config;
struct cd_store;
struct cd_transport;
struct cd_sender;

struct cd_sender_stats {
	int64_t sent, failed, deferred, unknown;
	int64_t requeued; /* stopped before the end of the message */
};

/* One message to hand over; strings borrowed for the call. */
struct cd_sender_msg {
	int64_t id;                 /* its row, already "sending" */
	const char *kind;           /* static: "request" or "reminder" */
	const char *order_id, *message_id, *recipient;
	const char *token;          /* for the VERP envelope sender; may be NULL */
};

/* The meta key of a pause: "EPOCH REASON". */
#define CD_SENDER_PAUSE_KEY "send_paused"

/* A sender for one cycle at time NOW. STOP (may be NULL) is set by a
 * signal handler: then nothing more is handed out. TICK (may be NULL) is
 * called while waiting for the server, to keep a watchdog fed. Returns 0
 * or CD_ENOMEM. */
int cd_sender_open(const struct cd_config *cfg, struct cd_store *st, struct cd_transport *t,
		   int64_t now, const volatile sig_atomic_t *stop, void (*tick)(void *),
		   void *tick_arg, struct cd_sender **out);

/* Wait until a connection is free (and, for a moment, until others
 * that are about to be free are too). Returns 1 with *ROOM the number
 * of free connections, 0 (a stop was asked for or sending paused: hand
 * out nothing more; what came back is committed), or the first store
 * error met while recording outcomes (ERR filled).
 *
 * Then, for up to *ROOM messages: cd_sender_batch_begin, write each row
 * as "sending", cd_sender_batch_end (the commit), cd_sender_submit each. */
int cd_sender_wait(struct cd_sender *s, size_t *room, struct cd_error *err);

/* Drive the transfers in flight without waiting - between two pieces of
 * other work, so they go on meanwhile; what came back waits for the next
 * commit. */
void cd_sender_pump(struct cd_sender *s);

/* Open the transaction that makes the next messages "sending"; the
 * outcomes waiting to be recorded go into it. Returns 0 or CD_ESTORE
 * (ERR filled; then no transaction is open). */
int cd_sender_batch_begin(struct cd_sender *s, struct cd_error *err);

/* Commit that transaction (OK), or roll it back - the outcomes are then
 * recorded on their own - and say in the log what came back. Returns 0
 * or CD_ESTORE when the commit failed (ERR filled). */
int cd_sender_batch_end(struct cd_sender *s, int ok, struct cd_error *err);

/* Send M, taking over MAIL (LEN bytes, malloc'd), on a connection
 * cd_sender_wait found free. M's row must already say "sending",
 * committed: a crash can lose a send, never double it. Returns 0 or
 * CD_ENOMEM (ERR filled). */
int cd_sender_submit(struct cd_sender *s, const struct cd_sender_msg *m, char *mail,
		     size_t len, struct cd_error *err);

/* The envelope sender for a message with TOKEN under CFG:
 * smtp.envelope_from (else shop.from), with "+TOKEN" after its local
 * part when smtp.verp is on and TOKEN is given, so a bounce names its
 * message. Into OUT (LEN bytes). */
void cd_sender_envelope(const struct cd_config *cfg, const char *token, char *out, size_t len);

/* Send again the messages that wait for it - "queued" ones (a stop
 * returned them) and "deferred" ones whose time has come - while
 * MAY_GO(ARG) says sending may go on; each is made "sending" (committed)
 * only when a connection is free for it. Returns 0 or a negative code. */
int cd_sender_retry(struct cd_sender *s, int (*may_go)(void *), void *arg,
		    struct cd_error *err);

/* Wait for every message in flight (after a stop the transport gives
 * them smtp.stop_grace, then aborts them). Returns 0 or the first store
 * error met while recording outcomes. */
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
