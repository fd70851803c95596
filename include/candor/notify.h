/*
 * notify.h - tell systemd what the daemon is doing (sd_notify protocol).
 * Every call is a no-op when not run by systemd (NOTIFY_SOCKET unset).
 */
#ifndef CANDOR_NOTIFY_H
#define CANDOR_NOTIFY_H

#include <stdint.h>

/* Config, database and templates are loaded: READY=1 with a status. */
void cd_notify_ready(const char *status);

/* Reloading: RELOADING=1. Follow with cd_notify_ready(). */
void cd_notify_reloading(void);

/* Shutting down: STOPPING=1. */
void cd_notify_stopping(void);

/* STATUS=... (printf format). */
void cd_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1. */
void cd_notify_watchdog(void);

/* How often to send WATCHDOG=1, in ms (half the unit's WatchdogSec=), or 0
 * when the watchdog is off. */
int64_t cd_notify_watchdog_interval_ms(void);

/* The listening socket systemd passed (socket activation), or -1 when
 * there is none. LISTEN_FDS is cleared, so children do not inherit it. */
int cd_notify_listen_fd(void);

#endif
