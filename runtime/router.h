/*
 * router.h: an endpoint's traffic split, for the data plane.
 *
 * A router is built once from an endpoint's live traffic and mirrorTraffic
 * maps and never changes afterwards, so any number of request threads may
 * read it at once without locks. A traffic change builds a new router and
 * swaps it into the endpoint's router_slot; requests in flight keep the one
 * they took (reference counted) and finish on it, so no request fails
 * because traffic moved.
 *
 * The pattern, for the request thread:
 *
 *	struct router *r = router_slot_get(&ep->routes);   // a new reference
 *	const char *d = r ? router_pick(r, router_random()) : NULL;
 *	const char *m = r ? router_mirror(r, router_random()) : NULL;
 *	... copy d and m (or use them) while r is held ...
 *	router_unref(r);
 *
 * and for the control plane, after a traffic change is on disk:
 *
 *	struct router *nr = router_new(&ep.traffic, &ep.mirror);
 *	if (nr == NULL) ... 500, keep the old one ...
 *	router_slot_set(&ep->routes, nr);                   // takes nr's reference
 *
 * The names router_pick and router_mirror return point into the router and
 * stay valid while the caller holds its reference.
 */
#ifndef RUNTIME_ROUTER_H
#define RUNTIME_ROUTER_H

#include <pthread.h>
#include <stdint.h>

#include "state/resource.h"

struct router;

/* Builds a router from the live and mirror maps (either may be NULL: empty).
 * Entries at 0 % are never picked. Of the mirror map only the first entry
 * with a positive share is used (the rules allow one). Returns a router with
 * one reference, or NULL when out of memory. Any thread. */
struct router *router_new(const struct traffic *live, const struct traffic *mirror);
/* Takes another reference (returns r). NULL is a no-op. Any thread. */
struct router *router_ref(struct router *r);
/* Drops a reference; the last one frees the router. NULL is a no-op. */
void router_unref(struct router *r);

/* The deployment for one request, chosen with probability pct / sum of the
 * live weights, from a uniformly random 64-bit number (the high 32 bits are
 * used). NULL when every live weight is 0. */
const char *router_pick(const struct router *r, uint64_t random);
/* The mirror deployment for one request with probability mirror pct / 100,
 * else NULL (the low 32 bits of random are used, so the same random number
 * may be given to router_pick and router_mirror). */
const char *router_mirror(const struct router *r, uint64_t random);
/* The live weight of a deployment (0 if absent), and the sum of the weights. */
int router_weight(const struct router *r, const char *name);
int router_total(const struct router *r);

/* A fast per-thread pseudo-random number (xoshiro256**, each thread seeded
 * once from the clock, the thread and a counter through splitmix64). Not for
 * secrets: use auth.h for those. */
uint64_t router_random(void);

/* A holder of the current router of one endpoint: a mutex-protected pointer,
 * held for a few instructions by get and set. Embed it; init before use,
 * cleanup when the endpoint goes (drops the router it holds). */
struct router_slot {
	pthread_mutex_t lock;
	struct router *current;
};

void router_slot_init(struct router_slot *s);
void router_slot_cleanup(struct router_slot *s);
/* The current router with a new reference the caller must router_unref, or
 * NULL when none was set. Any thread. */
struct router *router_slot_get(struct router_slot *s);
/* Replaces the current router with r, taking over the caller's reference to
 * r (r may be NULL: no routing). The old router is unreferenced; requests
 * still holding it finish on it. Any thread. */
void router_slot_set(struct router_slot *s, struct router *r);

#endif
