/*
 * import.h - load orders and feedback from files: CSV with candor's own
 * header or a Shopify orders export (one row per line item), and JSON
 * Lines. Re-importing updates orders in place. The whole import is one
 * transaction: by default one bad row means nothing changes; with a
 * reject file the good rows go in and the bad ones are written out
 * untouched.
 */
#ifndef CANDOR_IMPORT_H
#define CANDOR_IMPORT_H

#include <stdint.h>

#include "candor/error.h"

struct cd_store;

enum cd_import_kind { CD_IMPORT_ORDERS, CD_IMPORT_FEEDBACK };

struct cd_import_opts {
	enum cd_import_kind kind;
	const char *path;      /* "-" reads standard input */
	const char *reject;    /* --skip-bad FILE, or NULL */
	int progress;          /* show rows and rate on stderr */
};

struct cd_import_stats {
	int64_t rows;          /* data rows read */
	int64_t records;       /* orders or feedback entries written */
	int64_t added;         /* of those, new */
	int64_t rejected;      /* rows refused */
	const char *format;    /* "generic CSV", "Shopify CSV", "JSON Lines" */
};

/* Called for every bad row, with ERR naming file, line and reason. */
typedef void (*cd_import_report_fn)(void *arg, const struct cd_error *err);

/* Import. Returns 0; CD_EINVAL when rows were bad and no reject file was
 * given (nothing was changed; each was reported); CD_EIO, CD_ESTORE or
 * CD_ENOMEM with ERR filled. */
int cd_import_run(struct cd_store *st, const struct cd_import_opts *opts,
		  cd_import_report_fn report, void *arg,
		  struct cd_import_stats *stats, struct cd_error *err);

#endif
