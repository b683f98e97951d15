/*
 * pool.h: a cached thread pool for work that may block (Python workers,
 * capacity queues, the control plane's fsyncs), so the HTTP event loops never
 * do. Threads are started on demand up to a maximum and exit after idling.
 * Every call is thread-safe.
 */
#ifndef RUNTIME_POOL_H
#define RUNTIME_POOL_H

struct pool;

typedef void (*pool_fn)(void *arg);

/* max_threads: the most threads at once; idle_ms: how long a spare thread waits
 * for work before it exits. NULL on ENOMEM. */
struct pool *pool_new(int max_threads, int idle_ms);
/* Queues fn(arg). 0, or -1 when the pool is stopping (fn is not run). */
int pool_submit(struct pool *p, pool_fn fn, void *arg);
/* Refuses new work from now on, runs what is queued, waits for every thread.
 * The pool stays valid (pool_submit answers -1) until pool_free. */
void pool_drain(struct pool *p);
/* Drains, then frees. NULL is a no-op. */
void pool_free(struct pool *p);

#endif
