/*
 * seal: a sealed blob opens only with its key and AAD and only unaltered;
 * key files are made once (0600, 32 bytes), reread unchanged, refused when
 * loose or malformed, and two starters racing end up with one key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seal.h"

static const unsigned char key1[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[32] = "fedcba9876543210fedcba9876543210";
static const unsigned char secret[20] = "12345678901234567890";
#define AAD "totp:user:42"

/* A sealed copy of secret under key1 and AAD. */
static int
sealed(unsigned char out[sizeof(secret) + SEAL_OVERHEAD])
{
	return seal_encrypt(key1, secret, sizeof(secret), AAD, out, sizeof(secret) + SEAL_OVERHEAD);
}

static void
test_seal_round_trip(void **state)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[64];

	(void)state;
	assert_int_equal(sealed(blob), sizeof(secret) + SEAL_OVERHEAD);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), AAD, plain, sizeof(plain)), sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
}

static void
test_seal_empty_plaintext_round_trip(void **state)
{
	unsigned char blob[SEAL_OVERHEAD], plain[1];

	(void)state;
	assert_int_equal(seal_encrypt(key1, NULL, 0, AAD, blob, sizeof(blob)), SEAL_OVERHEAD);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), AAD, plain, sizeof(plain)), 0);
}

static void
test_seal_fresh_iv_each_time(void **state)
{
	unsigned char a[sizeof(secret) + SEAL_OVERHEAD], b[sizeof(a)];

	(void)state;
	assert_true(sealed(a) > 0);
	assert_true(sealed(b) > 0);
	assert_memory_not_equal(a, b, SEAL_IV_LEN);
	assert_memory_not_equal(a + SEAL_IV_LEN, b + SEAL_IV_LEN, sizeof(secret));
}

/* Flips one bit at offset i and expects the blob to be refused. */
static void
assert_tamper_refused(size_t i)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[64];

	assert_true(sealed(blob) > 0);
	blob[i] ^= 0x01;
	memset(plain, 0xAA, sizeof(plain));
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), AAD, plain, sizeof(plain)), -1);
	/* Nothing of the unauthenticated plaintext is left behind. */
	assert_memory_not_equal(plain, secret, 4);
}

static void
test_seal_tampered_iv_refused(void **state)
{
	(void)state;
	assert_tamper_refused(0);
	assert_tamper_refused(SEAL_IV_LEN - 1);
}

static void
test_seal_tampered_ciphertext_refused(void **state)
{
	(void)state;
	assert_tamper_refused(SEAL_IV_LEN);
	assert_tamper_refused(SEAL_IV_LEN + sizeof(secret) - 1);
}

static void
test_seal_tampered_tag_refused(void **state)
{
	(void)state;
	assert_tamper_refused(SEAL_IV_LEN + sizeof(secret));
	assert_tamper_refused(sizeof(secret) + SEAL_OVERHEAD - 1);
}

static void
test_seal_other_aad_refused(void **state)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[64];

	(void)state;
	assert_true(sealed(blob) > 0);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), "totp:user:43", plain, sizeof(plain)), -1);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), "", plain, sizeof(plain)), -1);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), NULL, plain, sizeof(plain)), -1);
}

static void
test_seal_other_key_refused(void **state)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[64];

	(void)state;
	assert_true(sealed(blob) > 0);
	assert_int_equal(seal_decrypt(key2, blob, sizeof(blob), AAD, plain, sizeof(plain)), -1);
}

static void
test_seal_truncated_refused(void **state)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[64];

	(void)state;
	assert_true(sealed(blob) > 0);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob) - 1, AAD, plain, sizeof(plain)), -1);
	assert_int_equal(seal_decrypt(key1, blob, SEAL_OVERHEAD - 1, AAD, plain, sizeof(plain)), -1);
	assert_int_equal(seal_decrypt(key1, blob, 0, AAD, plain, sizeof(plain)), -1);
}

static void
test_seal_small_buffers_refused(void **state)
{
	unsigned char blob[sizeof(secret) + SEAL_OVERHEAD], plain[sizeof(secret)];

	(void)state;
	assert_int_equal(seal_encrypt(key1, secret, sizeof(secret), AAD, blob, sizeof(blob) - 1), -1);
	assert_true(sealed(blob) > 0);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), AAD, plain, sizeof(plain) - 1), -1);
	assert_int_equal(seal_decrypt(key1, blob, sizeof(blob), AAD, plain, sizeof(plain)), sizeof(secret));
}

/* Key files live in a fresh directory per test. */
struct dir {
	char path[64];
	char key[96];
};

static int
setup_dir(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	strcpy(d->path, "/tmp/test_seal.XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	snprintf(d->key, sizeof(d->key), "%s/totp.key", d->path);
	*state = d;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct dir *d = *state;
	struct dirent *e;
	char p[512];
	DIR *dp = opendir(d->path);

	if (dp != NULL) {
		while ((e = readdir(dp)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(d->path);
	free(d);
	return 0;
}

/* Writes n bytes to path with mode. */
static void
write_file(const char *path, size_t n, mode_t mode)
{
	unsigned char b[64] = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The number of entries in dir other than . and .. */
static int
entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static void
test_seal_key_file_created_0600_with_32_bytes(void **state)
{
	struct dir *d = *state;
	unsigned char key[32], zero[32] = {0};
	char err[256];
	struct stat st;

	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(lstat(d->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_memory_not_equal(key, zero, sizeof(key));
	/* No temporary file is left behind. */
	assert_int_equal(entries(d->path), 1);
}

static void
test_seal_key_file_reread_identical(void **state)
{
	struct dir *d = *state;
	unsigned char a[32], b[32], disk[32];
	char err[256];
	int fd;

	assert_int_equal(seal_key_file(d->key, a, err, sizeof(err)), 0);
	assert_int_equal(seal_key_file(d->key, b, err, sizeof(err)), 0);
	assert_memory_equal(a, b, sizeof(a));
	fd = open(d->key, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, disk, sizeof(disk)), 32);
	close(fd);
	assert_memory_equal(a, disk, sizeof(a));
}

static void
test_seal_key_file_wrong_size_refused(void **state)
{
	struct dir *d = *state;
	unsigned char key[32];
	char err[256];

	write_file(d->key, 31, 0600);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "31 bytes"));
	write_file(d->key, 33, 0600);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "33 bytes"));
	write_file(d->key, 0, 0600);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exactly 32"));
}

static void
test_seal_key_file_group_readable_refused(void **state)
{
	struct dir *d = *state;
	unsigned char key[32];
	char err[256];

	write_file(d->key, 32, 0640);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0640"));
	assert_non_null(strstr(err, "chmod 600"));
	write_file(d->key, 32, 0602);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	write_file(d->key, 32, 0400);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), 0);
}

static void
test_seal_key_file_symlink_refused(void **state)
{
	struct dir *d = *state;
	unsigned char key[32];
	char err[256], target[128];

	snprintf(target, sizeof(target), "%s/real", d->path);
	write_file(target, 32, 0600);
	assert_int_equal(symlink(target, d->key), 0);
	assert_int_equal(seal_key_file(d->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
}

static void
test_seal_key_file_missing_directory_refused(void **state)
{
	struct dir *d = *state;
	unsigned char key[32];
	char err[256], p[128];

	snprintf(p, sizeof(p), "%s/nonexistent/totp.key", d->path);
	assert_int_equal(seal_key_file(p, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
}

/*
 * Starters block on a pipe until the parent closes it, then all create the
 * key at once; each reports its key through its own pipe.
 */
#define RACERS 8
#define ROUNDS 10

static void
test_seal_key_file_racing_creators_share_one_key(void **state)
{
	struct dir *d = *state;
	unsigned char keys[RACERS][32];
	int go[2], out[RACERS][2], status;
	pid_t pid[RACERS];

	for (int round = 0; round < ROUNDS; round++) {
		unlink(d->key);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < RACERS; i++) {
			assert_int_equal(pipe(out[i]), 0);
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				unsigned char k[32];
				char err[256], c;

				close(go[1]);
				if (read(go[0], &c, 1) < 0)
					_exit(1);
				if (seal_key_file(d->key, k, err, sizeof(err)) != 0) {
					fprintf(stderr, "racer: %s\n", err);
					_exit(1);
				}
				_exit(write(out[i][1], k, 32) == 32 ? 0 : 1);
			}
			close(out[i][1]);
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < RACERS; i++) {
			assert_int_equal(read(out[i][0], keys[i], 32), 32);
			close(out[i][0]);
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		for (int i = 1; i < RACERS; i++)
			assert_memory_equal(keys[0], keys[i], 32);
		assert_int_equal(entries(d->path), 1);
	}
}

#define D(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_empty_plaintext_round_trip),
		cmocka_unit_test(test_seal_fresh_iv_each_time),
		cmocka_unit_test(test_seal_tampered_iv_refused),
		cmocka_unit_test(test_seal_tampered_ciphertext_refused),
		cmocka_unit_test(test_seal_tampered_tag_refused),
		cmocka_unit_test(test_seal_other_aad_refused),
		cmocka_unit_test(test_seal_other_key_refused),
		cmocka_unit_test(test_seal_truncated_refused),
		cmocka_unit_test(test_seal_small_buffers_refused),
		D(test_seal_key_file_created_0600_with_32_bytes),
		D(test_seal_key_file_reread_identical),
		D(test_seal_key_file_wrong_size_refused),
		D(test_seal_key_file_group_readable_refused),
		D(test_seal_key_file_symlink_refused),
		D(test_seal_key_file_missing_directory_refused),
		D(test_seal_key_file_racing_creators_share_one_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
