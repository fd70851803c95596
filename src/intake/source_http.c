/*
 * source_http.c - the HTTPS client the API sources share
 * (source_api.h): one libcurl easy handle per source in a multi handle
 * of its own, both kept for the source's life so the connection to the
 * shop is reused, and so a request can be on its way while candor
 * writes the last answer; TLS verified
 * (the admin's CA file or the system's); a timeout per request well
 * under half the watchdog; a response larger than max_response refused
 * as soon as it is known to be (Content-Length, or while it streams),
 * never read whole; Retry-After and X-WP-TotalPages read from the
 * headers. Secrets go in headers or Basic auth and never into a message.
 */
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "candor/config_parse.h"
#include "candor/units.h"
#include "candor/util.h"
#include "source_api.h"

/* ---- settings ------------------------------------------------------------------- */

int api_parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	if (!strcasecmp(end, "KB") || !strcasecmp(end, "K"))
		mul = 1024;
	else if (!strcasecmp(end, "MB") || !strcasecmp(end, "M"))
		mul = 1024 * 1024;
	else if (!strcasecmp(end, "GB") || !strcasecmp(end, "G"))
		mul = 1024LL * 1024 * 1024;
	else if (*end && strcasecmp(end, "B"))
		return -1;
	if (v <= 0 || v > INT64_MAX / mul / 2)
		return -1;
	*out = v * mul;
	return 0;
}

void api_conf_parse(struct cd_config_loader *ld, struct api_conf *c, const config_setting_t *g,
		    const char *dp, int batch_max)
{
	char *size, sp[96];

	c->tls_ca = cd_cfg_path(ld, g, dp, "tls_ca");
	c->timeout = cd_cfg_duration(ld, g, dp, "timeout", "30s");
	snprintf(sp, sizeof(sp), "%s.timeout", dp);
	/* the watchdog is 3 minutes: a request must end well inside half */
	if (c->timeout < 1 || c->timeout > 60)
		cd_cfg_report(ld, config_setting_get_member(g, "timeout"), sp,
			      "timeout must be between 1s and 60s (under half the watchdog)");
	c->batch = (int)cd_cfg_int(ld, g, dp, "batch", batch_max, 1, batch_max);
	c->channel = cd_cfg_string(ld, g, dp, "channel", "", 0);
	c->feedback = cd_cfg_bool(g, "feedback", 1);
	size = cd_cfg_string(ld, g, dp, "max_response", "50MB", 0);
	snprintf(sp, sizeof(sp), "%s.max_response", dp);
	if (size && api_parse_size(size, &c->max_response) < 0)
		cd_cfg_report(ld, config_setting_get_member(g, "max_response"), sp,
			      "max_response \"%s\" is not a size such as \"50MB\"", size);
	free(size);
}

void api_conf_print(const struct api_conf *c, FILE *out, const char *in)
{
	cd_cfg_put_string(out, in, "tls_ca", c->tls_ca);
	cd_cfg_put_duration(out, in, "timeout", c->timeout);
	fprintf(out, "%sbatch = %d;\n", in, c->batch);
	if (c->max_response % (1024 * 1024) == 0)
		fprintf(out, "%smax_response = \"%lldMB\";\n", in,
			(long long)(c->max_response / (1024 * 1024)));
	else
		fprintf(out, "%smax_response = \"%lld\";\n", in, (long long)c->max_response);
	cd_cfg_put_string(out, in, "channel", c->channel);
}

void api_conf_free(struct api_conf *c)
{
	free(c->tls_ca);
	free(c->channel);
}

void api_format_time(int64_t t, int iso, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- the client ------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct api_http *h = arg;

	n *= size;
	if (h->body.len + n > (size_t)h->c->max_response) {
		h->too_big = 1;
		return 0; /* libcurl ends the transfer */
	}
	cd_buf_add(&h->body, p, n);
	return h->body.oom ? 0 : n;
}

/* Retry-After: seconds, or an HTTP date. */
static int64_t retry_after(const char *v)
{
	struct tm tm = { 0 };

	while (*v == ' ')
		v++;
	if (isdigit((unsigned char)*v))
		return strtoll(v, NULL, 10);
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
		int64_t d = (int64_t)timegm(&tm) - cd_util_now();

		return d > 0 ? d : 0;
	}
	return -1;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct api_http *h = arg;
	char line[256];
	size_t len = size * n;

	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strncasecmp(line, "HTTP/", 5)) {
		/* a new response (after 100 Continue): forget the last one's */
		h->retry_after = -1;
		h->total_pages = -1;
	} else if (!strncasecmp(line, "Retry-After:", 12)) {
		h->retry_after = retry_after(line + 12);
	} else if (!strncasecmp(line, "X-WP-TotalPages:", 16)) {
		h->total_pages = strtol(line + 16, NULL, 10);
	}
	return len;
}

int api_http_open(struct api_http *h, const struct api_conf *c, struct cd_error *err)
{
	CURL *cu;

	memset(h, 0, sizeof(*h));
	h->c = c;
	if (!(h->multi = curl_multi_init()) || !(cu = curl_easy_init())) {
		if (h->multi)
			curl_multi_cleanup(h->multi);
		h->multi = NULL;
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	h->curl = cu;
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->tls_ca && *c->tls_ca)
		curl_easy_setopt(cu, CURLOPT_CAINFO, c->tls_ca);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, (long)(c->timeout < 10 ? c->timeout : 10));
	/* a redirect would carry the token elsewhere: an error instead */
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
	curl_easy_setopt(cu, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "candor/" PACKAGE_VERSION);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, h->errbuf);
	return 0;
}

static void free_headers(struct curl_slist *l)
{
	/* they may hold the token: wiped before they go */
	for (struct curl_slist *p = l; p; p = p->next)
		cd_util_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void api_http_close(struct api_http *h)
{
	api_http_abandon(h);
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	h->curl = NULL;
	h->multi = NULL;
	cd_buf_free(&h->body);
}

static int transfer_failed(struct api_http *h, CURLcode cc, const char *shown,
			   struct cd_error *err)
{
	char mb[32];

	snprintf(mb, sizeof(mb), "%lld MB", (long long)(h->c->max_response / (1024 * 1024)));
	if (h->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return cd_error_set(err, CD_EIO, NULL, 0, "%s: the response is larger than "
				    "max_response (%s): refused, not read (a smaller batch helps)",
				    shown, h->c->max_response >= 1024 * 1024 ? mb : "set");
	if (h->body.oom)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return cd_error_set(err, CD_EIO, NULL, 0, "%s: no answer within %llds", shown,
				    (long long)h->c->timeout);
	if (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING)
		return cd_error_set(err, CD_EIO, NULL, 0, "%s: the connection broke during the "
				    "answer (%s)", shown, h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
	return cd_error_set(err, CD_EIO, NULL, 0, "%s: %s", shown,
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
}

static int http_status(struct api_http *h, const char *shown, struct cd_error *err)
{
	long st = h->status;

	if (st >= 200 && st < 300)
		return API_OK;
	if (st == 429)
		return API_THROTTLED;
	if (st == 401 || st == 403) {
		/* the cause first: STATUS= shows the start of it */
		cd_error_set(err, CD_EPROTO, NULL, 0, "the shop refused candor's credentials "
			     "(HTTP %ld %s) at %s: check the token or key files and the app's read "
			     "permissions; polling paused", st,
			     st == 401 ? "Unauthorized" : "Forbidden", shown);
		return API_REFUSED;
	}
	if (st >= 300 && st < 400)
		return cd_error_set(err, CD_EPROTO, NULL, 0, "%s: redirected (HTTP %ld); candor "
				    "does not follow redirects: set the shop's final https address",
				    shown, st);
	if (st >= 500)
		return cd_error_set(err, CD_EIO, NULL, 0, "%s: the shop answered HTTP %ld "
				    "(a server error)", shown, st);
	return cd_error_set(err, CD_EPROTO, NULL, 0, "%s: the shop answered HTTP %ld%s", shown, st,
			    st == 404 ? " (not found: check the address and api_version)" : "");
}

int api_http_start(struct api_http *h, const char *url, const char *shown,
		   const char *const *headers, const char *user, const char *pass,
		   const char *body, struct cd_error *err)
{
	CURL *cu = h->curl;
	struct curl_slist *hl = NULL, *nl;
	int running;

	api_http_abandon(h);
	h->body.len = 0;
	h->body.oom = 0;
	h->too_big = 0;
	h->status = 0;
	h->retry_after = -1;
	h->total_pages = -1;
	h->errbuf[0] = 0;
	snprintf(h->shown, sizeof(h->shown), "%s", shown);
	for (; headers && *headers; headers++) {
		if (!(nl = curl_slist_append(hl, *headers)))
			goto oom;
		hl = nl;
	}
	if (body) {
		if (!(nl = curl_slist_append(hl, "Content-Type: application/json")))
			goto oom;
		hl = nl;
		if (!(h->post = strdup(body)))
			goto oom;
	}
	h->headers = hl;
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(cu, CURLOPT_HTTPAUTH, user ? CURLAUTH_BASIC : CURLAUTH_NONE);
	curl_easy_setopt(cu, CURLOPT_USERNAME, user);
	curl_easy_setopt(cu, CURLOPT_PASSWORD, pass);
	if (body) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, h->post);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)strlen(h->post));
	} else {
		curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
	}
	if (curl_multi_add_handle(h->multi, cu) != CURLM_OK) {
		api_http_abandon(h);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	h->busy = 1;
	/* the request goes out now; its answer is read by api_http_finish */
	curl_multi_perform(h->multi, &running);
	return 0;
oom:
	free_headers(hl);
	return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
}

/* Done with the transfer: the handle leaves the multi (its connection
 * stays in the multi's cache) and nothing of the request stays. */
static void transfer_done(struct api_http *h)
{
	if (h->busy)
		curl_multi_remove_handle(h->multi, h->curl);
	h->busy = 0;
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(h->curl, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	free_headers(h->headers);
	h->headers = NULL;
	free(h->post);
	h->post = NULL;
}

void api_http_abandon(struct api_http *h)
{
	if (h->curl)
		transfer_done(h);
}

int api_http_finish(struct api_http *h, struct cd_error *err)
{
	CURLcode cc = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left, rc;

	if (!h->busy)
		return cd_error_set(err, CD_EPROTO, NULL, 0, "no request under way");
	/* libcurl's own timeouts (CURLOPT_TIMEOUT) end this loop */
	while (running) {
		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->curl)
			cc = msg->data.result;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
	transfer_done(h);
	if (cc != CURLE_OK)
		return transfer_failed(h, cc, h->shown, err);
	if ((rc = http_status(h, h->shown, err)) != API_OK)
		return rc;
	cd_buf_addc(&h->body, 0);
	if (h->body.oom)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	h->body.len--;
	return API_OK;
}

int api_http_fetch(struct api_http *h, const char *url, const char *shown,
		   const char *const *headers, const char *user, const char *pass,
		   const char *body, struct cd_error *err)
{
	int rc = api_http_start(h, url, shown, headers, user, pass, body, err);

	return rc < 0 ? rc : api_http_finish(h, err);
}
