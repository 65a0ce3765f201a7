/*
 * chatd: the FastCGI application server of the chat.
 *
 * Start-up acquires everything first (configuration, templates, the
 * listening socket), then narrows: it drops root for CHATD_USER, and only
 * then forks the workers. Any problem before the pool runs is a clear
 * message and a non-zero exit. `chatd --check` stops after validation.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "captcha.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "password.h"
#include "seal.h"
#include "totp.h"
#include "supervisor.h"
#include "tmpl.h"

static const char *
env_get(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* Switches to user `name` for good; socket first handed to it. 0 or -1. */
static int
drop_root(const char *name, const struct listener *l, char *err, size_t errlen)
{
	struct passwd *pw;

	if (getuid() != 0 || name[0] == '\0')
		return 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "CHATD_USER: no such user '%s'", name);
		return -1;
	}
	if (l->path[0] != '\0' && chown(l->path, pw->pw_uid, pw->pw_gid) != 0) {
		snprintf(err, errlen, "cannot hand %s to %s: %s", l->path, name, strerror(errno));
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot switch to user %s: %s", name, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after switching to %s", name);
		return -1;
	}
	return 0;
}

/* The pepper and the TOTP key: files outside the database, made on first start. */
static int
load_secrets(struct config *cfg, char *err, size_t errlen)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/pepper.key", cfg->secrets_dir);
	if (seal_key_file(path, cfg->pepper, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/totp.key", cfg->secrets_dir);
	if (seal_key_file(path, cfg->totp_key, err, errlen) < 0)
		return -1;
	/* Unknown users are checked against this, so they cost what known ones do. */
	if (password_hash(cfg->pepper, "no such user: a dummy password", cfg->bcrypt_cost,
	    cfg->dummy_hash, sizeof(cfg->dummy_hash)) < 0) {
		snprintf(err, errlen, "cannot make a bcrypt hash (cost %d)", cfg->bcrypt_cost);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	static struct tmpl_set tmpls;
	static struct blocklist blocklist;
	struct listener l;
	char err[512];
	int check = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else {
			fprintf(stderr, "usage: chatd [--check]\n");
			config_usage();
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	if (config_load(&cfg, env_get, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatd: configuration: %s\n", err);
		return 2;
	}
	if (tmpl_load_dir(&tmpls, cfg.template_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatd: templates: %s\n", err);
		return 2;
	}
	if (blocklist_load(&blocklist, cfg.blocklist, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatd: CHATD_BLOCKLIST: %s\n", err);
		return 2;
	}
	if (check) {
		printf("chatd: configuration and templates are valid\n");
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);	/* a client gone mid-write is an error code, not death */
	if (load_secrets(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatd: %s\n", err);
		return 1;
	}
	if (db_library_init() < 0 || notify_global_init() < 0 || totp_global_init() < 0 ||
	    captcha_global_init() < 0) {
		fprintf(stderr, "chatd: cannot initialise the MariaDB or curl library\n");
		return 1;
	}
	if (supervisor_listen(&cfg, &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatd: %s\n", err);
		return 1;
	}
	if (drop_root(cfg.user, &l, err, sizeof(err)) < 0 ||
	    (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 &&
	    snprintf(err, sizeof(err), "PR_SET_NO_NEW_PRIVS: %s", strerror(errno)) > 0)) {
		fprintf(stderr, "chatd: %s\n", err);
		supervisor_unlink(&l);
		return 1;
	}
	return supervisor_run(&cfg, &tmpls, &blocklist, &l);
}
