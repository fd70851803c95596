/*
 * import.h - load orders and feedback from files: CSV with candor's own
 * header, a Shopify orders export (one row per line item) or a
 * WooCommerce one (the three common plugins' layouts), and JSON Lines. Re-importing updates orders in place. The whole import is one
 * transaction: by default one bad row means nothing changes; with a
 * reject file the good rows go in and the bad ones are written out
 * untouched.
 */
#ifndef CANDOR_IMPORT_H
#define CANDOR_IMPORT_H

#include <stdint.h>

#include "candor/error.h"

struct cd_store;
struct cd_config;
struct cd_campaign;

enum cd_import_kind { CD_IMPORT_ORDERS, CD_IMPORT_FEEDBACK };

struct cd_import_opts {
	enum cd_import_kind kind;
	const char *path;      /* "-" reads standard input */
	const char *reject;    /* --skip-bad FILE, or NULL */
	int progress;          /* show rows and rate on stderr */
	/* With a config, the stats say what its campaigns will make of the
	 * orders (outlook below); NULL: no outlook. */
	const struct cd_config *cfg;
	int64_t now;           /* for the outlook; 0: the clock */
};

#define CD_IMPORT_MAX_OUTLOOK 8
#define CD_IMPORT_MAX_CHANNELS 8

/* What one campaign will make of the orders written, as far as the file
 * tells: orders it can never mail for want of a date, and orders whose
 * date is already past its expire window. */
struct cd_import_outlook {
	const struct cd_campaign *campaign;
	int64_t no_date, expired, can_mail;
};

struct cd_import_channel {
	char name[40];
	int64_t orders;
	int known;             /* the config names the channel */
};

struct cd_import_stats {
	int64_t rows;          /* data rows read */
	int64_t records;       /* orders or feedback entries written */
	int64_t added;         /* of those, new */
	int64_t rejected;      /* rows refused */
	const char *format;    /* "generic CSV", "Shopify CSV", "JSON Lines",
				* "WooCommerce CSV (WebToffee)" … */
	/* orders written: closed (returned, refunded, cancelled — never
	 * mailed), locale taken from the country, neither locale nor country */
	int64_t closed, locale_from_country, no_locale;
	struct cd_import_outlook outlook[CD_IMPORT_MAX_OUTLOOK];
	size_t noutlook;
	struct cd_import_channel channels[CD_IMPORT_MAX_CHANNELS];
	size_t nchannels;
	int64_t other_channels;  /* orders on channels past the first eight */
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
