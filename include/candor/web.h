/*
 * web.h - the HTTP endpoint, served by "candord --web" as a process of
 * its own that never holds the mail servers' passwords:
 *
 *   POST /u/TOKEN   List-Unsubscribe=One-Click (RFC 8058): suppress the
 *                   message's recipient, record the event; 200, idempotent
 *   GET  /u/TOKEN   the confirmation page (a GET never unsubscribes: link
 *                   scanners fetch it), in the customer's language, with
 *                   a button; afterwards an undo button for
 *                   http.undo_window
 *   GET  /c/TOKEN   a click on the review link: record "clicked" once per
 *                   message, 302 to the order's channel URL computed here
 *                   (/c/TOKEN/N: the review URL of the order's item N)
 *   GET  /metrics   Prometheus text; GET /healthz. Loopback callers not
 *                   coming through a proxy, or with the metrics token.
 *
 * TOKEN is the message's token (token.h), checked against the store's
 * secret in constant time. Everything else is a plain 4xx: a bad token,
 * another method, a long URL or body, a flood from one address (http.*
 * limits). One thread, libmicrohttpd driven from our own poll loop.
 */
#ifndef CANDOR_WEB_H
#define CANDOR_WEB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "candor/error.h"
#include "candor/token.h"

struct cd_config;
struct cd_store;
struct cd_web;

/* A listen address as written in http.listen. */
struct cd_web_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parse "127.0.0.1:8025", "[::1]:8025" or "localhost:8025" into OUT.
 * Returns 0 or CD_EINVAL. */
int cd_web_parse_listen(const char *s, struct cd_web_addr *out);

enum cd_web_route_kind {
	CD_WEB_NOWHERE,      /* no such page: 404 */
	CD_WEB_UNSUBSCRIBE,  /* /u/TOKEN */
	CD_WEB_CLICK,        /* /c/TOKEN, /c/TOKEN/ITEM */
	CD_WEB_METRICS,
	CD_WEB_HEALTHZ,
	CD_WEB_NROUTES
};

struct cd_web_route {
	enum cd_web_route_kind kind;
	char token[CD_TOKEN_LEN + 1];
	size_t item;         /* /c/TOKEN/ITEM: 1..999; 0 the feedback link */
};

/* Where PATH (the request's path, without the query) leads; PREFIX (may
 * be NULL or "") is the path of http.public_url, which a proxy may or may
 * not strip. Returns R->kind. */
enum cd_web_route_kind cd_web_route(const char *path, const char *prefix,
				    struct cd_web_route *r);

/* The client's address for per-address limits, into OUT: PEER, or when
 * PEER is a loopback proxy that sent X-Forwarded-For (XFF, may be NULL),
 * the address the proxy appended last. Returns 1 when PEER is loopback. */
int cd_web_client(const struct sockaddr *peer, const char *xff, char *out, size_t len);

/* Start serving on FD (a listening socket, e.g. from systemd; -1: bind
 * http.listen). CFG and ST are borrowed and must outlive the endpoint;
 * SECRET is copied. Returns 0, CD_EIO (cannot listen) or CD_ENOMEM. */
int cd_web_start(const struct cd_config *cfg, struct cd_store *st,
		 const unsigned char secret[32], int fd, struct cd_web **out,
		 struct cd_error *err);

/* Use CFG from now on (a reload); borrowed. */
void cd_web_set_config(struct cd_web *w, const struct cd_config *cfg);

/* The descriptor to poll for input, and how long (ms, -1 forever) until
 * the endpoint has timers to run. */
int cd_web_fd(struct cd_web *w);
int64_t cd_web_timeout_ms(struct cd_web *w);

/* Serve whatever is ready, without blocking. */
void cd_web_serve(struct cd_web *w);

/* Requests answered, for the status line. */
uint64_t cd_web_requests(const struct cd_web *w);

/* Stop and free; NULL is fine. */
void cd_web_stop(struct cd_web *w);

/* "candord --web": load CONFIG_PATH without the mail passwords, open
 * the store, serve until SIGTERM; SIGHUP reloads. LOG_LEVEL -1: the
 * config's. Returns the exit status (0, 1, or CD_EXIT_CONFIG). */
int cd_web_main(const char *config_path, int log_level);

#endif
