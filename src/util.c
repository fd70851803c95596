/*
 * util.c - helpers too small for a module of their own.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

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

void cd_util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}
