/*
 * ctl_lint.h - what "candorctl lint" shares between its files
 * (program-internal): the corpus modes --stats and --features.
 */
#ifndef CANDOR_CTL_LINT_H
#define CANDOR_CTL_LINT_H

#include "candor/compliance.h"

/* Split one corpus line (id, lang, label, family, text) in place into
 * FIELD, "\n" in the text made a line break. Returns -1 for the header
 * or a line without five fields. */
int ctl_lint_split_row(char *line, char *field[5]);

/* Check every row of the labelled corpus FILE and print the figures
 * (with every miss and false alarm when LIST_MISSES). Returns the exit
 * code: 0, or 2 when FILE cannot be read or holds no rows. */
int ctl_lint_stats(const struct cd_compliance *c, const struct cd_check_opts *o,
		   const char *file, int list_misses);

/* Print the model's features of every row of corpus FILE, one line each:
 * id, lang, label, family, then "id:value" pairs (for
 * scripts/train-compliance); with WINDOWS, one line for each window the
 * model scores, "ID#K". Returns the exit code. */
int ctl_lint_features(const struct cd_compliance *c, const char *file, int windows);

/* Print the model's score of every row of corpus FILE: id, label, score,
 * then the rules whose errors hold the row beside the model and those of
 * them that would yield to a sure model, ","-separated ("-": none) (for
 * scripts/train-compliance and the regression test). Returns the exit
 * code. */
int ctl_lint_scores(const struct cd_compliance *c, const char *file);

#endif
