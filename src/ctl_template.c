/*
 * ctl_template.c - "candorctl render": one Mustache template with JSON
 * data, the way the official spec is run and marketers try a template.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/template.h"
#include "candor/util.h"
#include "ctl.h"

#define MAX_INPUT (16 * 1024 * 1024)

static int render_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl render --template FILE [--partials DIR] --data FILE.json\n"
		"                        [--text | --html]\n"
		"Print FILE rendered with the JSON data; {{>name}} loads DIR/name.mustache.\n"
		"Values are HTML-escaped as in plain Mustache; --text prints them as they\n"
		"are (like subject and text parts), --html applies candor's HTML rule\n"
		"(no {{{ }}} for values not marked safe). \"-\" reads standard input.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

struct render_args {
	const char *template, *partials, *data;
	enum cd_escape esc;
};

static int parse_render_args(int argc, char **argv, struct render_args *a)
{
	static const struct option opts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "partials", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "text", no_argument, NULL, 'T' },
		{ "html", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->esc = CD_ESCAPE_MUSTACHE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:p:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->template = optarg; break;
		case 'p': a->partials = optarg; break;
		case 'd': a->data = optarg; break;
		case 'T': a->esc = CD_ESCAPE_NONE; break;
		case 'H': a->esc = CD_ESCAPE_HTML; break;
		case 'h': return render_usage(stdout);
		default: return render_usage(stderr);
		}
	}
	if (optind != argc || !a->template || !a->data)
		return render_usage(stderr);
	return -1;
}

int ctl_cmd_render(const char *config, int argc, char **argv)
{
	struct render_args a = { 0 };
	struct cd_partials *parts = NULL;
	struct cd_template *t = NULL;
	struct cd_tdata *data = NULL;
	struct cd_buf out = { 0 };
	char *text = NULL, *json = NULL;
	struct cd_error err;
	size_t jlen;
	int rc;

	(void)config;
	if ((rc = parse_render_args(argc, argv, &a)) >= 0)
		return rc;
	rc = 0;
	if (cd_util_read_file(a.template, MAX_INPUT, &text, NULL, &err) < 0 ||
	    cd_util_read_file(a.data, MAX_INPUT, &json, &jlen, &err) < 0) {
		rc = err.code == CD_EINVAL ? (ctl_fail(&err), EXIT_DATAERR) : ctl_fail(&err);
		goto out;
	}
	if (a.partials && !(parts = cd_partials_new(&a.partials, 1))) {
		rc = ctl_fail(&(struct cd_error){ .code = CD_ENOMEM, .msg = "out of memory" });
		goto out;
	}
	if (cd_tdata_from_json(a.data, json, jlen, &data, &err) < 0 ||
	    cd_template_compile(a.template, text, &t, &err) < 0 ||
	    cd_template_render(t, data, a.esc, parts, &out, NULL, &err) < 0) {
		rc = err.code == CD_ENOMEM ? ctl_fail(&err) : (ctl_fail(&err), EXIT_DATAERR);
		goto out;
	}
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = 1;
	if (fflush(stdout) != 0)
		rc = 1;
out:
	cd_buf_free(&out);
	cd_template_free(t);
	cd_tdata_free(data);
	cd_partials_free(parts);
	free(json);
	free(text);
	return rc;
}
