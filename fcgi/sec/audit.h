/*
 * audit: the security audit trail (table audit_log): who did what, from
 * where, when. Never a secret: events name codes and ids only. Writing is
 * best effort: a failure is logged, and the request goes on.
 */
#ifndef CHATD_AUDIT_H
#define CHATD_AUDIT_H

#include "req.h"

/* user_id 0 = none (e.g. a failed login for a name that does not exist). */
void audit_log(struct req *, long long user_id, const char *event, const char *detail);

#endif
