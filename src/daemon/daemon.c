/*
 * daemon.c - the main loop. One thread; signal handlers only set flags.
 * The signals are blocked while the loop checks its flags and unblocked
 * atomically by ppoll() while it sleeps, so none can slip in between the
 * check and the sleep; they are also unblocked while a cycle runs, so a
 * stop request is seen between two messages.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/daemon.h"
#include "candor/instance.h"
#include "candor/log.h"
#include "candor/notify.h"
#include "candor/sender.h"
#include "candor/source.h"
#include "candor/store.h"
#include "candor/template.h"
#include "candor/transport.h"
#include "candor/imap.h"
#include "candor/util.h"

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

struct daemon {
	const struct cd_daemon_opts *opts;
	struct cd_config *cfg;
	struct cd_templates *tpl;
	struct cd_store *store;
	struct cd_instance *lock;
	sigset_t waitmask;    /* the mask while sleeping: signals let in */
	sigset_t loopmask;    /* the mask while checking flags: blocked */
	int64_t next_cycle_ms;
	int64_t wd_ms;        /* watchdog ping interval, 0 when off */
	int64_t wd_last_ms;   /* when WATCHDOG=1 was last sent */
	struct cd_cycle_stats last;
	struct cd_imap *inbox;
	int inbox_ready;      /* IDLE said new mail arrived */
	/* with several daemons on one PostgreSQL store: what this one leads
	 * (1), leaves to another (0), or has not asked yet (-1) */
	int leads[CD_STORE_NROLES];
	/* The daemon's transport, opened by the first cycle and kept (one
	 * libcurl multi handle, its connections reused from cycle to cycle);
	 * NULL until then, or after a reload could not apply to it. */
	struct cd_transport *transport;
	struct cd_sources *sources;   /* the shop's order sources */
	int64_t sources_next_ms;      /* when one is due again */
};

static void feed_watchdog(void *arg)
{
	struct daemon *d = arg;
	int64_t now = cd_util_mono_ms();

	if (d->wd_ms > 0 && now - d->wd_last_ms >= d->wd_ms) {
		cd_notify_watchdog();
		d->wd_last_ms = now;
	}
}

static void log_errors(const struct cd_errors *errs)
{
	char buf[1024];

	for (size_t i = 0; i < errs->count; i++)
		cd_log(CD_LOG_ERR, "%s", cd_error_format(&errs->items[i], buf, sizeof(buf)));
}

/* Load config and templates together: a reload takes both or neither. */
static int load_all(const char *path, struct cd_config **cfg,
		    struct cd_templates **tpl, struct cd_errors *errs)
{
	/* a missing template set is reported with the other config errors */
	int rc = cd_config_load_with(path, CD_CONFIG_SECRETS | CD_CONFIG_TEMPLATES, cfg, errs);

	if (rc < 0)
		return rc;
	rc = cd_templates_load(*cfg, tpl, errs);
	if (rc < 0) {
		cd_config_free(*cfg);
		*cfg = NULL;
	} else {
		struct cd_errors warns = { 0 };
		char buf[1024];

		cd_templates_warnings(*tpl, *cfg, &warns);
		for (size_t i = 0; i < warns.count; i++)
			cd_log(CD_LOG_WARNING, "%s", cd_error_format(&warns.items[i], buf, sizeof(buf)));
		cd_errors_clear(&warns);
	}
	return rc;
}

static void install_signals(struct daemon *d)
{
	cd_util_catch_signals(on_stop, on_reload, &d->waitmask);
	d->loopmask = d->waitmask;
	sigaddset(&d->loopmask, SIGTERM);
	sigaddset(&d->loopmask, SIGINT);
	sigaddset(&d->loopmask, SIGHUP);
	sigdelset(&d->waitmask, SIGTERM);
	sigdelset(&d->waitmask, SIGINT);
	sigdelset(&d->waitmask, SIGHUP);
}

static void describe(const struct daemon *d, char *buf, size_t len)
{
	int64_t counts[CD_MSG_NSTATES];
	int64_t queued = 0;
	char when[32] = "none";

	/* "queued": waiting to be sent again (after a stop, or a retry) */
	if (cd_store_count_states(d->store, counts, NULL) == 0)
		queued = counts[CD_MSG_DEFERRED] + counts[CD_MSG_QUEUED];
	if (d->last.next_due > 0) {
		time_t t = (time_t)d->last.next_due;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	}
	char pause[300];

	if (cd_sender_is_paused(d->store, d->cfg, cd_util_now(), pause, sizeof(pause)))
		snprintf(buf, len, "SENDING PAUSED (%.150s): fix smtp and reload; %lld queued, %lld held",
			 pause, (long long)queued, (long long)counts[CD_MSG_HELD]);
	else
		snprintf(buf, len, "idle, next due %s, %lld queued, %lld held", when,
			 (long long)queued, (long long)counts[CD_MSG_HELD]);
	{
		/* due orders held back by the send window or a limit */
		char waiting[300];
		size_t used = strlen(buf);

		if (*cd_cycle_waiting(&d->last, waiting, sizeof(waiting)))
			snprintf(buf + used, len - used, ", %s", waiting);
	}
	if (d->sources && d->cfg->nsources) {
		char src[400];
		size_t used = strlen(buf);

		cd_sources_describe(d->sources, src, sizeof(src));
		snprintf(buf + used, len - used, "; %s", src);
	}
	if (d->cfg->imap.url[0] && d->inbox) {
		char inbox[400];
		size_t used = strlen(buf);

		cd_imap_describe(d->inbox, inbox, sizeof(inbox));
		snprintf(buf + used, len - used, "; inbox %s", inbox);
	}
}

static void reload(struct daemon *d)
{
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	struct cd_templates *tpl = NULL;
	char status[512];

	cd_notify_reloading();
	cd_log(CD_LOG_NOTICE, "reloading %s", d->opts->config_path);
	if (load_all(d->opts->config_path, &cfg, &tpl, &errs) < 0) {
		log_errors(&errs);
		cd_log(CD_LOG_ERR, "reload failed with %zu error(s); still running with the previous configuration",
		       errs.count);
		snprintf(status, sizeof(status),
			 "reload failed (%zu error(s) in %s); running with the previous configuration",
			 errs.count, d->opts->config_path);
		cd_notify_ready(status);
		cd_errors_clear(&errs);
		return;
	}
	if (strcmp(cfg->database, d->cfg->database) != 0) {
		char *same = strdup(d->cfg->database);

		if (!same) {
			cd_log(CD_LOG_ERR, "reload failed: out of memory; still running with the previous configuration");
			cd_notify_ready("reload failed (out of memory); running with the previous configuration");
			cd_templates_free(tpl);
			cd_config_free(cfg);
			return;
		}
		cd_log(CD_LOG_WARNING, "database changed to %s; that takes a restart, still using %s",
		       cfg->database, d->cfg->database);
		free(cfg->database);
		cfg->database = same;
	}
	/* the sources read the old config: reopen them on the new one (their
	 * cursors are in the store) */
	cd_sources_free(d->sources);
	d->sources = NULL;
	cd_templates_free(d->tpl);
	cd_config_free(d->cfg);
	d->cfg = cfg;
	if (cd_sources_open(cfg, &d->sources) < 0)
		cd_log(CD_LOG_ERR, "reload: out of memory opening the sources");
	d->sources_next_ms = 0;
	d->tpl = tpl;
	if (d->opts->log_level < 0)
		cd_log_set_level(cfg->log_level);
	d->next_cycle_ms = 0; /* new rules may make something due now */
	/* the smtp settings may have changed; the pooled connections stay
	 * for libcurl to reuse where they still match */
	if (d->transport) {
		struct cd_error err;
		char buf[1024];

		if (cd_transport_reload(d->transport, cfg, d->opts->dry_run, &err) < 0) {
			cd_log(CD_LOG_WARNING, "%s; the next cycle opens the transport afresh",
			       cd_error_format(&err, buf, sizeof(buf)));
			cd_transport_close(d->transport);
			d->transport = NULL;
		}
	}
	/* the inbox settings may have changed: connect afresh, at once */
	{
		struct cd_imap *t = cd_imap_new();

		if (t) {
			cd_imap_free(d->inbox);
			d->inbox = t;
		}
	}
	/* the admin may have fixed what paused sending; the next send tells */
	{
		struct cd_error err;
		char pause[300];

		if (cd_sender_is_paused(d->store, d->cfg, cd_util_now(), pause, sizeof(pause))) {
			cd_log(CD_LOG_NOTICE, "sending resumes after the reload (was paused %s)", pause);
			cd_sender_unpause(d->store, &err);
		}
	}
	describe(d, status, sizeof(status));
	cd_log(CD_LOG_NOTICE, "configuration reloaded");
	cd_notify_ready(status);
}

/* Leave a figure for /metrics (the web endpoint is another process and
 * reads them from the store): meta "last_ok:WHAT" is when WHAT last
 * succeeded, "metric:NAME" a value; MS is thousandths of either, written
 * as seconds. A dry run records nothing. */
static void mark(struct daemon *d, const char *key, int64_t ms)
{
	char value[64];

	if (d->opts->dry_run)
		return;
	snprintf(value, sizeof(value), "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
	if (ms % 1000 == 0)
		snprintf(value, sizeof(value), "%lld", (long long)(ms / 1000));
	if (cd_store_meta_set(d->store, key, value, NULL) < 0)
		cd_log(CD_LOG_DEBUG, "cannot record %s for /metrics", key);
}

/* Does this daemon lead ROLE? Asked before each turn of that work, as a
 * lead moves when its holder dies; a change is logged. On SQLite the
 * one daemon reports what a crash left in "sending" (never sent again)
 * as it starts; on PostgreSQL every daemon sends, and the one leading
 * CD_STORE_ROLE_SENDING watches for what a dead one left there
 * (run_cycle). 1, 0, or -1 when that report could not be read (ERR). */
static int leads(struct daemon *d, enum cd_store_role role, struct cd_error *err)
{
	static const char *const what[] = { "the watch on interrupted sends", "the inbox",
					    "the order sources" };
	int now = cd_store_lead(d->store, role) == 1;
	int shared = cd_store_engine_of(d->store) == CD_STORE_POSTGRESQL;

	if (now == d->leads[role])
		return now;
	if (shared)
		cd_log(CD_LOG_NOTICE, now ? "this candord now leads %s"
		       : "another candord leads %s; this one leaves it to that one", what[role]);
	d->leads[role] = now;
	if (now && role == CD_STORE_ROLE_SENDING && !shared &&
	    cd_cycle_report_interrupted(d->store, err) < 0) {
		d->leads[role] = -1;
		return -1;
	}
	return now;
}

/* PostgreSQL: the daemon leading the watch reports what dead daemons
 * left "sending". */
static void watch_left(struct daemon *d)
{
	struct cd_error err;
	char buf[1024];

	if (cd_store_engine_of(d->store) != CD_STORE_POSTGRESQL || d->opts->dry_run ||
	    leads(d, CD_STORE_ROLE_SENDING, NULL) != 1)
		return;
	if (cd_cycle_report_left(d->store, d->cfg, cd_util_now(), &err) < 0)
		cd_log(CD_LOG_WARNING, "cannot look for interrupted sends: %s",
		       cd_error_format(&err, buf, sizeof(buf)));
}

/* Read the reply mailbox. A failure is logged and retried later with
 * backoff: the inbox being away never stops the sending. */
static int run_tracking(struct daemon *d)
{
	struct cd_track_stats ts = { 0 };
	struct cd_error err;
	char buf[1024];
	int rc;

	if (!d->cfg->imap.url[0] || d->opts->dry_run || leads(d, CD_STORE_ROLE_INBOX, NULL) != 1)
		return 0;
	sigprocmask(SIG_SETMASK, &d->waitmask, NULL);
	rc = cd_imap_run(d->inbox, d->cfg, d->store, cd_util_now(), &ts, &err);
	sigprocmask(SIG_SETMASK, &d->loopmask, NULL);
	if (ts.read)
		cd_log(CD_LOG_NOTICE, "inbox: %lld read: %lld replies, %lld hard and %lld soft bounces,"
		       " %lld auto-replies, %lld unsubscribes, %lld complaints, %lld other;"
		       " %lld matched nothing, %lld seen before, %lld addresses suppressed",
		       (long long)ts.read, (long long)ts.kinds[CD_MAIL_REPLY],
		       (long long)ts.kinds[CD_MAIL_HARD_BOUNCE], (long long)ts.kinds[CD_MAIL_SOFT_BOUNCE],
		       (long long)ts.kinds[CD_MAIL_AUTO_REPLY], (long long)ts.kinds[CD_MAIL_UNSUBSCRIBE],
		       (long long)ts.complaints, (long long)ts.kinds[CD_MAIL_OTHER] - ts.complaints,
		       (long long)ts.unmatched, (long long)ts.duplicates, (long long)ts.suppressed);
	if (rc < 0)
		cd_log(CD_LOG_ERR, "inbox: %s; trying again later",
		       cd_error_format(&err, buf, sizeof(buf)));
	else
		mark(d, "last_ok:inbox", cd_util_now() * 1000);
	return rc;
}

/* Poll the sources that are due. A source's failure is its own (logged
 * and backed off there); only the store failing reaches here. */
static void run_sources(struct daemon *d)
{
	struct cd_error err;
	int64_t next = 0;
	int wrote = 0, rc;

	if (!d->sources || d->opts->dry_run) {
		d->sources_next_ms = INT64_MAX;
		return;
	}
	/* on a shared store one daemon reads the sources; the others look
	 * again in a while, in case its holder died */
	if (leads(d, CD_STORE_ROLE_SOURCES, NULL) != 1) {
		d->sources_next_ms = cd_util_mono_ms() + 30000;
		return;
	}
	sigprocmask(SIG_SETMASK, &d->waitmask, NULL);
	if (d->opts->once)
		rc = cd_sources_poll_all(d->sources, d->store, &got_stop, feed_watchdog, d, &err);
	else
		rc = cd_sources_poll(d->sources, d->store, cd_util_mono_ms(), &next, &wrote, &err);
	sigprocmask(SIG_SETMASK, &d->loopmask, NULL);
	if (rc < 0) {
		char buf[1024];

		cd_log(CD_LOG_ERR, "sources: %s; trying again in 30s",
		       cd_error_format(&err, buf, sizeof(buf)));
		next = 30000;
	}
	d->sources_next_ms = next == INT64_MAX ? INT64_MAX : cd_util_mono_ms() + next;
	if (wrote) /* new orders or feedback: the scheduler may have work */
		d->next_cycle_ms = 0;
}

static int run_cycle(struct daemon *d)
{
	struct cd_cycle c = {
		.cfg = d->cfg, .store = d->store, .tpl = d->tpl,
		.dry_run = d->opts->dry_run, .stop = &got_stop,
		.tick = feed_watchdog, .tick_arg = d,
	};
	struct cd_error err;
	char status[512], waiting[300];
	int64_t began = cd_util_mono_ms();
	int rc;

	/* several daemons on PostgreSQL all send: each claims its own share */
	watch_left(d);
	cd_notify_status("running a cycle");
	rc = d->transport ? 0 : cd_transport_open(d->cfg, d->opts->dry_run, &d->transport, &err);
	c.transport = d->transport;
	if (rc < 0) {
		memset(&d->last, 0, sizeof(d->last)); /* as a cycle that failed to start */
	} else {
		sigprocmask(SIG_SETMASK, &d->waitmask, NULL);
		rc = cd_cycle_run(&c, &d->last, &err);
		sigprocmask(SIG_SETMASK, &d->loopmask, NULL);
		if (rc == 0) {
			mark(d, "metric:cycle_seconds", cd_util_mono_ms() - began);
			mark(d, "last_ok:cycle", cd_util_now() * 1000);
		}
	}
	if (rc < 0) {
		char buf[1024];

		cd_log(CD_LOG_ERR, "cycle failed: %s", cd_error_format(&err, buf, sizeof(buf)));
		cd_notify_status("cycle failed: %s; retrying in %llds", err.msg,
				 (long long)d->cfg->poll_interval);
		return rc;
	}
	cd_log(d->last.due ? CD_LOG_NOTICE : CD_LOG_INFO,
	       "cycle %s: %lld due, %lld sent, %lld held, %lld failed, %lld deferred%s%s%s%s",
	       d->last.interrupted ? "stopped early" : "done",
	       (long long)d->last.due, (long long)d->last.sent,
	       (long long)d->last.held, (long long)d->last.failed, (long long)d->last.deferred,
	       *cd_cycle_waiting(&d->last, waiting, sizeof(waiting)) ? ", " : "", waiting,
	       d->last.paused ? ", SENDING PAUSED" : "",
	       d->opts->dry_run ? " (dry run: nothing recorded)" : "");
	if (d->last.requeued)
		cd_log(CD_LOG_WARNING, "%lld message(s) stopped before their end went: back in the "
		       "queue, sent with the next cycle", (long long)d->last.requeued);
	/* a stop waits for no inbox */
	rc = got_stop ? 0 : run_tracking(d);
	describe(d, status, sizeof(status));
	cd_notify_status("%s", status);
	/* --once reports an unread inbox; the daemon just tries again */
	return d->opts->once ? rc : 0;
}

/* Descriptors a sleep watches for sources, besides the inbox's. */
#define WAKE_FDS 16

/* Sleep until the next cycle, the watchdog, a signal, new mail (IDLE)
 * or a file dropped into a source's folder. */
static void wait_for_work(struct daemon *d, int64_t wd_ms)
{
	int64_t now = cd_util_mono_ms();
	int64_t wait = (d->sources_next_ms < d->next_cycle_ms ? d->sources_next_ms
			: d->next_cycle_ms) - now;
	struct pollfd pfd[1 + WAKE_FDS] = { { .fd = -1, .events = POLLIN } };
	int wake[WAKE_FDS];
	size_t nwake = 0;
	struct timespec ts;
	int n;

	if (wd_ms > 0 && wait > wd_ms)
		wait = wd_ms;
	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (wait % 1000) * 1000000;
	/* with IDLE, new mail in the inbox wakes us before the next cycle */
	if (wait > 0 && !d->opts->dry_run && d->cfg->imap.url[0] && d->leads[CD_STORE_ROLE_INBOX] == 1)
		pfd[0].fd = cd_imap_idle_fd(d->inbox, d->cfg);
	/* a folder's inotify: a complete file is taken now, not at the
	 * next poll (which stays, for what inotify cannot see) */
	if (wait > 0 && !d->opts->dry_run && d->leads[CD_STORE_ROLE_SOURCES] == 1)
		nwake = cd_sources_wake_fds(d->sources, wake, WAKE_FDS);
	for (size_t i = 0; i < nwake; i++)
		pfd[1 + i] = (struct pollfd){ .fd = wake[i], .events = POLLIN };
	/* poll() skips a negative descriptor: the inbox's slot may be empty */
	n = ppoll(pfd, 1 + nwake, &ts, &d->waitmask);
	if (n < 0 && errno != EINTR)
		cd_log(CD_LOG_WARNING, "ppoll: %s", strerror(errno));
	if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
		d->inbox_ready = 1;
	for (size_t i = 0; n > 0 && i < nwake; i++)
		if (pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
			cd_sources_woken(d->sources, wake[i], cd_util_mono_ms());
			d->sources_next_ms = cd_util_mono_ms();
		}
}

static int main_loop(struct daemon *d)
{
	for (;;) {
		feed_watchdog(d);
		if (got_stop)
			break;
		if (got_reload) {
			got_reload = 0;
			reload(d);
		}
		if (d->inbox_ready) {
			d->inbox_ready = 0;
			run_tracking(d);
			continue;
		}
		/* a source with more rows waiting comes back at once, but the
		 * cycle (and so sending) gets its turn in between */
		if (cd_util_mono_ms() >= d->sources_next_ms || d->opts->once)
			run_sources(d);
		if (cd_util_mono_ms() >= d->next_cycle_ms) {
			int rc = run_cycle(d);

			if (d->opts->once)
				return rc < 0 ? 1 : 0;
			d->next_cycle_ms = cd_util_mono_ms() + d->cfg->poll_interval * 1000;
			continue;
		}
		if (cd_util_mono_ms() < d->sources_next_ms)
			wait_for_work(d, d->wd_ms);
	}
	return 0;
}

static int start(struct daemon *d)
{
	struct cd_errors errs = { 0 };
	struct cd_error err;
	char buf[1024];
	int rc;

	if (load_all(d->opts->config_path, &d->cfg, &d->tpl, &errs) < 0) {
		log_errors(&errs);
		cd_errors_clear(&errs);
		return CD_EXIT_CONFIG;
	}
	if (d->opts->log_level < 0)
		cd_log_set_level(d->cfg->log_level);
	d->wd_ms = cd_notify_watchdog_interval_ms();
	/* wd_ms is half the unit's WatchdogSec: one SMTP transaction must
	 * fit in it, or a slow server gets the daemon killed. */
	if (d->wd_ms > 0 &&
	    (d->cfg->smtp.connect_timeout + d->cfg->smtp.timeout) * 1000 >= d->wd_ms)
		cd_log(CD_LOG_WARNING, "smtp.connect_timeout + smtp.timeout (%llds) should stay under half of WatchdogSec (%llds)",
		       (long long)(d->cfg->smtp.connect_timeout + d->cfg->smtp.timeout),
		       (long long)(d->wd_ms / 1000));
	rc = cd_instance_lock(d->cfg->database, &d->lock, &err);
	if (rc == 0)
		rc = cd_store_open_config(d->cfg, 0, &d->store, &err);
	if (rc == 0 && leads(d, CD_STORE_ROLE_SENDING, &err) < 0)
		rc = -1;
	if (rc == 0 && cd_sources_open(d->cfg, &d->sources) < 0)
		rc = cd_error_set(&err, CD_ENOMEM, NULL, 0, "out of memory");
	if (rc < 0) {
		cd_log(CD_LOG_ERR, "%s", cd_error_format(&err, buf, sizeof(buf)));
		return 1;
	}
	return 0;
}

int cd_daemon_run(const struct cd_daemon_opts *opts)
{
	struct daemon d = { .opts = opts, .leads = { -1, -1, -1 } };
	char status[512];
	int rc;

	got_stop = got_reload = 0;
#if defined(M_TRIM_THRESHOLD) && defined(M_TOP_PAD)
	/* A cycle allocates and frees its mails and rows in waves; glibc
	 * would hand the top of the heap back after each and ask for it
	 * again - two brk() calls a message, measured. A few MB kept is
	 * cheaper. */
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
#endif
	if (!(d.inbox = cd_imap_new()))
		return 1;
	install_signals(&d);
	rc = start(&d);
	if (rc != 0)
		goto out;
	describe(&d, status, sizeof(status));
	cd_log(CD_LOG_NOTICE, "started (config %s, database %s%s)", opts->config_path,
	       cd_store_name(d.store), opts->dry_run ? ", dry run" : "");
	cd_notify_ready(status);
	rc = main_loop(&d);
	cd_notify_stopping();
	cd_log(CD_LOG_NOTICE, "stopped");
out:
	cd_transport_close(d.transport);
	cd_sources_free(d.sources);
	cd_imap_free(d.inbox);
	cd_store_close(d.store);
	cd_instance_unlock(d.lock);
	cd_templates_free(d.tpl);
	cd_config_free(d.cfg);
	return rc;
}
