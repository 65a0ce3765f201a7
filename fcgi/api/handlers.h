/*
 * handlers: every route handler, declared once for the route table.
 * Each returns ERR_OK after building its response, or an error that
 * dispatch() answers as JSON.
 */
#ifndef CHATD_HANDLERS_H
#define CHATD_HANDLERS_H

#include "err.h"
#include "fields.h"
#include "req.h"

enum err health_get(struct req *);		/* health.c */
enum err pages_home(struct req *);		/* pages.c */
enum err cspreport_post(struct req *);		/* cspreport.c */
extern const struct field cspreport_fields[];
extern const char *const cspreport_media_types[];

enum err pages_register(struct req *);		/* pages.c */
enum err pages_account(struct req *);
enum err pages_chat(struct req *);

enum err register_post(struct req *);		/* register.c */
enum err register_confirm(struct req *);
extern const struct field credential_fields[], confirm_fields[];
/* Login's password step for a pending account: its enrolment again, 200 {enrolment: {...}}. */
struct sql_user;
enum err register_resume(struct req *, const struct sql_user *);
/* Shared with account.c (binding a new authenticator). */
enum err register_enrolment(struct req *, long long user_id, const char *purpose,
    const unsigned char *sealed, size_t sealed_len, char token[44]);
json_t *register_enrolment_json(struct req *, const char *username, const char *token,
    const char *b32, json_t *codes);
/* A live enrolment by its token, whose hash goes into hash: ERR_OK, ERR_ENROLMENT_INVALID, ERR_DB_UNAVAILABLE. */
struct sql_enrolment;
enum err register_enrolment_get(struct req *, const char *token, struct sql_enrolment *,
    unsigned char hash[32]);

enum err login_post(struct req *);		/* login.c */
enum err login_mfa(struct req *);
enum err logout_post(struct req *);
extern const struct field login_fields[], mfa_fields[];

enum err account_me(struct req *);		/* account.c */
enum err account_password(struct req *);
enum err account_totp_new(struct req *);
enum err account_totp_confirm(struct req *);
enum err account_recovery_codes(struct req *);
enum err sessions_list(struct req *);
enum err sessions_delete(struct req *);
extern const struct field password_change_fields[], totp_new_fields[], code_fields[];

enum err events_get(struct req *);		/* event.c */

enum err friends_list(struct req *);		/* friends.c */
enum err friends_remove(struct req *);
enum err blocks_list(struct req *);
enum err blocks_add(struct req *);
enum err blocks_remove(struct req *);

enum err friend_requests_post(struct req *);		/* friend_requests.c */
enum err friend_requests_list(struct req *);
enum err friend_requests_accept(struct req *);
enum err friend_requests_reject(struct req *);
enum err friend_requests_cancel(struct req *);
extern const struct field friend_request_fields[];

enum err keys_put(struct req *);		/* keys.c */
enum err keys_get(struct req *);
enum err keys_history(struct req *);
extern const struct field key_fields[], key_query[];

enum err messages_post(struct req *);		/* messages.c */
enum err messages_list(struct req *);
enum err messages_delivered(struct req *);
enum err messages_read(struct req *);
extern const struct field message_fields[], history_query[], marker_fields[];

#endif
