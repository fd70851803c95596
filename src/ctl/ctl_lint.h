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

#endif
