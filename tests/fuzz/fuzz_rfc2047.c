/* fuzz_rfc2047.c - header encoding of arbitrary bytes (customer names and
 * subjects): the output must never contain a bare CR or LF that is not
 * the CRLF SP of a fold, and the whole message must still compose. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/compose.h"
#include "candor/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_folds(const struct cd_buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			abort();
		if (b->data[i] == '\r' && (i + 2 >= b->len + 1 || b->data[i + 1] != '\n' ||
					   (i + 2 < b->len && b->data[i + 2] != ' ')))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *mail = NULL;
	struct cd_buf b = { 0 };
	struct cd_error err;
	size_t len;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cd_rfc2047_encode(&b, text, 9);
	check_folds(&b);
	cd_buf_free(&b);
	cd_rfc2047_phrase(&b, text, 4);
	check_folds(&b);
	cd_buf_free(&b);
	struct cd_mail m = {
		.from_name = text, .from_addr = "f@shop.example", .to_name = text,
		.to_addr = "c@example.org", .subject = text, .text = text,
		.html = size % 2 ? text : NULL, .message_id = "x@shop.example", .date = 0,
	};
	if (cd_compose(&m, &mail, &len, &err) == 0 && strstr(mail, "\r\n\r\n") == NULL)
		abort();
	free(mail);
	free(text);
	return 0;
}
