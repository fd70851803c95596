/*
 * smtp.c - the SMTP transport on libcurl's multi interface: one easy
 * handle per connection (smtp.connections, default 2), all driven
 * together from one thread. TLS is required unless the server is on
 * loopback or the admin said tls = "none"; CURLUSESSL_TRY is never used.
 *
 * The daemon keeps the transport, and so its one multi handle, for its
 * whole life: the connections live in the multi handle's pool and are
 * reused from message to message and from cycle to cycle (libcurl drops
 * one the server has closed meanwhile). A reload makes new easy handles
 * under the new settings and keeps the pool - unless the server, the
 * credentials or the TLS settings changed: then a connection made under
 * the old ones must not carry another mail, and a new multi handle
 * starts an empty pool.
 *
 * The outcome of a message is read from what the server said last and to
 * which command (libcurl's debug callback shows both): a 5xx to RCPT is
 * the recipient's problem, a 5xx to MAIL FROM or a refused login is ours,
 * a connection lost before the whole message was written to it is a
 * deferral (libcurl writes the final dot only after the last byte of the
 * message, so the server cannot have taken it), and one lost after that
 * leaves the outcome unknown - which is never retried.
 *
 * A stop (cd_transport_set_stop) gives the transfers in flight a grace,
 * then cuts every connection with shutdown(2): libcurl sees an error on
 * each, so none can end with the final dot after a cut-off message (a
 * transfer removed from the multi handle with no error would get one),
 * and none waits for a server that no longer answers. libcurl waits for
 * the answer to the final dot inside one call, where only the progress
 * callback runs; that callback applies the same deadline. Sockets are
 * opened and closed through our callbacks so the transport knows them.
 */
#include "config.h"

#include <ctype.h>

#include <curl/curl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "candor/buf.h"
#include "candor/config.h"
#include "candor/transport_impl.h"
#include "candor/util.h"

#define QUIT_WAIT_S 2L /* for the answer to QUIT when closing */
#define SEND_BUFFER (64 * 1024)

struct smtp;

struct slot {
	struct smtp *owner;
	CURL *easy;
	int busy;
	struct cd_outgoing msg;     /* the caller's; strings borrowed */
	struct curl_slist *rcpt;    /* must live until the transfer ends */
	size_t off;                 /* bytes of msg.data handed to libcurl */
	int data_done;              /* the whole message was handed to libcurl */
	char last_cmd[8];           /* verb of the last command sent */
	char last_reply[256];       /* the last line the server sent */
	int quitting;               /* QUIT sent: later lines are not the verdict */
	int in_auth;                /* between AUTH and its outcome */
	int cut;                    /* its connection was cut by a stop */
	char errbuf[CURL_ERROR_SIZE];
};

struct smtp {
	CURLM *multi;
	struct slot *slots;
	size_t nslots, busy;
	unsigned char peer[32]; /* what the pooled connections were made under */
	int peer_known;
	int *socks;             /* every socket libcurl has open */
	size_t nsocks, capsocks;
	const volatile sig_atomic_t *stop;
	int64_t grace_ms;
	int64_t stop_at;        /* monotonic ms to cut at; 0: no stop seen */
	int cutting;            /* the connections were cut */
};

/* ---- stopping ------------------------------------------------------------- */

/* When the transfers in flight are to be cut: 0 while no stop was asked
 * for, else the moment it was first seen plus the grace. */
static int64_t stop_deadline(struct smtp *s)
{
	if (!s->stop || !*s->stop)
		return 0;
	if (!s->stop_at)
		s->stop_at = cd_util_mono_ms() + s->grace_ms;
	return s->stop_at;
}

/* Cut every connection: each transfer on one ends with an error, and a
 * pooled one goes without a QUIT. */
static void cut_all(struct smtp *s)
{
	s->cutting = 1;
	for (size_t i = 0; i < s->nsocks; i++)
		shutdown(s->socks[i], SHUT_RDWR);
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].busy)
			s->slots[i].cut = 1;
}

/* Past the deadline? Then cut (once). */
static int must_cut(struct smtp *s)
{
	int64_t d = stop_deadline(s);

	if (!d)
		return 0;
	if (!s->cutting && cd_util_mono_ms() >= d)
		cut_all(s);
	return s->cutting;
}

static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct slot *sl = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return must_cut(sl->owner) ? 1 : 0;
}

static curl_socket_t open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct smtp *s = arg;
	int fd;

	(void)purpose;
	if (s->cutting)
		return CURL_SOCKET_BAD; /* no new connection after a stop */
	if (s->nsocks == s->capsocks) {
		size_t cap = s->capsocks ? s->capsocks * 2 : 8;
		int *n = realloc(s->socks, cap * sizeof(*n));

		if (!n)
			return CURL_SOCKET_BAD;
		s->socks = n;
		s->capsocks = cap;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	/* The kernel takes at most this much of a message ahead of the
	 * server (Linux doubles it), so "every byte written" is close to
	 * "every byte sent": without it a 4 MB send buffer swallows a whole
	 * mail and its final dot, and a reset half-way through the message
	 * would look like one after its end. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ SEND_BUFFER }, sizeof(int));
	s->socks[s->nsocks++] = fd;
	return fd;
}

static int close_cb(void *arg, curl_socket_t fd)
{
	struct smtp *s = arg;

	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i] == fd) {
			s->socks[i] = s->socks[--s->nsocks];
			break;
		}
	return close(fd);
}

static void smtp_set_stop(struct cd_transport *t, const volatile sig_atomic_t *stop,
			  int64_t grace_ms)
{
	struct smtp *s = t->priv;

	s->stop = stop;
	s->grace_ms = grace_ms > 0 ? grace_ms : 0;
	if ((!stop || !*stop) && !s->busy)
		s->stop_at = 0, s->cutting = 0;
}

/* ---- one transfer ------------------------------------------------------- */

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct slot *sl = arg;
	size_t room = size * nmemb, n = sl->msg.len - sl->off;

	if (sl->owner->cutting)
		return CURL_READFUNC_ABORT;
	if (n > room)
		n = room;
	memcpy(buf, sl->msg.data + sl->off, n);
	sl->off += n;
	/* libcurl has every byte; whether it wrote them all is asked at the
	 * end (CURLINFO_SIZE_UPLOAD_T) */
	if (sl->off == sl->msg.len)
		sl->data_done = 1;
	return n;
}

/* "candorctl send-test": the dialogue, with what follows AUTH masked
 * until the server says how it went. */
static void transcribe(struct slot *sl, curl_infotype type, const char *data, size_t n)
{
	struct cd_buf *b = sl->msg.transcript;

	if (type == CURLINFO_HEADER_IN) {
		cd_buf_printf(b, "S: %.*s\n", (int)n, data);
		if (sl->in_auth && (data[0] == '2' || data[0] == '5' || data[0] == '4'))
			sl->in_auth = 0;
	} else if (type == CURLINFO_HEADER_OUT) {
		if (n >= 4 && strncasecmp(data, "AUTH", 4) == 0) {
			size_t mech = 5 + strcspn(data + (n > 5 ? 5 : n), " \r\n");

			cd_buf_printf(b, "C: %.*s ****\n", (int)(mech < n ? mech : n), data);
			sl->in_auth = 1;
		} else {
			cd_buf_printf(b, "C: %.*s\n", sl->in_auth ? 4 : (int)n, sl->in_auth ? "****" : data);
		}
	}
}

/* Keep the last server line and the verb of the last command. */
static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
	struct slot *sl = arg;
	size_t n = size;

	(void)easy;
	while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	if (sl->msg.transcript && n > 0)
		transcribe(sl, type, data, n);
	if (sl->quitting)
		return 0;
	if (type == CURLINFO_HEADER_IN && n > 0) {
		/* of a multi-line reply, the last line has the final word */
		const char *line = data, *nl;

		while ((nl = memchr(line, '\n', n - (size_t)(line - data))) != NULL &&
		       (size_t)(nl + 1 - data) < n)
			line = nl + 1;
		snprintf(sl->last_reply, sizeof(sl->last_reply), "%.*s",
			 (int)(n - (size_t)(line - data)), line);
	} else if (type == CURLINFO_HEADER_OUT && n > 0) {
		size_t v = strcspn(data, " :\r\n");

		if (v == 4 && strncasecmp(data, "QUIT", 4) == 0)
			sl->quitting = 1;
		else
			snprintf(sl->last_cmd, sizeof(sl->last_cmd), "%.*s", (int)(v < 7 ? v : 7), data);
	}
	return 0;
}

/* Is the URL's host this machine: "localhost", 127.x.x.x or [::1], as
 * the whole host - after any user info, before the port - so neither
 * "127.0.0.1@elsewhere" nor "localhost.example" counts. */
static int is_loopback_url(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;
	char host[256];
	size_t n;
	int dots = 0;

	if (!p)
		return 0;
	p += 3;
	end = p + strcspn(p, "/?#");
	for (at = p; (at = memchr(at, '@', (size_t)(end - at))); p = ++at)
		;
	if (*p == '[')
		return strncmp(p, "[::1]", 5) == 0 && (p[5] == ':' || p + 5 == end);
	n = strcspn(p, ":/?#");
	if (n == 0 || n >= sizeof(host) || p + n > end)
		return 0;
	memcpy(host, p, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (const char *c = host; *c; c++) {
		if (*c == '.')
			dots++;
		else if (!isdigit((unsigned char)*c))
			return 0;
	}
	return dots == 3;
}

static int setup_easy(struct smtp *s, struct slot *sl, const struct cd_config *cfg)
{
	int plain = cfg->smtp.tls == CD_TLS_NONE ||
		    (cfg->smtp.tls == CD_TLS_AUTO && is_loopback_url(cfg->smtp.url));
	CURL *e = curl_easy_init();

	if (!e)
		return CD_ENOMEM;
	sl->easy = e;
	sl->owner = s;
	curl_easy_setopt(e, CURLOPT_URL, cfg->smtp.url);
	curl_easy_setopt(e, CURLOPT_USE_SSL, plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->smtp.verify_certificate ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->smtp.verify_certificate ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)cfg->smtp.connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)cfg->smtp.timeout);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, sl);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, sl);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, sl);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, s);
	if (*cfg->smtp.username) {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->smtp.username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->smtp.password ? cfg->smtp.password : "");
	}
	return 0;
}

static void free_slots(struct smtp *s)
{
	for (size_t i = 0; i < s->nslots; i++) {
		if (s->slots[i].busy)
			curl_multi_remove_handle(s->multi, s->slots[i].easy);
		curl_easy_cleanup(s->slots[i].easy);
		curl_slist_free_all(s->slots[i].rcpt);
	}
	free(s->slots);
	s->slots = NULL;
	s->nslots = s->busy = 0;
}

/* The easy handles for CFG, one per connection, made before the old
 * ones go so a failure leaves the transport as it was. */
static int make_slots(struct smtp *s, const struct cd_config *cfg, struct cd_error *err)
{
	size_t n = cfg->smtp.connections > 0 ? (size_t)cfg->smtp.connections : 1, i;
	struct slot *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "cannot start libcurl");
	for (i = 0; i < n; i++)
		if (setup_easy(s, &slots[i], cfg) < 0)
			break;
	if (i < n) {
		while (i-- > 0)
			curl_easy_cleanup(slots[i].easy);
		free(slots);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "cannot start libcurl");
	}
	free_slots(s);
	s->slots = slots;
	s->nslots = n;
	/* never more connections than slots: a burst of 10,000 mails opens
	 * smtp.connections connections, not 10,000 */
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)n);
	return 0;
}

/* A digest of what a connection is made under (server, TLS, who logs
 * in), so a reload can tell whether the pooled ones still fit without
 * keeping a copy of the password. Returns 0, or -1 when it cannot be
 * made (then nothing fits and the pool starts afresh). */
static int peer_key(const struct cd_config *cfg, unsigned char out[32])
{
	const char *fields[] = { cfg->smtp.url, cfg->smtp.tls == CD_TLS_NONE ? "none"
				 : cfg->smtp.tls == CD_TLS_REQUIRED ? "required" : "auto",
				 cfg->smtp.verify_certificate ? "verify" : "trust",
				 cfg->smtp.username, cfg->smtp.password ? cfg->smtp.password : "" };
	struct cd_buf b = { 0 };
	int rc;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cd_buf_add(&b, fields[i] ? fields[i] : "", strlen(fields[i] ? fields[i] : "") + 1);
	rc = !b.oom && gnutls_hash_fast(GNUTLS_DIG_SHA256, b.data, b.len, out) == 0 ? 0 : -1;
	if (b.data)
		cd_util_wipe(b.data, b.len);
	cd_buf_free(&b);
	return rc;
}

/* The answer to QUIT is awaited by libcurl's own closing handle, which
 * takes its response timeout from the easy handle added last: add one
 * that says QUIT_WAIT_S, so a server that answers no QUIT cannot hold a
 * close (or a stop) for libcurl's default two minutes. */
static void bound_quit(struct smtp *s)
{
	CURL *e = curl_easy_init();

	if (!e)
		return;
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, QUIT_WAIT_S);
	if (curl_multi_add_handle(s->multi, e) == CURLM_OK)
		curl_multi_remove_handle(s->multi, e);
	curl_easy_cleanup(e);
}

static void smtp_close(struct cd_transport *t)
{
	struct smtp *s = t->priv;

	if (!s)
		return;
	/* transfers still running (a stop, or a failure mid-cycle) end with
	 * their connection cut, never with a final dot after half a message */
	if (s->busy || stop_deadline(s))
		cut_all(s);
	free_slots(s);
	if (s->multi) {
		bound_quit(s);
		curl_multi_cleanup(s->multi); /* QUIT on every pooled connection */
	}
	free(s->socks);
	free(s);
	t->priv = NULL;
}

static int smtp_open(struct cd_transport *t, const struct cd_config *cfg,
		     struct cd_error *err)
{
	struct smtp *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	t->priv = s;
	if (!(s->multi = curl_multi_init())) {
		smtp_close(t);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "cannot start libcurl");
	}
	if ((rc = make_slots(s, cfg, err)) < 0) {
		smtp_close(t);
		return rc;
	}
	s->peer_known = peer_key(cfg, s->peer) == 0;
	return 0;
}

/* New settings between cycles (nothing in flight): new easy handles, and
 * the same multi handle and pool while the connections still fit. */
static int smtp_reload(struct cd_transport *t, const struct cd_config *cfg,
		       struct cd_error *err)
{
	struct cd_transport fresh = { .ops = t->ops };
	struct smtp *s = t->priv;
	unsigned char key[32];
	int rc;

	if (s->peer_known && peer_key(cfg, key) == 0 && memcmp(key, s->peer, sizeof(key)) == 0)
		return make_slots(s, cfg, err);
	if ((rc = smtp_open(&fresh, cfg, err)) < 0)
		return rc;
	smtp_close(t);
	t->priv = fresh.priv;
	return 0;
}

static int smtp_submit(struct cd_transport *t, const struct cd_outgoing *msg)
{
	struct smtp *s = t->priv;
	struct slot *sl = NULL;

	for (size_t i = 0; i < s->nslots && !sl; i++)
		if (!s->slots[i].busy)
			sl = &s->slots[i];
	if (!sl)
		return CD_EBUSY;
	if (!(sl->rcpt = curl_slist_append(NULL, msg->recipient)))
		return CD_ENOMEM;
	sl->msg = *msg;
	sl->off = 0;
	sl->data_done = 0;
	sl->quitting = 0;
	sl->in_auth = 0;
	sl->last_cmd[0] = sl->last_reply[0] = sl->errbuf[0] = '\0';
	curl_easy_setopt(sl->easy, CURLOPT_MAIL_FROM, msg->envelope_from);
	curl_easy_setopt(sl->easy, CURLOPT_MAIL_RCPT, sl->rcpt);
	curl_easy_setopt(sl->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	if (curl_multi_add_handle(s->multi, sl->easy) != CURLM_OK) {
		curl_slist_free_all(sl->rcpt);
		sl->rcpt = NULL;
		return CD_ENOMEM;
	}
	sl->busy = 1;
	s->busy++;
	return 0;
}

/* A 5.1.x enhanced status (bad mailbox or address) in a reply. */
static int bad_mailbox(const char *reply)
{
	const char *p = reply;

	while (*p >= '0' && *p <= '9')
		p++;
	while (*p == ' ' || *p == '-')
		p++;
	return p[0] == '5' && p[1] == '.' && p[2] == '1' && p[3] == '.';
}

/* A 5xx to the greeting (no command yet), EHLO, HELO, STARTTLS, AUTH or
 * MAIL FROM refuses us — our address, our sender, the wrong relay —, not
 * the customer's message: sending pauses, and no message fails for it. */
static int session_refused(const char *last_cmd)
{
	static const char *const verbs[] = { "", "EHLO", "HELO", "STARTTL", "AUTH", "MAIL" };

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcasecmp(last_cmd, verbs[i]) == 0)
			return 1;
	return 0;
}

static enum cd_send_outcome outcome(const struct slot *sl, CURLcode rc, long code)
{
	curl_off_t sent = 0;
	int whole;

	if (rc == CURLE_OK)
		return CD_SEND_SENT;
	/* Did every byte of the message reach the socket? libcurl writes
	 * the final dot only after that; dot-stuffing makes the count only
	 * larger. */
	curl_easy_getinfo(sl->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
	whole = sl->data_done && sent >= (curl_off_t)sl->msg.len;
	if (sl->cut)
		return whole ? CD_SEND_UNKNOWN : CD_SEND_STOPPED;
	/* our side: credentials, TLS the server does not offer or a
	 * certificate that does not verify, a refused sender */
	if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED ||
	    rc == CURLE_PEER_FAILED_VERIFICATION)
		return CD_SEND_PAUSED;
	if (code >= 500 && code < 600 && session_refused(sl->last_cmd))
		return CD_SEND_PAUSED;
	if (code >= 500 && code < 600)
		return CD_SEND_FAILED;
	if (code >= 400 && code < 500)
		return CD_SEND_DEFERRED;
	/* the whole message went and no verdict came back */
	if (whole)
		return CD_SEND_UNKNOWN;
	return CD_SEND_DEFERRED;
}

static void finish(struct smtp *s, struct slot *sl, CURLcode rc, cd_transport_done_fn done,
		   void *arg)
{
	struct cd_send_result res = { 0 };
	long code = 0;

	curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(s->multi, sl->easy);
	res.code = (int)code;
	res.outcome = outcome(sl, rc, code);
	res.bad_mailbox = res.outcome == CD_SEND_FAILED &&
			  strcasecmp(sl->last_cmd, "RCPT") == 0 && bad_mailbox(sl->last_reply);
	if (rc == CURLE_OK || (code >= 400 && *sl->last_reply))
		snprintf(res.reply, sizeof(res.reply), "%s", sl->last_reply);
	else if (sl->cut)
		snprintf(res.reply, sizeof(res.reply), "stopped after smtp.stop_grace%s%s",
			 *sl->last_cmd ? ", waiting for the answer to " : " while connecting",
			 sl->last_cmd);
	else
		snprintf(res.reply, sizeof(res.reply), "%.200s%s%s", *sl->errbuf ? sl->errbuf
			 : curl_easy_strerror(rc), *sl->last_cmd ? " after " : "", sl->last_cmd);
	curl_slist_free_all(sl->rcpt);
	sl->rcpt = NULL;
	sl->busy = 0;
	sl->cut = 0;
	s->busy--;
	done(arg, &sl->msg, &res);
}

/* How long a poll may wait: TIMEOUT_MS, but never past a stop's
 * deadline, and only a moment once the connections are cut. */
static int wait_ms(struct smtp *s, int timeout_ms)
{
	int64_t d = stop_deadline(s), left;

	if (s->cutting)
		return timeout_ms < 50 ? timeout_ms : 50;
	if (!d)
		return timeout_ms;
	left = d - cd_util_mono_ms();
	return left < 0 ? 0 : left < timeout_ms ? (int)left : timeout_ms;
}

static size_t smtp_poll(struct cd_transport *t, int timeout_ms, cd_transport_done_fn done,
			void *arg)
{
	struct smtp *s = t->priv;
	int running = 0, left;
	CURLMsg *m;

	if (!s->busy)
		return 0;
	must_cut(s);
	curl_multi_perform(s->multi, &running);
	if (running == (int)s->busy)
		curl_multi_poll(s->multi, NULL, 0, wait_ms(s, timeout_ms), NULL);
	must_cut(s);
	curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct slot *sl = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		finish(s, sl, m->data.result, done, arg);
	}
	return s->busy;
}

static size_t smtp_slots(const struct cd_transport *t)
{
	const struct smtp *s = t->priv;

	return s->nslots;
}

const struct cd_transport_ops cd_smtp_ops = {
	.name = "smtp", .open = smtp_open, .reload = smtp_reload, .submit = smtp_submit,
	.poll = smtp_poll, .slots = smtp_slots, .set_stop = smtp_set_stop, .close = smtp_close,
};
