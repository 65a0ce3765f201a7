/*
 * password: NFKC normalization makes equivalent spellings one password;
 * length counts code points; controls are refused, spaces are not; a
 * password may not hold the user name or be a run; the blocklist matches
 * without case; and bcrypt over the HMAC pre-hash counts every byte, takes
 * the pepper into account and reports its cost. Hashes use cost 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <crypt.h>
#include <cmocka.h>

#include "password.h"

#define COST 4
#define JOHN "/usr/share/john/password.lst"

static const unsigned char pepper[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
};
static const unsigned char other_pepper[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
};

/* Normalizes a C string into out[512]; returns the code points, or -1. */
static long
norm(const char *s, char out[512])
{
	size_t cps = 0;

	if (password_normalize(s, strlen(s), out, 512, &cps) < 0)
		return -1;
	return (long)cps;
}

/* The verdict of a C string for username, normalized first. */
static enum password_verdict
verdict(const char *s, const char *username)
{
	char out[512];
	long cps = norm(s, out);

	if (cps < 0)
		return PASSWORD_INVALID;
	return password_rules(out, (size_t)cps, username);
}

/* Writes text to a new temporary file; its path goes to path[64]. */
static void
write_temp(char path[64], const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/test_password.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void
test_password_normalize_ligature_fi(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(norm("\xef\xac\x81nancial-secret-9", out), 18);
	assert_string_equal(out, "financial-secret-9");
}

static void
test_password_normalize_fullwidth_digits(void **state)
{
	char out[512];

	(void)state;
	/* U+FF11 U+FF12 U+FF13 */
	assert_int_equal(norm("pin \xef\xbc\x91\xef\xbc\x92\xef\xbc\x93", out), 7);
	assert_string_equal(out, "pin 123");
}

static void
test_password_normalize_composed_and_decomposed_e_acute(void **state)
{
	char a[512], b[512];

	(void)state;
	assert_int_equal(norm("caf\xc3\xa9 au lait", a), 12);		/* U+00E9 */
	assert_int_equal(norm("cafe\xcc\x81 au lait", b), 12);	/* e + U+0301 */
	assert_string_equal(a, b);
}

static void
test_password_normalize_spaces_become_ascii(void **state)
{
	char out[512];

	(void)state;
	/* U+00A0 and U+3000 are compatibility spaces. */
	assert_int_equal(norm("a\xc2\xa0" "b\xe3\x80\x80" "c", out), 5);
	assert_string_equal(out, "a b c");
}

static void
test_password_normalize_invalid_utf8_refused(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(norm("abc\xc3\x28 defgh", out), -1);	/* bad continuation */
	assert_int_equal(norm("\xc0\xafsecretsecret", out), -1);	/* overlong '/' */
	assert_int_equal(norm("secret\x80secret", out), -1);	/* lone continuation */
	assert_int_equal(norm("\xed\xa0\x80secretsecret", out), -1);	/* surrogate */
	assert_string_equal(out, "");
}

static void
test_password_normalize_nul_refused(void **state)
{
	char out[512];
	size_t cps = 99;

	(void)state;
	assert_int_equal(password_normalize("abcd\0efghij", 11, out, sizeof(out), &cps), -1);
	assert_int_equal(cps, 0);
}

static void
test_password_normalize_only_reads_n_bytes(void **state)
{
	char out[512];
	size_t cps = 0;

	(void)state;
	assert_int_equal(password_normalize("abcdefghij", 4, out, sizeof(out), &cps), 0);
	assert_string_equal(out, "abcd");
	assert_int_equal(cps, 4);
}

static void
test_password_normalize_too_long_for_out_refused(void **state)
{
	char out[8];
	size_t cps = 0;

	(void)state;
	assert_int_equal(password_normalize("1234567", 7, out, sizeof(out), &cps), 0);
	assert_string_equal(out, "1234567");
	/* 8 bytes and the NUL do not fit in 8. */
	assert_int_equal(password_normalize("12345678", 8, out, sizeof(out), &cps), -1);
	assert_string_equal(out, "");
	/* Four ligatures: 12 bytes in, 8 out, and then the NUL does not fit. */
	assert_int_equal(password_normalize("\xef\xac\x81\xef\xac\x81\xef\xac\x81\xef\xac\x81", 12,
	    out, sizeof(out), &cps), -1);
}

static void
test_password_nfkc_forms_verify_alike(void **state)
{
	char a[512], b[512], hash[PASSWORD_HASH_MAX];
	int cost = 0;

	(void)state;
	assert_true(norm("\xef\xac\x81nancial-secret-9", a) > 0);
	assert_true(norm("financial-secret-9", b) > 0);
	assert_int_equal(password_hash(pepper, a, COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(pepper, b, hash, &cost), 1);

	assert_true(norm("cafe\xcc\x81-olé-2024", a) > 0);
	assert_true(norm("caf\xc3\xa9-ol\x65\xcc\x81-\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x94",
	    b) > 0);
	assert_int_equal(password_hash(pepper, a, COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(pepper, b, hash, &cost), 1);
}

static void
test_password_length_counts_code_points(void **state)
{
	/* Eight different emoji, 4 bytes each: 8 code points, 32 bytes. */
	const char *eight = "\xf0\x9f\x98\x80\xf0\x9f\x90\xb1\xf0\x9f\x9a\x80\xf0\x9f\x8c\x8d"
	    "\xf0\x9f\x8e\x89\xf0\x9f\x8d\x95\xf0\x9f\x94\x91\xf0\x9f\x92\xa1";
	char out[512];

	(void)state;
	assert_int_equal(norm(eight, out), 8);
	assert_int_equal(verdict(eight, "alice"), PASSWORD_OK);
	/* The same less its last emoji. */
	memcpy(out, eight, 28);
	out[28] = '\0';
	assert_int_equal(verdict(out, "alice"), PASSWORD_TOO_SHORT);
}

static void
test_password_length_counted_after_normalization(void **state)
{
	(void)state;
	/* 7 code points typed, 8 after U+FB01 becomes "fi". */
	assert_int_equal(verdict("\xef\xac\x81rst-go", NULL), PASSWORD_OK);
	assert_int_equal(verdict("first-g", NULL), PASSWORD_TOO_SHORT);
}

static void
test_password_length_limits(void **state)
{
	char s[200];

	(void)state;
	for (int i = 0; i < 129; i++)
		s[i] = "correct horse battery staple "[i % 29];
	s[128] = '\0';
	assert_int_equal(verdict(s, "alice"), PASSWORD_OK);
	s[128] = 'x';
	s[129] = '\0';
	assert_int_equal(verdict(s, "alice"), PASSWORD_TOO_LONG);
	assert_int_equal(verdict("", "alice"), PASSWORD_TOO_SHORT);
	assert_int_equal(verdict("Tr0ub4d", "alice"), PASSWORD_TOO_SHORT);
	assert_int_equal(verdict("Tr0ub4d&", "alice"), PASSWORD_OK);
}

static void
test_password_spaces_allowed(void **state)
{
	(void)state;
	assert_int_equal(verdict("correct horse battery staple", "alice"), PASSWORD_OK);
	assert_int_equal(verdict("  leading and trailing  ", "alice"), PASSWORD_OK);
	assert_int_equal(verdict("ideographic\xe3\x80\x80space", "alice"), PASSWORD_OK);
}

static void
test_password_controls_refused(void **state)
{
	(void)state;
	assert_int_equal(verdict("tab\tinside-it", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("newline\ninside", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("return\rinside", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("delete\x7finside", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("c1-next\xc2\x85line", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("line\xe2\x80\xa8separator", NULL), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("unassigned\xcd\xb8", NULL), PASSWORD_NOT_PRINTABLE);	/* U+0378 */
}

static void
test_password_nul_is_invalid(void **state)
{
	char out[512];
	size_t cps;

	(void)state;
	assert_int_equal(password_normalize("nul\0inside-it", 13, out, sizeof(out), &cps), -1);
	/* A caller that skipped normalization still gets no pass for bad UTF-8. */
	assert_int_equal(password_rules("bad\xff utf-8 here", 16, NULL), PASSWORD_INVALID);
}

static void
test_password_username_refused_without_case(void **state)
{
	(void)state;
	assert_int_equal(verdict("xXAliceXx-2024", "alice"), PASSWORD_HAS_USERNAME);
	assert_int_equal(verdict("my alice password", "ALICE"), PASSWORD_HAS_USERNAME);
	assert_int_equal(verdict("bob_the_builder!", "Bob_The_Builder"), PASSWORD_HAS_USERNAME);
	assert_int_equal(verdict("ends with alic", "alice"), PASSWORD_OK);
	assert_int_equal(verdict("a l i c e spaced", "alice"), PASSWORD_OK);
	/* Fullwidth letters are the user name once normalized. */
	assert_int_equal(verdict("hi \xef\xbd\x81\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x83\xef\xbd\x85 there",
	    "alice"), PASSWORD_HAS_USERNAME);
}

static void
test_password_no_username_skips_the_check(void **state)
{
	(void)state;
	assert_int_equal(verdict("xXAliceXx-2024", NULL), PASSWORD_OK);
	assert_int_equal(verdict("xXAliceXx-2024", ""), PASSWORD_OK);
}

static void
test_password_rules_in_order(void **state)
{
	(void)state;
	/* Too short wins over the user name, printable over the user name, name over run. */
	assert_int_equal(verdict("alice1", "alice"), PASSWORD_TOO_SHORT);
	assert_int_equal(verdict("alice\tpassword", "alice"), PASSWORD_NOT_PRINTABLE);
	assert_int_equal(verdict("bobbobbobbob", "bob"), PASSWORD_HAS_USERNAME);
	assert_int_equal(verdict("12345678", "alice"), PASSWORD_RUN);
}

static void
test_password_run_repeated_character(void **state)
{
	(void)state;
	assert_int_equal(password_is_run("aaaaaaaa"), 1);
	assert_int_equal(password_is_run("AAAAaaaa"), 1);
	assert_int_equal(password_is_run("        "), 1);
	assert_int_equal(password_is_run("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 1);
}

static void
test_password_run_repeated_pattern(void **state)
{
	(void)state;
	assert_int_equal(password_is_run("abababab"), 1);
	assert_int_equal(password_is_run("ABabABab"), 1);
	assert_int_equal(password_is_run("123123123"), 1);
	assert_int_equal(password_is_run("abcdabcd"), 1);
	assert_int_equal(password_is_run("abcabcab"), 1);	/* the last repeat cut short */
	assert_int_equal(password_is_run("!?!?!?!?!?"), 1);
}

static void
test_password_run_sequences(void **state)
{
	(void)state;
	assert_int_equal(password_is_run("12345678"), 1);
	assert_int_equal(password_is_run("abcdefgh"), 1);
	assert_int_equal(password_is_run("AbCdEfGh"), 1);
	assert_int_equal(password_is_run("87654321"), 1);
	assert_int_equal(password_is_run("hgfedcba"), 1);
	assert_int_equal(password_is_run("HGFEDCBA"), 1);
	/* U+03B1..U+03B8: code points, not bytes, step by one. */
	assert_int_equal(password_is_run("\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7\xce\xb8"), 1);
}

static void
test_password_run_near_misses(void **state)
{
	(void)state;
	assert_int_equal(password_is_run("abcdefgx"), 0);
	assert_int_equal(password_is_run("aaaaaaab"), 0);
	assert_int_equal(password_is_run("baaaaaaa"), 0);
	assert_int_equal(password_is_run("12345679"), 0);
	assert_int_equal(password_is_run("abababac"), 0);
	assert_int_equal(password_is_run("abcdeabcde"), 0);	/* period 5 */
	assert_int_equal(password_is_run("1234567890"), 0);	/* 9 to 0 is no step */
	assert_int_equal(password_is_run("12344321"), 0);
	assert_int_equal(password_is_run("Tr0ub4dor&3"), 0);
}

static void
test_password_run_too_short_to_tell(void **state)
{
	(void)state;
	assert_int_equal(password_is_run(""), 0);
	assert_int_equal(password_is_run("a"), 0);
	assert_int_equal(password_is_run("abcd"), 1);	/* a sequence */
	assert_int_equal(password_is_run("abdc"), 0);	/* not a repeat of itself */
}

static void
test_password_verdict_codes_and_messages(void **state)
{
	enum password_verdict all[] = {
		PASSWORD_OK, PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, PASSWORD_INVALID,
		PASSWORD_NOT_PRINTABLE, PASSWORD_HAS_USERNAME, PASSWORD_RUN, PASSWORD_BLOCKLISTED,
		PASSWORD_PWNED,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_non_null(strstr(password_verdict_code(all[i]), "password_"));
		assert_true(strlen(password_verdict_message(all[i])) > 10);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(password_verdict_code(all[i]), password_verdict_code(all[j]));
	}
	assert_string_equal(password_verdict_code(PASSWORD_TOO_SHORT), "password_too_short");
	assert_string_equal(password_verdict_code(PASSWORD_PWNED), "password_pwned");
	assert_string_equal(password_verdict_message(PASSWORD_PWNED),
	    "This password appears in a list of passwords exposed in data breaches; choose another.");
	assert_string_equal(password_verdict_code((enum password_verdict)99), "password_invalid");
}

static void
test_password_hash_verifies_same_password(void **state)
{
	char hash[PASSWORD_HASH_MAX];
	int cost = 0;

	(void)state;
	assert_int_equal(password_hash(pepper, "correct horse battery staple", COST, hash, sizeof(hash)), 0);
	assert_int_equal(strncmp(hash, "$2b$04$", 7), 0);
	assert_int_equal(strlen(hash), 60);
	assert_int_equal(password_verify(pepper, "correct horse battery staple", hash, &cost), 1);
	assert_int_equal(password_verify(pepper, "correct horse battery stapler", hash, &cost), 0);
	assert_int_equal(password_verify(pepper, "Correct horse battery staple", hash, &cost), 0);
}

static void
test_password_hash_salted(void **state)
{
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash(pepper, "same password", COST, a, sizeof(a)), 0);
	assert_int_equal(password_hash(pepper, "same password", COST, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
}

static void
test_password_hash_counts_bytes_after_72(void **state)
{
	char a[100], b[100], hash[PASSWORD_HASH_MAX], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char ca[CRYPT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;

	(void)state;
	for (int i = 0; i < 72; i++)
		a[i] = b[i] = "Seventy-two bytes shared by both "[i % 33];
	snprintf(a + 72, 28, "-ending-one");
	snprintf(b + 72, 28, "-ending-two");
	assert_int_equal(password_hash(pepper, a, COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(pepper, a, hash, NULL), 1);
	assert_int_equal(password_verify(pepper, b, hash, NULL), 0);

	/* Why the pre-hash exists: bcrypt alone takes both as one. */
	cd = calloc(1, sizeof(*cd));
	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn("$2b$", COST, NULL, 0, setting, sizeof(setting)));
	h = crypt_rn(a, setting, cd, sizeof(*cd));
	assert_non_null(h);
	snprintf(ca, sizeof(ca), "%s", h);
	h = crypt_rn(b, setting, cd, sizeof(*cd));
	assert_non_null(h);
	assert_string_equal(ca, h);
	free(cd);
}

static void
test_password_wrong_pepper_does_not_verify(void **state)
{
	char hash[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash(pepper, "peppered password", COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(other_pepper, "peppered password", hash, NULL), 0);
	assert_int_equal(password_verify(pepper, "peppered password", hash, NULL), 1);
}

static void
test_password_verify_reports_cost(void **state)
{
	char hash[PASSWORD_HASH_MAX];
	int cost = 0;

	(void)state;
	assert_int_equal(password_hash(pepper, "costly password", COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(pepper, "costly password", hash, &cost), 1);
	assert_int_equal(cost, 4);
	assert_int_equal(password_hash(pepper, "costly password", 5, hash, sizeof(hash)), 0);
	assert_int_equal(strncmp(hash, "$2b$05$", 7), 0);
	cost = 0;
	/* Also on a mismatch: the caller learns the cost either way. */
	assert_int_equal(password_verify(pepper, "not the password", hash, &cost), 0);
	assert_int_equal(cost, 5);
}

static void
test_password_verify_malformed_hash_is_error(void **state)
{
	char hash[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX];
	int cost = 77;

	(void)state;
	assert_int_equal(password_hash(pepper, "a password", COST, hash, sizeof(hash)), 0);
	assert_int_equal(password_verify(pepper, "a password", "", &cost), -1);
	assert_int_equal(password_verify(pepper, "a password", "*0", &cost), -1);
	assert_int_equal(password_verify(pepper, "a password", "$2b$04$short", &cost), -1);
	assert_int_equal(cost, 77);
	snprintf(bad, sizeof(bad), "%s", hash);
	bad[2] = 'a';		/* $2a$: not what we write */
	assert_int_equal(password_verify(pepper, "a password", bad, &cost), -1);
	snprintf(bad, sizeof(bad), "%s", hash);
	strcat(bad, "x");	/* 61 characters */
	assert_int_equal(password_verify(pepper, "a password", bad, &cost), -1);
	snprintf(bad, sizeof(bad), "%s", hash);
	bad[4] = '0';
	bad[5] = '3';		/* cost 3 is below bcrypt's range */
	assert_int_equal(password_verify(pepper, "a password", bad, &cost), -1);
}

static void
test_password_hash_bad_arguments(void **state)
{
	char hash[PASSWORD_HASH_MAX], tiny[40];

	(void)state;
	assert_int_equal(password_hash(pepper, "a password", 3, hash, sizeof(hash)), -1);
	assert_int_equal(password_hash(pepper, "a password", 32, hash, sizeof(hash)), -1);
	assert_int_equal(password_hash(pepper, "a password", COST, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "");
}

static void
test_password_blocklist_matches_without_case(void **state)
{
	struct blocklist bl;
	char path[64], err[256];

	(void)state;
	write_temp(path, "# a comment\n\npassword\nLetMeIn123\r\n#password1\nqwertyuiop\n\n");
	assert_int_equal(blocklist_load(&bl, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(bl.n, 3);
	assert_int_equal(blocklist_contains(&bl, "password"), 1);
	assert_int_equal(blocklist_contains(&bl, "PassWord"), 1);
	assert_int_equal(blocklist_contains(&bl, "letmein123"), 1);
	assert_int_equal(blocklist_contains(&bl, "LETMEIN123"), 1);
	assert_int_equal(blocklist_contains(&bl, "qwertyuiop"), 1);
	assert_int_equal(blocklist_contains(&bl, "password1"), 0);
	assert_int_equal(blocklist_contains(&bl, "passwor"), 0);
	assert_int_equal(blocklist_contains(&bl, "passwords"), 0);
	assert_int_equal(blocklist_contains(&bl, ""), 0);
	blocklist_free(&bl);
	assert_int_equal(bl.n, 0);
}

static void
test_password_blocklist_comments_are_not_entries(void **state)
{
	struct blocklist bl;
	char path[64], err[256];

	(void)state;
	write_temp(path, "#!comment: a list\n# another\n\n\r\nzzzzzzzz\n");
	assert_int_equal(blocklist_load(&bl, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(bl.n, 1);
	assert_int_equal(blocklist_contains(&bl, "# another"), 0);
	assert_int_equal(blocklist_contains(&bl, "#!comment: a list"), 0);
	assert_int_equal(blocklist_contains(&bl, "zzzzzzzz"), 1);
	blocklist_free(&bl);
}

static void
test_password_blocklist_missing_file_is_error(void **state)
{
	struct blocklist bl;
	char err[256] = "";

	(void)state;
	assert_int_equal(blocklist_load(&bl, "/nonexistent/blocklist.txt", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/blocklist.txt"));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(blocklist_contains(&bl, "password"), 0);
	assert_int_equal(blocklist_contains(NULL, "password"), 0);
}

static void
test_password_blocklist_without_entries_is_error(void **state)
{
	struct blocklist bl;
	char path[64], err[256] = "";

	(void)state;
	write_temp(path, "# only a comment\n\n");
	assert_int_equal(blocklist_load(&bl, path, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, "no entries"));
}

static void
test_password_blocklist_script_builds_from_john(void **state)
{
	struct blocklist bl;
	char path[64], cmd[256], err[256], line[256];
	FILE *f;
	int lineno = 0;

	(void)state;
	write_temp(path, "");
	snprintf(cmd, sizeof(cmd), "fcgi/sec/blocklist.sh %s %s", JOHN, path);
	assert_int_equal(system(cmd), 0);

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		if (lineno++ == 0) {
			assert_string_equal(line,
			    "# generated by fcgi/sec/blocklist.sh from " JOHN "; do not edit");
			continue;
		}
		assert_true(n >= 8 && n <= 128);
		for (size_t i = 0; i < n; i++)
			assert_false(line[i] >= 'A' && line[i] <= 'Z');
	}
	assert_int_equal(fclose(f), 0);
	assert_true(lineno > 100);

	assert_int_equal(blocklist_load(&bl, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(bl.n, (size_t)lineno - 1);
	assert_int_equal(blocklist_contains(&bl, "password"), 1);
	assert_int_equal(blocklist_contains(&bl, "12345678"), 1);
	assert_int_equal(blocklist_contains(&bl, "PASSWORD"), 1);
	assert_int_equal(blocklist_contains(&bl, "123456"), 0);	/* too short to keep */
	blocklist_free(&bl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_normalize_ligature_fi),
		cmocka_unit_test(test_password_normalize_fullwidth_digits),
		cmocka_unit_test(test_password_normalize_composed_and_decomposed_e_acute),
		cmocka_unit_test(test_password_normalize_spaces_become_ascii),
		cmocka_unit_test(test_password_normalize_invalid_utf8_refused),
		cmocka_unit_test(test_password_normalize_nul_refused),
		cmocka_unit_test(test_password_normalize_only_reads_n_bytes),
		cmocka_unit_test(test_password_normalize_too_long_for_out_refused),
		cmocka_unit_test(test_password_nfkc_forms_verify_alike),
		cmocka_unit_test(test_password_length_counts_code_points),
		cmocka_unit_test(test_password_length_counted_after_normalization),
		cmocka_unit_test(test_password_length_limits),
		cmocka_unit_test(test_password_spaces_allowed),
		cmocka_unit_test(test_password_controls_refused),
		cmocka_unit_test(test_password_nul_is_invalid),
		cmocka_unit_test(test_password_username_refused_without_case),
		cmocka_unit_test(test_password_no_username_skips_the_check),
		cmocka_unit_test(test_password_rules_in_order),
		cmocka_unit_test(test_password_run_repeated_character),
		cmocka_unit_test(test_password_run_repeated_pattern),
		cmocka_unit_test(test_password_run_sequences),
		cmocka_unit_test(test_password_run_near_misses),
		cmocka_unit_test(test_password_run_too_short_to_tell),
		cmocka_unit_test(test_password_verdict_codes_and_messages),
		cmocka_unit_test(test_password_hash_verifies_same_password),
		cmocka_unit_test(test_password_hash_salted),
		cmocka_unit_test(test_password_hash_counts_bytes_after_72),
		cmocka_unit_test(test_password_wrong_pepper_does_not_verify),
		cmocka_unit_test(test_password_verify_reports_cost),
		cmocka_unit_test(test_password_verify_malformed_hash_is_error),
		cmocka_unit_test(test_password_hash_bad_arguments),
		cmocka_unit_test(test_password_blocklist_matches_without_case),
		cmocka_unit_test(test_password_blocklist_comments_are_not_entries),
		cmocka_unit_test(test_password_blocklist_missing_file_is_error),
		cmocka_unit_test(test_password_blocklist_without_entries_is_error),
		cmocka_unit_test(test_password_blocklist_script_builds_from_john),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
