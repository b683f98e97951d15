/* file.c: bounded whole-file reads. */
#include "state/file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		size_t r = fread(buf + n, 1, cap - n, f);
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

char *file_read(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	int e;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	buf = file_read_stream(f, max, len);
	e = errno;
	fclose(f);
	errno = e;
	return buf;
}

int file_mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof dir)
		return errno = ENAMETOOLONG, -1;
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char was = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -1;
		if (was == '\0')
			return 0;
		*p = '/';
	}
}
