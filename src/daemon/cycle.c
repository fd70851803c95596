/*
 * cycle.c - one pass of the pipeline: for each campaign, take what is due
 * (due.c), hold back what must wait (send window, caps, rates), prepare
 * the mail (message.c), hand it over and record the outcome. Each message
 * is its own short transaction, and the move to "sending" is committed
 * before the transport sees the message: a crash can lose a send, never
 * double it.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/compose.h"
#include "candor/compliance.h"
#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/due.h"
#include "candor/log.h"
#include "candor/message.h"
#include "candor/schedule.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/template.h"
#include "candor/transport.h"
#include "candor/util.h"
#include "candor/experiment.h"

#define CHUNK 32 /* messages made "sending" per transaction */
#define MAILED_SLOTS 4096 /* > 2 * CD_DUE_BATCH: the set stays sparse */

/* A message committed as "sending", waiting for its chunk to be handed
 * to the sender. */
struct ready {
	int64_t id;
	const char *kind;
	char *order_id, *msgid, *email, *mail;
	size_t len;
};

struct run {
	const struct cd_cycle *c;
	struct ready chunk[CHUNK];
	size_t nchunk;
	int chunk_open;         /* a transaction holds the chunk's rows */
	struct cd_cycle_stats *stats;
	struct cd_transport *transport;
	struct cd_sender *sender;
	unsigned char secret[32];
	int64_t now;
	int paused;
	int limited;            /* a sending limit was reached */
	int64_t window_used;    /* sends in the global rate's window */
	int64_t today_used;     /* sends since midnight UTC */
	int64_t next_open;      /* earliest send-window opening seen, 0 none */
	uint64_t mailed[MAILED_SLOTS]; /* hashes of who this batch mailed */
	char winner[64];        /* the campaign's decided variant, "" none */
	int64_t seen_changes;   /* order_changes every request pass has read */
	int changes_unread;     /* some request pass did not complete */
};

static int exec_msg(struct run *r, const char *sql, int64_t id, const char *a,
		    const char *b)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return CD_ESTORE;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, r->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : CD_ESTORE;
}

static int set_state(struct run *r, int64_t id, const char *state,
		     const char *reason, struct cd_error *err)
{
	return cd_sender_record(r->c->store, id, state, reason, r->now, err);
}

static int insert_message(struct run *r, const struct cd_due_order *o,
			  const struct cd_campaign *cp, const struct cd_message *p,
			  int64_t *id, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(r->c->store);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO messages(order_id, campaign, variant, kind, state, recipient,"
			       " message_id, token, subject, created, updated)"
			       " VALUES (?1, ?2, ?3, ?9, 'rendered', ?4, ?5, ?6, ?7, ?8, ?8)",
			       -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(r->c->store, err, "cannot record message");
	sqlite3_bind_text(s, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cp->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, o->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->token, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->parts.subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, r->now);
	sqlite3_bind_text(s, 9, cd_due_kind_name(p->kind), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cd_store_fail(r->c->store, err, "cannot record message");
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

static void free_ready(struct ready *m)
{
	free(m->order_id);
	free(m->msgid);
	free(m->email);
	free(m->mail);
	memset(m, 0, sizeof(*m));
}

/* Messages are made "sending" CHUNK to a transaction (one commit per
 * mail was half the cost of sending it), and handed to the sender only
 * once that transaction is committed: a crash can lose a send, never
 * double it. Returns 0 or a negative code. */
static int flush_chunk(struct run *r, struct cd_error *err)
{
	int rc = 0;

	if (r->chunk_open) {
		r->chunk_open = 0;
		rc = cd_store_commit(r->c->store, err);
	}
	for (size_t i = 0; i < r->nchunk; i++) {
		struct ready *m = &r->chunk[i];

		if (rc == 0) {
			rc = cd_sender_submit(r->sender, m->id, m->kind, m->order_id, m->msgid, m->email,
					      m->mail, m->len, err);
			m->mail = NULL; /* the sender's now */
		}
		free_ready(m);
	}
	r->nchunk = 0;
	return rc;
}

/* Undo an open chunk: its rows go, its mails were never handed over. */
static void drop_chunk(struct run *r)
{
	if (r->chunk_open)
		cd_store_rollback(r->c->store);
	r->chunk_open = 0;
	for (size_t i = 0; i < r->nchunk; i++)
		free_ready(&r->chunk[i]);
	r->nchunk = 0;
}

/* Keep message ID (already "sending" in the open chunk) for the flush. */
static int add_to_chunk(struct run *r, int64_t id, const struct cd_due_order *o,
			struct cd_message *p, struct cd_error *err)
{
	struct ready *m = &r->chunk[r->nchunk];

	*m = (struct ready){ .id = id, .kind = cd_due_kind_name(p->kind), .order_id = strdup(o->id),
			     .msgid = strdup(p->msgid), .email = strdup(o->email), .mail = p->mail,
			     .len = p->len };
	p->mail = NULL;
	r->nchunk++;
	if (!m->order_id || !m->msgid || !m->email)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	return r->nchunk == CHUNK ? flush_chunk(r, err) : 0;
}

/* Run a count with ?1 = SINCE and ?2 = TEXT (may be NULL). The store
 * keeps the statement prepared: these run once per due order. */
static int64_t count_query(struct run *r, const char *sql, const char *text, int64_t since,
			   struct cd_error *err)
{
	sqlite3_stmt *s = cd_store_prepare_cached(r->c->store, sql);
	int64_t n = -1;

	if (!s)
		return cd_store_fail(r->c->store, err, "cannot count messages");
	sqlite3_bind_int64(s, 1, since);
	if (text)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	cd_store_release(s);
	if (n < 0)
		return cd_store_fail(r->c->store, err, "cannot count messages");
	return n;
}

static int64_t count_since(struct run *r, int64_t since, struct cd_error *err)
{
	return count_query(r, "SELECT count(*) FROM messages WHERE sent_at >= ?1", NULL, since, err);
}

/* The limits count what the database says was sent, so they hold across
 * restarts without any state of their own. */
static int load_limits(struct run *r, struct cd_error *err)
{
	const struct cd_config *cfg = r->c->cfg;

	r->window_used = r->today_used = 0;
	if (cfg->limits.global_rate.count &&
	    (r->window_used = count_since(r, r->now - cfg->limits.global_rate.per_seconds + 1,
					  err)) < 0)
		return CD_ESTORE;
	if (cfg->limits.daily_cap &&
	    (r->today_used = count_since(r, r->now - r->now % 86400, err)) < 0)
		return CD_ESTORE;
	return 0;
}

static int limit_reached(struct run *r)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *which = NULL;

	if (cfg->limits.global_rate.count &&
	    r->window_used >= cfg->limits.global_rate.count)
		which = "limits.global_rate";
	else if (cfg->limits.daily_cap && r->today_used >= cfg->limits.daily_cap)
		which = "limits.daily_cap";
	if (which && !r->limited)
		cd_log(CD_LOG_NOTICE, "%s reached; due orders wait for the next cycle", which);
	r->limited = which != NULL;
	return r->limited;
}

/* The batch's query counted each customer's mails as it began; a
 * customer this batch has mailed since is counted again, live. The set
 * holds hashes of the address folded as COLLATE NOCASE folds it: a
 * collision only costs that live count. */
static uint64_t mailed_hash(const char *email)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)email; *p; p++)
		h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 1099511628211ULL;
	return h ? h : 1;
}

static uint64_t *mailed_slot(struct run *r, uint64_t h)
{
	size_t i = (size_t)(h % MAILED_SLOTS);

	while (r->mailed[i] && r->mailed[i] != h)
		i = (i + 1) % MAILED_SLOTS;
	return &r->mailed[i];
}

static void mailed_add(struct run *r, const char *email)
{
	uint64_t h = mailed_hash(email);

	*mailed_slot(r, h) = h;
}

static int mailed_in_batch(struct run *r, const char *email)
{
	return *mailed_slot(r, mailed_hash(email)) != 0;
}

/* Why O must wait (a reason for the debug log), or NULL when it may go
 * now: the send window in the customer's zone, the per-customer cap and
 * the per-domain rate. */
static const char *must_wait(struct run *r, const struct cd_due_order *o, struct cd_error *err,
			     int *failed)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *tz = cd_schedule_zone(o->timezone, o->country, cfg->shop.timezone);
	int64_t open = cd_schedule_next_open(r->now, tz, &cfg->window), n;
	const char *at = strchr(o->email, '@');

	*failed = 0;
	if (open != r->now) {
		if (open > 0 && (!r->next_open || open < r->next_open))
			r->next_open = open;
		return "outside the send window";
	}
	if (cfg->limits.per_customer) {
		n = !mailed_in_batch(r, o->email) ? o->mails
			: count_query(r, "SELECT count(*) FROM messages WHERE created >= ?1"
				      " AND recipient = ?2 COLLATE NOCASE"
				      " AND state NOT IN ('held','failed')",
				      o->email, r->now - cfg->limits.per_customer_period, err);
		if (n < 0)
			return *failed = 1, "";
		if (n >= cfg->limits.per_customer)
			return "per-customer cap reached";
	}
	if (cfg->limits.domain_rate.count && at) {
		n = count_query(r, "SELECT count(*) FROM messages WHERE sent_at >= ?1"
				" AND recipient_domain = lower(?2)", at + 1,
				r->now - cfg->limits.domain_rate.per_seconds + 1, err);
		if (n < 0)
			return *failed = 1, "";
		if (n >= cfg->limits.domain_rate.count)
			return "limits.domain_rate reached for the recipient's domain";
	}
	return NULL;
}

static int process_order(struct run *r, const struct cd_campaign *cp, enum cd_due_kind k,
			 const struct cd_due_order *o, struct cd_error *err)
{
	struct cd_message p = { .kind = k, .winner = r->winner[0] ? r->winner : NULL };
	const char *wait;
	int64_t id = 0;
	int rc, failed;

	if ((wait = must_wait(r, o, err, &failed)) != NULL) {
		if (failed)
			return CD_ESTORE;
		cd_log(CD_LOG_DEBUG, "order %s: %s %s waits: %s", o->id, cp->name,
		       cd_due_kind_name(k), wait);
		if (!r->c->plan_only && cd_due_remember_waiting(r->c->store, cp, k, o->id, r->now) < 0)
			return cd_store_fail(r->c->store, err, "cannot remember a waiting order");
		return 0;
	}
	r->stats->due++;
	if (r->c->plan_only)
		return 0;
	if ((rc = cd_message_prepare(&p, r->c->cfg, r->c->tpl, r->secret, r->now, cp, o)) < 0) {
		cd_error_set(err, rc, NULL, 0, "out of memory preparing order %s", o->id);
		goto out;
	}
	if (p.reason[0]) {
		r->stats->held++;
		cd_log(CD_LOG_WARNING, "order %s: held: %s", o->id, p.reason);
	} else if (p.parts.missing.count) {
		cd_log(CD_LOG_WARNING, "order %s: template values empty in %s/%s: %s",
		       o->id, p.template, p.parts.locale, p.parts.missing.names);
	}
	/* The row and its next state in the chunk's transaction: a crash
	 * leaves no message half-made (which would keep its order from ever
	 * going). */
	if (!r->chunk_open) {
		if ((rc = cd_store_begin(r->c->store, err)) < 0)
			goto out;
		r->chunk_open = 1;
	}
	rc = insert_message(r, o, cp, &p, &id, err);
	if (rc == 0)
		mailed_add(r, o->email);
	if (rc == 0)
		rc = set_state(r, id, p.reason[0] ? "held" : "sending", p.reason[0] ? p.reason : NULL, err);
	if (rc < 0) {
		drop_chunk(r);
		goto out;
	}
	if (p.reason[0])
		goto out;
	rc = add_to_chunk(r, id, o, &p, err);
	r->window_used++;
	r->today_used++;
out:
	cd_message_clear(&p);
	return rc;
}

/* Can the cycle go on with the next message? */
static int may_continue(struct run *r)
{
	if (r->c->stop && *r->c->stop)
		r->stats->interrupted = 1;
	if (r->sender && cd_sender_paused(r->sender))
		r->paused = 1;
	return !r->paused && !r->stats->interrupted && !limit_reached(r);
}

/* For the sender's retries: may one more go, and count it. */
static int may_retry(void *arg)
{
	struct run *r = arg;

	if (!may_continue(r))
		return 0;
	r->window_used++;
	r->today_used++;
	return 1;
}

/* Work through the due orders of one kind a batch at a time, so memory
 * stays flat however many are due. */
static int run_kind(struct run *r, const struct cd_campaign *cp, enum cd_due_kind k,
		    struct cd_due_order *orders, struct cd_error *err)
{
	struct cd_due_page pg = { .key = INT64_MIN };
	struct cd_due_scan sc;
	size_t n = 0;
	int rc = 0, complete = 1, more = 1;

	char no_reminder[160] = "";

	if (k == CD_DUE_REMINDER && r->c->tpl)
		cd_compliance_no_reminder(cd_templates_compliance(r->c->tpl), cp->packs, cp->npacks,
					  no_reminder, sizeof(no_reminder));
	cd_due_load_scan(r->c->store, cp, k, r->now, no_reminder, &sc);
	if (r->c->cfg->limits.per_customer)
		sc.cap_since = r->now - r->c->cfg->limits.per_customer_period;
	while (rc == 0 && more && complete) {
		size_t i = 0;

		if (!(complete = may_continue(r)))
			break;
		memset(r->mailed, 0, sizeof(r->mailed));
		rc = cd_due_next_batch(r->c->store, cp, k, r->now, &sc, &pg, orders, &n, &more, err);
		for (; rc == 0 && i < n; i++) {
			if (!(complete = may_continue(r)))
				break;
			rc = process_order(r, cp, k, &orders[i], err);
			if (r->c->tick)
				r->c->tick(r->c->tick_arg);
		}
		for (i = 0; i < n; i++)
			cd_due_order_clear(&orders[i]);
		if (rc == 0)
			rc = flush_chunk(r, err);
		else
			drop_chunk(r);
	}
	/* Only a pass that saw everything may move the state on; otherwise
	 * the next one reads the same range again. */
	if (rc == 0 && complete && !r->stats->interrupted && !r->paused && !r->c->plan_only)
		rc = cd_due_save_scan(r->c->store, cp, k, r->now, &sc, err);
	else if (k == CD_DUE_REQUEST)
		r->changes_unread = 1;
	if (k == CD_DUE_REQUEST && (!r->seen_changes || sc.new_mark < r->seen_changes))
		r->seen_changes = sc.new_mark;
	return rc;
}

static int run_campaign(struct run *r, const struct cd_campaign *cp,
			struct cd_error *err)
{
	struct cd_due_order *orders = calloc(CD_DUE_BATCH, sizeof(*orders));
	int rc;

	if (!orders)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	if ((rc = cd_experiment_winner_get(r->c->store, cp, r->now, r->winner,
					   sizeof(r->winner), err)) < 0) {
		free(orders);
		return rc;
	}
	if (cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK) {
		rc = run_kind(r, cp, CD_DUE_APOLOGY, orders, err);
	} else {
		rc = run_kind(r, cp, CD_DUE_REQUEST, orders, err);
		if (rc == 0 && cp->reminder)
			rc = run_kind(r, cp, CD_DUE_REMINDER, orders, err);
	}
	free(orders);
	return rc;
}

/* When will the next order become due? One indexed MIN per campaign and
 * trigger; a due order that waits for its send window counts at the
 * window's opening. */
int64_t cd_cycle_next_due(const struct cd_config *cfg, struct cd_store *store,
			  int64_t now)
{
	int64_t next = 0;

	for (size_t i = 0; i < cfg->ncampaigns; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];
		const char *sql = cp->trigger == CD_TRIGGER_NEGATIVE_FEEDBACK
			? "SELECT min(received) FROM feedback WHERE received > ?1"
			: cp->trigger == CD_TRIGGER_SHIPPED
			? "SELECT min(shipped) FROM orders WHERE shipped > ?1"
			: "SELECT min(delivered) FROM orders WHERE delivered > ?1";
		int64_t first = cd_store_int(store, sql, now - cp->delay, INT64_MAX);

		if (first != INT64_MAX && (!next || first + cp->delay < next))
			next = first + cp->delay;
	}
	return next;
}

int cd_cycle_run(const struct cd_cycle *c, struct cd_cycle_stats *stats,
		 struct cd_error *err)
{
	struct run r = { .c = c, .stats = stats, .now = cd_util_now() };
	char pause[300];
	int rc, outer = 0;

	memset(stats, 0, sizeof(*stats));
	if ((rc = cd_store_secret(c->store, r.secret, err)) < 0)
		return rc;
	if (!c->plan_only &&
	    (rc = cd_transport_open(c->cfg, c->dry_run, &r.transport, err)) < 0)
		goto out;
	/* A dry run does all the work inside one transaction and throws it
	 * away, so a real run afterwards still sends everything. */
	if (c->dry_run) {
		if ((rc = cd_store_begin(c->store, err)) < 0)
			goto out;
		outer = 1;
	} else if (c->plan_only) {
		/* one read snapshot for the whole plan, not a lock per query */
		if ((rc = cd_store_exec(c->store, "BEGIN", err)) < 0)
			goto out;
		outer = 2;
	}
	if ((rc = load_limits(&r, err)) < 0)
		goto out;
	if (!c->plan_only && !c->dry_run &&
	    cd_sender_is_paused(c->store, c->cfg, r.now, pause, sizeof(pause))) {
		cd_log(CD_LOG_WARNING, "sending is paused (%s); nothing is sent this cycle", pause);
		r.paused = 1;
	}
	if (!c->plan_only && (rc = cd_sender_open(c->cfg, c->store, r.transport, r.now, c->tick,
						  c->tick_arg, &r.sender)) < 0) {
		cd_error_set(err, rc, NULL, 0, "out of memory");
		goto out;
	}
	/* deferred messages first: they have waited longest */
	if (r.sender && !r.paused && !c->dry_run)
		rc = cd_sender_retry(r.sender, may_retry, &r, err);
	size_t i = 0;

	for (; rc == 0 && i < c->cfg->ncampaigns && may_continue(&r); i++)
		rc = run_campaign(&r, &c->cfg->campaigns[i], err);
	if (r.sender) {
		int drc = cd_sender_drain(r.sender, rc == 0 ? err : NULL);
		const struct cd_sender_stats *ss = cd_sender_stats(r.sender);

		if (rc == 0)
			rc = drc;
		stats->sent = ss->sent;
		stats->failed = ss->failed;
		stats->deferred = ss->deferred;
		stats->unknown = ss->unknown;
		stats->paused = cd_sender_paused(r.sender) || r.paused;
	}
	if (i < c->cfg->ncampaigns)
		r.changes_unread = 1; /* a campaign that did not run has not read them */
	/* every request campaign has read the change log this far */
	if (rc == 0 && !r.changes_unread && r.seen_changes && !c->plan_only)
		rc = exec_msg(&r, "DELETE FROM order_changes WHERE seq < ?1", r.seen_changes,
			      NULL, NULL) < 0 ? cd_store_fail(c->store, err, "cannot trim order_changes")
					       : 0;
	stats->next_due = cd_cycle_next_due(c->cfg, c->store, r.now);
	{
		int64_t retry = cd_store_int(c->store, "SELECT min(next_attempt) FROM messages"
					     " WHERE state = 'deferred'", 0, 0);

		if (retry > 0 && (!stats->next_due || retry < stats->next_due))
			stats->next_due = retry;
	}
	if (r.next_open && (!stats->next_due || r.next_open < stats->next_due))
		stats->next_due = r.next_open;
out:
	cd_schedule_restore_zone();
	if (outer == 1)
		cd_store_rollback(c->store);
	else if (outer == 2)
		cd_store_exec(c->store, "COMMIT", NULL);
	cd_sender_close(r.sender);
	cd_transport_close(r.transport);
	cd_util_wipe(r.secret, sizeof(r.secret));
	return rc;
}

int64_t cd_cycle_report_interrupted(struct cd_store *store, struct cd_error *err)
{
	sqlite3 *db = cd_store_db(store);
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT order_id, message_id FROM messages"
			       " WHERE state = 'sending' ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return cd_store_fail(store, err, "cannot look for interrupted sends");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ < 20)
			cd_log(CD_LOG_WARNING,
			       "order %s: message <%s> was being sent when candord stopped; it is not sent again",
			       sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cd_store_fail(store, err, "cannot look for interrupted sends");
	if (n > 20)
		cd_log(CD_LOG_WARNING, "... and %lld more interrupted sends (see 'candorctl status')",
		       (long long)(n - 20));
	return n;
}
