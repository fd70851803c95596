/* test_csv.c - the CSV reader on RFC 4180 cases and broken input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "candor/csv.h"

struct reader {
	FILE *fp;
	struct cd_csv *csv;
	struct cd_csv_record rec;
	struct cd_error err;
};

static void open_text(struct reader *r, const char *text, size_t len)
{
	r->fp = fmemopen((void *)text, len, "rb");
	assert_non_null(r->fp);
	assert_int_equal(cd_csv_open(r->fp, "mem.csv", &r->csv), 0);
}

static void close_reader(struct reader *r)
{
	cd_csv_close(r->csv);
	fclose(r->fp);
}

static int next(struct reader *r)
{
	return cd_csv_next(r->csv, &r->rec, &r->err);
}

static void expect_fields(struct reader *r, size_t line, size_t n, ...)
{
	va_list ap;

	assert_int_equal(next(r), 1);
	assert_int_equal(r->rec.line, line);
	assert_int_equal(r->rec.nfields, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->rec.fields[i], va_arg(ap, const char *));
	va_end(ap);
}

static void test_quotes_commas_and_newlines(void **state)
{
	const char text[] = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n";
	struct reader r;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	expect_fields(&r, 1, 3, "a", "b", "c");
	expect_fields(&r, 2, 3, "x, y", "say \"hi\"", "two\nlines");
	expect_fields(&r, 4, 3, "last", "", "");
	assert_int_equal(next(&r), 0);
	close_reader(&r);
}

static void test_bom_crlf_and_blank_lines(void **state)
{
	const char text[] = "\xEF\xBB\xBFid,name\r\n\r\n1,\"Ann\r\nB\"\r\n2,Bo\r\n";
	struct reader r;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	expect_fields(&r, 1, 2, "id", "name");
	expect_fields(&r, 3, 2, "1", "Ann\r\nB");
	expect_fields(&r, 5, 2, "2", "Bo");
	assert_int_equal(next(&r), 0);
	close_reader(&r);
}

static void test_no_final_newline(void **state)
{
	const char text[] = "a,b\n1,2";
	struct reader r;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	expect_fields(&r, 1, 2, "a", "b");
	expect_fields(&r, 2, 2, "1", "2");
	assert_int_equal(next(&r), 0);
	close_reader(&r);
}

static void test_raw_bytes_are_kept(void **state)
{
	const char text[] = "a,b\n\"q\"\"x\",  y \r\n";
	struct reader r;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	assert_int_equal(next(&r), 1);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.rawlen, strlen("\"q\"\"x\",  y \r\n"));
	assert_memory_equal(r.rec.raw, "\"q\"\"x\",  y \r\n", r.rec.rawlen);
	assert_string_equal(r.rec.fields[1], "  y ");
	close_reader(&r);
}

static void test_unterminated_quote_is_an_error(void **state)
{
	const char text[] = "a,b\n1,\"open\n2,3\n";
	struct reader r;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	assert_int_equal(next(&r), 1);
	assert_int_equal(next(&r), CD_EINVAL);
	assert_int_equal(r.err.line, 2);
	assert_non_null(strstr(r.err.msg, "never closed"));
	assert_int_equal(next(&r), 0);
	close_reader(&r);
}

static void test_huge_record_is_refused_and_skipped(void **state)
{
	size_t big = CD_CSV_MAX_RECORD + 100;
	char *text = malloc(big + 20);
	struct reader r;

	(void)state;
	memset(text, 'x', big);
	memcpy(text + big, "\nok,1\n", 7);
	open_text(&r, text, big + 6);
	assert_int_equal(next(&r), CD_EINVAL);
	assert_non_null(strstr(r.err.msg, "longer than"));
	expect_fields(&r, 2, 2, "ok", "1");
	close_reader(&r);
	free(text);
}

static void test_nul_and_binary_do_not_crash(void **state)
{
	const char text[] = "a,b\n\0\0,\xff\xfe\n\"\0\",x\n";
	struct reader r;
	int rc, n = 0;

	(void)state;
	open_text(&r, text, sizeof(text) - 1);
	while ((rc = next(&r)) != 0 && n < 10)
		n++;
	assert_int_equal(n, 3);
	close_reader(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_commas_and_newlines),
		cmocka_unit_test(test_bom_crlf_and_blank_lines),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_raw_bytes_are_kept),
		cmocka_unit_test(test_unterminated_quote_is_an_error),
		cmocka_unit_test(test_huge_record_is_refused_and_skipped),
		cmocka_unit_test(test_nul_and_binary_do_not_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
