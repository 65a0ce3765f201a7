/*
 * fields: fields_parse() turns bytes into one JSON object or a precise
 * error; fields_check() holds an object against a route's field table and
 * names the first offending field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fields.h"

/* Parses a literal that may hold NUL bytes. */
#define PARSE(lit, out) fields_parse((lit), sizeof(lit) - 1, (out))

static int
no_spaces(const char *s, size_t n)
{
	return memchr(s, ' ', n) == NULL;
}

static const struct field author_fields[] = {
	{"name", FIELD_STRING, FIELD_REQUIRED, 1, 16, NULL, NULL},
	{"age", FIELD_INT, 0, 0, 150, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct field spec[] = {
	{"text", FIELD_STRING, FIELD_REQUIRED, 1, 10, NULL, NULL},
	{"count", FIELD_INT, 0, -5, 100, NULL, NULL},
	{"flag", FIELD_BOOL, 0, 0, 0, NULL, NULL},
	{"tag", FIELD_STRING, 0, 0, 0, NULL, no_spaces},
	{"author", FIELD_OBJECT, 0, 0, 0, author_fields, NULL},
	{"extra", FIELD_OBJECT, FIELD_OPEN, 0, 0, author_fields, NULL},
	{"any", FIELD_OBJECT, 0, 0, 0, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/*
 * Parses s (which must parse) and checks it against spec. *bad may point
 * into the object, which dies here, so the name is copied to badbuf; bad is
 * set to badbuf, or to NULL when fields_check named nothing.
 */
static enum err
check_json(const char *s, const char **bad, char *badbuf, size_t badlen)
{
	json_t *j = NULL;
	enum err e = fields_parse(s, strlen(s), &j);

	assert_int_equal(e, ERR_OK);
	assert_non_null(j);
	e = fields_check(j, spec, bad);
	if (*bad != NULL) {
		snprintf(badbuf, badlen, "%s", *bad);
		*bad = badbuf;
	}
	json_decref(j);
	return e;
}

/* Asserts that s is refused with error e naming field `name` (or NULL). */
#define assert_refused(s, e, name) do {						\
	const char *bad_ = "unset", *want_ = (name);				\
	char badbuf_[64];							\
	assert_int_equal(check_json((s), &bad_, badbuf_, sizeof(badbuf_)), (e)); \
	if (want_ == NULL)							\
		assert_null(bad_);						\
	else {									\
		assert_non_null(bad_);						\
		assert_string_equal(bad_, want_);				\
	}									\
} while (0)

static void
test_fields_parse_object(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(PARSE("{\"a\": \"x\", \"b\": 1}", &j), ERR_OK);
	assert_true(json_is_object(j));
	assert_string_equal(json_string_value(json_object_get(j, "a")), "x");
	json_decref(j);
	assert_int_equal(PARSE(" {} ", &j), ERR_OK);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

static void
test_fields_parse_array_is_not_object(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("[1, 2]", &j), ERR_NOT_OBJECT);
	assert_null(j);
}

static void
test_fields_parse_scalar_refused(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_not_equal(PARSE("\"x\"", &j), ERR_OK);
	assert_null(j);
	assert_int_not_equal(PARSE("1", &j), ERR_OK);
	assert_null(j);
}

static void
test_fields_parse_garbage_is_bad_json(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("not json", &j), ERR_BAD_JSON);
	assert_null(j);
	assert_int_equal(PARSE("{\"a\": }", &j), ERR_BAD_JSON);
	assert_int_equal(PARSE("{\"a\": 1", &j), ERR_BAD_JSON);
	assert_int_equal(PARSE("{\"a\": 1} x", &j), ERR_BAD_JSON);	/* trailing data */
	assert_int_equal(PARSE("{} {}", &j), ERR_BAD_JSON);
	assert_int_equal(PARSE("", &j), ERR_BAD_JSON);
	assert_int_equal(PARSE("{'a': 1}", &j), ERR_BAD_JSON);
	assert_int_equal(PARSE("{\"a\": \"\\ud800\"}", &j), ERR_BAD_JSON);	/* lone surrogate */
	assert_null(j);
}

static void
test_fields_parse_invalid_utf8_bytes(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("{\"a\": \"\xff\"}", &j), ERR_INVALID_UTF8);
	assert_null(j);
	assert_int_equal(PARSE("{\"a\": \"\xc0\x80\"}", &j), ERR_INVALID_UTF8);
	assert_int_equal(PARSE("{\"a\": \"\xed\xa0\x80\"}", &j), ERR_INVALID_UTF8);
	assert_int_equal(PARSE("{\"\xc3\": 1}", &j), ERR_INVALID_UTF8);
}

static void
test_fields_parse_valid_utf8_text(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(PARSE("{\"a\": \"gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80\"}", &j), ERR_OK);
	json_decref(j);
}

static void
test_fields_parse_duplicate_keys_are_bad_json(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("{\"a\": 1, \"a\": 2}", &j), ERR_BAD_JSON);
	assert_null(j);
	/* The same key spelled with an escape is still a duplicate. */
	assert_int_equal(PARSE("{\"a\": 1, \"\\u0061\": 2}", &j), ERR_BAD_JSON);
}

static void
test_fields_parse_raw_nul_is_bad_json(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("{\"a\": \"x\0y\"}", &j), ERR_BAD_JSON);
	assert_null(j);
	assert_int_equal(PARSE("{}\0", &j), ERR_BAD_JSON);
}

/*
 * "\u0000" is valid JSON text, but jansson (without JSON_ALLOW_NUL, which
 * fields_parse does not pass) refuses it while decoding: NUL never reaches
 * a handler either way.
 */
static void
test_fields_parse_escaped_nul_refused(void **state)
{
	json_t *j = (json_t *)state;

	assert_int_equal(PARSE("{\"text\": \"a\\u0000b\"}", &j), ERR_BAD_JSON);
	assert_null(j);
}

/* Should a parser ever let an escaped NUL through, fields_check refuses it. */
static void
test_fields_check_string_with_nul_is_bad_value(void **state)
{
	json_t *j = json_pack("{s:s%}", "text", "a\0b", (size_t)3);
	const char *bad = NULL;

	(void)state;
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "text")), 3);
	assert_int_equal(fields_check(j, spec, &bad), ERR_BAD_VALUE);
	assert_string_equal(bad, "text");
	json_decref(j);
}

static void
test_fields_check_accepts_valid_body(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"hi\", \"count\": 3, \"flag\": true, \"tag\": \"x\","
	    " \"author\": {\"name\": \"al\", \"age\": 30}, \"any\": {\"q\": [1]}}", ERR_OK, NULL);
	assert_refused("{\"text\": \"hi\"}", ERR_OK, NULL);
}

static void
test_fields_check_missing_required(void **state)
{
	(void)state;
	assert_refused("{}", ERR_MISSING_FIELD, "text");
	assert_refused("{\"count\": 1}", ERR_MISSING_FIELD, "text");
}

static void
test_fields_check_null_is_not_absent(void **state)
{
	(void)state;
	assert_refused("{\"text\": null}", ERR_WRONG_TYPE, "text");
}

static void
test_fields_check_unknown_field(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"hi\", \"admin\": true}", ERR_UNKNOWN_FIELD, "admin");
	/* Names are exact: case and prefixes do not match. */
	assert_refused("{\"Text\": \"hi\"}", ERR_UNKNOWN_FIELD, "Text");
	assert_refused("{\"tex\": \"hi\"}", ERR_UNKNOWN_FIELD, "tex");
}

static void
test_fields_check_wrong_type_string(void **state)
{
	(void)state;
	assert_refused("{\"text\": 1}", ERR_WRONG_TYPE, "text");
	assert_refused("{\"text\": [\"a\"]}", ERR_WRONG_TYPE, "text");
}

static void
test_fields_check_wrong_type_int(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"count\": \"1\"}", ERR_WRONG_TYPE, "count");
	assert_refused("{\"text\": \"a\", \"count\": 1.0}", ERR_WRONG_TYPE, "count");
	assert_refused("{\"text\": \"a\", \"count\": true}", ERR_WRONG_TYPE, "count");
}

static void
test_fields_check_wrong_type_bool(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"flag\": 1}", ERR_WRONG_TYPE, "flag");
	assert_refused("{\"text\": \"a\", \"flag\": \"true\"}", ERR_WRONG_TYPE, "flag");
	assert_refused("{\"text\": \"a\", \"flag\": false}", ERR_OK, NULL);
}

static void
test_fields_check_wrong_type_object(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"author\": [\"al\"]}", ERR_WRONG_TYPE, "author");
	assert_refused("{\"text\": \"a\", \"any\": \"x\"}", ERR_WRONG_TYPE, "any");
}

static void
test_fields_check_string_length_bounds(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"\"}", ERR_BAD_VALUE, "text");
	assert_refused("{\"text\": \"a\"}", ERR_OK, NULL);
	assert_refused("{\"text\": \"0123456789\"}", ERR_OK, NULL);
	assert_refused("{\"text\": \"0123456789a\"}", ERR_BAD_VALUE, "text");
	/* Length is in bytes: five 2-byte characters fill 10. */
	assert_refused("{\"text\": \"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\"}", ERR_OK, NULL);
	assert_refused("{\"text\": \"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc" "a\"}",
	    ERR_BAD_VALUE, "text");
}

static void
test_fields_check_string_max_zero_is_unbounded(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"tag\": \"0123456789012345678901234567890123456789\"}",
	    ERR_OK, NULL);
}

static void
test_fields_check_int_bounds(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"count\": -5}", ERR_OK, NULL);
	assert_refused("{\"text\": \"a\", \"count\": 100}", ERR_OK, NULL);
	assert_refused("{\"text\": \"a\", \"count\": -6}", ERR_BAD_VALUE, "count");
	assert_refused("{\"text\": \"a\", \"count\": 101}", ERR_BAD_VALUE, "count");
	assert_refused("{\"text\": \"a\", \"count\": 9223372036854775807}", ERR_BAD_VALUE, "count");
}

static void
test_fields_check_custom_check(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"tag\": \"ok\"}", ERR_OK, NULL);
	assert_refused("{\"text\": \"a\", \"tag\": \"not ok\"}", ERR_BAD_VALUE, "tag");
}

static void
test_fields_check_nested_object(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"author\": {\"name\": \"al\"}}", ERR_OK, NULL);
	assert_refused("{\"text\": \"a\", \"author\": {}}", ERR_MISSING_FIELD, "name");
	assert_refused("{\"text\": \"a\", \"author\": {\"name\": \"al\", \"x\": 1}}",
	    ERR_UNKNOWN_FIELD, "x");
	assert_refused("{\"text\": \"a\", \"author\": {\"name\": 5}}", ERR_WRONG_TYPE, "name");
	assert_refused("{\"text\": \"a\", \"author\": {\"name\": \"al\", \"age\": 151}}",
	    ERR_BAD_VALUE, "age");
}

static void
test_fields_check_open_object_ignores_unknown(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"extra\": {\"name\": \"al\", \"x\": 1, \"y\": [2]}}",
	    ERR_OK, NULL);
}

static void
test_fields_check_open_object_still_checks_known(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"extra\": {\"x\": 1}}", ERR_MISSING_FIELD, "name");
	assert_refused("{\"text\": \"a\", \"extra\": {\"name\": 1}}", ERR_WRONG_TYPE, "name");
	assert_refused("{\"text\": \"a\", \"extra\": {\"name\": \"\"}}", ERR_BAD_VALUE, "name");
	assert_refused("{\"text\": \"a\", \"extra\": {\"name\": \"al\", \"age\": -1}}",
	    ERR_BAD_VALUE, "age");
	assert_refused("{\"text\": \"a\", \"extra\": 3}", ERR_WRONG_TYPE, "extra");
}

static void
test_fields_check_object_without_sub_takes_anything(void **state)
{
	(void)state;
	assert_refused("{\"text\": \"a\", \"any\": {\"deep\": {\"x\": [1, 2]}}}", ERR_OK, NULL);
}

static void
test_fields_check_non_object_refused(void **state)
{
	json_t *j = json_array();
	const char *bad = "unset";

	(void)state;
	assert_int_equal(fields_check(j, spec, &bad), ERR_NOT_OBJECT);
	assert_null(bad);
	json_decref(j);
}

static void
test_fields_accessors(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(PARSE("{\"text\": \"hi\", \"count\": 7}", &j), ERR_OK);
	assert_string_equal(fields_str(j, "text"), "hi");
	assert_null(fields_str(j, "tag"));
	assert_int_equal(fields_int(j, "count", -1), 7);
	assert_int_equal(fields_int(j, "missing", -1), -1);
	assert_int_equal(fields_int(j, "text", -1), -1);
	json_decref(j);
}

static const struct field code_spec[] = {
	{"code", FIELD_STRING, FIELD_REQUIRED | FIELD_CODE, 6, 6, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* Checks {"code": <json literal>} against code_spec; the code as checked into out. */
static enum err
check_code(const char *json_value, char out[300])
{
	char body[400];
	const char *bad = NULL;
	json_t *j = NULL;
	enum err e;

	snprintf(body, sizeof(body), "{\"code\": %s}", json_value);
	assert_int_equal(fields_parse(body, strlen(body), &j), ERR_OK);
	e = fields_check(j, code_spec, &bad);
	snprintf(out, 300, "%s", fields_str(j, "code"));
	json_decref(j);
	return e;
}

static void
test_fields_code_squeeze_drops_separators_only(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(fields_code_squeeze("123 456", 7, out), 6);
	assert_string_equal(out, "123456");
	assert_int_equal(fields_code_squeeze(" 12-34\t56 ", 10, out), 6);
	assert_string_equal(out, "123456");
	/* No-break, thin and narrow no-break spaces; Unicode hyphens and en dash. */
	fields_code_squeeze("123\xc2\xa0" "456", 8, out);
	assert_string_equal(out, "123456");
	fields_code_squeeze("1\xe2\x80\x89" "2\xe2\x80\xaf" "3\xe2\x80\x90" "4\xe2\x80\x91" "5\xe2\x80\x93" "6", 21, out);
	assert_string_equal(out, "123456");
	/* Case, letters, other punctuation and other Unicode stay as they are. */
	fields_code_squeeze("AbCd-efgh.1_2", 13, out);
	assert_string_equal(out, "AbCdefgh.1_2");
	fields_code_squeeze("12\xe2\x80\x94" "34", 7, out);	/* an em dash is not a separator */
	assert_string_equal(out, "12\xe2\x80\x94" "34");
	/* A cut sequence is kept, not read past. */
	fields_code_squeeze("12\xe2\x80", 4, out);
	assert_string_equal(out, "12\xe2\x80");
	assert_int_equal(fields_code_squeeze("", 0, out), 0);
	assert_string_equal(out, "");
}

static void
test_fields_check_code_field_takes_codes_as_typed(void **state)
{
	char out[300];

	(void)state;
	assert_int_equal(check_code("\"123456\"", out), ERR_OK);
	assert_string_equal(out, "123456");
	assert_int_equal(check_code("\"123 456\"", out), ERR_OK);
	assert_string_equal(out, "123456");
	assert_int_equal(check_code("\"123-456\"", out), ERR_OK);
	assert_string_equal(out, "123456");
	assert_int_equal(check_code("\" 1 2 3 4 5 6 \"", out), ERR_OK);
	assert_string_equal(out, "123456");
	assert_int_equal(check_code("\"123\\u00a0456\"", out), ERR_OK);
	assert_string_equal(out, "123456");
}

static void
test_fields_check_code_bounds_apply_after_squeezing(void **state)
{
	char out[300], many[300];

	(void)state;
	assert_int_equal(check_code("\"12 345\"", out), ERR_BAD_VALUE);
	assert_int_equal(check_code("\"1234 567\"", out), ERR_BAD_VALUE);
	assert_int_equal(check_code("\"  -  \"", out), ERR_BAD_VALUE);
	assert_int_equal(check_code("123456", out), ERR_WRONG_TYPE);
	/* Separators do not buy unbounded input: over FIELDS_CODE_RAW_MAX as typed is refused. */
	memset(many, ' ', sizeof(many));
	memcpy(many, "\"123456", 7);
	many[FIELDS_CODE_RAW_MAX + 2] = '"';
	many[FIELDS_CODE_RAW_MAX + 3] = '\0';
	assert_int_equal(check_code(many, out), ERR_BAD_VALUE);
	many[FIELDS_CODE_RAW_MAX] = '"';
	many[FIELDS_CODE_RAW_MAX + 1] = '\0';
	assert_int_equal(check_code(many, out), ERR_OK);
	assert_string_equal(out, "123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_parse_object),
		cmocka_unit_test(test_fields_parse_array_is_not_object),
		cmocka_unit_test(test_fields_parse_scalar_refused),
		cmocka_unit_test(test_fields_parse_garbage_is_bad_json),
		cmocka_unit_test(test_fields_parse_invalid_utf8_bytes),
		cmocka_unit_test(test_fields_parse_valid_utf8_text),
		cmocka_unit_test(test_fields_parse_duplicate_keys_are_bad_json),
		cmocka_unit_test(test_fields_parse_raw_nul_is_bad_json),
		cmocka_unit_test(test_fields_parse_escaped_nul_refused),
		cmocka_unit_test(test_fields_check_string_with_nul_is_bad_value),
		cmocka_unit_test(test_fields_check_accepts_valid_body),
		cmocka_unit_test(test_fields_check_missing_required),
		cmocka_unit_test(test_fields_check_null_is_not_absent),
		cmocka_unit_test(test_fields_check_unknown_field),
		cmocka_unit_test(test_fields_check_wrong_type_string),
		cmocka_unit_test(test_fields_check_wrong_type_int),
		cmocka_unit_test(test_fields_check_wrong_type_bool),
		cmocka_unit_test(test_fields_check_wrong_type_object),
		cmocka_unit_test(test_fields_check_string_length_bounds),
		cmocka_unit_test(test_fields_check_string_max_zero_is_unbounded),
		cmocka_unit_test(test_fields_check_int_bounds),
		cmocka_unit_test(test_fields_check_custom_check),
		cmocka_unit_test(test_fields_check_nested_object),
		cmocka_unit_test(test_fields_check_open_object_ignores_unknown),
		cmocka_unit_test(test_fields_check_open_object_still_checks_known),
		cmocka_unit_test(test_fields_check_object_without_sub_takes_anything),
		cmocka_unit_test(test_fields_check_non_object_refused),
		cmocka_unit_test(test_fields_accessors),
		cmocka_unit_test(test_fields_code_squeeze_drops_separators_only),
		cmocka_unit_test(test_fields_check_code_field_takes_codes_as_typed),
		cmocka_unit_test(test_fields_check_code_bounds_apply_after_squeezing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
