/* fuzz_classify.c - the inbox classifier on raw mail bytes: MIME
 * structure, transfer encodings, charsets, delivery-status reports and
 * the plain-text bounce readers all see hostile input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candor/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_classified c;
	/* the classifier gets what the IMAP fetch gives: bytes plus a NUL */
	char *raw = malloc(size + 1);

	if (!raw)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	if (cd_classify(raw, size, &c) == 0)
		cd_classified_free(&c);
	free(raw);
	return 0;
}
