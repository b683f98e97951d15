/*
 * runtime.c: starting and stopping the runtime, the top of its request
 * dispatch (health, metrics, data plane, resource API) and `mldeck serve`.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "runtime/auth.h"
#include "runtime/identity.h"
#include "runtime/blob.h"
#include "runtime/control.h"
#include "runtime/tls.h"
#include "runtime/core.h"
#include "runtime/invoke.h"
#include "runtime/jobs.h"
#include "runtime/monitor/collector.h"
#include "runtime/monitor/monitors.h"
#include "runtime/scheduler.h"
#include "state/artifact.h"
#include "state/datacollector.h"
#include "state/file.h"
#include "state/names.h"

#define DEFAULT_LISTEN "127.0.0.1:5800"
#define DEFAULT_UPLOAD_LIMIT ((size_t)1 << 30)
/* Threads for the control plane and metrics, the only work deferred to the
 * server's pool: data-plane waits hold no thread, so they can never take these. */
#define CONTROL_THREADS 16
#define DEFAULT_STOP_GRACE_MS 5000
#define DEFAULT_WORKER_MEMORY_MB "4096"
#define DEFAULT_MAX_JOBS 4
#define DEFAULT_COLLECT_QUOTA_MB 1024
#define DEFAULT_MAX_QUEUED 1000

void runtime_log(struct runtime *rt, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logfile_vevent(rt->log, fmt, ap);
	va_end(ap);
}

/* ---- listen address ----------------------------------------------------- */

static int is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT"; "localhost" means 127.0.0.1. */
static int parse_listen(const char *s, char *host, size_t hlen, unsigned short *port,
			struct error *err)
{
	const char *colon;
	char *end;
	long p;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			goto bad;
		n = (size_t)(rb - s - 1);
		colon = rb + 1;
		if (n >= hlen)
			goto bad;
		memcpy(host, s + 1, n);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		n = (size_t)(colon - s);
		if (n >= hlen)
			goto bad;
		memcpy(host, s, n);
	}
	host[n] = '\0';
	if (n == 0 || !strcmp(host, "localhost"))
		snprintf(host, hlen, "127.0.0.1");
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		goto bad;
	*port = (unsigned short)p;
	return 0;
bad:
	return error_set(err, 400, "InvalidListen",
			 "--listen wants HOST:PORT (e.g. 127.0.0.1:5800), not '%s'", s);
}

/* ---- dispatch ----------------------------------------------------------- */

static int admin_ok(struct runtime *rt, const struct server_request *rq)
{
	const char *h = server_header(rq, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7))
		return 0;
	return auth_equal(h + 7, rt->admin_key);
}

static void reply_text(struct server_response *rs, int status, char *text, const char *type)
{
	free(rs->body);
	rs->status = status;
	rs->body = text;
	rs->len = text ? strlen(text) : 0;
	rs->content_type = type;
}

/* Prometheus text: requests and latency, then data collection. */
static void prometheus(struct runtime *rt, struct server_response *rs)
{
	struct dynbuf b;
	size_t len = 0;
	char *text = metrics_prometheus(rt->metrics, &len);

	dynbuf_init(&b, 512u << 20);
	if (text == NULL || dynbuf_add(&b, text, len) < 0) {
		free(text);
		return server_reply_errorf(rs, 500, "InternalError", "out of memory");
	}
	free(text);
	server_prometheus(rt->server, &b);
	if (rt->collector)
		collector_prometheus(rt->collector, &b);
	if (rt->monitors)
		monitors_prometheus(rt->monitors, &b);
	text = dynbuf_take(&b, &len);
	reply_text(rs, 200, text, "text/plain; version=0.0.4");
	rs->len = len;
}

/* GET /v1/collected?endpoint=EP&deployment=D[&collection=C][&lines=N]: the last
 * records a deployment's collector wrote, a line each, exactly as in its files
 * (mldeck data collected). */
static void collected_route(struct runtime *rt, const struct server_request *rq,
			    struct server_response *rs)
{
	const char *ep = server_query(rq, "endpoint"), *dep = server_query(rq, "deployment");
	const char *coll = server_query(rq, "collection"), *lines = server_query(rq, "lines");
	char *end = NULL;
	long n = lines ? strtol(lines, &end, 10) : 10;
	struct error err;
	struct dynbuf b;
	size_t len;

	if (coll == NULL)
		coll = "model_inputs";
	if (ep == NULL || dep == NULL || names_check(ep, "endpoint", &err) < 0 ||
	    names_check(dep, "deployment", &err) < 0 || !datacollector_name_ok(coll) ||
	    (lines && (*end || n < 1 || n > 1000)))
		return server_reply_errorf(rs, 400, "ValidationError",
					   "want ?endpoint=EP&deployment=D[&collection=C][&lines=1-1000]");
	dynbuf_init(&b, 1024u << 20);
	if (collector_tail(rt->collector, ep, dep, coll, (size_t)n, &b, &err) < 0) {
		dynbuf_free(&b);
		return server_reply_error(rs, &err);
	}
	reply_text(rs, 200, dynbuf_take(&b, &len), "application/x-ndjson");
	rs->len = len;
}

/* GET /v1/monitors[?endpoint=EP[&deployment=D]]: monitors, live drift, alerts. */
static void monitors_route(struct runtime *rt, const struct server_request *rq,
			   struct server_response *rs)
{
	cJSON *j;

	if (strcmp(rq->method, "GET"))
		return server_reply_errorf(rs, 405, "MethodNotAllowed", "use GET");
	j = monitors_status(rt->monitors, server_query(rq, "endpoint"),
			    server_query(rq, "deployment"));
	server_reply_json(rs, 200, j ? cJSON_PrintUnformatted(j) : NULL);
	cJSON_Delete(j);
}

/* "a,b,c" into names (pointers into *copy, which the caller frees): each
 * an endpoint name, at most METRICS_FILTER_MAX of them. -1 with err. */
static int metrics_names(const char *list, char **copy, const char ***names, size_t *n,
			 struct error *err)
{
	size_t cap = 1;
	char *p;

	for (const char *q = list; *q; q++)
		cap += *q == ',';
	if (cap > METRICS_FILTER_MAX)
		return error_set(err, 400, "ValidationError", "endpoints: at most %d names",
				 METRICS_FILTER_MAX);
	*copy = strdup(list);
	*names = calloc(cap, sizeof **names);
	if (*copy == NULL || *names == NULL)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	*n = 0;
	for (p = **copy ? *copy : NULL; p != NULL;) { /* "": no endpoint at all */
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (names_check(p, "endpoints", err) < 0)
			return -1;
		(*names)[(*n)++] = p;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}

/* GET /v1/metrics?window=S[&summary=1[&detail=EP]][&endpoint=EP | &endpoints=A,B,C] */
static void metrics_json_route(struct runtime *rt, const struct server_request *rq,
			       struct server_response *rs)
{
	const char *w = server_query(rq, "window"), *summary = server_query(rq, "summary");
	const char *one = server_query(rq, "endpoint"), *list = server_query(rq, "endpoints");
	struct metrics_filter f = {.endpoints = one ? &one : NULL, .nendpoints = one ? 1 : 0};
	char *end = NULL, *copy = NULL;
	const char **names = NULL;
	long window = w ? strtol(w, &end, 10) : 60;
	struct error err;
	cJSON *j;

	if (w && (*end || window < 1 || window > 300))
		return server_reply_errorf(rs, 400, "ValidationError",
					   "window must be 1-300 seconds");
	if (one && list)
		return server_reply_errorf(rs, 400, "ValidationError",
					   "endpoint and endpoints: one or the other");
	if (list && metrics_names(list, &copy, &names, &f.nendpoints, &err) < 0) {
		server_reply_error(rs, &err);
		goto out;
	}
	if (list)
		f.endpoints = names;
	if (summary && strcmp(summary, "0")) {
		f.detail = server_query(rq, "detail");
		if (f.detail == NULL)
			f.detail = "";
	}
	j = metrics_json_of(rt->metrics, (int)window, metrics_now(), &f);
	server_reply_json(rs, 200, j ? cJSON_PrintUnformatted(j) : NULL);
	cJSON_Delete(j);
out:
	free(names);
	free(copy);
}

static void metrics_route(struct runtime *rt, const struct server_request *rq,
			  struct server_response *rs, int json)
{
	if (!json)
		return prometheus(rt, rs);
	metrics_json_route(rt, rq, rs);
}

static int is_health(const struct server_request *rq)
{
	return rq->segc == 1 && !strcmp(rq->segv[0], "healthz");
}

/* GET /v1/connect-info: the socket and admin key an ssh:// client needs,
 * given on the Unix socket to a process of the runtime's own user (the
 * socket is 0600 and that user can read admin.key anyway): a client that
 * forwards to a socket it knows gets the key in one request, with no remote
 * command (api/transport.c). */
static int is_connect_info(const struct server_request *rq)
{
	return rq->segc == 2 && !strcmp(rq->segv[0], "v1") && !strcmp(rq->segv[1], "connect-info");
}

/* The lines `mldeck serve --connect-info` prints and the route answers. */
static char *connect_info_text(const char *sock, const char *key)
{
	char buf[PATH_MAX + 384];
	int n = snprintf(buf, sizeof buf, "mldeck-connect 1\nsocket %s\nkey %s\n", sock, key);
	char *text = n > 0 && (size_t)n < sizeof buf ? strdup(buf) : NULL;

	memset(buf, 0, sizeof buf);
	return text;
}

static void connect_info_route(struct runtime *rt, const struct server_request *rq,
			       struct server_response *rs)
{
	char sock[PATH_MAX + 16];

	if (strcmp(rq->method, "GET") != 0) {
		server_reply_errorf(rs, 405, "MethodNotAllowed", "use GET for /v1/connect-info");
		server_reply_header(rs, "Allow", "GET");
		return;
	}
	snprintf(sock, sizeof sock, "%s/%s", rt->home, RUNTIME_SOCKET);
	reply_text(rs, 200, connect_info_text(sock, rt->admin_key), "text/plain");
	if (rs->body == NULL)
		server_reply_errorf(rs, 500, "OutOfMemory", "out of memory");
	server_reply_header(rs, "Cache-Control", "no-store");
}

/* The data plane's routes (dataplane.c): the server's fast lane may answer
 * its plain scoring requests on its own loop (server.h, fast_prefix). */
#define DATAPLANE_PREFIX "/endpoints/"

static int is_dataplane(const struct server_request *rq)
{
	return rq->segc > 0 && !strcmp(rq->segv[0], "endpoints");
}

/* The pre-auth hook (server_admit_fn): each plane's credential is checked
 * before any byte of the body is read; only model-version routes take a raw
 * upload, and only from the admin. */
static int admit(void *ctx, const struct server_request *rq, struct server_admission *ad,
		 struct server_response *rs)
{
	struct runtime *rt = ctx;

	if (is_health(rq)) {
		ad->limit = 0; /* open, so it takes no body */
		return 0;
	}
	if (is_connect_info(rq)) {
		ad->limit = 0;
		if (rq->peer_uid >= 0 && rq->peer_uid == (long)geteuid())
			return 0;
		server_reply_errorf(rs, 403, "Forbidden",
				    "connect-info is only for the runtime's own user, on its Unix "
				    "socket (%s in its home)",
				    RUNTIME_SOCKET);
		return -1;
	}
	if (is_dataplane(rq))
		return dataplane_admit(rt, rq, ad, rs);
	if (invoke_is_path(rq))
		return invoke_admit(rt, rq, ad, rs);
	if (blob_is_path(rq))
		return blob_admit(rt, rq, ad, rt->max_upload, rs);
	if (identity_is_path(rq))
		return identity_admit(rt, rq, ad, rs);
	if (!admin_ok(rt, rq)) {
		server_reply_errorf(rs, 401, "Unauthorized",
				    "missing or wrong admin key (Authorization: Bearer <the key in "
				    "admin.key in the runtime's home>)");
		return -1;
	}
	if (control_is_upload(rt, rq)) {
		ad->body = SERVER_BODY_SPOOL;
		ad->limit = rt->max_upload;
	}
	return 0;
}

/* A GET answer carries an ETag (a hash of its body), and an If-None-Match
 * naming it gets 304 without the body: a client polling an unchanged list (a
 * console over ssh://, every 2 s) moves a few hundred bytes, not the list. */
static void etag_apply(const struct server_request *rq, struct server_response *rs)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char tag[2 * 8 + 3];
	const char *want;

	if (strcmp(rq->method, "GET") != 0 || rs->status != 200 || rs->body == NULL ||
	    EVP_Digest(rs->body, rs->len, md, &n, EVP_sha256(), NULL) != 1 || n < 8)
		return;
	snprintf(tag, sizeof tag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
		 md[3], md[4], md[5], md[6], md[7]);
	server_reply_header(rs, "ETag", tag);
	want = server_header(rq, "If-None-Match");
	if (want == NULL || (strstr(want, tag) == NULL && strcmp(want, "*") != 0))
		return;
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
	rs->status = 304;
}

/* The routes that run on a pool thread (workspace lock, fsync). */
static void route(struct runtime *rt, const struct server_request *rq, struct server_response *rs)
{
	const char *first = rq->segc > 0 ? rq->segv[0] : "";

	if (!strcmp(first, "metrics") && rq->segc == 1)
		return metrics_route(rt, rq, rs, 0);
	if (!strcmp(first, "v1") && rq->segc == 2 && !strcmp(rq->segv[1], "metrics"))
		return metrics_route(rt, rq, rs, 1);
	if (!strcmp(first, "v1") && rq->segc == 2 && !strcmp(rq->segv[1], "monitors"))
		return monitors_route(rt, rq, rs);
	if (!strcmp(first, "v1") && rq->segc == 2 && !strcmp(rq->segv[1], "collected"))
		return collected_route(rt, rq, rs);
	if (!strcasecmp(first, "subscriptions") && rq->segc >= 3 &&
	    !strcasecmp(rq->segv[2], "providers"))
		return operations_handle(rt, rq, rs);
	if (!strcasecmp(first, "subscriptions"))
		return control_handle(rt, rq, 1, rs);
	server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
}

/* Called for admitted requests only: the control plane's admin key was
 * checked by admit(). */
static void handle(void *ctx, const struct server_request *rq, struct server_response *rs)
{
	struct runtime *rt = ctx;

	if (is_health(rq)) {
		if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
			server_reply_errorf(rs, 405, "MethodNotAllowed", "use GET for /healthz");
			server_reply_header(rs, "Allow", "GET, HEAD");
			return;
		}
		reply_text(rs, 200, strdup("{\"status\":\"ok\"}"), "application/json");
		return;
	}
	if (is_connect_info(rq))
		return connect_info_route(rt, rq, rs);
	if (is_dataplane(rq))
		return dataplane_handle(rt, rq, rs);
	if (invoke_is_path(rq))
		return invoke_handle(rt, rq, rs);
	if (blob_is_path(rq)) {
		if (!rq->may_block) { /* file I/O: off the loop */
			rs->defer = 1;
			return;
		}
		return blob_handle(rt, rq, rs);
	}
	if (identity_is_path(rq))
		return identity_handle(rt, rq, rs);
	if (!rq->may_block) {
		/* the control plane takes the workspace lock and fsyncs: off the loop */
		rs->defer = 1;
		return;
	}
	route(rt, rq, rs);
	etag_apply(rq, rs);
}

struct state_report {
	const char *ep, *name, *error;
	uint64_t gen;
	enum prov_state state;
};

static int state_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	const struct state_report *r = arg;

	(void)err;
	if (fleet_current(rt->fleet, r->ep, r->name, r->gen) &&
	    workspace_deployment_set_state(ws, r->ep, r->name, r->state, r->error) == 0)
		operations_settle(ws, r->ep, r->name, r->state, r->error);
	return 0;
}

/* A finished load reports back: record the state if the spec is still current. */
static void on_state(void *ctx, const char *ep, const char *name, uint64_t gen,
		     enum prov_state state, const char *error)
{
	struct runtime *rt = ctx;
	struct state_report r = {ep, name, error, gen, state};
	struct error err;

	control_change(rt, state_apply, NULL, &r, &err); /* a failure is logged there */
	runtime_log(rt, "deployment %s/%s %s%s%s", ep, name, prov_state_name(state),
		    error ? ": " : "", error ? error : "");
}

/* ---- start and stop ----------------------------------------------------- */

/* On the collector's writer thread: buffered, no I/O under the log's lock. */
static void collector_log(void *ctx, const char *line)
{
	struct runtime *rt = ctx;

	logfile_event_later(rt->log, line);
}

void runtime_ws_prefix(const struct runtime *rt, char *buf, size_t len)
{
	snprintf(buf, len,
		 "/subscriptions/" RUNTIME_LOCAL_SUBSCRIPTION "/resourceGroups/local/providers/"
		 "Microsoft.MachineLearningServices/workspaces/%s",
		 rt->ws_name);
}

void runtime_datastore_dir(const struct runtime *rt, char *buf, size_t len)
{
	char rel[PATH_MAX];
	struct error err;
	size_t n;

	/* the folder blob_resolve maps the datastore's paths into (its container) */
	if (blob_resolve(rt, "azureml://datastores/workspaceblobstore/paths/x", rel, sizeof rel,
			 &err) == 1 &&
	    (n = strlen(rel)) > 2 && !strcmp(rel + n - 2, "/x"))
		rel[n - 2] = '\0';
	else
		snprintf(rel, sizeof rel, "blobs/workspaceblobstore");
	snprintf(buf, len, "%s/%s", rt->home, rel);
}

/* Production data goes to the default datastore's folder in the home. */
static int start_collector(struct runtime *rt, const struct runtime_options *o,
			   struct error *err)
{
	char root[PATH_MAX + 32], source[512];
	struct collector_config cfg;

	runtime_datastore_dir(rt, root, sizeof root);
	runtime_ws_prefix(rt, source, sizeof source);
	memset(&cfg, 0, sizeof cfg);
	cfg.root = root;
	cfg.source = source;
	cfg.quota = (uint64_t)(o->collect_quota_mb ? o->collect_quota_mb
						   : DEFAULT_COLLECT_QUOTA_MB) << 20;
	cfg.log = collector_log;
	cfg.ctx = rt;
	cfg.rows = monitors_rows;
	cfg.sink = rt->monitors;
	rt->collector = collector_new(&cfg, err);
	if (rt->collector == NULL || collector_start(rt->collector, err) < 0)
		return -1;
	fleet_set_collector(rt->fleet, rt->collector);
	return 0;
}

/* The default memory limit of Python workers (docs/security.md). */
static int set_worker_memory(struct runtime *rt, const char *v, struct error *err)
{
	if (fleet_set_worker_memory(rt->fleet, v ? v : DEFAULT_WORKER_MEMORY_MB) < 0)
		return error_set(err, 400, "InvalidOption",
				 "--worker-memory-mb wants a number of MiB, at least 64, or 0 for "
				 "no limit, not '%s'",
				 v);
	return 0;
}

/* Frees metrics slots too old for any window even when nobody asks for them. */
static void *housekeeper_main(void *arg)
{
	struct runtime *rt = arg;
	struct timespec ts;

	pthread_mutex_lock(&rt->hk_lock);
	while (!rt->hk_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 30;
		pthread_cond_timedwait(&rt->hk_cond, &rt->hk_lock, &ts);
		if (!rt->hk_stop)
			metrics_gc(rt->metrics, metrics_now());
	}
	pthread_mutex_unlock(&rt->hk_lock);
	return NULL;
}

static int open_log(struct runtime *rt, const struct runtime_options *o, struct error *err)
{
	if (o->log_path == NULL)
		rt->log = logfile_open(STDERR_FILENO, 0);
	else
		rt->log = logfile_open_path(o->log_path, o->log_max_bytes, o->log_keep);
	if (rt->log == NULL && o->log_path)
		return error_set(err, 500, "LogOpenFailed", "cannot open log %s: %s", o->log_path,
				 strerror(errno));
	if (rt->log == NULL)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	return 0;
}

/* Tokens are signed with a key derived from the admin key: whoever can forge
 * one already holds every key. */
static void derive_token_secret(struct runtime *rt)
{
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "mldeck-token-v1:", 16);
	EVP_DigestUpdate(md, rt->admin_key, strlen(rt->admin_key));
	EVP_DigestFinal_ex(md, rt->token_secret, &n);
	EVP_MD_CTX_free(md);
}

static int setup_names(struct runtime *rt, const struct runtime_options *o, struct error *err)
{
	const char *ws = o->workspace ? o->workspace : "local";
	int n;

	if (o->home)
		n = snprintf(rt->home, sizeof rt->home, "%s", o->home);
	else
		n = store_default_home(rt->home, sizeof rt->home) == 0 ? 1 : -1;
	if (n < 0 || (size_t)n >= sizeof rt->home)
		return error_set(err, 400, "InvalidHome",
				 "no home directory: set --home, MLDECK_HOME or HOME");
	if (strlen(ws) > RESOURCE_NAME_MAX)
		return error_set(err, 400, "InvalidWorkspace", "workspace name is too long");
	snprintf(rt->ws_name, sizeof rt->ws_name, "%s", ws);
	return 0;
}

static int open_home(struct runtime *rt, struct error *err)
{
	rt->store = store_open(rt->home, err);
	if (rt->store == NULL)
		return -1;
	if (store_admin_key(rt->store, rt->admin_key, sizeof rt->admin_key, err) < 0)
		return -1;
	derive_token_secret(rt);
	blob_init(rt);
	rt->ws = store_load(rt->store, rt->ws_name, err);
	return rt->ws ? 0 : -1;
}

static int use_tls(const struct runtime_options *o)
{
	return o->tls || o->tls_cert != NULL || o->tls_key != NULL;
}

/* Directories under models/ that no model version names (a crash between an
 * artifact's placing and the state's commit, or before the old one's removal). */
static void sweep_artifacts(struct runtime *rt)
{
	const struct model_version **ms;
	size_t n = workspace_model_list(rt->ws, &ms), i;
	const char **keep = calloc(n + 1, sizeof *keep);
	int removed;

	if (keep == NULL || n != workspace_model_count(rt->ws)) {
		free(keep); /* without the full list nothing may go */
		free(ms);
		return;
	}
	for (i = 0; i < n; i++)
		keep[i] = ms[i]->artifact;
	removed = artifact_sweep(rt->home, keep, n);
	if (removed > 0)
		runtime_log(rt, "store: removed %d artifact director%s no model version names "
				"(left by an interrupted registration or deletion)",
			    removed, removed == 1 ? "y" : "ies");
	free(keep);
	free(ms);
}

/* Every deployment is loaded again at start: until it serves it is Creating
 * (never served) or Updating, not what it was before the restart. Recorded on
 * disk too; if that fails (a full disk) the runtime still starts, and each
 * deployment's state is written when its load reports. */
static void mark_reloading(struct runtime *rt)
{
	const struct deployment **ds;
	size_t n = workspace_deployment_list(rt->ws, NULL, &ds), i;
	struct error err;

	for (i = 0; i < n; i++)
		if (ds[i]->state != PROV_CREATING)
			workspace_deployment_set_state(rt->ws, ds[i]->endpoint, ds[i]->name,
						       PROV_UPDATING, NULL);
	free(ds);
	if (n > 0 && store_commit(rt->store, rt->ws, &err) < 0) {
		runtime_log(rt, "store: cannot record the deployments' state at start: %s",
			    err.message);
		workspace_changes_clear(rt->ws);
	}
}

static int start_server(struct runtime *rt, const struct runtime_options *o, struct error *err)
{
	struct server_options so;
	char spool[PATH_MAX + 8], sock[PATH_MAX + 16];

	snprintf(spool, sizeof spool, "%s/tmp", rt->home);
	snprintf(sock, sizeof sock, "%s/%s", rt->home, RUNTIME_SOCKET);
	memset(&so, 0, sizeof so);
	so.host = rt->host;
	so.port = rt->port;
	so.spool_dir = spool;
	so.body_memory = o->body_memory;
	so.spool_max = o->spool_max;
	so.spool_reserve = o->spool_reserve;
	so.conns = o->conns;
	so.io_timeout = o->io_timeout;
	so.admit = admit;
	so.handler = handle;
	so.ctx = rt;
	so.log = rt->log;
	so.threads = o->threads;
	if (use_tls(o)) {
		if (tls_identity_load(rt->store, rt->host, o->tls_cert, o->tls_key, &rt->tls, err) < 0)
			return -1;
		so.tls_cert_pem = rt->tls.cert_pem;
		so.tls_key_pem = rt->tls.key_pem;
	}
	so.max_blocking = CONTROL_THREADS;
	so.unix_path = sock;
	so.fast_prefix = DATAPLANE_PREFIX;
	rt->server = server_start(&so, err);
	if (rt->server == NULL)
		return -1;
	rt->port = server_port(rt->server);
	rt->scheme = use_tls(o) ? "https" : "http";
	if (strchr(rt->host, ':'))
		snprintf(rt->url, sizeof rt->url, "%s://[%s]:%u", rt->scheme, rt->host, rt->port);
	else
		snprintf(rt->url, sizeof rt->url, "%s://%s:%u", rt->scheme, rt->host, rt->port);
	if (use_tls(o))
		runtime_log(rt, "tls: certificate %s%s", rt->tls.cert_path,
			    rt->tls.generated ? " (generated now)" : "");
	return 0;
}

struct runtime *runtime_start(const struct runtime_options *o, struct error *err)
{
	struct runtime *rt = calloc(1, sizeof *rt);

	if (rt == NULL) {
		error_set(err, 500, "OutOfMemory", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&rt->lock, NULL);
	pthread_mutex_init(&rt->hk_lock, NULL);
	pthread_cond_init(&rt->hk_cond, NULL);
	if (parse_listen(o->listen ? o->listen : DEFAULT_LISTEN, rt->host, sizeof rt->host,
			 &rt->port, err) < 0)
		goto fail;
	if (!is_loopback(rt->host) && !use_tls(o)) {
		error_set(err, 400, "InsecureListen",
			  "refusing to listen on non-loopback address %s without TLS; add --tls "
			  "(a certificate is generated in the home) or --tls-cert/--tls-key",
			  rt->host);
		goto fail;
	}
	rt->token_ttl = o->token_ttl > 0 ? o->token_ttl : 3600;
	rt->page_size = o->page_size > 0 ? o->page_size : 100;
	rt->started = (int64_t)time(NULL);
	rt->stop_grace_ms = o->stop_grace_ms > 0 ? (int)o->stop_grace_ms : DEFAULT_STOP_GRACE_MS;
	rt->max_upload = o->max_upload ? o->max_upload : DEFAULT_UPLOAD_LIMIT;
	if (setup_names(rt, o, err) < 0 || open_home(rt, err) < 0)
		goto fail;
	if (open_log(rt, o, err) < 0)
		goto fail;
	if (store_notice(rt->store) != NULL)
		runtime_log(rt, "store: %s", store_notice(rt->store));
	sweep_artifacts(rt);
	mark_reloading(rt);
	rt->metrics = metrics_new();
	rt->fleet = fleet_new(rt->home, rt->metrics, on_state, rt);
	rt->jobs = jobs_new(rt, o->max_jobs > 0 ? o->max_jobs : DEFAULT_MAX_JOBS,
			    o->max_queued > 0 ? o->max_queued : DEFAULT_MAX_QUEUED);
	rt->batch_keys = invoke_keys_new();
	rt->scheduler = scheduler_new(rt);
	rt->monitors = monitors_new(rt);
	if (rt->metrics == NULL || rt->fleet == NULL || rt->jobs == NULL ||
	    rt->batch_keys == NULL || rt->scheduler == NULL || rt->monitors == NULL) {
		error_set(err, 500, "OutOfMemory", "out of memory");
		goto fail;
	}
	if (set_worker_memory(rt, o->worker_memory_mb, err) < 0 || start_collector(rt, o, err) < 0)
		goto fail;
	if (start_server(rt, o, err) < 0)
		goto fail;
	rt->housekeeping = pthread_create(&rt->housekeeper, NULL, housekeeper_main, rt) == 0;
	pthread_mutex_lock(&rt->lock);
	fleet_sync(rt->fleet, rt->ws);
	invoke_keys_sync(rt->batch_keys, rt->ws);
	pthread_mutex_unlock(&rt->lock);
	jobs_resume(rt->jobs);
	if (monitors_start(rt->monitors, err) < 0 || scheduler_start(rt->scheduler, err) < 0)
		goto fail;
	runtime_log(rt, "listening on %s and %s (home %s, workspace %s)", rt->url,
		    server_unix_path(rt->server), rt->home, rt->ws_name);
	return rt;
fail:
	runtime_stop(rt);
	return NULL;
}

void runtime_stop(struct runtime *rt)
{
	if (rt == NULL)
		return;
	/* the data plane first: its waiting requests are answered, so the
	 * server can stop with no connection left suspended */
	if (rt->fleet)
		fleet_stop(rt->fleet, rt->stop_grace_ms);
	server_stop(rt->server);
	scheduler_free(rt->scheduler); /* no new jobs from schedules */
	jobs_free(rt->jobs);           /* running jobs stop where they are and resume later */
	monitors_stop(rt->monitors);   /* runs and the ticker; drift's state lives until the collector stops */
	if (rt->housekeeping) {
		pthread_mutex_lock(&rt->hk_lock);
		rt->hk_stop = 1;
		pthread_cond_signal(&rt->hk_cond);
		pthread_mutex_unlock(&rt->hk_lock);
		pthread_join(rt->housekeeper, NULL);
	}
	tls_identity_cleanup(&rt->tls);
	fleet_free(rt->fleet);
	collector_free(rt->collector); /* after the fleet: its instances hold taps */
	monitors_free(rt->monitors);   /* after the collector: its writer feeds live drift */
	invoke_keys_free(rt->batch_keys);
	metrics_free(rt->metrics);
	workspace_free(rt->ws);
	store_close(rt->store);
	logfile_close(rt->log);
	pthread_mutex_destroy(&rt->lock);
	pthread_mutex_destroy(&rt->hk_lock);
	pthread_cond_destroy(&rt->hk_cond);
	free(rt);
}

const char *runtime_url(const struct runtime *rt)
{
	return rt->url;
}

const char *runtime_home(const struct runtime *rt)
{
	return rt->home;
}

/* ---- mldeck serve ------------------------------------------------------- */

/* One record per flag: parsing, limits and the help text come from here. */
enum flag_kind { FLAG_TEXT, FLAG_SWITCH, FLAG_INT, FLAG_UINT, FLAG_SIZE };

struct serve_flag {
	const char *name, *arg, *help;
	enum flag_kind kind;
	size_t off; /* of the field in struct runtime_options */
	unsigned long long min, max;
};

#define OPT(f) offsetof(struct runtime_options, f)
#define GIB (1ull << 30)

static const struct serve_flag serve_flags[] = {
	{"--listen", "HOST:PORT", "default 127.0.0.1:5800; port 0: any", FLAG_TEXT,
	 OPT(listen), 0, 0},
	{"--home", "DIR", "state directory (default $MLDECK_HOME, else "
	 "$XDG_DATA_HOME/mldeck)", FLAG_TEXT, OPT(home), 0, 0},
	{"--workspace", "NAME", "workspace name in resource paths (default local)", FLAG_TEXT,
	 OPT(workspace), 0, 0},
	{"--tls", NULL, "serve https with the home's certificate (generated on first start; "
	 "clients trust HOME/tls-cert.pem); required off loopback", FLAG_SWITCH, OPT(tls), 0, 0},
	{"--tls-cert", "FILE", "serve https with this PEM certificate (with --tls-key)", FLAG_TEXT,
	 OPT(tls_cert), 0, 0},
	{"--tls-key", "FILE", "the PEM private key of --tls-cert", FLAG_TEXT, OPT(tls_key), 0, 0},
	{"--page-size", "N", "items per page of a list before its nextLink (default 100)",
	 FLAG_INT, OPT(page_size), 1, 10000},
	{"--log", "FILE", "request and event log (default stderr)", FLAG_TEXT, OPT(log_path), 0,
	 0},
	{"--log-max-size", "BYTES", "rotate the log past this size (default 64 MiB)", FLAG_SIZE,
	 OPT(log_max_bytes), 4096, 1024 * GIB},
	{"--log-keep", "N", "rotated log files kept (default 4)", FLAG_UINT, OPT(log_keep), 1,
	 1000},
	{"--token-ttl", "SECONDS", "lifetime of AMLToken tokens (default 3600)", FLAG_INT,
	 OPT(token_ttl), 1, 86400 * 7},
	{"--threads", "N", "HTTP event loops (default: one per CPU)", FLAG_INT, OPT(threads), 1,
	 256},
	{"--max-batch-jobs", "N", "batch jobs running at once; more wait Queued (default 4)",
	 FLAG_INT, OPT(max_jobs), 1, 256},
	{"--max-queued-jobs", "N", "batch jobs waiting Queued; more are refused 429 (default "
	 "1000)", FLAG_INT, OPT(max_queued), 1, 1000000},
	{"--stop-grace", "SECONDS", "on SIGTERM, time for requests in flight (default 5)",
	 FLAG_UINT, OPT(stop_grace_ms), 1, 3600},
	{"--worker-memory-mb", "MB", "memory per Python worker process (default 4096; 0: none)",
	 FLAG_TEXT, OPT(worker_memory_mb), 0, 0},
	{"--collect-quota-mb", "MB", "disk for each deployment's collected data (default 1024)",
	 FLAG_UINT, OPT(collect_quota_mb), 1, 1024 * 1024},
	{"--max-connections", "N", "connections held at once (default 4096)", FLAG_UINT, OPT(conns.max), 1, 1000000},
	{"--max-connections-per-peer", "N", "per client address (default 1024)",
	 FLAG_UINT, OPT(conns.per_peer), 1, 1000000},
	{"--header-timeout", "SECONDS", "total time for a request's headers (default 10)",
	 FLAG_UINT, OPT(conns.header_ms), 1, 3600},
	{"--keepalive-timeout", "SECONDS", "idle time between requests (default 30)", FLAG_UINT,
	 OPT(conns.idle_ms), 1, 3600},
	{"--io-timeout", "SECONDS", "silence in a body or answer (default 60)",
	 FLAG_UINT, OPT(io_timeout), 1, 3600},
	{"--max-upload", "BYTES", "largest raw model upload (default 1 GiB)", FLAG_SIZE,
	 OPT(max_upload), 1, 1024 * GIB},
	{"--max-spool", "BYTES", "all uploads in flight (default 2 GiB)", FLAG_SIZE,
	 OPT(spool_max), 1, 1024 * GIB},
	{"--upload-reserve", "BYTES", "free space uploads leave (default 128 MiB)", FLAG_SIZE, OPT(spool_reserve), 1, 1024 * GIB},
	{"--body-memory", "BYTES", "all bodies in memory (default 256 MiB)",
	 FLAG_SIZE, OPT(body_memory), 1, 1024 * GIB},
	{"--connect-info", NULL, "print the socket and admin key of the runtime serving "
	 "--home, and exit (ssh:// profiles run this over ssh)", FLAG_SWITCH, OPT(connect_info),
	 0, 0},
};

#define NFLAGS (sizeof serve_flags / sizeof serve_flags[0])

static void serve_usage(FILE *out)
{
	char left[64];
	size_t i;

	fputs("usage: mldeck serve [OPTION]...\n\n"
	      "Runs the scoring runtime headless until SIGINT or SIGTERM. It serves the same\n"
	      "API on HOME/" RUNTIME_SOCKET " too (mode 0600), for ssh:// profiles.\n"
	      "Limits against hostile clients: docs/security.md.\n",
	      out);
	for (i = 0; i < NFLAGS; i++) {
		const struct serve_flag *f = &serve_flags[i];
		snprintf(left, sizeof left, "%s%s%s", f->name, f->arg ? " " : "",
			 f->arg ? f->arg : "");
		fprintf(out, "  %-31s %s\n", left, f->help);
	}
}

/* Seconds flags kept in milliseconds. */
static int flag_is_ms(const struct serve_flag *f)
{
	return f->off == OPT(conns.header_ms) || f->off == OPT(conns.idle_ms) ||
	       f->off == OPT(stop_grace_ms);
}

static int set_flag(const struct serve_flag *f, const char *v, struct runtime_options *o)
{
	char *field = (char *)o + f->off, *end;
	unsigned long long n;

	if (f->kind == FLAG_TEXT) {
		*(const char **)(void *)field = v;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || end == v || v[0] == '-' || n < f->min || n > f->max)
		return -1;
	if (f->kind == FLAG_INT)
		*(int *)(void *)field = (int)n;
	else if (f->kind == FLAG_UINT)
		*(unsigned *)(void *)field = (unsigned)(flag_is_ms(f) ? n * 1000 : n);
	else
		*(size_t *)(void *)field = (size_t)n;
	return 0;
}

static int serve_args(int argc, char **argv, struct runtime_options *o)
{
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const struct serve_flag *f = NULL;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			serve_usage(stdout);
			return 1;
		}
		for (k = 0; k < NFLAGS && f == NULL; k++)
			if (!strcmp(argv[i], serve_flags[k].name))
				f = &serve_flags[k];
		if (f == NULL)
			goto bad;
		if (f->kind == FLAG_SWITCH) {
			*(int *)(void *)((char *)o + f->off) = 1;
			continue;
		}
		if (i + 1 >= argc || set_flag(f, argv[i + 1], o) < 0)
			goto bad;
		i++;
	}
	return 0;
bad:
	fprintf(stderr, "mldeck serve: bad or incomplete option '%s'\n", argv[i]);
	serve_usage(stderr);
	return -1;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* The connection limit needs descriptors (docs/security.md): take the soft
 * limit up to the hard one; the server lowers its limit to fit the rest. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The admin key file's first line, trimmed, into key; -1 when unreadable. */
static int read_admin_key(const char *home, char *key, size_t len)
{
	char path[PATH_MAX + 16];
	size_t n = 0;
	char *data;

	snprintf(path, sizeof path, "%s/admin.key", home);
	data = file_read(path, 4096, &n);
	if (data == NULL)
		return -1;
	n = strcspn(data, "\r\n");
	snprintf(key, len, "%.*s", (int)n, data);
	memset(data, 0, n);
	free(data);
	return key[0] != '\0' && n < len ? 0 : -1;
}

/* `mldeck serve --connect-info`: what an ssh:// client needs, read here on
 * the runtime's host and printed to the client's ssh connection. */
static int serve_connect_info(const struct runtime_options *o)
{
	char home[PATH_MAX], sock[PATH_MAX + 16], key[256];

	if (o->home != NULL)
		snprintf(home, sizeof home, "%s", o->home);
	else if (store_default_home(home, sizeof home) < 0) {
		fprintf(stderr, "mldeck: no home directory: set --home, MLDECK_HOME or HOME\n");
		return 1;
	}
	snprintf(sock, sizeof sock, "%s/%s", home, RUNTIME_SOCKET);
	if (!server_unix_answers(sock)) {
		fprintf(stderr,
			"no mldeck runtime is serving %s on this host: start one there with "
			"`mldeck serve%s%s` (docs/profiles.md has a systemd --user unit)\n",
			home, o->home != NULL ? " --home " : "", o->home != NULL ? o->home : "");
		return 1;
	}
	if (read_admin_key(home, key, sizeof key) < 0) {
		fprintf(stderr, "cannot read the admin key %s/admin.key: %s\n", home,
			strerror(errno));
		return 1;
	}
	char *text = connect_info_text(sock, key);

	memset(key, 0, sizeof key);
	if (text == NULL)
		return 1;
	fputs(text, stdout);
	memset(text, 0, strlen(text));
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

int runtime_serve_main(int argc, char **argv)
{
	struct runtime_options o;
	struct sigaction sa;
	struct runtime *rt;
	struct error err;
	sigset_t set, old;
	int rc;

	memset(&o, 0, sizeof o);
	rc = serve_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.connect_info)
		return serve_connect_info(&o);
	raise_fd_limit();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL); /* past ulimit -f a write fails (EFBIG), nothing dies */
	/* Block the stop signals in every thread; this one waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rt = runtime_start(&o, &err);
	if (rt == NULL) {
		fprintf(stderr, "mldeck serve: %s\n", err.message);
		return 1;
	}
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop_signal)
		sigsuspend(&old);
	runtime_log(rt, "stopping on signal %d", (int)stop_signal);
	runtime_stop(rt);
	return 0;
}
