/*
 * ratelimit: per-user limits on actions that others receive (messages,
 * friend requests, key changes), kept in MariaDB so that every worker on
 * every host counts together.
 *
 * The algorithm is GCRA (a token bucket without a refill timer): each
 * user and action has a theoretical arrival time `tat`; an action is
 * allowed while max(tat, now) + interval stays within burst × interval of
 * now, and then moves tat by one interval. One conditional UPDATE decides,
 * so parallel requests cannot both take the last token.
 */
#ifndef CHATD_RATELIMIT_H
#define CHATD_RATELIMIT_H

#include "err.h"
#include "req.h"

/*
 * Takes one token of `action` (at most 16 ASCII characters) for the
 * caller: ERR_OK; ERR_RATE_LIMITED (429 with Retry-After); or
 * ERR_DB_UNAVAILABLE.
 */
enum err ratelimit_take(struct req *, const char *action, int per_minute, int burst);

/*
 * The refusal of an `action` over its limit: ERR_RATE_LIMITED (429 with
 * Retry-After, the seconds until the user's next one is allowed), or
 * ERR_DB_UNAVAILABLE when the database cannot say. The send limit's own
 * step is the messages table's (STMT_MESSAGE_INSERT); its refusal is this.
 */
enum err ratelimit_refuse(struct req *, const char *action, int per_minute, int burst);

#endif
