/*
 * history.c - "candorctl history ORDER": the store's rows for one order,
 * printed in time order so support staff can see what happened and when.
 */
#include "config.h"

#include <stdint.h>
#include <time.h>

#include "candor/history.h"
#include "candor/order.h"
#include "candor/store.h"
#include "candor/store_report.h"

/* The rows of one kind, under a title printed before the first. */
struct section {
	FILE *out;
	const char *title;
	int n;
};

/* T as UTC, "-" when unknown (0). */
static const char *when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static const char *text(const char *s)
{
	return s ? s : "-";
}

static void title(struct section *x)
{
	if (x->n++ == 0)
		fprintf(x->out, "%s\n", x->title);
}

static int order_lines(void *arg, const struct cd_order *o)
{
	struct section *x = arg;
	char a[40], b[40], c[40];

	fprintf(x->out, "order %s (%s): %s <%s>, locale %s, country %s, time zone %s\n",
		o->id, text(o->channel), text(o->name), text(o->email), text(o->locale),
		text(o->country), text(o->timezone));
	fprintf(x->out, "  status %s, total %s %s\n", text(o->status), text(o->total),
		text(o->currency));
	fprintf(x->out, "  purchased %s, shipped %s, delivered %s\n",
		when(o->purchased, a, sizeof(a)), when(o->shipped, b, sizeof(b)),
		when(o->delivered, c, sizeof(c)));
	fprintf(x->out, "  items %s\n", text(o->items));
	return 0;
}

static int feedback_line(void *arg, const struct cd_feedback *f)
{
	struct section *x = arg;
	char a[40];

	title(x);
	fprintf(x->out, "  %s  %d/5 from %s: %s\n", when(f->received, a, sizeof(a)),
		f->rating, text(f->source), text(f->comment));
	return 0;
}

static int message_line(void *arg, const struct cd_message_record *m)
{
	struct section *x = arg;

	title(x);
	fprintf(x->out, "  #%lld %s/%s %s: %s to %s, <%s>%s%s\n", (long long)m->id,
		text(m->campaign), text(m->variant), text(m->kind), text(m->state),
		text(m->recipient), text(m->message_id), m->reason ? ": " : "",
		m->reason ? m->reason : "");
	return 0;
}

static int event_line(void *arg, const struct cd_event_record *e)
{
	struct section *x = arg;
	char a[40];

	title(x);
	fprintf(x->out, "  %s  #%lld %s%s%s\n", when(e->at, a, sizeof(a)),
		(long long)e->message, text(e->kind), e->detail ? ": " : "",
		e->detail ? e->detail : "");
	return 0;
}

int cd_history_print(struct cd_store *st, const char *order_id, FILE *out,
		     struct cd_error *err)
{
	struct section order = { out, NULL, 0 }, feedback = { out, "feedback:", 0 },
		       messages = { out, "messages:", 0 }, events = { out, "events:", 0 };
	int rc = cd_store_history_order(st, order_id, order_lines, &order);

	if (rc == CD_ENOTFOUND)
		return cd_error_set(err, rc, NULL, 0, "no order \"%s\" in the database", order_id);
	if (rc == 0)
		rc = cd_store_history_feedback(st, order_id, feedback_line, &feedback);
	if (rc == 0)
		rc = cd_store_history_messages(st, order_id, message_line, &messages);
	if (rc == 0)
		rc = cd_store_history_events(st, order_id, event_line, &events);
	if (rc < 0)
		return cd_store_fail(st, err, "cannot read history");
	return 0;
}
