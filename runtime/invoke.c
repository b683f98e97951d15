/* invoke.c: batch endpoint invocation (see invoke.h). */
#include "runtime/invoke.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/rand.h>

#include "runtime/auth.h"
#include "runtime/blob.h"
#include "runtime/core.h"
#include "runtime/jobs.h"
#include "state/artifact.h"
#include "state/batch.h"
#include "state/names.h"

#define INVOKE_SUBSCRIPTION RUNTIME_LOCAL_SUBSCRIPTION
#define INVOKE_RETRY_AFTER "10" /* seconds, when too many jobs wait */

/* ---- the keys, for admission -------------------------------------------- */

struct key_entry {
	char name[RESOURCE_NAME_MAX + 1];
	char primary[RESOURCE_KEY_LEN + 1];
	char secondary[RESOURCE_KEY_LEN + 1];
};

struct invoke_keys {
	pthread_mutex_t lock; /* held only to copy */
	struct key_entry *items;
	size_t n;
};

struct invoke_keys *invoke_keys_new(void)
{
	struct invoke_keys *k = calloc(1, sizeof *k);

	if (k != NULL)
		pthread_mutex_init(&k->lock, NULL);
	return k;
}

static void wipe(struct key_entry *items, size_t n)
{
	if (items != NULL)
		memset(items, 0, n * sizeof *items);
	free(items);
}

void invoke_keys_free(struct invoke_keys *k)
{
	if (k == NULL)
		return;
	wipe(k->items, k->n);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void invoke_keys_sync(struct invoke_keys *k, const struct workspace *ws)
{
	const struct batch_endpoint **eps;
	size_t n = batch_endpoint_list(ws, &eps), oldn;
	struct key_entry *items = n ? calloc(n, sizeof *items) : NULL, *old;

	for (size_t i = 0; items != NULL && i < n; i++) {
		snprintf(items[i].name, sizeof items[i].name, "%s", eps[i]->name);
		snprintf(items[i].primary, sizeof items[i].primary, "%s", eps[i]->primary_key);
		snprintf(items[i].secondary, sizeof items[i].secondary, "%s",
			 eps[i]->secondary_key);
	}
	free(eps);
	if (n > 0 && items == NULL)
		return; /* out of memory: keep the old table */
	pthread_mutex_lock(&k->lock);
	old = k->items;
	oldn = k->n;
	k->items = items;
	k->n = n;
	pthread_mutex_unlock(&k->lock);
	wipe(old, oldn);
}

/* 1 the key opens EP, 0 not, -1 EP unknown. */
static int keys_check(struct invoke_keys *k, const char *ep, const char *key)
{
	int rc = -1;

	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < k->n; i++) {
		if (strcmp(k->items[i].name, ep) != 0)
			continue;
		rc = (k->items[i].primary[0] && auth_equal(key, k->items[i].primary)) ||
		     (k->items[i].secondary[0] && auth_equal(key, k->items[i].secondary));
		break;
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

/* ---- HTTP --------------------------------------------------------------- */

int invoke_is_path(const struct server_request *rq)
{
	return rq->segc > 0 && strcmp(rq->segv[0], "batch") == 0;
}

static const char *bearer(const struct server_request *rq)
{
	const char *h = server_header(rq, "Authorization");

	return h != NULL && strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
}

/* The route: 1 a job submission, 0 with the refusal in rs. */
static int route(const struct server_request *rq, struct server_response *rs)
{
	if (rq->segc != 3 || strcmp(rq->segv[2], "jobs") != 0 ||
	    names_check(rq->segv[1], "batch endpoint", NULL) < 0) {
		server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
		return 0;
	}
	if (strcmp(rq->method, "POST") != 0) {
		server_reply_errorf(rs, 405, "MethodNotAllowed", "POST a job to %s", rq->path);
		server_reply_header(rs, "Allow", "POST");
		return 0;
	}
	return 1;
}

int invoke_admit(struct runtime *rt, const struct server_request *rq,
		 struct server_admission *ad, struct server_response *rs)
{
	const char *key = bearer(rq);
	int ok;

	(void)ad;
	if (!route(rq, rs))
		return -1;
	ok = keys_check(rt->batch_keys, rq->segv[1], key);
	if (ok < 0) {
		server_reply_errorf(rs, 404, "NotFound", "batch endpoint '%s' not found",
				    rq->segv[1]);
		return -1;
	}
	if (!ok && !(key != NULL && auth_equal(key, rt->admin_key))) {
		server_reply_errorf(rs, 401, "Unauthorized",
				    "missing or wrong key (Authorization: Bearer <a key from "
				    "listkeys, or the admin key>)");
		return -1;
	}
	return 0;
}

void invoke_handle(struct runtime *rt, const struct server_request *rq,
		   struct server_response *rs)
{
	struct job_invocation inv;
	struct error err = {0};
	const char *key = bearer(rq);
	char name[RESOURCE_ASSET_NAME_MAX + 1], url[1024], ws_prefix[256];
	/* the data plane's path names no subscription or group: the CLI's defaults
	 * (any others reach the same workspace) */
	struct codec_ctx ids = {ws_prefix, "/subscriptions/" INVOKE_SUBSCRIPTION "/resourceGroups/local",
				"/subscriptions/" INVOKE_SUBSCRIPTION, rt->url};
	cJSON *body, *answer = NULL;

	if (!route(rq, rs))
		return;
	if (!rq->may_block) { /* makes a job: the workspace lock and an fsync */
		rs->defer = 1;
		return;
	}
	snprintf(ws_prefix, sizeof ws_prefix,
		 "%s/providers/Microsoft.MachineLearningServices/workspaces/%s", ids.rg_prefix,
		 rt->ws_name);
	body = rq->body ? cJSON_ParseWithLength(rq->body, rq->body_len) : NULL;
	memset(&inv, 0, sizeof inv);
	if (body == NULL)
		error_set(&err, 400, "BadRequest",
			  "the body must be JSON: {\"properties\": {\"InputData\": {...}}}");
	if (body == NULL || batchcodec_invocation_from_json(body, &inv, &err) < 0 ||
	    invoke_start(rt, rq->segv[1], server_header(rq, "azureml-model-deployment"), &inv,
			 NULL, key != NULL && auth_equal(key, rt->admin_key), &ids, &answer, name,
			 sizeof name, &err) < 0) {
		server_reply_error(rs, &err);
		if (err.status == 429)
			server_reply_header(rs, "Retry-After", INVOKE_RETRY_AFTER);
	} else {
		snprintf(url, sizeof url, "%s%s/jobs/%s", rt->url, ws_prefix, name);
		server_reply_header(rs, "Location", url);
		server_reply_json(rs, 201, cJSON_PrintUnformatted(answer));
		const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "properties"), "tags"),
		    "azureml.deploymentname"));

		snprintf(rs->deployment, sizeof rs->deployment, "%s", d != NULL ? d : "");
	}
	cJSON_Delete(answer);
	cJSON_Delete(body);
	batchcodec_invocation_cleanup(&inv);
}

/* ---- making the job ----------------------------------------------------- */

/* "batchjob-" and a random UUID, as Azure names them. */
static void job_name(char *buf, size_t len)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)(rand() ^ (int)time(NULL));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(buf, len,
		 "batchjob-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* A data asset's dataUri (its type in *type), copied under the lock. */
static int data_uri(struct runtime *rt, const struct job_uri *u, char **uri, enum data_type *type,
		    struct error *err)
{
	const struct data_version *d;
	int rc = 0;

	pthread_mutex_lock(&rt->lock);
	d = workspace_data_find(rt->ws, u->name, u->version[0] ? u->version : NULL);
	if (d == NULL)
		rc = error_set(err, 404, "NotFound", "data asset %s%s%s not found", u->name,
			       u->version[0] ? ":" : "", u->version);
	else if ((*uri = strdup(d->uri)) == NULL)
		rc = error_set(err, 500, "InternalError", "out of memory");
	else
		*type = d->type;
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

/* A datastore path (blob.h: azureml://.../datastores/workspaceblobstore/
 * paths/P, or the Blob URL the SDK uploaded to) as the file or folder in the
 * home: 1 with *path, 0 when uri is no datastore path, -1 with err. */
static int datastore_path(struct runtime *rt, const char *uri, const char *field, char **path,
			  struct error *err)
{
	char rel[PATH_MAX], abs[PATH_MAX];
	struct error why;
	int rc = blob_resolve(rt, uri, rel, sizeof rel, &why);

	if (rc == 0)
		return 0;
	if (rc < 0)
		return error_set(err, 400, "ValidationError", "%s: %s", field, why.message);
	if (artifact_path(rt->home, rel, abs, sizeof abs) < 0)
		return error_set(err, 400, "ValidationError", "%s: the path is too long", field);
	*path = strdup(abs);
	return *path != NULL ? 1 : error_set(err, 500, "InternalError", "out of memory");
}

/* What only the admin key may do in an invocation (docs/security.md, "Batch
 * jobs read and write files"); an endpoint key, handed to partner systems and
 * schedulers, may name what the workspace holds (a data asset, a datastore
 * path) and lower the deployment's compute. A host path would open every file
 * the runtime's user can read to whoever holds a key, so the refusal comes
 * before any file is looked at and names neither the path nor whether it
 * exists; more workers than the deployment's are processes and memory the
 * admin did not give. */
enum admin_only { READ_HOST, WRITE_FOLDER, MORE_WORKERS };

static int key_may(int admin, enum admin_only what, const char *field, struct error *err)
{
	static const char *const why[] = {
		[READ_HOST] = "a path on the runtime's host needs the admin key; an endpoint key "
			      "may name a data asset (azureml:NAME:VERSION) or a path of the "
			      "workspace's datastore (azureml://datastores/workspaceblobstore/"
			      "paths/...)",
		[WRITE_FOLDER] = "an output folder needs the admin key",
		[MORE_WORKERS] = "more workers than the deployment's instanceCount x "
				 "maxConcurrencyPerInstance need the admin key (an endpoint key "
				 "may lower them)",
	};

	if (admin)
		return 0;
	return error_set(err, 403, "Forbidden", "%s: %s", field, why[what]);
}

/* The local path a URI names; data assets are followed once, datastore paths
 * lead into the workspace's datastore. Touches no file. */
int invoke_local_path(struct runtime *rt, const char *uri, const char *field, char **path,
		      enum data_type *asset_type, enum invoke_source *src, struct error *err)
{
	struct job_uri *u = malloc(sizeof *u);
	char *target = NULL;
	int rc = -1;

	*src = INVOKE_SOURCE_DATASTORE;
	if (u == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	if ((rc = datastore_path(rt, uri, field, path, err)) != 0)
		goto out;
	rc = -1;
	if (job_uri_parse(uri, u, err) < 0)
		goto out;
	*src = INVOKE_SOURCE_HOST;
	if (u->kind == JOB_URI_DATA) {
		if (data_uri(rt, u, &target, asset_type, err) < 0)
			goto out;
		*src = INVOKE_SOURCE_ASSET;
		if ((rc = datastore_path(rt, target, field, path, err)) != 0)
			goto out;
		rc = -1;
		if (job_uri_parse(target, u, err) < 0 || u->kind == JOB_URI_DATA) {
			error_set(err, 400, "ValidationError",
				  "%s: the data asset's dataUri must be a path or a datastore path",
				  field);
			goto out;
		}
	}
	if (u->kind == JOB_URI_DATASTORE) {
		error_set(err, 400, "ValidationError",
			  "%s: a datastore path must name workspaceblobstore/paths/PATH", field);
		goto out;
	}
	*path = strdup(u->path);
	rc = *path != NULL ? 0 : error_set(err, 500, "InternalError", "out of memory");
out:
	free(target);
	free(u);
	return rc < 0 ? -1 : 0;
}

/* The input, checked against its JobInputType. Errors name the URI as the
 * client sent it, never the home's path. */
static int input_path(struct runtime *rt, const struct job_invocation *inv, int admin,
		      char **path, struct error *err)
{
	const char *uri = inv->input_uri;
	enum data_type asset_type;
	enum invoke_source src;
	struct stat st;

	if (invoke_local_path(rt, uri, "InputData.Uri", path, &asset_type, &src, err) < 0 ||
	    (src == INVOKE_SOURCE_HOST && key_may(admin, READ_HOST, "InputData.Uri", err) < 0))
		return -1;
	if (src == INVOKE_SOURCE_ASSET && asset_type != inv->input_type)
		return error_set(err, 400, "ValidationError",
				 "InputData: JobInputType is %s but the data asset is %s",
				 data_type_name(inv->input_type), data_type_name(asset_type));
	if (stat(*path, &st) < 0)
		return error_set(err, 400, "ValidationError", "InputData.Uri: %.300s: %s", uri,
				 strerror(errno));
	if (inv->input_type == DATA_URI_FOLDER && !S_ISDIR(st.st_mode))
		return error_set(err, 400, "ValidationError",
				 "InputData: %.300s is not a folder (JobInputType UriFolder)", uri);
	if (inv->input_type == DATA_URI_FILE && !S_ISREG(st.st_mode))
		return error_set(err, 400, "ValidationError",
				 "InputData: %.300s is not a file (JobInputType UriFile)", uri);
	return 0;
}

/* Where the output goes: the job's own folder, or OutputData's. */
static int output_dir(struct runtime *rt, const struct job_invocation *inv, const char *name,
		      int admin, char **dir, char **uri, struct error *err)
{
	enum data_type type;
	enum invoke_source src;
	char buf[PATH_MAX + 16];

	if (inv->output_uri == NULL) {
		if (snprintf(buf, sizeof buf, "%s/jobs/%s/outputs/score", rt->home, name) >=
		    (int)sizeof buf)
			return error_set(err, 500, "InternalError", "the home's path is too long");
		*dir = strdup(buf);
	} else if (key_may(admin, WRITE_FOLDER, "OutputData.Uri", err) < 0 ||
		   invoke_local_path(rt, inv->output_uri, "OutputData.Uri", dir, &type, &src, err) < 0) {
		return -1;
	}
	if (*dir == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	if (snprintf(buf, sizeof buf, "file://%s/", *dir) >= (int)sizeof buf)
		return error_set(err, 400, "ValidationError", "OutputData: the path is too long");
	*uri = strdup(buf);
	return *uri != NULL ? 0 : error_set(err, 500, "InternalError", "out of memory");
}

struct create {
	struct runtime *rt;
	const char *ep, *deployment, *schedule;
	const struct job_invocation *inv;
	int admin; /* the admin key invoked: may raise the workers */
	struct job *job;
	const struct codec_ctx *ids; /* NULL: no answer wanted */
	cJSON *answer;
};

static const struct batch_deployment *pick_deployment(const struct workspace *ws,
						      struct create *c, struct error *err)
{
	const struct batch_endpoint *ep = batch_endpoint_find(ws, c->ep);
	const struct batch_deployment *d;
	const char *name = c->deployment;

	if (ep == NULL) {
		error_set(err, 404, "NotFound", "batch endpoint '%s' not found", c->ep);
		return NULL;
	}
	if (name == NULL || name[0] == '\0')
		name = ep->default_deployment;
	if (name[0] == '\0') {
		error_set(err, 400, "ValidationError",
			  "batch endpoint '%s' has no default deployment: name one with the "
			  "azureml-model-deployment header or set properties.defaults.deploymentName",
			  c->ep);
		return NULL;
	}
	d = batch_deployment_find(ws, c->ep, name);
	if (d == NULL)
		error_set(err, 404, "NotFound", "Deployment name %.40s not found for this endpoint",
			  name);
	return d;
}

static int create_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct create *c = arg;
	const struct batch_deployment *d = pick_deployment(ws, c, err);
	struct job *j = c->job;

	(void)rt;
	if (d == NULL)
		return -1;
	snprintf(j->endpoint, sizeof j->endpoint, "%s", c->ep);
	snprintf(j->deployment, sizeof j->deployment, "%s", d->name);
	j->settings = d->settings;
	if (job_settings_apply(&j->settings, &c->inv->overrides, err) < 0 ||
	    (job_workers(&j->settings) > job_workers(&d->settings) &&
	     key_may(c->admin, MORE_WORKERS, "compute", err) < 0) ||
	    batch_job_put(ws, j, err) < 0)
		return -1;
	if (c->ids != NULL)
		c->answer = batchcodec_job_to_json(batch_job_find(ws, j->name), c->ids);
	return 0;
}

/* The job's fields that come from the invocation. */
static int job_from(struct job *j, const struct job_invocation *inv, const char *schedule)
{
	j->status = JOB_QUEUED;
	j->created = (int64_t)time(NULL);
	snprintf(j->input_name, sizeof j->input_name, "%s", inv->input_name);
	j->input_type = inv->input_type;
	if (resource_dup(&j->input_uri, inv->input_uri) < 0 ||
	    resource_dup(&j->display_name, inv->display_name) < 0 ||
	    resource_dup(&j->experiment, inv->experiment) < 0 ||
	    resource_dup(&j->description, inv->description) < 0 ||
	    resource_dup(&j->schedule, schedule) < 0 || kvlist_copy(&j->tags, &inv->tags) < 0 ||
	    kvlist_copy(&j->properties, &inv->properties) < 0)
		return -1;
	return 0;
}

int invoke_start(struct runtime *rt, const char *ep, const char *deployment,
		 const struct job_invocation *inv, const char *schedule, int admin,
		 const struct codec_ctx *ids, cJSON **answer, char *name, size_t name_len,
		 struct error *err)
{
	struct job j;
	struct create c = {rt, ep, deployment, schedule, inv, admin, &j,
			   answer != NULL ? ids : NULL, NULL};
	int rc = -1;

	memset(&j, 0, sizeof j);
	job_name(j.name, sizeof j.name);
	if (job_from(&j, inv, schedule) < 0) {
		error_set(err, 500, "InternalError", "out of memory");
		goto out;
	}
	if (input_path(rt, inv, admin, &j.input_path, err) < 0 ||
	    output_dir(rt, inv, j.name, admin, &j.output_dir, &j.output_uri, err) < 0)
		goto out;
	if (jobs_reserve(rt->jobs) < 0) {
		error_set(err, 429, "TooManyJobs",
			  "too many batch jobs are waiting (--max-queued-jobs); try again when "
			  "some have started");
		goto out;
	}
	if (control_change(rt, create_apply, NULL, &c, err) < 0) {
		jobs_unreserve(rt->jobs);
		goto out;
	}
	snprintf(name, name_len, "%s", j.name);
	runtime_log(rt, "job %s: queued for %s/%s (%s)", j.name, ep, j.deployment, j.input_path);
	if (jobs_submit(rt->jobs, j.name, 1) < 0)
		runtime_log(rt, "job %s: stays queued until the next start", j.name);
	rc = 0;
	if (answer != NULL) {
		*answer = c.answer;
		c.answer = NULL;
	}
out:
	cJSON_Delete(c.answer);
	job_cleanup(&j);
	return rc;
}
