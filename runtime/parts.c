/* parts.c: a batch job's mini-batch outputs in segment files (see parts.h). */
#include "runtime/parts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/minibatch.h"
#include "state/file.h"

struct parts {
	int dirfd;
};

struct parts_segment {
	int fd;
	uint64_t end;
	char name[PARTS_SEGMENT_MAX];
};

struct parts *parts_open(const char *dir, struct error *err)
{
	struct parts *p = calloc(1, sizeof *p);

	if (p == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (file_mkdirs(dir, 0700) < 0 ||
	    (p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		error_set(err, 500, "StorageError", "cannot create %.300s: %s", dir, strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

void parts_close(struct parts *p)
{
	if (p == NULL)
		return;
	close(p->dirfd);
	free(p);
}

struct parts_segment *parts_segment_new(struct parts *p, uint64_t run, int w, struct error *err)
{
	struct parts_segment *s = calloc(1, sizeof *s);

	if (s == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	snprintf(s->name, sizeof s->name, "seg-%016llx-%d.dat", (unsigned long long)run, w);
	s->fd = openat(p->dirfd, s->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if (s->fd < 0) {
		error_set(err, 500, "StorageError", "cannot create a part: %s", strerror(errno));
		free(s);
		return NULL;
	}
	return s;
}

void parts_segment_free(struct parts_segment *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}

int parts_segment_fd(const struct parts_segment *s)
{
	return s->fd;
}

uint64_t parts_segment_end(const struct parts_segment *s)
{
	return s->end;
}

const char *parts_segment_name(const struct parts_segment *s)
{
	return s->name;
}

int parts_segment_keep(struct parts_segment *s, uint64_t bytes)
{
	s->end += bytes;
	return 0;
}

int parts_segment_drop(struct parts_segment *s)
{
	if (ftruncate(s->fd, (off_t)s->end) < 0 || lseek(s->fd, (off_t)s->end, SEEK_SET) < 0)
		return -1;
	return 0;
}

/* A segment's name as a record gives it: "seg-...dat", nothing else. */
static int seg_open(struct parts *p, const char *seg)
{
	if (seg == NULL || strncmp(seg, "seg-", 4) != 0 || strchr(seg, '/') != NULL ||
	    strlen(seg) >= PARTS_SEGMENT_MAX) {
		errno = EINVAL;
		return -1;
	}
	return openat(p->dirfd, seg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int parts_check(struct parts *p, const char *seg, uint64_t off, uint64_t size, uint64_t hash)
{
	char buf[65536];
	uint64_t h = MINIBATCH_HASH_INIT, done = 0;
	int fd = seg_open(p, seg);
	ssize_t got = 0;

	if (fd < 0)
		return 0;
	while (done < size) {
		size_t want = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;

		got = pread(fd, buf, want, (off_t)(off + done));
		if (got <= 0)
			break;
		h = minibatch_hash(h, buf, (size_t)got);
		done += (uint64_t)got;
	}
	close(fd);
	return done == size && h == hash;
}

int parts_copy(struct parts *p, const char *seg, uint64_t off, uint64_t size, int out, char *buf,
	       size_t buflen, struct error *err)
{
	uint64_t done = 0;
	int fd = seg_open(p, seg);

	if (fd < 0)
		return error_set(err, 500, "StorageError", "a part of the output is missing: %s",
				 strerror(errno));
	while (done < size) {
		size_t want = size - done < buflen ? (size_t)(size - done) : buflen;
		ssize_t got = pread(fd, buf, want, (off_t)(off + done));

		if (got <= 0) {
			close(fd);
			return error_set(err, 500, "StorageError", "cannot read a part: %s",
					 got < 0 ? strerror(errno) : "it is shorter than recorded");
		}
		if (file_write_all(out, buf, (size_t)got) < 0) {
			close(fd);
			return error_set(err, 500, "StorageError",
					 "cannot write the output file: %s", strerror(errno));
		}
		done += (uint64_t)got;
	}
	close(fd);
	return 0;
}
