/*
 * ctl.h - helpers the candorctl command files share (program-internal,
 * not part of libcandor). Each returns 0 or the exit code to use, after
 * printing why.
 */
#ifndef CANDOR_CTL_H
#define CANDOR_CTL_H

#include <stdio.h>

#include "candor/config.h"
#include "candor/error.h"
#include "candor/store.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65

/* Print every error in ERRS, one "candorctl: file:line: ..." line each. */
void ctl_print_errors(const struct cd_errors *errs);

/* Print ERR and return 1. */
int ctl_fail(const struct cd_error *err);

/* Load the configuration at PATH. */
int ctl_load_config(const char *path, struct cd_config **cfg);

/* Load the configuration and open its database (FLAGS as cd_store_open). */
int ctl_open_store(const char *path, int flags, struct cd_config **cfg,
		   struct cd_store **st);

/* Is ARG "--help" or "-h"? */
int ctl_is_help(const char *arg);

int ctl_cmd_render(const char *config, int argc, char **argv);
int ctl_cmd_preview(const char *config, int argc, char **argv);
int ctl_cmd_lint(const char *config, int argc, char **argv);
int ctl_cmd_send_test(const char *config, int argc, char **argv);
int ctl_cmd_classify(const char *config, int argc, char **argv);
int ctl_cmd_report(const char *config, int argc, char **argv);
int ctl_cmd_sources(const char *config, int argc, char **argv);

#endif
