/* test_sender.c - the send queue over a real SQLite store: a due message
 * handed to the outbox transport becomes "sent" and its bytes land in
 * the outbox as they were; one the outbox could not take is "deferred"
 * with its bytes kept, and its retry sends those same bytes under the
 * same Message-ID, once, when its time has come; every outcome of a
 * burst larger than one flush is recorded; the row says "sending",
 * committed, before a transport sees a byte; each outcome a transport
 * can report lands in its own state (failed and a suppression for a
 * 5.1.x address, unknown left "sending", a pause that counts no
 * attempt); nothing is sent twice.
 *
 * The outbox can only write a file or fail to; for the other outcomes a
 * backend of the test's own plugs into the transport table
 * (transport_impl.h), the seam the smtp and outbox transports use. It
 * fakes nothing of libcurl: test_smtp.c has the SMTP side. */
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
#include <sqlite3.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/store_message.h"
#include "candor/transport.h"
#include "candor/transport_impl.h"

#define NOW 1795000000LL

static char dir[64], outbox[128];
static struct cd_config cfg;
static struct cd_store *st;
static sqlite3 *raw; /* a second connection: what is committed, as others see it */
static int serial;

static int setup(void **state)
{
	(void)state;
	cd_log_init("test_sender", CD_LOG_STDERR, CD_LOG_ERR);
	snprintf(dir, sizeof(dir), "/tmp/cd-test-sender-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(outbox, sizeof(outbox), "%s/outbox", dir);
	cfg.transport = CD_TRANSPORT_OUTBOX;
	cfg.outbox.directory = outbox;
	cfg.shop.from = "feedback@tea.example";
	cfg.smtp.envelope_from = "";
	cfg.smtp.retry_min = 300;
	cfg.smtp.retry_max = 3600;
	cfg.smtp.retry_for = 2 * 86400;
	cfg.smtp.pause_retry = 900;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Each test has a store and an outbox of its own, empty. */
static int open_store(void **state)
{
	char path[160], cmd[200];
	struct cd_error err;

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", outbox);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/candor%d.db", dir, ++serial);
	if (cd_store_open(path, CD_STORE_CREATE, &st, &err) < 0 ||
	    sqlite3_open(path, &raw) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(raw, 5000);
	return 0;
}

static int close_store(void **state)
{
	(void)state;
	sqlite3_close(raw);
	raw = NULL;
	cd_store_close(st);
	st = NULL;
	return 0;
}

/* ---- looking ------------------------------------------------------------- */

static int64_t num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t num(const char *fmt, ...)
{
	char q[512];
	sqlite3_stmt *s;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(raw, q, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Column COL of message ID as text into BUF ("(null)" for NULL). */
static const char *col(int64_t id, const char *column, char *buf, size_t len)
{
	char q[256];
	sqlite3_stmt *s;

	snprintf(q, sizeof(q), "SELECT %s FROM messages WHERE id = %lld", column, (long long)id);
	assert_int_equal(sqlite3_prepare_v2(raw, q, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(buf, len, "%s", sqlite3_column_type(s, 0) == SQLITE_NULL ? "(null)"
		 : (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static const char *state_of(int64_t id)
{
	static char buf[32];

	return col(id, "state", buf, sizeof(buf));
}

/* The outbox file of MSGID, read whole into a new string (NULL: none). */
static char *outbox_file(const char *msgid, size_t *len)
{
	char path[256];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s.eml", outbox, msgid);
	if (!(fp = fopen(path, "rb")))
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int outbox_count(void)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s 2>/dev/null | grep -c '\\.eml$'", outbox);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* ---- making messages, as the cycle does ---------------------------------- */

struct msg {
	int64_t id;
	char order[32], msgid[64], rcpt[64];
	char text[256];
};

/* A message to RCPT made at CREATED and committed "sending". */
static void make(struct msg *m, const char *rcpt, int64_t created)
{
	struct cd_error err;

	memset(m, 0, sizeof(*m));
	snprintf(m->order, sizeof(m->order), "S-%d", ++serial);
	snprintf(m->msgid, sizeof(m->msgid), "%08x.tok%d@tea.example", (unsigned)serial * 2654435761u,
		 serial);
	snprintf(m->rcpt, sizeof(m->rcpt), "%s", rcpt);
	snprintf(m->text, sizeof(m->text),
		 "From: <feedback@tea.example>\r\nTo: <%s>\r\nMessage-ID: <%s>\r\n"
		 "Subject: How was order %s?\r\n\r\nHello.\r\n.dot line\r\n", rcpt, m->msgid, m->order);
	struct cd_msg_new n = {
		.order_id = m->order, .campaign = "review", .variant = "A", .kind = CD_DUE_REQUEST,
		.recipient = rcpt, .message_id = m->msgid, .token = m->msgid, .subject = "How was it?",
		.created = created,
	};
	assert_int_equal(cd_store_message_insert(st, &n, &m->id, &err), 0);
	assert_int_equal(cd_store_message_set_state(st, m->id, CD_MSG_SENDING, NULL, created, &err), 0);
}

static void submit(struct cd_sender *s, const struct msg *m)
{
	struct cd_error err;
	char *copy = strdup(m->text);

	assert_non_null(copy);
	struct cd_sender_msg msg = { .id = m->id, .kind = "request", .order_id = m->order,
				     .message_id = m->msgid, .recipient = m->rcpt };
	size_t room = 0;

	/* as the cycle does: a connection free first, then the hand-over */
	assert_int_equal(cd_sender_wait(s, &room, &err), 1);
	assert_true(room > 0);
	assert_int_equal(cd_sender_submit(s, &msg, copy, strlen(copy), &err), 0);
}

static struct cd_transport *open_outbox(void)
{
	struct cd_transport *t = NULL;
	struct cd_error err;

	assert_int_equal(cd_transport_open(&cfg, 0, &t, &err), 0);
	assert_string_equal(cd_transport_name(t), "outbox");
	return t;
}

static struct cd_sender *open_sender(struct cd_transport *t, int64_t now)
{
	struct cd_sender *s = NULL;

	assert_int_equal(cd_sender_open(&cfg, st, t, now, NULL, NULL, NULL, &s), 0);
	return s;
}

static void drain(struct cd_sender *s)
{
	struct cd_error err;

	assert_int_equal(cd_sender_drain(s, &err), 0);
}

/* ---- the outbox ------------------------------------------------------------ */

static void test_due_message_is_sent_and_lands_in_outbox(void **state)
{
	struct cd_transport *t = open_outbox();
	struct cd_sender *s = open_sender(t, NOW);
	char buf[256], *bytes;
	struct msg m;
	size_t len;

	(void)state;
	make(&m, "anna@example.org", NOW);
	submit(s, &m);
	drain(s);
	assert_string_equal(state_of(m.id), "sent");
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)m.id), 1);
	assert_string_equal(col(m.id, "mail", buf, sizeof(buf)), "(null)");
	assert_memory_equal(col(m.id, "server_reply", buf, sizeof(buf)), "written to ", 11);
	assert_int_equal(num("SELECT count(*) FROM events WHERE message = %lld AND kind = 'sent'",
			     (long long)m.id), 1);
	assert_int_equal(cd_sender_stats(s)->sent, 1);
	bytes = outbox_file(m.msgid, &len);
	assert_non_null(bytes);
	assert_int_equal(len, strlen(m.text));
	assert_memory_equal(bytes, m.text, len);
	free(bytes);
	/* no temporary file is left behind */
	snprintf(buf, sizeof(buf), "%s/.%s.tmp", outbox, m.msgid);
	assert_int_not_equal(access(buf, F_OK), 0);
	cd_sender_close(s);
	cd_transport_close(t);
}

/* More outcomes than one flush holds (64): every one is recorded. */
static void test_every_outcome_of_a_burst_is_recorded(void **state)
{
	struct cd_transport *t = open_outbox();
	struct cd_sender *s = open_sender(t, NOW);
	struct msg m;
	int64_t first = 0;

	(void)state;
	for (int i = 0; i < 150; i++) {
		char rcpt[64];

		snprintf(rcpt, sizeof(rcpt), "c%d@example.org", i);
		make(&m, rcpt, NOW);
		if (!first)
			first = m.id;
		submit(s, &m);
	}
	drain(s);
	assert_int_equal(num("SELECT count(*) FROM messages WHERE state = 'sent' AND id >= %lld",
			     (long long)first), 150);
	assert_int_equal(num("SELECT count(*) FROM messages WHERE state = 'sending'"), 0);
	assert_int_equal(outbox_count(), 150);
	assert_int_equal(cd_sender_stats(s)->sent, 150);
	cd_sender_close(s);
	cd_transport_close(t);
}

/* The outbox directory is gone (a file took its name): the message is
 * deferred, its bytes kept, its retry set by the backoff. When its time
 * has come it goes again: the same bytes, the same Message-ID, once. */
static void test_deferred_keeps_bytes_and_retries_with_same_message_id(void **state)
{
	struct cd_transport *t = open_outbox();
	struct cd_sender *s = open_sender(t, NOW);
	struct cd_error err;
	struct msg m;
	char buf[512], *bytes;
	int64_t next;
	size_t len;
	FILE *fp;

	(void)state;
	assert_int_equal(rmdir(outbox), 0);
	fp = fopen(outbox, "w");
	assert_non_null(fp);
	fclose(fp);
	make(&m, "bob@example.org", NOW);
	submit(s, &m);
	drain(s);
	assert_string_equal(state_of(m.id), "deferred");
	assert_int_equal(cd_sender_stats(s)->deferred, 1);
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)m.id), 1);
	assert_string_equal(col(m.id, "mail", buf, sizeof(buf)), m.text);
	assert_memory_equal(col(m.id, "server_reply", buf, sizeof(buf)), "outbox ", 7);
	/* retry_min with jitter of a quarter either way */
	next = num("SELECT next_attempt FROM messages WHERE id = %lld", (long long)m.id);
	assert_true(next >= NOW + 300 * 3 / 4 && next <= NOW + 300 * 5 / 4);
	cd_sender_close(s);

	/* the outbox is back; before its time nothing goes */
	assert_int_equal(unlink(outbox), 0);
	assert_int_equal(mkdir(outbox, 0750), 0);
	s = open_sender(t, next - 1);
	assert_int_equal(cd_sender_retry(s, NULL, NULL, &err), 0);
	drain(s);
	assert_string_equal(state_of(m.id), "deferred");
	assert_int_equal(outbox_count(), 0);
	cd_sender_close(s);

	s = open_sender(t, next);
	assert_int_equal(cd_sender_retry(s, NULL, NULL, &err), 0);
	drain(s);
	assert_string_equal(state_of(m.id), "sent");
	assert_int_equal(cd_sender_stats(s)->sent, 1);
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)m.id), 2);
	/* sent: nothing kept to send again */
	assert_string_equal(col(m.id, "mail", buf, sizeof(buf)), "(null)");
	bytes = outbox_file(m.msgid, &len);
	assert_non_null(bytes);
	assert_int_equal(len, strlen(m.text));
	assert_memory_equal(bytes, m.text, len);
	free(bytes);
	assert_int_equal(outbox_count(), 1);
	cd_sender_close(s);

	/* a later retry finds nothing to send: the file, gone, stays gone */
	snprintf(buf, sizeof(buf), "%s/%s.eml", outbox, m.msgid);
	assert_int_equal(unlink(buf), 0);
	s = open_sender(t, next + 86400);
	assert_int_equal(cd_sender_retry(s, NULL, NULL, &err), 0);
	drain(s);
	assert_int_equal(outbox_count(), 0);
	assert_int_equal(cd_sender_stats(s)->sent, 0);
	cd_sender_close(s);
	cd_transport_close(t);
}

/* A message deferred for longer than smtp.retry_for has failed; its
 * bytes are not kept. */
static void test_deferred_past_retry_for_fails(void **state)
{
	struct cd_transport *t = open_outbox();
	struct cd_sender *s = open_sender(t, NOW);
	char buf[512];
	struct msg m;
	FILE *fp;

	(void)state;
	assert_int_equal(rmdir(outbox), 0);
	fp = fopen(outbox, "w");
	assert_non_null(fp);
	fclose(fp);
	make(&m, "old@example.org", NOW - cfg.smtp.retry_for);
	submit(s, &m);
	drain(s);
	assert_string_equal(state_of(m.id), "failed");
	assert_int_equal(cd_sender_stats(s)->failed, 1);
	assert_int_equal(cd_sender_stats(s)->deferred, 0);
	assert_memory_equal(col(m.id, "reason", buf, sizeof(buf)), "gave up after 1 attempts", 24);
	assert_string_equal(col(m.id, "mail", buf, sizeof(buf)), "(null)");
	assert_string_equal(col(m.id, "next_attempt", buf, sizeof(buf)), "(null)");
	cd_sender_close(s);
	cd_transport_close(t);
	assert_int_equal(unlink(outbox), 0);
}

/* ---- every outcome, through a backend of the test's own -------------------- */

/* What the scripted backend saw of each message. */
static struct {
	int n;
	char msgid[16][64], env_from[16][64], rcpt[16][64];
	char committed_state[16][16]; /* the row's state, read by another connection */
} seen;

/* The outcome is named by the recipient's local part. */
static void script_send(struct cd_transport *t, const struct cd_outgoing *msg,
			struct cd_send_result *res)
{
	char q[256];
	sqlite3_stmt *s;
	int i = seen.n++;

	(void)t;
	assert_true(i < 16);
	snprintf(seen.msgid[i], sizeof(seen.msgid[i]), "%s", msg->message_id);
	snprintf(seen.env_from[i], sizeof(seen.env_from[i]), "%s", msg->envelope_from);
	snprintf(seen.rcpt[i], sizeof(seen.rcpt[i]), "%s", msg->recipient);
	snprintf(q, sizeof(q), "SELECT state FROM messages WHERE message_id = '%s'", msg->message_id);
	assert_int_equal(sqlite3_prepare_v2(raw, q, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(seen.committed_state[i], sizeof(seen.committed_state[i]), "%s",
			 (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);

	memset(res, 0, sizeof(*res));
	if (strncmp(msg->recipient, "sent@", 5) == 0) {
		*res = (struct cd_send_result){ .outcome = CD_SEND_SENT, .code = 250 };
		snprintf(res->reply, sizeof(res->reply), "250 2.0.0 Ok: queued");
	} else if (strncmp(msg->recipient, "nobody@", 7) == 0) {
		*res = (struct cd_send_result){ .outcome = CD_SEND_FAILED, .code = 550, .bad_mailbox = 1 };
		snprintf(res->reply, sizeof(res->reply), "550 5.1.1 <%s>: user unknown", msg->recipient);
	} else if (strncmp(msg->recipient, "policy@", 7) == 0) {
		*res = (struct cd_send_result){ .outcome = CD_SEND_FAILED, .code = 554 };
		snprintf(res->reply, sizeof(res->reply), "554 5.7.1 message refused");
	} else if (strncmp(msg->recipient, "later@", 6) == 0) {
		*res = (struct cd_send_result){ .outcome = CD_SEND_DEFERRED, .code = 451 };
		snprintf(res->reply, sizeof(res->reply), "451 4.3.0 try again later");
	} else if (strncmp(msg->recipient, "lost@", 5) == 0) {
		*res = (struct cd_send_result){ .outcome = CD_SEND_UNKNOWN };
		snprintf(res->reply, sizeof(res->reply), "connection lost after DATA");
	} else {
		*res = (struct cd_send_result){ .outcome = CD_SEND_PAUSED, .code = 535 };
		snprintf(res->reply, sizeof(res->reply), "535 5.7.8 authentication failed");
	}
}

static int script_open(struct cd_transport *t, const struct cd_config *c, struct cd_error *err)
{
	(void)t, (void)c, (void)err;
	return 0;
}

static void script_close(struct cd_transport *t)
{
	(void)t;
}

static const struct cd_transport_ops script_ops = {
	.name = "script", .open = script_open, .send = script_send, .close = script_close,
};

static void test_each_outcome_lands_in_its_state(void **state)
{
	struct cd_transport t = { .ops = &script_ops };
	struct cd_sender *s;
	struct msg sent, nobody, policy, later, lost;
	char buf[512];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	cfg.smtp.envelope_from = "bounces@tea.example";
	s = open_sender(&t, NOW);
	make(&sent, "sent@example.org", NOW);
	make(&nobody, "nobody@example.org", NOW);
	make(&policy, "policy@example.org", NOW);
	make(&later, "later@example.org", NOW);
	make(&lost, "lost@example.org", NOW);
	submit(s, &sent);
	submit(s, &nobody);
	submit(s, &policy);
	submit(s, &later);
	submit(s, &lost);
	drain(s);
	cfg.smtp.envelope_from = "";

	/* the envelope: smtp.envelope_from when set, the message's own
	 * recipient and Message-ID */
	assert_int_equal(seen.n, 5);
	assert_string_equal(seen.env_from[0], "bounces@tea.example");
	assert_string_equal(seen.rcpt[1], "nobody@example.org");
	assert_string_equal(seen.msgid[1], nobody.msgid);

	assert_string_equal(state_of(sent.id), "sent");
	assert_string_equal(col(sent.id, "server_reply", buf, sizeof(buf)), "250 2.0.0 Ok: queued");

	/* a 5.1.x rejection fails the message and suppresses the address */
	assert_string_equal(state_of(nobody.id), "failed");
	assert_non_null(strstr(col(nobody.id, "reason", buf, sizeof(buf)), "5.1.1"));
	assert_int_equal(num("SELECT count(*) FROM suppressions WHERE email = 'nobody@example.org'"
			     " AND reason = 'hard_bounce'"), 1);
	/* another 5xx fails it and suppresses nobody */
	assert_string_equal(state_of(policy.id), "failed");
	assert_int_equal(num("SELECT count(*) FROM suppressions WHERE email = 'policy@example.org'"), 0);

	assert_string_equal(state_of(later.id), "deferred");
	assert_string_equal(col(later.id, "mail", buf, sizeof(buf)), later.text);

	/* it may have arrived: left "sending", said why, never retried */
	assert_string_equal(state_of(lost.id), "sending");
	assert_non_null(strstr(col(lost.id, "reason", buf, sizeof(buf)), "not sent again"));
	assert_string_equal(col(lost.id, "mail", buf, sizeof(buf)), "(null)");
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)lost.id), 1);

	assert_int_equal(cd_sender_stats(s)->sent, 1);
	assert_int_equal(cd_sender_stats(s)->failed, 2);
	assert_int_equal(cd_sender_stats(s)->deferred, 1);
	assert_int_equal(cd_sender_stats(s)->unknown, 1);
	assert_false(cd_sender_paused(s));
	cd_sender_close(s);
}

/* A refused login is our problem: the message goes back in line without
 * an attempt counted, sending pauses (and says so in the store) until
 * smtp.pause_retry or an unpause. */
static void test_refused_login_pauses_and_counts_no_attempt(void **state)
{
	struct cd_transport t = { .ops = &script_ops };
	struct cd_sender *s;
	struct cd_error err;
	char buf[512], why[300];
	struct msg m;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	s = open_sender(&t, NOW);
	make(&m, "anyone@example.org", NOW);
	submit(s, &m);
	drain(s);
	assert_true(cd_sender_paused(s));
	assert_string_equal(state_of(m.id), "deferred");
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)m.id), 0);
	assert_int_equal(num("SELECT next_attempt FROM messages WHERE id = %lld", (long long)m.id), NOW);
	assert_string_equal(col(m.id, "mail", buf, sizeof(buf)), m.text);
	/* back in line as deferred (our problem, not the customer's), and
	 * never counted as a failure */
	assert_int_equal(cd_sender_stats(s)->failed, 0);
	cd_sender_close(s);

	assert_true(cd_sender_is_paused(st, &cfg, NOW + 899, why, sizeof(why)));
	assert_non_null(strstr(why, "535 5.7.8"));
	assert_false(cd_sender_is_paused(st, &cfg, NOW + 900, NULL, 0));
	assert_int_equal(cd_sender_unpause(st, &err), 0);
	assert_false(cd_sender_is_paused(st, &cfg, NOW + 1, NULL, 0));
}

/* A retry is made "sending", committed, before the transport sees it:
 * a crash in between loses the send and never doubles it. A message a
 * crash left "sending" is not retried. */
static void test_retry_is_committed_sending_before_transport_sees_it(void **state)
{
	struct cd_transport t = { .ops = &script_ops };
	struct cd_sender *s;
	struct cd_error err;
	struct msg later, crashed;
	int64_t next;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	s = open_sender(&t, NOW);
	make(&later, "later@example.org", NOW);
	submit(s, &later);
	drain(s);
	cd_sender_close(s);
	assert_string_equal(state_of(later.id), "deferred");
	make(&crashed, "sent@example.org", NOW); /* "sending", never handed over */

	next = num("SELECT next_attempt FROM messages WHERE id = %lld", (long long)later.id);
	s = open_sender(&t, next);
	assert_int_equal(cd_sender_retry(s, NULL, NULL, &err), 0);
	drain(s);
	cd_sender_close(s);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.msgid[1], later.msgid);
	assert_string_equal(seen.committed_state[0], "sending");
	assert_string_equal(seen.committed_state[1], "sending");
	assert_string_equal(state_of(later.id), "deferred"); /* deferred again */
	assert_int_equal(num("SELECT attempts FROM messages WHERE id = %lld", (long long)later.id), 2);
	/* the second wait is longer: retry_min doubled, with jitter */
	assert_true(num("SELECT next_attempt FROM messages WHERE id = %lld", (long long)later.id) >=
		    next + 600 * 3 / 4);
	assert_string_equal(state_of(crashed.id), "sending");
}

/* A retry stops as soon as the caller says no more may go. */
static int allow_one(void *arg)
{
	int *left = arg;

	return (*left)-- > 0;
}

static void test_retry_stops_when_told(void **state)
{
	struct cd_transport *t = open_outbox();
	struct cd_sender *s = open_sender(t, NOW);
	struct cd_error err;
	struct msg a, b;
	int left = 1;
	FILE *fp;

	(void)state;
	assert_int_equal(rmdir(outbox), 0);
	fp = fopen(outbox, "w");
	assert_non_null(fp);
	fclose(fp);
	make(&a, "a@example.org", NOW);
	make(&b, "b@example.org", NOW);
	submit(s, &a);
	submit(s, &b);
	drain(s);
	cd_sender_close(s);
	assert_int_equal(unlink(outbox), 0);
	assert_int_equal(mkdir(outbox, 0750), 0);

	s = open_sender(t, NOW + 3600);
	assert_int_equal(cd_sender_retry(s, allow_one, &left, &err), 0);
	drain(s);
	assert_int_equal(cd_sender_stats(s)->sent, 1);
	assert_string_equal(state_of(a.id), "sent");
	assert_string_equal(state_of(b.id), "deferred");
	assert_int_equal(outbox_count(), 1);
	cd_sender_close(s);
	cd_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define WITH_STORE(t) cmocka_unit_test_setup_teardown(t, open_store, close_store)
		WITH_STORE(test_due_message_is_sent_and_lands_in_outbox),
		WITH_STORE(test_every_outcome_of_a_burst_is_recorded),
		WITH_STORE(test_deferred_keeps_bytes_and_retries_with_same_message_id),
		WITH_STORE(test_deferred_past_retry_for_fails),
		WITH_STORE(test_each_outcome_lands_in_its_state),
		WITH_STORE(test_refused_login_pauses_and_counts_no_attempt),
		WITH_STORE(test_retry_is_committed_sending_before_transport_sees_it),
		WITH_STORE(test_retry_stops_when_told),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
