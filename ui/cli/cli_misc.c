/* cli_misc.c: `mldeck traffic`, `invoke`, `bench` and `profile`. */
#include "ui/cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api/loadgen.h"
#include "api/scoring.h"
#include "state/file.h"
#include "ui/cli/cli_endpoint.h"

#define CLI_REQUEST_MAX ((size_t)64 << 20)

static const struct cli_col cli_traffic_cols[] = {
    {"name", "name", NULL},
    {"traffic", "properties.traffic", NULL},
    {"mirror", "properties.mirrorTraffic", NULL},
    {"state", "properties.provisioningState", NULL},
};

/* "NAME=PCT" into obj; -1 with msg when malformed. */
static int cli_traffic_pair(const char *s, cJSON *obj, char *msg, size_t len)
{
	const char *eq = strchr(s, '=');
	char name[128], *end;

	if (eq == NULL || eq == s || (size_t)(eq - s) >= sizeof name)
		return snprintf(msg, len, "expected NAME=PCT, not \"%s\"", s), -1;
	snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
	errno = 0;
	long pct = strtol(eq + 1, &end, 10);
	if (errno != 0 || end == eq + 1 || *end != '\0' || pct < 0 || pct > 100)
		return snprintf(msg, len, "%s: percentage must be an integer 0-100", s), -1;
	if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL)
		return snprintf(msg, len, "%s given twice", name), -1;
	cJSON_AddNumberToObject(obj, name, (double)pct);
	return 0;
}

/* Builds {"properties":{"traffic":{...},"mirrorTraffic":{...}}}; NULL + msg. */
static cJSON *cli_traffic_body(const struct cli_args *a, char *msg, size_t len)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(body, "properties");
	const char *mirror = cli_args_get(a, "--mirror");

	if (a->npos > 1) {
		cJSON *t = cJSON_AddObjectToObject(p, "traffic");
		for (int i = 1; i < a->npos; i++)
			if (cli_traffic_pair(a->pos[i], t, msg, len) < 0)
				goto bad;
	}
	if (mirror != NULL) {
		cJSON *m = cJSON_AddObjectToObject(p, "mirrorTraffic");
		if (strcmp(mirror, "none") != 0 && cli_traffic_pair(mirror, m, msg, len) < 0)
			goto bad;
		/* NAME=0 clears the mirror. */
		if (m->child != NULL && m->child->valueint == 0)
			cJSON_DeleteItemFromObject(m, m->child->string);
	}
	return body;
bad:
	cJSON_Delete(body);
	return NULL;
}

static int cli_traffic(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char msg[256], path[400], e[200];
	struct error err = {0};
	cJSON *doc = NULL, *body = NULL;
	int change = a->npos > 1 || cli_args_has(a, "--mirror");
	int rc;

	if (change && (body = cli_traffic_body(a, msg, sizeof msg)) == NULL)
		return cli_usage(v, "%s", msg);
	struct client *cl = cli_client(c, &err);
	snprintf(path, sizeof path, "/onlineEndpoints/%s", cli_esc(e, sizeof e, a->pos[0]));
	if (cl == NULL) {
		rc = -1;
	} else if (change) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "properties");
		rc = cli_endpoint_set_traffic(c, a, a->pos[0],
					      cJSON_GetObjectItemCaseSensitive(p, "traffic"),
					      cJSON_GetObjectItemCaseSensitive(p, "mirrorTraffic"),
					      &doc, &err);
	} else {
		rc = client_call(cl, "GET", path, NULL, &doc, &err);
	}
	cJSON_Delete(body);
	if (rc < 0)
		return cli_fail(&err);
	return cli_show(c, NULL, 0, cli_traffic_cols,
			sizeof cli_traffic_cols / sizeof cli_traffic_cols[0], doc);
}

/* The request body from a file, or stdin for "-" (bounded). */
static int cli_read_request(const char *path, char **out, size_t *len, struct error *err)
{
	int from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? stdin : fopen(path, "rb");

	if (f == NULL)
		return error_set(err, 400, "BadPath", "--request-file %s: %s", path,
				 strerror(errno));
	*out = file_read_stream(f, CLI_REQUEST_MAX, len);
	if (!from_stdin)
		fclose(f);
	if (*out == NULL)
		return error_set(err, 400, "BadPath",
				 "--request-file %s: unreadable or over 64 MiB", path);
	return 0;
}

/* Where and with which credential the endpoint is scored (api/scoring.h). */
static int cli_target(struct cli *c, const char *ep, struct scoring_target *t, struct error *err)
{
	struct client *cl = cli_client(c, err);

	return cl == NULL ? -1 : scoring_target(cl, ep, t, err);
}

static int cli_invoke(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char chosen[128];
	const char *file = cli_args_get(a, "--request-file");
	struct scoring_target t;
	struct error err = {0};
	char *body = NULL, *answer = NULL;
	size_t len = 0, alen = 0;
	int status = 0;
	double ms = 0;

	if (file == NULL)
		return cli_usage(v, "--request-file is required");
	if (cli_read_request(file, &body, &len, &err) < 0)
		return cli_usage(v, "%s", err.message);
	int rc = cli_target(c, a->pos[0], &t, &err);
	if (rc == 0)
		rc = client_score(c->client, t.url, t.credential, cli_args_get(a, "--deployment"),
				  body, len, &status, &answer, &alen, chosen, sizeof chosen, &ms,
				  &err);
	scoring_target_cleanup(&t);
	free(body);
	if (rc < 0)
		return cli_fail(&err);
	if (status >= 200 && status <= 299) {
		fwrite(answer, 1, alen, stdout);
		if (alen == 0 || answer[alen - 1] != '\n')
			fputc('\n', stdout);
		free(answer);
		return CLI_OK;
	}
	fprintf(stderr, "mldeck: HTTP %d from %s%s%s: %.*s\n", status, t.url,
		chosen[0] ? " deployment " : "", chosen, alen > 500 ? 500 : (int)alen, answer);
	free(answer);
	return CLI_FAIL;
}

static cJSON *cli_bench_json(const struct loadgen_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *st = cJSON_CreateObject();
	char k[16];

	cJSON_AddNumberToObject(o, "seconds", r->elapsed_s);
	cJSON_AddNumberToObject(o, "requests", (double)r->completed);
	cJSON_AddNumberToObject(o, "errors", (double)r->errors);
	cJSON_AddNumberToObject(o, "requestsPerSecond", r->rps);
	cJSON_AddNumberToObject(o, "p50Ms", r->p50_ms);
	cJSON_AddNumberToObject(o, "p90Ms", r->p90_ms);
	cJSON_AddNumberToObject(o, "p99Ms", r->p99_ms);
	cJSON_AddNumberToObject(o, "maxMs", r->max_ms);
	cJSON_AddNumberToObject(o, "meanMs", r->mean_ms);
	for (int i = 0; i < r->nstatus; i++) {
		snprintf(k, sizeof k, "%d", r->statuses[i].status);
		cJSON_AddNumberToObject(st, k, (double)r->statuses[i].count);
	}
	cJSON_AddItemToObject(o, "statuses", st);
	if (r->last_error[0])
		cJSON_AddStringToObject(o, "lastError", r->last_error);
	return o;
}

static void cli_bench_print(const struct loadgen_result *r)
{
	printf("requests  %ld in %.2f s, %.1f requests/s, %ld without answer\n", r->completed,
	       r->elapsed_s, r->rps, r->errors);
	printf("latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", r->p50_ms,
	       r->p90_ms, r->p99_ms, r->max_ms);
	printf("status   ");
	for (int i = 0; i < r->nstatus; i++)
		printf(" %d: %ld", r->statuses[i].status, r->statuses[i].count);
	printf("%s\n", r->nstatus ? "" : " none");
	if (r->last_error[0])
		printf("error     %s\n", r->last_error);
}

/* -c, -d, -n into cfg; CLI_OK or a usage error. */
static int cli_bench_bounds(const struct cli_verb *v, const struct cli_args *a,
			    struct loadgen_config *cfg)
{
	char msg[200];
	long conns = 1, secs = 0, reqs = 0;

	if (cli_args_long(a, "-c", 1, 1024, &conns, msg, sizeof msg) < 0 ||
	    cli_args_long(a, "-d", 1, 86400, &secs, msg, sizeof msg) < 0 ||
	    cli_args_long(a, "-n", 1, 1000000000L, &reqs, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	if (secs > 0 && reqs > 0)
		return cli_usage(v, "give -d SECONDS or -n REQUESTS, not both");
	cfg->connections = (int)conns;
	cfg->duration_s = secs > 0 ? (double)secs : (reqs > 0 ? 0.0 : 10.0);
	cfg->requests = reqs;
	return CLI_OK;
}

struct cli_bench_key {
	struct client *client;
	const char *ep;
	const char *auth_mode;
};

/* A new AML token for a bench that outlives its refresh time (loadgen's thread). */
static int cli_bench_refresh(void *ctx, char *buf, size_t len, long long *next_at)
{
	struct cli_bench_key *k = ctx;
	struct error err = {0};

	return scoring_credential(k->client, k->ep, k->auth_mode, buf, len, next_at, &err);
}

static int cli_bench(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct scoring_target t;
	struct loadgen_config cfg = {0};
	struct loadgen_result r;
	struct error err = {0};
	const char *file = cli_args_get(a, "--request-file");
	char *body = NULL;
	int rc;

	if (file == NULL)
		return cli_usage(v, "--request-file is required");
	if ((rc = cli_bench_bounds(v, a, &cfg)) != CLI_OK)
		return rc;
	if (cli_read_request(file, &body, &cfg.body_len, &err) < 0)
		return cli_usage(v, "%s", err.message);
	if (cli_target(c, a->pos[0], &t, &err) < 0) {
		free(body);
		return cli_fail(&err);
	}
	cfg.url = t.url;
	cfg.unix_socket = t.unix_socket;
	cfg.key = t.credential;
	cfg.body = body;
	cfg.deployment = cli_args_get(a, "--deployment");
	cfg.via = c->client;
	struct cli_bench_key key = {c->client, a->pos[0], t.auth_mode};
	cfg.key_refresh_at = t.refresh_at;
	cfg.key_refresh = cli_bench_refresh;
	cfg.key_refresh_ctx = &key;
	struct loadgen *lg = loadgen_new(&cfg, &err);
	scoring_target_cleanup(&t);
	free(body);
	if (lg == NULL || loadgen_run(lg, &err) < 0) {
		loadgen_free(lg);
		return cli_fail(&err);
	}
	loadgen_snapshot(lg, &r);
	loadgen_free(lg);
	if (c->json) {
		cJSON *o = cli_bench_json(&r);
		cli_out_json(o);
		cJSON_Delete(o);
	} else {
		cli_bench_print(&r);
	}
	return r.completed > 0 ? CLI_OK : CLI_FAIL;
}

static int cli_profile_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	const struct profile *sel = cli_profile(c, &err);

	(void)v, (void)a;
	if (c->profiles == NULL)
		return cli_fail(&err);
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < c->profiles->count; i++) {
		const struct profile *p = &c->profiles->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddStringToObject(o, "backend", p->backend);
		cJSON_AddStringToObject(o, "url", p->url);
		cJSON_AddStringToObject(o, "workspace", p->workspace);
		cJSON_AddBoolToObject(o, "readonly", p->readonly);
		cJSON_AddBoolToObject(o, "selected", p == sel);
		cJSON_AddItemToArray(arr, o);
	}
	static const struct cli_col cols[] = {
	    {"NAME", "name", NULL},	    {"BACKEND", "backend", NULL},
	    {"URL", "url", NULL},	    {"WORKSPACE", "workspace", NULL},
	    {"READONLY", "readonly", NULL}, {"SELECTED", "selected", NULL},
	};
	return cli_show(c, cols, sizeof cols / sizeof cols[0], NULL, 0, arr);
}

static int cli_profile_use(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};

	(void)v;
	if (profile_use(NULL, a->pos[0], &err) < 0)
		return cli_fail(&err);
	if (!c->json)
		printf("Default profile is now %s.\n", a->pos[0]);
	return CLI_OK;
}

static volatile sig_atomic_t cli_check_stop;

static void cli_check_signal(int sig)
{
	cli_check_stop = sig;
}

/* One line of `profile check`: the transport's state and, once connected,
 * whether the runtime answers an authenticated call. CLI_OK when it does. */
static int cli_check_print(struct cli *c, const char *name, struct transport *t,
			   const struct transport_status *st)
{
	char what[400], answer[200] = "", steps[160];
	struct error err = {0};
	cJSON *doc = NULL;
	int ok = 0;

	transport_describe(st, what, sizeof what);
	transport_describe_steps(st, steps, sizeof steps);
	if (st->state == TRANSPORT_CONNECTED) {
		struct client *cl = transport_client(t, 10000, &err);
		ok = cl != NULL && client_list(cl, "/onlineEndpoints", &doc, &err) == 0;
		if (ok)
			snprintf(
			    answer, sizeof answer, "%d endpoints",
			    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "value")));
		else
			snprintf(answer, sizeof answer, "%.190s", err.message);
		cJSON_Delete(doc);
		client_free(cl);
	}
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "profile", name);
		cJSON_AddStringToObject(o, "url", st->target);
		cJSON_AddStringToObject(o, "state", transport_state_name(st->state));
		cJSON_AddNumberToObject(o, "attempt", st->attempt);
		cJSON_AddStringToObject(o, "reason", st->reason);
		if (st->state == TRANSPORT_CONNECTED)
			cJSON_AddBoolToObject(o, "answers", ok);
		if (steps[0] != '\0')
			cJSON_AddStringToObject(o, "took", steps);
		char *line = cJSON_PrintUnformatted(o);
		printf("%s\n", line != NULL ? line : "{}");
		free(line);
		cJSON_Delete(o);
	} else {
		printf("%s: %s%s%s%s%s%s\n", name, what, answer[0] ? " (" : "", answer,
		       answer[0] ? ")" : "", steps[0] ? " in " : "", steps);
	}
	fflush(stdout);
	return ok ? CLI_OK : CLI_FAIL;
}

/* --watch: a line at every change until SIGINT, SIGTERM or SIGHUP. */
static int cli_check_watch(struct cli *c, const char *name, struct transport *t)
{
	struct sigaction sa = {.sa_handler = cli_check_signal}, old[3];
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct transport_status st;
	unsigned long seq;

	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	transport_status(t, &st);
	cli_check_print(c, name, t, &st);
	for (seq = st.seq; !cli_check_stop;) {
		if (!transport_wait_change(t, seq, 200, &st))
			continue;
		seq = st.seq;
		if (st.trying && st.reason[0] != '\0')
			continue; /* the line before said when */
		cli_check_print(c, name, t, &st);
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return CLI_OK;
}

static int cli_profile_check(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	struct error err = {0};
	const struct profile *p = cli_profile(c, &err);
	struct transport_status st;
	struct transport *t;
	int rc;

	(void)v;
	if (p != NULL && a->npos > 0 && (p = profile_find(c->profiles, a->pos[0])) == NULL)
		error_set(&err, 404, "NotFound", "no profile \"%s\"", a->pos[0]);
	if (p == NULL || (t = transport_open(p, NULL, NULL, &err)) == NULL)
		return cli_fail(&err);
	if (cli_args_has(a, "--watch")) {
		rc = cli_check_watch(c, p->name, t);
	} else {
		transport_wait(t, 120000, &err);
		transport_status(t, &st);
		rc = cli_check_print(c, p->name, t, &st);
		if (st.state != TRANSPORT_CONNECTED)
			cli_transport_detail(t);
	}
	transport_close(t);
	return rc;
}

const struct cli_verb cli_misc_verbs[] = {
    {"traffic", NULL, cli_traffic, "traffic EP [NAME=PCT...] [--mirror NAME=PCT] [--no-wait]",
     "set the live traffic split (the whole map; unnamed deployments get 0) and the mirror, "
     "and wait until it applies; without changes, show it",
     "--mirror= --no-wait", 1, -1, CLI_CHANGES_WITH_ARGS},
    {"invoke", NULL, cli_invoke, "invoke EP --request-file FILE [--deployment NAME]",
     "score one request (FILE or - for stdin) and print the answer",
     "--request-file= --deployment=", 1, 1, CLI_READS},
    {"bench", NULL, cli_bench,
     "bench EP --request-file F [-c CONNECTIONS] [-d SECONDS | -n REQUESTS] [--deployment NAME]",
     "load an endpoint (keep-alive, default 1 connection for 10 s) and print requests/s, "
     "p50/p90/p99/max and status counts",
     "--request-file= -c= -d= -n= --deployment=", 1, 1, CLI_READS},
    {"profile", "list", cli_profile_list, "profile list",
     "list the profiles of config.ini (and the built-in local)", "", 0, 0, CLI_READS},
    {"profile", "check", cli_profile_check, "profile check [NAME] [--watch]",
     "connect to the profile's backend (ssh:// included) and say whether it answers; "
     "--watch: a line at every change of the connection until interrupted",
     "--watch", 0, 1, CLI_READS},
    {"profile", "use", cli_profile_use, "profile use NAME",
     "make NAME the default profile (rewrites default_profile in config.ini)", "", 1, 1, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
