/* test_template.c - the Mustache engine: values, escaping, sections,
 * standalone lines, partials, delimiters, JSON data, the HTML safety
 * rules, and errors with line and column. (The official spec itself runs
 * through "candorctl render" in tests/integration/mustache_spec.py.) */
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
	cd_tdata_set_safe_string(d, "footer_html", "<p>Shop &amp; Co</p>");
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
	int rc = cd_template_render_text("t.mustache", tpl, d, esc, &out, missing, &err);

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
	expect("{{customer.name}}", CD_ESCAPE_NONE, "<b>Anna</b> & \"Co\"");
	expect("{{{customer.name}}}", CD_ESCAPE_NONE, "<b>Anna</b> & \"Co\"");
	/* unescaped only when the value is marked safe */
	expect("{{{footer_html}}}", CD_ESCAPE_HTML, "<p>Shop &amp; Co</p>");
	expect("{{footer_html}}", CD_ESCAPE_HTML, "&lt;p&gt;Shop &amp;amp; Co&lt;/p&gt;");
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

static void expect_error_esc(const char *tpl, enum cd_escape esc, int line,
			     const char *words)
{
	struct cd_tdata *d = sample();
	struct cd_error err;
	char *out = NULL;

	assert_int_equal(cd_template_render_text("t.mustache", tpl, d, esc, &out, NULL, &err),
			 CD_ETEMPLATE);
	assert_null(out);
	assert_string_equal(err.file, "t.mustache");
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, words))
		fail_msg("error '%s' lacks '%s'", err.msg, words);
	cd_tdata_free(d);
}

static void expect_error(const char *tpl, int line, const char *words)
{
	expect_error_esc(tpl, CD_ESCAPE_NONE, line, words);
}

static void test_raw_customer_value_in_html_is_refused(void **state)
{
	(void)state;
	expect_error_esc("x\n  {{{customer.name}}}", CD_ESCAPE_HTML, 2,
			 "column 3: an HTML template may print only values marked safe");
	expect_error_esc("{{&customer.name}}", CD_ESCAPE_HTML, 1, "marked safe");
}

static void test_errors_carry_line_and_column(void **state)
{
	(void)state;
	expect_error("a\nb {{#items}}x", 2, "column 3: section is never closed: 'items'");
	expect_error("{{#a}}\n{{/b}}", 2, "closed by the wrong name: 'b'");
	expect_error("x\n\n{{/a}}", 3, "without an opening one");
	expect_error("Hi {{name", 1, "not closed");
	expect_error("Hi {{}}", 1, "empty tag name");
	expect_error("\n\n  {{> ../etc/passwd}}", 3, "column 3: a partial name may hold only");
	expect_error("{{>/etc/passwd}}", 1, "a partial name");
	expect_error("{{=<% %>=}}\n<%name", 2, "not closed");
	expect_error("{{=<%%>=}}", 1, "two delimiters");
	expect_error("{{=<% = %>=}}", 1, "two delimiters");
}

static void test_deep_nesting_is_refused(void **state)
{
	char tpl[3000] = "";

	(void)state;
	for (int i = 0; i < 130; i++)
		strcat(tpl, "{{#yes}}");
	expect_error(tpl, 1, "nested too deeply");
}

static char *render_with(const char *tpl, struct cd_partials *p, enum cd_escape esc,
			 int want_rc)
{
	struct cd_tdata *d = sample();
	struct cd_template *t = NULL;
	struct cd_buf b = { 0 };
	struct cd_error err;

	assert_int_equal(cd_template_compile("t.mustache", tpl, &t, &err), 0);
	assert_int_equal(cd_template_render(t, d, esc, p, &b, NULL, &err), want_rc);
	cd_template_free(t);
	cd_tdata_free(d);
	return cd_buf_take(&b);
}

static void test_partials_inherit_context_and_indentation(void **state)
{
	struct cd_partials *p = cd_partials_new(NULL, 0);
	char *out;

	(void)state;
	assert_int_equal(cd_partials_add(p, "item", "* {{name}}\n"), 0);
	assert_int_equal(cd_partials_add(p, "list", "{{#items}}\n{{>item}}\n{{/items}}\n"), 0);
	assert_int_equal(cd_partials_add(p, "../x", "no"), CD_EINVAL);
	out = render_with("Items:\n  {{>list}}\nend", p, CD_ESCAPE_NONE, 0);
	assert_string_equal(out, "Items:\n  * Sencha\n  * Oolong\nend");
	free(out);
	/* a missing partial renders empty, like the spec says */
	out = render_with("[{{>nothing}}]", p, CD_ESCAPE_NONE, 0);
	assert_string_equal(out, "[]");
	free(out);
	cd_partials_free(p);
}

static void test_endless_partial_recursion_is_stopped(void **state)
{
	struct cd_partials *p = cd_partials_new(NULL, 0);
	char *out;

	(void)state;
	cd_partials_add(p, "loop", "x{{>loop}}");
	out = render_with("{{>loop}}", p, CD_ESCAPE_NONE, CD_ETEMPLATE);
	free(out);
	cd_partials_free(p);
}

static void test_delimiters_change_and_stay_local(void **state)
{
	struct cd_partials *p = cd_partials_new(NULL, 0);
	char *out;

	(void)state;
	cd_partials_add(p, "inner", "{{customer.first_name}}");
	out = render_with("{{=<% %>=}}<%customer.first_name%> {{x}} <%>inner%>", p,
			  CD_ESCAPE_NONE, 0);
	assert_string_equal(out, "Anna {{x}} Anna");
	free(out);
	cd_partials_free(p);
}

static void test_check_finds_missing_partials_and_raw_tags(void **state)
{
	static const char *const safe[] = { "footer_html", NULL };
	struct cd_partials *p = cd_partials_new(NULL, 0);
	struct cd_template *t = NULL;
	struct cd_error err;

	(void)state;
	cd_partials_add(p, "bad", "ok\n{{{customer.name}}}");
	cd_partials_add(p, "self", "{{#items}}{{>self}}{{/items}}{{{footer_html}}}");
	assert_int_equal(cd_template_compile("t", "{{>self}}", &t, &err), 0);
	assert_int_equal(cd_template_check(t, p, CD_ESCAPE_HTML, safe, &err), 0);
	cd_template_free(t);
	assert_int_equal(cd_template_compile("t", "a\n{{>gone}}", &t, &err), 0);
	assert_int_equal(cd_template_check(t, p, CD_ESCAPE_NONE, safe, &err), CD_ETEMPLATE);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "no such partial: 'gone'"));
	cd_template_free(t);
	assert_int_equal(cd_template_compile("t", "{{>bad}}", &t, &err), 0);
	assert_int_equal(cd_template_check(t, p, CD_ESCAPE_NONE, safe, &err), 0);
	assert_int_equal(cd_template_check(t, p, CD_ESCAPE_HTML, safe, &err), CD_ETEMPLATE);
	assert_string_equal(err.file, "bad");
	assert_int_equal(err.line, 2);
	cd_template_free(t);
	cd_partials_free(p);
}

static void test_json_data(void **state)
{
	static const char json[] = "{\"n\": 1.21, \"z\": null, \"l\": [[1, 2], [\"a\"]], "
				   "\"t\": true, \"s\": \"<\\u00e9>\"}";
	struct cd_tdata *d = NULL;
	struct cd_template *t = NULL;
	struct cd_buf b = { 0 };
	struct cd_error err;
	char *out;

	(void)state;
	assert_int_equal(cd_tdata_from_json("d.json", json, strlen(json), &d, &err), 0);
	assert_int_equal(cd_template_compile("t", "{{n}}|{{z}}|{{#l}}({{#.}}{{.}}{{/.}}){{/l}}|{{t}}|{{s}}",
					     &t, &err), 0);
	assert_int_equal(cd_template_render(t, d, CD_ESCAPE_HTML, NULL, &b, NULL, &err), 0);
	out = cd_buf_take(&b);
	assert_string_equal(out, "1.21||(12)(a)|true|&lt;\xc3\xa9&gt;");
	free(out);
	cd_template_free(t);
	cd_tdata_free(d);
	assert_int_equal(cd_tdata_from_json("d.json", "{\n \"a\": [1,\n}", 15, &d, &err), CD_EINVAL);
	assert_string_equal(err.file, "d.json");
	assert_int_equal(err.line, 3);
	assert_int_equal(cd_tdata_from_json("d.json", "{} x", 4, &d, &err), CD_EINVAL);
	assert_non_null(strstr(err.msg, "after the JSON value"));
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
		cmocka_unit_test(test_raw_customer_value_in_html_is_refused),
		cmocka_unit_test(test_partials_inherit_context_and_indentation),
		cmocka_unit_test(test_endless_partial_recursion_is_stopped),
		cmocka_unit_test(test_delimiters_change_and_stay_local),
		cmocka_unit_test(test_check_finds_missing_partials_and_raw_tags),
		cmocka_unit_test(test_json_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
