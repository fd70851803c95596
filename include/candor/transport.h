/*
 * transport.h - hand a composed message to the world. Two transports:
 * "smtp" (libcurl, several connections driven at once) and "outbox" (one
 * .eml file per message in a directory, for demos, dry runs and shops
 * that pipe mail elsewhere).
 *
 * A transport may live as long as the daemon, across cycles and reloads,
 * so its connections are reused.
 *
 * Sending is asynchronous: cd_transport_submit starts a message when a
 * connection is free, cd_transport_poll drives the transfers and reports
 * each finished one. The caller owns every cd_outgoing and its strings
 * until its completion is reported.
 */
#ifndef CANDOR_TRANSPORT_H
#define CANDOR_TRANSPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_buf;
struct cd_config;
struct cd_transport;

enum cd_send_outcome {
	CD_SEND_SENT,      /* accepted (2xx) */
	CD_SEND_DEFERRED,  /* try again later (4xx, network, time-out) */
	CD_SEND_FAILED,    /* permanent for this message (5xx) */
	CD_SEND_PAUSED,    /* a problem with our side (auth, sender, TLS): stop all */
	CD_SEND_UNKNOWN,   /* the whole message went and no verdict came back
			    * (connection lost, or stopped): it may have been
			    * accepted, so it is not retried */
	CD_SEND_STOPPED    /* stopped (cd_transport_set_stop) before the end of
			    * the message went: nothing can have arrived */
};

struct cd_send_result {
	enum cd_send_outcome outcome;
	int code;          /* the server's reply code, 0 if none */
	int bad_mailbox;   /* a 5.1.x rejection of the recipient's address */
	char reply[256];   /* what the server or the file system said */
};

struct cd_outgoing {
	const char *envelope_from;
	const char *recipient;
	const char *message_id; /* for the outbox file name */
	const char *data;       /* CRLF-terminated RFC 5322 bytes */
	size_t len;
	void *cookie;           /* the caller's, given back on completion */
	struct cd_buf *transcript; /* if set: "C: ..."/"S: ..." lines of the
				    * dialogue (AUTH secrets masked); smtp only */
};

/* Called once per finished message. */
typedef void (*cd_transport_done_fn)(void *arg, const struct cd_outgoing *msg,
				     const struct cd_send_result *res);

/* Open the configured transport; FORCE_OUTBOX picks the outbox whatever
 * the config says (dry runs). Returns 0, CD_EIO or CD_ENOMEM. */
int cd_transport_open(const struct cd_config *cfg, int force_outbox,
		      struct cd_transport **out, struct cd_error *err);

/* Take CFG's settings after a reload, with nothing in flight: the smtp
 * transport keeps its libcurl multi handle and the connections it may
 * still use; a change of transport opens the other one in T's place.
 * Returns 0, CD_EIO or CD_ENOMEM; on failure T works as before. */
int cd_transport_reload(struct cd_transport *t, const struct cd_config *cfg, int force_outbox,
			struct cd_error *err);

/* Start sending MSG. Returns 0, or CD_EBUSY when every connection is
 * busy (poll, then try again). */
int cd_transport_submit(struct cd_transport *t, const struct cd_outgoing *msg);

/* Drive the transfers for up to TIMEOUT_MS (less if one finishes) and
 * call DONE for each finished message. Returns how many are still in
 * flight. */
size_t cd_transport_poll(struct cd_transport *t, int timeout_ms, cd_transport_done_fn done,
			 void *arg);

/* Watch STOP (set by a signal handler; NULL: none): from the moment a
 * poll or a transfer sees it set, the transfers in flight get GRACE_MS
 * to finish; then every connection is cut (no QUIT) and each transfer
 * still running ends as CD_SEND_STOPPED, or CD_SEND_UNKNOWN when the
 * whole message had gone. A poll never waits past that moment, so a
 * server that stops answering cannot hold a stop up. */
void cd_transport_set_stop(struct cd_transport *t, const volatile sig_atomic_t *stop,
			   int64_t grace_ms);

/* How many messages may be in flight at once. */
size_t cd_transport_slots(const struct cd_transport *t);

/* Send one message and wait for it; the outcome is in RES. */
void cd_transport_send(struct cd_transport *t, const struct cd_outgoing *msg,
		       struct cd_send_result *res);

/* Was T opened for a dry run (FORCE_OUTBOX)? Its mails are not really
 * sent, and the logs say "would send". */
int cd_transport_dry_run(const struct cd_transport *t);

/* Name for logs: "smtp" or "outbox". */
const char *cd_transport_name(const struct cd_transport *t);

/* Close connections (QUIT, each answer awaited at most 2 s; none after
 * a stop) and free; NULL is fine. */
void cd_transport_close(struct cd_transport *t);

#endif
