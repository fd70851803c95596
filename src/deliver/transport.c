/*
 * transport.c - the driver table shared by the smtp and outbox
 * transports (isync's driver idea: one interface, several backends).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "candor/config.h"
#include "candor/transport_impl.h"

static const struct cd_transport_ops *ops_for(const struct cd_config *cfg, int force_outbox)
{
	return force_outbox || cfg->transport == CD_TRANSPORT_OUTBOX ? &cd_outbox_ops : &cd_smtp_ops;
}

int cd_transport_open(const struct cd_config *cfg, int force_outbox,
		      struct cd_transport **out, struct cd_error *err)
{
	const struct cd_transport_ops *ops = ops_for(cfg, force_outbox);
	struct cd_transport *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	t->ops = ops;
	t->dry_run = force_outbox;
	rc = ops->open(t, cfg, err);
	if (rc < 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int cd_transport_reload(struct cd_transport *t, const struct cd_config *cfg, int force_outbox,
			struct cd_error *err)
{
	const struct cd_transport_ops *ops = ops_for(cfg, force_outbox);
	struct cd_transport *fresh;
	int rc;

	if (ops == t->ops && ops->reload)
		return ops->reload(t, cfg, err);
	/* another kind, or one with nothing worth keeping: open the new one
	 * first, so a failure leaves T as it was */
	if ((rc = cd_transport_open(cfg, force_outbox, &fresh, err)) < 0)
		return rc;
	t->ops->close(t);
	*t = *fresh;
	free(fresh);
	return 0;
}

int cd_transport_submit(struct cd_transport *t, const struct cd_outgoing *msg)
{
	if (t->ops->submit)
		return t->ops->submit(t, msg);
	if (t->has_done)
		return CD_EBUSY;
	t->ops->send(t, msg, &t->done_res);
	t->done_msg = *msg;
	t->has_done = 1;
	return 0;
}

size_t cd_transport_poll(struct cd_transport *t, int timeout_ms, cd_transport_done_fn done,
			 void *arg)
{
	if (t->ops->poll)
		return t->ops->poll(t, timeout_ms, done, arg);
	if (t->has_done) {
		t->has_done = 0;
		done(arg, &t->done_msg, &t->done_res);
	}
	return 0;
}

void cd_transport_set_stop(struct cd_transport *t, const volatile sig_atomic_t *stop,
			   int64_t grace_ms)
{
	/* a synchronous backend finishes each message before it returns */
	if (t->ops->set_stop)
		t->ops->set_stop(t, stop, grace_ms);
}

size_t cd_transport_slots(const struct cd_transport *t)
{
	return t->ops->slots ? t->ops->slots(t) : 1;
}

static void keep_result(void *arg, const struct cd_outgoing *msg,
			const struct cd_send_result *res)
{
	(void)msg;
	*(struct cd_send_result *)arg = *res;
}

void cd_transport_send(struct cd_transport *t, const struct cd_outgoing *msg,
		       struct cd_send_result *res)
{
	memset(res, 0, sizeof(*res));
	while (cd_transport_submit(t, msg) == CD_EBUSY)
		cd_transport_poll(t, 1000, keep_result, res);
	while (cd_transport_poll(t, 1000, keep_result, res) > 0)
		;
}

int cd_transport_dry_run(const struct cd_transport *t)
{
	return t->dry_run;
}

const char *cd_transport_name(const struct cd_transport *t)
{
	return t->ops->name;
}

void cd_transport_close(struct cd_transport *t)
{
	if (!t)
		return;
	t->ops->close(t);
	free(t);
}
