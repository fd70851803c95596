/*
 * log.h - one line per event, to stderr, the journal or syslog.
 *
 * Under systemd (JOURNAL_STREAM set and matching stderr) lines carry the
 * "<N>" priority prefix the journal understands; elsewhere they carry the
 * program name and a level word. Never log a password, token or body.
 */
#ifndef CANDOR_LOG_H
#define CANDOR_LOG_H

#include <stdarg.h>

/* syslog(3) priorities, so the journal prefix is the level itself. */
enum cd_log_level {
	CD_LOG_ERR = 3,
	CD_LOG_WARNING = 4,
	CD_LOG_NOTICE = 5,
	CD_LOG_INFO = 6,
	CD_LOG_DEBUG = 7
};

enum cd_log_target {
	CD_LOG_AUTO,    /* journal prefixes under systemd, else plain stderr */
	CD_LOG_STDERR,
	CD_LOG_SYSLOG
};

/* Set the program name (borrowed, must outlive logging), target and the
 * most verbose level written. */
void cd_log_init(const char *ident, enum cd_log_target target,
		 enum cd_log_level level);

/* Change the level at run time (a reload may). */
void cd_log_set_level(enum cd_log_level level);

/* Parse "error", "warning", "notice", "info" or "debug"; -1 if unknown. */
int cd_log_level_parse(const char *name);

/* The name of LEVEL, for printing the effective configuration. */
const char *cd_log_level_name(enum cd_log_level level);

void cd_log(enum cd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cd_vlog(enum cd_log_level level, const char *fmt, va_list ap);

/* Close syslog if it was opened. */
void cd_log_fini(void);

#endif
