/* test_model.c - the compliance checker's learned stage: a model file that
 * is missing, truncated, of another version or damaged is refused with the
 * file named and leaves the checker as it was; candor scores the model's
 * regression set (training rows and the scores the training script
 * computed) to the same figures; findings name the family, the sentence
 * and the concepts; the gate keeps texts without a review act clean; the
 * model is selected like a pack. */
#include "config.h"

#include <math.h>
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
#include "candor/util.h"

static struct cd_compliance *checker;
static char packs_dir[1024], model_path[1100];
static char *model_bytes;
static size_t model_len;

static int setup(void **state)
{
	struct cd_errors errs = { 0 };
	struct cd_error err;
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";

	(void)state;
	snprintf(packs_dir, sizeof(packs_dir), "%s/etc/packs", top);
	snprintf(model_path, sizeof(model_path), "%s/%s", packs_dir, CD_COMPLIANCE_MODEL_FILE);
	if (cd_compliance_load(packs_dir, NULL, 0, &checker, &errs) < 0 ||
	    cd_compliance_load_model(checker, model_path, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s:%d: %s\n", errs.items[i].file, errs.items[i].line,
				errs.items[i].msg);
		return -1;
	}
	if (cd_util_read_bytes(model_path, 256u << 20, &model_bytes, &model_len, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cd_compliance_free(checker);
	free(model_bytes);
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

/* The line of the last error of the last expect_model() that failed. */
static int last_line;

/* Write BYTES (LEN) to a new file DIR/model.bin (DIR a mkdtemp
 * template) and name it in PATH. */
static void write_model(const void *bytes, size_t len, char *dir, char *path, size_t size)
{
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/model.bin", dir);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(bytes, 1, len, fp), len);
	fclose(fp);
}

/* Load BYTES (LEN) as a model into fresh packs; the error, if any, must
 * name the file and contain WORDS (NULL: the load must succeed). */
static void expect_model(const void *bytes, size_t len, const char *words)
{
	char dir[] = "/tmp/candor-model.XXXXXX", path[256];
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;
	struct cd_findings f = { 0 };
	int rc;

	write_model(bytes, len, dir, path, sizeof(path));
	assert_int_equal(cd_compliance_load(packs_dir, NULL, 0, &c, &errs), 0);
	rc = cd_compliance_load_model(c, path, &errs);
	if (!words) {
		assert_int_equal(rc, 0);
		assert_true(cd_compliance_has_pack(c, CD_COMPLIANCE_MODEL_PACK));
	} else {
		assert_int_equal(rc, CD_ECONFIG);
		assert_true(errs.count > 0);
		assert_string_equal(errs.items[errs.count - 1].file, path);
		last_line = errs.items[errs.count - 1].line;
		if (!strstr(errs.items[errs.count - 1].msg, words))
			fail_msg("expected \"%s\", got \"%s\"", words, errs.items[errs.count - 1].msg);
		/* the checker is as it was: rules work, no model */
		assert_false(cd_compliance_has_pack(c, CD_COMPLIANCE_MODEL_PACK));
		assert_int_equal(cd_compliance_check(c, "Leave a review and get a $10 gift card.", 39,
						     NULL, &f), 0);
		assert_true(f.errors > 0);
		for (size_t i = 0; i < f.count; i++)
			assert_null(strstr(f.items[i].rule, "model."));
		cd_findings_clear(&f);
	}
	cd_errors_clear(&errs);
	cd_compliance_free(c);
	remove(path);
	rmdir(dir);
}

/* The CRC-32 the model file ends with, over all bytes before it. */
static void fix_checksum(unsigned char *b, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i + 4 < len; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
	}
	c ^= 0xFFFFFFFFu;
	for (int k = 0; k < 4; k++)
		b[len - 4 + k] = (unsigned char)(c >> (8 * k));
}

static void test_shipped_model_loads(void **state)
{
	char buf[512];

	(void)state;
	expect_model(model_bytes, model_len, NULL);
	cd_compliance_model_info(checker, buf, sizeof(buf));
	assert_non_null(strstr(buf, "features"));
}

static void test_missing_model_is_refused_with_its_name(void **state)
{
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;

	(void)state;
	assert_int_equal(cd_compliance_load(packs_dir, NULL, 0, &c, &errs), 0);
	assert_int_equal(cd_compliance_load_model(c, "/nonexistent/model.bin", &errs), CD_ECONFIG);
	assert_string_equal(errs.items[0].file, "/nonexistent/model.bin");
	assert_non_null(strstr(errs.items[0].msg, "cannot read the compliance model"));
	cd_errors_clear(&errs);
	cd_compliance_free(c);
}

static void test_truncated_model_is_refused(void **state)
{
	(void)state;
	expect_model(model_bytes, 3, "not a candor compliance model");
	expect_model(model_bytes, 100, "truncated");
	expect_model(model_bytes, model_len / 2, "truncated");
	expect_model(model_bytes, model_len - 1, "truncated");
}

static void test_wrong_version_is_refused(void **state)
{
	unsigned char *b = malloc(model_len);

	(void)state;
	assert_non_null(b);
	memcpy(b, model_bytes, model_len);
	b[8] = 2;   /* format version */
	fix_checksum(b, model_len);
	expect_model(b, model_len, "format version 2");
	memcpy(b, model_bytes, model_len);
	b[12] = (unsigned char)(CD_COMPLIANCE_FEATURES_VERSION + 1); /* features version */
	fix_checksum(b, model_len);
	expect_model(b, model_len, "retrain");
	free(b);
}

static void test_damaged_model_is_refused(void **state)
{
	unsigned char *b = malloc(model_len + 1);

	(void)state;
	assert_non_null(b);
	memcpy(b, model_bytes, model_len);
	b[model_len / 2] ^= 0x40;   /* one bit in the weights */
	expect_model(b, model_len, "checksum mismatch");
	memcpy(b, model_bytes, model_len);
	b[model_len] = 0;           /* a byte too many */
	expect_model(b, model_len + 1, "damaged");
	memcpy(b, model_bytes, model_len);
	memcpy(b + 676, "concepts = { oops", 17); /* a broken concepts source */
	fix_checksum(b, model_len);
	expect_model(b, model_len, "concepts");
	free(b);
}

/* The MODEL_LEN bytes of the shipped model with the first FROM in its
 * concepts source made TO (as long), the checksum fixed; freed by the
 * caller. */
static unsigned char *patched(const char *from, const char *to)
{
	unsigned char *b = malloc(model_len), *at;

	assert_non_null(b);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(b, model_bytes, model_len);
	assert_non_null(at = memmem(b, model_len, from, strlen(from)));
	memcpy(at, to, strlen(to));
	fix_checksum(b, model_len);
	return b;
}

/* "yield_below" must be a number below the threshold: a model whose
 * rules would give way to a text it flags is refused, file named. */
static void test_yield_below_is_checked(void **state)
{
	unsigned char *b;

	(void)state;
	b = patched("yield_below = -5.0;", "yield_below = 99.0;");
	expect_model(b, model_len, "yield_below (99) must lie below the model's threshold");
	assert_true(last_line > 0);     /* of the concepts source */
	free(b);
	b = patched("yield_below = -5.0;", "yield_below = \"ab\";");
	expect_model(b, model_len, "yield_below must be a number");
	free(b);
	b = patched("yield_below = -5.0;", "yield_below = -6.0;");
	expect_model(b, model_len, NULL);
	free(b);
	/* a model without one loads (its rules never yield) */
	b = patched("yield_below = -5.0;", "#ield_below = -5.0;");
	expect_model(b, model_len, NULL);
	free(b);
}

static void test_second_model_is_refused(void **state)
{
	struct cd_errors errs = { 0 };

	(void)state;
	assert_int_equal(cd_compliance_load_model(checker, model_path, &errs), CD_ECONFIG);
	assert_non_null(strstr(errs.items[0].msg, "loaded already"));
	cd_errors_clear(&errs);
}

/* ---- scoring -------------------------------------------------------------- */

/* The regression set: rows the model was trained on with the score the
 * training script computed; candor must agree, or training and checking
 * have drifted apart (features, normalizing, the file). */
static void test_regression_set_scores_as_trained(void **state)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char path[1024], line[8192];
	FILE *fp;
	int rows = 0, agree = 0;
	double threshold = cd_compliance_model_threshold(checker);

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/model/regression.tsv", top);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp)) {
		char *field[6], *p = line, *w;
		double want, got;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		while (n < 6 && p) {
			field[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 6 || strcmp(field[0], "id") == 0)
			continue;
		w = field[4];
		for (const char *r = field[4]; *r; r++) {
			if (r[0] == '\\' && r[1] == 'n') {
				*w++ = '\n';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		want = strcmp(field[5], "-inf") == 0 ? -HUGE_VAL : atof(field[5]);
		assert_int_equal(cd_compliance_model_score(checker, field[4], strlen(field[4]), &got), 0);
		rows++;
		if ((isinf(want) && isinf(got)) || fabs(got - want) < 1e-3)
			agree++;
		else
			print_message("# %s: candor %.4f, trained %.4f\n", field[0], got, want);
		/* and the verdict is the threshold's */
		if (!isinf(want) && fabs(want - threshold) > 1e-3) {
			struct cd_check_opts o = { .packs = (char *[]){ CD_COMPLIANCE_MODEL_PACK }, .npacks = 1 };
			struct cd_findings f = { 0 };

			assert_int_equal(cd_compliance_check(checker, field[4], strlen(field[4]), &o, &f), 0);
			assert_int_equal(f.errors > 0, want >= threshold);
			cd_findings_clear(&f);
		}
	}
	fclose(fp);
	print_message("# regression set: %d/%d rows scored as trained\n", agree, rows);
	assert_true(rows >= 100);
	assert_int_equal(agree, rows);
}

static struct cd_findings check_model_only(const char *text)
{
	char *only[] = { CD_COMPLIANCE_MODEL_PACK };
	struct cd_check_opts o = { .packs = only, .npacks = 1 };
	struct cd_findings f = { 0 };

	assert_int_equal(cd_compliance_check(checker, text, strlen(text), &o, &f), 0);
	return f;
}

static void test_findings_name_family_sentence_and_concepts(void **state)
{
	const char *text = "Thanks for your order.\nPost a photo of your lamp on the product page "
			   "and your next delivery is on us.";
	struct cd_findings f = check_model_only(text);

	(void)state;
	assert_int_equal(f.count, 1);
	assert_string_equal(f.items[0].rule, "model.incentive");
	assert_string_equal(f.items[0].family, "incentive");
	assert_int_equal(f.items[0].line, 2);
	assert_int_equal(f.items[0].column, 1);
	assert_non_null(strstr(f.items[0].excerpt, "Post a photo"));
	assert_non_null(strstr(f.items[0].detail, "score "));
	assert_non_null(strstr(f.items[0].detail, "platform \"product page\""));
	assert_true(strlen(f.items[0].suggestion) > 20);
	cd_findings_clear(&f);
}

static void test_gate_keeps_texts_without_a_review_act_clean(void **state)
{
	static const char *const clean[] = {
		"Thank you!", "Thank you for your order.", "Danke!", "谢谢！", "Спасибо за заказ!",
		"Free shipping on every order over $40.", "Your refund is on its way.",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		struct cd_findings f = check_model_only(clean[i]);
		double s;

		assert_int_equal(cd_compliance_model_score(checker, clean[i], strlen(clean[i]), &s), 0);
		if (f.errors || !isinf(s))
			fail_msg("\"%s\" passed the gate (score %.2f)", clean[i], s);
		cd_findings_clear(&f);
	}
}

static void test_model_catches_what_no_rule_names(void **state)
{
	static const char *const bad[] = {
		"Share your thoughts on the listing and we'll upgrade you to Gold member status.",
		"Happy with your order? 👉 Review us here. Not happy? 👉 Email us first.",
		"Now that the replacement has arrived, would you mind taking another look at your review?",
		"Customers who don't leave feedback may lose their member discount next month.",
		"Lascia due righe su Amazon e ti estendiamo la garanzia di un anno.",
	};
	static const char *const honest[] = {
		"How many stars would you give your backpack? Anything from 1 to 5 is welcome.",
		"You're welcome to update your review, or leave it exactly as it is.",
		"We would love your honest review.",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cd_findings f = check_model_only(bad[i]);

		if (!f.errors)
			fail_msg("the model should hold \"%s\"", bad[i]);
		cd_findings_clear(&f);
	}
	for (size_t i = 0; i < sizeof(honest) / sizeof(honest[0]); i++) {
		struct cd_findings f = check_model_only(honest[i]);

		if (f.errors)
			fail_msg("the model should pass \"%s\" (%s)", honest[i], f.items[0].detail);
		cd_findings_clear(&f);
	}
}

static void test_long_mail_is_judged_by_its_worst_window(void **state)
{
	char mail[6000];
	struct cd_findings f;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 12; i++)
		n += (size_t)snprintf(mail + n, sizeof(mail) - n,
				      "Your parcel number %d left our warehouse today and should arrive soon. ", i);
	snprintf(mail + n, sizeof(mail) - n, "\n\nLeave us a review and we'll send you a free gift card!\n\n"
		 "Kind regards, the team.");
	f = check_model_only(mail);
	assert_true(f.errors > 0);
	assert_non_null(strstr(f.items[0].excerpt, "gift card"));
	cd_findings_clear(&f);
}

/* A harmless sentence before a violation does not talk it down: a
 * window starts at every sentence, so the request is also scored
 * without the apology in front of it (scored whole, each of these was
 * below the threshold). Overlapping windows find it once. */
static void test_an_opener_does_not_hide_what_follows(void **state)
{
	static const char *const bribes[] = {
		"We're sorry your parcel arrived late. Leave us a review and we'll refund 10% of your order.",
		"Es tut uns leid, dass Ihr Paket zu spät kam. Schreiben Sie uns eine Bewertung und Sie "
		"erhalten 10 % zurück.",
		"Es tut uns leid, dass Ihr Paket zu spät kam. Schreiben Sie uns eine Bewertung und wir "
		"erstatten Ihnen 10 % des Bestellwerts.",
		"Sentimos mucho el retraso. Déjanos una reseña y te devolvemos el 10 % del pedido.",
		"Ci scusiamo per il ritardo. Lasciaci una recensione e ti rimborsiamo il 10% dell'ordine.",
	};
	const char *honest = "We're sorry your parcel arrived late; we've refunded the shipping. If you "
			     "have a moment, we'd welcome an honest review, good or bad.";
	struct cd_findings f;

	(void)state;
	for (size_t i = 0; i < sizeof(bribes) / sizeof(bribes[0]); i++) {
		f = check_model_only(bribes[i]);
		if (f.count != 1)
			fail_msg("one finding expected, %zu in: %s", f.count, bribes[i]);
		assert_true(f.items[0].column > 1); /* the request, not the apology */
		cd_findings_clear(&f);
	}
	f = check_model_only(honest);
	assert_int_equal(f.errors, 0);
	cd_findings_clear(&f);
}

/* A short mail's closing lines that name none of the concepts ("Have a
 * lovely day! The team") say nothing of a review: the text is scored
 * without them as well, so they cannot talk a violation down. */
static void test_a_closing_line_does_not_lower_a_score(void **state)
{
	static const char *const pairs[][2] = {
		{ "Anyone who posts a photo review this month goes into our draw for a weekend trip.",
		  " Have a wonderful weekend! Warm regards from all of us at Little Fern Toys." },
		{ "Den som skriver ett omdöme får fri frakt på nästa beställning.",
		  " Ha en fin dag! Hälsningar, teamet på Hem." },
		{ "Quem deixar uma avaliação ganha frete grátis na próxima compra.",
		  " Aproveite o seu novo sofá! Abraços, equipe Lume." },
	};
	char text[512];
	double alone, closed;

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", pairs[i][0], pairs[i][1]);
		assert_int_equal(cd_compliance_model_score(checker, pairs[i][0], strlen(pairs[i][0]),
							   &alone), 0);
		assert_int_equal(cd_compliance_model_score(checker, text, strlen(text), &closed), 0);
		/* a violation the model holds alone, or this tests no verdict */
		if (!(alone >= cd_compliance_model_threshold(checker)))
			fail_msg("not held alone (%.3f): %s", alone, pairs[i][0]);
		if (closed < alone)
			fail_msg("%.3f alone, %.3f with its closing line: %s", alone, closed, text);
	}
}

/* All packs and the model. */
static struct cd_findings check_all(const char *text)
{
	struct cd_findings f = { 0 };

	assert_int_equal(cd_compliance_check(checker, text, strlen(text), NULL, &f), 0);
	return f;
}

static size_t model_findings(const struct cd_findings *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->count; i++)
		n += strncmp(f->items[i].rule, "model.", 6) == 0;
	return n;
}

/* A window the packs hold already is not scored: the mail is held there
 * for a reason the packs cite. Another window of a long mail still is. */
static void test_model_skips_what_the_packs_hold(void **state)
{
	const char *bought = "Leave a 5-star review and we'll send you a $10 gift card!";
	char mail[6000];
	struct cd_findings f;
	size_t n = 0;

	(void)state;
	f = check_all(bought);
	assert_true(f.errors > 0);
	assert_int_equal(model_findings(&f), 0);
	cd_findings_clear(&f);
	f = check_model_only(bought);   /* the model on its own does hold it */
	assert_true(f.errors > 0);
	cd_findings_clear(&f);

	n += (size_t)snprintf(mail + n, sizeof(mail) - n, "%s ", bought);
	for (int i = 0; i < 12; i++)
		n += (size_t)snprintf(mail + n, sizeof(mail) - n,
				      "Your parcel number %d left our warehouse today and should arrive soon. ", i);
	snprintf(mail + n, sizeof(mail) - n, "\n\nShare your thoughts on the listing and we'll upgrade "
		 "you to Gold member status.\n\nKind regards, the team.");
	f = check_all(mail);
	assert_true(model_findings(&f) > 0);
	for (size_t i = 0; i < f.count; i++)
		if (strncmp(f.items[i].rule, "model.", 6) == 0)
			assert_non_null(strstr(f.items[i].excerpt, "Gold"));
	cd_findings_clear(&f);
}

static void test_model_is_selected_like_a_pack(void **state)
{
	const char *text = "Share your thoughts on the listing and we'll upgrade you to Gold member status.";
	char *generic[] = { "generic" };
	struct cd_check_opts o = { .packs = generic, .npacks = 1 };
	struct cd_findings f = { 0 };

	(void)state;
	assert_true(cd_compliance_has_pack(checker, CD_COMPLIANCE_MODEL_PACK));
	assert_int_equal(cd_compliance_check(checker, text, strlen(text), &o, &f), 0);
	for (size_t i = 0; i < f.count; i++)
		assert_null(strstr(f.items[i].rule, "model."));
	cd_findings_clear(&f);
	assert_int_equal(cd_compliance_check(checker, text, strlen(text), NULL, &f), 0);
	assert_true(f.errors > 0);
	cd_findings_clear(&f);
}

/* Whether C's findings for TEXT with options O (NULL: all packs, model
 * on) include RULE. */
static int rule_holds_in(struct cd_compliance *c, const char *text, const struct cd_check_opts *o,
			 const char *rule)
{
	struct cd_findings f = { 0 };
	int held = 0;

	assert_int_equal(cd_compliance_check(c, text, strlen(text), o, &f), 0);
	for (size_t i = 0; i < f.count; i++)
		held |= strcmp(f.items[i].rule, rule) == 0;
	cd_findings_clear(&f);
	return held;
}

/* The same with the shipped checker. */
static int rule_holds(const char *text, const struct cd_check_opts *o, const char *rule)
{
	return rule_holds_in(checker, text, o, rule);
}

/* Beside the model, a rule leaves a sentence with a negation, or an
 * apology nearby, to the model: the honest texts pass, the rules alone
 * still hold them, and "don't forget" is no negation. Rendered mail is
 * checked without the model's findings but with the rules as they stand
 * beside it (defer), since the model judged its template. */
static void test_rules_leave_negations_to_the_model(void **state)
{
	const char *honest[] = {
		"Every order earns loyalty points. Points are never linked to reviews or ratings.",
		"Las reseñas no influyen: envío gratis para todos los socios.",
		"We're sorry about the leak. Your review was fair. We've refunded you in full.",
	};
	const char *bought[] = {
		"Don't forget: a review with photos gets you a 10% coupon.",
		/* the negation is in the sentence before */
		"Points are never lost. Review us and get 10% off.",
		/* the apology is two sentences away */
		"We're sorry. The parcel was late. Our courier knows. Review us and get a refund.",
		"Leave a review and get a 10% coupon, no minimum order.",
		"非常感谢您的购买，写评价即送10元优惠券。",
		"Every review earns a gift of your choice.",
	};
	/* paying to change a review after an apology: the change rule holds it */
	const char *changed = "We apologise for the trouble. If you change your review we will send a full refund.";
	/* empty sentences ("!!", a blank line) are not the sentence before */
	const char *layout[] = {
		"We're sorry about the leak!! Your review was fair. We've refunded you in full.",
		"We're sorry about the leak.\n\nYour review was fair. We've refunded you in full.",
	};
	char *generic[] = { "generic" };
	struct cd_check_opts alone = { .packs = generic, .npacks = 1 };
	struct cd_check_opts rendered = { .no_model = 1, .defer = 1 };
	struct cd_check_opts no_model = { .no_model = 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(honest) / sizeof(honest[0]); i++) {
		assert_true(rule_holds(honest[i], &alone, "generic.incentive"));
		assert_true(rule_holds(honest[i], &no_model, "generic.incentive"));
		assert_false(rule_holds(honest[i], &rendered, "generic.incentive"));
		assert_false(rule_holds(honest[i], NULL, "generic.incentive"));
	}
	for (size_t i = 0; i < sizeof(bought) / sizeof(bought[0]); i++) {
		assert_true(rule_holds(bought[i], &alone, "generic.incentive"));
		assert_true(rule_holds(bought[i], &rendered, "generic.incentive"));
		assert_true(rule_holds(bought[i], NULL, "generic.incentive"));
	}
	assert_true(rule_holds(changed, &rendered, "generic.change_remove"));
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		assert_true(rule_holds(layout[i], &no_model, "generic.incentive"));
		assert_false(rule_holds(layout[i], &rendered, "generic.incentive"));
	}
}

/* Check a bribe, then FREE_CHOICE into the same findings, as rendered
 * mail checks its text and then its HTML: the bribe's error stays
 * counted, the yielding finding is gone and not counted. */
static void count_after_a_standing_error(const char *free_choice)
{
	const char *bribe = "Leave a review and get a $10 gift card.";
	struct cd_check_opts no_yield = { .no_yield = 1 };
	struct cd_findings f = { 0 };
	size_t count;
	int errors;

	assert_int_equal(cd_compliance_check(checker, bribe, strlen(bribe), NULL, &f), 0);
	count = f.count;
	errors = f.errors;
	assert_true(errors > 0);
	assert_int_equal(cd_compliance_check(checker, free_choice, strlen(free_choice), NULL, &f),
			 0);
	assert_int_equal(f.count, count);
	assert_int_equal(f.errors, errors);
	assert_int_equal(cd_compliance_check(checker, free_choice, strlen(free_choice), &no_yield,
					     &f), 0);
	assert_int_equal(f.errors, errors + 1);
	cd_findings_clear(&f);
}

/* A rule marked "yields" (the change rule: a review near "change" or
 * "delete") gives way when the model is sure the text is honest, as an
 * account page's "edit it or leave it" is, in rendered mail too (the
 * model is asked there only for this). With no_yield, for training, and
 * with the rules alone it stands; a request to change a review stands
 * beside the model and in rendered mail, honest words and all. */
static void test_a_sure_model_overrules_rules_that_yield(void **state)
{
	const char *free_choice = "You can edit or remove your own review whenever you like from "
				  "your account page; whether you do is entirely your call.";
	const char *asked[] = {
		"Please change your 1-star review now that we have sent the refund.",
		"Honest feedback matters to us, good or bad, and we respect your opinion: "
		"please reconsider your 1-star rating.",
		"Wir respektieren jede ehrliche Meinung, gut oder schlecht. Bitte ändern Sie Ihre "
		"1-Stern-Bewertung.",
	};
	struct cd_check_opts no_yield = { .no_yield = 1 };
	struct cd_check_opts rendered = { .no_model = 1, .defer = 1 };
	struct cd_check_opts rules = { .no_model = 1 };
	double s;

	(void)state;
	assert_int_equal(cd_compliance_model_score(checker, free_choice, strlen(free_choice), &s),
			 0);
	assert_true(s < -5);
	assert_true(rule_holds(free_choice, &no_yield, "generic.change_remove"));
	assert_true(rule_holds(free_choice, &rules, "generic.change_remove"));
	assert_false(rule_holds(free_choice, NULL, "generic.change_remove"));
	assert_false(rule_holds(free_choice, &rendered, "generic.change_remove"));
	count_after_a_standing_error(free_choice);
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		assert_true(rule_holds(asked[i], NULL, "generic.change_remove"));
		assert_true(rule_holds(asked[i], &no_yield, "generic.change_remove"));
		assert_true(rule_holds(asked[i], &rendered, "generic.change_remove"));
	}
}

/* The money rule yields "apart": a refund and a review in two statements
 * ("Refund sent. Your review stays up.") give way to a sure model, in
 * rendered mail too; an offer and a review in one sentence never do,
 * nor two sentences that ask for a review (yields_unless: the model
 * scored the gift-card one below -10 when the rule yielded without it),
 * nor two sentences the model does not call honest. */
static void test_apart_yields_only_across_sentences(void **state)
{
	const char *two = "We have refunded the lamp in full. Your one-star review was fair, and "
			  "other buyers should read it.";
	const char *bought[] = {
		"Leave a review and get a full refund.",
		"Leave a review. You will get a refund.",
		"Please post your review today. A $10 gift card goes out to every reviewer.",
		"Only 50 of these thank-you gift cards are left this month. Leave your honest "
		"review by Friday and one of them is yours.",
		/* paired across the sentence end, but the second holds both
		 * (found by a second reader) */
		"Thank you for your honest review. A refund goes to every customer with a review.",
		"Thank you for your honest review. A gift card goes to every customer with a review.",
	};
	struct cd_check_opts no_yield = { .no_yield = 1 };
	struct cd_check_opts rendered = { .no_model = 1, .defer = 1 };
	struct cd_check_opts rules = { .no_model = 1 };
	double s;

	(void)state;
	assert_int_equal(cd_compliance_model_score(checker, two, strlen(two), &s), 0);
	assert_true(s < -5);
	assert_true(rule_holds(two, &rules, "generic.incentive"));
	assert_true(rule_holds(two, &no_yield, "generic.incentive"));
	assert_false(rule_holds(two, NULL, "generic.incentive"));
	assert_false(rule_holds(two, &rendered, "generic.incentive"));
	for (size_t i = 0; i < sizeof(bought) / sizeof(bought[0]); i++) {
		if (!rule_holds(bought[i], NULL, "generic.incentive"))
			fail_msg("passed beside the model: %s", bought[i]);
		if (!rule_holds(bought[i], &rendered, "generic.incentive"))
			fail_msg("passed in rendered mail: %s", bought[i]);
	}
}

/* The shipped packs with the shipped model, its "yield_below" raised to
 * 0.4 under its threshold (*SURE_BELOW): sure of every text it scores
 * below that, so whether a rule yields no longer depends on how the
 * model scores a line after retraining. */
static struct cd_compliance *eager_checker(double *sure_below)
{
	char dir[] = "/tmp/candor-model.XXXXXX", path[256], to[32];
	unsigned char *b;
	struct cd_errors errs = { 0 };
	struct cd_compliance *c = NULL;

	*sure_below = cd_compliance_model_threshold(checker) - 0.4;
	snprintf(to, sizeof(to), "yield_below = %4.2f;", *sure_below);
	assert_int_equal(strlen(to), strlen("yield_below = -5.0;"));   /* 0 <= it < 10 */
	b = patched("yield_below = -5.0;", to);
	write_model(b, model_len, dir, path, sizeof(path));
	assert_int_equal(cd_compliance_load(packs_dir, NULL, 0, &c, &errs), 0);
	assert_int_equal(cd_compliance_load_model(c, path, &errs), 0);
	remove(path);
	rmdir(dir);
	free(b);
	return c;
}

/* The change rule stands where its sentence asks for something, sure
 * as the model may be (an independence clause talks the development
 * attacker's lines down towards -5); the top-rating rule never yields (a
 * thank-you for five stars beside a voucher stays held), nor does 好评返现
 * leave its sentence to the model for the 不 or 无 inside 不限 or 无线.
 * The lines must score below the eager checker's yield_below, or this
 * tests nothing. */
static void test_asked_changes_and_top_ratings_stand(void **state)
{
	const char *asked[] = {
		"您可以自由選擇是否評論，請刪除您的負評。",
		"是否評論完全隨您，您可以自由選擇，請刪除您的負評。",
	};
	const char *thanks = "Danke für Ihre 5 Sterne! Der Gutschein für die verspätete Lieferung "
			     "gehört Ihnen ohnehin.";
	const char *paid[] = {
		"好评返现5元，欢迎真实评价。",
		"无线耳机好评返现10元。",
		"好评返现5元，不限商品。",
	};
	struct cd_check_opts rendered = { .no_model = 1, .defer = 1 };
	double s, sure_below;
	struct cd_compliance *eager = eager_checker(&sure_below);

	(void)state;
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		assert_int_equal(cd_compliance_model_score(eager, asked[i], strlen(asked[i]), &s), 0);
		if (s >= sure_below)
			fail_msg("the model is not sure of %s (%.2f): this tests nothing", asked[i], s);
		if (!rule_holds_in(eager, asked[i], NULL, "generic.change_remove") ||
		    !rule_holds_in(eager, asked[i], &rendered, "generic.change_remove"))
			fail_msg("passed: %s (%.2f)", asked[i], s);
	}
	assert_int_equal(cd_compliance_model_score(eager, thanks, strlen(thanks), &s), 0);
	assert_true(s < sure_below);
	assert_true(rule_holds_in(eager, thanks, NULL, "generic.positive_only"));
	for (size_t i = 0; i < sizeof(paid) / sizeof(paid[0]); i++)
		if (!rule_holds_in(eager, paid[i], NULL, "cn.cashback"))
			fail_msg("passed beside the model: %s", paid[i]);
	cd_compliance_free(eager);
}

/* A Chinese or Japanese negation term matches inside any word, so words
 * that hold one and deny nothing are listed (not_negation): an apology's
 * 不好意思 or 申し訳ありません, the 无 of 无线, the 不 of 不锈钢 leave no
 * sentence to the model; a real negation still does. */
static void test_words_holding_a_cjk_negation_deny_nothing(void **state)
{
	static const char *const asked[] = {
		"不好意思打扰您，麻烦给个五星好评哦。",
		"不好意思，請給我們五星好評哦。",
		"无线耳机收到后，麻烦给个五星好评。",
		"不锈钢锅用得满意的话，请给五星好评。",
		"申し訳ありませんが、星5つの高評価をお願いいたします。",
		"すみません、★5のレビューをお願いします。",
		"差评可不可以改成五星好评呀？",
	};
	static const char *const denied[] = {
		"我们不要求五星好评，请如实评价。",
		"星5つの評価をお願いするつもりはありません。",
		/* a denial that holds a word listed as none (不同) */
		"我们不同意只要五星好评的做法。",
	};
	/* the ございません of an apology is no "there is none" that frees
	 * the rules of a whole sentence */
	const char *paid = "ご迷惑をおかけして申し訳ございません、レビューを書いていただければ"
			   "全額返金いたします。";
	struct cd_check_opts rendered = { .no_model = 1, .defer = 1 };
	struct cd_check_opts alone = { .no_model = 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
		if (!rule_holds(asked[i], &rendered, "generic.positive_only"))
			fail_msg("left to the model: %s", asked[i]);
	assert_true(rule_holds(paid, &alone, "generic.incentive"));
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (rule_holds(denied[i], &rendered, "generic.positive_only"))
			fail_msg("a negation not left to the model: %s", denied[i]);
}

/* A template is judged by the model as it can render: one section of a
 * run side by side at a time (src/compliance/branches.c). A finding in a
 * section after one that was cut still names its line in the template. */
static void test_templates_are_judged_as_they_render(void **state)
{
	const char *tpl = "Hello{{#name}} {{name}}{{/name}},\n"
			  "{{#comment}}\nThank you for your note.\n{{/comment}}\n"
			  "{{^comment}}\nShare your thoughts on the listing and we'll upgrade you to "
			  "Gold member status.\n{{/comment}}\n"
			  "Best wishes\n";
	struct cd_check_opts o = { .mustache = 1 };
	struct cd_findings f = { 0 };
	int found = 0;

	(void)state;
	assert_int_equal(cd_compliance_check(checker, tpl, strlen(tpl), &o, &f), 0);
	for (size_t i = 0; i < f.count; i++)
		if (strncmp(f.items[i].rule, "model.", 6) == 0) {
			assert_int_equal(f.items[i].line, 6);
			assert_int_equal(f.items[i].column, 1);
			assert_int_equal(strncmp(tpl + f.items[i].start, "Share your", 10), 0);
			found++;
		}
	assert_int_equal(found, 1);
	assert_int_equal(f.errors, 1);
	cd_findings_clear(&f);
}

/* Judged as it renders, a template's windows the packs hold are left to
 * them, as in a whole text: a switch elsewhere adds no finding. */
static void test_template_variants_skip_what_the_packs_hold(void **state)
{
	const char *body = "A review gets you a full refund.\n"
			   "Share your thoughts on the listing and we will upgrade you to Gold member "
			   "status.\nBest wishes\n";
	const char *heads[] = { "Hello {{name}},\nThanks for your order.\n",
				"Hello {{name}},\n{{#a}}\nThanks for your order.\n{{/a}}\n"
				"{{^a}}\nThanks again.\n{{/a}}\n" };
	struct cd_check_opts o = { .mustache = 1 };
	size_t errors[2];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cd_findings f = { 0 };
		char tpl[512];

		snprintf(tpl, sizeof(tpl), "%s%s", heads[i], body);
		assert_int_equal(cd_compliance_check(checker, tpl, strlen(tpl), &o, &f), 0);
		errors[i] = f.errors;
		cd_findings_clear(&f);
	}
	assert_true(errors[0] > 0);
	assert_int_equal(errors[1], errors[0]);
}

/* Honest words ("honest", "good or bad") weigh against a violation in the
 * linear model, so the model never overrules a rule that names an offer
 * or a rating: these bribes, found by a second reader against a "veto"
 * that let them through, stay held (and found again against rules that
 * yielded: the model scored "good or bad, your honest review earns 5 EUR"
 * as sure as an apology). */
static void test_honest_words_do_not_excuse_a_bribe(void **state)
{
	static const char *const bought[] = {
		"Any honest review, good or bad, gets you 10% off.",
		"Be honest, good or bad: every review earns 500 points.",
		"Don't forget to review us honestly, good or bad, for 10% off.",
		"Honest feedback, good or bad, please reconsider your 1-star rating.",
		"Rate us honestly with five stars.",
		"Bon ou mauvais, votre avis honnête vous rapporte 5 € de remboursement.",
		"Buena o mala, tu reseña honesta te da 5 € de reembolso.",
		"Bewerten Sie uns ehrlich mit fünf Sternen.",
		"Честный отзыв, хороший или плохой, и кешбэк 200 рублей.",
		"好评返现5元，欢迎真实评价。",
		"好評返現5元，歡迎真實評價。",
		"良くても悪くても、正直なレビューごとに10%割引。",
	};
	struct cd_findings f = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bought) / sizeof(bought[0]); i++) {
		assert_int_equal(cd_compliance_check(checker, bought[i], strlen(bought[i]), NULL, &f), 0);
		if (f.errors == 0)
			fail_msg("passed: %s", bought[i]);
		cd_findings_clear(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_model_loads),
		cmocka_unit_test(test_missing_model_is_refused_with_its_name),
		cmocka_unit_test(test_truncated_model_is_refused),
		cmocka_unit_test(test_wrong_version_is_refused),
		cmocka_unit_test(test_damaged_model_is_refused),
		cmocka_unit_test(test_second_model_is_refused),
		cmocka_unit_test(test_yield_below_is_checked),
		cmocka_unit_test(test_regression_set_scores_as_trained),
		cmocka_unit_test(test_findings_name_family_sentence_and_concepts),
		cmocka_unit_test(test_gate_keeps_texts_without_a_review_act_clean),
		cmocka_unit_test(test_model_catches_what_no_rule_names),
		cmocka_unit_test(test_long_mail_is_judged_by_its_worst_window),
		cmocka_unit_test(test_an_opener_does_not_hide_what_follows),
		cmocka_unit_test(test_a_closing_line_does_not_lower_a_score),
		cmocka_unit_test(test_model_is_selected_like_a_pack),
		cmocka_unit_test(test_model_skips_what_the_packs_hold),
		cmocka_unit_test(test_rules_leave_negations_to_the_model),
		cmocka_unit_test(test_a_sure_model_overrules_rules_that_yield),
		cmocka_unit_test(test_apart_yields_only_across_sentences),
		cmocka_unit_test(test_asked_changes_and_top_ratings_stand),
		cmocka_unit_test(test_words_holding_a_cjk_negation_deny_nothing),
		cmocka_unit_test(test_templates_are_judged_as_they_render),
		cmocka_unit_test(test_template_variants_skip_what_the_packs_hold),
		cmocka_unit_test(test_honest_words_do_not_excuse_a_bribe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
