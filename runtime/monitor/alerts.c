/* alerts.c: webhook delivery with retries (alerts.h). */
#include "runtime/monitor/alerts.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "runtime/monitor/thread.h"
#include "state/clock.h"

#define TIMEOUT_MS 10000L
#define FIRST_BACKOFF_MS 500
#define RETRY_AFTER_MAX_S 60

struct delivery {
	struct delivery *next;
	char *url, *body;
};

struct alerts {
	alerts_log_fn log;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct delivery *head, **tail;
	size_t queued;
	int stop, running;
	pthread_t thread;
	atomic_ullong delivered, failed, retried, dropped;
};

static void say(struct alerts *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct alerts *a, const char *fmt, ...)
{
	char line[700];
	va_list ap;

	if (a->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	a->log(a->ctx, line);
}

/* Answers are read and dropped. */
static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

struct header_seen {
	long retry_after; /* seconds, -1 none */
};

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct header_seen *h = ctx;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char *end;
		long v = strtol(p + 12, &end, 10);
		if (end != p + 12 && v >= 0)
			h->retry_after = v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v;
	}
	return len;
}

/* One POST: the HTTP status, or 0 when none came (with why). */
static long post(const struct delivery *d, long *retry_after, char *why, size_t wlen)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct header_seen seen = {-1};
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	*retry_after = -1;
	if (c == NULL || h == NULL) {
		snprintf(why, wlen, "out of memory");
		goto out;
	}
	h = curl_slist_append(h, "User-Agent: mldeck-monitor/1");
	curl_easy_setopt(c, CURLOPT_URL, d->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &seen);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(why, wlen, "%s", curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*retry_after = seen.retry_after;
out:
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	return status;
}

/* Sleeps ms unless the alerts stop (then it returns at once). */
static void nap(struct alerts *a, long ms)
{
	struct timespec ts = clock_deadline(ms);

	pthread_mutex_lock(&a->lock);
	if (!a->stop)
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	pthread_mutex_unlock(&a->lock);
}

static int stopping(struct alerts *a)
{
	int s;

	pthread_mutex_lock(&a->lock);
	s = a->stop;
	pthread_mutex_unlock(&a->lock);
	return s;
}

static void deliver(struct alerts *a, const struct delivery *d)
{
	long backoff = FIRST_BACKOFF_MS, status = 0, after = -1;
	char why[256] = "";

	for (int attempt = 1; attempt <= ALERTS_ATTEMPTS; attempt++) {
		status = post(d, &after, why, sizeof why);
		if (status >= 200 && status < 300) {
			atomic_fetch_add(&a->delivered, 1);
			say(a, "alert delivered to %s (HTTP %ld, attempt %d)", d->url, status, attempt);
			return;
		}
		if (status != 0)
			snprintf(why, sizeof why, "HTTP %ld", status);
		if ((status >= 400 && status < 500 && status != 408 && status != 429) ||
		    attempt == ALERTS_ATTEMPTS || stopping(a))
			break;
		atomic_fetch_add(&a->retried, 1);
		say(a, "alert to %s failed (%s, attempt %d): retrying", d->url, why, attempt);
		nap(a, after >= 0 ? after * 1000 : backoff);
		backoff *= 2;
	}
	atomic_fetch_add(&a->failed, 1);
	say(a, "alert to %s not delivered: %s", d->url, why);
}

static void *thread_main(void *arg)
{
	struct alerts *a = arg;
	struct delivery *d;

	thread_name("mldeck-alerts");
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->head == NULL && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->head == NULL)
			break;
		d = a->head;
		a->head = d->next;
		if (a->head == NULL)
			a->tail = &a->head;
		a->queued--;
		pthread_mutex_unlock(&a->lock);
		deliver(a, d);
		free(d->url);
		free(d->body);
		free(d);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct alerts *alerts_new(alerts_log_fn log, void *ctx)
{
	struct alerts *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->log = log;
	a->ctx = ctx;
	a->tail = &a->head;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->running = pthread_create(&a->thread, NULL, thread_main, a) == 0;
	return a;
}

void alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->running)
		pthread_join(a->thread, NULL);
	while (a->head) {
		struct delivery *d = a->head;
		a->head = d->next;
		free(d->url);
		free(d->body);
		free(d);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

void alerts_send(struct alerts *a, const char *const *urls, size_t n, const char *body)
{
	for (size_t i = 0; a && i < n; i++) {
		struct delivery *d = calloc(1, sizeof *d), *old = NULL;
		if (d == NULL || (d->url = strdup(urls[i])) == NULL ||
		    (d->body = strdup(body)) == NULL) {
			if (d)
				free(d->url);
			free(d);
			atomic_fetch_add(&a->dropped, 1);
			continue;
		}
		pthread_mutex_lock(&a->lock);
		if (a->queued == ALERTS_QUEUE) { /* the oldest goes */
			old = a->head;
			a->head = old->next;
			if (a->head == NULL)
				a->tail = &a->head;
			a->queued--;
		}
		*a->tail = d;
		a->tail = &d->next;
		a->queued++;
		pthread_cond_signal(&a->cond);
		pthread_mutex_unlock(&a->lock);
		if (old) {
			atomic_fetch_add(&a->dropped, 1);
			free(old->url);
			free(old->body);
			free(old);
		}
	}
}

void alerts_prometheus(struct alerts *a, struct dynbuf *b)
{
	dynbuf_adds(b, "# HELP mldeck_monitor_webhooks_total Alert deliveries to webhooks, by "
		       "result.\n# TYPE mldeck_monitor_webhooks_total counter\n");
	dynbuf_addf(b, "mldeck_monitor_webhooks_total{result=\"delivered\"} %llu\n",
		    (unsigned long long)atomic_load(&a->delivered));
	dynbuf_addf(b, "mldeck_monitor_webhooks_total{result=\"failed\"} %llu\n",
		    (unsigned long long)atomic_load(&a->failed));
	dynbuf_addf(b, "mldeck_monitor_webhooks_total{result=\"retried\"} %llu\n",
		    (unsigned long long)atomic_load(&a->retried));
	dynbuf_addf(b, "mldeck_monitor_webhooks_total{result=\"dropped\"} %llu\n",
		    (unsigned long long)atomic_load(&a->dropped));
}
