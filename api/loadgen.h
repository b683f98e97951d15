/*
 * loadgen.h: a closed-loop HTTP load generator on libcurl multi, used by
 * `mldeck bench` and the console's bench key.
 *
 * C keep-alive connections each keep one POST in flight (a connection whose
 * request got no answer, e.g. while an ssh tunnel reconnects, waits 20 ms
 * before its next one instead of spinning); the run ends after
 * duration_s seconds, after `requests` requests, or when loadgen_stop is
 * called, whichever comes first. Latencies go into a log-linear histogram
 * (about 1 % wide buckets from 1 us to 60 s; max is exact).
 *
 * Threads: loadgen_run blocks the calling thread (run it in a background
 * thread for a live view); loadgen_stop and loadgen_snapshot may be called
 * from any other thread while it runs. loadgen_free after loadgen_run returned.
 */
#ifndef API_LOADGEN_H
#define API_LOADGEN_H

#include <stddef.h>

#include "api/client.h"
#include "state/error.h"

#define LOADGEN_STATUS_MAX 16

struct loadgen_config {
	const char *url;	/* scoring URL (client_scoring_url) */
	const char *unix_socket; /* NULL, or the Unix socket to reach url through */
	const char *key;	/* bearer key or token; copied */
	const char *deployment; /* NULL or "" to let the endpoint split traffic */
	const char *body;	/* request body; copied */
	size_t body_len;
	int connections;   /* 1..1024, default 1 */
	double duration_s; /* 0 = no time bound (then requests must be > 0) */
	long requests;	   /* 0 = no count bound */
	long timeout_ms;   /* per request, default 30000 */
	const struct client *via; /* NULL, or the client whose network settings (CA, connect-to)
				     every connection uses (client_setopt_network); it must
				     outlive loadgen_run */
	/* A key that expires (an AML token): from key_refresh_at (epoch seconds;
	 * 0 = never) key_refresh is called on loadgen_run's thread for a new one
	 * and the next time (0 when it fails: the old key stays, and it is asked
	 * again a second later). Requests started after that carry the new key. */
	long long key_refresh_at;
	int (*key_refresh)(void *ctx, char *buf, size_t len, long long *next_at);
	void *key_refresh_ctx;
};

struct loadgen_result {
	double elapsed_s;
	long completed; /* answers received, any status */
	long errors;	/* no answer (connection failed, timed out) */
	double rps;	/* completed / elapsed */
	double p50_ms, p90_ms, p99_ms, max_ms, mean_ms;
	int nstatus; /* distinct statuses, ascending */
	struct {
		int status;
		long count;
	} statuses[LOADGEN_STATUS_MAX];
	char last_error[256]; /* the last transport error, "" if none */
	int running;	      /* 1 while loadgen_run has not returned */
};

struct loadgen;

/* Validates and copies the configuration. NULL with err on a bad one. */
struct loadgen *loadgen_new(const struct loadgen_config *cfg, struct error *err);
/* Runs to completion (or stop). 0, or -1 with err when curl cannot start. */
int loadgen_run(struct loadgen *lg, struct error *err);
/* Asks a running loadgen_run to return soon (requests in flight are dropped). */
void loadgen_stop(struct loadgen *lg);
/* The figures so far (or final ones after loadgen_run returned). */
void loadgen_snapshot(struct loadgen *lg, struct loadgen_result *out);
void loadgen_free(struct loadgen *lg);

#endif
