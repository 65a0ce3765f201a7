/*
 * health: GET /api/health answers 200 when a database round trip works and
 * 503 (db_unavailable, with Retry-After) when it does not, so nginx, a load
 * balancer or a person can tell a worker that cannot serve.
 */
#include "handlers.h"
#include "sql_accounts.h"

enum err
health_get(struct req *r)
{
	if (sql_ping(r->db) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	req_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "db", "ok"));
	return ERR_OK;
}
