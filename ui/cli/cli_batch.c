/* cli_batch.c: `mldeck batch-endpoint ...`, `batch-deployment ...`, `data ...` (docs/batch.md). */
#include "ui/cli/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/scoring.h"

static const struct cli_col cli_bep_cols[] = {
    {"NAME", "name", NULL},
    {"AUTH", "properties.authMode", NULL},
    {"DEFAULT", "properties.defaults.deploymentName", NULL},
    {"STATE", "properties.provisioningState", NULL},
    {"SCORING URI", "properties.scoringUri", NULL},
};

static const struct cli_col cli_bep_detail[] = {
    {"name", "name", NULL},
    {"auth", "properties.authMode", NULL},
    {"default deployment", "properties.defaults.deploymentName", NULL},
    {"state", "properties.provisioningState", NULL},
    {"scoring uri", "properties.scoringUri", NULL},
    {"description", "properties.description", NULL},
    {"id", "id", NULL},
};

static const struct cli_col cli_bdep_cols[] = {
    {"NAME", "name", NULL},
    {"MODEL", "properties.model.assetId", cli_out_fmt_ref},
    {"MINI-BATCH", "properties.miniBatchSize", NULL},
    {"INSTANCES", "properties.resources.instanceCount", NULL},
    {"PER INSTANCE", "properties.maxConcurrencyPerInstance", NULL},
    {"OUTPUT", "properties.outputAction", NULL},
    {"STATE", "properties.provisioningState", NULL},
};

static const struct cli_col cli_bdep_detail[] = {
    {"name", "name", NULL},
    {"model", "properties.model.assetId", cli_out_fmt_ref},
    {"env", "properties.environmentId", cli_out_fmt_ref},
    {"code", "properties.codeConfiguration.codeId", NULL},
    {"scoring script", "properties.codeConfiguration.scoringScript", NULL},
    {"mini-batch size", "properties.miniBatchSize", NULL},
    {"instances", "properties.resources.instanceCount", NULL},
    {"per instance", "properties.maxConcurrencyPerInstance", NULL},
    {"output action", "properties.outputAction", NULL},
    {"output file", "properties.outputFileName", NULL},
    {"error threshold", "properties.errorThreshold", NULL},
    {"retries", "properties.retrySettings.maxRetries", NULL},
    {"timeout", "properties.retrySettings.timeout", NULL},
    {"state", "properties.provisioningState", NULL},
    {"id", "id", NULL},
};

static const struct cli_col cli_data_cols[] = {
    {"NAME", "name", NULL},
    {"TYPE", "properties.dataType", NULL},
    {"LATEST", "properties.latestVersion", NULL},
};

static const struct cli_col cli_data_detail[] = {
    {"name", "id", cli_out_fmt_ref},
    {"version", "name", NULL},
    {"type", "properties.dataType", NULL},
    {"uri", "properties.dataUri", NULL},
    {"description", "properties.description", NULL},
    {"id", "id", NULL},
};

/* One call; the answer printed as the given shape (NULL cols: key/value). */
static int cli_batch_call(struct cli *c, const char *method, const char *path, const cJSON *body,
			  const struct cli_col *cols, size_t ncols, const struct cli_col *detail,
			  size_t ndetail)
{
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	cJSON *doc = NULL;

	if (cl == NULL || client_call(cl, method, path, body, &doc, &err) < 0)
		return cli_fail(&err);
	if (doc == NULL)
		return CLI_OK;
	return cli_show(c, cols, ncols, detail, ndetail, doc);
}

/* A list, every page of it (client_list), printed as a table. */
static int cli_batch_list(struct cli *c, const char *path, const struct cli_col *cols,
			  size_t ncols)
{
	struct error err = {0};
	struct client *cl = cli_client(c, &err);
	cJSON *doc = NULL;

	if (cl == NULL || client_list(cl, path, &doc, &err) < 0)
		return cli_fail(&err);
	return cli_show(c, cols, ncols, NULL, 0, doc);
}

/* A change followed to its end as a long-running operation (cli_lro; the
 * runtime answers Azure-AsyncOperation as Azure does); what is left is
 * printed with the given shape. */
static int cli_batch_change(struct cli *c, const struct cli_args *a, const char *method,
			    const char *path, const cJSON *body, const char *what,
			    const struct cli_col *cols, size_t ncols, const struct cli_col *detail,
			    size_t ndetail)
{
	struct error err = {0};
	cJSON *doc = NULL;

	if (cli_lro(c, a, method, path, body, what, &doc, &err) < 0)
		return cli_fail(&err);
	if (doc == NULL)
		return CLI_OK;
	return cli_show(c, cols, ncols, detail, ndetail, doc);
}

#define CLI_BEP_CALL(c, m, path, body)                                                             \
	cli_batch_call(c, m, path, body, cli_bep_cols, sizeof cli_bep_cols / sizeof cli_bep_cols[0], \
		       cli_bep_detail, sizeof cli_bep_detail / sizeof cli_bep_detail[0])
#define CLI_BDEP_CALL(c, m, path, body)                                                            \
	cli_batch_call(c, m, path, body, cli_bdep_cols,                                            \
		       sizeof cli_bdep_cols / sizeof cli_bdep_cols[0], cli_bdep_detail,            \
		       sizeof cli_bdep_detail / sizeof cli_bdep_detail[0])
#define CLI_BEP_CHANGE(c, a, m, path, body, what)                                                  \
	cli_batch_change(c, a, m, path, body, what, cli_bep_cols,                                  \
			 sizeof cli_bep_cols / sizeof cli_bep_cols[0], cli_bep_detail,             \
			 sizeof cli_bep_detail / sizeof cli_bep_detail[0])
#define CLI_BDEP_CHANGE(c, a, m, path, body, what)                                                 \
	cli_batch_change(c, a, m, path, body, what, cli_bdep_cols,                                 \
			 sizeof cli_bdep_cols / sizeof cli_bdep_cols[0], cli_bdep_detail,          \
			 sizeof cli_bdep_detail / sizeof cli_bdep_detail[0])

static const char *cli_bep_path(char *buf, size_t len, const char *ep, const char *dep,
				const char *suffix)
{
	char e1[200], e2[200];

	snprintf(buf, len, "/batchEndpoints/%s%s%s%s", cli_esc(e1, sizeof e1, ep),
		 dep != NULL ? "/deployments/" : "", dep != NULL ? cli_esc(e2, sizeof e2, dep) : "",
		 suffix);
	return buf;
}

/* A path on the runtime's host: made absolute when it exists here (the
 * runtime is local), else kept as given (a remote runtime's own path). */
static void cli_batch_host_path(const char *in, char *out, size_t len)
{
	char abs[PATH_MAX];

	if (strchr(in, ':') == NULL && realpath(in, abs) != NULL)
		snprintf(out, len, "%s", abs);
	else
		snprintf(out, len, "%s", in);
}

/* ---- batch-endpoint ----------------------------------------------------- */

static int cli_bep_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400], loc[64], what[160];
	struct error err = {0};
	cJSON *body, *p;
	int rc;

	(void)v;
	if (cli_location(c, loc, sizeof loc, &err) < 0)
		return cli_fail(&err);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "location", loc);
	p = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(p, "authMode", "AADToken");
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(p, "description", cli_args_get(a, "--description"));
	snprintf(what, sizeof what, "batch endpoint %s", a->pos[0]);
	rc = CLI_BEP_CHANGE(c, a, "PUT", cli_bep_path(path, sizeof path, a->pos[0], NULL, ""), body,
			    what);
	cJSON_Delete(body);
	return rc;
}

static int cli_bep_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v, (void)a;
	return cli_batch_list(c, "/batchEndpoints", cli_bep_cols,
			      sizeof cli_bep_cols / sizeof cli_bep_cols[0]);
}

static int cli_bep_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400];

	(void)v;
	return CLI_BEP_CALL(c, "GET", cli_bep_path(path, sizeof path, a->pos[0], NULL, ""), NULL);
}

static int cli_bep_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400], what[160];
	int rc;

	snprintf(what, sizeof what, "batch endpoint %s and its deployments", a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	snprintf(what, sizeof what, "batch endpoint %s", a->pos[0]);
	rc = CLI_BEP_CHANGE(c, a, "DELETE", cli_bep_path(path, sizeof path, a->pos[0], NULL, ""),
			    NULL, what);
	if (rc == CLI_OK && !c->json)
		printf("Deleted batch endpoint %s.\n", a->pos[0]);
	return rc;
}

static int cli_bep_keys(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400];

	(void)v;
	return cli_batch_call(c, "POST", cli_bep_path(path, sizeof path, a->pos[0], NULL, "/listkeys"),
			      NULL, NULL, 0, NULL, 0);
}

/* The settings flags shared by deployments and invocations, into obj. -1 on a
 * bad value (the usage printed). */
static int cli_batch_settings(const struct cli_verb *v, const struct cli_args *a, cJSON *p,
			      int invoke)
{
	static const struct {
		const char *flag, *key;
		long lo, hi;
	} ints[] = {
	    {"--mini-batch-size", "miniBatchSize", 1, 100000},
	    {"--max-concurrency-per-instance", "maxConcurrencyPerInstance", 1, 64},
	    {"--error-threshold", "errorThreshold", -1, 2147483647L},
	};
	char msg[200], iso[32];
	long n;

	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		n = LONG_MIN;
		if (cli_args_long(a, ints[i].flag, ints[i].lo, ints[i].hi, &n, msg, sizeof msg) < 0)
			return cli_usage(v, "%s", msg), -1;
		if (n != LONG_MIN)
			cJSON_AddNumberToObject(p, ints[i].key, (double)n);
	}
	n = LONG_MIN;
	if (cli_args_long(a, "--instance-count", 1, 64, &n, msg, sizeof msg) < 0)
		return cli_usage(v, "%s", msg), -1;
	if (n != LONG_MIN)
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(p, invoke ? "compute" : "resources"),
					"instanceCount", (double)n);
	cJSON *rs = cJSON_CreateObject();
	n = LONG_MIN;
	if (cli_args_long(a, "--max-retries", 0, 100, &n, msg, sizeof msg) < 0) {
		cJSON_Delete(rs);
		return cli_usage(v, "%s", msg), -1;
	}
	if (n != LONG_MIN)
		cJSON_AddNumberToObject(rs, "maxRetries", (double)n);
	n = LONG_MIN;
	if (cli_args_long(a, "--timeout", 1, 86400, &n, msg, sizeof msg) < 0) {
		cJSON_Delete(rs);
		return cli_usage(v, "%s", msg), -1;
	}
	if (n != LONG_MIN) {
		snprintf(iso, sizeof iso, "PT%ldS", n);
		cJSON_AddStringToObject(rs, "timeout", iso);
	}
	if (cJSON_GetArraySize(rs) > 0)
		cJSON_AddItemToObject(p, "retrySettings", rs);
	else
		cJSON_Delete(rs);
	if (cli_args_get(a, "--output-file-name") != NULL)
		cJSON_AddStringToObject(p, "outputFileName", cli_args_get(a, "--output-file-name"));
	return 0;
}

static int cli_bep_invoke(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *input = cli_args_get(a, "--input"), *type = cli_args_get(a, "--input-type");
	char uri[PATH_MAX + 16], outdir[PATH_MAX], *answer = NULL, chosen[64];
	struct scoring_target t;
	struct error err = {0};
	struct stat st;
	cJSON *body, *p, *in, *doc;
	size_t alen = 0;
	int status, rc;

	if (input == NULL)
		return cli_usage(v, "--input is required (a folder, a file, azureml:DATA:V or "
				    "azureml://datastores/workspaceblobstore/paths/P)");
	if (type != NULL && strcmp(type, "uri_folder") != 0 && strcmp(type, "uri_file") != 0)
		return cli_usage(v, "--input-type must be uri_folder or uri_file");
	cli_batch_host_path(input, uri, sizeof uri);
	if (type == NULL)
		type = stat(uri, &st) == 0 && S_ISREG(st.st_mode) ? "uri_file" : "uri_folder";
	body = cJSON_CreateObject();
	p = cJSON_AddObjectToObject(body, "properties");
	in = cJSON_AddObjectToObject(cJSON_AddObjectToObject(p, "InputData"), "input_data");
	cJSON_AddStringToObject(in, "JobInputType", strcmp(type, "uri_file") == 0 ? "UriFile"
										   : "UriFolder");
	cJSON_AddStringToObject(in, "Uri", uri);
	if (cli_args_get(a, "--output-path") != NULL) {
		cli_batch_host_path(cli_args_get(a, "--output-path"), outdir, sizeof outdir);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(p, "OutputData"),
							       "score"),
					"Uri", outdir);
	}
	if (cli_batch_settings(v, a, p, 1) < 0) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	struct client *cl = cli_client(c, &err);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (cl == NULL || scoring_batch_target(cl, a->pos[0], &t, &err) < 0) {
		free(text);
		return cli_fail(&err);
	}
	rc = client_score(cl, t.url, t.credential, cli_args_get(a, "--deployment-name"), text,
			  strlen(text), &status, &answer, &alen, chosen, sizeof chosen, NULL, &err);
	scoring_target_cleanup(&t);
	free(text);
	if (rc < 0)
		return cli_fail(&err);
	doc = answer != NULL ? cJSON_ParseWithLength(answer, alen) : NULL;
	free(answer);
	if (status != 201) {
		const char *m = cJSON_GetStringValue(cli_out_at(doc, "error.message"));

		error_set(&err, status, "InvokeFailed", "%s", m != NULL ? m : "the invocation failed");
		cJSON_Delete(doc);
		return cli_fail(&err);
	}
	if (cli_args_has(a, "--stream")) {
		char name[300];

		snprintf(name, sizeof name, "%s", cJSON_GetStringValue(cli_out_at(doc, "name")));
		cJSON_Delete(doc);
		return cli_job_stream_name(c, name);
	}
	return cli_job_print(c, doc);
}

/* ---- batch-deployment --------------------------------------------------- */

/* The body of a batch deployment; models, environments and code are named
 * as an online deployment names them (cli_asset_ref, cli_code_ref). NULL
 * with err (a usage error when err->status is 0). */
static cJSON *cli_bdep_body(struct cli *c, const struct cli_verb *v, const struct cli_args *a,
			    struct error *err)
{
	const char *action = cli_args_get(a, "--output-action");
	char ref[1200];
	cJSON *body = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(body, "properties");

	if (cli_args_get(a, "--model") != NULL) {
		if (cli_asset_ref(c->client, "models", cli_args_get(a, "--model"), ref, sizeof ref) < 0)
			goto too_long;
		cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "model"), "assetId", ref);
	}
	if (cli_args_get(a, "--env") != NULL) {
		if (cli_asset_ref(c->client, "environments", cli_args_get(a, "--env"), ref,
				  sizeof ref) < 0)
			goto too_long;
		cJSON_AddStringToObject(p, "environmentId", ref);
	}
	if (cli_args_get(a, "--code") != NULL) {
		cJSON *cc = cJSON_AddObjectToObject(p, "codeConfiguration");

		if (cli_code_ref(c, cli_args_get(a, "--code"), ref, sizeof ref, err) < 0) {
			cJSON_Delete(body);
			return NULL;
		}
		cJSON_AddStringToObject(cc, "codeId", ref);
		if (cli_args_get(a, "--scoring-script") != NULL)
			cJSON_AddStringToObject(cc, "scoringScript", cli_args_get(a, "--scoring-script"));
	}
	for (int k = 0; cli_args_nth(a, "--var", k) != NULL; k++) {
		const char *kv = cli_args_nth(a, "--var", k), *eq = strchr(kv, '=');
		cJSON *vars = cJSON_GetObjectItem(p, "environmentVariables");
		char key[128];

		if (vars == NULL)
			vars = cJSON_AddObjectToObject(p, "environmentVariables");
		if (eq == NULL || eq == kv) {
			cli_usage(v, "--var wants KEY=VALUE, not \"%s\"", kv);
			cJSON_Delete(body);
			return NULL;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
		cJSON_AddStringToObject(vars, key, eq + 1);
	}
	if (action != NULL) {
		if (strcmp(action, "append_row") != 0 && strcmp(action, "summary_only") != 0) {
			cli_usage(v, "--output-action must be append_row or summary_only");
			cJSON_Delete(body);
			return NULL;
		}
		cJSON_AddStringToObject(p, "outputAction", action);
	}
	if (cli_batch_settings(v, a, p, 0) < 0) {
		cJSON_Delete(body);
		return NULL;
	}
	return body;
too_long:
	cJSON_Delete(body);
	cli_usage(v, "a reference is too long");
	return NULL;
}

/* PATCH the endpoint so that its invocations go to this deployment. */
static int cli_bdep_set_default(struct cli *c, const struct cli_args *a, const char *ep,
				const char *dep, struct error *err)
{
	char path[400], what[160];
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	int rc;

	cJSON_AddStringToObject(
	    cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "properties"), "defaults"),
	    "deploymentName", dep);
	snprintf(what, sizeof what, "default deployment of %s", ep);
	rc = cli_lro(c, a, "PATCH", cli_bep_path(path, sizeof path, ep, NULL, ""), body, what, &out,
		     err);
	cJSON_Delete(body);
	cJSON_Delete(out);
	return rc;
}

static int cli_bdep_write(struct cli *c, const struct cli_verb *v, const struct cli_args *a,
			  const char *method)
{
	char path[600], what[160];
	struct error err = {0};
	cJSON *body, *doc = NULL;

	if (strcmp(method, "PUT") == 0 && cli_args_get(a, "--model") == NULL)
		return cli_usage(v, "--model is required (NAME:VERSION)");
	if (cli_args_get(a, "--code") != NULL && cli_args_get(a, "--scoring-script") == NULL)
		return cli_usage(v, "--code needs --scoring-script");
	if (cli_client(c, &err) == NULL)
		return cli_fail(&err);
	body = cli_bdep_body(c, v, a, &err);
	if (body == NULL)
		return err.status ? cli_fail(&err) : CLI_USAGE;
	snprintf(what, sizeof what, "batch deployment %s of %s", a->pos[1], a->pos[0]);
	if (cli_lro(c, a, method, cli_bep_path(path, sizeof path, a->pos[0], a->pos[1], ""), body,
		    what, &doc, &err) < 0 ||
	    (cli_args_has(a, "--set-default") &&
	     cli_bdep_set_default(c, a, a->pos[0], a->pos[1], &err) < 0)) {
		cJSON_Delete(body);
		cJSON_Delete(doc);
		return cli_fail(&err);
	}
	cJSON_Delete(body);
	return CLI_SHOW(c, cli_bdep_cols, cli_bdep_detail, doc);
}

static int cli_bdep_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	return cli_bdep_write(c, v, a, "PUT");
}

static int cli_bdep_update(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	return cli_bdep_write(c, v, a, "PATCH");
}

static int cli_bdep_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[400];

	(void)v;
	return cli_batch_list(c, cli_bep_path(path, sizeof path, a->pos[0], NULL, "/deployments"),
			      cli_bdep_cols, sizeof cli_bdep_cols / sizeof cli_bdep_cols[0]);
}

static int cli_bdep_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[600];

	(void)v;
	return CLI_BDEP_CALL(c, "GET", cli_bep_path(path, sizeof path, a->pos[0], a->pos[1], ""),
			     NULL);
}

static int cli_bdep_delete(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char path[600], what[160];
	int rc;

	snprintf(what, sizeof what, "batch deployment %s of %s", a->pos[1], a->pos[0]);
	if ((rc = cli_confirm(v, a, what)) != CLI_OK)
		return rc;
	snprintf(what, sizeof what, "batch deployment %s of %s", a->pos[1], a->pos[0]);
	rc = CLI_BDEP_CHANGE(c, a, "DELETE",
			     cli_bep_path(path, sizeof path, a->pos[0], a->pos[1], ""), NULL, what);
	if (rc == CLI_OK && !c->json)
		printf("Deleted batch deployment %s of %s.\n", a->pos[1], a->pos[0]);
	return rc;
}

/* ---- data --------------------------------------------------------------- */

static int cli_data_create(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	const char *type = cli_args_get(a, "--type"), *ver = cli_args_get(a, "--version");
	char path[600], e1[300], e2[100], where[PATH_MAX + 16];
	struct stat st;
	cJSON *body, *p;
	int rc;

	if (cli_args_get(a, "--path") == NULL)
		return cli_usage(v, "--path is required (a file or folder, or azureml://...)");
	if (type != NULL && strcmp(type, "uri_folder") != 0 && strcmp(type, "uri_file") != 0)
		return cli_usage(v, "--type must be uri_folder or uri_file");
	cli_batch_host_path(cli_args_get(a, "--path"), where, sizeof where);
	if (type == NULL)
		type = stat(where, &st) == 0 && S_ISREG(st.st_mode) ? "uri_file" : "uri_folder";
	body = cJSON_CreateObject();
	p = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(p, "dataType", type);
	cJSON_AddStringToObject(p, "dataUri", where);
	if (cli_args_get(a, "--description") != NULL)
		cJSON_AddStringToObject(p, "description", cli_args_get(a, "--description"));
	if (ver != NULL)
		snprintf(path, sizeof path, "/data/%s/versions/%s", cli_esc(e1, sizeof e1, a->pos[0]),
			 cli_esc(e2, sizeof e2, ver));
	else
		snprintf(path, sizeof path, "/data/%s/versions", cli_esc(e1, sizeof e1, a->pos[0]));
	rc = cli_batch_call(c, ver != NULL ? "PUT" : "POST", path, body, NULL, 0, cli_data_detail,
			    sizeof cli_data_detail / sizeof cli_data_detail[0]);
	cJSON_Delete(body);
	return rc;
}

static int cli_data_list(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	(void)v, (void)a;
	return cli_batch_list(c, "/data", cli_data_cols,
			      sizeof cli_data_cols / sizeof cli_data_cols[0]);
}

static int cli_data_show(struct cli *c, const struct cli_verb *v, const struct cli_args *a)
{
	char name[300], ver[100], path[600], e1[300], e2[100];

	if (cli_split_ref(a->pos[0], name, sizeof name, ver, sizeof ver) < 0)
		return cli_usage(v, "NAME or NAME:VERSION");
	if (ver[0] == '\0') {
		snprintf(path, sizeof path, "/data/%s/versions", cli_esc(e1, sizeof e1, name));
		return cli_batch_list(c, path, cli_data_detail,
				      sizeof cli_data_detail / sizeof cli_data_detail[0]);
	}
	snprintf(path, sizeof path, "/data/%s/versions/%s", cli_esc(e1, sizeof e1, name),
		 cli_esc(e2, sizeof e2, ver));
	return cli_batch_call(c, "GET", path, NULL, cli_data_detail,
			      sizeof cli_data_detail / sizeof cli_data_detail[0], cli_data_detail,
			      sizeof cli_data_detail / sizeof cli_data_detail[0]);
}

#define CLI_SETTINGS_OPTS                                                                          \
	"--mini-batch-size= --instance-count= --max-concurrency-per-instance= --max-retries= "     \
	"--timeout= --error-threshold= --output-file-name="
#define CLI_SETTINGS_USAGE                                                                         \
	"[--mini-batch-size N] [--instance-count N] [--max-concurrency-per-instance N] "           \
	"[--max-retries N] [--timeout SECONDS] [--error-threshold N] [--output-file-name FILE]"

const struct cli_verb cli_batch_verbs[] = {
    {"batch-endpoint", "create", cli_bep_create, "batch-endpoint create NAME [--description TEXT]",
     "create (or update) a batch endpoint", "--description=", 1, 1, CLI_CHANGES},
    {"batch-endpoint", "list", cli_bep_list, "batch-endpoint list", "list batch endpoints", "", 0,
     0, CLI_READS},
    {"batch-endpoint", "show", cli_bep_show, "batch-endpoint show NAME",
     "show a batch endpoint, its default deployment and scoring URI", "", 1, 1, CLI_READS},
    {"batch-endpoint", "delete", cli_bep_delete, "batch-endpoint delete NAME [--yes]",
     "delete a batch endpoint and its deployments (its jobs stay)", "--yes", 1, 1, CLI_CHANGES},
    {"batch-endpoint", "keys", cli_bep_keys, "batch-endpoint keys NAME",
     "print the batch endpoint's keys (for POST {scoringUri})", "", 1, 1, CLI_READS},
    {"batch-endpoint", "invoke", cli_bep_invoke,
     "batch-endpoint invoke NAME --input PATH|URI [--input-type uri_folder|uri_file] "
     "[--deployment-name D] [--output-path DIR] " CLI_SETTINGS_USAGE " [--stream]",
     "start a batch job on a folder or file of the runtime's host, a data asset "
     "(azureml:NAME:V) or a datastore path (azureml://datastores/...); --stream: follow it",
     "--input= --input-type= --deployment-name= --output-path= --stream " CLI_SETTINGS_OPTS, 1, 1,
     CLI_CHANGES},
    {"batch-deployment", "create", cli_bdep_create,
     "batch-deployment create EP NAME --model M:V [--env E:V --code DIR --scoring-script FILE] "
     "[--output-action append_row|summary_only] " CLI_SETTINGS_USAGE " [--var KEY=VALUE]... "
     "[--set-default]",
     "create (or replace) a batch deployment; --set-default makes invocations use it",
     "--model= --env= --code= --scoring-script= --output-action= --var=* --set-default "
     CLI_SETTINGS_OPTS,
     2, 2, CLI_CHANGES},
    {"batch-deployment", "update", cli_bdep_update,
     "batch-deployment update EP NAME [--model M:V] [--output-action A] " CLI_SETTINGS_USAGE
     " [--set-default]",
     "change a batch deployment's settings (what is not named stays)",
     "--model= --env= --code= --scoring-script= --output-action= --var=* --set-default "
     CLI_SETTINGS_OPTS,
     2, 2, CLI_CHANGES},
    {"batch-deployment", "list", cli_bdep_list, "batch-deployment list EP",
     "list a batch endpoint's deployments", "", 1, 1, CLI_READS},
    {"batch-deployment", "show", cli_bdep_show, "batch-deployment show EP NAME",
     "show a batch deployment's settings", "", 2, 2, CLI_READS},
    {"batch-deployment", "delete", cli_bdep_delete, "batch-deployment delete EP NAME [--yes]",
     "delete a batch deployment (not the default one)", "--yes", 2, 2, CLI_CHANGES},
    {"data", "create", cli_data_create,
     "data create NAME --path PATH [--type uri_folder|uri_file] [--version V] "
     "[--description TEXT]",
     "register a data asset: a folder or file on the runtime's host (or azureml://...)",
     "--path= --type= --version= --description=", 1, 1, CLI_CHANGES},
    {"data", "list", cli_data_list, "data list", "list data assets", "", 0, 0, CLI_READS},
    {"data", "show", cli_data_show, "data show NAME[:VERSION]",
     "show a data asset's versions (or one)", "", 1, 1, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};
