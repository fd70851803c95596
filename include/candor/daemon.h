/*
 * daemon.h - candord's life: load, lock, notify, loop, reload, stop.
 */
#ifndef CANDOR_DAEMON_H
#define CANDOR_DAEMON_H

struct cd_daemon_opts {
	const char *config_path;
	int once;       /* one full cycle, then exit */
	int dry_run;    /* everything but handing mail over; nothing recorded */
	int log_level;  /* -1: take it from the config */
};

/* Run the daemon; returns the process exit status (0, 1, or
 * CD_EXIT_CONFIG for a configuration error). */
int cd_daemon_run(const struct cd_daemon_opts *opts);

#endif
