/*
 * config_print.c - write the effective configuration back out in
 * candor.conf syntax, so "candorctl check-config" shows the admin exactly
 * what the daemon would use, defaults included and secrets masked. Each
 * section prints itself with the helpers here.
 */
#include "config.h"

#include <stdio.h>

#include "candor/config.h"
#include "candor/config_parse.h"

void cd_cfg_put_string(FILE *out, const char *indent, const char *name, const char *v)
{
	fprintf(out, "%s%s = \"", indent, name);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			fputs(*p == '\n' ? "\\n" : *p == '\r' ? "\\r" : "\\t", out);
			continue;
		}
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputs("\";\n", out);
}

void cd_cfg_put_duration(FILE *out, const char *indent, const char *name, int64_t secs)
{
	char buf[64];

	fprintf(out, "%s%s = \"%s\";\n", indent, name,
		cd_units_format_duration(secs, buf, sizeof(buf)));
}

void cd_cfg_put_rate(FILE *out, const char *indent, const char *name, const struct cd_rate *r)
{
	char buf[64];

	cd_cfg_put_string(out, indent, name, r->count ? cd_units_format_rate(r, buf, sizeof(buf)) : "");
}

void cd_cfg_put_bool(FILE *out, const char *indent, const char *name, int v)
{
	fprintf(out, "%s%s = %s;\n", indent, name, v ? "true" : "false");
}

void cd_config_print(const struct cd_config *c, FILE *out)
{
	for (size_t i = 0; cd_config_sections[i]; i++)
		cd_config_sections[i]->print(c, out);
}
