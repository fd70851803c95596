/* test_intent.c - reading a reply as its writer meant it: the quote
 * stripper keeps the sender's own lines and nothing their client quoted
 * (in the styles of Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, QQ,
 * Yandex, Mail.ru, GMX); HTML-only mail comes out as quoted lines; the
 * subject loses its prefixes; and the intent cues catch requests to stop
 * but not their negations, conditions, questions or quotations. The last
 * test reads tests/data/intent-cases.tsv, sentences in 14 languages
 * written apart from the replies corpus. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/htmltext.h"
#include "candor/intent.h"
#include "candor/ownwords.h"

static char *own(const char *text)
{
	char *w = cd_ownwords(text);

	assert_non_null(w);
	return w;
}

/* OWN's words, as cd_ownwords gives them, are exactly WANT. */
static void own_is(const char *text, const char *want)
{
	char *w = own(text);

	assert_string_equal(w, want);
	free(w);
}

static enum cd_intent_verdict verdict(const char *text, const char *subject)
{
	struct cd_intent in;
	char subj[512];
	int replied = cd_ownwords_subject(subject, subj, sizeof(subj)) > 0;
	char *w = own(text);

	assert_int_equal(cd_intent_read(w, subj, replied, 12, &in), 0);
	free(w);
	return in.verdict;
}

#define RE "Re: How was your order #1234?"

static void test_cue_lists_parse(void **state)
{
	(void)state;
	assert_int_equal(cd_intent_bad_lines(), 0);
	assert_int_equal(cd_intent_init(), 0);
}

static void test_quoted_lines_and_attribution_go(void **state)
{
	(void)state;
	own_is("Please remove me.\n\nOn Thu, 5 Nov 2026 at 10:12, Shop <hello@shop.example> wrote:\n"
	       "> Hi Ann,\n> How did we do?\n", "Please remove me.\n");
	own_is("Bitte austragen.\n\nAm 05.11.26 um 10:12 schrieb Shop:\n> Hallo\n", "Bitte austragen.\n");
	own_is("Merci.\nLe 5 nov. 2026 à 10:12, Shop <hello@shop.example> a écrit :\n> Bonjour\n",
	       "Merci.\n");
	own_is("退订\n在 2026-11-05 17:12:07，\"Shop\" <hello@shop.example> 写道：\n> 您好\n", "退订\n");
	own_is("Отпишите меня.\n05.11.2026, 12:12, \"Shop\" <hello@shop.example>:\n> Здравствуйте\n",
	       "Отпишите меня.\n");
	/* The Bat!'s initials before the quote mark */
	own_is("Спасибо.\nВы писали 5 ноября 2026 г., 12:21:\nLS> Здравствуйте\n", "Спасибо.\n");
}

static void test_header_blocks_and_separators_cut(void **state)
{
	(void)state;
	own_is("Stop emailing me.\n\nFrom: Shop <hello@shop.example>\nSent: Thursday\nTo: Ann\n"
	       "Subject: How was your order?\n\nUnsubscribe: https://shop.example/u/x\n",
	       "Stop emailing me.\n");
	own_is("Danke!\nGesendet: Donnerstag, 05. November 2026 um 10:12 Uhr\nVon: Shop\nAn: ann@gmx.de\n"
	       "Betreff: Wie war Ihre Bestellung?\nKeine weiteren E-Mails\n", "Danke!\n");
	own_is("Merci\nDe : Shop <hello@shop.example>\nEnvoyé : jeudi 5 novembre 2026\nÀ : Ann\n", "Merci\n");
	own_is("谢谢\n------------------ 原始邮件 ------------------\n发件人: \"Shop\"\n发送时间: 2026年11月5日\n"
	       "不再接收邮件\n", "谢谢\n");
	own_is("Unsubscribe.\n-----Original Message-----\nFrom: Shop\nhello\n", "Unsubscribe.\n");
	own_is("ok\n________________________________\nDe: Shop\nEnviado: jueves\n", "ok\n");
	/* one "From:" line is the customer's, not a quote */
	own_is("From: my office address, so please reply here.\nThanks\n",
	       "From: my office address, so please reply here.\nThanks\n");
}

static void test_quote_without_marks_is_cut_whole(void **state)
{
	(void)state;
	/* Yahoo and Naver: the attribution, then the quote without '>' */
	own_is("Hi, the order was fine.\nOn Thursday, 5 November 2026, Shop <hello@shop.example> wrote:\n"
	       "Hi Ann,\nTo get no further emails from us: unsubscribe\n", "Hi, the order was fine.\n");
	/* an attribution wrapped after the address */
	own_is("Great!\nOn Thu, Nov 5, 2026 at 10:12 AM Shop <hello@shop.example>\nwrote:\n> hi\n",
	       "Great!\n");
}

static void test_interleaved_answers_stay(void **state)
{
	(void)state;
	own_is("On 11/5/26 10:12 AM, Shop wrote:\n> How did we do?\nGreat, thanks.\n"
	       "> Don't want feedback requests? Unsubscribe: https://shop.example/u/x\n"
	       "No, this is fine.\n", "Great, thanks.\nNo, this is fine.\n");
}

static void test_signatures_go(void **state)
{
	(void)state;
	own_is("Unsubscribe\n\nSent from my iPhone\n", "Unsubscribe\n");
	own_is("Baja.\nEnviado desde mi iPhone\n", "Baja.\n");
	own_is("退订\n发自我的iPhone\n", "退订\n");
	own_is("Thanks\n-- \nAnn Smith\nUnsubscribe from my newsletter at ...\n", "Thanks\n");
	/* after the sign-off: a signature, whose footer may say "unsubscribe" ... */
	own_is("All fine.\nKind regards,\nTom Baker\nAcme Ltd | To unsubscribe from our newsletter, click here\n",
	       "All fine.\nKind regards,\n");
	own_is("Alles gut.\nMit freundlichen Grüßen\nJ. Weber\nKeine Werbung? Hier abmelden\n",
	       "Alles gut.\nMit freundlichen Grüßen\n");
	/* ... but "P.S." is the sender again; and "Thanks" in a sentence signs nothing off */
	own_is("All fine.\nRegards,\nTom\nP.S. please unsubscribe me\n",
	       "All fine.\nRegards,\nP.S. please unsubscribe me\n");
	own_is("Thanks for the quick delivery.\nPlease remove me from your list.\n",
	       "Thanks for the quick delivery.\nPlease remove me from your list.\n");
}

static void test_subject_prefixes_go(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(cd_ownwords_subject("Re: AW: How was it?", out, sizeof(out)), 2);
	assert_string_equal(out, "How was it?");
	assert_int_equal(cd_ownwords_subject("RE : Votre commande", out, sizeof(out)), 1);
	assert_string_equal(out, "Votre commande");
	assert_int_equal(cd_ownwords_subject("回复：您的订单", out, sizeof(out)), 1);
	assert_string_equal(out, "您的订单");
	assert_int_equal(cd_ownwords_subject("Ответ: Ваш заказ", out, sizeof(out)), 1);
	assert_int_equal(cd_ownwords_subject("Re[2]: YNT: x", out, sizeof(out)), 2);
	assert_string_equal(out, "x");
	assert_int_equal(cd_ownwords_subject("Unsubscribe", out, sizeof(out)), 0);
	assert_string_equal(out, "Unsubscribe");
	/* a word that starts like a prefix is no prefix */
	assert_int_equal(cd_ownwords_subject("Return policy", out, sizeof(out)), 0);
}

static char *html(const char *s)
{
	char *t = cd_html_text(s, strlen(s));

	assert_non_null(t);
	return t;
}

static void test_html_quotes_become_quoted_lines(void **state)
{
	char *t;

	(void)state;
	t = html("<div>Stop&nbsp;please</div><blockquote type=\"cite\"><p>How did we do?</p>"
		 "</blockquote><p>Bye &amp; thanks</p>");
	assert_non_null(t);
	assert_string_equal(t, "Stop please\n\n> How did we do?\n\nBye & thanks\n");
	free(t);
	t = html("<html><head><style>p{x:y}</style></head><body>Hi<br>you<div class=\"gmail_quote\">"
		 "On Thu wrote:<div>quoted</div></div></body></html>");
	assert_non_null(t);
	assert_string_equal(t, "Hi\nyou\n> On Thu wrote:\n> quoted\n");
	free(t);
	t = html("&#36895;&#x9000;<!-- note -->");
	assert_string_equal(t, "\xe9\x80\x9f\xe9\x80\x80\n");
	free(t);
}

static void test_requests_in_many_languages(void **state)
{
	(void)state;
	assert_int_equal(verdict("Please take me off your mailing list.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Bitte tragen Sie mich aus Ihrem Verteiler aus.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Merci de me désabonner.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Por favor, dadme de baja.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Parem de me mandar email!!!", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Basta email per favore, disiscrivetemi.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Graag uitschrijven.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Nie wysyłajcie mi więcej maili.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Avregistrera mig, tack.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Listeden çıkarın lütfen.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Хватит слать мне письма!", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("もうメールは送らないでください。", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("请不要再给我发邮件了。", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("請取消訂閱，謝謝。", RE), CD_INTENT_STOP);
	/* case, width and accents as typed */
	assert_int_equal(verdict("ＵＮＳＵＢＳＣＲＩＢＥ", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("DESINSCRIVEZ-MOI", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("LÜTFEN BENİ LİSTEDEN ÇIKARIN", RE), CD_INTENT_STOP);
}

static void test_negation_takes_a_request_back(void **state)
{
	(void)state;
	assert_int_equal(verdict("Please don't unsubscribe me, I like the tips.", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("I do NOT want to unsubscribe.", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("¡No me deis de baja, por favor!", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("Bitte melden Sie mich nicht ab.", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("Surtout ne me désabonnez pas !", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("不用帮我退订。", RE), CD_INTENT_KEEP);
	assert_int_equal(verdict("メルマガは解除しないでください。", RE), CD_INTENT_KEEP);
	/* the negation reaches its own clause only */
	assert_int_equal(verdict("No, I won't review it, and please unsubscribe me.", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Not the product's fault, but remove me from your list.", RE),
			 CD_INTENT_STOP);
}

static void test_questions_ask_only_politely(void **state)
{
	(void)state;
	/* a question about unsubscribing is no request ... */
	assert_int_equal(verdict("取消订阅以后还会收到发票吗？", RE), CD_INTENT_NONE);
	assert_int_equal(verdict("Unsubscribe from the newsletter only, is that possible?", RE),
			 CD_INTENT_NONE);
	/* ... but a polite request is one, question mark or not */
	assert_int_equal(verdict("Could you please take me off your mailing list?", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("配信を停止していただけますでしょうか。", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Pourriez-vous supprimer mon adresse de vos fichiers ?", RE), CD_INTENT_STOP);
	assert_int_equal(verdict("Why do you keep sending me these emails?", RE), CD_INTENT_STOP);
}

static void test_conditions_are_not_requests(void **state)
{
	(void)state;
	assert_int_not_equal(verdict("If I unsubscribe from the newsletter, will I still get order updates",
				     RE), CD_INTENT_STOP);
	assert_int_not_equal(verdict("Si me doy de baja del boletín, ¿seguiré recibiendo los avisos?", RE),
			     CD_INTENT_STOP);
	assert_int_not_equal(verdict("Wenn ich mich abmelde, bekomme ich dann noch Rechnungen", RE),
			     CD_INTENT_STOP);
	/* "if you could" asks all the same */
	assert_int_equal(verdict("If you could remove me from your list, I'd appreciate it.", RE),
			 CD_INTENT_STOP);
}

static void test_quoted_words_and_links_are_not_requests(void **state)
{
	(void)state;
	assert_int_equal(verdict("I clicked \"unsubscribe\" by mistake, put me back please.", RE),
			 CD_INTENT_KEEP);
	assert_int_equal(verdict("J'ai vu « se désabonner » en bas du mail.", RE), CD_INTENT_NONE);
	assert_int_equal(verdict("To get no further emails from us: https://shop.example/u/abc", RE),
			 CD_INTENT_NONE);
	assert_int_equal(verdict("I already unsubscribed from the newsletter, this is fine.", RE),
			 CD_INTENT_NONE);
}

static void test_subject_speaks_when_the_text_is_silent(void **state)
{
	(void)state;
	assert_int_equal(verdict("", "unsubscribe"), CD_INTENT_STOP);
	assert_int_equal(verdict("This message was automatically generated by Gmail.", "unsubscribe"),
			 CD_INTENT_STOP);
	assert_int_equal(verdict("", "Bitte abmelden, möchte keine Mails mehr"), CD_INTENT_STOP);
	assert_int_equal(verdict("\n", "配信停止"), CD_INTENT_STOP);
	/* a "Re:" subject is a thread's, not a request, once the text speaks */
	assert_int_equal(verdict("And the lamp arrived broken, can you send another one?",
				 "Re: unsubscribe"), CD_INTENT_NONE);
	/* the text's "no" overrules the subject */
	assert_int_equal(verdict("Ignore my last mail, I do not want to unsubscribe.", "unsubscribe"),
			 CD_INTENT_KEEP);
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void test_cases_written_apart(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[1024], line[4096], empty[1] = "";
	int n = 0, wrong = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/intent-cases.tsv", top ? top : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *want, *subject, *text, *save = NULL;
		enum cd_intent_verdict v;
		int ok;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		want = strtok_r(line, "\t", &save);
		subject = strtok_r(NULL, "\t", &save);
		text = strtok_r(NULL, "", &save);
		assert_non_null(subject);
		if (strcmp(subject, "-") == 0)
			subject = "";
		if (!text || strcmp(text, "-") == 0)
			text = empty;
		unescape(text);
		v = verdict(text, subject);
		ok = strcmp(want, "stop") == 0 ? v == CD_INTENT_STOP
		   : strcmp(want, "keep") == 0 ? v == CD_INTENT_KEEP
		   : strcmp(want, "none") == 0 ? v == CD_INTENT_NONE : v != CD_INTENT_STOP;
		if (!ok) {
			print_message("expected %s, got %d: %s | %s\n", want, v, subject, text);
			wrong++;
		}
		n++;
	}
	fclose(f);
	assert_true(n >= 150);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cue_lists_parse),
		cmocka_unit_test(test_quoted_lines_and_attribution_go),
		cmocka_unit_test(test_header_blocks_and_separators_cut),
		cmocka_unit_test(test_quote_without_marks_is_cut_whole),
		cmocka_unit_test(test_interleaved_answers_stay),
		cmocka_unit_test(test_signatures_go),
		cmocka_unit_test(test_subject_prefixes_go),
		cmocka_unit_test(test_html_quotes_become_quoted_lines),
		cmocka_unit_test(test_requests_in_many_languages),
		cmocka_unit_test(test_negation_takes_a_request_back),
		cmocka_unit_test(test_questions_ask_only_politely),
		cmocka_unit_test(test_conditions_are_not_requests),
		cmocka_unit_test(test_quoted_words_and_links_are_not_requests),
		cmocka_unit_test(test_subject_speaks_when_the_text_is_silent),
		cmocka_unit_test(test_cases_written_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
