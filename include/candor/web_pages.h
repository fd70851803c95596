/*
 * web_pages.h - the pages a customer sees at /u/TOKEN: asking to
 * confirm, unsubscribed (with an undo button while it can be undone),
 * subscribed again, too late to undo. In each language the templates
 * ship (templates/SET/LOCALE/: default English, de, es, fr, ru, zh-Hans,
 * zh-Hant), every value HTML-escaped, no script, no outside resource.
 */
#ifndef CANDOR_WEB_PAGES_H
#define CANDOR_WEB_PAGES_H

#include <stddef.h>

enum cd_web_page {
	CD_PAGE_CONFIRM,   /* "stop mail from SHOP to EMAIL?" + button */
	CD_PAGE_DONE,      /* unsubscribed; undo button when can_undo */
	CD_PAGE_UNDONE,    /* subscribed again */
	CD_PAGE_TOO_LATE,  /* cannot be undone any more: write to support */
	CD_PAGE_NPAGES
};

/* The page language for an order's LOCALE (may be NULL): "de-AT" -> "de",
 * "zh-TW" -> "zh-Hant", "zh-CN" -> "zh-Hans", unknown -> "default".
 * Borrowed, static. */
const char *cd_web_page_language(const char *locale);

/* PAGE in the language for LOCALE, naming SHOP, the customer's EMAIL
 * (shown partly hidden) and SUPPORT; CAN_UNDO adds the undo button to
 * CD_PAGE_DONE. A new NUL-terminated string (*LEN bytes), or NULL when
 * out of memory. */
char *cd_web_page_render(enum cd_web_page page, const char *locale, const char *shop,
			 const char *email, const char *support, int can_undo, size_t *len);

/* EMAIL with most of its local part hidden ("an•••@example.org") into OUT. */
void cd_web_mask_email(const char *email, char *out, size_t len);

#endif
