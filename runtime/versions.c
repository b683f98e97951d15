/*
 * versions.c: the versioned assets of the resource API: models, environments,
 * code and data. One set of handlers serves them all through the asset table;
 * what differs (registering a version) is one function per kind.
 *
 * Lists take Azure's queries (listViewType, $orderBy=createdtime desc|asc,
 * $top; count and $skipToken through control_page). A container (models/NAME)
 * exists while it has versions; its PUT sets only isArchived.
 *
 * A model's modelUri or a code's codeUri naming the default datastore
 * (azureml://.../datastores/workspaceblobstore/paths/..., or the Blob URL the
 * SDK uploaded to) is read from the home's blob storage (blob.h). A model
 * version PUT again with the modelUri it already has keeps its artifact (the
 * SDK's get-modify-put, archiving for one); another modelUri, or an upload,
 * copies the artifact in again, which a deployment in use forbids (409). The
 * copy is staged before the workspace lock and placed in a directory of its
 * own (state/artifact.h); the one the state no longer names is removed after
 * the commit, outside the lock.
 *
 * A data asset's dataUri is a path on the runtime's host, file://, or a
 * datastore path (azureml://datastores/workspaceblobstore/paths/..., or the
 * Blob URL the SDK uploaded to): what a batch job can read (job.h's URIs),
 * never another data asset.
 */
#include "runtime/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/blob.h"
#include "state/artifact.h"
#include "state/batch.h"
#include "state/batchcodec.h"
#include "state/file.h"
#include "state/yaml.h"

#define MLMODEL_MAX (256 * 1024)

struct asset {
	const char *kind; /* path segment and id part: "models", "environments", "codes", "data" */
	const char *what; /* for messages */
	size_t (*query)(const struct workspace *ws, const char *name, const struct asset_query *q,
			const void ***out);
	const void *(*find)(const struct workspace *ws, const char *name, const char *version);
	const char *(*artifact_of)(const void *a); /* NULL when it has none */
	int64_t (*created_of)(const void *a);
	cJSON *(*to_json)(const void *a, const struct codec_ctx *c);
	int (*remove)(struct workspace *ws, const char *name, const char *version,
		      struct error *err); /* version NULL: every version */
	void (*put)(struct call *c, const char *version); /* version NULL: the next */
	const char *(*data_type_of)(const void *a); /* the container's dataType, or NULL */
};

/* The common prefix of the version structs (workspace.c relies on it too). */
static const char *name_of(const void *a)
{
	return ((const struct model_version *)a)->name;
}

static const char *version_of(const void *a)
{
	return ((const struct model_version *)a)->version;
}

static const struct asset *kind_of(const struct call *c)
{
	return c->arg;
}

/* ---- the three kinds ---------------------------------------------------- */

static size_t model_query(const struct workspace *ws, const char *n, const struct asset_query *q,
			  const void ***out)
{
	return workspace_model_query(ws, n, q, (const struct model_version ***)out);
}

static const void *model_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_model_find(ws, n, v);
}

static const char *model_artifact(const void *a)
{
	return ((const struct model_version *)a)->artifact;
}

static int64_t model_created(const void *a)
{
	return ((const struct model_version *)a)->created;
}

static cJSON *model_json(const void *a, const struct codec_ctx *c)
{
	return codec_model_version_to_json(a, c);
}

static int model_remove(struct workspace *ws, const char *n, const char *v, struct error *err)
{
	return v != NULL ? workspace_model_delete(ws, n, v, err)
			 : workspace_model_delete_all(ws, n, err);
}

static size_t env_query(const struct workspace *ws, const char *n, const struct asset_query *q,
			const void ***out)
{
	return workspace_env_query(ws, n, q, (const struct env_version ***)out);
}

static const void *env_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_env_find(ws, n, v);
}

static int64_t env_created(const void *a)
{
	return ((const struct env_version *)a)->created;
}

static cJSON *env_json(const void *a, const struct codec_ctx *c)
{
	return codec_env_version_to_json(a, c);
}

static int env_remove(struct workspace *ws, const char *n, const char *v, struct error *err)
{
	return v != NULL ? workspace_env_delete(ws, n, v, err)
			 : workspace_env_delete_all(ws, n, err);
}

static size_t code_query(const struct workspace *ws, const char *n, const struct asset_query *q,
			 const void ***out)
{
	return workspace_code_query(ws, n, q, (const struct code_version ***)out);
}

static const void *code_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_code_find(ws, n, v);
}

static int64_t code_created(const void *a)
{
	return ((const struct code_version *)a)->created;
}

static cJSON *code_json(const void *a, const struct codec_ctx *c)
{
	return codec_code_version_to_json(a, c);
}

static size_t data_query(const struct workspace *ws, const char *n, const struct asset_query *q,
			 const void ***out)
{
	return workspace_data_query(ws, n, q, (const struct data_version ***)out);
}

static const void *data_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_data_find(ws, n, v);
}

static int64_t data_created(const void *a)
{
	return ((const struct data_version *)a)->created;
}

static cJSON *data_json(const void *a, const struct codec_ctx *c)
{
	return batchcodec_data_to_json(a, c);
}

static const char *data_type_of(const void *a)
{
	return data_type_name(((const struct data_version *)a)->type);
}

static void model_put(struct call *c, const char *version);
static void env_put(struct call *c, const char *version);
static void code_put(struct call *c, const char *version);
static void data_put(struct call *c, const char *version);

const struct asset versions_models = {"models",	    "model",	 model_query,	 model_find,
				    model_artifact, model_created, model_json,	 model_remove,
				    model_put,	    NULL};
const struct asset versions_environments = {"environments", "environment", env_query, env_find,
					  NULL,		  env_created,	 env_json,  env_remove,
					  env_put,	  NULL};
const struct asset versions_codes = {"codes",	 "code",    code_query,		    code_find,
				   NULL,	 code_created, code_json, workspace_code_delete,
				   code_put, NULL};
const struct asset versions_data = {"data",	 "data asset", data_query,	       data_find,
				  NULL,		 data_created, data_json,	       workspace_data_delete,
				  data_put,	 data_type_of};

/* ---- lists and reads ---------------------------------------------------- */

static int query_of(struct call *c, struct asset_query *q)
{
	struct error err;

	if (workspace_query_parse(server_query(c->rq, "$orderBy"), server_query(c->rq, "$top"),
				  server_query(c->rq, "listViewType"), q, &err) == 0)
		return 0;
	control_reply_error(c, &err);
	return -1;
}

/* The container of NAME as codec wants it; 0 when NAME has no version. */
static int container_of(const struct asset *k, const struct workspace *ws, const char *name,
			struct codec_container *out, char *next, size_t nlen)
{
	struct asset_query all = {VIEW_ALL, ORDER_CREATED_ASC, 0};
	const void **vs;
	size_t n = k->query(ws, name, &all, &vs);
	unsigned long long max = 0;

	if (n == 0)
		return 0;
	memset(out, 0, sizeof *out);
	out->kind = k->kind;
	out->name = name_of(vs[0]);
	out->latest = version_of(k->find(ws, name, NULL));
	out->created = k->created_of(vs[0]);
	out->modified = k->created_of(vs[n - 1]);
	out->archived = workspace_container_archived(ws, k->kind, name);
	if (k->data_type_of != NULL)
		out->data_type = k->data_type_of(k->find(ws, name, NULL));
	for (size_t i = 0; i < n; i++) {
		char *end;
		unsigned long long v = strtoull(version_of(vs[i]), &end, 10);

		if (*end == '\0' && v > max)
			max = v;
	}
	snprintf(next, nlen, "%llu", max + 1);
	out->next = next;
	free(vs);
	return 1;
}

/* GET {kind}: one container per name. */
void versions_list(struct call *c)
{
	const struct asset *k = kind_of(c);
	struct asset_query q, all = {VIEW_ALL, ORDER_NAME, 0};
	struct codec_container ct;
	const void **as;
	char next[32];
	cJSON *arr;
	size_t n;

	if (query_of(c, &q) < 0)
		return;
	arr = cJSON_CreateArray();
	control_lock(c);
	n = k->query(c->rt->ws, NULL, &all, &as);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(name_of(as[i]), name_of(as[i - 1])) == 0)
			continue;
		if (container_of(k, c->rt->ws, name_of(as[i]), &ct, next, sizeof next) &&
		    (q.view == VIEW_ALL || (q.view == VIEW_ARCHIVED) == (ct.archived != 0)))
			cJSON_AddItemToArray(arr, codec_container_to_json(&ct, &c->codec));
	}
	free(as);
	control_end(c);
	control_page(c, arr);
}

void versions_container_get(struct call *c)
{
	const struct asset *k = kind_of(c);
	struct codec_container ct;
	char next[32];
	cJSON *j = NULL;

	control_lock(c);
	if (container_of(k, c->rt->ws, c->cap[0], &ct, next, sizeof next))
		j = codec_container_to_json(&ct, &c->codec);
	control_end(c);
	if (j != NULL)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "%s '%s' not found", k->what, c->cap[0]);
}

/* PUT {kind}/{n}: archives or restores the container. */
struct container_put {
	struct call *c;
	int archived;
	cJSON *answer;
};

static int container_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
			       struct error *err)
{
	struct container_put *p = arg;
	const struct asset *k = kind_of(p->c);
	const char *name = p->c->cap[0];
	struct codec_container ct;
	char next[32];

	(void)rt;
	if (!container_of(k, ws, name, &ct, next, sizeof next))
		return error_set(err, 404, "NotFound",
				 "%s '%s' has no version; register one (PUT .../versions/V) first",
				 k->what, name);
	if (workspace_container_set_archived(ws, k->kind, name, p->archived, err) < 0)
		return -1;
	container_of(k, ws, name, &ct, next, sizeof next);
	p->answer = codec_container_to_json(&ct, &p->c->codec);
	return 0;
}

void versions_container_put(struct call *c)
{
	struct container_put p = {c, 0, NULL};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	if (codec_container_from_json(c->body, &p.archived, &err) < 0 ||
	    control_change(c->rt, container_put_apply, NULL, &p, &err) < 0) {
		cJSON_Delete(p.answer);
		return control_reply_error(c, &err);
	}
	control_reply(c, 200, p.answer);
}

void versions_versions_list(struct call *c)
{
	const struct asset *k = kind_of(c);
	struct asset_query q;
	const void **as;
	cJSON *arr;
	size_t n;

	if (query_of(c, &q) < 0)
		return;
	arr = cJSON_CreateArray();
	control_lock(c);
	n = k->query(c->rt->ws, c->cap[0], &q, &as);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, k->to_json(as[i], &c->codec));
	free(as);
	control_end(c);
	control_page(c, arr);
}

void versions_version_get(struct call *c)
{
	const struct asset *k = kind_of(c);
	const void *a;
	cJSON *j = NULL;

	control_lock(c);
	a = k->find(c->rt->ws, c->cap[0], c->cap[1]);
	if (a != NULL)
		j = k->to_json(a, &c->codec);
	control_end(c);
	if (j != NULL)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "%s version '%s:%s' not found",
				    k->what, c->cap[0], c->cap[1]);
}

/* Collects the artifacts of name (all versions when version is NULL), for removal. */
static char **artifacts_of(const struct asset *k, const struct workspace *ws, const char *name,
			   const char *version)
{
	struct asset_query all = {VIEW_ALL, ORDER_NAME, 0};
	const void **as;
	size_t n, m = 0;
	char **out;

	if (k->artifact_of == NULL)
		return NULL;
	n = k->query(ws, name, &all, &as);
	out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out != NULL && i < n; i++)
		if ((version == NULL || !strcmp(version_of(as[i]), version)) &&
		    k->artifact_of(as[i]) != NULL)
			out[m++] = strdup(k->artifact_of(as[i]));
	free(as);
	return out;
}

/* DELETE of one version (cap[1]) or of the whole container; the files go
 * once the change is on disk. Deleting what is not there answers 204, as ARM
 * does. */
struct asset_del {
	struct call *c;
	int absent;
	char **files;
};

static int delete_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct asset_del *d = arg;
	const struct asset *k = kind_of(d->c);
	const char *name = d->c->cap[0], *version = d->c->cap[1];

	(void)rt;
	if (k->find(ws, name, version) == NULL) {
		d->absent = 1;
		return 0;
	}
	d->files = artifacts_of(k, ws, name, version);
	return k->remove(ws, name, version, err);
}

void versions_delete(struct call *c)
{
	struct asset_del d = {c, 0, NULL};
	struct error err;

	if (control_change(c->rt, delete_apply, NULL, &d, &err) < 0) {
		control_reply_error(c, &err);
	} else {
		/* nothing names them any more (and a new registration gets new directories) */
		for (size_t i = 0; d.files != NULL && d.files[i] != NULL; i++)
			artifact_remove(c->rt->home, d.files[i]);
		server_reply_json(c->rs, d.absent ? 204 : 200, NULL);
	}
	for (size_t i = 0; d.files != NULL && d.files[i] != NULL; i++)
		free(d.files[i]);
	free(d.files);
}

void versions_version_put(struct call *c)
{
	kind_of(c)->put(c, c->cap[1]);
}

void versions_version_post(struct call *c)
{
	kind_of(c)->put(c, NULL);
}

/* 201 with Location (the version's URL), or 200, as Azure answers asset PUTs. */
static void reply_version(struct call *c, int created, const char *kind, const char *name,
			  const char *version, cJSON *j)
{
	char path[RESOURCE_ASSET_NAME_MAX + RESOURCE_VERSION_MAX + 32], url[1024];

	if (created) {
		snprintf(path, sizeof path, "/%s/%s/versions/%s", kind, name, version);
		control_url(c, path, url, sizeof url);
		server_reply_header(c->rs, "Location", url);
	}
	control_reply(c, created ? 201 : 200, j);
}

/* ---- models ------------------------------------------------------------- */

/* Upload file names become a path component: keep them tame. */
static void upload_filename(const struct server_request *rq, char *buf, size_t len)
{
	const char *h = server_header(rq, "x-mldeck-filename");
	size_t o = 0;

	if (h == NULL)
		h = server_query(rq, "filename");
	if (h == NULL || *h == '\0' || *h == '.')
		h = "model";
	for (size_t i = 0; h[i] && o + 1 < len; i++) {
		char ch = h[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
			buf[o++] = ch;
	}
	buf[o] = '\0';
	if (o == 0)
		snprintf(buf, len, "model");
}

/* Fills mv from a JSON body or an upload's headers and query. */
static int model_from_request(struct call *c, struct model_version *mv, const char **uri,
			      struct error *err)
{
	const char *type;

	if (c->rq->upload_path == NULL) {
		if (c->body == NULL || !cJSON_IsObject(c->body))
			return error_set(err, 400, "BadRequest",
					 "the request needs a JSON object body or a raw upload "
					 "(Content-Type: application/octet-stream)");
		if (codec_model_version_from_json(c->body, mv, uri, err) < 0)
			return -1;
		if (*uri == NULL || **uri == '\0')
			return error_set(err, 400, "ValidationError",
					 "properties.modelUri is required (a path of the "
					 "workspace's datastore, a path on the runtime's host or "
					 "file:// URI), or upload the file raw");
		return 0;
	}
	type = server_header(c->rq, "x-mldeck-model-type");
	if (type == NULL)
		type = server_query(c->rq, "modelType");
	if (type == NULL || model_type_parse(type, &mv->type) < 0)
		return error_set(err, 400, "ValidationError",
				 "modelType (query) or x-mldeck-model-type (header) must be one "
				 "of custom_model, mlflow_model, xgboost, linear, mlp");
	if (server_query(c->rq, "description")) {
		mv->description = strdup(server_query(c->rq, "description"));
		if (mv->description == NULL)
			return error_set(err, 500, "OutOfMemory", "out of memory");
	}
	*uri = NULL;
	return 0;
}

/* The host path a modelUri names: the datastore's file, or the URI itself. */
static int model_source(struct call *c, const char *uri, char *buf, size_t len, struct error *err)
{
	char rel[PATH_MAX];
	int rc = blob_resolve(c->rt, uri, rel, sizeof rel, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return snprintf(buf, len, "%s", uri) < (int)len
			       ? 0
			       : error_set(err, 400, "ValidationError", "modelUri is too long");
	if (artifact_path(c->rt->home, rel, buf, len) < 0)
		return error_set(err, 400, "ValidationError", "modelUri is too long");
	return 0;
}

/* {"flavor": {"data": {"key": "text", ...}}} from an MLmodel's flavors. */
static char *flavors_from_mlmodel(const cJSON *mlmodel)
{
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(mlmodel, "flavors"), *f, *kv;
	cJSON *out = cJSON_CreateObject();
	char *text;

	cJSON_ArrayForEach(f, fl)
	{
		cJSON *data = cJSON_AddObjectToObject(cJSON_AddObjectToObject(out, f->string), "data");

		cJSON_ArrayForEach(kv, f)
		{
			if (cJSON_IsString(kv)) {
				cJSON_AddStringToObject(data, kv->string, kv->valuestring);
			} else if (!cJSON_IsNull(kv)) {
				char *t = cJSON_PrintUnformatted(kv);

				cJSON_AddStringToObject(data, kv->string, t != NULL ? t : "");
				free(t);
			}
		}
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return text;
}

/* An mlflow_model's flavors, read as Azure does from the MLmodel file of its
 * artifact directory DIR (the stage, before the version is registered). */
static int mlflow_flavors(struct model_version *mv, const char *dir, const char *uri,
			  struct error *err)
{
	char path[PATH_MAX];
	size_t n;
	char *text;
	cJSON *doc;

	if (mv->type != MODEL_MLFLOW)
		return 0;
	if (snprintf(path, sizeof path, "%s/MLmodel", dir) >= (int)sizeof path ||
	    (text = file_read(path, MLMODEL_MAX, &n)) == NULL)
		return error_set(err, 400, "ValidationError",
				 "an mlflow_model is a directory with an MLmodel file; %s has "
				 "none",
				 uri != NULL ? uri : "the upload");
	doc = yaml_to_json(text, n, err);
	free(text);
	if (doc == NULL)
		return error_set(err, 400, "ValidationError", "MLmodel: %.200s", err->message);
	free(mv->flavors);
	mv->flavors = flavors_from_mlmodel(doc);
	cJSON_Delete(doc);
	return 0;
}

/* Copies the artifact (the modelUri's file or tree, or the upload) into a
 * stage under HOME/tmp and reads its flavors there: before the lock, as
 * nothing acknowledged changes yet (state/artifact.h). */
static int model_stage(struct call *c, struct model_version *mv, const char *uri,
		       struct artifact_stage *st, struct error *err)
{
	char fname[128], src[PATH_MAX], dir[PATH_MAX];
	int rc;

	if (uri != NULL) {
		rc = model_source(c, uri, src, sizeof src, err);
		if (rc == 0)
			rc = artifact_stage_import(c->rt->home, src, st, err);
	} else {
		upload_filename(c->rq, fname, sizeof fname);
		rc = artifact_stage_upload(c->rt->home, c->rq->upload_path, fname, st, err);
	}
	if (rc < 0)
		return -1;
	if (snprintf(dir, sizeof dir, "%s/%s", st->dir, st->base) >= (int)sizeof dir)
		return error_set(err, 500, "StorageError", "home path too long");
	return mlflow_flavors(mv, dir, uri, err);
}

/* The same modelUri and type again: the registered artifact stays as it is. */
static int same_artifact(const struct model_version *old, const struct model_version *mv,
			 const char *uri)
{
	return old != NULL && uri != NULL && old->uri != NULL && strcmp(old->uri, uri) == 0 &&
	       old->type == mv->type;
}

static void keep_artifact(const struct model_version *old, struct model_version *mv)
{
	free(mv->artifact);
	mv->artifact = old->artifact != NULL ? strdup(old->artifact) : NULL;
	memcpy(mv->sha256, old->sha256, sizeof mv->sha256);
	mv->size = old->size;
	if (old->flavors != NULL && mv->type == MODEL_MLFLOW) {
		free(mv->flavors);
		mv->flavors = strdup(old->flavors);
	}
}

/* Whether registering VERSION (NULL: the next one) would keep the artifact
 * registered now, so nothing needs copying. */
static int model_keeps_artifact(struct call *c, const struct model_version *mv,
				const char *version, const char *uri)
{
	int same;

	if (version == NULL || uri == NULL)
		return 0;
	control_lock(c);
	same = same_artifact(workspace_model_find(c->rt->ws, mv->name, version), mv, uri);
	control_end(c);
	return same;
}

static const struct deployment *model_user(const struct workspace *ws, const char *name,
					   const char *version)
{
	const struct deployment **ds, *by = NULL;
	size_t n = workspace_deployment_list(ws, NULL, &ds);

	for (size_t i = 0; i < n && by == NULL; i++)
		if (!strcmp(ds[i]->model_name, name) && !strcmp(ds[i]->model_version, version))
			by = ds[i];
	free(ds);
	return by;
}

/* 409 while a deployment, online or batch, runs NAME:VERSION. */
static int model_in_use(const struct workspace *w, const char *name, const char *version,
			struct error *err)
{
	const struct deployment *by = model_user(w, name, version);
	const char *bep, *bd;

	if (by != NULL)
		return error_set(err, 409, "Conflict",
				 "model version '%s:%s' is used by deployment '%s/%s'; "
				 "register a new version instead",
				 name, version, by->endpoint, by->name);
	if (batch_asset_user(w, WORKSPACE_MODELS, name, version, &bep, &bd))
		return error_set(err, 409, "Conflict",
				 "model version '%s:%s' is used by batch deployment '%s/%s'; "
				 "register a new version instead",
				 name, version, bep, bd);
	return 0;
}

/* The registration of one version, whatever its kind. For a model, the new
 * artifact goes to a directory of its own (artifact_place); the state commit
 * decides; then the replaced artifact (or, on failure, the new one) is
 * removed, outside the lock. */
struct version_put {
	struct call *c;
	const char *version; /* NULL: the next one */
	const char *uri;     /* models: properties.modelUri */
	void *item;          /* the kind's version struct */
	int created;
	cJSON *answer;
	struct artifact_stage stage; /* models: the staged artifact, "" when kept */
	char *placed;        /* models: the new artifact, once in place */
	char *replaced;      /* models: the artifact of the version it replaces */
};

/* Places the staged artifact (or keeps the registered one) and puts the version into w. */
static int model_register(struct version_put *p, struct workspace *w, struct error *err)
{
	struct model_version *mv = p->item;
	const struct model_version *old = workspace_model_find(w, mv->name, mv->version);
	struct artifact_info ai;

	if (p->uri != NULL && (mv->uri = strdup(p->uri)) == NULL)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	if (same_artifact(old, mv, p->uri)) {
		keep_artifact(old, mv);
		return workspace_model_put(w, mv, &p->created, err);
	}
	if (model_in_use(w, mv->name, mv->version, err) < 0)
		return -1;
	if (p->stage.dir[0] == '\0') /* it was kept when the copy was decided */
		return error_set(err, 409, "Conflict",
				 "model version '%s:%s' changed during this registration; send "
				 "it again",
				 mv->name, mv->version);
	if (artifact_place(p->c->rt->home, mv->name, mv->version, &p->stage, &ai, err) < 0)
		return -1;
	p->placed = ai.rel;
	free(mv->artifact);
	mv->artifact = strdup(ai.rel);
	memcpy(mv->sha256, ai.sha256, sizeof mv->sha256);
	mv->size = ai.size;
	if (mv->artifact == NULL ||
	    (old != NULL && old->artifact != NULL && (p->replaced = strdup(old->artifact)) == NULL))
		return error_set(err, 500, "OutOfMemory", "out of memory");
	return workspace_model_put(w, mv, &p->created, err);
}

static int model_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct version_put *p = arg;
	struct model_version *mv = p->item;

	(void)rt;
	if (p->version != NULL)
		snprintf(mv->version, sizeof mv->version, "%s", p->version);
	else
		workspace_model_next_version(ws, mv->name, mv->version, sizeof mv->version);
	if (model_register(p, ws, err) < 0)
		return -1;
	p->answer = codec_model_version_to_json(workspace_model_find(ws, mv->name, mv->version),
						&p->c->codec);
	return 0;
}

/* Runs apply on p and answers (201 + Location, or 200, or the error). */
static int version_change(struct version_put *p, control_apply_fn apply, const char *kind,
			  const char *name, const char *version)
{
	struct error err;

	if (control_change(p->c->rt, apply, NULL, p, &err) < 0) {
		cJSON_Delete(p->answer);
		control_reply_error(p->c, &err);
		return -1;
	}
	reply_version(p->c, p->created, kind, name, version, p->answer);
	return 0;
}

static void model_put(struct call *c, const char *version)
{
	struct model_version mv;
	struct version_put p = {.c = c, .version = version, .item = &mv};
	struct error err;
	int rc;

	memset(&mv, 0, sizeof mv);
	snprintf(mv.name, sizeof mv.name, "%s", c->cap[0]);
	mv.created = control_now();
	rc = model_from_request(c, &mv, &p.uri, &err);
	if (rc == 0 && !model_keeps_artifact(c, &mv, version, p.uri))
		rc = model_stage(c, &mv, p.uri, &p.stage, &err);
	if (rc < 0)
		control_reply_error(c, &err);
	else
		rc = version_change(&p, model_apply, "models", mv.name, mv.version);
	/* whichever artifact the state does not name goes */
	artifact_remove(c->rt->home, rc == 0 ? p.replaced : p.placed);
	artifact_stage_discard(&p.stage);
	if (rc == 0)
		runtime_log(c->rt, "model %s:%s registered (%llu bytes)", mv.name, mv.version,
			    (unsigned long long)mv.size);
	free(p.placed);
	free(p.replaced);
	model_version_cleanup(&mv);
}

/* ---- environments ------------------------------------------------------- */

static int env_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct version_put *p = arg;
	struct env_version *ev = p->item;

	(void)rt;
	if (p->version != NULL)
		snprintf(ev->version, sizeof ev->version, "%s", p->version);
	if (workspace_env_put(ws, ev, &p->created, err) < 0)
		return -1;
	p->answer = codec_env_version_to_json(workspace_env_find(ws, ev->name, ev->version),
					      &p->c->codec);
	return 0;
}

static void env_put(struct call *c, const char *version)
{
	struct env_version ev;
	struct version_put p = {.c = c, .version = version, .item = &ev};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	memset(&ev, 0, sizeof ev);
	snprintf(ev.name, sizeof ev.name, "%s", c->cap[0]);
	ev.created = control_now();
	if (codec_env_version_from_json(c->body, &ev, &err) < 0)
		control_reply_error(c, &err);
	else
		version_change(&p, env_apply, "environments", ev.name, ev.version);
	env_version_cleanup(&ev);
}

/* ---- code --------------------------------------------------------------- */

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* codeUri -> the directory it names in the home; 400 unless it is there. */
static int code_dir(struct call *c, struct code_version *cv, struct error *err)
{
	char rel[PATH_MAX], abs[PATH_MAX];
	int rc = blob_resolve(c->rt, cv->code_uri, rel, sizeof rel, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return error_set(err, 400, "ValidationError",
				 "properties.codeUri must name a folder of the workspace's "
				 "datastore (the Blob URL the SDK uploaded to, or azureml://"
				 "datastores/workspaceblobstore/paths/...)");
	if (artifact_path(c->rt->home, rel, abs, sizeof abs) < 0 || !is_dir(abs))
		return error_set(err, 400, "ValidationError",
				 "properties.codeUri: %.300s has not been uploaded", cv->code_uri);
	free(cv->dir);
	cv->dir = strdup(rel);
	return cv->dir != NULL ? 0 : error_set(err, 500, "OutOfMemory", "out of memory");
}

static int code_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct version_put *p = arg;
	struct code_version *cv = p->item;

	(void)rt;
	if (p->version != NULL)
		snprintf(cv->version, sizeof cv->version, "%s", p->version);
	if (workspace_code_put(ws, cv, &p->created, err) < 0)
		return -1;
	p->answer = codec_code_version_to_json(workspace_code_find(ws, cv->name, cv->version),
					       &p->c->codec);
	return 0;
}

static void code_put(struct call *c, const char *version)
{
	struct code_version cv;
	struct version_put p = {.c = c, .version = version, .item = &cv};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	memset(&cv, 0, sizeof cv);
	snprintf(cv.name, sizeof cv.name, "%s", c->cap[0]);
	cv.created = control_now();
	if (codec_code_version_from_json(c->body, &cv, &err) < 0 || code_dir(c, &cv, &err) < 0)
		control_reply_error(c, &err);
	else
		version_change(&p, code_apply, "codes", cv.name, cv.version);
	code_version_cleanup(&cv);
}

/* ---- data --------------------------------------------------------------- */

/* dataUri: a path a job can read (job_uri_parse), not another data asset; a
 * datastore path must name the workspace's datastore. */
static int data_uri_check(struct call *c, const struct data_version *dv, struct error *err)
{
	char rel[PATH_MAX];
	int rc = dv->uri != NULL ? blob_resolve(c->rt, dv->uri, rel, sizeof rel, err) : 0;
	struct job_uri *u;

	if (rc != 0)
		return rc < 0 ? -1 : 0; /* the datastore's (or a 400) */
	if ((u = malloc(sizeof *u)) == NULL)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	if (job_uri_parse(dv->uri, u, err) < 0)
		rc = -1;
	else if (u->kind == JOB_URI_DATA)
		rc = error_set(err, 400, "ValidationError",
			       "properties.dataUri must be a path or a datastore path, not another "
			       "data asset");
	else
		rc = 0;
	free(u);
	return rc;
}

static int data_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct version_put *p = arg;
	struct data_version *dv = p->item;

	(void)rt;
	if (p->version != NULL)
		snprintf(dv->version, sizeof dv->version, "%s", p->version);
	if (workspace_data_put(ws, dv, &p->created, err) < 0)
		return -1;
	p->answer = batchcodec_data_to_json(workspace_data_find(ws, dv->name, dv->version),
					    &p->c->codec);
	return 0;
}

static void data_put(struct call *c, const char *version)
{
	struct data_version dv;
	struct version_put p = {.c = c, .version = version, .item = &dv};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	memset(&dv, 0, sizeof dv);
	snprintf(dv.name, sizeof dv.name, "%s", c->cap[0]);
	dv.type = DATA_URI_FOLDER;
	dv.created = control_now();
	if (batchcodec_data_from_json(c->body, &dv, &err) < 0 || data_uri_check(c, &dv, &err) < 0)
		control_reply_error(c, &err);
	else
		version_change(&p, data_apply, "data", dv.name, dv.version);
	data_version_cleanup(&dv);
}
