/*
 * store_claim.c - claims, the limits lock and the stamp for several
 * candord on one PostgreSQL store (store_claim.h). Claims are session
 * advisory locks, one per (campaign, kind, order), taken after the
 * order's row was locked with SKIP LOCKED: a daemon that dies loses its
 * session and its claims with it, so nothing is left to clean up.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "candor/buf.h"
#include "candor/store_claim.h"
#include "db.h"

/* the first key of pg_try_advisory_lock(int4, int4): store_lead.c has
 * 7234017 for the leads */
#define CLAIM_CLASS 7234018
#define LIMITS_CLASS 7234019
#define STR(x) #x
#define XSTR(x) STR(x)
#define CLAIM_KEY "hashtext(?2 || chr(31) || ?3 || chr(31) || "

static const char *kind_value(enum cd_due_kind k)
{
	return k == CD_DUE_REMINDER ? "reminder" : "request";
}

int cd_store_shared(struct cd_store *st)
{
	return cd_db_engine(st) == CD_STORE_POSTGRESQL;
}

int cd_store_claim(struct cd_store *st, const char *campaign, enum cd_due_kind k,
		   const char *const *ids, size_t n, unsigned char *got, struct cd_error *err)
{
	/* The CTE locks the rows (FOR UPDATE makes it run first, and once),
	 * found by key: "= ANY (ARRAY(...))" is an index scan whatever the
	 * planner guesses of the list, where "IN (SELECT ...)" may hash it
	 * against the whole table;
	 * the advisory lock is asked only for rows it returned, so no lock is
	 * taken for a row the statement then drops. */
	static const char sql[] =
		"WITH c AS (SELECT o.order_id FROM orders o"
		" WHERE o.order_id = ANY (ARRAY(SELECT json_array_elements_text(?1::json)))"
		" AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = o.order_id"
		"  AND m.campaign = ?2 AND m.kind = ?3)"
		" FOR UPDATE OF o SKIP LOCKED)"
		" SELECT order_id FROM c WHERE pg_try_advisory_lock(" XSTR(CLAIM_CLASS) ", "
		CLAIM_KEY "order_id))";
	struct cd_buf json = { 0 };
	struct cd_db_stmt *s;
	int rc;

	if (!cd_store_shared(st)) {
		memset(got, 1, n);
		return 0;
	}
	memset(got, 0, n);
	cd_db_json_strings(&json, ids, NULL, 1, n);
	if (json.oom) {
		cd_buf_free(&json);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	if (!(s = cd_db_cached(st, sql))) {
		cd_buf_free(&json);
		return cd_store_fail(st, err, "cannot claim due orders");
	}
	cd_db_bind_text(s, 1, json.data);
	cd_db_bind_text(s, 2, campaign);
	cd_db_bind_text(s, 3, kind_value(k));
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		const char *id = cd_db_text(s, 0);

		for (size_t i = 0; id && i < n; i++)
			if (!got[i] && strcmp(ids[i], id) == 0) {
				got[i] = 1;
				break;
			}
	}
	cd_db_done(s);
	cd_buf_free(&json);
	if (rc < 0) {
		/* what was locked before the failure is let go of */
		cd_store_claim_release(st, campaign, k, ids, got, n);
		memset(got, 0, n);
		return cd_store_fail(st, err, "cannot claim due orders");
	}
	return 0;
}

void cd_store_claim_release(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			    const char *const *ids, const unsigned char *got, size_t n)
{
	static const char sql[] =
		"SELECT count(pg_advisory_unlock(" XSTR(CLAIM_CLASS) ", " CLAIM_KEY "x)))"
		" FROM json_array_elements_text(?1::json) x";
	struct cd_buf json = { 0 };
	struct cd_db_stmt *s;
	size_t held = 0;

	if (!cd_store_shared(st))
		return;
	for (size_t i = 0; i < n; i++)
		held += !!got[i];
	if (!held)
		return;
	cd_db_json_strings(&json, ids, got, 1, n);
	if (!json.oom && (s = cd_db_cached(st, sql))) {
		cd_db_bind_text(s, 1, json.data);
		cd_db_bind_text(s, 2, campaign);
		cd_db_bind_text(s, 3, kind_value(k));
		cd_db_step(s);
		cd_db_done(s);
	}
	cd_buf_free(&json);
}

int cd_store_claim_missed(struct cd_store *st, const char *campaign, enum cd_due_kind k,
			  const char *const *ids, const unsigned char *got, size_t n,
			  int64_t now, struct cd_error *err)
{
	static const char sql[] =
		"INSERT INTO waiting(campaign, kind, order_id, seen)"
		" SELECT ?2, ?3, x, ?4 FROM json_array_elements_text(?1::json) x"
		" WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_id = x"
		"  AND m.campaign = ?2 AND m.kind = ?3)"
		" ON CONFLICT (campaign, kind, order_id) DO UPDATE SET seen = excluded.seen";
	struct cd_buf json = { 0 };
	struct cd_db_stmt *s = NULL;
	size_t missed = 0;
	int rc;

	if (!cd_store_shared(st))
		return 0;
	for (size_t i = 0; i < n; i++)
		missed += !got[i];
	if (!missed)
		return 0;
	cd_db_json_strings(&json, ids, got, 0, n);
	if (json.oom) {
		cd_buf_free(&json);
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	}
	if ((s = cd_db_cached(st, sql))) {
		cd_db_bind_text(s, 1, json.data);
		cd_db_bind_text(s, 2, campaign);
		cd_db_bind_text(s, 3, kind_value(k));
		cd_db_bind_int(s, 4, now);
	}
	rc = cd_db_run(st, s, err, "cannot remember orders another candord holds");
	cd_buf_free(&json);
	return rc;
}

int cd_store_limits_lock(struct cd_store *st, int64_t now, int64_t *stamp,
			 struct cd_error *err)
{
	static const char sql[] =
		"SELECT pg_advisory_xact_lock(" XSTR(LIMITS_CLASS) ", 0)::text,"
		" (SELECT max(sent_at) FROM messages)";
	struct cd_db_stmt *s;
	int rc;

	*stamp = now;
	if (!cd_store_shared(st))
		return 0;
	if (!(s = cd_db_cached(st, sql)))
		return cd_store_fail(st, err, "cannot lock the sending limits");
	if ((rc = cd_db_step(s)) == CD_DB_ROW && !cd_db_is_null(s, 1) && cd_db_int(s, 1) > now)
		*stamp = cd_db_int(s, 1);
	cd_db_done(s);
	return rc == CD_DB_ROW ? 0 : cd_store_fail(st, err, "cannot lock the sending limits");
}
