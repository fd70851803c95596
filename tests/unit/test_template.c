/* test_template.c - the Mustache core: values, escaping, sections,
 * standalone lines, and errors with line and column. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/template.h"

static struct cd_tdata *sample(void)
{
	struct cd_tdata *d = cd_tdata_map(), *c, *items, *it;

	c = cd_tdata_set_map(d, "customer");
	cd_tdata_set_string(c, "first_name", "Anna");
	cd_tdata_set_string(c, "name", "<b>Anna</b> & \"Co\"");
	cd_tdata_set_string(d, "empty", "");
	cd_tdata_set_string(d, "sneaky", "{{customer.first_name}}");
	cd_tdata_set_bool(d, "yes", 1);
	cd_tdata_set_bool(d, "no", 0);
	items = cd_tdata_set_list(d, "items");
	it = cd_tdata_append_map(items);
	cd_tdata_set_string(it, "name", "Sencha");
	it = cd_tdata_append_map(items);
	cd_tdata_set_string(it, "name", "Oolong");
	return d;
}

static char *render(const char *tpl, enum cd_escape esc, size_t *missing)
{
	struct cd_tdata *d = sample();
	struct cd_error err;
	char *out = NULL;
	int rc = cd_template_render("t.mustache", tpl, d, esc, &out, missing, &err);

	cd_tdata_free(d);
	assert_int_equal(rc, 0);
	return out;
}

static void expect(const char *tpl, enum cd_escape esc, const char *want)
{
	char *out = render(tpl, esc, NULL);

	assert_string_equal(out, want);
	free(out);
}

static void test_variables_and_dotted_names(void **state)
{
	(void)state;
	expect("Hi {{customer.first_name}}!", CD_ESCAPE_NONE, "Hi Anna!");
	expect("Hi {{ customer.first_name }}!", CD_ESCAPE_NONE, "Hi Anna!");
	expect("{{#customer}}{{first_name}}{{/customer}}", CD_ESCAPE_NONE, "Anna");
	expect("[{{nothing.here}}]", CD_ESCAPE_NONE, "[]");
}

static void test_html_escapes_every_value(void **state)
{
	(void)state;
	expect("{{customer.name}}", CD_ESCAPE_HTML,
	       "&lt;b&gt;Anna&lt;/b&gt; &amp; &quot;Co&quot;");
	expect("{{{customer.name}}}", CD_ESCAPE_HTML, "<b>Anna</b> & \"Co\"");
	expect("{{&customer.name}}", CD_ESCAPE_HTML, "<b>Anna</b> & \"Co\"");
	expect("{{customer.name}}", CD_ESCAPE_NONE, "<b>Anna</b> & \"Co\"");
}

static void test_value_with_braces_is_printed_not_evaluated(void **state)
{
	(void)state;
	expect("{{sneaky}}", CD_ESCAPE_NONE, "{{customer.first_name}}");
}

static void test_sections_lists_and_inverted(void **state)
{
	(void)state;
	expect("{{#items}}- {{name}}\n{{/items}}", CD_ESCAPE_NONE, "- Sencha\n- Oolong\n");
	expect("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}", CD_ESCAPE_NONE, "Y");
	expect("{{^no}}not no{{/no}}{{^yes}}not yes{{/yes}}", CD_ESCAPE_NONE, "not no");
	expect("{{#empty}}x{{/empty}}{{^empty}}empty{{/empty}}", CD_ESCAPE_NONE, "empty");
	expect("{{#items}}{{customer.first_name}}{{/items}}", CD_ESCAPE_NONE, "AnnaAnna");
	expect("a{{! a comment }}b", CD_ESCAPE_NONE, "ab");
}

static void test_standalone_lines_vanish(void **state)
{
	(void)state;
	expect("Hello\n{{#yes}}\nYes\n{{/yes}}\nBye\n", CD_ESCAPE_NONE, "Hello\nYes\nBye\n");
	expect("Hello\n  {{! note }}  \r\nBye", CD_ESCAPE_NONE, "Hello\nBye");
	expect("  {{#yes}}x{{/yes}}\n", CD_ESCAPE_NONE, "  x\n");
}

static void test_missing_values_are_counted(void **state)
{
	size_t missing = 0;
	char *out = render("Hi {{customer.nickname}}, {{empty}} {{customer.first_name}}",
			   CD_ESCAPE_NONE, &missing);

	(void)state;
	assert_string_equal(out, "Hi ,  Anna");
	assert_int_equal(missing, 2);
	free(out);
}

static void expect_error(const char *tpl, int line, const char *words)
{
	struct cd_tdata *d = sample();
	struct cd_error err;
	char *out = NULL;

	assert_int_equal(cd_template_render("t.mustache", tpl, d, CD_ESCAPE_NONE, &out, NULL, &err),
			 CD_ETEMPLATE);
	assert_null(out);
	assert_string_equal(err.file, "t.mustache");
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, words))
		fail_msg("error '%s' lacks '%s'", err.msg, words);
	cd_tdata_free(d);
}

static void test_errors_carry_line_and_column(void **state)
{
	(void)state;
	expect_error("a\nb {{#items}}x", 2, "column 3: section is never closed: 'items'");
	expect_error("{{#a}}\n{{/b}}", 2, "closed by the wrong name: 'b'");
	expect_error("x\n\n{{/a}}", 3, "without an opening one");
	expect_error("Hi {{name", 1, "not closed");
	expect_error("Hi {{}}", 1, "empty tag name");
	expect_error("{{> partial}}", 1, "partials");
}

static void test_deep_nesting_is_refused(void **state)
{
	char tpl[2000] = "";

	(void)state;
	for (int i = 0; i < 100; i++)
		strcat(tpl, "{{#yes}}");
	expect_error(tpl, 1, "nested too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variables_and_dotted_names),
		cmocka_unit_test(test_html_escapes_every_value),
		cmocka_unit_test(test_value_with_braces_is_printed_not_evaluated),
		cmocka_unit_test(test_sections_lists_and_inverted),
		cmocka_unit_test(test_standalone_lines_vanish),
		cmocka_unit_test(test_missing_values_are_counted),
		cmocka_unit_test(test_errors_carry_line_and_column),
		cmocka_unit_test(test_deep_nesting_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
