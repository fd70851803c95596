/*
 * reason.c - classify a negative feedback comment by keywords. Comments
 * are short and written in a hurry, so plain substring matching on the
 * lower-cased text does well; word stems cover inflections ("damag" for
 * damaged/damage, "сломал" for сломался/сломалась).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "candor/reason.h"

static const char *const quality[] = {
	"broke", "broken", "defect", "poor quality", "bad quality", "cheap", "flimsy",
	"stopped working", "doesn't work", "does not work", "not working", "faulty",
	"fell apart", "leak", "crack", "torn", "ripped", "smell",
	"质量", "坏了", "破损", "劣质", "不能用", "質量", "壞了", "劣質",
	"качеств", "сломал", "брак", "не работает", "порвал", "треснул",
	"kaputt", "defekt", "qualität", "funktioniert nicht", "billig", "gerissen",
	"roto", "rota", "calidad", "defectuos", "no funciona", "se rompió",
	"cassé", "casse", "qualité", "défectueu", "ne fonctionne pas", "ne marche pas",
	"壊れ", "品質", "不良", "動かない", NULL
};

static const char *const shipping[] = {
	"late", "delay", "took weeks", "never arrived", "never received", "not arrived",
	"shipping", "delivery", "courier", "damaged in transit", "damaged box", "crushed",
	"lost in", "package", "parcel", "dented", "damaged", "arrived broken",
	"物流", "快递", "发货", "送货", "太慢", "延迟", "没收到", "包裹", "運送", "快遞", "發貨", "沒收到",
	"доставк", "опозд", "задерж", "курьер", "посылк", "не пришл", "не получил",
	"lieferung", "versand", "verspät", "zu spät", "paket", "nicht angekommen",
	"envío", "envio", "retraso", "tarde", "paquete", "no llegó", "entrega",
	"livraison", "retard", "colis", "jamais reçu", "pas reçu", "transporteur",
	"配送", "遅延", "届かな", "遅い", NULL
};

static const char *const wrong_item[] = {
	"wrong item", "wrong size", "wrong color", "wrong colour", "wrong product",
	"missing", "not what i ordered", "incomplete", "only one", "received the wrong",
	"发错", "少了", "缺少", "漏发", "發錯", "缺少",
	"не тот", "не то", "не хватает", "отсутств", "перепутал", "прислали другой",
	"falsch", "fehlt", "fehlte", "unvollständig", "anderen artikel",
	"equivocad", "falta", "incompleto", "otro producto",
	"mauvais article", "mauvaise taille", "manquant", "manque", "incomplet",
	"間違", "足りな", "欠品", NULL
};

static const char *const described[] = {
	"not as described", "not as pictured", "different from", "doesn't match",
	"does not match", "misleading", "smaller than", "bigger than", "looks nothing like",
	"fake", "counterfeit",
	"与描述不符", "不符", "图片", "假货", "色差", "與描述不符", "假貨",
	"не соответств", "не как на фото", "отличается", "подделк",
	"nicht wie beschrieben", "anders als", "entspricht nicht", "fälschung",
	"no como se describe", "diferente", "no coincide", "falso",
	"pas conforme", "différent", "ne correspond pas", "contrefaçon",
	"説明と違", "写真と違", "偽物", NULL
};

static const char *const service[] = {
	"customer service", "support", "rude", "no answer", "no response", "never replied",
	"ignored", "unhelpful", "refused", "seller",
	"客服", "态度", "不回复", "服务", "態度", "服務", "不回覆",
	"обслуживан", "поддержк", "хамств", "не отвечает", "продавец", "грубо",
	"kundenservice", "kundendienst", "unfreundlich", "keine antwort", "verkäufer",
	"atención al cliente", "servicio", "grosero", "no responde", "vendedor",
	"service client", "impoli", "aucune réponse", "vendeur",
	"対応", "返信がな", "サポート", NULL
};

static const char *const *const lists[CD_REASON_COUNT] = {
	[CD_REASON_QUALITY] = quality,
	[CD_REASON_SHIPPING] = shipping,
	[CD_REASON_WRONG_ITEM] = wrong_item,
	[CD_REASON_NOT_AS_DESCRIBED] = described,
	[CD_REASON_SERVICE] = service,
};

/* ASCII and the Cyrillic capitals lower-cased; other scripts have no case
 * that matters for these keywords. Returns a new string or NULL. */
static char *lower(const char *s)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0xD0 && i + 1 < n) {
			unsigned char d = (unsigned char)s[i + 1];

			out[i] = c;
			if (d >= 0x90 && d <= 0x9F) {          /* А-П -> а-п */
				out[++i] = (unsigned char)(d + 0x20);
			} else if (d >= 0xA0 && d <= 0xAF) {   /* Р-Я -> р-я */
				out[i] = 0xD1;
				out[++i] = (unsigned char)(d - 0x20);
			} else {
				out[++i] = d;
			}
			continue;
		}
		out[i] = (unsigned char)tolower(c);
	}
	return (char *)out;
}

enum cd_reason cd_reason_classify(const char *comment)
{
	enum cd_reason best = CD_REASON_OTHER;
	int best_hits = 0;
	char *text;

	if (!comment || !*comment || !(text = lower(comment)))
		return CD_REASON_OTHER;
	for (int r = 1; r < CD_REASON_COUNT; r++) {
		int hits = 0;

		for (const char *const *k = lists[r]; *k; k++)
			hits += strstr(text, *k) != NULL;
		if (hits > best_hits) {
			best_hits = hits;
			best = (enum cd_reason)r;
		}
	}
	free(text);
	return best;
}

const char *cd_reason_name(enum cd_reason r)
{
	static const char *const names[CD_REASON_COUNT] = {
		"other", "product_quality", "shipping", "wrong_item", "not_as_described",
		"service",
	};

	return r < CD_REASON_COUNT ? names[r] : "other";
}

/* The reasons in words, per language: other, product quality, shipping,
 * wrong item, not as described, service (the enum's order). */
static const struct {
	const char *lang;
	const char *words[CD_REASON_COUNT];
} labels[] = {
	{ "en", { "Other", "Product quality", "Shipping and delivery", "Wrong or missing item",
		  "Not as described", "Customer service" } },
	{ "de", { "Sonstiges", "Produktqualität", "Versand und Lieferung",
		  "Falscher oder fehlender Artikel", "Nicht wie beschrieben", "Kundenservice" } },
	{ "fr", { "Autre", "Qualité du produit", "Expédition et livraison",
		  "Article erroné ou manquant", "Non conforme à la description", "Service client" } },
	{ "es", { "Otro", "Calidad del producto", "Envío y entrega", "Artículo erróneo o faltante",
		  "No es como se describe", "Atención al cliente" } },
	{ "it", { "Altro", "Qualità del prodotto", "Spedizione e consegna",
		  "Articolo errato o mancante", "Non conforme alla descrizione", "Servizio clienti" } },
	{ "nl", { "Overig", "Productkwaliteit", "Verzending en levering",
		  "Verkeerd of ontbrekend artikel", "Niet zoals beschreven", "Klantenservice" } },
	{ "pt", { "Outro", "Qualidade do produto", "Envio e entrega", "Artigo errado ou em falta",
		  "Não corresponde à descrição", "Atendimento ao cliente" } },
	{ "pl", { "Inne", "Jakość produktu", "Wysyłka i dostawa", "Zły lub brakujący artykuł",
		  "Niezgodny z opisem", "Obsługa klienta" } },
	{ "sv", { "Övrigt", "Produktkvalitet", "Frakt och leverans", "Fel eller saknad vara",
		  "Inte som beskrivet", "Kundtjänst" } },
	{ "ru", { "Другое", "Качество товара", "Доставка", "Не тот или недостающий товар",
		  "Не соответствует описанию", "Обслуживание" } },
	{ "tr", { "Diğer", "Ürün kalitesi", "Kargo ve teslimat", "Yanlış veya eksik ürün",
		  "Açıklamaya uymuyor", "Müşteri hizmetleri" } },
	{ "ja", { "その他", "品質", "配送", "商品違い・欠品", "説明と異なる", "対応" } },
	{ "zh-Hans", { "其他", "产品质量", "物流配送", "发错或漏发", "与描述不符", "客服" } },
	{ "zh-Hant", { "其他", "產品品質", "物流配送", "發錯或漏發", "與描述不符", "客服" } },
};

/* LOCALE's entry in labels: its language, and for Chinese its script
 * (Traditional for -Hant, -TW, -HK, -MO); English when none. */
static size_t label_lang(const char *locale)
{
	size_t n = locale ? strcspn(locale, "-_") : 0;
	const char *rest = locale ? locale + n : "";

	if (n == 2 && strncasecmp(locale, "zh", 2) == 0)
		return strcasestr(rest, "hant") || strcasestr(rest, "tw") || strcasestr(rest, "hk") ||
		       strcasestr(rest, "mo") ? sizeof(labels) / sizeof(labels[0]) - 1
					      : sizeof(labels) / sizeof(labels[0]) - 2;
	for (size_t i = 0; n == 2 && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strncasecmp(locale, labels[i].lang, 2) == 0)
			return i;
	return 0;
}

const char *cd_reason_label(enum cd_reason r, const char *locale)
{
	return labels[label_lang(locale)].words[r < CD_REASON_COUNT ? r : CD_REASON_OTHER];
}
