/*
 * control.c: Azure ML's resource API (api-version 2024-04-01) served from the
 * workspace: dispatch, the route table, the workspace resource and its
 * datastore, endpoints and deployments. Versioned assets are in versions.c,
 * long-running operations in operations.c, the batch side in batchctl.c. Every change goes through
 * control_change: validated and applied in place under the workspace lock, its
 * rows persisted in one transaction, the live side of the endpoints it touched
 * brought in step, and only then acknowledged.
 *
 * ARM conventions followed (see docs/azure-compat.md): ids echo the request's
 * subscription and resource group; PUT of an endpoint or deployment answers
 * 201/200 with Azure-AsyncOperation, Location and x-ms-async-operation-timeout;
 * DELETE answers 202 with Location, or 204 when there is nothing to delete;
 * lists page with nextLink.
 */
#include "runtime/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "runtime/auth.h"
#include "runtime/blob.h"
#include "state/datacollector.h"
#include "state/names.h"

#define PREFIX_SEGS 8 /* subscriptions S resourceGroups RG providers P workspaces WS */
#define API_VERSION "2024-04-01"
#define PAGE_MAX 10000

struct route {
	const char *method;
	const char *pattern; /* segments after the workspace; "*" captures */
	route_fn fn;
	const char *caps;    /* what each capture is: a(sset name), p(endpoint), d(eployment)
			      * names, v(ersion) */
	const void *arg;
};

/* ---- shared helpers (control.h) --------------------------------------- */

int64_t control_now(void)
{
	return (int64_t)time(NULL);
}

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

void control_lock(struct call *c)
{
	pthread_mutex_lock(&c->rt->lock);
}

void control_end(struct call *c)
{
	pthread_mutex_unlock(&c->rt->lock);
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
	int rc, lost;

	pthread_mutex_lock(&rt->lock);
	rc = apply(rt, rt->ws, arg, err);
	lost = workspace_changes_lost(rt->ws);
	if (workspace_changes(rt->ws, &refs) == 0 && !lost)
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
	if (lost) /* which endpoints changed is unknown (out of memory): all of them */
		fleet_sync(rt->fleet, rt->ws);
	for (size_t i = 0; !lost && i < neps; i++)
		fleet_sync_endpoint(rt->fleet, rt->ws, eps[i]);
	if (done != NULL)
		done(rt, arg);
out:
	pthread_mutex_unlock(&rt->lock);
	free_names(eps, neps);
	return rc;
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

void control_url(const struct call *c, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s?api-version=" API_VERSION, c->base_url, c->ws_prefix, path);
}

/* Percent-encodes a query value. */
static void query_encode(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 4 < len; in++) {
		unsigned char ch = (unsigned char)*in;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", ch);
	}
	out[o] = '\0';
}

/* The request's own URL with $skipToken=skip instead of its own: every
 * query argument a list reads is kept, so the next page is of the same list
 * (the jobs list's filters too). */
static void next_link(const struct call *c, size_t skip, char *buf, size_t len)
{
	static const char *const keep[] = {"api-version", "$orderBy", "$top", "count",
					   "listViewType", "properties", "tag"};
	char enc[512];
	size_t n = (size_t)snprintf(buf, len, "%s%s?", c->base_url, c->rq->path);

	for (size_t i = 0; i < sizeof keep / sizeof keep[0] && n < len; i++) {
		const char *v = server_query(c->rq, keep[i]);

		if (v == NULL)
			continue;
		query_encode(v, enc, sizeof enc);
		n += (size_t)snprintf(buf + n, len - n, "%s=%s&", keep[i], enc);
	}
	if (n < len)
		snprintf(buf + n, len - n, "$skipToken=%zu", skip);
}

/* A query argument that must be a whole number 0..max; -1 when absent. */
static long query_num(struct call *c, const char *name, long min, long max, int *bad)
{
	const char *v = server_query(c->rq, name);
	char *end;
	long n;

	if (v == NULL)
		return -1;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max) {
		server_reply_errorf(c->rs, 400, "ValidationError", "%s must be an integer %ld-%ld",
				    name, min, max);
		*bad = 1;
	}
	return n;
}

void control_page(struct call *c, cJSON *items)
{
	int bad = 0, total = cJSON_GetArraySize(items);
	long top = query_num(c, "$top", 1, 100000, &bad);
	long count = query_num(c, "count", 1, PAGE_MAX, &bad);
	long skip = query_num(c, "$skipToken", 0, 1L << 30, &bad);
	long size = c->rt->page_size, end;
	cJSON *page;
	char link[2048];

	if (bad) {
		cJSON_Delete(items);
		return;
	}
	if (top >= 0 && top < total)
		total = (int)top;
	if (count > 0) /* the client's page size, up to PAGE_MAX */
		size = count;
	if (skip < 0)
		skip = 0;
	end = skip + size < total ? skip + size : total;
	page = cJSON_CreateArray();
	/* one walk, items moved (indexing each one was quadratic: 1,000
	 * endpoints in one page took 20 ms) */
	cJSON *it = items->child;
	for (long i = 0; it != NULL && i < end; i++) {
		cJSON *next = it->next;
		if (i >= skip && page != NULL)
			cJSON_AddItemToArray(page, cJSON_DetachItemViaPointer(items, it));
		it = next;
	}
	cJSON_Delete(items);
	if (end < total)
		next_link(c, (size_t)end, link, sizeof link);
	control_reply(c, 200, codec_page(page, end < total ? link : NULL));
}

/* ---- the workspace and its datastore ------------------------------------ */

static void workspace_get(struct call *c)
{
	struct codec_workspace_info w;

	memset(&w, 0, sizeof w);
	w.name = c->rt->ws_name;
	w.workspace_id = c->rt->workspace_id;
	w.storage_account = "mldeck";
	w.created = c->rt->started;
	control_reply(c, 200, codec_workspace_info_to_json(&w, &c->codec));
}

static cJSON *datastore_json(struct call *c)
{
	char account[400], container[96];
	struct codec_datastore d;

	blob_datastore(c->rt, c->base_url, account, sizeof account, container, sizeof container,
		       &d);
	d.created = c->rt->started;
	return codec_datastore_to_json(&d, &c->codec);
}

static void datastores_list(struct call *c)
{
	cJSON *arr = cJSON_CreateArray();

	cJSON_AddItemToArray(arr, datastore_json(c));
	control_page(c, arr);
}

static int datastore_known(struct call *c)
{
	if (strcmp(c->cap[0], "workspaceblobstore") == 0)
		return 1;
	server_reply_errorf(c->rs, 404, "NotFound",
			    "datastore '%s' not found (this workspace has one: workspaceblobstore)",
			    c->cap[0]);
	return 0;
}

static void datastore_get(struct call *c)
{
	if (datastore_known(c))
		control_reply(c, 200, datastore_json(c));
}

static void datastore_secrets(struct call *c)
{
	if (datastore_known(c))
		control_reply(c, 200, blob_secrets(c->rt, c->base_url));
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
		cJSON_AddItemToArray(arr, codec_endpoint_to_json(es[i], &c->codec));
	free(es);
	control_end(c);
	control_page(c, arr);
}

static void endpoint_get(struct call *c)
{
	const struct endpoint *e;
	cJSON *j = NULL;

	control_lock(c);
	e = workspace_endpoint_find(c->rt->ws, c->cap[0]);
	if (e)
		j = codec_endpoint_to_json(e, &c->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		not_found(c, "endpoint", c->cap[0]);
}

/* PUT creates or replaces; PATCH changes only what the body names. A local
 * endpoint is ready at once: its operation is recorded settled. */
struct endpoint_put {
	struct call *c;
	int patch, created;
	struct operation op;
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

	(void)rt;
	memset(&ep, 0, sizeof ep);
	if (cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", name);
	if (cur && endpoint_copy(&ep, cur) < 0)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	if (cur == NULL) {
		snprintf(ep.name, sizeof ep.name, "%s", name);
		ep.created = control_now();
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
		rc = operations_begin(ws, name, "", OP_SUCCEEDED, &p->op, err);
	if (rc == 0)
		p->answer = codec_endpoint_to_json(workspace_endpoint_find(ws, name), &p->c->codec);
	return rc;
}

static void endpoint_write(struct call *c, int patch)
{
	struct endpoint_put p;
	struct error err;
	char path[64];

	if (control_need_body(c) < 0)
		return;
	memset(&p, 0, sizeof p);
	p.c = c;
	p.patch = patch;
	if (control_change(c->rt, endpoint_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
		return;
	}
	snprintf(path, sizeof path, "/onlineEndpoints/%s", c->cap[0]);
	operations_headers(c, &p.op, path);
	control_reply(c, p.created ? 201 : 200, p.answer);
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
	struct removal *r = arg;
	const char *name = r->c->cap[0];

	(void)rt;
	if (workspace_endpoint_find(ws, name) == NULL) {
		r->absent = 1;
		return 0;
	}
	if (workspace_endpoint_delete(ws, name, err) < 0 ||
	    workspace_op_settle(ws, name, NULL, OP_CANCELED, "the endpoint was deleted",
				control_now()) < 0)
		return -1;
	return operations_begin(ws, name, "", OP_SUCCEEDED, &r->op, err);
}

static void endpoint_delete(struct call *c)
{
	struct removal r;
	struct error err;
	int rc;

	memset(&r, 0, sizeof r);
	r.c = c;
	rc = control_change(c->rt, endpoint_delete_apply, NULL, &r, &err);

	operations_reply_delete(c, rc, &err, &r);
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

/* The key a regenerateKeys body asks for. The SDK sends the key it wants
 * replaced as keyValue and expects a new one: a keyValue equal to the current
 * key (or none) gets a fresh random key; another keyValue is set as given. */
static int regenerated_key(const struct endpoint *ep, int primary, const cJSON *kv, char *key,
			   size_t len, struct error *err)
{
	const char *cur = primary ? ep->primary_key : ep->secondary_key;
	size_t n;

	if (!cJSON_IsString(kv) || kv->valuestring[0] == '\0' || strcmp(kv->valuestring, cur) == 0)
		return auth_random_key(key, len) == 0
			       ? 0
			       : error_set(err, 500, "InternalError", "no random bytes");
	n = strlen(kv->valuestring);
	if (n < 16 || n > RESOURCE_KEY_LEN)
		return error_set(err, 400, "ValidationError", "keyValue must be 16-%d characters",
				 RESOURCE_KEY_LEN);
	snprintf(key, len, "%s", kv->valuestring);
	return 0;
}

struct regenerate {
	const char *name;
	int primary;
	const cJSON *value;
};

static int regenerate_apply(struct runtime *rt, struct workspace *ws, void *arg,
			    struct error *err)
{
	const struct regenerate *g = arg;
	const struct endpoint *ep = workspace_endpoint_find(ws, g->name);
	char key[RESOURCE_KEY_LEN + 1];

	(void)rt;
	if (ep == NULL)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", g->name);
	if (regenerated_key(ep, g->primary, g->value, key, sizeof key, err) < 0)
		return -1;
	return workspace_endpoint_set_keys(ws, g->name, g->primary ? key : NULL,
					   g->primary ? NULL : key, err);
}

static void endpoint_regenerate_keys(struct call *c)
{
	const cJSON *kt = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "keyType") : NULL;
	const cJSON *kv = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "keyValue") : NULL;
	struct regenerate g = {c->cap[0], 0, kv};
	struct error err;

	if (!cJSON_IsString(kt) || (strcasecmp(kt->valuestring, "Primary") &&
				    strcasecmp(kt->valuestring, "Secondary")))
		return server_reply_errorf(c->rs, 400, "ValidationError",
					   "keyType must be \"Primary\" or \"Secondary\"");
	if (kv && !cJSON_IsNull(kv) && !cJSON_IsString(kv))
		return server_reply_errorf(c->rs, 400, "ValidationError",
					   "keyValue must be a string (or absent for a random key)");
	g.primary = !strcasecmp(kt->valuestring, "Primary");
	if (control_change(c->rt, regenerate_apply, NULL, &g, &err) < 0)
		return control_reply_error(c, &err);
	server_reply_json(c->rs, 200, NULL);
	runtime_log(c->rt, "endpoint %s: %s key regenerated", c->cap[0],
		    g.primary ? "primary" : "secondary");
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
		cJSON_AddItemToArray(arr, codec_deployment_to_json(ds[i], &c->codec));
	free(ds);
	control_end(c);
	control_page(c, arr);
}

static void deployment_get(struct call *c)
{
	const struct deployment *d;
	cJSON *j = NULL;

	control_lock(c);
	d = workspace_deployment_find(c->rt->ws, c->cap[0], c->cap[1]);
	if (d)
		j = codec_deployment_to_json(d, &c->codec);
	control_end(c);
	if (j)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "deployment '%s/%s' not found",
				    c->cap[0], c->cap[1]);
}

/* PUT or PATCH: the workspace decides the state (Creating, Updating, Scaling,
 * or unchanged for an identical spec); the operation runs until the fleet
 * reports a final state. */
struct deployment_put {
	struct call *c;
	int patch, created;
	struct operation op;
	cJSON *answer;
};

/* The deployment as stored now, or a new one with the defaults; 404 through
 * err when the endpoint (or, for PATCH, the deployment) is missing. */
static int deployment_base(struct deployment_put *p, const struct workspace *ws,
			   struct deployment *d, struct error *err)
{
	const char *ep = p->c->cap[0], *name = p->c->cap[1];
	const struct deployment *cur;

	memset(d, 0, sizeof *d);
	if (workspace_endpoint_find(ws, ep) == NULL)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", ep);
	cur = workspace_deployment_find(ws, ep, name);
	if (cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "deployment '%s/%s' not found", ep, name);
	if (cur != NULL)
		return deployment_copy(d, cur) < 0
			       ? error_set(err, 500, "OutOfMemory", "out of memory")
			       : 0;
	snprintf(d->endpoint, sizeof d->endpoint, "%s", ep);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->instances = 1;
	d->max_concurrent = 1;
	d->timeout_ms = 5000;
	d->created = control_now();
	return 0;
}

static enum op_status op_status_of(enum prov_state s)
{
	return s == PROV_SUCCEEDED ? OP_SUCCEEDED : s == PROV_FAILED ? OP_FAILED : OP_RUNNING;
}

static int deployment_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
				struct error *err)
{
	struct deployment_put *p = arg;
	const struct deployment *now;
	struct deployment d;
	int rc = deployment_base(p, ws, &d, err);

	(void)rt;
	if (rc == 0)
		rc = codec_deployment_from_json(p->c->body, &d, err);
	if (rc == 0)
		rc = workspace_deployment_put(ws, &d, 0, &p->created, err);
	if (rc == 0) /* monitor: its collections as data assets (a failure rolls all back) */
		rc = datacollector_register(ws, &d, err);
	deployment_cleanup(&d);
	if (rc < 0)
		return -1;
	now = workspace_deployment_find(ws, p->c->cap[0], p->c->cap[1]);
	if (operations_begin(ws, now->endpoint, now->name, op_status_of(now->state), &p->op,
			     err) < 0)
		return -1;
	p->answer = codec_deployment_to_json(now, &p->c->codec);
	return 0;
}

static void deployment_write(struct call *c, int patch)
{
	struct deployment_put p;
	struct error err;
	char path[128];

	if (control_need_body(c) < 0)
		return;
	memset(&p, 0, sizeof p);
	p.c = c;
	p.patch = patch;
	if (control_change(c->rt, deployment_put_apply, NULL, &p, &err) < 0) {
		control_reply_error(c, &err);
		cJSON_Delete(p.answer);
		return;
	}
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s", c->cap[0], c->cap[1]);
	operations_headers(c, &p.op, path);
	control_reply(c, p.created ? 201 : 200, p.answer);
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
	struct removal *r = arg;
	const char *ep = r->c->cap[0], *name = r->c->cap[1];

	(void)rt;
	if (workspace_deployment_find(ws, ep, name) == NULL) {
		r->absent = 1;
		return 0;
	}
	if (workspace_deployment_delete(ws, ep, name, err) < 0 ||
	    workspace_op_settle(ws, ep, name, OP_CANCELED, "the deployment was deleted",
				control_now()) < 0)
		return -1;
	return operations_begin(ws, ep, name, OP_SUCCEEDED, &r->op, err);
}

static void deployment_delete(struct call *c)
{
	struct removal r;
	struct error err;
	int rc;

	memset(&r, 0, sizeof r);
	r.c = c;
	rc = control_change(c->rt, deployment_delete_apply, NULL, &r, &err);

	operations_reply_delete(c, rc, &err, &r);
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

#define ASSET_ROUTES(kind, table)                                                                  \
	{"GET", kind, versions_list, "", &table},                                                    \
	    {"GET", kind "/*", versions_container_get, "a", &table},                                 \
	    {"PUT", kind "/*", versions_container_put, "a", &table},                                 \
	    {"DELETE", kind "/*", versions_delete, "a", &table},                                     \
	    {"GET", kind "/*/versions", versions_versions_list, "a", &table},                        \
	    {"POST", kind "/*/versions", versions_version_post, "a", &table},                        \
	    {"GET", kind "/*/versions/*", versions_version_get, "av", &table},                       \
	    {"PUT", kind "/*/versions/*", versions_version_put, "av", &table},                       \
	{                                                                                          \
		"DELETE", kind "/*/versions/*", versions_delete, "av", &table                        \
	}

static const struct route routes[] = {
	{"GET", "", workspace_get, "", NULL},
	ASSET_ROUTES("models", versions_models),
	ASSET_ROUTES("environments", versions_environments),
	ASSET_ROUTES("codes", versions_codes),
	ASSET_ROUTES("data", versions_data),
	{"GET", "datastores", datastores_list, "", NULL},
	{"GET", "datastores/*", datastore_get, "a", NULL},
	{"POST", "datastores/*/listSecrets", datastore_secrets, "a", NULL},
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
	{"GET", "jobs", batchctl_jobs_list, "", NULL},
	{"GET", "jobs/*", batchctl_job_get, "a", NULL},
	{"DELETE", "jobs/*", batchctl_job_delete, "a", NULL},
	{"POST", "jobs/*/cancel", batchctl_job_cancel, "a", NULL},
	{"GET", "jobs/*/files", batchctl_job_files, "a", NULL},
	{"GET", "jobs/*/content", batchctl_job_content, "a", NULL},
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
	} fields[] = {{'a', "name"}, {'p', "endpoint name"}, {'d', "deployment name"}};
	struct error err;

	for (int i = 0; kinds[i]; i++) {
		const char *field = "name";
		int rc;

		for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
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

/* Whether a Host header can be echoed into URLs: host[:port] characters only. */
static int host_ok(const char *h)
{
	size_t n = h != NULL ? strlen(h) : 0;

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || strchr(".-:[]_", h[i]) != NULL))
			return 0;
	return 1;
}

/* Ids and URLs of the answers: the request's subscription and resource group,
 * the address the client used. */
static void call_init(struct call *c, struct runtime *rt, const struct server_request *rq,
		      struct server_response *rs)
{
	const char *host = server_header(rq, "Host");

	memset(c, 0, sizeof *c);
	c->rt = rt;
	c->rq = rq;
	c->rs = rs;
	snprintf(c->sub_prefix, sizeof c->sub_prefix, "/subscriptions/%.100s", rq->segv[1]);
	if (snprintf(c->rg_prefix, sizeof c->rg_prefix, "%s/resourceGroups/%.150s", c->sub_prefix,
		     rq->segv[3]) >= (int)sizeof c->rg_prefix)
		c->rg_prefix[0] = '\0';
	snprintf(c->ws_prefix, sizeof c->ws_prefix,
		 "%s/providers/Microsoft.MachineLearningServices/workspaces/%s", c->rg_prefix,
		 rt->ws_name);
	if (host_ok(host))
		snprintf(c->base_url, sizeof c->base_url, "%s://%s", rt->scheme, host);
	else
		snprintf(c->base_url, sizeof c->base_url, "%s", rt->url);
	c->codec.ws_prefix = c->ws_prefix;
	c->codec.rg_prefix = c->rg_prefix;
	c->codec.sub_prefix = c->sub_prefix;
	c->codec.base_url = c->base_url;
}

/* Routes that register a model version take the artifact raw as their body. */
static int route_takes_upload(const struct route *r)
{
	return (r->fn == versions_version_put || r->fn == versions_version_post) &&
	       r->arg == &versions_models;
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
	int path_known = 0, bad;

	(void)first;
	if (workspace_prefix_ok(rt, rq, rs) < 0)
		return;
	call_init(&c, rt, rq, rs);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *cap[3] = {0};

		if (!route_match(routes[i].pattern, rq->segv + PREFIX_SEGS, rq->segc - PREFIX_SEGS,
				 cap))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, rq->method))
			continue;
		memcpy(c.cap, cap, sizeof cap);
		c.arg = routes[i].arg;
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
