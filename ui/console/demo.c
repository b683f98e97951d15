/* demo.c: building the demo workspace and its background load. */
#include "ui/console/demo.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/scoring.h"
#include "state/file.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/screen.h"

#define DEMO_EPS 3
#define DEMO_BODY_MAX (256 * 1024)

struct demo_model {
	const char *model, *file, *type, *endpoint, *request, *description;
	int blue, green, mirror; /* traffic and mirror-to-green percentages */
};

static const struct demo_model models[DEMO_EPS] = {
    {"digits-mlp", "digits-mlp.json", "mlp", "digits", "digits.json",
     "handwritten digits, MLP on sklearn's digits", 90, 10, 0},
    {"fraud-xgb", "fraud-xgb.json", "xgboost", "fraud", "fraud.json",
     "card fraud, XGBoost on generated data", 100, 0, 20},
    {"churn-linear", "churn-linear.json", "linear", "churn", "churn.json",
     "customer churn, logistic regression", 50, 50, 0},
};

struct demo_target {
	struct scoring_target st;
	char name[64];
	char *body;
	size_t len;
};

struct demo {
	pthread_t thread;
	atomic_int stop;
	atomic_long sent;
	struct client *c;
	struct demo_target t[DEMO_EPS];
	int n;
};

static int has_models(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/models", dir);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int demo_dir(char *buf, size_t len)
{
	const char *env = getenv("MLDECK_DEMO_DIR");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && env[0]) {
		snprintf(buf, len, "%s", env);
		return has_models(buf) ? 0 : -1;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(buf, len, "%s/demo", exe);
	if (has_models(buf))
		return 0;
	/* build/mldeck: the repository is one level up */
	snprintf(buf, len, "%s/../demo", exe);
	return has_models(buf) ? 0 : -1;
}

static int list_count(struct client *c, const char *path)
{
	cJSON *out = NULL;
	struct error err = {0};
	int n;

	if (client_call(c, "GET", path, NULL, &out, &err) < 0)
		return -1;
	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "value"));
	cJSON_Delete(out);
	return n;
}

int demo_workspace_empty(struct client *c)
{
	return list_count(c, "/onlineEndpoints") == 0 && list_count(c, "/models") == 0;
}

/* PUT that tolerates "already exists". */
static int put(struct client *c, const char *path, cJSON *body, struct error *err)
{
	int rc = client_call(c, "PUT", path, body, NULL, err);

	cJSON_Delete(body);
	if (rc < 0 && err->status == 409)
		return 0;
	return rc;
}

static cJSON *json_or_die(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		abort();
	return j;
}

static int put_model(struct client *c, const char *dir, const struct demo_model *m, int version,
		     struct error *err)
{
	char path[256], file[PATH_MAX], abs[PATH_MAX];
	cJSON *body = json_or_die("{\"properties\":{}}");
	cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "properties");

	snprintf(file, sizeof file, "%s/models/%s", dir, m->file);
	if (realpath(file, abs) == NULL) {
		cJSON_Delete(body);
		return error_set(err, 0, "NotFound", "demo model %s is missing", file);
	}
	cJSON_AddStringToObject(p, "modelUri", abs);
	cJSON_AddStringToObject(p, "modelType", m->type);
	cJSON_AddStringToObject(p, "description", m->description);
	snprintf(path, sizeof path, "/models/%s/versions/%d", m->model, version);
	return put(c, path, body, err);
}

static int put_deployment(struct client *c, const struct demo_model *m, const char *name,
			  int version, struct error *err)
{
	char path[256], ref[128];
	cJSON *body = json_or_die("{\"location\":\"local\",\"sku\":{\"name\":\"Default\","
				  "\"capacity\":1},\"properties\":{\"endpointComputeType\":"
				  "\"Managed\",\"environmentId\":\"azureml:demo-native:1\"}}");

	snprintf(ref, sizeof ref, "azureml:%s:%d", m->model, version);
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(body, "properties"), "model", ref);
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s", m->endpoint, name);
	return put(c, path, body, err);
}

/* Polls until the deployment leaves Creating/Updating (at most 60 s). */
static int wait_deployment(struct client *c, const char *ep, const char *name, struct error *err)
{
	char path[256];

	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s", ep, name);
	for (int i = 0; i < 600; i++) {
		cJSON *out = NULL;
		char state[32];

		if (client_call(c, "GET", path, NULL, &out, err) < 0)
			return -1;
		snprintf(state, sizeof state, "%s", data_str(out, "properties.provisioningState"));
		cJSON_Delete(out);
		if (strcmp(state, "Succeeded") == 0)
			return 0;
		if (strcmp(state, "Failed") == 0)
			return error_set(err, 500, "Failed", "demo deployment %s/%s failed", ep,
					 name);
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	return error_set(err, 504, "Timeout", "demo deployment %s/%s did not come up", ep, name);
}

static int set_traffic(struct client *c, const struct demo_model *m, struct error *err)
{
	char path[256];
	cJSON *body = json_or_die("{\"properties\":{\"traffic\":{},\"mirrorTraffic\":{}}}");
	cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "properties");
	cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "traffic");
	int rc;

	cJSON_AddNumberToObject(t, "blue", m->blue);
	cJSON_AddNumberToObject(t, "green", m->green);
	if (m->mirror)
		cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(p, "mirrorTraffic"),
					"green", m->mirror);
	snprintf(path, sizeof path, "/onlineEndpoints/%s", m->endpoint);
	rc = client_call(c, "PATCH", path, body, NULL, err);
	cJSON_Delete(body);
	return rc;
}

static int build_endpoint(struct client *c, const struct demo_model *m, struct error *err)
{
	char path[256];
	cJSON *body = json_or_die("{\"location\":\"local\",\"properties\":{\"authMode\":\"Key\"}}");

	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(body, "properties"), "description",
				m->description);
	snprintf(path, sizeof path, "/onlineEndpoints/%s", m->endpoint);
	if (put(c, path, body, err) < 0 || put_deployment(c, m, "blue", 1, err) < 0 ||
	    put_deployment(c, m, "green", 2, err) < 0)
		return -1;
	if (wait_deployment(c, m->endpoint, "blue", err) < 0 ||
	    wait_deployment(c, m->endpoint, "green", err) < 0)
		return -1;
	return set_traffic(c, m, err);
}

int demo_build(struct client *c, const char *dir, void (*progress)(void *ctx, const char *text),
	       void *ctx, struct error *err)
{
	char text[160];

	if (progress)
		progress(ctx, "demo: registering models and the environment...");
	for (int i = 0; i < DEMO_EPS; i++)
		if (put_model(c, dir, &models[i], 1, err) < 0 ||
		    put_model(c, dir, &models[i], 2, err) < 0)
			return -1;
	if (put(c, "/environments/demo-native/versions/1",
		json_or_die("{\"properties\":{\"environmentKind\":\"native\","
			    "\"description\":\"in-process engines\"}}"),
		err) < 0)
		return -1;
	for (int i = 0; i < DEMO_EPS; i++) {
		snprintf(text, sizeof text, "demo: endpoint %s, blue and green deployments...",
			 models[i].endpoint);
		if (progress)
			progress(ctx, text);
		if (build_endpoint(c, &models[i], err) < 0)
			return -1;
	}
	return 0;
}

static void *load_main(void *arg)
{
	struct demo *d = arg;

	for (long k = 0; !atomic_load(&d->stop); k++) {
		struct demo_target *t = &d->t[k % d->n];
		int status;
		char *out = NULL, chosen[64];
		size_t olen;
		double ms;
		struct error err;

		client_score(d->c, t->st.url, t->st.credential, NULL, t->body, t->len, &status,
			     &out, &olen, chosen, sizeof chosen, &ms, &err);
		free(out);
		atomic_fetch_add(&d->sent, 1);
		/* about 4 requests per second in all, stopping within 50 ms */
		for (int i = 0; i < 5 && !atomic_load(&d->stop); i++)
			nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	return NULL;
}

static void demo_free(struct demo *d)
{
	for (int i = 0; i < DEMO_EPS; i++) {
		free(d->t[i].body);
		scoring_target_cleanup(&d->t[i].st);
	}
	client_free(d->c);
	free(d);
}

struct demo *demo_load_start(struct client *c, const struct connect_info *info, const char *dir)
{
	struct demo *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	for (int i = 0; i < DEMO_EPS; i++) {
		struct demo_target *t = &d->t[d->n];
		char path[PATH_MAX];
		struct error err = {0};

		if (scoring_target(c, models[i].endpoint, &t->st, &err) < 0)
			continue;
		snprintf(path, sizeof path, "%s/requests/%s", dir, models[i].request);
		t->body = file_read(path, DEMO_BODY_MAX, &t->len);
		if (t->body != NULL) {
			d->n++;
		} else {
			free(t->body);
			t->body = NULL;
		}
	}
	d->c = connect_info_client(info, 5000, &(struct error){0});
	if (d->n == 0 || d->c == NULL || pthread_create(&d->thread, NULL, load_main, d) != 0) {
		demo_free(d);
		return NULL;
	}
	return d;
}

void demo_load_stop(struct demo *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->stop, 1);
	client_cancel(d->c); /* a stalled backend must not hold up the quit */
	pthread_join(d->thread, NULL);
	demo_free(d);
}

long demo_load_sent(const struct demo *d)
{
	return d ? atomic_load(&((struct demo *)d)->sent) : 0;
}

struct demo_job {
	struct fetch_job job;
	char dir[PATH_MAX];
	struct connect_info info; /* a copy: the console's may change meanwhile */
	struct demo *load;
	int empty;
};

static int demo_build_run(struct fetch_job *j, struct client *c)
{
	struct demo_job *d = (struct demo_job *)j;

	if (demo_build(c, d->dir, NULL, NULL, &j->err) < 0)
		return -1;
	d->load = demo_load_start(c, &d->info, d->dir);
	return 0;
}

static void demo_built(struct app *a, struct fetch_job *j)
{
	struct demo_job *d = (struct demo_job *)j;

	if (j->rc < 0) {
		app_message(a, 1, "demo: %s", j->err.message);
		return;
	}
	demo_load_stop(a->demo);
	a->demo = d->load;
	d->load = NULL;
	app_message(a, 0,
		    "demo workspace ready; a light load is running (Enter opens an endpoint)");
	screen_load(a);
}

static void demo_job_release(struct fetch_job *j)
{
	struct demo_job *d = (struct demo_job *)j;

	demo_load_stop(d->load);
	connect_info_cleanup(&d->info);
	free(d);
}

static struct demo_job *demo_job_new(struct app *a, const char *key,
				     int (*run)(struct fetch_job *, struct client *),
				     void (*done)(struct app *, struct fetch_job *))
{
	struct demo_job *d = fetch_job_new(sizeof *d, key, run, done, demo_job_release);

	connect_info_copy(&d->info, &a->info);
	return d;
}

void demo_run(struct app *a)
{
	struct demo_job *d;

	a->opt.demo = 0;
	if (a->fetch == NULL || a->readonly) {
		app_message(a, 1, "demo: needs a writable connection");
		return;
	}
	d = demo_job_new(a, "demo", demo_build_run, demo_built);
	if (demo_dir(d->dir, sizeof d->dir) < 0) {
		app_message(a, 1, "demo: no demo directory (set MLDECK_DEMO_DIR)");
		demo_job_release(&d->job);
		return;
	}
	app_message(a, 0,
		    "demo: registering models and building three endpoints "
		    "(blue and green deployments)...");
	data_submit(a, &d->job);
}

static int demo_empty_run(struct fetch_job *j, struct client *c)
{
	struct demo_job *d = (struct demo_job *)j;

	d->empty = demo_workspace_empty(c);
	return 0;
}

static void demo_asked(struct app *a, struct fetch_job *j)
{
	struct demo_job *d = (struct demo_job *)j;

	if (d->empty && a->mode == APP_NORMAL && !a->readonly && a->demo == NULL)
		a->mode = APP_DEMO_ASK;
}

void demo_offer(struct app *a)
{
	struct demo_job *d = demo_job_new(a, "demo-offer", demo_empty_run, demo_asked);

	data_submit(a, &d->job);
}
