/*
 * transport.c - the driver table shared by the smtp and outbox
 * transports (isync's driver idea: one interface, several backends).
 */
#include "config.h"

#include <stdlib.h>

#include "candor/config.h"
#include "candor/transport_impl.h"

int cd_transport_open(const struct cd_config *cfg, int force_outbox,
		      struct cd_transport **out, struct cd_error *err)
{
	const struct cd_transport_ops *ops =
		force_outbox || cfg->transport == CD_TRANSPORT_OUTBOX
		? &cd_outbox_ops : &cd_smtp_ops;
	struct cd_transport *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	t->ops = ops;
	rc = ops->open(t, cfg, err);
	if (rc < 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void cd_transport_send(struct cd_transport *t, const struct cd_outgoing *msg,
		       struct cd_send_result *res)
{
	t->ops->send(t, msg, res);
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
