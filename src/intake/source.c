/*
 * source.c - runs the order sources (source.h): polls each when due,
 * one batch at a time so sending and the watchdog go on during a long
 * backfill; writes each batch with its cursor in one transaction; logs
 * a source's failure once per change of state and backs it off; keeps
 * each source's state in the store for `candorctl sources`.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candor/config.h"
#include "candor/log.h"
#include "candor/order.h"
#include "candor/order_check.h"
#include "candor/source.h"
#include "candor/source_impl.h"
#include "candor/store.h"
#include "candor/store_order.h"
#include "candor/store_source.h"
#include "candor/units.h"
#include "candor/util.h"

/* Bad rows logged one by one per poll; the rest are counted. */
#define LOGGED_PROBLEMS 20
#define MAX_STREAMS 4
#define MAX_NOTES 16
#define IDLE_RECORD_MS (15 * 60 * 1000)
/* --once waits for a throttled shop this long at most */
#define ONCE_MAX_WAIT_MS 60000

struct src {
	const struct cd_source_conf *c;
	void *state;
	int failing;            /* the last poll failed */
	int fails;              /* polls failed in a row */
	int more;               /* the last batch was full */
	int64_t next_ms;        /* monotonic: due again */
	char detail[300];       /* why it fails */
	char *notes[MAX_NOTES]; /* mapping notes already logged */
	int nnotes;
	int written;            /* rows written since it last caught up */
	int64_t wait_ms;        /* the shop asked for this pause (Retry-After) */
	char waitwhy[120];      /* why, while it lasts */
	int64_t idle_ms;        /* monotonic: last caught-up state written */
	int64_t backoff;        /* ms before the next try after a failure */
};

struct cd_sources {
	struct src *v;
	size_t n;
};

struct cursor {
	char stream[16];
	char *time, *key;
};

struct cd_source_run {
	struct src *s;                    /* NULL in a test run */
	const struct cd_source_conf *c;
	struct cd_store *st;              /* may be NULL in a test run */
	int testing;
	int in_txn;
	int64_t now;
	int64_t rows, bad;                /* since the last commit */
	int64_t total_rows, total_bad;    /* this poll */
	int64_t orders, feedback;         /* this poll, mapped */
	int64_t gone;                     /* this poll, deleted in the shop */
	int logged;                       /* problems logged this poll */
	struct cursor cur[MAX_STREAMS];
	int ncur;
	FILE *out;                        /* test run: where it shows */
	int show, shown;
	char since[32];
};

/* ---- the run, as the types see it ---------------------------------------- */

void cd_source_wait(struct cd_source_run *r, int64_t ms, const char *why)
{
	if (r->testing) {
		fprintf(r->out, "wait: %s (%lld ms)\n", why, (long long)ms);
		return;
	}
	if (ms > r->s->wait_ms)
		r->s->wait_ms = ms;
	snprintf(r->s->waitwhy, sizeof(r->s->waitwhy), "%s", why);
}

const struct cd_source_conf *cd_source_run_conf(struct cd_source_run *r)
{
	return r->c;
}

int cd_source_run_testing(struct cd_source_run *r)
{
	return r->testing;
}

static struct cursor *find_cursor(struct cd_source_run *r, const char *stream)
{
	struct cursor *c;

	for (int i = 0; i < r->ncur; i++)
		if (strcmp(r->cur[i].stream, stream) == 0)
			return &r->cur[i];
	if (r->ncur == MAX_STREAMS)
		return NULL;
	c = &r->cur[r->ncur++];
	snprintf(c->stream, sizeof(c->stream), "%s", stream);
	if (r->st)
		cd_store_source_cursor(r->st, r->c->name, stream, &c->time, &c->key);
	return c;
}

void cd_source_run_cursor(struct cd_source_run *r, const char *stream,
			  const char **time, const char **key)
{
	struct cursor *c = find_cursor(r, stream);

	if (!r->since[0]) {
		time_t t = (time_t)(r->now - r->c->since);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(r->since, sizeof(r->since), "%Y-%m-%d %H:%M:%S", &tm);
	}
	*time = c && c->time ? c->time : r->since;
	*key = c && c->key ? c->key : "0";
}

static int begin(struct cd_source_run *r, struct cd_error *err)
{
	int rc;

	if (r->in_txn || r->testing)
		return 0;
	if ((rc = cd_store_begin(r->st, err)) < 0)
		return rc;
	r->in_txn = 1;
	return 0;
}

struct cd_store *cd_source_run_store(struct cd_source_run *r, struct cd_error *err)
{
	if (r->testing)
		return NULL;
	return begin(r, err) < 0 ? NULL : r->st;
}

void cd_source_problem(struct cd_source_run *r, const char *key, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->bad++;
	r->total_bad++;
	if (r->testing) {
		fprintf(r->out, "problem: %s: %s\n", key ? key : "?", why);
		return;
	}
	if (r->logged++ < LOGGED_PROBLEMS)
		cd_log(CD_LOG_WARNING, "source %s: row %s skipped: %s", r->c->name,
		       key ? key : "?", why);
}

void cd_source_note(struct cd_source_run *r, const char *fmt, ...)
{
	char note[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	if (r->testing) {
		fprintf(r->out, "note: %s\n", note);
		return;
	}
	for (int i = 0; i < r->s->nnotes; i++)
		if (strcmp(r->s->notes[i], note) == 0)
			return;
	if (r->s->nnotes < MAX_NOTES)
		r->s->notes[r->s->nnotes++] = strdup(note);
	cd_log(CD_LOG_NOTICE, "source %s: %s", r->c->name, note);
}

void cd_source_count(struct cd_source_run *r, int64_t rows, int64_t bad)
{
	r->rows += rows;
	r->total_rows += rows;
	r->bad += bad;
	r->total_bad += bad;
}

static void show_time(FILE *out, const char *label, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		return;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
	fprintf(out, " %s %s", label, buf);
}

static void show_order(struct cd_source_run *r, const struct cd_order *o)
{
	if (r->shown++ >= r->show)
		return;
	fprintf(r->out, "order %s: %s", o->id, o->email);
	if (o->name)
		fprintf(r->out, " (%s)", o->name);
	fprintf(r->out, " status %s", o->status ? o->status : "-");
	if (o->locale || o->locale_guess || o->country)
		fprintf(r->out, " locale %s country %s", o->locale ? o->locale
			: o->locale_guess ? o->locale_guess : "-", o->country ? o->country : "-");
	if (o->total)
		fprintf(r->out, " total %s %s", o->total, o->currency ? o->currency : "");
	show_time(r->out, "purchased", o->purchased);
	show_time(r->out, "shipped", o->shipped);
	show_time(r->out, "delivered", o->delivered);
	if (o->items)
		fprintf(r->out, " items %s", o->items);
	fputc('\n', r->out);
}

/* A shop's values go through the same cleaning as an import's (one line
 * where one is meant, no control character, bounded): a name from the
 * shop's database ends up in a header as surely as one from a file. */
int cd_source_put_order(struct cd_source_run *r, const struct cd_order *o,
			const char *key, struct cd_error *err)
{
	struct cd_order_clean c = { 0 };
	struct cd_order mine = *o;
	char why[256];
	const char *bad;
	int rc = 0;

	r->rows++;
	r->total_rows++;
	if ((bad = cd_order_clean(&mine, &c, why, sizeof(why))) ||
	    (bad = cd_order_check(&mine, why, sizeof(why)))) {
		cd_source_problem(r, key, "%s", bad);
		goto out;
	}
	r->orders++;
	if (r->testing) {
		show_order(r, &mine);
		goto out;
	}
	if ((rc = begin(r, err)) < 0)
		goto out;
	mine.source = r->c->name;
	rc = cd_store_order_upsert(r->st, &mine, r->now, err);
out:
	cd_order_clean_free(&c);
	return rc;
}

int cd_source_seen(struct cd_source_run *r, const char *id, const char *time,
		   struct cd_error *err)
{
	int rc;

	if (!r->st || !id || !time)
		return 0;
	if ((rc = cd_store_source_seen(r->st, r->c->name, id, time)) < 0)
		return cd_store_fail(r->st, err, "cannot read orders");
	return rc;
}

int cd_source_pending(struct cd_source_run *r, const char *after, int limit, char ***ids,
		      size_t *n, struct cd_error *err)
{
	*ids = NULL;
	*n = 0;
	if (!r->st)
		return 0;
	if (cd_store_source_pending(r->st, r->c->name, after, r->now - r->c->since, limit, ids,
				    n) < 0)
		return cd_store_fail(r->st, err, "cannot read the orders to re-check");
	return 0;
}

int cd_source_gone(struct cd_source_run *r, const char *id, struct cd_error *err)
{
	int rc;

	if (r->testing) {
		fprintf(r->out, "gone: order %s is no longer in the shop (would be cancelled)\n", id);
		r->gone++;
		return 0;
	}
	if ((rc = begin(r, err)) < 0 ||
	    (rc = cd_store_source_order_gone(r->st, r->c->name, id, r->now, err)) < 0)
		return rc;
	if (rc == 1) {
		r->gone++;
		cd_log(CD_LOG_NOTICE, "source %s: order %s was deleted in the shop: cancelled, "
		       "no mail goes for it", r->c->name, id);
	}
	return 0;
}

int cd_source_put_feedback(struct cd_source_run *r, const struct cd_feedback *f,
			   const char *key, struct cd_error *err)
{
	struct cd_order_clean c = { 0 };
	struct cd_feedback mine = *f;
	char why[256];
	const char *bad;
	int rc = 0;

	r->rows++;
	r->total_rows++;
	if ((bad = cd_feedback_clean(&mine, &c, why, sizeof(why))) ||
	    (bad = cd_feedback_check(&mine, why, sizeof(why)))) {
		cd_source_problem(r, key, "%s", bad);
		goto out;
	}
	if (r->st && (rc = cd_store_order_exists(r->st, mine.order_id)) <= 0) {
		if (rc < 0) {
			rc = cd_store_fail(r->st, err, "cannot read orders");
			goto out;
		}
		if (!r->testing) {
			cd_source_problem(r, key, "order %.100s is not in candor's store "
					  "(older than since, or refused)", mine.order_id);
			goto out;
		}
	}
	rc = 0;
	r->feedback++;
	if (r->testing) {
		if (r->shown++ < r->show)
			fprintf(r->out, "feedback %s: order %s rating %d\n", key, mine.order_id,
				mine.rating);
		goto out;
	}
	if ((rc = begin(r, err)) == 0)
		rc = cd_store_feedback_add(r->st, &mine, err);
out:
	cd_order_clean_free(&c);
	return rc;
}

int cd_source_commit(struct cd_source_run *r, const char *stream, const char *time,
		     const char *key, struct cd_error *err)
{
	struct cursor *c = stream ? find_cursor(r, stream) : NULL;
	int rc;

	if (c && time && key) {
		char *t = strdup(time), *k = strdup(key);

		if (!t || !k) {
			free(t);
			free(k);
			return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		}
		free(c->time);
		free(c->key);
		c->time = t;
		c->key = k;
	}
	if (r->testing || (!c && !r->in_txn)) /* nothing to write */
		return 0;
	if ((rc = begin(r, err)) < 0)
		return rc;
	if (c && time && key &&
	    (rc = cd_store_source_set_cursor(r->st, r->c->name, stream, time, key,
					     cd_util_now(), err)) < 0)
		return rc;
	if ((rc = cd_store_source_polled(r->st, r->c->name, r->c->type->name, r->now, 1,
					 NULL, 0, r->rows, r->bad, err)) < 0)
		return rc;
	if ((rc = cd_store_commit(r->st, err)) < 0) {
		r->in_txn = 0;
		return rc;
	}
	r->in_txn = 0;
	r->rows = r->bad = 0;
	return 0;
}

static void run_free(struct cd_source_run *r)
{
	if (r->in_txn)
		cd_store_rollback(r->st);
	r->in_txn = 0;
	for (int i = 0; i < r->ncur; i++) {
		free(r->cur[i].time);
		free(r->cur[i].key);
	}
	r->ncur = 0;
}

/* ---- the daemon's side ----------------------------------------------------- */

int cd_sources_open(const struct cd_config *cfg, struct cd_sources **out)
{
	struct cd_sources *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || !(s->v = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*s->v)))) {
		free(s);
		return CD_ENOMEM;
	}
	s->n = cfg->nsources;
	for (size_t i = 0; i < s->n; i++)
		s->v[i].c = &cfg->sources[i];
	*out = s;
	return 0;
}

void cd_sources_free(struct cd_sources *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].state)
			s->v[i].c->type->close(s->v[i].state);
		for (int j = 0; j < s->v[i].nnotes; j++)
			free(s->v[i].notes[j]);
	}
	free(s->v);
	free(s);
}

/* After N failures in a row: 10s, 20s, 40s … up to the poll interval
 * (at least 5 minutes), so a source that is away is not hammered and
 * one that is back is found again soon. */
static int64_t backoff_ms(const struct src *s)
{
	int64_t cap = s->c->poll_interval > 300 ? s->c->poll_interval : 300;
	int64_t d = 10, ms;
	unsigned short r = 0;

	for (int i = 1; i < s->fails && d < cap; i++)
		d *= 2;
	ms = (d < cap ? d : cap) * 1000;
	/* up to a fifth more, at random: daemons that lost the same shop
	 * at the same moment do not come back to it in step */
	if (cd_util_random(&r, sizeof(r)) == 0)
		ms += ms / 5 * r / 65535;
	/* and never before the shop said it may be asked again */
	return ms > s->wait_ms ? ms : s->wait_ms;
}

static void failed(struct src *s, struct cd_store *st, const struct cd_error *err)
{
	char buf[1024];
	struct cd_error e2;

	cd_error_format(err, buf, sizeof(buf));
	s->fails++;
	s->backoff = backoff_ms(s);
	if (!s->failing || strcmp(s->detail, buf) != 0)
		cd_log(CD_LOG_ERR, "source %s: %s; retrying in %llds", s->c->name, buf,
		       (long long)(s->backoff / 1000));
	s->failing = 1;
	snprintf(s->detail, sizeof(s->detail), "%.299s", buf);
	cd_store_source_polled(st, s->c->name, s->c->type->name, cd_util_now(), 0, buf, 0, 0, 0,
			       &e2);
}

/* One batch of S. Returns 1 more, 0 caught up, negative: the source
 * failed (logged, recorded). A store failure is CD_ESTORE with ERR. */
static int poll_one(struct src *s, struct cd_store *st, int *wrote, struct cd_error *err)
{
	struct cd_source_run r = { .s = s, .c = s->c, .st = st, .now = cd_util_now() };
	struct cd_error e;
	int64_t t0;
	int rc;

	cd_error_clear(&e);
	s->wait_ms = 0;
	s->waitwhy[0] = 0;
	if (!s->state && (rc = s->c->type->open(s->c, &s->state, &e)) < 0) {
		failed(s, st, &e);
		return rc;
	}
	t0 = cd_util_mono_ms();
	rc = s->c->type->poll(s->state, &r, &e);
	cd_log(CD_LOG_DEBUG, "source %s: poll of %lld rows took %lld ms", s->c->name,
	       (long long)r.total_rows, (long long)(cd_util_mono_ms() - t0));
	if (rc >= 0 && r.in_txn) /* rows put but not committed: the type's bug */
		rc = cd_source_commit(&r, NULL, NULL, NULL, &e);
	if (rc < 0) {
		run_free(&r);
		if (rc == CD_ESTORE) {
			*err = e;
			return rc;
		}
		failed(s, st, &e);
		return rc;
	}
	if (r.total_bad > LOGGED_PROBLEMS)
		cd_log(CD_LOG_WARNING, "source %s: %lld rows skipped in this poll (the first %d logged)",
		       s->c->name, (long long)r.total_bad, LOGGED_PROBLEMS);
	if (r.orders || r.feedback)
		cd_log(CD_LOG_INFO, "source %s: %lld orders, %lld feedback taken", s->c->name,
		       (long long)r.orders, (long long)r.feedback);
	if (r.gone)
		s->written = 1;
	if (s->failing)
		cd_log(CD_LOG_NOTICE, "source %s: working again", s->c->name);
	s->failing = 0;
	s->fails = 0;
	s->detail[0] = 0;
	/* caught up: recorded, but a poll that found nothing new after one
	 * that had caught up writes at most every quarter hour (an idle
	 * poll is one request and no database write) */
	if (rc == 0 && (r.total_rows || !s->idle_ms ||
			cd_util_mono_ms() - s->idle_ms >= IDLE_RECORD_MS)) {
		struct cd_error e2;

		cd_store_source_polled(st, s->c->name, s->c->type->name, r.now, 1, NULL, 1, 0, 0, &e2);
		s->idle_ms = cd_util_mono_ms();
	}
	if (rc == 1 && s->wait_ms && s->waitwhy[0])
		cd_log(CD_LOG_INFO, "source %s: %s; next request in %lld ms", s->c->name, s->waitwhy,
		       (long long)s->wait_ms);
	if (r.total_rows)
		s->written = 1;
	if (rc == 0 && s->written) {
		*wrote = 1;
		s->written = 0;
	}
	run_free(&r);
	return rc;
}

int cd_sources_poll(struct cd_sources *s, struct cd_store *st, int64_t now_ms,
		    int64_t *next_ms, int *wrote, struct cd_error *err)
{
	int64_t next = INT64_MAX;

	*wrote = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		struct src *x = &s->v[i];

		if (x->next_ms <= now_ms) {
			int rc = poll_one(x, st, wrote, err);

			if (rc == CD_ESTORE)
				return rc;
			x->more = rc == 1;
			x->next_ms = rc == 1 ? now_ms + x->wait_ms
				     : now_ms + (rc < 0 ? x->backoff : x->c->poll_interval * 1000);
		}
		if (x->next_ms - now_ms < next)
			next = x->next_ms - now_ms;
	}
	*next_ms = next < 0 ? 0 : next;
	return 0;
}

int cd_sources_poll_all(struct cd_sources *s, struct cd_store *st,
			volatile sig_atomic_t *stop, cd_source_tick_fn tick, void *arg,
			struct cd_error *err)
{
	for (size_t i = 0; s && i < s->n; i++) {
		struct src *x = &s->v[i];
		int rc, wrote = 0;

		do {
			if (stop && *stop)
				return 0;
			if (tick)
				tick(arg);
			rc = poll_one(x, st, &wrote, err);
			/* a throttled shop: wait as it asks, a minute at most */
			if (rc == 1 && x->wait_ms > ONCE_MAX_WAIT_MS)
				break;
			for (int64_t t0 = cd_util_mono_ms(), n = 0; rc == 1 && x->wait_ms &&
			     cd_util_mono_ms() - t0 < x->wait_ms && !(stop && *stop); n++) {
				struct timespec ts = { 0, 50 * 1000000L };

				if (tick && n % 20 == 0)
					tick(arg);   /* the watchdog, once a second */
				nanosleep(&ts, NULL);
			}
		} while (rc == 1);
		if (rc == CD_ESTORE)
			return rc;
		x->next_ms = cd_util_mono_ms() + (rc < 0 ? x->backoff : x->c->poll_interval * 1000);
	}
	return 0;
}

size_t cd_sources_wake_fds(const struct cd_sources *s, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->n && n < max; i++) {
		const struct src *x = &s->v[i];
		int fd = x->state && x->c->type->wake_fd ? x->c->type->wake_fd(x->state) : -1;

		/* a failing source waits for its backoff, event or not */
		if (fd >= 0 && !x->failing)
			fds[n++] = fd;
	}
	return n;
}

void cd_sources_woken(struct cd_sources *s, int fd, int64_t now_ms)
{
	for (size_t i = 0; s && i < s->n; i++) {
		struct src *x = &s->v[i];

		if (x->state && x->c->type->wake_fd && x->c->type->wake_fd(x->state) == fd &&
		    x->next_ms > now_ms)
			x->next_ms = now_ms;
	}
}

void cd_sources_describe(const struct cd_sources *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; s && i < s->n && used + 1 < len; i++) {
		const struct src *x = &s->v[i];
		int throttled = !x->failing && x->wait_ms && x->waitwhy[0];
		int n = snprintf(buf + used, len - used, "%s%s %s%s%.80s%s", i ? ", " : "sources: ",
				 x->c->name, x->failing ? "FAILING" : throttled ? "throttled"
				 : x->more ? "catching up" : "ok",
				 x->failing || throttled ? " (" : "",
				 x->failing ? x->detail : throttled ? x->waitwhy : "",
				 x->failing || throttled ? ")" : "");

		if (n < 0)
			break;
		used += (size_t)n < len - used ? (size_t)n : len - used - 1;
	}
}

/* ---- candorctl sources ------------------------------------------------------ */

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, len, "never");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

int cd_sources_list(const struct cd_config *cfg, struct cd_store *st, int64_t now,
		    FILE *out, struct cd_error *err)
{
	static const char *const streams[] = { "orders", "feedback", "files" };

	if (!cfg->nsources) {
		fprintf(out, "no sources configured (orders come by candorctl import)\n");
		return 0;
	}
	fprintf(out, "%-16s %-11s %-8s %-19s %8s %10s %7s %6s  %s\n", "NAME", "TYPE", "STATE",
		"LAST POLL (UTC)", "LAG", "ROWS", "BAD", "ERRORS", "CURSOR");
	for (size_t i = 0; i < cfg->nsources; i++) {
		const struct cd_source_conf *c = &cfg->sources[i];
		struct cd_source_status ss;
		char when[32], lag[32] = "-", cursor[512] = "";
		size_t used = 0;
		int rc = cd_store_source_status(st, c->name, &ss);

		if (rc == CD_ESTORE)
			return cd_store_fail(st, err, "cannot read the sources' state");
		for (size_t k = 0; k < sizeof(streams) / sizeof(streams[0]); k++) {
			char *t = NULL, *key = NULL;

			if (cd_store_source_cursor(st, c->name, streams[k], &t, &key) == 0 &&
			    used < sizeof(cursor))
				used += (size_t)snprintf(cursor + used, sizeof(cursor) - used, "%s%s=%s/%s",
							 used ? " " : "", streams[k], t, key);
			free(t);
			free(key);
		}
		if (rc == CD_ENOTFOUND) {
			fprintf(out, "%-16s %-11s %-8s %-19s %8s %10s %7s %6s  %s\n", c->name,
				c->type ? c->type->name : "?", "new", "never", "-", "0", "0", "0",
				used ? cursor : "-");
			continue;
		}
		fmt_time(ss.last_poll, when, sizeof(when));
		if (ss.caught_up)
			cd_units_format_duration(now - ss.caught_up > 0 ? now - ss.caught_up : 0,
						 lag, sizeof(lag));
		fprintf(out, "%-16s %-11s %-8s %-19s %8s %10lld %7lld %6lld  %s\n", c->name, ss.type,
			ss.state, when, lag, (long long)ss.rows, (long long)ss.bad,
			(long long)ss.errors, used ? cursor : "-");
		if (ss.detail)
			fprintf(out, "    last error: %s\n", ss.detail);
		cd_store_source_status_free(&ss);
	}
	return 0;
}

int cd_source_test(const struct cd_config *cfg, struct cd_store *st, const char *name,
		   int show, FILE *out, struct cd_error *err)
{
	const struct cd_source_conf *c = NULL;
	struct cd_source_run r = { .st = st, .testing = 1, .now = cd_util_now(), .out = out,
				   .show = show };
	void *state = NULL;
	int rc;

	for (size_t i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			c = &cfg->sources[i];
	if (!c)
		return cd_error_set(err, CD_ENOTFOUND, NULL, 0, "no source named \"%s\" in %s",
				    name, cfg->path);
	r.c = c;
	if ((rc = c->type->open(c, &state, err)) < 0)
		return rc;
	rc = c->type->poll(state, &r, err);
	c->type->close(state);
	if (rc >= 0)
		fprintf(out, "%s: %lld rows read: %lld orders and %lld feedback mapped, %lld problems"
			", %lld deleted in the shop%s\n", c->name, (long long)r.total_rows,
			(long long)r.orders, (long long)r.feedback, (long long)r.total_bad,
			(long long)r.gone,
			rc == 1 ? "; more rows wait after this batch" : "");
	run_free(&r);
	return rc < 0 ? rc : 0;
}
