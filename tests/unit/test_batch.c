/*
 * test_batch.c: the batch side of the workspace: Azure's defaults, the job
 * state machine and errorThreshold, the rules between batch endpoints,
 * deployments, models, jobs and data, the invocation body (any key case),
 * and a store round trip of every batch kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/batch.h"
#include "state/batchcodec.h"
#include "state/codec.h"
#include "state/store.h"

static void test_defaults(void **state)
{
	struct batch_settings s;
	struct error err = {0};

	(void)state;
	batch_settings_default(&s);
	assert_int_equal(s.mini_batch_size, 10);
	assert_int_equal(s.instance_count, 1);
	assert_int_equal(s.max_concurrency, 1);
	assert_int_equal(s.max_retries, 3);
	assert_int_equal(s.timeout_ms, 30000);
	assert_int_equal(s.error_threshold, -1);
	assert_int_equal(s.output_action, BATCH_APPEND_ROW);
	assert_string_equal(s.output_file, "predictions.csv");
	assert_int_equal(s.logging, BATCH_LOG_INFO);
	assert_int_equal(batch_settings_check(&s, &err), 0);
}

static void test_overrides(void **state)
{
	static const char *const bad_names[] = {"", ".", "..", "a/b", "a\\b", "x\ny"};
	struct batch_settings s;
	struct job_overrides o;
	struct error err = {0};

	(void)state;
	batch_settings_default(&s);
	memset(&o, 0, sizeof o);
	o.has_mini_batch_size = 1;
	o.mini_batch_size = 3;
	o.has_error_threshold = 1;
	o.error_threshold = 5;
	snprintf(o.output_file, sizeof o.output_file, "out.csv");
	assert_int_equal(job_settings_apply(&s, &o, &err), 0);
	assert_int_equal(s.mini_batch_size, 3);
	assert_int_equal(s.error_threshold, 5);
	assert_string_equal(s.output_file, "out.csv");
	assert_int_equal(s.max_retries, 3);
	o.mini_batch_size = 0;
	assert_int_equal(job_settings_apply(&s, &o, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(s.mini_batch_size, 3); /* unchanged on failure */
	o.mini_batch_size = 1;
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		snprintf(o.output_file, sizeof o.output_file, "%s", bad_names[i]);
		if (bad_names[i][0] == '\0')
			continue; /* "" keeps the name */
		assert_int_equal(job_settings_apply(&s, &o, &err), -1);
	}
	assert_int_equal(job_workers(&s), 1);
}

static void test_threshold(void **state)
{
	static const struct {
		int threshold;
		int64_t failed;
		int exceeded;
	} cases[] = {
	    {-1, 0, 0}, {-1, 1000000, 0}, {0, 0, 0}, {0, 1, 1}, {5, 5, 0}, {5, 6, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(job_threshold_exceeded(cases[i].threshold, cases[i].failed),
				 cases[i].exceeded);
}

static void test_job_states(void **state)
{
	static const struct {
		enum job_status from, to;
		int ok;
	} cases[] = {
	    {JOB_QUEUED, JOB_PREPARING, 1},	      {JOB_PREPARING, JOB_RUNNING, 1},
	    {JOB_RUNNING, JOB_FINALIZING, 1},	      {JOB_FINALIZING, JOB_COMPLETED, 1},
	    {JOB_RUNNING, JOB_FAILED, 1},	      {JOB_RUNNING, JOB_CANCEL_REQUESTED, 1},
	    {JOB_CANCEL_REQUESTED, JOB_CANCELED, 1},  {JOB_QUEUED, JOB_CANCELED, 1},
	    {JOB_RUNNING, JOB_QUEUED, 1}, /* a restart resumes */
	    {JOB_COMPLETED, JOB_RUNNING, 0},	      {JOB_FAILED, JOB_QUEUED, 0},
	    {JOB_CANCELED, JOB_COMPLETED, 0},	      {JOB_QUEUED, JOB_COMPLETED, 0},
	    {JOB_RUNNING, JOB_COMPLETED, 0},	      {JOB_CANCEL_REQUESTED, JOB_RUNNING, 0},
	};
	enum job_status st;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct error err = {0};
		int rc = job_transition(cases[i].from, cases[i].to, &err);

		assert_int_equal(rc == 0, cases[i].ok);
		if (!cases[i].ok)
			assert_int_equal(err.status, 409);
	}
	for (int s = JOB_NOT_STARTED; s <= JOB_UNKNOWN; s++) {
		assert_int_equal(job_status_parse(job_status_name(s), &st), 0);
		assert_int_equal(st, s);
		assert_false(job_status_terminal(s) && job_status_active(s));
	}
	assert_int_equal(job_status_parse("completed", &st), 0);
	assert_int_equal(st, JOB_COMPLETED);
}

static void add_model(struct workspace *ws, const char *name, enum model_type type)
{
	struct model_version m;

	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.version, sizeof m.version, "1");
	m.type = type;
	m.artifact = (char *)"models/x/1/model.json";
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
}

static void add_endpoint(struct workspace *ws, const char *name, const char *def)
{
	struct batch_endpoint ep;

	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "%s", name);
	snprintf(ep.default_deployment, sizeof ep.default_deployment, "%s", def);
	snprintf(ep.primary_key, sizeof ep.primary_key, "key-%s", name);
	ep.auth = AUTH_AADTOKEN;
	assert_int_equal(batch_endpoint_put(ws, &ep, NULL, NULL), 0);
}

static int put_deployment(struct workspace *ws, const char *ep, const char *name,
			  const char *model, struct error *err)
{
	struct batch_deployment d;

	memset(&d, 0, sizeof d);
	snprintf(d.endpoint, sizeof d.endpoint, "%s", ep);
	snprintf(d.name, sizeof d.name, "%s", name);
	snprintf(d.model_name, sizeof d.model_name, "%s", model);
	snprintf(d.model_version, sizeof d.model_version, "1");
	batch_settings_default(&d.settings);
	return batch_deployment_put(ws, &d, NULL, err);
}

static void make_job(struct job *j, const char *name, const char *ep, const char *dep,
		     enum job_status st)
{
	memset(j, 0, sizeof *j);
	snprintf(j->name, sizeof j->name, "%s", name);
	snprintf(j->endpoint, sizeof j->endpoint, "%s", ep);
	snprintf(j->deployment, sizeof j->deployment, "%s", dep);
	snprintf(j->input_name, sizeof j->input_name, "input1");
	batch_settings_default(&j->settings);
	j->status = st;
	j->input_uri = (char *)"/data/in";
	j->created = 1700000000;
}

/* A workspace with models lin and cus (custom), batch endpoint be1 (default
 * blue) with deployments blue and green. */
static struct workspace *fixture(void)
{
	struct workspace *ws = workspace_new("local");
	struct error err = {0};

	add_model(ws, "lin", MODEL_LINEAR);
	add_model(ws, "cus", MODEL_CUSTOM);
	add_endpoint(ws, "be1", "blue");
	assert_int_equal(put_deployment(ws, "be1", "blue", "lin", &err), 0);
	assert_int_equal(put_deployment(ws, "be1", "green", "lin", &err), 0);
	return ws;
}

static void test_batch_rules(void **state)
{
	struct workspace *ws = fixture();
	struct error err = {0};
	struct job j;

	(void)state;
	/* references and types */
	assert_int_equal(put_deployment(ws, "nope", "blue", "lin", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(put_deployment(ws, "be1", "red", "missing", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(put_deployment(ws, "be1", "red", "cus", &err), -1);
	assert_int_equal(err.status, 400); /* custom_model needs an environment and code */
	assert_int_equal(put_deployment(ws, "be1", "x", "lin", &err), -1);
	assert_int_equal(err.status, 400); /* name too short */
	/* the default deployment stays */
	assert_int_equal(batch_deployment_delete(ws, "be1", "blue", &err), -1);
	assert_int_equal(err.status, 409);
	/* models in use stay */
	assert_int_equal(workspace_model_delete(ws, "lin", "1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "batch endpoint"));
	/* an active job holds its deployment and endpoint */
	make_job(&j, "job-1", "be1", "green", JOB_RUNNING);
	assert_int_equal(batch_job_put(ws, &j, &err), 0);
	assert_int_equal(batch_job_put(ws, &j, &err), 0); /* same status: fine */
	assert_int_equal(batch_deployment_delete(ws, "be1", "green", &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(batch_endpoint_delete(ws, "be1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(batch_job_delete(ws, "job-1", &err), -1);
	j.status = JOB_COMPLETED; /* Running -> Completed skips Finalizing */
	assert_int_equal(batch_job_put(ws, &j, &err), -1);
	assert_int_equal(err.status, 409);
	j.status = JOB_FINALIZING;
	assert_int_equal(batch_job_put(ws, &j, &err), 0);
	j.status = JOB_COMPLETED;
	assert_int_equal(batch_job_put(ws, &j, &err), 0);
	/* a monitor run of an online deployment that shares the names holds nothing */
	make_job(&j, "mon-run", "be1", "green", JOB_RUNNING);
	j.kind = JOB_KIND_MONITOR;
	assert_int_equal(batch_job_put(ws, &j, &err), 0);
	assert_int_equal(batch_deployment_delete(ws, "be1", "green", &err), 0);
	/* deleting the endpoint takes its deployments; the job stays */
	assert_int_equal(batch_endpoint_delete(ws, "be1", &err), 0);
	assert_null(batch_deployment_find(ws, "be1", "blue"));
	assert_non_null(batch_job_find(ws, "job-1"));
	assert_int_equal(workspace_model_delete(ws, "lin", "1", &err), 0);
	workspace_free(ws);
}

/* A python environment py:1 and a code asset src:1 (a folder of the home). */
static void add_script_assets(struct workspace *ws)
{
	struct env_version e;
	struct code_version cv;

	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "py");
	snprintf(e.version, sizeof e.version, "1");
	e.kind = ENV_PYTHON;
	e.python = (char *)"/usr/bin/python3";
	assert_int_equal(workspace_env_put(ws, &e, NULL, NULL), 0);
	memset(&cv, 0, sizeof cv);
	snprintf(cv.name, sizeof cv.name, "src");
	snprintf(cv.version, sizeof cv.version, "1");
	cv.dir = (char *)"blobs/c/src";
	cv.code_uri = (char *)"azureml://datastores/workspaceblobstore/paths/src/";
	assert_int_equal(workspace_code_put(ws, &cv, NULL, NULL), 0);
}

/* A custom_model deployment NAME of be1 whose codeId is code, parsed from
 * Azure's body; the put's result. */
static int put_scripted(struct workspace *ws, const char *name, const char *code,
			struct error *err)
{
	char text[1024];
	struct batch_deployment d;
	cJSON *body;
	int rc;

	snprintf(text, sizeof text,
		 "{\"properties\":{\"model\":\"azureml:cus:1\",\"environmentId\":"
		 "\"azureml:py:1\",\"codeConfiguration\":{\"codeId\":\"%s\","
		 "\"scoringScript\":\"score.py\"}}}",
		 code);
	body = cJSON_Parse(text);
	memset(&d, 0, sizeof d);
	snprintf(d.endpoint, sizeof d.endpoint, "be1");
	snprintf(d.name, sizeof d.name, "%s", name);
	batch_settings_default(&d.settings);
	rc = batchcodec_deployment_from_json(body, &d, err);
	if (rc == 0)
		rc = batch_deployment_put(ws, &d, NULL, err);
	batch_deployment_cleanup(&d);
	cJSON_Delete(body);
	return rc;
}

#define WS_ID                                                                              \
	"/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/"  \
	"workspaces/local"

/* codeId: a code asset (ARM id or azureml:N:V) as online deployments take
 * it, or a host directory; a used code version stays. */
static void test_code_assets(void **state)
{
	static const struct codec_ctx ctx = {WS_ID, "", "", ""};
	struct workspace *ws = fixture();
	struct error err = {0};
	struct code_version cv;
	const struct batch_deployment *d;
	struct batch_deployment nat;
	cJSON *j;

	(void)state;
	add_script_assets(ws);
	assert_int_equal(put_scripted(ws, "arm", WS_ID "/codes/src/versions/1", &err), 0);
	d = batch_deployment_find(ws, "be1", "arm");
	assert_string_equal(d->code_name, "src");
	assert_string_equal(d->code_version, "1");
	assert_null(d->code_dir);
	j = batchcodec_deployment_to_json(d, &ctx);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
		"properties"), "codeConfiguration"), "codeId")->valuestring,
			    WS_ID "/codes/src/versions/1");
	cJSON_Delete(j);
	assert_int_equal(put_scripted(ws, "short", "azureml:src:1", &err), 0);
	assert_int_equal(put_scripted(ws, "hostdir", "/srv/code", &err), 0);
	d = batch_deployment_find(ws, "be1", "hostdir");
	assert_string_equal(d->code_dir, "/srv/code");
	assert_string_equal(d->code_name, "");
	/* refusals: the online path's answers */
	assert_int_equal(put_scripted(ws, "gone", "azureml:src:9", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(put_scripted(ws, "relative", "src/dir", &err), -1);
	assert_int_equal(err.status, 400);
	/* a native model takes no code, asset or not */
	memset(&nat, 0, sizeof nat);
	snprintf(nat.endpoint, sizeof nat.endpoint, "be1");
	snprintf(nat.name, sizeof nat.name, "native");
	snprintf(nat.model_name, sizeof nat.model_name, "lin");
	snprintf(nat.model_version, sizeof nat.model_version, "1");
	snprintf(nat.code_name, sizeof nat.code_name, "src");
	snprintf(nat.code_version, sizeof nat.code_version, "1");
	batch_settings_default(&nat.settings);
	assert_int_equal(batch_deployment_put(ws, &nat, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	/* a used code version stays, and keeps its folder */
	assert_int_equal(workspace_code_delete(ws, "src", "1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "batch endpoint"));
	assert_int_equal(workspace_code_delete(ws, "src", NULL, &err), -1);
	assert_int_equal(err.status, 409);
	memset(&cv, 0, sizeof cv);
	snprintf(cv.name, sizeof cv.name, "src");
	snprintf(cv.version, sizeof cv.version, "1");
	cv.dir = (char *)"blobs/c/other";
	assert_int_equal(workspace_code_put(ws, &cv, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	/* once no deployment uses it, it goes */
	assert_int_equal(batch_deployment_delete(ws, "be1", "arm", &err), 0);
	assert_int_equal(workspace_code_delete(ws, "src", "1", &err), -1);
	assert_int_equal(batch_deployment_delete(ws, "be1", "short", &err), 0);
	assert_int_equal(workspace_code_delete(ws, "src", "1", &err), 0);
	workspace_free(ws);
}

static void test_data_versions(void **state)
{
	struct workspace *ws = workspace_new("local");
	const struct data_version **vs;
	struct asset_query archived = {VIEW_ARCHIVED, ORDER_NAME, 0};
	struct data_version d;
	struct error err = {0};
	int created = 0;

	(void)state;
	memset(&d, 0, sizeof d);
	snprintf(d.name, sizeof d.name, "customers_2024");
	d.type = DATA_URI_FOLDER;
	d.uri = (char *)"/srv/data";
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), 0);
	assert_true(created);
	assert_string_equal(d.version, "1");
	d.version[0] = '\0';
	d.created = 5;
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), 0);
	assert_string_equal(d.version, "2");
	assert_string_equal(workspace_data_find(ws, "customers_2024", NULL)->version, "2");
	/* the models' rules: string versions, latest = last registered on a tie */
	snprintf(d.version, sizeof d.version, "2024.06");
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), 0);
	assert_string_equal(workspace_data_find(ws, "customers_2024", NULL)->version, "2024.06");
	snprintf(d.version, sizeof d.version, "a..b");
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), -1);
	assert_int_equal(err.status, 400);
	snprintf(d.version, sizeof d.version, "1");
	d.archived = 1;
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), 0);
	assert_false(created);
	assert_int_equal(workspace_data_query(ws, "customers_2024", &archived, &vs), 1);
	assert_string_equal(vs[0]->version, "1");
	free(vs);
	d.uri = NULL;
	assert_int_equal(workspace_data_put(ws, &d, &created, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(workspace_data_delete(ws, "customers_2024", "2024.06", &err), 0);
	assert_string_equal(workspace_data_find(ws, "customers_2024", NULL)->version, "2");
	assert_int_equal(workspace_data_delete(ws, "customers_2024", NULL, &err), 0);
	assert_null(workspace_data_find(ws, "customers_2024", NULL));
	assert_int_equal(workspace_data_delete(ws, "customers_2024", NULL, &err), -1);
	assert_int_equal(err.status, 404);
	workspace_free(ws);
}

static void test_invocation_any_case(void **state)
{
	static const char *const bodies[] = {
	    "{\"properties\":{\"InputData\":{\"heart_data\":{\"JobInputType\":\"UriFolder\","
	    "\"Uri\":\"azureml:heart:1\"}},\"miniBatchSize\":\"20\","
	    "\"compute\":{\"instanceCount\":2},\"retrySettings\":{\"maxRetries\":1,\"timeout\":"
	    "\"PT5S\"},\"errorThreshold\":7,\"outputFileName\":\"o.csv\"}}",
	    "{\"properties\":{\"inputData\":{\"heart_data\":{\"jobInputType\":\"uri_folder\","
	    "\"uri\":\"azureml:heart:1\"}},\"minibatchsize\":20,\"resources\":{\"instanceCount\":"
	    "2},\"retrySettings\":{\"maxretries\":1,\"timeout\":5},\"ErrorThreshold\":7,"
	    "\"OutputFileName\":\"o.csv\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		cJSON *b = cJSON_Parse(bodies[i]);
		struct job_invocation inv;
		struct error err = {0};

		memset(&inv, 0, sizeof inv);
		assert_int_equal(batchcodec_invocation_from_json(b, &inv, &err), 0);
		assert_string_equal(inv.input_name, "heart_data");
		assert_int_equal(inv.input_type, DATA_URI_FOLDER);
		assert_string_equal(inv.input_uri, "azureml:heart:1");
		assert_int_equal(inv.overrides.mini_batch_size, 20);
		assert_int_equal(inv.overrides.instance_count, 2);
		assert_int_equal(inv.overrides.max_retries, 1);
		assert_int_equal(inv.overrides.timeout_ms, 5000);
		assert_int_equal(inv.overrides.error_threshold, 7);
		assert_string_equal(inv.overrides.output_file, "o.csv");
		batchcodec_invocation_cleanup(&inv);
		cJSON_Delete(b);
	}
}

static void test_invocation_refusals(void **state)
{
	static const char *const bodies[] = {
	    "[]",
	    "{}",
	    "{\"properties\":{}}",
	    "{\"properties\":{\"InputData\":{}}}",
	    "{\"properties\":{\"InputData\":{\"a\":{\"JobInputType\":\"Literal\",\"Value\":\"x\"}}}}",
	    "{\"properties\":{\"InputData\":{\"a\":{\"JobInputType\":\"UriFile\"}}}}",
	    "{\"properties\":{\"InputData\":{\"a\":{\"JobInputType\":\"UriFile\",\"Uri\":\"/x\"},"
	    "\"b\":{\"JobInputType\":\"UriFile\",\"Uri\":\"/y\"}}}}",
	    "{\"properties\":{\"InputData\":{\"a\":{\"JobInputType\":\"UriFile\",\"Uri\":\"/x\"}},"
	    "\"miniBatchSize\":0}}",
	    "{\"properties\":{\"InputData\":{\"a\":{\"JobInputType\":\"UriFile\",\"Uri\":\"/x\"}},"
	    "\"retrySettings\":{\"timeout\":\"soon\"}}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		cJSON *b = cJSON_Parse(bodies[i]);
		struct job_invocation inv;
		struct error err = {0};

		memset(&inv, 0, sizeof inv);
		if (batchcodec_invocation_from_json(b, &inv, &err) == 0)
			fail_msg("accepted %s", bodies[i]);
		assert_int_equal(err.status, 400);
		batchcodec_invocation_cleanup(&inv);
		cJSON_Delete(b);
	}
}

static void test_uris(void **state)
{
	static const struct {
		const char *uri;
		int ok;
		enum job_uri_kind kind;
		const char *name, *version, *path;
	} cases[] = {
	    {"/data/in", 1, JOB_URI_PATH, "", "", "/data/in"},
	    {"file:///data/a%20b", 1, JOB_URI_PATH, "", "", "/data/a b"},
	    {"file://localhost/data", 1, JOB_URI_PATH, "", "", "/data"},
	    {"azureml:heart:2", 1, JOB_URI_DATA, "heart", "2", ""},
	    {"azureml:heart@latest", 1, JOB_URI_DATA, "heart", "", ""},
	    {"azureml:heart", 1, JOB_URI_DATA, "heart", "", ""},
	    {"/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/"
	     "workspaces/w/data/heart/versions/3",
	     1, JOB_URI_DATA, "heart", "3", ""},
	    {"azureml:/subscriptions/s/resourceGroups/r/providers/x/workspaces/w/data/h/versions/1",
	     1, JOB_URI_DATA, "h", "1", ""},
	    {"azureml://datastores/workspaceblobstore/paths/in/x.csv", 1, JOB_URI_DATASTORE,
	     "workspaceblobstore", "", "in/x.csv"},
	    {"azureml://subscriptions/s/resourcegroups/r/workspaces/w/datastores/ds/paths/a%2Fb", 1,
	     JOB_URI_DATASTORE, "ds", "", "a/b"},
	    {"relative/path", 0, 0, NULL, NULL, NULL},
	    {"https://acct.blob.core.windows.net/c/x", 0, 0, NULL, NULL, NULL},
	    {"/data/../etc", 0, 0, NULL, NULL, NULL},
	    {"file:///data/%2e%2e/etc", 0, 0, NULL, NULL, NULL},
	    {"file:///data/%00", 0, 0, NULL, NULL, NULL},
	    {"file:///data/%zz", 0, 0, NULL, NULL, NULL},
	    {"azureml:bad name:1", 0, 0, NULL, NULL, NULL},
	    {"azureml:heart@v2", 0, 0, NULL, NULL, NULL},
	    {"azureml://datastores//paths/x", 0, 0, NULL, NULL, NULL},
	    {"", 0, 0, NULL, NULL, NULL},
	};
	struct job_uri u;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct error err = {0};
		int rc = job_uri_parse(cases[i].uri, &u, &err);

		if (!cases[i].ok) {
			if (rc == 0)
				fail_msg("'%s' accepted", cases[i].uri);
			assert_int_equal(err.status, 400);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s': %s", cases[i].uri, err.message);
		assert_int_equal(u.kind, cases[i].kind);
		if (u.kind != JOB_URI_PATH)
			assert_string_equal(u.name, cases[i].name);
		if (u.kind == JOB_URI_DATA)
			assert_string_equal(u.version, cases[i].version);
		else
			assert_string_equal(u.path, cases[i].path);
	}
}

/* The whole workspace as text, to compare two of them. */
static char *dump(const struct workspace *ws)
{
	cJSON *j = codec_workspace_to_json(ws);
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	return s;
}

static void add_schedule(struct workspace *ws)
{
	struct schedule s;
	struct error err = {0};

	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "weekly_churn");
	s.enabled = 1;
	s.trigger.type = TRIGGER_RECURRENCE;
	s.trigger.freq = FREQ_WEEK;
	s.trigger.interval = 1;
	s.trigger.has_pattern = 1;
	s.trigger.hours = 1u << 3;
	s.trigger.minutes = 1ull << 15;
	s.trigger.weekdays = 1u << 1;
	snprintf(s.trigger.time_zone, sizeof s.trigger.time_zone, "Pacific Standard Time");
	snprintf(s.action_type, sizeof s.action_type, "InvokeBatchEndpoint");
	s.action = (char *)"{\"actionType\":\"InvokeBatchEndpoint\",\"endpointInvocationDefinition\""
			   ":{\"endpoint\":\"azureml:be1\"}}";
	assert_int_equal(batch_schedule_put(ws, &s, NULL, &err), 0);
}

/* Every batch kind (and data) survives the store: committed, reloaded, equal. */
static void test_store_round_trip(void **state)
{
	char home[] = "/tmp/mldeck-batch-XXXXXX", cmd[128];
	struct workspace *ws, *back;
	struct store *s;
	struct error err = {0};
	struct data_version d;
	struct job j;
	char *a, *b;

	(void)state;
	assert_non_null(mkdtemp(home));
	s = store_open(home, &err);
	assert_non_null(s);
	ws = store_load(s, "local", &err);
	add_model(ws, "lin", MODEL_LINEAR);
	add_endpoint(ws, "be1", "blue");
	assert_int_equal(put_deployment(ws, "be1", "blue", "lin", &err), 0);
	add_model(ws, "cus", MODEL_CUSTOM);
	add_script_assets(ws);
	assert_int_equal(put_scripted(ws, "scripted", "azureml:src:1", &err), 0);
	memset(&d, 0, sizeof d);
	snprintf(d.name, sizeof d.name, "customers");
	d.uri = (char *)"/srv/customers";
	assert_int_equal(workspace_data_put(ws, &d, NULL, &err), 0);
	d.version[0] = '\0';
	d.archived = 1;
	d.uri = (char *)"azureml://datastores/workspaceblobstore/paths/customers/";
	assert_int_equal(workspace_data_put(ws, &d, NULL, &err), 0);
	make_job(&j, "batchjob-1", "be1", "blue", JOB_QUEUED);
	j.error = (char *)"none yet";
	j.items = 12;
	assert_int_equal(batch_job_put(ws, &j, &err), 0);
	add_schedule(ws);
	assert_int_equal(store_commit(s, ws, &err), 0);
	store_close(s);
	s = store_open(home, &err);
	back = store_load(s, "local", &err);
	assert_non_null(back);
	a = dump(ws);
	b = dump(back);
	assert_string_equal(a, b);
	assert_int_equal(batch_job_find(back, "batchjob-1")->items, 12);
	assert_string_equal(batch_deployment_find(back, "be1", "scripted")->code_name, "src");
	assert_null(batch_deployment_find(back, "be1", "scripted")->code_dir);
	assert_true(workspace_data_find(back, "customers", "2")->archived);
	assert_true(workspace_data_find(back, "customers", "2")->serial >
		    workspace_data_find(back, "customers", "1")->serial);
	free(a);
	free(b);
	workspace_free(back);
	workspace_free(ws);
	store_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	       cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_threshold),	       cmocka_unit_test(test_job_states),
	    cmocka_unit_test(test_batch_rules),       cmocka_unit_test(test_data_versions),
	    cmocka_unit_test(test_invocation_any_case), cmocka_unit_test(test_invocation_refusals),
	    cmocka_unit_test(test_uris),	       cmocka_unit_test(test_code_assets),
	    cmocka_unit_test(test_store_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
