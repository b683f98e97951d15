/*
 * control.c: Azure ML's resource API (api-version 2024-04-01) served from the
 * workspace. Routes are a table; every change goes through control_change:
 * validated and applied in place under the workspace lock, its rows persisted
 * in one transaction, the live side of the endpoints it touched brought in
 * step, and only then acknowledged.
 */
#include "runtime/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "runtime/auth.h"
#include "state/artifact.h"
#include "state/batch.h"
#include "state/datacollector.h"
#include "state/names.h"

#define PREFIX_SEGS 8 /* subscriptions S resourceGroups RG providers P workspaces WS */

struct route {
	const char *method;
	const char *pattern; /* segments after the workspace; "*" captures */
	route_fn fn;
	const char *caps;    /* what each capture is: m(odel) e(nvironment) p (endpoint)
			      * d(eployment) names, v(ersion) */
	const struct asset *asset;
};

/* ---- small helpers ---------------------------------------------------- */

void control_reply(struct call *c, int status, cJSON *j)
{
	server_reply_json(c->rs, status, j ? cJSON_PrintUnformatted(j) : NULL);
	cJSON_Delete(j);
}

void control_reply_error(struct call *c, const struct error *err)
{
	server_reply_error(c->rs, err);
}

static void not_found(struct call *c, const char *what, const char *name)
{
	server_reply_errorf(c->rs, 404, "NotFound", "%s '%s' not found", what, name);
}

/* ---- the one way the workspace changes ---------------------------------- */

/* The endpoints whose live side a change touched (their rows or their
 * deployments'), deduplicated; heap array of heap names, *n of them. */
static char **touched_endpoints(const struct workspace *ws, size_t *n)
{
	const struct workspace_ref *refs;
	size_t k = workspace_changes(ws, &refs), i, j;
	char **out = calloc(k + 1, sizeof *out);

	*n = 0;
	for (i = 0; out && i < k; i++) {
		if (strcmp(refs[i].kind, WORKSPACE_ENDPOINTS) != 0 &&
		    strcmp(refs[i].kind, WORKSPACE_DEPLOYMENTS) != 0)
			continue;
		for (j = 0; j < *n && strcmp(out[j], refs[i].a) != 0; j++)
			;
		if (j == *n && (out[*n] = strdup(refs[i].a)) != NULL)
			(*n)++;
	}
	return out;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* A failed persist: the store still holds the last acknowledged state, so
 * reading it back undoes the in-memory change (O(workspace), failures only). */
static void rollback(struct runtime *rt)
{
	struct workspace *ws;
	struct error err;

	ws = store_load(rt->store, rt->ws_name, &err);
	if (ws == NULL) {
		runtime_log(rt, "store: cannot reload the state after a failed write (%s); the "
				"runtime's view may differ from the disk until it restarts",
			    err.message);
		workspace_changes_clear(rt->ws);
		return;
	}
	workspace_free(rt->ws);
	rt->ws = ws;
}

int control_change(struct runtime *rt, control_apply_fn apply, control_done_fn done, void *arg,
		   struct error *err)
{
	const struct workspace_ref *refs;
	char **eps = NULL;
	size_t neps = 0;
	int rc;

	pthread_mutex_lock(&rt->lock);
	rc = apply(rt, rt->ws, arg, err);
	if (workspace_changes(rt->ws, &refs) == 0 && !workspace_changes_lost(rt->ws))
		goto out; /* refused, or nothing to change */
	eps = touched_endpoints(rt->ws, &neps);
	if (rc == 0 && eps == NULL)
		rc = error_set(err, 500, "OutOfMemory", "out of memory");
	if (rc == 0 && (rc = store_commit(rt->store, rt->ws, err)) < 0)
		runtime_log(rt, "store: %s", err->message);
	if (rc < 0) {
		rollback(rt);
		goto out;
	}
	for (size_t i = 0; i < neps; i++)
		fleet_sync_endpoint(rt->fleet, rt->ws, eps[i]);
	if (done != NULL)
		done(rt, arg);
out:
	pthread_mutex_unlock(&rt->lock);
	free_names(eps, neps);
	return rc;
}

void control_lock(struct call *c)
{
	pthread_mutex_lock(&c->rt->lock);
}

/* Ends a read under the workspace lock. */
void control_end(struct call *c)
{
	pthread_mutex_unlock(&c->rt->lock);
}

int control_need_body(struct call *c)
{
	if (c->body == NULL || !cJSON_IsObject(c->body)) {
		server_reply_errorf(c->rs, 400, "BadRequest",
				    "the request needs a JSON object body");
		return -1;
	}
	return 0;
}

/* ---- models and environments: versioned assets ------------------------- */

/* Both are versioned assets; one set of handlers serves both through this table. */
struct asset {
	const char *kind; /* path segment and id part: "models", "environments" */
	const char *what; /* for messages */
	size_t (*list)(const struct workspace *ws, const void ***out);
	const void *(*find)(const struct workspace *ws, const char *name, const char *version);
	const char *(*name_of)(const void *a);
	const char *(*version_of)(const void *a);
	const char *(*artifact_of)(const void *a); /* NULL when it has none */
	cJSON *(*to_json)(const void *a, const struct codec_ctx *c);
	int (*remove)(struct workspace *ws, const char *name, const char *version,
		      struct error *err);
	int (*remove_all)(struct workspace *ws, const char *name, struct error *err);
};

/* Copies a typed list into an array of untyped pointers (no aliasing games). */
static size_t untyped(const void *const *items, size_t n, const void ***out)
{
	size_t i;

	*out = n ? malloc(n * sizeof **out) : NULL;
	if (*out == NULL)
		return 0;
	for (i = 0; i < n; i++)
		(*out)[i] = items[i];
	return n;
}

static size_t model_list(const struct workspace *ws, const void ***out)
{
	const struct model_version **ms;
	size_t n = workspace_model_list(ws, &ms);

	n = untyped((const void *const *)ms, n, out);
	free(ms);
	return n;
}

static const void *model_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_model_find(ws, n, v);
}

static const char *model_name(const void *a)
{
	return ((const struct model_version *)a)->name;
}

static const char *model_version(const void *a)
{
	return ((const struct model_version *)a)->version;
}

static const char *model_artifact(const void *a)
{
	return ((const struct model_version *)a)->artifact;
}

static cJSON *model_json(const void *a, const struct codec_ctx *c)
{
	return codec_model_version_to_json(a, c);
}

static size_t env_list(const struct workspace *ws, const void ***out)
{
	const struct env_version **es;
	size_t n = workspace_env_list(ws, &es);

	n = untyped((const void *const *)es, n, out);
	free(es);
	return n;
}

static const void *env_find(const struct workspace *ws, const char *n, const char *v)
{
	return workspace_env_find(ws, n, v);
}

static const char *env_name(const void *a)
{
	return ((const struct env_version *)a)->name;
}

static const char *env_version(const void *a)
{
	return ((const struct env_version *)a)->version;
}

static cJSON *env_json(const void *a, const struct codec_ctx *c)
{
	return codec_env_version_to_json(a, c);
}

static const struct asset models = {
	"models", "model", model_list, model_find, model_name, model_version, model_artifact,
	model_json, workspace_model_delete, workspace_model_delete_all};
static const struct asset environments = {
	"environments", "environment", env_list, env_find, env_name, env_version, NULL,
	env_json, workspace_env_delete, workspace_env_delete_all};

/* GET models: one container per name, with its latest version. */
static void assets_list(struct call *c)
{
	const struct asset *k = c->asset;
	const void **as;
	cJSON *arr = cJSON_CreateArray();
	size_t i, n;

	control_lock(c);
	n = k->list(c->rt->ws, &as);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(k->name_of(as[i]), k->name_of(as[i + 1])))
			continue; /* sorted: the last of a name is its latest */
		cJSON_AddItemToArray(arr, codec_container_to_json(k->kind, k->name_of(as[i]),
								  k->version_of(as[i]),
								  &c->rt->codec));
	}
	free(as);
	control_end(c);
	control_reply(c, 200, codec_list(arr));
}

static void asset_container_get(struct call *c)
{
	const struct asset *k = c->asset;
	const void *a;
	cJSON *j = NULL;

	control_lock(c);
	a = k->find(c->rt->ws, c->cap[0], NULL);
	if (a)
		j = codec_container_to_json(k->kind, k->name_of(a), k->version_of(a),
					    &c->rt->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		not_found(c, k->what, c->cap[0]);
}

static void asset_versions_list(struct call *c)
{
	const struct asset *k = c->asset;
	const void **as;
	cJSON *arr = cJSON_CreateArray();
	size_t i, n;

	control_lock(c);
	n = k->list(c->rt->ws, &as);
	for (i = 0; i < n; i++)
		if (!strcmp(k->name_of(as[i]), c->cap[0]))
			cJSON_AddItemToArray(arr, k->to_json(as[i], &c->rt->codec));
	free(as);
	control_end(c);
	control_reply(c, 200, codec_list(arr));
}

static void asset_version_get(struct call *c)
{
	const struct asset *k = c->asset;
	const void *a;
	cJSON *j = NULL;

	control_lock(c);
	a = k->find(c->rt->ws, c->cap[0], c->cap[1]);
	if (a)
		j = k->to_json(a, &c->rt->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "%s version '%s:%s' not found",
				    k->what, c->cap[0], c->cap[1]);
}

/* Collects the artifacts of name (all versions when version is NULL), for removal. */
static char **artifacts_of(const struct asset *k, const struct workspace *ws, const char *name,
			   const char *version)
{
	const void **as;
	size_t i, n, m = 0;
	char **out;

	if (k->artifact_of == NULL)
		return NULL;
	n = k->list(ws, &as);
	out = calloc(n + 1, sizeof *out);
	for (i = 0; out && i < n; i++)
		if (!strcmp(k->name_of(as[i]), name) &&
		    (version == NULL || !strcmp(k->version_of(as[i]), version)) &&
		    k->artifact_of(as[i]))
			out[m++] = strdup(k->artifact_of(as[i]));
	free(as);
	return out;
}

/* DELETE of one version (cap[1]) or of the whole container; files go after the save. */
struct asset_del {
	const struct asset *k;
	const char *name, *version;
	char **files;
};

static int asset_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
			      struct error *err)
{
	struct asset_del *d = arg;

	(void)rt;
	d->files = artifacts_of(d->k, ws, d->name, d->version);
	if (d->version)
		return d->k->remove(ws, d->name, d->version, err);
	return d->k->remove_all(ws, d->name, err);
}

static void asset_delete_done(struct runtime *rt, void *arg)
{
	struct asset_del *d = arg;

	for (size_t i = 0; d->files && d->files[i]; i++)
		artifact_remove(rt->home, d->files[i]);
}

static void asset_delete(struct call *c)
{
	struct asset_del d = {c->asset, c->cap[0], c->cap[1], NULL};
	struct error err;

	if (control_change(c->rt, asset_delete_apply, asset_delete_done, &d, &err) < 0)
		control_reply_error(c, &err);
	else
		server_reply_json(c->rs, 200, NULL);
	for (size_t i = 0; d.files && d.files[i]; i++)
		free(d.files[i]);
	free(d.files);
}

/* ---- model registration ------------------------------------------------- */

static int model_in_use(const struct workspace *ws, const char *name, const char *version,
			const struct deployment **by, struct error *err)
{
	const struct deployment **ds;
	size_t i, n = workspace_deployment_list(ws, NULL, &ds);
	const char *bep, *bd;
	int used = 0;

	for (i = 0; i < n && !used; i++)
		if (!strcmp(ds[i]->model_name, name) && !strcmp(ds[i]->model_version, version)) {
			used = 1;
			*by = ds[i];
		}
	free(ds);
	if (used)
		return error_set(err, 409, "Conflict",
				 "model version '%s:%s' is used by deployment '%s/%s'; register a "
				 "new version instead",
				 name, version, (*by)->endpoint, (*by)->name);
	if (batch_model_user(ws, name, version, &bep, &bd))
		return error_set(err, 409, "Conflict",
				 "model version '%s:%s' is used by batch deployment '%s/%s'; "
				 "register a new version instead",
				 name, version, bep, bd);
	return 0;
}

/* Upload file names become a path component: keep them tame. */
static void upload_filename(const struct server_request *rq, char *buf, size_t len)
{
	const char *h = server_header(rq, "x-mldeck-filename");
	size_t i, o = 0;

	if (h == NULL)
		h = server_query(rq, "filename");
	if (h == NULL || *h == '\0' || *h == '.')
		h = "model";
	for (i = 0; h[i] && o + 1 < len; i++) {
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
					 "properties.modelUri is required (a path on the runtime's "
					 "host or file:// URI), or upload the file raw");
		return 0;
	}
	type = server_header(c->rq, "x-mldeck-model-type");
	if (type == NULL)
		type = server_query(c->rq, "modelType");
	if (type == NULL || model_type_parse(type, &mv->type) < 0)
		return error_set(err, 400, "ValidationError",
				 "modelType (query) or x-mldeck-model-type (header) must be one "
				 "of xgboost, linear, mlp, custom_model");
	if (server_query(c->rq, "description")) {
		mv->description = strdup(server_query(c->rq, "description"));
		if (mv->description == NULL)
			return error_set(err, 500, "OutOfMemory", "out of memory");
	}
	*uri = NULL;
	return 0;
}

static int model_import(struct call *c, struct model_version *mv, const char *uri,
			struct error *err)
{
	struct artifact_info ai;
	char fname[128];
	int rc;

	memset(&ai, 0, sizeof ai);
	if (uri) {
		rc = artifact_import(c->rt->home, mv->name, mv->version, uri, &ai, err);
	} else {
		upload_filename(c->rq, fname, sizeof fname);
		rc = artifact_adopt(c->rt->home, mv->name, mv->version, c->rq->upload_path, fname,
				    &ai, err);
	}
	if (rc < 0)
		return -1;
	free(mv->artifact);
	mv->artifact = ai.rel;
	ai.rel = NULL;
	memcpy(mv->sha256, ai.sha256, sizeof mv->sha256);
	mv->size = ai.size;
	artifact_info_cleanup(&ai);
	return 0;
}

/* PUT models/{n}/versions/{v}, and POST models/{n}/versions (next version). */
struct model_put {
	struct call *c;
	struct model_version mv;
	const char *version; /* NULL: the next one */
	const char *uri;
	int created;
	cJSON *answer;
};

static int model_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
			   struct error *err)
{
	struct model_put *p = arg;
	struct model_version *mv = &p->mv;
	const struct deployment *by;

	if (p->version)
		snprintf(mv->version, sizeof mv->version, "%s", p->version);
	else
		workspace_model_next_version(ws, mv->name, mv->version, sizeof mv->version);
	if (model_in_use(ws, mv->name, mv->version, &by, err) < 0)
		return -1;
	if (model_import(p->c, mv, p->uri, err) < 0 ||
	    workspace_model_put(ws, mv, &p->created, err) < 0)
		return -1;
	p->answer = codec_model_version_to_json(workspace_model_find(ws, mv->name, mv->version),
						&rt->codec);
	return 0;
}

static void model_version_put_as(struct call *c, const char *version)
{
	struct model_put p;
	struct error err;

	memset(&p, 0, sizeof p);
	p.c = c;
	p.version = version;
	snprintf(p.mv.name, sizeof p.mv.name, "%s", c->cap[0]);
	p.mv.created = (int64_t)time(NULL);
	if (model_from_request(c, &p.mv, &p.uri, &err) < 0 ||
	    control_change(c->rt, model_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
	} else {
		control_reply(c, p.created ? 201 : 200, p.answer);
		runtime_log(c->rt, "model %s:%s registered (%llu bytes)", p.mv.name, p.mv.version,
			    (unsigned long long)p.mv.size);
	}
	model_version_cleanup(&p.mv);
}

static void model_version_put(struct call *c)
{
	model_version_put_as(c, c->cap[1]);
}

static void model_version_post(struct call *c)
{
	model_version_put_as(c, NULL);
}

/* ---- environments ------------------------------------------------------- */

struct env_put {
	struct env_version ev;
	const char *version; /* NULL: the next one */
	int created;
	cJSON *answer;
};

static int env_put_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct env_put *p = arg;

	if (p->version)
		snprintf(p->ev.version, sizeof p->ev.version, "%s", p->version);
	else
		workspace_env_next_version(ws, p->ev.name, p->ev.version, sizeof p->ev.version);
	if (workspace_env_put(ws, &p->ev, &p->created, err) < 0)
		return -1;
	p->answer = codec_env_version_to_json(workspace_env_find(ws, p->ev.name, p->ev.version),
					      &rt->codec);
	return 0;
}

static void env_version_put_as(struct call *c, const char *version)
{
	struct env_put p;
	struct error err;

	if (control_need_body(c) < 0)
		return;
	memset(&p, 0, sizeof p);
	p.version = version;
	snprintf(p.ev.name, sizeof p.ev.name, "%s", c->cap[0]);
	p.ev.created = (int64_t)time(NULL);
	if (codec_env_version_from_json(c->body, &p.ev, &err) < 0 ||
	    control_change(c->rt, env_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
	} else {
		control_reply(c, p.created ? 201 : 200, p.answer);
	}
	env_version_cleanup(&p.ev);
}

static void env_version_put(struct call *c)
{
	env_version_put_as(c, c->cap[1]);
}

static void env_version_post(struct call *c)
{
	env_version_put_as(c, NULL);
}

/* ---- endpoints ---------------------------------------------------------- */

static void endpoints_list(struct call *c)
{
	const struct endpoint **es;
	cJSON *arr = cJSON_CreateArray();
	size_t i, n;

	control_lock(c);
	n = workspace_endpoint_list(c->rt->ws, &es);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, codec_endpoint_to_json(es[i], &c->rt->codec));
	free(es);
	control_end(c);
	control_reply(c, 200, codec_list(arr));
}

static void endpoint_get(struct call *c)
{
	const struct endpoint *e;
	cJSON *j = NULL;

	control_lock(c);
	e = workspace_endpoint_find(c->rt->ws, c->cap[0]);
	if (e)
		j = codec_endpoint_to_json(e, &c->rt->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		not_found(c, "endpoint", c->cap[0]);
}

/* PUT creates or replaces; PATCH changes only what the body names. */
struct endpoint_put {
	struct call *c;
	int patch, created;
	cJSON *answer;
};

static int endpoint_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
			      struct error *err)
{
	struct endpoint_put *p = arg;
	const char *name = p->c->cap[0];
	const struct endpoint *cur = workspace_endpoint_find(ws, name);
	struct endpoint ep;
	int rc;

	memset(&ep, 0, sizeof ep);
	if (cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", name);
	if (cur && endpoint_copy(&ep, cur) < 0)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	if (cur == NULL) {
		snprintf(ep.name, sizeof ep.name, "%s", name);
		ep.created = (int64_t)time(NULL);
		ep.state = PROV_SUCCEEDED;
		auth_random_key(ep.primary_key, sizeof ep.primary_key);
		auth_random_key(ep.secondary_key, sizeof ep.secondary_key);
		auth_random_key(ep.uid, sizeof ep.uid); /* a new endpoint: old tokens die */
	}
	rc = codec_endpoint_from_json(p->c->body, &ep, err);
	if (rc == 0)
		rc = workspace_endpoint_put(ws, &ep, &p->created, err);
	endpoint_cleanup(&ep);
	if (rc == 0)
		p->answer = codec_endpoint_to_json(workspace_endpoint_find(ws, name), &rt->codec);
	return rc;
}

static void endpoint_write(struct call *c, int patch)
{
	struct endpoint_put p = {c, patch, 0, NULL};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	if (control_change(c->rt, endpoint_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
	} else {
		control_reply(c, p.created ? 201 : 200, p.answer);
	}
}

static void endpoint_put(struct call *c)
{
	endpoint_write(c, 0);
}

static void endpoint_patch(struct call *c)
{
	endpoint_write(c, 1);
}

static int endpoint_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
				 struct error *err)
{
	(void)rt;
	return workspace_endpoint_delete(ws, arg, err);
}

static void endpoint_delete(struct call *c)
{
	struct error err;

	if (control_change(c->rt, endpoint_delete_apply, NULL, (void *)c->cap[0], &err) < 0)
		control_reply_error(c, &err);
	else
		server_reply_json(c->rs, 200, NULL);
}

/* Copies the endpoint out under the lock; 404 answered when missing. */
static int endpoint_snapshot(struct call *c, struct endpoint *out)
{
	const struct endpoint *e;
	int rc = -1;

	memset(out, 0, sizeof *out);
	control_lock(c);
	e = workspace_endpoint_find(c->rt->ws, c->cap[0]);
	if (e)
		rc = endpoint_copy(out, e);
	control_end(c);
	if (e == NULL)
		not_found(c, "endpoint", c->cap[0]);
	else if (rc < 0)
		server_reply_errorf(c->rs, 500, "OutOfMemory", "out of memory");
	return e && rc == 0 ? 0 : -1;
}

static void endpoint_list_keys(struct call *c)
{
	struct endpoint ep;
	cJSON *j;

	if (endpoint_snapshot(c, &ep) < 0)
		return;
	if (ep.auth != AUTH_KEY) {
		server_reply_errorf(c->rs, 400, "BadRequest",
				    "endpoint '%s' uses AMLToken auth: ask for a token instead",
				    ep.name);
	} else {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "primaryKey", ep.primary_key);
		cJSON_AddStringToObject(j, "secondaryKey", ep.secondary_key);
		control_reply(c, 200, j);
	}
	endpoint_cleanup(&ep);
}

struct set_keys {
	const char *name, *primary, *secondary;
};

static int set_keys_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	const struct set_keys *k = arg;

	(void)rt;
	return workspace_endpoint_set_keys(ws, k->name, k->primary, k->secondary, err);
}

static void endpoint_regenerate_keys(struct call *c)
{
	struct set_keys sk;
	const cJSON *kt = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "keyType") : NULL;
	const cJSON *kv = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "keyValue") : NULL;
	char key[RESOURCE_KEY_LEN + 1];
	int primary;
	struct error err;

	if (!cJSON_IsString(kt) || (strcasecmp(kt->valuestring, "Primary") &&
				    strcasecmp(kt->valuestring, "Secondary")))
		return server_reply_errorf(c->rs, 400, "ValidationError",
					   "keyType must be \"Primary\" or \"Secondary\"");
	primary = !strcasecmp(kt->valuestring, "Primary");
	if (kv && !cJSON_IsNull(kv) && !cJSON_IsString(kv))
		return server_reply_errorf(c->rs, 400, "ValidationError",
					   "keyValue must be a string (or absent for a random key)");
	if (cJSON_IsString(kv) && kv->valuestring[0]) {
		size_t n = strlen(kv->valuestring);
		if (n < 16 || n > RESOURCE_KEY_LEN)
			return server_reply_errorf(c->rs, 400, "ValidationError",
						   "keyValue must be 16-%d characters",
						   RESOURCE_KEY_LEN);
		snprintf(key, sizeof key, "%s", kv->valuestring);
	} else {
		auth_random_key(key, sizeof key);
	}
	sk.name = c->cap[0];
	sk.primary = primary ? key : NULL;
	sk.secondary = primary ? NULL : key;
	if (control_change(c->rt, set_keys_apply, NULL, &sk, &err) < 0)
		return control_reply_error(c, &err);
	server_reply_json(c->rs, 200, NULL);
	runtime_log(c->rt, "endpoint %s: %s key regenerated", c->cap[0],
		    primary ? "primary" : "secondary");
}

static void endpoint_token(struct call *c)
{
	struct endpoint ep;
	struct error err;
	char tok[512];
	int64_t now = (int64_t)time(NULL);
	const int64_t ttl = c->rt->token_ttl;
	cJSON *j;

	if (endpoint_snapshot(c, &ep) < 0)
		return;
	if (ep.auth != AUTH_AMLTOKEN) {
		server_reply_errorf(c->rs, 400, "BadRequest",
				    "endpoint '%s' uses key auth: list its keys instead", ep.name);
	} else if (auth_token_issue(c->rt->token_secret, sizeof c->rt->token_secret,
				    &(struct auth_audience){ep.name, ep.uid, ep.key_generation}, now,
				    (int)ttl, tok, sizeof tok, &err) < 0) {
		control_reply_error(c, &err);
	} else {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "accessToken", tok);
		cJSON_AddStringToObject(j, "tokenType", "Bearer");
		cJSON_AddNumberToObject(j, "expiryTimeUtc", (double)(now + ttl));
		cJSON_AddNumberToObject(j, "refreshAfterTimeUtc", (double)(now + ttl / 2));
		control_reply(c, 200, j);
	}
	endpoint_cleanup(&ep);
}

/* ---- deployments -------------------------------------------------------- */

static void deployments_list(struct call *c)
{
	const struct deployment **ds;
	cJSON *arr;
	size_t i, n;

	control_lock(c);
	if (workspace_endpoint_find(c->rt->ws, c->cap[0]) == NULL) {
		control_end(c);
		return not_found(c, "endpoint", c->cap[0]);
	}
	arr = cJSON_CreateArray();
	n = workspace_deployment_list(c->rt->ws, c->cap[0], &ds);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, codec_deployment_to_json(ds[i], &c->rt->codec));
	free(ds);
	control_end(c);
	control_reply(c, 200, codec_list(arr));
}

static void deployment_get(struct call *c)
{
	const struct deployment *d;
	cJSON *j = NULL;

	control_lock(c);
	d = workspace_deployment_find(c->rt->ws, c->cap[0], c->cap[1]);
	if (d)
		j = codec_deployment_to_json(d, &c->rt->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "deployment '%s/%s' not found",
				    c->cap[0], c->cap[1]);
}

/* Only the instance count changed: scale live instead of reloading. */
static int only_capacity_changed(const struct deployment *a, const struct deployment *b)
{
	struct deployment x = *a;

	x.instances = b->instances;
	x.max_concurrent = b->max_concurrent;
	return !strcmp(x.model_name, b->model_name) && !strcmp(x.model_version, b->model_version) &&
	       !strcmp(x.env_name, b->env_name) && !strcmp(x.env_version, b->env_version) &&
	       x.timeout_ms == b->timeout_ms &&
	       !strcmp(x.code_dir ? x.code_dir : "", b->code_dir ? b->code_dir : "") &&
	       !strcmp(x.scoring_script ? x.scoring_script : "",
		       b->scoring_script ? b->scoring_script : "");
}

struct deployment_put {
	struct call *c;
	int patch, created;
	cJSON *answer;
};

/* The deployment as stored now, or a new one with the defaults; 404 answered
 * through err when the endpoint (or, for PATCH, the deployment) is missing. */
static int deployment_base(struct deployment_put *p, const struct workspace *ws,
			   const struct deployment **cur, struct deployment *d, struct error *err)
{
	const char *ep = p->c->cap[0], *name = p->c->cap[1];

	memset(d, 0, sizeof *d);
	if (workspace_endpoint_find(ws, ep) == NULL)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", ep);
	*cur = workspace_deployment_find(ws, ep, name);
	if (*cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "deployment '%s/%s' not found", ep, name);
	if (*cur != NULL)
		return deployment_copy(d, *cur) < 0
			       ? error_set(err, 500, "OutOfMemory", "out of memory")
			       : 0;
	snprintf(d->endpoint, sizeof d->endpoint, "%s", ep);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->instances = 1;
	d->max_concurrent = 1;
	d->timeout_ms = 5000;
	d->created = (int64_t)time(NULL);
	return 0;
}

static int deployment_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
				struct error *err)
{
	struct deployment_put *p = arg;
	const struct deployment *cur = NULL;
	struct deployment d;
	enum prov_state next = PROV_CREATING;
	int rc = deployment_base(p, ws, &cur, &d, err);

	if (rc == 0)
		rc = codec_deployment_from_json(p->c->body, &d, err);
	if (rc == 0 && cur)
		next = only_capacity_changed(cur, &d) ? PROV_SCALING : PROV_UPDATING;
	if (rc == 0)
		rc = workspace_deployment_put(ws, &d, 0, &p->created, err);
	if (rc == 0) /* monitor: its collections as data assets (a failure rolls all back) */
		rc = datacollector_register(ws, &d, err);
	if (rc == 0) {
		workspace_deployment_set_state(ws, d.endpoint, d.name, next, NULL);
		p->answer = codec_deployment_to_json(workspace_deployment_find(ws, d.endpoint, d.name),
						     &rt->codec);
	}
	deployment_cleanup(&d);
	return rc;
}

static void deployment_write(struct call *c, int patch)
{
	struct deployment_put p = {c, patch, 0, NULL};
	struct error err;

	if (control_need_body(c) < 0)
		return;
	if (control_change(c->rt, deployment_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
	} else {
		control_reply(c, p.created ? 201 : 200, p.answer);
	}
}

static void deployment_put(struct call *c)
{
	deployment_write(c, 0);
}

static void deployment_patch(struct call *c)
{
	deployment_write(c, 1);
}

static int deployment_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
				   struct error *err)
{
	struct call *c = arg;

	(void)rt;
	return workspace_deployment_delete(ws, c->cap[0], c->cap[1], err);
}

static void deployment_delete(struct call *c)
{
	struct error err;

	if (control_change(c->rt, deployment_delete_apply, NULL, c, &err) < 0)
		control_reply_error(c, &err);
	else
		server_reply_json(c->rs, 200, NULL);
}

static void deployment_logs(struct call *c)
{
	const cJSON *t = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "tail") : NULL;
	int tail = 100, exists;
	char *text;
	cJSON *j;

	if (t && !cJSON_IsNull(t)) {
		if (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 100000 ||
		    t->valuedouble != (double)(int)t->valuedouble)
			return server_reply_errorf(c->rs, 400, "ValidationError",
						   "tail must be an integer 0-100000");
		tail = (int)t->valuedouble;
	}
	control_lock(c);
	exists = workspace_deployment_find(c->rt->ws, c->cap[0], c->cap[1]) != NULL;
	control_end(c);
	if (!exists)
		return server_reply_errorf(c->rs, 404, "NotFound", "deployment '%s/%s' not found",
					   c->cap[0], c->cap[1]);
	text = fleet_logs(c->rt->fleet, c->cap[0], c->cap[1], tail);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "content", text ? text : "");
	free(text);
	control_reply(c, 200, j);
}

/* ---- the table ---------------------------------------------------------- */

static const struct route routes[] = {
	{"GET", "models", assets_list, "", &models},
	{"GET", "models/*", asset_container_get, "m", &models},
	{"DELETE", "models/*", asset_delete, "m", &models},
	{"GET", "models/*/versions", asset_versions_list, "m", &models},
	{"POST", "models/*/versions", model_version_post, "m", &models},
	{"GET", "models/*/versions/*", asset_version_get, "mv", &models},
	{"PUT", "models/*/versions/*", model_version_put, "mv", &models},
	{"DELETE", "models/*/versions/*", asset_delete, "mv", &models},
	{"GET", "environments", assets_list, "", &environments},
	{"GET", "environments/*", asset_container_get, "e", &environments},
	{"DELETE", "environments/*", asset_delete, "e", &environments},
	{"GET", "environments/*/versions", asset_versions_list, "e", &environments},
	{"POST", "environments/*/versions", env_version_post, "e", &environments},
	{"GET", "environments/*/versions/*", asset_version_get, "ev", &environments},
	{"PUT", "environments/*/versions/*", env_version_put, "ev", &environments},
	{"DELETE", "environments/*/versions/*", asset_delete, "ev", &environments},
	{"GET", "onlineEndpoints", endpoints_list, "", NULL},
	{"GET", "onlineEndpoints/*", endpoint_get, "p", NULL},
	{"PUT", "onlineEndpoints/*", endpoint_put, "p", NULL},
	{"PATCH", "onlineEndpoints/*", endpoint_patch, "p", NULL},
	{"DELETE", "onlineEndpoints/*", endpoint_delete, "p", NULL},
	{"POST", "onlineEndpoints/*/listKeys", endpoint_list_keys, "p", NULL},
	{"POST", "onlineEndpoints/*/regenerateKeys", endpoint_regenerate_keys, "p", NULL},
	{"POST", "onlineEndpoints/*/token", endpoint_token, "p", NULL},
	{"GET", "onlineEndpoints/*/deployments", deployments_list, "p", NULL},
	{"GET", "onlineEndpoints/*/deployments/*", deployment_get, "pd", NULL},
	{"PUT", "onlineEndpoints/*/deployments/*", deployment_put, "pd", NULL},
	{"PATCH", "onlineEndpoints/*/deployments/*", deployment_patch, "pd", NULL},
	{"DELETE", "onlineEndpoints/*/deployments/*", deployment_delete, "pd", NULL},
	{"POST", "onlineEndpoints/*/deployments/*/getLogs", deployment_logs, "pd", NULL},
	{"GET", "batchEndpoints", batchctl_endpoints_list, "", NULL},
	{"GET", "batchEndpoints/*", batchctl_endpoint_get, "p", NULL},
	{"PUT", "batchEndpoints/*", batchctl_endpoint_put, "p", NULL},
	{"PATCH", "batchEndpoints/*", batchctl_endpoint_patch, "p", NULL},
	{"DELETE", "batchEndpoints/*", batchctl_endpoint_delete, "p", NULL},
	{"POST", "batchEndpoints/*/listkeys", batchctl_endpoint_keys, "p", NULL},
	{"GET", "batchEndpoints/*/deployments", batchctl_deployments_list, "p", NULL},
	{"GET", "batchEndpoints/*/deployments/*", batchctl_deployment_get, "pd", NULL},
	{"PUT", "batchEndpoints/*/deployments/*", batchctl_deployment_put, "pd", NULL},
	{"PATCH", "batchEndpoints/*/deployments/*", batchctl_deployment_patch, "pd", NULL},
	{"DELETE", "batchEndpoints/*/deployments/*", batchctl_deployment_delete, "pd", NULL},
	{"GET", "data", batchctl_data_list, "", NULL},
	{"GET", "data/*", batchctl_data_get, "a", NULL},
	{"DELETE", "data/*", batchctl_data_delete, "a", NULL},
	{"GET", "data/*/versions", batchctl_data_versions, "a", NULL},
	{"POST", "data/*/versions", batchctl_data_version_post, "a", NULL},
	{"GET", "data/*/versions/*", batchctl_data_version_get, "av", NULL},
	{"PUT", "data/*/versions/*", batchctl_data_version_put, "av", NULL},
	{"DELETE", "data/*/versions/*", batchctl_data_delete, "av", NULL},
	{"GET", "jobs", batchctl_jobs_list, "", NULL},
	{"GET", "jobs/*", batchctl_job_get, "a", NULL},
	{"DELETE", "jobs/*", batchctl_job_delete, "a", NULL},
	{"POST", "jobs/*/cancel", batchctl_job_cancel, "a", NULL},
	{"GET", "schedules", batchctl_schedules_list, "", NULL},
	{"GET", "schedules/*", batchctl_schedule_get, "a", NULL},
	{"PUT", "schedules/*", batchctl_schedule_put, "a", NULL},
	{"DELETE", "schedules/*", batchctl_schedule_delete, "a", NULL},
	{"POST", "schedules/*/trigger", batchctl_schedule_trigger, "a", NULL},
};

/* Matches segs against pattern; fills captures. 1 on match. */
static int route_match(const char *pattern, char *const *segs, int n, const char **cap)
{
	char buf[128], *save = NULL, *tok;
	int i = 0, k = 0;

	snprintf(buf, sizeof buf, "%s", pattern);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
		if (i >= n)
			return 0;
		if (!strcmp(tok, "*"))
			cap[k++] = segs[i];
		else if (strcasecmp(tok, segs[i]))
			return 0;
	}
	return i == n;
}

static int check_captures(struct call *c, const char *kinds)
{
	static const struct {
		char kind;
		const char *field;
	} fields[] = {{'m', "model name"}, {'e', "environment name"}, {'p', "endpoint name"},
		      {'d', "deployment name"}, {'a', "name"}};
	struct error err;
	size_t k;
	int i;

	for (i = 0; kinds[i]; i++) {
		const char *field = "name";
		int rc;
		for (k = 0; k < sizeof fields / sizeof fields[0]; k++)
			if (fields[k].kind == kinds[i])
				field = fields[k].field;
		if (kinds[i] == 'v')
			rc = names_check_version(c->cap[i], "version", &err);
		else if (kinds[i] == 'a')
			rc = names_check_asset(c->cap[i], field, &err);
		else
			rc = names_check(c->cap[i], field, &err);
		if (rc < 0) {
			control_reply_error(c, &err);
			return -1;
		}
	}
	return 0;
}

static int workspace_prefix_ok(struct runtime *rt, const struct server_request *rq,
			       struct server_response *rs)
{
	static const char *const fixed[] = {"subscriptions", NULL, "resourceGroups", NULL,
					    "providers", "Microsoft.MachineLearningServices",
					    "workspaces"};
	int i;

	if (rq->segc < PREFIX_SEGS) {
		server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
		return -1;
	}
	for (i = 0; i < 7; i++)
		if (fixed[i] && strcasecmp(fixed[i], rq->segv[i])) {
			server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
			return -1;
		}
	if (strcmp(rq->segv[7], rt->ws_name)) {
		server_reply_errorf(rs, 404, "ResourceNotFound",
				    "workspace '%s' not found (this runtime serves '%s')",
				    rq->segv[7], rt->ws_name);
		return -1;
	}
	return 0;
}

static cJSON *parse_body(const struct server_request *rq, struct server_response *rs, int *bad)
{
	cJSON *j;

	*bad = 0;
	if (rq->body == NULL || rq->body_len == 0)
		return NULL;
	j = cJSON_ParseWithLength(rq->body, rq->body_len);
	if (j == NULL) {
		const char *at = cJSON_GetErrorPtr();
		long off = at && at >= rq->body && at <= rq->body + rq->body_len
				   ? (long)(at - rq->body)
				   : -1;
		server_reply_errorf(rs, 400, "BadRequest",
				    "the body is not valid JSON (error near byte %ld)", off);
		*bad = 1;
	}
	return j;
}

/* Routes that register a model version take the artifact raw as their body. */
static int route_takes_upload(const struct route *r)
{
	return r->fn == model_version_put || r->fn == model_version_post;
}

int control_is_upload(struct runtime *rt, const struct server_request *rq)
{
	const char *ct = server_header(rq, "Content-Type");
	size_t i;

	if (ct == NULL || strncasecmp(ct, "application/octet-stream", 24) ||
	    rq->segc < PREFIX_SEGS || strcmp(rq->segv[7], rt->ws_name))
		return 0;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *cap[3] = {0};
		if (route_takes_upload(&routes[i]) && !strcmp(routes[i].method, rq->method) &&
		    route_match(routes[i].pattern, rq->segv + PREFIX_SEGS, rq->segc - PREFIX_SEGS,
				cap))
			return 1;
	}
	return 0;
}

/* 405's Allow: every method with a route on this path. */
static void allow_header(struct server_response *rs, char *const *segs, int n)
{
	char allow[64] = "";
	size_t i, used = 0;

	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *cap[3] = {0};
		int k;
		if (!route_match(routes[i].pattern, segs, n, cap) || strstr(allow, routes[i].method))
			continue;
		k = snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "",
			     routes[i].method);
		if (k > 0 && (size_t)k < sizeof allow - used)
			used += (size_t)k;
	}
	server_reply_header(rs, "Allow", allow);
}

void control_handle(struct runtime *rt, const struct server_request *rq, int first,
		    struct server_response *rs)
{
	struct call c;
	size_t i;
	int path_known = 0, bad;

	(void)first;
	if (workspace_prefix_ok(rt, rq, rs) < 0)
		return;
	memset(&c, 0, sizeof c);
	c.rt = rt;
	c.rq = rq;
	c.rs = rs;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *cap[3] = {0};
		if (!route_match(routes[i].pattern, rq->segv + PREFIX_SEGS, rq->segc - PREFIX_SEGS,
				 cap))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, rq->method))
			continue;
		memcpy(c.cap, cap, sizeof cap);
		c.asset = routes[i].asset;
		if (check_captures(&c, routes[i].caps) < 0)
			return;
		c.body = parse_body(rq, rs, &bad);
		if (bad)
			return;
		routes[i].fn(&c);
		cJSON_Delete(c.body);
		return;
	}
	if (path_known) {
		server_reply_errorf(rs, 405, "MethodNotAllowed", "%s is not allowed on %s",
				    rq->method, rq->path);
		allow_header(rs, rq->segv + PREFIX_SEGS, rq->segc - PREFIX_SEGS);
	} else
		server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
}
