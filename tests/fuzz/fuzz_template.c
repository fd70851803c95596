/* fuzz_template.c - the Mustache engine: arbitrary template text, also
 * used as its own partial "p" (so partials, recursion and delimiter
 * changes inside partials are exercised), rendered in every escape mode
 * with data whose values themselves look like tags. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candor/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cd_tdata *sample(void)
{
	struct cd_tdata *d = cd_tdata_map(), *m, *l;

	if (!d)
		return NULL;
	m = cd_tdata_set_map(d, "a");
	if (m)
		cd_tdata_set_string(m, "b", "{{a}}<script>&\"'");
	cd_tdata_set_bool(d, "t", 1);
	cd_tdata_set_string(d, "name", "p");
	cd_tdata_set_safe_string(d, "html", "<b>ok</b>");
	l = cd_tdata_set_list(d, "items");
	for (int i = 0; l && i < 3; i++) {
		struct cd_tdata *it = cd_tdata_append_map(l);

		if (it)
			cd_tdata_set_string(it, "name", "x{{#items}}");
	}
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cd_escape modes[] = { CD_ESCAPE_NONE, CD_ESCAPE_HTML,
						CD_ESCAPE_MUSTACHE };
	struct cd_partials *parts = cd_partials_new(NULL, 0);
	struct cd_tdata *d = sample();
	struct cd_template *t = NULL;
	char *text = malloc(size + 1);
	struct cd_missing missing = { 0 };
	struct cd_error err;

	if (!d || !text || !parts)
		goto out;
	memcpy(text, data, size);
	text[size] = '\0';
	cd_partials_add(parts, "p", text);
	if (cd_template_compile("fuzz", text, &t, &err) < 0)
		goto out;
	cd_template_check(t, parts, CD_ESCAPE_HTML, NULL, &err);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct cd_buf b = { 0 };

		cd_template_render(t, d, modes[i], parts, &b, &missing, &err);
		cd_buf_free(&b);
	}
out:
	cd_template_free(t);
	cd_partials_free(parts);
	free(text);
	cd_tdata_free(d);
	return 0;
}
