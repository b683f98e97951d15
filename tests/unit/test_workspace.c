/* test_workspace.c: every rule of DESIGN.md "Resources and rules", table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/workspace.h"

static void add_model(struct workspace *ws, const char *name, const char *version,
		      enum model_type type)
{
	struct model_version m;
	int created = 0;

	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.version, sizeof m.version, "%s", version);
	m.type = type;
	m.artifact = (char *)"models/x/1/model.json";
	assert_int_equal(workspace_model_put(ws, &m, &created, NULL), 0);
}

static void add_env(struct workspace *ws, const char *name, const char *version, enum env_kind kind)
{
	struct env_version e;

	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "%s", name);
	snprintf(e.version, sizeof e.version, "%s", version);
	e.kind = kind;
	e.python = kind == ENV_PYTHON ? (char *)"/usr/bin/python3" : NULL;
	assert_int_equal(workspace_env_put(ws, &e, NULL, NULL), 0);
}

static void init_deployment(struct deployment *d, const char *ep, const char *name)
{
	memset(d, 0, sizeof *d);
	snprintf(d->endpoint, sizeof d->endpoint, "%s", ep);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->model_name, sizeof d->model_name, "mo1");
	snprintf(d->model_version, sizeof d->model_version, "1");
	snprintf(d->env_name, sizeof d->env_name, "nat");
	snprintf(d->env_version, sizeof d->env_version, "1");
	d->instances = 1;
	d->max_concurrent = 1;
	d->timeout_ms = 5000;
}

/* A workspace with models m1:1 (xgboost), cm1:1 (custom), envs nat:1 (native),
 * py1:1 (python), endpoint ep1 with deployments blue and green (no traffic). */
static struct workspace *fixture(void)
{
	struct workspace *ws = workspace_new("local");
	struct endpoint ep;
	struct deployment d;
	int created = 0;

	add_model(ws, "mo1", "1", MODEL_XGBOOST);
	add_model(ws, "cmo1", "1", MODEL_CUSTOM);
	add_env(ws, "nat", "1", ENV_NATIVE);
	add_env(ws, "py1", "1", ENV_PYTHON);
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep1");
	assert_int_equal(workspace_endpoint_put(ws, &ep, &created, NULL), 0);
	assert_true(created);
	init_deployment(&d, "ep1", "blue");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, &created, NULL), 0);
	assert_true(created);
	init_deployment(&d, "ep1", "green");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	return ws;
}

/* "blue=90,green=10" -> traffic */
static void parse_spec(const char *spec, struct traffic *t)
{
	char buf[256], *p = buf;

	memset(t, 0, sizeof *t);
	snprintf(buf, sizeof buf, "%s", spec);
	while (*p != '\0') {
		char *comma = strchr(p, ','), *eq = strchr(p, '=');

		if (comma != NULL)
			*comma = '\0';
		*eq = '\0';
		assert_int_equal(traffic_set(t, p, (int)strtol(eq + 1, NULL, 10)), 0);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

struct traffic_case {
	const char *live;
	const char *mirror; /* NULL: leave */
	int status;	    /* 0 = accepted */
	const char *needle; /* in the message */
};

static const struct traffic_case traffic_cases[] = {
    {"blue=100", NULL, 0, NULL},
    {"blue=90,green=10", NULL, 0, NULL},
    {"blue=0,green=0", NULL, 0, NULL},
    {"", NULL, 0, NULL},
    {"blue=50,green=40", NULL, 400, "sum"},
    {"blue=60,green=60", NULL, 400, "sum"},
    {"blue=101", NULL, 400, "0-100"},
    {"blue=-1,green=101", NULL, 400, "0-100"},
    {"blue=100,red=0", NULL, 400, "red"},
    {"blue=100", "green=10", 0, NULL},
    {"blue=100", "green=50", 0, NULL},
    {"blue=100", "green=51", 400, "0-50"},
    {"blue=100", "blue=10", 400, "live traffic"},
    {"blue=90,green=10", "green=10", 400, "live traffic"},
    {"blue=100", "green=10,blue=5", 400, "at most one"},
    {"blue=100", "green=10,blue=0", 0, NULL},
    {"blue=100", "red=10", 400, "red"},
};

static void test_traffic_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof traffic_cases / sizeof traffic_cases[0]; i++) {
		const struct traffic_case *c = &traffic_cases[i];
		struct workspace *ws = fixture();
		struct traffic live, mirror;
		struct error err = {0};
		int rc;

		parse_spec(c->live, &live);
		if (c->mirror != NULL)
			parse_spec(c->mirror, &mirror);
		rc = workspace_endpoint_set_traffic(ws, "ep1", &live, c->mirror ? &mirror : NULL,
						    &err);
		if (c->status == 0) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err.message);
			assert_int_equal(traffic_sum(&workspace_endpoint_find(ws, "ep1")->traffic),
					 traffic_sum(&live));
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(err.status, c->status);
			if (strstr(err.message, c->needle) == NULL)
				fail_msg("case %zu: '%s' lacks '%s'", i, err.message, c->needle);
			/* nothing changed */
			assert_int_equal(workspace_endpoint_find(ws, "ep1")->traffic.n, 0);
		}
		traffic_clear(&live);
		if (c->mirror != NULL)
			traffic_clear(&mirror);
		workspace_free(ws);
	}
}

static void test_endpoint_put_checks_traffic(void **state)
{
	struct workspace *ws = fixture();
	struct endpoint ep;
	struct error err = {0};
	int created = 1;

	(void)state;
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep1");
	snprintf(ep.primary_key, sizeof ep.primary_key, "new");
	parse_spec("blue=70,green=30", &ep.traffic);
	assert_int_equal(workspace_endpoint_put(ws, &ep, &created, &err), 0);
	assert_false(created);
	assert_int_equal(traffic_get(&workspace_endpoint_find(ws, "ep1")->traffic, "green"), 30);
	/* keys are kept on update */
	assert_string_equal(workspace_endpoint_find(ws, "ep1")->primary_key, "");
	traffic_set(&ep.traffic, "green", 31);
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	traffic_clear(&ep.traffic);
	/* a new endpoint cannot name deployments it does not have */
	snprintf(ep.name, sizeof ep.name, "ep2");
	parse_spec("string=1", &ep.traffic);
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	assert_null(workspace_endpoint_find(ws, "ep2"));
	traffic_clear(&ep.traffic);
	snprintf(ep.name, sizeof ep.name, "e_p");
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	workspace_free(ws);
}

static void test_new_deployment_traffic(void **state)
{
	struct workspace *ws = fixture();
	struct deployment d;
	const struct endpoint *ep;
	struct traffic t;

	(void)state;
	parse_spec("blue=100", &t);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep1", &t, NULL, NULL), 0);
	traffic_clear(&t);
	init_deployment(&d, "ep1", "red");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	ep = workspace_endpoint_find(ws, "ep1");
	assert_int_equal(traffic_get(&ep->traffic, "red"), 0);
	assert_int_equal(traffic_get(&ep->traffic, "blue"), 100);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "red")->state, PROV_CREATING);
	init_deployment(&d, "ep1", "gold");
	assert_int_equal(workspace_deployment_put(ws, &d, 1, NULL, NULL), 0);
	ep = workspace_endpoint_find(ws, "ep1");
	assert_int_equal(traffic_get(&ep->traffic, "gold"), 100);
	assert_int_equal(traffic_get(&ep->traffic, "blue"), 0);
	assert_int_equal(traffic_sum(&ep->traffic), 100);
	workspace_free(ws);
}

struct dep_case {
	const char *what;
	void (*mutate)(struct deployment *d);
	int status;
	const char *needle;
};

static void dep_ok(struct deployment *d)
{
	(void)d;
}
static void dep_no_model(struct deployment *d)
{
	snprintf(d->model_version, sizeof d->model_version, "9");
}
static void dep_no_env(struct deployment *d)
{
	snprintf(d->env_name, sizeof d->env_name, "nope");
}
static void dep_no_endpoint(struct deployment *d)
{
	snprintf(d->endpoint, sizeof d->endpoint, "nope");
}
static void dep_bad_name(struct deployment *d)
{
	snprintf(d->name, sizeof d->name, "x");
}
static void dep_instances0(struct deployment *d)
{
	d->instances = 0;
}
static void dep_instances65(struct deployment *d)
{
	d->instances = 65;
}
static void dep_instances64(struct deployment *d)
{
	d->instances = 64;
}
static void dep_conc0(struct deployment *d)
{
	d->max_concurrent = 0;
}
static void dep_conc1025(struct deployment *d)
{
	d->max_concurrent = 1025;
}
static void dep_timeout0(struct deployment *d)
{
	d->timeout_ms = 0;
}
static void dep_timeout_big(struct deployment *d)
{
	d->timeout_ms = 600001;
}
static void dep_custom_native(struct deployment *d)
{
	snprintf(d->model_name, sizeof d->model_name, "cmo1");
	d->code_dir = (char *)"/srv/code";
	d->scoring_script = (char *)"score.py";
}
static void dep_custom_ok(struct deployment *d)
{
	dep_custom_native(d);
	snprintf(d->env_name, sizeof d->env_name, "py1");
}
static void dep_custom_no_code(struct deployment *d)
{
	dep_custom_ok(d);
	d->code_dir = NULL;
}
static void dep_custom_no_script(struct deployment *d)
{
	dep_custom_ok(d);
	d->scoring_script = NULL;
}
static void dep_custom_escape(struct deployment *d)
{
	dep_custom_ok(d);
	d->scoring_script = (char *)"../x.py";
}
static void dep_native_python_env(struct deployment *d)
{
	snprintf(d->env_name, sizeof d->env_name, "py1");
}

static const struct dep_case dep_cases[] = {
    {"plain", dep_ok, 0, NULL},
    {"missing model", dep_no_model, 404, "mo1:9"},
    {"missing env", dep_no_env, 404, "nope:1"},
    {"missing endpoint", dep_no_endpoint, 404, "nope"},
    {"bad name", dep_bad_name, 400, "deployment name"},
    {"0 instances", dep_instances0, 400, "sku.capacity"},
    {"65 instances", dep_instances65, 400, "sku.capacity"},
    {"64 instances", dep_instances64, 0, NULL},
    {"0 concurrent", dep_conc0, 400, "maxConcurrentRequestsPerInstance"},
    {"1025 concurrent", dep_conc1025, 400, "maxConcurrentRequestsPerInstance"},
    {"0 timeout", dep_timeout0, 400, "requestTimeout"},
    {"big timeout", dep_timeout_big, 400, "requestTimeout"},
    {"custom on native env", dep_custom_native, 400, "python"},
    {"custom ok", dep_custom_ok, 0, NULL},
    {"custom no code", dep_custom_no_code, 400, "codeId"},
    {"custom no script", dep_custom_no_script, 400, "scoringScript"},
    {"custom script escapes", dep_custom_escape, 400, "scoringScript"},
    {"native model, python env", dep_native_python_env, 0, NULL},
};

static void test_deployment_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dep_cases / sizeof dep_cases[0]; i++) {
		struct workspace *ws = fixture();
		struct deployment d;
		struct error err = {0};
		int rc;

		init_deployment(&d, "ep1", "red");
		dep_cases[i].mutate(&d);
		rc = workspace_deployment_put(ws, &d, 0, NULL, &err);
		if (dep_cases[i].status == 0) {
			if (rc != 0)
				fail_msg("%s: %s", dep_cases[i].what, err.message);
		} else {
			if (rc != -1 || err.status != dep_cases[i].status ||
			    strstr(err.message, dep_cases[i].needle) == NULL)
				fail_msg("%s: rc %d status %d '%s'", dep_cases[i].what, rc,
					 err.status, err.message);
			assert_null(workspace_deployment_find(ws, "ep1", "red"));
		}
		workspace_free(ws);
	}
}

static void test_deployment_update_state(void **state)
{
	struct workspace *ws = fixture();
	struct deployment d;
	int created = 1;

	(void)state;
	/* an identical PUT leaves the state alone (it used to stick in Scaling) */
	workspace_deployment_set_state(ws, "ep1", "blue", PROV_SUCCEEDED, NULL);
	init_deployment(&d, "ep1", "blue");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, &created, NULL), 0);
	assert_false(created);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "blue")->state, PROV_SUCCEEDED);
	d.instances = 3;
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "blue")->state, PROV_SCALING);
	/* environment variables need a new engine: Updating, as the fleet reloads */
	workspace_deployment_set_state(ws, "ep1", "blue", PROV_SUCCEEDED, NULL);
	kvlist_set(&d.variables, "A", "1");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "blue")->state, PROV_UPDATING);
	/* a Failed deployment PUT again as it was is retried */
	workspace_deployment_set_state(ws, "ep1", "blue", PROV_FAILED, "boom");
	assert_string_equal(workspace_deployment_find(ws, "ep1", "blue")->error, "boom");
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "blue")->state, PROV_UPDATING);
	assert_null(workspace_deployment_find(ws, "ep1", "blue")->error);
	kvlist_clear(&d.variables);
	d.timeout_ms = 100;
	assert_int_equal(workspace_deployment_put(ws, &d, 0, NULL, NULL), 0);
	assert_int_equal(workspace_deployment_find(ws, "ep1", "blue")->state, PROV_UPDATING);
	assert_int_equal(workspace_deployment_set_state(ws, "ep1", "nope", PROV_FAILED, NULL), -1);
	workspace_free(ws);
}

static void test_delete_deployment_rules(void **state)
{
	struct workspace *ws = fixture();
	struct traffic t, m;
	struct error err = {0};
	const struct endpoint *ep;

	(void)state;
	parse_spec("blue=100,green=0", &t);
	parse_spec("green=20", &m);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep1", &t, &m, &err), 0);
	assert_int_equal(workspace_deployment_delete(ws, "ep1", "blue", &err), -1);
	assert_int_equal(err.status, 409);
	assert_string_equal(err.code, "Conflict");
	assert_non_null(strstr(err.message, "100% live"));
	assert_int_equal(workspace_deployment_delete(ws, "ep1", "green", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "20% mirror"));
	traffic_clear(&m);
	parse_spec("green=0", &m);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep1", NULL, &m, &err), 0);
	assert_int_equal(workspace_deployment_delete(ws, "ep1", "green", &err), 0);
	ep = workspace_endpoint_find(ws, "ep1");
	assert_int_equal(ep->traffic.n, 1); /* green's 0 entry is gone */
	assert_int_equal(ep->mirror.n, 0);
	assert_int_equal(workspace_deployment_delete(ws, "ep1", "green", &err), -1);
	assert_int_equal(err.status, 404);
	traffic_clear(&t);
	traffic_clear(&m);
	workspace_free(ws);
}

static void test_delete_endpoint_cascades(void **state)
{
	struct workspace *ws = fixture();
	const struct deployment **list;
	struct traffic t;
	struct error err = {0};

	(void)state;
	parse_spec("blue=100", &t);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep1", &t, NULL, NULL), 0);
	traffic_clear(&t);
	assert_int_equal(workspace_deployment_list(ws, "ep1", &list), 2);
	free(list);
	assert_int_equal(workspace_endpoint_delete(ws, "ep1", &err), 0);
	assert_null(workspace_endpoint_find(ws, "ep1"));
	assert_int_equal(workspace_deployment_list(ws, NULL, &list), 0);
	assert_null(list);
	assert_int_equal(workspace_endpoint_delete(ws, "ep1", &err), -1);
	assert_int_equal(err.status, 404);
	/* the model is free again */
	assert_int_equal(workspace_model_delete(ws, "mo1", "1", &err), 0);
	workspace_free(ws);
}

static void test_asset_in_use(void **state)
{
	struct workspace *ws = fixture();
	struct error err = {0};
	struct model_version m;

	(void)state;
	assert_int_equal(workspace_model_delete(ws, "mo1", "1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "blue"));
	assert_int_equal(workspace_model_delete_all(ws, "mo1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(workspace_env_delete(ws, "nat", "1", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "deployment 'blue'"));
	assert_int_equal(workspace_env_delete_all(ws, "nat", &err), -1);
	assert_int_equal(workspace_env_delete(ws, "py1", "1", &err), 0);
	assert_int_equal(workspace_env_delete(ws, "py1", "1", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(workspace_model_delete(ws, "cmo1", "1", &err), 0);
	/* a model in use keeps its type */
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "mo1");
	snprintf(m.version, sizeof m.version, "1");
	m.type = MODEL_LINEAR;
	m.artifact = (char *)"models/x/1/model.json";
	assert_int_equal(workspace_model_put(ws, &m, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	m.type = MODEL_XGBOOST;
	m.description = (char *)"new words";
	assert_int_equal(workspace_model_put(ws, &m, NULL, &err), 0);
	assert_string_equal(workspace_model_find(ws, "mo1", "1")->description, "new words");
	workspace_free(ws);
}

static void test_versions(void **state)
{
	struct workspace *ws = workspace_new("local");
	struct model_version m;
	const struct model_version **list;
	char next[16];
	int created = 0;

	(void)state;
	workspace_model_next_version(ws, "abc", next, sizeof next);
	assert_string_equal(next, "1");
	add_model(ws, "abc", "2", MODEL_LINEAR);
	add_model(ws, "abc", "10", MODEL_LINEAR);
	add_model(ws, "abb", "1", MODEL_LINEAR);
	workspace_model_next_version(ws, "abc", next, sizeof next);
	assert_string_equal(next, "11");
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "abc");
	assert_int_equal(workspace_model_put(ws, &m, &created, NULL), 0);
	assert_string_equal(m.version, "11");
	assert_true(created);
	assert_string_equal(workspace_model_find(ws, "abc", NULL)->version, "11");
	assert_int_equal(workspace_model_list(ws, &list), 4);
	assert_string_equal(list[0]->name, "abb");
	assert_string_equal(list[1]->version, "2");
	assert_string_equal(list[2]->version, "10");
	assert_string_equal(list[3]->version, "11");
	free(list);
	/* versions are strings: these are new versions, not refused, and "next" counts
	 * integers only */
	snprintf(m.version, sizeof m.version, "01");
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
	snprintf(m.version, sizeof m.version, "1.0");
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
	workspace_model_next_version(ws, "abc", next, sizeof next);
	assert_string_equal(next, "12");
	snprintf(m.version, sizeof m.version, "1/0");
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), -1);
	assert_int_equal(workspace_model_delete_all(ws, "abc", NULL), 0);
	assert_null(workspace_model_find(ws, "abc", NULL));
	assert_non_null(workspace_model_find(ws, "abb", "1"));
	workspace_free(ws);
}

static void add_model_at(struct workspace *ws, const char *name, const char *version,
			 int64_t created)
{
	struct model_version m;

	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.version, sizeof m.version, "%s", version);
	m.type = MODEL_CUSTOM;
	m.created = created;
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
}

/* "latest" is the most recently created, as Azure's label resolves it. */
static void test_latest_is_newest(void **state)
{
	struct workspace *ws = workspace_new("local");
	char next[16];

	(void)state;
	add_model_at(ws, "m", "1", 100);
	add_model_at(ws, "m", "2", 50); /* registered with an explicit older time */
	assert_string_equal(workspace_model_find(ws, "m", NULL)->version, "1");
	add_model_at(ws, "m", "rc", 200);
	assert_string_equal(workspace_model_find(ws, "m", NULL)->version, "rc");
	workspace_model_next_version(ws, "m", next, sizeof next);
	assert_string_equal(next, "3");
	add_model_at(ws, "m", "10", 300); /* same second: the later registration wins */
	add_model_at(ws, "m", "9", 300);
	assert_string_equal(workspace_model_find(ws, "m", NULL)->version, "9");
	workspace_free(ws);
}

struct query_case {
	const char *order, *top, *view;
	const char *want; /* versions in order, comma-separated; NULL: 400 */
};

/* versions 1 (t10), 3 (t30), 2 (t20), 1.0 (t40, archived), rc (t5) */
static const struct query_case queries[] = {
    {NULL, NULL, NULL, "1,2,3,rc"},
    {"createdtime desc", "1", NULL, "3"},
    {"createdtime desc", NULL, NULL, "3,2,1,rc"},
    {"createdtime asc", NULL, NULL, "rc,1,2,3"},
    {"createdtime", "2", NULL, "rc,1"},
    {"createdtime desc", "1", "All", "1.0"},
    {"createdtime desc", NULL, "ArchivedOnly", "1.0"},
    {NULL, NULL, "All", "1,2,3,1.0,rc"},
    {NULL, "100", "ActiveOnly", "1,2,3,rc"},
    {"name", NULL, NULL, NULL},
    {NULL, "0", NULL, NULL},
    {NULL, "x", NULL, NULL},
    {NULL, NULL, "Archived", NULL},
};

static void test_queries(void **state)
{
	struct workspace *ws = workspace_new("local");
	struct model_version m;

	(void)state;
	add_model_at(ws, "m", "1", 10);
	add_model_at(ws, "m", "3", 30);
	add_model_at(ws, "m", "2", 20);
	add_model_at(ws, "m", "rc", 5);
	add_model_at(ws, "other", "7", 1);
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "m");
	snprintf(m.version, sizeof m.version, "1.0");
	m.created = 40;
	m.archived = 1;
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		const struct query_case *q = &queries[i];
		const struct model_version **list;
		struct asset_query aq;
		struct error err = {0};
		char got[128] = "";
		size_t n, o = 0;

		if (workspace_query_parse(q->order, q->top, q->view, &aq, &err) < 0) {
			if (q->want != NULL)
				fail_msg("case %zu refused: %s", i, err.message);
			assert_int_equal(err.status, 400);
			continue;
		}
		if (q->want == NULL)
			fail_msg("case %zu accepted", i);
		n = workspace_model_query(ws, "m", &aq, &list);
		for (size_t k = 0; k < n; k++)
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", k ? "," : "",
					      list[k]->version);
		free(list);
		if (strcmp(got, q->want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got, q->want);
	}
	workspace_free(ws);
}

/* Archiving a version hides it from ActiveOnly lists; a container's flag is
 * its own and goes with its last version. */
static void test_archive(void **state)
{
	struct workspace *ws = workspace_new("local");
	struct asset_query active = {VIEW_ACTIVE, ORDER_NAME, 0};
	const struct model_version **list;
	struct model_version m;

	(void)state;
	add_model_at(ws, "m", "1", 10);
	assert_false(workspace_container_archived(ws, "models", "m"));
	assert_int_equal(workspace_container_set_archived(ws, "models", "m", 1, NULL), 0);
	assert_true(workspace_container_archived(ws, "models", "m"));
	assert_false(workspace_container_archived(ws, "environments", "m"));
	assert_int_equal(workspace_container_count(ws), 1);
	/* archive the version through a PUT of the same version */
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "m");
	snprintf(m.version, sizeof m.version, "1");
	m.type = MODEL_CUSTOM;
	m.archived = 1;
	assert_int_equal(workspace_model_put(ws, &m, NULL, NULL), 0);
	assert_int_equal(workspace_model_query(ws, "m", &active, &list), 0);
	assert_null(list);
	assert_true(workspace_model_find(ws, "m", "1")->archived);
	assert_int_equal(workspace_container_set_archived(ws, "models", "m", 0, NULL), 0);
	assert_false(workspace_container_archived(ws, "models", "m"));
	assert_int_equal(workspace_container_set_archived(ws, "models", "m", 1, NULL), 0);
	assert_int_equal(workspace_model_delete(ws, "m", "1", NULL), 0);
	assert_false(workspace_container_archived(ws, "models", "m"));
	assert_int_equal(workspace_container_count(ws), 0);
	workspace_free(ws);
}

struct reload_case {
	const char *what;
	void (*change)(struct deployment *d);
	int reload, rescale;
};

static void ch_none(struct deployment *d)
{
	(void)d;
}
static void ch_instances(struct deployment *d)
{
	d->instances = 4;
}
static void ch_concurrency(struct deployment *d)
{
	d->max_concurrent = 8;
}
static void ch_variables(struct deployment *d)
{
	kvlist_set(&d->variables, "WORKER_COUNT", "2");
}
static void ch_timeout(struct deployment *d)
{
	d->timeout_ms = 90000;
}
static void ch_model(struct deployment *d)
{
	snprintf(d->model_version, sizeof d->model_version, "2");
}
static void ch_env(struct deployment *d)
{
	snprintf(d->env_name, sizeof d->env_name, "py1");
}
static void ch_code(struct deployment *d)
{
	snprintf(d->code_name, sizeof d->code_name, "code1");
	snprintf(d->code_version, sizeof d->code_version, "1");
}
static void ch_script(struct deployment *d)
{
	d->scoring_script = strdup("other.py");
}
static void ch_description(struct deployment *d)
{
	d->description = strdup("words");
}
static void ch_state(struct deployment *d)
{
	d->state = PROV_FAILED;
}

/* The one reload rule, used by the workspace and the fleet alike. */
static const struct reload_case reload_cases[] = {
    {"identical", ch_none, 0, 0},
    {"instance count", ch_instances, 0, 1},
    {"concurrency", ch_concurrency, 0, 1},
    {"environment variables", ch_variables, 1, 0},
    {"request timeout", ch_timeout, 1, 0},
    {"model version", ch_model, 1, 0},
    {"environment", ch_env, 1, 0},
    {"code asset", ch_code, 1, 0},
    {"scoring script", ch_script, 1, 0},
    {"description", ch_description, 0, 0},
    {"state only", ch_state, 0, 0},
};

static void test_reload_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof reload_cases / sizeof reload_cases[0]; i++) {
		struct deployment a, b;

		init_deployment(&a, "ep1", "blue");
		init_deployment(&b, "ep1", "blue");
		reload_cases[i].change(&b);
		if (deployment_needs_reload(&a, &b) != reload_cases[i].reload ||
		    deployment_needs_rescale(&a, &b) != reload_cases[i].rescale)
			fail_msg("%s: reload %d rescale %d", reload_cases[i].what,
				 deployment_needs_reload(&a, &b), deployment_needs_rescale(&a, &b));
		deployment_cleanup(&b);
	}
}

static void test_env_rules(void **state)
{
	struct workspace *ws = fixture();
	struct env_version e;
	struct error err = {0};
	char next[16];

	(void)state;
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "py2");
	e.kind = ENV_PYTHON;
	assert_int_equal(workspace_env_put(ws, &e, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "interpreterPath"));
	e.python = (char *)"/usr/bin/python3";
	e.version[0] = '\0';
	assert_int_equal(workspace_env_put(ws, &e, NULL, &err), 0);
	assert_string_equal(e.version, "1");
	workspace_env_next_version(ws, "py2", next, sizeof next);
	assert_string_equal(next, "2");
	/* kind of an env in use cannot change */
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "nat");
	snprintf(e.version, sizeof e.version, "1");
	e.kind = ENV_PYTHON;
	e.python = (char *)"/usr/bin/python3";
	assert_int_equal(workspace_env_put(ws, &e, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	workspace_free(ws);
}

static void test_clone_is_deep(void **state)
{
	struct workspace *ws = fixture(), *c;
	struct traffic t;
	struct error err = {0};

	(void)state;
	c = workspace_clone(ws);
	assert_non_null(c);
	parse_spec("blue=100", &t);
	assert_int_equal(workspace_endpoint_set_traffic(c, "ep1", &t, NULL, &err), 0);
	assert_int_equal(workspace_deployment_delete(c, "ep1", "green", &err), 0);
	assert_int_equal(workspace_endpoint_delete(c, "ep1", &err), 0);
	assert_int_equal(workspace_endpoint_find(ws, "ep1")->traffic.n, 0);
	assert_non_null(workspace_deployment_find(ws, "ep1", "green"));
	assert_string_equal(workspace_name(c), "local");
	traffic_clear(&t);
	workspace_free(c);
	workspace_free(ws);
}

static void test_keys(void **state)
{
	struct workspace *ws = fixture();
	uint32_t gen = workspace_endpoint_find(ws, "ep1")->key_generation;

	(void)state;
	assert_int_equal(workspace_endpoint_set_keys(ws, "ep1", "aaa", NULL, NULL), 0);
	assert_string_equal(workspace_endpoint_find(ws, "ep1")->primary_key, "aaa");
	assert_int_equal(workspace_endpoint_find(ws, "ep1")->key_generation, gen + 1);
	assert_int_equal(workspace_endpoint_set_keys(ws, "nope", "a", "b", NULL), -1);
	workspace_free(ws);
}

/* Replacing an endpoint keeps its keys and uid; a change of auth mode (either
 * way) moves the key generation, so tokens issued before die (issue 7 item 6). */
static void test_auth_mode_change_revokes(void **state)
{
	struct workspace *ws = fixture();
	struct endpoint ep;
	const struct endpoint *cur = workspace_endpoint_find(ws, "ep1");
	uint32_t gen = cur->key_generation;
	char uid[sizeof cur->uid];

	(void)state;
	assert_int_equal(workspace_endpoint_set_keys(ws, "ep1", NULL, NULL, NULL), 0);
	gen++;
	memcpy(uid, "some-uid", 9);
	snprintf(((struct endpoint *)workspace_endpoint_find(ws, "ep1"))->uid, sizeof uid, "%s",
		 uid);
	memset(&ep, 0, sizeof ep);
	snprintf(ep.name, sizeof ep.name, "ep1");
	ep.auth = AUTH_KEY;
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, NULL), 0); /* same mode */
	assert_int_equal(workspace_endpoint_find(ws, "ep1")->key_generation, gen);
	ep.auth = AUTH_AMLTOKEN;
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, NULL), 0);
	assert_int_equal(workspace_endpoint_find(ws, "ep1")->key_generation, gen + 1);
	ep.auth = AUTH_KEY;
	assert_int_equal(workspace_endpoint_put(ws, &ep, NULL, NULL), 0);
	assert_int_equal(workspace_endpoint_find(ws, "ep1")->key_generation, gen + 2);
	assert_string_equal(workspace_endpoint_find(ws, "ep1")->uid, "some-uid");
	workspace_free(ws);
}

/* "kind a b;kind a b" of the recorded changes, in order. */
static void changes_text(const struct workspace *ws, char *buf, size_t len)
{
	const struct workspace_ref *r;
	size_t n = workspace_changes(ws, &r), o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s %s%s%s", i ? ";" : "", r[i].kind,
				      r[i].a, r[i].b[0] ? " " : "", r[i].b);
}

/* The store writes exactly the rows a change records: every mutating call
 * names what it changed, cascades included, and a refused call records nothing. */
static void test_change_tracking(void **state)
{
	struct workspace *ws = fixture();
	struct traffic t = {0};
	struct deployment d;
	struct error err;
	char got[512];

	(void)state;
	workspace_changes_clear(ws);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "");
	/* refused: nothing recorded */
	assert_int_equal(workspace_model_delete(ws, "mo1", "1", &err), -1);
	assert_int_equal(workspace_endpoint_delete(ws, "nope", &err), -1);
	parse_spec("blue=50", &t);
	assert_int_equal(workspace_endpoint_set_traffic(ws, "ep1", &t, NULL, &err), -1);
	traffic_clear(&t);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "");
	/* a new deployment with all traffic changes its endpoint too */
	init_deployment(&d, "ep1", "red");
	assert_int_equal(workspace_deployment_put(ws, &d, 1, NULL, &err), 0);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "deployments ep1 red;endpoints ep1");
	workspace_changes_clear(ws);
	assert_int_equal(workspace_deployment_set_state(ws, "ep1", "red", PROV_SUCCEEDED, NULL), 0);
	assert_int_equal(workspace_endpoint_set_keys(ws, "ep1", "k1", NULL, &err), 0);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "deployments ep1 red;endpoints ep1");
	workspace_changes_clear(ws);
	/* deleting a deployment drops it from its endpoint's traffic map */
	assert_int_equal(workspace_deployment_delete(ws, "ep1", "green", &err), 0);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "endpoints ep1;deployments ep1 green");
	workspace_changes_clear(ws);
	/* an endpoint's delete records its deployments */
	assert_int_equal(workspace_endpoint_delete(ws, "ep1", &err), 0);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "deployments ep1 red;deployments ep1 blue;endpoints ep1");
	workspace_changes_clear(ws);
	add_model(ws, "mo1", "2", MODEL_LINEAR);
	assert_int_equal(workspace_model_delete_all(ws, "mo1", &err), 0);
	assert_int_equal(workspace_env_delete(ws, "py1", "1", &err), 0);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "models mo1 2;models mo1 2;models mo1 1;environments py1 1");
	workspace_changes_clear(ws);
	workspace_touch_all(ws);
	changes_text(ws, got, sizeof got);
	assert_string_equal(got, "models cmo1 1;environments nat 1");
	assert_false(workspace_changes_lost(ws));
	workspace_free(ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traffic_rules),
	    cmocka_unit_test(test_endpoint_put_checks_traffic),
	    cmocka_unit_test(test_new_deployment_traffic),
	    cmocka_unit_test(test_deployment_rules),
	    cmocka_unit_test(test_deployment_update_state),
	    cmocka_unit_test(test_delete_deployment_rules),
	    cmocka_unit_test(test_delete_endpoint_cascades),
	    cmocka_unit_test(test_asset_in_use),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_latest_is_newest),
	    cmocka_unit_test(test_queries),
	    cmocka_unit_test(test_archive),
	    cmocka_unit_test(test_reload_rule),
	    cmocka_unit_test(test_env_rules),
	    cmocka_unit_test(test_clone_is_deep),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_auth_mode_change_revokes),
	    cmocka_unit_test(test_change_tracking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
