/*
 * config.h - candor.conf: load, validate strictly, print.
 *
 * The whole file is checked against a schema before anything is used: an
 * unknown setting, a wrong type or a bad value is an error that names the
 * file, the line and the setting. A struct cd_config is immutable once
 * loaded; a reload builds a new one and swaps it in only if it is valid.
 * All memory belongs to the config and is released by cd_config_free().
 */
#ifndef CANDOR_CONFIG_H
#define CANDOR_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "candor/error.h"
#include "candor/units.h"

struct cd_source_conf;   /* an order source's settings (source.h) */

/* Exit status for a configuration error (sysexits.h EX_CONFIG). */
#define CD_EXIT_CONFIG 78

enum cd_trigger {
	CD_TRIGGER_SHIPPED,
	CD_TRIGGER_DELIVERED,
	CD_TRIGGER_NEGATIVE_FEEDBACK
};

enum cd_transport_kind {
	CD_TRANSPORT_SMTP,
	CD_TRANSPORT_OUTBOX
};

enum cd_tls_mode {
	CD_TLS_AUTO,     /* required, except to a loopback server */
	CD_TLS_REQUIRED, /* STARTTLS (smtp://) or implicit TLS (smtps://) */
	CD_TLS_NONE      /* plain text; only sensible on loopback */
};

struct cd_variant {
	char *name;
	char *template;   /* template set name under the templates directory */
	unsigned weight;
	int line;         /* where it was set, for later errors */
};

struct cd_campaign {
	char *name;
	enum cd_trigger trigger;
	int64_t delay;    /* seconds after the trigger */
	int64_t expire;   /* no mail once the trigger is older than this */
	int64_t reminder; /* one reminder this long after the request; 0: none */
	char *reminder_template; /* template set of the reminder */
	int max_rating;   /* negative_feedback: ratings at or below start it */
	int64_t winner_min;   /* auto_winner: deliveries per arm first; 0 off */
	double winner_alpha;  /* auto_winner: significance level */
	int winner_clicks;    /* auto_winner.metric: 0 feedback, 1 clicks */
	char **packs;     /* compliance packs its mail is checked against; */
	size_t npacks;    /* none listed: every pack */
	struct cd_variant *variants;
	size_t nvariants;
	int line;
};

/* Where a sales channel (marketplace, or the shop's own site "web") takes
 * feedback: URLs with {order}, {product} and {token} filled in per mail. */
struct cd_channel {
	char *name;
	char *feedback_url;  /* seller/order feedback; "" when none */
	char *review_url;    /* product review, with {product}; "" when none */
	char *unsubscribe_url; /* NULL: the shop's; "": none for this channel */
	int track_clicks;    /* review links go through http.public_url/c/ */
};

struct cd_config {
	char *path;          /* the file it came from */
	char *database;      /* absolute: the SQLite file */
	char *templates;     /* absolute directory */
	char *packs;         /* absolute directory of compliance packs */
	char *compliance_model; /* absolute path of the learned model, by
				 * default packs/model.bin; "": none */
	int log_level;       /* enum cd_log_level */
	int64_t poll_interval;
	enum cd_transport_kind transport;

	struct {
		char *name, *domain, *from, *reply_to, *support, *timezone;
		char *footer;          /* plain text for every mail; "" */
		char *footer_html;     /* the same as HTML, written by the admin */
		char *unsubscribe_url; /* https one-click URL with {token}; "" */
		char *locale;          /* the language of reports ("de"); "" English */
	} shop;

	/* where the store is (src/store/store_config.c); "" is unset */
	struct {
		int engine;      /* enum cd_store_engine: CD_STORE_SQLITE uses database */
		char *conninfo;  /* postgresql: a libpq connection string */
		char *host, *user, *database, *sslmode;
		char *password_file, *ca_file; /* absolute, read when the store opens */
		int port;        /* 0: libpq's default */
	} store;

	struct {
		char *directory; /* absolute */
	} outbox;

	struct {
		char *url, *username, *password_file, *envelope_from;
		char *password;  /* secret read from password_file, or NULL */
		enum cd_tls_mode tls;
		int verify_certificate;
		int connections;
		int64_t connect_timeout, timeout;
		int64_t retry_min, retry_max; /* backoff after a deferral */
		int64_t retry_for;            /* then the message fails */
		int64_t pause_retry;          /* try again after a pause */
		int64_t stop_grace;           /* SIGTERM: what transfers in flight get */
		int verp;                     /* envelope sender local+TOKEN@domain */
	} smtp;

	/* the reply mailbox; url "" means no tracking */
	struct {
		char *url, *username, *password_file, *mailbox, *move_to;
		char *ca_file;   /* extra trusted CAs (PEM), "" for none */
		char *password;  /* secret read from password_file, or NULL */
		enum cd_tls_mode tls;
		int verify_certificate;
		int idle;                     /* wait with IDLE when offered */
		int64_t timeout;              /* per command */
		int64_t max_size;             /* bytes of one mail read */
	} imap;

	struct {
		int soft_bounce_limit;        /* soft bounces in a row: suppress */
	} tracking;

	struct {
		struct cd_rate global_rate; /* count 0: no limit */
		struct cd_rate domain_rate; /* per recipient domain; 0: none */
		int64_t daily_cap;          /* 0: no cap */
		int per_customer;           /* mails per customer per period */
		int64_t per_customer_period;
	} limits;

	struct cd_window window;        /* send window, customer's local time */

	struct cd_campaign *campaigns;
	size_t ncampaigns;

	struct cd_channel *channels;
	size_t nchannels;

	/* the web endpoint, served by "candord --web" (src/web/) */
	struct {
		char *listen;             /* "127.0.0.1:8025"; "" when off */
		char *public_url;         /* where the proxy publishes it, no
					   * trailing slash; "" when none */
		char *metrics_token_file; /* "" when none */
		char *metrics_token;      /* secret read from it, or NULL */
		struct cd_rate rate_limit;/* requests per client address; 0 none */
		int64_t undo_window;      /* an unsubscribe can be undone this long */
		int64_t timeout;          /* a request must arrive within this */
		int max_connections;      /* at once, in all */
		int connections_per_address;
	} http;

	/* order sources, intake's (source.h); none: only imports */
	struct cd_source_conf *sources;
	size_t nsources;
};

/* cd_config_load_flags() flags. */
enum cd_config_flags {
	CD_CONFIG_SECRETS = 1,  /* read password files (only what sends or reads mail) */
	/* check that the template set each variant and reminder names is in
	 * the templates directory (what renders), so a missing one is
	 * reported with the other errors, at its setting */
	CD_CONFIG_TEMPLATES = 2
};

/* Load and validate PATH. On success *OUT is a new config and 0 is
 * returned. On failure every problem found is appended to ERRS (each with
 * file, line and setting), *OUT is NULL and CD_ECONFIG or CD_ENOMEM is
 * returned. */
int cd_config_load(const char *path, struct cd_config **out,
		   struct cd_errors *errs);

/* The same with FLAGS: without CD_CONFIG_SECRETS no password file is
 * opened (the password fields stay NULL), so commands that send and read
 * nothing run for users who may not read the secrets. */
int cd_config_load_with(const char *path, int flags, struct cd_config **out,
			struct cd_errors *errs);

/* Free CFG; NULL is fine. The password is wiped first. */
void cd_config_free(struct cd_config *cfg);

/* The paths CFG makes a program use, one "name  value" line each:
 * config file, store (STORE: where it is, cd_store_config_where),
 * templates, packs and model. With CFG NULL (the file could not be
 * loaded), PATH and the built-in defaults. */
void cd_config_print_paths(const char *path, const struct cd_config *cfg, const char *store,
			   FILE *out);

/* Print the effective configuration, defaults included, in the file's own
 * syntax, with secrets masked. */
void cd_config_print(const struct cd_config *cfg, FILE *out);

/* Look up a campaign by name; NULL if absent. Borrowed. */
const struct cd_campaign *cd_config_campaign(const struct cd_config *cfg,
					     const char *name);

/* Look up a channel by name (NULL is fine); NULL if absent. Borrowed. */
const struct cd_channel *cd_config_channel(const struct cd_config *cfg,
					   const char *name);

/* The default configuration file path (SYSCONFDIR/candor/candor.conf). */
const char *cd_config_default_path(void);

/* The compliance packs' default directory (SYSCONFDIR/candor/packs). */
const char *cd_config_default_packs(void);

/* The packs this build goes with: the source tree's etc/packs when the
 * running program is the one in its build tree (run uninstalled), else
 * the default directory. Static. */
const char *cd_config_build_packs(void);

/* Name of a trigger as written in the config file. */
const char *cd_config_trigger_name(enum cd_trigger trigger);

#endif
