/*
 * cycle.h - one pass of the pipeline: find what is due, render it, hand
 * it to the transport, record the outcome. The daemon calls it on a timer;
 * "candord --once" calls it once.
 */
#ifndef CANDOR_CYCLE_H
#define CANDOR_CYCLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"
#include "candor/ratelimit.h"

struct cd_config;
struct cd_store;
struct cd_templates;
struct cd_transport;

struct cd_cycle {
	const struct cd_config *cfg;       /* borrowed */
	struct cd_store *store;            /* borrowed */
	const struct cd_templates *tpl;    /* borrowed */
	/* Borrowed: the daemon's, kept across cycles so its connections are
	 * reused (opened as dry_run says). NULL: the cycle opens one of its
	 * own and closes it at the end. */
	struct cd_transport *transport;
	int dry_run;
	/* Only find what is due now (queries, send window, caps) and count
	 * it in stats.due; render, send and record nothing. */
	int plan_only;
	/* Set by a signal handler: hand out nothing more; transfers in flight
	 * get smtp.stop_grace, then are aborted (cd_transport_set_stop). */
	const volatile sig_atomic_t *stop;
	/* Called after every message, so a long cycle can keep the systemd
	 * watchdog fed; may be NULL. */
	void (*tick)(void *arg);
	void *tick_arg;
};

struct cd_cycle_stats {
	int64_t due, sent, held, failed;
	int64_t deferred, unknown; /* to retry later; outcome unknown */
	int64_t requeued; /* stopped before the end of the message: queued */
	int paused;       /* sending is paused (login, sender or TLS refused) */
	int64_t next_due; /* epoch seconds of the next due order, 0 if none */
	int interrupted;  /* stopped early on request */
	/* Due orders that wait, by reason (send window, per-customer cap,
	 * domain rate; a plan also counts those a cycle-wide limit holds) */
	int64_t waiting[CD_WAIT_NREASONS];
	enum cd_wait limit; /* the cycle-wide limit reached, CD_WAIT_NONE if none */
};

/* The waiting counts of S as "N send window, M per_customer, ..." into
 * BUF (LEN bytes), with the cycle-wide limit reached; "" when none
 * waits. Returns BUF. */
char *cd_cycle_waiting(const struct cd_cycle_stats *s, char *buf, size_t len);

/* Run one cycle. A bad order or template is logged and counted, never
 * fatal; a database failure returns CD_ESTORE with ERR filled. */
int cd_cycle_run(const struct cd_cycle *c, struct cd_cycle_stats *stats,
		 struct cd_error *err);

/* Epoch seconds at which the next order becomes due under CFG's
 * campaigns, 0 if none will. One indexed MIN per campaign. */
int64_t cd_cycle_next_due(const struct cd_config *cfg, struct cd_store *store,
			  int64_t now);

/* Log and count the messages a crash left in "sending": they are never
 * sent again on their own. Returns their number, or a negative code. */
int64_t cd_cycle_report_interrupted(struct cd_store *store,
				    struct cd_error *err);

/* Several daemons on one store: log and count the messages made
 * "sending" since the last such report that still are, now that every
 * transfer of theirs must have ended under CFG's smtp timeouts (their
 * daemon died, or lost the answer). Run by one daemon at a time; the
 * position is kept in meta CD_CYCLE_LEFT_KEY. Returns their number, or
 * a negative code. */
#define CD_CYCLE_LEFT_KEY "left_sending_reported"
int64_t cd_cycle_report_left(struct cd_store *store, const struct cd_config *cfg, int64_t now,
			     struct cd_error *err);

#endif
