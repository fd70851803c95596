/*
 * ctl_lint.c - "candorctl lint": the compliance checker for marketers,
 * with the contract of DESIGN.md: exit 0 when clean, 1 on a violation,
 * 2 on a usage or input error; text or JSON findings.
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "candor/compliance.h"
#include "candor/config.h"
#include "candor/util.h"
#include "ctl.h"
#include "ctl_lint.h"

#define LINT_USAGE 2
#define MAX_INPUT (64 * 1024 * 1024)

static int lint_usage(FILE *out)
{
	fprintf(out, "Usage: candorctl lint [--format text|json] [--pack NAME]... [--packs-dir DIR]\n"
		"                      [--model FILE | --no-model] [--channel NAME] [--whole] FILE|-\n"
		"       candorctl lint [...] --stats [--no-misses] CORPUS.tsv\n"
		"       candorctl lint [...] --rules-beside-model FILE\n"
		"Check wording for bought, gated or pressured reviews. Each line of a text\n"
		"file is checked on its own; files ending in .html, .htm or .mustache (or\n"
		"any file with --whole) are checked as one document, HTML tags and\n"
		"Mustache tags ignored. --pack limits the check to those packs (default:\n"
		"all in DIR); --channel also applies that sales channel's rules (amazon:\n"
		"only Amazon links). DIR is --packs-dir, else $CANDOR_PACKS, else the\n"
		"packs (and compliance_model) of the configuration named with -c, else\n"
		"this build's own packs: %s.\n"
		"The learned model, DIR/%s unless --model names another, runs after\n"
		"the packs (its pack name is \"%s\": a --pack list without it leaves it out);\n"
		"it judges a .mustache file as it can render, one section of each run of\n"
		"sections side by side at a time. Beside it, rules leave sentences with a\n"
		"negation to it (a pack's \"defer\"), and a rule marked \"yields\" gives way\n"
		"where it is sure the text is honest (\"apart\": where the words lie in two\n"
		"sentences).\n"
		"--rules-beside-model gives the packs' verdicts so, without the model's: as\n"
		"rendered mail is checked.\n"
		"--stats checks every row of a labelled corpus (id, lang, label, family,\n"
		"text) and prints recall and false alarms by language and family, then\n"
		"the misses (--no-misses: the figures only).\n"
		"Exit status: 0 clean, 1 a violation found, 2 usage or input error.\n",
		cd_config_build_packs(), CD_COMPLIANCE_MODEL_FILE, CD_COMPLIANCE_MODEL_PACK);
	return out == stdout ? 0 : LINT_USAGE;
}

struct lint_args {
	const char *format, *dir, *channel, *file, *model, *concepts;
	char *packs[32];
	size_t npacks;
	int whole, stats, no_misses, no_model, features, windows, scores, beside;
};

static int parse_lint_args(int argc, char **argv, struct lint_args *a)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "pack", required_argument, NULL, 'p' },
		{ "packs-dir", required_argument, NULL, 'd' },
		{ "channel", required_argument, NULL, 'C' },
		{ "whole", no_argument, NULL, 'w' },
		{ "stats", no_argument, NULL, 's' },
		{ "no-misses", no_argument, NULL, 'S' },
		{ "model", required_argument, NULL, 'm' },
		{ "no-model", no_argument, NULL, 'M' },
		/* for scripts/train-compliance: the features of each corpus row */
		{ "features", no_argument, NULL, 'F' },
		{ "windows", no_argument, NULL, 'W' },
		{ "concepts", required_argument, NULL, 'K' },
		{ "scores", no_argument, NULL, 'R' },
		{ "rules-beside-model", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->format = "text";
	a->dir = getenv("CANDOR_PACKS");
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:p:d:C:wh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->format = optarg; break;
		case 'p':
			if (a->npacks == 32)
				return lint_usage(stderr);
			a->packs[a->npacks++] = optarg;
			break;
		case 'd': a->dir = optarg; break;
		case 'C': a->channel = optarg; break;
		case 'w': a->whole = 1; break;
		case 's': a->stats = 1; break;
		case 'S': a->no_misses = 1; break;
		case 'm': a->model = optarg; break;
		case 'M': a->no_model = 1; break;
		case 'F': a->features = 1; break;
		case 'W': a->windows = 1; break;
		case 'K': a->concepts = optarg; break;
		case 'R': a->scores = 1; break;
		case 'B': a->beside = 1; break;
		case 'h': return lint_usage(stdout);
		default: return lint_usage(stderr);
		}
	}
	if ((a->beside && a->no_model) || (a->windows && !a->features))
		return lint_usage(stderr);
	if (optind != argc - 1 || (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0))
		return lint_usage(stderr);
	a->file = argv[optind];
	return -1;
}

static int is_document(const char *file)
{
	static const char *const exts[] = { ".html", ".htm", ".mustache" };
	size_t n = strlen(file);

	for (size_t i = 0; i < 3; i++)
		if (n > strlen(exts[i]) && strcmp(file + n - strlen(exts[i]), exts[i]) == 0)
			return 1;
	return 0;
}

/* Check one line (N bytes at AT of the file, its line LINE) into F. Its
 * findings go to a list of their own first: the checker keeps one finding
 * per rule and place, and a line's places, before they are the file's,
 * would meet an earlier line's ("the same violation on lines 1 and 2"). */
static int check_line(const struct cd_compliance *c, const char *s, size_t n, size_t at, int line,
		      const struct cd_check_opts *o, struct cd_findings *f)
{
	struct cd_findings one = { 0 };
	int rc = cd_compliance_check(c, s, n, o, &one);

	for (size_t i = 0; rc == 0 && i < one.count; i++) {
		if (CD_GROW(f->items, f->count, f->cap) < 0) {
			rc = CD_ENOMEM;
			break;
		}
		f->items[f->count] = one.items[i];
		f->items[f->count].line = line;
		f->items[f->count].start += at;
		f->items[f->count].end += at;
		f->count++;
	}
	if (rc == 0)
		f->errors += one.errors;
	cd_findings_clear(&one);
	return rc;
}

/* Check TEXT line by line (LINE_BY_LINE) or whole; findings' lines are
 * the file's. */
static int check_text(const struct cd_compliance *c, const char *text, size_t len,
		      int line_by_line, const struct cd_check_opts *o, struct cd_findings *f)
{
	size_t at = 0;
	int line = 1;

	if (!line_by_line)
		return cd_compliance_check(c, text, len, o, f);
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;

		if (check_line(c, text + at, n, at, line, o, f) < 0)
			return CD_ENOMEM;
		at += n + 1;
		line++;
	}
	return 0;
}

static void print_text(const char *file, const struct cd_findings *f)
{
	for (size_t i = 0; i < f->count; i++) {
		const struct cd_finding *x = &f->items[i];

		printf("%s:%d:%d: %s %s: %s: \"%s\"%s%s%s\n", file, x->line, x->column, x->severity,
		       x->rule, x->message, x->excerpt, *x->detail ? " (" : "", x->detail,
		       *x->detail ? ")" : "");
		if (*x->suggestion)
			printf("  suggestion: %s\n", x->suggestion);
	}
	fflush(stdout);
	fprintf(stderr, "%s: %zu finding%s (%zu error%s)\n", file, f->count,
		f->count == 1 ? "" : "s", f->errors, f->errors == 1 ? "" : "s");
}

static int print_json(const char *file, const struct cd_findings *f)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();

	if (!root || !arr)
		return CD_ENOMEM;
	json_object_object_add(root, "file", json_object_new_string(file));
	for (size_t i = 0; i < f->count; i++) {
		const struct cd_finding *x = &f->items[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "rule", json_object_new_string(x->rule));
		json_object_object_add(o, "family", json_object_new_string(x->family));
		json_object_object_add(o, "severity", json_object_new_string(x->severity));
		json_object_object_add(o, "line", json_object_new_int(x->line));
		json_object_object_add(o, "column", json_object_new_int(x->column));
		json_object_object_add(o, "excerpt", json_object_new_string(x->excerpt));
		json_object_object_add(o, "message", json_object_new_string(x->message));
		json_object_object_add(o, "suggestion", json_object_new_string(x->suggestion));
		if (*x->detail)
			json_object_object_add(o, "detail", json_object_new_string(x->detail));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "findings", arr);
	json_object_object_add(root, "errors", json_object_new_int64((int64_t)f->errors));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

/* The packs of DIR and the model (--model, else DIR/model.bin when it
 * exists, none with --no-model); every pack --pack names must exist. */
static int load_checker(const struct lint_args *a, struct cd_compliance **c,
			struct cd_errors *errs)
{
	char *path = NULL;
	int rc = cd_compliance_load(a->dir, NULL, 0, c, errs);

	if (rc < 0)
		return rc;
	if (a->model || !a->no_model) {
		if (a->model)
			rc = cd_compliance_load_model(*c, a->model, errs);
		else if (!(path = cd_util_join_path(a->dir, CD_COMPLIANCE_MODEL_FILE)))
			rc = CD_ENOMEM;
		else if (access(path, F_OK) == 0)
			rc = cd_compliance_load_model(*c, path, errs);
		free(path);
	}
	for (size_t i = 0; rc == 0 && i < a->npacks; i++)
		if (!cd_compliance_has_pack(*c, a->packs[i])) {
			struct cd_error e;

			cd_error_set(&e, CD_ECONFIG, a->dir, 0, "no compliance pack \"%s\" (%s.pack%s)",
				     a->packs[i], a->packs[i],
				     strcmp(a->packs[i], CD_COMPLIANCE_MODEL_PACK) == 0 ? ", or no model loaded" : "");
			cd_errors_add(errs, &e);
			rc = CD_ECONFIG;
		}
	return rc;
}

/* Without --packs-dir or $CANDOR_PACKS: the packs and model of the
 * configuration named with -c, else this build's own packs. 0, or the
 * exit status after saying why. *CFG (freed by the caller) owns the
 * strings A then points to. */
static int choose_packs(const char *config, struct lint_args *a, struct cd_config **cfg)
{
	if (a->dir)
		return 0;
	if (!ctl_config_given) {
		a->dir = cd_config_build_packs();
		return 0;
	}
	if (ctl_load_config(config, 0, cfg) != 0)
		return LINT_USAGE;
	a->dir = (*cfg)->packs;
	/* the daemon's model: "" turns it off */
	if (!a->model && !a->no_model && (*cfg)->compliance_model) {
		if (!*(*cfg)->compliance_model)
			a->no_model = 1;
		else if (access((*cfg)->compliance_model, F_OK) == 0)
			a->model = (*cfg)->compliance_model;
	}
	return 0;
}

int ctl_cmd_lint(const char *config, int argc, char **argv)
{
	struct cd_config *cfg = NULL;
	struct lint_args a = { 0 };
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;
	struct cd_findings f = { 0 };
	struct cd_check_opts o = { 0 };
	struct cd_error err;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = parse_lint_args(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = choose_packs(config, &a, &cfg)) != 0)
		goto out;
	rc = LINT_USAGE;
	if (a.features && a.concepts ? cd_compliance_load_concepts(a.concepts, &c, &errs) < 0
				      : load_checker(&a, &c, &errs) < 0) {
		ctl_print_errors(&errs);
		goto out;
	}
	o.channel = a.channel;
	o.packs = a.npacks ? a.packs : NULL;
	o.npacks = a.npacks;
	o.no_model = o.defer = a.beside;
	if (a.features) {
		rc = ctl_lint_features(c, a.file, a.windows);
		goto out;
	}
	if (a.scores) {
		rc = ctl_lint_scores(c, a.file);
		goto out;
	}
	if (a.stats) {
		rc = ctl_lint_stats(c, &o, a.file, !a.no_misses);
		goto out;
	}
	if (cd_util_read_file(a.file, MAX_INPUT, &text, &len, &err) < 0) {
		ctl_fail(&err);
		goto out;
	}
	o.mustache = is_document(a.file) && strstr(a.file, ".mustache") != NULL;
	if (check_text(c, text, len, !(a.whole || is_document(a.file)), &o, &f) < 0) {
		fprintf(stderr, "candorctl lint: out of memory\n");
		goto out;
	}
	if (strcmp(a.format, "json") == 0 ? print_json(a.file, &f) < 0 : (print_text(a.file, &f), 0))
		goto out;
	rc = f.errors ? 1 : 0;
out:
	cd_findings_clear(&f);
	cd_errors_clear(&errs);
	cd_compliance_free(c);
	cd_config_free(cfg);
	free(text);
	return rc;
}
