/*
 * store_copy.h - moving a store to another engine ("candorctl migrate
 * --to postgresql"): every row of one store copied into an empty one,
 * counted and checksummed on both sides before it is committed.
 *
 * The copy is one transaction on the target. A mark set before it
 * starts, and taken away by its commit, makes cd_store_open() refuse the
 * target while a copy runs or after one that did not finish.
 */
#ifndef CANDOR_STORE_COPY_H
#define CANDOR_STORE_COPY_H

#include <stdint.h>

#include "candor/error.h"
#include "candor/store.h"

/* What was copied of one table. The checksum is the sum, modulo 2^128,
 * of the SHA-256 of each row's values (so it does not depend on the
 * order rows are read in), as hex. */
struct cd_store_copy_table {
	const char *name;            /* static */
	int64_t rows;
	char checksum[33];
	int verified;                /* the target's count and sum are the same */
};

#define CD_STORE_COPY_TABLES 12

struct cd_store_copy_stats {
	struct cd_store_copy_table tables[CD_STORE_COPY_TABLES];
	int ntables;
};

/* Copy FROM into TO: orders, feedback, messages, events, replies,
 * suppressions, meta (the token secret included), the waiting list and
 * the inbox's seen mails. The scheduler's positions and the change log
 * are not copied: the first pass on TO reads every campaign's whole
 * range once. TO must hold no rows (a fresh "candorctl init" is fine)
 * and be opened with CD_STORE_MIGRATING. PROGRESS, when not NULL, hears
 * of each table as it is copied. Returns 0; CD_EINVAL when TO is not
 * empty; CD_ESTORE when a row cannot be written or a table's count or
 * checksum differs (then nothing is committed and the mark stays). */
int cd_store_copy(struct cd_store *from, struct cd_store *to,
		  void (*progress)(void *arg, const char *table, int64_t rows), void *arg,
		  struct cd_store_copy_stats *stats, struct cd_error *err);

#endif
