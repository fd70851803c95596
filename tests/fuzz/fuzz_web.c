/* fuzz_web.c - what the web endpoint parses itself: the request path
 * (routes, tokens, item numbers, the proxy prefix), X-Forwarded-For, a
 * listen address, and the page language of an order's locale. */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "candor/web.h"
#include "candor/web_pages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct cd_web_route r;
	struct cd_web_addr a;
	char addr[64], *s = malloc(size + 1);
	const char *lang;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cd_web_route(s, "/candor", &r) != r.kind || r.kind >= CD_WEB_NROUTES)
		abort();
	if ((r.kind == CD_WEB_UNSUBSCRIBE || r.kind == CD_WEB_CLICK) &&
	    (!cd_token_syntax_ok(r.token, strlen(r.token)) || r.item > 999))
		abort();
	if (r.kind != CD_WEB_CLICK && r.item)
		abort();
	cd_web_client((struct sockaddr *)&lo, s, addr, sizeof(addr));
	if (strlen(addr) >= sizeof(addr))
		abort();
	cd_web_parse_listen(s, &a);
	lang = cd_web_page_language(s);
	if (!lang || !*lang)
		abort();
	free(s);
	return 0;
}
