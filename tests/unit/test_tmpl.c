/*
 * tmpl: templates are checked when added (every "{{" opens a well-formed
 * placeholder, the text is UTF-8), and rendering escapes every value and
 * fails rather than leave a placeholder without a value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpl.h"

static int
setup(void **state)
{
	struct tmpl_set *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return -1;
	*state = set;
	return 0;
}

static int
teardown(void **state)
{
	tmpl_free(*state);
	free(*state);
	return 0;
}

static int
add(void **state, const char *name, const char *text)
{
	return tmpl_add(*state, name, text, strlen(text));
}

/* Renders template `name` into a fresh buffer; the result is the return code. */
static int
render(void **state, const char *name, const struct tmpl_var *vars, size_t n, struct buf *out)
{
	const struct tmpl *t = tmpl_get(*state, name);

	assert_non_null(t);
	memset(out, 0, sizeof(*out));
	return tmpl_render(t, vars, n, out);
}

static void
test_tmpl_escape_specials(void **state)
{
	struct buf b = {0};

	(void)state;
	tmpl_escape(&b, "<script>&\"'");
	assert_string_equal(b.p, "&lt;script&gt;&amp;&quot;&#39;");
	buf_free(&b);
}

static void
test_tmpl_escape_plain_and_utf8_unchanged(void **state)
{
	struct buf b = {0};

	(void)state;
	tmpl_escape(&b, "plain text, gr\xc3\xbc\xc3\x9f" "e / = ;");
	assert_string_equal(b.p, "plain text, gr\xc3\xbc\xc3\x9f" "e / = ;");
	buf_free(&b);
}

static void
test_tmpl_escape_runs_between_specials(void **state)
{
	struct buf b = {0};

	(void)state;
	tmpl_escape(&b, "a<b>c&&d");
	assert_string_equal(b.p, "a&lt;b&gt;c&amp;&amp;d");
	assert_int_equal(b.len, strlen("a&lt;b&gt;c&amp;&amp;d"));
	buf_free(&b);
}

static void
test_tmpl_escape_appends(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_puts(&b, "<p>");
	tmpl_escape(&b, "");
	tmpl_escape(&b, "'");
	assert_string_equal(b.p, "<p>&#39;");
	buf_free(&b);
}

static void
test_tmpl_add_accepts_good_template(void **state)
{
	struct tmpl_set *set = *state;

	assert_int_equal(add(state, "page", "<h1>{{title}}</h1><p>{{body_2}}</p>"), 0);
	assert_int_equal(set->n, 1);
	assert_non_null(tmpl_get(set, "page"));
	assert_null(tmpl_get(set, "pag"));
	assert_null(tmpl_get(set, "other"));
}

static void
test_tmpl_add_refuses_lone_braces(void **state)
{
	assert_int_equal(add(state, "t", "a {{ b"), -1);
	assert_int_equal(add(state, "t", "{{"), -1);
	assert_int_equal(add(state, "t", "x{{"), -1);
	assert_int_equal(add(state, "t", "{{a}"), -1);
	assert_int_equal(add(state, "t", "{{a"), -1);
	assert_int_equal(add(state, "t", "{{}}"), -1);
	assert_int_equal(add(state, "t", "{{{a}}}"), -1);
	assert_int_equal(((struct tmpl_set *)*state)->n, 0);
}

static void
test_tmpl_add_refuses_bad_names(void **state)
{
	assert_int_equal(add(state, "t", "{{Bad}}"), -1);
	assert_int_equal(add(state, "t", "{{a b}}"), -1);
	assert_int_equal(add(state, "t", "{{a-b}}"), -1);
	assert_int_equal(add(state, "t", "{{ a }}"), -1);
	assert_int_equal(add(state, "t", "ok {{a}} then {{B}}"), -1);
	assert_int_equal(((struct tmpl_set *)*state)->n, 0);
}

static void
test_tmpl_add_refuses_invalid_utf8(void **state)
{
	assert_int_equal(add(state, "t", "caf\xe9"), -1);
	assert_int_equal(add(state, "t", "\xed\xa0\x80"), -1);
	assert_int_equal(tmpl_add(*state, "t", "a\0b", 3), -1);
	assert_int_equal(((struct tmpl_set *)*state)->n, 0);
}

static void
test_tmpl_add_allows_single_braces(void **state)
{
	assert_int_equal(add(state, "css", "p { color: red } }} {"), 0);
}

static void
test_tmpl_add_refuses_long_name_and_full_set(void **state)
{
	char name[80];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(add(state, name, "x"), -1);
	for (int i = 0; i < TMPL_MAX; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		assert_int_equal(add(state, name, "x"), 0);
	}
	assert_int_equal(add(state, "one_more", "x"), -1);
	assert_int_equal(((struct tmpl_set *)*state)->n, TMPL_MAX);
}

static void
test_tmpl_render_fills_and_escapes(void **state)
{
	const struct tmpl_var vars[] = {
		{"title", "Tom & Jerry"},
		{"body", "<img src=x onerror='alert(1)'>"},
	};
	struct buf out;

	assert_int_equal(add(state, "page", "<h1>{{title}}</h1><p title=\"{{title}}\">{{body}}</p>"), 0);
	assert_int_equal(render(state, "page", vars, 2, &out), 0);
	assert_string_equal(out.p, "<h1>Tom &amp; Jerry</h1><p title=\"Tom &amp; Jerry\">"
	    "&lt;img src=x onerror=&#39;alert(1)&#39;&gt;</p>");
	buf_free(&out);
}

static void
test_tmpl_render_placeholders_at_edges(void **state)
{
	const struct tmpl_var vars[] = {{"a", "1"}, {"b", "2"}};
	struct buf out;

	assert_int_equal(add(state, "t", "{{a}}{{b}}"), 0);
	assert_int_equal(render(state, "t", vars, 2, &out), 0);
	assert_string_equal(out.p, "12");
	buf_free(&out);
}

static void
test_tmpl_render_name_is_exact(void **state)
{
	const struct tmpl_var vars[] = {{"ab", "long"}, {"a", "short"}};
	struct buf out;

	assert_int_equal(add(state, "t", "{{a}}/{{ab}}"), 0);
	assert_int_equal(render(state, "t", vars, 2, &out), 0);
	assert_string_equal(out.p, "short/long");
	buf_free(&out);
}

static void
test_tmpl_render_missing_value_fails(void **state)
{
	const struct tmpl_var vars[] = {{"title", "x"}, {"body", NULL}};
	struct buf out;

	assert_int_equal(add(state, "page", "{{title}} {{body}}"), 0);
	assert_int_equal(render(state, "page", vars, 1, &out), -1);
	buf_free(&out);
	assert_int_equal(render(state, "page", vars, 2, &out), -1);
	buf_free(&out);
	assert_int_equal(render(state, "page", NULL, 0, &out), -1);
	buf_free(&out);
}

static void
test_tmpl_render_text_without_placeholders_intact(void **state)
{
	const char *text = "<!doctype html>\n<p class=\"x\">a & b < c { d } \xe2\x82\xac</p>\n";
	struct buf out;

	assert_int_equal(add(state, "static", text), 0);
	assert_int_equal(render(state, "static", NULL, 0, &out), 0);
	assert_string_equal(out.p, text);
	assert_int_equal(out.len, strlen(text));
	buf_free(&out);
}

static void
test_tmpl_render_unused_vars_ignored(void **state)
{
	const struct tmpl_var vars[] = {{"unused", "<"}, {"a", "ok"}};
	struct buf out;

	assert_int_equal(add(state, "t", "[{{a}}]"), 0);
	assert_int_equal(render(state, "t", vars, 2, &out), 0);
	assert_string_equal(out.p, "[ok]");
	buf_free(&out);
}

static void
test_tmpl_render_value_braces_not_expanded(void **state)
{
	const struct tmpl_var vars[] = {{"a", "{{b}}"}, {"b", "no"}};
	struct buf out;

	assert_int_equal(add(state, "t", "{{a}}"), 0);
	assert_int_equal(render(state, "t", vars, 2, &out), 0);
	assert_string_equal(out.p, "{{b}}");
	buf_free(&out);
}

static void
test_tmpl_load_dir(void **state)
{
	char dir[] = "/tmp/chatd-tmpl-XXXXXX", path[64], err[256];
	struct tmpl_set *set = *state;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/home.html", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("<title>{{title}}</title>", f);
	fclose(f);
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), 0);
	assert_int_equal(set->n, 1);
	assert_non_null(tmpl_get(set, "home"));
	tmpl_free(set);

	assert_non_null(f = fopen(path, "w"));
	fputs("<title>{{Title}}</title>", f);
	fclose(f);
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "home.html"));
	tmpl_free(set);

	unlink(path);
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no templates"));
	rmdir(dir);
}

/* Writes text to dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_tmpl_includes_partials_when_loading(void **state)
{
	char dir[] = "/tmp/chatd-tmpl-XXXXXX", sub[64], err[256];
	struct tmpl_set *set = *state;
	struct tmpl_var v = {"who", "<b>"};
	struct buf out = {0};

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/partials", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(dir, "page.html", "<p>a</p><!--#include outer--><p>z</p>");
	put(sub, "outer.html", "[<!--#include inner-->]");
	put(sub, "inner.html", "hi {{who}}");
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), 0);
	assert_int_equal(set->n, 1);	/* partials are not pages */
	assert_int_equal(tmpl_render(tmpl_get(set, "page"), &v, 1, &out), 0);
	assert_string_equal(out.p, "<p>a</p>[hi &lt;b&gt;]<p>z</p>");
	buf_free(&out);
	tmpl_free(set);

	/* A missing partial, a malformed include and a loop each stop the load, named. */
	put(sub, "inner.html", "<!--#include nope-->");
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "partials/nope.html"));
	tmpl_free(set);
	put(sub, "inner.html", "<!--#include Bad Name-->");
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed include"));
	tmpl_free(set);
	put(sub, "inner.html", "<!--#include outer-->");
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested"));
	tmpl_free(set);
	/* What a partial brings in is checked like the page: a bad placeholder fails. */
	put(sub, "inner.html", "{{Who}}");
	assert_int_equal(tmpl_load_dir(set, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "page.html"));
	tmpl_free(set);

	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tmpl_escape_specials),
		T(test_tmpl_escape_plain_and_utf8_unchanged),
		T(test_tmpl_escape_runs_between_specials),
		T(test_tmpl_escape_appends),
		T(test_tmpl_add_accepts_good_template),
		T(test_tmpl_add_refuses_lone_braces),
		T(test_tmpl_add_refuses_bad_names),
		T(test_tmpl_add_refuses_invalid_utf8),
		T(test_tmpl_add_allows_single_braces),
		T(test_tmpl_add_refuses_long_name_and_full_set),
		T(test_tmpl_render_fills_and_escapes),
		T(test_tmpl_render_placeholders_at_edges),
		T(test_tmpl_render_name_is_exact),
		T(test_tmpl_render_missing_value_fails),
		T(test_tmpl_render_text_without_placeholders_intact),
		T(test_tmpl_render_unused_vars_ignored),
		T(test_tmpl_render_value_braces_not_expanded),
		T(test_tmpl_load_dir),
		T(test_tmpl_includes_partials_when_loading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
