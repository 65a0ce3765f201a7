/*
 * audit: rows of audit_log (see audit.h).
 */
#include <string.h>

#include "audit.h"
#include "db.h"
#include "log.h"

void
audit_log(struct req *r, long long user_id, const char *event, const char *detail)
{
	struct db_param p[4] = {
		user_id > 0 ? DB_INT(user_id) : DB_NULL,
		DB_STR(event),
		DB_STR(r->remote_addr ? r->remote_addr : ""),
		DB_STR(detail ? detail : ""),
	};

	if (db_run(r->db, STMT_AUDIT_INSERT, p, 4, NULL, 0, NULL, NULL, NULL) != DB_OK)
		log_msg(LOG_ERROR, "rid=%s audit: cannot record %s for user %lld", r->id, event, user_id);
	log_msg(LOG_INFO, "rid=%s audit %s user=%lld", r->id, event, user_id);
}
