/*
 * smtp.c - the SMTP transport on libcurl. One easy handle lives as long
 * as the transport, so libcurl keeps the connection open between
 * messages. TLS is required unless the server is on loopback or the admin
 * said tls = "none"; CURLUSESSL_TRY is never used.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/transport_impl.h"

struct smtp {
	CURL *curl;
	const struct cd_config *cfg; /* borrowed for the transport's life */
};

struct reader {
	const char *data;
	size_t len, off;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t room = size * nmemb, n = r->len - r->off;

	if (n > room)
		n = room;
	memcpy(buf, r->data + r->off, n);
	r->off += n;
	return n;
}

static int is_loopback_url(const char *url)
{
	const char *host = strstr(url, "://");

	if (!host)
		return 0;
	host += 3;
	return strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.", 4) == 0 ||
	       strncmp(host, "[::1]", 5) == 0;
}

static int smtp_open(struct cd_transport *t, const struct cd_config *cfg,
		     struct cd_error *err)
{
	struct smtp *s = calloc(1, sizeof(*s));
	int plain;

	if (!s || !(s->curl = curl_easy_init())) {
		free(s);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "cannot start libcurl");
	}
	s->cfg = cfg;
	plain = cfg->smtp.tls == CD_TLS_NONE ||
		(cfg->smtp.tls == CD_TLS_AUTO && is_loopback_url(cfg->smtp.url));
	curl_easy_setopt(s->curl, CURLOPT_URL, cfg->smtp.url);
	curl_easy_setopt(s->curl, CURLOPT_USE_SSL, plain ? (long)CURLUSESSL_NONE
						  : (long)CURLUSESSL_ALL);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, cfg->smtp.verify_certificate ? 1L : 0L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, cfg->smtp.verify_certificate ? 2L : 0L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, (long)cfg->smtp.connect_timeout);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long)cfg->smtp.timeout);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_cb);
	if (*cfg->smtp.username) {
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, cfg->smtp.username);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD,
				 cfg->smtp.password ? cfg->smtp.password : "");
	}
	t->priv = s;
	return 0;
}

static enum cd_send_outcome classify(CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return CD_SEND_SENT;
	if (rc == CURLE_LOGIN_DENIED)
		return CD_SEND_PAUSED;
	if (code >= 500 && code < 600)
		return CD_SEND_FAILED;
	return CD_SEND_DEFERRED;
}

static void smtp_send(struct cd_transport *t, const struct cd_outgoing *msg,
		      struct cd_send_result *res)
{
	struct smtp *s = t->priv;
	struct reader r = { .data = msg->data, .len = msg->len };
	struct curl_slist *rcpt = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	/* the list must live until the transfer ends */
	rcpt = curl_slist_append(NULL, msg->recipient);
	if (!rcpt) {
		res->outcome = CD_SEND_DEFERRED;
		snprintf(res->reply, sizeof(res->reply), "out of memory");
		return;
	}
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, msg->envelope_from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, &r);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(rcpt);
	res->code = (int)code;
	res->outcome = classify(rc, code);
	snprintf(res->reply, sizeof(res->reply), "%ld %s", code,
		 rc == CURLE_OK ? "accepted" : (*errbuf ? errbuf : curl_easy_strerror(rc)));
}

static void smtp_close(struct cd_transport *t)
{
	struct smtp *s = t->priv;

	if (!s)
		return;
	curl_easy_cleanup(s->curl);
	free(s);
}

const struct cd_transport_ops cd_smtp_ops = {
	.name = "smtp", .open = smtp_open, .send = smtp_send, .close = smtp_close,
};
