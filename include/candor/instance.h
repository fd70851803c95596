/*
 * instance.h - one candord per database. The lock is an flock() on
 * "DATABASE.lock", so it vanishes with the process, even after SIGKILL.
 */
#ifndef CANDOR_INSTANCE_H
#define CANDOR_INSTANCE_H

#include "candor/error.h"

struct cd_instance;

/* Take the lock for DATABASE. Returns 0 and a new handle, CD_EBUSY when
 * another process holds it (ERR names its pid), or CD_EIO. */
int cd_instance_lock(const char *database, struct cd_instance **out,
		     struct cd_error *err);

/* Release the lock and free the handle; NULL is fine. */
void cd_instance_unlock(struct cd_instance *inst);

#endif
