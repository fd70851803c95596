/*
 * intent.h - does a customer's own text ask us to stop mailing them?
 *
 * The text is normalised as the compliance checker normalises (NFKC,
 * case folded, accents dropped; normalize.h), cut into sentences and
 * clauses, and read against the cue lists in src/track/stop_cues.txt:
 * phrasings of "unsubscribe me", "stop sending", "no more mails",
 * "remove my address" in the 14 languages candor writes in. A cue does
 * not count when
 *   - a negation of its language stands just before it in its clause
 *     ("please don't unsubscribe me", "no me deis de baja", "不用帮我退订")
 *     or a "keep me" cue shares its clause ("解除しないでください",
 *     "beni listeden çıkarmayın", "by mistake");
 *   - it sits in a condition ("if I unsubscribe, will I ...", "si me doy
 *     de baja", "wenn ich mich abmelde");
 *   - its sentence is a question, unless the question is a polite
 *     request ("could you please take me off your list?", "配信を停止
 *     していただけますでしょうか");
 *   - its sentence carries a link (a footer, not the customer's words),
 *     or it is inside quotation marks (a quoted footer or button label).
 * Curt commands ("Unsubscribe.", "STOP", "Baja", "退订，谢谢") count when
 * they are a clause of their own, give or take "please" and "thanks".
 *
 * The subject counts as the customer's words too, but a "Re:" subject
 * only when the text says (next to) nothing, and any "keep me" or
 * negated cue in the text overrides it ("Re: unsubscribe" / "I do NOT
 * want to unsubscribe").
 */
#ifndef CANDOR_INTENT_H
#define CANDOR_INTENT_H

#include <stddef.h>

enum cd_intent_verdict {
	CD_INTENT_NONE, /* nothing said about the mailings */
	CD_INTENT_STOP, /* asks to get no more mail */
	CD_INTENT_KEEP  /* mentions stopping, but to say no (or "by mistake") */
};

struct cd_intent {
	enum cd_intent_verdict verdict;
	int from_subject;  /* decided by the subject */
	char lang[8];      /* the deciding cue's language */
	char cue[96];      /* the deciding cue, as written in the cue list */
	char said[96];     /* the words it matched, normalised ("bitte abmelden") */
};

/* Read OWN (the sender's own words, see ownwords.h; NULL or "" for
 * none) and SUBJECT (without its prefixes; REPLIED when it had any) into
 * *OUT. MAX_SENTENCES (0 for no limit) reads only the first ones: a
 * request stands at the top, a mailing's footer at the bottom. Returns
 * 0, or CD_ENOMEM. */
int cd_intent_read(const char *own, const char *subject, int replied, int max_sentences,
		   struct cd_intent *out);

/* Parse the built-in cue lists now rather than on first use; 0 or
 * CD_ENOMEM (the lists are part of the program, so never a syntax
 * error: tests/unit/test_intent checks them). */
int cd_intent_init(void);

/* Lines of the built-in cue lists that do not parse: 0 unless a list was
 * edited wrongly (for tests). */
int cd_intent_bad_lines(void);

#endif
