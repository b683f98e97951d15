/*
 * conns.c: the connection guard. Held connections sit in one list in the
 * order they were accepted, and in their peer's list; shedding takes the
 * first one of a list that is still waiting for a request (header or idle
 * phase), so the oldest waiter goes first. A connection's phase is an atomic
 * the event loop moves forward without the lock; the guard claims a waiter
 * with a compare-and-swap to SHED, so a request whose headers complete at
 * that very moment is either served or shed, never half of each.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "runtime/conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state/clock.h"

#define PEER_BUCKETS 1024
#define SUMMARY_MS 10000 /* at most one summary line this often */

enum phase { PH_HEADERS, PH_IDLE, PH_REQUEST, PH_SHED };

struct peer {
	struct peer *next; /* hash chain */
	unsigned char addr[16];
	unsigned count;
	unsigned pinned; /* in use by conns_open: kept even when count is 0 */
	struct conns_entry *head, *tail; /* its held connections, oldest first */
};

struct conns_entry {
	struct conns_entry *prev, *next;   /* all held connections */
	struct conns_entry *pprev, *pnext; /* the peer's */
	struct peer *peer;                 /* NULL once shed or refused */
	int fd;
	atomic_int phase;
	atomic_uint_fast64_t since_ms;     /* when the current wait began */
	unsigned hup_scan;                 /* scan that first saw a hang-up; 0 none */
	struct conns_entry *hnext;         /* in the hand-over list */
	uint64_t handed_ms;                /* handed over then, not yet adopted; 0 none */
};

struct conns {
	pthread_mutex_t lock;
	struct conns_limits lim;
	struct conns_entry *head, *tail;
	struct conns_entry *handed;        /* handed over, not yet adopted */
	unsigned held;
	struct peer *buckets[PEER_BUCKETS];
	struct conns_stats st, logged;
	struct pollfd *pfd;
	struct conns_entry **pent;
	unsigned scan_no;
	uint64_t last_summary;
	struct logfile *log;
	pthread_cond_t wake;
	int stopping;
	pthread_t thread;
	int has_thread;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

unsigned conns_fd_need(unsigned max)
{
	return max + max / 2 + CONNS_FD_RESERVE;
}

/* ---- peers ---------------------------------------------------------------- */

/* IPv4 as v4-mapped IPv6, so one key shape serves both; other families
 * (a Unix socket) are one peer. */
static void peer_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

static unsigned peer_hash(const unsigned char key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % PEER_BUCKETS;
}

static struct peer *peer_get(struct conns *g, const unsigned char key[16])
{
	unsigned b = peer_hash(key);
	struct peer *p;

	for (p = g->buckets[b]; p; p = p->next)
		if (!memcmp(p->addr, key, 16))
			return p;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	memcpy(p->addr, key, 16);
	p->next = g->buckets[b];
	g->buckets[b] = p;
	return p;
}

static void peer_drop_if_empty(struct conns *g, struct peer *p)
{
	struct peer **pp;

	if (p->count > 0 || p->pinned > 0)
		return;
	for (pp = &g->buckets[peer_hash(p->addr)]; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

/* ---- lists (under the lock) ------------------------------------------------ */

static void link_entry(struct conns *g, struct conns_entry *e, struct peer *p)
{
	e->prev = g->tail;
	e->next = NULL;
	if (g->tail)
		g->tail->next = e;
	else
		g->head = e;
	g->tail = e;
	e->pprev = p->tail;
	e->pnext = NULL;
	if (p->tail)
		p->tail->pnext = e;
	else
		p->head = e;
	p->tail = e;
	e->peer = p;
	p->count++;
	g->held++;
}

static void unlink_entry(struct conns *g, struct conns_entry *e)
{
	struct peer *p = e->peer;

	if (p == NULL)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		g->tail = e->prev;
	if (e->pprev)
		e->pprev->pnext = e->pnext;
	else
		p->head = e->pnext;
	if (e->pnext)
		e->pnext->pprev = e->pprev;
	else
		p->tail = e->pprev;
	e->peer = NULL;
	p->count--;
	g->held--;
	peer_drop_if_empty(g, p);
}

/* Claims a waiting connection and hangs it up. 1 when shed, 0 when it was
 * busy (its headers completed meanwhile). */
static int shed(struct conns *g, struct conns_entry *e, int seen)
{
	int expect = seen;

	if (seen != PH_HEADERS && seen != PH_IDLE)
		return 0;
	if (!atomic_compare_exchange_strong(&e->phase, &expect, PH_SHED))
		return 0;
	unlink_entry(g, e);
	/* in transit, its descriptor may not be its own any more: the new owner
	 * shuts it when it adopts it (conns_adopt) */
	if (e->handed_ms == 0)
		shutdown(e->fd, SHUT_RDWR);
	return 1;
}

/* Sheds the oldest waiting connection of the list that starts at e (the
 * global list when peer is 0, else the peer's). 1 when one was shed. */
static int shed_oldest(struct conns *g, struct conns_entry *e, int peer_list)
{
	struct conns_entry *next;

	for (; e; e = next) {
		next = peer_list ? e->pnext : e->next;
		if (shed(g, e, atomic_load(&e->phase)))
			return 1;
	}
	return 0;
}

/* ---- the connection's life --------------------------------------------------- */

/* Under the lock: 0 when there is room for one more of peer p (made by
 * shedding if need be), -1 when every slot is busy. */
static int make_room(struct conns *g, struct peer *p)
{
	if (p->count >= g->lim.per_peer) {
		if (!shed_oldest(g, p->head, 1))
			return -1;
		g->st.shed_full++;
	}
	if (g->held >= g->lim.max) {
		if (!shed_oldest(g, g->head, 0))
			return -1;
		g->st.shed_full++;
	}
	return 0;
}

/* Under the lock: fd's entry off the hand-over list, NULL when none. */
static struct conns_entry *handed_take(struct conns *g, int fd)
{
	for (struct conns_entry **pp = &g->handed; *pp != NULL; pp = &(*pp)->hnext) {
		struct conns_entry *e = *pp;
		if (e->fd == fd) {
			*pp = e->hnext;
			e->hnext = NULL;
			e->handed_ms = 0;
			return e;
		}
	}
	return NULL;
}

struct conns_entry *conns_open(struct conns *g, int fd, const struct sockaddr *sa)
{
	struct conns_entry *e = calloc(1, sizeof *e), *stale;
	unsigned char key[16];
	struct peer *p;

	if (e == NULL) {
		shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	e->fd = fd;
	atomic_init(&e->phase, PH_HEADERS);
	atomic_init(&e->since_ms, now_ms());
	peer_key(sa, key);
	pthread_mutex_lock(&g->lock);
	/* a new connection on fd: one handed over on it before is long gone */
	if ((stale = handed_take(g, fd)) != NULL) {
		unlink_entry(g, stale);
		free(stale);
	}
	p = peer_get(g, key);
	if (p != NULL)
		p->pinned++; /* making room may shed the peer's last entry: p stays */
	if (p != NULL && make_room(g, p) == 0) {
		p->pinned--;
		link_entry(g, e, p);
	} else {
		if (p != NULL) {
			p->pinned--;
			peer_drop_if_empty(g, p);
		}
		atomic_store(&e->phase, PH_SHED);
		g->st.refused++;
		shutdown(fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&g->lock);
	return e;
}

void conns_hand_over(struct conns *g, struct conns_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	e->hnext = g->handed;
	e->handed_ms = now_ms();
	g->handed = e;
	pthread_mutex_unlock(&g->lock);
}

void conns_take_back(struct conns *g, int fd)
{
	struct conns_entry *e;

	pthread_mutex_lock(&g->lock);
	if ((e = handed_take(g, fd)) != NULL)
		unlink_entry(g, e);
	pthread_mutex_unlock(&g->lock);
	free(e);
}

struct conns_entry *conns_adopt(struct conns *g, int fd, const struct sockaddr *peer)
{
	struct conns_entry *e;

	pthread_mutex_lock(&g->lock);
	e = handed_take(g, fd);
	pthread_mutex_unlock(&g->lock);
	if (e == NULL)
		return conns_open(g, fd, peer);
	if (atomic_load(&e->phase) == PH_SHED) /* shed in transit (see shed) */
		shutdown(fd, SHUT_RDWR);
	return e;
}

void conns_close(struct conns *g, struct conns_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	unlink_entry(g, e);
	pthread_mutex_unlock(&g->lock);
	free(e);
}

void conns_request_line(struct conns_entry *e)
{
	int expect = PH_IDLE;

	if (e == NULL)
		return;
	/* since first: the guard reads phase, then since */
	atomic_store(&e->since_ms, now_ms());
	atomic_compare_exchange_strong(&e->phase, &expect, PH_HEADERS);
}

int conns_headers_done(struct conns_entry *e)
{
	int expect = PH_HEADERS;

	if (e == NULL)
		return 0;
	if (atomic_compare_exchange_strong(&e->phase, &expect, PH_REQUEST))
		return 0;
	/* IDLE: no request line was seen (libmicrohttpd calls it for each request,
	 * so this is only a safety net); SHED: too late */
	expect = PH_IDLE;
	if (atomic_compare_exchange_strong(&e->phase, &expect, PH_REQUEST))
		return 0;
	return expect == PH_REQUEST ? 0 : -1;
}

void conns_request_done(struct conns_entry *e)
{
	int expect = PH_REQUEST;

	if (e == NULL)
		return;
	atomic_store(&e->since_ms, now_ms());
	atomic_compare_exchange_strong(&e->phase, &expect, PH_IDLE);
}

/* ---- the guard thread -------------------------------------------------------- */

/* Under the lock: entries handed over and never adopted (their new owner
 * failed to take the connection and closed it) go, untouched: their
 * descriptor may be someone else's by now. */
static void scan_handed(struct conns *g, uint64_t now)
{
	for (struct conns_entry **pp = &g->handed; *pp != NULL;) {
		struct conns_entry *e = *pp;
		if (now > e->handed_ms && now - e->handed_ms > CONNS_HANDED_MS) {
			*pp = e->hnext;
			unlink_entry(g, e);
			free(e);
		} else {
			pp = &e->hnext;
		}
	}
}

/* Under the lock: sheds waiters past their deadline, lists the others for
 * the hang-up check. Returns how many were listed. */
static size_t scan_deadlines(struct conns *g, uint64_t now)
{
	struct conns_entry *e, *next;
	size_t n = 0;

	for (e = g->head; e; e = next) {
		int ph = atomic_load(&e->phase);
		uint64_t since = atomic_load(&e->since_ms);
		uint64_t limit = ph == PH_HEADERS ? g->lim.header_ms : g->lim.idle_ms;

		next = e->next;
		if ((ph != PH_HEADERS && ph != PH_IDLE) || e->handed_ms != 0) {
			e->hup_scan = 0;
			continue;
		}
		if (now > since && now - since > limit) {
			if (shed(g, e, ph))
				g->st.timed_out++;
			continue;
		}
		g->pfd[n].fd = e->fd;
		g->pfd[n].events = POLLRDHUP;
		g->pfd[n].revents = 0;
		g->pent[n++] = e;
	}
	return n;
}

/* Under the lock: a waiter whose peer has hung up on two scans in a row is
 * shed (one scan of grace lets the event loop read a request that came with
 * its FIN). */
static void scan_hangups(struct conns *g, size_t n)
{
	size_t i;

	if (n == 0 || poll(g->pfd, (nfds_t)n, 0) <= 0) {
		for (i = 0; i < n; i++)
			g->pent[i]->hup_scan = 0;
		return;
	}
	for (i = 0; i < n; i++) {
		struct conns_entry *e = g->pent[i];
		if (!(g->pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			e->hup_scan = 0;
		} else if (e->hup_scan == 0) {
			e->hup_scan = g->scan_no;
		} else if (e->hup_scan != g->scan_no && shed(g, e, atomic_load(&e->phase))) {
			g->st.hung_up++;
		}
	}
}

static void summary(struct conns *g, uint64_t now)
{
	struct conns_stats d;

	if (g->log == NULL || now - g->last_summary < SUMMARY_MS)
		return;
	d.shed_full = g->st.shed_full - g->logged.shed_full;
	d.refused = g->st.refused - g->logged.refused;
	d.timed_out = g->st.timed_out - g->logged.timed_out;
	d.hung_up = g->st.hung_up - g->logged.hung_up;
	if (d.shed_full + d.refused + d.timed_out + d.hung_up == 0)
		return;
	logfile_event(g->log,
		      "connections: %u held; in the last %us %lu waiting shed to make room, "
		      "%lu refused (all busy), %lu past the header or idle deadline, %lu hung up",
		      g->held, (unsigned)((now - g->last_summary) / 1000), d.shed_full, d.refused,
		      d.timed_out, d.hung_up);
	g->logged = g->st;
	g->last_summary = now;
}

static void *guard_main(void *arg)
{
	struct conns *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		uint64_t now = now_ms();
		size_t n;

		g->scan_no = g->scan_no + 1 ? g->scan_no + 1 : 1;
		scan_handed(g, now);
		n = scan_deadlines(g, now);
		scan_hangups(g, n);
		summary(g, now);
		ts = clock_deadline(CONNS_SCAN_MS);
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct conns *conns_new(struct conns_limits *lim, struct logfile *log)
{
	struct conns *g = calloc(1, sizeof *g);

	if (g == NULL)
		return NULL;
	if (lim->max == 0)
		lim->max = CONNS_MAX_DEFAULT;
	if (lim->per_peer == 0)
		lim->per_peer = CONNS_PER_PEER_DEFAULT;
	if (lim->per_peer > lim->max)
		lim->per_peer = lim->max;
	if (lim->header_ms == 0)
		lim->header_ms = CONNS_HEADER_MS_DEFAULT;
	if (lim->idle_ms == 0)
		lim->idle_ms = CONNS_IDLE_MS_DEFAULT;
	g->lim = *lim;
	g->log = log;
	g->last_summary = now_ms();
	g->pfd = calloc(lim->max, sizeof *g->pfd);
	g->pent = calloc(lim->max, sizeof *g->pent);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (g->pfd == NULL || g->pent == NULL ||
	    pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		conns_free(g);
		return NULL;
	}
	g->has_thread = 1;
	return g;
}

void conns_free(struct conns *g)
{
	if (g == NULL)
		return;
	if (g->has_thread) {
		pthread_mutex_lock(&g->lock);
		g->stopping = 1;
		pthread_cond_signal(&g->wake);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
	}
	while (g->handed != NULL) { /* handed over and never adopted */
		struct conns_entry *e = g->handed;
		g->handed = e->hnext;
		unlink_entry(g, e);
		free(e);
	}
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->wake);
	free(g->pfd);
	free(g->pent);
	free(g);
}

void conns_get_stats(struct conns *g, struct conns_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->st;
	out->open = g->held;
	pthread_mutex_unlock(&g->lock);
}
