/*
 * server.h: the HTTP layer of the runtime, over libmicrohttpd and a fast lane
 * of its own for the data plane's small requests.
 *
 * A request goes through three steps:
 *
 *  1. Headers complete: the server checks them (strict HTTP: one
 *     Content-Length, a Transfer-Encoding it implements, Host on HTTP/1.1,
 *     no NUL or control byte in the decoded path or query), then asks the
 *     admission hook (server_admit_fn) whether to take the request and where
 *     its body goes. Nothing of the body has been read at this point: a
 *     refusal (401, 404, 413, 503, ...) is answered at once with
 *     `Connection: close` and the body is never read.
 *  2. The body is read into memory (under one global budget for all bodies
 *     in memory: beyond it 503 with Retry-After; a few freed buffers, 8 MiB at
 *     most, are kept for the next bodies) or, when admitted as an
 *     upload, spooled to a file under the home (under a cap on all uploads
 *     in flight and a reserve of free space kept for the state: 507).
 *  3. The handler answers.
 *
 * Connections themselves are guarded by runtime/conns.h (limits, header
 * deadline, keep-alive idle, shedding).
 *
 * The fast lane: with o.fast_prefix on plain TCP, the server accepts
 * connections on loops of its own and takes a whole, plainly framed POST
 * under that prefix (runtime/httpfast.h) there, through the same three steps;
 * anything else goes to libmicrohttpd with its bytes unread (server.c).
 *
 * Threads: a few event loops (libmicrohttpd's epoll thread pool, one per CPU
 * the process may run on, by default, and as many fast-lane loops) do all the
 * I/O and call the admission hook and the handler with may_block = 0. A handler that can answer at once
 * (in-process scoring, health) does; one that might block (a control-plane
 * fsync) sets rs->defer and returns: the connection is suspended and the
 * handler is called again on a pool thread with may_block = 1, after which
 * the event loop sends its answer. A handler whose answer will come from
 * elsewhere (a capacity queue, a Python worker) sets rs->later instead: the
 * connection is suspended and the answer given with server_answer from any
 * thread, holding no thread meanwhile. So no event loop ever waits, and no
 * pool thread waits for the data plane.
 *
 * Nothing a client sends can abort the process.
 */
#ifndef RUNTIME_SERVER_H
#define RUNTIME_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/conns.h"
#include "runtime/httpfast.h"
#include "runtime/logfile.h"
#include "state/error.h"

#define SERVER_JSON_LIMIT (4u << 20)                 /* one body in memory: 4 MiB */
#define SERVER_MEMORY_BUDGET ((size_t)256 << 20)     /* all bodies in memory: 256 MiB */
#define SERVER_SPOOL_MAX ((size_t)2 << 30)           /* all uploads in flight: 2 GiB */
#define SERVER_SPOOL_RESERVE ((size_t)128 << 20)     /* free space uploads leave: 128 MiB */
#define SERVER_IO_TIMEOUT 60 /* s of silence while a body or an answer moves */
#define SERVER_MAX_SEGMENTS 24
#define SERVER_EXTRA_HEADERS 16

struct server_request {
	const char *method;
	const char *path;      /* decoded path, without the query */
	char *segv[SERVER_MAX_SEGMENTS]; /* path split on '/', empty segments dropped */
	int segc;
	const char *body;      /* NUL-terminated copy of the body (NULL when none) */
	size_t body_len;
	const char *upload_path; /* raw upload spooled to this file (NULL when none) */
	size_t upload_len;
	char request_id[64];   /* x-request-id, echoed or generated */
	char peer[64];         /* client address */
	long peer_uid;         /* on the Unix socket: the peer process's uid
				  (SO_PEERCRED); -1 on TCP */
	uint64_t start_ns;     /* monotonic time the request arrived */
	void *conn;            /* the MHD connection, for header lookup */
	const struct httpfast_req *fast; /* or the fast lane's reading of it */
	int may_block;         /* 0 on an event loop, 1 on a pool thread */
};

struct server_later; /* a request that will be answered later */

struct server_response {
	int status;
	char *body;            /* heap; freed by the server */
	size_t len;
	const char *content_type; /* static string; default application/json */
	char deployment[40];   /* azureml-model-deployment, "" when none */
	char note[96];         /* extra words for the request log line (never secrets) */
	int defer;             /* set (with may_block 0): call me again where I may block */
	/* or set (with may_block 0) to answer later: the server suspends the
	 * connection, then calls later(later_arg, a); the request (body, headers)
	 * stays valid until server_answer(a, ...) is called, exactly once */
	void (*later)(void *later_arg, struct server_later *a);
	void *later_arg;
	struct {
		char *name;        /* heap; freed by the server */
		char *value;       /* heap; freed by the server */
	} extra[SERVER_EXTRA_HEADERS]; /* more response headers (server_reply_header) */
	char *file;            /* heap path: the body is this file (server_reply_file) */
	uint64_t file_off, file_len; /* a part of it (file_len 0: all) */
};

/* Answers one request. Fills *rs; must not keep pointers into *rq. */
typedef void (*server_handler_fn)(void *ctx, const struct server_request *rq,
				  struct server_response *rs);

/* Where an admitted request's body goes. */
enum server_body { SERVER_BODY_MEMORY, SERVER_BODY_SPOOL };
struct server_admission {
	enum server_body body; /* preset SERVER_BODY_MEMORY */
	size_t limit;          /* largest body taken; preset json_limit; 0: none at all */
};
/* The pre-auth hook. Called once per request on an event loop (must not
 * block) when its headers are complete and before any byte of its body is
 * read; rq has method, path, segments, headers, query, peer and request id,
 * but no body. Returns 0 to take the request (ad may be changed: a spooled
 * upload, another limit), or -1 with a refusal in rs, which is answered at
 * once with Connection: close. */
typedef int (*server_admit_fn)(void *ctx, const struct server_request *rq,
			       struct server_admission *ad, struct server_response *rs);

struct server_options {
	const char *host;        /* numeric IPv4/IPv6 address */
	unsigned short port;     /* 0: any free port */
	size_t json_limit;       /* 0: SERVER_JSON_LIMIT */
	size_t body_memory;      /* all bodies in memory together; 0: SERVER_MEMORY_BUDGET */
	const char *spool_dir;   /* where uploads are spooled (inside the home) */
	size_t spool_max;        /* all uploads in flight together; 0: SERVER_SPOOL_MAX */
	size_t spool_reserve;    /* free space uploads must leave; 0: SERVER_SPOOL_RESERVE */
	struct conns_limits conns; /* zeros: the defaults of conns.h */
	unsigned io_timeout;     /* seconds; 0: SERVER_IO_TIMEOUT */
	server_admit_fn admit;   /* NULL: every request is taken into memory */
	server_handler_fn handler;
	void *ctx;
	struct logfile *log;     /* one line per request; NULL: none */
	int threads;             /* event loops; 0: one per CPU in our affinity mask */
	int max_blocking;        /* pool threads for deferred handlers; 0: 512 */
	const char *tls_cert_pem; /* PEM text: serve https (libmicrohttpd with GnuTLS); */
	const char *tls_key_pem;  /* both NULL: plain http */
	const char *fast_prefix; /* plain POSTs under this path (the data plane) may be
				    answered by the fast lane (below); NULL: none */
	const char *unix_path;   /* also serve the same API on this Unix socket (mode
				    0600; a stale one of ours is replaced, it is
				    unlinked at stop); NULL: none */
};

struct server;

struct server *server_start(const struct server_options *o, struct error *err);
/* Stops accepting, lets deferred handlers finish, closes. NULL is a no-op. */
void server_stop(struct server *s);
unsigned short server_port(const struct server *s);
/* The Unix socket being served, NULL when none. */
const char *server_unix_path(const struct server *s);
/* 1 when something accepts connections on the Unix socket at path. */
int server_unix_answers(const char *path);

/* Header lookup on the current request (case-insensitive), NULL when absent. */
const char *server_header(const struct server_request *rq, const char *name);
/* All request headers as "Name: value" strings, NULL-terminated, in one heap
 * block (free() it once). NULL on ENOMEM. */
char **server_header_list(const struct server_request *rq);
/* All query arguments as "name=value" strings (decoded), NULL-terminated, in
 * one heap block (free() it once). NULL on ENOMEM. */
char **server_query_list(const struct server_request *rq);
/* Query argument lookup, NULL when absent. */
const char *server_query(const struct server_request *rq, const char *name);

/* Answers a request handed out through rs->later, from any thread: takes
 * what rs holds (body, file, extra headers). a is invalid afterwards. */
void server_answer(struct server_later *a, struct server_response *rs);
/* Adds a response header (name and value copied; printable ASCII only, so
 * CR/LF are refused). 0, or -1 when malformed, full (SERVER_EXTRA_HEADERS) or
 * out of memory. */
int server_reply_header(struct server_response *rs, const char *name, const char *value);
/* Frees what a response holds (body, file, extra headers) and zeroes it. */
void server_response_cleanup(struct server_response *rs);
/* The server's counters in Prometheus text: answers by the path that read
 * their request (the fast lane, libmicrohttpd). */
struct dynbuf;
void server_prometheus(struct server *s, struct dynbuf *b);
/* Connection counters (see conns.h). */
void server_conn_stats(struct server *s, struct conns_stats *out);

/* Response helpers: take ownership of json text / build error bodies. */
void server_reply_json(struct server_response *rs, int status, char *json);
void server_reply_error(struct server_response *rs, const struct error *err);
void server_reply_errorf(struct server_response *rs, int status, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Answers with the content of the file at path (copied; opened when the
 * answer is sent, so a HEAD gets its Content-Length and no body). */
void server_reply_file(struct server_response *rs, int status, const char *path,
		       const char *content_type);
/* Narrows a file answer to len bytes from off (a 206's body). */
void server_reply_file_range(struct server_response *rs, uint64_t off, uint64_t len);

/* Monotonic nanoseconds. */
uint64_t server_now_ns(void);

#endif
