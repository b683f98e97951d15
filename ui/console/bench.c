/* bench.c: the bench key's load generator thread. */
#include "ui/console/bench.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/loadgen.h"
#include "api/scoring.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/request.h"

struct bench {
	pthread_t thread;
	struct loadgen *lg;
	struct client *client; /* the bench thread's own: network settings, a token's renewal */
	char endpoint[64], auth_mode[16];
	int rc;
	struct error err;
};

/* A new token when the one the bench started with is due (bench thread). */
static int bench_refresh(void *ctx, char *buf, size_t len, long long *next_at)
{
	struct bench *bn = ctx;
	struct error err = {0};

	return scoring_credential(bn->client, bn->endpoint, bn->auth_mode, buf, len, next_at,
				  &err);
}

static void bench_free(struct bench *bn)
{
	loadgen_free(bn->lg);
	client_free(bn->client);
	free(bn);
}

static void *bench_main(void *arg)
{
	struct bench *bn = arg;

	bn->rc = loadgen_run(bn->lg, &bn->err);
	return NULL;
}

/* The request body named like ep (heap), or NULL with the message set. */
static char *bench_body(struct app *a, const char *ep)
{
	struct request_files *f = calloc(1, sizeof *f);
	char *body = NULL;

	if (f == NULL)
		return NULL;
	request_list(f);
	if (f->n == 0)
		app_message(a, 1, "no request files (demo/requests)");
	else if ((body = request_read(f->path[request_for_endpoint(f, ep)])) == NULL)
		app_message(a, 1, "cannot read the request file for %s", ep);
	free(f);
	return body;
}

struct bench_job {
	struct fetch_job job;
	char ep[64];
	struct scoring_target st; /* where and with what (api/scoring.h) */
	char *body;
};

static int bench_key_run(struct fetch_job *j, struct client *c)
{
	struct bench_job *b = (struct bench_job *)j;

	return scoring_target(c, b->ep, &b->st, &j->err);
}

/* The key came: the load generator starts on its own thread. */
static void bench_launch(struct app *a, struct fetch_job *j)
{
	struct bench_job *b = (struct bench_job *)j;
	struct bench *bn;
	struct loadgen_config cfg;
	struct error err = {0};

	if (j->rc < 0) {
		app_message(a, 1, "bench: %s", j->err.message);
		return;
	}
	if (a->bench != NULL)
		return;
	bn = calloc(1, sizeof *bn);
	if (bn == NULL || (bn->client = connect_info_client(&a->info, 10000, &err)) == NULL) {
		app_message(a, 1, "bench: %s", err.message);
		free(bn);
		return;
	}
	app_copy(bn->endpoint, sizeof bn->endpoint, b->ep);
	app_copy(bn->auth_mode, sizeof bn->auth_mode, b->st.auth_mode);
	cfg = (struct loadgen_config){.url = b->st.url,
				      .unix_socket = b->st.unix_socket,
				      .key = b->st.credential,
				      .body = b->body,
				      .body_len = strlen(b->body),
				      .connections = 4,
				      .duration_s = 10,
				      .timeout_ms = 5000,
				      .via = bn->client,
				      .key_refresh_at = b->st.refresh_at,
				      .key_refresh = bench_refresh,
				      .key_refresh_ctx = bn};
	if ((bn->lg = loadgen_new(&cfg, &err)) == NULL) {
		app_message(a, 1, "bench: %s", err.message);
		bench_free(bn);
		return;
	}
	if (pthread_create(&bn->thread, NULL, bench_main, bn) != 0) {
		bench_free(bn);
		return;
	}
	a->bench = bn;
	app_message(a, 0, "bench: 10 s against %s with 4 connections...", b->ep);
}

static void bench_job_release(struct fetch_job *j)
{
	struct bench_job *b = (struct bench_job *)j;

	scoring_target_cleanup(&b->st);
	free(b->body);
	free(b);
}

void bench_start(struct app *a, const char *ep)
{
	struct bench_job *b;
	char *body;

	if (a->bench != NULL) {
		app_message(a, 1, "a bench is already running");
		return;
	}
	if (ep[0] == '\0' || (body = bench_body(a, ep)) == NULL)
		return;
	b = fetch_job_new(sizeof *b, "bench", bench_key_run, bench_launch, bench_job_release);
	app_copy(b->ep, sizeof b->ep, ep);
	b->body = body;
	app_message(a, 0, "bench: asking for %s's key...", ep);
	data_submit(a, &b->job);
}

static void bench_join(struct app *a, const struct loadgen_result *res)
{
	struct bench *bn = a->bench;

	pthread_join(bn->thread, NULL);
	if (bn->rc < 0)
		app_message(a, 1, "bench failed: %s", bn->err.message);
	else
		app_message(a, 0,
			    "bench %s done: %ld requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, "
			    "%ld transport errors",
			    bn->endpoint, res->completed, res->rps, res->p50_ms, res->p99_ms,
			    res->errors);
	bench_free(bn);
	a->bench = NULL;
}

void bench_tick(struct app *a)
{
	struct loadgen_result res;

	if (a->bench == NULL)
		return;
	loadgen_snapshot(a->bench->lg, &res);
	if (!res.running && res.elapsed_s > 0) {
		bench_join(a, &res);
		return;
	}
	app_message(a, 0, "bench %s: %ld requests, %.0f req/s, p99 %.2f ms", a->bench->endpoint,
		    res.completed, res.rps, res.p99_ms);
}

void bench_stop(struct app *a)
{
	if (a->bench == NULL)
		return;
	loadgen_stop(a->bench->lg);
	pthread_join(a->bench->thread, NULL);
	bench_free(a->bench);
	a->bench = NULL;
}
