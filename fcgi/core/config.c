/*
 * config: the CHATD_* variables, one table, validated at start (see config.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

enum config_type { CT_STR, CT_INT, CT_SIZE, CT_ENUM };

struct config_var {
	const char *name;
	enum config_type type;
	size_t off;
	size_t size;		/* CT_STR: buffer size */
	const char *dflt;	/* NULL = required */
	long long min, max;	/* CT_INT, CT_SIZE */
	const char *help;
	const char *const *choices;	/* CT_ENUM: the words, NULL-terminated; stored as the index */
};

static const char *const login_captcha_words[] = {
	[CONFIG_CAPTCHA_ALWAYS] = "always", [CONFIG_CAPTCHA_AFTER_FAILURES] = "after-failures", NULL,
};

#define S(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define I(field) offsetof(struct config, field), 0

static const struct config_var vars[] = {
	{"CHATD_LISTEN", CT_STR, S(listen), NULL, 0, 0,
	    "FastCGI socket: an absolute unix socket path, or HOST:PORT / :PORT"},
	{"CHATD_WORKERS", CT_INT, I(workers), "0", 0, 256,
	    "worker processes; 0 = one per CPU core"},
	{"CHATD_THREADS", CT_INT, I(threads), "16", 1, 256, "threads per worker"},
	{"CHATD_SHUTDOWN_TIMEOUT", CT_INT, I(shutdown_timeout), "10", 1, 600,
	    "seconds in-flight requests get to finish at stop"},
	{"CHATD_USER", CT_STR, S(user), "", 0, 0,
	    "user to switch to after start-up when started as root"},
	{"CHATD_DB_SOCKET", CT_STR, S(db_socket), "", 0, 0,
	    "MariaDB unix socket; empty = TCP to CHATD_DB_HOST"},
	{"CHATD_DB_HOST", CT_STR, S(db_host), "127.0.0.1", 0, 0, "MariaDB host (TCP)"},
	{"CHATD_DB_PORT", CT_INT, I(db_port), "3306", 1, 65535, "MariaDB port (TCP)"},
	{"CHATD_DB_NAME", CT_STR, S(db_name), "chat", 0, 0, "database name"},
	{"CHATD_DB_USER", CT_STR, S(db_user), "chat_app", 0, 0,
	    "database user (DML only, no DDL)"},
	{"CHATD_DB_PASSWORD_FILE", CT_STR, S(db_password_file), NULL, 0, 0,
	    "file holding the database user's password"},
	{"CHATD_DB_TIMEOUT", CT_INT, I(db_timeout), "3", 2, 60,
	    "seconds for database connect, read and write; a wait for a row lock "
	    "ends one second sooner, as an answer, never as a lost connection"},
	{"CHATD_HOSTNAMES", CT_STR, S(hostnames), "localhost", 0, 0,
	    "host names the site is served under, separated by spaces or commas; "
	    "state-changing requests must come from https://NAME[:CHATD_HTTPS_PORT]"},
	{"CHATD_HTTPS_PORT", CT_INT, I(https_port), "443", 1, 65535,
	    "the HTTPS port browsers reach the site on (in the origin unless 443)"},
	{"CHATD_TEMPLATE_DIR", CT_STR, S(template_dir), "templates", 0, 0,
	    "directory of the HTML templates"},
	{"CHATD_MAX_BODY", CT_SIZE, offsetof(struct config, max_body), 0, "65536", 256, 1048576,
	    "bytes: largest request body a route takes by default"},
	{"CHATD_SECRETS_DIR", CT_STR, S(secrets_dir), NULL, 0, 0,
	    "directory of pepper.key and totp.key (made 0600 on first start)"},
	{"CHATD_BCRYPT_COST", CT_INT, I(bcrypt_cost), "12", 4, 31, "bcrypt cost of new password hashes"},
	{"CHATD_SESSION_IDLE", CT_INT, I(session_idle), "1800", 2, 86400,
	    "seconds without a request before a session ends"},
	{"CHATD_SESSION_MAX", CT_INT, I(session_max), "43200", 2, 2592000,
	    "seconds after login a session ends regardless"},
	{"CHATD_ENROL_TTL", CT_INT, I(enrol_ttl), "900", 10, 86400,
	    "seconds an unconfirmed registration or authenticator lives"},
	{"CHATD_PURGE_INTERVAL", CT_INT, I(purge_interval), "60", 0, 86400,
	    "seconds between rounds of the purge process, which deletes expired sessions, "
	    "CAPTCHAs, MFA tickets, enrolments, unconfirmed registrations and address failures; "
	    "0 = no purge process here (another chatd on the same database purges)"},
	{"CHATD_ISSUER", CT_STR, S(issuer), "Sealed", 0, 0, "issuer name shown in authenticator apps"},
	{"CHATD_BLOCKLIST", CT_STR, S(blocklist), "build/blocklist.txt", 0, 0,
	    "file of common passwords, one per line"},
	{"CHATD_PWNED_URL", CT_STR, S(pwned_url), "https://api.pwnedpasswords.com", 0, 0,
	    "base URL of the Pwned Passwords range API"},
	{"CHATD_PWNED_CAINFO", CT_STR, S(pwned_cainfo), "", 0, 0,
	    "CA file for the range API; empty = the system's"},
	{"CHATD_PWNED_TIMEOUT_MS", CT_INT, I(pwned_timeout_ms), "3000", 100, 30000,
	    "milliseconds a range lookup may take"},
	{"CHATD_PWNED_REQUIRED", CT_INT, I(pwned_required), "0", 0, 1,
	    "1: refuse registration when the range API cannot be reached"},
	{"CHATD_CAPTCHA_FONT", CT_STR, S(captcha_font),
	    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0, 0, "TrueType font of the CAPTCHA"},
	{"CHATD_LOGIN_CAPTCHA", CT_ENUM, I(login_captcha), "always", 0, 0,
	    "when login asks for a CAPTCHA: always, or after-failures (only after a failure of the "
	    "name or from the address in the last hour); registration always asks",
	    login_captcha_words},
	{"CHATD_SEND_RATE", CT_INT, I(send_rate), "120", 1, 100000,
	    "messages a user may send per minute, on average"},
	{"CHATD_SEND_BURST", CT_INT, I(send_burst), "60", 1, 100000,
	    "messages a user may send at once before CHATD_SEND_RATE applies"},
	{"CHATD_FRIEND_RATE", CT_INT, I(friend_rate), "10", 1, 100000,
	    "friend requests a user may send per minute, on average"},
	{"CHATD_FRIEND_BURST", CT_INT, I(friend_burst), "20", 1, 100000,
	    "friend requests a user may send at once"},
	{"CHATD_NCHAN_URL", CT_STR, S(nchan_url), "http://localhost", 0, 0,
	    "base URL of the nchan publisher"},
	{"CHATD_NCHAN_SOCKET", CT_STR, S(nchan_socket), "", 0, 0,
	    "unix socket of the nchan publisher; empty = TCP to CHATD_NCHAN_URL"},
	{"CHATD_NCHAN_TIMEOUT_MS", CT_INT, I(nchan_timeout_ms), "1000", 50, 30000,
	    "milliseconds one publish may take, to all its channels together"},
};

#undef S
#undef I

static int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip blanks and a '+': only digits and '-' pass. */
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "CHATD_DB_PASSWORD_FILE: cannot open '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "CHATD_DB_PASSWORD_FILE: cannot read '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	if ((size_t)n == outlen - 1) {
		snprintf(err, errlen, "CHATD_DB_PASSWORD_FILE: '%s' is longer than %zu bytes",
		    path, outlen - 2);
		return -1;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "CHATD_DB_PASSWORD_FILE: '%s' is empty", path);
		return -1;
	}
	return 0;
}

static int
check_listen(const char *s)
{
	const char *colon;
	long long port;

	if (s[0] == '/')
		return strlen(s) < 108 ? 0 : -1;	/* sun_path */
	colon = strrchr(s, ':');
	if (colon == NULL)
		return -1;
	return parse_int(colon + 1, 1, 65535, &port);
}

/* A DNS name (labels of letters, digits and inner hyphens) or an IPv4 address. */
static int
valid_hostname(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c == '-' && label > 0)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return s[n - 1] != '-';
}

/* The origins of CHATD_HOSTNAMES at CHATD_HTTPS_PORT, lower case. 0 or -1. */
static int
config_origins(struct config *cfg, char *err, size_t errlen)
{
	const char *p = cfg->hostnames;

	cfg->norigins = 0;
	for (;;) {
		size_t n;
		char *o;

		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		n = strcspn(p, " ,\t");
		if (!valid_hostname(p, n)) {
			snprintf(err, errlen, "CHATD_HOSTNAMES: '%.*s' is not a host name",
			    (int)(n < 60 ? n : 60), p);
			return -1;
		}
		if (cfg->norigins == CONFIG_MAX_HOSTNAMES) {
			snprintf(err, errlen, "CHATD_HOSTNAMES: more than %d names",
			    CONFIG_MAX_HOSTNAMES);
			return -1;
		}
		o = cfg->origins[cfg->norigins++];
		if (cfg->https_port == 443)
			snprintf(o, sizeof(cfg->origins[0]), "https://%.*s", (int)n, p);
		else
			snprintf(o, sizeof(cfg->origins[0]), "https://%.*s:%d", (int)n, p,
			    cfg->https_port);
		for (; *o != '\0'; o++)
			if (*o >= 'A' && *o <= 'Z')
				*o = (char)(*o - 'A' + 'a');
		p += n;
	}
	if (cfg->norigins == 0) {
		snprintf(err, errlen, "CHATD_HOSTNAMES names no host");
		return -1;
	}
	return 0;
}

int
config_load(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const struct config_var *v = &vars[i];
		const char *val = get(v->name, ctx);
		char *field = (char *)cfg + v->off;
		long long n;

		if (val == NULL)
			val = v->dflt;
		if (val == NULL) {
			snprintf(err, errlen, "%s is required: %s", v->name, v->help);
			return -1;
		}
		switch (v->type) {
		case CT_STR:
			if (strlen(val) >= v->size) {
				snprintf(err, errlen, "%s is longer than %zu characters",
				    v->name, v->size - 1);
				return -1;
			}
			memcpy(field, val, strlen(val) + 1);
			break;
		case CT_INT:
		case CT_SIZE:
			if (parse_int(val, v->min, v->max, &n) < 0) {
				snprintf(err, errlen, "%s must be an integer from %lld to %lld, not '%.40s'",
				    v->name, v->min, v->max, val);
				return -1;
			}
			if (v->type == CT_INT)
				*(int *)(void *)field = (int)n;
			else
				*(size_t *)(void *)field = (size_t)n;
			break;
		case CT_ENUM:
			for (n = 0; v->choices[n] != NULL && strcmp(v->choices[n], val) != 0; n++)
				;
			if (v->choices[n] == NULL) {
				char words[128] = "";
				size_t at = 0;

				for (long long k = 0; v->choices[k] != NULL && at < sizeof(words); k++)
					at += (size_t)snprintf(words + at, sizeof(words) - at, "%s%s",
					    k > 0 ? ", " : "", v->choices[k]);
				snprintf(err, errlen, "%s must be one of %s, not '%.40s'", v->name, words, val);
				return -1;
			}
			*(int *)(void *)field = (int)n;
			break;
		}
	}

	if (check_listen(cfg->listen) < 0) {
		snprintf(err, errlen, "CHATD_LISTEN must be an absolute socket path (under 108 bytes) "
		    "or HOST:PORT, not '%.60s'", cfg->listen);
		return -1;
	}
	if (cfg->db_socket[0] != '\0' && cfg->db_socket[0] != '/') {
		snprintf(err, errlen, "CHATD_DB_SOCKET must be an absolute path, not '%.60s'",
		    cfg->db_socket);
		return -1;
	}
	if (cfg->nchan_socket[0] != '\0' && cfg->nchan_socket[0] != '/') {
		snprintf(err, errlen, "CHATD_NCHAN_SOCKET must be an absolute path, not '%.60s'",
		    cfg->nchan_socket);
		return -1;
	}
	if (strncmp(cfg->nchan_url, "http://", 7) != 0 && strncmp(cfg->nchan_url, "https://", 8) != 0) {
		snprintf(err, errlen, "CHATD_NCHAN_URL must start with http:// or https://, not '%.60s'",
		    cfg->nchan_url);
		return -1;
	}
	/* The breach check sends hash prefixes of new passwords: never in clear. */
	if (strncmp(cfg->pwned_url, "https://", 8) != 0 || cfg->pwned_url[8] == '\0') {
		snprintf(err, errlen, "CHATD_PWNED_URL must be an https:// URL, not '%.60s'",
		    cfg->pwned_url);
		return -1;
	}
	if (config_origins(cfg, err, errlen) < 0)
		return -1;
	if (cfg->session_idle > cfg->session_max) {
		snprintf(err, errlen, "CHATD_SESSION_IDLE (%d) must not exceed CHATD_SESSION_MAX (%d)",
		    cfg->session_idle, cfg->session_max);
		return -1;
	}
	if (cfg->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->workers = n > 0 && n <= 256 ? (int)n : 1;
	}
	return read_secret(cfg->db_password_file, cfg->db_password, sizeof(cfg->db_password),
	    err, errlen);
}

void
config_usage(void)
{
	fprintf(stderr, "chatd is configured by environment variables:\n");
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		fprintf(stderr, "  %-24s %s%s%s%s\n", vars[i].name, vars[i].help,
		    vars[i].dflt ? " (default '" : " (required)",
		    vars[i].dflt ? vars[i].dflt : "", vars[i].dflt ? "')" : "");
}

long long
config_step_us(int per_minute)
{
	return 60000000LL / (per_minute > 0 ? per_minute : 1);
}
