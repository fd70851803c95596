/*
 * normalize.h - text as the compliance checker sees it, whatever its
 * disguise: Unicode compatibility forms and case folded (full-width
 * letters become ASCII, accents dropped), HTML tags removed and entities
 * (named and numeric) decoded, zero-width characters and soft hyphens
 * dropped, hyphens and runs of white space made one space, letter-spaced
 * words ("r e f u n d", "r.e.v.i.e.w") joined and spaced-out Chinese and
 * Japanese ("好 评 返 现") closed up, digits standing for letters read as
 * letters ("r3v1ew", "0тзыв"), letters of another script that look alike
 * made the word's own (a Cyrillic "е" in "review"), Turkish ı and Polish ł
 * made i and l, every star character made U+2605, every arrow U+2192, and
 * emoji that stand for words made those words ("🎁" reads "gift").
 * Paragraph breaks (a blank line, a block-level HTML tag) are kept as
 * "\n" so rules can tell sentences apart.
 *
 * Every byte of the result maps back to the byte of the original it came
 * from, so findings point at what the writer wrote.
 */
#ifndef CANDOR_NORMALIZE_H
#define CANDOR_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

struct cd_normtext {
	char *s;          /* NUL-terminated normalized text */
	size_t len;
	uint32_t *map;    /* map[i]: offset in the original of s[i]; map[len] = its length */
};

/* Normalize TEXT (LEN bytes, any bytes; invalid UTF-8 becomes a space).
 * Mustache tags ("{{...}}") are blanked too when MUSTACHE is set, so a
 * template's own tags are not read as words. Returns 0 or CD_ENOMEM. */
int cd_normalize(const char *text, size_t len, int mustache, struct cd_normtext *out);

/* Free what cd_normalize allocated; N may be reused. */
void cd_normtext_free(struct cd_normtext *n);

#endif
