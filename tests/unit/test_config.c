/* test_config.c - strict validation of candor.conf: every error names the
 * file, the line and the setting. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "candor/config.h"

#define BASE \
	"shop = { name = \"Tea\"; domain = \"tea.example\"; from = \"f@tea.example\"; };\n" \
	"campaigns = ( { name = \"review\";\n" \
	"  variants = ( { name = \"A\"; template = \"t\"; } ); } );\n"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_file(const char *p, const char *text, size_t len, mode_t mode)
{
	FILE *fp = fopen(p, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	chmod(p, mode);
}

/* Load TEXT; return the config (NULL on failure) and the errors. */
static struct cd_config *load(const char *text, struct cd_errors *errs)
{
	struct cd_config *cfg = NULL;

	write_file(path, text, strlen(text), 0600);
	memset(errs, 0, sizeof(*errs));
	cd_config_load(path, &cfg, errs);
	return cfg;
}

/* Is there an error on SETTING at LINE whose message contains WORDS? */
static int has_error(const struct cd_errors *errs, const char *setting, int line,
		     const char *words)
{
	for (size_t i = 0; i < errs->count; i++) {
		const struct cd_error *e = &errs->items[i];

		if (strcmp(e->setting, setting) == 0 && (line == 0 || e->line == line) &&
		    strstr(e->msg, words) && strcmp(e->file, path) == 0)
			return 1;
	}
	for (size_t i = 0; i < errs->count; i++) {
		char buf[1024];

		print_message("  got: %s\n", cd_error_format(&errs->items[i], buf, sizeof(buf)));
	}
	return 0;
}

static void expect_error(const char *text, const char *setting, int line,
			 const char *words)
{
	struct cd_errors errs;
	struct cd_config *cfg = load(text, &errs);

	assert_null(cfg);
	assert_true(has_error(&errs, setting, line, words));
	cd_errors_clear(&errs);
}

static void test_minimal_file_gets_defaults(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load(BASE, &errs);

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(errs.count, 0);
	assert_string_equal(cfg->database, "/var/lib/candor/candor.db");
	assert_int_equal(cfg->poll_interval, 300);
	assert_int_equal(cfg->transport, CD_TRANSPORT_SMTP);
	assert_int_equal(cfg->smtp.connections, 2);
	assert_int_equal(cfg->smtp.tls, CD_TLS_AUTO);
	assert_int_equal(cfg->limits.global_rate.count, 200);
	assert_int_equal(cfg->limits.global_rate.per_seconds, 3600);
	assert_string_equal(cfg->shop.reply_to, "f@tea.example");
	assert_int_equal(cfg->ncampaigns, 1);
	assert_int_equal(cfg->campaigns[0].delay, 7 * 86400);
	assert_int_equal(cfg->campaigns[0].expire, 30 * 86400);
	assert_int_equal(cfg->campaigns[0].variants[0].weight, 1);
	cd_config_free(cfg);
}

static void test_relative_paths_follow_config_dir(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load("database = \"data/c.db\";\n" BASE, &errs);
	char want[256], *real = realpath(dir, NULL);

	(void)state;
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/data/c.db", real);
	assert_string_equal(cfg->database, want);
	free(real);
	cd_config_free(cfg);
}

static void test_unknown_setting_suggests_name(void **state)
{
	(void)state;
	expect_error("databse = \"x.db\";\n" BASE, "databse", 1, "did you mean 'database'");
	expect_error(BASE "smtp = {\n  pasword_file = \"/x\";\n};\n", "smtp.pasword_file", 5,
		     "did you mean 'password_file'");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\";\n"
		     " colour = \"red\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "shop.colour", 2, "unknown setting");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\";\n delya = \"7d\";\n"
		     " variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "campaigns[0].delya", 3, "did you mean 'delay'");
}

static void test_wrong_type_is_named(void **state)
{
	(void)state;
	expect_error(BASE "poll_interval = 300;\n", "poll_interval", 4, "expected a string");
	expect_error(BASE "smtp = { connections = \"2\"; };\n", "smtp.connections", 4,
		     "expected a whole number");
	expect_error(BASE "smtp = { verify_certificate = 1; };\n", "smtp.verify_certificate", 4,
		     "expected true or false");
	expect_error(BASE "shop2 = 1;\n", "shop2", 4, "did you mean 'shop'");
	expect_error(BASE "limits = \"none\";\n", "limits", 4, "expected a group");
}

static void test_bad_duration_is_named(void **state)
{
	(void)state;
	expect_error(BASE "poll_interval = \"5 min\";\n", "poll_interval", 4, "bad duration");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\";\n delay = \"7\";\n"
		     " variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "campaigns[0].delay", 3, "missing unit");
	expect_error(BASE "smtp = { timeout = \"\"; };\n", "smtp.timeout", 4, "empty duration");
}

static void test_bad_rate_is_named(void **state)
{
	(void)state;
	expect_error(BASE "limits = {\n global_rate = \"200/fortnight\";\n};\n",
		     "limits.global_rate", 5, "bad rate");
	expect_error(BASE "limits = { global_rate = \"200\"; };\n", "limits.global_rate", 4,
		     "COUNT/UNIT");
}

static void test_bad_values_are_named(void **state)
{
	(void)state;
	expect_error(BASE "transport = \"pigeon\";\n", "transport", 4, "not one of");
	expect_error(BASE "log_level = \"loud\";\n", "log_level", 4, "not one of");
	expect_error(BASE "smtp = { url = \"http://x\"; };\n", "smtp.url", 4, "smtp://");
	expect_error(BASE "smtp = { connections = 0; };\n", "smtp.connections", 4, "out of range");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"not an address\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "shop.from", 1, "not a plain address");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\";\n"
		     " timezone = \"Mars/Olympus\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "shop.timezone", 2, "unknown time zone");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\";\n"
		     " timezone = \"../../etc/passwd\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "shop.timezone", 2, "not a time zone name");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\"; trigger = \"paid\";\n"
		     " variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "campaigns[0].trigger", 2, "not one of");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\"; delay = \"30d\"; expire = \"7d\";\n"
		     " variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "campaigns[0]", 2, "expire must be longer");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\";\n"
		     " variants = ( { name = \"A\"; template = \"../etc\"; } ); } );\n",
		     "campaigns[0].variants[0]", 3, "plain name");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = (); } );\n",
		     "campaigns[0].variants", 2, "at least one variant");
}

static void test_duplicates_are_refused(void **state)
{
	(void)state;
	expect_error(BASE "campaigns = ();\n", "", 4, "duplicate setting");
	expect_error("shop = { name = \"T\"; domain = \"t.example\"; from = \"f@t.example\"; };\n"
		     "campaigns = ( { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); },\n"
		     " { name = \"r\"; variants = ( { name = \"A\"; template = \"t\"; } ); } );\n",
		     "campaigns[1]", 3, "used twice");
}

static void test_every_error_is_reported(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load("databse = 1;\npoll_interval = \"x\";\n"
				     "transport = \"pigeon\";\n", &errs);

	(void)state;
	assert_null(cfg);
	assert_true(errs.count >= 4); /* three bad lines and the missing shop */
	assert_true(has_error(&errs, "databse", 1, "unknown"));
	assert_true(has_error(&errs, "poll_interval", 2, "bad duration"));
	assert_true(has_error(&errs, "transport", 3, "not one of"));
	assert_true(has_error(&errs, "shop", 0, "missing required"));
	cd_errors_clear(&errs);
}

static void test_syntax_error_has_line(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg = load(BASE "smtp = {\n url = = \"smtp://x\";\n};\n", &errs);

	(void)state;
	assert_null(cfg);
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.items[0].line, 5);
	assert_string_equal(errs.items[0].file, path);
	cd_errors_clear(&errs);
}

static void test_missing_empty_binary_files(void **state)
{
	struct cd_errors errs = { 0 };
	struct cd_config *cfg = NULL;
	char other[160];
	const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\xff\xfe\x00shop";

	(void)state;
	snprintf(other, sizeof(other), "%s/nope.conf", dir);
	assert_int_equal(cd_config_load(other, &cfg, &errs), CD_ECONFIG);
	assert_non_null(strstr(errs.items[0].msg, "No such file"));
	assert_string_equal(errs.items[0].file, other);
	cd_errors_clear(&errs);

	assert_int_equal(cd_config_load(dir, &cfg, &errs), CD_ECONFIG);
	assert_non_null(strstr(errs.items[0].msg, "directory"));
	cd_errors_clear(&errs);

	cfg = load("", &errs);
	assert_null(cfg);
	assert_true(has_error(&errs, "shop", 0, "missing required"));
	cd_errors_clear(&errs);

	write_file(path, binary, sizeof(binary) - 1, 0600);
	assert_int_equal(cd_config_load(path, &cfg, &errs), CD_ECONFIG);
	assert_null(cfg);
	assert_true(errs.count >= 1);
	assert_true(errs.items[0].line >= 1);
	cd_errors_clear(&errs);
}

static void test_password_file_rules(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg;
	char pw[160], text[512];

	(void)state;
	snprintf(pw, sizeof(pw), "%s/smtp.pass", dir);
	snprintf(text, sizeof(text), BASE "smtp = {\n username = \"u\";\n password_file = \"%s\";\n};\n", pw);

	expect_error(text, "smtp.password_file", 6, "No such file");

	write_file(pw, "s3cret\n", 7, 0644);
	expect_error(text, "smtp.password_file", 6, "readable by every user");

	write_file(pw, "s3cret\n", 7, 0640);
	cfg = load(text, &errs);
	assert_non_null(cfg);
	assert_string_equal(cfg->smtp.password, "s3cret");
	cd_config_free(cfg);

	snprintf(text, sizeof(text), BASE "smtp = { password_file = \"%s\"; };\n", dir);
	expect_error(text, "smtp.password_file", 4, "not a regular file");
}

static void test_print_masks_secret_and_reloads(void **state)
{
	struct cd_errors errs;
	struct cd_config *cfg, *again = NULL;
	char pw[160], text[512], printed[160], *buf = NULL;
	size_t len = 0;
	FILE *mem, *fp;

	(void)state;
	snprintf(pw, sizeof(pw), "%s/smtp.pass", dir);
	write_file(pw, "hunter2-very-secret\n", 20, 0600);
	snprintf(text, sizeof(text), BASE "smtp = { username = \"u\"; password_file = \"%s\"; };\n", pw);
	cfg = load(text, &errs);
	assert_non_null(cfg);
	mem = open_memstream(&buf, &len);
	cd_config_print(cfg, mem);
	fclose(mem);
	assert_null(strstr(buf, "hunter2"));
	assert_non_null(strstr(buf, "********"));
	assert_non_null(strstr(buf, "global_rate = \"200/hour\""));

	/* the printed configuration is itself a valid configuration */
	snprintf(printed, sizeof(printed), "%s/printed.conf", dir);
	fp = fopen(printed, "w");
	fputs(buf, fp);
	fclose(fp);
	assert_int_equal(cd_config_load(printed, &again, &errs), 0);
	assert_int_equal(again->campaigns[0].delay, cfg->campaigns[0].delay);
	assert_string_equal(again->smtp.password, "hunter2-very-secret");
	cd_config_free(again);
	cd_config_free(cfg);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_file_gets_defaults),
		cmocka_unit_test(test_relative_paths_follow_config_dir),
		cmocka_unit_test(test_unknown_setting_suggests_name),
		cmocka_unit_test(test_wrong_type_is_named),
		cmocka_unit_test(test_bad_duration_is_named),
		cmocka_unit_test(test_bad_rate_is_named),
		cmocka_unit_test(test_bad_values_are_named),
		cmocka_unit_test(test_duplicates_are_refused),
		cmocka_unit_test(test_every_error_is_reported),
		cmocka_unit_test(test_syntax_error_has_line),
		cmocka_unit_test(test_missing_empty_binary_files),
		cmocka_unit_test(test_password_file_rules),
		cmocka_unit_test(test_print_masks_secret_and_reloads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
