/* test_track.c - what inbox mails do to a real SQLite store: soft bounces
 * suppress only in a row, a reply resets the count, a forged or unknown
 * token suppresses nobody, a bounce acts only through a token (VERP),
 * a mail read twice counts once, a complaint
 * suppresses through the returned message, a mail that could not be
 * recorded is read again, a suppression keeps its first reason. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "candor/config.h"
#include "candor/store.h"
#include "candor/store_inbox.h"
#include "candor/store_left.h"
#include "candor/track.h"

#define TOK1 "00000000000000000000000000000001"
#define TOK2 "00000000000000000000000000000002"

static char dir[64];
static struct cd_store *st;
static sqlite3 *raw; /* a second connection, as a shop's own system has */
static struct cd_config cfg;
static int64_t clock_now = 1790000000;

/* Run TEXT on the second connection; 0 or -1. */
static int sql(const char *text)
{
	return sqlite3_exec(raw, text, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int setup(void **state)
{
	char db[128];
	struct cd_error err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-track-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/candor.db", dir);
	if (cd_store_open(db, CD_STORE_CREATE, &st, &err) < 0)
		return -1;
	cfg.tracking.soft_bounce_limit = 3;
	if (sqlite3_open(db, &raw) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(raw, 5000);
	return sql(
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, message_id,"
		" token, created, updated, sent_at) VALUES"
		" ('o1', 'review', 'A', 'sent', 'ann@example.org', 'x." TOK1 "@shop.example', '" TOK1 "', 1, 1, 1),"
		" ('o2', 'review', 'A', 'sent', 'bob@example.org', 'x." TOK2 "@shop.example', '" TOK2 "', 1, 1, 1)");
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	sqlite3_close(raw);
	cd_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int count(const char *query)
{
	sqlite3_stmt *s;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(raw, query, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static enum cd_mail_kind track(const char *mail, struct cd_track_stats *stats)
{
	enum cd_mail_kind kind;
	struct cd_error err;

	assert_int_equal(cd_track_mail(st, &cfg, mail, strlen(mail), clock_now++, &kind, stats, &err), 0);
	return kind;
}

static void soft_bounce(int n, struct cd_track_stats *stats)
{
	char mail[1024];

	snprintf(mail, sizeof(mail),
		 "From: MAILER-DAEMON@mx.example.org\nTo: bounces+" TOK1 "@shop.example\n"
		 "Subject: Undelivered Mail\nMessage-ID: <soft%d@mx>\n"
		 "X-Failed-Recipients: ann@example.org\n\nThis is a permanent error.\n"
		 "ann@example.org: 552 5.2.2 Mailbox full\n", n);
	assert_int_equal(track(mail, stats), CD_MAIL_SOFT_BOUNCE);
}

static void test_soft_bounces_suppress_in_a_row(void **state)
{
	struct cd_track_stats stats = { 0 };

	(void)state;
	soft_bounce(1, &stats);
	soft_bounce(2, &stats);
	assert_int_equal(count("SELECT count(*) FROM suppressions"), 0);
	/* a reply from her is a sign of life: the count starts again */
	assert_int_equal(track("From: ann@example.org\nTo: feedback+" TOK1 "@shop.example\n"
			       "Subject: Re: tea\nMessage-ID: <r1@ann>\n\nLovely tea.\n", &stats),
			 CD_MAIL_REPLY);
	soft_bounce(3, &stats);
	soft_bounce(4, &stats);
	assert_int_equal(count("SELECT count(*) FROM suppressions"), 0);
	soft_bounce(5, &stats);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'ann@example.org'"
			       " AND reason = 'soft_bounce'"), 1);
	assert_int_equal(count("SELECT count(*) FROM replies WHERE body LIKE 'Lovely tea.%'"), 1);
	assert_int_equal(stats.suppressed, 1);
}

static void test_same_mail_twice_counts_once(void **state)
{
	struct cd_track_stats stats = { 0 };
	int events;

	(void)state;
	soft_bounce(1, &stats); /* read in the test before */
	events = count("SELECT count(*) FROM events");
	soft_bounce(1, &stats);
	assert_int_equal(count("SELECT count(*) FROM events"), events);
	assert_int_equal(stats.duplicates, 2);
}

static void test_unknown_token_suppresses_nobody(void **state)
{
	struct cd_track_stats stats = { 0 };

	(void)state;
	/* a well-formed token that is none of ours, and no token at all */
	track("From: bob@example.org\nTo: feedback+u-ffffffffffffffffffffffffffffffff@shop.example\n"
	      "Subject: unsubscribe\nMessage-ID: <f1@x>\n\nunsubscribe\n", &stats);
	track("From: bob@example.org\nTo: feedback@shop.example\nSubject: stop\n"
	      "Message-ID: <f2@x>\n\nSTOP\n", &stats);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'bob@example.org'"), 0);
	assert_int_equal(stats.unmatched, 2);
	/* his own token does */
	track("From: bob@example.org\nTo: feedback+u-" TOK2 "@shop.example\nSubject: unsubscribe\n"
	      "Message-ID: <u2@x>\n\nplease\n", &stats);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'bob@example.org'"
			       " AND reason = 'unsubscribed'"), 1);
}

static void test_complaint_through_returned_message(void **state)
{
	struct cd_track_stats stats = { 0 };

	(void)state;
	sql("DELETE FROM suppressions");
	track("From: abuse@isp.example\nTo: fbl@shop.example\nSubject: complaint\n"
	      "Message-ID: <arf1@isp>\nMIME-Version: 1.0\n"
	      "Content-Type: multipart/report; report-type=feedback-report; boundary=\"a\"\n\n"
	      "--a\nContent-Type: text/plain\n\nA complaint.\n"
	      "--a\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n"
	      "--a\nContent-Type: message/rfc822\n\nMessage-ID: <x." TOK2 "@shop.example>\n"
	      "To: bob@example.org\n\nHello\n--a--\n", &stats);
	assert_int_equal(stats.complaints, 1);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'bob@example.org'"
			       " AND reason = 'complaint'"), 1);
	assert_int_equal(count("SELECT count(*) FROM events WHERE order_id = 'o2' AND kind = 'complaint'"), 1);
}

/* A human's request to stop without a token of ours suppresses nobody,
 * yet is recorded for the shop with its reason; so are other mails left
 * in the mailbox; one that names the customer's token acts. */
static void test_untokened_stop_is_left_for_a_human(void **state)
{
	struct cd_track_stats stats = { 0 };
	int64_t counts[CD_INBOX_NREASONS], waiting;
	struct cd_error err;

	(void)state;
	sql("DELETE FROM suppressions; DELETE FROM replies");
	assert_int_equal(track("From: Carla <carla@example.org>\nTo: info@shop.example\n"
			       "Subject: Newsletter\nMessage-ID: <c1@carla>\n\n"
			       "Bitte senden Sie mir keine E-Mails mehr.\n", &stats), CD_MAIL_UNSUBSCRIBE);
	assert_int_equal(track("From: news@vendor.example\nTo: feedback@shop.example\n"
			       "Subject: Autumn catalogue\nMessage-ID: <n1@vendor>\n\nBuy things.\n", &stats),
			 CD_MAIL_OTHER);
	assert_int_equal(count("SELECT count(*) FROM suppressions"), 0);
	assert_int_equal(count("SELECT count(*) FROM replies WHERE message IS NULL"
			       " AND kind = 'unverified_unsubscribe' AND sender = 'carla@example.org'"
			       " AND body LIKE 'Bitte senden%'"), 1);
	assert_int_equal(cd_store_inbox_count(st, counts, &waiting, &err), 0);
	assert_int_equal(counts[CD_INBOX_UNVERIFIED_UNSUBSCRIBE], 1);
	assert_int_equal(counts[CD_INBOX_NOT_OURS], 1);
	assert_int_equal(waiting, 1);
	/* once the shop suppresses her, the request no longer waits */
	assert_int_equal(cd_store_suppress(st, "Carla@example.org", "unsubscribed", "by hand", 1, &err), 0);
	assert_int_equal(cd_store_inbox_count(st, counts, &waiting, &err), 0);
	assert_int_equal(waiting, 0);
	/* a reply to her own mail with her token is acted on, and not left */
	assert_int_equal(track("From: ann@example.org\nTo: feedback+" TOK1 "@shop.example\n"
			       "Subject: Re: tea\nMessage-ID: <a9@ann>\n\nPlease take me off your list.\n"
			       "\nOn Thu, 5 Nov 2026 at 10:12, Shop <hello@shop.example> wrote:\n> Tea?\n",
			       &stats), CD_MAIL_UNSUBSCRIBE);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'ann@example.org'"
			       " AND reason = 'unsubscribed'"), 1);
	assert_int_equal(count("SELECT count(*) FROM replies WHERE message IS NULL"), 2);
}

/* The audit's forged bounce: no token, an address of ours in the body.
 * It is noted for a human and suppresses nobody; the same report sent
 * to the VERP address of bob's message does. */
static void test_bounce_acts_only_through_a_token(void **state)
{
	static const char fmt[] =
		"From: MAILER-DAEMON@evil.test\nTo: %s\nSubject: Undelivered Mail Returned to Sender\n"
		"Message-ID: <%s@evil.test>\n\nThis is the mail system.\n\n"
		"<bob@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n";
	struct cd_track_stats stats = { 0 };
	char mail[512];

	(void)state;
	sql("DELETE FROM suppressions");
	snprintf(mail, sizeof(mail), fmt, "feedback@shop.example", "forged");
	assert_int_equal(track(mail, &stats), CD_MAIL_HARD_BOUNCE);
	assert_int_equal(count("SELECT count(*) FROM suppressions"), 0);
	assert_int_equal(count("SELECT count(*) FROM events WHERE order_id = 'o2'"
			       " AND kind = 'bounce_unproven' AND detail LIKE '%evil.test%'"), 1);
	assert_int_equal(count("SELECT count(*) FROM events WHERE kind = 'bounced'"
			       " AND order_id = 'o2'"), 0);
	assert_int_equal(stats.unmatched, 1);
	snprintf(mail, sizeof(mail), fmt, "bounces+" TOK2 "@shop.example", "verp");
	assert_int_equal(track(mail, &stats), CD_MAIL_HARD_BOUNCE);
	assert_int_equal(count("SELECT count(*) FROM suppressions WHERE email = 'bob@example.org'"
			       " AND reason = 'hard_bounce'"), 1);
	assert_int_equal(stats.unmatched, 1);
}

/* A mail whose recording fails is not marked seen: the next read records
 * it, once. */
static void test_failed_record_is_read_again(void **state)
{
	static const char mail[] = "From: ann@example.org\nTo: feedback+" TOK1 "@shop.example\n"
				   "Subject: Re: tea\nMessage-ID: <again@ann>\n\nSecond thoughts.\n";
	struct cd_track_stats stats = { 0 };
	struct cd_error err;
	int seen = count("SELECT count(*) FROM inbox_seen");

	(void)state;
	assert_int_equal(sql("CREATE TRIGGER full BEFORE INSERT ON events"
			     " BEGIN SELECT RAISE(ABORT, 'disk full'); END"), 0);
	assert_int_equal(cd_track_mail(st, &cfg, mail, strlen(mail), clock_now++, NULL, &stats, &err),
			 CD_ESTORE);
	assert_non_null(strstr(err.msg, "disk full"));
	assert_int_equal(count("SELECT count(*) FROM inbox_seen"), seen);
	assert_int_equal(count("SELECT count(*) FROM replies WHERE body LIKE 'Second%'"), 0);
	assert_int_equal(sql("DROP TRIGGER full"), 0);
	assert_int_equal(track(mail, &stats), CD_MAIL_REPLY);
	assert_int_equal(count("SELECT count(*) FROM replies WHERE body LIKE 'Second%'"), 1);
	assert_int_equal(count("SELECT count(*) FROM inbox_seen"), seen + 1);
}

static int keep_line(void *arg, const struct cd_suppression *s)
{
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%s %s %lld %s;", s->email, s->reason, (long long)s->at,
		 s->detail ? s->detail : "-");
	return 0;
}

/* An address suppressed again keeps its first reason (and says it added
 * nothing); the list is oldest first. */
static void test_first_reason_stays_and_list_is_oldest_first(void **state)
{
	char list[512] = "";
	int added = -1;

	(void)state;
	assert_int_equal(sql("DELETE FROM suppressions"), 0);
	assert_int_equal(cd_store_suppress_first(st, "Amy@example.org", "blocked", NULL, 20, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(cd_store_suppress_first(st, "amy@example.org", "hard_bounce", "5.1.1", 30,
						 &added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(cd_store_suppress_first(st, "zed@example.org", "unsubscribed", "link", 10,
						 &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(cd_store_suppressions(st, keep_line, list), 0);
	assert_string_equal(list, "zed@example.org unsubscribed 10 link;Amy@example.org blocked 20 -;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soft_bounces_suppress_in_a_row),
		cmocka_unit_test(test_same_mail_twice_counts_once),
		cmocka_unit_test(test_unknown_token_suppresses_nobody),
		cmocka_unit_test(test_complaint_through_returned_message),
		cmocka_unit_test(test_untokened_stop_is_left_for_a_human),
		cmocka_unit_test(test_bounce_acts_only_through_a_token),
		cmocka_unit_test(test_failed_record_is_read_again),
		cmocka_unit_test(test_first_reason_stays_and_list_is_oldest_first),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
