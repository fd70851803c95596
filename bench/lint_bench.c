/*
 * lint_bench.c - issue 5's figures: how fast the compliance checker reads
 * a large mixed text with every pack on, against the obvious way to do
 * it - one regular expression per rule's term list, each run over the
 * text - in the same program, on the same normalized text. Since the
 * learned model (etc/packs/model.bin): the same with the model on, and
 * the model's share of the time (mb_per_s is with the model).
 *
 * The text is mail-like lines in the eight languages (the shipped
 * templates and the labelled sets, mostly honest, some violations),
 * repeated to about 16 MB, and checked line by line as "candorctl lint"
 * checks a text file.
 *
 * It also times ours with one pack's rules only: the matching is one pass
 * whatever the number of rules, so the two rates should be close. Ours
 * are each the quickest of RUNS runs; the baseline is run once, on an
 * eighth of the text.
 *
 * Last line: mb_per_s=... rules_mb_per_s=... model_share=... baseline_mb_per_s=...
 * ratio=... rules=...
 * Usage: lint_bench [SOURCE_DIR [MEGABYTES]]
 */
#include "config.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/compliance_impl.h"
#include "candor/normalize.h"
#include "candor/util.h"

static void die(const char *what)
{
	fprintf(stderr, "lint_bench: %s\n", what);
	exit(1);
}

/* CPU time of this process: the machine may be busy with other work,
 * and what we want is what checking costs. */
static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lines of text from the labelled sets (the text column). */
static void add_tsv(struct cd_buf *b, const char *path)
{
	char *text = NULL, *line, *save = NULL;
	struct cd_error err;

	if (cd_util_read_file(path, 1 << 24, &text, NULL, &err) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = line;

		for (int k = 0; k < 4 && t; k++)
			t = strchr(t, '\t') ? strchr(t, '\t') + 1 : NULL;
		if (t && strncmp(line, "id\t", 3) != 0) {
			cd_buf_adds(b, t);
			cd_buf_addc(b, '\n');
		}
	}
	free(text);
}

/* The shipped templates, as marketers' drafts would look. */
static void add_templates(struct cd_buf *b, const char *dir, int depth)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	while (dh && (de = readdir(dh)) != NULL) {
		char *path, *text;
		struct cd_error err;

		if (de->d_name[0] == '.' || !(path = cd_util_join_path(dir, de->d_name)))
			continue;
		if (strstr(de->d_name, ".mustache")) {
			if (cd_util_read_file(path, 1 << 20, &text, NULL, &err) == 0) {
				cd_buf_adds(b, text);
				free(text);
			}
		} else if (depth < 3) {
			add_templates(b, path, depth + 1);
		}
		free(path);
	}
	if (dh)
		closedir(dh);
}

/* ---- ours ------------------------------------------------------------ */

/* Each of ours is timed this many times and the quickest kept: this
 * machine's speed varies by a third from one minute to the next (other
 * machines share its cores and caches), and what is wanted is what the
 * checking itself costs. */
#define RUNS 3

static double run_ours_once(const struct cd_compliance *c, const char *text, size_t len,
			    const struct cd_check_opts *o, size_t *found)
{
	double start = seconds();
	struct cd_findings f = { 0 };

	*found = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - text - at) : len - at;

		if (cd_compliance_check(c, text + at, n, o, &f) < 0)
			die("out of memory");
		*found += f.errors;
		cd_findings_clear(&f);
		at += n + 1;
	}
	return seconds() - start;
}

static double run_ours(const struct cd_compliance *c, const char *text, size_t len,
		       const struct cd_check_opts *o, size_t *found)
{
	double best = run_ours_once(c, text, len, o, found);

	for (int i = 1; i < RUNS; i++) {
		double t = run_ours_once(c, text, len, o, found);

		best = t < best ? t : best;
	}
	return best;
}

/* ---- the baseline: one regex per rule's term list ------------------------ */

static void add_escaped(struct cd_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr(".[]{}()\\\\*+?^$|/", s[i]))
			cd_buf_addc(b, '\\');
		cd_buf_addc(b, s[i]);
	}
}

/* For each list a rule names, "(term|term|...)" compiled as one ERE. */
static regex_t *compile_baseline(const struct cd_compliance *c, size_t *n)
{
	regex_t *re = calloc(c->nrules * RULE_MAX_LISTS * 2 + 1, sizeof(*re));

	*n = 0;
	for (size_t r = 0; re && r < c->nrules; r++) {
		const struct cc_rule *rule = &c->rules[r];
		const int *lists[2] = { rule->lists, rule->unless };
		int counts[2] = { rule->kind == CC_LINKS || rule->kind == CC_REMINDERS ? 0 : rule->nlists,
				  rule->nunless };

		for (int g = 0; g < 2; g++)
			for (int l = 0; l < counts[g]; l++) {
				struct cd_buf b = { 0 };
				int first = 1;

				cd_buf_adds(&b, "(");
				for (size_t t = 0; t < c->nterms; t++) {
					if (c->terms[t].list != lists[g][l])
						continue;
					if (!first)
						cd_buf_addc(&b, '|');
					add_escaped(&b, c->terms[t].text, c->terms[t].len);
					first = 0;
				}
				cd_buf_adds(&b, ")");
				if (regcomp(&re[*n], b.data, REG_EXTENDED | REG_NEWLINE) != 0)
					die("regcomp failed");
				(*n)++;
				cd_buf_free(&b);
			}
	}
	return re;
}

static double run_baseline(const regex_t *re, size_t nre, const char *text, size_t len,
			   size_t *found)
{
	double start = seconds();

	*found = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - text - at) : len - at;
		struct cd_normtext norm;

		/* the same normalizing as ours, so only the matching differs */
		if (cd_normalize(text + at, n, 0, &norm) < 0)
			die("out of memory");
		for (size_t r = 0; r < nre; r++) {
			regmatch_t m;
			const char *p = norm.s;

			while (*p && regexec(&re[r], p, 1, &m, 0) == 0) {
				(*found)++;
				p += m.rm_eo > 0 ? m.rm_eo : 1;
			}
		}
		cd_normtext_free(&norm);
		at += n + 1;
	}
	return seconds() - start;
}

int main(int argc, char **argv)
{
	const char *top = argc > 1 ? argv[1] : SRC_TOP;
	size_t want = (size_t)(argc > 2 ? atof(argv[2]) : 16.0) * 1024 * 1024, nre, ours_found,
	       base_found, sample;
	struct cd_buf seed = { 0 }, text = { 0 };
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;
	char path[1024];
	double t_ours, t_rules, t_base, t_concepts;
	size_t model_found;
	regex_t *re;

	snprintf(path, sizeof(path), "%s/etc/packs", top);
	if (cd_compliance_load(path, NULL, 0, &c, &errs) < 0)
		die("cannot load the packs");
	for (const char *f = "compliance-holdout.tsv\0compliance-tune.tsv\0compliance-lookalikes.tsv\0";
	     *f; f += strlen(f) + 1) {
		snprintf(path, sizeof(path), "%s/tests/data/%s", top, f);
		add_tsv(&seed, path);
	}
	snprintf(path, sizeof(path), "%s/templates", top);
	add_templates(&seed, path, 0);
	if (seed.len == 0)
		die("no text to check");
	while (text.len < want)
		cd_buf_add(&text, seed.data, seed.len);
	re = compile_baseline(c, &nre);
	t_rules = run_ours(c, text.data, text.len, NULL, &ours_found);
	snprintf(path, sizeof(path), "%s/etc/packs/model.bin", top);
	if (cd_compliance_load_model(c, path, &errs) < 0)
		die("cannot load the model");
	t_ours = run_ours(c, text.data, text.len, NULL, &model_found);
	{
		/* the model loaded but not asked: what its concepts cost the
		 * packs' pass, apart from featurizing and scoring */
		struct cd_check_opts o = { .no_model = 1 };
		size_t n;

		t_concepts = run_ours(c, text.data, text.len, &o, &n);
	}
	{
		/* fewer rules (one pack): ours should cost about the same */
		const char *one[] = { "cn" };
		struct cd_compliance *few = NULL;
		size_t n;

		snprintf(path, sizeof(path), "%s/etc/packs", top);
		if (cd_compliance_load(path, one, 1, &few, &errs) == 0) {
			double t = run_ours(few, text.data, text.len, NULL, &n);

			printf("one_pack_rules=%zu one_pack_mb_per_s=%.1f\n", few->nrules,
			       (double)text.len / 1048576.0 / t);
		}
		cd_compliance_free(few);
	}
	/* the baseline is slow: time it on a slice and scale */
	sample = text.len / 8;
	while (sample < text.len && text.data[sample] != '\n')
		sample++;
	t_base = run_baseline(re, nre, text.data, sample, &base_found) * ((double)text.len / (double)sample);
	printf("text_mb=%.1f rules=%zu terms=%zu states=%zu regexes=%zu findings=%zu\n",
	       (double)text.len / 1048576.0, c->nrules, c->nterms, c->nstates, nre, ours_found);
	printf("rules_s=%.2f with_model_s=%.2f baseline_s=%.2f (baseline timed on 1/8 of the text)\n",
	       t_rules, t_ours, t_base);
	printf("findings: rules %zu, rules and model %zu\n", ours_found, model_found);
	printf("model_stage: concepts in the packs' pass %.0f%%, featurizing and scoring %.0f%% (of with_model_s)\n",
	       100.0 * (t_concepts - t_rules) / t_ours, 100.0 * (t_ours - t_concepts) / t_ours);
	printf("mb_per_s=%.1f rules_mb_per_s=%.1f model_share=%.0f%% baseline_mb_per_s=%.1f ratio=%.1f rules=%zu\n",
	       (double)text.len / 1048576.0 / t_ours, (double)text.len / 1048576.0 / t_rules,
	       100.0 * (t_ours - t_rules) / t_ours, (double)text.len / 1048576.0 / t_base,
	       t_base / t_rules, c->nrules);
	for (size_t i = 0; i < nre; i++)
		regfree(&re[i]);
	free(re);
	cd_buf_free(&seed);
	cd_buf_free(&text);
	cd_errors_clear(&errs);
	cd_compliance_free(c);
	return 0;
}
