/*
 * inmail.h - a mail from the inbox, flattened for the classifier: its
 * header block, its readable text decoded to UTF-8, the delivery-status
 * report if it carries one, and the header block of the message it
 * returns or quotes. libetpan finds the MIME structure and undoes the
 * transfer encodings and charsets; a mail whose MIME is broken is read
 * as plain text rather than refused.
 *
 * Header blocks are kept as the mail has them; cd_inmail_header()
 * reads one field, unfolded.
 */
#ifndef CANDOR_INMAIL_H
#define CANDOR_INMAIL_H

#include <stddef.h>

struct cd_inmail {
	char *headers;   /* the top header block */
	char *subject;   /* decoded (RFC 2047) to UTF-8, "" if none */
	char *text;      /* text/plain parts (else the HTML's text, see htmltext.h), UTF-8 */
	char *status;    /* message/delivery-status bodies, NULL if none */
	char *feedback;  /* message/feedback-report body (ARF), NULL if none */
	char *original;  /* header block of the returned message, NULL if none */
	char type[64];   /* the top Content-Type, lowercased, "" if none */
	char report[32]; /* multipart/report's report-type, lowercased */
};

/* Parse RAW. Returns 0, or CD_ENOMEM. Never fails on bad input. */
int cd_inmail_parse(const char *raw, size_t len, struct cd_inmail *m);
void cd_inmail_free(struct cd_inmail *m);

/* The first field NAME (case-insensitive) in header block BLOCK, unfolded
 * and trimmed, into OUT (truncated to LEN). Returns OUT, or NULL when
 * there is no such field. BLOCK may go on past the headers: reading stops
 * at the first blank line. */
char *cd_inmail_header(const char *block, const char *name, char *out, size_t len);

/* The address in a header value ("Name <a@b>", "a@b", "rfc822; a@b"),
 * lowercased into OUT. Returns OUT, or NULL when there is none. */
char *cd_inmail_address(const char *value, char *out, size_t len);

#endif
