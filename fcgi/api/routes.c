/*
 * routes: the application's route table, one row per resource and method.
 * dispatch() in router.c applies every generic check before a handler runs:
 * ROUTE_ORIGIN (same-origin Origin), ROUTE_AUTH (live session), ROUTE_CSRF
 * (the session's token in X-CSRF-Token), ROUTE_PAGE (no session → to login).
 */
#include "challenge.h"
#include "handlers.h"
#include "router.h"

#define O ROUTE_ORIGIN
#define A ROUTE_AUTH
#define C (ROUTE_AUTH | ROUTE_CSRF)

const struct route router_routes[] = {
	/* method  pattern                        query body      max   media  handler  flags */
	{"GET", "/", NULL, NULL, 0, NULL, pages_home, 0},
	{"GET", "/register", NULL, NULL, 0, NULL, pages_register, 0},
	{"GET", "/account", NULL, NULL, 0, NULL, pages_account, A | ROUTE_PAGE},
	{"GET", "/chat", NULL, NULL, 0, NULL, pages_chat, A | ROUTE_PAGE},
	{"GET", "/api/health", NULL, NULL, 0, NULL, health_get, 0},
	{"POST", "/api/csp-report", NULL, cspreport_fields, 8192, cspreport_media_types, cspreport_post, 0},
	{"POST", "/api/captcha", NULL, NULL, 0, NULL, challenge_post, O},
	{"POST", "/api/register", NULL, credential_fields, 8192, NULL, register_post, O},
	{"POST", "/api/register/confirm", NULL, confirm_fields, 1024, NULL, register_confirm, O},
	{"POST", "/api/login", NULL, login_fields, 8192, NULL, login_post, O},
	{"POST", "/api/login/mfa", NULL, mfa_fields, 1024, NULL, login_mfa, O},
	{"POST", "/api/logout", NULL, NULL, 0, NULL, logout_post, C},
	{"GET", "/api/me", NULL, NULL, 0, NULL, account_me, A},
	{"GET", "/api/sessions", NULL, NULL, 0, NULL, sessions_list, A},
	{"DELETE", "/api/sessions/{id}", NULL, NULL, 0, NULL, sessions_delete, C},
	{"POST", "/api/account/password", NULL, password_change_fields, 8192, NULL, account_password, C},
	{"POST", "/api/account/totp", NULL, totp_new_fields, 8192, NULL, account_totp_new, C},
	{"POST", "/api/account/totp/confirm", NULL, confirm_fields, 1024, NULL, account_totp_confirm, C},
	{"POST", "/api/account/recovery-codes", NULL, code_fields, 1024, NULL, account_recovery_codes, C},
	{"GET", "/api/events", NULL, NULL, 0, NULL, events_get, A},
	{"GET", "/api/friends", NULL, NULL, 0, NULL, friends_list, A},
	{"GET", "/api/friends/requests", NULL, NULL, 0, NULL, friend_requests_list, A},
	{"POST", "/api/friends/requests", NULL, friend_request_fields, 1024, NULL, friend_requests_post, C},
	{"POST", "/api/friends/requests/{id}/accept", NULL, NULL, 0, NULL, friend_requests_accept, C},
	{"POST", "/api/friends/requests/{id}/reject", NULL, NULL, 0, NULL, friend_requests_reject, C},
	{"DELETE", "/api/friends/requests/{id}", NULL, NULL, 0, NULL, friend_requests_cancel, C},
	{"DELETE", "/api/friends/{username}", NULL, NULL, 0, NULL, friends_remove, C},
	{"GET", "/api/blocks", NULL, NULL, 0, NULL, blocks_list, A},
	{"POST", "/api/blocks/{username}", NULL, NULL, 0, NULL, blocks_add, C},
	{"DELETE", "/api/blocks/{username}", NULL, NULL, 0, NULL, blocks_remove, C},
	{"PUT", "/api/keys", NULL, key_fields, 4096, NULL, keys_put, C},
	{"GET", "/api/keys/{username}", key_query, NULL, 0, NULL, keys_get, A},
	{"GET", "/api/keys/{username}/history", NULL, NULL, 0, NULL, keys_history, A},
	{"POST", "/api/messages", NULL, message_fields, 32768, NULL, messages_post, C, "to"},
	{"GET", "/api/messages", history_query, NULL, 0, NULL, messages_list, A, "with"},
	{"POST", "/api/messages/delivered", NULL, marker_fields, 1024, NULL, messages_delivered, C, "with"},
	{"POST", "/api/messages/read", NULL, marker_fields, 1024, NULL, messages_read, C, "with"},
};

const size_t router_nroutes = sizeof(router_routes) / sizeof(router_routes[0]);
