/* lro.c: following ARM's long-running operations (see lro.h). */
#include "api/lro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/retry.h"

static double lro_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

enum lro_state lro_state_of(const char *status)
{
	if (strcasecmp(status, "Succeeded") == 0)
		return LRO_SUCCEEDED;
	if (strcasecmp(status, "Failed") == 0)
		return LRO_FAILED;
	if (strcasecmp(status, "Canceled") == 0 || strcasecmp(status, "Cancelled") == 0)
		return LRO_CANCELED;
	return LRO_RUNNING;
}

double lro_duration_s(const char *iso)
{
	static const struct {
		char unit;
		double s;
	} date[] = {{'Y', 31536000}, {'M', 2592000}, {'W', 604800}, {'D', 86400}},
	  time_units[] = {{'H', 3600}, {'M', 60}, {'S', 1}};
	double total = 0;
	int in_time = 0, any = 0;

	if (iso == NULL || *iso++ != 'P')
		return -1;
	while (*iso != '\0') {
		char *end;
		if (*iso == 'T' && !in_time) {
			in_time = 1, iso++;
			continue;
		}
		double v = strtod(iso, &end);
		size_t n = in_time ? 3 : 4, k;
		if (end == iso || v < 0)
			return -1;
		for (k = 0; k < n && (in_time ? time_units : date)[k].unit != *end; k++)
			;
		if (k == n)
			return -1;
		total += v * (in_time ? time_units : date)[k].s;
		iso = end + 1, any = 1;
	}
	return any ? total : -1;
}

static const char *lro_prov_state(const cJSON *doc)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "properties");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "provisioningState");

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* The wait before the next poll: Retry-After, else our interval (grown). */
static void lro_schedule(struct lro *op, const struct client_response *rs)
{
	char v[64];
	long ra = client_header(rs, "Retry-After", v, sizeof v) != NULL
		      ? retry_after_ms(v, time(NULL))
		      : -1;

	if (ra >= 0) {
		op->next_ms = ra;
		return;
	}
	op->next_ms = op->interval_ms;
	op->interval_ms = op->interval_ms * 2 > LRO_POLL_MAX_MS ? LRO_POLL_MAX_MS
								 : op->interval_ms * 2;
}

static void lro_set_status(struct lro *op, const char *status)
{
	snprintf(op->status, sizeof op->status, "%s", status);
	op->state = lro_state_of(status);
}

/* Which URL to follow, from the first answer. */
static void lro_pick_mode(struct lro *op, const struct client_response *rs, const cJSON *body)
{
	const char *ps = lro_prov_state(body);

	if (client_header(rs, "Azure-AsyncOperation", op->poll_url, sizeof op->poll_url)) {
		op->mode = LRO_ASYNC;
	} else if (rs->status == 202 &&
		   client_header(rs, "Location", op->poll_url, sizeof op->poll_url)) {
		op->mode = LRO_LOCATION;
	} else if ((ps != NULL && lro_state_of(ps) == LRO_RUNNING) ||
		   (rs->status == 202 && strcmp(op->method, "DELETE") == 0)) {
		op->mode = LRO_RESOURCE;
	} else {
		op->mode = LRO_DONE;
	}
}

void lro_begin(struct lro *op, const char *method, const char *path,
	       const struct client_response *rs, const cJSON *body)
{
	char v[64];
	const char *ps = lro_prov_state(body);

	memset(op, 0, sizeof *op);
	snprintf(op->method, sizeof op->method, "%s", method);
	snprintf(op->resource, sizeof op->resource, "%s", path);
	op->started_ms = lro_now_ms();
	double t = lro_duration_s(client_header(rs, "x-ms-async-operation-timeout", v, sizeof v));
	op->deadline_ms = op->started_ms + (t > 0 ? t : (double)LRO_DEFAULT_TIMEOUT_S) * 1e3;
	op->interval_ms = LRO_POLL_FIRST_MS;
	lro_pick_mode(op, rs, body);
	lro_set_status(op, op->mode == LRO_DONE ? "Succeeded" : ps != NULL ? ps : "Accepted");
	if (op->mode != LRO_DONE && op->state != LRO_RUNNING)
		lro_set_status(op, "Accepted"); /* the operation, not the old resource state */
	lro_schedule(op, rs);
}

int lro_call(struct client *c, const char *method, const char *path, const cJSON *body,
	     struct lro *op, cJSON **out, struct error *err)
{
	struct client_response rs;
	cJSON *doc = NULL;

	if (client_call_resp(c, method, path, body, &doc, &rs, err) < 0) {
		client_response_cleanup(&rs);
		return -1;
	}
	lro_begin(op, method, path, &rs, doc);
	client_response_cleanup(&rs);
	if (out != NULL)
		*out = doc;
	else
		cJSON_Delete(doc);
	return 0;
}

/* Failed/Canceled with the service's error object {code, message}. */
static void lro_fail(struct lro *op, const cJSON *e, const char *fallback)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");

	if (cJSON_IsString(e))
		msg = e;
	error_set(&op->error, 500, cJSON_IsString(code) ? code->valuestring : op->status, "%s",
		  cJSON_IsString(msg) ? msg->valuestring : fallback);
}

static int lro_poll_async(struct lro *op, const cJSON *doc)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");

	if (!cJSON_IsString(st))
		return error_set(&op->error, 502, "BadResponse",
				 "the operation status has no \"status\""),
		       -1;
	lro_set_status(op, st->valuestring);
	if (op->state == LRO_FAILED || op->state == LRO_CANCELED)
		lro_fail(op, cJSON_GetObjectItemCaseSensitive(doc, "error"),
			 "the operation ended without saying why");
	return 0;
}

static void lro_poll_resource(struct lro *op, long status, const cJSON *doc)
{
	const char *ps = lro_prov_state(doc);

	if (status == 404 && strcmp(op->method, "DELETE") == 0) {
		lro_set_status(op, "Succeeded");
		return;
	}
	lro_set_status(op, ps != NULL ? ps : "Succeeded");
	if (op->state == LRO_FAILED || op->state == LRO_CANCELED) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "properties");
		lro_fail(op, cJSON_GetObjectItemCaseSensitive(p, "error"),
			 "no reason given (see the deployment's logs)");
	}
}

/* Reads one poll's answer into the operation's state. */
static int lro_read(struct lro *op, const struct client_response *rs, struct error *err)
{
	cJSON *doc = rs->len > 0 ? cJSON_ParseWithLength(rs->body, rs->len) : NULL;
	int rc = 0;

	if (op->mode == LRO_RESOURCE && (rs->status == 404 || rs->status / 100 == 2)) {
		lro_poll_resource(op, rs->status, doc);
	} else if (rs->status / 100 != 2) {
		rc = client_answer_error(rs, op->poll_url, err);
	} else if (op->mode == LRO_ASYNC) {
		if ((rc = lro_poll_async(op, doc)) < 0)
			*err = op->error;
	} else if (rs->status == 202) {
		lro_set_status(op, "InProgress");
	} else {
		const char *ps = lro_prov_state(doc);
		lro_set_status(op, ps != NULL && lro_state_of(ps) == LRO_RUNNING ? ps : "Succeeded");
	}
	cJSON_Delete(doc);
	return rc;
}

int lro_poll(struct client *c, struct lro *op, struct error *err)
{
	struct client_request rq = {.method = "GET"};
	struct client_response rs;
	int rc;

	if (op->state != LRO_RUNNING)
		return 0;
	if (op->mode == LRO_RESOURCE)
		*(strncmp(op->resource, "http", 4) == 0 ? &rq.url : &rq.path) = op->resource;
	else
		rq.url = op->poll_url;
	rc = client_send(c, &rq, &rs, err);
	op->polls++;
	if (rc == 0)
		rc = lro_read(op, &rs, err);
	if (rc == 0)
		lro_schedule(op, &rs);
	client_response_cleanup(&rs);
	if (rc == 0 && op->state == LRO_RUNNING && lro_now_ms() >= op->deadline_ms) {
		op->state = LRO_FAILED;
		error_set(&op->error, 504, "OperationTimeout",
			  "still %s after %.0f s (the operation's timeout)", op->status,
			  lro_elapsed_s(op));
	}
	if (op->state == LRO_RUNNING && lro_now_ms() + (double)op->next_ms > op->deadline_ms)
		op->next_ms = (long)(op->deadline_ms - lro_now_ms()) + 1;
	return rc;
}

int lro_result(struct client *c, const struct lro *op, cJSON **out, struct error *err)
{
	*out = NULL;
	if (strcmp(op->method, "PUT") != 0 && strcmp(op->method, "PATCH") != 0)
		return 0;
	return client_call(c, "GET", op->resource, NULL, out, err);
}

double lro_elapsed_s(const struct lro *op)
{
	return (lro_now_ms() - op->started_ms) / 1e3;
}

int lro_wait(struct client *c, struct lro *op, void (*progress)(void *ctx, const struct lro *op),
	     void *ctx, cJSON **out, struct error *err)
{
	if (out != NULL)
		*out = NULL;
	if (progress != NULL)
		progress(ctx, op);
	while (op->state == LRO_RUNNING) {
		double due = lro_now_ms() + (double)op->next_ms;
		for (double now = lro_now_ms(); now < due; now = lro_now_ms()) {
			long ms = due - now > LRO_TICK_MS ? LRO_TICK_MS : (long)(due - now) + 1;
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			if (progress != NULL)
				progress(ctx, op);
		}
		if (lro_poll(c, op, err) < 0)
			return -1;
		if (progress != NULL)
			progress(ctx, op);
	}
	if (op->state != LRO_SUCCEEDED) {
		*err = op->error;
		return -1;
	}
	return out != NULL ? lro_result(c, op, out, err) : 0;
}
