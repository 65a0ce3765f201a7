/*
 * config: chatd's settings, read once from CHATD_* environment variables.
 *
 * Every variable is declared in one table with its type, bounds and default;
 * config_load() validates all of them and reports the first bad one with its
 * name, the rule and the value given, so a typo stops chatd at start with a
 * clear message instead of misbehaving later. Read-only after start-up.
 */
#ifndef CHATD_CONFIG_H
#define CHATD_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_HOSTNAMES 16

struct config {
	char listen[108];	/* unix socket path, or [host]:port for TCP */
	int workers;
	int threads;
	int shutdown_timeout;	/* seconds in-flight requests get at stop */
	char user[64];		/* drop to this user when started as root; "" = stay */

	char db_socket[256];	/* unix socket of MariaDB; "" = TCP to db_host */
	char db_host[256];
	int db_port;
	char db_name[65];
	char db_user[81];
	char db_password_file[256];
	char db_password[256];	/* read from db_password_file at load */
	int db_timeout;		/* seconds, connect/read/write */

	/* The names the site is served under and the HTTPS port browsers use:
	 * state-changing requests must carry one of the origins made of them
	 * ("https://NAME", plus ":PORT" unless 443), never one derived from the
	 * request's own Host header. */
	char hostnames[1024];
	int https_port;
	char origins[CONFIG_MAX_HOSTNAMES][272];
	int norigins;

	char template_dir[256];
	size_t max_body;	/* default body limit of routes that take one */

	char secrets_dir[256];	/* pepper.key and totp.key, made 0600 on first start */
	unsigned char pepper[32];	/* read from secrets_dir at start */
	unsigned char totp_key[32];
	int bcrypt_cost;
	int session_idle;	/* seconds without a request before a session ends */
	int session_max;	/* seconds after login a session ends regardless */
	int enrol_ttl;		/* seconds an unconfirmed registration lives */
	int purge_interval;	/* seconds between the purge's rounds; 0: no purge process */
	char issuer[64];	/* name in authenticator apps */
	char blocklist[256];	/* local list of common passwords */
	char pwned_url[256];	/* base of the Pwned Passwords range API */
	char pwned_cainfo[256];	/* CA file for it; "" = the system's */
	int pwned_timeout_ms;
	int pwned_required;	/* 1: refuse registration when the API cannot be reached */
	char captcha_font[256];
	int login_captcha;	/* enum config_login_captcha */
	char dummy_hash[100];	/* a hash to verify against for unknown users (timing) */

	int send_rate, send_burst;	/* messages per minute and burst, per user */
	int friend_rate, friend_burst;	/* friend requests per minute and burst, per user */

	char nchan_url[256];	/* publisher base URL, e.g. http://localhost */
	char nchan_socket[256];	/* unix socket of the publisher; "" = TCP */
	int nchan_timeout_ms;
};

/* When the password step of login asks for a CAPTCHA (CHATD_LOGIN_CAPTCHA). */
enum config_login_captcha {
	CONFIG_CAPTCHA_ALWAYS,		/* "always": every attempt, as the spec says */
	CONFIG_CAPTCHA_AFTER_FAILURES,	/* "after-failures": after recent failures of the name or address */
};

/* Looks a variable up; getenv() in chatd, a table in the tests. */
typedef const char *(*config_getter)(const char *name, void *ctx);

/*
 * Fills cfg from get(). Returns 0, or -1 with a one-line reason in err
 * ("CHATD_WORKERS must be an integer from 1 to 256, not 'x'").
 */
/* A limit of per_minute actions as GCRA's step in microseconds (1 at least per minute). */
long long config_step_us(int per_minute);

int config_load(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen);

/* Writes the variable table (name, default, meaning) for --help. */
void config_usage(void);

#endif
