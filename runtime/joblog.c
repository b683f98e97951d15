/* joblog.c: a batch job's log files (see joblog.h). */
#include "runtime/joblog.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/file.h"

#define LINE_MAX_BYTES 2048

struct joblog {
	pthread_mutex_t lock;
	int progress, errors, batches; /* append-only fds */
	long nerrors;
};

static const char csv_header[] =
    "Mini-batch Id,Picked Count,Process,Start Time,Total,Succeeded,Failed,Elapsed Seconds,"
    "Process Seconds,Run Method Seconds,Status,Error Category,Error Message,Mini-batch Detail\n";

static int open_append(const char *dir, const char *name, int *created)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -1;
	*created = stat(path, &st) != 0 || st.st_size == 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd;
}

struct joblog *joblog_open(const char *dir, struct error *err)
{
	struct joblog *l = calloc(1, sizeof *l);
	char sub[PATH_MAX];
	int created;

	if (l == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	l->progress = l->errors = l->batches = -1;
	pthread_mutex_init(&l->lock, NULL);
	snprintf(sub, sizeof sub, "%s/sys/job_report", dir);
	if (file_mkdirs(sub, 0700) < 0 || (snprintf(sub, sizeof sub, "%s/user", dir),
					     file_mkdirs(sub, 0700) < 0)) {
		error_set(err, 500, "StorageError", "cannot create %s: %m", sub);
		joblog_close(l);
		return NULL;
	}
	l->progress = open_append(dir, "job_progress_overview.txt", &created);
	l->errors = open_append(dir, "user/error.txt", &created);
	l->batches = open_append(dir, "sys/job_report/processed_mini-batches.csv", &created);
	if (l->progress < 0 || l->errors < 0 || l->batches < 0) {
		error_set(err, 500, "StorageError", "cannot open the job's logs in %s: %m", dir);
		joblog_close(l);
		return NULL;
	}
	if (created && file_write_all(l->batches, csv_header, sizeof csv_header - 1) < 0) {
		error_set(err, 500, "StorageError", "cannot write the job's logs in %s: %m", dir);
		joblog_close(l);
		return NULL;
	}
	return l;
}

void joblog_close(struct joblog *l)
{
	if (l == NULL)
		return;
	if (l->progress >= 0)
		close(l->progress);
	if (l->errors >= 0)
		close(l->errors);
	if (l->batches >= 0)
		close(l->batches);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* "2026-01-02 03:04:05 " */
static size_t stamp(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	return strftime(buf, len, "%Y-%m-%d %H:%M:%S ", &tm);
}

static void vline(struct joblog *l, int fd, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];
	size_t n = stamp(line, sizeof line);
	int k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);

	if (k < 0)
		return;
	n += (size_t)k < sizeof line - n - 1 ? (size_t)k : sizeof line - n - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&l->lock);
	(void)file_write_all(fd, line, n);
	pthread_mutex_unlock(&l->lock);
}

void joblog_progress(struct joblog *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(l, l->progress, fmt, ap);
	va_end(ap);
}

void joblog_error(struct joblog *l, const char *fmt, ...)
{
	va_list ap;
	long n;

	pthread_mutex_lock(&l->lock);
	n = ++l->nerrors;
	pthread_mutex_unlock(&l->lock);
	if (n > JOBLOG_ERRORS_MAX) {
		if (n % 100000 == 0)
			joblog_progress(l, "%ld errors so far (error.txt keeps the first %d)", n,
					JOBLOG_ERRORS_MAX);
		return;
	}
	va_start(ap, fmt);
	vline(l, l->errors, fmt, ap);
	va_end(ap);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static size_t csv_field(char *out, size_t len, const char *s)
{
	size_t n = 0;

	if (s == NULL || strpbrk(s, ",\"\n\r") == NULL)
		return (size_t)snprintf(out, len, "%s", s ? s : "");
	out[n++] = '"';
	for (; *s && n + 3 < len; s++) {
		if (*s == '"')
			out[n++] = '"';
		out[n++] = *s == '\n' || *s == '\r' ? ' ' : *s;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

void joblog_batch(struct joblog *l, const struct joblog_batch *b)
{
	char line[LINE_MAX_BYTES * 2], start[32], msg[LINE_MAX_BYTES], detail[LINE_MAX_BYTES];
	time_t t = (time_t)b->start;
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(start, sizeof start, "%Y-%m-%d %H:%M:%S", &tm);
	csv_field(msg, sizeof msg, b->message);
	csv_field(detail, sizeof detail, b->detail);
	n = snprintf(line, sizeof line, "%d,%d,mldeck,%s,%lld,%lld,%lld,%.3f,%.3f,%.3f,%s,%s,%s,%s\n",
		     b->id, b->picked, start, (long long)b->total, (long long)b->succeeded,
		     (long long)b->failed, b->elapsed, b->elapsed, b->elapsed, b->status,
		     b->category ? b->category : "", msg, detail);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&l->lock);
	(void)file_write_all(l->batches, line, (size_t)n);
	pthread_mutex_unlock(&l->lock);
}
