/*
 * web.c - the HTTP endpoint (web.h): the listener, routing, limits and
 * the answers. libmicrohttpd (Debian's libmicrohttpd-dev) parses HTTP: a
 * small C library made for embedding, in Debian for years, fuzzed and
 * with a record of prompt security fixes, and with the knobs this needs
 * built in (per-address connection limits, timeouts for slow clients, a
 * memory cap per connection, an epoll loop we drive ourselves). We parse
 * only the path, which is fuzzed (tests/fuzz/fuzz_web.c).
 *
 * One thread: our loop polls MHD's epoll descriptor and calls
 * cd_web_serve(); SQLite is used from this thread only (the store's
 * checkpoints run on a thread and connection of their own, off the
 * requests' path: CD_STORE_INTERACTIVE, README "The web endpoint").
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "candor/buf.h"
#include "candor/config.h"
#include "candor/log.h"
#include "candor/message.h"
#include "candor/store_web.h"
#include "candor/token.h"
#include "candor/util.h"
#include "candor/web.h"
#include "candor/web_pages.h"

#define MAX_URL 512          /* ours are under 60 characters */
#define MAX_BODY 4096        /* a one-click body is 26 bytes; multipart some 200 */
#define MEMORY_LIMIT 16384   /* per connection: request line and headers */
#define NBUCKETS 4096        /* clients tracked for the rate limit */
#define PROBES 8

/* Answers made once and sent again and again. */
enum canned {
	R_UNSUBSCRIBED, R_HEALTHY, R_BAD_REQUEST, R_FORBIDDEN, R_NOT_FOUND, R_METHOD,
	R_TOO_BIG, R_URI_TOO_LONG, R_TOO_MANY, R_UNAVAILABLE, R_NCANNED
};

static const struct {
	unsigned status;
	const char *body;
} canned_text[R_NCANNED] = {
	[R_UNSUBSCRIBED] = { 200, "unsubscribed\n" },
	[R_HEALTHY] = { 200, "ok\n" },
	[R_BAD_REQUEST] = { 400, "bad request: the body must be List-Unsubscribe=One-Click\n" },
	[R_FORBIDDEN] = { 403, "forbidden\n" },
	[R_NOT_FOUND] = { 404, "not found\n" },
	[R_METHOD] = { 405, "method not allowed\n" },
	[R_TOO_BIG] = { 413, "request body too large\n" },
	[R_URI_TOO_LONG] = { 414, "URI too long\n" },
	[R_TOO_MANY] = { 429, "too many requests\n" },
	[R_UNAVAILABLE] = { 503, "busy; try again shortly\n" },
};

/* Status codes counted for /metrics. */
static const unsigned codes[] = { 200, 302, 400, 403, 404, 405, 410, 413, 414, 429, 500, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static const char *const route_names[CD_WEB_NROUTES] = {
	"other", "unsubscribe", "click", "metrics", "healthz",
};

struct bucket {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	int64_t at_ms;
};

struct cd_web {
	struct MHD_Daemon *d;
	const struct cd_config *cfg;
	struct cd_store *st;
	unsigned char secret[32];
	char prefix[256];            /* the path of http.public_url */
	int fd;
	struct MHD_Response *canned[R_NCANNED];
	uint64_t requests;
	uint64_t counts[CD_WEB_NROUTES][NCODES + 1];
	struct bucket buckets[NBUCKETS];
	/* one-click POSTs read in this round, written in one transaction */
	struct req *batch, **batch_end;
};

/* A POST being read, then waiting for its batch to be written. */
struct req {
	struct cd_web_route route;
	struct MHD_PostProcessor *pp;
	size_t body;
	char one_click[16], via[8], undo[4];
	char raw[64];                /* the body, when it is no form */
	size_t rawlen;
	enum { READING, WAITING, WRITTEN } state;
	struct MHD_Connection *conn; /* suspended while WAITING */
	struct cd_web_message m;
	int result, fresh;           /* of the write */
	struct req *next;            /* in the batch */
};

/* ---- parsing (pure, fuzzed) ------------------------------------------- */

int cd_web_parse_listen(const char *s, struct cd_web_addr *out)
{
	char host[256];
	const char *port, *end;
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;
	char *stop;
	long p;

	memset(out, 0, sizeof(*out));
	if (!s)
		return CD_EINVAL;
	if (s[0] == '[') {
		if (!(end = strchr(s, ']')) || end[1] != ':')
			return CD_EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
		port = end + 2;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		if (!(end = strrchr(s, ':')) || memchr(s, ':', (size_t)(end - s)))
			return CD_EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(end - s), s);
		port = end + 1;
	}
	errno = 0;
	p = strtol(port, &stop, 10);
	if (!*host || !*port || *stop || errno || p < 1 || p > 65535 ||
	    strlen(s) >= sizeof(host))
		return CD_EINVAL;
	/* numbers, or the loopback names every system knows: no DNS here */
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	hints.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return CD_EINVAL;
	memcpy(&out->ss, ai->ai_addr, ai->ai_addrlen);
	out->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A token of exactly CD_TOKEN_LEN hex digits at P, ended by END (a
 * character that must follow it). */
static int take_token(const char *p, char end, char out[CD_TOKEN_LEN + 1])
{
	if (strnlen(p, CD_TOKEN_LEN) < CD_TOKEN_LEN || !cd_token_syntax_ok(p, CD_TOKEN_LEN) ||
	    (p[CD_TOKEN_LEN] != '\0' && p[CD_TOKEN_LEN] != end))
		return 0;
	memcpy(out, p, CD_TOKEN_LEN);
	out[CD_TOKEN_LEN] = '\0';
	return 1;
}

enum cd_web_route_kind cd_web_route(const char *path, const char *prefix,
				    struct cd_web_route *r)
{
	size_t plen = prefix ? strlen(prefix) : 0;

	memset(r, 0, sizeof(*r));
	if (!path)
		return r->kind = CD_WEB_NOWHERE;
	/* the proxy may pass the public path on, or strip it */
	if (plen > 1 && strncmp(path, prefix, plen) == 0 && path[plen] == '/')
		path += plen;
	if (strcmp(path, "/metrics") == 0)
		return r->kind = CD_WEB_METRICS;
	if (strcmp(path, "/healthz") == 0)
		return r->kind = CD_WEB_HEALTHZ;
	if (strncmp(path, "/u/", 3) == 0) {
		if (take_token(path + 3, '\0', r->token) && path[3 + CD_TOKEN_LEN] == '\0')
			r->kind = CD_WEB_UNSUBSCRIBE;
		return r->kind;
	}
	if (strncmp(path, "/c/", 3) == 0 && take_token(path + 3, '/', r->token)) {
		const char *n = path + 3 + CD_TOKEN_LEN;
		size_t item = 0, digits = 0;

		if (*n == '\0')
			return r->kind = CD_WEB_CLICK;
		/* "/N": 1..999, no sign, no leading zero */
		for (n++; *n >= '0' && *n <= '9' && digits < 4; n++, digits++)
			item = item * 10 + (size_t)(*n - '0');
		if (*n == '\0' && digits >= 1 && digits <= 3 && item >= 1 &&
		    path[3 + CD_TOKEN_LEN + 1] != '0') {
			r->item = item;
			return r->kind = CD_WEB_CLICK;
		}
		memset(r->token, 0, sizeof(r->token));
	}
	return r->kind = CD_WEB_NOWHERE;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

int cd_web_client(const struct sockaddr *peer, const char *xff, char *out, size_t len)
{
	int loop = is_loopback(peer);
	unsigned char bin[sizeof(struct in6_addr)];

	out[0] = '\0';
	if (loop && xff && *xff) {
		/* the last hop is the one our own proxy added */
		const char *last = strrchr(xff, ',');
		char one[INET6_ADDRSTRLEN + 8];
		size_t n;

		last = last ? last + 1 : xff;
		last += strspn(last, " \t");
		n = strcspn(last, " \t");
		if (n > 0 && n < sizeof(one)) {
			memcpy(one, last, n);
			one[n] = '\0';
			if ((inet_pton(AF_INET, one, bin) == 1 || inet_pton(AF_INET6, one, bin) == 1) &&
			    n < len) {
				memcpy(out, one, n + 1);
				return loop;
			}
		}
	}
	if (peer && peer->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, out, (socklen_t)len);
	else if (peer && peer->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, out,
			  (socklen_t)len);
	else
		snprintf(out, len, "unix");
	return loop;
}

/* ---- limits ----------------------------------------------------------- */

/* A token bucket per client address: http.rate_limit's count is the
 * burst and refills over its period. A table of fixed size; a new
 * address takes the stalest of its slots. */
static int rate_ok(struct cd_web *w, const char *addr)
{
	const struct cd_rate *r = &w->cfg->http.rate_limit;
	int64_t now = cd_util_mono_ms();
	struct bucket *b = NULL, *stale = NULL;
	uint64_t h = 1469598103934665603ULL;

	if (r->count <= 0 || r->per_seconds <= 0)
		return 1;
	for (const char *p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (int i = 0; i < PROBES && !b; i++) {
		struct bucket *x = &w->buckets[(h + (uint64_t)i) % NBUCKETS];

		if (strcmp(x->addr, addr) == 0)
			b = x;
		else if (!stale || x->at_ms < stale->at_ms)
			stale = x;
	}
	if (!b) {
		b = stale;
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = (double)r->count;
		b->at_ms = now;
	}
	b->tokens += (double)(now - b->at_ms) / 1000.0 * (double)r->count / (double)r->per_seconds;
	if (b->tokens > (double)r->count)
		b->tokens = (double)r->count;
	b->at_ms = now;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

/* ---- answers ------------------------------------------------------------ */

static void count(struct cd_web *w, enum cd_web_route_kind route, unsigned status)
{
	size_t i = 0;

	while (i < NCODES && codes[i] != status)
		i++;
	w->counts[route][i]++;
	w->requests++;
}

/* Headers every answer carries: nothing cached (the URLs hold tokens),
 * nothing sniffed, no Referer sent onwards. */
static void common_headers(struct MHD_Response *resp, const char *type)
{
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_canned(struct cd_web *w, struct MHD_Connection *c,
				   enum cd_web_route_kind route, enum canned k)
{
	count(w, route, canned_text[k].status);
	return MHD_queue_response(c, canned_text[k].status, w->canned[k]);
}

static enum MHD_Result send_new(struct cd_web *w, struct MHD_Connection *c,
				enum cd_web_route_kind route, unsigned status, const char *type,
				char *body, size_t len, const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return send_canned(w, c, route, R_UNAVAILABLE);
	}
	common_headers(resp, type);
	if (strncmp(type, "text/html", 9) == 0) {
		/* no script, nothing from elsewhere, forms only to ourselves */
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'; "
					"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
	if (location)
		MHD_add_response_header(resp, "Location", location);
	count(w, route, status);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static int make_canned(struct cd_web *w)
{
	for (int k = 0; k < R_NCANNED; k++) {
		const char *b = canned_text[k].body;

		w->canned[k] = MHD_create_response_from_buffer(strlen(b), (void *)b,
							       MHD_RESPMEM_PERSISTENT);
		if (!w->canned[k])
			return CD_ENOMEM;
		common_headers(w->canned[k], "text/plain; charset=utf-8");
	}
	MHD_add_response_header(w->canned[R_METHOD], "Allow", "GET, POST");
	MHD_add_response_header(w->canned[R_TOO_MANY], "Retry-After", "1");
	MHD_add_response_header(w->canned[R_UNAVAILABLE], "Retry-After", "5");
	return 0;
}

/* The message TOKEN names, its token checked against the secret.
 * R_NOT_FOUND, R_UNAVAILABLE, or -1 when found. */
static int lookup(struct cd_web *w, const char *token, struct cd_web_message *m)
{
	struct cd_error err;
	char buf[700];
	int rc = cd_store_web_find(w->st, token, m, &err);

	if (rc == CD_ENOTFOUND)
		return R_NOT_FOUND;
	if (rc < 0) {
		cd_log(CD_LOG_WARNING, "web: %s", cd_error_format(&err, buf, sizeof(buf)));
		return R_UNAVAILABLE;
	}
	if (!cd_token_verify(w->secret, token, m->order_id, m->campaign, m->kind)) {
		/* a row with a token our secret did not make: not ours to act on */
		cd_log(CD_LOG_WARNING, "web: order %s: the stored token does not verify; ignored",
		       m->order_id);
		cd_store_web_message_clear(m);
		return R_NOT_FOUND;
	}
	return -1;
}

static int can_undo(const struct cd_web *w, const struct cd_web_message *m, int64_t now)
{
	return strcmp(m->supp_reason, "unsubscribed") == 0 &&
	       m->supp_at >= now - w->cfg->http.undo_window;
}

static enum MHD_Result send_page(struct cd_web *w, struct MHD_Connection *c, unsigned status,
				 enum cd_web_page page, const struct cd_web_message *m, int undo)
{
	const struct cd_config *cfg = w->cfg;
	size_t len = 0;
	char *html = cd_web_page_render(page, m->locale, cfg->shop.name, m->recipient,
					cfg->shop.support, undo, &len);

	if (!html)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_UNAVAILABLE);
	return send_new(w, c, CD_WEB_UNSUBSCRIBE, status, "text/html; charset=utf-8", html, len,
			NULL);
}

static enum MHD_Result get_unsubscribe(struct cd_web *w, struct MHD_Connection *c,
				       const struct cd_web_route *r)
{
	struct cd_web_message m;
	int64_t now = cd_util_now();
	enum MHD_Result rc;
	int k = lookup(w, r->token, &m);

	if (k >= 0)
		return send_canned(w, c, r->kind, (enum canned)k);
	/* a GET only shows: link scanners and previews fetch it */
	if (m.supp_reason[0])
		rc = send_page(w, c, 200, CD_PAGE_DONE, &m, can_undo(w, &m, now));
	else
		rc = send_page(w, c, 200, CD_PAGE_CONFIRM, &m, 0);
	cd_store_web_message_clear(&m);
	return rc;
}

static enum MHD_Result get_click(struct cd_web *w, struct MHD_Connection *c,
				 const struct cd_web_route *r)
{
	struct cd_web_message m;
	struct cd_error err;
	char detail[32], buf[700], *target;
	int first = 0, k = lookup(w, r->token, &m);

	if (k >= 0)
		return send_canned(w, c, r->kind, (enum canned)k);
	/* computed here from the configuration and the stored order; nothing
	 * of the request but the token and the item number goes into it */
	target = cd_message_click_target(w->cfg, m.channel, m.order_id, m.items, r->token, r->item);
	if (!target) {
		cd_store_web_message_clear(&m);
		return send_canned(w, c, r->kind, R_NOT_FOUND);
	}
	if (r->item)
		snprintf(detail, sizeof(detail), "item %zu", r->item);
	else
		snprintf(detail, sizeof(detail), "feedback");
	/* the customer gets where they wanted to go even if this fails */
	if (cd_store_web_click(w->st, &m, detail, cd_util_now(), &first, &err) < 0)
		cd_log(CD_LOG_WARNING, "web: order %s: click not recorded: %s", m.order_id,
		       cd_error_format(&err, buf, sizeof(buf)));
	else if (first)
		cd_log(CD_LOG_INFO, "order %s: review link clicked (%s)", m.order_id, detail);
	cd_store_web_message_clear(&m);
	{
		char *body = strdup("");
		enum MHD_Result rc;

		if (!body) {
			free(target);
			return send_canned(w, c, r->kind, R_UNAVAILABLE);
		}
		rc = send_new(w, c, r->kind, 302, "text/plain; charset=utf-8", body, 0, target);
		free(target);
		return rc;
	}
}

/* /metrics and /healthz: for a loopback caller that did not come
 * through a proxy, or anyone with the metrics token. */
static int may_watch(struct cd_web *w, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *tok = w->cfg->http.metrics_token;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (tok && auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *given = auth + 7;

		return strlen(given) == strlen(tok) && cd_token_equal(given, tok, strlen(tok));
	}
	if (tok)
		return 0;
	return ci && is_loopback(ci->client_addr) &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For") &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Forwarded") &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Real-IP");
}

/* Prometheus label value: backslash, quote and newline escaped. */
static void label(struct cd_buf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		if (s[i] == '\\' || s[i] == '"')
			cd_buf_addc(b, '\\');
		if (s[i] == '\n')
			cd_buf_adds(b, "\\n");
		else
			cd_buf_addc(b, s[i]);
	}
}

struct rule {
	char name[96];
	int64_t n;
};

static void add_rule(struct rule *rules, size_t *nr, size_t max, const char *name, size_t len,
		     int64_t n)
{
	size_t j = 0;

	if (len >= sizeof(rules[0].name))
		len = sizeof(rules[0].name) - 1;
	while (j < *nr && (strncmp(rules[j].name, name, len) != 0 || rules[j].name[len]))
		j++;
	if (j == *nr) {
		if (*nr == max)
			return;
		memcpy(rules[j].name, name, len);
		rules[j].name[len] = '\0';
		rules[j].n = 0;
		(*nr)++;
	}
	rules[j].n += n;
}

/* A held message's reason as rules: "compliance: generic.incentive (3:1):
 * ...; ftc.x (...)" counts once per rule it names; other reasons by
 * their kind. */
static void held_rules(struct cd_buf *b, const struct cd_web_counts *k)
{
	struct rule rules[64];
	size_t nr = 0;

	for (size_t i = 0; i < k->nheld; i++) {
		const char *reason = k->held[i].name, *p;

		if (strncmp(reason, "compliance: ", 12) != 0) {
			const char *kind = strncmp(reason, "cannot compose", 14) == 0 ? "compose"
					   : *reason ? "template" : "unknown";

			add_rule(rules, &nr, 64, kind, strlen(kind), k->held[i].n);
			continue;
		}
		/* "; " separates findings; each starts with its rule id */
		for (p = reason + 12; p && *p; p = strstr(p, "; ") ? strstr(p, "; ") + 2 : NULL)
			add_rule(rules, &nr, 64, p, strcspn(p, " ;"), k->held[i].n);
	}
	cd_buf_adds(b, "# HELP candor_held_messages Held messages (waiting for a human) by the rule or problem that holds them.\n"
		    "# TYPE candor_held_messages gauge\n");
	for (size_t j = 0; j < nr; j++) {
		cd_buf_adds(b, "candor_held_messages{rule=\"");
		label(b, rules[j].name, 95);
		cd_buf_printf(b, "\"} %lld\n", (long long)rules[j].n);
	}
}

static void marks(struct cd_buf *b, const struct cd_web_counts *k, int64_t now)
{
	cd_buf_adds(b, "# HELP candor_last_success_timestamp_seconds When each part last did its work without error.\n"
		    "# TYPE candor_last_success_timestamp_seconds gauge\n");
	for (size_t i = 0; i < k->nmarks; i++)
		if (strncmp(k->marks[i].name, "last_ok:", 8) == 0) {
			cd_buf_adds(b, "candor_last_success_timestamp_seconds{what=\"");
			label(b, k->marks[i].name + 8, 64);
			cd_buf_printf(b, "\"} %lld\n", strtoll(k->marks[i].value, NULL, 10));
		}
	cd_buf_adds(b, "# HELP candor_lag_seconds Seconds since each part (cycle, inbox, sources) last succeeded.\n"
		    "# TYPE candor_lag_seconds gauge\n");
	for (size_t i = 0; i < k->nmarks; i++)
		if (strncmp(k->marks[i].name, "last_ok:", 8) == 0) {
			cd_buf_adds(b, "candor_lag_seconds{what=\"");
			label(b, k->marks[i].name + 8, 64);
			cd_buf_printf(b, "\"} %lld\n", (long long)(now - strtoll(k->marks[i].value,
										 NULL, 10)));
		}
	for (size_t i = 0; i < k->nmarks; i++)
		if (strcmp(k->marks[i].name, "metric:cycle_seconds") == 0)
			cd_buf_printf(b, "# HELP candor_cycle_duration_seconds How long the last cycle took.\n"
				      "# TYPE candor_cycle_duration_seconds gauge\n"
				      "candor_cycle_duration_seconds %s\n", k->marks[i].value);
}

static enum MHD_Result get_metrics(struct cd_web *w, struct MHD_Connection *c)
{
	struct cd_web_counts k;
	struct cd_error err;
	struct cd_buf b = { 0 };
	char buf[700];
	int64_t now = cd_util_now();

	if (!may_watch(w, c))
		return send_canned(w, c, CD_WEB_METRICS, R_FORBIDDEN);
	if (cd_store_web_counts(w->st, &k, &err) < 0) {
		cd_log(CD_LOG_WARNING, "web: /metrics: %s", cd_error_format(&err, buf, sizeof(buf)));
		cd_store_web_counts_free(&k);
		return send_canned(w, c, CD_WEB_METRICS, R_UNAVAILABLE);
	}
	cd_buf_adds(&b, "# HELP candor_messages Messages by state.\n# TYPE candor_messages gauge\n");
	for (int i = 0; i < CD_MSG_NSTATES; i++)
		cd_buf_printf(&b, "candor_messages{state=\"%s\"} %lld\n",
			      cd_store_state_name((enum cd_msg_state)i), (long long)k.states[i]);
	cd_buf_printf(&b, "# HELP candor_sends_total Mails handed to the mail server.\n"
		      "# TYPE candor_sends_total counter\ncandor_sends_total %lld\n",
		      (long long)k.sends);
	cd_buf_printf(&b, "# HELP candor_suppressed_addresses Addresses never mailed again.\n"
		      "# TYPE candor_suppressed_addresses gauge\ncandor_suppressed_addresses %lld\n",
		      (long long)k.suppressed);
	held_rules(&b, &k);
	marks(&b, &k, now);
	cd_buf_adds(&b, "# HELP candor_web_requests_total Requests this web process answered.\n"
		    "# TYPE candor_web_requests_total counter\n");
	for (int r = 0; r < CD_WEB_NROUTES; r++)
		for (size_t i = 0; i <= NCODES; i++)
			if (w->counts[r][i])
				cd_buf_printf(&b, "candor_web_requests_total{route=\"%s\",code=\"%s%u\"} %llu\n",
					      route_names[r], i < NCODES ? "" : "other",
					      i < NCODES ? codes[i] : 0,
					      (unsigned long long)w->counts[r][i]);
	cd_store_web_counts_free(&k);
	if (b.oom) {
		cd_buf_free(&b);
		return send_canned(w, c, CD_WEB_METRICS, R_UNAVAILABLE);
	}
	{
		size_t len = b.len;

		return send_new(w, c, CD_WEB_METRICS, 200, "text/plain; version=0.0.4; charset=utf-8",
				cd_buf_take(&b), len, NULL);
	}
}

static enum MHD_Result get_healthz(struct cd_web *w, struct MHD_Connection *c)
{
	if (!may_watch(w, c))
		return send_canned(w, c, CD_WEB_HEALTHZ, R_FORBIDDEN);
	return send_canned(w, c, CD_WEB_HEALTHZ,
			   cd_store_web_ping(w->st, NULL) == 0 ? R_HEALTHY : R_UNAVAILABLE);
}

static enum MHD_Result do_get(struct cd_web *w, struct MHD_Connection *c,
			      const struct cd_web_route *r)
{
	switch (r->kind) {
	case CD_WEB_UNSUBSCRIBE: return get_unsubscribe(w, c, r);
	case CD_WEB_CLICK: return get_click(w, c, r);
	case CD_WEB_METRICS: return get_metrics(w, c);
	case CD_WEB_HEALTHZ: return get_healthz(w, c);
	default: return send_canned(w, c, CD_WEB_NOWHERE, R_NOT_FOUND);
	}
}

/* ---- POST /u/TOKEN ------------------------------------------------------ */

static void keep(char *dst, size_t cap, const char *data, uint64_t off, size_t size)
{
	if (off + size < cap) {
		memcpy(dst + off, data, size);
		dst[off + size] = '\0';
	} else {
		dst[0] = '?';   /* too long to be a value we accept */
		dst[1] = '\0';
	}
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	struct req *q = cls;

	if (strcmp(key, "List-Unsubscribe") == 0)
		keep(q->one_click, sizeof(q->one_click), data, off, size);
	else if (strcmp(key, "via") == 0)
		keep(q->via, sizeof(q->via), data, off, size);
	else if (strcmp(key, "undo") == 0)
		keep(q->undo, sizeof(q->undo), data, off, size);
	return MHD_YES;
}

static enum MHD_Result post_undo(struct cd_web *w, struct MHD_Connection *c,
				 struct cd_web_message *m)
{
	int64_t now = cd_util_now();
	struct cd_error err;
	char buf[700];
	int rc = cd_store_web_undo(w->st, m, now - w->cfg->http.undo_window, now, &err);

	if (rc == 0) {
		cd_log(CD_LOG_NOTICE, "order %s: unsubscribe undone on the web page (%s)",
		       m->order_id, m->recipient);
		return send_page(w, c, 200, CD_PAGE_UNDONE, m, 0);
	}
	if (rc != CD_ENOTFOUND) {
		cd_log(CD_LOG_WARNING, "web: %s", cd_error_format(&err, buf, sizeof(buf)));
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_UNAVAILABLE);
	}
	/* not suppressed (any more): that is what was asked; suppressed
	 * otherwise, or too long ago: not for this page to lift */
	if (!m->supp_reason[0])
		return send_page(w, c, 200, CD_PAGE_UNDONE, m, 0);
	return send_page(w, c, 410, CD_PAGE_TOO_LATE, m, 0);
}

static enum MHD_Result do_post(struct cd_web *w, struct MHD_Connection *c, struct req *q)
{
	struct cd_web_message m;
	enum MHD_Result rc;
	int k, one_click;

	if (!q->pp) {
		/* no form: the bare RFC 8058 body */
		while (q->rawlen && strchr(" \t\r\n", q->raw[q->rawlen - 1]))
			q->raw[--q->rawlen] = '\0';
		if (strcmp(q->raw, "List-Unsubscribe=One-Click") == 0)
			snprintf(q->one_click, sizeof(q->one_click), "One-Click");
	}
	one_click = strcmp(q->one_click, "One-Click") == 0;
	if (!one_click && strcmp(q->undo, "1") != 0)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_BAD_REQUEST);
	if ((k = lookup(w, q->route.token, &m)) >= 0)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, (enum canned)k);
	if (!one_click) {
		rc = post_undo(w, c, &m);
		cd_store_web_message_clear(&m);
		return rc;
	}
	/* written with the others of this round (flush_batch) */
	q->m = m;
	q->conn = c;
	q->state = WAITING;
	q->next = NULL;
	*w->batch_end = q;
	w->batch_end = &q->next;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* The answer to a one-click POST once its batch is written. */
static enum MHD_Result answer_one_click(struct cd_web *w, struct MHD_Connection *c,
					struct req *q)
{
	struct cd_web_message *m = &q->m;

	if (q->result < 0)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_UNAVAILABLE);
	if (q->fresh)
		cd_log(CD_LOG_NOTICE, "order %s: %s unsubscribed on the web", m->order_id, m->recipient);
	if (strcmp(q->via, "page") != 0)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_UNSUBSCRIBED);
	if (!m->supp_reason[0]) {
		m->supp_at = cd_util_now();
		snprintf(m->supp_reason, sizeof(m->supp_reason), "unsubscribed");
	}
	return send_page(w, c, 200, CD_PAGE_DONE, m, can_undo(w, m, cd_util_now()));
}

/* Write every one-click POST read in this round in one transaction (a
 * commit costs more than the rows in it, and the lock is shared with
 * candord), then let their connections answer: a 200 goes out only
 * once its row is committed. */
static void flush_batch(struct cd_web *w)
{
	int64_t now = cd_util_now();
	struct cd_error err;
	char buf[700];
	struct req *q;
	int rc;

	if (!w->batch)
		return;
	rc = cd_store_begin(w->st, &err);
	for (q = w->batch; q; q = q->next) {
		q->result = rc < 0 ? rc : cd_store_web_unsubscribe(w->st, &q->m,
			strcmp(q->via, "page") == 0 ? "web: confirmation page" : "web: one-click (RFC 8058)",
			now, &q->fresh, &err);
		if (q->result < 0 && rc == 0)
			cd_log(CD_LOG_WARNING, "web: order %s: %s", q->m.order_id,
			       cd_error_format(&err, buf, sizeof(buf)));
	}
	if (rc == 0)
		rc = cd_store_commit(w->st, &err);
	if (rc < 0)
		cd_log(CD_LOG_WARNING, "web: %s", cd_error_format(&err, buf, sizeof(buf)));
	for (q = w->batch; q; q = q->next) {
		if (rc < 0)
			q->result = rc;
		q->state = WRITTEN;
		MHD_resume_connection(q->conn);
	}
	w->batch = NULL;
	w->batch_end = &w->batch;
}

/* ---- the handler -------------------------------------------------------- */

/* The state of a GET: all there is to know is in its URL. */
static struct req get_pending;

static enum MHD_Result first_call(struct cd_web *w, struct MHD_Connection *c, const char *url,
				  const char *method, void **con_cls)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN];
	struct cd_web_route r;
	const char *cl;
	struct req *q;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

	if (!get && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return send_canned(w, c, CD_WEB_NOWHERE, R_METHOD);
	cd_web_client(ci ? ci->client_addr : NULL,
		      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"),
		      addr, sizeof(addr));
	if (!rate_ok(w, addr))
		return send_canned(w, c, CD_WEB_NOWHERE, R_TOO_MANY);
	if (strlen(url) > MAX_URL)
		return send_canned(w, c, CD_WEB_NOWHERE, R_URI_TOO_LONG);
	if (get) {
		/* answered on the next call: a response queued before MHD has
		 * read the whole request costs the connection its keep-alive */
		*con_cls = &get_pending;
		return MHD_YES;
	}
	cd_web_route(url, w->prefix, &r);
	if (r.kind == CD_WEB_NOWHERE)
		return send_canned(w, c, r.kind, R_NOT_FOUND);
	if (r.kind != CD_WEB_UNSUBSCRIBE)
		return send_canned(w, c, r.kind, R_METHOD);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > MAX_BODY)
		return send_canned(w, c, r.kind, R_TOO_BIG);
	if (!(q = calloc(1, sizeof(*q))))
		return send_canned(w, c, r.kind, R_UNAVAILABLE);
	q->route = r;
	/* NULL for a body that is no form: read it raw */
	q->pp = MHD_create_post_processor(c, 1024, post_field, q);
	*con_cls = q;
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct cd_web *w = cls;
	struct req *q = *con_cls;

	if (!q)
		return first_call(w, c, url, method, con_cls);
	if (q == &get_pending) {
		struct cd_web_route r;

		*upload_size = 0;   /* a GET body is ignored */
		cd_web_route(url, w->prefix, &r);
		return do_get(w, c, &r);
	}
	if (q->state == WRITTEN)
		return answer_one_click(w, c, q);
	if (q->state == WAITING)
		return MHD_YES;
	if (*upload_size) {
		size_t n = *upload_size;

		q->body += n;
		*upload_size = 0;
		if (q->body > MAX_BODY)
			return MHD_YES;   /* read and dropped; 413 at the end */
		if (q->pp) {
			/* a malformed form leaves the fields unset: 400 at the end */
			MHD_post_process(q->pp, upload, n);
			return MHD_YES;
		}
		if (q->rawlen + n < sizeof(q->raw)) {
			memcpy(q->raw + q->rawlen, upload, n);
			q->rawlen += n;
			q->raw[q->rawlen] = '\0';
		} else {
			q->rawlen = sizeof(q->raw) - 1;  /* too long to be the one body */
			q->raw[0] = '?';
		}
		return MHD_YES;
	}
	if (q->body > MAX_BODY)
		return send_canned(w, c, CD_WEB_UNSUBSCRIBE, R_TOO_BIG);
	return do_post(w, c, q);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (!q || q == &get_pending)
		return;
	if (q->pp)
		MHD_destroy_post_processor(q->pp);
	cd_store_web_message_clear(&q->m);
	free(q);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/* what clients get wrong is theirs, not the admin's: debug */
	cd_log(CD_LOG_DEBUG, "web: %s", line);
}

/* ---- life ------------------------------------------------------------------ */

static int open_listener(const char *listen_at, struct cd_error *err)
{
	struct cd_web_addr a;
	int one = 1, fd;

	if (cd_web_parse_listen(listen_at, &a) < 0)
		return cd_error_set(err, CD_EINVAL, NULL, 0, "http.listen \"%s\" is not an address and port",
				    listen_at);
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cd_error_set(err, CD_EIO, NULL, 0, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 || listen(fd, 1024) < 0) {
		int e = errno;

		close(fd);
		return cd_error_set(err, CD_EIO, NULL, 0, "cannot listen on %s: %s", listen_at,
				    strerror(e));
	}
	return fd;
}

/* The path part of http.public_url ("https://shop.example/candor" ->
 * "/candor"), which a proxy may pass on. */
static void public_prefix(const char *url, char *out, size_t len)
{
	const char *p = url && strncmp(url, "https://", 8) == 0 ? strchr(url + 8, '/') : NULL;

	snprintf(out, len, "%s", p ? p : "");
}

int cd_web_start(const struct cd_config *cfg, struct cd_store *st,
		 const unsigned char secret[32], int fd, struct cd_web **out,
		 struct cd_error *err)
{
	struct cd_web *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	w->cfg = cfg;
	w->st = st;
	w->fd = -1;
	w->batch_end = &w->batch;
	memcpy(w->secret, secret, 32);
	public_prefix(cfg->http.public_url, w->prefix, sizeof(w->prefix));
	if (fd < 0 && (fd = open_listener(cfg->http.listen, err)) < 0) {
		rc = fd;
		goto fail;
	}
	w->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((rc = make_canned(w)) < 0) {
		cd_error_set(err, rc, NULL, 0, "out of memory");
		goto fail;
	}
	w->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
				MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
				handle, w,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http.max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned)cfg->http.connections_per_address,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http.timeout,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
				MHD_OPTION_NOTIFY_COMPLETED, completed, w,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
				MHD_OPTION_END);
	if (!w->d) {
		rc = cd_error_set(err, CD_EIO, NULL, 0, "libmicrohttpd would not start on the socket");
		close(fd);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	cd_web_stop(w);
	return rc;
}

void cd_web_set_config(struct cd_web *w, const struct cd_config *cfg)
{
	w->cfg = cfg;
	public_prefix(cfg->http.public_url, w->prefix, sizeof(w->prefix));
}

int cd_web_fd(struct cd_web *w)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

int64_t cd_web_timeout_ms(struct cd_web *w)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(w->d, &t) != MHD_YES)
		return -1;
	return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

void cd_web_serve(struct cd_web *w)
{
	MHD_run(w->d);
	if (w->batch) {
		flush_batch(w);
		MHD_run(w->d);   /* the resumed connections answer */
	}
}

uint64_t cd_web_requests(const struct cd_web *w)
{
	return w->requests;
}

void cd_web_stop(struct cd_web *w)
{
	if (!w)
		return;
	flush_batch(w);   /* no connection left suspended */
	if (w->d) {
		MHD_run(w->d);
		MHD_stop_daemon(w->d);
	}
	for (int k = 0; k < R_NCANNED; k++)
		if (w->canned[k])
			MHD_destroy_response(w->canned[k]);
	/* MHD_stop_daemon() closed the listening socket */
	cd_util_wipe(w->secret, sizeof(w->secret));
	free(w);
}
