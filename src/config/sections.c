/*
 * sections.c - every section of candor.conf, in the order they load and
 * print. Each lives with the module that uses it (isync lists its
 * drivers the same way); a new section is one line here.
 */
#include "config.h"

#include <stddef.h>

#include "candor/config_parse.h"

extern const struct cd_config_section cd_config_top_section;   /* config.c */
extern const struct cd_config_section cd_store_section;        /* store */
extern const struct cd_config_section cd_shop_section;         /* compose */
extern const struct cd_config_section cd_deliver_section;      /* deliver */
extern const struct cd_config_section cd_track_section;        /* track */
extern const struct cd_config_section cd_schedule_section;     /* schedule */
extern const struct cd_config_section cd_campaigns_section;    /* schedule */
extern const struct cd_config_section cd_channels_section;     /* compose */
extern const struct cd_config_section cd_http_section;         /* web */
extern const struct cd_config_section cd_sources_section;      /* intake */

const struct cd_config_section *const cd_config_sections[] = {
	&cd_config_top_section,
	&cd_store_section,
	&cd_shop_section,
	&cd_deliver_section,
	&cd_track_section,
	&cd_schedule_section,
	&cd_campaigns_section,
	&cd_channels_section,
	&cd_http_section,
	&cd_sources_section,
	NULL,
};
