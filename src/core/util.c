/*
 * util.c - helpers too small for a module of their own.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/error.h"
#include "candor/util.h"

char *cd_util_join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

char *cd_util_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int cd_util_grow(void **items, size_t *cap, size_t count, size_t size)
{
	size_t ncap;
	unsigned char *p;

	if (count < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		return CD_ENOMEM;
	p = realloc(*items, ncap * size);
	if (!p)
		return CD_ENOMEM;
	memset(p + *cap * size, 0, (ncap - *cap) * size);
	*items = p;
	*cap = ncap;
	return 0;
}

void cd_util_wipe(void *p, size_t len)
{
	/* volatile keeps the compiler from dropping a store to dead memory */
	volatile unsigned char *v = p;

	while (len--)
		*v++ = 0;
}

int64_t cd_util_now(void)
{
	const char *fixed = getenv("CANDOR_NOW");

	if (fixed && *fixed)
		return strtoll(fixed, NULL, 10);
	return (int64_t)time(NULL);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int parse_zone(const char *p, int *offset)
{
	int h, m, sign;

	*offset = 0;
	while (*p == ' ')
		p++;
	if (!*p || strcmp(p, "Z") == 0 || strcmp(p, "UTC") == 0 || strcmp(p, "GMT") == 0)
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &h) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (digits(&p, 2, &m) < 0 || *p || h > 14 || m > 59)
		return -1;
	*offset = sign * (h * 3600 + m * 60);
	return 0;
}

int cd_util_parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, off;
	time_t t;

	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 12) {
		*out = strtoll(p, NULL, 10);
		return 0;
	}
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return CD_EINVAL;
	if (*p == 'T' || (*p == ' ' && p[1] >= '0' && p[1] <= '9')) {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return CD_EINVAL;
		if (*p == ':' && (p++, digits(&p, 2, &se) < 0))
			return CD_EINVAL;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	if (parse_zone(p, &off) < 0 || y < 1970 || y > 2200 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return CD_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse such dates */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return CD_EINVAL;
	*out = (int64_t)t - off;
	return 0;
}

/* The code point at P (before END) into *CP; its length in bytes, or 0
 * when the bytes there are no well-formed UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included). */
static size_t utf8_next(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
	unsigned c = *p;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 1, *cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, *cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, *cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) <= n)
		return 0;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 2 && *cp < 0x800) || (n == 3 && (*cp < 0x10000 || *cp > 0x10FFFF)) ||
	    (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n + 1;
}

int cd_util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned cp;
	size_t n;

	for (; p < end; p += n)
		if (!(n = utf8_next(p, end, &cp)))
			return 0;
	return 1;
}

int cd_util_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned cp;
	size_t n;

	for (; p < end; p += n) {
		if (!(n = utf8_next(p, end, &cp)))
			return 0;
		if ((cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') || cp == 0x7f)
			return 0;
	}
	return 1;
}

int cd_util_is_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

size_t cd_util_utf8_decode(const char *s, size_t len, unsigned *cp)
{
	const unsigned char *p = (const unsigned char *)s;

	return len ? utf8_next(p, p + len, cp) : 0;
}

char *cd_util_escape(const char *s, size_t len, size_t max, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t o = 0, chars = 0;

	if (!outlen)
		return out;
	while (p < end) {
		char esc[12];
		unsigned cp;
		size_t n = utf8_next(p, end, &cp), e;

		if (chars == max) {
			if (o + 4 < outlen)
				memcpy(out + o, "\xe2\x80\xa6", 3), o += 3; /* U+2026 */
			break;
		}
		if (!n)
			e = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p), n = 1;
		else if (cp == '\n')
			e = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (cp == '\r')
			e = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (cp == '\t')
			e = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (cp < 0x20 || cp == 0x7f)
			e = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", cp);
		else if (cp >= 0x80 && cp <= 0x9f)
			e = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", cp);
		else
			e = 0;
		if (o + (e ? e : n) >= outlen)
			break;
		if (e)
			memcpy(out + o, esc, e), o += e;
		else
			memcpy(out + o, p, n), o += n;
		p += n;
		chars++;
	}
	out[o] = '\0';
	return out;
}

int64_t cd_util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cd_util_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return CD_EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Identifiers come from a pool refilled 4 KB at a time: two getrandom
 * calls per mail were a tenth of composing it. A child of fork() must not
 * reuse its parent's pool, or both would hand out the same ids. */
static unsigned char id_pool[4096];
static size_t id_left;
static int id_atfork;

static void id_pool_forget(void)
{
	id_left = 0;
}

int cd_util_random_id(void *buf, size_t n)
{
	if (n > sizeof(id_pool))
		return cd_util_random(buf, n);
	if (!id_atfork) {
		pthread_atfork(NULL, NULL, id_pool_forget);
		id_atfork = 1;
	}
	if (id_left < n) {
		if (cd_util_random(id_pool, sizeof(id_pool)) < 0)
			return CD_EIO;
		id_left = sizeof(id_pool);
	}
	memcpy(buf, id_pool + sizeof(id_pool) - id_left, n);
	/* used bytes are wiped so they cannot be handed out twice */
	memset(id_pool + sizeof(id_pool) - id_left, 0, n);
	id_left -= n;
	return 0;
}

void cd_util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int read_all(const char *path, size_t max, int binary, char **out, size_t *len,
		    struct cd_error *err)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	struct cd_buf b = { 0 };
	char chunk[65536];
	size_t n;
	int rc = 0;

	*out = NULL;
	if (!fp)
		return cd_error_set(err, errno == ENOENT ? CD_ENOTFOUND : CD_EIO, path, 0,
				    "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > max) {
			rc = cd_error_set(err, CD_EINVAL, path, 0, "larger than %zu bytes", max);
			goto out;
		}
		cd_buf_add(&b, chunk, n);
	}
	if (ferror(fp)) {
		rc = cd_error_set(err, CD_EIO, path, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (!binary && b.len && memchr(b.data, '\0', b.len)) {
		rc = cd_error_set(err, CD_EINVAL, path, 0, "contains a NUL byte");
		goto out;
	}
	if (len)
		*len = b.len;
	if (!b.data)
		cd_buf_add(&b, "", 0);
	if (!(*out = cd_buf_take(&b)))
		rc = cd_error_set(err, CD_ENOMEM, path, 0, "out of memory");
out:
	cd_buf_free(&b);
	if (!is_stdin)
		fclose(fp);
	return rc;
}

int cd_util_read_file(const char *path, size_t max, char **out, size_t *len,
		      struct cd_error *err)
{
	return read_all(path, max, 0, out, len, err);
}

int cd_util_read_bytes(const char *path, size_t max, char **out, size_t *len,
		       struct cd_error *err)
{
	return read_all(path, max, 1, out, len, err);
}

int cd_util_address_ok(const char *a)
{
	const char *at;

	if (!a || strlen(a) > 254)
		return 0;
	at = strchr(a, '@');
	if (!at || at == a || strchr(at + 1, '@') || !at[1])
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f ||
		    strchr("<>()[],;:\\\"", *p))
			return 0;
	return 1;
}

int cd_util_fd_is_loopback(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	if (sa.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return 1;
		/* ::ffff:127.x.x.x */
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return sa.ss_family == AF_UNIX;
}

void cd_util_catch_signals(void (*stop)(int), void (*reload)(int), sigset_t *before)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* restart interrupted I/O inside SQLite, libcurl and libmicrohttpd;
	 * ppoll() is never restarted, which is what wakes a loop */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = reload;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, before);
}
