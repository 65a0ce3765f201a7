/*
 * seal: AES-256-GCM sealing of small secrets and the server's key files
 * (see seal.h). Nothing is kept between calls: every function works on its
 * arguments and an OpenSSL context it frees before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"

int
seal_encrypt(const unsigned char key[32], const unsigned char *plain, size_t n,
    const char *aad, unsigned char *out, size_t outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t aadlen = aad != NULL ? strlen(aad) : 0;
	unsigned char *ct = out + SEAL_IV_LEN;
	int len, fin, ret = -1;

	if (n > SEAL_PLAIN_MAX || outlen < n + SEAL_OVERHEAD || aadlen > INT_MAX)
		return -1;
	if (RAND_bytes(out, SEAL_IV_LEN) != 1)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	/* The GCM default IV length is 12 bytes, the one SEAL_IV_LEN names. */
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) != 1)
		goto out;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)aadlen) != 1)
		goto out;
	len = 0;
	if (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1 || (size_t)len + (size_t)fin != n)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + n) != 1)
		goto out;
	ret = (int)(n + SEAL_OVERHEAD);
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int
seal_decrypt(const unsigned char key[32], const unsigned char *in, size_t n,
    const char *aad, unsigned char *plain, size_t plainlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char tag[SEAL_TAG_LEN];
	size_t aadlen = aad != NULL ? strlen(aad) : 0, m;
	int len, fin, ret = -1;

	if (n < SEAL_OVERHEAD || n > SEAL_PLAIN_MAX + SEAL_OVERHEAD || aadlen > INT_MAX)
		return -1;
	m = n - SEAL_OVERHEAD;
	if (plainlen < m)
		return -1;
	/* EVP_CTRL_GCM_SET_TAG takes a non-const pointer. */
	memcpy(tag, in + n - SEAL_TAG_LEN, SEAL_TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) != 1)
		goto out;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)aadlen) != 1)
		goto out;
	len = 0;
	if (m > 0 && EVP_DecryptUpdate(ctx, plain, &len, in + SEAL_IV_LEN, (int)m) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1)
		goto out;
	/* The tag is checked here; before this, plain holds unauthenticated bytes. */
	if (EVP_DecryptFinal_ex(ctx, plain + len, &fin) != 1 || (size_t)len + (size_t)fin != m)
		goto out;
	ret = (int)m;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret < 0 && m > 0)
		OPENSSL_cleanse(plain, m);
	return ret;
}

/* Result of seal_key_read when there is no file at all. */
#define SEAL_KEY_ABSENT 1

/* Reads exactly 32 bytes from an existing key file: 0, SEAL_KEY_ABSENT or -1. */
static int
seal_key_read(const char *path, unsigned char key[32], char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t k;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return SEAL_KEY_ABSENT;
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: is a symbolic link; a key file must be a plain file", path);
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %04o lets group or others read or write it; "
		    "run chmod 600 on it", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size != SEAL_KEY_LEN) {
		snprintf(err, errlen, "%s: holds %lld bytes; a key file holds exactly %d",
		    path, (long long)st.st_size, SEAL_KEY_LEN);
		goto out;
	}
	while (got < SEAL_KEY_LEN) {
		k = read(fd, key + got, SEAL_KEY_LEN - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s: cannot read 32 bytes: %s", path,
			    k < 0 ? strerror(errno) : "file shrank");
			OPENSSL_cleanse(key, SEAL_KEY_LEN);
			goto out;
		}
		got += (size_t)k;
	}
	ret = 0;
out:
	if (close(fd) < 0 && ret == 0) {
		snprintf(err, errlen, "%s: close: %s", path, strerror(errno));
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
		ret = -1;
	}
	return ret;
}

/* Makes the key durable: the directory entry of a new file needs its own fsync. */
static int
seal_key_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	if (rc < 0 && errno == EINVAL)	/* a file system without directory fsync */
		rc = 0;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/*
 * Writes a new key under a temporary name, then links it into place: the
 * file at path is never seen partly written, and link(2) fails with EEXIST
 * when another process got there first, whose key is then read instead.
 */
static int
seal_key_create(const char *path, unsigned char key[32], char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	unsigned char rnd[8];
	size_t put = 0;
	ssize_t k;
	int fd, n, rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "%s: RAND_bytes failed", path);
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.new-%02x%02x%02x%02x%02x%02x%02x%02x", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (RAND_bytes(key, SEAL_KEY_LEN) != 1) {
		snprintf(err, errlen, "%s: RAND_bytes failed", path);
		goto fail;
	}
	/* The umask may only narrow 0600, but say exactly what is meant. */
	if (fchmod(fd, 0600) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	while (put < SEAL_KEY_LEN) {
		k = write(fd, key + put, SEAL_KEY_LEN - put);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s: cannot write: %s", tmp,
			    k < 0 ? strerror(errno) : "no progress");
			goto fail;
		}
		put += (size_t)k;
	}
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		snprintf(err, errlen, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	if (link(tmp, path) < 0) {
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot link the new key into place: %s", path,
			    strerror(errno));
			goto fail;
		}
		/* Another process made the key first: use the one on disk. */
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
		(void)unlink(tmp);
		rc = seal_key_read(path, key, err, errlen);
		if (rc == SEAL_KEY_ABSENT) {
			snprintf(err, errlen, "%s: removed while being created", path);
			return -1;
		}
		return rc;
	}
	if (unlink(tmp) < 0) {
		snprintf(err, errlen, "%s: cannot remove: %s", tmp, strerror(errno));
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
		return -1;
	}
	if (seal_key_sync_dir(path) < 0) {
		snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		(void)close(fd);
	(void)unlink(tmp);
	OPENSSL_cleanse(key, SEAL_KEY_LEN);
	return -1;
}

int
seal_key_file(const char *path, unsigned char key[32], char *err, size_t errlen)
{
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = seal_key_read(path, key, err, errlen);
	if (rc == SEAL_KEY_ABSENT)
		rc = seal_key_create(path, key, err, errlen);
	return rc;
}
