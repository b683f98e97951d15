/*
 * artifact.c: copying model artifacts into HOME/models/NAME/VERSION/ID/.
 *
 * Choices beyond artifact.h:
 *  - a source URI is a host path or file:///abs/path (file://localhost/abs too);
 *    no percent-decoding. The top-level source may be a symlink (it is followed);
 *    inside a source directory symlinks and special files are skipped, never
 *    followed, so nothing outside the tree is copied.
 *  - a directory's digest walks the tree depth-first, entries of each directory
 *    in strcmp order, hashing "relative-path\0decimal-size\0bytes" per regular file.
 *  - ID is made by mkdtemp inside VERSION/, and the stage is renamed over that
 *    empty directory: unique, atomic, and never the previous registration's.
 *    Artifacts of older versions of mldeck sit directly in VERSION/ (rel
 *    models/NAME/VERSION/BASE); removal and the sweep know both layouts.
 *  - every error message is built from the errno saved where the failing call
 *    returned, never from one read after other calls.
 */
#include "state/artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "state/file.h"
#include "state/names.h"

#define DEPTH_MAX 32

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

/* e: the errno of the call that failed, saved where it returned. */
static int io_error(struct error *err, int e, const char *what, const char *path)
{
	return error_set(err, 500, "StorageError", "%s %s: %s", what, path, strerror(e));
}

static int source_error(struct error *err, int e, const char *what, const char *path)
{
	return error_set(err, 400, "ValidationError", "%s %s: %s", what, path, strerror(e));
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int remove_tree(const char *path)
{
	return file_remove_at(AT_FDCWD, path);
}

/* Copies in to a new file dst (never an existing one, never through a link),
 * feeding the digest; fsyncs dst. */
static int copy_fd(int in, const char *dst, struct copy_ctx *c)
{
	char buf[65536];
	ssize_t n;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), e;

	if (out < 0)
		return io_error(c->err, errno, "cannot create", dst);
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(out);
			return source_error(c->err, e, "cannot read", dst);
		}
		if (file_write_all(out, buf, (size_t)n) < 0) {
			e = errno;
			close(out);
			return io_error(c->err, e, "cannot copy to", dst);
		}
		EVP_DigestUpdate(c->md, buf, (size_t)n);
		c->size += (uint64_t)n;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		e = errno;
		close(out);
		return io_error(c->err, e, "cannot sync", dst);
	}
	return 0;
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
		return source_error(c->err, errno, "cannot read", src);
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
		return source_error(c->err, errno, "cannot read", s);
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
		return io_error(c->err, errno, "cannot create", dst);
	n = scandir(src, &list, NULL, by_name);
	if (n < 0)
		return source_error(c->err, errno, "cannot list", src);
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;

		if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
			rc = copy_entry(src, dst, rel, name, depth, c);
		free(list[i]);
	}
	free(list);
	if (rc == 0 && fsync_path(dst) < 0)
		rc = io_error(c->err, errno, "cannot sync", dst);
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

static int finish_digest(struct copy_ctx *c, struct artifact_stage *st)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_DigestFinal_ex(c->md, d, &n) != 1 || n != 32)
		return error_set(c->err, 500, "InternalError", "sha256 failed");
	hex(d, n, st->sha256);
	st->size = c->size;
	return 0;
}

static int digest_start(struct copy_ctx *c, struct error *err)
{
	memset(c, 0, sizeof *c);
	c->err = err;
	c->md = EVP_MD_CTX_new();
	if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return error_set(err, 500, "InternalError", "sha256 unavailable");
	return 0;
}

/* A fresh HOME/tmp/import-XXXXXX directory for st. */
static int stage_dir(const char *home, struct artifact_stage *st, struct error *err)
{
	if (snprintf(st->dir, sizeof st->dir, "%s/tmp/import-XXXXXX", home) >= (int)sizeof st->dir) {
		st->dir[0] = '\0';
		return error_set(err, 500, "StorageError", "home path too long");
	}
	if (mkdtemp(st->dir) == NULL) {
		int e = errno;

		snprintf(st->dir, sizeof st->dir, "%s/tmp", home);
		io_error(err, e, "cannot make a temporary directory in", st->dir);
		st->dir[0] = '\0';
		return -1;
	}
	return 0;
}

void artifact_stage_discard(struct artifact_stage *st)
{
	if (st->dir[0] != '\0')
		remove_tree(st->dir);
	st->dir[0] = '\0';
}

/* Copies the checked source into the stage as st->base. */
static int stage_copy(const char *path, const struct stat *sb, struct artifact_stage *st,
		      struct copy_ctx *c)
{
	char dst[PATH_MAX];
	int rc;

	if (snprintf(dst, sizeof dst, "%s/%s", st->dir, st->base) >= (int)sizeof dst)
		return error_set(c->err, 400, "ValidationError", "path too long");
	c->records = S_ISDIR(sb->st_mode);
	rc = c->records ? copy_tree(path, dst, "", 0, c) : copy_file(path, dst, st->base, 1, c);
	if (rc == 0 && fsync_path(st->dir) < 0)
		rc = io_error(c->err, errno, "cannot sync", st->dir);
	return rc;
}

/* The source must be an absolute path (or file:// URI) to a file or directory. */
static int check_source(const char *src, const char **path, struct stat *sb, struct error *err)
{
	if (src == NULL || src[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.modelUri is required");
	*path = source_path(src);
	if ((*path)[0] != '/')
		return error_set(err, 400, "ValidationError",
				 "properties.modelUri '%.200s' must be an absolute path or a "
				 "file:/// URI",
				 src);
	if (stat(*path, sb) < 0)
		return error_set(err, 400, "ValidationError", "properties.modelUri %.200s: %s",
				 *path, strerror(errno));
	if (!S_ISREG(sb->st_mode) && !S_ISDIR(sb->st_mode))
		return error_set(err, 400, "ValidationError",
				 "properties.modelUri %.200s is not a file or a directory", *path);
	return 0;
}

int artifact_stage_import(const char *home, const char *src, struct artifact_stage *st,
			  struct error *err)
{
	struct copy_ctx c;
	const char *path = NULL;
	struct stat sb;
	int rc = -1;

	memset(st, 0, sizeof *st);
	if (check_source(src, &path, &sb, err) < 0)
		return -1;
	if (base_name(path, st->base, sizeof st->base) < 0)
		snprintf(st->base, sizeof st->base, "model");
	if (digest_start(&c, err) == 0 && stage_dir(home, st, err) == 0 &&
	    stage_copy(path, &sb, st, &c) == 0)
		rc = finish_digest(&c, st);
	EVP_MD_CTX_free(c.md);
	if (rc < 0)
		artifact_stage_discard(st);
	return rc;
}

/* Digest and size of one regular file. */
static int file_digest(const char *path, struct artifact_stage *st, struct error *err)
{
	struct copy_ctx c;
	char buf[65536];
	ssize_t n = 0;
	int fd = -1, rc = -1;

	if (digest_start(&c, err) < 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		io_error(err, errno, "cannot read", path);
		goto out;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		EVP_DigestUpdate(c.md, buf, (size_t)n);
		c.size += (uint64_t)n;
	}
	if (n < 0)
		io_error(err, errno, "cannot read", path);
	else
		rc = finish_digest(&c, st);
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
	struct stat sb;

	if (snprintf(dir, sizeof dir, "%s/tmp/", home) >= (int)sizeof dir)
		return error_set(err, 500, "StorageError", "path too long");
	n = strlen(dir);
	if (strncmp(tmp_path, dir, n) != 0 || strchr(tmp_path + n, '/') != NULL ||
	    strcmp(tmp_path + n, "..") == 0 || lstat(tmp_path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return error_set(err, 500, "StorageError", "%s is not an upload under %s", tmp_path,
				 dir);
	return 0;
}

int artifact_stage_upload(const char *home, const char *tmp_path, const char *filename,
			  struct artifact_stage *st, struct error *err)
{
	char dst[PATH_MAX];

	memset(st, 0, sizeof *st);
	if (check_tmp_path(home, tmp_path, err) < 0)
		return -1;
	if (filename == NULL || strchr(filename, '/') != NULL ||
	    base_name(filename, st->base, sizeof st->base) < 0)
		snprintf(st->base, sizeof st->base, "model");
	if (file_digest(tmp_path, st, err) < 0 || stage_dir(home, st, err) < 0)
		return -1;
	if (snprintf(dst, sizeof dst, "%s/%s", st->dir, st->base) >= (int)sizeof dst) {
		artifact_stage_discard(st);
		return error_set(err, 500, "StorageError", "path too long under %s", home);
	}
	if (rename(tmp_path, dst) < 0) {
		io_error(err, errno, "cannot move", tmp_path);
		artifact_stage_discard(st);
		return -1;
	}
	fsync_path(dst);
	fsync_path(st->dir);
	return 0;
}

/* mkdir that is fine with an existing directory; -1 with errno. */
static int ensure_dir(const char *path)
{
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* Makes HOME/models/NAME/VERSION and a new empty ID directory in it (into final). */
static int new_slot(const char *home, const char *name, const char *version, char *final,
		    size_t len, struct error *err)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof dir, "%s/models/%s/%s", home, name, version) >= (int)sizeof dir ||
	    snprintf(final, len, "%s/XXXXXX", dir) >= (int)len)
		return error_set(err, 500, "StorageError", "path too long");
	for (int level = 0; level < 3; level++) {
		snprintf(dir, sizeof dir, "%s/models%s%s%s%s", home, level > 0 ? "/" : "",
			 level > 0 ? name : "", level > 1 ? "/" : "", level > 1 ? version : "");
		if (ensure_dir(dir) < 0)
			return io_error(err, errno, "cannot create", dir);
	}
	if (mkdtemp(final) == NULL)
		return io_error(err, errno, "cannot make a directory in", dir);
	return 0;
}

int artifact_place(const char *home, const char *name, const char *version,
		   struct artifact_stage *st, struct artifact_info *out, struct error *err)
{
	char final[PATH_MAX], rel[PATH_MAX];
	size_t n;

	memset(out, 0, sizeof *out);
	if (names_check_asset(name, "model name", err) < 0 ||
	    names_check_version(version, "model version", err) < 0)
		return -1;
	if (st->dir[0] == '\0')
		return error_set(err, 500, "InternalError", "nothing staged");
	if (new_slot(home, name, version, final, sizeof final, err) < 0)
		return -1;
	if (rename(st->dir, final) < 0) { /* over the empty ID directory */
		int e = errno;

		rmdir(final);
		return io_error(err, e, "cannot move into place", final);
	}
	st->dir[0] = '\0';
	n = strlen(final);
	final[n - 7] = '\0'; /* the VERSION directory: its new entry must survive a crash */
	fsync_path(final);
	final[n - 7] = '/';
	snprintf(rel, sizeof rel, "models/%s/%s/%s/%s", name, version, final + n - 6, st->base);
	out->rel = strdup(rel);
	memcpy(out->sha256, st->sha256, sizeof out->sha256);
	out->size = st->size;
	if (out->rel == NULL) {
		remove_tree(final);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	return 0;
}

/* The components of an artifact path: models/NAME/VERSION/[ID/]BASE, each a
 * plain name. 4 or 5 (the count), or -1 when rel is not one. */
static int split_rel(const char *rel, char parts[5][NAME_MAX + 1])
{
	int n = 0;
	const char *p = rel;

	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if (n == 5 || len == 0 || len > NAME_MAX || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		memcpy(parts[n], p, len);
		parts[n++][len] = '\0';
		p += len;
		p += *p == '/';
	}
	return (n == 4 || n == 5) && strcmp(parts[0], "models") == 0 ? n : -1;
}

int artifact_remove(const char *home, const char *rel)
{
	char parts[5][NAME_MAX + 1], path[PATH_MAX];
	int n = rel ? split_rel(rel, parts) : -1;

	if (n < 0 || artifact_path(home, rel, path, sizeof path) < 0)
		return -1;
	if (remove_tree(path) < 0 && errno != ENOENT)
		return -1;
	/* then each parent up to models/NAME while it is empty */
	for (int k = n - 1; k >= 2; k--) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
	return 0;
}

static int kept(const char *entry_rel, const char *const *keep, size_t n)
{
	size_t len = strlen(entry_rel);

	for (size_t i = 0; i < n; i++)
		if (keep[i] && strncmp(keep[i], entry_rel, len) == 0 &&
		    (keep[i][len] == '\0' || keep[i][len] == '/'))
			return 1;
	return 0;
}

/* Calls fn for every entry of directory path but . and .. */
static int each_entry(const char *path, int (*fn)(void *ctx, const char *name), void *ctx)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int total = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			total += fn(ctx, de->d_name);
	closedir(d);
	return total;
}

struct sweep {
	const char *home;
	const char *const *keep;
	size_t n;
	char rel[PATH_MAX]; /* models[/NAME[/VERSION]] being walked */
};

/* One entry at depth 1 (NAME), 2 (VERSION) or 3 (an artifact or ID). */
static int sweep_entry(void *ctx, const char *name)
{
	struct sweep *s = ctx;
	size_t len = strlen(s->rel);
	int depth = 1, removed = 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < len; i++)
		depth += s->rel[i] == '/';
	if (snprintf(s->rel + len, sizeof s->rel - len, "/%s", name) >= (int)(sizeof s->rel - len) ||
	    artifact_path(s->home, s->rel, path, sizeof path) < 0)
		goto out; /* too long to be ours: left alone */
	if (depth < 3 && kept(s->rel, s->keep, s->n)) {
		removed = each_entry(path, sweep_entry, s);
		rmdir(path); /* when nothing is left */
	} else if (!kept(s->rel, s->keep, s->n)) {
		removed = remove_tree(path) == 0;
	}
out:
	s->rel[len] = '\0';
	return removed;
}

int artifact_sweep(const char *home, const char *const *keep, size_t n)
{
	struct sweep s = {home, keep, n, "models"};
	char path[PATH_MAX];

	if (artifact_path(home, "models", path, sizeof path) < 0)
		return 0;
	return each_entry(path, sweep_entry, &s);
}
