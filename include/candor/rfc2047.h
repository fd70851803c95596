/*
 * rfc2047.h - encode header text as RFC 2047 encoded-words. libetpan
 * 1.9.4 can decode them but ships no encoder, so this one is ours.
 */
#ifndef CANDOR_RFC2047_H
#define CANDOR_RFC2047_H

#include "candor/buf.h"

/* Append TEXT to B as header content. Printable ASCII goes as is (folded
 * at spaces); anything else becomes "=?UTF-8?B?...?=" words of at most 75
 * characters, split only between UTF-8 characters and joined by CRLF SP.
 * Control characters (CR, LF, TAB, ...) are turned into spaces first.
 * START is the column the text starts at. */
void cd_rfc2047_encode(struct cd_buf *b, const char *text, int start);

/* Append a display name as a quoted string, or as encoded-words when it
 * is not plain ASCII. */
void cd_rfc2047_phrase(struct cd_buf *b, const char *name, int start);

/* Append LEN bytes of P as base64 in lines of at most 76 characters, each
 * ended with CRLF. */
void cd_rfc2047_base64_lines(struct cd_buf *b, const unsigned char *p, size_t len);

#endif
