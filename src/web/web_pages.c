/*
 * web_pages.c - the customer's pages at /u/TOKEN (web_pages.h): one
 * table of words per language the templates ship, filled with the shop's
 * name, the partly hidden address and the support address, all escaped.
 * No script and nothing fetched from elsewhere: the endpoint's CSP
 * allows neither, and the forms post back to the page's own URL, so the
 * proxy's path prefix needs no configuring here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/buf.h"
#include "candor/template.h"
#include "candor/web_pages.h"

struct words {
	const char *lang;   /* templates/SET/<lang>/; "default" is English */
	const char *html_lang;
	const char *title[CD_PAGE_NPAGES];
	const char *text[CD_PAGE_NPAGES];
	const char *button;        /* unsubscribe */
	const char *undo_hint, *undo_button;
};

/* {shop}, {email} and {support} are filled in; every other character is
 * the page's own text. */
static const struct words languages[] = {
	{ "default", "en",
	  { "Unsubscribe", "You are unsubscribed", "You are subscribed again",
	    "This can no longer be undone here" },
	  { "Stop feedback requests from {shop} to {email}?",
	    "{shop} will send no more feedback requests to {email}.",
	    "{shop} may send feedback requests to {email} again.",
	    "Please write to {support} if you want to hear from {shop} again." },
	  "Unsubscribe", "Clicked by mistake? You can undo it for a while.", "Undo" },
	{ "de", "de",
	  { "Abmelden", "Sie sind abgemeldet", "Sie sind wieder angemeldet",
	    "Das lässt sich hier nicht mehr rückgängig machen" },
	  { "Keine Bitten um Feedback mehr von {shop} an {email}?",
	    "{shop} schickt keine Bitten um Feedback mehr an {email}.",
	    "{shop} darf {email} wieder um Feedback bitten.",
	    "Bitte schreiben Sie an {support}, wenn Sie wieder von {shop} hören möchten." },
	  "Abmelden", "Versehentlich geklickt? Sie können das noch eine Weile rückgängig machen.",
	  "Rückgängig machen" },
	{ "es", "es",
	  { "Darse de baja", "Te has dado de baja", "Te has vuelto a suscribir",
	    "Ya no se puede deshacer aquí" },
	  { "¿Dejar de recibir solicitudes de opinión de {shop} en {email}?",
	    "{shop} no enviará más solicitudes de opinión a {email}.",
	    "{shop} podrá volver a enviar solicitudes de opinión a {email}.",
	    "Escribe a {support} si quieres volver a recibir mensajes de {shop}." },
	  "Darme de baja", "¿Fue un error? Puedes deshacerlo durante un tiempo.", "Deshacer" },
	{ "fr", "fr",
	  { "Se désabonner", "Désabonnement confirmé", "Abonnement rétabli",
	    "Il n’est plus possible d’annuler ici" },
	  { "Ne plus recevoir de demandes d’avis de {shop} à l’adresse {email} ?",
	    "{shop} n’enverra plus de demandes d’avis à {email}.",
	    "{shop} pourra de nouveau envoyer des demandes d’avis à {email}.",
	    "Écrivez à {support} si vous souhaitez de nouveau recevoir des messages de {shop}." },
	  "Se désabonner", "Un clic par erreur ? Vous pouvez l’annuler pendant un certain temps.",
	  "Annuler" },
	{ "it", "it",
	  { "Annulla l’iscrizione", "Iscrizione annullata", "Sei di nuovo iscritto",
	    "Qui non è più possibile annullare" },
	  { "Non ricevere più richieste di opinione da {shop} all’indirizzo {email}?",
	    "{shop} non invierà più richieste di opinione a {email}.",
	    "{shop} potrà di nuovo inviare richieste di opinione a {email}.",
	    "Scrivi a {support} se vuoi ricevere di nuovo messaggi da {shop}." },
	  "Annulla l’iscrizione", "Hai cliccato per errore? Puoi annullare per un po’ di tempo.",
	  "Annulla" },
	{ "ja", "ja",
	  { "配信停止", "配信を停止しました", "配信を再開しました", "ここでは取り消せなくなりました" },
	  { "{shop} から {email} へのレビュー依頼メールを停止しますか？",
	    "{shop} から {email} へレビュー依頼メールをお送りすることはありません。",
	    "{shop} から {email} へ再びレビュー依頼メールをお送りします。",
	    "{shop} からのメールを再開したい場合は {support} までご連絡ください。" },
	  "配信を停止する", "誤ってクリックしましたか？しばらくの間は取り消せます。", "取り消す" },
	{ "nl", "nl",
	  { "Afmelden", "U bent afgemeld", "U bent weer aangemeld",
	    "Dit kan hier niet meer ongedaan worden gemaakt" },
	  { "Geen verzoeken om feedback meer van {shop} naar {email}?",
	    "{shop} stuurt geen verzoeken om feedback meer naar {email}.",
	    "{shop} mag {email} weer om feedback vragen.",
	    "Schrijf naar {support} als u weer berichten van {shop} wilt ontvangen." },
	  "Afmelden", "Per ongeluk geklikt? U kunt het nog een tijdje ongedaan maken.",
	  "Ongedaan maken" },
	{ "pl", "pl",
	  { "Wypisz się", "Wypisano Cię", "Zapisano Cię ponownie",
	    "Tutaj nie można już tego cofnąć" },
	  { "Nie otrzymywać już próśb o opinię od {shop} na adres {email}?",
	    "{shop} nie będzie już wysyłać próśb o opinię na adres {email}.",
	    "{shop} może ponownie wysyłać prośby o opinię na adres {email}.",
	    "Napisz na {support}, jeśli chcesz znów otrzymywać wiadomości od {shop}." },
	  "Wypisz mnie", "Kliknięto przez pomyłkę? Możesz to cofnąć przez pewien czas.", "Cofnij" },
	{ "pt", "pt",
	  { "Cancelar inscrição", "Inscrição cancelada", "Inscrição retomada",
	    "Já não é possível desfazer aqui" },
	  { "Deixar de receber pedidos de opinião de {shop} em {email}?",
	    "{shop} não enviará mais pedidos de opinião para {email}.",
	    "{shop} pode voltar a enviar pedidos de opinião para {email}.",
	    "Escreva para {support} se quiser voltar a receber mensagens de {shop}." },
	  "Cancelar inscrição", "Clicou por engano? Pode desfazer durante algum tempo.", "Desfazer" },
	{ "ru", "ru",
	  { "Отписаться", "Вы отписались", "Вы снова подписаны", "Здесь это уже нельзя отменить" },
	  { "Больше не получать от {shop} просьбы об отзыве на адрес {email}?",
	    "{shop} больше не будет присылать просьбы об отзыве на {email}.",
	    "{shop} снова может присылать просьбы об отзыве на {email}.",
	    "Напишите на {support}, если хотите снова получать письма от {shop}." },
	  "Отписаться", "Нажали по ошибке? Это можно отменить в течение некоторого времени.",
	  "Отменить" },
	{ "sv", "sv",
	  { "Avregistrera", "Du är avregistrerad", "Du är registrerad igen",
	    "Det går inte längre att ångra här" },
	  { "Inga fler förfrågningar om omdöme från {shop} till {email}?",
	    "{shop} skickar inga fler förfrågningar om omdöme till {email}.",
	    "{shop} får åter skicka förfrågningar om omdöme till {email}.",
	    "Skriv till {support} om du vill höra från {shop} igen." },
	  "Avregistrera mig", "Klickade du av misstag? Du kan ångra det en tid.", "Ångra" },
	{ "tr", "tr",
	  { "Abonelikten çık", "Abonelikten çıktınız", "Yeniden abone oldunuz",
	    "Bu işlem artık buradan geri alınamaz" },
	  { "{shop} tarafından {email} adresine değerlendirme istekleri gönderilmesin mi?",
	    "{shop}, {email} adresine artık değerlendirme isteği göndermeyecek.",
	    "{shop}, {email} adresine yeniden değerlendirme isteği gönderebilir.",
	    "{shop} adlı mağazadan yeniden haber almak isterseniz {support} adresine yazın." },
	  "Abonelikten çık", "Yanlışlıkla mı tıkladınız? Bir süre geri alabilirsiniz.", "Geri al" },
	{ "zh-Hans", "zh-Hans",
	  { "退订", "您已退订", "您已重新订阅", "此处已无法撤销" },
	  { "不再接收 {shop} 发送到 {email} 的评价邀请？",
	    "{shop} 将不再向 {email} 发送评价邀请。",
	    "{shop} 可以再次向 {email} 发送评价邀请。",
	    "如需再次收到 {shop} 的邮件，请写信至 {support}。" },
	  "退订", "误点了？您可以在一段时间内撤销。", "撤销" },
	{ "zh-Hant", "zh-Hant",
	  { "取消訂閱", "您已取消訂閱", "您已重新訂閱", "這裡已無法復原" },
	  { "不再接收 {shop} 寄送到 {email} 的評價邀請？",
	    "{shop} 將不再向 {email} 寄送評價邀請。",
	    "{shop} 可以再次向 {email} 寄送評價邀請。",
	    "如需再次收到 {shop} 的郵件，請寫信至 {support}。" },
	  "取消訂閱", "誤按了嗎？您可以在一段時間內復原。", "復原" },
};

#define NLANG (sizeof(languages) / sizeof(languages[0]))

static const struct words *find_language(const char *name, size_t len)
{
	for (size_t i = 0; i < NLANG; i++)
		if (strlen(languages[i].lang) == len && strncasecmp(languages[i].lang, name, len) == 0)
			return &languages[i];
	return NULL;
}

/* Chinese is told apart by script: a region that writes traditional
 * characters, else simplified. */
static const char *chinese(const char *locale)
{
	static const char *const hant[] = { "tw", "hk", "mo", "hant" };
	const char *p = locale;

	while ((p = strpbrk(p, "-_")) != NULL) {
		p++;
		for (size_t i = 0; i < 4; i++)
			if (strncasecmp(p, hant[i], strlen(hant[i])) == 0 &&
			    (p[strlen(hant[i])] == '\0' || strchr("-_", p[strlen(hant[i])])))
				return "zh-Hant";
	}
	return "zh-Hans";
}

const char *cd_web_page_language(const char *locale)
{
	const struct words *w;
	size_t len;

	if (!locale || !*locale)
		return "default";
	if (strncasecmp(locale, "zh", 2) == 0 && (!locale[2] || strchr("-_", locale[2])))
		return chinese(locale);
	/* the longest prefix a language names, as the templates fall back */
	for (len = strlen(locale); len > 0; ) {
		if ((w = find_language(locale, len)))
			return w->lang;
		while (len > 0 && locale[len - 1] != '-' && locale[len - 1] != '_')
			len--;
		if (len > 0)
			len--;
	}
	return "default";
}

void cd_web_mask_email(const char *email, char *out, size_t len)
{
	const char *at = email ? strchr(email, '@') : NULL;
	size_t keep;

	if (!at) {
		snprintf(out, len, "%s", "•••");
		return;
	}
	keep = at - email > 4 ? 2 : at - email > 1 ? 1 : 0;
	snprintf(out, len, "%.*s•••%s", (int)keep, email, at);
}

/* TEXT with its placeholders filled in, escaped, into B. */
static void fill(struct cd_buf *b, const char *text, const char *shop, const char *email,
		 const char *support)
{
	static const char *const keys[] = { "{shop}", "{email}", "{support}" };
	const char *vals[] = { shop, email, support };

	while (*text) {
		const char *brace = strchr(text, '{');
		int k = -1;

		if (!brace) {
			cd_buf_adds(b, text);
			return;
		}
		cd_buf_add(b, text, (size_t)(brace - text));
		for (int i = 0; i < 3 && k < 0; i++)
			if (strncmp(brace, keys[i], strlen(keys[i])) == 0)
				k = i;
		if (k < 0) {
			cd_buf_addc(b, '{');
			text = brace + 1;
			continue;
		}
		cd_buf_adds(b, "<strong>");
		cd_template_escape_html(b, vals[k] ? vals[k] : "");
		cd_buf_adds(b, "</strong>");
		text = brace + strlen(keys[k]);
	}
}

static const char style[] =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;background:#f3f2ee;"
	"color:#1d1d1b;margin:0;padding:3em 1em;line-height:1.5}"
	"main{max-width:34em;margin:auto;background:#fff;border-radius:10px;padding:2em 2.2em;"
	"box-shadow:0 1px 6px rgba(0,0,0,.12)}"
	".shop{color:#6b6b66;font-size:.95em;margin:0 0 .6em}"
	"h1{font-size:1.45em;margin:0 0 .6em}"
	"button{font:inherit;font-size:1.05em;padding:.65em 1.6em;border:0;border-radius:6px;"
	"background:#1f5f8b;color:#fff;cursor:pointer}"
	"button:hover,button:focus{background:#174a6d}"
	".undo{margin-top:1.8em;padding-top:1.2em;border-top:1px solid #e4e2dc}"
	".undo button{background:#5c5c57}";

char *cd_web_page_render(enum cd_web_page page, const char *locale, const char *shop,
			 const char *email, const char *support, int can_undo, size_t *len)
{
	const char *lang = cd_web_page_language(locale);
	const struct words *w = find_language(lang, strlen(lang));
	struct cd_buf b = { 0 };
	char masked[400];
	char *out;

	if (!w)
		w = &languages[0];
	cd_web_mask_email(email, masked, sizeof(masked));
	cd_buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>", w->html_lang);
	cd_template_escape_html(&b, w->title[page]);
	cd_buf_adds(&b, " – ");
	cd_template_escape_html(&b, shop ? shop : "");
	cd_buf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body><main>\n<p class=\"shop\">",
		      style);
	cd_template_escape_html(&b, shop ? shop : "");
	cd_buf_adds(&b, "</p>\n<h1>");
	cd_template_escape_html(&b, w->title[page]);
	cd_buf_adds(&b, "</h1>\n<p>");
	fill(&b, w->text[page], shop, masked, support);
	cd_buf_adds(&b, "</p>\n");
	if (page == CD_PAGE_CONFIRM) {
		cd_buf_adds(&b, "<form method=\"post\">\n"
			    "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
			    "<input type=\"hidden\" name=\"via\" value=\"page\">\n"
			    "<button type=\"submit\" id=\"unsubscribe\">");
		cd_template_escape_html(&b, w->button);
		cd_buf_adds(&b, "</button>\n</form>\n");
	} else if (page == CD_PAGE_DONE && can_undo) {
		cd_buf_adds(&b, "<form method=\"post\" class=\"undo\">\n<p>");
		cd_template_escape_html(&b, w->undo_hint);
		cd_buf_adds(&b, "</p>\n<input type=\"hidden\" name=\"undo\" value=\"1\">\n"
			    "<button type=\"submit\" id=\"undo\">");
		cd_template_escape_html(&b, w->undo_button);
		cd_buf_adds(&b, "</button>\n</form>\n");
	}
	cd_buf_adds(&b, "</main></body></html>\n");
	if (b.oom) {
		cd_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	out = cd_buf_take(&b);
	return out;
}
