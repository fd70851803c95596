/*
 * instance.c - the single-instance lock. flock() rather than a pid file
 * check, because a stale pid file after a crash must never block a restart.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "candor/instance.h"
#include "candor/log.h"

struct cd_instance {
	int fd;
	char *path;
};

int cd_instance_lock(const char *database, struct cd_instance **out,
		     struct cd_error *err)
{
	struct cd_instance *inst = NULL;
	char pid[32] = "";
	ssize_t n;
	int rc;

	*out = NULL;
	inst = calloc(1, sizeof(*inst));
	if (!inst || asprintf(&inst->path, "%s.lock", database) < 0) {
		free(inst);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	inst->fd = open(inst->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (inst->fd < 0) {
		rc = cd_error_set(err, CD_EIO, inst->path, 0, "cannot open lock file: %s",
				  strerror(errno));
		goto fail;
	}
	if (flock(inst->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = cd_error_set(err, CD_EIO, inst->path, 0, "cannot lock: %s",
					  strerror(errno));
			goto fail;
		}
		n = pread(inst->fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		rc = cd_error_set(err, CD_EBUSY, NULL, 0,
				  "another candord (pid %s) is already running on %s",
				  *pid ? pid : "unknown", database);
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	/* the pid is a courtesy for the message above, not the lock itself,
	 * so failing to write it is not an error */
	if (ftruncate(inst->fd, 0) < 0 || pwrite(inst->fd, pid, (size_t)n, 0) != n)
		cd_log(CD_LOG_DEBUG, "cannot write the pid to %s: %s", inst->path,
		       strerror(errno));
	*out = inst;
	return 0;
fail:
	cd_instance_unlock(inst);
	return rc;
}

void cd_instance_unlock(struct cd_instance *inst)
{
	if (!inst)
		return;
	if (inst->fd >= 0)
		close(inst->fd);
	free(inst->path);
	free(inst);
}
