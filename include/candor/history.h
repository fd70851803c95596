/*
 * history.h - one order's story for a human: the order, its feedback,
 * every message candor made for it and every event on those messages.
 */
#ifndef CANDOR_HISTORY_H
#define CANDOR_HISTORY_H

#include <stdio.h>

#include "candor/error.h"

struct cd_store;

/* Print ORDER's history to OUT. Returns 0, CD_ENOTFOUND or CD_ESTORE. */
int cd_history_print(struct cd_store *st, const char *order_id, FILE *out,
		     struct cd_error *err);

#endif
