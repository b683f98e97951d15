/* cli_deployment.c: `mldeck deployment ...`, with polling of async changes. */
#include "ui/cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/azure.h"
#include "api/upload.h"
#include "ui/cli/cli_endpoint.h"

#define CLI_DEP_INSTANCE_TYPE "Standard_DS3_v2" /* Azure wants one; az's examples use it */

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

static cJSON *cli_dep_body(struct cli *c, const struct cli_args *a, long instances, long maxc,
			   long tmo, struct error *err)
{
	char ref[1200], iso[48];
	cJSON *body = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(body, "properties");
	const char *itype = cli_args_get(a, "--instance-type");

	if (cli_asset_ref(c->client, "models", cli_args_get(a, "--model"), ref, sizeof ref) < 0)
		goto too_long;
	cJSON_AddStringToObject(p, "model", ref);
	if (cli_args_get(a, "--env") != NULL) { /* an mlflow_model needs none */
		if (cli_asset_ref(c->client, "environments", cli_args_get(a, "--env"), ref,
				sizeof ref) < 0)
			goto too_long;
		cJSON_AddStringToObject(p, "environmentId", ref);
	}
	if (cli_args_get(a, "--code") != NULL) {
		if (cli_code_ref(c, cli_args_get(a, "--code"), ref, sizeof ref, err) < 0)
			goto fail;
		cJSON *cc = cJSON_AddObjectToObject(p, "codeConfiguration");
		cJSON_AddStringToObject(cc, "codeId", ref);
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
	if (itype != NULL || cli_is_azure(c))
		cJSON_AddStringToObject(p, "instanceType",
					itype != NULL ? itype : CLI_DEP_INSTANCE_TYPE);
	cJSON *sku = cJSON_AddObjectToObject(body, "sku");
	cJSON_AddStringToObject(sku, "name", "Default");
	cJSON_AddNumberToObject(sku, "capacity", (double)instances);
	return body;
too_long:
	error_set(err, 400, "BadArgument", "a model or environment reference is too long");
fail:
	cJSON_Delete(body);
	return NULL;
}

/* Sets traffic {name: 100, every other deployment in the map: 0}. */
static int cli_dep_all_traffic(struct cli *c, const struct cli_args *a, const char *ep,
			       const char *name, struct error *err)
{
	char path[400], e[200];
	cJSON *doc = NULL, *out = NULL;
	const cJSON *it;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", cli_esc(e, sizeof e, ep));
	if (client_call(c->client, "GET", path, NULL, &doc, err) < 0)
		return -1;
	cJSON *tr = cJSON_CreateObject();
	cJSON_ArrayForEach(it, cli_out_at(doc, "properties.traffic"))
	{
		if (it->string != NULL && strcmp(it->string, name) != 0)
			cJSON_AddNumberToObject(tr, it->string, 0);
	}
	cJSON_AddNumberToObject(tr, name, 100);
	int rc = cli_endpoint_set_traffic(c, a, ep, tr, NULL, &out, err);
	cJSON_Delete(tr);
	cJSON_Delete(doc);
	cJSON_Delete(out);
	return rc;
}

/* Shows the deployment after its operation; on failure its state and the
 * service's reason. */
static int cli_dep_done(struct cli *c, const char *path, const char *name, cJSON *doc, int rc,
			struct error *err)
{
	struct error why;

	if (rc == 0)
		return CLI_DEP_SHOW(c, doc);
	cJSON_Delete(doc);
	if (err->status == 0 || err->status / 100 == 4)
		return cli_fail(err);
	why = *err;
	doc = NULL;
	if (client_call(c->client, "GET", path, NULL, &doc, err) == 0)
		CLI_DEP_SHOW(c, doc);
	error_set(err, why.status, why.code, "deployment %s failed: %s: %s", name, why.code,
		  why.message);
	return cli_fail(err);
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
	char path[600], what[200];
	struct error err = {0};
	cJSON *doc = NULL;
	int rc;

	if (cli_args_get(a, "--model") == NULL)
		return cli_usage(v, "--model M:V is required");
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
	cJSON *body = cli_dep_body(c, a, inst, maxc, tmo, &err);
	if (body == NULL)
		return cli_fail(&err);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	snprintf(what, sizeof what, "deployment %s", a->pos[1]);
	rc = cli_lro(c, a, "PUT", path, body, what, &doc, &err);
	cJSON_Delete(body);
	if (rc < 0 || !cli_args_has(a, "--all-traffic"))
		return cli_dep_done(c, path, a->pos[1], doc, rc, &err);
	int saved_json = c->json;
	rc = cli_dep_done(c, path, a->pos[1], doc, rc, &err);
	c->json = saved_json;
	if (rc != CLI_OK)
		return rc;
	if (cli_dep_all_traffic(c, a, a->pos[0], a->pos[1], &err) < 0)
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
	if (cl == NULL || client_list(cl, path, &doc, &err) < 0)
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
	char path[600], msg[200], what[200];
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_args_long(a, "--instances", 1, 1000, &inst, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	if (inst == 0)
		return cli_usage(v, "--instances N is required");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "sku"), "capacity", (double)inst);
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	snprintf(what, sizeof what, "deployment %s", a->pos[1]);
	int rc = cli_lro(c, a, "PATCH", path, body, what, &doc, &err);
	cJSON_Delete(body);
	if (rc == 0 && doc == NULL && client_call(c->client, "GET", path, NULL, &doc, &err) < 0)
		rc = -1;
	return cli_dep_done(c, path, a->pos[1], doc, rc, &err);
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
	cli_dep_path(path, sizeof path, a->pos[0], a->pos[1], "");
	snprintf(what, sizeof what, "deployment %s", a->pos[1]);
	if (cli_lro(c, a, "DELETE", path, NULL, what, &doc, &err) < 0)
		return cli_fail(&err);
	cJSON_Delete(doc);
	if (!c->json)
		printf("%s deployment %s of %s.\n",
		       cli_args_has(a, "--no-wait") ? "Deleting" : "Deleted", a->pos[1], a->pos[0]);
	return CLI_OK;
}

static int cli_dep_logs(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	long lines = 100;
	char path[600], msg[200];
	struct error err = {0};
	cJSON *doc = NULL;

	const char *ct = cli_args_get(a, "--container");
	const char *type = ct == NULL || strcmp(ct, "inference-server") == 0 ? "InferenceServer"
			   : strcmp(ct, "storage-initializer") == 0  ? "StorageInitializer"
								      : NULL;

	if (cli_args_long(a, "--lines", 1, 100000, &lines, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg);
	if (type == NULL)
		return cli_usage(v, "--container must be inference-server or storage-initializer");
	struct client *cl = cli_client(c, &err);
	if (cl == NULL)
		return cli_fail(&err);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "tail", (double)lines);
	if (ct != NULL)
		cJSON_AddStringToObject(body, "containerType", type);
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
     "deployment create EP NAME --model M:V [--env E:V] [--code DIR --scoring-script FILE] "
     "[--instances N] [--instance-type SKU] [--max-concurrent N] [--timeout-ms N] "
     "[--var KEY=VALUE]... [--all-traffic] [--no-wait]",
     "create a deployment (starts at 0 % traffic) and wait until it is up; --env is needed "
     "but for an mlflow_model; --var sets an environment variable (WORKER_COUNT: Python "
     "workers per instance); on Azure --code is uploaded as a code asset and --instance-type "
     "defaults to " CLI_DEP_INSTANCE_TYPE,
     "--model= --env= --code= --scoring-script= --instances= --instance-type= "
     "--max-concurrent= --timeout-ms= --var=* --all-traffic --no-wait",
     2, 2, CLI_CHANGES},
    {"deployment", "list", cli_dep_list, "deployment list EP",
     "list the deployments of an endpoint", "", 1, 1, CLI_READS},
    {"deployment", "show", cli_dep_show, "deployment show EP NAME", "show a deployment", "", 2, 2,
     CLI_READS},
    {"deployment", "update", cli_dep_update, "deployment update EP NAME --instances N [--no-wait]",
     "change the instance count (applies live)", "--instances= --no-wait", 2, 2, CLI_CHANGES},
    {"deployment", "delete", cli_dep_delete, "deployment delete EP NAME [--yes] [--no-wait]",
     "delete a deployment without traffic (asks on a terminal; else needs --yes)",
     "--yes --no-wait", 2, 2, CLI_CHANGES},
    {"deployment", "logs", cli_dep_logs,
     "deployment logs EP NAME [--lines N] [--container inference-server|storage-initializer]",
     "print the last lines of a deployment's log (default 100; Azure: of its inference server "
     "or its storage initializer)",
     "--lines= --container=", 2, 2, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
