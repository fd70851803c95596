/*
 * sender.c - the send queue of a cycle (see sender.h): several messages
 * in flight on the transport; a message becomes "sending" only when a
 * connection is free for it, and what came back is committed with the
 * next hand-off (or on its own when there is none), before the log says
 * what became of it.
 *
 * Measured with bench/smtp_bench.sh: two commits per message (hand-off,
 * outcome) halved the throughput of the 32 and 64 to a transaction this
 * replaces. A commit in WAL mode has no fsync, but it writes every page
 * it touched - a dozen for a message row, its seven indexes and its
 * event - and the checkpoints that follow do sync. So the outcomes that
 * arrive within GATHER_MS of each other share one transaction with the
 * messages that take their connections: one commit per round of
 * connections, and still at most one "sending" row per connection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/due.h"
#include "candor/log.h"
#include "candor/sender.h"
#include "candor/store.h"
#include "candor/store_message.h"
#include "candor/transport.h"
#include "candor/util.h"

#define RETRY_BATCH 500
/* How long a free connection waits for the others to finish too, so
 * their outcomes and the next hand-offs share a commit: a few round
 * trips on a LAN, nothing against a server 50 ms away. */
#define GATHER_MS 2

struct pending {
	int busy;
	int64_t id;
	const char *kind;       /* static: "request" or "reminder" */
	char *order_id, *msgid, *recipient, *mail;
	size_t len;
	char envelope[320];
	struct cd_outgoing out;
};

/* A transfer that has ended, waiting for its outcome to be committed. */
struct finished {
	struct pending p;
	struct cd_send_result res;
	int64_t *stat;          /* the count it adds to once committed */
};

struct cd_sender {
	const struct cd_config *cfg;
	struct cd_store *st;
	struct cd_transport *t;
	int64_t now;
	const volatile sig_atomic_t *stop;
	struct pending *slots;
	struct finished *finished; /* as many as slots: one poll ends at most all */
	size_t nslots, nfinished;
	int64_t first_done_ms;  /* when the oldest uncommitted outcome came */
	int in_batch;           /* a hand-off transaction is open */
	int paused;
	struct cd_sender_stats stats;
	void (*tick)(void *);
	void *tick_arg;
	int rc;                 /* first error while recording an outcome */
	struct cd_error err;
};

/* ---- pauses --------------------------------------------------------------- */

static void pause_sending(struct cd_sender *s, const char *why)
{
	char value[300];

	s->paused = 1;
	snprintf(value, sizeof(value), "%lld %s", (long long)s->now, why);
	if (cd_store_meta_set(s->st, CD_SENDER_PAUSE_KEY, value, &s->err) < 0 && s->rc == 0)
		s->rc = CD_ESTORE;
	cd_log(CD_LOG_ERR, "sending paused: the server refused our login, sender or TLS (%s); "
	       "no message is marked failed for it. Fix the configuration and reload, or "
	       "candord tries again in %lld s", why, (long long)s->cfg->smtp.pause_retry);
}

int cd_sender_is_paused(struct cd_store *st, const struct cd_config *cfg, int64_t now,
			char *reason, size_t len)
{
	char value[300];
	long long since = 0;
	int n = 0;

	if (reason && len)
		reason[0] = '\0';
	if (cd_store_meta_get(st, CD_SENDER_PAUSE_KEY, value, sizeof(value)) < 0 ||
	    sscanf(value, "%lld %n", &since, &n) < 1)
		return 0;
	if (reason)
		snprintf(reason, len, "since %lld: %s", since, value + n);
	return now < since + cfg->smtp.pause_retry;
}

int cd_sender_unpause(struct cd_store *st, struct cd_error *err)
{
	return cd_store_meta_set(st, CD_SENDER_PAUSE_KEY, NULL, err);
}

void cd_sender_envelope(const struct cd_config *cfg, const char *token, char *out, size_t len)
{
	const char *from = *cfg->smtp.envelope_from ? cfg->smtp.envelope_from : cfg->shop.from;
	const char *at = strrchr(from, '@');

	if (cfg->smtp.verp && token && *token && at)
		snprintf(out, len, "%.*s+%s%s", (int)(at - from), from, token, at);
	else
		snprintf(out, len, "%s", from);
}

/* ---- outcomes ------------------------------------------------------------- */

/* Exponential backoff with jitter (0.75 to 1.25), so a server that said
 * "try later" to a burst does not get the whole burst back at once. */
static int64_t backoff(const struct cd_config *cfg, int attempt)
{
	int64_t wait = cfg->smtp.retry_min;
	unsigned char r = 128;

	for (int i = 1; i < attempt && wait < cfg->smtp.retry_max; i++)
		wait *= 2;
	if (wait > cfg->smtp.retry_max)
		wait = cfg->smtp.retry_max;
	cd_util_random_id(&r, 1);
	return wait * 3 / 4 + wait * r / 512;
}

static int record(struct cd_sender *s, struct pending *p, const struct cd_msg_change *c)
{
	return cd_store_message_change(s->st, p->id, c, s->now, &s->err) < 0 ? CD_ESTORE : 0;
}

static int deferred(struct cd_sender *s, struct finished *f)
{
	struct pending *p = &f->p;
	const struct cd_send_result *res = &f->res;
	int64_t created, attempts;
	struct cd_msg_change c = { .state = CD_MSG_DEFERRED, .reply = res->reply, .attempt = 1,
				   .mail = p->mail, .len = p->len };
	char why[320];

	/* a message we cannot look up counts as new: it is retried */
	cd_store_message_attempts(s->st, p->id, &created, &attempts);
	attempts++;
	if (s->now - created >= s->cfg->smtp.retry_for) {
		snprintf(why, sizeof(why), "gave up after %lld attempts over %lld s: %.200s",
			 (long long)attempts, (long long)(s->now - created), res->reply);
		c = (struct cd_msg_change){ .state = CD_MSG_FAILED, .reason = why, .reply = res->reply,
					    .attempt = 1 };
		f->stat = &s->stats.failed;
	} else {
		c.next_attempt = s->now + backoff(s->cfg, (int)attempts);
		f->stat = &s->stats.deferred;
	}
	return record(s, p, &c);
}

/* Record how F ended, inside the flush's transaction. */
static int apply(struct cd_sender *s, struct finished *f)
{
	struct pending *p = &f->p;
	const struct cd_send_result *res = &f->res;
	struct cd_msg_change c = { .reply = res->reply, .attempt = 1 };
	char why[400];

	switch (res->outcome) {
	case CD_SEND_SENT:
		c.state = CD_MSG_SENT;
		f->stat = &s->stats.sent;
		break;
	case CD_SEND_FAILED:
		c.state = CD_MSG_FAILED;
		c.reason = res->reply;
		f->stat = &s->stats.failed;
		if (res->bad_mailbox &&
		    cd_store_suppress(s->st, p->recipient, "hard_bounce", res->reply, s->now,
				      &s->err) < 0)
			return CD_ESTORE;
		break;
	case CD_SEND_DEFERRED:
		return deferred(s, f);
	case CD_SEND_PAUSED:
		/* our problem, not the customer's: back in line, not an attempt */
		c = (struct cd_msg_change){ .state = CD_MSG_DEFERRED, .reason = "sending paused",
					    .reply = res->reply, .next_attempt = s->now,
					    .mail = p->mail, .len = p->len };
		f->stat = &s->stats.deferred;
		break;
	case CD_SEND_STOPPED:
		/* nothing can have arrived: first in line next time, same bytes */
		c = (struct cd_msg_change){ .state = CD_MSG_QUEUED, .reply = res->reply,
					    .reason = "candord stopped before the end of the message "
						      "went; it is sent with the next cycle",
					    .next_attempt = s->now, .mail = p->mail, .len = p->len };
		f->stat = &s->stats.requeued;
		break;
	case CD_SEND_UNKNOWN:
		snprintf(why, sizeof(why), "the whole message went and no answer came back "
			 "(%.200s); it may have arrived, so it is not sent again", res->reply);
		c = (struct cd_msg_change){ .state = CD_MSG_SENDING, .attempt = 1, .reply = res->reply,
					    .reason = why };
		f->stat = &s->stats.unknown;
		break;
	}
	return record(s, p, &c);
}

static void free_pending(struct pending *p)
{
	free(p->order_id);
	free(p->msgid);
	free(p->recipient);
	free(p->mail);
	memset(p, 0, sizeof(*p));
}

static const char *outcome_word(enum cd_send_outcome o)
{
	switch (o) {
	case CD_SEND_SENT: return "sent";
	case CD_SEND_FAILED: return "failed";
	case CD_SEND_UNKNOWN: return "outcome unknown";
	case CD_SEND_PAUSED: return "held back (paused)";
	case CD_SEND_STOPPED: return "back in the queue (stopped)";
	default: return "deferred";
	}
}

/* Record what came back, inside the caller's transaction. */
static int apply_outcomes(struct cd_sender *s)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->nfinished; i++)
		rc = apply(s, &s->finished[i]);
	return rc;
}

/* Say what became of each outcome - recorded (COMMITTED) or not - and
 * let them go. */
static void outcomes_said(struct cd_sender *s, int committed)
{
	for (size_t i = 0; i < s->nfinished; i++) {
		struct finished *f = &s->finished[i];
		const struct pending *p = &f->p;

		if (!committed)
			cd_log(CD_LOG_ERR, "order %s: %s <%s> %s via %s (%s), but the database could "
			       "not record it: it stays 'sending' and is not sent again",
			       p->order_id, p->kind, p->msgid, outcome_word(f->res.outcome),
			       cd_transport_name(s->t), f->res.reply);
		else if (f->res.outcome == CD_SEND_SENT && cd_transport_dry_run(s->t))
			/* a dry run's outbox is a look at the mail, not a send */
			cd_log(CD_LOG_INFO, "order %s: would send %s <%s> (dry run: written to the "
			       "outbox, not mailed)", p->order_id, p->kind, p->msgid);
		else
			cd_log(f->res.outcome == CD_SEND_SENT ? CD_LOG_INFO : CD_LOG_WARNING,
			       "order %s: %s %s <%s> via %s: %s", p->order_id, p->kind,
			       outcome_word(f->res.outcome), p->msgid, cd_transport_name(s->t),
			       f->res.reply);
		if (committed && f->stat)
			(*f->stat)++;
		free_pending(&f->p);
	}
	s->nfinished = 0;
	s->first_done_ms = 0;
}

static void store_failed(struct cd_sender *s, const struct cd_error *err)
{
	if (s->rc == 0) {
		s->rc = CD_ESTORE;
		if (s->err.code == 0 && err)
			s->err = *err;
	}
}

/* Commit what came back on its own (no hand-off to share it with), then
 * say it: a "sent" in the log is in the database. A crash before the
 * commit leaves those rows "sending" - reported, never resent. */
static void flush_outcomes(struct cd_sender *s)
{
	struct cd_error err = { 0 };
	int rc;

	if (!s->nfinished)
		return;
	rc = cd_store_begin(s->st, &err);
	if (rc == 0 && (rc = apply_outcomes(s)) < 0)
		cd_store_rollback(s->st);
	else if (rc == 0)
		rc = cd_store_commit(s->st, &err);
	if (rc < 0)
		store_failed(s, &err);
	outcomes_said(s, rc == 0);
}

int cd_sender_batch_begin(struct cd_sender *s, struct cd_error *err)
{
	int rc;

	if ((rc = cd_store_begin(s->st, err)) < 0)
		return rc;
	if ((rc = apply_outcomes(s)) < 0) {
		if (err)
			*err = s->err;
		cd_store_rollback(s->st);
		store_failed(s, err);
		outcomes_said(s, 0);
		return rc;
	}
	s->in_batch = 1;
	return 0;
}

int cd_sender_batch_end(struct cd_sender *s, int ok, struct cd_error *err)
{
	int rc = CD_ESTORE;

	if (!s->in_batch)
		return 0;
	s->in_batch = 0;
	if (ok && (rc = cd_store_commit(s->st, err)) == 0) {
		outcomes_said(s, 1);
		return 0;
	}
	if (!ok) {
		/* the hand-off failed, not what came back: record that alone */
		cd_store_rollback(s->st);
		flush_outcomes(s);
		return 0;
	}
	store_failed(s, err);
	outcomes_said(s, 0);
	return rc;
}

static void done(void *arg, const struct cd_outgoing *msg, const struct cd_send_result *res)
{
	struct cd_sender *s = arg;
	struct pending *p = msg->cookie;
	struct finished *f = &s->finished[s->nfinished++];

	*f = (struct finished){ .p = *p, .res = *res };
	memset(p, 0, sizeof(*p)); /* the slot is free; its strings moved */
	if (!s->first_done_ms)
		s->first_done_ms = cd_util_mono_ms();
	if (res->outcome == CD_SEND_PAUSED && !s->paused)
		pause_sending(s, res->reply);
}

/* ---- the queue ------------------------------------------------------------ */

int cd_sender_open(const struct cd_config *cfg, struct cd_store *st, struct cd_transport *t,
		   int64_t now, const volatile sig_atomic_t *stop, void (*tick)(void *),
		   void *tick_arg, struct cd_sender **out)
{
	struct cd_sender *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return CD_ENOMEM;
	*s = (struct cd_sender){ .cfg = cfg, .st = st, .t = t, .now = now, .stop = stop,
				 .tick = tick, .tick_arg = tick_arg, .nslots = cd_transport_slots(t) };
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	/* room for a full round of outcomes waiting for their commit, and
	 * the round after it (see poll_once) */
	s->finished = calloc(2 * s->nslots, sizeof(*s->finished));
	if (!s->slots || !s->finished) {
		free(s->slots);
		free(s->finished);
		free(s);
		return CD_ENOMEM;
	}
	*out = s;
	return 0;
}

/* Drive the transfers for up to TIMEOUT_MS; what came back waits in
 * s->finished for a commit. */
static size_t poll_once(struct cd_sender *s, int timeout_ms)
{
	size_t left;

	/* a poll brings at most one outcome per connection; outcomes still
	 * waiting from an earlier round (no hand-over committed them) are
	 * recorded on their own first, so they always fit */
	if (s->nfinished > s->nslots)
		flush_outcomes(s);
	left = cd_transport_poll(s->t, timeout_ms, done, s);

	if (s->tick)
		s->tick(s->tick_arg);
	return left;
}

static size_t free_slots(struct cd_sender *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nslots; i++)
		n += !s->slots[i].busy;
	return n;
}

static struct pending *free_slot(struct cd_sender *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (!s->slots[i].busy)
			return &s->slots[i];
	return NULL;
}

void cd_sender_pump(struct cd_sender *s)
{
	if (free_slots(s) < s->nslots)
		cd_transport_poll(s->t, 0, done, s);
}

int cd_sender_wait(struct cd_sender *s, size_t *room, struct cd_error *err)
{
	for (;;) {
		size_t n = free_slots(s);
		int64_t waited;

		*room = 0;
		if (s->rc < 0) {
			if (err)
				*err = s->err;
			return s->rc;
		}
		if (s->paused || (s->stop && *s->stop)) {
			flush_outcomes(s);
			return 0;
		}
		/* free, and no others about to be: go */
		waited = s->first_done_ms ? cd_util_mono_ms() - s->first_done_ms : GATHER_MS;
		if (n > 0 && (n == s->nslots || waited >= GATHER_MS)) {
			*room = n;
			return 1;
		}
		poll_once(s, n > 0 ? (int)(GATHER_MS - waited) : 1000);
	}
}

int cd_sender_submit(struct cd_sender *s, const struct cd_sender_msg *m, char *mail,
		     size_t len, struct cd_error *err)
{
	struct pending *p;
	int rc;

	/* the caller waited; should it not have, wait here, stop or not:
	 * the row is "sending" already */
	while (!(p = free_slot(s)))
		poll_once(s, 1000);
	*p = (struct pending){ .busy = 1, .id = m->id, .kind = m->kind,
			       .order_id = strdup(m->order_id), .msgid = strdup(m->message_id),
			       .recipient = strdup(m->recipient), .mail = mail, .len = len };
	if (!p->order_id || !p->msgid || !p->recipient) {
		free_pending(p);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	cd_sender_envelope(s->cfg, m->token, p->envelope, sizeof(p->envelope));
	p->out = (struct cd_outgoing){
		.envelope_from = p->envelope, .recipient = p->recipient, .message_id = p->msgid,
		.data = p->mail, .len = len, .cookie = p,
	};
	while ((rc = cd_transport_submit(s->t, &p->out)) == CD_EBUSY)
		poll_once(s, 1000);
	if (rc < 0) {
		struct cd_send_result res = { .outcome = CD_SEND_DEFERRED };

		snprintf(res.reply, sizeof(res.reply), "could not start the transfer (out of memory)");
		done(s, &p->out, &res);
	}
	return 0;
}

int cd_sender_drain(struct cd_sender *s, struct cd_error *err)
{
	size_t left;

	do {
		left = poll_once(s, 1000);
		flush_outcomes(s);
	} while (left > 0);
	if (s->rc < 0 && err)
		*err = s->err;
	return s->rc;
}

/* A queued or deferred message, made "sending" again (and committed so)
 * now that a connection is free for it: same bytes, same Message-ID. */
static int send_again(struct cd_sender *s, const struct cd_msg_retry *m, char *mail,
		      struct cd_error *err)
{
	struct cd_sender_msg sm = { .id = m->id, .kind = cd_due_kind_name(m->kind),
				    .order_id = m->order_id, .message_id = m->message_id,
				    .recipient = m->recipient, .token = m->token };
	int rc;

	/* committed, with what came back meanwhile, before the transport
	 * sees a byte: never twice */
	if ((rc = cd_sender_batch_begin(s, err)) == 0) {
		/* only from queued or deferred: of several daemons, one takes it */
		rc = cd_store_message_take(s->st, m->id, s->now, err);
		if (cd_sender_batch_end(s, rc >= 0, err) < 0 && rc >= 0)
			rc = CD_ESTORE;
	}
	if (rc <= 0) {
		free(mail);
		return rc;
	}
	return cd_sender_submit(s, &sm, mail, m->len, err);
}

static int retry_one(struct cd_sender *s, struct cd_msg_retry *m, struct cd_error *err)
{
	char *mail = m->mail;
	char why[96];

	/* the order was refunded (returned, cancelled) while its message
	 * waited: a review request for it must not go now */
	if (m->order_stopped[0]) {
		snprintf(why, sizeof(why), "not sent: the order was %s while the message waited",
			 m->order_stopped);
		cd_log(CD_LOG_NOTICE, "order %s: message <%s> %s", m->order_id, m->message_id, why);
		return cd_store_message_set_state(s->st, m->id, CD_MSG_FAILED, why, s->now, err);
	}
	if (!mail) {
		cd_log(CD_LOG_WARNING, "message %lld: waiting to be sent with nothing kept to send",
		       (long long)m->id);
		return cd_store_message_set_state(s->st, m->id, CD_MSG_FAILED,
						  "to be sent again, but its bytes were not kept",
						  s->now, err);
	}
	m->mail = NULL; /* the sender's now */
	return send_again(s, m, mail, err);
}

int cd_sender_retry(struct cd_sender *s, int (*may_go)(void *), void *arg,
		    struct cd_error *err)
{
	int64_t ids[RETRY_BATCH], last = 0;
	size_t n;
	int rc = 0;

	do {
		/* a batch at a time: sending changes the rows the query walks */
		if ((rc = cd_store_message_retries(s->st, s->now, last, ids, RETRY_BATCH, &n, err)) < 0)
			return rc;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct cd_msg_retry m;
			int found;

			size_t room;

			if (s->paused || (may_go && !may_go(arg)))
				return 0;
			if ((rc = cd_sender_wait(s, &room, err)) <= 0)
				return rc;
			rc = 0;
			last = ids[i];
			if ((found = cd_store_message_retry(s->st, last, &m, err)) < 0)
				return found;
			if (found) {
				rc = retry_one(s, &m, err);
				cd_msg_retry_clear(&m);
			}
		}
	} while (rc == 0 && n == RETRY_BATCH);
	return rc;
}

int cd_sender_paused(const struct cd_sender *s)
{
	return s->paused;
}

const struct cd_sender_stats *cd_sender_stats(const struct cd_sender *s)
{
	return &s->stats;
}

void cd_sender_close(struct cd_sender *s)
{
	if (!s)
		return;
	cd_sender_drain(s, NULL);
	free(s->slots);
	free(s->finished);
	free(s);
}
