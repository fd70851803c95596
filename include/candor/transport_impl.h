/*
 * transport_impl.h - what a transport backend provides. Only transport.c
 * and the backends include this.
 */
#ifndef CANDOR_TRANSPORT_IMPL_H
#define CANDOR_TRANSPORT_IMPL_H

#include "candor/transport.h"

struct cd_transport_ops {
	const char *name;
	int (*open)(struct cd_transport *t, const struct cd_config *cfg,
		    struct cd_error *err);
	void (*send)(struct cd_transport *t, const struct cd_outgoing *msg,
		     struct cd_send_result *res);
	void (*close)(struct cd_transport *t);
};

struct cd_transport {
	const struct cd_transport_ops *ops;
	void *priv; /* the backend's own state */
};

extern const struct cd_transport_ops cd_smtp_ops;
extern const struct cd_transport_ops cd_outbox_ops;

#endif
