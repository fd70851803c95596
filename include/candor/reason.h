/*
 * reason.h - what a negative feedback comment is about, so an apology can
 * address it specifically and reports can show where problems gather.
 * Keyword matching in the languages candor serves (en, zh, ru, de, es,
 * fr, ja); the first category with the most hits wins.
 */
#ifndef CANDOR_REASON_H
#define CANDOR_REASON_H

enum cd_reason {
	CD_REASON_OTHER,
	CD_REASON_QUALITY,           /* broke, poor quality, stopped working */
	CD_REASON_SHIPPING,          /* late, damaged in transit, lost */
	CD_REASON_WRONG_ITEM,        /* wrong or missing item */
	CD_REASON_NOT_AS_DESCRIBED,  /* differs from the listing */
	CD_REASON_SERVICE,           /* rude, no answer, refused help */
	CD_REASON_COUNT
};

/* The category of COMMENT (UTF-8; NULL or "" is CD_REASON_OTHER). */
enum cd_reason cd_reason_classify(const char *comment);

/* "product_quality", "shipping", "wrong_item", "not_as_described",
 * "service" or "other". */
const char *cd_reason_name(enum cd_reason r);

/* R in words for a reader of LOCALE ("de", "pt-BR", "zh-Hant"; NULL or
 * "" is English), in any of the 14 template languages; other languages
 * get English. Static text. */
const char *cd_reason_label(enum cd_reason r, const char *locale);

#endif
