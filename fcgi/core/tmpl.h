/*
 * tmpl: server-rendered HTML templates that escape by default.
 *
 * A template is plain HTML with placeholders `{{name}}` (lower-case letters,
 * digits and '_'). Every value is HTML-escaped on the way in; there is no
 * way to insert raw HTML. Templates are read and checked once at start-up
 * and are read-only afterwards; rendering a template with a placeholder that
 * has no value fails instead of printing an empty hole.
 */
#ifndef CHATD_TMPL_H
#define CHATD_TMPL_H

#include <stddef.h>

#include "buf.h"

#define TMPL_MAX 32

struct tmpl {
	char name[64];		/* file name without ".html" */
	char *text;
	size_t len;
};

struct tmpl_set {
	struct tmpl t[TMPL_MAX];
	size_t n;
};

struct tmpl_var {
	const char *name;
	const char *value;	/* UTF-8 text; escaped when rendered */
};

/* Loads every *.html in dir; 0, or -1 with a reason in err. */
int tmpl_load_dir(struct tmpl_set *, const char *dir, char *err, size_t errlen);
/* Adds one template from memory (tests); 0, or -1 when malformed. */
int tmpl_add(struct tmpl_set *, const char *name, const char *text, size_t len);
void tmpl_free(struct tmpl_set *);

const struct tmpl *tmpl_get(const struct tmpl_set *, const char *name);

/* Renders t with vars into out; -1 when a placeholder has no value. */
int tmpl_render(const struct tmpl *t, const struct tmpl_var *vars, size_t nvars, struct buf *out);

/* Appends s HTML-escaped (& < > " ' and NUL-free). */
void tmpl_escape(struct buf *out, const char *s);

#endif
