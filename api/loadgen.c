/* loadgen.c: closed-loop load over libcurl multi with a latency histogram. */
#include "api/loadgen.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOADGEN_BUCKETS 1000
#define LOADGEN_RATIO 1.02 /* bucket i covers [1.02^i, 1.02^(i+1)) microseconds */
#define LOADGEN_MAX_CONNECTIONS 1024
#define LOADGEN_STATUS_SLOTS 600
#define LOADGEN_ERROR_PAUSE_S 0.02 /* a connection that got no answer waits this long */

struct loadgen_slot {
	CURL *easy;
	double started;    /* monotonic seconds */
	double not_before; /* after a failed connection: a pause, not a spin */
	int busy;
	unsigned gen; /* the headers' generation the handle carries */
};

struct loadgen {
	char *url, *body;
	char *unix_socket; /* NULL: TCP */
	size_t body_len;
	struct curl_slist *headers;
	int connections;
	double duration_s;
	long requests, timeout_ms;
	const struct client *via; /* network settings of every connection, or NULL */
	char *deployment;
	/* loadgen_run's thread: the key's renewal */
	struct curl_slist *old_headers; /* the previous key's, until no handle has them */
	unsigned gen;
	long long refresh_at;
	int (*refresh)(void *ctx, char *buf, size_t len, long long *next_at);
	void *refresh_ctx;
	atomic_int stop;

	pthread_mutex_t lock; /* guards everything below */
	long hist[LOADGEN_BUCKETS];
	long status[LOADGEN_STATUS_SLOTS];
	long completed, errors, started_requests;
	double sum_ms, max_ms, t0, t1;
	int running;
	char last_error[256];
};

static double loadgen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *loadgen_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static struct curl_slist *loadgen_headers(const char *key, const char *deployment)
{
	char line[4200];
	struct curl_slist *h = NULL;

	snprintf(line, sizeof line, "Authorization: Bearer %s", key ? key : "");
	h = curl_slist_append(h, line);
	memset(line, 0, sizeof line);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (deployment != NULL && deployment[0] != '\0') {
		snprintf(line, sizeof line, "azureml-model-deployment: %s", deployment);
		h = curl_slist_append(h, line);
	}
	return h;
}

struct loadgen *loadgen_new(const struct loadgen_config *cfg, struct error *err)
{
	if (cfg->url == NULL || cfg->body == NULL)
		return error_set(err, 400, "BadRequest", "load generator needs a URL and a body"),
		       NULL;
	if (cfg->connections < 0 || cfg->connections > LOADGEN_MAX_CONNECTIONS)
		return error_set(err, 400, "BadRequest", "connections must be 1-%d",
				 LOADGEN_MAX_CONNECTIONS),
		       NULL;
	if (cfg->duration_s <= 0 && cfg->requests <= 0)
		return error_set(err, 400, "BadRequest", "give a duration or a request count"),
		       NULL;
	struct loadgen *lg = calloc(1, sizeof *lg);
	if (lg == NULL)
		return error_set(err, 500, "NoMemory", "out of memory"), NULL;
	lg->url = loadgen_dup(cfg->url, strlen(cfg->url));
	int via_socket = cfg->unix_socket != NULL && cfg->unix_socket[0] != '\0';
	lg->unix_socket =
	    via_socket ? loadgen_dup(cfg->unix_socket, strlen(cfg->unix_socket)) : NULL;
	lg->body = loadgen_dup(cfg->body, cfg->body_len);
	lg->body_len = cfg->body_len;
	lg->headers = loadgen_headers(cfg->key, cfg->deployment);
	lg->deployment = cfg->deployment != NULL
			     ? loadgen_dup(cfg->deployment, strlen(cfg->deployment))
			     : NULL;
	lg->refresh_at = cfg->key_refresh != NULL ? cfg->key_refresh_at : 0;
	lg->refresh = cfg->key_refresh;
	lg->refresh_ctx = cfg->key_refresh_ctx;
	lg->connections = cfg->connections > 0 ? cfg->connections : 1;
	lg->duration_s = cfg->duration_s;
	lg->requests = cfg->requests;
	lg->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	lg->via = cfg->via;
	pthread_mutex_init(&lg->lock, NULL);
	if (lg->url == NULL || lg->body == NULL || lg->headers == NULL ||
	    (via_socket && lg->unix_socket == NULL)) {
		loadgen_free(lg);
		return error_set(err, 500, "NoMemory", "out of memory"), NULL;
	}
	return lg;
}

void loadgen_free(struct loadgen *lg)
{
	if (lg == NULL)
		return;
	free(lg->url);
	free(lg->unix_socket);
	free(lg->body);
	free(lg->deployment);
	curl_slist_free_all(lg->headers);
	curl_slist_free_all(lg->old_headers);
	pthread_mutex_destroy(&lg->lock);
	free(lg);
}

void loadgen_stop(struct loadgen *lg)
{
	atomic_store(&lg->stop, 1);
}

static size_t loadgen_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

static int loadgen_bucket(double ms)
{
	double us = ms * 1000.0;

	if (us < 1.0)
		return 0;
	int i = (int)(log(us) / log(LOADGEN_RATIO));
	return i >= LOADGEN_BUCKETS ? LOADGEN_BUCKETS - 1 : i;
}

static void loadgen_record(struct loadgen *lg, CURLcode rc, long status, double ms)
{
	pthread_mutex_lock(&lg->lock);
	if (rc != CURLE_OK) {
		lg->errors++;
		snprintf(lg->last_error, sizeof lg->last_error, "%s", curl_easy_strerror(rc));
	} else {
		lg->completed++;
		lg->status[status > 0 && status < LOADGEN_STATUS_SLOTS ? status : 0]++;
		lg->hist[loadgen_bucket(ms)]++;
		lg->sum_ms += ms;
		if (ms > lg->max_ms)
			lg->max_ms = ms;
	}
	pthread_mutex_unlock(&lg->lock);
}

/* May requests still start (not stopped, within the bounds)? */
static int loadgen_open(struct loadgen *lg)
{
	if (atomic_load(&lg->stop))
		return 0;
	if (lg->duration_s > 0 && loadgen_now() - lg->t0 >= lg->duration_s)
		return 0;
	return lg->requests <= 0 || lg->started_requests < lg->requests;
}

static void loadgen_setup_easy(struct loadgen *lg, struct loadgen_slot *s)
{
	CURL *e = s->easy;

	curl_easy_setopt(e, CURLOPT_URL, lg->url);
	if (lg->unix_socket != NULL)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, lg->unix_socket);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, lg->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, lg->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)lg->body_len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, loadgen_discard);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, lg->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	if (lg->via != NULL)
		client_setopt_network(lg->via, e);
}

/* Records finished transfers and frees their slots; a slot whose request
 * got no answer (nothing listening, the tunnel down) pauses a little. */
static void loadgen_reap(struct loadgen *lg, CURLM *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct loadgen_slot *s = NULL;
		long status = 0;
		CURLcode rc = msg->data.result;
		CURL *e = msg->easy_handle;
		double now = loadgen_now();
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		loadgen_record(lg, rc, status, (now - s->started) * 1000.0);
		curl_multi_remove_handle(m, e);
		s->busy = 0;
		s->not_before = rc != CURLE_OK ? now + LOADGEN_ERROR_PAUSE_S : 0;
	}
}

/* Starts a request on every free slot that may go; how many are busy, and in
 * *paused how many wait after an error. */
static int loadgen_fill(struct loadgen *lg, CURLM *m, struct loadgen_slot *slots, int *paused)
{
	double now = loadgen_now();
	int busy = 0;

	*paused = 0;
	for (int i = 0; i < lg->connections; i++) {
		struct loadgen_slot *s = &slots[i];
		if (!s->busy && s->not_before <= now && loadgen_open(lg)) {
			if (s->gen != lg->gen) {
				curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, lg->headers);
				s->gen = lg->gen;
			}
			lg->started_requests++;
			s->started = now;
			s->busy = curl_multi_add_handle(m, s->easy) == CURLM_OK;
		}
		busy += s->busy;
		*paused += !s->busy && s->not_before > now;
	}
	return busy;
}

/* Past the key's refresh time: a new key for the requests to come. The
 * previous headers are freed once no handle carries them any more. */
static void loadgen_renew(struct loadgen *lg, const struct loadgen_slot *slots)
{
	char key[4096];
	long long next = 0;

	if (lg->refresh_at == 0 || (long long)time(NULL) < lg->refresh_at)
		return;
	for (int i = 0; i < lg->connections; i++)
		if (lg->old_headers != NULL && slots[i].gen == lg->gen - 1)
			return; /* a handle still holds the headers before these */
	if (lg->refresh(lg->refresh_ctx, key, sizeof key, &next) < 0 || next <= 0) {
		lg->refresh_at = (long long)time(NULL) + 1;
		memset(key, 0, sizeof key);
		return;
	}
	struct curl_slist *h = loadgen_headers(key, lg->deployment);
	memset(key, 0, sizeof key);
	if (h == NULL)
		return;
	curl_slist_free_all(lg->old_headers);
	lg->old_headers = lg->headers;
	lg->headers = h;
	lg->gen++;
	lg->refresh_at = next;
}

static int loadgen_loop(struct loadgen *lg, CURLM *m, struct loadgen_slot *slots)
{
	int busy, paused, running = 0;

	for (;;) {
		loadgen_renew(lg, slots);
		busy = loadgen_fill(lg, m, slots, &paused);
		if (busy == 0 && (paused == 0 || !loadgen_open(lg)))
			break;
		if (atomic_load(&lg->stop))
			break;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			return -1;
		loadgen_reap(lg, m);
		if (running > 0 || paused > 0)
			curl_multi_poll(m, NULL, 0, paused > 0 ? 5 : 100, NULL);
	}
	for (int i = 0; i < lg->connections; i++)
		curl_multi_remove_handle(m, slots[i].easy);
	return 0;
}

int loadgen_run(struct loadgen *lg, struct error *err)
{
	CURLM *m = curl_multi_init();
	struct loadgen_slot *slots = calloc((size_t)lg->connections, sizeof *slots);
	int rc = -1;

	pthread_mutex_lock(&lg->lock);
	lg->running = 1;
	lg->t0 = loadgen_now();
	pthread_mutex_unlock(&lg->lock);
	if (m == NULL || slots == NULL) {
		error_set(err, 500, "NoMemory", "cannot start the load generator");
		goto out;
	}
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)lg->connections);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)lg->connections);
	for (int i = 0; i < lg->connections; i++) {
		slots[i].easy = curl_easy_init();
		if (slots[i].easy == NULL) {
			error_set(err, 500, "NoMemory", "cannot start the load generator");
			goto out;
		}
		loadgen_setup_easy(lg, &slots[i]);
	}
	rc = loadgen_loop(lg, m, slots);
	if (rc < 0)
		error_set(err, 500, "CurlError", "curl multi failed");
out:
	for (int i = 0; slots != NULL && i < lg->connections; i++)
		if (slots[i].easy != NULL)
			curl_easy_cleanup(slots[i].easy);
	free(slots);
	if (m != NULL)
		curl_multi_cleanup(m);
	pthread_mutex_lock(&lg->lock);
	lg->running = 0;
	lg->t1 = loadgen_now();
	pthread_mutex_unlock(&lg->lock);
	return rc;
}

/* The latency (ms) below which a fraction q of the answers fall. */
static double loadgen_quantile(const long *hist, long total, double q, double max_ms)
{
	long want = (long)ceil(q * (double)total), seen = 0;

	if (total == 0)
		return 0.0;
	for (int i = 0; i < LOADGEN_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= want && hist[i] > 0) {
			double mid = pow(LOADGEN_RATIO, (double)i + 0.5) / 1000.0;
			return mid > max_ms ? max_ms : mid;
		}
	}
	return max_ms;
}

static void loadgen_fill_statuses(const struct loadgen *lg, struct loadgen_result *out)
{
	out->nstatus = 0;
	for (int s = 0; s < LOADGEN_STATUS_SLOTS && out->nstatus < LOADGEN_STATUS_MAX; s++) {
		if (lg->status[s] == 0)
			continue;
		out->statuses[out->nstatus].status = s;
		out->statuses[out->nstatus].count = lg->status[s];
		out->nstatus++;
	}
}

void loadgen_snapshot(struct loadgen *lg, struct loadgen_result *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&lg->lock);
	double end = lg->running ? loadgen_now() : lg->t1;
	out->elapsed_s = lg->t0 > 0 ? end - lg->t0 : 0.0;
	out->completed = lg->completed;
	out->errors = lg->errors;
	out->rps = out->elapsed_s > 0 ? (double)lg->completed / out->elapsed_s : 0.0;
	out->max_ms = lg->max_ms;
	out->mean_ms = lg->completed > 0 ? lg->sum_ms / (double)lg->completed : 0.0;
	out->p50_ms = loadgen_quantile(lg->hist, lg->completed, 0.50, lg->max_ms);
	out->p90_ms = loadgen_quantile(lg->hist, lg->completed, 0.90, lg->max_ms);
	out->p99_ms = loadgen_quantile(lg->hist, lg->completed, 0.99, lg->max_ms);
	loadgen_fill_statuses(lg, out);
	snprintf(out->last_error, sizeof out->last_error, "%s", lg->last_error);
	out->running = lg->running;
	pthread_mutex_unlock(&lg->lock);
}
