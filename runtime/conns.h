/*
 * conns.h: the connection guard of the HTTP server. Every connection is
 * tracked from accept to close so that no client can hold a slot it does not
 * use:
 *
 *  - a total deadline for a request's headers (from the accept, or from the
 *    request line on a kept-alive connection): bytes that trickle in do not
 *    extend it (slowloris);
 *  - a keep-alive idle timeout between requests;
 *  - a global and a per-peer (client address) limit on connections held;
 *    when one is reached, the oldest connection still waiting for a
 *    request's headers is shed to make room, so a flood never locks new
 *    clients out; only when every held connection is busy with a request
 *    is the new one refused;
 *  - peers that closed their side while we wait for their headers are shed
 *    within about two scans (libmicrohttpd 0.9.75 in epoll mode never sees a
 *    FIN that arrived with the request bytes before it watched the socket:
 *    one short read clears its read-ready flag and no edge follows, so such
 *    connections sat in CLOSE-WAIT until its timeout).
 *
 * Shedding is shutdown(fd, SHUT_RDWR): the server's event loop then sees the
 * hang-up and closes the connection in its own thread.
 *
 * Threads: conns_open and conns_close run on the event loop that owns the
 * connection (they take the guard's lock); the per-request transitions
 * (conns_request_line, conns_headers_done, conns_request_done) take no lock
 * (atomics only: the hot path). A guard thread of its own scans every
 * CONNS_SCAN_MS for deadlines and hang-ups.
 */
#ifndef RUNTIME_CONNS_H
#define RUNTIME_CONNS_H

#include <stddef.h>
#include <sys/socket.h>

#include "runtime/logfile.h"

#define CONNS_MAX_DEFAULT 4096       /* connections held at once */
#define CONNS_PER_PEER_DEFAULT 1024  /* per client address */
#define CONNS_HEADER_MS_DEFAULT 10000 /* total time for a request's headers */
#define CONNS_IDLE_MS_DEFAULT 30000  /* keep-alive wait between requests */
#define CONNS_SCAN_MS 100            /* the guard's period */
#define CONNS_FD_RESERVE 256         /* descriptors kept for everything but clients */
#define CONNS_HANDED_MS 5000         /* a hand-over not adopted by then has failed */

struct conns_limits {
	unsigned max;       /* 0: CONNS_MAX_DEFAULT */
	unsigned per_peer;  /* 0: CONNS_PER_PEER_DEFAULT (never above max) */
	unsigned header_ms; /* 0: CONNS_HEADER_MS_DEFAULT */
	unsigned idle_ms;   /* 0: CONNS_IDLE_MS_DEFAULT */
};

/* Counters since start (for the log and tests). */
struct conns_stats {
	unsigned long open;        /* held now */
	unsigned long shed_full;   /* waiting connections shed to make room */
	unsigned long refused;     /* new connections closed: all slots busy */
	unsigned long timed_out;   /* header deadline or keep-alive idle passed */
	unsigned long hung_up;     /* peer closed while we waited for its headers */
};

struct conns;
struct conns_entry;

/* Starts the guard thread; log (may be NULL) gets a summary line when
 * connections were shed. Limits are filled with their defaults in place.
 * NULL on ENOMEM. */
struct conns *conns_new(struct conns_limits *limits, struct logfile *log);
/* Stops the guard. Every connection must have been closed. NULL is a no-op. */
void conns_free(struct conns *g);

/* The descriptor budget for `max` client connections. */
unsigned conns_fd_need(unsigned max);

/* A connection was accepted (fd, peer address). May shed older waiting
 * connections, or refuse this one (then it is shut down at once). Returns its
 * entry, to be passed to the calls below and to conns_close; NULL on ENOMEM
 * (the connection is shut down too). */
struct conns_entry *conns_open(struct conns *g, int fd, const struct sockaddr *peer);
/* The connection is being closed by the server; e is freed. NULL is a no-op. */
void conns_close(struct conns *g, struct conns_entry *e);
/* The connection changes hands (the server's fast lane gives it to
 * libmicrohttpd, runtime/server.c): e keeps its age and its place in line
 * until the new owner adopts it. NULL is a no-op. */
void conns_hand_over(struct conns *g, struct conns_entry *e);
/* On the new owner's loop: the entry handed over for fd, or a new one as
 * conns_open gives. An entry in transit keeps its slot and may be shed (to
 * make room) like any waiter, but its descriptor is shut down only here, by
 * the new owner, who knows it is the connection's; one not adopted within
 * CONNS_HANDED_MS, or on whose descriptor a new conns_open comes, is dropped
 * untouched (its new owner failed to take it and closed it). */
struct conns_entry *conns_adopt(struct conns *g, int fd, const struct sockaddr *peer);
/* The new owner refused the connection (and closed it): fd's entry, if it
 * is still waiting, is dropped. Never opens one. */
void conns_take_back(struct conns *g, int fd);

/* A request line arrived on a kept-alive connection: its header deadline
 * starts now. */
void conns_request_line(struct conns_entry *e);
/* The request's headers are complete. 0, or -1 when the guard has already
 * shed the connection (the caller drops the request). */
int conns_headers_done(struct conns_entry *e);
/* The request is answered: the connection waits (keep-alive idle). */
void conns_request_done(struct conns_entry *e);

void conns_get_stats(struct conns *g, struct conns_stats *out);

#endif
