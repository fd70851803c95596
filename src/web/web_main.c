/*
 * web_main.c - "candord --web", the web endpoint's process: load the
 * configuration without the mail servers' passwords, open the store,
 * serve on the socket systemd passed (candor-web.socket) or on
 * http.listen, until SIGTERM; SIGHUP reloads. It shares the SQLite
 * database with candord (WAL: readers never wait for the writer) and
 * never sends mail, so the part that faces the web holds no SMTP or IMAP
 * secret; the unit (candor-web.service) hides the password files too.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/notify.h"
#include "candor/store.h"
#include "candor/util.h"
#include "candor/web.h"

static volatile sig_atomic_t got_stop, got_reload;

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	got_reload = 1;
}

static void log_errors(const struct cd_errors *errs)
{
	char buf[1024];

	for (size_t i = 0; i < errs->count; i++)
		cd_log(CD_LOG_ERR, "%s", cd_error_format(&errs->items[i], buf, sizeof(buf)));
}

/* Signals are blocked except while ppoll() sleeps, so none slips in
 * between the check of the flags and the sleep. */
static void install_signals(sigset_t *waitmask)
{
	cd_util_catch_signals(on_stop, on_reload, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

static void reload(const char *path, struct cd_config **cfg, struct cd_web *w, int log_level)
{
	struct cd_errors errs = { 0 };
	struct cd_config *fresh = NULL;

	cd_notify_reloading();
	if (cd_config_load_with(path, 0, &fresh, &errs) < 0) {
		log_errors(&errs);
		cd_log(CD_LOG_ERR, "reload failed with %zu error(s); still running with the previous configuration",
		       errs.count);
		cd_errors_clear(&errs);
		cd_notify_ready("reload failed; running with the previous configuration");
		return;
	}
	if (strcmp(fresh->database, (*cfg)->database) != 0 ||
	    strcmp(fresh->http.listen, (*cfg)->http.listen) != 0)
		cd_log(CD_LOG_WARNING, "a new database or http.listen takes a restart; the rest is reloaded");
	/* the store stays the one we opened */
	cd_web_set_config(w, fresh);
	cd_config_free(*cfg);
	*cfg = fresh;
	if (log_level < 0)
		cd_log_set_level(fresh->log_level);
	cd_log(CD_LOG_NOTICE, "configuration reloaded");
	cd_notify_ready("serving; configuration reloaded");
}

static void serve(const char *path, struct cd_config **cfg, struct cd_web *w, int log_level,
		  const sigset_t *waitmask)
{
	int64_t wd = cd_notify_watchdog_interval_ms(), wd_last = 0;
	struct pollfd pfd = { .fd = cd_web_fd(w), .events = POLLIN };

	while (!got_stop) {
		int64_t now = cd_util_mono_ms(), wait = cd_web_timeout_ms(w);
		struct timespec ts;

		if (got_reload) {
			got_reload = 0;
			reload(path, cfg, w, log_level);
		}
		if (wd > 0 && now - wd_last >= wd) {
			cd_notify_watchdog();
			wd_last = now;
		}
		if (wait < 0 || wait > 1000)
			wait = 1000;
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (wait % 1000) * 1000000;
		if (ppoll(&pfd, 1, &ts, waitmask) < 0 && errno != EINTR)
			cd_log(CD_LOG_WARNING, "ppoll: %s", strerror(errno));
		cd_web_serve(w);
	}
}

int cd_web_main(const char *config_path, int log_level)
{
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	struct cd_store *st = NULL;
	struct cd_web *w = NULL;
	struct cd_error err;
	unsigned char secret[32];
	char buf[1024];
	sigset_t waitmask;
	int fd, rc = 1;

	got_stop = got_reload = 0;
	/* nothing of this process (the token secret) in a core file, and
	 * no other process of our user may read its memory */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	install_signals(&waitmask);
	if (cd_config_load_with(config_path, 0, &cfg, &errs) < 0) {
		log_errors(&errs);
		cd_errors_clear(&errs);
		return CD_EXIT_CONFIG;
	}
	if (log_level < 0)
		cd_log_set_level(cfg->log_level);
	fd = cd_notify_listen_fd();
	if (fd < 0 && !cfg->http.listen[0]) {
		cd_log(CD_LOG_ERR, "%s: the web endpoint is off: set http.listen, or start it by"
		       " systemd socket activation (candor-web.socket)", config_path);
		rc = CD_EXIT_CONFIG;
		goto out;
	}
	if (cd_store_open_config(cfg, CD_STORE_INTERACTIVE, &st, &err) < 0 ||
	    cd_store_secret(st, secret, &err) < 0 ||
	    cd_web_start(cfg, st, secret, fd, &w, &err) < 0) {
		cd_log(CD_LOG_ERR, "%s", cd_error_format(&err, buf, sizeof(buf)));
		goto out;
	}
	cd_util_wipe(secret, sizeof(secret));
	cd_log(CD_LOG_NOTICE, "web endpoint serving on %s (config %s, database %s)",
	       fd >= 0 ? "the socket systemd passed" : cfg->http.listen, config_path, cfg->database);
	cd_notify_ready("serving");
	serve(config_path, &cfg, w, log_level, &waitmask);
	cd_notify_stopping();
	cd_log(CD_LOG_NOTICE, "web endpoint stopped after %llu requests",
	       (unsigned long long)cd_web_requests(w));
	rc = 0;
out:
	cd_util_wipe(secret, sizeof(secret));
	cd_web_stop(w);
	cd_store_close(st);
	cd_config_free(cfg);
	return rc;
}
