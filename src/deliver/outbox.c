/*
 * outbox.c - the file transport: each message becomes DIR/<id>.eml,
 * written to a temporary name and renamed, so a reader never sees half a
 * message and a crash leaves no partial file under the final name.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "candor/config.h"
#include "candor/transport_impl.h"

struct outbox {
	char *dir;
};

static int outbox_open(struct cd_transport *t, const struct cd_config *cfg,
		       struct cd_error *err)
{
	struct outbox *o = calloc(1, sizeof(*o));

	if (!o || !(o->dir = strdup(cfg->outbox.directory))) {
		free(o);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	if (mkdir(o->dir, 0750) < 0 && errno != EEXIST) {
		int rc = cd_error_set(err, CD_EIO, o->dir, 0, "cannot create outbox: %s",
				      strerror(errno));
		free(o->dir);
		free(o);
		return rc;
	}
	t->priv = o;
	return 0;
}

/* Keep only characters that are safe in a file name: the Message-ID is
 * ours, but a file name is no place to trust anything. */
static void safe_name(const char *id, char *out, size_t len)
{
	size_t j = 0;

	for (const char *p = id; *p && j + 1 < len; p++)
		out[j++] = (strchr("/\\<>:\"|?* ", *p) || (unsigned char)*p < 0x20) ? '_' : *p;
	out[j] = '\0';
	if (out[0] == '.')
		out[0] = '_';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void outbox_send(struct cd_transport *t, const struct cd_outgoing *msg,
			struct cd_send_result *res)
{
	struct outbox *o = t->priv;
	char name[200], tmp[4096], final[4096];
	int fd;

	memset(res, 0, sizeof(*res));
	safe_name(msg->message_id, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", o->dir, name);
	snprintf(final, sizeof(final), "%s/%s.eml", o->dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		int ok = write_all(fd, msg->data, msg->len) == 0 && fsync(fd) == 0;

		if (close(fd) < 0 || !ok)
			fd = -1;
	}
	if (fd < 0 || rename(tmp, final) < 0) {
		res->outcome = CD_SEND_DEFERRED;
		snprintf(res->reply, sizeof(res->reply), "outbox %s: %s", o->dir, strerror(errno));
		unlink(tmp);
		return;
	}
	res->outcome = CD_SEND_SENT;
	snprintf(res->reply, sizeof(res->reply), "written to %.200s", final);
}

static void outbox_close(struct cd_transport *t)
{
	struct outbox *o = t->priv;

	if (o)
		free(o->dir);
	free(o);
}

const struct cd_transport_ops cd_outbox_ops = {
	.name = "outbox", .open = outbox_open, .send = outbox_send,
	.close = outbox_close,
};
