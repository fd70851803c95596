/*
 * notify.c - thin layer over libsystemd's sd_notify, so the rest of the
 * daemon speaks in events (ready, reloading) rather than protocol strings.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "candor/notify.h"

void cd_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void cd_notify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void cd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void cd_notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void cd_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

int64_t cd_notify_watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	/* unset_environment=0: a reload re-reads it, and children do not
	 * exist to inherit it. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return (int64_t)(usec / 2000);
}

int cd_notify_listen_fd(void)
{
	return sd_listen_fds(1) >= 1 ? SD_LISTEN_FDS_START : -1;
}
