/*
 * ownwords.h - what the sender of a reply wrote themselves, as opposed
 * to what their mail client quoted: lines marked with '>', the
 * attribution line before a quote ("On ... wrote:", "Am ... schrieb",
 * "Le ... a écrit :", "... 写道：", "... пишет:" and the other languages
 * we write in), and everything from a quoted header block (Outlook's
 * "From:/Sent:/To:", "Von:/Gesendet:", "De :/Envoyé :", QQ's
 * "发件人:/发送时间:") or a separator ("-----Original Message-----",
 * "-----Ursprüngliche Nachricht-----", "______") on, and signatures
 * ("-- ", "Sent from my iPhone" and its translations).
 *
 * A reply written between quoted lines keeps every line of its own; a
 * quote that follows its attribution without '>' marks (Yahoo, Naver,
 * Outlook) is cut off whole.
 */
#ifndef CANDOR_OWNWORDS_H
#define CANDOR_OWNWORDS_H

#include <stddef.h>

/* The sender's own lines of TEXT (UTF-8), "\n" between them. Returns a
 * malloc'd string, or NULL when out of memory. */
char *cd_ownwords(const char *text);

/* SUBJECT without its reply and forward prefixes ("Re:", "RE :", "AW:",
 * "SV:", "R:", "ODP:", "YNT:", "Ответ:", "回复：", "Re[2]:", ...), trimmed,
 * into OUT (truncated to LEN). Returns how many prefixes it removed. */
int cd_ownwords_subject(const char *subject, char *out, size_t len);

#endif
