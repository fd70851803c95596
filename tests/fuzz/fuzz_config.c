/* fuzz_config.c - integer settings as people (and mutations) spell them:
 * the input becomes a spelling - decimal, hex, signs, an L suffix, stray
 * dots, exponents and spaces - written as smtp.connections, limits.daily_cap,
 * limits.per_customer and tracking.soft_bounce_limit into an otherwise
 * valid candor.conf, which is loaded. The oracle: the file loads exactly
 * when the spelling is a whole number in libconfig's syntax whose value,
 * as written (no wrap at 32 or 64 bits), is within each setting's range,
 * and then each setting holds that very value. Anything else aborts. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "candor/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value S denotes in libconfig 1.5's integer syntax - [+-] digits
 * or 0x hexdigits (no sign), then L or LL; decimals with leading zeros
 * still decimal; spaces around - into *V; 1 when it is one and fits in
 * 63 bits, 0 when it is one but does not, -1 when it is no integer. */
static int reference(const char *s, long double *v)
{
	int neg = 0, base = 10, digits = 0;

	*v = 0;
	s += strspn(s, " ");
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s && (base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)); s++) {
		*v = *v * base + (isdigit((unsigned char)*s) ? *s - '0'
				  : tolower((unsigned char)*s) - 'a' + 10);
		digits++;
	}
	if (*s == 'L')
		s += s[1] == 'L' ? 2 : 1;
	s += strspn(s, " ");
	if (!digits || *s)
		return -1;
	if (neg)
		*v = -*v;
	return *v >= -9.2e18L && *v <= 9.2e18L;
}

static const struct {
	const char *section, *name;
	long long min, max;
} settings[] = {
	{ "smtp", "connections", 1, 64 },
	{ "limits", "daily_cap", 0, 100000000 },
	{ "limits", "per_customer", 0, 1000 },
	{ "tracking", "soft_bounce_limit", 1, 100 },
};

static long long value_of(const struct cd_config *c, size_t i)
{
	switch (i) {
	case 0: return c->smtp.connections;
	case 1: return c->limits.daily_cap;
	case 2: return c->limits.per_customer;
	default: return c->tracking.soft_bounce_limit;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alphabet[] = "0123456789012345678901234567890xXaAfFL+-. e";
	static char dir[64];
	char spelling[40], path[128], text[1024];
	struct cd_config *cfg = NULL;
	struct cd_errors errs = { 0 };
	size_t n = size < sizeof(spelling) - 1 ? size : sizeof(spelling) - 1, which;
	long double v;
	int kind, want, rc;
	FILE *fp;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/cd-fuzz-config-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	if (n == 0)
		return 0;
	/* the bytes spell the number (as they are when they may appear in
	 * one, so the seeds read as written); their sum picks the setting */
	which = 0;
	for (size_t i = 0; i < n; i++) {
		which += data[i];
		spelling[i] = data[i] && strchr(alphabet, data[i]) ? (char)data[i]
			      : alphabet[data[i] % (sizeof(alphabet) - 1)];
	}
	spelling[n] = '\0';
	which %= sizeof(settings) / sizeof(settings[0]);
	kind = reference(spelling, &v);
	want = kind == 1 && v >= settings[which].min && v <= settings[which].max;
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	snprintf(text, sizeof(text),
		 "shop = { name = \"Tea\"; domain = \"tea.example\"; from = \"f@tea.example\"; };\n"
		 "campaigns = ( { name = \"review\";\n"
		 "  variants = ( { name = \"A\"; template = \"t\"; } ); } );\n"
		 "%s = { %s = %s; };\n", settings[which].section, settings[which].name, spelling);
	if (!(fp = fopen(path, "w")) || fputs(text, fp) < 0 || fclose(fp) != 0)
		abort();
	rc = cd_config_load_with(path, 0, &cfg, &errs);
	if (want != (rc == 0) || (rc == 0 && value_of(cfg, which) != (long long)v)) {
		fprintf(stderr, "fuzz_config: %s = %s: %s (wanted %s)\n", settings[which].name,
			spelling, rc == 0 ? "loaded" : "refused", want ? "loaded" : "refused");
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "  %s: %s\n", errs.items[i].setting, errs.items[i].msg);
		abort();
	}
	cd_config_free(cfg);
	cd_errors_clear(&errs);
	return 0;
}
