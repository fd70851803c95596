/*
 * ctl_lint_stats.c - "candorctl lint --stats CORPUS.tsv": the checker's
 * figures on a labelled corpus (id, lang, label, family, text; "\n" in
 * text is a line break), each row checked whole: recall and the share of
 * honest texts flagged, by language and by family, which stage caught
 * what, and every miss and false alarm listed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/compliance.h"
#include "candor/util.h"
#include "ctl.h"
#include "ctl_lint.h"

#define MAX_CORPUS (256 * 1024 * 1024)
#define MAX_GROUPS 64

struct tally {
	char name[32];
	int violations, caught, honest, flagged;
	int by_rules, by_model;   /* violations caught by each stage */
	int false_rules, false_model;   /* honest texts flagged by each */
};

struct stats {
	struct tally langs[MAX_GROUPS], families[MAX_GROUPS], all;
	size_t nlangs, nfamilies;
};

static struct tally *group(struct tally *g, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	if (*n == MAX_GROUPS)
		return NULL;
	snprintf(g[*n].name, sizeof(g[*n].name), "%s", name);
	return &g[(*n)++];
}

static void count(struct tally *t, int violation, int flagged, int rules, int model)
{
	if (!t)
		return;
	if (violation) {
		t->violations++;
		t->caught += flagged;
		t->by_rules += rules;
		t->by_model += model;
	} else {
		t->honest++;
		t->flagged += flagged;
		t->false_rules += rules;
		t->false_model += model;
	}
}

static double pct(int a, int b)
{
	return b ? 100.0 * a / b : 0.0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->name, ((const struct tally *)b)->name);
}

/* "97.1%", or "-" when there is nothing to count. */
static const char *rate(int a, int b, char *buf, size_t len)
{
	if (b)
		snprintf(buf, len, "%.1f%%", pct(a, b));
	else
		snprintf(buf, len, "-");
	return buf;
}

static void print_row(const struct tally *t, const char *name)
{
	char r[16], f[16];

	printf("%-14s %6d %6d %7s %6d %7d %6s\n", name, t->violations, t->caught,
	       rate(t->caught, t->violations, r, sizeof(r)), t->honest, t->flagged,
	       rate(t->flagged, t->honest, f, sizeof(f)));
}

static void print_table(const char *title, struct tally *g, size_t n, const struct tally *all)
{
	qsort(g, n, sizeof(*g), by_name);
	printf("%-14s %6s %6s %7s %6s %7s %6s\n", title, "viol", "caught", "recall", "honest",
	       "flagged", "fpr");
	for (size_t i = 0; i < n; i++)
		print_row(&g[i], g[i].name);
	print_row(all, "all");
	printf("\n");
}

/* "\n" in a corpus text is a line break; in place. */
static void unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int ctl_lint_split_row(char *line, char *field[5])
{
	char *p = line;
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < 5 && p) {
		field[n++] = p;
		p = n < 5 ? strchr(p, '\t') : NULL;
		if (p)
			*p++ = '\0';
	}
	if (n < 5 || strcmp(field[0], "id") == 0)
		return -1;
	field[4][strcspn(field[4], "\t")] = '\0'; /* further columns are not text */
	unescape(field[4]);
	return 0;
}

/* One row: its verdict, and a line for the list when it is wrong. */
static int stats_row(const struct cd_compliance *c, const struct cd_check_opts *o,
		     char *field[5], struct stats *st, FILE *list)
{
	struct cd_findings f = { 0 };
	int violation = strcmp(field[2], "violation") == 0, rules = 0, model = 0, flagged;

	if (cd_compliance_check(c, field[4], strlen(field[4]), o, &f) < 0)
		return CD_ENOMEM;
	for (size_t i = 0; i < f.count; i++) {
		if (strcmp(f.items[i].severity, "error") != 0)
			continue;
		if (strncmp(f.items[i].rule, "model.", 6) == 0)
			model = 1;
		else
			rules = 1;
	}
	flagged = rules || model;
	count(group(st->langs, &st->nlangs, field[1]), violation, flagged, rules, model);
	count(group(st->families, &st->nfamilies, field[3]), violation, flagged, rules, model);
	count(&st->all, violation, flagged, rules, model);
	if (list && flagged != violation) {
		for (char *p = field[4]; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (violation)
			fprintf(list, "missed\t%s\t%s\t%s\t%s\n", field[0], field[1], field[3], field[4]);
		else
			fprintf(list, "flagged\t%s\t%s\t%s\t%s\t%s\n", field[0], field[1], field[3],
				f.items[0].rule, field[4]);
	}
	cd_findings_clear(&f);
	return 0;
}

int ctl_lint_stats(const struct cd_compliance *c, const struct cd_check_opts *o,
		   const char *file, int list_misses)
{
	struct stats *st = calloc(1, sizeof(*st));
	char *text = NULL, *line, *save = NULL;
	struct cd_error err;
	FILE *list = NULL;
	char *listbuf = NULL;
	size_t listlen = 0;
	int rc = 2;

	if (!st)
		goto oom;
	if (cd_util_read_file(file, MAX_CORPUS, &text, NULL, &err) < 0) {
		ctl_fail(&err);
		goto out;
	}
	if (list_misses && !(list = open_memstream(&listbuf, &listlen)))
		goto oom;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *field[5];

		if (ctl_lint_split_row(line, field) < 0)
			continue;
		if (stats_row(c, o, field, st, list) < 0)
			goto oom;
	}
	if (st->all.violations + st->all.honest == 0) {
		fprintf(stderr, "candorctl lint: %s: no labelled rows (id, lang, label, family, text)\n",
			file);
		goto out;
	}
	printf("%s: %d rows, %d violations, %d honest\n\n", file,
	       st->all.violations + st->all.honest, st->all.violations, st->all.honest);
	print_table("language", st->langs, st->nlangs, &st->all);
	print_table("family", st->families, st->nfamilies, &st->all);
	/* the model does not score what the packs hold already: "both" is
	 * a long text held by each in a different place */
	printf("violations caught by the rules: %d, by the model: %d, by both: %d "
	       "(the model judges only what the packs do not hold)\n",
	       st->all.by_rules, st->all.by_model,
	       st->all.by_rules + st->all.by_model - st->all.caught);
	printf("honest texts flagged by the rules: %d, by the model: %d, by both: %d\n",
	       st->all.false_rules, st->all.false_model,
	       st->all.false_rules + st->all.false_model - st->all.flagged);
	if (list) {
		fclose(list);
		list = NULL;
		if (listlen)
			printf("\n%s", listbuf);
	}
	printf("recall=%.1f fpr=%.1f violations=%d caught=%d honest=%d flagged=%d\n",
	       pct(st->all.caught, st->all.violations), pct(st->all.flagged, st->all.honest),
	       st->all.violations, st->all.caught, st->all.honest, st->all.flagged);
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "candorctl lint: out of memory\n");
out:
	if (list)
		fclose(list);
	free(listbuf);
	free(text);
	free(st);
	return rc;
}

/* Row FIELD's windows (cd_compliance_window_features' lines in OUT) as
 * rows of their own, "ID#K", the first window K = 0. */
static void print_windows(char *const *field, char *lines)
{
	char *save = NULL;
	int k = 0;

	if (!lines)
		return; /* a text without a word has no window */
	for (char *w = strtok_r(lines, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
		printf("%s#%d\t%s\t%s\t%s\t%s\n", field[0], k++, field[1], field[2], field[3], w);
}

int ctl_lint_features(const struct cd_compliance *c, const char *file, int windows)
{
	char *text = NULL, *line, *save = NULL;
	struct cd_buf out = { 0 };
	struct cd_error err;
	int rc = 2;

	if (cd_util_read_file(file, MAX_CORPUS, &text, NULL, &err) < 0) {
		ctl_fail(&err);
		return rc;
	}
	printf("# features_version=%d\n", CD_COMPLIANCE_FEATURES_VERSION);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *field[5];

		if (ctl_lint_split_row(line, field) < 0)
			continue;
		out.len = 0;
		if ((windows ? cd_compliance_window_features(c, field[4], strlen(field[4]), &out)
			     : cd_compliance_features(c, field[4], strlen(field[4]), &out)) < 0) {
			fprintf(stderr, "candorctl lint: out of memory\n");
			goto out;
		}
		if (windows)
			print_windows(field, out.len ? out.data : NULL);
		else
			printf("%s\t%s\t%s\t%s\t%s\n", field[0], field[1], field[2], field[3],
			       out.len ? out.data : "");
	}
	rc = 0;
out:
	cd_buf_free(&out);
	free(text);
	return rc;
}

/* Whether finding I of F (the packs' alone: the model is not asked for
 * findings) counts in a rule list: an error, yielding or not as YIELDS,
 * the first of its rule. */
static int listed(const struct cd_findings *f, size_t i, int yields)
{
	const struct cd_finding *x = &f->items[i];

	if (strcmp(x->severity, "error") != 0 || x->yields != yields)
		return 0;
	for (size_t k = 0; k < i; k++)
		if (strcmp(f->items[k].rule, x->rule) == 0)
			return 0;
	return 1;
}

/* "generic.incentive,cn.cashback" into BUF: the rules of F with errors
 * that yield to a sure model (YIELDS) or not; "-" for none. */
static const char *rule_list(const struct cd_findings *f, int yields, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->count; i++) {
		size_t n = strlen(f->items[i].rule);

		if (listed(f, i, yields) && used + n + 2 < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 f->items[i].rule);
	}
	return used ? buf : "-";
}

int ctl_lint_scores(const struct cd_compliance *c, const char *file)
{
	/* the rules as beside the model, before any yields to it */
	const struct cd_check_opts beside = { .no_model = 1, .defer = 1, .no_yield = 1 };
	char *text = NULL, *line, *save = NULL;
	struct cd_error err;
	int rc = 2;

	if (!cd_compliance_has_pack(c, CD_COMPLIANCE_MODEL_PACK)) {
		fprintf(stderr, "candorctl lint: --scores needs a model (--model FILE)\n");
		return rc;
	}
	if (cd_util_read_file(file, MAX_CORPUS, &text, NULL, &err) < 0) {
		ctl_fail(&err);
		return rc;
	}
	printf("# threshold=%.6f\n", cd_compliance_model_threshold(c));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *field[5], stand[256], yield[256];
		struct cd_findings f = { 0 };
		double s;

		if (ctl_lint_split_row(line, field) < 0)
			continue;
		if (cd_compliance_model_score(c, field[4], strlen(field[4]), &s) < 0 ||
		    cd_compliance_check(c, field[4], strlen(field[4]), &beside, &f) < 0) {
			cd_findings_clear(&f);
			fprintf(stderr, "candorctl lint: out of memory\n");
			goto out;
		}
		printf("%s\t%s\t%.6f\t%s\t%s\n", field[0], field[2], s,
		       rule_list(&f, 0, stand, sizeof(stand)),
		       rule_list(&f, 1, yield, sizeof(yield)));
		cd_findings_clear(&f);
	}
	rc = 0;
out:
	free(text);
	return rc;
}
