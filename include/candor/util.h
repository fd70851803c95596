/*
 * util.h - small helpers shared by several modules: paths, memory that
 * held secrets, time. Every returned string belongs to the caller.
 */
#ifndef CANDOR_UTIL_H
#define CANDOR_UTIL_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/* "DIR/NAME", newly allocated; NULL on out of memory. */
char *cd_util_join_path(const char *dir, const char *name);

/* The directory part of PATH ("." when there is none), newly allocated. */
char *cd_util_dirname(const char *path);

/* Make room for element COUNT in the array *ITEMS of *CAP elements of
 * SIZE bytes, doubling the allocation when full; the new room is zeroed.
 * Returns 0 or CD_ENOMEM (the array is then unchanged). */
int cd_util_grow(void **items, size_t *cap, size_t count, size_t size);

/* cd_util_grow() for a typed pointer ITEMS with COUNT and CAP beside it. */
#define CD_GROW(items, count, cap) \
	cd_util_grow((void **)&(items), &(cap), (count), sizeof(*(items)))

/* Overwrite LEN bytes at P so a secret does not linger in freed memory. */
void cd_util_wipe(void *p, size_t len);

/* Seconds since the epoch; CANDOR_NOW in the environment overrides it so
 * tests and demos can run at a fixed moment. */
int64_t cd_util_now(void);

/* Parse a time as shops export it: Unix seconds, "2026-11-20",
 * "2026-11-20 14:05[:09]" or "2026-11-20T14:05:09" with an optional
 * fraction and zone ("Z", "UTC", "+01:00", "-0400"); no zone means UTC.
 * Returns 0 or CD_EINVAL. */
int cd_util_parse_time(const char *s, int64_t *out);

/* Is S (LEN bytes) valid UTF-8 without NUL or other C0 controls except
 * TAB, CR and LF? */
int cd_util_utf8_ok(const char *s, size_t len);

/* Is S (LEN bytes) well-formed UTF-8, whatever characters it holds (NUL
 * and other controls included)? */
int cd_util_utf8_valid(const char *s, size_t len);

/* The code point at the start of S (LEN bytes) into *CP; its length in
 * bytes, or 0 when S does not start with well-formed UTF-8. */
size_t cd_util_utf8_decode(const char *s, size_t len, unsigned *cp);

/* Is CP a control character: C0 (U+0000-U+001F, NUL included), DEL or
 * C1 (U+0080-U+009F)? */
int cd_util_is_control(unsigned cp);

/* S (LEN bytes) made safe to echo in an error or a log line: line breaks,
 * tabs and every other control character written as \n, \r, \t,
 * \xHH (C0, DEL, and bytes that are no UTF-8) or \uHHHH (C1); at most
 * MAX characters, then U+2026 (the ellipsis). Into OUT (OUTLEN bytes,
 * always terminated). Returns OUT. */
char *cd_util_escape(const char *s, size_t len, size_t max, char *out, size_t outlen);

/* Monotonic milliseconds, for timers. */
int64_t cd_util_mono_ms(void);

/* Write N random bytes from the kernel; 0 or CD_EIO. */
int cd_util_random(void *buf, size_t n);

/* Read the whole file PATH ("-" is standard input) into *OUT (NUL-
 * terminated; *LEN bytes, may be NULL). Returns 0, CD_ENOTFOUND (no such
 * file), CD_EINVAL (larger than MAX bytes, or holds a NUL byte) or
 * CD_EIO; ERR names the file. */
struct cd_error;
int cd_util_read_file(const char *path, size_t max, char **out, size_t *len,
		      struct cd_error *err);

/* The same, for bytes that may hold NULs (a raw mail): *OUT is still
 * NUL-terminated after its *LEN bytes. */
int cd_util_read_bytes(const char *path, size_t max, char **out, size_t *len,
		       struct cd_error *err);

/* N random bytes for identifiers (Message-IDs, MIME boundaries): from
 * the same kernel source, but served from a pool. Not for secrets.
 * Returns 0 or CD_EIO. */
int cd_util_random_id(void *buf, size_t n);

/* Lower-case hex of LEN bytes into OUT (2*LEN+1 bytes). */
void cd_util_hex(const unsigned char *in, size_t len, char *out);

/* A deliverable address in plain form: one @ with text on both sides, at
 * most 254 bytes, and none of the characters that could break a header
 * (controls, space, <>()[],;:\\"). */
int cd_util_address_ok(const char *addr);

/* Is the peer of connected socket FD on this machine (127.0.0.0/8, ::1,
 * a Unix socket)? 0 when it is not or cannot be told. */
int cd_util_fd_is_loopback(int fd);

/* A program's signals: STOP for SIGTERM and SIGINT, RELOAD for SIGHUP
 * (handlers that only set a flag), SIGPIPE ignored; the three blocked,
 * so they arrive only where a loop unblocks them (ppoll with BEFORE, the
 * mask as it was). */
void cd_util_catch_signals(void (*stop)(int), void (*reload)(int), sigset_t *before);

#endif
