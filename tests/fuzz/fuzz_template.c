/* fuzz_template.c - the Mustache engine: arbitrary template text rendered
 * with data whose values themselves look like tags. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candor/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_tdata *d = cd_tdata_map(), *m, *l;
	char *text = malloc(size + 1), *out = NULL;
	struct cd_error err;
	size_t missing;

	if (!d || !text)
		goto out;
	memcpy(text, data, size);
	text[size] = '\0';
	m = cd_tdata_set_map(d, "a");
	cd_tdata_set_string(m, "b", "{{a}}<script>&\"'");
	cd_tdata_set_bool(d, "t", 1);
	l = cd_tdata_set_list(d, "items");
	for (int i = 0; i < 3; i++)
		cd_tdata_set_string(cd_tdata_append_map(l), "name", "x{{#items}}");
	cd_template_render_text("fuzz", text, d, CD_ESCAPE_HTML, &out, &missing, &err);
	free(out);
	out = NULL;
	cd_template_render_text("fuzz", text, d, CD_ESCAPE_NONE, &out, &missing, &err);
out:
	free(out);
	free(text);
	cd_tdata_free(d);
	return 0;
}
