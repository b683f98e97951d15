/* fetch.c: worker threads, a coalescing queue and a wake-up pipe. */
#include "ui/console/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/console/app.h"

struct fetch_worker {
	pthread_t thread;
	struct fetch *f;
	struct client *c;
	struct fetch_job *job; /* running, or NULL */
};

struct fetch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct fetch_job *queue, *finished, **finished_tail;
	struct fetch_worker workers[FETCH_MAX_WORKERS];
	int nworkers, idle, stop;
	int pipe[2]; /* finished jobs: the workers write a byte, the loop polls [0] */
	struct connect_info info; /* each worker's client is made from it */
	struct client_cache *cache; /* the workers' answers, shared */
	long timeout_ms;
	char down[256]; /* the last delivered job found no backend: why */
	int answered;	/* a delivered job got an answer */
};

void *fetch_job_new(size_t size, const char *key, int (*run)(struct fetch_job *, struct client *),
		    void (*done)(struct app *, struct fetch_job *),
		    void (*release)(struct fetch_job *))
{
	struct fetch_job *j = calloc(1, size);

	if (j == NULL)
		abort();
	app_copy(j->key, sizeof j->key, key);
	j->run = run;
	j->done = done;
	j->release = release;
	return j;
}

static void fetch_release(struct fetch_job *j)
{
	if (j->release != NULL)
		j->release(j);
	else
		free(j);
}

static void *fetch_worker_main(void *arg)
{
	struct fetch_worker *w = arg;
	struct fetch *f = w->f;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		struct fetch_job *j;

		while (!f->stop && f->queue == NULL) {
			f->idle++;
			pthread_cond_wait(&f->wake, &f->lock);
			f->idle--;
		}
		if (f->stop)
			break;
		j = f->queue;
		f->queue = j->next;
		j->next = NULL;
		j->started_ms = app_now_ms();
		w->job = j;
		pthread_mutex_unlock(&f->lock);
		memset(&j->err, 0, sizeof j->err);
		j->rc = j->run(j, w->c);
		pthread_mutex_lock(&f->lock);
		w->job = NULL;
		*f->finished_tail = j;
		f->finished_tail = &j->next;
		if (write(f->pipe[1], "", 1) < 0 && errno != EAGAIN)
			break;
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct fetch *fetch_new(const struct connect_info *info, long timeout_ms)
{
	struct fetch *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	f->pipe[0] = f->pipe[1] = -1;
	connect_info_copy(&f->info, info);
	f->timeout_ms = timeout_ms;
	f->finished_tail = &f->finished;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->cache = client_cache_new(FETCH_CACHE_SLOTS);
	if (f->cache == NULL || pipe(f->pipe) < 0) {
		fetch_free(f);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(f->pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(f->pipe[i], F_SETFL, O_NONBLOCK);
	}
	return f;
}

/* One more worker when every one is busy (lock held). */
static void fetch_grow(struct fetch *f)
{
	struct fetch_worker *w;
	struct error err = {0};

	if (f->idle > 0 || f->nworkers >= FETCH_MAX_WORKERS)
		return;
	w = &f->workers[f->nworkers];
	w->f = f;
	w->c = connect_info_client(&f->info, f->timeout_ms, &err);
	if (w->c == NULL)
		return;
	client_share_cache(w->c, f->cache);
	if (pthread_create(&w->thread, NULL, fetch_worker_main, w) != 0) {
		client_free(w->c);
		w->c = NULL;
		return;
	}
	f->nworkers++;
}

void fetch_submit(struct fetch *f, struct fetch_job *j)
{
	struct fetch_job **p;

	j->next = NULL;
	pthread_mutex_lock(&f->lock);
	for (p = &f->queue; *p != NULL; p = &(*p)->next) {
		if (j->key[0] && strcmp((*p)->key, j->key) == 0) {
			struct fetch_job *old = *p;

			/* the newer request takes the older one's place in the queue */
			j->next = old->next;
			*p = j;
			pthread_mutex_unlock(&f->lock);
			fetch_release(old);
			return;
		}
	}
	*p = j;
	fetch_grow(f);
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
}

int fetch_fd(const struct fetch *f)
{
	return f->pipe[0];
}

/* What a finished job says about the backend: "cannot reach URL: reason"
 * keeps the reason; an answer of any status clears it. */
static void fetch_note(struct fetch *f, const struct fetch_job *j)
{
	const char *why;

	if (j->rc == 0 || j->err.status != 0) {
		f->down[0] = '\0';
		f->answered = 1;
		return;
	}
	/* "cannot reach URL: reason": a URL holds no ": " */
	why = strstr(j->err.message, ": ");
	app_copy(f->down, sizeof f->down, why ? why + 2 : j->err.message);
}

const char *fetch_unreachable(const struct fetch *f)
{
	return f->down[0] ? f->down : NULL;
}

int fetch_answered(const struct fetch *f)
{
	return f->answered;
}

int fetch_deliver(struct fetch *f, struct app *a)
{
	char buf[64];
	int n = 0;

	while (read(f->pipe[0], buf, sizeof buf) > 0)
		;
	for (;;) {
		struct fetch_job *j;

		pthread_mutex_lock(&f->lock);
		j = f->finished;
		if (j != NULL && (f->finished = j->next) == NULL)
			f->finished_tail = &f->finished;
		pthread_mutex_unlock(&f->lock);
		if (j == NULL)
			return n;
		fetch_note(f, j);
		if (j->done != NULL)
			j->done(a, j);
		fetch_release(j);
		n++;
	}
}

long long fetch_waiting_ms(struct fetch *f)
{
	long long oldest = 0, now = app_now_ms();

	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->nworkers; i++)
		if (f->workers[i].job != NULL && now - f->workers[i].job->started_ms > oldest)
			oldest = now - f->workers[i].job->started_ms;
	pthread_mutex_unlock(&f->lock);
	return oldest;
}

int fetch_busy(struct fetch *f, const char *key)
{
	int busy = 0;

	pthread_mutex_lock(&f->lock);
	for (struct fetch_job *j = f->queue; j != NULL && !busy; j = j->next)
		busy = strcmp(j->key, key) == 0;
	for (int i = 0; i < f->nworkers && !busy; i++)
		busy = f->workers[i].job != NULL && strcmp(f->workers[i].job->key, key) == 0;
	pthread_mutex_unlock(&f->lock);
	return busy;
}

/* Drops a list of jobs unrun (or undelivered). */
static void fetch_drop(struct fetch_job *j)
{
	while (j != NULL) {
		struct fetch_job *next = j->next;

		fetch_release(j);
		j = next;
	}
}

void fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	for (int i = 0; i < f->nworkers; i++)
		client_cancel(f->workers[i].c);
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < f->nworkers; i++) {
		pthread_join(f->workers[i].thread, NULL);
		client_free(f->workers[i].c);
	}
	fetch_drop(f->queue);
	fetch_drop(f->finished);
	for (int i = 0; i < 2; i++)
		if (f->pipe[i] >= 0)
			close(f->pipe[i]);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	connect_info_cleanup(&f->info);
	client_cache_free(f->cache);
	free(f);
}
