/*
 * store_source.h - what the store keeps for order sources: each
 * stream's cursor (committed in the same transaction as the rows it
 * covers), each source's state for `candorctl sources`, and the files a
 * drop folder has taken. Strings handed in are borrowed for the call;
 * strings handed out belong to the caller.
 */
#ifndef CANDOR_STORE_SOURCE_H
#define CANDOR_STORE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "candor/error.h"

struct cd_store;

/* One source's state as last recorded. */
struct cd_source_status {
	char *source, *type;
	char *state;            /* "ok", "failing" */
	char *detail;           /* the last failure, or NULL */
	int64_t last_poll;      /* Unix seconds; 0 never */
	int64_t last_ok;        /* last poll that worked */
	int64_t caught_up;      /* last poll that reached the newest row */
	int64_t rows;           /* rows taken, ever */
	int64_t bad;            /* of those, refused */
	int64_t errors;         /* failed polls, ever */
};

/* STREAM's cursor of SOURCE into *TIME and *KEY (new strings). Returns
 * 0, CD_ENOTFOUND (none yet) or CD_ESTORE. */
int cd_store_source_cursor(struct cd_store *st, const char *source, const char *stream,
			   char **time, char **key);

/* Set it, stamped AT. Returns 0 or CD_ESTORE with ERR. */
int cd_store_source_set_cursor(struct cd_store *st, const char *source, const char *stream,
			       const char *time, const char *key, int64_t at,
			       struct cd_error *err);

/* Record a poll of SOURCE (of TYPE) at AT: OK or failed with DETAIL;
 * CAUGHT_UP when it read the newest row; ROWS and BAD are added to the
 * counts. Returns 0 or CD_ESTORE with ERR. */
int cd_store_source_polled(struct cd_store *st, const char *source, const char *type,
			   int64_t at, int ok, const char *detail, int caught_up,
			   int64_t rows, int64_t bad, struct cd_error *err);

/* SOURCE's recorded state into *OUT (free with cd_store_source_status_free).
 * Returns 0, CD_ENOTFOUND or CD_ESTORE. */
int cd_store_source_status(struct cd_store *st, const char *source,
			   struct cd_source_status *out);
void cd_store_source_status_free(struct cd_source_status *s);

/* Has SOURCE taken the file NAME of SIZE bytes modified at MTIME? 1 yes,
 * 0 no, CD_ESTORE. */
int cd_store_source_file_taken(struct cd_store *st, const char *source, const char *name,
			       int64_t size, int64_t mtime);

/* Remember that it did, with RESULT ("done", "rejected"). 0 or CD_ESTORE. */
int cd_store_source_file_take(struct cd_store *st, const char *source, const char *name,
			      int64_t size, int64_t mtime, const char *result, int64_t at,
			      struct cd_error *err);

/* Has SOURCE taken order ID as the shop's row changed at TIME? 1 yes, 0
 * no (never, or at another time), CD_ESTORE. */
int cd_store_source_seen(struct cd_store *st, const char *source, const char *id,
			 const char *time);

/* Orders SOURCE read that could still be mailed, a page of them: key
 * after AFTER (in key order), shipped or delivered at or after SINCE, not
 * returned, refunded or cancelled, with no reminder and no feedback yet.
 * At most LIMIT keys into *IDS (new strings, *N of them; free each and
 * the array). Returns 0 or CD_ESTORE. */
int cd_store_source_pending(struct cd_store *st, const char *source, const char *after,
			    int64_t since, int limit, char ***ids, size_t *n);

/* The shop deleted order ID, which SOURCE read: it is cancelled (no mail
 * goes for it from now on) and an event "order_deleted" says why, at AT.
 * Returns 1 when it changed, 0 when it was not SOURCE's or already
 * cancelled, or CD_ESTORE with ERR. */
int cd_store_source_order_gone(struct cd_store *st, const char *source, const char *id,
			       int64_t at, struct cd_error *err);

#endif
