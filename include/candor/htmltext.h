/*
 * htmltext.h - the text of an HTML mail body as a reader sees it: block
 * elements and <br> end lines, white space collapses, entities are
 * decoded, style, script and head are dropped. What the mail quotes
 * (<blockquote>, and the quote containers of Gmail, Yahoo, Outlook and
 * others, which run to the end) comes out as "> " lines, as a plain-text
 * client would have quoted it, so the same quote stripper serves both.
 */
#ifndef CANDOR_HTMLTEXT_H
#define CANDOR_HTMLTEXT_H

#include <stddef.h>

/* The text of HTML (LEN bytes, UTF-8). Returns a malloc'd string, or
 * NULL when out of memory. */
char *cd_html_text(const char *html, size_t len);

#endif
