/*
 * audit: rows of audit_log (see audit.h).
 */
#include <string.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "sql_accounts.h"

void
audit_log(struct req *r, long long user_id, const char *event, const char *detail)
{
	if (sql_audit_insert(r->db, user_id, event, r->remote_addr ? r->remote_addr : "",
	    detail ? detail : "") != DB_OK)
		log_msg(LOG_ERROR, "rid=%s audit: cannot record %s for user %lld", r->id, event, user_id);
	log_msg(LOG_INFO, "rid=%s audit %s user=%lld", r->id, event, user_id);
}
