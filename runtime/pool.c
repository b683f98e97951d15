/* pool.c: cached thread pool with an unbounded FIFO of jobs. */
#include "runtime/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "state/clock.h"

struct job {
	pool_fn fn;
	void *arg;
	struct job *next;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a job was queued, or stopping */
	pthread_cond_t gone;  /* a thread exited */
	struct job *head, *tail;
	int threads, idle, max_threads, idle_ms, stopping;
};

static struct job *take(struct pool *p)
{
	struct job *j = p->head;

	p->head = j->next;
	if (p->head == NULL)
		p->tail = NULL;
	return j;
}

static void *thread_main(void *arg)
{
	struct pool *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stopping) {
			int rc;
			until = clock_deadline((long)p->idle_ms);
			p->idle++;
			rc = pthread_cond_timedwait(&p->work, &p->lock, &until);
			p->idle--;
			if (rc == ETIMEDOUT && p->head == NULL)
				goto out;
		}
		if (p->head == NULL)
			goto out; /* stopping and nothing left */
		{
			struct job *j = take(p);
			pthread_mutex_unlock(&p->lock);
			j->fn(j->arg);
			free(j);
			pthread_mutex_lock(&p->lock);
		}
	}
out:
	p->threads--;
	pthread_cond_broadcast(&p->gone);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(int max_threads, int idle_ms)
{
	struct pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->max_threads = max_threads > 0 ? max_threads : 1;
	p->idle_ms = idle_ms > 0 ? idle_ms : 1000;
	return p;
}

/* A new thread when none is idle and the cap allows; under the lock. */
static void grow(struct pool *p)
{
	pthread_attr_t at;
	pthread_t th;

	if (p->idle > 0 || p->threads >= p->max_threads)
		return;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	if (pthread_create(&th, &at, thread_main, p) == 0)
		p->threads++;
	pthread_attr_destroy(&at);
}

int pool_submit(struct pool *p, pool_fn fn, void *arg)
{
	struct job *j = malloc(sizeof *j);

	if (j == NULL)
		return -1;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		free(j);
		return -1;
	}
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	grow(p);
	if (p->threads == 0) { /* could not start any thread: refuse rather than strand it */
		take(p);
		pthread_mutex_unlock(&p->lock);
		free(j);
		return -1;
	}
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void pool_drain(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	while (p->threads > 0)
		pthread_cond_wait(&p->gone, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pool_drain(p);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->gone);
	free(p);
}
