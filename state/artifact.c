/*
 * artifact.c: copying model artifacts into HOME/models/NAME/VERSION/.
 *
 * Choices beyond artifact.h:
 *  - a source URI is a host path or file:///abs/path (file://localhost/abs too);
 *    no percent-decoding. The top-level source may be a symlink (it is followed);
 *    inside a source directory symlinks and special files are skipped, never
 *    followed, so nothing outside the tree is copied.
 *  - a directory's digest walks the tree depth-first, entries of each directory
 *    in strcmp order, hashing "relative-path\0decimal-size\0bytes" per regular file.
 *  - an existing HOME/models/NAME/VERSION is replaced: the new tree is built under
 *    HOME/tmp, then swapped in with renameat2(RENAME_EXCHANGE) (or, where that is
 *    missing, moved aside and renamed), and the old tree removed.
 */
#include <stddef.h> /* artifact.h uses size_t without including it */

#include "state/artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "state/names.h"
#include "state/resource.h"

#define DEPTH_MAX 32

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct copy_ctx {
	EVP_MD_CTX *md;
	uint64_t size;
	int records; /* directory mode: hash per-file records */
	struct error *err;
};

int artifact_path(const char *home, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", home, rel);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void artifact_info_cleanup(struct artifact_info *a)
{
	free(a->rel);
	a->rel = NULL;
}

static int io_error(struct error *err, const char *what, const char *path)
{
	return error_set(err, 500, "StorageError", "%s %s: %s", what, path, strerror(errno));
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int remove_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies fd_in to a new file dst, feeding the digest; fsyncs dst. */
static int copy_fd(int in, const char *dst, struct copy_ctx *c)
{
	char buf[65536];
	ssize_t n;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (out < 0)
		return io_error(c->err, "cannot create", dst);
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			io_error(c->err, "cannot copy to", dst);
			close(out);
			return -1;
		}
		EVP_DigestUpdate(c->md, buf, (size_t)n);
		c->size += (uint64_t)n;
	}
	if (fsync(out) < 0) {
		io_error(c->err, "cannot sync", dst);
		close(out);
		return -1;
	}
	return close(out);
}

/* Copies one regular file; rel is its path in the source tree (records mode). */
static int copy_file(const char *src, const char *dst, const char *rel, int follow,
		     struct copy_ctx *c)
{
	int in = open(src, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	struct stat st;
	char size[32];
	int rc;

	if (in < 0)
		return error_set(c->err, 400, "ValidationError", "cannot read %s: %s", src,
				 strerror(errno));
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return error_set(c->err, 400, "ValidationError", "%s is not a regular file", src);
	}
	if (c->records) {
		snprintf(size, sizeof size, "%llu", (unsigned long long)st.st_size);
		EVP_DigestUpdate(c->md, rel, strlen(rel) + 1);
		EVP_DigestUpdate(c->md, size, strlen(size) + 1);
	}
	rc = copy_fd(in, dst, c);
	close(in);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int copy_tree(const char *src, const char *dst, const char *rel, int depth,
		     struct copy_ctx *c);

/* One entry of a source directory: files and directories, nothing else. */
static int copy_entry(const char *src, const char *dst, const char *rel, const char *name,
		      int depth, struct copy_ctx *c)
{
	char s[PATH_MAX], d[PATH_MAX], r[PATH_MAX];
	struct stat st;

	if (snprintf(s, sizeof s, "%s/%s", src, name) >= (int)sizeof s ||
	    snprintf(d, sizeof d, "%s/%s", dst, name) >= (int)sizeof d ||
	    snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", name) >= (int)sizeof r)
		return error_set(c->err, 400, "ValidationError", "path too long under %s", src);
	if (lstat(s, &st) < 0)
		return error_set(c->err, 400, "ValidationError", "cannot read %s: %s", s,
				 strerror(errno));
	if (S_ISDIR(st.st_mode))
		return copy_tree(s, d, r, depth + 1, c);
	if (S_ISREG(st.st_mode))
		return copy_file(s, d, r, 0, c);
	return 0; /* symlinks, sockets, devices: skipped */
}

static int copy_tree(const char *src, const char *dst, const char *rel, int depth,
		     struct copy_ctx *c)
{
	struct dirent **list = NULL;
	int n, rc = 0;

	if (depth > DEPTH_MAX)
		return error_set(c->err, 400, "ValidationError",
				 "%s is nested more than %d directories deep", src, DEPTH_MAX);
	if (mkdir(dst, 0700) < 0)
		return io_error(c->err, "cannot create", dst);
	n = scandir(src, &list, NULL, by_name);
	if (n < 0)
		return error_set(c->err, 400, "ValidationError", "cannot list %s: %s", src,
				 strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;

		if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
			rc = copy_entry(src, dst, rel, name, depth, c);
		free(list[i]);
	}
	free(list);
	if (rc == 0 && fsync_path(dst) < 0)
		rc = io_error(c->err, "cannot sync", dst);
	return rc;
}

/* The host path a source names: a plain path or a file:// URI. */
static const char *source_path(const char *src)
{
	if (strncmp(src, "file://localhost/", 17) == 0)
		return src + 16;
	if (strncmp(src, "file://", 7) == 0)
		return src + 7;
	return src;
}

/* The last component of path (trailing slashes ignored) into buf. */
static int base_name(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path), start;

	while (n > 1 && path[n - 1] == '/')
		n--;
	start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (n - start == 0 || n - start >= len || (n - start == 1 && path[start] == '.') ||
	    (n - start == 2 && path[start] == '.' && path[start + 1] == '.') || path[start] == '/')
		return -1;
	memcpy(buf, path + start, n - start);
	buf[n - start] = '\0';
	return 0;
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int finish_digest(struct copy_ctx *c, struct artifact_info *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_DigestFinal_ex(c->md, d, &n) != 1 || n != 32)
		return error_set(c->err, 500, "InternalError", "sha256 failed");
	hex(d, n, out->sha256);
	out->size = c->size;
	return 0;
}

/* Puts the staged version directory at final, replacing any old one. */
static int install(const char *home, const char *staged, const char *final, struct error *err)
{
	char old[PATH_MAX];

	if (rename(staged, final) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return io_error(err, "cannot move into place", final);
	if (syscall(SYS_renameat2, AT_FDCWD, staged, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
		remove_tree(staged); /* staged now holds the old tree; best effort */
		return 0;
	}
	if (snprintf(old, sizeof old, "%s/tmp/old-XXXXXX", home) >= (int)sizeof old ||
	    mkdtemp(old) == NULL)
		return io_error(err, "cannot make a temporary directory in", home);
	if (rename(final, old) < 0 || rename(staged, final) < 0)
		return io_error(err, "cannot replace", final);
	remove_tree(old);
	return 0;
}

/* Makes HOME/models/NAME and returns HOME/models/NAME/VERSION in final. */
static int version_dir(const char *home, const char *name, const char *version, char *final,
		       size_t len, struct error *err)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof dir, "%s/models", home) >= (int)sizeof dir ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return io_error(err, "cannot create", dir);
	if (snprintf(dir, sizeof dir, "%s/models/%s", home, name) >= (int)sizeof dir ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return io_error(err, "cannot create", dir);
	if (snprintf(final, len, "%s/%s", dir, version) >= (int)len)
		return error_set(err, 500, "StorageError", "path too long");
	return 0;
}

/* Moves the staged tree into place and fills out->rel. */
static int commit(const char *home, const char *name, const char *version, const char *staged,
		  const char *base, struct artifact_info *out, struct error *err)
{
	char final[PATH_MAX], rel[PATH_MAX];

	if (version_dir(home, name, version, final, sizeof final, err) < 0 ||
	    install(home, staged, final, err) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/models/%s", home, name);
	fsync_path(rel);
	snprintf(rel, sizeof rel, "models/%s/%s/%s", name, version, base);
	out->rel = strdup(rel);
	if (out->rel == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	return 0;
}

static int check_ids(const char *name, const char *version, struct error *err)
{
	if (names_check_asset(name, "model name", err) < 0 ||
	    names_check_version(version, "model version", err) < 0)
		return -1;
	return 0;
}

/* A fresh HOME/tmp/import-XXXXXX directory. */
static int stage_dir(const char *home, char *buf, size_t len, struct error *err)
{
	if (snprintf(buf, len, "%s/tmp", home) >= (int)len ||
	    (mkdir(buf, 0700) < 0 && errno != EEXIST))
		return io_error(err, "cannot create", buf);
	if (snprintf(buf, len, "%s/tmp/import-XXXXXX", home) >= (int)len || mkdtemp(buf) == NULL)
		return io_error(err, "cannot make a temporary directory in", home);
	return 0;
}

/* Copies the checked source into stage/base. */
static int stage_copy(const char *path, const struct stat *st, const char *stage, const char *base,
		      struct copy_ctx *c)
{
	char dst[PATH_MAX];

	if (snprintf(dst, sizeof dst, "%s/%s", stage, base) >= (int)sizeof dst)
		return error_set(c->err, 400, "ValidationError", "path too long");
	c->records = S_ISDIR(st->st_mode);
	if (c->records)
		return copy_tree(path, dst, "", 0, c);
	return copy_file(path, dst, base, 1, c);
}

int artifact_import(const char *home, const char *name, const char *version, const char *src,
		    struct artifact_info *out, struct error *err)
{
	struct copy_ctx c = {NULL, 0, 0, err};
	char stage[PATH_MAX], base[NAME_MAX + 1];
	const char *path;
	struct stat st;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (check_ids(name, version, err) < 0)
		return -1;
	if (src == NULL || src[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.modelUri is required");
	path = source_path(src);
	if (path[0] != '/')
		return error_set(err, 400, "ValidationError",
				 "properties.modelUri '%.200s' must be an absolute path or a "
				 "file:/// URI",
				 src);
	if (stat(path, &st) < 0)
		return error_set(err, 400, "ValidationError", "properties.modelUri %.200s: %s",
				 path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return error_set(err, 400, "ValidationError",
				 "properties.modelUri %.200s is not a file or a directory", path);
	if (base_name(path, base, sizeof base) < 0)
		snprintf(base, sizeof base, "model");
	if (stage_dir(home, stage, sizeof stage, err) < 0)
		return -1;
	c.md = EVP_MD_CTX_new();
	if (c.md == NULL || EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) != 1)
		error_set(err, 500, "InternalError", "sha256 unavailable");
	else if (stage_copy(path, &st, stage, base, &c) == 0 && finish_digest(&c, out) == 0 &&
		 fsync_path(stage) == 0)
		rc = commit(home, name, version, stage, base, out, err);
	EVP_MD_CTX_free(c.md);
	if (rc < 0)
		remove_tree(stage);
	return rc;
}

/* Digest and size of one regular file. */
static int file_digest(const char *path, struct artifact_info *out, struct error *err)
{
	struct copy_ctx c = {EVP_MD_CTX_new(), 0, 0, err};
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;

	if (fd < 0) {
		io_error(err, "cannot read", path);
		goto out;
	}
	if (c.md == NULL || EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		EVP_DigestUpdate(c.md, buf, (size_t)n);
		c.size += (uint64_t)n;
	}
	if (n < 0)
		io_error(err, "cannot read", path);
	else
		rc = finish_digest(&c, out);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c.md);
	return rc;
}

/* tmp_path must be a regular file directly inside HOME/tmp. */
static int check_tmp_path(const char *home, const char *tmp_path, struct error *err)
{
	char dir[PATH_MAX];
	size_t n;
	struct stat st;

	if (snprintf(dir, sizeof dir, "%s/tmp/", home) >= (int)sizeof dir)
		return error_set(err, 500, "StorageError", "path too long");
	n = strlen(dir);
	if (strncmp(tmp_path, dir, n) != 0 || strchr(tmp_path + n, '/') != NULL ||
	    strcmp(tmp_path + n, "..") == 0 || lstat(tmp_path, &st) < 0 || !S_ISREG(st.st_mode))
		return error_set(err, 500, "StorageError", "%s is not an upload under %s", tmp_path,
				 dir);
	return 0;
}

int artifact_adopt(const char *home, const char *name, const char *version, const char *tmp_path,
		   const char *filename, struct artifact_info *out, struct error *err)
{
	char stage[PATH_MAX], dst[PATH_MAX], base[NAME_MAX + 1];
	int rc;

	memset(out, 0, sizeof *out);
	if (check_ids(name, version, err) < 0 || check_tmp_path(home, tmp_path, err) < 0)
		return -1;
	if (filename == NULL || strchr(filename, '/') != NULL ||
	    base_name(filename, base, sizeof base) < 0)
		snprintf(base, sizeof base, "model");
	if (file_digest(tmp_path, out, err) < 0 || stage_dir(home, stage, sizeof stage, err) < 0)
		return -1;
	if (snprintf(dst, sizeof dst, "%s/%s", stage, base) >= (int)sizeof dst ||
	    rename(tmp_path, dst) < 0) {
		rc = io_error(err, "cannot move", tmp_path);
	} else {
		fsync_path(dst);
		fsync_path(stage);
		rc = commit(home, name, version, stage, base, out, err);
	}
	if (rc < 0)
		remove_tree(stage);
	return rc;
}

int artifact_remove(const char *home, const char *rel)
{
	char path[PATH_MAX], name[RESOURCE_ASSET_NAME_MAX + 1], version[RESOURCE_VERSION_MAX + 1];
	int n = 0;

	if (rel == NULL || strstr(rel, "..") != NULL ||
	    sscanf(rel, "models/%255[^/]/%64[^/]%n", name, version, &n) != 2 || n == 0)
		return -1;
	if (snprintf(path, sizeof path, "%s/models/%s/%s", home, name, version) >= (int)sizeof path)
		return -1;
	if (remove_tree(path) < 0 && errno != ENOENT)
		return -1;
	snprintf(path, sizeof path, "%s/models/%s", home, name);
	rmdir(path); /* only when no version is left */
	return 0;
}
