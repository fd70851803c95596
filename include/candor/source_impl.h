/*
 * source_impl.h - what a source type implements, and the helpers it
 * calls while it polls (source.c runs them; source.h is the outside
 * view). Like the transports' table (transport_impl.h): one table of
 * operations per type, each in its own file under src/intake/.
 *
 * A poll reads one batch after the stream's cursor and hands each row
 * to cd_source_put_order() or cd_source_put_feedback() (which check it:
 * a bad row is reported with its key and skipped), then ends the batch
 * with cd_source_commit() naming the cursor of its last row, good or
 * bad. The rows and the cursor are written in one transaction, so a
 * crash before the commit reads the batch again and one after it never
 * does. In a test run (`candorctl sources --test`) the same calls write
 * nothing and print what they were given.
 *
 * Strings handed to the helpers are borrowed for the call.
 */
#ifndef CANDOR_SOURCE_IMPL_H
#define CANDOR_SOURCE_IMPL_H

#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>

#include "candor/error.h"
#include "candor/source.h"

struct cd_config_loader;
struct cd_feedback;
struct cd_order;
struct cd_source_run;
struct cd_store;

struct cd_source_type {
	const char *name;              /* as written in `type = "…"` */
	const char *const *settings;   /* its own settings, NULL-terminated */
	/* Read the type's settings of group G (shown as DP in errors) into
	 * C->priv, reporting every problem. */
	void (*parse)(struct cd_config_loader *ld, struct cd_source_conf *c,
		      const config_setting_t *g, const char *dp);
	/* Write the type's effective settings, one per line, after INDENT. */
	void (*print)(const struct cd_source_conf *c, FILE *out, const char *indent);
	/* Free C->priv; C is never NULL. */
	void (*free_conf)(struct cd_source_conf *c);
	/* Running state for C; nothing is connected yet. 0 or CD_ENOMEM. */
	int (*open)(const struct cd_source_conf *c, void **state, struct cd_error *err);
	/* One batch. Returns 1 when more rows wait, 0 when caught up, or a
	 * negative code with ERR (the source failed: connection, login,
	 * query; the batch is rolled back). Must not log: the runner logs
	 * once per change of state. */
	int (*poll)(void *state, struct cd_source_run *run, struct cd_error *err);
	/* Disconnect and free; NULL is fine. */
	void (*close)(void *state);
	/* A descriptor that turns readable when the source has work before
	 * its poll interval is up (the drop folder's inotify), or -1; the
	 * next poll reads it empty. NULL: none. */
	int (*wake_fd)(void *state);
};

extern const struct cd_source_type cd_source_sql;        /* source_sql.c */
extern const struct cd_source_type cd_source_directory;  /* source_dir.c */
extern const struct cd_source_type cd_source_shopify;    /* source_shopify.c */
extern const struct cd_source_type cd_source_woocommerce; /* source_woo.c */

/* The source being polled. Borrowed. */
const struct cd_source_conf *cd_source_run_conf(struct cd_source_run *r);

/* Is this a test run (nothing is written)? */
int cd_source_run_testing(struct cd_source_run *r);

/* Where STREAM ("orders", "feedback") stopped: its cursor time and key,
 * borrowed until the next commit. With none stored yet, the time is the
 * start of the `since` window as "YYYY-MM-DD HH:MM:SS" in UTC and the
 * key "0". */
void cd_source_run_cursor(struct cd_source_run *r, const char *stream,
			  const char **time, const char **key);

/* The store, inside the batch's transaction (begun on first use); NULL
 * in a test run. For types that write through other intake verbs
 * (the directory source's import). */
struct cd_store *cd_source_run_store(struct cd_source_run *r, struct cd_error *err);

/* Check O and write it; a bad order is reported under KEY and skipped.
 * Returns 0, or CD_ESTORE with ERR (the batch fails). */
int cd_source_put_order(struct cd_source_run *r, const struct cd_order *o,
			const char *key, struct cd_error *err);

/* The same for feedback; feedback for an order candor does not know is
 * reported and skipped. */
int cd_source_put_feedback(struct cd_source_run *r, const struct cd_feedback *f,
			   const char *key, struct cd_error *err);

/* Has this source taken order ID as the shop's row changed at TIME
 * (the settle window reads rows again)? 1 yes, 0 no (or no store), or
 * CD_ESTORE with ERR. */
int cd_source_seen(struct cd_source_run *r, const char *id, const char *time,
		   struct cd_error *err);

/* Orders this source read that could still be mailed (see
 * cd_store_source_pending: shipped or delivered within `since`), keys
 * after AFTER, at most LIMIT, into *IDS (*N; the caller frees each and
 * the array). None in a test run without a store. 0 or CD_ESTORE. */
int cd_source_pending(struct cd_source_run *r, const char *after, int limit, char ***ids,
		      size_t *n, struct cd_error *err);

/* The shop no longer has order ID (deleted outright): cancel it, so no
 * mail goes for it; written with the next commit. 0 or CD_ESTORE. */
int cd_source_gone(struct cd_source_run *r, const char *id, struct cd_error *err);

/* A row that could not be mapped, named by KEY; it is skipped. */
void cd_source_problem(struct cd_source_run *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A note about the mapping that does not skip the row (an unknown
 * platform status kept as it was): shown once per source and text. */
void cd_source_note(struct cd_source_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The shop asked candor to wait MS milliseconds before its next request
 * (Retry-After, a cost throttle, refused credentials); WHY says so in
 * the log and STATUS=. A failing poll backs off at least this long; a
 * poll that returns 1 (more) is resumed after it. */
void cd_source_wait(struct cd_source_run *r, int64_t ms, const char *why);

/* Count ROWS rows handled outside put_order/put_feedback (an imported
 * file), BAD of them refused. */
void cd_source_count(struct cd_source_run *r, int64_t rows, int64_t bad);

/* End the batch: STREAM's cursor moves to TIME and KEY (NULL: it stays)
 * and everything put since the last commit is written with it. Returns
 * 0 or CD_ESTORE with ERR. */
int cd_source_commit(struct cd_source_run *r, const char *stream, const char *time,
		     const char *key, struct cd_error *err);

#endif
