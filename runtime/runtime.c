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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "runtime/auth.h"
#include "runtime/core.h"
#include "state/artifact.h"

#define DEFAULT_LISTEN "127.0.0.1:5800"
#define DEFAULT_UPLOAD_LIMIT ((size_t)1 << 30)

void runtime_log(struct runtime *rt, const char *fmt, ...)
{
	char line[1024], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof line, "%s event: ", ts);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (rt->log == NULL)
		return;
	/* events are rare and someone may be waiting for them: out at once */
	logfile_write(rt->log, line, (size_t)n);
	logfile_flush(rt->log);
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

static void metrics_route(struct runtime *rt, const struct server_request *rq,
			  struct server_response *rs, int json)
{
	size_t len = 0;
	char *text;

	if (!json) {
		text = metrics_prometheus(rt->metrics, &len);
		reply_text(rs, 200, text, "text/plain; version=0.0.4");
		if (text)
			rs->len = len;
		return;
	}
	{
		const char *w = server_query(rq, "window");
		char *end = NULL;
		long window = w ? strtol(w, &end, 10) : 60;
		cJSON *j;

		if (w && (*end || window < 1 || window > 300))
			return server_reply_errorf(rs, 400, "ValidationError",
						   "window must be 1-300 seconds");
		const char *summary = server_query(rq, "summary");
		const char *detail = NULL;

		if (summary && strcmp(summary, "0")) {
			detail = server_query(rq, "detail");
			if (detail == NULL)
				detail = "";
		}
		j = metrics_json(rt->metrics, (int)window, metrics_now(), server_query(rq, "endpoint"),
				 detail);
		server_reply_json(rs, 200, j ? cJSON_PrintUnformatted(j) : NULL);
		cJSON_Delete(j);
	}
}

static void handle(void *ctx, const struct server_request *rq, struct server_response *rs)
{
	struct runtime *rt = ctx;
	const char *first = rq->segc > 0 ? rq->segv[0] : "";

	if (!strcmp(first, "healthz") && rq->segc == 1) {
		reply_text(rs, 200, strdup("{\"status\":\"ok\"}"), "application/json");
		return;
	}
	if (!strcmp(first, "endpoints"))
		return dataplane_handle(rt, rq, rs);
	if (!admin_ok(rt, rq))
		return server_reply_errorf(rs, 401, "Unauthorized",
					   "missing or wrong admin key (Authorization: Bearer "
					   "<key from %s/admin.key>)",
					   rt->home);
	if (!rq->may_block) {
		/* the control plane takes the workspace lock and fsyncs: off the loop */
		rs->defer = 1;
		return;
	}
	if (!strcmp(first, "metrics") && rq->segc == 1)
		return metrics_route(rt, rq, rs, 0);
	if (!strcmp(first, "v1") && rq->segc == 2 && !strcmp(rq->segv[1], "metrics"))
		return metrics_route(rt, rq, rs, 1);
	if (!strcasecmp(first, "subscriptions"))
		return control_handle(rt, rq, 1, rs);
	server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
}

static int upload_check(void *ctx, const char *method, const char *path, const char *ctype)
{
	(void)ctx;
	return control_is_upload(method, path, ctype);
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
	if (fleet_current(rt->fleet, r->ep, r->name, r->gen))
		workspace_deployment_set_state(ws, r->ep, r->name, r->state, r->error);
	return 0;
}

/* A finished load reports back: record the state if the spec is still current. */
static void on_state(void *ctx, const char *ep, const char *name, uint64_t gen,
		     enum prov_state state, const char *error)
{
	struct runtime *rt = ctx;
	struct state_report r = {ep, name, error, gen, state};
	struct error err;

	control_change(rt, state_apply, &r, &err); /* a failure is logged there */
	runtime_log(rt, "deployment %s/%s %s%s%s", ep, name, prov_state_name(state),
		    error ? ": " : "", error ? error : "");
}

/* ---- start and stop ----------------------------------------------------- */

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

static int open_log(struct runtime *rt, const char *path, struct error *err)
{
	int fd = STDERR_FILENO;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return error_set(err, 500, "LogOpenFailed", "cannot open log %s: %s", path,
					 strerror(errno));
	}
	rt->log = logfile_open(fd, path != NULL);
	if (rt->log == NULL) {
		if (path != NULL)
			close(fd);
		return error_set(err, 500, "OutOfMemory", "out of memory");
	}
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
	snprintf(rt->ws_prefix, sizeof rt->ws_prefix,
		 "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/"
		 "providers/Microsoft.MachineLearningServices/workspaces/%s",
		 rt->ws_name);
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
	rt->ws = store_load(rt->store, rt->ws_name, err);
	return rt->ws ? 0 : -1;
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
 * (never served) or Updating, not what it was before the restart. */
static int mark_reloading(struct runtime *rt, struct error *err)
{
	const struct deployment **ds;
	size_t n = workspace_deployment_list(rt->ws, NULL, &ds), i;

	for (i = 0; i < n; i++)
		if (ds[i]->state != PROV_CREATING)
			workspace_deployment_set_state(rt->ws, ds[i]->endpoint, ds[i]->name,
						       PROV_UPDATING, NULL);
	free(ds);
	return n > 0 ? store_commit(rt->store, rt->ws, err) : 0;
}

static int start_server(struct runtime *rt, const struct runtime_options *o, struct error *err)
{
	struct server_options so;
	char spool[PATH_MAX + 8];

	snprintf(spool, sizeof spool, "%s/tmp", rt->home);
	memset(&so, 0, sizeof so);
	so.host = rt->host;
	so.port = rt->port;
	so.upload_limit = o->max_upload ? o->max_upload : DEFAULT_UPLOAD_LIMIT;
	so.spool_dir = spool;
	so.handler = handle;
	so.upload = upload_check;
	so.ctx = rt;
	so.log = rt->log;
	so.threads = o->threads;
	rt->server = server_start(&so, err);
	if (rt->server == NULL)
		return -1;
	rt->port = server_port(rt->server);
	if (strchr(rt->host, ':'))
		snprintf(rt->url, sizeof rt->url, "http://[%s]:%u", rt->host, rt->port);
	else
		snprintf(rt->url, sizeof rt->url, "http://%s:%u", rt->host, rt->port);
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
	if (!is_loopback(rt->host) && !o->insecure_listen) {
		error_set(err, 400, "InsecureListen",
			  "refusing to listen on non-loopback address %s without TLS; pass "
			  "--insecure-listen if you really mean it",
			  rt->host);
		goto fail;
	}
	rt->token_ttl = o->token_ttl > 0 ? o->token_ttl : 3600;
	if (setup_names(rt, o, err) < 0 || open_home(rt, err) < 0)
		goto fail;
	if (open_log(rt, o->log_path, err) < 0)
		goto fail;
	if (store_notice(rt->store) != NULL)
		runtime_log(rt, "store: %s", store_notice(rt->store));
	sweep_artifacts(rt);
	if (mark_reloading(rt, err) < 0)
		goto fail;
	rt->metrics = metrics_new();
	rt->fleet = fleet_new(rt->home, rt->metrics, on_state, rt);
	if (rt->metrics == NULL || rt->fleet == NULL) {
		error_set(err, 500, "OutOfMemory", "out of memory");
		goto fail;
	}
	if (start_server(rt, o, err) < 0)
		goto fail;
	rt->housekeeping = pthread_create(&rt->housekeeper, NULL, housekeeper_main, rt) == 0;
	rt->codec.ws_prefix = rt->ws_prefix;
	rt->codec.base_url = rt->url;
	pthread_mutex_lock(&rt->lock);
	fleet_sync(rt->fleet, rt->ws);
	pthread_mutex_unlock(&rt->lock);
	runtime_log(rt, "listening on %s (home %s, workspace %s)", rt->url, rt->home,
		    rt->ws_name);
	return rt;
fail:
	runtime_stop(rt);
	return NULL;
}

void runtime_stop(struct runtime *rt)
{
	if (rt == NULL)
		return;
	server_stop(rt->server);
	if (rt->housekeeping) {
		pthread_mutex_lock(&rt->hk_lock);
		rt->hk_stop = 1;
		pthread_cond_signal(&rt->hk_cond);
		pthread_mutex_unlock(&rt->hk_lock);
		pthread_join(rt->housekeeper, NULL);
	}
	fleet_free(rt->fleet);
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

static const char serve_usage[] =
	"usage: mldeck serve [--listen HOST:PORT] [--home DIR] [--workspace NAME]\n"
	"                    [--insecure-listen] [--max-upload BYTES] [--log FILE]\n"
	"                    [--token-ttl SECONDS] [--threads N]\n"
	"\n"
	"Runs the scoring runtime headless until SIGINT or SIGTERM.\n"
	"  --listen HOST:PORT   address to listen on (default 127.0.0.1:5800; port 0 = any)\n"
	"  --home DIR           state directory (default $MLDECK_HOME, else\n"
	"                       $XDG_DATA_HOME/mldeck, else ~/.local/share/mldeck)\n"
	"  --workspace NAME     workspace name in resource paths (default local)\n"
	"  --insecure-listen    allow a non-loopback address without TLS\n"
	"  --max-upload BYTES   largest raw model upload (default 1 GiB)\n"
	"  --log FILE           request and event log (default stderr)\n"
	"  --token-ttl SECONDS  lifetime of AMLToken tokens (default 3600)\n"
	"  --threads N          HTTP event loops (default: one per CPU)\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int serve_args(int argc, char **argv, struct runtime_options *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(serve_usage, stdout);
			return 1;
		}
		if (!strcmp(a, "--insecure-listen")) {
			o->insecure_listen = 1;
			continue;
		}
		if (v == NULL)
			goto bad;
		if (!strcmp(a, "--listen"))
			o->listen = v;
		else if (!strcmp(a, "--home"))
			o->home = v;
		else if (!strcmp(a, "--workspace"))
			o->workspace = v;
		else if (!strcmp(a, "--log"))
			o->log_path = v;
		else if (!strcmp(a, "--max-upload")) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno || *end || n == 0)
				goto bad;
			o->max_upload = (size_t)n;
		} else if (!strcmp(a, "--threads")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 256)
				goto bad;
			o->threads = (int)n;
		} else if (!strcmp(a, "--token-ttl")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 86400 * 7)
				goto bad;
			o->token_ttl = (int)n;
		} else
			goto bad;
		i++;
	}
	return 0;
bad:
	fprintf(stderr, "mldeck serve: bad or incomplete option '%s'\n%s", argv[i], serve_usage);
	return -1;
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
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
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
