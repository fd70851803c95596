/*
 * store_lead.c - which of several daemons on one PostgreSQL store does
 * the work only one may do (store.h, cd_store_lead): a session advisory
 * lock per role, under a key of candor's own.
 */
#include "config.h"

#include <stdio.h>

#include "candor/store.h"
#include "db.h"

/* pg_try_advisory_lock(int4, int4): the first key says "candor", the
 * second the role */
#define LEAD_CLASS 7234017

int cd_store_lead(struct cd_store *st, enum cd_store_role role)
{
	struct cd_db_stmt *s;
	char sql[320];
	int rc;

	if (cd_db_engine(st) != CD_STORE_POSTGRESQL)
		return 1;
	if (role >= CD_STORE_NROLES)
		return CD_ESTORE;
	/* held already (asking again would stack the lock), or take it now;
	 * a connection opened again holds nothing, so this asks the server */
	snprintf(sql, sizeof(sql),
		 "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
		 " AND pid = pg_backend_pid() AND classid = %d AND objid = %d AND objsubid = 2"
		 " AND granted) THEN true ELSE pg_try_advisory_lock(%d, %d) END",
		 LEAD_CLASS, (int)role + 1, LEAD_CLASS, (int)role + 1);
	if (!(s = cd_db_cached(st, sql)))
		return CD_ESTORE;
	rc = cd_db_step(s);
	rc = rc == CD_DB_ROW ? (int)cd_db_int(s, 0) : CD_ESTORE;
	cd_db_done(s);
	return rc;
}
