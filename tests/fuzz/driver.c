/*
 * driver.c - run a fuzz target without libFuzzer: every file named on the
 * command line, then CD_FUZZ_RUNS (default 20000) deterministic mutations
 * of them. "make check" runs each target this way, so the sanitizer build
 * sees hostile input on every CI run; "make fuzz" builds the same targets
 * with clang's libFuzzer for open-ended runs.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Flip, insert, delete or duplicate bytes; splice in syntax that parsers
 * care about. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	static const char *const tokens[] = {
		"\"", "\"\"", ",", "\r\n", "\n", "{{", "}}", "{{#a}}", "{{/a}}", "{{{",
		"\xEF\xBB\xBF", "\xff", "\xc3", "\xe6\xbc\xa2", "\0", "=?", "?=",
		"{{>p}}", "{{=<% %>=}}", "<%", "%>", "{{>*a}}", "{{^a}}", "{{!", "[", "]",
		"{", "}", ":", "\\u00", "null", "1e999", "{\"a\":",
	};
	int n = 1 + (int)(next() % 8);

	while (n--) {
		size_t at = len ? next() % (len + 1) : 0;

		switch (next() % 5) {
		case 0:
			if (len)
				buf[at % len] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1:
			if (len < cap)
				memmove(buf + at + 1, buf + at, len - at), buf[at] = (uint8_t)next(), len++;
			break;
		case 2:
			if (len && at < len)
				memmove(buf + at, buf + at + 1, len - at - 1), len--;
			break;
		default: {
			const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = strlen(t) ? strlen(t) : 1;

			if (len + tl <= cap) {
				memmove(buf + at + tl, buf + at, len - at);
				memcpy(buf + at, t, tl);
				len += tl;
			}
		}
		}
	}
	return len;
}

/* With no files named, the seeds are the files in tests/fuzz/corpus/NAME, NAME being
 * the program's name without "fuzz_" (and a "_check" suffix). */
static int corpus_files(const char *argv0, char paths[][512], int max)
{
	const char *top = getenv("top_srcdir"), *base = strrchr(argv0, '/');
	char dir[400], name[64];
	struct dirent *de;
	DIR *dh;
	int n = 0;

	base = base ? base + 1 : argv0;
	if (strncmp(base, "fuzz_", 5) == 0)
		base += 5;
	snprintf(name, sizeof(name), "%s", base);
	name[strcspn(name, ".")] = '\0';
	if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_check") == 0)
		name[strlen(name) - 6] = '\0';
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".", name);
	if (!(dh = opendir(dir)))
		return 0;
	while ((de = readdir(dh)) && n < max)
		if (de->d_name[0] != '.')
			snprintf(paths[n++], 512, "%.300s/%.200s", dir, de->d_name);
	closedir(dh);
	return n;
}

int main(int argc, char **argv)
{
	enum { CAP = 1 << 16 };
	static uint8_t seeds[64][CAP];
	static size_t seedlen[64];
	static uint8_t buf[CAP];
	const char *r = getenv("CD_FUZZ_RUNS");
	long runs = r ? atol(r) : 20000;
	static char found[64][512];
	int nseeds = 0, nfiles = argc - 1;

	if (nfiles == 0)
		nfiles = corpus_files(argv[0], found, 64);
	for (int i = 0; i < nfiles && nseeds < 64; i++) {
		const char *path = argc > 1 ? argv[i + 1] : found[i];
		FILE *fp = fopen(path, "rb");

		if (!fp) {
			perror(path);
			return 2;
		}
		seedlen[nseeds] = fread(seeds[nseeds], 1, CAP / 2, fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(seeds[nseeds], seedlen[nseeds]);
		nseeds++;
	}
	for (long i = 0; i < runs; i++) {
		size_t len = 0;

		if (nseeds) {
			int s = (int)(next() % (uint64_t)nseeds);

			memcpy(buf, seeds[s], seedlen[s]);
			len = seedlen[s];
		}
		len = mutate(buf, len, CAP);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("1..1\nok 1 - %d seeds and %ld mutations without a crash\n", nseeds, runs);
	return 0;
}
