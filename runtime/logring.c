/* logring.c: bounded, shared, timestamped line log. */
#include "runtime/logring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct logring {
	atomic_int refs;
	pthread_mutex_t lock;
	char *lines[LOGRING_LINES];
	size_t head; /* index of the oldest line */
	size_t n;
};

struct logring *logring_new(void)
{
	struct logring *l = calloc(1, sizeof *l);

	if (l == NULL)
		return NULL;
	atomic_init(&l->refs, 1);
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

struct logring *logring_ref(struct logring *l)
{
	if (l)
		atomic_fetch_add(&l->refs, 1);
	return l;
}

void logring_unref(struct logring *l)
{
	size_t i;

	if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	for (i = 0; i < LOGRING_LINES; i++)
		free(l->lines[i]);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void logring_add(struct logring *l, const char *line)
{
	char ts[32], *copy;
	struct timespec now;
	struct tm tm;
	size_t len = strnlen(line, LOGRING_LINE_MAX);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	copy = malloc(len + 40);
	if (copy == NULL)
		return;
	snprintf(copy, len + 40, "%s.%03ldZ %.*s", ts, now.tv_nsec / 1000000, (int)len, line);
	pthread_mutex_lock(&l->lock);
	if (l->n == LOGRING_LINES) {
		free(l->lines[l->head]);
		l->lines[l->head] = copy;
		l->head = (l->head + 1) % LOGRING_LINES;
	} else {
		l->lines[(l->head + l->n) % LOGRING_LINES] = copy;
		l->n++;
	}
	pthread_mutex_unlock(&l->lock);
}

char *logring_tail(struct logring *l, int tail)
{
	size_t i, first, total = 1, off = 0;
	char *out;

	pthread_mutex_lock(&l->lock);
	first = tail > 0 && (size_t)tail < l->n ? l->n - (size_t)tail : 0;
	for (i = first; i < l->n; i++)
		total += strlen(l->lines[(l->head + i) % LOGRING_LINES]) + 1;
	out = malloc(total);
	if (out) {
		for (i = first; i < l->n; i++) {
			const char *s = l->lines[(l->head + i) % LOGRING_LINES];
			size_t n = strlen(s);
			memcpy(out + off, s, n);
			off += n;
			out[off++] = '\n';
		}
		out[off] = '\0';
	}
	pthread_mutex_unlock(&l->lock);
	return out;
}
