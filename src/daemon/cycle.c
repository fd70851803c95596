/*
 * cycle.c - one pass of the pipeline: for each campaign, take what is due
 * (due.c), hold back what must wait (send window, ratelimit.c), prepare
 * the mail (message.c), hand it over and record the outcome (store
 * verbs: store_due.h, store_message.h). Messages are prepared a round
 * of connections ahead, while the current round is on the wire; their
 * rows are written, and made "sending", only once their connections are
 * free, in one committed transaction (shared with the outcomes that freed
 * those connections: sender.h) before the transport sees them. A crash
 * loses at most what is in flight, and never doubles a send. With
 * several daemons on one PostgreSQL store, each claims a chunk of due
 * orders before it prepares them (store_claim.h), and checks the limits
 * again, counting every daemon's mails, as it makes messages "sending".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "candor/compose.h"
#include "candor/compliance.h"
#include "candor/config.h"
#include "candor/cycle.h"
#include "candor/due.h"
#include "candor/log.h"
#include "candor/message.h"
#include "candor/ratelimit.h"
#include "candor/schedule.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/store_claim.h"
#include "candor/store_due.h"
#include "candor/store_message.h"
#include "candor/template.h"
#include "candor/transport.h"
#include "candor/util.h"
#include "candor/experiment.h"

/* A prepared message waiting for the commit that hands it over. */
struct ready {
	const struct cd_campaign *cp;
	enum cd_due_kind kind;
	const char *variant;    /* borrowed from the configuration */
	char *order_id, *email, *subject, *mail;
	size_t len;
	char token[33], msgid[128];
};

struct run {
	const struct cd_cycle *c;
	struct ready *ready;    /* prepared, not yet written: a round ahead */
	size_t nready, cap;     /* how many; as many as connections */
	struct cd_cycle_stats *stats;
	struct cd_transport *transport;     /* the daemon's, or own_transport */
	struct cd_transport *own_transport; /* opened for this cycle alone */
	struct cd_sender *sender;
	struct cd_ratelimit *limits;
	unsigned char secret[32];
	int64_t now;
	int paused;
	int64_t next_open;      /* earliest send-window opening seen, 0 none */
	char winner[64];        /* the campaign's decided variant, "" none */
	int64_t seen_changes;   /* order_changes every request pass has read */
	int changes_unread;     /* some request pass did not complete */
	/* several candord may send from this store (PostgreSQL): orders are
	 * claimed before they are prepared, the limits checked again under
	 * the store's lock as messages become "sending" */
	int shared;
	int full;               /* that check found the global rate or daily cap reached */
};

/* What the messages of one hand-over add to the limits' counts, checked
 * under the store's lock (several daemons). */
struct room {
	int64_t stamp;          /* sent_at of this hand-over */
	int64_t window, today;  /* sent in the global rate's window, today */
};

static int insert_message(struct run *r, const struct ready *m, int64_t *id,
			  struct cd_error *err)
{
	struct cd_msg_new n = {
		.order_id = m->order_id, .campaign = m->cp->name, .variant = m->variant,
		.kind = m->kind, .recipient = m->email, .message_id = m->msgid,
		.token = m->token, .subject = m->subject, .created = r->now,
	};

	return cd_store_message_insert(r->c->store, &n, id, err);
}

static void free_ready(struct ready *m)
{
	free(m->order_id);
	free(m->email);
	free(m->subject);
	free(m->mail);
	memset(m, 0, sizeof(*m));
}

/* Keep what the row and the transfer of P (for order O) will need. */
static int take_ready(struct ready *m, const struct cd_due_order *o,
		      const struct cd_campaign *cp, struct cd_message *p)
{
	*m = (struct ready){ .cp = cp, .kind = p->kind, .variant = p->v->name,
			     .order_id = strdup(o->order.id), .email = strdup(o->order.email),
			     .subject = p->parts.subject ? strdup(p->parts.subject) : NULL,
			     .mail = p->mail, .len = p->len };
	p->mail = NULL;
	snprintf(m->token, sizeof(m->token), "%s", p->token);
	snprintf(m->msgid, sizeof(m->msgid), "%s", p->msgid);
	return m->order_id && m->email && (m->subject || !p->parts.subject) ? 0 : CD_ENOMEM;
}

/* When an order is remembered as waiting. A complete pass forgets what
 * waited since before it began (cd_due_save_scan): it has seen all of
 * that. With several daemons, another's pass that began earlier may
 * remember an order after this one read the list; stamped with the
 * cycle's start, that entry would be forgotten unseen, so it gets the
 * clock of its writing, which no pass that read the list before began
 * after. */
static int64_t seen_at(const struct run *r)
{
	int64_t now;

	return r->shared && (now = cd_util_now()) > r->now ? now : r->now;
}

/* Is any limit set? Without one, several daemons need no lock. */
static int limited(const struct cd_config *cfg)
{
	return cfg->limits.global_rate.count || cfg->limits.daily_cap ||
	       cfg->limits.per_customer || cfg->limits.domain_rate.count;
}

/* With several daemons: take the store's limits lock, the stamp, and the
 * counts of the global rate and the daily cap as every daemon left them. */
static int room_open(struct run *r, struct room *rm, struct cd_error *err)
{
	const struct cd_config *cfg = r->c->cfg;
	int rc;

	*rm = (struct room){ 0 };
	if ((rc = cd_store_limits_lock(r->c->store, cd_util_now(), &rm->stamp, err)) < 0)
		return rc;
	if (cfg->limits.global_rate.count &&
	    (rm->window = cd_store_message_sent_since(
		     r->c->store, rm->stamp - cfg->limits.global_rate.per_seconds + 1, err)) < 0)
		return CD_ESTORE;
	if (cfg->limits.daily_cap &&
	    (rm->today = cd_store_message_sent_since(r->c->store, rm->stamp - rm->stamp % 86400,
						     err)) < 0)
		return CD_ESTORE;
	return 0;
}

/* May M become "sending" now, counting what every daemon has made so
 * far (this transaction's rows included)? 0 yes, 1 it waits (its order
 * is remembered), 2 a cycle-wide limit is reached, or a negative code.
 * The same rules as ratelimit.c's, checked where they cannot race. */
static int room_for(struct run *r, struct room *rm, const struct ready *m, struct cd_error *err)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *at = strchr(m->email, '@'), *why = NULL;
	int64_t n;

	if ((cfg->limits.global_rate.count && rm->window >= cfg->limits.global_rate.count) ||
	    (cfg->limits.daily_cap && rm->today >= cfg->limits.daily_cap))
		return 2;
	if (cfg->limits.per_customer) {
		n = cd_store_message_customer_count(r->c->store, m->email,
						    r->now - cfg->limits.per_customer_period, err);
		if (n < 0)
			return CD_ESTORE;
		if (n >= cfg->limits.per_customer)
			why = "per-customer cap reached";
	}
	if (!why && cfg->limits.domain_rate.count && at) {
		n = cd_store_message_domain_sent_since(
			r->c->store, at + 1, rm->stamp - cfg->limits.domain_rate.per_seconds + 1, err);
		if (n < 0)
			return CD_ESTORE;
		if (n >= cfg->limits.domain_rate.count)
			why = "limits.domain_rate reached for the recipient's domain";
	}
	if (!why)
		return 0;
	cd_log(CD_LOG_DEBUG, "order %s: %s %s waits: %s (counting every candord)", m->order_id,
	       m->cp->name, cd_due_kind_name(m->kind), why);
	if (cd_store_due_remember_waiting(r->c->store, m->cp->name, m->kind, m->order_id,
					  seen_at(r), err) < 0)
		return CD_ESTORE;
	return 1;
}

/* Write the row of prepared message M as "sending" (inside the
 * hand-over's transaction). *ID 0: it does not go (another daemon made
 * it, or with several daemons a limit says it waits). */
static int write_sending(struct run *r, struct room *rm, const struct ready *m, int64_t *id,
			 struct cd_error *err)
{
	int rc;

	*id = 0;
	if (r->shared && rm->stamp && (rc = room_for(r, rm, m, err)) != 0) {
		if (rc == 2 && !r->full) {
			cd_log(CD_LOG_NOTICE, "limits.global_rate or limits.daily_cap reached, counting "
			       "every candord; due orders wait for the next cycle");
			r->full = 1;
		}
		return rc < 0 ? rc : 0;
	}
	rc = cd_store_message_insert_sending(r->c->store, &(struct cd_msg_new){
		.order_id = m->order_id, .campaign = m->cp->name, .variant = m->variant,
		.kind = m->kind, .recipient = m->email, .message_id = m->msgid,
		.token = m->token, .subject = m->subject, .created = r->now,
		.sent_at = rm->stamp,
	}, id, err);
	if (rc == 0 && *id) {
		rm->window++;
		rm->today++;
	} else if (rc == 0) {
		cd_log(CD_LOG_INFO, "order %s: %s %s was made by another candord; not sent from here",
		       m->order_id, m->cp->name, cd_due_kind_name(m->kind));
	}
	return rc;
}

/* Hand the first N prepared messages over: their rows, "sending",
 * committed in one transaction with the outcomes that freed their
 * connections; then the transfers. Returns 0 or a negative code. */
static int hand_over(struct run *r, size_t n, struct cd_error *err)
{
	int64_t ids[64];    /* smtp.connections is at most 64 */
	struct room rm = { 0 };
	int rc;

	if (n > r->nready || n > sizeof(ids) / sizeof(ids[0]))
		abort(); /* more than prepared, or than connections: a broken invariant */
	rc = cd_sender_batch_begin(r->sender, err);
	if (rc == 0 && r->shared && limited(r->c->cfg))
		rc = room_open(r, &rm, err);
	for (size_t i = 0; i < n; i++)
		ids[i] = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = write_sending(r, &rm, &r->ready[i], &ids[i], err);
	if (cd_sender_batch_end(r->sender, rc == 0, rc == 0 ? err : NULL) < 0 && rc == 0)
		rc = CD_ESTORE;
	for (size_t i = 0; i < n; i++) {
		struct ready *m = &r->ready[i];

		if (rc == 0 && ids[i]) {
			rc = cd_sender_submit(r->sender, &(struct cd_sender_msg){
				.id = ids[i], .kind = cd_due_kind_name(m->kind), .order_id = m->order_id,
				.message_id = m->msgid, .recipient = m->email, .token = m->token,
			}, m->mail, m->len, err);
			m->mail = NULL; /* the sender's now */
		}
		free_ready(m);
	}
	r->nready -= n;
	memmove(r->ready, r->ready + n, r->nready * sizeof(*r->ready));
	memset(r->ready + r->nready, 0, n * sizeof(*r->ready));
	return rc;
}

/* Prepared messages that will not go now (a stop, a pause, an error):
 * nothing of them was written, so their orders stay due. */
static void drop_ready(struct run *r)
{
	for (size_t i = 0; i < r->nready; i++)
		free_ready(&r->ready[i]);
	r->nready = 0;
}

/* Wait for free connections and hand over as many prepared messages as
 * they take; with ALL, until none is left. 1 when done, 0 when a stop or
 * a pause says no more (what is prepared is dropped and the pass is
 * incomplete), or a negative code. */
static int hand_over_waiting(struct run *r, int all, struct cd_error *err)
{
	size_t room;
	int rc;

	do {
		if ((rc = cd_sender_wait(r->sender, &room, err)) <= 0) {
			if (rc == 0 && cd_sender_paused(r->sender))
				r->paused = 1;
			else if (rc == 0)
				r->stats->interrupted = 1;
			drop_ready(r);
			return rc;
		}
		if ((rc = hand_over(r, room < r->nready ? room : r->nready, err)) < 0)
			return rc;
	} while (all && r->nready);
	return 1;
}

/* Room for one more prepared message. While there is, the transfers in
 * flight are driven without waiting - they go on while the next
 * messages are rendered; when the prepared ones fill a round of
 * connections, those that are free take theirs. 1, 0 (stop or pause) or
 * a negative code. */
static int make_room(struct run *r, struct cd_error *err)
{
	if (r->nready < r->cap) {
		cd_sender_pump(r->sender);
		return 1;
	}
	return hand_over_waiting(r, 0, err);
}

/* Write held message P (for order O) with its reason, row and state
 * in one transaction, so a crash leaves no message half-made (which
 * would keep its order from ever going). */
static int record_held(struct run *r, const struct cd_due_order *o,
		       const struct cd_campaign *cp, struct cd_message *p,
		       struct cd_error *err)
{
	struct ready m;
	int64_t id;
	int rc;

	if ((rc = take_ready(&m, o, cp, p)) == 0 && (rc = cd_store_begin(r->c->store, err)) == 0) {
		rc = insert_message(r, &m, &id, err);
		if (rc == 0)
			rc = cd_store_message_set_state(r->c->store, id, CD_MSG_HELD, p->reason,
							r->now, err);
		if (rc < 0)
			cd_store_rollback(r->c->store);
		else
			rc = cd_store_commit(r->c->store, err);
	} else if (rc == CD_ENOMEM) {
		cd_error_set(err, rc, NULL, 0, "out of memory");
	}
	free_ready(&m);
	return rc;
}

/* Why O must wait (CD_WAIT_NONE: it may go now): the send window in the
 * customer's zone, then the per-customer cap and the per-domain rate
 * (due.c holds the rules, so previews apply the same). A plan, which
 * sends nothing, also counts what a cycle-wide limit would hold back. */
static int must_wait(struct run *r, const struct cd_due_order *o, enum cd_wait *w,
		     struct cd_error *err)
{
	int64_t open;

	if (cd_due_must_wait(r->c->cfg, r->limits, o, r->now, &open, w, err) < 0)
		return CD_ESTORE;
	if (*w == CD_WAIT_WINDOW && open > 0 && (!r->next_open || open < r->next_open))
		r->next_open = open;
	if (*w == CD_WAIT_NONE && r->c->plan_only)
		*w = cd_ratelimit_which(r->limits);
	return 0;
}

/* Does a prepared message, not yet written, go to O's customer (with a
 * per-customer cap) or O's domain (with a domain rate)? Those limits
 * count the store's rows, so it must be written first. */
static int counts_pending(const struct run *r, const struct cd_due_order *o)
{
	const struct cd_config *cfg = r->c->cfg;
	const char *dom = strchr(o->order.email, '@');

	for (size_t i = 0; i < r->nready; i++) {
		const char *e = r->ready[i].email, *d = strchr(e, '@');

		if (cfg->limits.per_customer && strcasecmp(e, o->order.email) == 0)
			return 1;
		if (cfg->limits.domain_rate.count && d && dom && strcasecmp(d, dom) == 0)
			return 1;
	}
	return 0;
}

static int process_order(struct run *r, const struct cd_campaign *cp, enum cd_due_kind k,
			 const struct cd_due_order *o, struct cd_error *err)
{
	struct cd_message p = { .kind = k, .winner = r->winner[0] ? r->winner : NULL };
	const char *id_of = o->order.id;
	enum cd_wait wait;
	int rc;

	if (r->nready && counts_pending(r, o) && (rc = hand_over_waiting(r, 1, err)) <= 0)
		return rc;
	if (must_wait(r, o, &wait, err) < 0)
		return CD_ESTORE;
	if (wait != CD_WAIT_NONE) {
		r->stats->waiting[wait]++;
		cd_log(CD_LOG_DEBUG, "order %s: %s %s waits: %s", id_of, cp->name,
		       cd_due_kind_name(k), cd_wait_text(wait));
		if (!r->c->plan_only && cd_due_remember_waiting(r->c->store, cp, k, id_of, seen_at(r)) < 0)
			return cd_store_fail(r->c->store, err, "cannot remember a waiting order");
		return 0;
	}
	r->stats->due++;
	if (r->c->plan_only) {
		/* what this plan would send counts against the limits */
		cd_ratelimit_note_mailed(r->limits, o->order.email);
		cd_ratelimit_note_sent(r->limits);
		if (cd_ratelimit_note_planned(r->limits, o->order.email) < 0)
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		return 0;
	}
	if ((rc = cd_message_prepare(&p, r->c->cfg, r->c->tpl, r->secret, r->now, cp, o)) < 0) {
		cd_error_set(err, rc, NULL, 0, "out of memory preparing order %s", id_of);
		goto out;
	}
	if (p.reason[0]) {
		r->stats->held++;
		cd_log(CD_LOG_WARNING, "order %s: held: %s", id_of, p.reason);
		if ((rc = record_held(r, o, cp, &p, err)) == 0)
			cd_ratelimit_note_mailed(r->limits, o->order.email);
		goto out;
	}
	if (p.parts.missing.count)
		cd_log(CD_LOG_WARNING, "order %s: template values empty in %s/%s: %s",
		       id_of, p.template, p.parts.locale, p.parts.missing.names);
	/* Only a free connection makes a message "sending": what a crash can
	 * leave there is what is in flight. A stop or a pause met while
	 * waiting writes nothing: the order stays due. */
	if ((rc = make_room(r, err)) <= 0)
		goto out;
	rc = take_ready(&r->ready[r->nready++], o, cp, &p);
	if (rc < 0)
		cd_error_set(err, rc, NULL, 0, "out of memory");
	/* counted now, so the limits stop the pass at the right order */
	cd_ratelimit_note_mailed(r->limits, o->order.email);
	cd_ratelimit_note_sent(r->limits);
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
	if (r->paused || r->stats->interrupted || r->full)
		return 0;
	/* a plan goes on, to count what the limit holds back */
	if (cd_ratelimit_reached(r->limits)) {
		r->stats->limit = cd_ratelimit_which(r->limits);
		return r->c->plan_only;
	}
	return 1;
}

/* For the sender's retries: may one more go, and count it. */
static int may_retry(void *arg)
{
	struct run *r = arg;

	if (!may_continue(r))
		return 0;
	cd_ratelimit_note_sent(r->limits);
	return 1;
}

/* Hand over what the chunk prepared (unless the cycle stops), so its
 * claims can go: 0 or a negative code. */
static int chunk_done(struct run *r, int rc, struct cd_error *err)
{
	if (rc == 0 && r->nready && !r->stats->interrupted && !r->paused)
		return (rc = hand_over_waiting(r, 1, err)) < 0 ? rc : 0;
	drop_ready(r);
	return rc;
}

/* Several daemons on one store: a batch of due orders a chunk at a time,
 * each chunk claimed first, so no two daemons prepare the same mail and
 * each gets its own share; the orders another daemon holds are
 * remembered as waiting, for a later pass should it die before sending
 * them. The claims go once the chunk's messages are "sending". */
static int run_shared(struct run *r, const struct cd_campaign *cp, enum cd_due_kind k,
		      struct cd_due_order *orders, size_t n, int *complete,
		      struct cd_error *err)
{
	enum { CHUNK = 32 };
	const char *ids[CHUNK];
	unsigned char got[CHUNK];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n && *complete; i += CHUNK) {
		size_t m = n - i < CHUNK ? n - i : CHUNK;

		if (!(*complete = may_continue(r)))
			break;
		for (size_t j = 0; j < m; j++)
			ids[j] = orders[i + j].order.id;
		if ((rc = cd_store_claim(r->c->store, cp->name, k, ids, m, got, err)) < 0)
			break;
		rc = cd_store_claim_missed(r->c->store, cp->name, k, ids, got, m, seen_at(r), err);
		for (size_t j = 0; rc == 0 && j < m; j++) {
			if (!got[j])
				continue;
			if (!(*complete = may_continue(r)))
				break;
			rc = process_order(r, cp, k, &orders[i + j], err);
			if (r->c->tick)
				r->c->tick(r->c->tick_arg);
		}
		rc = chunk_done(r, rc, err);
		cd_store_claim_release(r->c->store, cp->name, k, ids, got, m);
	}
	/* a limit met in the last hand-over dropped what it did not write:
	 * the pass has not seen those through */
	if (r->full)
		*complete = 0;
	return rc;
}

/* Work through the due orders of one kind a batch at a time, so memory
 * stays flat however many are due. */
static int run_kind(struct run *r, const struct cd_campaign *cp, enum cd_due_kind k,
		    struct cd_due_order *orders, struct cd_error *err)
{
	struct cd_due_page pg = { .key = INT64_MIN };
	struct cd_due_scan sc;
	const char *names[32];
	size_t n = 0, nnames = 0;
	int rc = 0, complete = 1, more = 1;

	/* without templates there is no compliance verdict: no list at all */
	if (k == CD_DUE_REMINDER && r->c->tpl) {
		nnames = cd_compliance_no_reminder(cd_templates_compliance(r->c->tpl), cp->packs,
						    cp->npacks, names, sizeof(names) / sizeof(names[0]));
	}
	cd_due_load_scan(r->c->store, cp, k, r->now,
			 k == CD_DUE_REMINDER && r->c->tpl ? names : NULL, nnames, &sc);
	sc.cap_since = cd_ratelimit_cap_since(r->limits);
	while (rc == 0 && more && complete) {
		size_t i = 0;

		if (!(complete = may_continue(r)))
			break;
		cd_ratelimit_new_batch(r->limits);
		rc = cd_due_next_batch(r->c->store, cp, k, r->now, &sc, &pg, orders, &n, &more, err);
		if (r->shared) {
			if (rc == 0)
				rc = run_shared(r, cp, k, orders, n, &complete, err);
			i = n;
		}
		for (; rc == 0 && i < n; i++) {
			if (!(complete = may_continue(r)))
				break;
			rc = process_order(r, cp, k, &orders[i], err);
			if (r->c->tick)
				r->c->tick(r->c->tick_arg);
		}
		/* what is prepared goes before the pass may count as complete */
		if (rc == 0 && r->nready && !r->stats->interrupted && !r->paused)
			rc = (rc = hand_over_waiting(r, 1, err)) < 0 ? rc : 0;
		else
			drop_ready(r);
		for (i = 0; i < n; i++)
			cd_due_order_clear(&orders[i]);
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
	/* a plan chooses no variant, and must write nothing (a winner
	 * check records itself) */
	r->winner[0] = '\0';
	if (!r->c->plan_only &&
	    (rc = cd_experiment_winner_get(r->c->store, cp, r->now, r->winner,
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
 * trigger (a store that cannot say counts as none); a due order that
 * waits for its send window counts at the window's opening. */
int64_t cd_cycle_next_due(const struct cd_config *cfg, struct cd_store *store,
			  int64_t now)
{
	int64_t next = 0;

	for (size_t i = 0; i < cfg->ncampaigns; i++) {
		const struct cd_campaign *cp = &cfg->campaigns[i];
		int64_t first;

		if (cd_store_due_first_after(store, cp->trigger, now - cp->delay, &first) == 1 &&
		    (!next || first + cp->delay < next))
			next = first + cp->delay;
	}
	return next;
}

/* Everything a cycle needs before the first campaign: the transport
 * (the daemon's, or one of its own), the outer transaction of a dry run
 * or a plan, the limits, a pause, the sender. */
static int start(struct run *r, int *outer, struct cd_error *err)
{
	const struct cd_cycle *c = r->c;
	char pause[300];
	int rc;

	if ((rc = cd_store_secret(c->store, r->secret, err)) < 0)
		return rc;
	r->transport = c->transport;
	if (!c->plan_only && !r->transport &&
	    (rc = cd_transport_open(c->cfg, c->dry_run, &r->own_transport, err)) < 0)
		return rc;
	if (!r->transport)
		r->transport = r->own_transport;
	/* A dry run does all the work inside one transaction and throws it
	 * away, so a real run afterwards still sends everything. */
	if (c->dry_run) {
		if ((rc = cd_store_begin(c->store, err)) < 0)
			return rc;
		*outer = 1;
	} else if (c->plan_only) {
		/* one read snapshot for the whole plan, not a lock per query */
		if ((rc = cd_store_due_snapshot(c->store, err)) < 0)
			return rc;
		*outer = 2;
	}
	if ((rc = cd_ratelimit_open(c->cfg, c->store, r->now, &r->limits, err)) < 0)
		return rc;
	if (!c->plan_only && !c->dry_run &&
	    cd_sender_is_paused(c->store, c->cfg, r->now, pause, sizeof(pause))) {
		cd_log(CD_LOG_WARNING, "sending is paused (%s); nothing is sent this cycle", pause);
		r->paused = 1;
	}
	if (r->transport)
		cd_transport_set_stop(r->transport, c->stop, c->cfg->smtp.stop_grace * 1000);
	if (!c->plan_only && (rc = cd_sender_open(c->cfg, c->store, r->transport, r->now, c->stop,
						  c->tick, c->tick_arg, &r->sender)) < 0)
		return cd_error_set(err, rc, NULL, 0, "out of memory");
	if (!c->plan_only &&
	    !(r->ready = calloc(r->cap = cd_transport_slots(r->transport), sizeof(*r->ready))))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	return 0;
}

/* After the campaigns (RC how they went): what every pass has read of
 * the change log goes, and the next time something is due is worked
 * out either way. */
static int finish(struct run *r, int rc, struct cd_error *err)
{
	const struct cd_cycle *c = r->c;
	struct cd_cycle_stats *stats = r->stats;
	int64_t retry;

	/* every request campaign has read the change log this far */
	if (rc == 0 && !r->changes_unread && r->seen_changes && !c->plan_only)
		rc = cd_store_due_forget_changes(c->store, r->seen_changes, err);
	stats->next_due = cd_cycle_next_due(c->cfg, c->store, r->now);
	retry = cd_store_message_next_retry(c->store);
	if (retry > 0 && (!stats->next_due || retry < stats->next_due))
		stats->next_due = retry;
	if (r->next_open && (!stats->next_due || r->next_open < stats->next_due))
		stats->next_due = r->next_open;
	return rc;
}

int cd_cycle_run(const struct cd_cycle *c, struct cd_cycle_stats *stats,
		 struct cd_error *err)
{
	struct run r = { .c = c, .stats = stats, .now = cd_util_now(),
			 .shared = !c->dry_run && !c->plan_only && cd_store_shared(c->store) };
	int rc, outer = 0;
	size_t i = 0;

	memset(stats, 0, sizeof(*stats));
	if ((rc = start(&r, &outer, err)) < 0)
		goto out;
	/* deferred messages first: they have waited longest */
	if (r.sender && !r.paused && !c->dry_run)
		rc = cd_sender_retry(r.sender, may_retry, &r, err);
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
		stats->requeued = ss->requeued;
		stats->paused = cd_sender_paused(r.sender) || r.paused;
	}
	if (i < c->cfg->ncampaigns)
		r.changes_unread = 1; /* a campaign that did not run has not read them */
	rc = finish(&r, rc, err);
out:
	if (outer == 1)
		cd_store_rollback(c->store);
	else if (outer == 2)
		cd_store_due_snapshot_end(c->store);
	drop_ready(&r);
	free(r.ready);
	cd_sender_close(r.sender);
	cd_ratelimit_free(r.limits);
	cd_transport_close(r.own_transport);
	cd_util_wipe(r.secret, sizeof(r.secret));
	return rc;
}

static void report_one(void *arg, const char *order_id, const char *message_id)
{
	int64_t *n = arg;

	if ((*n)++ < 20)
		cd_log(CD_LOG_WARNING,
		       "order %s: message <%s> was being sent when candord stopped; it is not sent again",
		       order_id, message_id);
}

int64_t cd_cycle_report_interrupted(struct cd_store *store, struct cd_error *err)
{
	int64_t seen = 0, n = cd_store_message_interrupted(store, report_one, &seen, err);

	if (n > 20)
		cd_log(CD_LOG_WARNING, "... and %lld more interrupted sends (see 'candorctl status')",
		       (long long)(n - 20));
	return n;
}

char *cd_cycle_waiting(const struct cd_cycle_stats *s, char *buf, size_t len)
{
	size_t off = 0;
	int64_t all = 0;

	if (len)
		buf[0] = '\0';
	for (int w = CD_WAIT_NONE + 1; w < CD_WAIT_NREASONS; w++)
		all += s->waiting[w];
	if (all)
		off = (size_t)snprintf(buf, len, "%lld waiting (", (long long)all);
	for (int w = CD_WAIT_NONE + 1; w < CD_WAIT_NREASONS && off < len; w++)
		if (s->waiting[w])
			off += (size_t)snprintf(buf + off, len - off, "%s%s %lld",
						buf[off - 1] == '(' ? "" : ", ", cd_wait_name(w),
						(long long)s->waiting[w]);
	if (all && off < len)
		off += (size_t)snprintf(buf + off, len - off, ")");
	if (s->limit != CD_WAIT_NONE && off < len)
		snprintf(buf + off, len - off, "%s%s", off ? "; " : "", cd_wait_text(s->limit));
	return buf;
}

static void report_left(void *arg, const char *order_id, const char *message_id)
{
	int64_t *n = arg;

	if ((*n)++ < 20)
		cd_log(CD_LOG_WARNING,
		       "order %s: message <%s> is still 'sending' long after its transfer must have "
		       "ended: the candord sending it stopped or lost the answer; it is not sent again",
		       order_id, message_id);
}

int64_t cd_cycle_report_left(struct cd_store *store, const struct cd_config *cfg, int64_t now,
			     struct cd_error *err)
{
	/* no transfer lasts longer than this, nor waits longer for its
	 * outcome to be committed */
	int64_t longest = cfg->smtp.connect_timeout + cfg->smtp.timeout + cfg->smtp.stop_grace + 10;
	int64_t after = 0, seen = 0, n;
	char mark[32];

	if (cd_store_meta_get(store, CD_CYCLE_LEFT_KEY, mark, sizeof(mark)) == 0)
		after = strtoll(mark, NULL, 10);
	if (now - longest <= after)
		return 0;
	if ((n = cd_store_message_left_sending(store, after, now - longest, report_left, &seen,
					       err)) < 0)
		return n;
	if (n > 20)
		cd_log(CD_LOG_WARNING, "... and %lld more interrupted sends (see 'candorctl status')",
		       (long long)(n - 20));
	snprintf(mark, sizeof(mark), "%lld", (long long)(now - longest));
	if (cd_store_meta_set(store, CD_CYCLE_LEFT_KEY, mark, err) < 0)
		return CD_ESTORE;
	return n;
}
