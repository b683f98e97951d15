/*
 * server.h: the HTTP layer of the runtime, over libmicrohttpd.
 *
 * It reads a whole request (headers, then the body into memory up to a limit,
 * or, for raw uploads, into a file under the home), hands it to one handler
 * function, and sends the response the handler filled.
 *
 * Threads: a few event loops (libmicrohttpd's epoll thread pool, one per CPU
 * the process may run on, by default) do all the I/O and call the handler with may_block = 0. A
 * handler that can answer at once (in-process scoring, health) does; one that
 * might block (a Python worker, a capacity queue, a control-plane fsync) sets
 * rs->defer and returns: the connection is suspended and the handler is
 * called again on a pool thread with may_block = 1, after which the event
 * loop sends its answer. So no event loop ever waits.
 *
 * Nothing a client sends can abort the process: oversize bodies are answered
 * 413 here, before any handler runs.
 */
#ifndef RUNTIME_SERVER_H
#define RUNTIME_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/logfile.h"
#include "state/error.h"

#define SERVER_JSON_LIMIT (4u << 20) /* default body limit for JSON: 4 MiB */
#define SERVER_MAX_SEGMENTS 24
#define SERVER_MAX_REPLY_HEADERS 16

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
	uint64_t start_ns;     /* monotonic time the request arrived */
	void *conn;            /* the MHD connection, for header lookup */
	int may_block;         /* 0 on an event loop, 1 on a pool thread */
};

struct server_response {
	int status;
	char *body;            /* heap; freed by the server */
	size_t len;
	const char *content_type; /* static string; default application/json */
	char deployment[40];   /* azureml-model-deployment, "" when none */
	char note[96];         /* extra words for the request log line (never secrets) */
	int defer;             /* set (with may_block 0): call me again where I may block */
	char *headers[SERVER_MAX_REPLY_HEADERS]; /* "Name: value", heap; server_reply_header */
	int nheaders;
	char *file;            /* heap path: the body is this file (server_reply_file) */
};

/* Answers one request. Fills *rs; must not keep pointers into *rq. */
typedef void (*server_handler_fn)(void *ctx, const struct server_request *rq,
				  struct server_response *rs);
/* Decides, from method and path, whether a request's body may be a raw upload
 * (spooled to a file up to upload_limit) rather than JSON. */
typedef int (*server_upload_fn)(void *ctx, const char *method, const char *path,
				const char *content_type);

struct server_options {
	const char *host;        /* numeric IPv4/IPv6 address */
	unsigned short port;     /* 0: any free port */
	size_t json_limit;       /* 0: SERVER_JSON_LIMIT */
	size_t upload_limit;     /* raw uploads */
	const char *spool_dir;   /* where uploads are spooled (inside the home) */
	server_handler_fn handler;
	server_upload_fn upload;
	void *ctx;
	struct logfile *log;     /* one line per request; NULL: none */
	int threads;             /* event loops; 0: one per CPU in our affinity mask */
	int max_blocking;        /* pool threads for deferred handlers; 0: 512 */
	const char *tls_cert_pem; /* PEM text: serve https (libmicrohttpd with GnuTLS); */
	const char *tls_key_pem;  /* both NULL: plain http */
};

struct server;

struct server *server_start(const struct server_options *o, struct error *err);
/* Stops accepting, lets deferred handlers finish, closes. NULL is a no-op. */
void server_stop(struct server *s);
unsigned short server_port(const struct server *s);

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

/* Response helpers: take ownership of json text / build error bodies. */
void server_reply_json(struct server_response *rs, int status, char *json);
void server_reply_error(struct server_response *rs, const struct error *err);
void server_reply_errorf(struct server_response *rs, int status, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Adds a response header (copied; printable ASCII only, CR/LF refused). 0, or
 * -1 when it is malformed, memory is short or SERVER_MAX_REPLY_HEADERS are set. */
int server_reply_header(struct server_response *rs, const char *name, const char *value);
/* Answers with the content of the file at path (copied; opened when the
 * answer is sent, so a HEAD gets its Content-Length and no body). */
void server_reply_file(struct server_response *rs, int status, const char *path,
		       const char *content_type);

/* Monotonic nanoseconds. */
uint64_t server_now_ns(void);

#endif
