/* cli_deployment.c: `mldeck deployment ...`, with polling of async changes. */
#include "ui/cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_DEP_WAIT_S 120
#define CLI_DEP_POLL_MS 200

/* Deployment table rows get a "_traffic" member (from the endpoint). */
static void cli_dep_fmt_traffic(const cJSON *node, char *buf, size_t len)
{
	cli_out_text(node, buf, len);
}

static const struct cli_col cli_dep_cols[] = {
    {"NAME", "name", NULL},
    {"MODEL", "properties.model", cli_out_fmt_ref},
    {"ENV", "properties.environmentId", cli_out_fmt_ref},
    {"INSTANCES", "sku.capacity", NULL},
    {"STATE", "properties.provisioningState", NULL},
    {"TRAFFIC", "_traffic", cli_dep_fmt_traffic},
};

static const struct cli_col cli_dep_detail[] = {
    {"name", "name", NULL},
    {"model", "properties.model", cli_out_fmt_ref},
    {"env", "properties.environmentId", cli_out_fmt_ref},
    {"instances", "sku.capacity", NULL},
    {"max concurrent", "properties.requestSettings.maxConcurrentRequestsPerInstance", NULL},
    {"timeout", "properties.requestSettings.requestTimeout", NULL},
    {"code", "properties.codeConfiguration.codeId", NULL},
    {"scoring script", "properties.codeConfiguration.scoringScript", NULL},
    {"state", "properties.provisioningState", NULL},
    {"error", "properties.error", NULL},
    {"id", "id", NULL},
};

#define CLI_DEP_SHOW(c, doc)                                                                       \
	cli_show(c, cli_dep_cols, sizeof cli_dep_cols / sizeof cli_dep_cols[0], cli_dep_detail,    \
		 sizeof cli_dep_detail / sizeof cli_dep_detail[0], doc)

static const char *cli_dep_path(char *buf, size_t len, const char *ep, const char *name,
				const char *suffix)
{
	char e1[200], e2[200];

	snprintf(buf, len, "/onlineEndpoints/%s/deployments%s%s%s", cli_esc(e1, sizeof e1, ep),
		 name != NULL ? "/" : "", name != NULL ? cli_esc(e2, sizeof e2, name) : "", suffix);
	return buf;
}

static const char *cli_dep_state(const cJSON *doc)
{
	const cJSON *s = cli_out_at(doc, "properties.provisioningState");

	return cJSON_IsString(s) ? s->valuestring : "";
}

/* properties.error as a string or {"message"}. */
static void cli_dep_error_text(const cJSON *doc, char *buf, size_t len)
{
	const cJSON *e = cli_out_at(doc, "properties.error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

	if (cJSON_IsString(m))
		snprintf(buf, len, "%s", m->valuestring);
	else if (cJSON_IsString(e))
		snprintf(buf, len, "%s", e->valuestring);
	else
		snprintf(buf, len, "no reason given (see mldeck deployment logs)");
}

static void cli_dep_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Polls until Succeeded/Failed/Canceled or the bounded wait ends; *out the last GET. */
static int cli_dep_wait(struct client *cl, const char *path, cJSON **out, struct error *err)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		cJSON *doc = NULL;
		if (client_call(cl, "GET", path, NULL, &doc, err) < 0)
			return -1;
		const char *s = cli_dep_state(doc);
		if (strcmp(s, "Succeeded") == 0 || strcmp(s, "Failed") == 0 ||
		    strcmp(s, "Canceled") == 0 || s[0] == '\0') {
			*out = doc;
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= CLI_DEP_WAIT_S) {
			*out = doc;
			return error_set(err, 504, "Timeout",
					 "still %s after %d s (see mldeck "
					 "deployment logs)",
					 s, CLI_DEP_WAIT_S);
		}
		cJSON_Delete(doc);
		cli_dep_sleep_ms(CLI_DEP_POLL_MS);
	}
}

/* Waits (unless --no-wait), prints, and fails on Failed. */
static int cli_dep_finish(struct cli *c, const struct cli_args *a, const char *path, cJSON *doc,
			  const char *name)
{
	struct error err = {0};
	char why[512];

	if (!cli_args_has(a, "--no-wait")) {
		cJSON_Delete(doc);
		doc = NULL;
		if (cli_dep_wait(c->client, path, &doc, &err) < 0) {
			cJSON_Delete(doc);
			return cli_fail(&err);
		}
	}
	int failed = strcmp(cli_dep_state(doc), "Failed") == 0;
	if (failed)
		cli_dep_error_text(doc, why, sizeof why);
	CLI_DEP_SHOW(c, doc);
	if (!failed)
		return CLI_OK;
	error_set(&err, 500, "DeploymentFailed", "deployment %s failed: %s", name, why);
	return cli_fail(&err);
}

/* "M:V" -> "azureml:M:V" (kept when already prefixed or an ARM id). */
static void cli_dep_ref(const char *in, char *out, size_t len)
{
	if (strncmp(in, "azureml:", 8) == 0 || in[0] == '/')
		snprintf(out, len, "%s", in);
	else
		snprintf(out, len, "azureml:%s", in);
}

static cJSON *cli_dep_body(const struct cli_args *a, long instances, long maxc, long tmo)
{
	char ref[300], abs[PATH_MAX], iso[48];
	cJSON *body = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(body, "properties");

	cli_dep_ref(cli_args_get(a, "--model"), ref, sizeof ref);
	cJSON_AddStringToObject(p, "model", ref);
	cli_dep_ref(cli_args_get(a, "--env"), ref, sizeof ref);
	cJSON_AddStringToObject(p, "environmentId", ref);
	if (cli_args_get(a, "--code") != NULL) {
		cJSON *cc = cJSON_AddObjectToObject(p, "codeConfiguration");
		const char *dir = cli_args_get(a, "--code");
		cJSON_AddStringToObject(cc, "codeId", realpath(dir, abs) != NULL ? abs : dir);
		cJSON_AddStringToObject(cc, "scoringScript", cli_args_get(a, "--scoring-script"));
	}
	if (cli_args_has(a, "--var")) {
		cJSON *vars = cJSON_AddObjectToObject(p, "environmentVariables");
		for (int k = 0; cli_args_nth(a, "--var", k) != NULL; k++) {
			const char *kv = cli_args_nth(a, "--var", k);
			const char *eq = strchr(kv, '=');
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
			cJSON_DeleteItemFromObjectCaseSensitive(vars, key);
			cJSON_AddStringToObject(vars, key, eq + 1);
		}
	}
	cJSON *rs = cJSON_AddObjectToObject(p, "requestSettings");
	cJSON_AddNumberToObject(rs, "maxConcurrentRequestsPerInstance", (double)maxc);
	if (tmo % 1000 == 0)
		snprintf(iso, sizeof iso, "PT%ldS", tmo / 1000);
	else
		snprintf(iso, sizeof iso, "PT%ld.%03ldS", tmo / 1000, tmo % 1000);
	cJSON_AddStringToObject(rs, "requestTimeout", iso);
	cJSON_AddStringToObject(p, "endpointComputeType", "Managed");
	cJSON *sku = cJSON_AddObjectToObject(body, "sku");
	cJSON_AddStringToObject(sku, "name", "Default");
	cJSON_AddNumberToObject(sku, "capacity", (double)instances);
	return body;
}

/* Sets traffic {name: 100, every other deployment in the map: 0}. */
static int cli_dep_all_traffic(struct cli *c, const char *ep, const char *name, struct error *err)
{
	char path[400], e[200];
	cJSON *doc = NULL, *out = NULL;
	const cJSON *it;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", cli_esc(e, sizeof e, ep));
	if (client_call(c->client, "GET", path, NULL, &doc, err) < 0)
		return -1;
	cJSON *body = cJSON_CreateObject();
	cJSON *tr = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "properties"), "traffic");
	cJSON_ArrayForEach(it,
			   cli_out_at(doc, "properties.traffic")) if (it->string != NULL &&
								      strcmp(it->string, name) != 0)
	    cJSON_AddNumberToObject(tr, it->string, 0);
	cJSON_AddNumberToObject(tr, name, 100);
	int rc = client_call(c->client, "PATCH", path, body, &out, err);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	cJSON_Delete(out);
	return rc;
}

static int cli_dep_numbers(const struct cli_verb *v, const struct cli_args *a, long *inst,
			   long *maxc, long *tmo)
{
	char msg[200];

	if (cli_args_long(a, "--instances", 1, 1000, inst, msg, sizeof msg) < 0 ||
	    cli_args_long(a, "--max-concurrent", 1, 10000, maxc, msg, sizeof msg) < 0 ||
	    cli_args_long(a, "--timeout-ms", 1, 3600000, tmo, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	return CLI_OK;
}

static int cli_dep_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	long inst = 1, maxc = 1, tmo = 5000;
	char path[600];
	struct error err = {0};
	cJSON *doc = NULL;
	int rc;

	if (cli_args_get(a, "--model") == NULL || cli_args_get(a, "--env") == NULL)
		return cli_usage(v, "--model M:V and --env E:V are required");
	if (cli_args_has(a, "--code") != cli_args_has(a, "--scoring-script"))
		return cli_usage(v, "--code and --scoring-script go together");
	for (int k = 0; cli_args_nth(a, "--var", k) != NULL; k++) {
		const char *kv = cli_args_nth(a, "--var", k), *eq = strchr(kv, '=');
		if (eq == NULL || eq == kv || eq - kv >= 128)
			return cli_usage(v, "--var wants KEY=VALUE, not '%s'", kv);
	}
	if ((rc = cli_dep_numbers(v, a, &inst, &maxc, &tmo)) != CLI_OK)
		return rc;
	struct client *cl = cli_client(c, &err);
	if (cl == NULL)
		return cli_fail(&err);
	cJSON *body = cli_dep_body(a, inst, maxc, tmo);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	rc = client_call(cl, "PUT", path, body, &doc, &err);
	cJSON_Delete(body);
	if (rc < 0)
		return cli_fail(&err);
	if (!cli_args_has(a, "--all-traffic"))
		return cli_dep_finish(c, a, path, doc, a->pos[1]);
	int saved_json = c->json;
	rc = cli_dep_finish(c, a, path, doc, a->pos[1]);
	c->json = saved_json;
	if (rc != CLI_OK)
		return rc;
	if (cli_dep_all_traffic(c, a->pos[0], a->pos[1], &err) < 0)
		return cli_fail(&err);
	if (!c->json)
		printf("All traffic of %s now goes to %s.\n", a->pos[0], a->pos[1]);
	return CLI_OK;
}

/* Adds "_traffic" ("90%", "mirror 10%") to each deployment from the endpoint. */
static void cli_dep_add_traffic(struct client *cl, const char *ep, cJSON *list)
{
	char path[400], e[200], text[64];
	cJSON *doc = NULL, *it;
	struct error err;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", cli_esc(e, sizeof e, ep));
	if (client_call(cl, "GET", path, NULL, &doc, &err) < 0)
		return;
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (!cJSON_IsString(n))
			continue;
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(
		    cli_out_at(doc, "properties.traffic"), n->valuestring);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(
		    cli_out_at(doc, "properties.mirrorTraffic"), n->valuestring);
		int tv = cJSON_IsNumber(t) ? t->valueint : 0;
		if (cJSON_IsNumber(m) && m->valueint > 0)
			snprintf(text, sizeof text, "%d%% +mirror %d%%", tv, m->valueint);
		else
			snprintf(text, sizeof text, "%d%%", tv);
		cJSON_AddStringToObject(it, "_traffic", text);
	}
	cJSON_Delete(doc);
}

static int cli_dep_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400];
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	(void)v;
	cli_dep_path(path, sizeof path, a->pos[0], NULL, "");
	if (cl == NULL || client_call(cl, "GET", path, NULL, &doc, &err) < 0)
		return cli_fail(&err);
	if (!c->json)
		cli_dep_add_traffic(cl, a->pos[0], cJSON_GetObjectItemCaseSensitive(doc, "value"));
	return CLI_DEP_SHOW(c, doc);
}

static int cli_dep_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[600];
	struct error err = {0};
	cJSON *doc = NULL;
	struct client *cl = cli_client(c, &err);

	(void)v;
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	if (cl == NULL || client_call(cl, "GET", path, NULL, &doc, &err) < 0)
		return cli_fail(&err);
	return CLI_DEP_SHOW(c, doc);
}

static int cli_dep_update(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	long inst = 0;
	char path[600], msg[200];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_args_long(a, "--instances", 1, 1000, &inst, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	if (inst == 0)
		return cli_usage(v, "--instances N is required");
	struct client *cl = cli_client(c, &err);
	if (cl == NULL)
		return cli_fail(&err);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "sku"), "capacity", (double)inst);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	int rc = client_call(cl, "PATCH", path, body, &doc, &err);
	cJSON_Delete(body);
	if (rc < 0)
		return cli_fail(&err);
	return cli_dep_finish(c, a, path, doc, a->pos[1]);
}

static int cli_dep_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[600], what[200];
	struct error err = {0};
	cJSON *doc = NULL;
	int rc;

	snprintf(what, sizeof what, "deployment %s of endpoint %s", a->pos[1], a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	struct client *cl = cli_client(c, &err);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	if (cl == NULL || client_call(cl, "DELETE", path, NULL, &doc, &err) < 0)
		return cli_fail(&err);
	cJSON_Delete(doc);
	if (!c->json)
		printf("Deleted deployment %s of %s.\n", a->pos[1], a->pos[0]);
	return CLI_OK;
}

static int cli_dep_logs(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	long lines = 100;
	char path[600], msg[200];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_args_long(a, "--lines", 1, 100000, &lines, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	struct client *cl = cli_client(c, &err);
	if (cl == NULL)
		return cli_fail(&err);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "tail", (double)lines);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "/getLogs");
	int rc = client_call(cl, "POST", path, body, &doc, &err);
	cJSON_Delete(body);
	if (rc < 0)
		return cli_fail(&err);
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(doc, "content");
	if (c->json) {
		cli_out_json(doc);
	} else if (cJSON_IsString(content)) {
		size_t n = strlen(content->valuestring);
		fputs(content->valuestring, stdout);
		if (n > 0 && content->valuestring[n - 1] != '\n')
			fputc('\n', stdout);
	}
	cJSON_Delete(doc);
	return CLI_OK;
}

const struct cli_verb cli_deployment_verbs[] = {
    {"deployment", "create", cli_dep_create,
     "deployment create EP NAME --model M:V --env E:V [--code DIR --scoring-script FILE] "
     "[--instances N] [--max-concurrent N] [--timeout-ms N] [--var KEY=VALUE]... "
     "[--all-traffic] [--no-wait]",
     "create a deployment (starts at 0 % traffic) and wait until it is up; --var sets an "
     "environment variable (WORKER_COUNT: Python workers per instance)",
     "--model= --env= --code= --scoring-script= --instances= --max-concurrent= --timeout-ms= "
     "--var=* --all-traffic --no-wait",
     2, 2, 1},
    {"deployment", "list", cli_dep_list, "deployment list EP",
     "list the deployments of an endpoint", "", 1, 1, CLI_READS},
    {"deployment", "show", cli_dep_show, "deployment show EP NAME", "show a deployment", "", 2, 2,
     0},
    {"deployment", "update", cli_dep_update, "deployment update EP NAME --instances N [--no-wait]",
     "change the instance count (applies live)", "--instances= --no-wait", 2, 2, CLI_CHANGES},
    {"deployment", "delete", cli_dep_delete, "deployment delete EP NAME [--yes]",
     "delete a deployment without traffic (asks on a terminal; else needs --yes)", "--yes", 2, 2,
     1},
    {"deployment", "logs", cli_dep_logs, "deployment logs EP NAME [--lines N]",
     "print the last lines of a deployment's log (default 100)", "--lines=", 2, 2, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
