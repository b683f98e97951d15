/* test_codec.c: Azure 2024-04-01 shapes: the fixture bodies, round trips, the document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/batchcodec.h"
#include "state/codec.h"
#include "state/schedule.h"

static const struct codec_ctx ctx = {
    .ws_prefix = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
		 "workspaces/local",
    .rg_prefix = "/subscriptions/s/resourceGroups/rg",
    .sub_prefix = "/subscriptions/s",
    .base_url = "http://127.0.0.1:5800",
};

/* parameters.body of a fixture example (caller deletes the returned root). */
static cJSON *fixture(const char *rel, const cJSON **body)
{
	const char *src = getenv("MLDECK_SRC");
	char path[1024], *buf;
	FILE *f;
	long n;
	cJSON *root;

	snprintf(path, sizeof path, "%s/tests/data/azure/%s",
		 src != NULL ? src : ".", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s (set MLDECK_SRC)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	root = cJSON_Parse(buf);
	free(buf);
	assert_non_null(root);
	*body = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "parameters"), "body");
	assert_non_null(*body);
	return root;
}

static void test_fixture_endpoint(void **state)
{
	const cJSON *body;
	cJSON *root = fixture("Workspace/OnlineEndpoint/createOrUpdate.json", &body);
	struct workspace *ws = workspace_new("local");
	struct endpoint ep;
	struct error err = {0};

	(void)state;
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "testEndpointName");
	assert_int_equal(codec_endpoint_from_json(body, &ep, &err), 0);
	assert_int_equal(ep.auth, AUTH_AMLTOKEN);
	assert_string_equal(ep.description, "string");
	assert_int_equal(traffic_get(&ep.traffic, "string"), 1);
	/* the placeholder traffic names a deployment that does not exist */
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "properties.traffic.string"));
	traffic_clear(&ep.traffic);
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), 0);
	endpoint_cleanup(&ep);
	workspace_free(ws);
	cJSON_Delete(root);
}

static void test_fixture_deployment(void **state)
{
	const cJSON *body;
	cJSON *root =
	    fixture("OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json", &body);
	cJSON *copy;
	struct deployment d;
	struct error err = {0};

	(void)state;
	memset(&d, 0, sizeof d);
	/* "model": "string" is not NAME:VERSION */
	assert_int_equal(codec_deployment_from_json(body, &d, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "properties.model"));
	deployment_cleanup(&d);
	/* with real references the rest of Azure's body is understood */
	copy = cJSON_Duplicate(body, 1);
	cJSON *p = cJSON_GetObjectItem(copy, "properties");
	cJSON_ReplaceItemInObject(p, "model", cJSON_CreateString("azureml:mod1:3"));
	cJSON_ReplaceItemInObject(
	    p, "environmentId",
	    cJSON_CreateString("/subscriptions/x/resourceGroups/y/providers/"
			       "Microsoft.MachineLearningServices/workspaces/w/environments/"
			       "env1/versions/2"));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p, "codeConfiguration"), "codeId",
				  cJSON_CreateString("/subscriptions/x/resourceGroups/y/providers/"
						     "Microsoft.MachineLearningServices/workspaces/"
						     "w/codes/6c2f0e1a/versions/1"));
	memset(&d, 0, sizeof d);
	assert_int_equal(codec_deployment_from_json(copy, &d, &err), 0);
	assert_string_equal(d.model_name, "mod1");
	assert_string_equal(d.model_version, "3");
	assert_string_equal(d.env_name, "env1");
	assert_string_equal(d.env_version, "2");
	assert_int_equal(d.timeout_ms, 300000); /* PT5M */
	assert_int_equal(d.max_concurrent, 1);
	assert_int_equal(d.instances, 1);
	assert_string_equal(d.code_name, "6c2f0e1a"); /* a code asset, as the SDK sends */
	assert_string_equal(d.code_version, "1");
	assert_null(d.code_dir);
	assert_string_equal(d.instance_type, "string");
	assert_string_equal(d.scoring_script, "string");
	assert_string_equal(kvlist_get(&d.variables, "string"), "string");
	deployment_cleanup(&d);
	cJSON_Delete(copy);
	cJSON_Delete(root);
}

static void test_fixture_model(void **state)
{
	const cJSON *body;
	cJSON *root = fixture("Workspace/ModelVersion/createOrUpdate.json", &body);
	struct model_version m;
	struct error err = {0};
	const char *uri = NULL;

	(void)state;
	memset(&m, 0, sizeof m);
	m.type = MODEL_XGBOOST;
	assert_int_equal(codec_model_version_from_json(body, &m, &uri, &err), 0);
	assert_int_equal(m.type, MODEL_CUSTOM); /* "CustomModel" */
	assert_string_equal(uri, "string");	/* the runtime's import then refuses it */
	assert_string_equal(m.description, "string");
	assert_string_equal(kvlist_get(&m.tags, "string"), "string");
	model_version_cleanup(&m);
	cJSON_Delete(root);
}

static void test_fixture_env(void **state)
{
	const cJSON *body;
	cJSON *root = fixture("Workspace/EnvironmentVersion/createOrUpdate.json", &body);
	struct env_version e;
	struct error err = {0};

	(void)state;
	memset(&e, 0, sizeof e);
	assert_int_equal(codec_env_version_from_json(body, &e, &err), 0);
	assert_int_equal(e.kind, ENV_PYTHON); /* an image: mapped to an interpreter */
	assert_string_equal(e.image, "docker.io/tensorflow/serving:latest");
	assert_string_equal(e.conda_file, "string");
	assert_null(e.python);
	assert_string_equal(e.description, "string");
	env_version_cleanup(&e);
	cJSON_Delete(root);
}

struct bad_body {
	const char *json;
	const char *needle;
};

static const struct bad_body bad_endpoints[] = {
    {"[]", "JSON object"},
    {"{\"properties\": 3}", "properties must be an object"},
    {"{\"properties\": {\"traffic\": {\"blue\": 1.5}}}",
     "properties.traffic.blue must be an integer 0-100"},
    {"{\"properties\": {\"traffic\": {\"blue\": \"50\"}}}",
     "properties.traffic.blue must be an integer 0-100"},
    {"{\"properties\": {\"traffic\": {\"blue\": 101}}}", "properties.traffic.blue"},
    {"{\"properties\": {\"traffic\": {\"b_d\": 1}}}", "properties.traffic key"},
    {"{\"properties\": {\"traffic\": []}}", "properties.traffic must be"},
    {"{\"properties\": {\"mirrorTraffic\": {\"blue\": -1}}}", "properties.mirrorTraffic.blue"},
    {"{\"properties\": {\"authMode\": \"Basic\"}}", "properties.authMode"},
    {"{\"properties\": {\"description\": 7}}", "properties.description must be a string"},
    {"{\"tags\": {\"a\": 1}}", "tags.a must be a string"},
};

static void test_bad_endpoint_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_endpoints / sizeof bad_endpoints[0]; i++) {
		cJSON *b = cJSON_Parse(bad_endpoints[i].json);
		struct endpoint ep;
		struct error err = {0};

		memset(&ep, 0, sizeof ep);
		assert_int_equal(codec_endpoint_from_json(b, &ep, &err), -1);
		assert_int_equal(err.status, 400);
		if (strstr(err.message, bad_endpoints[i].needle) == NULL)
			fail_msg("%s: '%s' lacks '%s'", bad_endpoints[i].json, err.message,
				 bad_endpoints[i].needle);
		endpoint_cleanup(&ep);
		cJSON_Delete(b);
	}
}

static const struct bad_body bad_deployments[] = {
    {"{\"properties\": {\"model\": \"mod1\"}}", "properties.model"},
    {"{\"properties\": {\"model\": \"mod1:1/0\"}}", "properties.model"},
    {"{\"properties\": {\"model\": \"_x:1\"}}", "properties.model"},
    {"{\"properties\": {\"codeConfiguration\": {\"codeId\": \"code1\"}}}",
     "properties.codeConfiguration.codeId"},
    {"{\"properties\": {\"model\": 5}}", "properties.model must be a string"},
    {"{\"properties\": {\"environmentId\": \"/a/b/models/e/versions/1\"}}",
     "properties.environmentId"},
    {"{\"properties\": {\"requestSettings\": {\"requestTimeout\": \"5s\"}}}", "requestTimeout"},
    {"{\"properties\": {\"requestSettings\": {\"requestTimeout\": \"PT11M\"}}}", "requestTimeout"},
    {"{\"properties\": {\"requestSettings\": {\"maxConcurrentRequestsPerInstance\": 0}}}",
     "maxConcurrentRequestsPerInstance"},
    {"{\"sku\": {\"capacity\": 0}}", "sku.capacity"},
    {"{\"sku\": {\"capacity\": 2.5}}", "sku.capacity"},
    {"{\"properties\": {\"codeConfiguration\": \"x\"}}", "codeConfiguration"},
    {"{\"properties\": {\"environmentVariables\": {\"A\": true}}}",
     "properties.environmentVariables.A"},
};

static void test_bad_deployment_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_deployments / sizeof bad_deployments[0]; i++) {
		cJSON *b = cJSON_Parse(bad_deployments[i].json);
		struct deployment d;
		struct error err = {0};

		memset(&d, 0, sizeof d);
		assert_int_equal(codec_deployment_from_json(b, &d, &err), -1);
		assert_int_equal(err.status, 400);
		if (strstr(err.message, bad_deployments[i].needle) == NULL)
			fail_msg("%s: '%s' lacks '%s'", bad_deployments[i].json, err.message,
				 bad_deployments[i].needle);
		deployment_cleanup(&d);
		cJSON_Delete(b);
	}
}

static void test_bad_assets(void **state)
{
	struct model_version m;
	struct env_version e;
	struct error err = {0};
	cJSON *b;

	(void)state;
	memset(&m, 0, sizeof m);
	b = cJSON_Parse("{\"properties\": {\"modelType\": \"onnx\"}}");
	assert_int_equal(codec_model_version_from_json(b, &m, NULL, &err), -1);
	assert_non_null(strstr(err.message, "properties.modelType"));
	cJSON_Delete(b);
	memset(&e, 0, sizeof e);
	b = cJSON_Parse("{\"properties\": {\"requiredModules\": [\"numpy\", 3]}}");
	assert_int_equal(codec_env_version_from_json(b, &e, &err), -1);
	assert_non_null(strstr(err.message, "properties.requiredModules[1]"));
	cJSON_Delete(b);
	b = cJSON_Parse("{\"properties\": {\"environmentKind\": \"conda\"}}");
	assert_int_equal(codec_env_version_from_json(b, &e, &err), -1);
	assert_non_null(strstr(err.message, "properties.environmentKind"));
	cJSON_Delete(b);
	env_version_cleanup(&e);
}

struct ref_case {
	const char *ref;
	const char *kind;
	const char *name, *version; /* NULL: rejected */
};

static const struct ref_case refs[] = {
    {"azureml:mod1:3", "models", "mod1", "3"},
    {"mod1:3", "models", "mod1", "3"},
    {"/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/"
     "workspaces/w/models/mod1/versions/12",
     "models", "mod1", "12"},
    {".../environments/env-a/versions/1", "environments", "env-a", "1"},
    {"string", "models", NULL, NULL},
    {"azureml:mod1", "models", NULL, NULL},
    {"azureml:mod1:3:4", "models", NULL, NULL},
    {"mod1:0", "models", "mod1", "0"},		/* versions are strings */
    {"my_model:1.0", "models", "my_model", "1.0"}, /* the asset pattern, not the endpoint one */
    {".../codes/6c2f0e1a-36cb-4802-89aa-2ed15c87c620/versions/1", "codes",
     "6c2f0e1a-36cb-4802-89aa-2ed15c87c620", "1"},
    {"mod1:1..2", "models", NULL, NULL},
    {"_mod:1", "models", NULL, NULL},
    {"mod1:", "models", NULL, NULL},
    {":3", "models", NULL, NULL},
    {"/x/environments/env/versions/1", "models", NULL, NULL},
    {"/x/models/../versions/1", "models", NULL, NULL},
    {"/x/models/mod1/versions/1/extra", "models", NULL, NULL},
    {"", "models", NULL, NULL},
};

static void test_asset_refs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
		char n[RESOURCE_ASSET_NAME_MAX + 1], v[RESOURCE_VERSION_MAX + 1];
		struct error err = {0};
		int rc = codec_parse_asset_ref(refs[i].ref, refs[i].kind, n, sizeof n, v, sizeof v,
					       &err);

		if (refs[i].name == NULL) {
			if (rc != -1)
				fail_msg("accepted %s", refs[i].ref);
			assert_int_equal(err.status, 400);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", refs[i].ref, err.message);
		assert_string_equal(n, refs[i].name);
		assert_string_equal(v, refs[i].version);
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		long ms;
	} cases[] = {
	    {"PT5S", 5000},    {"PT2.5S", 2500},  {"PT5M", 300000}, {"PT1M30.5S", 90500},
	    {"PT1H", 3600000}, {"P1D", 86400000}, {"PT0.001S", 1},  {"PT", -1},
	    {"P", -1},	       {"5S", -1},	  {"PT5", -1},	    {"PT5X", -1},
	    {"P5M", -1},       {"PT-5S", -1},	  {"", -1},	    {"PTS", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (codec_iso_duration_ms(cases[i].s) != cases[i].ms)
			fail_msg("%s -> %ld, want %ld", cases[i].s,
				 codec_iso_duration_ms(cases[i].s), cases[i].ms);
	assert_int_equal(codec_iso_duration_ms(NULL), -1);
}

/* A small workspace with one of everything, traffic and mirror set. */
static struct workspace *sample(void)
{
	struct workspace *ws = workspace_new("local");
	struct model_version m;
	struct env_version e;
	struct endpoint ep;
	struct deployment d;
	struct traffic t = {0}, mi = {0};
	char *mods[] = {(char *)"numpy"};

	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "mod1");
	snprintf(m.version, sizeof m.version, "1");
	m.type = MODEL_CUSTOM;
	m.artifact = (char *)"models/mod1/1/model.pkl";
	m.uri = (char *)"azureml://datastores/workspaceblobstore/paths/LocalUpload/ab/model.pkl";
	snprintf(m.sha256, sizeof m.sha256, "%064d", 7);
	m.size = 1234567890123ULL;
	m.created = 1700000000;
	m.description = (char *)"a model";
	kvlist_set(&m.tags, "team", "ml");
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
	kvlist_clear(&m.tags);
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "env1");
	snprintf(e.version, sizeof e.version, "2");
	e.kind = ENV_PYTHON;
	e.python = (char *)"/usr/bin/python3";
	e.modules = mods;
	e.nmodules = 1;
	kvlist_set(&e.variables, "OMP_NUM_THREADS", "1");
	assert_int_equal(workspace_env_put(ws, &e, NULL, NULL), 0);
	kvlist_clear(&e.variables);
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep-one");
	snprintf(ep.primary_key, sizeof ep.primary_key, "pk-secret");
	snprintf(ep.secondary_key, sizeof ep.secondary_key, "sk-secret");
	ep.key_generation = 4;
	snprintf(ep.uid, sizeof ep.uid, "uid-of-ep-one");
	ep.auth = AUTH_AMLTOKEN;
	ep.created = 1700000100;
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, NULL), 0);
	memset(&d, 0, sizeof d);
	snprintf(d.endpoint, sizeof d.endpoint, "ep-one");
	snprintf(d.model_name, sizeof d.model_name, "mod1");
	snprintf(d.model_version, sizeof d.model_version, "1");
	snprintf(d.env_name, sizeof d.env_name, "env1");
	snprintf(d.env_version, sizeof d.env_version, "2");
	d.code_dir = (char *)"/srv/code";
	d.scoring_script = (char *)"score.py";
	d.instances = 2;
	d.max_concurrent = 4;
	d.timeout_ms = 2500;
	d.created = 1700000200;
	snprintf(d.name, sizeof d.name, "blue");
	assert_int_equal(workspace_deployment_put(ws, &d, 1, NULL, NULL), 0);
	snprintf(d.name, sizeof d.name, "green");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	workspace_deployment_set_state(ws, "ep-one", "green", PROV_FAILED, "no score.py");
	traffic_set(&t, "blue", 100);
	traffic_set(&t, "green", 0);
	traffic_set(&mi, "green", 20);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep-one", &t, &mi, NULL), 0);
	traffic_clear(&t);
	traffic_clear(&mi);
	return ws;
}

static void test_output_shapes(void **state)
{
	struct workspace *ws = sample();
	cJSON *o;
	char *s;

	(void)state;
	o = codec_endpoint_to_json(workspace_endpoint_find(ws, "ep-one"), &ctx);
	s = cJSON_PrintUnformatted(o);
	assert_null(strstr(s, "secret")); /* never the keys */
	assert_non_null(strstr(s, "\"id\":\"/subscriptions/s/resourceGroups/rg/providers/"
				  "Microsoft.MachineLearningServices/workspaces/local/"
				  "onlineEndpoints/ep-one\""));
	assert_non_null(strstr(s, "\"type\":\"Microsoft.MachineLearningServices/workspaces/"
				  "onlineEndpoints\""));
	assert_non_null(
	    strstr(s, "\"scoringUri\":\"http://127.0.0.1:5800/endpoints/ep-one/score\""));
	assert_non_null(strstr(s, "\"authMode\":\"AMLToken\""));
	assert_non_null(strstr(s, "\"traffic\":{\"blue\":100,\"green\":0}"));
	assert_non_null(strstr(s, "\"mirrorTraffic\":{\"green\":20}"));
	assert_non_null(strstr(s, "\"provisioningState\":\"Succeeded\""));
	assert_non_null(strstr(s, "\"createdAt\":\"2023-11-14T22:15:00Z\""));
	free(s);
	cJSON_Delete(o);
	o = codec_deployment_to_json(workspace_deployment_find(ws, "ep-one", "green"), &ctx);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(strstr(s, "/workspaces/local/models/mod1/versions/1\""));
	assert_non_null(strstr(s, "/workspaces/local/environments/env1/versions/2\""));
	assert_non_null(strstr(s, "\"requestTimeout\":\"PT2.5S\""));
	assert_non_null(
	    strstr(s, "\"sku\":{\"name\":\"Default\",\"tier\":\"Standard\",\"capacity\":2}"));
	assert_non_null(strstr(s, "\"scaleSettings\":{\"scaleType\":\"Default\"}"));
	assert_non_null(strstr(s, "\"error\":\"no score.py\""));
	assert_non_null(strstr(s, "\"provisioningState\":\"Failed\""));
	assert_non_null(strstr(s, "\"codeConfiguration\":{\"codeId\":\"/srv/code\","
				  "\"scoringScript\":\"score.py\"}"));
	free(s);
	cJSON_Delete(o);
	o = codec_model_version_to_json(workspace_model_find(ws, "mod1", "1"), &ctx);
	s = cJSON_PrintUnformatted(o);
	/* modelUri comes back as registered, so the SDK can PUT it again */
	assert_non_null(strstr(s, "\"modelUri\":\"azureml://datastores/workspaceblobstore/paths/"
				  "LocalUpload/ab/model.pkl\""));
	assert_non_null(strstr(s, "\"flavors\":{}"));
	assert_non_null(strstr(s, "\"isArchived\":false"));
	assert_non_null(strstr(s, "\"size\":\"1234567890123\""));
	assert_non_null(strstr(s, "\"modelType\":\"custom_model\""));
	assert_non_null(strstr(s, "/models/mod1/versions/1\""));
	free(s);
	cJSON_Delete(o);
	o = codec_list(cJSON_CreateArray());
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"value\":[]}");
	free(s);
	cJSON_Delete(o);
	workspace_free(ws);
}

/* encode -> decode -> encode gives the same JSON for our own shapes. */

/* Both documents print the same; both are freed. */
static void assert_same_json_and_free(cJSON *a, cJSON *b)
{
	char *sa = cJSON_Print(a), *sb = cJSON_Print(b);

	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void test_round_trips(void **state)
{
	struct workspace *ws = sample();
	const struct deployment *d0 = workspace_deployment_find(ws, "ep-one", "blue");
	const struct endpoint *e0 = workspace_endpoint_find(ws, "ep-one");
	const struct env_version *v0 = workspace_env_find(ws, "env1", "2");
	const struct model_version *m0 = workspace_model_find(ws, "mod1", "1");
	struct deployment d;
	struct endpoint ep;
	struct env_version e;
	struct model_version m;
	cJSON *a, *b;

	(void)state;
	memset(&d, 0, sizeof d);
	snprintf(d.endpoint, sizeof d.endpoint, "ep-one");
	snprintf(d.name, sizeof d.name, "blue");
	d.created = d0->created;
	d.state = d0->state;
	a = codec_deployment_to_json(d0, &ctx);
	assert_int_equal(codec_deployment_from_json(a, &d, NULL), 0);
	b = codec_deployment_to_json(&d, &ctx);
	assert_same_json_and_free(a, b);
	deployment_cleanup(&d);

	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep-one");
	ep.created = e0->created;
	ep.state = e0->state;
	a = codec_endpoint_to_json(e0, &ctx);
	assert_int_equal(codec_endpoint_from_json(a, &ep, NULL), 0);
	b = codec_endpoint_to_json(&ep, &ctx);
	assert_same_json_and_free(a, b);
	endpoint_cleanup(&ep);

	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "env1");
	snprintf(e.version, sizeof e.version, "2");
	e.created = v0->created;
	a = codec_env_version_to_json(v0, &ctx);
	assert_int_equal(codec_env_version_from_json(a, &e, NULL), 0);
	b = codec_env_version_to_json(&e, &ctx);
	assert_same_json_and_free(a, b);
	env_version_cleanup(&e);

	/* a model's artifact, sha256 and size come from the import, not the body */
	memset(&m, 0, sizeof m);
	model_version_copy(&m, m0);
	free(m.description);
	m.description = NULL;
	kvlist_clear(&m.tags);
	m.type = MODEL_LINEAR;
	a = codec_model_version_to_json(m0, &ctx);
	assert_int_equal(codec_model_version_from_json(a, &m, NULL, NULL), 0);
	b = codec_model_version_to_json(&m, &ctx);
	assert_same_json_and_free(a, b);
	model_version_cleanup(&m);
	workspace_free(ws);
}

static void test_workspace_document(void **state)
{
	struct workspace *ws = sample(), *back;
	cJSON *a = codec_workspace_to_json(ws), *b, *parsed;
	char *sa = cJSON_Print(a), *sb;
	struct error err = {0};
	const struct endpoint *ep;
	const struct deployment *d;

	(void)state;
	assert_non_null(strstr(sa, "pk-secret")); /* the document keeps the secrets */
	parsed = cJSON_Parse(sa);
	back = codec_workspace_from_json(parsed, &err);
	if (back == NULL)
		fail_msg("%s", err.message);
	b = codec_workspace_to_json(back);
	sb = cJSON_Print(b);
	assert_string_equal(sa, sb);
	ep = workspace_endpoint_find(back, "ep-one");
	assert_string_equal(ep->secondary_key, "sk-secret");
	assert_int_equal(ep->key_generation, 4);
	assert_string_equal(ep->uid, "uid-of-ep-one");
	assert_int_equal(traffic_get(&ep->mirror, "green"), 20);
	d = workspace_deployment_find(back, "ep-one", "green");
	assert_int_equal(d->state, PROV_FAILED);
	assert_string_equal(d->error, "no score.py");
	assert_int_equal(workspace_model_find(back, "mod1", "1")->size, 1234567890123ULL);
	free(sa);
	free(sb);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(parsed);
	workspace_free(back);
	workspace_free(ws);
}

static void test_corrupt_documents(void **state)
{
	static const char *const docs[] = {
	    "[]",
	    "{\"format\": 1}",
	    "{\"format\": 2, \"workspace\": \"local\"}",
	    "{\"format\": 1, \"workspace\": \"local\", \"models\": {}}",
	    "{\"format\": 1, \"workspace\": \"local\", \"models\": [{\"name\": \"abc\"}]}",
	    "{\"format\": 1, \"workspace\": \"local\", \"deployments\": [{\"endpoint\": "
	    "\"abc\", \"name\": \"abc\", \"model_name\": \"abc\", \"model_version\": \"1\", "
	    "\"env_name\": \"abc\", \"env_version\": \"1\", \"instances\": 1, "
	    "\"max_concurrent\": 1, \"timeout_ms\": 1, \"state\": \"Succeeded\", "
	    "\"created\": 0}]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		cJSON *d = cJSON_Parse(docs[i]);
		struct error err = {0};

		assert_null(codec_workspace_from_json(d, &err));
		assert_int_equal(err.status, 500);
		assert_string_equal(err.code, "CorruptState");
		cJSON_Delete(d);
	}
}

static void test_error_shape(void **state)
{
	struct error err = {0};
	cJSON *o;
	char *s;

	(void)state;
	error_set(&err, 409, "Conflict", "deployment '%s' has traffic", "blue");
	o = codec_error(&err);
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"error\":{\"code\":\"Conflict\",\"message\":\"deployment "
			       "'blue' has traffic\"}}");
	free(s);
	cJSON_Delete(o);
	o = codec_container_to_json(&(struct codec_container){.kind = "models",
							      .name = "mod1",
							      .latest = "3",
							      .next = "4"},
				    &ctx);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(strstr(s, "\"latestVersion\":\"3\""));
	assert_non_null(strstr(s, "\"systemData\":{\"createdAt\""));
	assert_non_null(strstr(s, "/workspaces/local/models/mod1\""));
	assert_non_null(
	    strstr(s, "\"type\":\"Microsoft.MachineLearningServices/workspaces/models\""));
	free(s);
	cJSON_Delete(o);
}

/* Numbers from a peer are range-checked before any cast: 1e300 or 4.1e10
 * into an integer is undefined behaviour (UBSan found the second in a
 * schedule's hours, fuzz_batchcodec). */
static void test_numbers_from_peers(void **state)
{
	static const char *const huge[] = {"1e300", "-1e300", "4.1e10", "9.3e18", "1e16"};
	long long v = 7;
	struct schedule sc;
	struct error err;
	char body[512];
	cJSON *n;

	(void)state;
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		n = cJSON_Parse(huge[i]);
		int in = n->valuedouble >= -1e9 && n->valuedouble <= 1e15; /* 4.1e10 only */

		v = 7;
		assert_int_equal(codec_number_in(n, -1e9, 1e15, &v), in);
		assert_true(in ? v == 41000000000LL : v == 7); /* else untouched */
		cJSON_Delete(n);
		snprintf(body, sizeof body,
			 "{\"properties\":{\"trigger\":{\"triggerType\":\"Recurrence\","
			 "\"frequency\":\"Week\",\"interval\":1,\"schedule\":{\"hours\":[%s],"
			 "\"minutes\":[0],\"weekDays\":[\"Monday\"]}},\"action\":{"
			 "\"actionType\":\"InvokeBatchEndpoint\"}}}",
			 huge[i]);
		n = cJSON_Parse(body);
		assert_non_null(n);
		memset(&sc, 0, sizeof sc);
		assert_int_equal(batchcodec_schedule_from_json(n, &sc, &err), -1);
		assert_int_equal(err.status, 400);
		schedule_cleanup(&sc);
		cJSON_Delete(n);
	}
	n = cJSON_Parse("1712345678.9");
	assert_int_equal(codec_number_in(n, 0, 1e15, &v), 1);
	assert_int_equal(v, 1712345678LL);
	cJSON_Delete(n);
	n = cJSON_Parse("\"12\"");
	assert_int_equal(codec_number_in(n, 0, 1e15, &v), 0); /* a string is not a number */
	cJSON_Delete(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture_endpoint),
	    cmocka_unit_test(test_fixture_deployment),
	    cmocka_unit_test(test_fixture_model),
	    cmocka_unit_test(test_fixture_env),
	    cmocka_unit_test(test_bad_endpoint_bodies),
	    cmocka_unit_test(test_bad_deployment_bodies),
	    cmocka_unit_test(test_bad_assets),
	    cmocka_unit_test(test_asset_refs),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_output_shapes),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_workspace_document),
	    cmocka_unit_test(test_corrupt_documents),
	    cmocka_unit_test(test_error_shape),
	    cmocka_unit_test(test_numbers_from_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
