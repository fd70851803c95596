/*
 * store_left.c - the verbs of store_left.h: inbox mails left for a
 * human, kept as rows of replies without a message.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "candor/store_left.h"
#include "db.h"

#define MAX_BODY (64 * 1024)

static const char *const names[CD_INBOX_NREASONS] = {
	"unverified_unsubscribe", "unverified_complaint", "unmatched", "not_ours",
};

static const char *const texts[CD_INBOX_NREASONS] = {
	"unsubscribe request without a valid token: nobody suppressed",
	"complaint without a valid token: nobody suppressed",
	"answers none of our mails",
	"not an answer to one of our mails",
};

/* The kinds above, for "kind IN (...)". */
#define KINDS "('unverified_unsubscribe', 'unverified_complaint', 'unmatched', 'not_ours')"

const char *cd_store_inbox_reason_name(enum cd_inbox_reason r)
{
	return r < CD_INBOX_NREASONS ? names[r] : "?";
}

const char *cd_store_inbox_reason_text(enum cd_inbox_reason r)
{
	return r < CD_INBOX_NREASONS ? texts[r] : "?";
}

enum cd_inbox_reason cd_store_inbox_reason_parse(const char *name)
{
	for (int i = 0; name && i < CD_INBOX_NREASONS; i++)
		if (strcmp(name, names[i]) == 0)
			return (enum cd_inbox_reason)i;
	return CD_INBOX_NREASONS;
}

int cd_store_inbox_leave(struct cd_store *st, enum cd_inbox_reason reason, const char *sender,
			 const char *subject, const char *body, int64_t at, struct cd_error *err)
{
	struct cd_db_stmt *s;
	size_t n = body ? strlen(body) : 0;

	if (reason >= CD_INBOX_NREASONS)
		return cd_error_set(err, CD_EINVAL, NULL, 0, "no such inbox reason");
	if (n > MAX_BODY) {
		n = MAX_BODY;
		while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
			n--;
	}
	s = cd_db_cached(st, "INSERT INTO replies(message, order_id, kind, sender, subject, body, received)"
			 " VALUES (NULL, NULL, ?1, ?2, ?3, ?4, ?5)");
	if (s) {
		cd_db_bind_text(s, 1, names[reason]);
		cd_db_bind_text(s, 2, sender && *sender ? sender : NULL);
		cd_db_bind_text(s, 3, subject);
		cd_db_bind_textn(s, 4, body ? body : "", (int)n);
		cd_db_bind_int(s, 5, at);
	}
	return cd_db_run(st, s, err, "cannot record an inbox mail left for a human");
}

int cd_store_inbox_count(struct cd_store *st, int64_t *counts, int64_t *waiting,
			 struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	memset(counts, 0, sizeof(*counts) * CD_INBOX_NREASONS);
	if (waiting)
		*waiting = 0;
	s = cd_db_cached(st, CD_DB_PICK(st,
			 "SELECT r.kind, count(*), sum(s.email IS NULL) FROM replies r"
			 " LEFT JOIN suppressions s ON s.email = r.sender"
			 " WHERE r.message IS NULL AND r.kind IN " KINDS " GROUP BY r.kind",
			 "SELECT r.kind, count(*), sum((s.email IS NULL)::int) FROM replies r"
			 " LEFT JOIN suppressions s ON lower(s.email) = lower(r.sender)"
			 " WHERE r.message IS NULL AND r.kind IN " KINDS " GROUP BY r.kind"));
	if (!s)
		return cd_store_fail(st, err, "cannot count inbox mails left for a human");
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		enum cd_inbox_reason r = cd_store_inbox_reason_parse(cd_db_text(s, 0));

		if (r == CD_INBOX_NREASONS)
			continue;
		counts[r] = cd_db_int(s, 1);
		if (waiting && r == CD_INBOX_UNVERIFIED_UNSUBSCRIBE)
			*waiting = cd_db_int(s, 2);
	}
	cd_db_done(s);
	if (rc != CD_DB_DONE)
		return cd_store_fail(st, err, "cannot count inbox mails left for a human");
	return 0;
}

int cd_store_inbox_list(struct cd_store *st, enum cd_inbox_reason reason, int64_t limit,
			int (*fn)(void *arg, const struct cd_inbox_mail *m), void *arg,
			struct cd_error *err)
{
	struct cd_db_stmt *s;
	int rc;

	s = cd_db_cached(st, CD_DB_PICK(st,
			 "SELECT r.id, r.kind, coalesce(r.sender, ''), coalesce(r.subject, ''),"
			 " coalesce(r.body, ''), r.received, s.email IS NOT NULL FROM replies r"
			 " LEFT JOIN suppressions s ON s.email = r.sender"
			 " WHERE r.message IS NULL AND r.kind IN " KINDS " AND (?1 IS NULL OR r.kind = ?1)"
			 " ORDER BY r.received DESC, r.id DESC LIMIT ?2",
			 "SELECT r.id, r.kind, coalesce(r.sender, ''), coalesce(r.subject, ''),"
			 " coalesce(r.body, ''), r.received, (s.email IS NOT NULL)::int FROM replies r"
			 " LEFT JOIN suppressions s ON lower(s.email) = lower(r.sender)"
			 " WHERE r.message IS NULL AND r.kind IN " KINDS
			 " AND (?1::text IS NULL OR r.kind = ?1)"
			 " ORDER BY r.received DESC, r.id DESC LIMIT ?2"));
	if (!s)
		return cd_store_fail(st, err, "cannot list inbox mails left for a human");
	cd_db_bind_text(s, 1, reason < CD_INBOX_NREASONS ? names[reason] : NULL);
	cd_db_bind_int(s, 2, limit > 0 ? limit : INT64_MAX);
	while ((rc = cd_db_step(s)) == CD_DB_ROW) {
		struct cd_inbox_mail m = {
			.id = cd_db_int(s, 0),
			.reason = cd_store_inbox_reason_parse(cd_db_text(s, 1)),
			.sender = cd_db_text(s, 2),
			.subject = cd_db_text(s, 3),
			.body = cd_db_text(s, 4),
			.received = cd_db_int(s, 5),
			.suppressed = (int)cd_db_int(s, 6),
		};

		if (fn(arg, &m))
			break;
	}
	cd_db_done(s);
	if (rc != CD_DB_DONE && rc != CD_DB_ROW)
		return cd_store_fail(st, err, "cannot list inbox mails left for a human");
	return 0;
}
