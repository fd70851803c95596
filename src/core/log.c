/*
 * log.c - the daemon's single logging path. Kept tiny: one function
 * formats, and the target decides only the prefix.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "candor/log.h"
#include "candor/util.h"

static const char *log_ident = "candor";
static enum cd_log_target log_target = CD_LOG_STDERR;
static enum cd_log_level log_level = CD_LOG_INFO;

static const char *const level_names[] = {
	[CD_LOG_ERR] = "error", [CD_LOG_WARNING] = "warning",
	[CD_LOG_NOTICE] = "notice", [CD_LOG_INFO] = "info",
	[CD_LOG_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected to
 * stderr; checking the inode avoids prefixing when stderr was redirected. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void cd_log_init(const char *ident, enum cd_log_target target,
		 enum cd_log_level level)
{
	log_ident = ident;
	log_level = level;
	log_target = target;
	if (target == CD_LOG_AUTO)
		log_target = stderr_is_journal() ? CD_LOG_AUTO : CD_LOG_STDERR;
	if (log_target == CD_LOG_SYSLOG)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void cd_log_set_level(enum cd_log_level level)
{
	log_level = level;
}

int cd_log_level_parse(const char *name)
{
	for (int i = CD_LOG_ERR; i <= CD_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *cd_log_level_name(enum cd_log_level level)
{
	if (level < CD_LOG_ERR || level > CD_LOG_DEBUG)
		return "?";
	return level_names[level];
}

void cd_vlog(enum cd_log_level level, const char *fmt, va_list ap)
{
	char raw[2048], line[4096];

	if (level > log_level)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* One event, one line: a CR or LF smuggled in by data would forge a
	 * second log line, and other controls could hide text on a terminal
	 * - every one is written escaped (\n, \x00, \u0085). */
	cd_util_escape(raw, strlen(raw), sizeof(line), line, sizeof(line));
	switch (log_target) {
	case CD_LOG_SYSLOG:
		syslog((int)level, "%s", line);
		break;
	case CD_LOG_AUTO:
		fprintf(stderr, "<%d>%s\n", (int)level, line);
		break;
	case CD_LOG_STDERR:
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level], line);
		break;
	}
}

void cd_log(enum cd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cd_vlog(level, fmt, ap);
	va_end(ap);
}

void cd_log_fini(void)
{
	if (log_target == CD_LOG_SYSLOG)
		closelog();
}
