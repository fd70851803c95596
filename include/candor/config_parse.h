/*
 * config_parse.h - how a module reads its own section of candor.conf.
 *
 * config.c reads the file and walks it against the union of every
 * section's field list (unknown names and wrong types anywhere are
 * errors); then each section's loader reads its values with the getters
 * below, which apply defaults, check meaning and report every problem
 * with file, line and setting. The section list is config/sections.c, as
 * isync lists its drivers; the sections live with the modules that use
 * them, so a new setting is one field in config.h plus one line in the
 * owner's field list, loader and printer, all in one file.
 *
 * Strings returned by the getters are new copies the caller (the config)
 * owns; NULL after a reported problem.
 */
#ifndef CANDOR_CONFIG_PARSE_H
#define CANDOR_CONFIG_PARSE_H

#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>

#include "candor/config.h"
#include "candor/units.h"

struct cd_config_loader;

enum cd_cfg_kind { CD_CFG_STRING, CD_CFG_INT, CD_CFG_BOOL, CD_CFG_GROUP, CD_CFG_LIST };

/* One allowed setting; "*" stands for any element of a list. */
struct cd_config_field {
	const char *path;
	enum cd_cfg_kind kind;
};

struct cd_config_section {
	const struct cd_config_field *fields;   /* ends with a NULL path */
	/* Read the section's values from ROOT into C; report problems. */
	void (*load)(struct cd_config_loader *ld, struct cd_config *c,
		     const config_setting_t *root);
	/* Write the effective values in the file's own syntax. */
	void (*print)(const struct cd_config *c, FILE *out);
	/* Free what load allocated; C is never NULL. */
	void (*free)(struct cd_config *c);
};

/* Every section, in the order they load and print; NULL-terminated. */
extern const struct cd_config_section *const cd_config_sections[];

/* Report a problem at setting S (its line; may be NULL) named PATH. */
void cd_cfg_report(struct cd_config_loader *ld, const config_setting_t *s,
		   const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Note an allocation failure: the load fails with CD_ENOMEM. */
void cd_cfg_oom(struct cd_config_loader *ld);
/* Was the load asked for FLAG (CD_CONFIG_*)? */
int cd_cfg_wants(const struct cd_config_loader *ld, int flag);

/* Child NAME of GROUP (GROUP may be NULL), its display path in DPATH. */
config_setting_t *cd_cfg_member(const config_setting_t *group, const char *prefix,
				const char *name, char *dpath, size_t len);
/* GROUP's child NAME when it is a list, else NULL. */
config_setting_t *cd_cfg_list(const config_setting_t *group, const char *name);

/* Values of GROUP's child NAME, shown as PREFIX.NAME in errors; DEF when
 * unset. REQUIRED strings must not be empty. */
char *cd_cfg_string(struct cd_config_loader *ld, const config_setting_t *group,
		    const char *prefix, const char *name, const char *def, int required);
int64_t cd_cfg_duration(struct cd_config_loader *ld, const config_setting_t *group,
			const char *prefix, const char *name, const char *def);
/* A whole number in MIN..MAX (checked on the 64-bit value read). */
long long cd_cfg_int(struct cd_config_loader *ld, const config_setting_t *group,
		     const char *prefix, const char *name, long long def,
		     long long min, long long max);
int cd_cfg_bool(const config_setting_t *group, const char *name, int def);
/* Index of the value in NAMES (N entries, NULL gaps allowed), or -1. */
int cd_cfg_choice(struct cd_config_loader *ld, const config_setting_t *group,
		  const char *prefix, const char *name, const char *def,
		  const char *const *names, int n);
/* A rate ("200/hour"); "" leaves OUT at no limit. */
void cd_cfg_rate(struct cd_config_loader *ld, const config_setting_t *group,
		 const char *prefix, const char *name, const char *def,
		 struct cd_rate *out);
/* An optional file name, absolute against the config's directory; "". */
char *cd_cfg_path(struct cd_config_loader *ld, const config_setting_t *group,
		  const char *prefix, const char *name);
/* P made absolute against the config's directory (new string). */
char *cd_cfg_resolve(struct cd_config_loader *ld, const char *p);
/* An https URL containing PLACEHOLDER (unless NULL), or "" when unset. */
char *cd_cfg_url(struct cd_config_loader *ld, const config_setting_t *group,
		 const char *prefix, const char *name, const char *placeholder);
/* Report V (GROUP's NAME) unless it is a plain address or empty. */
void cd_cfg_address(struct cd_config_loader *ld, const config_setting_t *group,
		    const char *prefix, const char *name, const char *v);
/* The secret in the file at PATH ("" or NULL: none), refused when other
 * users may read it. PREFIX names the group for errors. NULL without
 * reading anything when the load lacks CD_CONFIG_SECRETS. */
char *cd_cfg_secret(struct cd_config_loader *ld, const config_setting_t *group,
		    const char *prefix, const char *path);
/* The secret in the file at PATH, named PREFIX.NAME in errors, read
 * whatever the load's flags (cd_cfg_secret skips the mail servers' ones
 * without CD_CONFIG_SECRETS). */
char *cd_cfg_secret_file(struct cd_config_loader *ld, const config_setting_t *group,
			 const char *prefix, const char *name, const char *path);
/* A copy of S, noting OOM. */
char *cd_cfg_strdup(struct cd_config_loader *ld, const char *s);

/* Wipe and free a secret; NULL is fine. */
void cd_cfg_free_secret(char *s);

/* Printing in candor.conf syntax, INDENT before each line. */
void cd_cfg_put_string(FILE *out, const char *indent, const char *name, const char *v);
void cd_cfg_put_duration(FILE *out, const char *indent, const char *name, int64_t secs);
void cd_cfg_put_rate(FILE *out, const char *indent, const char *name, const struct cd_rate *r);
void cd_cfg_put_bool(FILE *out, const char *indent, const char *name, int v);

/* "auto", "required", "none" for enum cd_tls_mode; the trigger names. */
extern const char *const cd_config_tls_names[3];
extern const char *const cd_config_trigger_names[3];

#endif
