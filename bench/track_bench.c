/*
 * track_bench.c - issue 7's figure: inbox mails classified and recorded
 * per second. A store with 20,000 sent messages, then 5,000 inbox mails
 * as a shop gets them after a campaign: human replies (plain and
 * multipart, quoted-printable, Latin-1), RFC 3464 bounces with the
 * returned headers, qmail-style plain-text bounces, auto-replies and
 * unsubscribes; each through cd_track_mail (MIME parse, classification,
 * matching, events, suppressions, one transaction) as the daemon does
 * after the IMAP fetch. A further pass over the same mails measures the
 * duplicate path (a re-read mailbox).
 *
 * Last line: msgs_per_s=... reread_msgs_per_s=... mails=...
 * Usage: track_bench [MAILS]   (default 5000)
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/buf.h"
#include "candor/config.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/track.h"

#define SENT 20000
#define NOW 1793000000LL

static void die(const char *what, const struct cd_error *err)
{
	char buf[1024];

	fprintf(stderr, "track_bench: %s: %s\n", what,
		err ? cd_error_format(err, buf, sizeof(buf)) : "failed");
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void token(long i, char out[33])
{
	snprintf(out, 33, "%032lx", 0x5eed0000L + i);
}

static sqlite3 *raw;

/* The sent messages the mails answer, written through a connection of
 * its own, as a shop's system would. */
static void fill(sqlite3 *db)
{
	sqlite3_stmt *s;

	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO messages(order_id, campaign, variant, state, recipient,"
			   " message_id, token, created, updated, sent_at) VALUES (?1, 'review', 'A',"
			   " 'sent', ?2, ?3, ?4, ?5, ?5, ?5)", -1, &s, NULL);
	for (long i = 0; i < SENT; i++) {
		char order[32], rcpt[64], mid[96], tok[33];

		token(i, tok);
		snprintf(order, sizeof(order), "W%07ld", i);
		snprintf(rcpt, sizeof(rcpt), "customer%ld@example.org", i);
		snprintf(mid, sizeof(mid), "0123456789abcdef01234567.%s@shop.example", tok);
		sqlite3_bind_text(s, 1, order, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, rcpt, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, mid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, tok, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, NOW - 86400);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

/* Mail I of the inbox: a mix weighted as a campaign's inbox is. */
static char *mail(long i)
{
	long o = (i * 7) % SENT;
	struct cd_buf b = { 0 };
	char tok[33];

	token(o, tok);
	switch (i % 10) {
	case 0: case 1: case 2: case 3:
		cd_buf_printf(&b, "From: Customer <customer%ld@example.org>\r\n"
			      "To: feedback+%s@shop.example\r\nSubject: Re: How was your tea?\r\n"
			      "Message-ID: <reply%ld@example.org>\r\n"
			      "In-Reply-To: <0123456789abcdef01234567.%s@shop.example>\r\n"
			      "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
			      "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			      "Der Tee war sch=F6n, danke! Die Dose kam leider verbeult an.\r\n\r\n"
			      "> Wie hat Ihnen der Tee geschmeckt?\r\n> Ihr Teehaus\r\n"
			      "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
			      "<p>Der Tee war sch\xc3\xb6n, danke!</p>\r\n--b--\r\n",
			      o, tok, i, tok);
		break;
	case 4: case 5:
		cd_buf_printf(&b, "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
			      "To: feedback@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
			      "Message-ID: <bounce%ld@mx.example.org>\r\nMIME-Version: 1.0\r\n"
			      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
			      "--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your"
			      " message could not be delivered.\r\n\r\n<customer%ld@example.org>: host"
			      " mx.example.org said: 552 5.2.2 Mailbox full\r\n\r\n"
			      "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
			      "Final-Recipient: rfc822; customer%ld@example.org\r\nAction: failed\r\n"
			      "Status: %s\r\nDiagnostic-Code: smtp; %s\r\n\r\n"
			      "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
			      "Message-ID: <0123456789abcdef01234567.%s@shop.example>\r\n"
			      "To: customer%ld@example.org\r\nSubject: How was your tea?\r\n\r\n--r--\r\n",
			      i, o, o, i % 2 ? "5.1.1" : "5.2.2",
			      i % 2 ? "550 5.1.1 User unknown" : "552 5.2.2 Mailbox full", tok, o);
		break;
	case 6:
		cd_buf_printf(&b, "From: MAILER-DAEMON@mx.example.jp\r\nSubject: failure notice\r\n"
			      "Message-ID: <q%ld@mx.example.jp>\r\n\r\n"
			      "Hi. This is the qmail-send program at mx.example.jp.\r\n"
			      "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
			      "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
			      "<customer%ld@example.org>:\r\nRemote host said: 550 5.1.1 User unknown (#5.1.1)\r\n\r\n"
			      "--- Below this line is a copy of the message.\r\n\r\n"
			      "Message-ID: <0123456789abcdef01234567.%s@shop.example>\r\n"
			      "To: customer%ld@example.org\r\n\r\nHello\r\n", i, o, tok, o);
		break;
	case 7: case 8:
		cd_buf_printf(&b, "From: customer%ld@example.org\r\nTo: feedback+%s@shop.example\r\n"
			      "Subject: Automatische Antwort: Wie war Ihr Tee?\r\nMessage-ID: <away%ld@example.org>\r\n"
			      "Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
			      "Ich bin bis Montag nicht im B\xc3\xbcro.\r\n", o, tok, i);
		break;
	default:
		cd_buf_printf(&b, "From: customer%ld@example.org\r\nTo: feedback+u-%s@shop.example\r\n"
			      "Subject: unsubscribe\r\nMessage-ID: <unsub%ld@example.org>\r\n\r\nunsubscribe\r\n",
			      o, tok, i);
	}
	return cd_buf_take(&b);
}

static double pass(struct cd_store *st, const struct cd_config *cfg, char **mails, long n,
		   struct cd_track_stats *stats)
{
	struct cd_error err;
	double t0 = now_s();

	for (long i = 0; i < n; i++)
		if (cd_track_mail(st, cfg, mails[i], strlen(mails[i]), NOW, NULL, stats, &err) < 0)
			die("track", &err);
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000;
	char dir[] = "/tmp/candor-track-bench-XXXXXX", path[512], cmd[600];
	struct cd_track_stats first = { 0 }, again = { 0 };
	struct cd_errors errs = { 0 };
	struct cd_config *cfg;
	struct cd_store *st;
	struct cd_error err;
	char **mails;
	double t1, t2;
	FILE *fp;

	cd_log_init("track_bench", CD_LOG_STDERR, CD_LOG_WARNING);
	if (n < 10 || !mkdtemp(dir) || !(mails = calloc((size_t)n, sizeof(*mails))))
		die("setup", NULL);
	snprintf(path, sizeof(path), "%s/candor.conf", dir);
	if (!(fp = fopen(path, "w")))
		die("config file", NULL);
	fprintf(fp, "database = \"%s/bench.db\";\ntemplates = \"/nonexistent\";\n"
		"shop = { name = \"Bench\"; domain = \"shop.example\"; from = \"feedback@shop.example\"; };\n"
		"campaigns = ( { name = \"review\"; variants = ( { name = \"A\"; template = \"r\"; } ); } );\n",
		dir);
	fclose(fp);
	if (cd_config_load(path, &cfg, &errs) < 0)
		die("config", errs.count ? &errs.items[0] : NULL);
	if (cd_store_open(cfg->database, CD_STORE_CREATE, &st, &err) < 0 ||
	    sqlite3_open(cfg->database, &raw) != SQLITE_OK)
		die("store", &err);
	fill(raw);
	sqlite3_close(raw);
	for (long i = 0; i < n; i++)
		if (!(mails[i] = mail(i)))
			die("out of memory", NULL);
	t1 = pass(st, cfg, mails, n, &first);
	t2 = pass(st, cfg, mails, n, &again);
	fprintf(stderr, "first read: %lld mails, %lld replies, %lld hard, %lld soft, %lld auto, %lld unsubscribe,"
		" %lld unmatched, %lld suppressed in %.2f s\n", (long long)first.read,
		(long long)first.kinds[CD_MAIL_REPLY], (long long)first.kinds[CD_MAIL_HARD_BOUNCE],
		(long long)first.kinds[CD_MAIL_SOFT_BOUNCE], (long long)first.kinds[CD_MAIL_AUTO_REPLY],
		(long long)first.kinds[CD_MAIL_UNSUBSCRIBE], (long long)first.unmatched,
		(long long)first.suppressed, t1);
	if (first.unmatched || again.duplicates != n)
		die("every mail should match once and be a duplicate the second time", NULL);
	for (long i = 0; i < n; i++)
		free(mails[i]);
	free(mails);
	cd_store_close(st);
	cd_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	printf("msgs_per_s=%.0f reread_msgs_per_s=%.0f mails=%ld\n", n / t1, n / t2, n);
	return 0;
}
