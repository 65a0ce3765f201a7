/*
 * tmpl: escaping template renderer (see tmpl.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "utf8.h"

#define TMPL_MAX_SIZE (256 * 1024)

/* Length of the placeholder name at s, or 0 when s is not "{{name}}". */
static size_t
placeholder(const char *s, const char *end, size_t *total)
{
	const char *p = s + 2;

	if (end - s < 5 || s[0] != '{' || s[1] != '{')
		return 0;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
		p++;
	if (p == s + 2 || end - p < 2 || p[0] != '}' || p[1] != '}')
		return 0;
	*total = (size_t)(p + 2 - s);
	return (size_t)(p - s - 2);
}

int
tmpl_add(struct tmpl_set *set, const char *name, const char *text, size_t len)
{
	const char *p, *end = text + len;
	struct tmpl *t;

	if (set->n == TMPL_MAX || strlen(name) >= sizeof(t->name) || !utf8_valid(text, len))
		return -1;
	/* Every "{{" must open a well-formed placeholder. */
	for (p = text; (p = memmem(p, (size_t)(end - p), "{{", 2)) != NULL;) {
		size_t total;

		if (placeholder(p, end, &total) == 0)
			return -1;
		p += total;
	}
	t = &set->t[set->n];
	t->text = malloc(len + 1);
	if (t->text == NULL)
		return -1;
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->len = len;
	snprintf(t->name, sizeof(t->name), "%s", name);
	set->n++;
	return 0;
}

/* Reads all of path into a new buffer (*text, *len); 0, or -1 with err. */
static int
read_whole(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "cannot open template %s: %s", path, strerror(errno));
		return -1;
	}
	if ((*text = malloc(TMPL_MAX_SIZE)) == NULL) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return -1;
	}
	*len = fread(*text, 1, TMPL_MAX_SIZE, f);
	if (ferror(f) || *len == TMPL_MAX_SIZE) {
		snprintf(err, errlen, "cannot read template %s (or over %d bytes)", path, TMPL_MAX_SIZE);
		free(*text);
		*text = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * Markup shared by several pages (the enrolment step, the recovery codes)
 * is written once, in DIR/partials/NAME.html, and taken in by a page with
 * "<!--#include NAME-->" (NAME: a-z, 0-9, '_') when the templates load.
 * A partial may include others, INCLUDE_DEPTH deep at most (so a loop is
 * an error, not a hang); what is checked and served is plain HTML, the same
 * as if it had been written out in the page.
 */
#define INCLUDE_OPEN "<!--#include "
#define INCLUDE_CLOSE "-->"
#define INCLUDE_DEPTH 4

static int
expand_includes(const char *dir, const char *page, const char *text, size_t len, struct buf *out,
    int depth, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *at;
	size_t open = strlen(INCLUDE_OPEN);

	while ((at = memmem(p, (size_t)(end - p), INCLUDE_OPEN, open)) != NULL) {
		const char *name = at + open, *q = name;
		char path[512], *part = NULL;
		size_t plen;

		while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
			q++;
		if (q == name || q - name > 64 || (size_t)(end - q) < strlen(INCLUDE_CLOSE) ||
		    memcmp(q, INCLUDE_CLOSE, strlen(INCLUDE_CLOSE)) != 0) {
			snprintf(err, errlen, "template %s: malformed include at byte %zu", page, (size_t)(at - text));
			return -1;
		}
		snprintf(path, sizeof(path), "%s/partials/%.*s.html", dir, (int)(q - name), name);
		if (depth == INCLUDE_DEPTH) {
			snprintf(err, errlen, "template %s: includes nested over %d deep (a loop?)", page, INCLUDE_DEPTH);
			return -1;
		}
		if (read_whole(path, &part, &plen, err, errlen) < 0)
			return -1;
		buf_append(out, p, (size_t)(at - p));
		if (expand_includes(dir, path, part, plen, out, depth + 1, err, errlen) < 0) {
			free(part);
			return -1;
		}
		free(part);
		p = q + strlen(INCLUDE_CLOSE);
	}
	buf_append(out, p, (size_t)(end - p));
	if (buf_failed(out) || out->len >= TMPL_MAX_SIZE) {
		snprintf(err, errlen, "template %s is over %d bytes with its includes", page, TMPL_MAX_SIZE);
		return -1;
	}
	return 0;
}

static int
load_file(struct tmpl_set *set, const char *dir, const char *file, char *err, size_t errlen)
{
	char path[512], name[64], *text = NULL;
	size_t len = 0, nlen = strlen(file) - strlen(".html");
	struct buf page = {0};
	int rc = -1;

	if (nlen >= sizeof(name)) {
		snprintf(err, errlen, "template name too long: %s", file);
		return -1;
	}
	memcpy(name, file, nlen);
	name[nlen] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_whole(path, &text, &len, err, errlen) < 0)
		return -1;
	if (expand_includes(dir, path, text, len, &page, 0, err, errlen) < 0)
		goto out;
	if (tmpl_add(set, name, page.p != NULL ? page.p : "", page.len) < 0) {
		snprintf(err, errlen, "template %s is malformed (bad placeholder or UTF-8) "
		    "or there are too many", path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	buf_free(&page);
	return rc;
}

int
tmpl_load_dir(struct tmpl_set *set, const char *dir, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot open template directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n > 5 && de->d_name[0] != '.' && strcmp(de->d_name + n - 5, ".html") == 0)
			rc = load_file(set, dir, de->d_name, err, errlen);
	}
	closedir(d);
	if (rc == 0 && set->n == 0) {
		snprintf(err, errlen, "no templates (*.html) in %s", dir);
		rc = -1;
	}
	return rc;
}

void
tmpl_free(struct tmpl_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->t[i].text);
	set->n = 0;
}

const struct tmpl *
tmpl_get(const struct tmpl_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->t[i].name, name) == 0)
			return &set->t[i];
	return NULL;
}

void
tmpl_escape(struct buf *out, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_append(out, run, (size_t)(s - run));
		buf_puts(out, rep);
		run = s + 1;
	}
	buf_append(out, run, (size_t)(s - run));
}

int
tmpl_render(const struct tmpl *t, const struct tmpl_var *vars, size_t nvars, struct buf *out)
{
	const char *p = t->text, *end = t->text + t->len, *open;

	while ((open = memmem(p, (size_t)(end - p), "{{", 2)) != NULL) {
		size_t total, nlen = placeholder(open, end, &total);
		size_t i;

		buf_append(out, p, (size_t)(open - p));
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == nlen && memcmp(vars[i].name, open + 2, nlen) == 0)
				break;
		if (nlen == 0 || i == nvars || vars[i].value == NULL)
			return -1;
		tmpl_escape(out, vars[i].value);
		p = open + total;
	}
	buf_append(out, p, (size_t)(end - p));
	return buf_failed(out) ? -1 : 0;
}
