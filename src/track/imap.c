/*
 * imap.c - see imap.h. One IMAP session, kept between cycles;
 * libetpan speaks the protocol, gnutls checks the server's certificate
 * chain (libetpan itself does not).
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/imap.h"
#include "candor/util.h"

#define KEYWORD "$Candor"
#define BACKOFF_MIN 30
#define BACKOFF_MAX 1800

struct cd_imap {
	mailimap *imap;
	int idling;
	int failures;
	int64_t retry_at;     /* no reconnect before this (wall seconds) */
	int64_t read;         /* mails read since start */
	char where[300];      /* "imaps://host/INBOX" */
};

struct cd_imap *cd_imap_new(void)
{
	return calloc(1, sizeof(struct cd_imap));
}

static void disconnect(struct cd_imap *t)
{
	if (!t->imap)
		return;
	/* a connect that failed leaves no stream: libetpan's logout would
	 * write to it and crash */
	if (t->imap->imap_stream) {
		if (t->idling)
			mailimap_idle_done(t->imap);
		mailimap_logout(t->imap);
	}
	t->idling = 0;
	mailimap_free(t->imap);
	t->imap = NULL;
}

void cd_imap_free(struct cd_imap *t)
{
	if (!t)
		return;
	disconnect(t);
	free(t);
}

void cd_imap_describe(const struct cd_imap *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s, %lld read", t->imap ? "connected to" : "not connected to",
		 t->where[0] ? t->where : "the inbox", (long long)t->read);
}

/* The server's last words, for an error message. */
static const char *said(mailimap *imap)
{
	return imap && imap->imap_response ? imap->imap_response : "no answer";
}

static int fail(struct cd_imap *t, struct cd_error *err, const char *what, int r)
{
	cd_error_set(err, CD_EIO, NULL, 0, "IMAP %s: %s (libetpan error %d)", what, said(t->imap), r);
	return CD_EIO;
}

/* "imap[s]://host[:port][/]" */
static int parse_url(const char *url, int *tls, char *host, size_t hlen, uint16_t *port)
{
	const char *h = strstr(url, "://"), *end;
	size_t n;

	if (!h)
		return -1;
	*tls = strncmp(url, "imaps://", 8) == 0;
	h += 3;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return -1;
		n = (size_t)(end - h - 1);
		h++;
		end++;
	} else {
		end = h + strcspn(h, ":/");
		n = (size_t)(end - h);
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = *tls ? 993 : 143;
	if (*end == ':') {
		long p = strtol(end + 1, NULL, 10);

		if (p <= 0 || p > 65535)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}

/* libetpan keeps what CAPABILITY said for mailimap_has_extension() */
static void refresh_capabilities(mailimap *imap)
{
	struct mailimap_capability_data *cap = NULL;

	if (mailimap_capability(imap, &cap) == MAILIMAP_NO_ERROR && cap)
		mailimap_capability_data_free(cap);
}

static void set_sni(struct mailstream_ssl_context *ctx, void *host)
{
	mailstream_ssl_set_server_name(ctx, host);
}

/* The server's chain against the system's trust store (and ca_file),
 * with its name checked: libetpan accepts any certificate. */
static int verify_peer(struct cd_imap *t, const struct cd_config *cfg, const char *host,
		       struct cd_error *err)
{
	carray *chain = mailstream_get_certificate_chain(t->imap->imap_stream);
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = chain ? carray_count(chain) : 0, status = 1, i, ok = 0;
	gnutls_typed_vdata_st name = { GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)host, 0 };

	if (n && (certs = calloc(n, sizeof(*certs))) != NULL &&
	    gnutls_x509_trust_list_init(&tl, 0) >= 0 &&
	    gnutls_x509_trust_list_add_system_trust(tl, 0, 0) >= 0 &&
	    (!cfg->imap.ca_file || !cfg->imap.ca_file[0] ||
	     gnutls_x509_trust_list_add_trust_file(tl, cfg->imap.ca_file, NULL,
						   GNUTLS_X509_FMT_PEM, 0, 0) > 0)) {
		for (i = 0; i < n; i++) {
			MMAPString *der = carray_get(chain, i);
			gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };

			if (gnutls_x509_crt_init(&certs[i]) < 0 ||
			    gnutls_x509_crt_import(certs[i], &d, GNUTLS_X509_FMT_DER) < 0)
				break;
		}
		ok = i == n && gnutls_x509_trust_list_verify_crt2(tl, certs, n, &name, 1, 0,
								   &status, NULL) >= 0 && status == 0;
	}
	for (i = 0; certs && i < n; i++)
		if (certs[i])
			gnutls_x509_crt_deinit(certs[i]);
	free(certs);
	for (i = 0; i < n; i++)
		mmap_string_free(carray_get(chain, i));
	if (chain)
		carray_free(chain);
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (!ok)
		return cd_error_set(err, CD_EIO, NULL, 0,
				    "IMAP: the certificate of %s is not trusted (status 0x%x); "
				    "set imap.ca_file for a private CA", host, status);
	return 0;
}

/* Is the connected server on this machine (127.0.0.0/8, ::1)? Asked of
 * the socket, not of the name in the URL. */
static int peer_is_loopback(struct cd_imap *t)
{
	mailstream_low *low = t->imap->imap_stream ? mailstream_get_low(t->imap->imap_stream) : NULL;

	return low && cd_util_fd_is_loopback(mailstream_low_get_fd(low));
}

static int connect_tls(struct cd_imap *t, const struct cd_config *cfg, const char *host,
		       uint16_t port, int tls, struct cd_error *err)
{
	int r;

	if (tls) {
		r = mailimap_ssl_connect_with_callback(t->imap, host, port, set_sni, (void *)host);
		if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
			return fail(t, err, "connect", r);
	} else {
		r = mailimap_socket_connect(t->imap, host, port);
		if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
			return fail(t, err, "connect", r);
		if (cfg->imap.tls == CD_TLS_NONE)
			return 0;
		refresh_capabilities(t->imap);
		if (!mailimap_has_extension(t->imap, "STARTTLS")) {
			/* "auto" is "required" except to this machine: the
			 * password never crosses a network in plain text */
			if (cfg->imap.tls == CD_TLS_REQUIRED || !peer_is_loopback(t))
				return cd_error_set(err, CD_EIO, NULL, 0,
						    "IMAP: %s offers no STARTTLS and imap.tls is \"%s\"",
						    host, cfg->imap.tls == CD_TLS_REQUIRED ? "required"
						    : "auto\" (plain text only to a loopback server)");
			cd_log(CD_LOG_WARNING, "IMAP: %s offers no STARTTLS; reading the inbox unencrypted on loopback", host);
			return 0;
		}
		if ((r = mailimap_socket_starttls_with_callback(t->imap, set_sni, (void *)host)) !=
		    MAILIMAP_NO_ERROR)
			return fail(t, err, "STARTTLS", r);
	}
	return cfg->imap.verify_certificate ? verify_peer(t, cfg, host, err) : 0;
}

static int connect_and_select(struct cd_imap *t, const struct cd_config *cfg,
			      struct cd_error *err)
{
	char host[256];
	uint16_t port;
	int tls, r;

	if (parse_url(cfg->imap.url, &tls, host, sizeof(host), &port) < 0)
		return cd_error_set(err, CD_ECONFIG, cfg->path, 0, "imap.url: cannot read \"%s\"",
				    cfg->imap.url);
	snprintf(t->where, sizeof(t->where), "%s/%s", cfg->imap.url, cfg->imap.mailbox);
	if (!(t->imap = mailimap_new(0, NULL)))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	mailimap_set_timeout(t->imap, (time_t)cfg->imap.timeout);
	if ((r = connect_tls(t, cfg, host, port, tls, err)) < 0)
		return r;
	if ((r = mailimap_login(t->imap, cfg->imap.username,
				cfg->imap.password ? cfg->imap.password : "")) != MAILIMAP_NO_ERROR)
		return fail(t, err, "login", r);
	refresh_capabilities(t->imap);
	if ((r = mailimap_select(t->imap, cfg->imap.mailbox)) != MAILIMAP_NO_ERROR)
		return fail(t, err, "select", r);
	/* the folder for processed mail; "already exists" is the usual answer */
	if (cfg->imap.move_to && cfg->imap.move_to[0])
		mailimap_create(t->imap, cfg->imap.move_to);
	cd_log(CD_LOG_INFO, "IMAP: reading %s as %s", t->where, cfg->imap.username);
	return 0;
}

/* ---- reading --------------------------------------------------------- */

static uint32_t meta_u32(struct cd_store *st, const char *key)
{
	char buf[32];

	return cd_store_meta_get(st, key, buf, sizeof(buf)) == 0 ? (uint32_t)strtoul(buf, NULL, 10) : 0;
}

static int meta_set_u32(struct cd_store *st, const char *key, uint32_t v, struct cd_error *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u", v);
	return cd_store_meta_set(st, key, buf, err);
}

/* The UID to read after. A mailbox whose UIDVALIDITY (or name) changed
 * is read again from the start; inbox_seen recognises what was counted. */
static int position(struct cd_imap *t, const struct cd_config *cfg, struct cd_store *st,
		    uint32_t *after, struct cd_error *err)
{
	uint32_t validity = t->imap->imap_selection_info ?
		t->imap->imap_selection_info->sel_uidvalidity : 0;
	char box[256] = "";

	cd_store_meta_get(st, "imap_mailbox", box, sizeof(box));
	*after = meta_u32(st, "imap_last_uid");
	/* the mailbox is known by name and UIDVALIDITY: imap:// and imaps://
	 * to the same server read on where they were */
	if (meta_u32(st, "imap_uidvalidity") == validity && strcmp(box, cfg->imap.mailbox) == 0)
		return 0;
	if (*after)
		cd_log(CD_LOG_NOTICE, "IMAP: %s has a new UIDVALIDITY (%u): reading it again; "
		       "mails already counted are recognised", t->where, validity);
	*after = 0;
	if (meta_set_u32(st, "imap_uidvalidity", validity, err) < 0 ||
	    meta_set_u32(st, "imap_last_uid", 0, err) < 0 ||
	    cd_store_meta_set(st, "imap_mailbox", cfg->imap.mailbox, err) < 0)
		return CD_ESTORE;
	return 0;
}

static void free_fetch(clist *res, struct mailimap_fetch_type *ft, struct mailimap_set *set)
{
	if (res)
		mailimap_fetch_list_free(res);
	if (ft)
		mailimap_fetch_type_free(ft);
	if (set)
		mailimap_set_free(set);
}

/* What a FETCH answer says of one mail (any of the outputs may be NULL). */
static void read_atts(const struct mailimap_msg_att *ma, uint32_t *uid, uint32_t *size,
		      struct mailimap_msg_att_body_section **body)
{
	for (clistiter *a = clist_begin(ma->att_list); a; a = clist_next(a)) {
		struct mailimap_msg_att_item *item = clist_content(a);
		struct mailimap_msg_att_static *st = item->att_data.att_static;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || !st)
			continue;
		if (st->att_type == MAILIMAP_MSG_ATT_UID && uid)
			*uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE && size)
			*size = st->att_data.att_rfc822_size;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && body)
			*body = st->att_data.att_body_section;
	}
}

/* UIDs above AFTER with their sizes, in order. */
static int new_uids(struct cd_imap *t, uint32_t after, uint32_t **uids, uint32_t **sizes,
		    size_t *n, struct cd_error *err)
{
	struct mailimap_set *set = mailimap_set_new_interval(after + 1, 0);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *res = NULL;
	size_t cap = 0;
	int r;

	*n = 0;
	*uids = *sizes = NULL;
	if (!set || !ft) {
		r = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	if ((r = mailimap_uid_fetch(t->imap, set, ft, &res)) != MAILIMAP_NO_ERROR) {
		r = fail(t, err, "UID FETCH", r);
		goto out;
	}
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		uint32_t uid = 0, size = 0;

		read_atts(ma, &uid, &size, NULL);
		/* "N:*" names the last mail even when its UID is below N */
		if (uid <= after)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			uint32_t *u = realloc(*uids, nc * sizeof(*u)), *s;

			if (u)
				*uids = u;
			if (!u || !(s = realloc(*sizes, nc * sizeof(*s)))) {
				r = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
				goto out;
			}
			*sizes = s;
			cap = nc;
		}
		(*uids)[*n] = uid;
		(*sizes)[(*n)++] = size;
	}
	r = 0;
out:
	free_fetch(res, ft, set);
	return r;
}

#define CHUNK 64 /* mails fetched, and marked, per round trip */

static struct mailimap_set *uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; set && i < n; i++)
		if (mailimap_set_add_single(set, uids[i]) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	return set;
}

/* The bodies of UIDS[0..N) in one UID FETCH: whole, or the first MAX
 * bytes of each when PARTIAL (a 10 MB attachment does not need reading
 * to know a reply). BODIES[i] gets a NUL-terminated copy, or stays NULL
 * when the server sent none (the mail went meanwhile). */
static int fetch_bodies(struct cd_imap *t, const uint32_t *uids, size_t n, int partial,
			int64_t max, char **bodies, size_t *lens, struct cd_error *err)
{
	struct mailimap_set *set = uid_set(uids, n);
	struct mailimap_section *sec = mailimap_section_new(NULL);
	struct mailimap_fetch_att *fa = !sec ? NULL : partial
		? mailimap_fetch_att_new_body_peek_section_partial(sec, 0, (uint32_t)max)
		: mailimap_fetch_att_new_body_peek_section(sec);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *res = NULL;
	int r;

	if (!set || !fa || !ft || mailimap_fetch_type_new_fetch_att_list_add(ft, fa) != 0) {
		if (fa)
			mailimap_fetch_att_free(fa);
		else if (sec)
			mailimap_section_free(sec);
		r = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) != 0) {
		r = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	if ((r = mailimap_uid_fetch(t->imap, set, ft, &res)) != MAILIMAP_NO_ERROR) {
		r = fail(t, err, "UID FETCH BODY", r);
		goto out;
	}
	r = 0;
	for (clistiter *it = clist_begin(res); it && r == 0; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		struct mailimap_msg_att_body_section *b = NULL;
		uint32_t uid = 0;

		read_atts(ma, &uid, NULL, &b);
		for (size_t i = 0; b && i < n; i++) {
			if (uids[i] != uid || bodies[i])
				continue;
			lens[i] = b->sec_body_part ? b->sec_length : 0;
			if (!(bodies[i] = malloc(lens[i] + 1))) {
				r = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
				break;
			}
			if (lens[i])
				memcpy(bodies[i], b->sec_body_part, lens[i]);
			bodies[i][lens[i]] = '\0';
		}
	}
out:
	free_fetch(res, ft, set);
	return r;
}

/* Mark UIDS done, and move them when imap.move_to says so. A server that
 * refuses keywords only costs the mark: the UID position still holds. */
static void mark_done(struct cd_imap *t, const struct cd_config *cfg, const uint32_t *uids,
		      size_t n)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_set *set = n ? uid_set(uids, n) : NULL;
	struct mailimap_store_att_flags *sa = NULL;
	char *kw = strdup(KEYWORD);
	int r;

	if (fl && kw && mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(kw)) == 0)
		kw = NULL, sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	if (sa && set && (r = mailimap_uid_store(t->imap, set, sa)) != MAILIMAP_NO_ERROR)
		cd_log(CD_LOG_WARNING, "IMAP: cannot flag %zu mails %s: %s", n, KEYWORD, said(t->imap));
	if (set && cfg->imap.move_to && cfg->imap.move_to[0]) {
		r = mailimap_has_extension(t->imap, "MOVE")
			? mailimap_uid_move(t->imap, set, cfg->imap.move_to)
			: mailimap_uid_copy(t->imap, set, cfg->imap.move_to);
		if (r != MAILIMAP_NO_ERROR)
			cd_log(CD_LOG_WARNING, "IMAP: cannot move %zu mails to %s: %s", n,
			       cfg->imap.move_to, said(t->imap));
	}
	free(kw);
	if (sa)
		mailimap_store_att_flags_free(sa);
	else if (fl)
		mailimap_flag_list_free(fl);
	if (set)
		mailimap_set_free(set);
}

/* One chunk: fetch, record each in UID order, mark what matched, move
 * the position on. */
static int read_chunk(struct cd_imap *t, const struct cd_config *cfg, struct cd_store *st,
		      int64_t now, const uint32_t *uids, const uint32_t *sizes, size_t n,
		      struct cd_track_stats *stats, struct cd_error *err)
{
	char *bodies[CHUNK] = { 0 }, *got[CHUNK] = { 0 };
	size_t lens[CHUNK] = { 0 }, glens[CHUNK] = { 0 }, nsmall = 0, ndone = 0;
	uint32_t small[CHUNK], done[CHUNK];
	int r = 0;

	/* the small ones in one round trip, each large one alone and cut */
	for (size_t i = 0; i < n; i++)
		if (sizes[i] <= cfg->imap.max_size)
			small[nsmall++] = uids[i];
	if (nsmall)
		r = fetch_bodies(t, small, nsmall, 0, cfg->imap.max_size, got, glens, err);
	for (size_t i = 0, k = 0; r == 0 && i < n; i++) {
		if (sizes[i] <= cfg->imap.max_size) {
			bodies[i] = got[k];
			lens[i] = glens[k];
			got[k++] = NULL;
			continue;
		}
		cd_log(CD_LOG_INFO, "IMAP: UID %u is %u bytes; classified from its first %lld",
		       uids[i], sizes[i], (long long)cfg->imap.max_size);
		r = fetch_bodies(t, &uids[i], 1, 1, cfg->imap.max_size, &bodies[i], &lens[i], err);
	}
	for (size_t k = 0; k < nsmall; k++)
		free(got[k]);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int64_t unmatched = stats->unmatched;
		enum cd_mail_kind kind;

		if (!bodies[i])
			continue; /* expunged meanwhile */
		if ((r = cd_track_mail(st, cfg, bodies[i], lens[i], now, &kind, stats, err)) < 0)
			break;
		t->read++;
		/* what answers none of our mails stays put, unmarked, for a human */
		if (stats->unmatched == unmatched)
			done[ndone++] = uids[i];
		else
			cd_log(CD_LOG_INFO, "IMAP: UID %u (%s) left in %s for a human", uids[i],
			       cd_mail_kind_name(kind), cfg->imap.mailbox);
	}
	for (size_t i = 0; i < n; i++)
		free(bodies[i]);
	if (r < 0)
		return r;
	mark_done(t, cfg, done, ndone);
	return meta_set_u32(st, "imap_last_uid", uids[n - 1], err);
}

static int read_new(struct cd_imap *t, const struct cd_config *cfg, struct cd_store *st,
		    int64_t now, struct cd_track_stats *stats, struct cd_error *err)
{
	uint32_t after, *uids = NULL, *sizes = NULL;
	size_t n = 0;
	int r;

	if ((r = position(t, cfg, st, &after, err)) < 0 ||
	    (r = new_uids(t, after, &uids, &sizes, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i += CHUNK)
		r = read_chunk(t, cfg, st, now, uids + i, sizes + i, n - i < CHUNK ? n - i : CHUNK,
			       stats, err);
out:
	free(uids);
	free(sizes);
	return r;
}

int cd_imap_run(struct cd_imap *t, const struct cd_config *cfg, struct cd_store *st,
		   int64_t now, struct cd_track_stats *stats, struct cd_error *err)
{
	int r;

	if (!cfg->imap.url || !cfg->imap.url[0])
		return 0;
	if (t->idling) {
		t->idling = 0;
		if (mailimap_idle_done(t->imap) != MAILIMAP_NO_ERROR)
			disconnect(t);
	}
	if (!t->imap) {
		if (now < t->retry_at)
			return 0;
		if ((r = connect_and_select(t, cfg, err)) < 0)
			goto failed;
	}
	/* NOOP lets the server report new mail, and proves the line */
	if ((r = mailimap_noop(t->imap)) != MAILIMAP_NO_ERROR) {
		r = fail(t, err, "NOOP", r);
		goto failed;
	}
	if ((r = read_new(t, cfg, st, now, stats, err)) < 0)
		goto failed;
	t->failures = 0;
	return 0;
failed:
	disconnect(t);
	t->failures++;
	{
		int64_t wait = BACKOFF_MIN;

		for (int i = 1; i < t->failures && wait < BACKOFF_MAX; i++)
			wait *= 2;
		t->retry_at = now + (wait < BACKOFF_MAX ? wait : BACKOFF_MAX);
	}
	return r;
}

int cd_imap_idle_fd(struct cd_imap *t, const struct cd_config *cfg)
{
	if (!t->imap || !cfg->imap.idle || !mailimap_has_idle(t->imap))
		return -1;
	if (!t->idling) {
		if (mailimap_idle(t->imap) != MAILIMAP_NO_ERROR) {
			cd_log(CD_LOG_WARNING, "IMAP: IDLE refused: %s; polling instead", said(t->imap));
			disconnect(t);
			return -1;
		}
		t->idling = 1;
	}
	return mailimap_idle_get_fd(t->imap);
}
