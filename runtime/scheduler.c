/* scheduler.c: fires the workspace's schedules (see scheduler.h). */
#include "runtime/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/core.h"
#include "runtime/invoke.h"
#include "runtime/monitor/monitors.h"
#include "state/batch.h"
#include "state/batchcodec.h"
#include "state/codec.h"
#include "state/file.h"
#include "state/names.h"

#define ZONE_FILE_MAX (1 << 20)
#define IDLE_SECONDS 3600     /* the longest sleep without a fire or a change */
#define MISSED_COUNT_MAX 100000
#define RECORDS_KEPT 100      /* fires remembered per schedule */
#define TRIGGER_TIME "${{creation_context.trigger_time}}"

struct zone {
	char name[TZ_NAME_MAX + 1]; /* IANA */
	struct tz *tz;
	struct zone *next;
};

struct last_fire {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	int64_t at;
	struct last_fire *next;
};

struct scheduler {
	struct runtime *rt;
	pthread_t thread;
	int started, stop, woken;
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t cond;
	struct zone *zones;
	struct last_fire *lasts;
};

/* ---- actions ------------------------------------------------------------ */

/* What one action does; a new action type is one line in the table. */
struct action {
	const char *type;
	/* the definition is well formed */
	int (*check)(const cJSON *action, struct error *err);
	/* runs it for schedule NAME at UTC time when; a submission id into buf */
	int (*fire)(struct runtime *rt, const char *name, const cJSON *action, char *buf,
		    size_t len, struct error *err);
};

/* "azureml:/subscriptions/.../batchEndpoints/NAME", "azureml:NAME" or "NAME". */
static int endpoint_ref(const char *ref, char *name, size_t len, struct error *err)
{
	const char *p = NULL, *q;
	size_t n;

	for (q = strstr(ref, "/batchEndpoints/"); q != NULL; q = strstr(q + 1, "/batchEndpoints/"))
		p = q + strlen("/batchEndpoints/");
	if (p == NULL)
		p = strncmp(ref, "azureml:", 8) == 0 ? ref + 8 : ref;
	n = strcspn(p, "/");
	if (n == 0 || n >= len || p[n] != '\0')
		return error_set(err, 400, "ValidationError",
				 "endpointInvocationDefinition.endpoint must name a batch endpoint "
				 "(azureml:<its ARM id>)");
	memcpy(name, p, n);
	name[n] = '\0';
	return names_check(name, "endpointInvocationDefinition.endpoint", err);
}

/* The definition as an invocation body: inputs are InputData. */
static int invocation_of(const cJSON *action, char *ep, size_t eplen, struct job_invocation *inv,
			 struct error *err)
{
	const cJSON *def = cJSON_GetObjectItem(action, "endpointInvocationDefinition");
	const cJSON *epref = cJSON_GetObjectItem(def, "endpoint");
	cJSON *body, *props;
	int rc;

	if (!cJSON_IsObject(def) || !cJSON_IsString(epref))
		return error_set(err, 400, "ValidationError",
				 "properties.action.endpointInvocationDefinition must be "
				 "{\"endpoint\": \"azureml:<batch endpoint id>\", \"inputs\": "
				 "{NAME: {\"jobInputType\", \"uri\"}}}");
	if (endpoint_ref(epref->valuestring, ep, eplen, err) < 0)
		return -1;
	body = cJSON_CreateObject();
	props = cJSON_Duplicate(def, 1);
	if (body == NULL || props == NULL) {
		cJSON_Delete(body);
		cJSON_Delete(props);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	cJSON_DeleteItemFromObject(props, "endpoint");
	if (cJSON_GetObjectItem(props, "inputs") != NULL)
		cJSON_AddItemToObject(props, "InputData", cJSON_DetachItemFromObject(props, "inputs"));
	if (cJSON_GetObjectItem(props, "outputs") != NULL)
		cJSON_AddItemToObject(props, "OutputData",
				      cJSON_DetachItemFromObject(props, "outputs"));
	cJSON_AddItemToObject(body, "properties", props);
	rc = batchcodec_invocation_from_json(body, inv, err);
	cJSON_Delete(body);
	return rc;
}

static int invoke_check(const cJSON *action, struct error *err)
{
	struct job_invocation inv;
	char ep[RESOURCE_NAME_MAX + 1];
	int rc;

	memset(&inv, 0, sizeof inv);
	rc = invocation_of(action, ep, sizeof ep, &inv, err);
	batchcodec_invocation_cleanup(&inv);
	return rc;
}

static int invoke_fire(struct runtime *rt, const char *name, const cJSON *action, char *buf,
		       size_t len, struct error *err)
{
	const cJSON *def = cJSON_GetObjectItem(action, "endpointInvocationDefinition");
	const cJSON *dep = cJSON_GetObjectItem(def, "deployment");
	struct job_invocation inv;
	char ep[RESOURCE_NAME_MAX + 1];
	int rc;

	memset(&inv, 0, sizeof inv);
	rc = invocation_of(action, ep, sizeof ep, &inv, err);
	if (rc == 0)
		rc = invoke_start(rt, ep, cJSON_IsString(dep) ? dep->valuestring : NULL, &inv, name,
				  1, NULL, NULL, buf, len, err);
	batchcodec_invocation_cleanup(&inv);
	return rc;
}

static const struct action actions[] = {
    {"InvokeBatchEndpoint", invoke_check, invoke_fire},
    {"CreateMonitor", monitors_check, monitors_fire},
};

static const struct action *action_find(const char *type)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].type, type) == 0)
			return &actions[i];
	return NULL;
}

int scheduler_check_action(const char *type, const char *text, struct error *err)
{
	const struct action *a = action_find(type);
	cJSON *o;
	int rc;

	if (a == NULL)
		return error_set(err, 400, "ValidationError",
				 "properties.action.actionType '%.40s' is not run by this runtime "
				 "(InvokeBatchEndpoint, CreateMonitor)",
				 type);
	o = cJSON_Parse(text);
	if (o == NULL)
		return error_set(err, 400, "ValidationError", "properties.action is not JSON");
	rc = a->check(o, err);
	cJSON_Delete(o);
	return rc;
}

/* ---- zones and last fires ----------------------------------------------- */

/* The zone a trigger names, loaded once. Call with s->lock. */
static struct tz *zone_get(struct scheduler *s, const char *given, struct error *err)
{
	const char *iana = tz_iana(given), *dir = getenv("TZDIR");
	char path[PATH_MAX];
	struct zone *z;
	size_t len;
	char *data;

	if (iana == NULL) {
		error_set(err, 400, "ValidationError", "unknown time zone '%.64s'", given);
		return NULL;
	}
	for (z = s->zones; z != NULL; z = z->next)
		if (strcmp(z->name, iana) == 0)
			return z->tz;
	z = calloc(1, sizeof *z);
	if (z == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	snprintf(z->name, sizeof z->name, "%s", iana);
	if (strcmp(iana, "UTC") == 0) {
		z->tz = tz_utc();
	} else {
		snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", iana);
		data = file_read(path, ZONE_FILE_MAX, &len);
		if (data == NULL)
			error_set(err, 400, "ValidationError",
				  "time zone '%.64s' (%s): %s; install tzdata", given, iana,
				  strerror(errno));
		else
			z->tz = tz_parse((const unsigned char *)data, len, err);
		free(data);
	}
	if (z->tz == NULL) {
		free(z);
		return NULL;
	}
	z->next = s->zones;
	s->zones = z;
	return z->tz;
}

int scheduler_check_zone(struct scheduler *s, const struct trigger *t, struct error *err)
{
	struct tz *z;

	pthread_mutex_lock(&s->lock);
	z = zone_get(s, t->time_zone, err);
	pthread_mutex_unlock(&s->lock);
	return z != NULL ? 0 : -1;
}

/* Call with s->lock. */
static struct last_fire *last_find(struct scheduler *s, const char *name, int create)
{
	struct last_fire *l;

	for (l = s->lasts; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	if (!create || (l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->next = s->lasts;
	s->lasts = l;
	return l;
}

/* When sc fires next after what it fired. Call with s->lock. */
static int next_locked(struct scheduler *s, const struct schedule *sc, int64_t *next)
{
	struct last_fire *l = last_find(s, sc->name, 0);
	int64_t after = sc->updated;
	struct tz *z;

	if (!sc->enabled || (z = zone_get(s, sc->trigger.time_zone, NULL)) == NULL)
		return -1;
	if (l != NULL && l->at > after)
		after = l->at;
	return trigger_next(&sc->trigger, z, sc->updated, after, next);
}

int scheduler_next(struct scheduler *s, const struct schedule *sc, int64_t *next)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = next_locked(s, sc, next);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- firing ------------------------------------------------------------- */

/* The action text with the trigger time put in (Azure's ${{...}} template). */
static char *fill_template(const char *text, int64_t when)
{
	char t[32], *out, *o;
	const char *p;
	size_t n = 0, tl, ml = strlen(TRIGGER_TIME);

	codec_iso_time(when, t, sizeof t);
	tl = strlen(t);
	for (p = strstr(text, TRIGGER_TIME); p != NULL; p = strstr(p + ml, TRIGGER_TIME))
		n++;
	out = malloc(strlen(text) + n * tl + 1);
	if (out == NULL)
		return NULL;
	for (o = out, p = text; *p != '\0';) {
		if (strncmp(p, TRIGGER_TIME, ml) == 0) {
			memcpy(o, t, tl);
			o += tl;
			p += ml;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* Runs an action (JSON text) of type for schedule NAME at `when`. */
static int run_action(struct runtime *rt, const char *name, const char *type, const char *text,
		      int64_t when, char *buf, size_t len, struct error *err)
{
	const struct action *a = action_find(type);
	char *filled = fill_template(text, when);
	cJSON *o = filled != NULL ? cJSON_Parse(filled) : NULL;
	int rc;

	free(filled);
	if (a == NULL || o == NULL)
		rc = error_set(err, 400, "ValidationError", "schedule '%s': its action cannot run",
			       name);
	else
		rc = a->fire(rt, name, o, buf, len, err);
	cJSON_Delete(o);
	return rc;
}

/* A copy of what firing a schedule needs, taken under the workspace lock. */
struct due {
	struct schedule sc;
	int64_t fire; /* the latest fire time due */
	long missed;  /* how many were due (1 when on time) */
};

static void record_fire(struct scheduler *s, const struct due *d, int64_t at, const char *job,
			const struct error *err)
{
	struct runtime *rt = s->rt;
	struct error e2 = {0};
	char buf[1024];
	int64_t seq = 0;

	snprintf(buf, sizeof buf, "{\"due\":%lld,\"at\":%lld,\"missed\":%ld,\"%s\":\"%s\"}",
		 (long long)d->fire, (long long)at, d->missed, job ? "submission" : "error",
		 job ? job : "see the runtime log");
	(void)err;
	if (store_append(rt->store, WORKSPACE_SCHEDULES, d->sc.name, buf, &seq, &e2) < 0)
		runtime_log(rt, "schedule %s: cannot record its run: %s", d->sc.name, e2.message);
	else if (seq > RECORDS_KEPT)
		store_records_drop(rt->store, WORKSPACE_SCHEDULES, d->sc.name, seq - RECORDS_KEPT,
				   &e2);
}

static void fire(struct scheduler *s, struct due *d)
{
	char job[RESOURCE_ASSET_NAME_MAX + 1] = "";
	int64_t at = (int64_t)time(NULL);
	struct error err = {0};
	int rc;

	if (d->missed > 1)
		runtime_log(s->rt,
			    "schedule %s: %ld runs were due while the runtime was down; running "
			    "once now for the latest",
			    d->sc.name, d->missed);
	rc = run_action(s->rt, d->sc.name, d->sc.action_type, d->sc.action, d->fire, job,
			sizeof job, &err);
	if (rc < 0)
		runtime_log(s->rt, "schedule %s: %s failed: %s", d->sc.name, d->sc.action_type,
			    err.message);
	else
		runtime_log(s->rt, "schedule %s: fired, job %s", d->sc.name, job);
	record_fire(s, d, at, rc == 0 ? job : NULL, &err);
	pthread_mutex_lock(&s->lock);
	struct last_fire *l = last_find(s, d->sc.name, 1);
	if (l != NULL)
		l->at = at;
	pthread_mutex_unlock(&s->lock);
}

/* How many fire times fall in (after, now], and the latest of them. */
static long count_due(struct scheduler *s, const struct schedule *sc, int64_t first, int64_t now,
		      int64_t *latest)
{
	struct tz *z;
	int64_t t = first, next;
	long n = 1;

	pthread_mutex_lock(&s->lock);
	z = zone_get(s, sc->trigger.time_zone, NULL);
	while (z != NULL && n < MISSED_COUNT_MAX &&
	       trigger_next(&sc->trigger, z, sc->updated, t, &next) == 0 && next <= now) {
		t = next;
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	*latest = t;
	return n;
}

/* The schedules due now (copied) and the earliest future fire time. */
static size_t collect(struct scheduler *s, int64_t now, struct due **out, int64_t *wake)
{
	struct runtime *rt = s->rt;
	const struct schedule **ss;
	struct due *due = NULL;
	size_t n, k = 0;

	pthread_mutex_lock(&rt->lock);
	n = batch_schedule_list(rt->ws, &ss);
	due = n ? calloc(n, sizeof *due) : NULL;
	for (size_t i = 0; i < n; i++) {
		int64_t next;

		if (scheduler_next(s, ss[i], &next) < 0)
			continue;
		if (next > now) {
			if (next < *wake)
				*wake = next;
		} else if (due != NULL && schedule_copy(&due[k].sc, ss[i]) == 0) {
			due[k].fire = next;
			k++;
		}
	}
	free(ss);
	pthread_mutex_unlock(&rt->lock);
	*out = due;
	return k;
}

static void *scheduler_main(void *arg)
{
	struct scheduler *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		int64_t now = (int64_t)time(NULL), wake = now + IDLE_SECONDS;
		struct timespec ts = {0};
		struct due *due;
		size_t n;

		s->woken = 0;
		pthread_mutex_unlock(&s->lock);
		n = collect(s, now, &due, &wake);
		for (size_t i = 0; i < n; i++) {
			due[i].missed = count_due(s, &due[i].sc, due[i].fire, now, &due[i].fire);
			fire(s, &due[i]);
			schedule_cleanup(&due[i].sc);
		}
		free(due);
		pthread_mutex_lock(&s->lock);
		if (n > 0 || s->woken)
			continue; /* look again: the fires changed what is next */
		ts.tv_sec = (time_t)wake;
		while (!s->stop && !s->woken &&
		       pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- life --------------------------------------------------------------- */

struct scheduler *scheduler_new(struct runtime *rt)
{
	struct scheduler *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->rt = rt;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s;
}

static int on_fire_record(void *ctx, int64_t seq, const char *value)
{
	int64_t *at = ctx;
	cJSON *o = cJSON_Parse(value);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "at");

	long long t;

	(void)seq;
	if (codec_number_in(a, -1e15, 1e15, &t) && t > *at)
		*at = t;
	cJSON_Delete(o);
	return 0;
}

int scheduler_start(struct scheduler *s, struct error *err)
{
	struct runtime *rt = s->rt;
	const struct schedule **ss;
	size_t n;

	pthread_mutex_lock(&rt->lock);
	n = batch_schedule_list(rt->ws, &ss);
	for (size_t i = 0; i < n; i++) {
		int64_t at = 0;
		struct last_fire *l;

		if (store_records(rt->store, WORKSPACE_SCHEDULES, ss[i]->name, 0, on_fire_record,
				  &at, err) < 0)
			break;
		pthread_mutex_lock(&s->lock);
		if (at > 0 && (l = last_find(s, ss[i]->name, 1)) != NULL)
			l->at = at;
		pthread_mutex_unlock(&s->lock);
	}
	free(ss);
	pthread_mutex_unlock(&rt->lock);
	if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0)
		return error_set(err, 500, "InternalError", "cannot start the scheduler thread");
	s->started = 1;
	return 0;
}

void scheduler_wake(struct scheduler *s)
{
	pthread_mutex_lock(&s->lock);
	s->woken = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int scheduler_trigger(struct scheduler *s, const char *name, int64_t when, char *buf,
		      size_t len, char *type, struct error *err)
{
	struct runtime *rt = s->rt;
	const struct schedule *sc;
	struct schedule copy;
	int rc;

	pthread_mutex_lock(&rt->lock);
	sc = batch_schedule_find(rt->ws, name);
	rc = sc == NULL ? error_set(err, 404, "NotFound", "schedule '%s' not found", name)
	     : schedule_copy(&copy, sc) < 0 ? error_set(err, 500, "InternalError", "out of memory")
					     : 0;
	pthread_mutex_unlock(&rt->lock);
	if (rc < 0)
		return -1;
	snprintf(type, SCHEDULE_ACTION_MAX, "%s", copy.action_type);
	rc = run_action(rt, name, copy.action_type, copy.action, when, buf, len, err);
	if (rc == 0)
		runtime_log(rt, "schedule %s: triggered, job %s", name, buf);
	schedule_cleanup(&copy);
	return rc;
}

void scheduler_free(struct scheduler *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	while (s->zones != NULL) {
		struct zone *z = s->zones;

		s->zones = z->next;
		tz_free(z->tz);
		free(z);
	}
	while (s->lasts != NULL) {
		struct last_fire *l = s->lasts;

		s->lasts = l->next;
		free(l);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
