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
	/* optional: take CFG's settings with nothing in flight, keeping what
	 * may be kept (connections); without it a reload opens afresh */
	int (*reload)(struct cd_transport *t, const struct cd_config *cfg,
		      struct cd_error *err);
	/* synchronous backends give send; asynchronous ones the other three */
	void (*send)(struct cd_transport *t, const struct cd_outgoing *msg,
		     struct cd_send_result *res);
	int (*submit)(struct cd_transport *t, const struct cd_outgoing *msg);
	size_t (*poll)(struct cd_transport *t, int timeout_ms, cd_transport_done_fn done,
		       void *arg);
	size_t (*slots)(const struct cd_transport *t);
	/* optional: see cd_transport_set_stop */
	void (*set_stop)(struct cd_transport *t, const volatile sig_atomic_t *stop,
			 int64_t grace_ms);
	void (*close)(struct cd_transport *t);
};

struct cd_transport {
	const struct cd_transport_ops *ops;
	void *priv; /* the backend's own state */
	/* a synchronous backend's finished message, until polled */
	struct cd_outgoing done_msg;
	struct cd_send_result done_res;
	int has_done;
	int dry_run; /* opened for a dry run: nothing is really mailed */
};

extern const struct cd_transport_ops cd_smtp_ops;
extern const struct cd_transport_ops cd_outbox_ops;

#endif
