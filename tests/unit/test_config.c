/*
 * config: config_load() reads every CHATD_* variable through a getter,
 * applies defaults, and refuses the first bad value with a message that
 * names the variable. The getter here serves a small test table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define MAXVARS 8

struct env {
	const char *name[MAXVARS];
	const char *value[MAXVARS];
	size_t n;
	char pwfile[64];	/* a good password file, made per test */
	struct config cfg;
	char err[256];
};

static const char *
env_get(const char *name, void *ctx)
{
	struct env *env = ctx;

	for (size_t i = env->n; i-- > 0;)
		if (strcmp(env->name[i], name) == 0)
			return env->value[i];
	return NULL;
}

/* Sets a variable; a later set of the same name wins; NULL value unsets it. */
static void
env_set(struct env *env, const char *name, const char *value)
{
	assert_true(env->n < MAXVARS);
	env->name[env->n] = name;
	env->value[env->n] = value;
	env->n++;
}

/* Writes content to a new temporary file; its path goes to path. */
static void
make_file(char *path, size_t len, const char *content)
{
	int fd;

	snprintf(path, len, "/tmp/chatd-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* The smallest good environment: a socket and a password file. */
static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));

	if (env == NULL)
		return -1;
	make_file(env->pwfile, sizeof(env->pwfile), "s3cret\n");
	env_set(env, "CHATD_LISTEN", "/run/chatd/chatd.sock");
	env_set(env, "CHATD_DB_PASSWORD_FILE", env->pwfile);
	env_set(env, "CHATD_SECRETS_DIR", "/var/lib/chatd/secrets");
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;

	unlink(env->pwfile);
	free(env);
	return 0;
}

static int
load(struct env *env)
{
	env->err[0] = '\0';
	return config_load(&env->cfg, env_get, env, env->err, sizeof(env->err));
}

/* Asserts that setting name=value is refused with a message naming name. */
#define assert_refused(env, name, value) do {					\
	size_t n_ = (env)->n;							\
	env_set((env), (name), (value));					\
	assert_int_equal(load(env), -1);					\
	assert_non_null(strstr((env)->err, (name)));				\
	(env)->n = n_;								\
} while (0)

#define assert_accepted(env, name, value) do {					\
	size_t n_ = (env)->n;							\
	env_set((env), (name), (value));					\
	assert_int_equal(load(env), 0);						\
	(env)->n = n_;								\
} while (0)

static const char *const int_vars[] = {
	"CHATD_WORKERS", "CHATD_THREADS", "CHATD_SHUTDOWN_TIMEOUT", "CHATD_DB_PORT",
	"CHATD_DB_TIMEOUT", "CHATD_MAX_BODY", "CHATD_NCHAN_TIMEOUT_MS", "CHATD_BCRYPT_COST",
	"CHATD_SESSION_IDLE", "CHATD_SESSION_MAX", "CHATD_ENROL_TTL", "CHATD_PWNED_TIMEOUT_MS",
	"CHATD_PWNED_REQUIRED", "CHATD_PURGE_INTERVAL",
};

static void
test_config_defaults(void **state)
{
	struct env *env = *state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	assert_int_equal(load(env), 0);
	assert_string_equal(env->cfg.listen, "/run/chatd/chatd.sock");
	assert_int_equal(env->cfg.workers, cpus > 0 && cpus <= 256 ? cpus : 1);
	assert_int_equal(env->cfg.threads, 16);
	assert_int_equal(env->cfg.shutdown_timeout, 10);
	assert_string_equal(env->cfg.user, "");
	assert_string_equal(env->cfg.db_socket, "");
	assert_string_equal(env->cfg.db_host, "127.0.0.1");
	assert_int_equal(env->cfg.db_port, 3306);
	assert_string_equal(env->cfg.db_name, "chat");
	assert_string_equal(env->cfg.db_user, "chat_app");
	assert_string_equal(env->cfg.db_password_file, env->pwfile);
	assert_int_equal(env->cfg.db_timeout, 3);
	assert_string_equal(env->cfg.template_dir, "templates");
	assert_int_equal(env->cfg.max_body, 65536);
	assert_string_equal(env->cfg.nchan_url, "http://localhost");
	assert_string_equal(env->cfg.nchan_socket, "");
	assert_int_equal(env->cfg.nchan_timeout_ms, 1000);
}

static void
test_config_values_taken(void **state)
{
	struct env *env = *state;

	env_set(env, "CHATD_THREADS", "4");
	env_set(env, "CHATD_MAX_BODY", "1048576");
	env_set(env, "CHATD_DB_NAME", "other");
	env_set(env, "CHATD_NCHAN_URL", "https://pub.example");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.threads, 4);
	assert_int_equal(env->cfg.max_body, 1048576);
	assert_string_equal(env->cfg.db_name, "other");
	assert_string_equal(env->cfg.nchan_url, "https://pub.example");
}

static void
test_config_listen_required(void **state)
{
	struct env *env = *state;

	env->name[0] = "UNRELATED";
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_LISTEN"));
	assert_non_null(strstr(env->err, "required"));
}

static void
test_config_password_file_required(void **state)
{
	struct env *env = *state;

	env->n = 1;
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_DB_PASSWORD_FILE"));
}

static void
test_config_int_refuses_non_numbers(void **state)
{
	struct env *env = *state;

	for (size_t i = 0; i < sizeof(int_vars) / sizeof(int_vars[0]); i++) {
		assert_refused(env, int_vars[i], "x");
		assert_refused(env, int_vars[i], "");
		assert_refused(env, int_vars[i], "12abc");
		assert_refused(env, int_vars[i], "1.5");
		assert_refused(env, int_vars[i], "0x10");
	}
}

static void
test_config_int_refuses_plus_sign(void **state)
{
	struct env *env = *state;

	for (size_t i = 0; i < sizeof(int_vars) / sizeof(int_vars[0]); i++)
		assert_refused(env, int_vars[i], "+1");
}

static void
test_config_int_refuses_spaces(void **state)
{
	struct env *env = *state;

	for (size_t i = 0; i < sizeof(int_vars) / sizeof(int_vars[0]); i++) {
		assert_refused(env, int_vars[i], " 1");
		assert_refused(env, int_vars[i], "\t1");
		assert_refused(env, int_vars[i], "\n1");
		assert_refused(env, int_vars[i], "1 ");
	}
}

static void
test_config_int_refuses_out_of_range(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_WORKERS", "-1");
	assert_refused(env, "CHATD_WORKERS", "257");
	assert_refused(env, "CHATD_THREADS", "0");
	assert_refused(env, "CHATD_THREADS", "257");
	assert_refused(env, "CHATD_SHUTDOWN_TIMEOUT", "0");
	assert_refused(env, "CHATD_SHUTDOWN_TIMEOUT", "601");
	assert_refused(env, "CHATD_DB_PORT", "0");
	assert_refused(env, "CHATD_DB_PORT", "65536");
	assert_refused(env, "CHATD_DB_TIMEOUT", "61");
	assert_refused(env, "CHATD_DB_TIMEOUT", "1");	/* the lock wait is a second under it */
	assert_refused(env, "CHATD_MAX_BODY", "255");
	assert_refused(env, "CHATD_MAX_BODY", "1048577");
	assert_refused(env, "CHATD_NCHAN_TIMEOUT_MS", "49");
	assert_refused(env, "CHATD_NCHAN_TIMEOUT_MS", "30001");
	assert_refused(env, "CHATD_BCRYPT_COST", "3");
	assert_refused(env, "CHATD_BCRYPT_COST", "32");
	assert_refused(env, "CHATD_PWNED_REQUIRED", "2");
	assert_refused(env, "CHATD_SESSION_IDLE", "1");
}

static void
test_config_account_defaults_and_rules(void **state)
{
	struct env *env = *state;
	struct config cfg;
	char err[256];

	assert_int_equal(config_load(&cfg, env_get, env, err, sizeof(err)), 0);
	assert_int_equal(cfg.bcrypt_cost, 12);
	assert_int_equal(cfg.session_idle, 1800);
	assert_int_equal(cfg.session_max, 43200);
	assert_int_equal(cfg.pwned_required, 0);
	assert_string_equal(cfg.pwned_url, "https://api.pwnedpasswords.com");
	assert_refused(env, "CHATD_PWNED_URL", "ftp://example");
	/* Hash prefixes of new passwords never travel in clear. */
	assert_refused(env, "CHATD_PWNED_URL", "http://api.pwnedpasswords.com");
	assert_refused(env, "CHATD_PWNED_URL", "HTTPS://api.pwnedpasswords.com");
	assert_refused(env, "CHATD_PWNED_URL", "https://");
	assert_accepted(env, "CHATD_PWNED_URL", "https://localhost:18443/pwned");
	env_set(env, "CHATD_SESSION_IDLE", "600");
	assert_refused(env, "CHATD_SESSION_MAX", "300");
	env_set(env, "CHATD_SECRETS_DIR", NULL);
	assert_int_equal(config_load(&cfg, env_get, env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CHATD_SECRETS_DIR is required"));
}

static void
test_config_purge_interval(void **state)
{
	struct env *env = *state;

	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.purge_interval, 60);
	assert_accepted(env, "CHATD_PURGE_INTERVAL", "0");	/* no purge process on this chatd */
	assert_accepted(env, "CHATD_PURGE_INTERVAL", "1");
	assert_accepted(env, "CHATD_PURGE_INTERVAL", "86400");
	assert_refused(env, "CHATD_PURGE_INTERVAL", "-1");
	assert_refused(env, "CHATD_PURGE_INTERVAL", "86401");
	env_set(env, "CHATD_PURGE_INTERVAL", "2");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.purge_interval, 2);
}

static void
test_config_int_accepts_bounds(void **state)
{
	struct env *env = *state;

	assert_accepted(env, "CHATD_WORKERS", "256");
	assert_accepted(env, "CHATD_THREADS", "1");
	assert_accepted(env, "CHATD_DB_PORT", "65535");
	assert_accepted(env, "CHATD_MAX_BODY", "256");
	assert_accepted(env, "CHATD_NCHAN_TIMEOUT_MS", "50");
}

static void
test_config_int_refuses_overflow(void **state)
{
	struct env *env = *state;

	for (size_t i = 0; i < sizeof(int_vars) / sizeof(int_vars[0]); i++) {
		assert_refused(env, int_vars[i], "99999999999999999999");
		assert_refused(env, int_vars[i], "-99999999999999999999");
		/* Fits a long long but not an int: must not wrap into range. */
		assert_refused(env, int_vars[i], "4294967297");
	}
}

static void
test_config_error_quotes_the_value(void **state)
{
	struct env *env = *state;

	env_set(env, "CHATD_THREADS", "lots");
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_THREADS"));
	assert_non_null(strstr(env->err, "'lots'"));
}

static void
test_config_workers_zero_is_cpu_count(void **state)
{
	struct env *env = *state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	env_set(env, "CHATD_WORKERS", "0");
	assert_int_equal(load(env), 0);
	assert_true(env->cfg.workers >= 1);
	assert_int_equal(env->cfg.workers, cpus > 0 && cpus <= 256 ? cpus : 1);
	env_set(env, "CHATD_WORKERS", "3");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.workers, 3);
}

static void
test_config_listen_tcp_accepted(void **state)
{
	struct env *env = *state;

	assert_accepted(env, "CHATD_LISTEN", "127.0.0.1:9000");
	assert_accepted(env, "CHATD_LISTEN", ":9000");
	assert_accepted(env, "CHATD_LISTEN", "[::1]:9000");
	assert_accepted(env, "CHATD_LISTEN", "localhost:1");
	assert_accepted(env, "CHATD_LISTEN", "localhost:65535");
}

static void
test_config_listen_relative_path_refused(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_LISTEN", "chatd.sock");
	assert_refused(env, "CHATD_LISTEN", "run/chatd.sock");
	assert_refused(env, "CHATD_LISTEN", "");
}

static void
test_config_listen_bad_port_refused(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_LISTEN", "localhost");
	assert_refused(env, "CHATD_LISTEN", "localhost:");
	assert_refused(env, "CHATD_LISTEN", "localhost:0");
	assert_refused(env, "CHATD_LISTEN", "localhost:70000");
	assert_refused(env, "CHATD_LISTEN", "localhost:http");
	assert_refused(env, "CHATD_LISTEN", "localhost:+80");
	assert_refused(env, "CHATD_LISTEN", "localhost:-1");
}

static void
test_config_listen_unix_path_length(void **state)
{
	struct env *env = *state;
	char path[109];

	path[0] = '/';
	memset(path + 1, 'a', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';		/* 108 bytes: no room for sun_path's NUL */
	assert_int_equal(strlen(path), 108);
	assert_refused(env, "CHATD_LISTEN", path);
	path[107] = '\0';			/* 107 bytes fit */
	assert_accepted(env, "CHATD_LISTEN", path);
}

static void
test_config_db_socket_must_be_absolute(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_DB_SOCKET", "mysqld.sock");
	assert_accepted(env, "CHATD_DB_SOCKET", "/run/mysqld/mysqld.sock");
}

static void
test_config_nchan_socket_must_be_absolute(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_NCHAN_SOCKET", "nchan.sock");
	assert_accepted(env, "CHATD_NCHAN_SOCKET", "/run/nchan.sock");
}

static void
test_config_nchan_url_scheme(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_NCHAN_URL", "localhost");
	assert_refused(env, "CHATD_NCHAN_URL", "ftp://localhost");
	assert_refused(env, "CHATD_NCHAN_URL", "http:/localhost");
	assert_refused(env, "CHATD_NCHAN_URL", "");
	assert_accepted(env, "CHATD_NCHAN_URL", "http://127.0.0.1:8080");
	assert_accepted(env, "CHATD_NCHAN_URL", "https://localhost");
}

static void
test_config_origins_default_to_localhost(void **state)
{
	struct env *env = *state;

	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.https_port, 443);
	assert_int_equal(env->cfg.norigins, 1);
	assert_string_equal(env->cfg.origins[0], "https://localhost");
}

static void
test_config_origins_from_names_and_port(void **state)
{
	struct env *env = *state;

	env_set(env, "CHATD_HOSTNAMES", " Chat.Example.ORG,localhost  127.0.0.1,");
	env_set(env, "CHATD_HTTPS_PORT", "8443");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.norigins, 3);
	assert_string_equal(env->cfg.origins[0], "https://chat.example.org:8443");
	assert_string_equal(env->cfg.origins[1], "https://localhost:8443");
	assert_string_equal(env->cfg.origins[2], "https://127.0.0.1:8443");
	env->n--;
	assert_int_equal(load(env), 0);	/* 443: browsers leave the port out */
	assert_string_equal(env->cfg.origins[0], "https://chat.example.org");
}

static void
test_config_origins_refuse_what_is_not_a_host_name(void **state)
{
	struct env *env = *state;
	char many[400] = "", label[80];

	assert_refused(env, "CHATD_HOSTNAMES", "");
	assert_refused(env, "CHATD_HOSTNAMES", " , ");
	assert_refused(env, "CHATD_HOSTNAMES", "https://chat.example.org");
	assert_refused(env, "CHATD_HOSTNAMES", "chat.example.org:443");
	assert_refused(env, "CHATD_HOSTNAMES", "localhost evil/..");
	assert_refused(env, "CHATD_HOSTNAMES", "-chat.example.org");
	assert_refused(env, "CHATD_HOSTNAMES", "chat-.example.org");
	assert_refused(env, "CHATD_HOSTNAMES", "chat..example.org");
	assert_refused(env, "CHATD_HOSTNAMES", ".example.org");
	assert_refused(env, "CHATD_HOSTNAMES", "*.example.org");
	assert_refused(env, "CHATD_HTTPS_PORT", "0");
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_refused(env, "CHATD_HOSTNAMES", label);		/* a label is 63 at most */
	label[63] = '\0';
	assert_accepted(env, "CHATD_HOSTNAMES", label);
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "h%d ", i);
	assert_refused(env, "CHATD_HOSTNAMES", many);		/* 16 names at most */
}

static void
test_config_string_too_long_refused(void **state)
{
	struct env *env = *state;
	char name[100];

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_refused(env, "CHATD_DB_NAME", name);	/* 64 bytes at most */
	name[64] = '\0';
	assert_accepted(env, "CHATD_DB_NAME", name);
}

static void
test_config_password_file_missing(void **state)
{
	struct env *env = *state;

	assert_refused(env, "CHATD_DB_PASSWORD_FILE", "/nonexistent/chatd-password");
}

static void
test_config_password_file_empty(void **state)
{
	struct env *env = *state;
	char path[64];

	make_file(path, sizeof(path), "");
	env_set(env, "CHATD_DB_PASSWORD_FILE", path);
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_DB_PASSWORD_FILE"));
	assert_non_null(strstr(env->err, "empty"));
	unlink(path);

	/* A newline alone is empty too. */
	make_file(path, sizeof(path), "\n");
	env->n--;
	env_set(env, "CHATD_DB_PASSWORD_FILE", path);
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_DB_PASSWORD_FILE"));
	unlink(path);
}

static void
test_config_password_file_read(void **state)
{
	struct env *env = *state;
	char path[64];

	assert_int_equal(load(env), 0);
	assert_string_equal(env->cfg.db_password, "s3cret");

	make_file(path, sizeof(path), "pa ss\r\n");
	env_set(env, "CHATD_DB_PASSWORD_FILE", path);
	assert_int_equal(load(env), 0);
	assert_string_equal(env->cfg.db_password, "pa ss");
	unlink(path);

	make_file(path, sizeof(path), "no-newline");
	env->n--;
	env_set(env, "CHATD_DB_PASSWORD_FILE", path);
	assert_int_equal(load(env), 0);
	assert_string_equal(env->cfg.db_password, "no-newline");
	unlink(path);
}

static void
test_config_password_file_too_long(void **state)
{
	struct env *env = *state;
	char path[64], big[300];

	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make_file(path, sizeof(path), big);
	env_set(env, "CHATD_DB_PASSWORD_FILE", path);
	assert_int_equal(load(env), -1);
	assert_non_null(strstr(env->err, "CHATD_DB_PASSWORD_FILE"));
	unlink(path);
}

/* CHATD_LOGIN_CAPTCHA: "always" unless told, one of two words exactly, the error lists them. */
static void
test_config_login_captcha_words(void **state)
{
	struct env *env = *state;
	size_t n = env->n;

	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.login_captcha, CONFIG_CAPTCHA_ALWAYS);
	env_set(env, "CHATD_LOGIN_CAPTCHA", "after-failures");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.login_captcha, CONFIG_CAPTCHA_AFTER_FAILURES);
	env->n = n;
	env_set(env, "CHATD_LOGIN_CAPTCHA", "always");
	assert_int_equal(load(env), 0);
	assert_int_equal(env->cfg.login_captcha, CONFIG_CAPTCHA_ALWAYS);
	env->n = n;
	static const char *const bad[] = {"", "Always", "after_failures", "never", "always ", "1"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_refused(env, "CHATD_LOGIN_CAPTCHA", bad[i]);
		assert_non_null(strstr(env->err, "always, after-failures"));
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_defaults),
		T(test_config_values_taken),
		T(test_config_listen_required),
		T(test_config_password_file_required),
		T(test_config_int_refuses_non_numbers),
		T(test_config_int_refuses_plus_sign),
		T(test_config_int_refuses_spaces),
		T(test_config_int_refuses_out_of_range),
		T(test_config_account_defaults_and_rules),
		T(test_config_purge_interval),
		T(test_config_int_accepts_bounds),
		T(test_config_int_refuses_overflow),
		T(test_config_error_quotes_the_value),
		T(test_config_workers_zero_is_cpu_count),
		T(test_config_listen_tcp_accepted),
		T(test_config_listen_relative_path_refused),
		T(test_config_listen_bad_port_refused),
		T(test_config_listen_unix_path_length),
		T(test_config_db_socket_must_be_absolute),
		T(test_config_nchan_socket_must_be_absolute),
		T(test_config_nchan_url_scheme),
		T(test_config_origins_default_to_localhost),
		T(test_config_origins_from_names_and_port),
		T(test_config_origins_refuse_what_is_not_a_host_name),
		T(test_config_string_too_long_refused),
		T(test_config_password_file_missing),
		T(test_config_password_file_empty),
		T(test_config_password_file_read),
		T(test_config_password_file_too_long),
		T(test_config_login_captcha_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
