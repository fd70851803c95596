/* test_branches.c - the ways a template renders, as the model judges
 * them (src/compliance/branches.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "candor/branches.h"

static struct cd_branches split(const char *t, size_t max)
{
	struct cd_branches b;

	assert_int_equal(cd_branches_split(t, strlen(t), max, &b), 0);
	return b;
}

static void expect_none(const char *t)
{
	struct cd_branches b = split(t, 64);

	if (b.n != 0)
		fail_msg("%zu variants of \"%s\"", b.n, t);
	cd_branches_free(&b);
}

/* Without a run of two sections side by side there is nothing to vary;
 * tags that are not plain leave the template whole. */
static void test_nothing_to_vary(void **state)
{
	(void)state;
	expect_none("");
	expect_none("Hello {{name}}, thank you.");
	expect_none("Hello{{#name}} {{name}}{{/name}}, thank you.");
	expect_none("{{#a}}A{{/a}} and then {{#b}}B{{/b}}.");
	expect_none("{{#a}}A{{/a}}\n\n{{#b}}B{{/b}}");     /* a blank line: paragraphs */
	expect_none("{{#a}}A{{/a}}\n \r\n{{#b}}B{{/b}}");
	expect_none("{{#a}}A{{/a}}{{#b}}B");          /* unclosed */
	expect_none("{{/a}}{{#a}}A{{/a}}{{#b}}B{{/b}}");  /* closed first */
	expect_none("{{=<% %>=}}<%#a%>A<%/a%><%#b%>B<%/b%>");
	expect_none("{{#a}}A{{/a}}{{#b}}B{{");          /* a tag never ends */
}

/* "{{#c}}...{{/c}}{{^c}}.{{/c}}" renders one or the other, never both;
 * what stands outside the run is in every variant. */
static void test_a_run_is_a_switch(void **state)
{
	const char *t = "Hi{{#n}} {{n}}{{/n}},\n{{#c}}you said: {{c}}{{/c}}\n{{^c}}thanks.{{/c}}\nBye";
	struct cd_branches b = split(t, 64);

	(void)state;
	assert_int_equal(b.n, 2);
	assert_string_equal(b.v[0].text, "Hi{{#n}} {{n}}{{/n}},\n{{#c}}you said: {{c}}{{/c}}\n\nBye");
	assert_string_equal(b.v[1].text, "Hi{{#n}} {{n}}{{/n}},\n\n{{^c}}thanks.{{/c}}\nBye");
	assert_int_equal(b.v[0].len, strlen(b.v[0].text));
	/* "Bye" maps back to its place in the template */
	assert_int_equal(cd_branches_where(&b.v[1], strstr(b.v[1].text, "Bye") - b.v[1].text),
			 (size_t)(strstr(t, "Bye") - t));
	assert_int_equal(cd_branches_where(&b.v[1], strstr(b.v[1].text, "thanks") - b.v[1].text),
			 (size_t)(strstr(t, "thanks") - t));
	assert_int_equal(cd_branches_where(&b.v[0], 0), 0);
	assert_int_equal(cd_branches_where(&b.v[1], b.v[1].len), strlen(t));
	cd_branches_free(&b);
	cd_branches_free(NULL);
}

/* Template bytes into a variant: what was cut is nowhere, a stretch
 * across a cut becomes the bytes that remain of it. */
static void test_template_bytes_into_a_variant(void **state)
{
	const char *t = "ab{{#c}}CC{{/c}}\n{{^c}}DD{{/c}}ef";
	struct cd_branches b = split(t, 64);
	size_t from = 0, to = 0, cc = (size_t)(strstr(t, "CC") - t), dd = (size_t)(strstr(t, "DD") - t);

	(void)state;
	assert_int_equal(b.n, 2);
	/* variant 0 keeps CC, cuts DD */
	assert_true(cd_branches_place(&b.v[0], cc, cc + 2, &from, &to));
	assert_memory_equal(b.v[0].text + from, "CC", 2);
	assert_int_equal(to - from, 2);
	assert_false(cd_branches_place(&b.v[0], dd, dd + 2, &from, &to));
	/* "b" through "e" spans the cut: from "b" to "e" of what is left */
	assert_true(cd_branches_place(&b.v[0], 1, strlen(t) - 1, &from, &to));
	assert_int_equal(from, 1);
	assert_int_equal(to, b.v[0].len - 1);
	assert_true(cd_branches_place(&b.v[1], dd, dd + 2, &from, &to));
	assert_memory_equal(b.v[1].text + from, "DD", 2);
	cd_branches_free(&b);
}

/* Every combination of the runs' sections, each a variant; sections
 * inside a section go with it; more than MAX variants: none. */
static void test_runs_multiply_up_to_a_cap(void **state)
{
	const char *t = "{{#a}}A{{#x}}X{{/x}}{{/a}} {{#b}}B{{/b}}\n"
			"middle\n{{#p}}P{{/p}}{{#q}}Q{{/q}}{{#r}}R{{/r}}end";
	struct cd_branches b = split(t, 64);
	int seen = 0;

	(void)state;
	assert_int_equal(b.n, 6);
	for (size_t i = 0; i < b.n; i++) {
		const char *v = b.v[i].text;
		int ab = (strstr(v, "A{{#x}}X") != NULL) + (strstr(v, "B{{/b}}") != NULL);
		int pqr = (strstr(v, "P{{/p}}") != NULL) + (strstr(v, "Q{{/q}}") != NULL) +
			  (strstr(v, "R{{/r}}") != NULL);

		assert_int_equal(ab, 1);
		assert_int_equal(pqr, 1);
		assert_non_null(strstr(v, "middle"));
		assert_non_null(strstr(v, "end"));
		seen |= 1 << ((strstr(v, "A") ? 0 : 3) + (strstr(v, "P{") ? 0 : strstr(v, "Q{") ? 1 : 2));
	}
	assert_int_equal(seen, 0x3f);   /* all six, once each */
	cd_branches_free(&b);
	b = split(t, 5);
	assert_int_equal(b.n, 0);
	cd_branches_free(&b);
}

/* Huge and hostile input: a run of 20,000 sections is judged whole (over
 * the cap); empty sections are variants like any other. */
static void test_hostile_templates(void **state)
{
	size_t n = 20000, len = 0;
	char *t = malloc(CD_BRANCHES_MAX_BYTES);
	struct cd_branches b;

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(t + len, "{{#s}}x{{/s}}%s", i % 2 ? "\n" : " ");
	b = split(t, 64);
	assert_int_equal(b.n, 0);   /* 20000 sections side by side: 20000 > 64 */
	cd_branches_free(&b);
	/* two variants of a template over half the byte cap: judged whole */
	memset(t, 'x', CD_BRANCHES_MAX_BYTES / 2 + 10);
	memcpy(t, "{{#a}}A{{/a}}{{#b}}B{{/b}}", 26);
	t[CD_BRANCHES_MAX_BYTES / 2 + 10] = '\0';
	b = split(t, 64);
	assert_int_equal(b.n, 0);
	cd_branches_free(&b);
	b = split("{{#a}}{{/a}}{{#b}}{{/b}}", 64);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.v[0].text, "{{#a}}{{/a}}");
	assert_string_equal(b.v[1].text, "{{#b}}{{/b}}");
	cd_branches_free(&b);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_vary),
		cmocka_unit_test(test_a_run_is_a_switch),
		cmocka_unit_test(test_template_bytes_into_a_variant),
		cmocka_unit_test(test_runs_multiply_up_to_a_cap),
		cmocka_unit_test(test_hostile_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
