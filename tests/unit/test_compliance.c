/* test_compliance.c - the compliance checker: the shared development
 * corpus (every row right) and our own larger sets (violations caught,
 * honest wording passed, with the figures printed) with packs and model as
 * shipped; and for the packs alone each disguise, positions in the
 * original, the rule kinds, and packs with errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "candor/compliance.h"
#include "candor/normalize.h"
#include "candor/util.h"

static struct cd_compliance *packs;   /* the rules alone */
static struct cd_compliance *shipped; /* the rules and the model */

/* per mille of tests/data/compliance-adversarial.tsv caught */
#define ADVERSARIAL_FLOOR 890
static char packs_dir[1024];

static int setup(void **state)
{
	struct cd_errors errs = { 0 };
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";

	(void)state;
	char model[1100];

	snprintf(packs_dir, sizeof(packs_dir), "%s/etc/packs", top);
	snprintf(model, sizeof(model), "%s/%s", packs_dir, CD_COMPLIANCE_MODEL_FILE);
	if (cd_compliance_load(packs_dir, NULL, 0, &packs, &errs) < 0 ||
	    cd_compliance_load(packs_dir, NULL, 0, &shipped, &errs) < 0 ||
	    cd_compliance_load_model(shipped, model, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s:%d: %s\n", errs.items[i].file, errs.items[i].line,
				errs.items[i].msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cd_compliance_free(packs);
	cd_compliance_free(shipped);
	return 0;
}

/* The findings for TEXT (all packs, no channel). */
static struct cd_findings check(const char *text, const char *channel)
{
	struct cd_check_opts o = { .channel = channel };
	struct cd_findings f = { 0 };

	assert_int_equal(cd_compliance_check(packs, text, strlen(text), &o, &f), 0);
	return f;
}

static int has_rule(const struct cd_findings *f, const char *rule)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->items[i].rule, rule) == 0)
			return 1;
	return 0;
}

static void expect_rule(const char *text, const char *rule)
{
	struct cd_findings f = check(text, NULL);

	if (!has_rule(&f, rule))
		fail_msg("\"%s\" should break %s (%zu findings)", text, rule, f.count);
	cd_findings_clear(&f);
}

static void expect_clean(const char *text)
{
	struct cd_findings f = check(text, NULL);

	if (f.errors)
		fail_msg("\"%s\" should pass, broke %s at \"%s\"", text, f.items[0].rule,
			 f.items[0].excerpt);
	cd_findings_clear(&f);
}

/* ---- labelled sets ------------------------------------------------------- */

struct score {
	int violations, caught, honest, flagged;
};

/* Run every row of a TSV (id, lang, label, family, text; "\n" in text is
 * a line break) through C; misses are printed as TAP diagnostics. */
static void run_tsv(const struct cd_compliance *c, const char *path, struct score *s)
{
	FILE *fp = fopen(path, "r");
	char line[4096];

	if (!fp)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), fp)) {
		char *field[5], *p = line, text[4096], *w = text;
		struct cd_findings f;
		int n = 0, violation;

		line[strcspn(line, "\n")] = '\0';
		while (n < 5 && p) {
			field[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 5 || strcmp(field[0], "id") == 0)
			continue;
		for (const char *r = field[4]; *r; r++) {
			if (r[0] == '\\' && r[1] == 'n') {
				*w++ = '\n';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		violation = strcmp(field[2], "violation") == 0;
		memset(&f, 0, sizeof(f));
		assert_int_equal(cd_compliance_check(c, text, strlen(text), NULL, &f), 0);
		if (violation) {
			s->violations++;
			s->caught += f.errors > 0;
		} else {
			s->honest++;
			s->flagged += f.errors > 0;
		}
		if ((f.errors > 0) != violation)
			print_message("# %s %s (%s, %s): %s\n", violation ? "missed" : "flagged",
				      field[0], field[1], field[3], text);
		cd_findings_clear(&f);
	}
	fclose(fp);
}

static void test_development_corpus_all_right(void **state)
{
	const char *shared = getenv("SHARED_DIR");
	char path[1024];
	struct score s = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/corpus/compliance-dev.tsv", shared ? shared : "../shared");
	if (access(path, R_OK) != 0) {
		/* cmocka's skip() prints "not ok # SKIP", which TAP drivers count
		 * as a failure; say it plainly instead */
		print_message("# SKIP: no development corpus at %s\n", path);
		return;
	}
	run_tsv(shipped, path, &s);
	print_message("# compliance-dev.tsv: %d/%d violations caught, %d/%d honest flagged\n",
		      s.caught, s.violations, s.flagged, s.honest);
	assert_true(s.violations > 0);
	assert_int_equal(s.caught, s.violations);
	assert_int_equal(s.flagged, 0);
}

static void test_own_sets_meet_the_quality_bar(void **state)
{
	static const char *const sets[] = {
		"compliance-holdout.tsv", "compliance-tune.tsv", "compliance-lookalikes.tsv",
		"compliance-matrix.tsv",
	};
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	struct score all = { 0 };
	char path[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct score s = { 0 };

		snprintf(path, sizeof(path), "%s/tests/data/%s", top, sets[i]);
		run_tsv(shipped, path, &s);
		print_message("# %s: %d/%d violations caught, %d/%d honest flagged\n", sets[i],
			      s.caught, s.violations, s.flagged, s.honest);
		all.violations += s.violations;
		all.caught += s.caught;
		all.honest += s.honest;
		all.flagged += s.flagged;
	}
	print_message("# all own sets: %.1f%% caught, %.1f%% of honest texts flagged\n",
		      100.0 * all.caught / all.violations, 100.0 * all.flagged / all.honest);
	assert_true(all.caught * 100 >= all.violations * 97);
	assert_true(all.flagged * 100 <= all.honest * 3);
}

/* Bribes, gating, positive-only asks, change requests and pressure
 * dressed in independence and negation ("Whether or not you leave a
 * review is up to you; reviewers get a $10 gift card."), in 14 languages:
 * 1,059 lines an attacker wrote against the checker, black-box, in
 * session 8, to defeat a model veto over the rules (which let 222 more of
 * them through, and was not shipped). The floor is what the checker as
 * shipped catches, less a little: a change that trusts such clauses more
 * fails here. */
static void test_independence_clauses_do_not_excuse_violations(void **state)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char path[1024];
	struct score s = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/compliance-adversarial.tsv", top);
	run_tsv(shipped, path, &s);
	print_message("# compliance-adversarial.tsv: %d/%d caught\n", s.caught, s.violations);
	assert_int_equal(s.violations, 1059);
	assert_true(s.caught * 1000 >= s.violations * ADVERSARIAL_FLOOR);
}

/* What honest mail says in every language - nothing depends on a review,
 * a gift with every order whether or not one reviews, a newsletter draw
 * that asks for none, a review that may stay as it is, a product's star
 * rating in a sale - excuses it, also when the excuse is in the sentence
 * after. */
static void test_honest_wording_is_excused_in_every_language(void **state)
{
	static const char *const honest[] = {
		"Subscribe to our newsletter for a chance to win a gift card. No review or purchase is required.",
		"We've refunded your order after reading your 2-star review. Your review stays as it is.",
		"Our 5-star rated desk lamp is back in stock!",
		"Wir haben Ihnen kostenlos Ersatz geschickt. Das hängt von keiner Bewertung ab.",
		"Jeder Bestellung liegt ein kleines Geschenk bei, für alle Kunden, ob sie bewerten oder nicht.",
		"Chaque commande contient un petit cadeau, pour tous nos clients, qu'ils laissent un avis ou non.",
		"Cada pedido incluye un pequeño regalo para todos los clientes, dejen una reseña o no.",
		"Meld je aan voor onze nieuwsbrief en maak kans op een cadeaubon. Een review is niet nodig.",
		"Bij elke bestelling zit een klein cadeautje, of ze nu een review schrijven of niet.",
		"すべてのご注文に小さなプレゼントを同梱しています。レビューの有無は問いません。",
		"Отзыв — по желанию, никаких бонусов за него нет.",
		"评价完全自愿，没有任何奖励。",
		"訂閱即可參加抽獎，無需購買或評價。",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(honest) / sizeof(honest[0]); i++)
		expect_clean(honest[i]);
	/* the excuse must be there: the same offers without one still break */
	expect_rule("Subscribe to our newsletter and leave a review to win a gift card.",
		    "generic.incentive");
	expect_rule("Jeder Bestellung mit Bewertung liegt ein kleines Geschenk bei.", "generic.incentive");
}

/* The findings for TEXT as the shipped checker gives them (rules beside
 * the model, leaving their negated sentences to it). */
static int shipped_has(const char *text, const char *rule)
{
	struct cd_findings f = { 0 };
	int has;

	assert_int_equal(cd_compliance_check(shipped, text, strlen(text), NULL, &f), 0);
	has = rule ? has_rule(&f, rule) : f.errors > 0;
	cd_findings_clear(&f);
	return has;
}

/* Does TEXT break RULE (NULL: any rule) with the rules alone and beside
 * the model, as WANT says: both or neither? */
static void expect_both_ways(const char *text, const char *rule, int want)
{
	struct cd_findings f = check(text, NULL);
	int alone = rule ? has_rule(&f, rule) : f.errors > 0;

	cd_findings_clear(&f);
	if (want && (!alone || !shipped_has(text, rule)))
		fail_msg("\"%s\" should break %s, beside the model and without", text,
			 rule ? rule : "a rule");
	if (!want && (alone || shipped_has(text, rule)))
		fail_msg("\"%s\" should not break %s", text, rule ? rule : "any rule");
}

/* expect_both_ways for each text of array LIST. */
#define expect_each_both_ways(list, rule, want)                                   \
	do {                                                                      \
		for (size_t i_ = 0; i_ < sizeof(list) / sizeof((list)[0]); i_++) \
			expect_both_ways((list)[i_], (rule), (want));             \
	} while (0)

/* Words that name the exchange ("reviewers get", "in exchange for", 好评返)
 * next to something of value: a negation or an excuse elsewhere in the
 * sentence, before a turn, a dash or a colon, does not undo them, with
 * or without the model; one after them, or before them when nothing
 * turns, does ("we never offer refunds, gifts or discounts in exchange
 * for reviews"). Beside the model, an apology leaves them to it, as it
 * does the incentive rule. */
static void test_exchange_words_are_not_excused_from_afar(void **state)
{
	static const char *const bought[] = {
		"Whether you loved it or not, reviewers get a free gift.",
		"No pressure at all \xE2\x80\x94 leave a review and get 10% off.",
		"No pressure at all - leave a review and get 10% off.",
		"No pressure at all &mdash; leave a review in exchange for a gift card.",
		"No pressure at all -- leave a review in exchange for a gift card.",
		"There is no obligation, but everyone who writes a review receives a free sample.",
		"Whether or not you leave a review is up to you; those who do get a $10 gift card for a review.",
		"Keine Verpflichtung, ob Sie bewerten oder nicht: Rezensenten erhalten einen Gutschein.",
		"Sans aucune obligation, avis positif ou non : en échange de votre avis, vous recevrez un cadeau.",
		"Без каких-либо обязательств, понравилось вам или нет: за отзыв мы дарим подарок.",
		"没有任何义务，无论满意与否，评论者可获赠小礼品。",
		"Of je een review schrijft of niet, dat bepaal jij; voor je review krijg je 10% korting.",
		"Czy wystawisz opinię, czy nie, zależy od Ciebie; recenzenci otrzymują prezent.",
	};
	static const char *const honest[] = {
		"We never offer refunds, gifts or discounts in exchange for reviews.",
		"Reviewers get nothing extra, and every order ships with a free sample.",
		"Yorum karşılığında indirim, hediye ya da iade vermiyoruz.",
		"Wir bieten keine Gutscheine, Rabatte oder Erstattungen im Austausch für Bewertungen an.",
		"平台规定禁止好评返现，请按真实感受评价。",
		"Thanks for your review, and sorry again: the refund is on its way.",
		"Chaque colis contient un petit cadeau offert à tous, sans avis demandé en échange.",
		"We never <i title=\"a - b\">offer</i> gift cards in exchange for reviews.", /* no dash */
	};

	(void)state;
	expect_each_both_ways(bought, NULL, 1);
	expect_each_both_ways(honest, "generic.exchange", 0);
	/* one finding where the incentive rule already holds the place */
	{
		struct cd_findings f = check("Leave a review and get 10% off.", NULL);

		assert_int_equal(f.count, 1);
		assert_string_equal(f.items[0].rule, "generic.incentive");
		cd_findings_clear(&f);
	}
}

/* A review made a duty, a deadline or a threat to the account or
 * warranty is pressure whatever the sentence before says about freedom;
 * "a review is not required" and "keine Bewertung erforderlich" are
 * not. Gating past a colon or a semicolon is not excused by "whether or
 * not you review is up to you" before it. */
static void test_duties_and_turned_excuses(void **state)
{
	static const char *const pressure[] = {
		"No pressure, but you must leave a review within 24 hours.",
		"Up to you, but your warranty is void unless you leave a review.",
		"Reviewing is never required and entirely up to you. Your account will be closed unless you review within 3 days.",
		"Whether or not you leave a review is up to you; reviews are mandatory for all customers.",
		"Ob Sie bewerten oder nicht, ist Ihre Sache; eine Bewertung ist verpflichtend.",
		"Le recensioni sono obbligatorie per tutti i clienti del programma.",
	};
	static const char *const honest[] = {
		"A review is not required, and your warranty stays valid either way.",
		"Newsletter abonnieren und einen Gutschein gewinnen! Kein Kauf und keine Bewertung erforderlich.",
		"Inget köp eller omdöme krävs.",
		"Sorteo para suscriptores: sin compra y sin reseña obligatoria.",
		"Opinie są mile widziane, ale nie są obowiązkowe.",
	};

	(void)state;
	expect_each_both_ways(pressure, "generic.demand", 1);
	expect_each_both_ways(honest, "generic.demand", 0);
	expect_rule("Whether or not you leave a review is up to you; if you're happy, leave a review; "
		    "if not, contact us instead.", "generic.gating");
	expect_clean("Whether you're happy or not, you can leave a review, and you can contact us any time.");
}

/* A small family shop's plea and counted reminders are pressure in the
 * languages that had no word for them, beside the model and without; a
 * thank-you that was moved to tears by a review and an apology that
 * hurts are not. */
static void test_pleas_and_nagging_in_more_languages(void **state)
{
	static const char *const pressure[] = {
		"Siamo una piccola azienda familiare e ogni recensione ci aiuta a sopravvivere.",
		"Somos um pequeno negócio familiar: cada avaliação conta para a nossa sobrevivência.",
		"Wij zijn een klein familiebedrijf en elke review helpt ons overleven.",
		"Jesteśmy małą rodzinną firmą i każda opinia pomaga nam przetrwać.",
		"Vi är ett litet familjeföretag och varje omdöme hjälper oss att överleva.",
		"Küçük bir aile işletmesiyiz; her yorum ayakta kalmamız için önemli.",
		"Это уже третье напоминание: оставьте, пожалуйста, отзыв.",
		"3回目のご案内です。レビューをお願いします。",
	};
	static const char *const honest[] = {
		"Your review had us in tears – thank you so much!",
		"Es tut uns weh, das zu lesen; danke für Ihre ehrliche Bewertung.",
		"Het doet ons pijn dat uw pakket beschadigd was. Dank voor uw eerlijke review.",
	};

	(void)state;
	expect_each_both_ways(pressure, "generic.pressure", 1);
	expect_each_both_ways(honest, "generic.pressure", 0);
}

/* 好评返现 denied where it is named ("本店不做好评返现", "没有返现") is no
 * offer; a negation elsewhere in its clause, or a word that holds a
 * negation character (不限, 无线), leaves it the offer, with or without
 * the model. */
static void test_cashback_denied_is_no_offer(void **state)
{
	static const char *const paid[] = {
		"好评返现5元，不限商品。",
		"无线耳机好评返现10元。",
		"收到后晒图好评，返现8元到支付宝。",
		"好評返現10元，不鏽鋼保溫杯限定。",
		/* a negation elsewhere in the clause denies nothing */
		"好评返现，没有套路，绝对到账。",
		"好评返现永不停止，欢迎参与。",
		"好評返現10元，沒有任何門檻。",
		"五星返現10元，不信可以問問老顧客。",
	};
	static const char *const denied[] = {
		"本店不做好评返现，请您按照真实体验评价。",
		"写评价没有返现也没有红包，就是想听听您的真话。",
		"平台规定禁止好评返现，本店严格遵守。",
		"本店不做好評返現，評價請您自由填寫。",
	};

	(void)state;
	expect_each_both_ways(paid, "cn.cashback", 1);
	expect_each_both_ways(denied, "cn.cashback", 0);
}

/* ---- disguises and positions -------------------------------------------------- */

static void test_disguises_are_seen_through(void **state)
{
	static const char *const disguised[] = {
		"Leave a review and get a ｒｅｆｕｎｄ",                 /* full-width */
		"Leave a review and get a re\xE2\x80\x8B" "fund",         /* zero-width space */
		"Leave a review and get a re\xC2\xAD" "fund",             /* soft hyphen */
		"Leave a review and get a re&shy;fund",
		"Leave a review and get a re<b>fund</b>",                 /* tag inside the word */
		"Leave a review and get a &#114;efund",                   /* numeric entity */
		"Leave a review and get a &#x72;&#x65;fund",
		"Leave a review and get a r e f u n d",                   /* letter-spaced */
		"Leave a review and get a r.e.f.u.n.d",
		"LEAVE A REVIEW AND GET A REFUND",
		"Leave   a\n review\tand get a\n\nrefund",                 /* odd spacing */
		"Leave a revi\xE2\x80\x8D" "ew and get a refund",          /* zero-width joiner */
		"Leave a review and get a réfund",                        /* accents dropped */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(disguised) / sizeof(disguised[0]); i++)
		expect_rule(disguised[i], "generic.incentive");
	expect_rule("Please leave a ★★★★★ review", "generic.positive_only");
	expect_rule("Please leave a \xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90 review",
		    "generic.positive_only");
	expect_rule("Please leave a five-star review", "generic.positive_only");
	expect_rule("Please leave a 5\xE2\x80\x91star review", "generic.positive_only"); /* U+2011 */
}

/* A drawn rating counts its filled stars: "★☆☆☆☆" is one star, not a
 * top rating; outlined stars alone are stars ("☆☆☆☆☆", "☆5"). */
static void test_drawn_ratings_count_filled_stars(void **state)
{
	static const char *const low[] = {
		"Your ★☆☆☆☆ review was fair: we have changed our supplier.",
		"Leave a ★☆☆☆☆ review if that is what it deserves.",
	};
	static const char *const top[] = {
		"Please leave a ☆☆☆☆☆ review",
		"☆5のレビューをお願いします。",
	};

	(void)state;
	expect_each_both_ways(low, "generic.positive_only", 0);
	expect_each_both_ways(top, "generic.positive_only", 1);
}

/* A scale names its low end in the forms shops write: German compounds
 * ("1-Sterne-Bewertung"), French prepositions ("de 1 ou de 5"), stars
 * drawn after the numbers; "points forts" are strengths, not points. A
 * top rating asked for alone is still one. */
static void test_scales_as_shops_write_them(void **state)
{
	static const char *const scales[] = {
		"Eine 1-Sterne-Bewertung ist uns genauso wertvoll wie 5 Sterne.",
		"Geben Sie uns einen Stern oder fünf Sterne, ganz wie Sie es erlebt haben.",
		"Votre avis, qu'il soit de 1 ou de 5 étoiles, sera publié sans modification.",
		"Nous lisons tous les avis, qu'ils soient à 1 ou à 5 étoiles.",
		"Rate your lipstick from 1 to 5 ⭐, the good and the bad.",
	};
	static const char *const top[] = {
		"Bitte geben Sie uns 5 Sterne.",
		"Laissez-nous un avis 5 étoiles, s'il vous plaît !",
		"Please rate us 5 ⭐ today.",
	};

	(void)state;
	expect_each_both_ways(scales, "generic.positive_only", 0);
	expect_each_both_ways(top, "generic.positive_only", 1);
	expect_both_ways("Racontez-le dans un avis, points forts et points faibles.",
			 "generic.incentive", 0);
	expect_both_ways("Laissez un avis et gagnez 100 points fidélité.", "generic.incentive", 1);
}

static void test_honest_look_alikes_pass(void **state)
{
	(void)state;
	expect_clean("We have refunded your order.");
	expect_clean("This does not depend on any review.");
	expect_clean("Your refund does not depend on your review.");
	expect_clean("Feel free to leave a review.");
	expect_clean("You are welcome to update your feedback at any time.");
	expect_clean("We are sorry the parcel was late; the shipping cost has been refunded.");
	expect_clean("Whether you give us one star or five stars, we want the truth.");
	expect_clean("If you had a problem with your order, contact us. We would also like your honest review, good or bad.");
}

static void test_incentive_needs_the_review_nearby(void **state)
{
	struct cd_findings f;
	char far[2048];

	(void)state;
	expect_rule("Leave a review. You will get a refund.", "generic.incentive");
	/* the same words paragraphs apart are not an offer */
	snprintf(far, sizeof(far), "We have refunded your order in full.\n\n%0500d\n\n"
		 "Reviews help other customers.", 0);
	f = check(far, NULL);
	assert_false(has_rule(&f, "generic.incentive"));
	cd_findings_clear(&f);
}

static void test_positions_point_at_the_original(void **state)
{
	const char *text = "Hello,\nleave a <b>review</b> and get a &#114;efund!";
	struct cd_findings f = check(text, NULL);

	(void)state;
	assert_int_equal(f.count, 1);
	assert_string_equal(f.items[0].rule, "generic.incentive");
	assert_int_equal(f.items[0].line, 2);
	assert_int_equal(f.items[0].column, 12);   /* the "r" of review */
	assert_int_equal(f.items[0].start, strstr(text, "review") - text);
	assert_int_equal(f.items[0].end, strstr(text, "efund") + 5 - text);
	assert_string_equal(f.items[0].excerpt, "review</b> and get a &#114;efund");
	cd_findings_clear(&f);
}

static void test_templates_tags_are_not_words(void **state)
{
	const char *tpl = "{{#feedback.is_shipping}}Your money back, at once.{{/feedback.is_shipping}}";
	struct cd_check_opts o = { .mustache = 1 };
	struct cd_findings f = { 0 };

	(void)state;
	/* read as text, "feedback" in the tag would make an offer of it */
	assert_int_equal(cd_compliance_check(packs, tpl, strlen(tpl), NULL, &f), 0);
	assert_true(f.errors > 0);
	cd_findings_clear(&f);
	assert_int_equal(cd_compliance_check(packs, tpl, strlen(tpl), &o, &f), 0);
	assert_int_equal(f.count, 0);
	cd_findings_clear(&f);
}

static void test_amazon_links_and_one_request(void **state)
{
	const char *mail = "Review your order: https://www.amazon.de/review/create-review?asin=B0X\n"
			   "Unsubscribe: https://shop.example/u?t=abc";
	struct cd_findings f = check(mail, "amazon");
	const char *names[8];

	(void)state;
	assert_true(has_rule(&f, "amazon.links"));
	assert_int_equal(f.count, 1);
	assert_string_equal(f.items[0].excerpt, "https://shop.example");
	cd_findings_clear(&f);
	f = check(mail, "web");
	assert_false(has_rule(&f, "amazon.links"));
	cd_findings_clear(&f);
	assert_int_equal(cd_compliance_no_reminder(packs, NULL, 0, names, 8), 1);
	assert_string_equal(names[0], "amazon");
	{
		char *only[] = { "generic" };

		assert_int_equal(cd_compliance_no_reminder(packs, only, 1, names, 8), 0);
	}
}

static void test_pack_selection(void **state)
{
	char *only[] = { "generic" };
	struct cd_check_opts o = { .packs = only, .npacks = 1 };
	const char *text = "好评返现";
	struct cd_findings f = { 0 };

	(void)state;
	assert_int_equal(cd_compliance_check(packs, text, strlen(text), &o, &f), 0);
	assert_false(has_rule(&f, "cn.cashback"));
	cd_findings_clear(&f);
	f = check(text, NULL);
	assert_true(has_rule(&f, "cn.cashback"));
	cd_findings_clear(&f);
}

/* ---- packs with errors ---------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void expect_pack_error(const char *text, int line, const char *words)
{
	char dir[] = "/tmp/candor-pack.XXXXXX", path[256];
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;
	int found = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.pack", dir);
	write_file(path, text);
	assert_int_equal(cd_compliance_load(dir, NULL, 0, &c, &errs), CD_ECONFIG);
	assert_null(c);
	for (size_t i = 0; i < errs.count; i++)
		found |= strstr(errs.items[i].msg, words) != NULL &&
			 (line == 0 || errs.items[i].line == line) &&
			 (line == 0 || strcmp(errs.items[i].file, path) == 0);
	if (!found)
		fail_msg("no error \"%s\" at line %d (first: %d: %s)", words, line,
			 errs.count ? errs.items[0].line : 0, errs.count ? errs.items[0].msg : "none");
	cd_errors_clear(&errs);
	remove(path);
	rmdir(dir);
}

static void test_broken_packs_are_refused_with_the_line(void **state)
{
	(void)state;
	expect_pack_error("name = \"x\";\nrules = ( { id = \"a\"; family = \"incentive\";\n"
			  "  message = \"m\"; any = [ \"nothing\" ]; } );\n", 0,
			  "term list \"nothing\" is named by a rule but no pack defines terms");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"re*view\" ]; }; };\n"
			  "rules = ( { id = \"a\"; family = \"incentive\"; message = \"m\"; any = [ \"t\" ]; } );\n",
			  2, "'*' may only start or end a term");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"bribery\"; message = \"m\"; any = [ \"t\" ]; } );\n",
			  4, "unknown family \"bribery\"");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; near = [ \"t\", \"t\" ]; } );\n",
			  4, "give exactly one of any, near, all, links or reminders");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; colour = 1; } );\n",
			  4, "unknown setting \"colour\"");
	expect_pack_error("name = \"x\";\nrules = ( { id = \"a\"\n", 3, "syntax error");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; };\n"
			  "  u = { include = \"t\"; en = [ \"b\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"u\" ]; } );\n", 3,
			  "terms.u.include must be an array of 1 to 8 term list names");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; };\n"
			  "  u = { include = [ \"nowhere\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"u\" ]; } );\n", 0,
			  "term list \"u\" includes \"nowhere\", which no pack defines terms for");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; };\n"
			  "  u = { include = [ \"t\" ]; }; v = { include = [ \"u\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"v\" ]; } );\n", 0,
			  "term list \"v\" includes \"u\", which includes others (include does not chain)");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; include = [ \"t\" ]; }; };\n"
			  "rules = (\n  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; } );\n",
			  2, "terms.t.include: a list cannot include itself");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; },\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; } );\n",
			  5, "rule id \"a\" is used twice");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"links\"; message = \"m\"; links = [ \"x.example\" ];\n"
			  "    defer = [ \"t\" ]; } );\n",
			  4, "has no words to leave to the model");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ];\n"
			  "    yields = 1; } );\n",
			  5, "rule a: yields must be true, false or \"apart\"");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ];\n"
			  "    yields = \"apart\"; } );\n",
			  5, "rule a: yields = \"apart\" needs words in two places (a near or all rule)");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; near = [ \"t\", \"t\" ];\n"
			  "    yields = \"sometimes\"; } );\n",
			  5, "rule a: yields must be true, false or \"apart\"");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; near = [ \"t\", \"t\" ];\n"
			  "    yields_unless = [ \"t\" ]; } );\n",
			  5, "rule a: yields_unless needs a rule that yields");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"links\"; message = \"m\";\n"
			  "    links = [ \"x.example\" ]; yields = true; } );\n",
			  4, "has no wording for the model to judge (yields)");
	expect_pack_error("name = \"x\";\nterms = { t = { en = [ \"a\" ]; }; };\nrules = (\n"
			  "  { id = \"a\"; family = \"other\"; message = \"m\"; any = [ \"t\" ]; "
			  "defer = [ \"nowhere\" ]; } );\n",
			  0, "term list \"nowhere\" is named by a rule but no pack defines terms");
}

static void test_unknown_pack_name_is_refused(void **state)
{
	const char *only[] = { "generic", "nosuch" };
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;

	(void)state;
	assert_int_equal(cd_compliance_load(packs_dir, only, 2, &c, &errs), CD_ECONFIG);
	assert_true(errs.count > 0);
	assert_non_null(strstr(errs.items[errs.count - 1].msg, "no compliance pack \"nosuch\""));
	cd_errors_clear(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_development_corpus_all_right),
		cmocka_unit_test(test_own_sets_meet_the_quality_bar),
		cmocka_unit_test(test_independence_clauses_do_not_excuse_violations),
		cmocka_unit_test(test_exchange_words_are_not_excused_from_afar),
		cmocka_unit_test(test_duties_and_turned_excuses),
		cmocka_unit_test(test_pleas_and_nagging_in_more_languages),
		cmocka_unit_test(test_cashback_denied_is_no_offer),
		cmocka_unit_test(test_disguises_are_seen_through),
		cmocka_unit_test(test_drawn_ratings_count_filled_stars),
		cmocka_unit_test(test_scales_as_shops_write_them),
		cmocka_unit_test(test_honest_look_alikes_pass),
		cmocka_unit_test(test_incentive_needs_the_review_nearby),
		cmocka_unit_test(test_positions_point_at_the_original),
		cmocka_unit_test(test_templates_tags_are_not_words),
		cmocka_unit_test(test_amazon_links_and_one_request),
		cmocka_unit_test(test_pack_selection),
		cmocka_unit_test(test_broken_packs_are_refused_with_the_line),
		cmocka_unit_test(test_unknown_pack_name_is_refused),
		cmocka_unit_test(test_honest_wording_is_excused_in_every_language),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
