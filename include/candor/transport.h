/*
 * transport.h - hand a composed message to the world. Two transports:
 * "smtp" (libcurl) and "outbox" (one .eml file per message in a
 * directory, for demos, dry runs and shops that pipe mail elsewhere).
 */
#ifndef CANDOR_TRANSPORT_H
#define CANDOR_TRANSPORT_H

#include <stddef.h>

#include "candor/error.h"

struct cd_config;
struct cd_transport;

enum cd_send_outcome {
	CD_SEND_SENT,      /* accepted (2xx) */
	CD_SEND_DEFERRED,  /* try again later (4xx, network, time-out) */
	CD_SEND_FAILED,    /* permanent for this message (5xx) */
	CD_SEND_PAUSED     /* a problem with our side (auth, sender): stop all */
};

struct cd_send_result {
	enum cd_send_outcome outcome;
	int code;          /* the server's reply code, 0 if none */
	char reply[256];   /* what the server or the file system said */
};

struct cd_outgoing {
	const char *envelope_from;
	const char *recipient;
	const char *message_id; /* for the outbox file name */
	const char *data;       /* CRLF-terminated RFC 5322 bytes */
	size_t len;
};

/* Open the configured transport; FORCE_OUTBOX picks the outbox whatever
 * the config says (dry runs). Returns 0, CD_EIO or CD_ENOMEM. */
int cd_transport_open(const struct cd_config *cfg, int force_outbox,
		      struct cd_transport **out, struct cd_error *err);

/* Send one message; the outcome is in RES, never a return code. */
void cd_transport_send(struct cd_transport *t, const struct cd_outgoing *msg,
		       struct cd_send_result *res);

/* Name for logs: "smtp" or "outbox". */
const char *cd_transport_name(const struct cd_transport *t);

/* Close connections and free; NULL is fine. */
void cd_transport_close(struct cd_transport *t);

#endif
