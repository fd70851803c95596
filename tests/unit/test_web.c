/* test_web.c - the web endpoint's own parsing and the token check:
 * routes, client addresses, listen addresses, page languages, the
 * confirmation page's escaping, and tokens as compose makes them. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "candor/token.h"
#include "candor/web.h"
#include "candor/web_pages.h"

#define TOK "0123456789abcdef0123456789abcdef"

static void test_route_unsubscribe_and_prefix(void **state)
{
	struct cd_web_route r;

	(void)state;
	assert_int_equal(cd_web_route("/u/" TOK, "", &r), CD_WEB_UNSUBSCRIBE);
	assert_string_equal(r.token, TOK);
	assert_int_equal(cd_web_route("/candor/u/" TOK, "/candor", &r), CD_WEB_UNSUBSCRIBE);
	assert_int_equal(cd_web_route("/other/u/" TOK, "/candor", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/metrics", "/candor", &r), CD_WEB_METRICS);
	assert_int_equal(cd_web_route("/candor/healthz", "/candor", &r), CD_WEB_HEALTHZ);
}

static void test_route_refuses_bad_tokens(void **state)
{
	static const char *const bad[] = {
		"/u/", "/u/" TOK "0", "/u/0123456789ABCDEF0123456789abcdef", "/u/" TOK "/",
		"/u/0123456789abcdef0123456789abcde", "/u/0123456789abcdef0123456789abcdeg",
		"/u//" TOK, "/U/" TOK, "/u/../" TOK, "u/" TOK, "",
	};
	struct cd_web_route r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cd_web_route(bad[i], "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route(NULL, "", &r), CD_WEB_NOWHERE);
}

static void test_route_click_items(void **state)
{
	struct cd_web_route r;

	(void)state;
	assert_int_equal(cd_web_route("/c/" TOK, "", &r), CD_WEB_CLICK);
	assert_int_equal(r.item, 0);
	assert_int_equal(cd_web_route("/c/" TOK "/3", "", &r), CD_WEB_CLICK);
	assert_int_equal(r.item, 3);
	assert_int_equal(cd_web_route("/c/" TOK "/999", "", &r), CD_WEB_CLICK);
	assert_int_equal(cd_web_route("/c/" TOK "/1000", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/c/" TOK "/0", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/c/" TOK "/01", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/c/" TOK "/-1", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/c/" TOK "/", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(cd_web_route("/c/https://evil.example/", "", &r), CD_WEB_NOWHERE);
	assert_int_equal(r.item, 0);
}

static void test_client_address_from_a_loopback_proxy_only(void **state)
{
	struct sockaddr_in lo = { .sin_family = AF_INET }, far = { .sin_family = AF_INET };
	char out[64];

	(void)state;
	inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
	inet_pton(AF_INET, "192.0.2.5", &far.sin_addr);
	assert_int_equal(cd_web_client((struct sockaddr *)&lo, "203.0.113.1, 198.51.100.2",
				       out, sizeof(out)), 1);
	assert_string_equal(out, "198.51.100.2");
	cd_web_client((struct sockaddr *)&lo, "not an address", out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(cd_web_client((struct sockaddr *)&far, "198.51.100.2", out, sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.5");
}

static void test_listen_addresses(void **state)
{
	struct cd_web_addr a;

	(void)state;
	assert_int_equal(cd_web_parse_listen("127.0.0.1:8025", &a), 0);
	assert_int_equal(cd_web_parse_listen("[::1]:8025", &a), 0);
	assert_int_equal(cd_web_parse_listen("localhost:80", &a), 0);
	assert_int_equal(cd_web_parse_listen("127.0.0.1", &a), CD_EINVAL);
	assert_int_equal(cd_web_parse_listen("127.0.0.1:0", &a), CD_EINVAL);
	assert_int_equal(cd_web_parse_listen("127.0.0.1:70000", &a), CD_EINVAL);
	assert_int_equal(cd_web_parse_listen("::1:8025", &a), CD_EINVAL);
	assert_int_equal(cd_web_parse_listen("shop.example:8025", &a), CD_EINVAL);
}

static void test_page_language_follows_the_templates(void **state)
{
	(void)state;
	assert_string_equal(cd_web_page_language("de-AT"), "de");
	assert_string_equal(cd_web_page_language("fr_CA"), "fr");
	assert_string_equal(cd_web_page_language("zh-TW"), "zh-Hant");
	assert_string_equal(cd_web_page_language("zh-Hant-HK"), "zh-Hant");
	assert_string_equal(cd_web_page_language("zh-CN"), "zh-Hans");
	assert_string_equal(cd_web_page_language("zh"), "zh-Hans");
	assert_string_equal(cd_web_page_language("en-GB"), "default");
	assert_string_equal(cd_web_page_language("tlh"), "default");
	assert_string_equal(cd_web_page_language(NULL), "default");
}

static void test_page_escapes_and_runs_no_script(void **state)
{
	size_t len;
	char *html = cd_web_page_render(CD_PAGE_CONFIRM, "en", "<script>alert(1)</script>",
					"a\"b@example.org", "s@x.example", 0, &len);

	(void)state;
	assert_non_null(html);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;"));
	assert_non_null(strstr(html, "name=\"List-Unsubscribe\" value=\"One-Click\""));
	assert_null(strstr(html, "a\"b@"));
	free(html);
	html = cd_web_page_render(CD_PAGE_DONE, "ru", "Shop", "x@y.example", "s@y.example", 1, &len);
	assert_non_null(strstr(html, "id=\"undo\""));
	assert_non_null(strstr(html, "lang=\"ru\""));
	free(html);
}

static void test_token_verifies_in_constant_time(void **state)
{
	unsigned char secret[32] = { 1, 2, 3 };
	char t[CD_TOKEN_LEN + 1];

	(void)state;
	cd_token_make(secret, "1001", "review", "request", t);
	assert_int_equal(strlen(t), CD_TOKEN_LEN);
	assert_true(cd_token_syntax_ok(t, strlen(t)));
	assert_true(cd_token_verify(secret, t, "1001", "review", "request"));
	assert_false(cd_token_verify(secret, t, "1001", "review", "reminder"));
	assert_false(cd_token_verify(secret, t, "1002", "review", "request"));
	t[5] = t[5] == 'a' ? 'b' : 'a';
	assert_false(cd_token_verify(secret, t, "1001", "review", "request"));
	assert_false(cd_token_verify(secret, NULL, "1001", "review", "request"));
	assert_true(cd_token_equal("abc", "abc", 3));
	assert_false(cd_token_equal("abc", "abd", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_unsubscribe_and_prefix),
		cmocka_unit_test(test_route_refuses_bad_tokens),
		cmocka_unit_test(test_route_click_items),
		cmocka_unit_test(test_client_address_from_a_loopback_proxy_only),
		cmocka_unit_test(test_listen_addresses),
		cmocka_unit_test(test_page_language_follows_the_templates),
		cmocka_unit_test(test_page_escapes_and_runs_no_script),
		cmocka_unit_test(test_token_verifies_in_constant_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
