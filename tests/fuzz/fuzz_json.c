/* fuzz_json.c - template data from JSON ("candorctl render --data"):
 * arbitrary bytes parsed, and what parses rendered through a template
 * that walks it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "candor/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char walk[] = "{{a}}{{#a}}{{.}}{{#.}}{{b.c}}{{/.}}{{/a}}{{^z}}{{{z}}}{{/z}}";
	struct cd_tdata *d = NULL;
	struct cd_error err;
	char *out = NULL;

	if (cd_tdata_from_json("fuzz.json", (const char *)data, size, &d, &err) == 0)
		cd_template_render_text("walk", walk, d, CD_ESCAPE_MUSTACHE, &out, NULL, &err);
	free(out);
	cd_tdata_free(d);
	return 0;
}
