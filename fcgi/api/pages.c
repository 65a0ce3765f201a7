/*
 * pages: the server-rendered HTML pages. Each renders one template from
 * templates/ with escaped values; the page's behaviour is in static/js.
 */
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "tmpl.h"

#define APP_NAME "Sealed"

/* Renders template `name`; ERR_INTERNAL (logged) when it is missing or a value is. */
static enum err
pages_render(struct req *r, const char *name, const struct tmpl_var *vars, size_t n)
{
	const struct tmpl *t = tmpl_get(r->tmpls, name);
	struct buf out = {0};
	enum err e = ERR_OK;

	if (t == NULL || tmpl_render(t, vars, n, &out) < 0) {
		log_msg(LOG_ERROR, "rid=%s cannot render template %s", r->id, name);
		e = ERR_INTERNAL;
	} else
		req_html(r, 200, out.p, out.len);
	buf_free(&out);
	return e;
}

static enum err
pages_simple(struct req *r, const char *name, const char *title)
{
	const struct tmpl_var vars[] = {
		{"app_name", APP_NAME},
		{"title", title},
	};

	return pages_render(r, name, vars, sizeof(vars) / sizeof(vars[0]));
}

/* The login page knows whether to show the CAPTCHA at once (CHATD_LOGIN_CAPTCHA). */
enum err
pages_home(struct req *r)
{
	const struct tmpl_var vars[] = {
		{"app_name", APP_NAME},
		{"title", APP_NAME " — end-to-end encrypted chat"},
		{"login_captcha", r->cfg->login_captcha == CONFIG_CAPTCHA_ALWAYS ? "always" : "after-failures"},
	};

	return pages_render(r, "login", vars, sizeof(vars) / sizeof(vars[0]));
}

enum err
pages_register(struct req *r)
{
	return pages_simple(r, "register", "Create an account — " APP_NAME);
}

enum err
pages_account(struct req *r)
{
	return pages_simple(r, "account", "Your account — " APP_NAME);
}

enum err
pages_chat(struct req *r)
{
	return pages_simple(r, "chat", "Chat — " APP_NAME);
}
