/* file.c: bounded whole-file reads, whole writes, mkdir -p, tree removal. */
#include "state/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read_stream(FILE *f, size_t max, size_t *len)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf, *nb;

	/* a regular file tells its size: one allocation in the common case */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0)
		cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		size_t r;

		errno = 0; /* so a failed read without errno is not reported with a stale one */
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n > max) {
			free(buf);
			errno = EFBIG;
			return NULL;
		}
		if (r == 0 || n < cap) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				free(buf);
				errno = e;
				return NULL;
			}
			if (feof(f))
				break;
			continue;
		}
		cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
		if ((nb = realloc(buf, cap + 1)) == NULL) {
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		buf = nb;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Reads f (not a directory) as file_read_stream does and closes it. */
static char *read_and_close(FILE *f, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int e = EISDIR;

	if (fstat(fileno(f), &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf = file_read_stream(f, max, len);
		e = errno;
	}
	fclose(f);
	errno = e;
	return buf;
}

char *file_read(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");

	return f != NULL ? read_and_close(f, max, len) : NULL;
}

char *file_read_at(int dirfd, const char *name, size_t max, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), e;
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;

	if (f != NULL)
		return read_and_close(f, max, len);
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return NULL;
}

int file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) { /* no progress and no error: report it as the disk being full */
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf) {
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

#define REMOVE_DEPTH_MAX 64

static int remove_at(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0, e = 0;

	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > REMOVE_DEPTH_MAX)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_at(fd, de->d_name, depth + 1) < 0 && rc == 0) {
			rc = -1;
			e = errno;
		}
	}
	closedir(d);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return -1;
	errno = e;
	return rc;
}

int file_remove_at(int dirfd, const char *name)
{
	return remove_at(dirfd, name, 0);
}

/* path's directory into buf ("." when it has none). */
static void file_dirname(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd, e;

	file_dirname(path, dir, sizeof dir);
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return errno = ENAMETOOLONG, -1;
	if (strcmp(dir, ".") != 0 && file_mkdirs(dir, 0700) < 0)
		return -1;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	int bad = fchmod(fd, mode) < 0 || file_write_all(fd, data, len) < 0 || fsync(fd) < 0;
	e = errno;
	bad |= close(fd) < 0;
	if (bad || rename(tmp, path) < 0) {
		e = bad && e != 0 ? e : errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
