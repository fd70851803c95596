/*
 * source.h - order sources: where intake reads a shop's orders and
 * feedback unattended (DESIGN.md, "Sources"). Each `sources` entry of
 * candor.conf names a type ("sql", "directory"); the type parses its own
 * settings and reads its rows (source_impl.h is the table of operations);
 * this module runs them: it polls each when due, writes what it maps
 * through the store's verbs together with the source's cursor in one
 * transaction, backs off a source that fails, and keeps every source's
 * state where `candorctl sources` and STATUS= can show it.
 *
 * Ownership: a struct cd_sources belongs to its caller (cd_sources_free);
 * the configuration it was opened with must outlive it.
 */
#ifndef CANDOR_SOURCE_H
#define CANDOR_SOURCE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "candor/error.h"

struct cd_config;
struct cd_store;
struct cd_source_type;

/* One entry of `sources = ( … )`, as loaded; belongs to the config. */
struct cd_source_conf {
	char *name;
	const struct cd_source_type *type;
	int64_t poll_interval;   /* seconds between polls */
	int64_t since;           /* a first poll reads rows changed this recently */
	int line;                /* where it was written */
	void *priv;              /* the type's own settings */
};

struct cd_sources;

/* Sources of CFG, none connected yet. Returns 0 or CD_ENOMEM. */
int cd_sources_open(const struct cd_config *cfg, struct cd_sources **out);

/* Close every source; NULL is fine. */
void cd_sources_free(struct cd_sources *s);

/* Called between batches so a long backfill keeps the watchdog fed. */
typedef void (*cd_source_tick_fn)(void *arg);

/* Poll every source that is due at NOW_MS (monotonic), one batch each.
 * Failures are the source's own (logged, backed off, recorded); a
 * store failure is returned as CD_ESTORE with ERR. *WROTE is set when
 * a source wrote rows and has caught up: the scheduler has new work.
 * Returns 0, or the milliseconds until a source is due again through
 * *NEXT_MS (0: a source has more rows waiting now). */
int cd_sources_poll(struct cd_sources *s, struct cd_store *st, int64_t now_ms,
		    int64_t *next_ms, int *wrote, struct cd_error *err);

/* Poll until every source has caught up or failed (candord --once). */
int cd_sources_poll_all(struct cd_sources *s, struct cd_store *st,
			volatile sig_atomic_t *stop, cd_source_tick_fn tick, void *arg,
			struct cd_error *err);

/* Descriptors that wake a source before its poll interval (a file
 * dropped into a folder): up to MAX of them into FDS; returns how many. */
size_t cd_sources_wake_fds(const struct cd_sources *s, int *fds, size_t max);

/* FD turned readable: its source is due at NOW_MS. */
void cd_sources_woken(struct cd_sources *s, int fd, int64_t now_ms);

/* One line for STATUS=: "sources: woo ok, drop failing (…)"; "" when
 * there are none. */
void cd_sources_describe(const struct cd_sources *s, char *buf, size_t len);

/* `candorctl sources`: every configured source with its stored state
 * (cursor, last poll, lag, rows, errors), as a table on OUT. Returns 0 or
 * CD_ESTORE with ERR. */
int cd_sources_list(const struct cd_config *cfg, struct cd_store *st, int64_t now,
		    FILE *out, struct cd_error *err);

/* `candorctl sources --test NAME`: one poll of NAME from its stored
 * cursor (or `since`) without writing anything: the first SHOW mapped
 * orders and every mapping problem on OUT. ST may be NULL (no stored
 * cursor). Returns 0 when the poll worked (problems or not), CD_ENOTFOUND
 * for an unknown NAME, or the source's failure with ERR. */
int cd_source_test(const struct cd_config *cfg, struct cd_store *st, const char *name,
		   int show, FILE *out, struct cd_error *err);

/* The type named NAME ("sql", "directory"), or NULL. */
const struct cd_source_type *cd_source_type_find(const char *name);

#endif
