/* lograte.c: per (peer, status) windows in a fixed hash table. */
#include "runtime/lograte.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char peer[64];
	int status;       /* 0: free */
	uint64_t start;   /* window start */
	unsigned seen;    /* lines in this window */
};

struct lograte {
	pthread_mutex_t lock;
	unsigned burst;
	uint64_t window;
	uint64_t next_sweep;
	struct slot slots[LOGRATE_SLOTS];
};

struct lograte *lograte_new(unsigned burst, unsigned window_ms)
{
	struct lograte *lr = calloc(1, sizeof *lr);

	if (lr == NULL)
		return NULL;
	pthread_mutex_init(&lr->lock, NULL);
	lr->burst = burst ? burst : LOGRATE_BURST;
	lr->window = window_ms ? window_ms : LOGRATE_WINDOW_MS;
	return lr;
}

void lograte_free(struct lograte *lr)
{
	if (lr == NULL)
		return;
	pthread_mutex_destroy(&lr->lock);
	free(lr);
}

static unsigned slot_of(const char *peer, int status)
{
	uint32_t h = 2166136261u ^ (uint32_t)status; /* FNV-1a */

	for (; *peer; peer++)
		h = (h ^ (unsigned char)*peer) * 16777619u;
	return h % LOGRATE_SLOTS;
}

/* The slot's window is over (or it is taken by another key): say what was
 * left out, and free it. */
static void close_slot(struct lograte *lr, struct slot *s, uint64_t now, lograte_emit_fn emit,
		       void *ctx)
{
	char line[160];

	if (s->status && s->seen > lr->burst && emit) {
		snprintf(line, sizeof line, "%s: %u more %d answers not logged in the last %llus",
			 s->peer, s->seen - lr->burst, s->status,
			 (unsigned long long)((now - s->start + 999) / 1000));
		emit(ctx, line);
	}
	s->status = 0;
}

static void sweep(struct lograte *lr, uint64_t now, int all, lograte_emit_fn emit, void *ctx)
{
	size_t i;

	for (i = 0; i < LOGRATE_SLOTS; i++) {
		struct slot *s = &lr->slots[i];
		if (s->status && (all || now - s->start >= lr->window))
			close_slot(lr, s, now, emit, ctx);
	}
}

int lograte_admit(struct lograte *lr, const char *peer, int status, uint64_t now_ms,
		  lograte_emit_fn emit, void *ctx)
{
	struct slot *s;
	int write;

	pthread_mutex_lock(&lr->lock);
	if (now_ms >= lr->next_sweep) {
		sweep(lr, now_ms, 0, emit, ctx);
		lr->next_sweep = now_ms + lr->window;
	}
	s = &lr->slots[slot_of(peer, status)];
	if (s->status && (s->status != status || strncmp(s->peer, peer, sizeof s->peer - 1) ||
			  now_ms - s->start >= lr->window))
		close_slot(lr, s, now_ms, emit, ctx);
	if (s->status == 0) {
		snprintf(s->peer, sizeof s->peer, "%s", peer);
		s->status = status;
		s->start = now_ms;
		s->seen = 0;
	}
	write = ++s->seen <= lr->burst;
	pthread_mutex_unlock(&lr->lock);
	return write;
}

void lograte_flush(struct lograte *lr, uint64_t now_ms, lograte_emit_fn emit, void *ctx)
{
	pthread_mutex_lock(&lr->lock);
	sweep(lr, now_ms, 1, emit, ctx);
	pthread_mutex_unlock(&lr->lock);
}
