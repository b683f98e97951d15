/*
 * logfile.c: buffered log, double-buffered so request threads only copy: the
 * flusher thread writes one buffer while requests fill the other. A request
 * thread waits only when both are full (the disk cannot keep up), which
 * bounds memory instead of dropping lines.
 */
#include "runtime/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/clock.h"

#define LOGFILE_BUFFER (64 * 1024)
#define LOGFILE_FLUSH_MS 100

struct logbuf {
	char data[LOGFILE_BUFFER];
	size_t len;
};

struct logfile {
	int fd, own;
	char *path;          /* rotated when set */
	size_t max_bytes, size;
	unsigned keep;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* to the flusher: a full buffer is waiting, or stop */
	pthread_cond_t drained; /* to writers: the flusher has emptied `out` */
	struct logbuf bufs[2];
	struct logbuf *cur;     /* being filled, under the lock */
	struct logbuf *out;     /* handed to the flusher; len 0 when it is free */
	int stopping;
	pthread_t flusher;
	int has_flusher;
};

/* A failing log must never fail a request: write errors are dropped. */
static void write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* FILE.N -> FILE.N+1 ... FILE -> FILE.1, then a fresh FILE. On failure the
 * log goes on in the file it has (a failing log must not fail requests). */
static void rotate(struct logfile *lf)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned i;
	int fd;

	snprintf(to, sizeof to, "%s.%u", lf->path, lf->keep);
	unlink(to);
	for (i = lf->keep; i > 1; i--) {
		snprintf(from, sizeof from, "%s.%u", lf->path, i - 1);
		snprintf(to, sizeof to, "%s.%u", lf->path, i);
		rename(from, to);
	}
	snprintf(to, sizeof to, "%s.1", lf->path);
	if (rename(lf->path, to) < 0)
		return;
	fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
}

/* The one writer of the file: calls never overlap (the flusher writes a
 * buffer no one else touches; flush waits for it first). */
static void write_out(struct logfile *lf, const char *p, size_t len)
{
	if (lf->path && lf->size > 0 && lf->size + len > lf->max_bytes)
		rotate(lf);
	write_all(lf->fd, p, len);
	lf->size += len;
}

/* Under the lock: hands `cur` to the flusher, waiting while `out` is busy. */
static void hand_over(struct logfile *lf)
{
	struct logbuf *t;

	while (lf->out->len > 0)
		pthread_cond_wait(&lf->drained, &lf->lock);
	t = lf->out;
	lf->out = lf->cur;
	lf->cur = t;
	pthread_cond_signal(&lf->wake);
}

static void *flusher_main(void *arg)
{
	struct logfile *lf = arg;
	struct timespec ts;

	pthread_mutex_lock(&lf->lock);
	for (;;) {
		if (lf->out->len == 0 && !lf->stopping) {
			ts = clock_deadline(LOGFILE_FLUSH_MS);
			pthread_cond_timedwait(&lf->wake, &lf->lock, &ts);
		}
		if (lf->out->len == 0 && lf->cur->len > 0) { /* the periodic flush */
			struct logbuf *t = lf->out;
			lf->out = lf->cur;
			lf->cur = t;
		}
		if (lf->out->len > 0) {
			struct logbuf *b = lf->out;
			pthread_mutex_unlock(&lf->lock);
			write_out(lf, b->data, b->len); /* outside the lock */
			pthread_mutex_lock(&lf->lock);
			b->len = 0;
			pthread_cond_broadcast(&lf->drained);
		}
		if (lf->stopping && lf->out->len == 0 && lf->cur->len == 0)
			break;
	}
	pthread_mutex_unlock(&lf->lock);
	return NULL;
}

/* Everything but the flusher thread, which starts last (it reads the rest). */
static struct logfile *logfile_alloc(int fd, int own)
{
	struct logfile *lf = calloc(1, sizeof *lf);

	if (lf == NULL)
		return NULL;
	lf->fd = fd;
	lf->own = own;
	lf->cur = &lf->bufs[0];
	lf->out = &lf->bufs[1];
	pthread_mutex_init(&lf->lock, NULL);
	pthread_cond_init(&lf->wake, NULL);
	pthread_cond_init(&lf->drained, NULL);
	return lf;
}

static struct logfile *logfile_start(struct logfile *lf)
{
	if (lf)
		lf->has_flusher = pthread_create(&lf->flusher, NULL, flusher_main, lf) == 0;
	return lf;
}

struct logfile *logfile_open(int fd, int own)
{
	return logfile_start(logfile_alloc(fd, own));
}

struct logfile *logfile_open_path(const char *path, size_t max_bytes, unsigned keep)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct logfile *lf;
	struct stat st;

	if (fd < 0)
		return NULL;
	lf = logfile_alloc(fd, 1);
	if (lf == NULL || (lf->path = strdup(path)) == NULL) {
		free(lf);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	lf->max_bytes = max_bytes ? max_bytes : LOGFILE_MAX_BYTES_DEFAULT;
	lf->keep = keep ? keep : LOGFILE_KEEP_DEFAULT;
	lf->size = fstat(fd, &st) == 0 ? (size_t)st.st_size : 0;
	return logfile_start(lf);
}

void logfile_write(struct logfile *lf, const char *line, size_t len)
{
	if (len > LOGFILE_BUFFER)
		len = LOGFILE_BUFFER; /* a line is never that long; cut rather than split */
	pthread_mutex_lock(&lf->lock);
	if (!lf->has_flusher) {
		write_out(lf, line, len);
	} else {
		if (lf->cur->len + len > LOGFILE_BUFFER)
			hand_over(lf);
		memcpy(lf->cur->data + lf->cur->len, line, len);
		lf->cur->len += len;
	}
	pthread_mutex_unlock(&lf->lock);
}

/* "TIME event: TEXT\n" into line (1024 bytes); its length. */
static size_t event_line(char *line, const char *fmt, va_list ap)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, 1024, "%s event: ", ts);
	n += vsnprintf(line + n, 1024 - (size_t)n - 1, fmt, ap);
	if (n > 1024 - 2)
		n = 1024 - 2;
	line[n++] = '\n';
	return (size_t)n;
}

void logfile_vevent(struct logfile *lf, const char *fmt, va_list ap)
{
	char line[1024];

	if (lf == NULL)
		return;
	logfile_write(lf, line, event_line(line, fmt, ap));
	logfile_flush(lf);
}

static void event_later(struct logfile *lf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void event_later(struct logfile *lf, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	logfile_write(lf, line, event_line(line, fmt, ap));
	va_end(ap);
}

void logfile_event_later(struct logfile *lf, const char *text)
{
	if (lf != NULL)
		event_later(lf, "%s", text);
}

void logfile_event(struct logfile *lf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logfile_vevent(lf, fmt, ap);
	va_end(ap);
}

void logfile_flush(struct logfile *lf)
{
	pthread_mutex_lock(&lf->lock);
	if (lf->has_flusher) {
		/* in order: what the flusher holds goes first, then the rest */
		while (lf->out->len > 0)
			pthread_cond_wait(&lf->drained, &lf->lock);
		write_out(lf, lf->cur->data, lf->cur->len);
		lf->cur->len = 0;
	}
	pthread_mutex_unlock(&lf->lock);
}

void logfile_close(struct logfile *lf)
{
	if (lf == NULL)
		return;
	pthread_mutex_lock(&lf->lock);
	lf->stopping = 1;
	pthread_cond_signal(&lf->wake);
	pthread_mutex_unlock(&lf->lock);
	if (lf->has_flusher)
		pthread_join(lf->flusher, NULL);
	if (lf->own)
		close(lf->fd);
	pthread_mutex_destroy(&lf->lock);
	pthread_cond_destroy(&lf->wake);
	pthread_cond_destroy(&lf->drained);
	free(lf->path);
	free(lf);
}
