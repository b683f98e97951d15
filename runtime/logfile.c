/* logfile.c: buffered log with a periodic flusher thread. */
#include "runtime/logfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOGFILE_BUFFER (64 * 1024)
#define LOGFILE_FLUSH_MS 100

struct logfile {
	int fd, own;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char buf[LOGFILE_BUFFER];
	size_t len;
	int stopping;
	pthread_t flusher;
	int has_flusher;
};

/* Under the lock. A failing log must never fail a request: errors are dropped. */
static void drain(struct logfile *lf)
{
	size_t off = 0;

	while (off < lf->len) {
		ssize_t w = write(lf->fd, lf->buf + off, lf->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	lf->len = 0;
}

static void *flusher_main(void *arg)
{
	struct logfile *lf = arg;
	struct timespec ts;

	pthread_mutex_lock(&lf->lock);
	while (!lf->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += LOGFILE_FLUSH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&lf->wake, &lf->lock, &ts);
		drain(lf);
	}
	pthread_mutex_unlock(&lf->lock);
	return NULL;
}

struct logfile *logfile_open(int fd, int own)
{
	struct logfile *lf = calloc(1, sizeof *lf);

	if (lf == NULL)
		return NULL;
	lf->fd = fd;
	lf->own = own;
	pthread_mutex_init(&lf->lock, NULL);
	pthread_cond_init(&lf->wake, NULL);
	lf->has_flusher = pthread_create(&lf->flusher, NULL, flusher_main, lf) == 0;
	return lf;
}

void logfile_write(struct logfile *lf, const char *line, size_t len)
{
	pthread_mutex_lock(&lf->lock);
	if (lf->len + len > sizeof lf->buf || !lf->has_flusher)
		drain(lf);
	if (len > sizeof lf->buf) {
		/* longer than the buffer: straight out */
		memcpy(lf->buf, line, sizeof lf->buf);
		lf->len = sizeof lf->buf;
		drain(lf);
	} else {
		memcpy(lf->buf + lf->len, line, len);
		lf->len += len;
		if (!lf->has_flusher)
			drain(lf);
	}
	pthread_mutex_unlock(&lf->lock);
}

void logfile_flush(struct logfile *lf)
{
	pthread_mutex_lock(&lf->lock);
	drain(lf);
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
	drain(lf);
	if (lf->own)
		close(lf->fd);
	pthread_mutex_destroy(&lf->lock);
	pthread_cond_destroy(&lf->wake);
	free(lf);
}
