/* test_store_engines.c - every store verb does the same on each engine:
 * on a real SQLite file by default, and on a real PostgreSQL database
 * when CANDOR_TEST_PG holds a libpq connection string (see
 * tests/integration/postgres.sh, which starts a server and runs this
 * again). Only the typed verbs are used, so what passes here holds for
 * both; a few tests are PostgreSQL's own (plans on indexes, a lost
 * connection, a writer that commits after the pass began). */
#include "config.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "candor/config.h"
#include "candor/due.h"
#include "candor/order.h"
#include "candor/store.h"
#include "candor/store_claim.h"
#include "candor/store_due.h"
#include "candor/store_inbox.h"
#include "candor/store_message.h"
#include "candor/store_order.h"
#include "candor/store_report.h"
#include "candor/track.h"

#define DAY 86400LL
#define NOW 1800000000LL

static char dir[64];
static const char *pg; /* CANDOR_TEST_PG */
static struct cd_store *st;

static const struct cd_campaign review = {
	.name = "review", .trigger = CD_TRIGGER_DELIVERED, .delay = 7 * DAY,
	.expire = 30 * DAY, .reminder = 5 * DAY, .max_rating = 2,
};
static const struct cd_campaign apology = {
	.name = "sorry", .trigger = CD_TRIGGER_NEGATIVE_FEEDBACK, .delay = 0,
	.expire = 60 * DAY, .max_rating = 2,
};

/* SQL on a connection of its own, as the shop's or an admin's tools. */
static void pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pg);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static int open_store(int flags, struct cd_store **out)
{
	struct cd_store_target t = { .engine = CD_STORE_SQLITE };
	char path[128];
	struct cd_error err;
	int rc;

	snprintf(path, sizeof(path), "%s/candor.db", dir);
	if (pg) {
		t.engine = CD_STORE_POSTGRESQL;
		t.conninfo = pg;
	} else {
		t.path = path;
	}
	if ((rc = cd_store_open_target(&t, flags, out, &err)) < 0)
		fprintf(stderr, "# open: %s\n", err.msg);
	return rc;
}

static int setup(void **state)
{
	int created;
	struct cd_error err;

	(void)state;
	pg = getenv("CANDOR_TEST_PG");
	if (pg && !*pg)
		pg = NULL;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-engines-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (pg) {
		/* a database of the test's own, emptied */
		PGconn *c = PQconnectdb(pg);
		PGresult *r;

		if (PQstatus(c) != CONNECTION_OK)
			return -1;
		r = PQexec(c, "SET client_min_messages = warning;"
			   " DROP SCHEMA public CASCADE; CREATE SCHEMA public");
		PQclear(r);
		PQfinish(c);
	}
	if (open_store(CD_STORE_CREATE, &st) < 0)
		return -1;
	return cd_store_init_secret(st, &created, &err);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cd_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void order(const char *id, const char *email, int64_t delivered, const char *channel)
{
	struct cd_order o = { .id = id, .email = email, .delivered = delivered, .channel = channel,
			      .status = "delivered", .first_name = "Zoë" };
	struct cd_error err;

	assert_int_equal(cd_store_order_upsert(st, &o, NOW, &err), 0);
}

enum { SAVE = 1, REMEMBER = 2 };

/* The due orders of CP and K at NOW as "id,id", read from the saved
 * position; with SAVE the pass moves it on, with REMEMBER each order
 * found waits (as for a closed send window) and so is a candidate again. */
static void due(const struct cd_campaign *cp, enum cd_due_kind k, int64_t now, int how,
		char *out, size_t len)
{
	struct cd_due_order *orders = calloc(CD_DUE_BATCH, sizeof(*orders));
	struct cd_due_page pg_ = { .key = INT64_MIN };
	struct cd_due_scan sc;
	struct cd_error err;
	size_t n = 0;
	int more = 0;

	assert_non_null(orders);
	out[0] = '\0';
	cd_due_load_scan(st, cp, k, now, NULL, 0, &sc);
	sc.cap_since = now - 90 * DAY;
	assert_int_equal(cd_due_next_batch(st, cp, k, now, &sc, &pg_, orders, &n, &more, &err), 0);
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(out);

		snprintf(out + used, len - used, "%s%s", used ? "," : "", orders[i].order.id);
		if (how & REMEMBER)
			assert_int_equal(cd_due_remember_waiting(st, cp, k, orders[i].order.id, now), 0);
		cd_due_order_clear(&orders[i]);
	}
	free(orders);
	if (how & SAVE)
		assert_int_equal(cd_due_save_scan(st, cp, k, now, &sc, &err), 0);
}

/* A token as the tracker reads them (32 hex digits), one per message. */
static void token_of(const char *order_id, const char *campaign, enum cd_due_kind k,
		     char out[33])
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = order_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = campaign; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h, (unsigned long long)k);
}

static int64_t send_one(const char *order_id, const char *email, const char *campaign,
			enum cd_due_kind k, int64_t now)
{
	char msgid[64], token[33];
	struct cd_msg_new m = { .order_id = order_id, .campaign = campaign, .variant = "A",
				.kind = k, .recipient = email, .subject = "How was it?",
				.message_id = msgid, .token = token, .created = now };
	struct cd_error err;
	int64_t id = 0;

	snprintf(msgid, sizeof(msgid), "%s.%s.%d@shop.example", order_id, campaign, (int)k);
	token_of(order_id, campaign, k, token);
	assert_int_equal(cd_store_message_insert(st, &m, &id, &err), 0);
	assert_true(id > 0);
	assert_int_equal(cd_store_message_set_state(st, id, CD_MSG_SENDING, NULL, now, &err), 0);
	assert_int_equal(cd_store_message_set_state(st, id, CD_MSG_SENT, "250 ok", now, &err), 0);
	return id;
}

static void test_name_says_engine_and_no_secret(void **state)
{
	(void)state;
	assert_int_equal(cd_store_engine_of(st), pg ? CD_STORE_POSTGRESQL : CD_STORE_SQLITE);
	if (pg) {
		assert_non_null(strstr(cd_store_name(st), "postgresql://"));
		assert_null(strstr(cd_store_name(st), "password"));
	}
}

static void test_secret_kept_and_meta_keeps_any_text(void **state)
{
	static const char odd[] = "back\\slash 'quote' \"dq\" ?1 $1 \xc3\xa9";
	unsigned char a[32], b[32];
	struct cd_error err;
	struct cd_store *again;
	char buf[128];
	int created;

	(void)state;
	assert_int_equal(cd_store_secret(st, a, &err), 0);
	assert_int_equal(open_store(0, &again), 0);
	assert_int_equal(cd_store_init_secret(again, &created, &err), 0);
	assert_false(created);
	assert_int_equal(cd_store_secret(again, b, &err), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(cd_store_meta_set(again, "probe", odd, &err), 0);
	cd_store_close(again);
	assert_int_equal(cd_store_meta_get(st, "probe", buf, sizeof(buf)), 0);
	assert_string_equal(buf, odd);
	assert_int_equal(cd_store_meta_set(st, "probe", NULL, &err), 0);
	assert_int_equal(cd_store_meta_get(st, "probe", buf, sizeof(buf)), CD_ENOTFOUND);
}

struct hist {
	char first[64], email[64], items[64];
	int64_t delivered;
};

static int hist_order(void *arg, const struct cd_order *o)
{
	struct hist *h = arg;

	snprintf(h->first, sizeof(h->first), "%s", o->first_name ? o->first_name : "");
	snprintf(h->email, sizeof(h->email), "%s", o->email);
	snprintf(h->items, sizeof(h->items), "%s", o->items);
	h->delivered = o->delivered;
	return 0;
}

static void test_upsert_keeps_what_a_row_leaves_out(void **state)
{
	struct cd_order o = { .id = "keep?1", .email = "K@x.example", .first_name = "Kai",
			      .delivered = NOW - 40 * DAY, .status = "delivered" };
	struct cd_order again = { .id = "keep?1", .email = "k@x.example" };
	struct cd_error err;
	struct hist h;
	int64_t n;

	(void)state;
	assert_int_equal(cd_store_order_upsert(st, &o, NOW, &err), 0);
	assert_int_equal(cd_store_order_upsert(st, &again, NOW, &err), 0);
	assert_int_equal(cd_store_history_order(st, "keep?1", hist_order, &h), 0);
	assert_string_equal(h.first, "Kai");
	assert_string_equal(h.email, "k@x.example");
	assert_string_equal(h.items, "[]");
	assert_true(h.delivered == NOW - 40 * DAY);
	assert_int_equal(cd_store_order_exists(st, "keep?1"), 1);
	assert_int_equal(cd_store_order_exists(st, "nope"), 0);
	assert_int_equal(cd_store_order_count(st, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(cd_store_history_order(st, "nope", hist_order, &h), CD_ENOTFOUND);
}

static void test_request_due_once_in_written_order(void **state)
{
	char ids[256];

	(void)state;
	order("r2", "Two@Case.example", NOW - 8 * DAY, NULL);
	order("r1", "one@case.example", NOW - 9 * DAY, NULL);
	order("r3", "three@case.example", NOW - 3 * DAY, NULL);   /* not yet */
	order("r4", "four@case.example", NOW - 31 * DAY, NULL);   /* expired */
	due(&review, CD_DUE_REQUEST, NOW, SAVE | REMEMBER, ids, sizeof(ids));
	assert_string_equal(ids, "r2,r1");
	send_one("r2", "Two@Case.example", "review", CD_DUE_REQUEST, NOW);
	due(&review, CD_DUE_REQUEST, NOW + 60, SAVE | REMEMBER, ids, sizeof(ids));
	assert_string_equal(ids, "r1");
	/* an order written later with an old date is found through the change log */
	order("r5", "five@case.example", NOW - 10 * DAY, NULL);
	due(&review, CD_DUE_REQUEST, NOW + 120, SAVE | REMEMBER, ids, sizeof(ids));
	assert_string_equal(ids, "r1,r5");
	/* the counts the caps and rates read, without case */
	struct cd_error err;

	assert_int_equal(cd_store_message_customer_count(st, "two@CASE.example", NOW - DAY, &err), 1);
	assert_int_equal(cd_store_message_domain_sent_since(st, "CASE.example", NOW - DAY, &err), 1);
	assert_true(cd_store_message_sent_since(st, NOW - DAY, &err) >= 1);
	assert_int_equal(cd_store_due_forget_changes(st, cd_store_due_change_mark(st, CD_DUE_REQUEST),
						     &err), 0);
}

static void test_suppression_without_case(void **state)
{
	struct cd_error err;
	char ids[256];
	int added;

	(void)state;
	order("s1", "Mixed@Case.example", NOW - 8 * DAY, NULL);
	assert_int_equal(cd_store_suppress(st, "mixed@CASE.example", "blocked", "abuse", NOW, &err), 0);
	assert_int_equal(cd_store_suppress_first(st, "MIXED@case.example", "hard_bounce", NULL, NOW,
						 &added), 0);
	assert_false(added);
	due(&review, CD_DUE_REQUEST, NOW + 180, SAVE | REMEMBER, ids, sizeof(ids));
	assert_null(strstr(ids, "s1"));
	assert_int_equal(cd_store_unsuppress(st, "MiXeD@case.EXAMPLE", &err), 0);
	assert_int_equal(cd_store_unsuppress(st, "mixed@case.example", &err), CD_ENOTFOUND);
	/* lifting it touched the order: the next pass sees it again */
	due(&review, CD_DUE_REQUEST, NOW + 240, SAVE | REMEMBER, ids, sizeof(ids));
	assert_non_null(strstr(ids, "s1"));
	assert_int_equal(cd_store_suppress(st, "x@y.example", "lost", NULL, NOW, &err), CD_EINVAL);
}

static void test_reminder_skips_answered_and_listed_channels(void **state)
{
	int64_t t = NOW + 2 * DAY;
	char ids[256];

	(void)state;
	order("m1", "m1@x.example", NOW - 8 * DAY, "web");
	order("m2", "m2@x.example", NOW - 8 * DAY, "amazon");
	order("m3", "m3@x.example", NOW - 8 * DAY, "web");
	send_one("m1", "m1@x.example", "review", CD_DUE_REQUEST, t);
	send_one("m2", "m2@x.example", "review", CD_DUE_REQUEST, t);
	assert_int_equal(cd_store_event_add(st, send_one("m3", "m3@x.example", "review",
							 CD_DUE_REQUEST, t),
					    "m3", "replied", NULL, t + 10), 0);
	{
		const char *amazon[] = { "amazon" };
		struct cd_due_order *orders = calloc(CD_DUE_BATCH, sizeof(*orders));
		struct cd_due_page p = { .key = INT64_MIN };
		struct cd_due_scan sc;
		struct cd_error err;
		size_t n = 0;
		int more;

		cd_due_load_scan(st, &review, CD_DUE_REMINDER, t + 6 * DAY, amazon, 1, &sc);
		assert_int_equal(cd_due_next_batch(st, &review, CD_DUE_REMINDER, t + 6 * DAY, &sc, &p,
						   orders, &n, &more, &err), 0);
		/* r2 got its request earlier and has not answered either */
		assert_int_equal(n, 2);
		assert_string_equal(orders[0].order.id, "r2");
		assert_string_equal(orders[1].order.id, "m1");
		assert_string_equal(orders[1].variant, "A");
		cd_due_order_clear(&orders[0]);
		cd_due_order_clear(&orders[1]);
		free(orders);
	}
	due(&review, CD_DUE_REMINDER, t + 6 * DAY, 0, ids, sizeof(ids));
	assert_string_equal(ids, "r2,m1,m2");
}

static void test_apology_for_worst_feedback_once(void **state)
{
	struct cd_feedback f = { .order_id = "a1", .rating = 1, .comment = "broken",
				 .received = NOW - DAY };
	struct cd_feedback good = { .order_id = "a2", .rating = 5, .received = NOW - DAY };
	struct cd_due_order o;
	struct cd_error err;
	char ids[256];
	int64_t n;

	(void)state;
	order("a1", "a1@x.example", NOW - 20 * DAY, NULL);
	order("a2", "a2@x.example", NOW - 20 * DAY, NULL);
	assert_int_equal(cd_store_feedback_add(st, &f, &err), 0);
	assert_int_equal(cd_store_feedback_add(st, &f, &err), 0); /* the same, once */
	assert_int_equal(cd_store_feedback_add(st, &good, &err), 0);
	assert_int_equal(cd_store_feedback_count(st, &n), 0);
	assert_int_equal(n, 2);
	due(&apology, CD_DUE_APOLOGY, NOW, SAVE | REMEMBER, ids, sizeof(ids));
	assert_string_equal(ids, "a1");
	assert_int_equal(cd_due_load_order(st, "a1", &apology, CD_DUE_APOLOGY, &o, &err), 0);
	assert_int_equal(o.rating, 1);
	assert_string_equal(o.comment, "broken");
	assert_string_equal(o.order.first_name, "Zoë");
	cd_due_order_clear(&o);
	send_one("a1", "a1@x.example", "sorry", CD_DUE_REQUEST, NOW);
	due(&apology, CD_DUE_APOLOGY, NOW + 60, SAVE | REMEMBER, ids, sizeof(ids));
	assert_string_equal(ids, "");
	assert_int_equal(cd_due_load_order(st, "gone", &apology, CD_DUE_APOLOGY, &o, &err),
			 CD_ENOTFOUND);
}

static void test_deferred_keeps_its_bytes(void **state)
{
	static const char mail[] = "Subject: x\r\n\r\n\0\x01\xff\\x00 binary ?1\r\n";
	/* a server's reply in no valid UTF-8 is still recorded */
	struct cd_msg_change c = { .state = CD_MSG_DEFERRED, .reply = "451 l\xe4ter\xff", .attempt = 1,
				   .next_attempt = NOW + 60, .mail = mail, .len = sizeof(mail) };
	struct cd_msg_new m = { .order_id = "d1", .campaign = "review", .variant = "A",
				.kind = CD_DUE_REQUEST, .recipient = "d1@x.example",
				.message_id = "d1@shop.example", .token = "tok-d1", .created = NOW };
	struct cd_msg_retry r;
	struct cd_error err;
	int64_t id, ids[4], created, attempts;
	size_t n;

	(void)state;
	order("d1", "d1@x.example", NOW - 8 * DAY, NULL);
	assert_int_equal(cd_store_message_insert(st, &m, &id, &err), 0);
	assert_int_not_equal(cd_store_message_insert(st, &m, &id, &err), 0); /* once per order */
	assert_int_equal(cd_store_message_change(st, id, &c, NOW, &err), 0);
	assert_int_equal(cd_store_message_next_retry(st), NOW + 60);
	assert_int_equal(cd_store_message_retries(st, NOW + 60, 0, ids, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(ids[0] == id);
	assert_int_equal(cd_store_message_retry(st, id, &r, &err), 1);
	assert_int_equal(r.len, sizeof(mail));
	assert_memory_equal(r.mail, mail, sizeof(mail));
	assert_string_equal(r.message_id, "d1@shop.example");
	cd_msg_retry_clear(&r);
	assert_int_equal(cd_store_message_attempts(st, id, &created, &attempts), 0);
	assert_true(created == NOW && attempts == 1);
	assert_int_equal(cd_store_message_set_state(st, id, CD_MSG_SENDING, NULL, NOW + 60, &err), 0);
	assert_int_equal(cd_store_message_retry(st, id, &r, &err), 0);
}

/* Two daemons deciding a test's winner at the same moment: the first
 * decision written stands, for both. */
static void test_winner_decided_once(void **state)
{
	char w[64];
	struct cd_error err;

	(void)state;
	assert_int_equal(cd_store_winner_decide(st, "ab", "B", w, sizeof(w), &err), 1);
	assert_string_equal(w, "B");
	assert_int_equal(cd_store_winner_decide(st, "ab", "A", w, sizeof(w), &err), 0);
	assert_string_equal(w, "B");
	assert_int_equal(cd_store_winner(st, "ab", w, sizeof(w)), 0);
	assert_string_equal(w, "B");
}

/* A deferred message is taken for its next attempt once: a second
 * daemon asking for the same row gets nothing. */
static void test_retry_taken_once(void **state)
{
	struct cd_msg_change c = { .state = CD_MSG_DEFERRED, .reply = "451 later", .attempt = 1,
				   .next_attempt = NOW + 60, .mail = "x", .len = 1 };
	struct cd_error err;
	int64_t id;

	(void)state;
	order("t1", "t1@x.example", NOW - 8 * DAY, NULL);
	assert_int_equal(cd_store_message_insert(st, &(struct cd_msg_new){
		.order_id = "t1", .campaign = "review", .variant = "A", .kind = CD_DUE_REQUEST,
		.recipient = "t1@x.example", .message_id = "t1@shop.example", .token = "tok-t1",
		.created = NOW }, &id, &err), 0);
	assert_int_equal(cd_store_message_change(st, id, &c, NOW, &err), 0);
	assert_int_equal(cd_store_message_take(st, id, NOW + 60, &err), 1);
	assert_int_equal(cd_store_message_take(st, id, NOW + 60, &err), 0);
	assert_int_equal(cd_store_message_set_state(st, id, CD_MSG_SENT, "250 ok", NOW + 61, &err), 0);
}

static void note_interrupted(void *arg, const char *order_id, const char *message_id)
{
	(void)message_id;
	if (strcmp(order_id, "d1") == 0)
		(*(int *)arg)++;
}

static void test_sending_is_reported_and_counted(void **state)
{
	int64_t counts[CD_MSG_NSTATES];
	struct cd_error err;
	int seen = 0;

	(void)state;
	assert_true(cd_store_message_interrupted(st, note_interrupted, &seen, &err) >= 1);
	assert_int_equal(seen, 1);
	assert_int_equal(cd_store_count_states(st, counts, &err), 0);
	assert_int_equal(counts[CD_MSG_SENDING], 1);
	assert_true(counts[CD_MSG_SENT] >= 5);
}

static void test_inbox_verbs(void **state)
{
	static const char body[] = "thanks\0and more";
	struct cd_reply r = { .order_id = "r2", .kind = "reply", .sender = "two@case.example",
			      .subject = "Re: tea", .body = body, .body_len = sizeof(body) - 1,
			      .received = NOW };
	struct cd_sent_message m;
	int fresh;

	(void)state;
	assert_int_equal(cd_store_inbox_seen(st, "<k1@x>", "reply", NOW, &fresh), 0);
	assert_true(fresh);
	assert_int_equal(cd_store_inbox_seen(st, "<k1@x>", "reply", NOW, &fresh), 0);
	assert_false(fresh);
	char tok[33];

	token_of("r2", "review", CD_DUE_REQUEST, tok);
	assert_int_equal(cd_store_message_by_token(st, tok, &m), 1);
	assert_string_equal(m.order_id, "r2");
	r.message = m.id;
	assert_int_equal(cd_store_reply_add(st, &r), 0);
	assert_int_equal(cd_store_message_by_token(st, "00000000000000000000000000000000", &m), 0);
	assert_int_equal(cd_store_message_last_to(st, "TWO@case.EXAMPLE", &m), 1);
	assert_string_equal(m.order_id, "r2");
	assert_int_equal(cd_store_event_add(st, m.id, "r2", "bounced", "soft 4.2.2 full", NOW + 1), 0);
	assert_int_equal(cd_store_event_add(st, m.id, "r2", "bounced", "soft 4.2.2 full", NOW + 2), 0);
	assert_int_equal(cd_store_soft_bounces_in_a_row(st, "two@case.example"), 2);
	assert_int_equal(cd_store_event_add(st, m.id, "r2", "replied", NULL, NOW + 3), 0);
	assert_int_equal(cd_store_soft_bounces_in_a_row(st, "Two@Case.example"), 0);
}

static void test_tracking_effects(void **state)
{
	struct cd_config cfg = { .tracking.soft_bounce_limit = 3 };
	struct cd_track_stats stats = { 0 };
	enum cd_mail_kind kind;
	struct cd_error err;
	char ids[256];
	char unsub[256], tok[33];

	(void)state;
	token_of("m1", "review", CD_DUE_REQUEST, tok);
	snprintf(unsub, sizeof(unsub), "From: m1@x.example\nTo: feedback+%s@shop.example\n"
		 "Subject: unsubscribe\nMessage-ID: <u1@m1>\n\nunsubscribe\n", tok);
	assert_int_equal(cd_track_mail(st, &cfg, unsub, strlen(unsub), NOW, &kind, &stats, &err), 0);
	assert_int_equal(kind, CD_MAIL_UNSUBSCRIBE);
	assert_int_equal(stats.suppressed, 1);
	/* the same mail read again counts once */
	assert_int_equal(cd_track_mail(st, &cfg, unsub, strlen(unsub), NOW, &kind, &stats, &err), 0);
	assert_int_equal(stats.duplicates, 1);
	order("u2", "M1@X.example", NOW - 8 * DAY, NULL);
	due(&review, CD_DUE_REQUEST, NOW + 300, SAVE | REMEMBER, ids, sizeof(ids));
	assert_null(strstr(ids, "u2"));
}

struct counts_ctx {
	int64_t sent, replied;
};

static int variant_row(void *arg, const struct cd_variant_counts *c)
{
	struct counts_ctx *x = arg;

	x->sent += c->sent;
	x->replied += c->replied;
	return 0;
}

/* The groups summed: requests (as variant_row) and reminders apart. */
struct groups_ctx {
	int64_t sent, replied, reminders, first, last;
	int days_ok;
};

static int group_row(void *arg, const struct cd_message_group *g)
{
	struct groups_ctx *x = arg;

	assert_non_null(g->kind);
	if (strcmp(g->kind, "reminder") == 0) {
		x->reminders += g->sent;
	} else {
		x->sent += g->sent;
		x->replied += g->replied;
	}
	if (!x->first || g->first < x->first)
		x->first = g->first;
	if (g->last > x->last)
		x->last = g->last;
	x->days_ok &= g->first / DAY == g->day && g->last / DAY == g->day && g->first <= g->last;
	return 0;
}

static int event_row(void *arg, const struct cd_event_record *e)
{
	(*(int *)arg)++;
	(void)e;
	return 0;
}

static void test_report_and_history(void **state)
{
	struct counts_ctx x = { 0 };
	struct cd_apology_counts a = { 0 };
	struct cd_error err;
	char winner[32];
	int64_t at = 0;
	int events = 0;

	(void)state;
	assert_int_equal(cd_store_variant_counts(st, "review", 0, 30 * DAY, variant_row, &x), 0);
	assert_true(x.sent >= 4);
	assert_true(x.replied >= 1);
	{
		struct groups_ctx g = { .days_ok = 1 }, none = { .days_ok = 1 };

		/* the report's grouped read agrees with the experiment's */
		assert_int_equal(cd_store_campaign_groups(st, "review", 0, 0, 30 * DAY, group_row, &g), 0);
		assert_true(g.sent == x.sent);
		assert_true(g.replied == x.replied);
		assert_true(g.days_ok);
		assert_true(g.first > 0 && g.first <= g.last);
		/* until is exclusive, on when the message was made */
		assert_int_equal(cd_store_campaign_groups(st, "review", 0, 1, 30 * DAY, group_row, &none), 0);
		assert_true(none.sent == 0 && none.reminders == 0);
	}
	assert_int_equal(cd_store_apology_counts(st, "sorry", 0, 0, 60 * DAY, &a), 0);
	assert_int_equal(cd_store_apology_counts(st, "none", 0, 0, 60 * DAY, &a), 0);
	assert_int_equal(a.replied, 0);
	assert_int_equal(cd_store_history_events(st, "r2", event_row, &events), 0);
	assert_true(events >= 4);
	assert_int_equal(cd_store_winner(st, "review", winner, sizeof(winner)), CD_ENOTFOUND);
	assert_int_equal(cd_store_winner_set(st, "review", "B", &err), 0);
	assert_int_equal(cd_store_winner(st, "review", winner, sizeof(winner)), 0);
	assert_string_equal(winner, "B");
	assert_int_equal(cd_store_winner_checked_set(st, "review", NOW, &err), 0);
	assert_int_equal(cd_store_winner_checked(st, "review", &at), 0);
	assert_true(at == NOW);
}

static int count_suppressions(void *arg, const struct cd_suppression *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void test_nested_transactions_roll_back_inner_only(void **state)
{
	struct cd_error err;
	int before = 0, after = 0;

	(void)state;
	assert_int_equal(cd_store_suppressions(st, count_suppressions, &before), 0);
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_suppress(st, "n1@x.example", "blocked", NULL, NOW, &err), 0);
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_suppress(st, "n2@x.example", "blocked", NULL, NOW, &err), 0);
	cd_store_rollback(st);
	/* a failed statement inside: the inner level goes, the outer stays */
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_not_equal(cd_store_message_insert(st, &(struct cd_msg_new){
		.order_id = "r2", .campaign = "review", .variant = "A", .kind = CD_DUE_REQUEST,
		.recipient = "x@y", .created = NOW }, &(int64_t){ 0 }, &err), 0);
	cd_store_rollback(st);
	assert_int_equal(cd_store_commit(st, &err), 0);
	assert_int_equal(cd_store_suppressions(st, count_suppressions, &after), 0);
	assert_int_equal(after, before + 1);
}

/* ---- PostgreSQL's own ------------------------------------------------ */

/* The due queries, on a store big enough for the planner to have a
 * choice and with statistics, start from their candidates: no table is
 * read whole. */
static void test_pg_due_plans_use_indexes(void **state)
{
	static const struct { enum cd_due_kind k; enum cd_trigger t; } kinds[] = {
		{ CD_DUE_REQUEST, CD_TRIGGER_DELIVERED }, { CD_DUE_REQUEST, CD_TRIGGER_SHIPPED },
		{ CD_DUE_REMINDER, CD_TRIGGER_DELIVERED }, { CD_DUE_APOLOGY, CD_TRIGGER_NEGATIVE_FEEDBACK },
	};
	PGconn *c;

	(void)state;
	pg_exec("INSERT INTO orders(order_id, email, delivered, shipped, status)"
		" SELECT 'p' || i, 'p' || i || '@x.example', 1700000000 + i * 600,"
		" 1700000000 + i * 500, 'delivered' FROM generate_series(1, 30000) i;"
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)"
		" SELECT order_id, 'review', 'A', 'sent', email, delivered, delivered, delivered"
		" FROM orders WHERE order_id LIKE 'p%';"
		"INSERT INTO feedback(order_id, rating, received) SELECT order_id, 1 + rowid % 5, delivered"
		" FROM orders WHERE order_id LIKE 'p%';"
		"INSERT INTO suppressions(email, reason, at) SELECT 'z' || i || '@x.example', 'blocked', 1"
		" FROM generate_series(1, 5000) i;"
		"ANALYZE orders, messages, feedback, suppressions");
	c = PQconnectdb(pg);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char sql[4096], explain[8192], *o = explain;
		/* an apology campaign's messages are its own, not every order's */
		const char *vals[11] = {
			"1717000000", "1717200000", kinds[i].k == CD_DUE_APOLOGY ? "sorry" : "review",
			"-9223372036854775808", NULL, "2",
			"1717000000", "1717100000", "9223372036854775807", "[\"amazon\"]", "1710000000",
		};
		PGresult *r;

		cd_store_due_sql_for(CD_STORE_POSTGRESQL, kinds[i].k, kinds[i].t, 1, sql, sizeof(sql));
		o += sprintf(o, "EXPLAIN ");
		for (const char *p = sql; *p; p++)
			*o++ = *p == '?' ? '$' : *p;
		*o = '\0';
		r = PQexecParams(c, explain, 11, (Oid[]){ 20, 20, 25, 20, 25, 20, 20, 20, 20, 25, 20 },
				 vals, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		for (int row = 0; row < PQntuples(r); row++) {
			const char *line = PQgetvalue(r, row, 0);

			if (strstr(line, "Seq Scan on orders") || strstr(line, "Seq Scan on messages") ||
			    strstr(line, "Seq Scan on feedback") || strstr(line, "Seq Scan on events") ||
			    strstr(line, "Seq Scan on suppressions"))
				fail_msg("kind %d: %s", (int)kinds[i].k, line);
		}
		PQclear(r);
	}
	PQfinish(c);
}

/* An order written by a transaction that began before a pass and
 * committed after it is not lost: ids are not handed out in commit
 * order, so the position is a transaction horizon. */
static void test_pg_late_commit_is_seen_by_the_next_pass(void **state)
{
	static const struct cd_campaign late = {
		.name = "late", .trigger = CD_TRIGGER_DELIVERED, .delay = 7 * DAY, .expire = 30 * DAY,
	};
	PGconn *c;
	PGresult *r;
	char ids[256];

	(void)state;
	due(&late, CD_DUE_REQUEST, NOW + 400, SAVE, ids, sizeof(ids));
	c = PQconnectdb(pg);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "BEGIN"));
	r = PQexec(c, "INSERT INTO orders(order_id, email, delivered, status)"
		   " VALUES ('late', 'late@x.example', 1799000000, 'delivered')");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	/* a later writer commits first */
	order("early", "early@x.example", NOW - 10 * DAY, NULL);
	due(&late, CD_DUE_REQUEST, NOW + 460, SAVE, ids, sizeof(ids));
	assert_string_equal(ids, "early");
	PQclear(PQexec(c, "COMMIT"));
	PQfinish(c);
	due(&late, CD_DUE_REQUEST, NOW + 520, SAVE, ids, sizeof(ids));
	assert_string_equal(ids, "late,early");
}

static void kill_store_connection(void)
{
	pg_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		" WHERE application_name = 'candor' AND pid <> pg_backend_pid()");
	usleep(100000);
}

/* A connection that breaks while idle is opened again at the next verb;
 * one that breaks inside a transaction fails until the caller ends it. */
static void test_pg_lost_connection(void **state)
{
	struct cd_error err;
	int64_t n;

	(void)state;
	kill_store_connection();
	assert_int_equal(cd_store_order_count(st, &n), 0);
	assert_int_equal(cd_store_order_exists(st, "r1"), 1); /* cached statement, prepared again */
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_suppress(st, "lost1@x.example", "blocked", NULL, NOW, &err), 0);
	kill_store_connection();
	assert_int_not_equal(cd_store_suppress(st, "lost2@x.example", "blocked", NULL, NOW, &err), 0);
	assert_int_not_equal(cd_store_order_exists(st, "r1"), 1);
	assert_int_not_equal(cd_store_commit(st, &err), 0);
	assert_int_equal(cd_store_order_exists(st, "r1"), 1);
	assert_int_equal(cd_store_unsuppress(st, "lost1@x.example", &err), CD_ENOTFOUND);
}

/* Two daemons on one store: an order one has claimed is not the
 * other's until it lets go; once one has made its message "sending", the
 * other's insert writes nothing and its claim finds nothing. */
static void test_pg_claims_between_two_daemons(void **state)
{
	const char *ids[] = { "k1", "k2" };
	unsigned char got[2], got2[2];
	struct cd_store *st2;
	struct cd_error err;
	int64_t id, stamp;
	struct cd_msg_new m = { .order_id = "k2", .campaign = "review", .variant = "A",
				.kind = CD_DUE_REQUEST, .recipient = "k2@x.example",
				.message_id = "k2@shop.example", .token = "tok-k2", .created = NOW,
				.sent_at = NOW + 500 };

	(void)state;
	assert_int_equal(open_store(0, &st2), 0);
	assert_true(cd_store_shared(st) && cd_store_shared(st2));
	order("k1", "k1@x.example", NOW - 8 * DAY, NULL);
	order("k2", "k2@x.example", NOW - 8 * DAY, NULL);
	assert_int_equal(cd_store_claim(st, "review", CD_DUE_REQUEST, ids, 2, got, &err), 0);
	assert_true(got[0] && got[1]);
	assert_int_equal(cd_store_claim(st2, "review", CD_DUE_REQUEST, ids, 2, got2, &err), 0);
	assert_true(!got2[0] && !got2[1]);
	/* the same orders for another campaign are another claim */
	assert_int_equal(cd_store_claim(st2, "other", CD_DUE_REQUEST, ids, 2, got2, &err), 0);
	assert_true(got2[0] && got2[1]);
	cd_store_claim_release(st2, "other", CD_DUE_REQUEST, ids, got2, 2);
	/* the first makes k2's message "sending" and lets both go */
	assert_int_equal(cd_store_message_insert_sending(st, &m, &id, &err), 0);
	assert_true(id > 0);
	cd_store_claim_release(st, "review", CD_DUE_REQUEST, ids, got, 2);
	assert_int_equal(cd_store_claim(st2, "review", CD_DUE_REQUEST, ids, 2, got2, &err), 0);
	assert_true(got2[0] && !got2[1]);
	m.message_id = "k2-again@shop.example";
	m.token = "tok-k2-again";
	assert_int_equal(cd_store_message_insert_sending(st2, &m, &id, &err), 0);
	assert_true(id == 0);
	/* what the second could not claim waits for a later pass */
	assert_int_equal(cd_store_claim_missed(st2, "review", CD_DUE_REQUEST, ids, got2, 2, NOW,
					       &err), 0);
	/* a daemon that dies lets go of its claims */
	cd_store_close(st2);
	usleep(100000);
	assert_int_equal(cd_store_claim(st, "review", CD_DUE_REQUEST, ids, 2, got, &err), 0);
	assert_true(got[0] && !got[1]);
	cd_store_claim_release(st, "review", CD_DUE_REQUEST, ids, got, 2);
	/* stamps never go back: the last sent_at is later than NOW */
	assert_int_equal(cd_store_begin(st, &err), 0);
	assert_int_equal(cd_store_limits_lock(st, NOW, &stamp, &err), 0);
	assert_true(stamp >= NOW + 500);
	assert_int_equal(cd_store_commit(st, &err), 0);
}

int main(void)
{
	const struct CMUnitTest common[] = {
		cmocka_unit_test(test_name_says_engine_and_no_secret),
		cmocka_unit_test(test_secret_kept_and_meta_keeps_any_text),
		cmocka_unit_test(test_upsert_keeps_what_a_row_leaves_out),
		cmocka_unit_test(test_request_due_once_in_written_order),
		cmocka_unit_test(test_suppression_without_case),
		cmocka_unit_test(test_reminder_skips_answered_and_listed_channels),
		cmocka_unit_test(test_apology_for_worst_feedback_once),
		cmocka_unit_test(test_deferred_keeps_its_bytes),
		cmocka_unit_test(test_sending_is_reported_and_counted),
		cmocka_unit_test(test_winner_decided_once),
		cmocka_unit_test(test_retry_taken_once),
		cmocka_unit_test(test_inbox_verbs),
		cmocka_unit_test(test_tracking_effects),
		cmocka_unit_test(test_report_and_history),
		cmocka_unit_test(test_nested_transactions_roll_back_inner_only),
	};
	const struct CMUnitTest postgresql[] = {
		cmocka_unit_test(test_pg_due_plans_use_indexes),
		cmocka_unit_test(test_pg_late_commit_is_seen_by_the_next_pass),
		cmocka_unit_test(test_pg_lost_connection),
		cmocka_unit_test(test_pg_claims_between_two_daemons),
	};
	enum { NC = sizeof(common) / sizeof(common[0]), NP = sizeof(postgresql) / sizeof(postgresql[0]) };
	struct CMUnitTest tests[NC + NP];
	const char *want = getenv("CANDOR_TEST_PG");
	size_t n = NC;

	/* PostgreSQL's own tests exist only where there is a server */
	memcpy(tests, common, sizeof(common));
	if (want && *want) {
		memcpy(tests + NC, postgresql, sizeof(postgresql));
		n += NP;
	}
	return _cmocka_run_group_tests(want && *want ? "postgresql" : "sqlite", tests, n, setup,
				       teardown);
}
