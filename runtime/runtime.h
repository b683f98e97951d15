/*
 * runtime.h: the embedded scoring runtime, as a library. `mldeck serve` and
 * the console's embedded mode both go through runtime_start; the console then
 * talks to it only over loopback HTTP like any other client.
 */
#ifndef RUNTIME_RUNTIME_H
#define RUNTIME_RUNTIME_H

#include <stddef.h>

#include "runtime/conns.h"
#include "state/error.h"
#include "state/store.h"

struct runtime_options {
	const char *listen;     /* "HOST:PORT", default "127.0.0.1:5800"; port 0 = any */
	const char *home;       /* default: store_default_home() */
	const char *workspace;  /* default "local" */
	int tls;                /* serve https with the home's certificate (tls.h) */
	const char *tls_cert;   /* or these PEM files (implies tls) */
	const char *tls_key;
	int page_size;          /* list pages (nextLink past it); 0 = 100 */
	const char *log_path;   /* request/event log; NULL = stderr (never rotated) */
	size_t log_max_bytes;   /* rotate the log past this; 0 = LOGFILE_MAX_BYTES_DEFAULT */
	unsigned log_keep;      /* rotated files kept; 0 = LOGFILE_KEEP_DEFAULT */
	size_t max_upload;      /* raw model upload limit in bytes; 0 = 1 GiB */
	int token_ttl;          /* AMLToken lifetime in seconds; 0 = 3600 */
	int threads;            /* HTTP event loops; 0 = one per online CPU */
	int max_jobs;           /* batch jobs running at once; 0 = 4 */
	int max_queued;         /* batch jobs waiting Queued at once; 0 = 1000 */
	/* limits against hostile clients (docs/security.md); 0 = the default */
	struct conns_limits conns; /* connections, header deadline, keep-alive idle */
	unsigned io_timeout;    /* seconds of silence while a body or answer moves */
	size_t body_memory;     /* all request bodies in memory together */
	size_t spool_max;       /* all uploads in flight together */
	size_t spool_reserve;   /* free space uploads must leave in the home */
	unsigned stop_grace_ms; /* at stop, how long requests in flight may finish; 0 = 5000 */
	const char *worker_memory_mb; /* per Python worker process unless a deployment says
					 (MLDECK_WORKER_MEMORY_MB): MiB, "0" none; NULL = 4096 */
	int connect_info;       /* `serve` only: print the socket and key, do not run */
	unsigned collect_quota_mb; /* data collection: disk per deployment unless it says
				      (MLDECK_COLLECT_QUOTA_MB); 0 = 1024 */
};

/* Besides TCP the runtime serves the same API on HOME/RUNTIME_SOCKET (mode
 * 0600): what ssh:// profiles forward to. */
#define RUNTIME_SOCKET STORE_SOCKET

struct runtime;

/* Opens the home (lock, admin key), loads the state, brings deployments up
 * and starts listening. Returns once the server accepts connections. NULL
 * with a clear message in err (home locked, address in use, bad address). */
struct runtime *runtime_start(const struct runtime_options *o, struct error *err);
/* Stops: requests in flight get the stop grace to finish, then are answered
 * 503; workers and everything they started are killed; the home is released.
 * NULL is a no-op. */
void runtime_stop(struct runtime *rt);
/* "http://127.0.0.1:PORT" (https with TLS) with the port actually bound. */
const char *runtime_url(const struct runtime *rt);
const char *runtime_home(const struct runtime *rt);

/* `mldeck serve ...`: parses argv (argv[0] is "serve"), runs until SIGINT or
 * SIGTERM. Exit status: 0 clean stop, 1 could not start, 2 usage.
 * `mldeck serve --connect-info [--home DIR]` instead prints, for an ssh://
 * client that runs it over its ssh connection, the lines
 *   mldeck-connect 1
 *   socket PATH      (the runtime's Unix socket)
 *   key KEY          (its admin key)
 * and exits 0; or exits 1 with what to run on stderr when no runtime serves
 * that home. */
int runtime_serve_main(int argc, char **argv);

#endif
