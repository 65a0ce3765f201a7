/*
 * pages: the server-rendered HTML pages. Each renders one template from
 * templates/ with escaped values; the page's behaviour is in static/js.
 */
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

enum err
pages_home(struct req *r)
{
	const struct tmpl_var vars[] = {
		{"app_name", APP_NAME},
		{"title", "Sealed — end-to-end encrypted chat"},
	};

	return pages_render(r, "home", vars, sizeof(vars) / sizeof(vars[0]));
}
