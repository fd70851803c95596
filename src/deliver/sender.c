/*
 * sender.c - the send queue of a cycle (see sender.h): several messages
 * in flight on the transport, each outcome recorded in its own committed
 * transaction as it comes back.
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
#define FLUSH_EVERY 64

struct pending {
	int busy;
	int64_t id;
	const char *kind;       /* static: "request" or "reminder" */
	char *order_id, *msgid, *recipient, *mail;
	size_t len;
	struct cd_outgoing out;
};

struct finished {
	struct pending p;
	struct cd_send_result res;
};

struct cd_sender {
	struct finished finished[FLUSH_EVERY];
	size_t nfinished;
	const struct cd_config *cfg;
	struct cd_store *st;
	struct cd_transport *t;
	int64_t now;
	struct pending *slots;
	size_t nslots;
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

static void record(struct cd_sender *s, struct pending *p, const struct cd_msg_change *c)
{
	if (cd_store_message_change(s->st, p->id, c, s->now, &s->err) < 0 && s->rc == 0)
		s->rc = CD_ESTORE;
}

static void deferred(struct cd_sender *s, struct pending *p, const struct cd_send_result *res)
{
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
		s->stats.failed++;
	} else {
		c.next_attempt = s->now + backoff(s->cfg, (int)attempts);
		s->stats.deferred++;
	}
	record(s, p, &c);
}

/* Record how message P ended (inside the flush's transaction). */
static void apply(struct cd_sender *s, struct pending *p, const struct cd_send_result *res)
{
	struct cd_msg_change c = { .reply = res->reply, .attempt = 1 };

	switch (res->outcome) {
	case CD_SEND_SENT:
		c.state = CD_MSG_SENT;
		s->stats.sent++;
		break;
	case CD_SEND_FAILED:
		c.state = CD_MSG_FAILED;
		c.reason = res->reply;
		s->stats.failed++;
		if (res->bad_mailbox &&
		    cd_store_suppress(s->st, p->recipient, "hard_bounce", res->reply, s->now,
				      &s->err) < 0) {
			if (s->rc == 0)
				s->rc = CD_ESTORE;
			return;
		}
		break;
	case CD_SEND_DEFERRED:
		deferred(s, p, res);
		return;
	case CD_SEND_PAUSED:
		/* our problem, not the customer's: back in line, not an attempt */
		c = (struct cd_msg_change){ .state = CD_MSG_DEFERRED, .reason = "sending paused",
					    .reply = res->reply, .next_attempt = s->now,
					    .mail = p->mail, .len = p->len };
		break;
	case CD_SEND_UNKNOWN:
		c = (struct cd_msg_change){ .state = CD_MSG_SENDING, .attempt = 1, .reply = res->reply,
					    .reason = "the connection broke after the whole message was sent; "
						      "it may have arrived, so it is not sent again" };
		s->stats.unknown++;
		break;
	}
	record(s, p, &c);
}

static void free_pending(struct pending *p)
{
	free(p->order_id);
	free(p->msgid);
	free(p->recipient);
	free(p->mail);
	memset(p, 0, sizeof(*p));
}

/* Outcomes are recorded a batch per transaction: one commit per mail
 * was half the cost of sending it. A crash before the batch commits
 * leaves those rows "sending" - reported, never resent - which is the
 * safe side. */
static void flush_outcomes(struct cd_sender *s)
{
	struct cd_error err;

	if (!s->nfinished)
		return;
	if (cd_store_begin(s->st, &err) < 0) {
		if (s->rc == 0) {
			s->rc = CD_ESTORE;
			s->err = err;
		}
	}
	for (size_t i = 0; i < s->nfinished; i++) {
		apply(s, &s->finished[i].p, &s->finished[i].res);
		free_pending(&s->finished[i].p);
	}
	s->nfinished = 0;
	if (cd_store_commit(s->st, &err) < 0 && s->rc == 0) {
		s->rc = CD_ESTORE;
		s->err = err;
	}
}

static void done(void *arg, const struct cd_outgoing *msg, const struct cd_send_result *res)
{
	struct cd_sender *s = arg;
	struct pending *p = msg->cookie;
	struct finished *f;

	if (res->outcome == CD_SEND_PAUSED && !s->paused)
		pause_sending(s, res->reply);
	cd_log(res->outcome == CD_SEND_SENT ? CD_LOG_INFO : CD_LOG_WARNING,
	       "order %s: %s %s <%s> via %s: %s", p->order_id, p->kind,
	       res->outcome == CD_SEND_SENT ? "sent" : res->outcome == CD_SEND_FAILED ? "failed"
	       : res->outcome == CD_SEND_UNKNOWN ? "outcome unknown"
	       : res->outcome == CD_SEND_PAUSED ? "held back (paused)" : "deferred",
	       p->msgid, cd_transport_name(s->t), res->reply);
	f = &s->finished[s->nfinished++];
	f->p = *p;
	f->res = *res;
	memset(p, 0, sizeof(*p)); /* the slot is free; its strings moved */
	if (s->nfinished == FLUSH_EVERY)
		flush_outcomes(s);
}

/* ---- the queue ------------------------------------------------------------ */

int cd_sender_open(const struct cd_config *cfg, struct cd_store *st, struct cd_transport *t,
		   int64_t now, void (*tick)(void *), void *tick_arg, struct cd_sender **out)
{
	struct cd_sender *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return CD_ENOMEM;
	*s = (struct cd_sender){ .cfg = cfg, .st = st, .t = t, .now = now, .tick = tick,
				 .tick_arg = tick_arg, .nslots = cd_transport_slots(t) };
	if (!(s->slots = calloc(s->nslots, sizeof(*s->slots)))) {
		free(s);
		return CD_ENOMEM;
	}
	*out = s;
	return 0;
}

static size_t poll_once(struct cd_sender *s)
{
	size_t left = cd_transport_poll(s->t, 1000, done, s);

	if (s->tick)
		s->tick(s->tick_arg);
	return left;
}

static struct pending *free_slot(struct cd_sender *s)
{
	for (;;) {
		for (size_t i = 0; i < s->nslots; i++)
			if (!s->slots[i].busy)
				return &s->slots[i];
		poll_once(s);
	}
}

int cd_sender_submit(struct cd_sender *s, int64_t id, const char *kind, const char *order_id,
		     const char *msgid, const char *recipient, char *mail, size_t len,
		     struct cd_error *err)
{
	const struct cd_config *cfg = s->cfg;
	struct pending *p = free_slot(s);
	int rc;

	*p = (struct pending){ .busy = 1, .id = id, .kind = kind, .order_id = strdup(order_id),
			       .msgid = strdup(msgid), .recipient = strdup(recipient),
			       .mail = mail, .len = len };
	if (!p->order_id || !p->msgid || !p->recipient) {
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	p->out = (struct cd_outgoing){
		.envelope_from = *cfg->smtp.envelope_from ? cfg->smtp.envelope_from : cfg->shop.from,
		.recipient = p->recipient, .message_id = p->msgid, .data = p->mail, .len = len,
		.cookie = p,
	};
	while ((rc = cd_transport_submit(s->t, &p->out)) == CD_EBUSY)
		poll_once(s);
	if (rc < 0) {
		struct cd_send_result res = { .outcome = CD_SEND_DEFERRED };

		snprintf(res.reply, sizeof(res.reply), "could not start the transfer (out of memory)");
		done(s, &p->out, &res);
		return 0;
	}
	return 0;
fail:
	free_pending(p);
	return rc;
}

int cd_sender_drain(struct cd_sender *s, struct cd_error *err)
{
	while (poll_once(s) > 0)
		;
	flush_outcomes(s);
	if (s->rc < 0 && err)
		*err = s->err;
	return s->rc;
}

/* A deferred message whose time has come, made "sending" again (and
 * committed so) before its kept bytes go to the transport: same bytes,
 * same Message-ID. */
static int send_again(struct cd_sender *s, int64_t id, const char *kind, const char *order_id,
		      const char *msgid, const char *recipient, char *mail, size_t len,
		      struct cd_error *err)
{
	int rc;

	free_slot(s);
	/* committed before the transport sees a byte: never twice */
	if ((rc = cd_store_message_set_state(s->st, id, CD_MSG_SENDING, NULL, s->now, err)) < 0) {
		free(mail);
		return rc;
	}
	return cd_sender_submit(s, id, kind, order_id, msgid, recipient, mail, len, err);
}

static int retry_one(struct cd_sender *s, struct cd_msg_retry *m, struct cd_error *err)
{
	char *mail = m->mail;

	if (!mail) {
		cd_log(CD_LOG_WARNING, "message %lld: deferred with nothing kept to retry",
		       (long long)m->id);
		return cd_store_message_set_state(s->st, m->id, CD_MSG_FAILED,
						  "deferred, but its bytes were not kept", s->now, err);
	}
	m->mail = NULL; /* the sender's now */
	return send_again(s, m->id, cd_due_kind_name(m->kind), m->order_id, m->message_id,
			  m->recipient, mail, m->len, err);
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

			if (s->paused || (may_go && !may_go(arg)))
				return 0;
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
	free(s);
}
