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

/* Was the configuration named (-c)? Commands that can do without one
 * (lint) use it only then. */
extern int ctl_config_given;
/* preview: never sent; not now (later, or waiting) */
#define EXIT_PREVIEW_ERROR 2
#define EXIT_NEVER 3
#define EXIT_NOT_NOW 4
#define EXIT_DATAERR 65

/* Print every error in ERRS, one "candorctl: file:line: ..." line each. */
void ctl_print_errors(const struct cd_errors *errs);

/* Print ERR and return 1. */
int ctl_fail(const struct cd_error *err);

/* Load the configuration at PATH; CONFIG_FLAGS as cd_config_load_with
 * (CD_CONFIG_SECRETS only for what talks to a mail server). */
int ctl_load_config(const char *path, int config_flags, struct cd_config **cfg);

/* ctl_open_store's flag for commands that send: read the secrets too. */
#define CTL_SECRETS 0x1000
/* ... and for commands that render: check the template sets exist with
 * the other config errors (CD_CONFIG_TEMPLATES) */
#define CTL_TEMPLATES 0x2000

/* Load the configuration and open its database (FLAGS as cd_store_open,
 * plus CTL_SECRETS and CTL_TEMPLATES). Without CTL_SECRETS no password file is read, so a
 * marketer in group candor runs status and report without the SMTP
 * secret. */
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
int ctl_cmd_inbox(const char *config, int argc, char **argv);

/* The lines of "candorctl status" about inbox mails left for a human. */
int ctl_inbox_status(struct cd_store *st);
int ctl_cmd_migrate(const char *config, int argc, char **argv);
int ctl_cmd_sources(const char *config, int argc, char **argv);

#endif
