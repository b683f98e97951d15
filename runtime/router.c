/* router.c: weighted choice of a deployment per request, and its holder. */
#include "runtime/router.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct route {
	char name[RESOURCE_NAME_MAX + 1];
	int pct;
	uint32_t upto; /* cumulative weight: this route takes [previous upto, upto) */
};

struct router {
	atomic_uint refs;
	uint32_t total;
	char mirror[RESOURCE_NAME_MAX + 1]; /* "" when no mirror */
	int mirror_pct;
	size_t n;
	struct route routes[];
};

static size_t router_count_live(const struct traffic *live)
{
	size_t n = 0;

	for (size_t i = 0; live != NULL && i < live->n; i++)
		if (live->items[i].pct > 0)
			n++;
	return n;
}

static void router_set_mirror(struct router *r, const struct traffic *mirror)
{
	for (size_t i = 0; mirror != NULL && i < mirror->n; i++) {
		if (mirror->items[i].pct <= 0)
			continue;
		snprintf(r->mirror, sizeof r->mirror, "%s", mirror->items[i].name);
		r->mirror_pct = mirror->items[i].pct > 100 ? 100 : mirror->items[i].pct;
		return;
	}
}

struct router *router_new(const struct traffic *live, const struct traffic *mirror)
{
	size_t n = router_count_live(live);
	struct router *r = calloc(1, sizeof *r + n * sizeof r->routes[0]);

	if (r == NULL)
		return NULL;
	atomic_init(&r->refs, 1);
	for (size_t i = 0; live != NULL && i < live->n; i++) {
		const struct share *s = &live->items[i];

		if (s->pct <= 0)
			continue;
		snprintf(r->routes[r->n].name, sizeof r->routes[r->n].name, "%s", s->name);
		r->routes[r->n].pct = s->pct;
		r->total += (uint32_t)s->pct;
		r->routes[r->n].upto = r->total;
		r->n++;
	}
	router_set_mirror(r, mirror);
	return r;
}

struct router *router_ref(struct router *r)
{
	if (r != NULL)
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}

void router_unref(struct router *r)
{
	if (r != NULL && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		free(r);
}

const char *router_pick(const struct router *r, uint64_t random)
{
	uint32_t x;

	if (r == NULL || r->total == 0)
		return NULL;
	/* Multiply-shift maps 32 random bits onto [0, total) without a division. */
	x = (uint32_t)(((random >> 32) * (uint64_t)r->total) >> 32);
	for (size_t i = 0; i < r->n; i++)
		if (x < r->routes[i].upto)
			return r->routes[i].name;
	return r->routes[r->n - 1].name;
}

const char *router_mirror(const struct router *r, uint64_t random)
{
	uint32_t x;

	if (r == NULL || r->mirror_pct <= 0)
		return NULL;
	x = (uint32_t)(((random & 0xffffffffu) * 100u) >> 32);
	return x < (uint32_t)r->mirror_pct ? r->mirror : NULL;
}

int router_weight(const struct router *r, const char *name)
{
	for (size_t i = 0; r != NULL && i < r->n; i++)
		if (strcmp(r->routes[i].name, name) == 0)
			return r->routes[i].pct;
	return 0;
}

int router_total(const struct router *r)
{
	return r == NULL ? 0 : (int)r->total;
}

static uint64_t router_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t router_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Seeds this thread's generator: clock, stack address and a process counter
 * make the streams of two threads differ even when started together. */
static void router_seed(uint64_t st[4])
{
	static atomic_uint_fast64_t counter;
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)(uintptr_t)st;
	x ^= atomic_fetch_add(&counter, 1) * 0xd1b54a32d192ed03u;
	for (int i = 0; i < 4; i++)
		st[i] = router_splitmix(&x);
}

uint64_t router_random(void)
{
	static _Thread_local uint64_t st[4];
	static _Thread_local int seeded;
	uint64_t result, t;

	if (!seeded) {
		router_seed(st);
		seeded = 1;
	}
	result = router_rotl(st[1] * 5, 7) * 9;
	t = st[1] << 17;
	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = router_rotl(st[3], 45);
	return result;
}

void router_slot_init(struct router_slot *s)
{
	pthread_mutex_init(&s->lock, NULL);
	s->current = NULL;
}

void router_slot_cleanup(struct router_slot *s)
{
	router_unref(s->current);
	s->current = NULL;
	pthread_mutex_destroy(&s->lock);
}

struct router *router_slot_get(struct router_slot *s)
{
	struct router *r;

	pthread_mutex_lock(&s->lock);
	r = router_ref(s->current);
	pthread_mutex_unlock(&s->lock);
	return r;
}

void router_slot_set(struct router_slot *s, struct router *r)
{
	struct router *old;

	pthread_mutex_lock(&s->lock);
	old = s->current;
	s->current = r;
	pthread_mutex_unlock(&s->lock);
	router_unref(old);
}
