/*
 * pool.h: a cached thread pool, so the HTTP event loops never block or
 * compute for long: the server's runs the control plane (workspace lock,
 * fsyncs) and metrics; the fleet's scores in-process requests that had to
 * queue for capacity. Nothing waits for the data plane on a pool thread
 * (runtime/fleet.h). Threads are started on demand up to a maximum and exit
 * after idling. Every call is thread-safe.
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
